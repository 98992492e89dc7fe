/* The device zoo (tests/data/zoo) in an in-process umockdev testbed, for
 * the unit tests of usbdev, rules and enforce.  Nothing is preloaded: the
 * modules read and write the testbed's sysfs through a root fd, as they
 * read /sys on a terminal. */
#ifndef MG_TEST_ZOO_H
#define MG_TEST_ZOO_H

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <umockdev.h>

#include "mynaguard/error.h"
#include "mynaguard/usbdev.h"

#define ZOO_BUS "devices/pci0000:00/0000:00:14.0/usb1/"

struct zoo {
	UMockdevTestbed *tb;
	char *sys;     /* the testbed's sysfs root */
	int sysfd;     /* open on sys */
};

/* Loads roothub.umockdev and then each named file (without ".umockdev"). */
static inline void zoo_load(struct zoo *z, const char *const names[])
{
	GError *err = NULL;
	char path[PATH_MAX];

	z->tb = umockdev_testbed_new();
	snprintf(path, sizeof(path), "%s/zoo/roothub.umockdev", MG_TEST_DATA);
	cr_assert(umockdev_testbed_add_from_file(z->tb, path, &err), "%s", err ? err->message : "");
	for (size_t k = 0; names[k]; k++) {
		snprintf(path, sizeof(path), "%s/zoo/%s.umockdev", MG_TEST_DATA, names[k]);
		cr_assert(umockdev_testbed_add_from_file(z->tb, path, &err), "%s: %s", names[k],
		          err ? err->message : "");
	}
	z->sys = umockdev_testbed_get_sys_dir(z->tb);
	z->sysfd = open(z->sys, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert(z->sysfd >= 0);
}

static inline void zoo_free(struct zoo *z)
{
	close(z->sysfd);
	g_free(z->sys);
	g_object_unref(z->tb);
}

/* Reads the device at ZOO_BUS NAME ("1-1", "1-10/1-10.1"). */
static inline void zoo_read(struct zoo *z, const char *name, struct mg_usbdev *dev)
{
	char devpath[MG_USB_PATH_MAX];
	int r;

	snprintf(devpath, sizeof(devpath), ZOO_BUS "%s", name);
	r = mg_usbdev_read(z->sysfd, devpath, dev);
	cr_assert_eq(r, 0, "%s: %s", name, mg_error());
}

/* The content of a sysfs file of the testbed, without its newline. */
static inline const char *zoo_attr(struct zoo *z, const char *path)
{
	static char buf[256];
	FILE *f;
	size_t n;

	snprintf(buf, sizeof(buf), "%s/%s", z->sys, path);
	f = fopen(buf, "r");
	cr_assert(f, "%s", buf);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

#endif
