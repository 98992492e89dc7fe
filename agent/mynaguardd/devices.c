/* Devices: the udev monitor in, decisions (lib/rules.c) and enforcement
 * (lib/enforce.c) out, one audit record per decision.
 *
 * The monitor listens to the kernel's uevents, not udevd's, so decisions
 * do not wait for udevd (and work where none runs).  It is opened before
 * the present devices are enumerated, so nothing plugged in between is
 * missed; a device seen twice is simply decided again. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <libudev.h>

#include "agent.h"
#include "devices.h"
#include "mynaguard/enforce.h"
#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/json.h"
#include "mynaguard/ticket.h"
#include "mynaguard/util.h"

static const struct mg_device_policy *device_policy(const struct agent *a)
{
	return &a->policy.policy->devices;
}

static struct device_entry *entry_find(struct agent_devices *ds, const char *devpath)
{
	for (size_t i = 0; i < ds->n; i++)
		if (strcmp(ds->entries[i].dev.devpath, devpath) == 0)
			return &ds->entries[i];
	return NULL;
}

static struct device_entry *entry_add(struct agent_devices *ds)
{
	if (ds->n == ds->cap) {
		size_t cap = ds->cap ? ds->cap * 2 : 16;
		struct device_entry *e = realloc(ds->entries, cap * sizeof(*e));
		if (!e)
			return NULL;
		ds->entries = e;
		ds->cap = cap;
	}
	memset(&ds->entries[ds->n], 0, sizeof(ds->entries[0]));
	return &ds->entries[ds->n++];
}

static void entry_remove(struct agent_devices *ds, struct device_entry *e)
{
	size_t i = (size_t)(e - ds->entries);

	memmove(&ds->entries[i], &ds->entries[i + 1], (ds->n - i - 1) * sizeof(*e));
	ds->n--;
}

/* ---- tickets ---- */

/* Tickets are re-read at every reload (a `ticket apply` sends one) and
 * judged at max(now, clock floor), so turning the clock back does not
 * bring an expired one back. */
static void tickets_load(struct agent *a)
{
	struct agent_devices *ds = a->devices;

	free(ds->tickets);
	free(ds->valid);
	ds->tickets = ds->valid = NULL;
	ds->n_tickets = 0;
	if (mg_ticket_load_all(a->state_dir, &ds->tickets, &ds->n_tickets) < 0)
		fprintf(stderr, "mynaguardd: tickets: %s\n", mg_error());
	if (ds->n_tickets && !(ds->valid = calloc(ds->n_tickets, sizeof(*ds->valid))))
		ds->n_tickets = 0;
}

/* Keeps the tickets unexpired at the ticket clock; arms the timer for the
 * next expiry, at which every device is decided again. */
static size_t tickets_valid(struct agent *a)
{
	struct agent_devices *ds = a->devices;
	int64_t now = mg_now(), next = 0;
	struct itimerspec its = {0};
	size_t n = 0;

	if (mg_ticket_now(a->state_dir, &now) < 0)
		now = mg_now();
	for (size_t i = 0; i < ds->n_tickets; i++) {
		if (ds->tickets[i].expires <= now)
			continue;
		ds->valid[n++] = ds->tickets[i];
		if (next == 0 || ds->tickets[i].expires < next)
			next = ds->tickets[i].expires;
	}
	if (next)
		its.it_value.tv_sec = (time_t)(next - now + 1);
	timerfd_settime(ds->ticket_timer_fd, 0, &its, NULL);
	return n;
}

/* ---- one decision ---- */

static void decide(struct agent *a, struct device_entry *e, unsigned flags)
{
	size_t n = tickets_valid(a);

	mg_rules_decide(device_policy(a), &e->dev, a->devices->valid, n, flags, &e->decision);
}

/* What the devices present at start get, by "present_devices". */
static bool decide_present(struct agent *a, struct device_entry *e)
{
	switch (device_policy(a)->present) {
	case MG_PRESENT_KEEP:
		e->kept = true;
		return false;
	case MG_PRESENT_BLOCK:
		memset(&e->decision, 0, sizeof(e->decision));
		e->decision.target = MG_TARGET_BLOCK;
		snprintf(e->decision.rule, sizeof(e->decision.rule), "present-devices");
		snprintf(e->decision.reason, sizeof(e->decision.reason),
		         "present_devices is \"block\"");
		return true;
	case MG_PRESENT_APPLY:
		break;
	}
	decide(a, e, MG_DECIDE_PRESENT);
	return true;
}

static json_t *interfaces_json(const struct device_entry *e)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < e->dev.n_interfaces; i++) {
		const struct mg_usb_interface *f = &e->dev.interfaces[i];
		char cls[9];

		snprintf(cls, sizeof(cls), "%02x:%02x:%02x", f->cls.cls, f->cls.sub, f->cls.proto);
		json_array_append_new(list, json_pack("{s:i,s:i,s:i,s:s,s:s}", "config", f->config,
		                                      "number", f->number, "alt", f->alt, "class", cls,
		                                      "target", mg_target_name(e->decision.ifaces[i])));
	}
	return list;
}

static void audit_decision(struct agent *a, const struct device_entry *e, const char *trigger,
                           int enforce_error)
{
	char subject[1024], hash[MG_USB_HASH_HEX];
	_cleanup_json_ json_t *detail = NULL;

	mg_usbdev_describe(&e->dev, subject, sizeof(subject));
	mg_usb_hash_hex(e->dev.hash, hash);
	detail = json_pack("{s:s,s:s,s:s,s:o,s:b}", "trigger", trigger, "hash", hash, "reason",
	                   e->decision.reason, "interfaces", interfaces_json(e), "audit_only",
	                   device_policy(a)->audit_only);
	if (detail && enforce_error < 0)
		json_object_set_new(detail, "enforce_error", json_string(mg_error()));
	agent_audit(a, "device.decision", e->kept ? "keep" : mg_target_name(e->decision.target),
	            e->kept ? "present-devices" : e->decision.rule, subject, detail);
}

/* Writes the decision to sysfs, unless the policy only audits. */
static int enforce(struct agent *a, struct device_entry *e)
{
	int r;

	if (device_policy(a)->audit_only || e->kept)
		return 0;
	r = mg_enforce_usb(a->devices->sysfd, &e->dev, &e->decision);
	if (r < 0)
		fprintf(stderr, "mynaguardd: %s: %s\n", e->dev.name, mg_error());
	return r;
}

static void settle(struct agent *a, struct device_entry *e, const char *trigger)
{
	int r = enforce(a, e);

	audit_decision(a, e, trigger, r);
	e->decided = mg_now();
}

/* A device whose descriptors cannot be read is blocked: what the agent
 * cannot see it does not allow. */
static void block_unreadable(struct agent *a, const char *devpath, const char *why)
{
	const char *slash = strrchr(devpath, '/');
	struct device_entry e = {0};

	snprintf(e.dev.devpath, sizeof(e.dev.devpath), "%s", devpath);
	snprintf(e.dev.name, sizeof(e.dev.name), "%s", slash ? slash + 1 : devpath);
	e.decision.target = MG_TARGET_BLOCK;
	snprintf(e.decision.rule, sizeof(e.decision.rule), "unreadable");
	snprintf(e.decision.reason, sizeof(e.decision.reason), "%s", why);
	settle(a, &e, "add");
}

/* Reads devpath; 1 when it is a USB device, 0 to ignore it (gone, an
 * interface, a root hub), <0 when unreadable. */
static int device_read(struct agent *a, const char *devpath, struct mg_usbdev *dev)
{
	int r = mg_usbdev_read(a->devices->sysfd, devpath, dev);

	if (r == -ENOENT || r == -ENOTTY)
		return 0;
	if (r < 0)
		return r;
	return dev->root_hub ? 0 : 1;
}

static void device_added(struct agent *a, const char *devpath, bool at_start)
{
	struct agent_devices *ds = a->devices;
	struct mg_usbdev dev;
	struct device_entry *e;
	int r = device_read(a, devpath, &dev);

	if (r < 0) {
		block_unreadable(a, devpath, mg_error());
		return;
	}
	if (r == 0)
		return;
	e = entry_find(ds, devpath);
	if (!e && !(e = entry_add(ds))) {
		block_unreadable(a, devpath, "out of memory");
		return;
	}
	memset(e, 0, sizeof(*e));
	e->dev = dev;
	e->present_at_start = at_start;
	if (at_start) {
		if (!decide_present(a, e)) {
			e->decided = mg_now();
			audit_decision(a, e, "start", 0);
			return;
		}
	} else {
		decide(a, e, 0);
	}
	settle(a, e, at_start ? "start" : "add");
}

/* A change event: a device that now describes itself differently is
 * decided anew; otherwise nothing changed for the policy. */
static void device_changed(struct agent *a, const char *devpath)
{
	struct device_entry *e = entry_find(a->devices, devpath);
	struct mg_usbdev dev;

	if (!e) {
		device_added(a, devpath, false);
		return;
	}
	if (device_read(a, devpath, &dev) <= 0 || memcmp(dev.hash, e->dev.hash, sizeof(dev.hash)) == 0)
		return;
	e->dev = dev;
	e->approved = false;
	e->kept = false;
	decide(a, e, 0);
	settle(a, e, "change");
}

struct device_entry *agent_devices_parent_of(struct agent *a, const char *devpath)
{
	struct agent_devices *ds = a->devices;
	struct device_entry *best = NULL;

	/* The deepest USB device whose path is a prefix: the stick, not its hub. */
	for (size_t i = 0; i < ds->n; i++) {
		size_t len = strlen(ds->entries[i].dev.devpath);
		if (strncmp(ds->entries[i].dev.devpath, devpath, len) == 0 && devpath[len] == '/' &&
		    (!best || len > strlen(best->dev.devpath)))
			best = &ds->entries[i];
	}
	return best;
}

static void device_removed(struct agent *a, const char *devpath)
{
	struct device_entry *e = entry_find(a->devices, devpath);
	char subject[1024];

	if (!e)
		return;
	mg_usbdev_describe(&e->dev, subject, sizeof(subject));
	agent_audit(a, "device.removed", NULL, NULL, subject, NULL);
	entry_remove(a->devices, e);
}

/* An interface appearing after its device was authorized gets the target
 * its device's decision gave it. */
static void interface_added(struct agent *a, const char *devpath)
{
	_cleanup_free_ char *parent = strdup(devpath);
	struct device_entry *e;
	struct mg_usbdev dev;
	char *slash = parent ? strrchr(parent, '/') : NULL;

	if (!slash)
		return;
	*slash = '\0';
	e = entry_find(a->devices, parent);
	if (!e || device_read(a, parent, &dev) <= 0)
		return;
	e->dev = dev;
	enforce(a, e);
}

/* ---- the monitor ---- */

static const char *devpath_of(struct udev_device *d)
{
	const char *p = udev_device_get_devpath(d);

	return p && p[0] == '/' ? p + 1 : p;
}

/* udevd runs the generated rules on the same add event the agent acts on,
 * and a rule that leaves a device to the agent deauthorizes it: landing
 * after the agent's decision, that takes an admitted device's interfaces
 * away.  Their removal is the sign; the decision is written again (the
 * rule runs on add only, so once). */
static void interface_removed(struct agent *a, const char *devpath)
{
	struct device_entry *e = agent_devices_parent_of(a, devpath);
	struct mg_usbdev dev;

	if (!e || e->kept || device_policy(a)->audit_only ||
	    (e->decision.target != MG_TARGET_ALLOW && e->decision.target != MG_TARGET_READ_ONLY))
		return;
	if (device_read(a, e->dev.devpath, &dev) > 0 && !dev.authorized)
		settle(a, e, "restore");
}

static void usb_event(struct agent *a, struct udev_device *d, const char *action)
{
	const char *devtype = udev_device_get_devtype(d), *devpath = devpath_of(d);

	if (!devpath || !devtype)
		return;
	if (strcmp(devtype, "usb_interface") == 0) {
		if (strcmp(action, "add") == 0)
			interface_added(a, devpath);
		else if (strcmp(action, "remove") == 0)
			interface_removed(a, devpath);
		return;
	}
	if (strcmp(devtype, "usb_device") != 0)
		return;
	if (strcmp(action, "add") == 0)
		device_added(a, devpath, false);
	else if (strcmp(action, "change") == 0)
		device_changed(a, devpath);
	else if (strcmp(action, "remove") == 0)
		device_removed(a, devpath);
}

void agent_devices_event(struct agent *a)
{
	struct udev_device *d;

	while ((d = udev_monitor_receive_device(a->devices->monitor))) {
		const char *action = udev_device_get_action(d), *subsystem = udev_device_get_subsystem(d);

		if (action && subsystem && strcmp(subsystem, "usb") == 0)
			usb_event(a, d, action);
		else if (action && subsystem && strcmp(subsystem, "block") == 0 && strcmp(action, "add") == 0)
			agent_block_added(a, udev_device_get_sysname(d), devpath_of(d));
		udev_device_unref(d);
	}
}

int agent_devices_init(struct agent *a)
{
	struct agent_devices *ds = calloc(1, sizeof(*ds));

	if (!ds)
		return mg_fail(ENOMEM, "out of memory");
	a->devices = ds;
	ds->sysfd = ds->devfd = ds->ticket_timer_fd = -1;
	ds->sysfd = mg_dir_open("/sys");
	if (ds->sysfd < 0)
		return ds->sysfd;
	ds->devfd = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ds->devfd < 0)
		return mg_fail_errno(errno, "/dev");
	ds->ticket_timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ds->ticket_timer_fd < 0)
		return mg_fail_errno(errno, "timerfd_create");
	ds->udev = udev_new();
	if (!ds->udev)
		return mg_fail(ENOMEM, "udev_new failed");
	ds->monitor = udev_monitor_new_from_netlink(ds->udev, "kernel");
	if (!ds->monitor)
		return mg_fail(EIO, "udev monitor: cannot open the kernel's uevent socket");
	if (udev_monitor_filter_add_match_subsystem_devtype(ds->monitor, "usb", NULL) < 0 ||
	    udev_monitor_filter_add_match_subsystem_devtype(ds->monitor, "block", NULL) < 0 ||
	    udev_monitor_enable_receiving(ds->monitor) < 0)
		return mg_fail(EIO, "udev monitor: cannot start receiving");
	/* Many devices at once (a hub full of them) must not overflow it. */
	udev_monitor_set_receive_buffer_size(ds->monitor, 4 << 20);
	return 0;
}

int agent_devices_fd(struct agent *a)
{
	return udev_monitor_get_fd(a->devices->monitor);
}

int agent_devices_timer_fd(struct agent *a)
{
	return a->devices->ticket_timer_fd;
}

void agent_devices_timer(struct agent *a)
{
	uint64_t n;

	while (read(a->devices->ticket_timer_fd, &n, sizeof(n)) > 0)
		;
	agent_devices_reevaluate(a, "ticket-expired");
}

/* Every USB device there now, parents before children (sysfs order). */
static int enumerate_present(struct agent *a)
{
	struct agent_devices *ds = a->devices;
	struct udev_enumerate *en = udev_enumerate_new(ds->udev);
	struct udev_list_entry *l;

	if (!en)
		return mg_fail(ENOMEM, "udev_enumerate_new failed");
	udev_enumerate_add_match_subsystem(en, "usb");
	udev_enumerate_add_match_property(en, "DEVTYPE", "usb_device");
	udev_enumerate_scan_devices(en);
	udev_list_entry_foreach(l, udev_enumerate_get_list_entry(en)) {
		struct udev_device *d = udev_device_new_from_syspath(ds->udev, udev_list_entry_get_name(l));
		if (!d)
			continue;
		if (devpath_of(d))
			device_added(a, devpath_of(d), true);
		udev_device_unref(d);
	}
	udev_enumerate_unref(en);
	agent_blocks_enumerate(a);
	return 0;
}

/* Root hubs hold new devices and interfaces until the agent decides; in
 * audit-only mode nothing is held, so the terminal works as without us. */
static void set_root_hubs(struct agent *a)
{
	bool audit_only = device_policy(a)->audit_only;

	if (mg_enforce_root_hubs(a->devices->sysfd,
	                         audit_only ? MG_HUB_AUTHORIZE_ALL : MG_HUB_AUTHORIZE_NONE,
	                         audit_only) < 0)
		fprintf(stderr, "mynaguardd: root hubs: %s\n", mg_error());
}

int agent_devices_reevaluate(struct agent *a, const char *trigger)
{
	struct agent_devices *ds = a->devices;

	tickets_load(a);
	set_root_hubs(a);
	if (!ds->enumerated) {
		ds->enumerated = true;
		return enumerate_present(a);
	}
	for (size_t i = 0; i < ds->n; i++) {
		struct device_entry *e = &ds->entries[i];
		struct mg_usbdev dev;
		/* A device allowed before keeps its exemption from the keyboard
		 * hold; a held one stays held until approved. */
		unsigned flags = e->present_at_start || e->approved ||
		                 e->decision.target == MG_TARGET_ALLOW ? MG_DECIDE_PRESENT : 0;

		if (device_read(a, e->dev.devpath, &dev) <= 0)
			continue;
		e->dev = dev;
		e->kept = false;
		decide(a, e, flags);
		settle(a, e, trigger);
	}
	return 0;
}

int agent_devices_approve(struct agent *a, const char *name)
{
	struct agent_devices *ds = a->devices;

	for (size_t i = 0; i < ds->n; i++) {
		struct device_entry *e = &ds->entries[i];
		char hash[MG_USB_HASH_HEX];

		mg_usb_hash_hex(e->dev.hash, hash);
		if (strcmp(e->dev.name, name) != 0 && strcmp(hash, name) != 0)
			continue;
		if (e->decision.target != MG_TARGET_HOLD)
			return mg_fail(EINVAL, "%s: not held (decision %s by rule %s)", name,
			               mg_target_name(e->decision.target), e->decision.rule);
		e->approved = true;
		decide(a, e, MG_DECIDE_PRESENT);
		settle(a, e, "approved");
		return 0;
	}
	return mg_fail(ENOENT, "%s: no such device present", name);
}

static json_t *entry_json(const struct device_entry *e)
{
	char hash[MG_USB_HASH_HEX], id[10], desc[1024], decided[MG_TIME_LEN];

	mg_time_format(e->decided, decided);
	mg_usb_hash_hex(e->dev.hash, hash);
	mg_usbdev_describe(&e->dev, desc, sizeof(desc));
	snprintf(id, sizeof(id), "%04x:%04x", e->dev.vendor, e->dev.product);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:o}", "name", e->dev.name, "id", id,
	                 "description", desc, "serial", e->dev.serial, "hash", hash, "decision",
	                 e->kept ? "keep" : mg_target_name(e->decision.target), "rule",
	                 e->kept ? "present-devices" : e->decision.rule, "reason", e->decision.reason,
	                 "decided", decided, "present_at_start", e->present_at_start, "interfaces",
	                 interfaces_json(e));
}

int agent_devices_json(struct agent *a, json_t **out)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < a->devices->n; i++)
		if (json_array_append_new(list, entry_json(&a->devices->entries[i])) < 0) {
			json_decref(list);
			list = NULL;
		}
	if (!list)
		return mg_fail(ENOMEM, "devices: out of memory");
	*out = list;
	return 0;
}

void agent_devices_count(struct agent *a, json_t *into)
{
	size_t count[4] = {0}, kept = 0;

	for (size_t i = 0; i < a->devices->n; i++) {
		const struct device_entry *e = &a->devices->entries[i];
		if (e->kept)
			kept++;
		else if ((unsigned)e->decision.target < MG_ARRAY_SIZE(count))
			count[e->decision.target]++;
	}
	json_object_set_new(into, "present", json_integer((json_int_t)a->devices->n));
	json_object_set_new(into, "allowed", json_integer((json_int_t)count[MG_TARGET_ALLOW]));
	json_object_set_new(into, "read_only", json_integer((json_int_t)count[MG_TARGET_READ_ONLY]));
	json_object_set_new(into, "blocked", json_integer((json_int_t)count[MG_TARGET_BLOCK]));
	json_object_set_new(into, "held", json_integer((json_int_t)count[MG_TARGET_HOLD]));
	json_object_set_new(into, "kept", json_integer((json_int_t)kept));
}

size_t agent_devices_present(struct agent *a)
{
	return a->devices->n;
}

void agent_devices_free(struct agent *a)
{
	struct agent_devices *ds = a->devices;

	if (!ds)
		return;
	if (ds->monitor)
		udev_monitor_unref(ds->monitor);
	if (ds->udev)
		udev_unref(ds->udev);
	if (ds->sysfd >= 0)
		close(ds->sysfd);
	if (ds->devfd >= 0)
		close(ds->devfd);
	if (ds->ticket_timer_fd >= 0)
		close(ds->ticket_timer_fd);
	free(ds->tickets);
	free(ds->valid);
	free(ds->entries);
	free(ds);
	a->devices = NULL;
}
