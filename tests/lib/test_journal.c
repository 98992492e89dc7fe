/* The audit journal: chaining, every kind of tampering verify must name,
 * rotation, concurrent writers, crash windows and a full disk. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/journal.h"
#include "mynaguard/util.h"

static char dir[64];
static void *allocs[4096];     /* freed by teardown, so that LeakSanitizer stays quiet */
static size_t nallocs;

static void *keep(void *p)
{
	cr_assert_not_null(p);
	cr_assert_lt(nallocs, MG_ARRAY_SIZE(allocs));
	allocs[nallocs++] = p;
	return p;
}

static void setup(void)
{
	strcpy(dir, "/tmp/mg-journal.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	unsetenv("MYNAGUARD_AUDIT_ROTATE_BYTES");
	setenv("MYNAGUARD_FAKE_TIME", "1796533200", 1);     /* 2026-12-06T05:00:00Z */
}

static int remove_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(p);
}

static void teardown(void)
{
	nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
	while (nallocs > 0)
		free(allocs[--nallocs]);
}

TestSuite(journal, .init = setup, .fini = teardown);

static char *path(const char *name)
{
	static char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void append(const char *event, const char *decision, const char *subject)
{
	struct mg_audit a = {.event = event, .decision = decision, .rule = "default",
	                     .subject = subject};

	cr_assert_eq(mg_audit(dir, "test", &a), 0, "%s", mg_error());
}

static void append_n(int n)
{
	for (int i = 0; i < n; i++) {
		char subject[32];
		snprintf(subject, sizeof(subject), "usb 0781:5581 #%d", i + 1);
		append("device.decision", i % 2 ? "allow" : "block", subject);
	}
}

static char *slurp(const char *name)
{
	uint8_t *data;
	size_t len;

	cr_assert_eq(mg_file_read(path(name), 1 << 24, &data, &len), 0, "%s", mg_error());
	return keep(data);
}

static void spit(const char *name, const char *text)
{
	cr_assert_eq(mg_file_replace(path(name), text, strlen(text), 0600), 0, "%s", mg_error());
}

/* The lines of audit.log, each with its '\n'. */
static int lines_of(char *text, char *lines[], int max)
{
	int n = 0;

	for (char *p = text; *p && n < max; n++) {
		char *nl = strchr(p, '\n');
		lines[n] = keep(strndup(p, (size_t)(nl - p + 1)));
		p = nl + 1;
	}
	return n;
}

static void write_lines(char *lines[], const int order[], int n)
{
	char buf[65536] = "";

	for (int i = 0; i < n; i++)
		strcat(buf, lines[order[i]]);
	spit("audit.log", buf);
}

static void expect_broken(const char *needle)
{
	struct mg_journal_report rep;

	cr_assert_eq(mg_journal_verify(dir, &rep), -EBADMSG, "verify passed; wanted '%s'", needle);
	cr_assert(strstr(mg_error(), needle), "'%s' not in '%s'", needle, mg_error());
}

static void expect_intact(uint64_t records)
{
	struct mg_journal_report rep;

	cr_assert_eq(mg_journal_verify(dir, &rep), 0, "%s", mg_error());
	cr_assert_eq(rep.records, records, "%llu records", (unsigned long long)rep.records);
	cr_assert_eq(rep.last_seq, records);
}

Test(journal, records_are_chained_json_lines)
{
	char *lines[8];
	char *log;

	append_n(3);
	expect_intact(3);
	log = slurp("audit.log");
	cr_assert_eq(lines_of(log, lines, 8), 3);
	cr_assert(strncmp(lines[0], "{\"seq\":1,\"time\":\"2026-12-06T05:00:00Z\",\"host\":\"", 47) == 0,
	          "%s", lines[0]);
	cr_assert(strstr(lines[0], "\"component\":\"test\",\"event\":\"device.decision\","
	                           "\"decision\":\"block\",\"rule\":\"default\","
	                           "\"subject\":\"usb 0781:5581 #1\",\"prev\":\"0000000000000000"));
	cr_assert(strstr(lines[1], "\"seq\":2"));
	/* prev of record 2 is the hash of record 1 */
	char h1[65];
	memcpy(h1, strstr(lines[0], "\"hash\":\"") + 8, 64);
	h1[64] = '\0';
	cr_assert(strstr(lines[1], h1), "record 2 does not chain to record 1");
	cr_assert(strstr(slurp("audit.head"), "\"seq\":3"));
}

Test(journal, japanese_subject_survives_as_utf8)
{
	struct mg_audit a = {.event = "otp.accept", .decision = "accept",
	                     .subject = "住民記録 担当 山田"};

	cr_assert_eq(mg_audit(dir, "pam", &a), 0, "%s", mg_error());
	cr_assert(strstr(slurp("audit.log"), "\"subject\":\"住民記録 担当 山田\""));
	expect_intact(1);
}

Test(journal, bytes_that_are_not_utf8_become_question_marks)
{
	append("device.decision", "block", "serial=\xff\xfe" "abc 山田 \xe5\xb1 \xed\xa0\x80 \xc0\xaf");
	cr_assert(strstr(slurp("audit.log"), "\"subject\":\"serial=??abc 山田 ?? ??? ??\""),
	          "%s", slurp("audit.log"));
	expect_intact(1);
}

Test(journal, long_strings_are_cut_at_a_character_boundary)
{
	char subject[2048] = "xy";
	char *log, *start, *end;

	for (int i = 0; i < 600; i++)
		strcat(subject, "住");        /* 3 bytes each: the 341st would end at 1025 */
	append("device.decision", "block", subject);
	log = slurp("audit.log");
	start = strstr(log, "\"subject\":\"") + 11;
	end = strchr(start, '"');
	cr_assert_eq(end - start, 2 + 340 * 3, "%td bytes", end - start);
	expect_intact(1);
}

Test(journal, detail_is_kept_and_a_huge_one_is_replaced_by_its_size)
{
	json_t *detail = json_pack("{sisi}", "vendor", 0x0781, "count", 3);
	struct mg_audit a = {.event = "device.decision", .decision = "block", .detail = detail};
	char *big = malloc(20000);

	cr_assert_eq(mg_audit(dir, "agent", &a), 0);
	cr_assert(strstr(slurp("audit.log"), "\"detail\":{\"vendor\":1921,\"count\":3}"));
	memset(big, 'x', 19999);
	big[19999] = '\0';
	json_object_set_new(detail, "blob", json_string(big));
	cr_assert_eq(mg_audit(dir, "agent", &a), 0);
	cr_assert(strstr(slurp("audit.log"), "\"detail\":{\"omitted_bytes\":"));
	json_decref(detail);
	free(big);
	expect_intact(2);
}

Test(journal, a_bad_event_name_is_refused)
{
	struct mg_audit a = {.event = "Device Decision"};

	cr_assert_eq(mg_audit(dir, "agent", &a), -EINVAL);
	cr_assert(strstr(mg_error(), "event \"Device Decision\""), "%s", mg_error());
	a.event = NULL;
	cr_assert_eq(mg_audit(dir, "agent", &a), -EINVAL);
}

Test(journal, an_edited_record_is_named)
{
	char *lines[8], *log;

	append_n(3);
	log = slurp("audit.log");
	lines_of(log, lines, 8);
	*strstr(lines[1], "allow") = 'A';
	write_lines(lines, (int[]){0, 1, 2}, 3);
	expect_broken("audit.log line 2 (seq 2): hash mismatch, record edited");
}

Test(journal, a_deleted_record_is_named)
{
	char *lines[8];

	append_n(4);
	lines_of(slurp("audit.log"), lines, 8);
	write_lines(lines, (int[]){0, 2, 3}, 3);
	expect_broken("audit.log line 2 (seq 3): seq 3 follows seq 1: records deleted");
}

Test(journal, reordered_records_are_named)
{
	char *lines[8];

	append_n(4);
	lines_of(slurp("audit.log"), lines, 8);
	write_lines(lines, (int[]){0, 2, 1, 3}, 4);
	expect_broken("audit.log line 2 (seq 3)");
}

Test(journal, a_duplicated_record_is_named)
{
	char *lines[8];

	append_n(3);
	lines_of(slurp("audit.log"), lines, 8);
	write_lines(lines, (int[]){0, 1, 1, 2}, 4);
	expect_broken("audit.log line 3 (seq 2): seq 2 follows seq 2: records duplicated");
}

/* A forger who knows the format makes a record that chains correctly to
 * the one before; the record after it then no longer does. */
Test(journal, an_inserted_well_formed_record_is_named)
{
	char *lines[8], forged[512], prefix[400], h2[65], hash[65];
	uint8_t h[32];

	append_n(3);
	lines_of(slurp("audit.log"), lines, 8);
	memcpy(h2, strstr(lines[1], "\"hash\":\"") + 8, 64);
	h2[64] = '\0';
	snprintf(prefix, sizeof(prefix), "{\"seq\":3,\"time\":\"2026-12-06T05:00:00Z\",\"host\":\"x\","
	         "\"component\":\"agent\",\"event\":\"device.decision\",\"decision\":\"allow\","
	         "\"prev\":\"%s\"", h2);
	crypto_generichash(h, sizeof(h), (uint8_t *)prefix, strlen(prefix), NULL, 0);
	sodium_bin2hex(hash, sizeof(hash), h, sizeof(h));
	snprintf(forged, sizeof(forged), "%s,\"hash\":\"%s\"}\n", prefix, hash);
	lines[3] = forged;
	write_lines(lines, (int[]){0, 1, 3, 2}, 4);
	expect_broken("audit.log line 4 (seq 3): seq 3 follows seq 3");
}

Test(journal, cutting_records_off_the_end_is_noticed)
{
	char *lines[8];

	append_n(3);
	lines_of(slurp("audit.log"), lines, 8);
	write_lines(lines, (int[]){0, 1}, 2);
	expect_broken("audit.head: says seq 3 but the journal ends at seq 2: records cut off");
}

Test(journal, removing_the_head_is_noticed)
{
	append_n(2);
	cr_assert_eq(unlink(path("audit.head")), 0);
	expect_broken("audit.head: missing");
}

Test(journal, a_head_that_does_not_match_is_noticed)
{
	append_n(2);
	spit("audit.head", "{\"seq\":2,\"hash\":\"00000000000000000000000000000000"
	                   "00000000000000000000000000000000\"}\n");
	expect_broken("audit.head: the hash of seq 2 does not match audit.log line 2");
}

Test(journal, garbage_lines_are_named)
{
	append_n(2);
	spit("audit.log", "not json\n");
	expect_broken("audit.log line 1: not a JSON record");
}

Test(journal, an_empty_journal_verifies_and_a_missing_one_does_not)
{
	struct mg_journal_report rep;

	expect_intact(0);
	cr_assert_eq(mg_journal_verify(path("nothing"), &rep), -ENOENT);
	cr_assert(strstr(mg_error(), "nothing"));
}

Test(journal, rotation_keeps_the_chain_across_files)
{
	struct mg_journal_report rep;

	setenv("MYNAGUARD_AUDIT_ROTATE_BYTES", "1000", 1);
	append_n(1);
	spit(".audit.head.tmp-0123abcd", "left by a killed writer");
	append_n(19);
	cr_assert_eq(mg_journal_verify(dir, &rep), 0, "%s", mg_error());
	cr_assert_eq(rep.records, 20);
	cr_assert_gt(rep.files, 3, "%llu files", (unsigned long long)rep.files);
	cr_assert_eq(access(path("audit-00000000000000000001.log"), F_OK), 0);
	cr_assert_neq(access(path(".audit.head.tmp-0123abcd"), F_OK), 0, "temp file not swept");
}

Test(journal, a_removed_rotated_file_is_noticed)
{
	setenv("MYNAGUARD_AUDIT_ROTATE_BYTES", "1000", 1);
	append_n(20);
	cr_assert_eq(unlink(path("audit-00000000000000000001.log")), 0);
	expect_broken("the journal starts at seq");
}

Test(journal, a_renamed_rotated_file_is_noticed)
{
	struct mg_journal_report rep;
	char first[128] = "", from[256];

	setenv("MYNAGUARD_AUDIT_ROTATE_BYTES", "1000", 1);
	append_n(20);
	cr_assert_eq(mg_journal_verify(dir, &rep), 0);
	/* Find the second rotated file and give it a wrong number. */
	for (uint64_t seq = 2; seq < 20 && !first[0]; seq++) {
		char name[64];
		snprintf(name, sizeof(name), "audit-%020llu.log", (unsigned long long)seq);
		if (access(path(name), F_OK) == 0)
			strcpy(first, name);
	}
	cr_assert(first[0]);
	strcpy(from, path(first));
	cr_assert_eq(rename(from, path("audit-00000000000000000099.log")), 0);
	expect_broken("records deleted or reordered");
}

Test(journal, concurrent_writers_never_share_a_seq)
{
	enum { WRITERS = 4, EACH = 25 };
	pid_t pids[WRITERS];

	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		cr_assert_geq(pids[w], 0);
		if (pids[w] == 0) {
			struct mg_journal *j;
			int r = mg_journal_open(dir, "writer", &j);
			for (int i = 0; r == 0 && i < EACH; i++)
				r = mg_journal_append(j, &(struct mg_audit){.event = "test.concurrent"});
			mg_journal_close(j);
			_exit(r == 0 ? 0 : 1);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int status;
		cr_assert_eq(waitpid(pids[w], &status, 0), pids[w]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	expect_intact(WRITERS * EACH);
}

static int count_records(const json_t *rec, const char *line, void *userdata)
{
	(*(size_t *)userdata)++;
	return 0;
}

/* A verify (or a show) running beside writers that append and rotate
 * must not mistake a half-written record or a rotation mid-walk for
 * damage. */
Test(journal, verify_beside_live_writers_sees_no_false_damage)
{
	enum { WRITERS = 2, EACH = 150 };
	pid_t pids[WRITERS];
	int verified = 0, running = WRITERS;

	setenv("MYNAGUARD_AUDIT_ROTATE_BYTES", "3000", 1);
	append_n(1);
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		cr_assert_geq(pids[w], 0);
		if (pids[w] == 0) {
			struct mg_journal *j;
			int r = mg_journal_open(dir, "writer", &j);
			for (int i = 0; r == 0 && i < EACH; i++)
				r = mg_journal_append(j, &(struct mg_audit){.event = "test.live"});
			mg_journal_close(j);
			_exit(r == 0 ? 0 : 1);
		}
	}
	while (running > 0) {
		struct mg_journal_report rep;
		int status;

		cr_assert_eq(mg_journal_verify(dir, &rep), 0, "after %d verifies: %s", verified,
		             mg_error());
		cr_assert_eq(mg_journal_read(dir, 5, count_records, &(size_t){0}), 0, "%s", mg_error());
		verified++;
		for (int w = 0; w < WRITERS; w++)
			if (pids[w] > 0 && waitpid(pids[w], &status, WNOHANG) == pids[w]) {
				cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
				pids[w] = 0;
				running--;
			}
	}
	expect_intact(1 + WRITERS * EACH);
	cr_log_info("%d verifies ran beside the writers", verified);
}

/* Killed between its line and audit.head: the head lags, and the next
 * writer goes on from the log, not from the head. */
Test(journal, a_lagging_head_is_a_crash_window_not_tampering)
{
	char *lines[8], head[128];

	append_n(3);
	lines_of(slurp("audit.log"), lines, 8);
	snprintf(head, sizeof(head), "{\"seq\":2,\"hash\":\"%.64s\"}\n",
	         strstr(lines[1], "\"hash\":\"") + 8);
	spit("audit.head", head);
	expect_intact(3);
	append_n(1);
	expect_intact(4);
	cr_assert(strstr(slurp("audit.head"), "\"seq\":4"));
}

/* Killed right after renaming audit.log away: there is no audit.log, and
 * the chain goes on from the newest closed file. */
Test(journal, a_crash_right_after_rotation_loses_nothing)
{
	char from[256];

	append_n(3);
	strcpy(from, path("audit.log"));
	cr_assert_eq(rename(from, path("audit-00000000000000000001.log")), 0);
	expect_intact(3);
	append_n(1);
	expect_intact(4);
	cr_assert(strncmp(slurp("audit.log"), "{\"seq\":4,", 9) == 0);
}

/* Killed mid-line: verify says so; the next writer cuts the torn record
 * off, says it did, and the chain goes on. */
Test(journal, a_torn_last_line_is_reported_then_repaired)
{
	struct mg_journal_report rep;
	int fd;

	append_n(2);
	fd = open(path("audit.log"), O_WRONLY | O_APPEND);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "{\"seq\":3,\"ti", 12), 12);
	close(fd);
	expect_broken("audit.log line 3: incomplete record at the end");
	append_n(1);
	expect_intact(4);
	cr_assert_eq(mg_journal_verify(dir, &rep), 0);
	cr_assert_eq(rep.incidents, 1, "the repair is counted");
	cr_assert(strstr(slurp("audit.log"), "\"seq\":3,\"time\":\"2026-12-06T05:00:00Z\""));
	cr_assert(strstr(slurp("audit.log"), "\"event\":\"journal.repaired\",\"decision\":\"alert\""));
	cr_assert(strstr(slurp("audit.log"), "\"removed_bytes\":12"));
}

/* Records cut off the end: the next writer does not reuse their seqs, it
 * records the damage, and verify keeps naming the gap. */
Test(journal, after_truncation_seqs_are_not_reused)
{
	char *lines[8];

	append_n(3);
	lines_of(slurp("audit.log"), lines, 8);
	write_lines(lines, (int[]){0}, 1);
	append_n(1);
	cr_assert(strstr(slurp("audit.log"), "{\"seq\":4,"), "%s", slurp("audit.log"));
	cr_assert(strstr(slurp("audit.log"), "audit.head is ahead"));
	expect_broken("line 2 (seq 4): seq 4 follows seq 1: records deleted");
}

/* Damage the writer cannot repair does not stop it: it goes on after the
 * highest seq it can read, says so, and verify keeps naming the damage. */
Test(journal, a_garbage_last_line_without_head_does_not_stop_the_writer)
{
	int fd;

	append_n(3);
	fd = open(path("audit.log"), O_WRONLY | O_APPEND);
	cr_assert_eq(write(fd, "garbage\n", 8), 8);
	close(fd);
	cr_assert_eq(unlink(path("audit.head")), 0);
	append_n(1);
	cr_assert(strstr(slurp("audit.log"), "garbage\n{\"seq\":4,"), "%s", slurp("audit.log"));
	cr_assert(strstr(slurp("audit.log"), "continuing after the highest record found"));
	expect_broken("audit.log line 4: not a JSON record");
}

Test(journal, an_unreadable_head_does_not_stop_the_writer)
{
	append_n(2);
	spit("audit.head", "{\"seq\":\"x\"}");
	append_n(1);
	cr_assert(strstr(slurp("audit.log"), "\"subject\":\"audit.head unreadable\""));
	expect_intact(4);
}

/* Unterminated data longer than any record is not the writer's to cut. */
Test(journal, long_unterminated_data_is_kept_and_reported)
{
	char *junk = keep(malloc(20001));
	int fd;

	append_n(1);
	memset(junk, 'j', 20000);
	fd = open(path("audit.log"), O_WRONLY | O_APPEND);
	cr_assert_eq(write(fd, junk, 20000), 20000);
	close(fd);
	append_n(1);
	cr_assert(strstr(slurp("audit.log"), "jjjj\n{\"seq\":2,"));
	cr_assert(strstr(slurp("audit.log"), "unterminated data at the end of audit.log"));
	expect_broken("audit.log line 2: longer than any record");
}

Test(journal, a_head_with_another_hash_is_recorded)
{
	append_n(2);
	spit("audit.head", "{\"seq\":2,\"hash\":\"00000000000000000000000000000000"
	                   "00000000000000000000000000000000\"}\n");
	append_n(1);
	cr_assert(strstr(slurp("audit.log"), "audit.head does not match the last record"));
	expect_intact(4);
}

Test(journal, a_linked_log_is_refused)
{
	cr_assert_eq(symlink("/etc/passwd", path("audit.log")), 0);
	struct mg_audit a = {.event = "test.link"};
	cr_assert_lt(mg_audit(dir, "test", &a), 0);
	cr_assert(strstr(mg_error(), "audit.log"), "%s", mg_error());
}

/* RLIMIT_FSIZE makes the log unwritable past a size without root: the
 * same failure path as a full disk. */
static void limit_file_size(rlim_t bytes)
{
	struct rlimit rl = {bytes, RLIM_INFINITY};

	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

Test(journal, a_failing_disk_keeps_records_in_memory_until_it_works)
{
	struct mg_journal *j;
	struct stat st;

	cr_assert_eq(mg_journal_open(dir, "agent", &j), 0);
	cr_assert_eq(mg_journal_append(j, &(struct mg_audit){.event = "test.before"}), 0);
	cr_assert_eq(stat(path("audit.log"), &st), 0);
	limit_file_size((rlim_t)st.st_size + 10);
	for (int i = 0; i < 3; i++) {
		cr_assert_lt(mg_journal_append(j, &(struct mg_audit){.event = "test.during"}), 0);
		cr_assert(strstr(mg_error(), "audit journal failing"), "%s", mg_error());
	}
	cr_assert_eq(mg_journal_pending(j), 3);
	cr_assert_lt(mg_journal_flush(j), 0, "still failing");
	limit_file_size(RLIM_INFINITY);
	expect_intact(1);
	cr_assert_eq(mg_journal_flush(j), 0, "%s", mg_error());
	cr_assert_eq(mg_journal_pending(j), 0);
	expect_intact(4);
	cr_assert_eq(mg_journal_flush(j), 0, "nothing held is fine");
	cr_assert_eq(mg_journal_append(j, &(struct mg_audit){.event = "test.after"}), 0, "%s",
	             mg_error());
	mg_journal_close(j);
	expect_intact(5);
	cr_assert_null(strstr(slurp("audit.log"), "journal.lost"));
}

Test(journal, an_overflowing_backlog_is_counted_in_journal_lost)
{
	struct mg_journal *j;
	struct stat st;

	cr_assert_eq(mg_journal_open(dir, "agent", &j), 0);
	cr_assert_eq(mg_journal_append(j, &(struct mg_audit){.event = "test.before"}), 0);
	cr_assert_eq(stat(path("audit.log"), &st), 0);
	limit_file_size((rlim_t)st.st_size + 10);
	for (int i = 0; i < 300; i++)
		cr_assert_lt(mg_journal_append(j, &(struct mg_audit){.event = "test.during"}), 0);
	limit_file_size(RLIM_INFINITY);
	cr_assert_eq(mg_journal_append(j, &(struct mg_audit){.event = "test.after"}), 0, "%s",
	             mg_error());
	mg_journal_close(j);
	/* 1 before, the 256 kept, the count of the 44 lost, 1 after. */
	expect_intact(1 + 256 + 1 + 1);
	cr_assert(strstr(slurp("audit.log"), "\"event\":\"journal.lost\""));
	cr_assert(strstr(slurp("audit.log"), "\"lost\":44"), "%s", strstr(slurp("audit.log"), "lost"));
}

Test(journal, an_anchor_taken_by_verify_checks_later)
{
	struct mg_journal_report rep;
	char *lines[8];

	append_n(3);
	cr_assert_eq(mg_journal_verify(dir, &rep), 0);
	cr_assert_eq(strlen(rep.last_hash), 64);
	append_n(2);
	cr_assert_eq(mg_journal_check_anchor(dir, 3, rep.last_hash), 0, "%s", mg_error());
	cr_assert_eq(mg_journal_check_anchor(dir, 2, rep.last_hash), -EBADMSG);
	cr_assert(strstr(mg_error(), "anchor seq 2: the journal has hash"), "%s", mg_error());
	cr_assert_eq(mg_journal_check_anchor(dir, 9, rep.last_hash), -ENOENT);
	cr_assert_eq(mg_journal_check_anchor(dir, 3, "abc"), -EINVAL);
	lines_of(slurp("audit.log"), lines, 8);
	write_lines(lines, (int[]){0, 1}, 2);
	cr_assert_eq(mg_journal_check_anchor(dir, 3, rep.last_hash), -ENOENT);
}

static int collect(const json_t *rec, const char *line, void *userdata)
{
	json_t *seen = userdata;

	json_array_append_new(seen, rec ? json_incref(json_object_get(rec, "seq")) : json_null());
	return 0;
}

Test(journal, read_gives_the_last_records_oldest_first)
{
	json_t *seen = json_array();

	setenv("MYNAGUARD_AUDIT_ROTATE_BYTES", "1000", 1);
	append_n(12);
	cr_assert_eq(mg_journal_read(dir, 3, collect, seen), 0, "%s", mg_error());
	cr_assert_eq(json_array_size(seen), 3);
	cr_assert_eq(json_integer_value(json_array_get(seen, 0)), 10);
	cr_assert_eq(json_integer_value(json_array_get(seen, 2)), 12);
	json_array_clear(seen);
	cr_assert_eq(mg_journal_read(dir, 0, collect, seen), 0);
	cr_assert_eq(json_array_size(seen), 12);
	json_decref(seen);
}

Test(journal, message_ids_are_stable_per_event)
{
	char a[MG_JOURNAL_MESSAGE_ID_LEN], b[MG_JOURNAL_MESSAGE_ID_LEN];

	mg_journal_message_id("device.decision", a);
	mg_journal_message_id("device.decision", b);
	cr_assert_str_eq(a, b);
	cr_assert_eq(strlen(a), 32);
	mg_journal_message_id("otp.accept", b);
	cr_assert_str_neq(a, b);
	/* Collectors filter on these: a change would break them silently. */
	cr_assert_str_eq(a, "cd3816e5f9e89a075aab566b83429bc8");
}
