#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mynaguard/error.h"
#include "mynaguard/otpstore.h"
#include "mynaguard/policy.h"

static char dir[64], store[96], hostkey[96];
static struct mg_policy policy;

static void setup(void)
{
	bool created;

	snprintf(dir, sizeof(dir), "/tmp/mg-otpstore.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(store, sizeof(store), "%s/otp", dir);
	snprintf(hostkey, sizeof(hostkey), "%s/etc/otp.key", dir);
	cr_assert_eq(mg_otpstore_init(store, hostkey, &created), 0, "%s", mg_error());
	cr_assert(created);
	mg_policy_defaults(&policy);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(otpstore, .init = setup, .fini = teardown);

static struct mg_otpstore *open_store(void)
{
	struct mg_otpstore *s = NULL;

	cr_assert_eq(mg_otpstore_open(store, hostkey, &s), 0, "%s", mg_error());
	return s;
}

/* Enrolls user with the RFC 4226 seed, active. */
static void enroll(struct mg_otpstore *s, const char *user)
{
	struct mg_otp_params p = {MG_OTP_SHA1, 6, 30};
	struct mg_otp_state st;

	cr_assert_eq(mg_otp_state_generate(&st, user, &p, 1000), 0, "%s", mg_error());
	memcpy(st.secret, "12345678901234567890", 20);
	st.active = true;
	cr_assert_eq(mg_otpstore_write(s, &st), 0, "%s", mg_error());
	mg_otp_state_wipe(&st);
}

static void code_at(int64_t t, char out[MG_OTP_CODE_MAX + 1])
{
	mg_otp_format(mg_otp_hotp(MG_OTP_SHA1, (const uint8_t *)"12345678901234567890", 20,
	                          mg_otp_step(t, 30), 6), 6, out);
}

static enum mg_otp_verdict attempt(struct mg_otpstore *s, const char *user, const char *code,
                                   int64_t now, struct mg_otp_result *res)
{
	cr_assert_eq(mg_otpstore_verify(s, user, code, false, &policy.otp, now, res), 0, "%s", mg_error());
	return res->verdict;
}

Test(otpstore, accepts_once_then_replay)
{
	struct mg_otpstore *s = open_store();
	struct mg_otp_result res;
	char code[9];
	int64_t t = 1800000000;

	enroll(s, "alice");
	code_at(t, code);
	cr_expect_eq(attempt(s, "alice", code, t, &res), MG_OTP_ACCEPT);
	cr_expect_eq(attempt(s, "alice", code, t, &res), MG_OTP_REPLAY);
	/* A code of the previous step (inside the window) is below the floor now. */
	code_at(t - 30, code);
	cr_expect_eq(attempt(s, "alice", code, t, &res), MG_OTP_REPLAY);
	code_at(t + 30, code);
	cr_expect_eq(attempt(s, "alice", code, t + 30, &res), MG_OTP_ACCEPT);
	cr_expect_eq(res.failures, 0);
	mg_otpstore_close(s);
}

Test(otpstore, window_is_one_step)
{
	struct mg_otpstore *s = open_store();
	struct mg_otp_result res;
	char code[9];
	int64_t t = 1800000000;

	enroll(s, "alice");
	code_at(t + 60, code);
	cr_expect_eq(attempt(s, "alice", code, t, &res), MG_OTP_REJECT);
	code_at(t + 30, code);
	cr_expect_eq(attempt(s, "alice", code, t, &res), MG_OTP_ACCEPT);
	mg_otpstore_close(s);
}

Test(otpstore, failures_lock_and_expire)
{
	struct mg_otpstore *s = open_store();
	struct mg_otp_result res;
	char code[9];
	int64_t t = 1800000000;

	enroll(s, "alice");
	for (int i = 1; i <= 10; i++) {
		cr_expect_eq(attempt(s, "alice", "000000", t, &res), MG_OTP_REJECT);
		cr_expect_eq(res.failures, (uint64_t)i);
	}
	cr_expect_eq(res.lock_remaining, 600);
	cr_expect_eq(res.delay, 10);
	code_at(t, code);
	cr_expect_eq(attempt(s, "alice", code, t + 1, &res), MG_OTP_LOCKED);
	cr_expect_eq(res.failures, 11);
	cr_expect_eq(res.lock_remaining, 599);
	code_at(t + 600, code);
	cr_expect_eq(attempt(s, "alice", code, t + 600, &res), MG_OTP_ACCEPT);
	mg_otpstore_close(s);
}

Test(otpstore, lockout_until_unlocked)
{
	struct mg_otpstore *s = open_store();
	struct mg_otp_result res;

	policy.otp.lockout_seconds = 0;
	policy.otp.max_failures = 2;
	enroll(s, "alice");
	attempt(s, "alice", "000000", 1800000000, &res);
	attempt(s, "alice", "000000", 1800000000, &res);
	cr_expect_eq(attempt(s, "alice", "000000", 1900000000, &res), MG_OTP_LOCKED);
	cr_expect_eq(res.lock_remaining, -1);
	mg_otpstore_close(s);
}

Test(otpstore, users_do_not_share_files)
{
	struct mg_otpstore *s = open_store();
	struct mg_otp_state st;
	char src[160], dst[160], cmd[400];

	enroll(s, "alice");
	snprintf(src, sizeof(src), "%s/alice", store);
	snprintf(dst, sizeof(dst), "%s/bob", store);
	snprintf(cmd, sizeof(cmd), "sed 's/\"user\":\"alice\"/\"user\":\"bob\"/' %s > %s && chmod 600 %s",
	         src, dst, dst);
	cr_assert_eq(system(cmd), 0);
	cr_expect_eq(mg_otpstore_read(s, "bob", &st), -EBADMSG);
	cr_expect(strstr(mg_error(), "does not open with the host key"), "%s", mg_error());
	mg_otpstore_close(s);
}

Test(otpstore, refuses_open_or_foreign_files)
{
	struct mg_otpstore *s = open_store();
	struct mg_otp_state st;
	char path[160];

	enroll(s, "alice");
	snprintf(path, sizeof(path), "%s/alice", store);
	cr_assert_eq(chmod(path, 0620), 0);
	cr_expect_eq(mg_otpstore_read(s, "alice", &st), -EPERM);
	cr_expect(strstr(mg_error(), "open to group or others"), "%s", mg_error());
	cr_assert_eq(chmod(path, 0600), 0);
	if (geteuid() == 0) {
		cr_assert_eq(chown(path, 65534, 0), 0);
		cr_expect_eq(mg_otpstore_read(s, "alice", &st), -EPERM);
		cr_expect(strstr(mg_error(), "owned by uid 65534"), "%s", mg_error());
	}
	mg_otpstore_close(s);
}

Test(otpstore, missing_or_open_host_key)
{
	struct mg_otpstore *s = NULL;

	cr_assert_eq(chmod(hostkey, 0640), 0);
	cr_expect_eq(mg_otpstore_open(store, hostkey, &s), -EPERM);
	cr_assert_eq(unlink(hostkey), 0);
	cr_expect_eq(mg_otpstore_open(store, hostkey, &s), -ENOENT);
	cr_expect(strstr(mg_error(), "host key"), "%s", mg_error());
}

Test(otpstore, corrupt_file_fails_closed)
{
	struct mg_otpstore *s = open_store();
	struct mg_otp_result res;
	char path[160];
	FILE *f;

	enroll(s, "alice");
	snprintf(path, sizeof(path), "%s/alice", store);
	f = fopen(path, "w");
	fputs("{\"format\":\"mynaguard-otp 1\",", f);
	fclose(f);
	cr_expect_lt(mg_otpstore_verify(s, "alice", "123456", false, &policy.otp, 1800000000, &res), 0);
	cr_expect(strstr(mg_error(), "alice"), "%s", mg_error());
	mg_otpstore_close(s);
}

Test(otpstore, clock_behind_floor)
{
	struct mg_otpstore *s = open_store();
	struct mg_otp_result res;
	char code[9];
	int64_t t = 1800000000;

	enroll(s, "alice");
	code_at(t, code);
	cr_expect_eq(attempt(s, "alice", code, t, &res), MG_OTP_ACCEPT);
	code_at(t - 3600, code);
	cr_expect_eq(mg_otpstore_verify(s, "alice", code, false, &policy.otp, t - 3600, &res), -ESTALE);
	cr_expect(strstr(mg_error(), "behind the last accepted code"), "%s", mg_error());
	mg_otpstore_close(s);
}

Test(otpstore, not_enrolled)
{
	struct mg_otpstore *s = open_store();
	struct mg_otp_result res;

	cr_expect_eq(attempt(s, "nobody", "123456", 1800000000, &res), MG_OTP_NOT_ENROLLED);
	cr_expect_eq(mg_otpstore_verify(s, "../etc", "123456", false, &policy.otp, 1, &res), -EINVAL);
	mg_otpstore_close(s);
}

Test(otpstore, recovery_codes_single_use)
{
	struct mg_otpstore *s = open_store();
	struct mg_otp_state st;
	struct mg_otp_result res;
	char codes[3][MG_OTP_RECOVERY_LEN + 4], upper[32];

	enroll(s, "alice");
	cr_assert_eq(mg_otpstore_read(s, "alice", &st), 0, "%s", mg_error());
	cr_assert_eq(mg_otp_state_new_recovery(&st, 3, codes), 0, "%s", mg_error());
	cr_assert_eq(mg_otpstore_write(s, &st), 0);
	cr_expect_eq(strlen(codes[1]), 19);
	cr_expect_eq(attempt(s, "alice", codes[1], 1800000000, &res), MG_OTP_ACCEPT_RECOVERY);
	cr_expect_eq(res.recovery_left, 2);
	cr_expect_eq(attempt(s, "alice", codes[1], 1800000000, &res), MG_OTP_REJECT);
	for (size_t i = 0; codes[2][i]; i++)
		upper[i] = (char)(codes[2][i] == '-' ? '-' : codes[2][i] - ('a' <= codes[2][i] ? 32 : 0));
	upper[19] = '\0';
	cr_expect_eq(attempt(s, "alice", upper, 1800000000, &res), MG_OTP_ACCEPT_RECOVERY);
	mg_otp_state_wipe(&st);
	mg_otpstore_close(s);
}

Test(otpstore, resync_sets_drift)
{
	struct mg_otpstore *s = open_store();
	struct mg_otp_state st;
	struct mg_otp_result res;
	char c1[9], c2[9], c3[9];
	int64_t t = 1800000000, ahead = 20 * 30;

	enroll(s, "alice");
	cr_assert_eq(mg_otpstore_read(s, "alice", &st), 0);
	code_at(t + ahead, c1);
	code_at(t + ahead + 30, c2);
	cr_expect_eq(mg_otp_state_resync(&st, c1, c2, 10, t), -ENOENT);
	cr_assert_eq(mg_otp_state_resync(&st, c1, c2, 60, t), 0, "%s", mg_error());
	cr_expect_eq(st.drift, 21);
	cr_assert_eq(mg_otpstore_write(s, &st), 0);
	mg_otp_state_wipe(&st);
	code_at(t + ahead + 60, c3);
	cr_expect_eq(attempt(s, "alice", c2, t + 30, &res), MG_OTP_REPLAY);
	cr_expect_eq(attempt(s, "alice", c3, t + 30, &res), MG_OTP_ACCEPT);
	mg_otpstore_close(s);
}

Test(otpstore, format_round_trip)
{
	struct mg_otp_params p = {MG_OTP_SHA512, 8, 60};
	struct mg_otp_state a, b;
	uint8_t key[MG_OTP_HOSTKEY_BYTES] = {1};
	char *json;
	size_t len;

	cr_assert_eq(mg_otp_state_generate(&a, "bob", &p, 5), 0);
	a.last_step = 77;
	a.drift = -3;
	cr_assert_eq(mg_otp_state_format(&a, key, &json, &len), 0);
	cr_assert_eq(mg_otp_state_parse(json, len, "bob", "bob", key, &b), 0, "%s", mg_error());
	cr_expect_eq(b.secret_len, 64);
	cr_expect_eq(memcmp(a.secret, b.secret, 64), 0);
	cr_expect_eq(b.params.digits, 8);
	cr_expect_eq(b.drift, -3);
	cr_expect_eq(b.last_step, 77);
	cr_expect_null(strstr(json, "\"secret\":\"\""));
	key[0] = 2;
	cr_expect_eq(mg_otp_state_parse(json, len, "bob", "bob", key, &b), -EBADMSG);
	free(json);
}

Test(otpstore, users_list_and_remove)
{
	struct mg_otpstore *s = open_store();
	char **users;
	size_t n;

	enroll(s, "carol");
	enroll(s, "alice");
	cr_assert_eq(mg_otpstore_users(s, &users, &n), 0);
	cr_assert_eq(n, 2);
	cr_expect_str_eq(users[0], "alice");
	cr_expect_str_eq(users[1], "carol");
	for (size_t i = 0; i < n; i++)
		free(users[i]);
	free(users);
	cr_expect_eq(mg_otpstore_remove(s, "carol"), 0);
	cr_expect_eq(mg_otpstore_remove(s, "carol"), -ENOENT);
	mg_otpstore_close(s);
}

Test(otpstore, trailing_code_after_password)
{
	struct mg_otpstore *s = open_store();
	struct mg_otp_result res;
	char code[9], input[64];
	int64_t t = 1800000000;

	enroll(s, "alice");
	code_at(t, code);
	snprintf(input, sizeof(input), "pass123%s", code);
	cr_assert_eq(mg_otpstore_verify(s, "alice", input, true, &policy.otp, t, &res), 0);
	cr_expect_eq(res.verdict, MG_OTP_ACCEPT);
	cr_expect_eq(res.prefix_len, 7);
	mg_otpstore_close(s);
}

Test(otpstore, window_zero_same_step_is_a_replay_not_a_clock_fault)
{
	struct mg_otpstore *s = open_store();
	struct mg_otp_result res;
	char code[9];
	int64_t t = 1800000000;

	policy.otp.window = 0;
	enroll(s, "alice");
	code_at(t, code);
	cr_expect_eq(attempt(s, "alice", code, t, &res), MG_OTP_ACCEPT);
	cr_expect_eq(attempt(s, "alice", code, t + 1, &res), MG_OTP_REPLAY);
	cr_expect_eq(attempt(s, "alice", "000000", t + 1, &res), MG_OTP_REJECT);
	mg_otpstore_close(s);
}

Test(otpstore, helper_paths)
{
	struct mg_otp_paths p;
	const char *good = "# the helper's paths\n store = /srv/otp \nhostkey=/srv/k\n\nstatedir = /srv/state\n";

	cr_assert_eq(mg_otp_paths_parse(good, strlen(good), "c", &p), 0, "%s", mg_error());
	cr_expect_str_eq(p.store, "/srv/otp");
	cr_expect_str_eq(p.hostkey, "/srv/k");
	cr_expect_str_eq(p.statedir, "/srv/state");
	cr_expect(strstr(p.config, "mynaguard.conf"));
	cr_expect_eq(mg_otp_paths_parse("store = relative\n", 17, "c", &p), -EINVAL);
	cr_expect(strstr(mg_error(), "c:1: store: expected an absolute path"), "%s", mg_error());
	cr_expect_eq(mg_otp_paths_parse("store=/a\nstore=/b\n", 18, "c", &p), -EINVAL);
	cr_expect(strstr(mg_error(), "c:2: store given twice"), "%s", mg_error());
	cr_expect_eq(mg_otp_paths_parse("user = root\n", 12, "c", &p), -EINVAL);
	cr_expect_eq(mg_otp_paths_parse("store /a\n", 9, "c", &p), -EINVAL);
	cr_expect_eq(mg_otp_paths_parse("store=/a\0", 9, "c", &p), -EINVAL);
}
