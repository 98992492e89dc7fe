/* Signed policy bundles.
 *
 * A signed frame (envelope.h) with magic "mynaguard-bundle 1", signature
 * domain "mynaguard-bundle-v1", a header of at most 4096 bytes and the
 * policy JSON as payload.  The header (all keys required, no others):
 *
 *   {"format":1,"domain":"mynaguard/policy-bundle/v1","version":42,
 *    "issued":"2026-12-06T05:00:00Z","expires":"2027-03-31T00:00:00Z",
 *    "target":"honcho-juki","keyring":1,"payload_length":1234,
 *    "payload_blake2b":"<128 hex: BLAKE2b-512 of the payload>"}
 *
 * mg_bundle_verify checks, in this order, and stops at the first failure:
 * frame bounds, signatures over the exact header bytes (distinct valid
 * signatures by policy keys of the keyring, against its threshold), the
 * header, payload length and hash, no trailing bytes, issued not more than
 * a day ahead of now, expiry against now, target, keyring version.  The
 * payload is handed out as the exact verified bytes; nothing is
 * re-serialised.  Version floors are the terminal's business (terminal.h).
 * Full format: docs/formats.md. */
#ifndef MYNAGUARD_BUNDLE_H
#define MYNAGUARD_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mynaguard/envelope.h"
#include "mynaguard/keyring.h"
#include "mynaguard/policy.h"

#define MG_BUNDLE_MAGIC "mynaguard-bundle 1"
#define MG_BUNDLE_DOMAIN "mynaguard/policy-bundle/v1"
#define MG_BUNDLE_FORMAT 1
#define MG_BUNDLE_HEADER_MAX 4096u
#define MG_BUNDLE_TARGET_MAX 64                   /* see mg_bundle_target_check */
#define MG_BUNDLE_HASH_BYTES 64                   /* BLAKE2b-512 */
/* Largest bundle file: the largest policy plus room for frame and header. */
#define MG_BUNDLE_MAX_BYTES ((size_t)MG_POLICY_MAX_BYTES + (64u << 10))
/* How far ahead of the terminal's clock "issued" may be. */
#define MG_BUNDLE_FUTURE_SLACK 86400

extern const struct mg_envelope_kind mg_bundle_kind;

/* The signed header. */
struct mg_bundle_header {
	uint64_t version;                          /* policy version, >= 1, never lowered */
	int64_t issued;                            /* signing time (seconds, UTC) */
	int64_t expires;                           /* not valid at or after this */
	char target[MG_BUNDLE_TARGET_MAX + 1];     /* the terminal group it is for */
	uint64_t keyring;                          /* version of the keyring it was signed under */
	uint64_t payload_length;                   /* bytes of payload */
	uint8_t payload_hash[MG_BUNDLE_HASH_BYTES]; /* BLAKE2b-512 of the payload */
};

/* A verified (or, from mg_bundle_parse, merely parsed) bundle. */
struct mg_bundle {
	struct mg_envelope env;                    /* the frame; points into the caller's buffer */
	struct mg_bundle_header hdr;               /* the parsed header */
	const uint8_t *payload;                    /* the exact payload bytes (= env.rest) */
	size_t payload_len;
	struct mg_envelope_count count;            /* who signed (after verification) */
};

/* What mg_bundle_verify checks beyond the signatures. */
struct mg_bundle_checks {
	int64_t now;          /* expiry is judged against this (the terminal passes
	                         max(clock, clock floor)); "issued" against the real clock */
	int64_t clock;        /* the real clock, for the one-day "issued" slack */
	const char *target;   /* required target group, or NULL for any */
};

/* Verifies len bytes against kr as described above.  On failure the
 * message is one line naming origin and the reason. */
int mg_bundle_verify(const uint8_t *buf, size_t len, const char *origin,
                     const struct mg_keyring *kr, const struct mg_bundle_checks *checks,
                     struct mg_bundle *out);

/* Parses frame, header and payload bounds without any trust decision
 * (inspect, fuzzing). */
int mg_bundle_parse(const uint8_t *buf, size_t len, const char *origin, struct mg_bundle *out);

/* Writes the header JSON for hdr (canonical key order, no spaces). */
int mg_bundle_header_format(const struct mg_bundle_header *hdr, char **json, size_t *len);

/* Makes a whole bundle file: header from hdr (payload_length and hash are
 * computed here), signed by keys[0..nkeys) (distinct). */
int mg_bundle_create(const struct mg_bundle_header *hdr, const uint8_t *payload,
                     size_t payload_len, const struct mg_secret_key *const *keys, size_t nkeys,
                     uint8_t **out, size_t *len);

/* Adds k's signature to the bundle in buf (refusing a duplicate key id);
 * the new file is in *out. */
int mg_bundle_cosign(const uint8_t *buf, size_t len, const char *origin,
                     const struct mg_secret_key *k, uint8_t **out, size_t *out_len);

/* The one definition of a group name, used by bundles, the repository
 * layout and the configuration: 1 to 64 of [a-z0-9._-], not starting
 * with '.'.  what names the argument or field in the message. */
int mg_bundle_target_check(const char *target, const char *what);

#endif
