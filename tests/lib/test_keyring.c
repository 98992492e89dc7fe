/* Keyrings: self-signed first versions, the root chain of rotations (old
 * and new thresholds), one version at a time, strict bodies. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "mynaguard/error.h"
#include "mynaguard/keyring.h"

static struct mg_secret_key sk[6];
static struct mg_public_key pk[6];

static void setup(void)
{
	cr_assert(sodium_init() >= 0);
	for (int i = 0; i < 6; i++) {
		crypto_sign_ed25519_keypair(pk[i].pk, sk[i].sk);
		mg_key_id(pk[i].pk, pk[i].id);
		memcpy(sk[i].id, pk[i].id, sizeof(sk[i].id));
		snprintf(pk[i].name, sizeof(pk[i].name), "k%d", i);
		snprintf(sk[i].name, sizeof(sk[i].name), "k%d", i);
	}
}

TestSuite(keyring, .init = setup);

/* Roots roots[0..nroots), threshold t; one policy key (5). */
static struct mg_keyring ring(uint64_t version, const int *roots, size_t nroots, uint64_t t)
{
	struct mg_keyring kr = {.version = version, .issued = 1796533200};

	for (size_t i = 0; i < nroots; i++)
		kr.root.keys[kr.root.nkeys++] = pk[roots[i]];
	kr.root.threshold = t;
	kr.policy.keys[kr.policy.nkeys++] = pk[5];
	kr.policy.threshold = 1;
	return kr;
}

static size_t make(const struct mg_keyring *kr, const int *signers, size_t n, uint8_t **out)
{
	const struct mg_secret_key *keys[6];
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		keys[i] = &sk[signers[i]];
	cr_assert_eq(mg_keyring_create(kr, keys, n, out, &len), 0, "%s", mg_error());
	return len;
}

Test(keyring, first_version_needs_its_own_root_threshold)
{
	const int roots[] = {0, 1}, both[] = {0, 1}, one[] = {0}, policy[] = {5, 0};
	struct mg_keyring kr = ring(1, roots, 2, 2), got;
	uint8_t *buf;
	size_t len;

	len = make(&kr, both, 2, &buf);
	cr_assert_eq(mg_keyring_verify_self(buf, len, "kr", &got), 0, "%s", mg_error());
	cr_assert_eq(got.version, 1);
	cr_assert_eq(got.root.nkeys, 2);
	cr_assert_eq(memcmp(got.policy.keys[0].pk, pk[5].pk, 32), 0);
	free(buf);
	len = make(&kr, one, 1, &buf);
	cr_assert_lt(mg_keyring_verify_self(buf, len, "kr", &got), 0);
	cr_assert(strstr(mg_error(), "by its own root keys, 2 required"), "%s", mg_error());
	free(buf);
	/* A policy key's signature does not count for the root role. */
	len = make(&kr, policy, 2, &buf);
	cr_assert_lt(mg_keyring_verify_self(buf, len, "kr", &got), 0);
	free(buf);
}

Test(keyring, rotation_needs_old_and_new_roots)
{
	const int old_roots[] = {0, 1}, new_roots[] = {2, 3};
	const int all[] = {0, 1, 2, 3}, only_old[] = {0, 1}, only_new[] = {2, 3}, half[] = {0, 2, 3};
	struct mg_keyring cur, next = ring(2, new_roots, 2, 2), got;
	struct mg_keyring v1 = ring(1, old_roots, 2, 2);
	uint8_t *b1, *buf;
	size_t l1, len;

	l1 = make(&v1, only_old, 2, &b1);
	cr_assert_eq(mg_keyring_verify_self(b1, l1, "v1", &cur), 0, "%s", mg_error());

	len = make(&next, all, 4, &buf);
	cr_assert_eq(mg_keyring_verify_rotation(&cur, buf, len, "v2", &got), 0, "%s", mg_error());
	cr_assert_eq(got.version, 2);
	free(buf);

	len = make(&next, only_new, 2, &buf);
	cr_assert_lt(mg_keyring_verify_rotation(&cur, buf, len, "v2", &got), 0);
	cr_assert(strstr(mg_error(), "old root"), "%s", mg_error());
	free(buf);

	len = make(&next, only_old, 2, &buf);
	cr_assert_lt(mg_keyring_verify_rotation(&cur, buf, len, "v2", &got), 0);
	cr_assert(strstr(mg_error(), "new root"), "%s", mg_error());
	free(buf);

	len = make(&next, half, 3, &buf);
	cr_assert_lt(mg_keyring_verify_rotation(&cur, buf, len, "v2", &got), 0);
	cr_assert(strstr(mg_error(), "1 valid signature by old root keys, 2 required"), "%s",
	          mg_error());
	free(buf);
	free(b1);
}

Test(keyring, versions_go_one_at_a_time)
{
	const int roots[] = {0}, s[] = {0};
	struct mg_keyring v1 = ring(1, roots, 1, 1), v3 = ring(3, roots, 1, 1), same = ring(1, roots, 1, 1);
	struct mg_keyring cur, got;
	uint8_t *b1, *buf;
	size_t l1, len;

	l1 = make(&v1, s, 1, &b1);
	cr_assert_eq(mg_keyring_verify_self(b1, l1, "v1", &cur), 0);
	len = make(&v3, s, 1, &buf);
	cr_assert_eq(mg_keyring_verify_rotation(&cur, buf, len, "v3", &got), -ESTALE);
	cr_assert(strstr(mg_error(), "one version at a time"), "%s", mg_error());
	free(buf);
	len = make(&same, s, 1, &buf);
	cr_assert_eq(mg_keyring_verify_rotation(&cur, buf, len, "v1b", &got), -ESTALE);
	free(buf);
	free(b1);
}

Test(keyring, creation_refuses_bad_roles)
{
	const int roots[] = {0, 0}, s[] = {0};
	struct mg_keyring kr = ring(1, roots, 2, 1);
	const struct mg_secret_key *keys[] = {&sk[0]};
	uint8_t *buf;
	size_t len;

	cr_assert_lt(mg_keyring_create(&kr, keys, 1, &buf, &len), 0);
	cr_assert(strstr(mg_error(), "twice"), "%s", mg_error());
	kr = ring(1, s, 1, 2);
	cr_assert_lt(mg_keyring_create(&kr, keys, 1, &buf, &len), 0);
	cr_assert(strstr(mg_error(), "threshold"), "%s", mg_error());
}

/* Bodies signed as they are, so the parser must refuse them on its own. */
static void expect_body_reject(const char *body, const char *reason)
{
	struct mg_envelope env = {.header = (const uint8_t *)body, .header_len = strlen(body)};
	struct mg_keyring got;
	uint8_t *buf;
	size_t len;

	cr_assert_eq(mg_envelope_add_signature(&mg_keyring_kind, &env, &sk[0], "kr"), 0);
	cr_assert_eq(mg_envelope_format(&mg_keyring_kind, &env, &buf, &len), 0);
	cr_assert_lt(mg_keyring_parse(buf, len, "kr", &got), 0, "accepted: %s", body);
	cr_assert(strstr(mg_error(), reason), "\"%s\" not in \"%s\"", reason, mg_error());
	free(buf);
}

Test(keyring, bodies_are_strict)
{
	expect_body_reject("{\"format\":2}", "unsupported keyring format 2");
	expect_body_reject("{\"format\":1,\"domain\":\"x\"}", "$.domain: expected");
	expect_body_reject("{\"format\":1,\"domain\":\"mynaguard/keyring/v1\",\"version\":1,"
	                   "\"issued\":\"2026-12-06T00:00:00Z\",\"root\":{\"threshold\":1,"
	                   "\"keys\":[{\"id\":\"0000000000000000\",\"name\":\"a\",\"public\":"
	                   "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}]}}",
	                   "$.root.keys[0].id: does not match");
	expect_body_reject("{\"format\":1,\"x\":1}", "$.x: unknown key");
}
