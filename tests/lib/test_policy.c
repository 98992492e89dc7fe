/* The policy root and the fetch section: defaults, and each error naming
 * the JSON path.  The other sections test themselves beside their modules. */
#include <criterion/criterion.h>
#include <string.h>

#include "mynaguard/error.h"
#include "mynaguard/policy.h"

static void expect_error(const char *text, const char *msg)
{
	struct mg_policy *p = NULL;

	cr_assert_lt(mg_policy_parse(text, strlen(text), "policy.json", &p), 0, "accepted %s", text);
	cr_assert_null(p);
	cr_assert_str_eq(mg_error(), msg);
}

Test(policy, the_smallest_policy_means_the_defaults)
{
	struct mg_policy *p = NULL, d;

	cr_assert_eq(mg_policy_parse("{\"schema\":1}", 12, "policy.json", &p), 0, "%s", mg_error());
	mg_policy_defaults(&d);
	cr_assert_eq(p->schema, 1);
	cr_assert_null(p->description);
	cr_assert_eq(p->fetch.interval, 900);
	cr_assert_eq(p->fetch.max_bytes, 16u << 20);
	cr_assert_eq(p->fetch.timeout, 60);
	cr_assert_eq(p->fetch.low_speed_limit, 64);
	cr_assert_eq(p->fetch.low_speed_time, 15);
	cr_assert_eq(memcmp(&p->fetch, &d.fetch, sizeof(d.fetch)), 0);
	mg_policy_free(p);
}

Test(policy, fetch_and_description_are_read)
{
	static const char text[] =
		"{\"schema\":1,\"description\":\"本庁 住民記録系端末\",\"fetch\":{\"interval\":300,"
		"\"max_bytes\":4096,\"timeout\":5,\"low_speed_limit\":1048576,\"low_speed_time\":600}}";
	struct mg_policy *p = NULL;

	cr_assert_eq(mg_policy_parse(text, strlen(text), "policy.json", &p), 0, "%s", mg_error());
	cr_assert_str_eq(p->description, "本庁 住民記録系端末");
	cr_assert_eq(p->fetch.interval, 300);
	cr_assert_eq(p->fetch.max_bytes, 4096);
	cr_assert_eq(p->fetch.timeout, 5);
	cr_assert_eq(p->fetch.low_speed_limit, 1 << 20);
	cr_assert_eq(p->fetch.low_speed_time, 600);
	mg_policy_free(p);
}

Test(policy, root_errors_name_the_path)
{
	expect_error("{}", "policy.json: $.schema: required");
	expect_error("{\"schema\":2,\"future\":{}}", "policy.json: $.schema: 2 is out of range 1..1");
	expect_error("{\"schema\":\"1\"}", "policy.json: $.schema: expected an integer");
	expect_error("{\"schema\":1,\"fetchh\":{}}", "policy.json: $.fetchh: unknown key");
	expect_error("{\"schema\":1,\"description\":7}", "policy.json: $.description: expected a string");
	expect_error("{\"schema\":1,\"fetch\":[]}", "policy.json: $.fetch: expected an object");
	expect_error("[]", "policy.json: $: expected an object");
	expect_error("{\"schema\":1,\"description\":\"a\\u001b[2Jb\"}",
	             "policy.json: $.description: control character U+001B");
}

Test(policy, fetch_errors_name_the_path)
{
	expect_error("{\"schema\":1,\"fetch\":{\"interval\":59}}",
	             "policy.json: $.fetch.interval: 59 is out of range 60..86400");
	expect_error("{\"schema\":1,\"fetch\":{\"interval\":86401}}",
	             "policy.json: $.fetch.interval: 86401 is out of range 60..86400");
	expect_error("{\"schema\":1,\"fetch\":{\"max_bytes\":4095}}",
	             "policy.json: $.fetch.max_bytes: 4095 is out of range 4096..67108864");
	expect_error("{\"schema\":1,\"fetch\":{\"timeout\":601}}",
	             "policy.json: $.fetch.timeout: 601 is out of range 5..600");
	expect_error("{\"schema\":1,\"fetch\":{\"low_speed_limit\":0}}",
	             "policy.json: $.fetch.low_speed_limit: 0 is out of range 1..1048576");
	expect_error("{\"schema\":1,\"fetch\":{\"low_speed_time\":true}}",
	             "policy.json: $.fetch.low_speed_time: expected an integer");
	expect_error("{\"schema\":1,\"fetch\":{\"url\":\"http://x\"}}",
	             "policy.json: $.fetch.url: unknown key");
}

Test(policy, parse_errors_name_the_line)
{
	struct mg_policy *p = NULL;

	cr_assert_eq(mg_policy_parse("{\"schema\":1,\n\"schema\":1}", 25, "policy.json", &p), -EBADMSG);
	cr_assert(strncmp(mg_error(), "policy.json: line 2", 19) == 0, "%s", mg_error());
	cr_assert_eq(mg_policy_parse("{\"schema\":1} x", 14, "policy.json", &p), -EBADMSG);
}

Test(policy, an_oversized_policy_is_refused_before_parsing)
{
	struct mg_policy *p = NULL;

	cr_assert_eq(mg_policy_parse("{}", MG_POLICY_MAX_BYTES + 1, "policy.json", &p), -EFBIG);
	cr_assert(strstr(mg_error(), "larger than"), "%s", mg_error());
}

Test(policy, free_accepts_null)
{
	mg_policy_free(NULL);
}

Test(policy, one_section_only)
{
	static const char text[] =
		"{\"schema\":1,\"otp\":{\"max_failures\":3},"
		"\"devices\":{\"rules\":[{\"id\":\"r\",\"match\":{\"vendor\":\"0781\"},\"target\":\"allow\"}]}}";
	_cleanup_policy_ struct mg_policy *p = NULL, *whole = NULL;
	struct mg_policy *q = NULL;

	cr_assert_eq(mg_policy_parse(text, strlen(text), "policy.json", &whole), 0, "%s", mg_error());
	cr_assert_eq(whole->devices.n_rules, 1);
	cr_assert_eq(mg_policy_parse_only(text, strlen(text), "policy.json", "otp", &p), 0, "%s",
	             mg_error());
	cr_assert_eq(p->otp.max_failures, 3);
	cr_assert_eq(p->devices.n_rules, 0, "the devices section was parsed");
	/* The root is still checked whole. */
	cr_assert_lt(mg_policy_parse_only("{\"schema\":1,\"x\":{}}", 19, "policy.json", "otp", &q), 0);
	cr_assert_null(q);
}
