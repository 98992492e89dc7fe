/* The terminal's trust state: apply and load, floors that never fall, the
 * crash window between the two writes, corrupt state failing closed,
 * keyring pin and rotation with a floor reset, and the audit trail. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/journal.h"
#include "mynaguard/terminal.h"
#include "mynaguard/util.h"

#define NOW 1796533200                 /* 2026-12-06T05:00:00Z */
#define DAY 86400

static char dir[64], audit_dir[96];
static struct mg_secret_key sk[4];     /* 0: root v1, 1: policy v1, 2: root v2, 3: policy v2 */
static struct mg_public_key pk[4];
static struct mg_terminal_ctx ctx;

static void setup(void)
{
	cr_assert(sodium_init() >= 0);
	strcpy(dir, "/tmp/mg-terminal.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(audit_dir, sizeof(audit_dir), "%s/audit", dir);
	setenv("MYNAGUARD_FAKE_TIME", "1796533200", 1);
	for (int i = 0; i < 4; i++) {
		crypto_sign_ed25519_keypair(pk[i].pk, sk[i].sk);
		mg_key_id(pk[i].pk, pk[i].id);
		memcpy(sk[i].id, pk[i].id, sizeof(sk[i].id));
		snprintf(pk[i].name, sizeof(pk[i].name), "k%d", i);
	}
	ctx = (struct mg_terminal_ctx){.state_dir = dir, .component = "test", .target = "honcho"};
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(terminal, .init = setup, .fini = teardown);

static size_t keyring(uint64_t version, int root, int policy, const int *signers, size_t n,
                      bool reset, uint8_t **out)
{
	struct mg_keyring kr = {.version = version, .issued = NOW - DAY * 10 + (int64_t)version,
	                        .reset_policy_floor = reset};
	const struct mg_secret_key *keys[4];
	size_t len = 0;

	kr.root.keys[0] = pk[root];
	kr.root.nkeys = kr.root.threshold = 1;
	kr.policy.keys[0] = pk[policy];
	kr.policy.nkeys = kr.policy.threshold = 1;
	for (size_t i = 0; i < n; i++)
		keys[i] = &sk[signers[i]];
	cr_assert_eq(mg_keyring_create(&kr, keys, n, out, &len), 0, "%s", mg_error());
	return len;
}

static void pin(void)
{
	const int s[] = {0};
	uint8_t *buf;
	size_t len = keyring(1, 0, 1, s, 1, false, &buf);
	uint64_t v;

	cr_assert_eq(mg_terminal_keyring_pin(&ctx, buf, len, "kr1", &v), 0, "%s", mg_error());
	cr_assert_eq(v, 1);
	free(buf);
}

static size_t bundle(uint64_t version, int key, const char *description, int64_t issued,
                     uint8_t **out)
{
	struct mg_bundle_header h = {.version = version, .issued = issued,
	                             .expires = NOW + 30 * DAY, .keyring = 1};
	const struct mg_secret_key *keys[] = {&sk[key]};
	char policy[128];
	size_t len = 0;

	strcpy(h.target, "honcho");
	snprintf(policy, sizeof(policy), "{\"schema\":1,\"description\":\"%s\"}", description);
	cr_assert_eq(mg_bundle_create(&h, (uint8_t *)policy, strlen(policy), keys, 1, out, &len), 0,
	             "%s", mg_error());
	return len;
}

static int apply(const uint8_t *buf, size_t len, struct mg_apply_result *res)
{
	return mg_terminal_apply(&ctx, buf, len, "test-bundle", res);
}

static void expect_in_force(uint64_t version, const char *description)
{
	struct mg_policy_in_force p;

	cr_assert_eq(mg_terminal_load(&ctx, &p), 0);
	cr_assert(p.from_bundle, "defaults in force: %s", p.reason);
	cr_assert_eq(p.version, version);
	cr_assert_str_eq(p.policy->description, description);
	mg_policy_in_force_free(&p);
}

static void expect_defaults(const char *reason)
{
	struct mg_policy_in_force p;

	cr_assert_eq(mg_terminal_load(&ctx, &p), 0);
	cr_assert_not(p.from_bundle);
	cr_assert_not_null(p.policy);
	cr_assert(strstr(p.reason, reason), "\"%s\" not in \"%s\"", reason, p.reason);
	mg_policy_in_force_free(&p);
}

static uint64_t audit_records(void)
{
	struct mg_journal_report rep = {0};

	cr_assert_eq(mg_journal_verify(audit_dir, &rep), 0, "%s", mg_error());
	return rep.records;
}

Test(terminal, fresh_terminal_enforces_defaults)
{
	expect_defaults("no keyring pinned");
	pin();
	expect_defaults("no bundle");
}

Test(terminal, apply_then_unchanged_then_newer)
{
	struct mg_apply_result res;
	uint8_t *b1, *b2;
	size_t l1, l2;

	pin();
	l1 = bundle(1, 1, "one", NOW - 60, &b1);
	l2 = bundle(2, 1, "two", NOW - 30, &b2);
	cr_assert_eq(apply(b1, l1, &res), 0, "%s", mg_error());
	cr_assert_eq(res.outcome, MG_APPLY_APPLIED);
	expect_in_force(1, "one");
	cr_assert_eq(apply(b1, l1, &res), 0, "%s", mg_error());
	cr_assert_eq(res.outcome, MG_APPLY_UNCHANGED);
	cr_assert_eq(apply(b2, l2, &res), 0, "%s", mg_error());
	cr_assert_eq(res.outcome, MG_APPLY_APPLIED);
	cr_assert_eq(res.previous, 1);
	expect_in_force(2, "two");
	/* pin + two applies; "unchanged" is not news. */
	cr_assert_eq(audit_records(), 3);
	free(b1);
	free(b2);
}

Test(terminal, rejections_keep_the_last_known_good_and_are_audited)
{
	struct mg_apply_result res;
	uint8_t *b2, *b1, *stranger, *same_version;
	size_t l2, l1, ls, lsv;

	pin();
	l2 = bundle(2, 1, "two", NOW - 60, &b2);
	l1 = bundle(1, 1, "one", NOW - 60, &b1);
	ls = bundle(3, 3, "stranger", NOW - 60, &stranger);
	lsv = bundle(2, 1, "two again", NOW - 60, &same_version);
	cr_assert_eq(apply(b2, l2, &res), 0, "%s", mg_error());
	cr_assert_lt(apply(b1, l1, &res), 0);
	cr_assert(strstr(mg_error(), "rollback"), "%s", mg_error());
	cr_assert_lt(apply(stranger, ls, &res), 0);
	cr_assert(strstr(mg_error(), "unknown key"), "%s", mg_error());
	cr_assert_lt(apply(same_version, lsv, &res), 0);
	cr_assert(strstr(mg_error(), "different content"), "%s", mg_error());
	expect_in_force(2, "two");
	cr_assert_eq(audit_records(), 5);
	free(b2);
	free(b1);
	free(stranger);
	free(same_version);
}

Test(terminal, a_policy_that_does_not_parse_is_rejected)
{
	struct mg_bundle_header h = {.version = 1, .issued = NOW, .expires = NOW + DAY, .keyring = 1};
	const struct mg_secret_key *keys[] = {&sk[1]};
	const char *bad = "{\"schema\":1,\"nonsense\":true}";
	struct mg_apply_result res;
	uint8_t *buf;
	size_t len;

	pin();
	strcpy(h.target, "honcho");
	cr_assert_eq(mg_bundle_create(&h, (const uint8_t *)bad, strlen(bad), keys, 1, &buf, &len), 0);
	cr_assert_lt(apply(buf, len, &res), 0);
	cr_assert(strstr(mg_error(), "nonsense: unknown key"), "%s", mg_error());
	expect_defaults("no bundle");
	free(buf);
}

/* A crash after the bundle was written and before terminal.json: the new
 * bundle is in force and counts for the floor. */
Test(terminal, crash_between_the_two_writes)
{
	struct mg_apply_result res;
	uint8_t *b1, *b2, *state = NULL;
	size_t l1, l2, slen = 0;
	char path[128];

	pin();
	l1 = bundle(1, 1, "one", NOW - 60, &b1);
	l2 = bundle(2, 1, "two", NOW - 30, &b2);
	cr_assert_eq(apply(b1, l1, &res), 0);
	snprintf(path, sizeof(path), "%s/terminal.json", dir);
	cr_assert_eq(mg_file_read(path, 4096, &state, &slen), 0);
	cr_assert_eq(apply(b2, l2, &res), 0);
	cr_assert_eq(mg_file_replace(path, state, slen, 0644), 0);   /* the old floors */
	expect_in_force(2, "two");
	cr_assert_lt(apply(b1, l1, &res), 0);
	cr_assert(strstr(mg_error(), "rollback"), "%s", mg_error());
	cr_assert_eq(apply(b2, l2, &res), 0);
	cr_assert_eq(res.outcome, MG_APPLY_UNCHANGED);
	free(state);
	free(b1);
	free(b2);
}

Test(terminal, corrupt_state_fails_closed_and_is_not_reset)
{
	struct mg_apply_result res;
	uint8_t *b1, *b2;
	size_t l1, l2;
	char path[128];
	int fd;

	pin();
	l1 = bundle(1, 1, "one", NOW - 60, &b1);
	l2 = bundle(2, 1, "two", NOW - 60, &b2);
	cr_assert_eq(apply(b1, l1, &res), 0);
	snprintf(path, sizeof(path), "%s/terminal.json", dir);
	fd = open(path, O_WRONLY | O_TRUNC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "{\"format\":1", 11), 11);
	close(fd);
	expect_defaults("corrupt terminal state");
	cr_assert_lt(apply(b2, l2, &res), 0);
	cr_assert(strstr(mg_error(), "corrupt terminal state"), "%s", mg_error());
	free(b1);
	free(b2);
}

Test(terminal, a_replaced_older_bundle_is_not_loaded)
{
	struct mg_apply_result res;
	uint8_t *b1, *b2;
	size_t l1, l2;
	char path[128];

	pin();
	l1 = bundle(1, 1, "one", NOW - 60, &b1);
	l2 = bundle(2, 1, "two", NOW - 60, &b2);
	cr_assert_eq(apply(b2, l2, &res), 0);
	snprintf(path, sizeof(path), "%s/bundle", dir);
	cr_assert_eq(mg_file_replace(path, b1, l1, 0644), 0);
	expect_defaults("rollback");
	free(b1);
	free(b2);
}

Test(terminal, expiry_is_judged_against_the_clock_floor)
{
	struct mg_bundle_header h = {.version = 3, .issued = NOW - DAY, .expires = NOW + DAY / 2,
	                             .keyring = 1};
	const struct mg_secret_key *keys[] = {&sk[1]};
	const char *pol = "{\"schema\":1}";
	struct mg_apply_result res;
	uint8_t *b2, *b3;
	size_t l2, l3;

	pin();
	strcpy(h.target, "honcho");
	/* Issued ahead of the clock, within the slack: the floor moves to it. */
	l2 = bundle(2, 1, "two", NOW + DAY * 9 / 10, &b2);
	cr_assert_eq(apply(b2, l2, &res), 0, "%s", mg_error());
	cr_assert_eq(mg_bundle_create(&h, (const uint8_t *)pol, strlen(pol), keys, 1, &b3, &l3), 0);
	cr_assert_lt(apply(b3, l3, &res), 0);
	cr_assert(strstr(mg_error(), "expired at"), "%s", mg_error());
	/* Winding the clock back changes nothing. */
	setenv("MYNAGUARD_FAKE_TIME", "1796446800", 1);    /* NOW - DAY */
	expect_in_force(2, "two");
	free(b2);
	free(b3);
}

Test(terminal, wrong_target_and_missing_group)
{
	struct mg_apply_result res;
	uint8_t *b1;
	size_t l1;

	pin();
	l1 = bundle(1, 1, "one", NOW - 60, &b1);
	ctx.target = "shisho";
	cr_assert_lt(apply(b1, l1, &res), 0);
	cr_assert(strstr(mg_error(), "this terminal is in group \"shisho\""), "%s", mg_error());
	ctx.target = NULL;
	cr_assert_lt(apply(b1, l1, &res), 0);
	cr_assert(strstr(mg_error(), "no group"), "%s", mg_error());
	free(b1);
}

Test(terminal, pin_once_then_rotate_with_a_floor_reset)
{
	const int old_root[] = {0}, both[] = {0, 2}, new_only[] = {2};
	struct mg_apply_result res;
	uint8_t *kr1, *kr2, *kr2bad, *high, *low;
	size_t l1, l2, lbad, lh, ll;
	uint64_t v;
	bool changed;

	l1 = keyring(1, 0, 1, old_root, 1, false, &kr1);
	cr_assert_eq(mg_terminal_keyring_pin(&ctx, kr1, l1, "kr1", &v), 0);
	cr_assert_eq(mg_terminal_keyring_pin(&ctx, kr1, l1, "kr1", &v), -EEXIST);
	/* A fast-forwarded version, signed by the (compromised) policy key. */
	lh = bundle(1000000, 1, "fast-forward", NOW - 60, &high);
	ll = bundle(5, 3, "recovery", NOW - 30, &low);
	cr_assert_eq(apply(high, lh, &res), 0, "%s", mg_error());

	lbad = keyring(2, 2, 3, new_only, 1, true, &kr2bad);
	cr_assert_lt(mg_terminal_keyring_update(&ctx, kr2bad, lbad, "kr2", &v, &changed), 0);
	cr_assert(strstr(mg_error(), "old root"), "%s", mg_error());

	l2 = keyring(2, 2, 3, both, 2, true, &kr2);
	cr_assert_eq(mg_terminal_keyring_update(&ctx, kr2, l2, "kr2", &v, &changed), 0, "%s",
	             mg_error());
	cr_assert(changed);
	cr_assert_eq(v, 2);
	cr_assert_eq(mg_terminal_keyring_update(&ctx, kr2, l2, "kr2", &v, &changed), 0);
	cr_assert_not(changed);
	/* The old policy key no longer counts: defaults until a new bundle. */
	expect_defaults("unknown key");
	cr_assert_eq(apply(low, ll, &res), 0, "%s", mg_error());
	expect_in_force(5, "recovery");
	free(kr1);
	free(kr2);
	free(kr2bad);
	free(high);
	free(low);
}

Test(terminal, temp_files_are_swept_by_the_next_apply)
{
	struct mg_apply_result res;
	uint8_t *b1;
	size_t l1;
	char path[160];
	struct stat st;
	int fd;

	pin();
	snprintf(path, sizeof(path), "%s/.bundle" MG_TEMP_MARK "deadbeef", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	l1 = bundle(1, 1, "one", NOW - 60, &b1);
	cr_assert_eq(apply(b1, l1, &res), 0);
	cr_assert_lt(stat(path, &st), 0);
	free(b1);
}

Test(terminal, state_file_round_trip_and_strictness)
{
	struct mg_terminal_state st = {.policy_floor = 7, .clock_floor = NOW, .keyring_version = 2,
	                               .has_bundle = true}, back;
	char *json;
	size_t len;

	memset(st.bundle_hash, 0xab, sizeof(st.bundle_hash));
	cr_assert_eq(mg_terminal_state_format(&st, &json, &len), 0);
	cr_assert_eq(mg_terminal_state_parse(json, len, "t", &back), 0, "%s", mg_error());
	cr_assert_eq(back.policy_floor, 7);
	cr_assert_eq(back.clock_floor, NOW);
	cr_assert(back.has_bundle);
	cr_assert_eq(memcmp(back.bundle_hash, st.bundle_hash, sizeof(st.bundle_hash)), 0);
	free(json);
	cr_assert_lt(mg_terminal_state_parse("{\"format\":1}", 12, "t", &back), 0);
	cr_assert(strstr(mg_error(), "policy_floor: required"), "%s", mg_error());
	cr_assert_lt(mg_terminal_state_parse("{\"format\":1,\"policy_floor\":-1}", 30, "t", &back), 0);
}

Test(terminal, a_rejection_record_carries_the_reason)
{
	struct mg_apply_result res;
	uint8_t *log = NULL;
	size_t len = 0;
	char path[160];

	pin();
	cr_assert_lt(apply((const uint8_t *)"not a bundle", 12, &res), 0);
	cr_assert_eq(mg_terminal_reject(&ctx, "huge-file", -EFBIG), -EFBIG);
	snprintf(path, sizeof(path), "%s/audit.log", audit_dir);
	cr_assert_eq(mg_file_read(path, 1 << 20, &log, &len), 0, "%s", mg_error());
	cr_assert(strstr((char *)log, "\"event\":\"policy.rejected\""), "%s", log);
	cr_assert(strstr((char *)log, "\"subject\":\"test-bundle\""), "%s", log);
	cr_assert(strstr((char *)log, "test-bundle: line 1: not a \\\"mynaguard-bundle 1\\\" file"),
	          "%s", log);
	cr_assert(strstr((char *)log, "\"subject\":\"huge-file\""), "%s", log);
	cr_assert(strstr((char *)log, "\"component\":\"test\""), "%s", log);
	free(log);
}

/* A typo (version 1000000) by a trusted key: the roots reset the floors
 * without replacing the key.  Re-reading the same bundle (a repository
 * that still serves it) must not raise the floor back. */
Test(terminal, a_reset_floor_survives_the_same_bundle_again)
{
	const int both[] = {0, 2};
	struct mg_apply_result res;
	struct mg_terminal_state st;
	uint8_t *kr2, *typo, *fix;
	size_t l2, lt, lf;
	uint64_t v;
	bool changed;

	pin();
	lt = bundle(1000000, 1, "typo", NOW - 60, &typo);
	lf = bundle(43, 1, "fixed", NOW - 30, &fix);
	cr_assert_eq(apply(typo, lt, &res), 0);
	l2 = keyring(2, 2, 1, both, 2, true, &kr2);
	cr_assert_eq(mg_terminal_keyring_update(&ctx, kr2, l2, "kr2", &v, &changed), 0, "%s",
	             mg_error());
	cr_assert_eq(apply(typo, lt, &res), 0, "%s", mg_error());
	cr_assert_eq(res.outcome, MG_APPLY_UNCHANGED);
	cr_assert_eq(mg_terminal_state_read(dir, &st), 0);
	cr_assert_eq(st.policy_floor, 0);
	cr_assert_eq(apply(fix, lf, &res), 0, "%s", mg_error());
	expect_in_force(43, "fixed");
	free(kr2);
	free(typo);
	free(fix);
}
