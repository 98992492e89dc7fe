#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "mynaguard/bundle.h"
#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/json.h"
#include "mynaguard/repo.h"
#include "mynaguard/util.h"

#define HASH_HEX (2 * MG_REPO_HASH_BYTES)
#define NAME_HASH_HEX 16                      /* hex digits of the hash in a file name */
#define BUNDLES "bundles"
#define PUBLISH_LOCK ".publish.lock"          /* in DIR/GROUP; never served */
#define PUBLISH_LOCK_TIMEOUT_MS 30000

static void bundle_path(char out[MG_REPO_PATH_MAX], uint64_t version,
                        const uint8_t hash[MG_REPO_HASH_BYTES])
{
	char hex[HASH_HEX + 1];

	sodium_bin2hex(hex, sizeof(hex), hash, MG_REPO_HASH_BYTES);
	snprintf(out, MG_REPO_PATH_MAX, BUNDLES "/%llu-%.*s.bundle", (unsigned long long)version,
	         NAME_HASH_HEX, hex);
}

void mg_pointer_for(struct mg_pointer *p, uint64_t version, const void *bundle, size_t len)
{
	memset(p, 0, sizeof(*p));
	p->version = version;
	p->size = len;
	crypto_generichash(p->blake2b, sizeof(p->blake2b), bundle, len, NULL, 0);
	bundle_path(p->path, version, p->blake2b);
}

/* Lower-case hex of exactly the hash's length, nothing else. */
static int parse_hash(const char *hex, const char *where, uint8_t out[MG_REPO_HASH_BYTES])
{
	size_t n = 0;

	if (strlen(hex) != HASH_HEX || strspn(hex, "0123456789abcdef") != HASH_HEX ||
	    sodium_hex2bin(out, MG_REPO_HASH_BYTES, hex, HASH_HEX, NULL, &n, NULL) != 0 ||
	    n != MG_REPO_HASH_BYTES)
		return mg_fail(EBADMSG, "%s.blake2b: expected %d lower-case hex digits", where,
		               HASH_HEX);
	return 0;
}

int mg_pointer_parse(const void *buf, size_t len, const char *origin, struct mg_pointer *out)
{
	static const char *const keys[] = {"format", "version", "path", "size", "blake2b", NULL};
	_cleanup_json_ json_t *root = NULL;
	char where[MG_WHERE_MAX], expect[MG_REPO_PATH_MAX];
	const char *path = NULL, *hash = NULL;
	uint64_t format = 0;
	struct mg_pointer p = {0};
	int r;

	if (len > MG_POINTER_MAX)
		return mg_fail(EFBIG, "%s: larger than %d bytes", origin, MG_POINTER_MAX);
	r = mg_json_parse(buf, len, origin, &root);
	if (r < 0)
		return r;
	snprintf(where, sizeof(where), "%s: $", origin);
	r = mg_json_only_keys(root, where, keys);
	if (r == 0) r = mg_json_get_uint(root, "format", where, true, MG_POINTER_FORMAT, MG_POINTER_FORMAT, &format);
	if (r == 0) r = mg_json_get_uint(root, "version", where, true, 1, INT64_MAX, &p.version);
	if (r == 0) r = mg_json_get_string(root, "path", where, true, &path);
	if (r == 0) r = mg_json_get_uint(root, "size", where, true, 1, INT64_MAX, &p.size);
	if (r == 0) r = mg_json_get_string(root, "blake2b", where, true, &hash);
	if (r == 0) r = parse_hash(hash, where, p.blake2b);
	if (r < 0)
		return r;
	/* The path is fully determined by version and hash; anything else
	 * (another directory, "..", a different name) is refused. */
	bundle_path(expect, p.version, p.blake2b);
	if (strcmp(path, expect) != 0)
		return mg_fail(EBADMSG, "%s.path: expected \"%s\"", where, expect);
	snprintf(p.path, sizeof(p.path), "%s", expect);
	*out = p;
	return 0;
}

int mg_pointer_format(const struct mg_pointer *p, char **out, size_t *len)
{
	char hex[HASH_HEX + 1];
	int n;

	sodium_bin2hex(hex, sizeof(hex), p->blake2b, sizeof(p->blake2b));
	n = asprintf(out, "{\"format\":%d,\"version\":%llu,\"path\":\"%s\",\"size\":%llu,"
	             "\"blake2b\":\"%s\"}\n", MG_POINTER_FORMAT, (unsigned long long)p->version,
	             p->path, (unsigned long long)p->size, hex);
	if (n < 0)
		return mg_fail(ENOMEM, "pointer: out of memory");
	*len = (size_t)n;
	return 0;
}

int mg_pointer_check(const struct mg_pointer *p, const void *buf, size_t len, const char *origin)
{
	uint8_t hash[MG_REPO_HASH_BYTES];

	if (len < p->size)
		return mg_fail(EBADMSG, "%s: truncated: %zu of the %llu bytes the pointer names",
		               origin, len, (unsigned long long)p->size);
	if (len > p->size)
		return mg_fail(EBADMSG, "%s: %zu bytes, longer than the %llu the pointer names",
		               origin, len, (unsigned long long)p->size);
	crypto_generichash(hash, sizeof(hash), buf, len, NULL, 0);
	if (sodium_memcmp(hash, p->blake2b, sizeof(hash)) != 0)
		return mg_fail(EBADMSG, "%s: BLAKE2b differs from the pointer's (file replaced?)",
		               origin);
	return 0;
}

/* A bundle file is immutable: if it exists it must hold these very bytes. */
static int write_bundle(int groupfd, const char *gdir, const struct mg_pointer *p,
                        const void *bundle, size_t len)
{
	_cleanup_free_ char *bdir = mg_path_join(gdir, BUNDLES);
	_cleanup_free_ uint8_t *old = NULL;
	_cleanup_close_ int bfd = -1;
	const char *name = p->path + strlen(BUNDLES "/");
	size_t old_len = 0;
	int r;

	if (!bdir)
		return mg_fail(ENOMEM, "%s: out of memory", gdir);
	if (mkdirat(groupfd, BUNDLES, 0755) < 0 && errno != EEXIST)
		return mg_fail_errno(errno, "%s", bdir);
	bfd = openat(groupfd, BUNDLES, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (bfd < 0)
		return mg_fail_errno(errno, "%s", bdir);
	r = mg_file_read_at(bfd, bdir, name, len, &old, &old_len);
	if (r == 0 || r == -EFBIG) {
		if (r == -EFBIG || old_len != len || memcmp(old, bundle, len) != 0)
			return mg_fail(EEXIST, "%s/%s: exists with other content (bundles are "
			               "immutable)", bdir, name);
		return 0;
	}
	if (r != -ENOENT)
		return r;
	return mg_file_replace_at(bfd, bdir, name, bundle, len, 0644);
}

/* nginx's ETag is "<mtime in hex>-<size in hex>" with mtime in whole
 * seconds.  Two pointers of equal size written in one second would share
 * an ETag, and a terminal holding it would be told 304 for the new one.
 * So the new pointer is written only once the clock has left the second of
 * the one it replaces. */
static int wait_past_old_pointer(int groupfd, const char *gdir)
{
	struct stat st;

	if (fstatat(groupfd, MG_POINTER_NAME, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return mg_fail_errno(errno, "%s/%s", gdir, MG_POINTER_NAME);
	}
	for (;;) {
		struct timespec now;

		/* The coarse clock is the one the kernel stamps files with. */
		clock_gettime(CLOCK_REALTIME_COARSE, &now);
		if (now.tv_sec != st.st_mtim.tv_sec)
			return 0;
		poll(NULL, 0, (int)(1000 - now.tv_nsec / 1000000) + 1);
	}
}

static int open_group(const char *dir, const char *group, char **gdir)
{
	_cleanup_close_ int dirfd = -1;
	int fd, r;

	r = mg_bundle_target_check(group, "target group");
	if (r < 0)
		return r;
	r = mg_dir_ensure(dir, 0755);
	if (r < 0)
		return r;
	dirfd = mg_dir_open(dir);
	if (dirfd < 0)
		return dirfd;
	*gdir = mg_path_join(dir, group);
	if (!*gdir)
		return mg_fail(ENOMEM, "%s: out of memory", dir);
	if (mkdirat(dirfd, group, 0755) < 0 && errno != EEXIST)
		return mg_fail_errno(errno, "%s", *gdir);
	fd = openat(dirfd, group, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return mg_fail_errno(errno, "%s", *gdir);
	return fd;
}

int mg_repo_publish(const char *dir, const char *group, uint64_t version, const void *bundle,
                    size_t len, struct mg_pointer *out)
{
	_cleanup_free_ char *gdir = NULL, *text = NULL;
	_cleanup_close_ int groupfd = -1, lock = -1;
	struct mg_pointer p;
	size_t text_len;
	int r;

	groupfd = open_group(dir, group, &gdir);
	if (groupfd < 0)
		return groupfd;
	/* Two publishers at once could otherwise both wait out the same
	 * second and write pointers that share an ETag. */
	lock = mg_file_lock_at(groupfd, gdir, PUBLISH_LOCK, true, PUBLISH_LOCK_TIMEOUT_MS);
	if (lock < 0)
		return lock;
	mg_pointer_for(&p, version, bundle, len);
	r = write_bundle(groupfd, gdir, &p, bundle, len);
	if (r == 0)
		r = mg_pointer_format(&p, &text, &text_len);
	if (r == 0)
		r = wait_past_old_pointer(groupfd, gdir);
	if (r == 0)
		r = mg_file_replace_at(groupfd, gdir, MG_POINTER_NAME, text, text_len, 0644);
	if (r < 0)
		return r;
	*out = p;
	return 0;
}
