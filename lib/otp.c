#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <nettle/hmac.h>
#include <sodium.h>

#include "mynaguard/error.h"
#include "mynaguard/otp.h"

static const char *const algorithm_names[] = {
	[MG_OTP_SHA1] = "SHA1",
	[MG_OTP_SHA256] = "SHA256",
	[MG_OTP_SHA512] = "SHA512",
};

/* The largest MAC of the three (SHA-512). */
#define MAC_MAX crypto_auth_hmacsha512_BYTES

static size_t hmac(enum mg_otp_algorithm alg, const uint8_t *key, size_t key_len,
                   const uint8_t msg[8], uint8_t mac[MAC_MAX])
{
	switch (alg) {
	case MG_OTP_SHA1: {
		struct hmac_sha1_ctx c;
		hmac_sha1_set_key(&c, key_len, key);
		hmac_sha1_update(&c, 8, msg);
		hmac_sha1_digest(&c, SHA1_DIGEST_SIZE, mac);
		sodium_memzero(&c, sizeof(c));
		return SHA1_DIGEST_SIZE;
	}
	case MG_OTP_SHA256: {
		crypto_auth_hmacsha256_state s;
		crypto_auth_hmacsha256_init(&s, key, key_len);
		crypto_auth_hmacsha256_update(&s, msg, 8);
		crypto_auth_hmacsha256_final(&s, mac);
		sodium_memzero(&s, sizeof(s));
		return crypto_auth_hmacsha256_BYTES;
	}
	case MG_OTP_SHA512: {
		crypto_auth_hmacsha512_state s;
		crypto_auth_hmacsha512_init(&s, key, key_len);
		crypto_auth_hmacsha512_update(&s, msg, 8);
		crypto_auth_hmacsha512_final(&s, mac);
		sodium_memzero(&s, sizeof(s));
		return crypto_auth_hmacsha512_BYTES;
	}
	}
	return 0;
}

uint32_t mg_otp_hotp(enum mg_otp_algorithm alg, const uint8_t *key, size_t key_len,
                     uint64_t counter, unsigned digits)
{
	uint8_t msg[8], mac[MAC_MAX];
	size_t n, off;
	uint32_t bin, mod = digits == 8 ? 100000000u : 1000000u;

	for (int i = 7; i >= 0; i--, counter >>= 8)
		msg[i] = (uint8_t)counter;
	n = hmac(alg, key, key_len, msg, mac);
	/* RFC 4226 §5.3 dynamic truncation. */
	off = mac[n - 1] & 0x0f;
	bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
	      ((uint32_t)mac[off + 2] << 8) | mac[off + 3];
	sodium_memzero(mac, sizeof(mac));
	return bin % mod;
}

uint64_t mg_otp_step(int64_t t, unsigned period)
{
	return t <= 0 ? 0 : (uint64_t)t / period;
}

void mg_otp_format(uint32_t code, unsigned digits, char buf[MG_OTP_CODE_MAX + 1])
{
	snprintf(buf, MG_OTP_CODE_MAX + 1, "%0*u", (int)digits, code);
}

bool mg_otp_code_syntax(const char *s, unsigned digits)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return i == digits;
}

bool mg_otp_code_equal(const struct mg_otp_params *p, const uint8_t *key, size_t key_len,
                       uint64_t counter, const char *s)
{
	char want[MG_OTP_CODE_MAX + 1];
	bool equal;

	mg_otp_format(mg_otp_hotp(p->algorithm, key, key_len, counter, p->digits), p->digits, want);
	/* The caller has checked the length (not a secret); the digits are. */
	equal = strlen(s) == p->digits && sodium_memcmp(want, s, p->digits) == 0;
	sodium_memzero(want, sizeof(want));
	return equal;
}

const char *mg_otp_algorithm_name(enum mg_otp_algorithm alg)
{
	return algorithm_names[alg];
}

int mg_otp_algorithm_parse(const char *s, enum mg_otp_algorithm *out)
{
	for (size_t i = 0; i < sizeof(algorithm_names) / sizeof(algorithm_names[0]); i++) {
		if (strcasecmp(s, algorithm_names[i]) == 0) {
			*out = (enum mg_otp_algorithm)i;
			return 0;
		}
	}
	return mg_fail(EINVAL, "algorithm '%s': expected SHA1, SHA256 or SHA512", s);
}

size_t mg_otp_secret_size(enum mg_otp_algorithm alg)
{
	return alg == MG_OTP_SHA1 ? 20 : alg == MG_OTP_SHA256 ? 32 : 64;
}

int mg_otp_params_check(const struct mg_otp_params *p, const char *what)
{
	if (p->algorithm > MG_OTP_SHA512)
		return mg_fail(EINVAL, "%s: unknown algorithm", what);
	if (p->digits != 6 && p->digits != 8)
		return mg_fail(EINVAL, "%s: digits %u: expected 6 or 8", what, p->digits);
	if (p->period != 30 && p->period != 60)
		return mg_fail(EINVAL, "%s: period %u: expected 30 or 60", what, p->period);
	return 0;
}
