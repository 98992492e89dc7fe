/* Enforcement: the sysfs writes and ioctls that carry a decision out.
 *
 * Every path is relative to a sysfs root fd (on "/sys", or on a umockdev
 * testbed's "sys"), and device nodes relative to a /dev fd, so the same code
 * runs against the kernel and against a testbed.  Writes go through
 * openat(O_WRONLY|O_NOFOLLOW).
 *
 * The layers, in the order they act on a device (docs/devices.md):
 *   0. the kernel command line usbcore.authorized_default=0 (or 2: internal
 *      ports only): no hotplugged device gets a configuration, let alone a
 *      driver, before user space has decided;
 *   1. the generated udev rules (udevrules.h) decide what the rule language
 *      can express, with or without the agent;
 *   2. the agent: mg_enforce_root_hubs once at start (new devices and their
 *      interfaces wait to be authorized), then mg_enforce_usb per device:
 *      `authorized` on the device, then on each interface, blocked
 *      interfaces first, so a composite keeps only what the policy allows;
 *   3. block devices: mg_enforce_block makes a disk read-only (BLKROSET on
 *      the disk and each partition; the kernel then refuses a read-write
 *      open and a remount,rw with EACCES, and its `ro` attribute reads 1) or
 *      removes it (SCSI disks and optical drives: `device/delete`, which
 *      takes the sg pass-through node used for burning with it; SD/MMC:
 *      unbinding the card's driver). */
#ifndef MYNAGUARD_ENFORCE_H
#define MYNAGUARD_ENFORCE_H

#include <stdbool.h>

#include "mynaguard/rules.h"
#include "mynaguard/usbdev.h"

/* Values of a root hub's authorized_default. */
enum mg_hub_default {
	MG_HUB_AUTHORIZE_NONE = 0,     /* new devices wait to be authorized */
	MG_HUB_AUTHORIZE_ALL = 1,      /* the kernel's default */
	MG_HUB_AUTHORIZE_INTERNAL = 2, /* only hardwired ports (Linux 5.13+) */
};

/* What a block device is, for the "media" policy. */
struct mg_block_info {
	enum mg_media kind;            /* SD, optical or removable */
	bool usb;                      /* below a USB device: decided with that device */
	bool removable;                /* sysfs `removable` is 1 */
	bool read_only;                /* sysfs `ro` is 1 now */
};

/* Writes authorized_default and interface_authorized_default (0 or 1) on
 * every root hub (bus/usb/devices/usb*).  Returns how many hubs. */
int mg_enforce_root_hubs(int sysfd, enum mg_hub_default dev_default, bool iface_default);

/* Carries out d for dev: BLOCK and HOLD write authorized=0 on the device;
 * ALLOW and READ_ONLY write authorized=1 on it, then 0 or 1 on each of its
 * interfaces in the active configuration, taking for each interface number
 * the strictest target among its alternate settings (an interface with no
 * descriptor behind it is blocked). */
int mg_enforce_usb(int sysfd, const struct mg_usbdev *dev, const struct mg_decision *d);

/* Reads what kind of block device class/block/NAME is.  -ENOMEDIUM when it
 * is none the policy governs (a fixed disk, a loop device, a partition). */
int mg_block_classify(int sysfd, const char *name, struct mg_block_info *out);

/* Makes NAME (a disk: "sdb", "mmcblk0", "sr0", "loop3") and its partitions
 * read-only with BLKROSET through devfd/NAME, takes the write permission
 * off their nodes and every access but root's off the SCSI generic nodes
 * of the same SCSI device (burning goes through SG_IO), remounts read-only
 * whatever of them is mounted read-write, and checks that sysfs `ro` now
 * reads 1. */
int mg_enforce_block_readonly(int sysfd, int devfd, const char *name);

/* Removes NAME from the system (see above). */
int mg_enforce_block_remove(int sysfd, const char *name);

/* Clears the read-only flag of NAME and its partitions where it is set: the
 * generated udev rules make every disk on USB read-only from its first
 * event, so that nothing can be written before the agent has decided. */
int mg_enforce_block_writable(int sysfd, int devfd, const char *name);

/* READ_ONLY -> mg_enforce_block_readonly, and when that fails the disk is
 * removed (the error is still returned, "NAME: removed instead: ...");
 * BLOCK/HOLD -> remove; ALLOW -> mg_enforce_block_writable.  The agent calls it for every
 * decision, ALLOW included. */
int mg_enforce_block(int sysfd, int devfd, const char *name, enum mg_target t);

#endif
