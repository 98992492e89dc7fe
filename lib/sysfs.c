#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "mynaguard/error.h"
#include "mynaguard/sysfs.h"
#include "mynaguard/util.h"

int mg_sysfs_read(int sysfd, const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = -1;
	ssize_t n;

	fd = openat(sysfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return mg_fail_errno(errno, "%s", path);
	n = read(fd, buf, size - 1);
	if (n < 0)
		return mg_fail_errno(errno, "%s", path);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int mg_sysfs_write(int sysfd, const char *path, const char *value)
{
	_cleanup_close_ int fd = -1;
	size_t len = strlen(value);
	ssize_t n;

	/* O_TRUNC is ignored by sysfs and makes a testbed's plain file hold
	 * exactly what was written. */
	fd = openat(sysfd, path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return mg_fail_errno(errno, "%s", path);
	n = write(fd, value, len);
	if (n < 0)
		return mg_fail_errno(errno, "%s: writing \"%s\"", path, value);
	if ((size_t)n != len)
		return mg_fail(EIO, "%s: short write", path);
	return 0;
}

bool mg_sysfs_exists(int sysfd, const char *path)
{
	return faccessat(sysfd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}
