/* Bundles: every check of mg_bundle_verify in its order, with real keys
 * and real signatures; the exact payload bytes handed out. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "mynaguard/bundle.h"
#include "mynaguard/error.h"
#include "mynaguard/util.h"

#define NOW 1796533200                 /* 2026-12-06T05:00:00Z */
#define DAY 86400

static struct mg_secret_key sk[4];     /* 0, 1: policy keys; 2: a stranger; 3: root */
static struct mg_keyring kr;
static const char policy[] = "{\"schema\":1,\"description\":\"test\"}";

static void make_key(int i)
{
	struct mg_public_key pk;

	crypto_sign_ed25519_keypair(pk.pk, sk[i].sk);
	mg_key_id(pk.pk, pk.id);
	memcpy(sk[i].id, pk.id, sizeof(pk.id));
	snprintf(pk.name, sizeof(pk.name), "k%d", i);
	if (i < 2)
		kr.policy.keys[kr.policy.nkeys++] = pk;
	if (i == 3)
		kr.root.keys[kr.root.nkeys++] = pk;
}

static void setup(void)
{
	cr_assert(sodium_init() >= 0);
	memset(&kr, 0, sizeof(kr));
	for (int i = 0; i < 4; i++)
		make_key(i);
	kr.version = 3;
	kr.policy.threshold = 2;
	kr.root.threshold = 1;
}

TestSuite(bundle, .init = setup);

static struct mg_bundle_header header(uint64_t version)
{
	struct mg_bundle_header h = {.version = version, .issued = NOW - 60,
	                             .expires = NOW + 30 * DAY, .keyring = 3};
	strcpy(h.target, "honcho");
	return h;
}

static size_t make(const struct mg_bundle_header *h, const int *keys, size_t n, uint8_t **out)
{
	const struct mg_secret_key *signers[4];
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		signers[i] = &sk[keys[i]];
	cr_assert_eq(mg_bundle_create(h, (const uint8_t *)policy, strlen(policy), signers, n, out,
	                              &len), 0, "%s", mg_error());
	return len;
}

static const struct mg_bundle_checks checks = {.now = NOW, .clock = NOW, .target = "honcho"};

static int verify(const uint8_t *buf, size_t len, struct mg_bundle *b)
{
	return mg_bundle_verify(buf, len, "b", &kr, &checks, b);
}

static void expect_reject(const uint8_t *buf, size_t len, const char *reason)
{
	struct mg_bundle b;

	cr_assert_lt(verify(buf, len, &b), 0, "accepted, expected \"%s\"", reason);
	cr_assert(strstr(mg_error(), reason), "\"%s\" not in \"%s\"", reason, mg_error());
	cr_assert_null(strchr(mg_error(), '\n'));
}

Test(bundle, valid_bundle_hands_out_the_exact_payload)
{
	const int keys[] = {0, 1};
	struct mg_bundle_header h = header(7);
	uint8_t *buf;
	size_t len = make(&h, keys, 2, &buf);
	struct mg_bundle b;

	cr_assert_eq(verify(buf, len, &b), 0, "%s", mg_error());
	cr_assert_eq(b.hdr.version, 7);
	cr_assert_eq(b.count.valid, 2);
	cr_assert_eq(b.payload_len, strlen(policy));
	cr_assert_eq(memcmp(b.payload, policy, b.payload_len), 0);
	cr_assert_eq(b.payload, buf + len - strlen(policy));
	free(buf);
}

Test(bundle, threshold_counts_distinct_policy_keys)
{
	const int one[] = {0}, stranger[] = {0, 2}, root[] = {0, 3};
	struct mg_bundle_header h = header(7);
	uint8_t *buf;
	size_t len;

	len = make(&h, one, 1, &buf);
	expect_reject(buf, len, "1 valid signature by policy keys, 2 required");
	free(buf);
	len = make(&h, stranger, 2, &buf);
	expect_reject(buf, len, "unknown key");
	free(buf);
	/* A root key is not a policy key. */
	len = make(&h, root, 2, &buf);
	expect_reject(buf, len, "2 required");
	free(buf);
}

Test(bundle, an_altered_header_or_payload_is_caught)
{
	const int keys[] = {0, 1};
	struct mg_bundle_header h = header(7);
	uint8_t *buf;
	size_t len = make(&h, keys, 2, &buf);
	uint8_t *v = (uint8_t *)strstr((char *)buf, "\"version\":7");

	v[10] = '8';
	expect_reject(buf, len, "does not verify");
	v[10] = '7';
	buf[len - 3] ^= 0x20;
	expect_reject(buf, len, "payload does not match");
	free(buf);
}

Test(bundle, truncated_trailing_and_oversized)
{
	const int keys[] = {0, 1};
	struct mg_bundle_header h = header(7);
	uint8_t *buf, *longer;
	size_t len = make(&h, keys, 2, &buf);

	expect_reject(buf, len - 1, "truncated");
	expect_reject(buf, 40, "truncated");
	longer = malloc(len + 1);
	memcpy(longer, buf, len);
	longer[len] = '\n';
	expect_reject(longer, len + 1, "trailing bytes");
	expect_reject(buf, MG_BUNDLE_MAX_BYTES + 1, "larger than");
	free(longer);
	free(buf);
}

Test(bundle, times_target_and_keyring)
{
	const int keys[] = {0, 1};
	struct mg_bundle_header h;
	uint8_t *buf;
	size_t len;

	h = header(7);
	h.issued = NOW - 10 * DAY;
	h.expires = NOW - DAY;
	len = make(&h, keys, 2, &buf);
	expect_reject(buf, len, "expired at 2026-12-05T05:00:00Z");
	free(buf);
	h = header(7);
	h.issued = NOW + 2 * DAY;
	h.expires = NOW + 30 * DAY;
	len = make(&h, keys, 2, &buf);
	expect_reject(buf, len, "more than a day ahead");
	free(buf);
	h = header(7);
	strcpy(h.target, "shisho");
	len = make(&h, keys, 2, &buf);
	expect_reject(buf, len, "for group \"shisho\"");
	free(buf);
	h = header(7);
	h.keyring = 4;
	len = make(&h, keys, 2, &buf);
	expect_reject(buf, len, "update the keyring first");
	free(buf);
}

/* Signs a hand-written header, so that malformed headers reach the parser
 * with valid signatures: the parser, not the signature, must refuse them. */
static size_t make_raw(const char *header_json, uint8_t **out)
{
	struct mg_envelope env = {.header = (const uint8_t *)header_json,
	                          .header_len = strlen(header_json),
	                          .rest = (const uint8_t *)policy, .rest_len = strlen(policy)};
	size_t len = 0;

	cr_assert_eq(mg_envelope_add_signature(&mg_bundle_kind, &env, &sk[0], "b"), 0);
	cr_assert_eq(mg_envelope_add_signature(&mg_bundle_kind, &env, &sk[1], "b"), 0);
	cr_assert_eq(mg_envelope_format(&mg_bundle_kind, &env, out, &len), 0);
	return len;
}

static void expect_header_reject(const char *json, const char *reason)
{
	uint8_t *buf;
	size_t len = make_raw(json, &buf);

	expect_reject(buf, len, reason);
	free(buf);
}

Test(bundle, header_fields_are_strict)
{
	struct mg_bundle_header h = header(7);
	char *good, *bad;
	size_t glen;
	uint8_t *buf;
	size_t len;

	h.payload_length = strlen(policy);
	crypto_generichash(h.payload_hash, sizeof(h.payload_hash), (const uint8_t *)policy,
	                   strlen(policy), NULL, 0);
	cr_assert_eq(mg_bundle_header_format(&h, &good, &glen), 0);
	len = make_raw(good, &buf);
	{
		struct mg_bundle b;
		cr_assert_eq(verify(buf, len, &b), 0, "%s", mg_error());
	}
	free(buf);

	bad = malloc(glen + 64);
	snprintf(bad, glen + 64, "{\"version\":8,%s", good + 1);
	expect_header_reject(bad, "duplicate");
	snprintf(bad, glen + 64, "{\"extra\":1,%s", good + 1);
	expect_header_reject(bad, "$.extra: unknown key");
	snprintf(bad, glen + 64, "{\"format\":2,%s", strstr(good, "\"domain\""));
	expect_header_reject(bad, "unsupported bundle format 2");
	snprintf(bad, glen + 64, "{%s", strstr(good, "\"domain\""));
	expect_header_reject(bad, "$.format: required");
	free(bad);
	free(good);
}

Test(bundle, cosign_adds_one_signature_and_refuses_a_duplicate)
{
	const int keys[] = {0};
	struct mg_bundle_header h = header(7);
	uint8_t *buf, *two, *three;
	size_t len = make(&h, keys, 1, &buf), len2, len3;
	struct mg_bundle b;

	cr_assert_eq(mg_bundle_cosign(buf, len, "b", &sk[1], &two, &len2), 0, "%s", mg_error());
	cr_assert_eq(verify(two, len2, &b), 0, "%s", mg_error());
	cr_assert_eq(mg_bundle_cosign(two, len2, "b", &sk[1], &three, &len3), -EEXIST);
	free(two);
	free(buf);
}

Test(bundle, no_target_check_when_none_is_asked)
{
	const int keys[] = {0, 1};
	struct mg_bundle_header h = header(7);
	const struct mg_bundle_checks any = {.now = NOW, .clock = NOW};
	uint8_t *buf;
	size_t len = make(&h, keys, 2, &buf);
	struct mg_bundle b;

	cr_assert_eq(mg_bundle_verify(buf, len, "b", &kr, &any, &b), 0, "%s", mg_error());
	cr_assert_lt(mg_bundle_target_check("Honcho", "t"), 0);
	cr_assert_eq(mg_bundle_target_check("honcho.juki-1_a", "t"), 0);
	free(buf);
}
