/* The poll schedule, pull.json, and whole polls over file:// against a real
 * terminal state (keyring pinned, bundles signed and published). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "mynaguard/bundle.h"
#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/journal.h"
#include "mynaguard/keyring.h"
#include "mynaguard/pull.h"
#include "mynaguard/repo.h"
#include "mynaguard/terminal.h"
#include "mynaguard/util.h"

#define RMAX UINT32_MAX

Test(schedule, first_poll_is_a_random_phase_of_one_interval)
{
	cr_assert_eq(mg_pull_first_delay(900, 0), 0);
	cr_assert_eq(mg_pull_first_delay(900, RMAX), 899);
	cr_assert_eq(mg_pull_first_delay(900, RMAX / 2), 449);
	for (uint32_t r = 0; r < RMAX - 7919u * 65537u; r += 7919u * 65537u)
		cr_assert_lt(mg_pull_first_delay(60, r), 60);
}

Test(schedule, success_is_the_interval_within_20_percent)
{
	cr_assert_eq(mg_pull_next_delay(900, 0, 0), 720);
	cr_assert_eq(mg_pull_next_delay(900, 0, RMAX), 1079);
	cr_assert_eq(mg_pull_next_delay(900, 0, RMAX / 2), 899);
	cr_assert_eq(mg_pull_next_delay(60, 0, 0), 48);
	cr_assert_eq(mg_pull_next_delay(86400, 0, RMAX), 103679);
}

Test(schedule, failures_back_off_exponentially_with_jitter)
{
	/* base 30 s doubling: 30, 60, 120, 240, ...; delay in [base/2, base]. */
	static const uint64_t base[] = {30, 60, 120, 240, 480, 960, 1920, 3600, 3600};

	for (size_t n = 0; n < MG_ARRAY_SIZE(base); n++) {
		uint64_t lo = mg_pull_next_delay(900, n + 1, 0);
		uint64_t hi = mg_pull_next_delay(900, n + 1, RMAX);

		cr_assert_eq(lo, base[n] - base[n] / 2, "failure %zu: %llu", n + 1, (unsigned long long)lo);
		cr_assert_geq(hi, base[n] - 1, "failure %zu", n + 1);
		cr_assert_leq(hi, base[n], "failure %zu", n + 1);
	}
}

Test(schedule, backoff_is_capped)
{
	/* four intervals ... */
	cr_assert_leq(mg_pull_next_delay(60, 50, RMAX), 240);
	cr_assert_geq(mg_pull_next_delay(60, 50, 0), 120);
	/* ... and one day, even after absurd failure counts */
	cr_assert_leq(mg_pull_next_delay(86400, UINT64_MAX, RMAX), 86400);
	cr_assert_geq(mg_pull_next_delay(86400, UINT64_MAX, 0), 43200);
}

static const char state_json[] =
	"{\"format\":1,\"url\":\"http://127.0.0.1:8080/g1/current\",\"etag\":\"\\\"6b14-8\\\"\","
	"\"judged_version\":4,\"outcome\":\"not-modified\",\"last_attempt\":\"2026-12-06T05:00:00Z\","
	"\"last_success\":\"2026-12-06T05:00:00Z\",\"failures\":0}";

Test(state, round_trip)
{
	struct mg_pull_state st, again;
	_cleanup_free_ char *text = NULL;
	size_t len;

	cr_assert_eq(mg_pull_state_parse(state_json, strlen(state_json), "pull.json", &st), 0, "%s",
	             mg_error());
	cr_assert_str_eq(st.etag, "\"6b14-8\"");
	cr_assert_eq(st.judged_version, 4);
	cr_assert_eq(st.outcome, MG_PULL_NOT_MODIFIED);
	cr_assert_not(st.has_pointer);
	mg_pointer_for(&st.pointer, 4, "bundle", 6);
	st.has_pointer = true;
	st.failures = 3;
	cr_assert_eq(mg_pull_state_format(&st, &text, &len), 0);
	cr_assert_eq(mg_pull_state_parse(text, len, "pull.json", &again), 0, "%s: %s", text, mg_error());
	cr_assert_eq(memcmp(&st, &again, sizeof(st)), 0);
}

static void expect_refused(const char *text, const char *why)
{
	struct mg_pull_state st;

	cr_assert_lt(mg_pull_state_parse(text, strlen(text), "pull.json", &st), 0, "accepted %s", text);
	cr_assert(strstr(mg_error(), why), "'%s' not in '%s'", why, mg_error());
	cr_assert_eq(st.etag[0], '\0', "a refused state must leave nothing behind");
}

Test(state, is_strict)
{
	expect_refused("{\"format\":2,\"outcome\":\"none\",\"failures\":0}", "$.format");
	expect_refused("{\"format\":1,\"outcome\":\"none\"}", "$.failures: required");
	expect_refused("{\"format\":1,\"outcome\":\"maybe\",\"failures\":0}", "$.outcome");
	expect_refused("{\"format\":1,\"outcome\":\"none\",\"failures\":0,\"x\":1}", "$.x: unknown key");
	expect_refused("{\"format\":1,\"outcome\":\"none\",\"failures\":0,\"etag\":\"a\",\"etag\":\"b\"}",
	               "duplicate");
	expect_refused("{\"format\":1,\"outcome\":\"none\",\"failures\":0,"
	               "\"last_attempt\":\"2026-12-06 05:00:00\"}", "$.last_attempt");
	expect_refused("{\"format\":1,\"outcome\":\"none\",\"failures\":0,"
	               "\"pointer\":{\"format\":1}}", "$.pointer");
	expect_refused("{\"format\":1,\"outcome\":\"none\",\"failures\":0,"
	               "\"etag\":\"a\\r\\nX-Evil: 1\"}", "$.etag: not printable");
}

Test(outcome, names)
{
	cr_assert_str_eq(mg_pull_outcome_name(MG_PULL_NOT_MODIFIED), "not-modified");
	cr_assert_str_eq(mg_pull_outcome_name(MG_PULL_REJECTED), "rejected");
	cr_assert_str_eq(mg_pull_outcome_name((enum mg_pull_outcome)99), "none");
}

/* ---- one poll, end to end over file:// (the approved-media path) ---- */

#define NOW 1796533200                 /* 2026-12-06T05:00:00Z */
#define DAY 86400

static char dir[64], state[96], repo[96], url[128];
static struct mg_secret_key sk[3];     /* 0: root, 1: policy, 2: a key nobody trusts */
static struct mg_public_key pk[3];
static struct mg_config cfg = {.terminal_id = "t-0012", .group = "honcho"};

static void pin(void)
{
	struct mg_keyring kr = {.version = 1, .issued = NOW - DAY};
	const struct mg_secret_key *keys[] = {&sk[0]};
	struct mg_terminal_ctx ctx = {.state_dir = state, .component = "test", .target = "honcho"};
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0;
	uint64_t v;

	kr.root.keys[0] = pk[0];
	kr.root.nkeys = kr.root.threshold = 1;
	kr.policy.keys[0] = pk[1];
	kr.policy.nkeys = kr.policy.threshold = 1;
	cr_assert_eq(mg_keyring_create(&kr, keys, 1, &buf, &len), 0, "%s", mg_error());
	cr_assert_eq(mg_terminal_keyring_pin(&ctx, buf, len, "keyring", &v), 0, "%s", mg_error());
}

static void pull_setup(void)
{
	cr_assert(sodium_init() >= 0);
	strcpy(dir, "/tmp/mg-test-pull.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(repo, sizeof(repo), "%s/repo", dir);
	snprintf(url, sizeof(url), "file://%s", repo);
	cr_assert_eq(mg_dir_ensure(state, 0755), 0);
	setenv("MYNAGUARD_FAKE_TIME", "1796533200", 1);
	for (int i = 0; i < 3; i++) {
		crypto_sign_ed25519_keypair(pk[i].pk, sk[i].sk);
		mg_key_id(pk[i].pk, pk[i].id);
		memcpy(sk[i].id, pk[i].id, sizeof(sk[i].id));
		snprintf(pk[i].name, sizeof(pk[i].name), "k%d", i);
	}
	pin();
}

static void pull_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(pull, .init = pull_setup, .fini = pull_teardown);

/* Signs a policy (with padding bytes of description) and publishes it. */
static void publish(uint64_t version, int key, const char *fetch, size_t padding,
                    struct mg_pointer *ptr)
{
	struct mg_bundle_header h = {.version = version, .issued = NOW - 60,
	                             .expires = NOW + 30 * DAY, .keyring = 1};
	const struct mg_secret_key *keys[] = {&sk[key]};
	_cleanup_free_ char *policy = NULL, *pad = calloc(1, padding + 1);
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0;

	cr_assert_not_null(pad);
	memset(pad, 'x', padding);
	strcpy(h.target, "honcho");
	cr_assert_geq(asprintf(&policy, "{\"schema\":1,\"description\":\"%s\"%s%s}", pad,
	                       fetch ? ",\"fetch\":" : "", fetch ? fetch : ""), 0);
	cr_assert_eq(mg_bundle_create(&h, (uint8_t *)policy, strlen(policy), keys, 1, &buf, &len), 0,
	             "%s", mg_error());
	cr_assert_eq(mg_repo_publish(repo, "honcho", version, buf, len, ptr), 0, "%s", mg_error());
}

static int pull(struct mg_pull_report *rep)
{
	struct mg_pull_request req = {.state_dir = state, .component = "test", .repository = url,
	                              .cfg = &cfg};

	return mg_pull(&req, rep);
}

static void remove_bundle(const struct mg_pointer *p)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/honcho/%s", repo, p->path);
	cr_assert_eq(unlink(path), 0, "%s", path);
}

static uint64_t audit_records(void)
{
	char adir[128];
	struct mg_journal_report rep = {0};

	snprintf(adir, sizeof(adir), "%s/audit", state);
	cr_assert_eq(mg_journal_verify(adir, &rep), 0, "%s", mg_error());
	return rep.records;
}

Test(pull, applies_then_leaves_the_bundle_in_force_alone)
{
	struct mg_pull_report rep;
	struct mg_pull_state st;
	struct mg_pointer p;

	publish(1, 1, NULL, 0, &p);
	cr_assert_eq(pull(&rep), 0, "%s", mg_error());
	cr_assert_eq(rep.outcome, MG_PULL_APPLIED);
	cr_assert_eq(rep.version, 1);
	cr_assert_eq(rep.previous, 0);
	cr_assert_eq(rep.bytes, p.size + strlen("{\"format\":1,\"version\":1,\"path\":\"\",\"size\":,"
	                                        "\"blake2b\":\"\"}\n") + strlen(p.path) + 128 +
	                        (size_t)snprintf(NULL, 0, "%llu", (unsigned long long)p.size));
	/* The pointer names what is in force: no download, so a missing
	 * file does not matter. */
	remove_bundle(&p);
	cr_assert_eq(pull(&rep), 0, "%s", mg_error());
	cr_assert_eq(rep.outcome, MG_PULL_UNCHANGED);
	cr_assert_eq(mg_pull_state_read(state, &st), 0, "%s", mg_error());
	cr_assert_eq(st.outcome, MG_PULL_UNCHANGED);
	cr_assert_eq(st.last_success, NOW);
	cr_assert_eq(st.failures, 0);
}

Test(pull, a_refused_pointer_is_judged_once)
{
	struct mg_pull_report rep;
	struct mg_pointer p;
	uint64_t records;

	publish(1, 1, NULL, 0, &p);
	cr_assert_eq(pull(&rep), 0, "%s", mg_error());
	publish(2, 2, NULL, 0, &p);
	records = audit_records();
	cr_assert_lt(pull(&rep), 0);
	cr_assert_eq(rep.outcome, MG_PULL_REJECTED);
	cr_assert_eq(rep.version, 1);
	cr_assert(strstr(mg_error(), "unknown key"), "%s", mg_error());
	cr_assert_eq(audit_records(), records + 1);
	/* The same pointer again: not fetched (the file is gone), not
	 * judged, not audited again. */
	remove_bundle(&p);
	cr_assert_eq(pull(&rep), 0, "%s", mg_error());
	cr_assert_eq(rep.outcome, MG_PULL_UNCHANGED);
	cr_assert_eq(audit_records(), records + 1);
	/* A new pointer is judged afresh. */
	publish(2, 1, NULL, 0, &p);
	cr_assert_eq(pull(&rep), 0, "%s", mg_error());
	cr_assert_eq(rep.outcome, MG_PULL_APPLIED);
	cr_assert_eq(rep.version, 2);
}

Test(pull, oversized_is_refused_before_the_download)
{
	struct mg_pull_report rep;
	struct mg_pointer p;

	publish(1, 1, "{\"max_bytes\":4096}", 0, &p);
	cr_assert_eq(pull(&rep), 0, "%s", mg_error());
	publish(2, 1, NULL, 5000, &p);
	remove_bundle(&p);
	cr_assert_eq(pull(&rep), -EFBIG);
	cr_assert_eq(rep.outcome, MG_PULL_REJECTED);
	cr_assert(strstr(mg_error(), "oversized"), "%s", mg_error());
}

Test(pull, failures_are_counted_and_reset)
{
	struct mg_pull_report rep;
	struct mg_pull_state st;
	struct mg_pointer p;

	for (int i = 1; i <= 3; i++) {
		cr_assert_lt(pull(&rep), 0);
		cr_assert_eq(rep.outcome, MG_PULL_FAILED);
		cr_assert_eq(mg_pull_state_read(state, &st), 0, "%s", mg_error());
		cr_assert_eq(st.failures, (uint64_t)i);
		cr_assert_eq(st.last_success, 0);
	}
	cr_assert(strncmp(mg_error(), url, strlen(url)) == 0, "%s", mg_error());
	publish(1, 1, NULL, 0, &p);
	cr_assert_eq(pull(&rep), 0, "%s", mg_error());
	cr_assert_eq(mg_pull_state_read(state, &st), 0, "%s", mg_error());
	cr_assert_eq(st.failures, 0);
}

Test(pull, a_damaged_state_file_costs_a_warning_not_a_poll)
{
	struct mg_pull_report rep;
	struct mg_pointer p;
	char path[128];

	publish(1, 1, NULL, 0, &p);
	snprintf(path, sizeof(path), "%s/" MG_PULL_STATE_NAME, state);
	cr_assert_eq(mg_file_replace(path, "{\"format\":", 10, 0644), 0);
	cr_assert_eq(pull(&rep), 0, "%s", mg_error());
	cr_assert_eq(rep.outcome, MG_PULL_APPLIED);
	cr_assert(strstr(rep.state_warning, "pull.json"), "%s", rep.state_warning);
}

Test(pull, configuration_errors_touch_nothing)
{
	struct mg_pull_report rep;
	struct mg_pull_request req = {.state_dir = state, .component = "test", .repository = NULL,
	                              .cfg = &cfg};
	struct mg_config bad = {.terminal_id = "t-0012", .group = "../etc"};
	struct mg_pull_state st;

	cr_assert_eq(mg_pull(&req, &rep), -EINVAL);
	cr_assert(strstr(mg_error(), "no repository URL"), "%s", mg_error());
	req.repository = url;
	req.cfg = &bad;
	cr_assert_eq(mg_pull(&req, &rep), -EINVAL);
	cr_assert(strstr(mg_error(), "group: \"../etc\""), "%s", mg_error());
	cr_assert_eq(rep.outcome, MG_PULL_FAILED);
	bad.group = NULL;
	cr_assert_eq(mg_pull(&req, &rep), -EINVAL);
	cr_assert(strstr(mg_error(), "no group"), "%s", mg_error());
	cr_assert_eq(mg_pull_state_read(state, &st), -ENOENT);
}
