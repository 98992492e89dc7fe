/* Files on privileged paths: atomic replacement, capped link-refusing
 * reads, temp sweeping, locks. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/util.h"

static char dir[64];
static char buf[256];

static void setup(void)
{
	strcpy(dir, "/tmp/mg-file.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static int remove_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(p);
}

static void teardown(void)
{
	nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(file, .init = setup, .fini = teardown);

static const char *at(const char *name)
{
	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

Test(file, replace_writes_the_data_with_the_exact_mode)
{
	struct stat st;
	uint8_t *data;
	size_t len;
	mode_t old = umask(077);

	cr_assert_eq(mg_file_replace(at("state"), "hello", 5, 0644), 0, "%s", mg_error());
	umask(old);
	cr_assert_eq(stat(at("state"), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644, "mode %o", st.st_mode & 07777);
	cr_assert_eq(mg_file_read(at("state"), 100, &data, &len), 0);
	cr_assert_eq(len, 5);
	cr_assert_str_eq((char *)data, "hello");
	free(data);
	cr_assert_eq(mg_file_replace(at("state"), "bye", 3, 0600), 0);
	cr_assert_eq(mg_file_read(at("state"), 100, &data, &len), 0);
	cr_assert_str_eq((char *)data, "bye");
	free(data);
	cr_assert_eq(stat(at("state"), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
}

/* rename() replaces a link itself, never the file it points to. */
Test(file, replace_never_writes_through_a_link)
{
	char target[128];
	uint8_t *data;
	size_t len;

	snprintf(target, sizeof(target), "%s/victim", dir);
	cr_assert_eq(mg_file_replace(target, "precious", 8, 0600), 0);
	cr_assert_eq(symlink(target, at("state")), 0);
	cr_assert_eq(mg_file_replace(at("state"), "evil", 4, 0600), 0);
	cr_assert_eq(mg_file_read(target, 100, &data, &len), 0);
	cr_assert_str_eq((char *)data, "precious");
	free(data);
	cr_assert_eq(mg_file_read(at("state"), 100, &data, &len), 0, "now a plain file");
	free(data);
}

Test(file, replace_refuses_names_that_are_not_plain)
{
	int dirfd = mg_dir_open(dir);

	cr_assert_geq(dirfd, 0);
	cr_assert_eq(mg_file_replace_at(dirfd, dir, "a/b", "x", 1, 0600), -EINVAL);
	cr_assert(strstr(mg_error(), "not a plain file name"));
	cr_assert_eq(mg_file_replace_at(dirfd, dir, "..", "x", 1, 0600), -EINVAL);
	cr_assert_eq(mg_file_replace_at(dirfd, dir, "", "x", 1, 0600), -EINVAL);
	close(dirfd);
}

Test(file, replace_leaves_no_temp_file_on_failure)
{
	int dirfd = mg_dir_open(dir);

	cr_assert_eq(mkdir(at("taken"), 0700), 0);
	/* rename over a directory fails after the temp file was written */
	cr_assert_lt(mg_file_replace_at(dirfd, dir, "taken", "x", 1, 0600), 0);
	cr_assert(strstr(mg_error(), "taken"), "%s", mg_error());
	cr_assert_eq(mg_file_sweep_temps(dirfd), 0, "a temp file was left behind");
	close(dirfd);
}

Test(file, read_refuses_a_link)
{
	uint8_t *data;
	size_t len;

	cr_assert_eq(symlink("/etc/hostname", at("link")), 0);
	cr_assert_eq(mg_file_read(at("link"), 100, &data, &len), -ELOOP);
	cr_assert(strstr(mg_error(), "link"), "%s", mg_error());
}

Test(file, read_enforces_the_cap)
{
	uint8_t *data;
	size_t len;

	cr_assert_eq(mg_file_replace(at("big"), "0123456789", 10, 0600), 0);
	cr_assert_eq(mg_file_read(at("big"), 9, &data, &len), -EFBIG);
	cr_assert(strstr(mg_error(), "larger than 9 bytes"), "%s", mg_error());
	cr_assert_eq(mg_file_read(at("big"), 10, &data, &len), 0);
	free(data);
}

Test(file, read_of_a_missing_file_says_so)
{
	uint8_t *data;
	size_t len;

	cr_assert_eq(mg_file_read(at("nothing"), 10, &data, &len), -ENOENT);
	cr_assert(strstr(mg_error(), "nothing: No such file"), "%s", mg_error());
}

Test(file, read_refuses_a_fifo_without_hanging)
{
	uint8_t *data;
	size_t len;

	cr_assert_eq(mkfifo(at("fifo"), 0600), 0);
	cr_assert_eq(mg_file_read(at("fifo"), 10, &data, &len), -EINVAL);
	cr_assert(strstr(mg_error(), "not a regular file"), "%s", mg_error());
}

Test(file, sweep_removes_only_temp_files)
{
	int dirfd = mg_dir_open(dir);

	cr_assert_eq(mg_file_replace(at(".state.tmp-0123abcd"), "x", 1, 0600), 0);
	cr_assert_eq(mg_file_replace(at(".state.tmp-notmine"), "x", 1, 0600), 0);
	cr_assert_eq(mg_file_replace(at("state"), "x", 1, 0600), 0);
	cr_assert_eq(mg_file_sweep_temps(dirfd), 1);
	cr_assert_neq(access(at(".state.tmp-0123abcd"), F_OK), 0);
	cr_assert_eq(access(at(".state.tmp-notmine"), F_OK), 0);
	cr_assert_eq(access(at("state"), F_OK), 0);
	close(dirfd);
}

Test(file, a_held_lock_times_out_and_dies_with_its_holder)
{
	int dirfd = mg_dir_open(dir), fd, pipefd[2];
	pid_t child;
	char c;

	cr_assert_eq(pipe(pipefd), 0);
	child = fork();
	if (child == 0) {
		int held = mg_file_lock_at(dirfd, dir, "lock", true, 0);
		if (write(pipefd[1], "x", 1) != 1 || held < 0)
			_exit(1);
		pause();
		_exit(0);
	}
	cr_assert_eq(read(pipefd[0], &c, 1), 1);
	cr_assert_eq(mg_file_lock_at(dirfd, dir, "lock", true, 50), -ETIMEDOUT);
	cr_assert(strstr(mg_error(), "still locked after 50 ms"), "%s", mg_error());
	cr_assert_eq(mg_file_lock_at(dirfd, dir, "lock", false, 0), -ETIMEDOUT, "shared vs exclusive");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	fd = mg_file_lock_at(dirfd, dir, "lock", true, 1000);
	cr_assert_geq(fd, 0, "%s", mg_error());
	close(fd);
	close(dirfd);
}

Test(file, shared_locks_coexist)
{
	int dirfd = mg_dir_open(dir);
	int a = mg_file_lock_at(dirfd, dir, "lock", false, 0);
	int b = mg_file_lock_at(dirfd, dir, "lock", false, 0);

	cr_assert_geq(a, 0);
	cr_assert_geq(b, 0);
	cr_assert_eq(mg_file_lock_at(dirfd, dir, "lock", true, 0), -ETIMEDOUT);
	close(a);
	close(b);
	close(dirfd);
}

Test(file, a_lock_on_a_link_is_refused)
{
	int dirfd = mg_dir_open(dir);

	cr_assert_eq(symlink("/tmp", at("lock")), 0);
	cr_assert_eq(mg_file_lock_at(dirfd, dir, "lock", true, 0), -ELOOP);
	close(dirfd);
}

Test(file, dir_ensure_creates_parents_and_refuses_a_link)
{
	char nested[128], link[128];

	snprintf(nested, sizeof(nested), "%s/a/b/c/", dir);
	cr_assert_eq(mg_dir_ensure(nested, 0700), 0, "%s", mg_error());
	cr_assert_eq(mg_dir_ensure(nested, 0700), 0, "twice is fine");
	snprintf(link, sizeof(link), "%s/l", dir);
	cr_assert_eq(symlink("/tmp", link), 0);
	cr_assert_eq(mg_dir_ensure(link, 0700), -ENOTDIR);
	strcat(link, "/");
	cr_assert_eq(mg_dir_ensure(link, 0700), -ENOTDIR, "a trailing slash does not follow it");
	cr_assert_eq(mg_dir_open(link), -ENOTDIR);
}

Test(file, path_join)
{
	char *p = mg_path_join("/var/lib/mynaguard", "audit");

	cr_assert_str_eq(p, "/var/lib/mynaguard/audit");
	free(p);
}

/* kill -9 of a writer at any point leaves the old content or the new,
 * whole, never a mix or nothing. */
Test(file, a_killed_replace_leaves_old_or_new)
{
	enum { SIZE = 65536, ROUNDS = 60 };
	static char a[SIZE], b[SIZE];
	int dirfd = mg_dir_open(dir);

	memset(a, 'A', SIZE);
	memset(b, 'B', SIZE);
	cr_assert_eq(mg_file_replace(at("state"), a, SIZE, 0600), 0);
	for (int round = 0; round < ROUNDS; round++) {
		pid_t child = fork();
		uint8_t *data;
		size_t len;

		cr_assert_geq(child, 0);
		if (child == 0) {
			for (int i = 0;; i++)
				mg_file_replace_at(dirfd, dir, "state", i % 2 ? a : b, SIZE, 0600);
		}
		usleep((useconds_t)(rand() % 3000));
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		cr_assert_eq(mg_file_read_at(dirfd, dir, "state", SIZE, &data, &len), 0, "%s", mg_error());
		cr_assert_eq(len, SIZE, "round %d: %zu bytes", round, len);
		cr_assert(memcmp(data, a, SIZE) == 0 || memcmp(data, b, SIZE) == 0, "round %d: a mix", round);
		free(data);
	}
	mg_file_sweep_temps(dirfd);
	close(dirfd);
}

Test(file, replace_without_the_directory_sync_still_replaces_whole)
{
	int dirfd = mg_dir_open(dir);
	uint8_t *data;
	size_t len;

	cr_assert_eq(mg_file_replace_at_unsynced_dir(dirfd, dir, "head", "one", 3, 0600), 0);
	cr_assert_eq(mg_file_replace_at_unsynced_dir(dirfd, dir, "head", "two", 3, 0600), 0);
	cr_assert_eq(mg_file_read_at(dirfd, dir, "head", 10, &data, &len), 0);
	cr_assert_str_eq((char *)data, "two");
	free(data);
	cr_assert_eq(mg_file_replace_at_unsynced_dir(dirfd, dir, "a/b", "x", 1, 0600), -EINVAL);
	close(dirfd);
}
