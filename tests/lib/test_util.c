/* UTC time in its one spelling, the fake clock, the host name, and the
 * error convention. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "mynaguard/error.h"
#include "mynaguard/util.h"

Test(util, time_round_trips)
{
	char buf[MG_TIME_LEN];
	int64_t t;

	cr_assert_eq(mg_time_parse("2027-03-31T00:00:00Z", &t), 0);
	cr_assert_eq(t, 1806451200);
	mg_time_format(t, buf);
	cr_assert_str_eq(buf, "2027-03-31T00:00:00Z");
	cr_assert_eq(mg_time_parse("1970-01-01T00:00:00Z", &t), 0);
	cr_assert_eq(t, 0);
	cr_assert_eq(mg_time_parse("2028-02-29T23:59:59Z", &t), 0, "leap day");
}

Test(util, only_one_spelling_of_a_time_is_accepted)
{
	static const char *const bad[] = {
		"2027-03-31 00:00:00Z", "2027-03-31T00:00:00", "2027-03-31T00:00:00+09:00",
		"2027-3-31T00:00:00Z ", "2027- 3-31T00:00:00Z", "2027-02-30T00:00:00Z",
		"2027-13-01T00:00:00Z", "2027-03-31T24:00:00Z", "2027-03-31T00:00:60Z",
		"2027-03-31t00:00:00z", "+027-03-31T00:00:00Z", "", "2027-03-31T00:00:00Z\n",
	};
	int64_t t = 42;

	for (size_t i = 0; i < MG_ARRAY_SIZE(bad); i++) {
		cr_assert_eq(mg_time_parse(bad[i], &t), -EINVAL, "accepted '%s'", bad[i]);
		cr_assert(strstr(mg_error(), "expected a UTC time like"), "%s", mg_error());
	}
	cr_assert_eq(mg_time_parse(NULL, &t), -EINVAL);
	cr_assert_eq(t, 42, "untouched on failure");
}

Test(util, the_clock_can_be_pinned_for_tests)
{
	setenv("MYNAGUARD_FAKE_TIME", "1806451200", 1);
	cr_assert_eq(mg_now(), 1806451200);
	setenv("MYNAGUARD_FAKE_TIME", "nonsense", 1);
	cr_assert_gt(mg_now(), 1700000000, "a bad pin is ignored");
	unsetenv("MYNAGUARD_FAKE_TIME");
}

Test(util, host_name)
{
	cr_assert_gt(strlen(mg_hostname()), 0);
}

Test(util, fail_returns_a_negative_errno_and_one_message)
{
	cr_assert_eq(mg_fail(EINVAL, "a: %d", 1), -EINVAL);
	cr_assert_str_eq(mg_error(), "a: 1");
	cr_assert_eq(mg_fail(-ENOENT, "b"), -ENOENT);
	cr_assert_eq(mg_fail(0, "never success"), -EIO);
	cr_assert_eq(mg_fail_errno(ENOENT, "f.json"), -ENOENT);
	cr_assert_str_eq(mg_error(), "f.json: No such file or directory");
	cr_assert_eq(mg_error_prefix(-ENOENT, "policy %s", "apply"), -ENOENT);
	cr_assert_str_eq(mg_error(), "policy apply: f.json: No such file or directory");
	mg_error_clear();
	cr_assert_str_eq(mg_error(), "");
}

Test(util, a_message_may_quote_the_one_before)
{
	mg_fail(EINVAL, "inner reason");
	mg_fail(EINVAL, "outer: %s", mg_error());
	cr_assert_str_eq(mg_error(), "outer: inner reason");
	mg_fail_errno(EIO, "again: %s", mg_error());
	cr_assert_str_eq(mg_error(), "again: outer: inner reason: Input/output error");
}

Test(util, take_hands_ownership_out)
{
	_cleanup_free_ char *p = strdup("x");
	char *q = MG_TAKE(p);

	cr_assert_null(p);
	free(q);
}
