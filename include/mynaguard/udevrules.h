/* The generated udev rules file: the layer that needs no agent.
 *
 * From the "devices" section this writes rules that udevd applies to every
 * USB device add event before anyone else sees it, in policy order with
 * first-match semantics (each rule ends in GOTO="mynaguard_end"):
 *   - a rule whose conditions the udev language can express (vendor,
 *     product, serial, port, connect type, classes through usb_id's
 *     ID_USB_INTERFACES) becomes ATTR{authorized}="1" for allow, "0" for
 *     block;
 *   - a rule it cannot express (hash, parent_hash, per-interface targets,
 *     read-only, which needs the block layer) becomes ATTR{authorized}="0"
 *     over the part of its conditions udev can check: such devices wait,
 *     unauthorized, for the agent, and if the agent is dead they stay off;
 *   - the composite guard and the keyboard hold become rules of their own;
 *   - the default becomes the last rule.
 * Interfaces of a device that udev authorized are authorized by a second
 * rule keyed on the MYNAGUARD property the device rule left, so they work
 * while root hubs keep interface_authorized_default=0.
 * docs/devices.md lists what udev cannot express and why. */
#ifndef MYNAGUARD_UDEVRULES_H
#define MYNAGUARD_UDEVRULES_H

#include <stdbool.h>

#include "mynaguard/rules.h"

#define MG_UDEVRULES_DEFAULT_PATH "/etc/udev/rules.d/70-mynaguard.rules"

/* The rules file text for p (malloc'd, NUL-terminated).  origin names the
 * policy in the file's header comment. */
int mg_udevrules_generate(const struct mg_device_policy *p, const char *origin, char **out);

/* Generates, writes path atomically (mg_file_replace, 0644) and, when
 * reload, runs `udevadm control --reload` so udevd reads it at once. */
int mg_udevrules_install(const struct mg_device_policy *p, const char *origin, const char *path,
                         bool reload);

#endif
