#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/bundle.h"
#include "mynaguard/repo.h"
#include "mynaguard/util.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/mg-test-repo.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(repo, .init = setup, .fini = teardown);

static const char bundle_a[] = "mynaguard-bundle 1\nnot really signed, but publish only hashes\n";
static const char bundle_b[] = "mynaguard-bundle 1\nnot really signed, but publish only Hashes\n";

static void pointer_text(const struct mg_pointer *p, char *buf, size_t size)
{
	_cleanup_free_ char *text = NULL;
	size_t len;

	cr_assert_eq(mg_pointer_format(p, &text, &len), 0);
	cr_assert_lt(len, size);
	memcpy(buf, text, len + 1);
}

Test(repo, group_names)
{
	cr_assert_eq(mg_bundle_target_check("honcho-juki", "t"), 0);
	cr_assert_eq(mg_bundle_target_check("branch_01.a", "t"), 0);
	cr_assert_lt(mg_bundle_target_check("Branch_01.a", "t"), 0);
	cr_assert_lt(mg_bundle_target_check("", "t"), 0);
	cr_assert_lt(mg_bundle_target_check(".", "t"), 0);
	cr_assert_lt(mg_bundle_target_check("..", "t"), 0);
	cr_assert_lt(mg_bundle_target_check(".hidden", "t"), 0);
	cr_assert_lt(mg_bundle_target_check("../etc", "t"), 0);
	cr_assert_lt(mg_bundle_target_check("a/b", "t"), 0);
	cr_assert_lt(mg_bundle_target_check("a b", "t"), 0);
	cr_assert_lt(mg_bundle_target_check("a\nb", "t"), 0);
	cr_assert_lt(mg_bundle_target_check("0123456789012345678901234567890123456789012345678901234567890123456789", "t"), 0);
}

Test(repo, pointer_round_trip)
{
	struct mg_pointer p, q;
	char text[MG_POINTER_MAX];

	mg_pointer_for(&p, 42, bundle_a, sizeof(bundle_a));
	cr_assert_eq(strncmp(p.path, "bundles/42-", 11), 0, "%s", p.path);
	cr_assert_eq(strlen(p.path), strlen("bundles/42-0123456789abcdef.bundle"));
	pointer_text(&p, text, sizeof(text));
	cr_assert_eq(mg_pointer_parse(text, strlen(text), "current", &q), 0, "%s", mg_error());
	cr_assert_eq(memcmp(&p, &q, sizeof(p)), 0);
	cr_assert_eq(mg_pointer_check(&q, bundle_a, sizeof(bundle_a), "b"), 0);
}

Test(repo, pointer_check_names_the_fault)
{
	struct mg_pointer p;

	mg_pointer_for(&p, 1, bundle_a, sizeof(bundle_a));
	cr_assert_eq(mg_pointer_check(&p, bundle_a, sizeof(bundle_a) - 1, "b"), -EBADMSG);
	cr_assert(strstr(mg_error(), "truncated"), "%s", mg_error());
	cr_assert_eq(mg_pointer_check(&p, bundle_b, sizeof(bundle_b), "b"), -EBADMSG);
	cr_assert(strstr(mg_error(), "BLAKE2b"), "%s", mg_error());
}

/* Replaces the first occurrence of from in text by to. */
static void edit(char *text, size_t size, const char *from, const char *to)
{
	char *at = strstr(text, from), rest[MG_POINTER_MAX];

	cr_assert_not_null(at, "%s not in %s", from, text);
	snprintf(rest, sizeof(rest), "%s", at + strlen(from));
	snprintf(at, size - (size_t)(at - text), "%s%s", to, rest);
}

static void expect_refused(const char *text, const char *why)
{
	struct mg_pointer q;

	cr_assert_lt(mg_pointer_parse(text, strlen(text), "current", &q), 0, "accepted: %s", text);
	cr_assert(strstr(mg_error(), why), "'%s' not in '%s'", why, mg_error());
	cr_assert_eq(strncmp(mg_error(), "current: ", 9), 0, "%s", mg_error());
}

Test(repo, pointer_is_strict)
{
	struct mg_pointer p;
	char good[MG_POINTER_MAX], t[MG_POINTER_MAX], hex[17];

	mg_pointer_for(&p, 7, bundle_a, sizeof(bundle_a));
	pointer_text(&p, good, sizeof(good));
	memcpy(hex, p.path + strlen("bundles/7-"), 16);
	hex[16] = '\0';

	strcpy(t, good); edit(t, sizeof(t), "\"format\":1", "\"format\":2");
	expect_refused(t, "$.format");
	strcpy(t, good); edit(t, sizeof(t), "{", "{\"extra\":1,");
	expect_refused(t, "$.extra: unknown key");
	strcpy(t, good); edit(t, sizeof(t), "{", "{\"version\":8,");
	expect_refused(t, "duplicate");
	strcpy(t, good); edit(t, sizeof(t), "\"bundles/", "\"../../etc/");
	expect_refused(t, "$.path: expected");
	strcpy(t, good); edit(t, sizeof(t), "\"version\":7", "\"version\":8");
	expect_refused(t, "$.path: expected \"bundles/8-");
	strcpy(t, good); edit(t, sizeof(t), hex, "0000000000000000");
	expect_refused(t, "$.path");
	strcpy(t, good); edit(t, sizeof(t), "\"blake2b\":\"", "\"blake2b\":\"A");
	expect_refused(t, "$.blake2b: expected 128 lower-case hex");
	strcpy(t, good); edit(t, sizeof(t), "\"size\":", "\"size\":-");
	expect_refused(t, "$.size");
	strcpy(t, good); edit(t, sizeof(t), "\"version\":7", "\"version\":0");
	expect_refused(t, "$.version");
	strcpy(t, good); edit(t, sizeof(t), "}", "} x");
	expect_refused(t, "current: line");
	strcpy(t, good); edit(t, sizeof(t), ",\"size\"", ",\"sizes\"");
	expect_refused(t, "unknown key");
	strcpy(t, "[1]");
	expect_refused(t, "expected an object");
}

static void stat_at(const char *name, struct stat *st)
{
	_cleanup_free_ char *path = mg_path_join(dir, name);

	cr_assert_eq(lstat(path, st), 0, "%s", path);
}

Test(repo, publish_lays_out_the_group)
{
	struct mg_pointer p, q;
	struct stat st;
	_cleanup_free_ uint8_t *cur = NULL, *b = NULL;
	_cleanup_free_ char *cur_path = mg_path_join(dir, "g1/current");
	char bpath[256];
	size_t len;

	cr_assert_eq(mg_repo_publish(dir, "g1", 3, bundle_a, sizeof(bundle_a), &p), 0, "%s",
	             mg_error());
	cr_assert_eq(mg_file_read(cur_path, MG_POINTER_MAX, &cur, &len), 0);
	cr_assert_eq(mg_pointer_parse(cur, len, "current", &q), 0, "%s", mg_error());
	cr_assert_eq(memcmp(&p, &q, sizeof(p)), 0);
	snprintf(bpath, sizeof(bpath), "%s/g1/%s", dir, p.path);
	cr_assert_eq(mg_file_read(bpath, 1 << 20, &b, &len), 0, "%s", mg_error());
	cr_assert_eq(mg_pointer_check(&q, b, len, bpath), 0);
	stat_at("g1/current", &st);
	cr_assert_eq(st.st_mode & 07777, 0644);
	snprintf(bpath, sizeof(bpath), "g1/%s", p.path);
	stat_at(bpath, &st);
	cr_assert_eq(st.st_mode & 07777, 0644);
}

Test(repo, publish_refuses_escaping_groups)
{
	struct mg_pointer p;
	static const char *const bad[] = {"..", "../x", ".", "a/b", "", ".git"};

	for (size_t i = 0; i < MG_ARRAY_SIZE(bad); i++) {
		cr_assert_eq(mg_repo_publish(dir, bad[i], 1, bundle_a, sizeof(bundle_a), &p), -EINVAL,
		             "%s", bad[i]);
		cr_assert(strstr(mg_error(), "target group"), "%s", mg_error());
	}
}

Test(repo, publish_refuses_a_linked_group)
{
	struct mg_pointer p;
	_cleanup_free_ char *link = mg_path_join(dir, "g1");

	cr_assert_eq(symlink("/tmp", link), 0);
	cr_assert_lt(mg_repo_publish(dir, "g1", 1, bundle_a, sizeof(bundle_a), &p), 0);
	cr_assert(strstr(mg_error(), "g1"), "%s", mg_error());
}

/* nginx's ETag is mtime seconds and size: two pointers of one size must
 * never share an mtime second. */
Test(repo, each_pointer_gets_a_new_mtime_second)
{
	struct mg_pointer p;
	struct stat st;
	time_t last = 0;

	for (int i = 0; i < 3; i++) {
		const char *b = i % 2 ? bundle_b : bundle_a;
		cr_assert_eq(mg_repo_publish(dir, "g1", 5, b, sizeof(bundle_a), &p), 0, "%s", mg_error());
		stat_at("g1/current", &st);
		cr_assert_gt(st.st_mtim.tv_sec, last);
		last = st.st_mtim.tv_sec;
	}
}

Test(repo, published_bundles_are_immutable)
{
	struct mg_pointer p;
	char path[256];
	int fd;

	cr_assert_eq(mg_repo_publish(dir, "g1", 2, bundle_a, sizeof(bundle_a), &p), 0);
	/* The same bytes again: fine, nothing rewritten. */
	cr_assert_eq(mg_repo_publish(dir, "g1", 2, bundle_a, sizeof(bundle_a), &p), 0);
	snprintf(path, sizeof(path), "%s/g1/%s", dir, p.path);
	fd = open(path, O_WRONLY | O_APPEND);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "x", 1), 1);
	close(fd);
	cr_assert_eq(mg_repo_publish(dir, "g1", 2, bundle_a, sizeof(bundle_a), &p), -EEXIST);
	cr_assert(strstr(mg_error(), "immutable"), "%s", mg_error());
}
