/* The policy: one JSON document that configures every control.
 *
 *   {
 *     "schema": 1,
 *     "description": "本庁 住民記録系端末",
 *     "fetch":     { ... },     this header
 *     ...                       one section per control, each with its own
 *                               header and parser (devices, clipboard, otp)
 *   }
 *
 * A missing section means that control's defaults, which fail closed.
 * Unknown keys, wrong types and out-of-range values are rejected with the
 * JSON path of the bad field.  The full format is docs/policy.md. */
#ifndef MYNAGUARD_POLICY_H
#define MYNAGUARD_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "mynaguard/clipboard.h"
#include "mynaguard/otp.h"
#include "mynaguard/rules.h"

#define MG_POLICY_SCHEMA 1
#define MG_POLICY_MAX_BYTES (64u << 20)

/* "fetch": how the terminal polls the central repository. */
struct mg_fetch_policy {
	uint64_t interval;        /* seconds between polls before jitter (60..86400, 900) */
	uint64_t max_bytes;       /* largest bundle accepted over the wire (4 KiB..64 MiB, 16 MiB) */
	uint64_t timeout;         /* total seconds one request may take (5..600, 60) */
	uint64_t low_speed_limit; /* bytes/s under which a transfer is slow (1..1 MiB, 64) */
	uint64_t low_speed_time;  /* seconds of slowness before abort (1..600, 15) */
};

/* "otp": one-time passwords at login (docs/otp.md).  Only the administrator
 * sets these; nothing in a user's reach changes them. */
struct mg_otp_policy {
	uint64_t window;          /* steps accepted either side of now (0..3, 1) */
	struct mg_otp_params enroll; /* algorithm, digits, period for new tokens (SHA1, 6, 30) */
	uint64_t max_failures;    /* failed attempts that lock the account (1..100, 10) */
	uint64_t lockout_seconds; /* how long a lockout lasts; 0 = until unlocked (0..604800, 600) */
	uint64_t delay;           /* seconds of delay per consecutive failure, capped at
	                             MG_OTP_DELAY_CAP (0..10, 1) */
	uint64_t resync_window;   /* steps either side that `otp resync` searches (1..1000, 60) */
	uint64_t recovery_codes;  /* recovery codes `otp recovery` issues (1..20, 10) */
	char issuer[65];          /* label in the otpauth URI (1..64 bytes, no ':', "mynaguard") */
};

#define MG_OTP_DELAY_CAP 30

struct mg_policy {
	uint64_t schema;          /* MG_POLICY_SCHEMA */
	char *description;        /* free text for operators (no control characters but
	                             newline and tab), or NULL */
	struct mg_fetch_policy fetch;
	struct mg_otp_policy otp;
	struct mg_device_policy devices; /* "devices": device control (rules.h, docs/devices.md) */
	struct mg_clipboard_policy clipboard; /* "clipboard": the session guard (clipboard.h, docs/clipboard.md) */
};

/* The built-in defaults: what a terminal enforces with no bundle. */
void mg_policy_defaults(struct mg_policy *p);

/* Parses len bytes of JSON; origin names the source in messages. */
int mg_policy_parse(const void *buf, size_t len, const char *origin, struct mg_policy **out);

/* Parses the root and one section only; every other section keeps its
 * defaults.  For readers of one control on a hot path (a login reads the
 * "otp" section of a policy that may hold 50,000 device rules), and only
 * for bytes that already parsed whole: a bundle is stored only after its
 * policy parsed, and its signature and hash are checked again at load. */
int mg_policy_parse_only(const void *buf, size_t len, const char *origin, const char *section,
                         struct mg_policy **out);

/* Releases everything the sections own. */
void mg_policy_free(struct mg_policy *p);

static inline void mg_policy_freep(struct mg_policy **p) { if (*p) mg_policy_free(*p); }
#define _cleanup_policy_ __attribute__((cleanup(mg_policy_freep)))

#endif
