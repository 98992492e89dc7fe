#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/util.h"

char *mg_path_join(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

int mg_dir_open(const char *path)
{
	_cleanup_free_ char *copy = strdup(path);
	int fd;

	if (!copy)
		return mg_fail(ENOMEM, "%s: out of memory", path);
	/* O_NOFOLLOW does not apply to "link/": the slash resolves it. */
	for (size_t n = strlen(copy); n > 1 && copy[n - 1] == '/'; n--)
		copy[n - 1] = '\0';
	fd = open(copy, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return mg_fail_errno(errno, "%s", path);
	return fd;
}

/* mkdir, and when it made something, an fsync of the parent: a
 * directory whose name a crash can take back would take the files
 * written into it along. */
static int make_dir(char *path, mode_t mode)
{
	char *slash;
	int parent;

	if (mkdir(path, mode) < 0)
		return errno == EEXIST ? 0 : -errno;
	slash = strrchr(path, '/');
	if (slash == path)
		parent = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else if (slash) {
		*slash = '\0';
		parent = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		*slash = '/';
	} else
		parent = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parent < 0)
		return -errno;
	if (fsync(parent) < 0) {
		int err = -errno;
		close(parent);
		return err;
	}
	close(parent);
	return 0;
}

int mg_dir_ensure(const char *path, mode_t mode)
{
	_cleanup_free_ char *copy = strdup(path);
	struct stat st;
	int r;

	if (!copy)
		return mg_fail(ENOMEM, "%s: out of memory", path);
	/* "dir/" would make lstat follow a link named dir. */
	for (size_t n = strlen(copy); n > 1 && copy[n - 1] == '/'; n--)
		copy[n - 1] = '\0';
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		r = make_dir(copy, mode);
		if (r < 0)
			return mg_fail_errno(r, "%s", copy);
		*p = '/';
	}
	r = make_dir(copy, mode);
	if (r < 0)
		return mg_fail_errno(r, "%s", path);
	if (lstat(copy, &st) < 0)
		return mg_fail_errno(errno, "%s", path);
	if (!S_ISDIR(st.st_mode))
		return mg_fail(ENOTDIR, "%s: not a directory (a link is not accepted)", path);
	return 0;
}

static int temp_create(int dirfd, const char *dir, const char *name, mode_t mode,
                       char *tmp, size_t tmpsize)
{
	for (int tries = 0; tries < 16; tries++) {
		uint8_t rnd[4];
		char hex[9];
		int fd;

		randombytes_buf(rnd, sizeof(rnd));
		sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
		snprintf(tmp, tmpsize, ".%s%s%s", name, MG_TEMP_MARK, hex);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return mg_fail_errno(errno, "%s/%s", dir, tmp);
	}
	return mg_fail(EEXIST, "%s: cannot create a temp file for %s", dir, name);
}

static int write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int replace_at(int dirfd, const char *dir, const char *name, const void *data,
                      size_t len, mode_t mode, bool sync_dir)
{
	char tmp[512];
	_cleanup_close_ int fd = -1;
	int r;

	if (!*name || strchr(name, '/') || strlen(name) > 200 || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return mg_fail(EINVAL, "%s/%s: not a plain file name", dir, name);
	fd = temp_create(dirfd, dir, name, mode, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	/* The mode given to openat is filtered by the umask; state files must
	 * end up exactly as asked. */
	if (fchmod(fd, mode) < 0) {
		r = mg_fail_errno(errno, "%s/%s: fchmod", dir, tmp);
		goto discard;
	}
	r = write_all(fd, data, len);
	if (r < 0) {
		r = mg_fail_errno(r, "%s/%s: write", dir, tmp);
		goto discard;
	}
	if (fsync(fd) < 0) {
		r = mg_fail_errno(errno, "%s/%s: fsync", dir, tmp);
		goto discard;
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		r = mg_fail_errno(errno, "%s/%s: rename", dir, name);
		goto discard;
	}
	if (sync_dir && fsync(dirfd) < 0)
		return mg_fail_errno(errno, "%s: fsync of the directory", dir);
	return 0;

discard:
	unlinkat(dirfd, tmp, 0);
	return r;
}

int mg_file_replace_at(int dirfd, const char *dir, const char *name,
                       const void *data, size_t len, mode_t mode)
{
	return replace_at(dirfd, dir, name, data, len, mode, true);
}

int mg_file_replace_at_unsynced_dir(int dirfd, const char *dir, const char *name,
                                    const void *data, size_t len, mode_t mode)
{
	return replace_at(dirfd, dir, name, data, len, mode, false);
}

static int split_path(const char *path, char **dir, const char **name)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		*dir = strdup(".");
		*name = path;
	} else {
		*dir = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
		*name = slash + 1;
	}
	if (!*dir)
		return mg_fail(ENOMEM, "%s: out of memory", path);
	if (!**name)
		return mg_fail(EINVAL, "%s: no file name", path);
	return 0;
}

int mg_file_replace(const char *path, const void *data, size_t len, mode_t mode)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int dirfd = -1;
	const char *name;
	int r;

	r = split_path(path, &dir, &name);
	if (r < 0)
		return r;
	/* Follows links above the last component: those belong to root. */
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return mg_fail_errno(errno, "%s", dir);
	return mg_file_replace_at(dirfd, dir, name, data, len, mode);
}

int mg_file_read_at(int dirfd, const char *dir, const char *name, size_t max,
                    uint8_t **data, size_t *len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ uint8_t *buf = NULL;
	struct stat st;
	size_t have = 0;

	/* O_NONBLOCK: a fifo planted at name must not hang the reader; it is
	 * refused below as not a regular file. */
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return mg_fail_errno(errno, "%s/%s", dir, name);
	if (fstat(fd, &st) < 0)
		return mg_fail_errno(errno, "%s/%s", dir, name);
	if (!S_ISREG(st.st_mode))
		return mg_fail(EINVAL, "%s/%s: not a regular file", dir, name);
	if ((uint64_t)st.st_size > max)
		return mg_fail(EFBIG, "%s/%s: larger than %zu bytes", dir, name, max);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return mg_fail(ENOMEM, "%s/%s: out of memory", dir, name);
	/* Read to EOF but never past the cap, in case the file grows. */
	for (;;) {
		size_t room = (size_t)st.st_size - have;
		ssize_t n;

		if (room == 0) {
			uint8_t extra;
			n = read(fd, &extra, 1);
			if (n > 0)
				return mg_fail(EFBIG, "%s/%s: changed while read", dir, name);
			break;
		}
		n = read(fd, buf + have, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mg_fail_errno(errno, "%s/%s", dir, name);
		if (n == 0)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
	*data = MG_TAKE(buf);
	*len = have;
	return 0;
}

int mg_file_read(const char *path, size_t max, uint8_t **data, size_t *len)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int dirfd = -1;
	const char *name;
	int r;

	r = split_path(path, &dir, &name);
	if (r < 0)
		return r;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return mg_fail_errno(errno, "%s", dir);
	return mg_file_read_at(dirfd, dir, name, max, data, len);
}

int mg_file_lock_at(int dirfd, const char *dir, const char *name, bool exclusive,
                    int timeout_ms)
{
	_cleanup_close_ int fd = -1;
	int waited = 0, step = 1;
	struct stat st;

	fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
	            0600);
	if (fd < 0)
		return mg_fail_errno(errno, "%s/%s", dir, name);
	if (fstat(fd, &st) < 0)
		return mg_fail_errno(errno, "%s/%s", dir, name);
	if (!S_ISREG(st.st_mode))
		return mg_fail(EINVAL, "%s/%s: not a regular file", dir, name);
	for (;;) {
		if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0)
			return MG_TAKE_FD(fd);
		if (errno != EWOULDBLOCK && errno != EINTR)
			return mg_fail_errno(errno, "%s/%s: flock", dir, name);
		if (waited >= timeout_ms)
			return mg_fail(ETIMEDOUT, "%s/%s: still locked after %d ms", dir, name, timeout_ms);
		poll(NULL, 0, step);
		waited += step;
		if (step < 8)
			step *= 2;
	}
}

/* ".NAME.tmp-" followed by exactly 8 hex digits, as temp_create makes. */
static bool is_temp_name(const char *name)
{
	const char *mark = strstr(name, MG_TEMP_MARK);
	const char *hex = mark ? mark + strlen(MG_TEMP_MARK) : NULL;

	if (name[0] != '.' || !mark || mark == name + 1 || strlen(hex) != 8)
		return false;
	for (; *hex; hex++)
		if (!((*hex >= '0' && *hex <= '9') || (*hex >= 'a' && *hex <= 'f')))
			return false;
	return true;
}

int mg_file_sweep_temps(int dirfd)
{
	int dup_fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), removed = 0;
	DIR *d;
	struct dirent *e;

	if (dup_fd < 0)
		return mg_fail_errno(errno, "sweeping temp files: open the directory");
	d = fdopendir(dup_fd);
	if (!d) {
		close(dup_fd);
		return mg_fail_errno(errno, "sweeping temp files: read the directory");
	}
	while ((e = readdir(d))) {
		if (is_temp_name(e->d_name) && unlinkat(dirfd, e->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}
