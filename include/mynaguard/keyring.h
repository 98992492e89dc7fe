/* The keyring: the trust root pinned on a terminal.
 *
 * A signed frame (envelope.h) with magic "mynaguard-keyring 1", signature
 * domain "mynaguard-keyring-v1" and no payload; the header is the body:
 *
 *   {"format":1,"domain":"mynaguard/keyring/v1","version":2,
 *    "issued":"2026-12-06T00:00:00Z",
 *    "root":  {"threshold":2,"keys":[{"id":"…16 hex…","name":"root-a","public":"<base64>"},…]},
 *    "policy":{"threshold":2,"keys":[…]},
 *    "reset_policy_floor":false}
 *
 * Root keys sign keyrings; policy keys sign bundles.  Version 1 (or any
 * keyring pinned first) must carry a threshold of its own root keys.  A
 * rotation N -> N+1 must carry a threshold of the OLD root keys and a
 * threshold of the NEW root keys (TUF's root chain); N+2 only through N+1.
 * Full format: docs/formats.md. */
#ifndef MYNAGUARD_KEYRING_H
#define MYNAGUARD_KEYRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mynaguard/envelope.h"
#include "mynaguard/key.h"

#define MG_KEYRING_MAGIC "mynaguard-keyring 1"
#define MG_KEYRING_DOMAIN "mynaguard/keyring/v1"
#define MG_KEYRING_FORMAT 1
#define MG_KEYRING_MAX_KEYS 32
#define MG_KEYRING_HEADER_MAX (64u << 10)
#define MG_KEYRING_MAX_BYTES (MG_KEYRING_HEADER_MAX + 8192u)

extern const struct mg_envelope_kind mg_keyring_kind;

/* One set of keys with the number of them that must sign. */
struct mg_keyring_role {
	uint64_t threshold;                            /* 1..nkeys */
	size_t nkeys;                                  /* 1..MG_KEYRING_MAX_KEYS, distinct ids */
	struct mg_public_key keys[MG_KEYRING_MAX_KEYS];
};

struct mg_keyring {
	uint64_t version;              /* 1, 2, ...: one more per rotation */
	int64_t issued;                /* when it was made (seconds, UTC) */
	struct mg_keyring_role root;   /* sign the next keyring */
	struct mg_keyring_role policy; /* sign policy bundles */
	bool reset_policy_floor;       /* this rotation resets the policy and clock floors */
	struct mg_envelope env;        /* the frame, pointing into the parsed buffer */
};

/* Parses frame and body without deciding trust (inspect, fuzzing, and the
 * first step of the verifiers below). */
int mg_keyring_parse(const uint8_t *buf, size_t len, const char *origin, struct mg_keyring *out);

/* Parses and requires a threshold of the keyring's own root keys: what a
 * first pin accepts. */
int mg_keyring_verify_self(const uint8_t *buf, size_t len, const char *origin,
                           struct mg_keyring *out);

/* Parses next and requires it to be cur->version + 1, signed by a threshold
 * of cur's root keys and by a threshold of its own root keys. */
int mg_keyring_verify_rotation(const struct mg_keyring *cur, const uint8_t *buf, size_t len,
                               const char *origin, struct mg_keyring *out);

/* Builds and signs a keyring body (env is filled from the signatures of
 * keys[0..nkeys)).  The result is a whole file in *out. */
int mg_keyring_create(const struct mg_keyring *kr, const struct mg_secret_key *const *keys,
                      size_t nkeys, uint8_t **out, size_t *len);

/* Looks a key id up in a role; NULL when absent. */
const struct mg_public_key *mg_keyring_role_find(const struct mg_keyring_role *role,
                                                 const uint8_t id[MG_KEY_ID_BYTES]);

#endif
