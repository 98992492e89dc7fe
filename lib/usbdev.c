/* A USB device read from sysfs: identity, interfaces and descriptor hash. */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sodium.h>

#include "mynaguard/error.h"
#include "mynaguard/sysfs.h"
#include "mynaguard/usbdev.h"
#include "mynaguard/util.h"

enum {
	DESC_DEVICE = 1,
	DESC_CONFIG = 2,
	DESC_INTERFACE = 4,
	DEVICE_DESC_LEN = 18,
	CONFIG_DESC_LEN = 9,
	INTERFACE_DESC_LEN = 9,
};

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static int parse_device_descriptor(const uint8_t *buf, size_t len, struct mg_usb_descriptors *out)
{
	if (len < DEVICE_DESC_LEN)
		return mg_fail(EBADMSG, "descriptors: %zu bytes, shorter than a device descriptor", len);
	if (buf[0] != DEVICE_DESC_LEN || buf[1] != DESC_DEVICE)
		return mg_fail(EBADMSG, "descriptors: offset 0: not a device descriptor");
	out->bcd_usb = le16(buf + 2);
	out->cls = (struct mg_usb_class){buf[4], buf[5], buf[6]};
	out->vendor = le16(buf + 8);
	out->product = le16(buf + 10);
	out->bcd_device = le16(buf + 12);
	return 0;
}

static int add_interface(const uint8_t *d, size_t off, uint8_t config, struct mg_usb_descriptors *out)
{
	struct mg_usb_interface *i;

	if (out->configurations == 0)
		return mg_fail(EBADMSG, "descriptors: offset %zu: interface outside a configuration", off);
	if (out->n_interfaces == MG_USB_MAX_INTERFACES)
		return mg_fail(EBADMSG, "descriptors: offset %zu: more than %d interface descriptors",
		               off, MG_USB_MAX_INTERFACES);
	i = &out->interfaces[out->n_interfaces++];
	*i = (struct mg_usb_interface){
		.config = config, .number = d[2], .alt = d[3], .endpoints = d[4],
		.cls = {d[5], d[6], d[7]},
	};
	return 0;
}

/* Walks the descriptors after the device descriptor.  Class and endpoint
 * descriptors are skipped by their bLength; only configurations and
 * interfaces are kept. */
int mg_usb_descriptors_parse(const uint8_t *buf, size_t len, struct mg_usb_descriptors *out)
{
	uint8_t config = 0;
	int r;

	memset(out, 0, sizeof(*out));
	r = parse_device_descriptor(buf, len, out);
	if (r < 0)
		return r;
	for (size_t off = DEVICE_DESC_LEN; off < len;) {
		const uint8_t *d = buf + off;
		size_t dlen;

		if (len - off < 2)
			return mg_fail(EBADMSG, "descriptors: offset %zu: truncated descriptor header", off);
		dlen = d[0];
		if (dlen < 2 || dlen > len - off)
			return mg_fail(EBADMSG, "descriptors: offset %zu: bLength %zu out of bounds", off, dlen);
		if (d[1] == DESC_CONFIG) {
			if (dlen < CONFIG_DESC_LEN)
				return mg_fail(EBADMSG, "descriptors: offset %zu: short configuration descriptor", off);
			config = d[5];
			out->configurations++;
		} else if (d[1] == DESC_INTERFACE) {
			if (dlen < INTERFACE_DESC_LEN)
				return mg_fail(EBADMSG, "descriptors: offset %zu: short interface descriptor", off);
			r = add_interface(d, off, config, out);
			if (r < 0)
				return r;
		} else if (d[1] == DESC_DEVICE) {
			return mg_fail(EBADMSG, "descriptors: offset %zu: a second device descriptor", off);
		}
		off += dlen;
	}
	return 0;
}

/* Reads DEVPATH/ATTR (see mg_sysfs_read). */
static int read_attr(int sysfd, const char *devpath, const char *attr, char *buf, size_t size)
{
	char path[MG_USB_PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", devpath, attr);
	return mg_sysfs_read(sysfd, path, buf, size);
}

static int read_descriptors(int sysfd, const char *devpath, struct mg_usb_descriptors *out)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ uint8_t *buf = NULL;
	char path[MG_USB_PATH_MAX + 16];
	size_t len = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/descriptors", devpath);
	fd = openat(sysfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return mg_fail_errno(errno, "%s", path);
	buf = malloc(MG_USB_DESCRIPTORS_MAX);
	if (!buf)
		return mg_fail(ENOMEM, "%s: out of memory", path);
	while (len < MG_USB_DESCRIPTORS_MAX &&
	       (n = read(fd, buf + len, MG_USB_DESCRIPTORS_MAX - len)) != 0) {
		if (n < 0)
			return mg_fail_errno(errno, "%s", path);
		len += (size_t)n;
	}
	if (len == MG_USB_DESCRIPTORS_MAX)
		return mg_fail(EFBIG, "%s: larger than %d bytes", path, MG_USB_DESCRIPTORS_MAX);
	if (mg_usb_descriptors_parse(buf, len, out) < 0)
		return mg_error_prefix(-EBADMSG, "%s", devpath);
	return 0;
}

static enum mg_usb_connect read_connect(int sysfd, const char *devpath)
{
	char v[32];

	/* `removable` is the kernel's reading of the port's firmware connect
	 * type, and what the generated udev rules test, so both layers agree;
	 * the port's connect_type is the fallback. */
	if (read_attr(sysfd, devpath, "removable", v, sizeof(v)) == 0) {
		if (strcmp(v, "removable") == 0)
			return MG_USB_CONNECT_HOTPLUG;
		if (strcmp(v, "fixed") == 0)
			return MG_USB_CONNECT_HARDWIRED;
	}
	if (read_attr(sysfd, devpath, "port/connect_type", v, sizeof(v)) == 0) {
		if (strcmp(v, "hotplug") == 0)
			return MG_USB_CONNECT_HOTPLUG;
		if (strcmp(v, "hardwired") == 0 || strcmp(v, "not used") == 0)
			return MG_USB_CONNECT_HARDWIRED;
	}
	mg_error_clear();
	return MG_USB_CONNECT_UNKNOWN;
}

/* Names the interfaces of the active configuration that exist in sysfs and
 * reads the strings of the vendor-specific ones (an MTP responder says
 * "MTP" there). */
static void name_interfaces(int sysfd, struct mg_usbdev *dev)
{
	char v[16], sub[MG_USB_NAME_MAX + 16], str[64];
	unsigned long active;

	if (read_attr(sysfd, dev->devpath, "bConfigurationValue", v, sizeof(v)) < 0 || !v[0]) {
		mg_error_clear();
		return;
	}
	active = strtoul(v, NULL, 10);
	for (size_t k = 0; k < dev->n_interfaces; k++) {
		struct mg_usb_interface *i = &dev->interfaces[k];
		struct stat st;

		if (i->config != active)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s:%u.%u", dev->devpath, dev->name, i->config, i->number);
		if (fstatat(sysfd, sub, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		snprintf(i->name, sizeof(i->name), "%s:%u.%u", dev->name, i->config, i->number);
		if (i->cls.cls == 0xff && read_attr(sysfd, sub, "interface", str, sizeof(str)) == 0)
			i->mtp = strcmp(str, "MTP") == 0;
	}
	mg_error_clear();
}

static void read_strings(int sysfd, struct mg_usbdev *dev)
{
	static const struct { const char *attr; size_t off; } strs[] = {
		{"manufacturer", offsetof(struct mg_usbdev, manufacturer)},
		{"product", offsetof(struct mg_usbdev, product_name)},
		{"serial", offsetof(struct mg_usbdev, serial)},
	};
	char v[8];

	/* A device may lack any string descriptor: that is "" and hashed so. */
	for (size_t k = 0; k < MG_ARRAY_SIZE(strs); k++) {
		char *dst = (char *)dev + strs[k].off;

		if (read_attr(sysfd, dev->devpath, strs[k].attr, dst, MG_USB_STRING_MAX) < 0)
			dst[0] = '\0';
	}
	if (read_attr(sysfd, dev->devpath, "speed", dev->speed, sizeof(dev->speed)) < 0)
		dev->speed[0] = '\0';
	dev->authorized = read_attr(sysfd, dev->devpath, "authorized", v, sizeof(v)) == 0 &&
	                  strcmp(v, "1") == 0;
	mg_error_clear();
}

static bool is_usb_device_name(const char *name)
{
	/* "usbN" root hubs and "B-P[.P...]" devices; interfaces carry a ':'. */
	return !strchr(name, ':') && (strncmp(name, "usb", 3) == 0 || strchr(name, '-'));
}

static int split_devpath(const char *devpath, struct mg_usbdev *dev)
{
	const char *slash = strrchr(devpath, '/');
	const char *name = slash ? slash + 1 : devpath;

	if (devpath[0] == '/' || strlen(devpath) >= sizeof(dev->devpath) ||
	    strlen(name) >= sizeof(dev->name) || !name[0])
		return mg_fail(EINVAL, "%s: not a device path below the sysfs root", devpath);
	if (!is_usb_device_name(name))
		return mg_fail(ENOTTY, "%s: not a USB device", devpath);
	snprintf(dev->devpath, sizeof(dev->devpath), "%s", devpath);
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	dev->root_hub = strncmp(name, "usb", 3) == 0;
	if (!dev->root_hub && slash) {
		const char *pslash = slash;

		while (pslash > devpath && pslash[-1] != '/')
			pslash--;
		snprintf(dev->parent, sizeof(dev->parent), "%.*s", (int)(slash - pslash), pslash);
	}
	return 0;
}

static int read_device(int sysfd, const char *devpath, struct mg_usbdev *dev)
{
	struct mg_usb_descriptors *d;
	int r;

	memset(dev, 0, sizeof(*dev));
	r = split_devpath(devpath, dev);
	if (r < 0)
		return r;
	d = malloc(sizeof(*d));
	if (!d)
		return mg_fail(ENOMEM, "%s: out of memory", devpath);
	r = read_descriptors(sysfd, devpath, d);
	if (r == 0) {
		dev->vendor = d->vendor;
		dev->product = d->product;
		dev->bcd_device = d->bcd_device;
		dev->cls = d->cls;
		dev->n_interfaces = d->n_interfaces;
		memcpy(dev->interfaces, d->interfaces, sizeof(d->interfaces));
	}
	free(d);
	if (r < 0)
		return r;
	read_strings(sysfd, dev);
	dev->connect = read_connect(sysfd, devpath);
	name_interfaces(sysfd, dev);
	mg_usbdev_hash(dev, dev->hash);
	return 0;
}

static int read_parent_hash(int sysfd, struct mg_usbdev *dev)
{
	_cleanup_free_ struct mg_usbdev *parent = NULL;
	char ppath[MG_USB_PATH_MAX];
	int r;

	/* A device on a root hub port hangs on the machine itself: there is no
	 * hub identity worth binding to. */
	if (dev->root_hub || !dev->parent[0] || strncmp(dev->parent, "usb", 3) == 0)
		return 0;
	snprintf(ppath, sizeof(ppath), "%.*s", (int)(strrchr(dev->devpath, '/') - dev->devpath),
	         dev->devpath);
	parent = malloc(sizeof(*parent));
	if (!parent)
		return mg_fail(ENOMEM, "%s: out of memory", dev->devpath);
	r = read_device(sysfd, ppath, parent);
	if (r < 0)
		return mg_error_prefix(r, "%s: parent", dev->devpath);
	memcpy(dev->parent_hash, parent->hash, sizeof(dev->parent_hash));
	dev->has_parent_hash = true;
	return 0;
}

int mg_usbdev_read(int sysfd, const char *devpath, struct mg_usbdev *out)
{
	int r;

	r = read_device(sysfd, devpath, out);
	if (r == 0)
		r = read_parent_hash(sysfd, out);
	return r;
}

static void hash_u16(crypto_generichash_state *st, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	crypto_generichash_update(st, b, sizeof(b));
}

static void hash_string(crypto_generichash_state *st, const char *s)
{
	size_t len = strlen(s);
	uint8_t b[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};

	crypto_generichash_update(st, b, sizeof(b));
	crypto_generichash_update(st, (const uint8_t *)s, len);
}

void mg_usbdev_hash(const struct mg_usbdev *dev, uint8_t hash[MG_USB_HASH_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, MG_USB_HASH_BYTES);
	hash_string(&st, MG_USB_HASH_DOMAIN);
	hash_u16(&st, dev->vendor);
	hash_u16(&st, dev->product);
	hash_u16(&st, dev->bcd_device);
	hash_string(&st, dev->manufacturer);
	hash_string(&st, dev->product_name);
	hash_string(&st, dev->serial);
	hash_u16(&st, (uint16_t)dev->n_interfaces);
	for (size_t k = 0; k < dev->n_interfaces; k++) {
		const struct mg_usb_interface *i = &dev->interfaces[k];
		uint8_t b[6] = {i->number, i->alt, i->cls.cls, i->cls.sub, i->cls.proto, i->endpoints};

		crypto_generichash_update(&st, b, sizeof(b));
	}
	crypto_generichash_final(&st, hash, MG_USB_HASH_BYTES);
}

void mg_usb_hash_hex(const uint8_t hash[MG_USB_HASH_BYTES], char hex[MG_USB_HASH_HEX])
{
	sodium_bin2hex(hex, MG_USB_HASH_HEX, hash, MG_USB_HASH_BYTES);
}

int mg_usb_hash_parse(const char *hex, uint8_t hash[MG_USB_HASH_BYTES])
{
	size_t len = 0;

	if (strlen(hex) != 2 * MG_USB_HASH_BYTES ||
	    sodium_hex2bin(hash, MG_USB_HASH_BYTES, hex, strlen(hex), NULL, &len, NULL) < 0 ||
	    len != MG_USB_HASH_BYTES)
		return mg_fail(EINVAL, "\"%s\": expected %d hex digits", hex, 2 * MG_USB_HASH_BYTES);
	return 0;
}

/* Copies s with control characters replaced: device strings come from the
 * device, and must not be able to start a new log line. */
static void append_clean(char *buf, size_t size, size_t *pos, const char *s)
{
	for (; *s && *pos + 1 < size; s++)
		buf[(*pos)++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
	buf[*pos] = '\0';
}

void mg_usbdev_describe(const struct mg_usbdev *dev, char *buf, size_t size)
{
	size_t pos;

	if (size == 0)
		return;
	pos = (size_t)snprintf(buf, size, "%s %04x:%04x", dev->name, dev->vendor, dev->product);
	if (pos >= size)
		return;
	if (dev->manufacturer[0]) {
		append_clean(buf, size, &pos, " ");
		append_clean(buf, size, &pos, dev->manufacturer);
	}
	if (dev->product_name[0]) {
		append_clean(buf, size, &pos, " ");
		append_clean(buf, size, &pos, dev->product_name);
	}
	if (dev->serial[0]) {
		append_clean(buf, size, &pos, " serial=");
		append_clean(buf, size, &pos, dev->serial);
	}
}

static const char *const connect_names[] = {
	[MG_USB_CONNECT_UNKNOWN] = "unknown",
	[MG_USB_CONNECT_HOTPLUG] = "hotplug",
	[MG_USB_CONNECT_HARDWIRED] = "hardwired",
};

int mg_usb_connect_parse(const char *s, enum mg_usb_connect *out)
{
	for (size_t k = MG_USB_CONNECT_HOTPLUG; k < MG_ARRAY_SIZE(connect_names); k++)
		if (strcmp(s, connect_names[k]) == 0) {
			*out = (enum mg_usb_connect)k;
			return 0;
		}
	return mg_fail(EINVAL, "\"%s\": expected hotplug or hardwired", s);
}

const char *mg_usb_connect_name(enum mg_usb_connect c)
{
	return (size_t)c < MG_ARRAY_SIZE(connect_names) ? connect_names[c] : "unknown";
}
