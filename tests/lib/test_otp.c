#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mynaguard/error.h"
#include "mynaguard/otp.h"
#include "mynaguard/policy.h"

static const char *const seeds[] = {
	[MG_OTP_SHA1] = "12345678901234567890",
	[MG_OTP_SHA256] = "12345678901234567890123456789012",
	[MG_OTP_SHA512] = "1234567890123456789012345678901234567890123456789012345678901234",
};

/* RFC 6238 Appendix B: every row, all three hashes, 8 digits, 30 s. */
Test(otp, rfc6238_appendix_b)
{
	FILE *f = fopen(MG_TEST_DATA "/rfc6238-vectors.tsv", "r");
	char line[256];
	int rows = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		long long t;
		char want[3][16];

		if (line[0] == '#')
			continue;
		cr_assert_eq(sscanf(line, "%lld %15s %15s %15s", &t, want[0], want[1], want[2]), 4);
		for (int alg = MG_OTP_SHA1; alg <= MG_OTP_SHA512; alg++) {
			char got[MG_OTP_CODE_MAX + 1];
			uint32_t code = mg_otp_hotp(alg, (const uint8_t *)seeds[alg], strlen(seeds[alg]),
			                            mg_otp_step(t, 30), 8);
			mg_otp_format(code, 8, got);
			cr_expect_str_eq(got, want[alg], "t=%lld %s", t, mg_otp_algorithm_name(alg));
		}
		rows++;
	}
	fclose(f);
	cr_assert_eq(rows, 6);
}

/* RFC 4226 Appendix D: HOTP counters 0..9, 6 digits. */
Test(otp, rfc4226_appendix_d)
{
	static const char *const want[] = {"755224", "287082", "359152", "969429", "338314",
	                                   "254676", "287922", "162583", "399871", "520489"};

	for (uint64_t c = 0; c < 10; c++) {
		char got[MG_OTP_CODE_MAX + 1];
		mg_otp_format(mg_otp_hotp(MG_OTP_SHA1, (const uint8_t *)seeds[0], 20, c, 6), 6, got);
		cr_expect_str_eq(got, want[c], "counter %llu", (unsigned long long)c);
	}
}

Test(otp, code_equal_needs_exact_digits)
{
	struct mg_otp_params p = {MG_OTP_SHA1, 6, 30};
	const uint8_t *k = (const uint8_t *)seeds[0];

	cr_expect(mg_otp_code_equal(&p, k, 20, 0, "755224"));
	cr_expect_not(mg_otp_code_equal(&p, k, 20, 0, "755225"));
	cr_expect_not(mg_otp_code_equal(&p, k, 20, 0, "7552240"));
	cr_expect_not(mg_otp_code_equal(&p, k, 20, 1, "755224"));
}

Test(otp, code_syntax)
{
	cr_expect(mg_otp_code_syntax("012345", 6));
	cr_expect(mg_otp_code_syntax("01234567", 8));
	cr_expect_not(mg_otp_code_syntax("01234", 6));
	cr_expect_not(mg_otp_code_syntax("01234a", 6));
	cr_expect_not(mg_otp_code_syntax(" 12345", 6));
	cr_expect_not(mg_otp_code_syntax("", 6));
}

Test(otp, steps_and_params)
{
	struct mg_otp_params p = {MG_OTP_SHA256, 8, 60};
	enum mg_otp_algorithm a;

	cr_expect_eq(mg_otp_step(59, 30), 1);
	cr_expect_eq(mg_otp_step(60, 60), 1);
	cr_expect_eq(mg_otp_step(-5, 30), 0);
	cr_expect_eq(mg_otp_params_check(&p, "x"), 0);
	p.digits = 7;
	cr_expect_eq(mg_otp_params_check(&p, "x"), -EINVAL);
	p.digits = 6;
	p.period = 45;
	cr_expect_eq(mg_otp_params_check(&p, "x"), -EINVAL);
	cr_expect_eq(mg_otp_algorithm_parse("sha512", &a), 0);
	cr_expect_eq(a, MG_OTP_SHA512);
	cr_expect_eq(mg_otp_algorithm_parse("MD5", &a), -EINVAL);
	cr_expect_eq(mg_otp_secret_size(MG_OTP_SHA1), 20);
	cr_expect_eq(mg_otp_secret_size(MG_OTP_SHA512), 64);
}

/* The "otp" section of the policy (lib/policy.c). */
static int parse(const char *json, struct mg_policy **p)
{
	return mg_policy_parse(json, strlen(json), "p.json", p);
}

Test(otp, policy_section)
{
	struct mg_policy *p = NULL, d;

	mg_policy_defaults(&d);
	cr_expect_eq(d.otp.window, 1);
	cr_expect_eq(d.otp.max_failures, 10);
	cr_expect_eq(d.otp.lockout_seconds, 600);
	cr_expect_str_eq(d.otp.issuer, "mynaguard");
	cr_assert_eq(parse("{\"schema\":1,\"otp\":{\"window\":0,\"algorithm\":\"SHA512\",\"digits\":8,"
	                   "\"period\":60,\"max_failures\":100,\"lockout_seconds\":0,\"delay\":0,"
	                   "\"resync_window\":5,\"recovery_codes\":3,\"issuer\":\"前橋市\"}}", &p), 0,
	             "%s", mg_error());
	cr_expect_eq(p->otp.window, 0);
	cr_expect_eq(p->otp.enroll.algorithm, MG_OTP_SHA512);
	cr_expect_eq(p->otp.enroll.digits, 8);
	cr_expect_eq(p->otp.enroll.period, 60);
	cr_expect_eq(p->otp.max_failures, 100);
	cr_expect_str_eq(p->otp.issuer, "前橋市");
	mg_policy_free(p);
}

Test(otp, policy_section_errors)
{
	struct mg_policy *p = NULL;

	cr_expect_eq(parse("{\"schema\":1,\"otp\":{\"max_failures\":101}}", &p), -ERANGE);
	cr_expect(strstr(mg_error(), "p.json: $.otp.max_failures: 101 is out of range 1..100"), "%s",
	          mg_error());
	cr_expect_eq(parse("{\"schema\":1,\"otp\":{\"digits\":7}}", &p), -EINVAL);
	cr_expect(strstr(mg_error(), "digits 7"), "%s", mg_error());
	cr_expect_eq(parse("{\"schema\":1,\"otp\":{\"window\":4}}", &p), -ERANGE);
	cr_expect_eq(parse("{\"schema\":1,\"otp\":{\"issuer\":\"a:b\"}}", &p), -EINVAL);
	cr_expect(strstr(mg_error(), "$.otp.issuer"), "%s", mg_error());
	cr_expect_eq(parse("{\"schema\":1,\"otp\":{\"nullok\":true}}", &p), -EBADMSG);
	cr_expect(strstr(mg_error(), "$.otp.nullok: unknown key"), "%s", mg_error());
	cr_expect_eq(parse("{\"schema\":1,\"otp\":{\"algorithm\":\"MD5\"}}", &p), -EBADMSG);
}
