/* The terminal's trust state: which keyring is pinned, which bundle is in
 * force, and the floors that only ever rise.
 *
 *   STATE/keyring         the pinned keyring, exactly as received
 *   STATE/bundle          the bundle in force (last-known-good), exactly as received
 *   STATE/terminal.json   {"format":1,"policy_floor":41,"clock_floor":"…Z",
 *                          "keyring_version":1,"bundle_blake2b":"<128 hex>"}
 *   STATE/lock            flock held for every update of the above
 *   STATE/audit/          the journal every decision is recorded in
 *
 * Every update takes the lock, verifies, writes the bundle (or keyring)
 * first with mg_file_replace and terminal.json second.  A crash between the
 * two leaves the new file with old floors; the floors in force are then
 * max(terminal.json, the verified file in force), because bundle_blake2b
 * no longer names the file in force.  Nothing is ever trusted from a
 * parsed cache: the policy in force is re-verified at every load.
 * Any doubt (no keyring, no bundle, a bad signature, a corrupt
 * terminal.json, a version below the floor, expiry) means the built-in
 * defaults, which fail closed. */
#ifndef MYNAGUARD_TERMINAL_H
#define MYNAGUARD_TERMINAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mynaguard/bundle.h"
#include "mynaguard/keyring.h"
#include "mynaguard/policy.h"

#define MG_TERMINAL_FORMAT 1
#define MG_TERMINAL_LOCK_TIMEOUT_MS 30000

/* STATE/terminal.json. */
struct mg_terminal_state {
	uint64_t policy_floor;          /* lowest bundle version still accepted */
	int64_t clock_floor;            /* highest "issued" seen: the earliest the clock can be */
	uint64_t keyring_version;       /* version of the pinned keyring these floors belong to */
	bool has_bundle;                /* bundle_hash is set */
	uint8_t bundle_hash[MG_BUNDLE_HASH_BYTES]; /* BLAKE2b-512 of the bundle the floors account for */
};

/* What an apply did. */
enum mg_apply_outcome {
	MG_APPLY_APPLIED,               /* a new bundle is in force */
	MG_APPLY_UNCHANGED,             /* the same version, byte for byte, was already in force */
};

struct mg_apply_result {
	enum mg_apply_outcome outcome;
	uint64_t version;               /* version of the bundle now in force */
	uint64_t previous;              /* version in force before (0: none) */
};

/* Who is asking, for audit records and the target check. */
struct mg_terminal_ctx {
	const char *state_dir;          /* STATE */
	const char *component;          /* "ctl", "agent": the journal's component */
	const char *target;             /* this terminal's group (required for apply and load) */
	const char *section;            /* load: parse only this policy section (NULL: all);
	                                   the others keep their defaults */
};

/* The policy in force, with where it came from. */
struct mg_policy_in_force {
	struct mg_policy *policy;       /* never NULL after a load: the bundle's or the defaults */
	bool from_bundle;               /* false: built-in defaults are in force */
	char reason[512];               /* why the defaults are in force ("" when from_bundle) */
	uint64_t version;               /* bundle version (0 with defaults) */
	int64_t issued, expires;        /* from the bundle header (0 with defaults) */
	char target[MG_BUNDLE_TARGET_MAX + 1]; /* the bundle's target group */
	uint64_t keyring_version;       /* version of the pinned keyring (0: none pinned) */
	size_t nsigners;                /* policy keys whose signatures counted */
	uint8_t signers[MG_ENVELOPE_MAX_SIGNATURES][MG_KEY_ID_BYTES];
	uint8_t bundle_hash[MG_BUNDLE_HASH_BYTES]; /* BLAKE2b-512 of STATE/bundle */
};

/* Verifies len bytes of bundle against the pinned keyring and the floors
 * and, if it passes, puts it in force.  origin names the source in
 * messages and audit records (a file name or URL).  Returns 0 with
 * res->outcome APPLIED or UNCHANGED; on rejection a negative errno with a
 * one-line reason (mg_error()), a "policy.rejected" audit record, and the
 * last-known-good untouched.  Leftover temp files are swept. */
int mg_terminal_apply(const struct mg_terminal_ctx *ctx, const uint8_t *buf, size_t len,
                      const char *origin, struct mg_apply_result *res);

/* Records a bundle refused before it could be handed to mg_terminal_apply
 * (larger than any bundle may be, cut off in transfer): a "policy.rejected"
 * audit record with mg_error() as the reason.  Returns err unchanged and
 * keeps the message. */
int mg_terminal_reject(const struct mg_terminal_ctx *ctx, const char *origin, int err);

/* Loads the policy in force: re-verifies STATE/bundle against
 * STATE/keyring, terminal.json and the clock.  Returns 0 in every case
 * but out-of-memory; out->from_bundle says whether the defaults are in
 * force and out->reason why.  Free with mg_policy_in_force_free. */
int mg_terminal_load(const struct mg_terminal_ctx *ctx, struct mg_policy_in_force *out);
void mg_policy_in_force_free(struct mg_policy_in_force *p);

/* Pins a first keyring (self-signed by its own root threshold); fails if
 * one is pinned already (rotations go through mg_terminal_keyring_update). */
int mg_terminal_keyring_pin(const struct mg_terminal_ctx *ctx, const uint8_t *buf, size_t len,
                            const char *origin, uint64_t *version);

/* Rotates the pinned keyring to the next version.  Returns 0 when rotated
 * or already in force (*changed tells); a rotation with reset_policy_floor
 * resets the policy floor to 0 and the clock floor to the keyring's issued
 * time, once. */
int mg_terminal_keyring_update(const struct mg_terminal_ctx *ctx, const uint8_t *buf,
                               size_t len, const char *origin, uint64_t *version, bool *changed);

/* Reads the pinned keyring (verified against its own roots) and the state.
 * -ENOENT when no keyring is pinned.  kr->env points into *raw; pass raw
 * NULL when only the keys are wanted (kr->env is then cleared). */
int mg_terminal_keyring_read(const char *state_dir, struct mg_keyring *kr, uint8_t **raw,
                             size_t *raw_len);
int mg_terminal_state_read(const char *state_dir, struct mg_terminal_state *st);

/* Strict parser and writer of terminal.json. */
int mg_terminal_state_parse(const void *buf, size_t len, const char *origin,
                            struct mg_terminal_state *st);
int mg_terminal_state_format(const struct mg_terminal_state *st, char **json, size_t *len);

#endif
