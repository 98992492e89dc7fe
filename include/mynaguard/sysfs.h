/* Attributes below a sysfs root.
 *
 * Every path is relative to sysfd, an fd of /sys (or of a umockdev
 * testbed's sys/), so the device code runs the same on a test bed.  The last
 * component is opened O_NOFOLLOW: an attribute is a file, never a link. */
#ifndef MYNAGUARD_SYSFS_H
#define MYNAGUARD_SYSFS_H

#include <stdbool.h>
#include <stddef.h>

/* Reads a one-line attribute into buf (size bytes, NUL-terminated) without
 * its trailing newline and spaces.  The message names the path. */
int mg_sysfs_read(int sysfd, const char *path, char *buf, size_t size);

/* Writes value to an attribute in one write(2), as sysfs requires. */
int mg_sysfs_write(int sysfd, const char *path, const char *value);

bool mg_sysfs_exists(int sysfd, const char *path);

#endif
