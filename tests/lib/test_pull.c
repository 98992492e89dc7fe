#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "mynaguard/error.h"
#include "mynaguard/pull.h"
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
	"\"etag_version\":4,\"outcome\":\"not-modified\",\"last_attempt\":\"2026-12-06T05:00:00Z\","
	"\"last_success\":\"2026-12-06T05:00:00Z\",\"failures\":0}";

Test(state, round_trip)
{
	struct mg_pull_state st, again;
	_cleanup_free_ char *text = NULL;
	size_t len;

	cr_assert_eq(mg_pull_state_parse(state_json, strlen(state_json), "pull.json", &st), 0, "%s",
	             mg_error());
	cr_assert_str_eq(st.etag, "\"6b14-8\"");
	cr_assert_eq(st.etag_version, 4);
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
