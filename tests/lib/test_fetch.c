/* mg_fetch over file:// (the approved-media path) and its refusals.  The
 * http and https paths are proven against real nginx and the attack servers
 * in tests/integration/{policy_over_nginx,fetch_bounds}.sh. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mynaguard/error.h"
#include "mynaguard/fetch.h"
#include "mynaguard/file.h"
#include "mynaguard/util.h"

static char dir[64];
static char url[128];

static void setup(void)
{
	char path[128];

	snprintf(dir, sizeof(dir), "/tmp/mg-test-fetch.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/current", dir);
	cr_assert_eq(mg_file_replace(path, "0123456789", 10, 0644), 0);
	snprintf(url, sizeof(url), "file://%s/current", dir);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(fetch, .init = setup, .fini = teardown);

static struct mg_fetch_request request(const char *u)
{
	return (struct mg_fetch_request){
		.url = u, .terminal_id = "t-0012", .policy_version = 4, .max_bytes = 4096,
		.timeout = 10, .low_speed_limit = 1, .low_speed_time = 10,
	};
}

Test(fetch, reads_a_file_url)
{
	struct mg_fetch_request req = request(url);
	struct mg_fetch_result res;

	cr_assert_eq(mg_fetch(&req, &res), 0, "%s", mg_error());
	cr_assert_eq(res.len, 10);
	cr_assert_eq(memcmp(res.body, "0123456789", 10), 0);
	cr_assert_not(res.not_modified);
	cr_assert_eq(res.status, 0);
	mg_fetch_result_free(&res);
	cr_assert_null(res.body);
}

Test(fetch, limits_come_from_the_policy)
{
	struct mg_fetch_policy f = {.interval = 900, .max_bytes = 5000, .timeout = 7,
	                            .low_speed_limit = 3, .low_speed_time = 4};
	struct mg_fetch_request req = request(url);

	mg_fetch_request_limits(&req, &f);
	cr_assert_eq(req.max_bytes, 5000);
	cr_assert_eq(req.timeout, 7);
	cr_assert_eq(req.low_speed_limit, 3);
	cr_assert_eq(req.low_speed_time, 4);
}

Test(fetch, stops_at_the_byte_cap)
{
	struct mg_fetch_request req = request(url);
	struct mg_fetch_result res;

	req.max_bytes = 9;
	cr_assert_eq(mg_fetch(&req, &res), -EFBIG);
	cr_assert(strstr(mg_error(), "more than 9 bytes"), "%s", mg_error());
	cr_assert_null(res.body);
	req.max_bytes = 10;
	cr_assert_eq(mg_fetch(&req, &res), 0, "%s", mg_error());
	mg_fetch_result_free(&res);
}

Test(fetch, a_missing_file_names_the_url)
{
	char missing[160];
	struct mg_fetch_request req;
	struct mg_fetch_result res;

	snprintf(missing, sizeof(missing), "file://%s/nothing", dir);
	req = request(missing);
	cr_assert_lt(mg_fetch(&req, &res), 0);
	cr_assert_eq(strncmp(mg_error(), missing, strlen(missing)), 0, "%s", mg_error());
}

static void expect_refused(struct mg_fetch_request req, const char *why)
{
	struct mg_fetch_result res;

	cr_assert_eq(mg_fetch(&req, &res), -EINVAL, "%s", req.url ? req.url : "(null)");
	cr_assert(strstr(mg_error(), why), "'%s' not in '%s'", why, mg_error());
}

Test(fetch, only_three_schemes_and_no_credentials)
{
	expect_refused(request("ftp://127.0.0.1/g1/current"), "only https://, http:// and file://");
	expect_refused(request("gopher://127.0.0.1/"), "only https://");
	expect_refused(request("scp://host/x"), "only https://");
	expect_refused(request("http://user:secret@127.0.0.1/g1/current"), "credentials");
	expect_refused(request("not a url"), "not a valid URL");
	expect_refused(request(NULL), "no repository URL");
}

Test(fetch, terminal_id_cannot_break_the_header)
{
	struct mg_fetch_request req = request(url);

	req.terminal_id = "t1\r\nX-Evil: 1";
	expect_refused(req, "terminal id");
	req.terminal_id = "";
	expect_refused(req, "terminal id");
	req.terminal_id = NULL;
	expect_refused(req, "terminal id");
	req.terminal_id = "t 1";
	expect_refused(req, "terminal id");
}
