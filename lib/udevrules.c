/* The generated udev rules file (udevrules.h).
 *
 * Each policy rule becomes one rule line, after at most two guard lines;
 * "one-of" classes and class names that stand for several triplets become
 * udev's '|' alternatives.  Conditions udev cannot check are dropped, which widens the line to a
 * superset of the devices the rule matches; such a line only ever leaves
 * the device unauthorized ("wait"), never authorizes it, so widening is
 * safe: the agent decides those devices exactly. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/udevrules.h"
#include "mynaguard/util.h"

enum action { ACT_ALLOW, ACT_BLOCK, ACT_WAIT };

struct out {
	char *p;
	size_t len, cap;
	int err;
};

static void emit(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->p ? o->p + o->len : NULL, o->p ? o->cap - o->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->err = -EINVAL;
			return;
		}
		if (o->p && o->len + (size_t)n < o->cap) {
			o->len += (size_t)n;
			return;
		}
		size_t cap = o->cap ? o->cap * 2 : 4096;
		while (cap < o->len + (size_t)n + 1)
			cap *= 2;
		char *p = realloc(o->p, cap);
		if (!p) {
			o->err = -ENOMEM;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
}

/* A class pattern as a glob over MYNAGUARD_CLASSES (":ccsspp:ccsspp:"). */
static void pattern_glob(struct out *o, const struct mg_class_pattern *p)
{
	char sub[3] = "??", proto[3] = "??";

	if (!p->any_sub)
		snprintf(sub, sizeof(sub), "%02x", p->sub);
	if (!p->any_proto)
		snprintf(proto, sizeof(proto), "%02x", p->proto);
	emit(o, "*:%02x%s%s:*", p->cls, sub, proto);
}

/* One condition over the patterns of terms, alternated with '|'.  In a
 * positive condition the "MTP by interface string" pattern becomes "any
 * vendor-specific interface", a superset, since udev cannot read the
 * string; in a negative one it is left out, which negates less, again a
 * superset. */
static void class_condition(struct out *o, const struct mg_class_term *terms, size_t n, bool negative,
                            bool *exact)
{
	bool first = true;

	for (size_t t = 0; t < n; t++)
		for (size_t k = 0; k < terms[t].n; k++) {
			struct mg_class_pattern p = terms[t].pat[k];

			if (p.vendor_mtp) {
				*exact = false;
				if (negative)
					continue;
			}
			emit(o, first ? "ENV{MYNAGUARD_CLASSES}%s\"" : "|", negative ? "!=" : "==");
			pattern_glob(o, &p);
			first = false;
		}
	if (!first)
		emit(o, "\", ");
}

/* Safe to put between quotes in a rule, and free of the characters that
 * would turn a literal into a pattern. */
static bool udev_literal(const char *s, const char *extra)
{
	for (; *s; s++)
		if (*s < 0x20 || *s == 0x7f || *s == '"' || *s == '\\' || *s == '|' ||
		    (strchr("*?[]", *s) && !strchr(extra, *s)))
			return false;
	return true;
}

/* The conditions of r that udev can check; *exact says whether they are
 * all of them. */
static void conditions(struct out *o, const struct mg_rule *r, bool *exact)
{
	const struct mg_rule_classes *c = r->classes;

	if (r->vendor[0])
		emit(o, "ATTR{idVendor}==\"%s\", ", r->vendor);
	if (r->product[0])
		emit(o, "ATTR{idProduct}==\"%s\", ", r->product);
	if (r->serial && udev_literal(r->serial, ""))
		emit(o, "ATTR{serial}==\"%s\", ", r->serial);
	else if (r->serial)
		*exact = false;
	if (r->port && udev_literal(r->port, "*?[]"))
		emit(o, "KERNEL==\"%s\", ", r->port);
	else if (r->port)
		*exact = false;
	if (r->connect != MG_USB_CONNECT_UNKNOWN)
		emit(o, "ATTR{removable}==\"%s\", ", r->connect == MG_USB_CONNECT_HOTPLUG ? "removable" : "fixed");
	if (r->hash || r->parent_hash || r->target == MG_TARGET_READ_ONLY || (c && c->n_ifaces))
		*exact = false;
	if (!c)
		return;
	class_condition(o, c->one_of.terms, c->one_of.n, false, exact);
	for (size_t k = 0; k < c->all_of.n; k++)
		class_condition(o, &c->all_of.terms[k], 1, false, exact);
	for (size_t k = 0; k < c->none_of.n; k++)
		class_condition(o, &c->none_of.terms[k], 1, true, exact);
}

static void emit_action(struct out *o, enum action a, const char *id)
{
	static const char *const names[] = {[ACT_ALLOW] = "allow", [ACT_BLOCK] = "block", [ACT_WAIT] = "wait"};

	emit(o, "ATTR{authorized}=\"%s\", ENV{MYNAGUARD}=\"%s\", ENV{MYNAGUARD_RULE}=\"%s\", GOTO=\"mynaguard_end\"\n",
	     a == ACT_ALLOW ? "1" : "0", names[a], id);
}

/* What makes a composite with HID a BadUSB suspect: storage, network,
 * phones, wireless.  A vendor-specific interface may be MTP, which only
 * the agent can tell by its string, so HID with one of those waits. */
#define COMPOSITE_PARTNERS "*:08????:*|*:02????:*|*:0a????:*|*:e0????:*|*:ef04??:*|*:06????:*"
#define COMPOSITE_MAYBE "*:ff????:*"

/* Lines before an allow line that catch what the guards refuse. */
static void guard_lines(struct out *o, const struct mg_device_policy *p, const char *cond, bool names_identity,
                        bool names_model)
{
	if (p->composite_block && !names_identity) {
		emit(o, "%sENV{MYNAGUARD_CLASSES}==\"*:03????:*\", ENV{MYNAGUARD_CLASSES}==\"" COMPOSITE_PARTNERS "\", ",
		     cond);
		emit_action(o, ACT_BLOCK, "composite-storage-hid");
		emit(o, "%sENV{MYNAGUARD_CLASSES}==\"*:03????:*\", ENV{MYNAGUARD_CLASSES}==\"" COMPOSITE_MAYBE "\", ",
		     cond);
		emit_action(o, ACT_WAIT, "composite-storage-hid");
	}
	if (p->hold_new_hid && !names_model) {
		emit(o, "%sENV{MYNAGUARD_CLASSES}==\"*:03????:*\", ", cond);
		emit_action(o, ACT_WAIT, "new-keyboard");
	}
}

static bool is_exact_hex(const char *s)
{
	return strlen(s) == 4 && strspn(s, "0123456789abcdef") == 4;
}

static void rule_lines(struct out *o, const struct mg_device_policy *p, const struct mg_rule *r)
{
	struct out cond = {0};
	bool exact = true, identity = r->hash || r->serial;
	bool model = identity || (is_exact_hex(r->vendor) && is_exact_hex(r->product));
	enum action act;

	emit(&cond, "%s", "");
	conditions(&cond, r, &exact);
	if (cond.err) {
		o->err = cond.err;
		return;
	}
	act = !exact ? ACT_WAIT : r->target == MG_TARGET_ALLOW ? ACT_ALLOW : ACT_BLOCK;
	emit(o, "\n# rules[%u] \"%s\": %s%s\n", r->position, r->id, mg_target_name(r->target),
	     exact ? "" : " (the agent decides: udev cannot check all of it)");
	if (act == ACT_ALLOW)
		guard_lines(o, p, cond.p, identity, model);
	emit(o, "%s", cond.p);
	emit_action(o, act, r->id);
	free(cond.p);
}

static void default_lines(struct out *o, const struct mg_device_policy *p)
{
	emit(o, "\n# \"default\": %s\n", mg_target_name(p->default_target));
	if (p->default_target == MG_TARGET_ALLOW) {
		guard_lines(o, p, "", false, false);
		emit_action(o, ACT_ALLOW, "default");
	} else {
		emit_action(o, p->default_target == MG_TARGET_BLOCK ? ACT_BLOCK : ACT_WAIT, "default");
	}
}

/* An optical drive that is not allowed keeps its readers and loses its
 * writers, on every event (a new disc is a change event, and the default
 * rules would give the cdrom group write access back): burning software
 * writes through SG_IO, which needs the node open for writing. */
#define OPTICAL_MODES \
	"# Optical drives: the cdrom group may read a disc, not burn one.\n" \
	"SUBSYSTEM==\"block\", KERNEL==\"sr[0-9]*\", MODE:=\"0440\"\n" \
	"SUBSYSTEM==\"scsi_generic\", ATTRS{type}==\"5\", MODE:=\"0600\"\n"

static void header(struct out *o, const char *origin, bool optical_modes)
{
	emit(o, "# Generated by mynaguard from ");
	for (const char *c = origin; *c; c++)
		emit(o, "%c", (*c < 0x20 || *c == 0x7f) ? '?' : *c);
	emit(o, "; rewritten on every policy change, do not edit.\n"
	     "# Decides USB devices before any driver binds, with or without mynaguardd:\n"
	     "# rules in policy order, the first match wins (docs/devices.md).\n"
	     "# A device's later bind and change events rewrite its udev database;\n"
	     "# keep the decision there for its interfaces' IMPORT{parent}.\n"
	     "ACTION==\"bind|change\", SUBSYSTEM==\"usb\", ENV{DEVTYPE}==\"usb_device\", IMPORT{db}=\"MYNAGUARD\"\n"
	     "%s"
	     "ACTION!=\"add\", GOTO=\"mynaguard_end\"\n"
	     "SUBSYSTEM==\"block\", GOTO=\"mynaguard_block\"\n"
	     "SUBSYSTEM!=\"usb\", GOTO=\"mynaguard_end\"\n"
	     "ENV{DEVTYPE}==\"usb_interface\", GOTO=\"mynaguard_interface\"\n"
	     "ENV{DEVTYPE}!=\"usb_device\", GOTO=\"mynaguard_end\"\n"
	     "# A root hub is the host controller itself.\n"
	     "ATTR{bDeviceClass}==\"09\", KERNEL==\"usb[0-9]*\", GOTO=\"mynaguard_end\"\n"
	     "IMPORT{builtin}=\"usb_id\"\n"
	     "# The device's own class counts unless it defers to its interfaces\n"
	     "# (00) or is an association composite (ef/02/01).\n"
	     "ENV{MYNAGUARD_CLASSES}=\":$attr{bDeviceClass}$attr{bDeviceSubClass}$attr{bDeviceProtocol}"
	     "$env{ID_USB_INTERFACES}\"\n"
	     "ENV{MYNAGUARD_CLASSES}==\":000000:*|:ef0201:*\", ENV{MYNAGUARD_CLASSES}=\"$env{ID_USB_INTERFACES}\"\n",
	     optical_modes ? OPTICAL_MODES : "");
}

#define SETRO "RUN+=\"/usr/sbin/blockdev --setro $devnode\""

/* Media not allowed are read-only from their first event, before udisks
 * or anyone can mount them; blocked ones are also hidden from udisks until
 * the agent removes them. */
static void media_line(struct out *o, const char *cond, enum mg_target t, const char *name)
{
	if (t == MG_TARGET_ALLOW)
		return;
	emit(o, "%s, %s, %sENV{MYNAGUARD}=\"%s\", ENV{MYNAGUARD_RULE}=\"media.%s\", GOTO=\"mynaguard_end\"\n",
	     cond, SETRO, t == MG_TARGET_READ_ONLY ? "" : "ENV{UDISKS_IGNORE}=\"1\", ", mg_target_name(t), name);
}

static void block_lines(struct out *o, const struct mg_device_policy *p)
{
	emit(o, "GOTO=\"mynaguard_end\"\n\n"
	     "# Block devices: every disk on USB starts read-only, and the agent lifts\n"
	     "# it for a device the policy allows; other media follow \"media\".\n"
	     "LABEL=\"mynaguard_block\"\n");
	if (p->audit_only) {
		emit(o, "GOTO=\"mynaguard_end\"\n");
		return;
	}
	emit(o, "SUBSYSTEMS==\"usb\", %s, ENV{MYNAGUARD}=\"read-only\", ENV{MYNAGUARD_RULE}=\"usb-storage\", "
	     "GOTO=\"mynaguard_end\"\n", SETRO);
	media_line(o, "KERNEL==\"mmcblk[0-9]*\", ATTRS{type}==\"SD\"", p->media[MG_MEDIA_SD], "sd");
	media_line(o, "KERNEL==\"sr[0-9]*\"", p->media[MG_MEDIA_OPTICAL], "optical");
	media_line(o, "ATTRS{removable}==\"1\"", p->media[MG_MEDIA_REMOVABLE], "removable");
}

static void footer(struct out *o, const struct mg_device_policy *p)
{
	block_lines(o, p);
	emit(o, "GOTO=\"mynaguard_end\"\n\n"
	     "# Interfaces of a device this file authorized; the agent handles the rest.\n"
	     "# The kernel does not probe an interface authorized after the fact:\n"
	     "# it is named to drivers_probe (Documentation/usb/authorization.rst).\n"
	     "LABEL=\"mynaguard_interface\"\n"
	     "IMPORT{parent}=\"MYNAGUARD\"\n"
	     "ENV{MYNAGUARD}==\"allow\", ATTR{authorized}=\"1\", "
	     "RUN+=\"/bin/sh -c 'echo $kernel >/sys/bus/usb/drivers_probe'\"\n"
	     "LABEL=\"mynaguard_end\"\n");
}

int mg_udevrules_generate(const struct mg_device_policy *p, const char *origin, char **out)
{
	struct out o = {0};

	header(&o, origin, !p->audit_only && p->media[MG_MEDIA_OPTICAL] != MG_TARGET_ALLOW);
	if (p->audit_only) {
		/* A rollout decides and logs but blocks nothing, so this layer
		 * admits every device, also past authorized_default=0. */
		emit(&o, "\n# \"audit_only\" is on: the agent logs its decisions, nothing is blocked.\n");
		emit_action(&o, ACT_ALLOW, "audit-only");
	} else {
		emit(&o, "# Unreadable descriptors: nothing to decide on, so nothing is allowed.\n"
		     "ENV{ID_USB_INTERFACES}==\"\", ATTR{authorized}=\"0\", ENV{MYNAGUARD}=\"block\", "
		     "GOTO=\"mynaguard_end\"\n");
		for (size_t k = 0; k < p->n_rules; k++)
			rule_lines(&o, p, &p->rules[k]);
		default_lines(&o, p);
	}
	footer(&o, p);
	if (o.err) {
		free(o.p);
		return mg_fail(o.err, "udev rules: %s", o.err == -ENOMEM ? "out of memory" : "formatting failed");
	}
	*out = o.p;
	return 0;
}

static int udev_reload(void)
{
	pid_t pid;
	int status;

	pid = fork();
	if (pid < 0)
		return mg_fail_errno(errno, "udevadm control --reload: fork");
	if (pid == 0) {
		execlp("udevadm", "udevadm", "control", "--reload", (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return mg_fail_errno(errno, "udevadm control --reload");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return mg_fail(EIO, "udevadm control --reload: failed (status %d)", status);
	return 0;
}

int mg_udevrules_install(const struct mg_device_policy *p, const char *origin, const char *path, bool reload)
{
	_cleanup_free_ char *text = NULL;
	int r;

	r = mg_udevrules_generate(p, origin, &text);
	if (r == 0) r = mg_file_replace(path, text, strlen(text), 0644);
	if (r == 0 && reload) r = udev_reload();
	return r;
}
