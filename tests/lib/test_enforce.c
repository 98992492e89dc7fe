/* enforce: the sysfs writes on a umockdev testbed (the block layer's
 * BLKROSET is proved on a real loop device by device_readonly.sh). */
#include <string.h>
#include <sys/stat.h>
#include <criterion/criterion.h>
#include <sodium.h>

#include "mynaguard/enforce.h"
#include "mynaguard/rules.h"
#include "zoo.h"

static struct zoo z;

static void setup(void)
{
	static const char *const all[] = {"stick", "stick-hid", "webcam", "keyboard", "sd-reader", "optical",
	                                  "stick-registered", NULL};

	cr_assert(sodium_init() >= 0);
	zoo_load(&z, all);
}

static void teardown(void)
{
	zoo_free(&z);
}

TestSuite(enforce, .init = setup, .fini = teardown);
TestSuite(block, .init = setup, .fini = teardown);

static struct mg_decision decision(enum mg_target t, const enum mg_target *ifaces, size_t n)
{
	struct mg_decision d = {.target = t, .rule = "test"};

	for (size_t k = 0; k < n; k++)
		d.ifaces[k] = ifaces[k];
	return d;
}

Test(enforce, root_hubs_wait_for_a_decision)
{
	cr_assert_eq(mg_enforce_root_hubs(z.sysfd, MG_HUB_AUTHORIZE_NONE, false), 1, "%s", mg_error());
	cr_assert_str_eq(zoo_attr(&z, ZOO_BUS "authorized_default"), "0");
	cr_assert_str_eq(zoo_attr(&z, ZOO_BUS "interface_authorized_default"), "0");
	cr_assert_eq(mg_enforce_root_hubs(z.sysfd, MG_HUB_AUTHORIZE_INTERNAL, true), 1);
	cr_assert_str_eq(zoo_attr(&z, ZOO_BUS "authorized_default"), "2");
	cr_assert_str_eq(zoo_attr(&z, ZOO_BUS "interface_authorized_default"), "1");
}

Test(enforce, block_deauthorizes_the_device)
{
	struct mg_usbdev dev;
	struct mg_decision d = decision(MG_TARGET_BLOCK, NULL, 0);

	zoo_read(&z, "1-1", &dev);
	cr_assert_eq(mg_enforce_usb(z.sysfd, &dev, &d), 0, "%s", mg_error());
	cr_assert_str_eq(zoo_attr(&z, ZOO_BUS "1-1/authorized"), "0");
	d.target = MG_TARGET_HOLD;
	zoo_read(&z, "1-7", &dev);
	cr_assert_eq(mg_enforce_usb(z.sysfd, &dev, &d), 0);
	cr_assert_str_eq(zoo_attr(&z, ZOO_BUS "1-7/authorized"), "0");
}

Test(enforce, a_composite_keeps_only_its_allowed_interface)
{
	static const enum mg_target ifaces[] = {MG_TARGET_READ_ONLY, MG_TARGET_BLOCK};
	struct mg_decision d = decision(MG_TARGET_READ_ONLY, ifaces, 2);
	struct mg_usbdev dev;

	zoo_read(&z, "1-2", &dev);
	cr_assert_eq(mg_enforce_usb(z.sysfd, &dev, &d), 0, "%s", mg_error());
	cr_assert_str_eq(zoo_attr(&z, ZOO_BUS "1-2/authorized"), "1");
	cr_assert_str_eq(zoo_attr(&z, ZOO_BUS "1-2/1-2:1.0/authorized"), "1");
	cr_assert_str_eq(zoo_attr(&z, ZOO_BUS "1-2/1-2:1.1/authorized"), "0");
}

Test(enforce, the_strictest_alternate_setting_wins)
{
	/* webcam descriptors: 0/0 video, 1/0 + 1/1 video, 2/0 audio, 3/0 + 3/1 audio */
	static const enum mg_target ifaces[] = {MG_TARGET_ALLOW, MG_TARGET_ALLOW, MG_TARGET_BLOCK,
	                                        MG_TARGET_BLOCK, MG_TARGET_ALLOW, MG_TARGET_ALLOW};
	struct mg_decision d = decision(MG_TARGET_ALLOW, ifaces, 6);
	struct mg_usbdev dev;

	zoo_read(&z, "1-12", &dev);
	cr_assert_eq(mg_enforce_usb(z.sysfd, &dev, &d), 0, "%s", mg_error());
	cr_assert_str_eq(zoo_attr(&z, ZOO_BUS "1-12/1-12:1.0/authorized"), "1");
	cr_assert_str_eq(zoo_attr(&z, ZOO_BUS "1-12/1-12:1.1/authorized"), "0", "alternate 1 is blocked");
	cr_assert_str_eq(zoo_attr(&z, ZOO_BUS "1-12/1-12:1.2/authorized"), "0");
	cr_assert_str_eq(zoo_attr(&z, ZOO_BUS "1-12/1-12:1.3/authorized"), "1");
}

Test(enforce, an_interface_without_a_descriptor_is_blocked)
{
	static const enum mg_target ifaces[] = {MG_TARGET_ALLOW, MG_TARGET_ALLOW};
	struct mg_decision d = decision(MG_TARGET_ALLOW, ifaces, 2);
	struct mg_usbdev dev;

	zoo_read(&z, "1-7", &dev);
	dev.n_interfaces = 1;   /* as if interface 1 had appeared after the decision */
	cr_assert_eq(mg_enforce_usb(z.sysfd, &dev, &d), 0, "%s", mg_error());
	cr_assert_str_eq(zoo_attr(&z, ZOO_BUS "1-7/1-7:1.0/authorized"), "1");
	cr_assert_str_eq(zoo_attr(&z, ZOO_BUS "1-7/1-7:1.1/authorized"), "0");
}

Test(enforce, a_vanished_device_is_an_error)
{
	struct mg_usbdev dev;
	struct mg_decision d = decision(MG_TARGET_BLOCK, NULL, 0);

	zoo_read(&z, "1-1", &dev);
	snprintf(dev.devpath, sizeof(dev.devpath), ZOO_BUS "1-13");
	cr_assert_eq(mg_enforce_usb(z.sysfd, &dev, &d), -ENOENT);
	cr_assert(strstr(mg_error(), "1-13/authorized"), "%s", mg_error());
}

Test(block, classify)
{
	struct mg_block_info b;

	cr_assert_eq(mg_block_classify(z.sysfd, "sdb", &b), 0, "%s", mg_error());
	cr_assert_eq(b.kind, MG_MEDIA_REMOVABLE);
	cr_assert(b.usb);
	cr_assert(b.removable);
	cr_assert_not(b.read_only);
	cr_assert_eq(mg_block_classify(z.sysfd, "mmcblk0", &b), 0, "%s", mg_error());
	cr_assert_eq(b.kind, MG_MEDIA_SD);
	cr_assert_not(b.usb);
	cr_assert_eq(mg_block_classify(z.sysfd, "sr0", &b), 0, "%s", mg_error());
	cr_assert_eq(b.kind, MG_MEDIA_OPTICAL);
	cr_assert_eq(mg_block_classify(z.sysfd, "sdb1", &b), -ENOMEDIUM, "partitions go with their disk");
	cr_assert_eq(mg_block_classify(z.sysfd, "../sdb", &b), -EINVAL);
	cr_assert_eq(mg_block_classify(z.sysfd, "sdz", &b), -ENOENT);
}

Test(block, removal)
{
	char dir[PATH_MAX];
	FILE *f;

	cr_assert_eq(mg_enforce_block(z.sysfd, -1, "sr0", MG_TARGET_BLOCK), 0, "%s", mg_error());
	cr_assert_str_eq(zoo_attr(&z, "devices/pci0000:00/0000:00:17.0/ata2/host1/target1:0:0/1:0:0:0/delete"), "1");
	cr_assert_eq(mg_enforce_block(z.sysfd, -1, "sdb", MG_TARGET_HOLD), 0, "%s", mg_error());
	cr_assert_str_eq(zoo_attr(&z, ZOO_BUS "1-1/1-1:1.0/host6/target6:0:0/6:0:0:0/delete"), "1");

	/* An SD card is unbound from mmcblk. */
	snprintf(dir, sizeof(dir), "%s/bus/mmc/drivers/mmcblk", z.sys);
	cr_assert_eq(g_mkdir_with_parents(dir, 0755), 0);
	strcat(dir, "/unbind");
	f = fopen(dir, "w");
	cr_assert(f);
	fclose(f);
	cr_assert_eq(mg_enforce_block(z.sysfd, -1, "mmcblk0", MG_TARGET_BLOCK), 0, "%s", mg_error());
	cr_assert_str_eq(zoo_attr(&z, "bus/mmc/drivers/mmcblk/unbind"), "mmc0:aaaa");

	cr_assert_eq(mg_enforce_block(z.sysfd, -1, "sdb", MG_TARGET_ALLOW), 0, "%s", mg_error());
}

Test(block, what_cannot_be_made_read_only_is_removed)
{
	/* The testbed has no device nodes: BLKROSET cannot happen. */
	cr_assert_lt(mg_enforce_block(z.sysfd, -1, "sdc", MG_TARGET_READ_ONLY), 0);
	cr_assert(strstr(mg_error(), "sdc: removed instead: /dev/sdc"), "%s", mg_error());
	cr_assert_str_eq(zoo_attr(&z, ZOO_BUS "1-14/1-14:1.0/host8/target8:0:0/8:0:0:0/delete"), "1");
}
