/* One-time passwords: RFC 4226 HOTP and RFC 6238 TOTP.
 *
 * A code is the HOTP value of a counter; for TOTP the counter is the time
 * step floor((now - T0) / period) with T0 = 0.  HMAC-SHA256 and -SHA512
 * come from libsodium, HMAC-SHA1 from Nettle (libsodium has no SHA-1).
 * Pure functions: no files, no clock, no state; the replay floor, the
 * window and throttling live in otpstore. */
#ifndef MYNAGUARD_OTP_H
#define MYNAGUARD_OTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The HMAC an authenticator app is told to use ("algorithm=" in the URI). */
enum mg_otp_algorithm {
	MG_OTP_SHA1,
	MG_OTP_SHA256,
	MG_OTP_SHA512,
};

#define MG_OTP_SECRET_MAX 64        /* bytes: 512 bits, the SHA512 block of choice */
#define MG_OTP_SECRET_MIN 10        /* bytes: RFC 4226 §4 requires at least 128 bits,
                                       80 is what many hardware tokens ship; below is refused */
#define MG_OTP_CODE_MAX 8           /* digits */

/* How codes of one token are made. */
struct mg_otp_params {
	enum mg_otp_algorithm algorithm; /* HMAC hash */
	unsigned digits;                 /* 6 or 8 */
	unsigned period;                 /* TOTP step in seconds: 30 or 60 */
};

/* The HOTP value of counter, reduced to digits (6 or 8) decimal digits. */
uint32_t mg_otp_hotp(enum mg_otp_algorithm alg, const uint8_t *key, size_t key_len,
                     uint64_t counter, unsigned digits);

/* The TOTP step of time t (seconds since the epoch; t < 0 is step 0). */
uint64_t mg_otp_step(int64_t t, unsigned period);

/* Writes the code as exactly digits characters with leading zeros and a NUL;
 * buf holds MG_OTP_CODE_MAX + 1 bytes. */
void mg_otp_format(uint32_t code, unsigned digits, char buf[MG_OTP_CODE_MAX + 1]);

/* True when s is exactly digits ASCII decimal digits. */
bool mg_otp_code_syntax(const char *s, unsigned digits);

/* Compares the code typed (s) with the code of counter in constant time. */
bool mg_otp_code_equal(const struct mg_otp_params *p, const uint8_t *key, size_t key_len,
                       uint64_t counter, const char *s);

/* "SHA1", "SHA256", "SHA512" (case-insensitive on input). */
const char *mg_otp_algorithm_name(enum mg_otp_algorithm alg);
int mg_otp_algorithm_parse(const char *s, enum mg_otp_algorithm *out);

/* The secret size made at enrollment: 20 bytes for SHA1, 32 and 64 for the
 * others (RFC 4226 recommends the hash's output size). */
size_t mg_otp_secret_size(enum mg_otp_algorithm alg);

/* Checks digits and period; what names the origin in the message. */
int mg_otp_params_check(const struct mg_otp_params *p, const char *what);

#endif
