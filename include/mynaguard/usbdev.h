/* A USB device as the policy sees it, read from sysfs.
 *
 * Everything is read relative to a sysfs root directory (an fd on "/sys",
 * or on the "sys" directory of a umockdev testbed), from the device's
 * DEVPATH without the leading slash, e.g.
 *     "devices/pci0000:00/0000:00:14.0/usb1/1-2"
 * which is what udev_device_get_devpath() returns after its '/'.
 *
 * The interfaces come from the raw `descriptors` blob the kernel keeps for
 * every device, authorized or not: every interface descriptor of every
 * configuration and every alternate setting.  A device that is not yet
 * authorized has no interface directories, and a device can switch to
 * another configuration or alternate setting after it is authorized, so
 * deciding on the union is what keeps a hidden interface from slipping
 * through.  Interfaces that exist in sysfs get their kernel name filled in,
 * so they can be authorized one by one.
 *
 * The descriptor hash (docs/devices.md "Descriptor hash") is BLAKE2b-256,
 * keyed with nothing, over the domain "mynaguard-usb-hash-v1" and then,
 * each as a length-prefixed field: idVendor, idProduct, bcdDevice (2 bytes
 * each, big-endian), the manufacturer, product and serial strings (as the
 * kernel reports them), and for every interface descriptor in blob order:
 * bInterfaceNumber, bAlternateSetting, class, subclass, protocol and
 * bNumEndpoints.  The port, the speed, bcdUSB, bMaxPacketSize0, endpoint
 * sizes and the SuperSpeed companion descriptors are left out, so the hash
 * stays the same on any port and over USB 2 and USB 3.  A device that
 * re-enumerates with other descriptors gets another hash and is decided
 * anew. */
#ifndef MYNAGUARD_USBDEV_H
#define MYNAGUARD_USBDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MG_USB_NAME_MAX 64        /* kernel names: "1-2.3", "1-2.3:1.0", "usb1" */
#define MG_USB_PATH_MAX 512       /* a DEVPATH below the sysfs root */
#define MG_USB_STRING_MAX 384     /* a string descriptor (126 UTF-16 units) as UTF-8 */
#define MG_USB_MAX_INTERFACES 32  /* interface descriptors (all configurations and alternates) */
#define MG_USB_HASH_BYTES 32
#define MG_USB_HASH_HEX (2 * MG_USB_HASH_BYTES + 1)
#define MG_USB_DESCRIPTORS_MAX 65536 /* largest `descriptors` blob read */
#define MG_USB_HASH_DOMAIN "mynaguard-usb-hash-v1"

/* How the port the device is plugged into is wired (the hub port's
 * connect_type in sysfs). */
enum mg_usb_connect {
	MG_USB_CONNECT_UNKNOWN = 0,  /* the firmware does not say */
	MG_USB_CONNECT_HOTPLUG,      /* "hotplug": a port a user can reach */
	MG_USB_CONNECT_HARDWIRED,    /* "hardwired" or "not used": built into the machine */
};

/* A class triplet: bDeviceClass/bInterfaceClass, SubClass, Protocol. */
struct mg_usb_class {
	uint8_t cls;
	uint8_t sub;
	uint8_t proto;
};

/* One interface descriptor. */
struct mg_usb_interface {
	char name[MG_USB_NAME_MAX]; /* sysfs name "1-2:1.0" when the interface exists in
	                               the active configuration, else "" */
	uint8_t config;             /* bConfigurationValue of its configuration */
	uint8_t number;             /* bInterfaceNumber */
	uint8_t alt;                /* bAlternateSetting */
	struct mg_usb_class cls;    /* its class triplet */
	uint8_t endpoints;          /* bNumEndpoints */
	bool mtp;                   /* a vendor-specific interface whose string (sysfs
	                               `interface`) is "MTP": an Android phone's MTP */
};

/* What the parser takes out of a `descriptors` blob. */
struct mg_usb_descriptors {
	uint16_t bcd_usb;           /* bcdUSB: not hashed (it differs over USB 2/3) */
	uint16_t vendor;            /* idVendor */
	uint16_t product;           /* idProduct */
	uint16_t bcd_device;        /* bcdDevice */
	struct mg_usb_class cls;    /* device class triplet */
	uint8_t configurations;     /* configuration descriptors found */
	size_t n_interfaces;        /* entries used in interfaces[] */
	struct mg_usb_interface interfaces[MG_USB_MAX_INTERFACES];
};

/* A USB device. */
struct mg_usbdev {
	char devpath[MG_USB_PATH_MAX];     /* below the sysfs root, no leading '/' */
	char name[MG_USB_NAME_MAX];        /* kernel name = port path: "1-2.3" is port 3 of
	                                      the hub on port 2 of bus 1; "usb1" a root hub */
	char parent[MG_USB_NAME_MAX];      /* the parent USB device's name ("usb1", "1-2"),
	                                      "" for a root hub */
	uint16_t vendor;                   /* idVendor */
	uint16_t product;                  /* idProduct */
	uint16_t bcd_device;               /* bcdDevice */
	struct mg_usb_class cls;           /* device class triplet */
	char manufacturer[MG_USB_STRING_MAX]; /* sysfs `manufacturer`, "" when absent */
	char product_name[MG_USB_STRING_MAX]; /* sysfs `product`, "" when absent */
	char serial[MG_USB_STRING_MAX];    /* sysfs `serial`, "" when absent */
	char speed[8];                     /* sysfs `speed` in Mb/s: "1.5", "480", "5000" */
	enum mg_usb_connect connect;       /* sysfs `removable` (the kernel's reading of the
	                                      port's connect_type), else port/connect_type */
	bool root_hub;                     /* a host controller's root hub (usbN) */
	bool authorized;                   /* sysfs `authorized` is 1 now */
	size_t n_interfaces;               /* entries used in interfaces[] */
	struct mg_usb_interface interfaces[MG_USB_MAX_INTERFACES];
	uint8_t hash[MG_USB_HASH_BYTES];   /* the descriptor hash (above) */
	bool has_parent_hash;              /* parent_hash is set (false for root hubs and
	                                      devices on a root hub port) */
	uint8_t parent_hash[MG_USB_HASH_BYTES]; /* descriptor hash of the hub it hangs on */
};

/* Parses a `descriptors` blob: the 18-byte device descriptor followed by
 * configuration descriptors, each with its interface, endpoint and class
 * descriptors.  Every descriptor's bLength is checked against what is left
 * and against its type's minimum.  -EBADMSG names the byte offset. */
int mg_usb_descriptors_parse(const uint8_t *buf, size_t len, struct mg_usb_descriptors *out);

/* Reads the device at devpath below sysfd (see above), its parent's hash
 * included.  -ENOENT when it is gone, -ENOTTY when devpath is not a USB
 * device (an interface, say), -EBADMSG for descriptors that do not parse:
 * a caller that cannot read a device blocks it. */
int mg_usbdev_read(int sysfd, const char *devpath, struct mg_usbdev *out);

/* Computes dev->hash from the identity fields and interfaces. */
void mg_usbdev_hash(const struct mg_usbdev *dev, uint8_t hash[MG_USB_HASH_BYTES]);

/* Lower-case hex of a hash (MG_USB_HASH_HEX bytes with the NUL). */
void mg_usb_hash_hex(const uint8_t hash[MG_USB_HASH_BYTES], char hex[MG_USB_HASH_HEX]);
int mg_usb_hash_parse(const char *hex, uint8_t hash[MG_USB_HASH_BYTES]);

/* One line naming the device for audit records and listings:
 * "1-2 0781:5581 SanDisk Ultra serial=4C53..." (control characters in the
 * strings are replaced, so a device cannot forge log lines). */
void mg_usbdev_describe(const struct mg_usbdev *dev, char *buf, size_t size);

/* Parses the name of a connect type ("hotplug", "hardwired"). */
int mg_usb_connect_parse(const char *s, enum mg_usb_connect *out);
const char *mg_usb_connect_name(enum mg_usb_connect c);

#endif
