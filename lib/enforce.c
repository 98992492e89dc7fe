/* Enforcement through sysfs and the block layer. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mynaguard/enforce.h"
#include "mynaguard/error.h"
#include "mynaguard/sysfs.h"
#include "mynaguard/util.h"

#define SYS_PATH_MAX 1024

/* ---- USB ----------------------------------------------------------------- */

int mg_enforce_root_hubs(int sysfd, enum mg_hub_default dev_default, bool iface_default)
{
	char path[SYS_PATH_MAX], value[4];
	struct dirent *de;
	int fd, r = 0, hubs = 0;
	DIR *d;

	fd = openat(sysfd, "bus/usb/devices", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return mg_fail_errno(errno, "bus/usb/devices");
	}
	while ((de = readdir(d))) {
		int w;

		if (strncmp(de->d_name, "usb", 3) != 0)
			continue;
		hubs++;
		snprintf(value, sizeof(value), "%d", (int)dev_default);
		snprintf(path, sizeof(path), "bus/usb/devices/%s/authorized_default", de->d_name);
		w = mg_sysfs_write(sysfd, path, value);
		if (w == 0) {
			snprintf(path, sizeof(path), "bus/usb/devices/%s/interface_authorized_default", de->d_name);
			w = mg_sysfs_write(sysfd, path, iface_default ? "1" : "0");
		}
		/* Every hub is tried even when one fails: a half-closed system is
		 * better than one left open. */
		if (w < 0 && r == 0)
			r = w;
	}
	closedir(d);
	return r < 0 ? mg_error_prefix(r, "root hubs") : hubs;
}

/* BLOCK/HOLD < READ_ONLY < ALLOW. */
static int permissiveness(enum mg_target t)
{
	return t == MG_TARGET_ALLOW ? 2 : t == MG_TARGET_READ_ONLY ? 1 : 0;
}

/* The strictest target among the descriptors of interface number in
 * configuration config; an interface without one is blocked. */
static enum mg_target target_of(const struct mg_usbdev *dev, const struct mg_decision *d, unsigned config,
                                unsigned number)
{
	enum mg_target t = MG_TARGET_ALLOW;
	bool found = false;

	for (size_t k = 0; k < dev->n_interfaces && k < MG_USB_MAX_INTERFACES; k++) {
		if (dev->interfaces[k].config != config || dev->interfaces[k].number != number)
			continue;
		found = true;
		if (permissiveness(d->ifaces[k]) < permissiveness(t))
			t = d->ifaces[k];
	}
	return found ? t : MG_TARGET_BLOCK;
}

/* The passes over a device's interfaces, in this order. */
enum pass {
	PASS_BLOCK,     /* authorized=0 on the blocked ones */
	PASS_ALLOW,     /* authorized=1 on the allowed ones */
	PASS_PROBE,     /* bind drivers to allowed ones that have none */
};

/* The kernel does not probe drivers for an interface authorized after the
 * fact (Documentation/usb/authorization.rst): the interface is named to
 * the bus's drivers_probe, once all of them are authorized, so that a
 * driver needing several interfaces finds them all.  A testbed without
 * drivers_probe has no drivers to bind. */
static int probe_interface(int sysfd, const char *devpath, const char *iface)
{
	char path[SYS_PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s/driver", devpath, iface);
	if (mg_sysfs_exists(sysfd, path) || !mg_sysfs_exists(sysfd, "bus/usb/drivers_probe"))
		return 0;
	return mg_sysfs_write(sysfd, "bus/usb/drivers_probe", iface);
}

/* Makes one pass over the device's interface directories. */
static int authorize_interfaces(int sysfd, const struct mg_usbdev *dev, const struct mg_decision *d,
                                enum pass pass)
{
	char path[SYS_PATH_MAX];
	struct dirent *de;
	size_t nlen = strlen(dev->name);
	int fd, r = 0;
	DIR *dir;

	fd = openat(sysfd, dev->devpath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return mg_fail_errno(errno, "%s", dev->devpath);
	}
	while ((de = readdir(dir))) {
		unsigned config, number;
		bool allowed;
		int w;

		if (strncmp(de->d_name, dev->name, nlen) != 0 || de->d_name[nlen] != ':' ||
		    sscanf(de->d_name + nlen + 1, "%u.%u", &config, &number) != 2)
			continue;
		allowed = permissiveness(target_of(dev, d, config, number)) > 0;
		if (allowed != (pass != PASS_BLOCK))
			continue;
		snprintf(path, sizeof(path), "%s/%s/authorized", dev->devpath, de->d_name);
		if (pass == PASS_PROBE)
			w = probe_interface(sysfd, dev->devpath, de->d_name);
		else
			w = mg_sysfs_write(sysfd, path, allowed ? "1" : "0");
		if (w < 0 && r == 0)
			r = w;
	}
	closedir(dir);
	return r;
}

int mg_enforce_usb(int sysfd, const struct mg_usbdev *dev, const struct mg_decision *d)
{
	char path[SYS_PATH_MAX];
	int r;

	snprintf(path, sizeof(path), "%s/authorized", dev->devpath);
	if (permissiveness(d->target) == 0)
		return mg_sysfs_write(sysfd, path, "0");
	r = mg_sysfs_write(sysfd, path, "1");
	/* Blocked interfaces first, so nothing forbidden is ever bound while
	 * the allowed ones come up. */
	if (r == 0) r = authorize_interfaces(sysfd, dev, d, PASS_BLOCK);
	if (r == 0) r = authorize_interfaces(sysfd, dev, d, PASS_ALLOW);
	if (r == 0) r = authorize_interfaces(sysfd, dev, d, PASS_PROBE);
	return r;
}

/* ---- block devices -------------------------------------------------------- */

/* The device path of class/block/NAME below the sysfs root, from its link
 * ("../../devices/pci0000:00/.../block/sdb"). */
static int block_devpath(int sysfd, const char *name, char *out, size_t size)
{
	char link[SYS_PATH_MAX], target[SYS_PATH_MAX];
	const char *p;
	ssize_t n;

	snprintf(link, sizeof(link), "class/block/%s", name);
	n = readlinkat(sysfd, link, target, sizeof(target) - 1);
	if (n < 0)
		return mg_fail_errno(errno, "%s", link);
	target[n] = '\0';
	p = strstr(target, "devices/");
	if (!p || strstr(p, "/../") || !strstr(p, "/block/"))
		return mg_fail(EINVAL, "%s: unexpected link %s", link, target);
	snprintf(out, size, "%s", p);
	return 0;
}

static bool is_partition(int sysfd, const char *name)
{
	char path[SYS_PATH_MAX];

	snprintf(path, sizeof(path), "class/block/%s/partition", name);
	return mg_sysfs_exists(sysfd, path);
}

static bool attr_is(int sysfd, const char *path, const char *want)
{
	char v[32];

	return mg_sysfs_read(sysfd, path, v, sizeof(v)) == 0 && strcmp(v, want) == 0;
}

int mg_block_classify(int sysfd, const char *name, struct mg_block_info *out)
{
	char devpath[SYS_PATH_MAX], path[SYS_PATH_MAX + 64];
	int r;

	memset(out, 0, sizeof(*out));
	if (strchr(name, '/') || name[0] == '.')
		return mg_fail(EINVAL, "%s: not a block device name", name);
	r = block_devpath(sysfd, name, devpath, sizeof(devpath));
	if (r < 0)
		return r;
	if (is_partition(sysfd, name))
		return mg_fail(ENOMEDIUM, "%s: a partition, governed with its disk", name);
	out->usb = strstr(devpath, "/usb") != NULL;
	snprintf(path, sizeof(path), "class/block/%s/removable", name);
	out->removable = attr_is(sysfd, path, "1");
	snprintf(path, sizeof(path), "class/block/%s/ro", name);
	out->read_only = attr_is(sysfd, path, "1");
	/* The parent of ".../block/NAME" is the SCSI device (type 5: optical)
	 * or the MMC card (type SD, or MMC for soldered eMMC). */
	*strstr(devpath, "/block/") = '\0';
	snprintf(path, sizeof(path), "%s/type", devpath);
	if (strncmp(name, "sr", 2) == 0 || attr_is(sysfd, path, "5"))
		out->kind = MG_MEDIA_OPTICAL;
	else if (strncmp(name, "mmcblk", 6) == 0 && attr_is(sysfd, path, "SD"))
		out->kind = MG_MEDIA_SD;
	else if (out->removable || out->usb)
		out->kind = MG_MEDIA_REMOVABLE;
	else
		return mg_fail(ENOMEDIUM, "%s: a fixed disk, not governed by the media policy", name);
	mg_error_clear();
	return 0;
}

/* Sets the node's mode to (mode & ~clear) | set. */
static int node_mode(int fd, const char *name, mode_t clear, mode_t set)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || fchmod(fd, (st.st_mode & 07777 & ~clear) | set) < 0)
		return mg_fail_errno(errno, "/dev/%s: chmod", name);
	return 0;
}

static int node_writable(int fd, const char *name)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return mg_fail_errno(errno, "/dev/%s", name);
	return node_mode(fd, name, 0, (st.st_mode & 0440) >> 1);
}

/* BLKROSET, and no write permission on the node: a read-only block device
 * still takes SG_IO write commands (burning a disc) from whoever could open
 * it for writing, and the cdrom group can. */
static int set_ro(int devfd, const char *name)
{
	_cleanup_close_ int fd = -1;
	int one = 1;

	fd = openat(devfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return mg_fail_errno(errno, "/dev/%s", name);
	if (ioctl(fd, BLKROSET, &one) < 0)
		return mg_fail_errno(errno, "/dev/%s: BLKROSET", name);
	return node_mode(fd, name, 0222, 0);
}

/* The SCSI generic nodes of a disk's SCSI device are raw pass-through:
 * only root keeps them. */
static int restrict_sg(int sysfd, int devfd, const char *name)
{
	char devpath[SYS_PATH_MAX], path[SYS_PATH_MAX + 32];
	struct dirent *de;
	int fd, r;
	DIR *d;

	r = block_devpath(sysfd, name, devpath, sizeof(devpath));
	if (r < 0)
		return r;
	*strstr(devpath, "/block/") = '\0';
	snprintf(path, sizeof(path), "%s/scsi_generic", devpath);
	fd = openat(sysfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return mg_fail_errno(errno, "%s", path);
	}
	while ((de = readdir(d)) && r == 0) {
		_cleanup_close_ int node = -1;

		if (strncmp(de->d_name, "sg", 2) != 0)
			continue;
		node = openat(devfd, de->d_name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
		r = node < 0 ? mg_fail_errno(errno, "/dev/%s", de->d_name) : node_mode(node, de->d_name, 0077, 0);
	}
	closedir(d);
	return r;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* Remounts read-only every read-write mount of the device numbered dev
 * ("8:17").  BLKROSET does not touch a superblock already mounted
 * read-write, so without this an open mount would keep writing. */
static int remount_ro(const char *dev)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	int r = 0;

	if (!f)
		return mg_fail_errno(errno, "/proc/self/mountinfo");
	while (getline(&line, &cap, f) > 0) {
		char majmin[32], point[4096], opts[256];

		if (sscanf(line, "%*s %*s %31s %*s %4095s %255s", majmin, point, opts) != 3 ||
		    strcmp(majmin, dev) != 0 || strncmp(opts, "rw", 2) != 0 || (opts[2] && opts[2] != ','))
			continue;
		unescape(point);
		if (mount(NULL, point, NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0 && r == 0)
			r = mg_fail_errno(errno, "%s: remounting read-only", point);
	}
	return r;
}

static int readonly_one(int sysfd, int devfd, const char *name)
{
	char path[SYS_PATH_MAX], dev[32];
	int r;

	r = set_ro(devfd, name);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "class/block/%s/dev", name);
	if (mg_sysfs_read(sysfd, path, dev, sizeof(dev)) == 0)
		r = remount_ro(dev);
	return r;
}

/* Applies one() to the disk name and to each of its partitions. */
static int each_part(int sysfd, int devfd, const char *name,
                     int (*one)(int sysfd, int devfd, const char *name))
{
	char path[SYS_PATH_MAX];
	struct dirent *de;
	int fd, r;
	DIR *d;

	r = one(sysfd, devfd, name);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "class/block/%s", name);
	fd = openat(sysfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return mg_fail_errno(errno, "%s", path);
	}
	while ((de = readdir(d)) && r == 0)
		if (strncmp(de->d_name, name, strlen(name)) == 0 && is_partition(sysfd, de->d_name))
			r = one(sysfd, devfd, de->d_name);
	closedir(d);
	return r;
}

int mg_enforce_block_readonly(int sysfd, int devfd, const char *name)
{
	char path[SYS_PATH_MAX];
	int r;

	/* Linux 5.12+ carries a whole disk's read-only flag to its partitions;
	 * setting each one too covers older kernels and partitions opened by
	 * their own device node. */
	r = each_part(sysfd, devfd, name, readonly_one);
	if (r == 0) r = restrict_sg(sysfd, devfd, name);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "class/block/%s/ro", name);
	if (!attr_is(sysfd, path, "1"))
		return mg_fail(EIO, "%s: still not read-only after BLKROSET", path);
	return 0;
}

int mg_enforce_block_remove(int sysfd, const char *name)
{
	char devpath[SYS_PATH_MAX], path[SYS_PATH_MAX + 32];
	const char *card;
	char *blk;
	int r;

	r = block_devpath(sysfd, name, devpath, sizeof(devpath));
	if (r < 0)
		return r;
	blk = strstr(devpath, "/block/");
	*blk = '\0';
	/* A SCSI disk or optical drive: deleting the SCSI device takes its
	 * block device and its sg node with it until the next rescan. */
	snprintf(path, sizeof(path), "%s/delete", devpath);
	if (mg_sysfs_exists(sysfd, path))
		return mg_sysfs_write(sysfd, path, "1");
	/* An MMC/SD card: unbind it from the block driver. */
	card = strrchr(devpath, '/');
	if (card && strncmp(card + 1, "mmc", 3) == 0)
		return mg_sysfs_write(sysfd, "bus/mmc/drivers/mmcblk/unbind", card + 1);
	return mg_fail(EOPNOTSUPP, "%s: no way to remove it (neither SCSI nor MMC)", name);
}

/* Clears the read-only flag the udev rules put on every USB disk, on the
 * disk and its partitions; nothing to do when sysfs `ro` already reads 0. */
static int set_rw(int sysfd, int devfd, const char *name)
{
	_cleanup_close_ int fd = -1;
	char path[SYS_PATH_MAX];
	int zero = 0;

	snprintf(path, sizeof(path), "class/block/%s/ro", name);
	if (attr_is(sysfd, path, "0"))
		return 0;
	fd = openat(devfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return mg_fail_errno(errno, "/dev/%s", name);
	if (ioctl(fd, BLKROSET, &zero) < 0)
		return mg_fail_errno(errno, "/dev/%s: BLKROSET", name);
	/* Write back for owner and group wherever they may read. */
	return node_writable(fd, name);
}

int mg_enforce_block_writable(int sysfd, int devfd, const char *name)
{
	return each_part(sysfd, devfd, name, set_rw);
}

/* A disk that could not be made read-only (a busy read-write mount, say)
 * must not stay writable: it goes, and the first failure is reported. */
static int remove_instead(int sysfd, const char *name, int err)
{
	char why[512];

	snprintf(why, sizeof(why), "%s", mg_error());
	if (mg_enforce_block_remove(sysfd, name) == 0)
		return mg_fail(err, "%s: removed instead: %s", name, why);
	return mg_fail(err, "%s (and it could not be removed)", why);
}

int mg_enforce_block(int sysfd, int devfd, const char *name, enum mg_target t)
{
	int r;

	switch (t) {
	case MG_TARGET_ALLOW:
		return mg_enforce_block_writable(sysfd, devfd, name);
	case MG_TARGET_READ_ONLY:
		r = mg_enforce_block_readonly(sysfd, devfd, name);
		return r < 0 ? remove_instead(sysfd, name, r) : 0;
	default:
		return mg_enforce_block_remove(sysfd, name);
	}
}
