/* Fuzzes the OTP state file parser (otpstore.h) under a fixed host key.
 * What parses must survive a format/parse round trip unchanged, and the
 * login decision must hold on whatever counters it carries: a code below
 * the floor is never accepted. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mynaguard/otpstore.h"
#include "mynaguard/policy.h"

static const uint8_t key[MG_OTP_HOSTKEY_BYTES] = {
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
};

static void round_trip(const struct mg_otp_state *st)
{
	struct mg_otp_state again;
	char *json = NULL;
	size_t len = 0;

	if (mg_otp_state_format(st, key, &json, &len) < 0)
		abort();
	if (mg_otp_state_parse(json, len, "again", st->user, key, &again) < 0)
		abort();
	if (again.secret_len != st->secret_len || memcmp(again.secret, st->secret, st->secret_len) ||
	    again.last_step != st->last_step || again.failures != st->failures ||
	    again.drift != st->drift || again.nrecovery != st->nrecovery ||
	    again.params.digits != st->params.digits || again.active != st->active)
		abort();
	free(json);
}

static void decide(struct mg_otp_state *st)
{
	struct mg_policy pol;
	struct mg_otp_result res;
	uint64_t floor = st->last_step;
	char code[MG_OTP_CODE_MAX + 1];
	int64_t now = 1900000000;
	bool changed;

	mg_policy_defaults(&pol);
	/* The code of the step at the floor: never accepted again. */
	mg_otp_format(mg_otp_hotp(st->params.algorithm, st->secret, st->secret_len, floor,
	                          st->params.digits), st->params.digits, code);
	if (mg_otp_state_check(st, code, &pol.otp, now, &res, &changed) == 0 &&
	    res.verdict == MG_OTP_ACCEPT && res.step <= floor)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_otp_state st;

	if (mg_otp_state_parse(data, size, "fuzz", "alice", key, &st) < 0)
		return 0;
	round_trip(&st);
	decide(&st);
	mg_otp_state_wipe(&st);
	return 0;
}
