/* Fuzzes the bundle frame and header (bundle.h, envelope.h): parsing
 * without trust, verification of the input as it is, and verification of
 * the input re-signed by a trusted key, so that the checks after the
 * signatures (header, payload, times, target, keyring, the policy itself)
 * are explored too.  What parses must survive a format/parse round trip
 * with the same header and payload bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mynaguard/bundle.h"
#include "mynaguard/util.h"

static struct mg_keyring kr;
static struct mg_secret_key trusted;

/* One policy key from a fixed seed. */
static void keyring_once(void)
{
	uint8_t seed[crypto_sign_SEEDBYTES];

	if (kr.version)
		return;
	memset(seed, 0x42, sizeof(seed));
	crypto_sign_seed_keypair(kr.policy.keys[0].pk, trusted.sk, seed);
	mg_key_id(kr.policy.keys[0].pk, kr.policy.keys[0].id);
	memcpy(trusted.id, kr.policy.keys[0].id, sizeof(trusted.id));
	kr.policy.nkeys = kr.policy.threshold = 1;
	kr.version = 1;
}

static void round_trip(const struct mg_bundle *b)
{
	_cleanup_free_ uint8_t *out = NULL;
	struct mg_bundle again;
	size_t len = 0;

	if (mg_envelope_format(&mg_bundle_kind, &b->env, &out, &len) < 0)
		abort();
	if (mg_bundle_parse(out, len, "again", &again) < 0)
		abort();
	if (again.env.header_len != b->env.header_len ||
	    memcmp(again.env.header, b->env.header, b->env.header_len) != 0 ||
	    again.payload_len != b->payload_len ||
	    memcmp(again.payload, b->payload, b->payload_len) != 0 ||
	    again.hdr.version != b->hdr.version || again.env.nsig != b->env.nsig)
		abort();
}

/* Replaces the signatures with one by the trusted key and verifies. */
static void verify_resigned(const uint8_t *data, size_t size,
                            const struct mg_bundle_checks *checks)
{
	_cleanup_free_ uint8_t *out = NULL;
	_cleanup_policy_ struct mg_policy *policy = NULL;
	struct mg_envelope env;
	struct mg_bundle b;
	size_t len = 0;

	if (mg_envelope_parse(&mg_bundle_kind, data, size, "fuzz", &env) < 0)
		return;
	env.nsig = 0;
	if (mg_envelope_add_signature(&mg_bundle_kind, &env, &trusted, "fuzz") < 0 ||
	    mg_envelope_format(&mg_bundle_kind, &env, &out, &len) < 0)
		abort();
	if (mg_bundle_verify(out, len, "fuzz", &kr, checks, &b) < 0)
		return;
	if (b.count.valid != 1 || b.payload_len != b.hdr.payload_length)
		abort();
	mg_policy_parse(b.payload, b.payload_len, "fuzz", &policy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mg_bundle_checks checks = {.now = 1796533200, .clock = 1796533200};
	struct mg_bundle b;

	keyring_once();
	if (mg_bundle_parse(data, size, "fuzz", &b) == 0)
		round_trip(&b);
	if (mg_bundle_verify(data, size, "fuzz", &kr, &checks, &b) == 0 && b.count.valid < 1)
		abort();
	verify_resigned(data, size, &checks);
	return 0;
}
