/* The signed frame shared by policy bundles and keyrings.
 *
 *   "<MAGIC>\n"                                      e.g. "mynaguard-bundle 1"
 *   "signature <keyid: 16 hex> <base64 Ed25519>\n"   1..32 lines, distinct key ids
 *   "header <N>\n"                                   decimal, no leading zero
 *   <N bytes of header JSON>
 *   <the rest: the payload of a bundle; nothing for a keyring>
 *
 * Each signature covers DOMAIN || 0x00 || the exact header bytes, where the
 * domain differs per kind ("mynaguard-bundle-v1", "mynaguard-keyring-v1"),
 * so a signature made for one kind never verifies as another.  The frame is
 * checked before a byte of JSON is parsed; the header is parsed only after
 * its signatures have been counted.  Full format: docs/formats.md. */
#ifndef MYNAGUARD_ENVELOPE_H
#define MYNAGUARD_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mynaguard/key.h"

#define MG_ENVELOPE_MAX_SIGNATURES 32

/* What differs between the kinds of signed file. */
struct mg_envelope_kind {
	const char *magic;      /* first line without "\n": "mynaguard-bundle 1" */
	const char *domain;     /* signature domain: "mynaguard-bundle-v1" */
	size_t header_max;      /* largest header N accepted */
	bool has_payload;       /* false: nothing may follow the header */
};

/* One signature line. */
struct mg_signature {
	uint8_t id[MG_KEY_ID_BYTES];       /* key id the signer claims */
	uint8_t sig[MG_KEY_SIG_BYTES];     /* Ed25519 over domain || 0 || header */
};

/* A parsed frame.  header and rest point into the caller's buffer. */
struct mg_envelope {
	size_t nsig;                                      /* signature lines */
	struct mg_signature sig[MG_ENVELOPE_MAX_SIGNATURES];
	const uint8_t *header;                            /* the signed header bytes */
	size_t header_len;
	const uint8_t *rest;                              /* bytes after the header */
	size_t rest_len;
};

/* The outcome of counting signatures against a set of trusted keys. */
struct mg_envelope_count {
	size_t valid;                                     /* distinct trusted keys with a good signature */
	uint8_t signers[MG_ENVELOPE_MAX_SIGNATURES][MG_KEY_ID_BYTES]; /* their ids, in file order */
	size_t unknown;                                   /* signatures by ids not in the set */
	size_t bad;                                       /* signatures by trusted ids that did not verify */
	char unknown_ids[MG_ENVELOPE_MAX_SIGNATURES * MG_KEY_ID_HEX]; /* "id, id" for messages */
};

/* Parses the frame of len bytes.  Errors name origin and the line. */
int mg_envelope_parse(const struct mg_envelope_kind *kind, const uint8_t *buf, size_t len,
                      const char *origin, struct mg_envelope *env);

/* Verifies every signature against keys[0..nkeys) and counts distinct good
 * ones.  Never fails: the caller compares count->valid with its threshold. */
void mg_envelope_count(const struct mg_envelope_kind *kind, const struct mg_envelope *env,
                       const struct mg_public_key *keys, size_t nkeys,
                       struct mg_envelope_count *count);

/* Fails with a one-line reason unless count->valid >= threshold.  role
 * ("policy", "old root", ...) names the key set in the message. */
int mg_envelope_require(const struct mg_envelope_count *count, uint64_t threshold,
                        const char *role, const char *origin);

/* Signs header with k and adds the signature to env (refusing a second
 * signature by the same key id). */
int mg_envelope_add_signature(const struct mg_envelope_kind *kind, struct mg_envelope *env,
                              const struct mg_secret_key *k, const char *origin);

/* Serialises env into a new buffer. */
int mg_envelope_format(const struct mg_envelope_kind *kind, const struct mg_envelope *env,
                       uint8_t **out, size_t *len);

#endif
