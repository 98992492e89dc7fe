/* Block devices: a disk below a USB device follows that device's decision
 * (read-only for a stick allowed read-only); SD cards, optical drives and
 * other removable disks follow the policy's "media" setting. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libudev.h>

#include "agent.h"
#include "devices.h"
#include "mynaguard/enforce.h"
#include "mynaguard/error.h"
#include "mynaguard/json.h"
#include "mynaguard/util.h"

static const char *const media_rule[MG_MEDIA_COUNT] = {
	[MG_MEDIA_SD] = "media.sd",
	[MG_MEDIA_OPTICAL] = "media.optical",
	[MG_MEDIA_REMOVABLE] = "media.removable",
};

static void audit_block(struct agent *a, enum mg_target target, const char *rule,
                        const char *subject, enum mg_media kind, int enforce_error)
{
	_cleanup_json_ json_t *detail = json_pack("{s:s,s:b}", "media", media_rule[kind] + strlen("media."),
	                                          "audit_only", a->policy.policy->devices.audit_only);

	if (detail && enforce_error < 0)
		json_object_set_new(detail, "enforce_error", json_string(mg_error()));
	agent_audit(a, "device.block", mg_target_name(target), rule, subject, detail);
}

void agent_block_added(struct agent *a, const char *name, const char *devpath)
{
	const struct mg_device_policy *p = &a->policy.policy->devices;
	struct mg_block_info info;
	struct device_entry *usb = NULL;
	enum mg_target target;
	const char *rule;
	char subject[256];
	int r;

	if (!name || !devpath)
		return;
	r = mg_block_classify(a->devices->sysfd, name, &info);
	if (r == -ENOMEDIUM || r == -ENOENT)
		return;
	if (r < 0) {
		/* What cannot be classified is treated as removable media. */
		info = (struct mg_block_info){.kind = MG_MEDIA_REMOVABLE};
	}
	if (info.usb && (usb = agent_devices_parent_of(a, devpath))) {
		if (usb->kept)
			return;
		target = usb->decision.target;
		rule = usb->decision.rule;
		snprintf(subject, sizeof(subject), "block %s on usb %s", name, usb->dev.name);
	} else {
		target = info.usb ? MG_TARGET_BLOCK : p->media[info.kind];
		rule = info.usb ? "default" : media_rule[info.kind];
		snprintf(subject, sizeof(subject), "block %s", name);
	}
	r = 0;
	/* ALLOW too: the udev rules make every USB disk read-only at its first
	 * event, and only the agent's decision makes an allowed one writable. */
	if (!p->audit_only)
		r = mg_enforce_block(a->devices->sysfd, a->devices->devfd, name, target);
	audit_block(a, target, rule, subject, info.kind, r);
}

void agent_blocks_enumerate(struct agent *a)
{
	struct udev *udev = a->devices->udev;
	struct udev_enumerate *en = udev_enumerate_new(udev);
	struct udev_list_entry *l;

	if (!en)
		return;
	udev_enumerate_add_match_subsystem(en, "block");
	udev_enumerate_add_match_property(en, "DEVTYPE", "disk");
	udev_enumerate_scan_devices(en);
	udev_list_entry_foreach(l, udev_enumerate_get_list_entry(en)) {
		struct udev_device *d = udev_device_new_from_syspath(udev, udev_list_entry_get_name(l));
		const char *p;

		if (!d)
			continue;
		p = udev_device_get_devpath(d);
		agent_block_added(a, udev_device_get_sysname(d), p && p[0] == '/' ? p + 1 : p);
		udev_device_unref(d);
	}
	udev_enumerate_unref(en);
}
