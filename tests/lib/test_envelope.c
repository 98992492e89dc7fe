/* The signed frame: every bound of the text, distinct key ids, counting
 * distinct valid signatures, domain separation between kinds. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "mynaguard/envelope.h"
#include "mynaguard/error.h"

static const struct mg_envelope_kind kind = {
	.magic = "test-frame 1", .domain = "test-frame-v1", .header_max = 64, .has_payload = true,
};
static const struct mg_envelope_kind other = {
	.magic = "test-frame 1", .domain = "other-frame-v1", .header_max = 64, .has_payload = true,
};

static struct mg_secret_key sk[3];
static struct mg_public_key pk[3];

static void setup(void)
{
	cr_assert(sodium_init() >= 0);
	for (int i = 0; i < 3; i++) {
		crypto_sign_ed25519_keypair(pk[i].pk, sk[i].sk);
		mg_key_id(pk[i].pk, pk[i].id);
		memcpy(sk[i].id, pk[i].id, sizeof(sk[i].id));
		snprintf(pk[i].name, sizeof(pk[i].name), "k%d", i);
	}
}

TestSuite(envelope, .init = setup);

/* A frame with header "{}" and payload "PAYLOAD", signed by keys[0..n). */
static size_t make(uint8_t **out, const int *keys, size_t n)
{
	struct mg_envelope env = {.header = (const uint8_t *)"{\"a\":1}", .header_len = 7,
	                          .rest = (const uint8_t *)"PAYLOAD", .rest_len = 7};
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		cr_assert_eq(mg_envelope_add_signature(&kind, &env, &sk[keys[i]], "t"), 0);
	cr_assert_eq(mg_envelope_format(&kind, &env, out, &len), 0);
	return len;
}

static int parse_text(const char *text, struct mg_envelope *env)
{
	return mg_envelope_parse(&kind, (const uint8_t *)text, strlen(text), "t", env);
}

Test(envelope, round_trip_and_counting)
{
	const int keys[] = {0, 1};
	uint8_t *buf;
	size_t len = make(&buf, keys, 2);
	struct mg_envelope env;
	struct mg_envelope_count c;

	cr_assert_eq(mg_envelope_parse(&kind, buf, len, "t", &env), 0, "%s", mg_error());
	cr_assert_eq(env.nsig, 2);
	cr_assert_eq(env.header_len, 7);
	cr_assert_eq(env.rest_len, 7);
	mg_envelope_count(&kind, &env, pk, 3, &c);
	cr_assert_eq(c.valid, 2);
	cr_assert_eq(mg_envelope_require(&c, 2, "policy", "t"), 0);
	cr_assert_lt(mg_envelope_require(&c, 3, "policy", "t"), 0);
	cr_assert(strstr(mg_error(), "2 valid signatures by policy keys, 3 required"), "%s",
	          mg_error());
	/* The keyring only trusts key 2: nothing counts, both are unknown. */
	mg_envelope_count(&kind, &env, &pk[2], 1, &c);
	cr_assert_eq(c.valid, 0);
	cr_assert_eq(c.unknown, 2);
	cr_assert_lt(mg_envelope_require(&c, 1, "policy", "t"), 0);
	cr_assert(strstr(mg_error(), "unknown keys"), "%s", mg_error());
	free(buf);
}

Test(envelope, a_signature_for_another_domain_does_not_count)
{
	const int keys[] = {0};
	uint8_t *buf;
	size_t len = make(&buf, keys, 1);
	struct mg_envelope env;
	struct mg_envelope_count c;

	cr_assert_eq(mg_envelope_parse(&other, buf, len, "t", &env), 0);
	mg_envelope_count(&other, &env, pk, 3, &c);
	cr_assert_eq(c.valid, 0);
	cr_assert_eq(c.bad, 1);
	free(buf);
}

Test(envelope, the_same_key_twice_is_refused)
{
	const int keys[] = {0};
	uint8_t *buf;
	size_t len = make(&buf, keys, 1);
	struct mg_envelope env;
	char *twice;
	const char *sig = strstr((char *)buf, "signature ");
	size_t siglen = (size_t)(strchr(sig, '\n') - sig) + 1;

	cr_assert_eq(mg_envelope_parse(&kind, buf, len, "t", &env), 0);
	cr_assert_eq(mg_envelope_add_signature(&kind, &env, &sk[0], "t"), -EEXIST);
	/* Duplicate the signature line by hand. */
	twice = malloc(len + siglen);
	memcpy(twice, buf, (size_t)(sig - (char *)buf) + siglen);
	memcpy(twice + (sig - (char *)buf) + siglen, sig, len - (size_t)(sig - (char *)buf));
	cr_assert_lt(mg_envelope_parse(&kind, (uint8_t *)twice, len + siglen, "t", &env), 0);
	cr_assert(strstr(mg_error(), "second signature"), "%s", mg_error());
	free(twice);
	free(buf);
}

Test(envelope, frame_errors_name_the_line)
{
	struct mg_envelope env;

	cr_assert_lt(parse_text("", &env), 0);
	cr_assert_lt(parse_text("test-frame 2\nheader 2\n{}", &env), 0);
	cr_assert(strstr(mg_error(), "unsupported format"), "%s", mg_error());
	cr_assert_lt(parse_text("test-frame 1\nheader 2\n{}", &env), 0);
	cr_assert(strstr(mg_error(), "unsigned"), "%s", mg_error());
	cr_assert_lt(parse_text("test-frame 1\nsignature zz\nheader 2\n{}", &env), 0);
	cr_assert(strstr(mg_error(), "line 2"), "%s", mg_error());
}

Test(envelope, header_length_bounds)
{
	const int keys[] = {0};
	uint8_t *buf;
	size_t len = make(&buf, keys, 1);
	char *text = malloc(len + 16), *h;
	struct mg_envelope env;

	memcpy(text, buf, len);
	text[len] = '\0';
	h = strstr(text, "header 7\n");
	cr_assert_not_null(h);
	h[7] = '0';                        /* "header 0": leading zero / empty */
	cr_assert_lt(mg_envelope_parse(&kind, (uint8_t *)text, len, "t", &env), 0);
	h[7] = '9';                        /* header longer than the bytes after the payload? */
	cr_assert_eq(mg_envelope_parse(&kind, (uint8_t *)text, len, "t", &env), 0);
	cr_assert_eq(env.rest_len, 5);
	cr_assert_eq(mg_envelope_parse(&kind, (uint8_t *)text, len - 8, "t", &env), -EBADMSG);
	cr_assert(strstr(mg_error(), "truncated"), "%s", mg_error());
	free(text);
	free(buf);
}

Test(envelope, header_over_the_maximum)
{
	struct mg_envelope env;

	cr_assert_eq(parse_text("test-frame 1\nsignature 0000000000000000 "
	                        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n"
	                        "header 65\n{}", &env), -EFBIG);
}

Test(envelope, no_payload_kind_refuses_trailing_bytes)
{
	const struct mg_envelope_kind bare = {.magic = "test-frame 1", .domain = "test-frame-v1",
	                                      .header_max = 64, .has_payload = false};
	const int keys[] = {0};
	uint8_t *buf;
	size_t len = make(&buf, keys, 1);
	struct mg_envelope env;

	cr_assert_lt(mg_envelope_parse(&bare, buf, len, "t", &env), 0);
	cr_assert(strstr(mg_error(), "trailing"), "%s", mg_error());
	cr_assert_eq(mg_envelope_parse(&bare, buf, len - 7, "t", &env), 0);
	free(buf);
}
