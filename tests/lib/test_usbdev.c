/* usbdev: the device model read from sysfs, the descriptors parser, and a
 * descriptor hash that ignores the port and the speed. */
#include <string.h>
#include <criterion/criterion.h>
#include <sodium.h>

#include "mynaguard/usbdev.h"
#include "zoo.h"

static struct zoo z;

static void setup(void)
{
	static const char *const all[] = {"stick", "hub", "webcam", "cdc-ecm", "mtp-phone", "keyboard", NULL};

	cr_assert(sodium_init() >= 0);
	zoo_load(&z, all);
}

static void teardown(void)
{
	zoo_free(&z);
}

TestSuite(usbdev, .init = setup, .fini = teardown);

Test(usbdev, reads_identity_and_interfaces)
{
	struct mg_usbdev d;

	zoo_read(&z, "1-1", &d);
	cr_assert_str_eq(d.name, "1-1");
	cr_assert_str_eq(d.parent, "usb1");
	cr_assert_eq(d.vendor, 0x0781);
	cr_assert_eq(d.product, 0x5581);
	cr_assert_eq(d.bcd_device, 0x0100);
	cr_assert_str_eq(d.manufacturer, "SanDisk");
	cr_assert_str_eq(d.product_name, "Ultra");
	cr_assert_str_eq(d.serial, "4C530000000000000001");
	cr_assert_str_eq(d.speed, "480");
	cr_assert_eq(d.connect, MG_USB_CONNECT_HOTPLUG);
	cr_assert(d.authorized);
	cr_assert_not(d.root_hub);
	cr_assert_not(d.has_parent_hash, "a device on a root hub port has no hub to bind to");
	cr_assert_eq(d.n_interfaces, 1);
	cr_assert_str_eq(d.interfaces[0].name, "1-1:1.0");
	cr_assert_eq(d.interfaces[0].cls.cls, 0x08);
	cr_assert_eq(d.interfaces[0].cls.sub, 0x06);
	cr_assert_eq(d.interfaces[0].cls.proto, 0x50);
	cr_assert_eq(d.interfaces[0].endpoints, 2);
}

Test(usbdev, every_configuration_and_alternate_counts)
{
	struct mg_usbdev d;

	/* The RTL8153 is vendor-specific in configuration 1 and CDC-ECM in 2:
	 * both are decided on, only configuration 1 exists in sysfs. */
	zoo_read(&z, "1-5", &d);
	cr_assert_eq(d.n_interfaces, 4);
	cr_assert_str_eq(d.interfaces[0].name, "1-5:1.0");
	cr_assert_eq(d.interfaces[1].config, 2);
	cr_assert_eq(d.interfaces[1].cls.cls, 0x02);
	cr_assert_str_eq(d.interfaces[1].name, "");
	cr_assert_eq(d.interfaces[3].alt, 1);
	cr_assert_eq(d.connect, MG_USB_CONNECT_HOTPLUG);

	zoo_read(&z, "1-12", &d);
	cr_assert_eq(d.n_interfaces, 6, "webcam: 4 interfaces, 2 with an alternate setting");
	cr_assert_str_eq(d.interfaces[2].name, "1-12:1.1");
	cr_assert_eq(d.connect, MG_USB_CONNECT_HARDWIRED);
}

Test(usbdev, vendor_specific_mtp_is_flagged)
{
	struct mg_usbdev d;

	zoo_read(&z, "1-3", &d);
	cr_assert_eq(d.interfaces[0].cls.cls, 0xff);
	cr_assert(d.interfaces[0].mtp);
	zoo_read(&z, "1-5", &d);
	cr_assert_not(d.interfaces[0].mtp, "a vendor-specific interface without the string");
}

Test(usbdev, parent_hash_is_the_hubs_hash)
{
	struct mg_usbdev hub, stick;

	zoo_read(&z, "1-10", &hub);
	zoo_read(&z, "1-10/1-10.1", &stick);
	cr_assert_str_eq(stick.parent, "1-10");
	cr_assert(stick.has_parent_hash);
	cr_assert_arr_eq(stick.parent_hash, hub.hash, MG_USB_HASH_BYTES);
}

Test(usbdev, hash_ignores_port_and_speed_but_not_identity)
{
	struct mg_usbdev a, b;
	char devpath[] = ZOO_BUS "1-1";
	char sysdev[PATH_MAX];

	zoo_read(&z, "1-1", &a);
	snprintf(sysdev, sizeof(sysdev), "/sys/%s", devpath);
	umockdev_testbed_set_attribute(z.tb, sysdev, "speed", "5000");
	zoo_read(&z, "1-1", &b);
	cr_assert_str_eq(b.speed, "5000");
	cr_assert_arr_eq(a.hash, b.hash, MG_USB_HASH_BYTES, "USB 3 speed changed the hash");

	/* The same device on another port: only the name differs. */
	memcpy(&b, &a, sizeof(b));
	snprintf(b.name, sizeof(b.name), "1-7.3");
	mg_usbdev_hash(&b, b.hash);
	cr_assert_arr_eq(a.hash, b.hash, MG_USB_HASH_BYTES);

	umockdev_testbed_set_attribute(z.tb, sysdev, "serial", "4C530000000000000002");
	zoo_read(&z, "1-1", &b);
	cr_assert(memcmp(a.hash, b.hash, MG_USB_HASH_BYTES) != 0, "another serial, the same hash");

	memcpy(&b, &a, sizeof(b));
	b.interfaces[0].cls.cls = 0x03;
	mg_usbdev_hash(&b, b.hash);
	cr_assert(memcmp(a.hash, b.hash, MG_USB_HASH_BYTES) != 0, "re-enumerated as HID, the same hash");
}

Test(usbdev, hash_hex_round_trip)
{
	struct mg_usbdev d;
	char hex[MG_USB_HASH_HEX];
	uint8_t back[MG_USB_HASH_BYTES];

	zoo_read(&z, "1-7", &d);
	mg_usb_hash_hex(d.hash, hex);
	cr_assert_eq(strlen(hex), 64);
	cr_assert_eq(mg_usb_hash_parse(hex, back), 0);
	cr_assert_arr_eq(back, d.hash, MG_USB_HASH_BYTES);
	cr_assert_eq(mg_usb_hash_parse("abc", back), -EINVAL);
	hex[5] = 'x';
	cr_assert_eq(mg_usb_hash_parse(hex, back), -EINVAL);
}

Test(usbdev, describe_cleans_device_strings)
{
	struct mg_usbdev d;
	char sysdev[PATH_MAX], out[128];

	snprintf(sysdev, sizeof(sysdev), "/sys/" ZOO_BUS "1-1");
	umockdev_testbed_set_attribute(z.tb, sysdev, "product", "Ultra\r\x1b[2Jevil");
	zoo_read(&z, "1-1", &d);
	mg_usbdev_describe(&d, out, sizeof(out));
	cr_assert_str_eq(out, "1-1 0781:5581 SanDisk Ultra??[2Jevil serial=4C530000000000000001");
}

Test(usbdev, refuses_what_is_not_a_usb_device)
{
	struct mg_usbdev d;

	cr_assert_eq(mg_usbdev_read(z.sysfd, ZOO_BUS "1-1/1-1:1.0", &d), -ENOTTY);
	cr_assert_eq(mg_usbdev_read(z.sysfd, ZOO_BUS "1-9", &d), -ENOENT);
	cr_assert(strstr(mg_error(), "1-9/descriptors"), "%s", mg_error());
	cr_assert_eq(mg_usbdev_read(z.sysfd, "/sys/" ZOO_BUS "1-1", &d), -EINVAL);
}

Test(usbdev, root_hub)
{
	struct mg_usbdev d;

	cr_assert_eq(mg_usbdev_read(z.sysfd, "devices/pci0000:00/0000:00:14.0/usb1", &d), 0, "%s", mg_error());
	cr_assert(d.root_hub);
	cr_assert_str_eq(d.parent, "");
	cr_assert_eq(d.cls.cls, 0x09);
}

/* ---- the descriptors parser ---- */

static const uint8_t stick[] = {
	18, 1, 0x00, 0x02, 0, 0, 0, 64, 0x81, 0x07, 0x81, 0x55, 0x00, 0x01, 1, 2, 3, 1,
	9, 2, 32, 0, 1, 1, 0, 0x80, 50,
	9, 4, 0, 0, 2, 0x08, 0x06, 0x50, 0,
	7, 5, 0x81, 2, 0x00, 0x02, 0,
	7, 5, 0x02, 2, 0x00, 0x02, 0,
};

Test(descriptors, parses_a_stick)
{
	struct mg_usb_descriptors d;

	cr_assert_eq(mg_usb_descriptors_parse(stick, sizeof(stick), &d), 0, "%s", mg_error());
	cr_assert_eq(d.vendor, 0x0781);
	cr_assert_eq(d.product, 0x5581);
	cr_assert_eq(d.bcd_usb, 0x0200);
	cr_assert_eq(d.configurations, 1);
	cr_assert_eq(d.n_interfaces, 1);
	cr_assert_eq(d.interfaces[0].cls.cls, 0x08);
	cr_assert_eq(d.interfaces[0].config, 1);
}

Test(descriptors, rejects_malformed_blobs)
{
	struct mg_usb_descriptors d;
	uint8_t b[sizeof(stick) + 9];

	cr_assert_eq(mg_usb_descriptors_parse(stick, 17, &d), -EBADMSG);
	cr_assert_eq(mg_usb_descriptors_parse(stick, sizeof(stick) - 1, &d), -EBADMSG, "truncated endpoint");
	cr_assert(strstr(mg_error(), "offset 43"), "%s", mg_error());

	memcpy(b, stick, sizeof(stick));
	b[18] = 0;
	cr_assert_eq(mg_usb_descriptors_parse(b, sizeof(stick), &d), -EBADMSG, "bLength 0 would loop");

	memcpy(b, stick, sizeof(stick));
	b[18 + 1] = 4;        /* the configuration becomes an interface */
	cr_assert_eq(mg_usb_descriptors_parse(b, sizeof(stick), &d), -EBADMSG, "interface before any configuration");

	memcpy(b, stick, sizeof(stick));
	b[27] = 5;            /* a 5-byte interface descriptor */
	cr_assert_eq(mg_usb_descriptors_parse(b, sizeof(stick), &d), -EBADMSG);

	memcpy(b, stick, sizeof(stick));
	memcpy(b + sizeof(stick), stick, 9);
	b[sizeof(stick)] = 18;
	cr_assert_eq(mg_usb_descriptors_parse(b, sizeof(stick) + 9, &d), -EBADMSG, "bLength past the end");
}

Test(descriptors, caps_the_interface_count)
{
	uint8_t b[18 + 9 + 9 * (MG_USB_MAX_INTERFACES + 1)];
	struct mg_usb_descriptors d;

	memcpy(b, stick, 27);
	for (size_t k = 0; k <= MG_USB_MAX_INTERFACES; k++) {
		uint8_t *i = b + 27 + 9 * k;

		memcpy(i, stick + 27, 9);
		i[2] = (uint8_t)k;
		i[4] = 0;
	}
	cr_assert_eq(mg_usb_descriptors_parse(b, sizeof(b) - 9, &d), 0, "%s", mg_error());
	cr_assert_eq(d.n_interfaces, MG_USB_MAX_INTERFACES);
	cr_assert_eq(mg_usb_descriptors_parse(b, sizeof(b), &d), -EBADMSG);
	cr_assert(strstr(mg_error(), "more than 32"), "%s", mg_error());
}
