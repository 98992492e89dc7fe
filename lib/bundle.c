#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mynaguard/bundle.h"
#include "mynaguard/error.h"
#include "mynaguard/json.h"
#include "mynaguard/util.h"

const struct mg_envelope_kind mg_bundle_kind = {
	.magic = MG_BUNDLE_MAGIC,
	.domain = "mynaguard-bundle-v1",
	.header_max = MG_BUNDLE_HEADER_MAX,
	.has_payload = true,
};

int mg_bundle_target_check(const char *target, const char *what)
{
	size_t len = strlen(target);

	/* A group is also a directory of the repository and a path element of
	 * the URL a terminal polls, so "." and ".." must never be one. */
	if (len == 0 || len > MG_BUNDLE_TARGET_MAX || target[0] == '.' ||
	    strspn(target, "abcdefghijklmnopqrstuvwxyz0123456789._-") != len)
		return mg_fail(EINVAL, "%s: \"%.80s\" is not a group name (1 to %d of a-z 0-9 . _ -, "
		               "not starting with '.')", what, target, MG_BUNDLE_TARGET_MAX);
	return 0;
}

static int get_time(const json_t *obj, const char *key, const char *where, int64_t *out)
{
	const char *s = NULL;
	int r = mg_json_get_string(obj, key, where, true, &s);

	if (r == 0 && mg_time_parse(s, out) < 0)
		r = mg_fail(EBADMSG, "%s.%s: expected a UTC time like 2027-03-31T00:00:00Z", where, key);
	return r;
}

static int get_hash(const json_t *obj, const char *where, uint8_t out[MG_BUNDLE_HASH_BYTES])
{
	const char *s = NULL, *end;
	size_t got = 0;
	int r = mg_json_get_string(obj, "payload_blake2b", where, true, &s);

	if (r < 0)
		return r;
	if (strlen(s) != 2 * MG_BUNDLE_HASH_BYTES || strspn(s, "0123456789abcdef") != strlen(s) ||
	    sodium_hex2bin(out, MG_BUNDLE_HASH_BYTES, s, strlen(s), NULL, &got, &end) != 0 ||
	    got != MG_BUNDLE_HASH_BYTES)
		return mg_fail(EBADMSG, "%s.payload_blake2b: expected %d lower-case hex digits", where,
		               2 * MG_BUNDLE_HASH_BYTES);
	return 0;
}

static int parse_header(const uint8_t *buf, size_t len, const char *origin,
                        struct mg_bundle_header *h)
{
	static const char *const keys[] = {"format", "domain", "version", "issued", "expires",
	                                   "target", "keyring", "payload_length",
	                                   "payload_blake2b", NULL};
	_cleanup_json_ json_t *root = NULL;
	char where[MG_WHERE_MAX], what[MG_WHERE_MAX];
	const char *domain = NULL, *target = NULL;
	uint64_t format = 0;
	int r;

	snprintf(what, sizeof(what), "%s: header", origin);
	snprintf(where, sizeof(where), "%s: header $", origin);
	r = mg_json_parse(buf, len, what, &root);
	if (r < 0)
		return r;
	r = mg_json_only_keys(root, where, keys);
	if (r == 0) r = mg_json_get_uint(root, "format", where, true, 0, INT64_MAX, &format);
	if (r < 0)
		return r;
	if (format != MG_BUNDLE_FORMAT)
		return mg_fail(EPROTONOSUPPORT, "%s.format: unsupported bundle format %llu "
		               "(this terminal reads %d)", where, (unsigned long long)format,
		               MG_BUNDLE_FORMAT);
	r = mg_json_get_string(root, "domain", where, true, &domain);
	if (r == 0 && strcmp(domain, MG_BUNDLE_DOMAIN) != 0)
		r = mg_fail(EBADMSG, "%s.domain: expected \"%s\"", where, MG_BUNDLE_DOMAIN);
	if (r == 0) r = mg_json_get_uint(root, "version", where, true, 1, INT64_MAX, &h->version);
	if (r == 0) r = get_time(root, "issued", where, &h->issued);
	if (r == 0) r = get_time(root, "expires", where, &h->expires);
	if (r == 0 && h->expires <= h->issued)
		r = mg_fail(EBADMSG, "%s.expires: not after issued", where);
	if (r == 0) r = mg_json_get_string(root, "target", where, true, &target);
	if (r == 0) {
		mg_json_where_key(what, where, "target");
		if (mg_bundle_target_check(target, what) < 0)
			r = -EBADMSG;
	}
	if (r == 0) r = mg_json_get_uint(root, "keyring", where, true, 1, INT64_MAX, &h->keyring);
	if (r == 0) r = mg_json_get_uint(root, "payload_length", where, true, 0,
	                                 MG_POLICY_MAX_BYTES, &h->payload_length);
	if (r == 0) r = get_hash(root, where, h->payload_hash);
	if (r < 0)
		return r;
	snprintf(h->target, sizeof(h->target), "%s", target);
	return 0;
}

/* Payload length and hash, and nothing after the payload. */
static int check_payload(struct mg_bundle *b, const char *origin)
{
	uint8_t hash[MG_BUNDLE_HASH_BYTES];

	if (b->env.rest_len < b->hdr.payload_length)
		return mg_fail(EBADMSG, "%s: truncated: payload has %zu of %llu bytes", origin,
		               b->env.rest_len, (unsigned long long)b->hdr.payload_length);
	if (b->env.rest_len > b->hdr.payload_length)
		return mg_fail(EBADMSG, "%s: %llu trailing bytes after the payload", origin,
		               (unsigned long long)(b->env.rest_len - b->hdr.payload_length));
	b->payload = b->env.rest;
	b->payload_len = b->env.rest_len;
	crypto_generichash(hash, sizeof(hash), b->payload, b->payload_len, NULL, 0);
	if (sodium_memcmp(hash, b->hdr.payload_hash, sizeof(hash)) != 0)
		return mg_fail(EBADMSG, "%s: payload does not match payload_blake2b (altered)", origin);
	return 0;
}

static int parse_frame(const uint8_t *buf, size_t len, const char *origin, struct mg_bundle *b)
{
	memset(b, 0, sizeof(*b));
	if (len > MG_BUNDLE_MAX_BYTES)
		return mg_fail(EFBIG, "%s: %zu bytes is larger than the %zu a bundle may have",
		               origin, len, MG_BUNDLE_MAX_BYTES);
	return mg_envelope_parse(&mg_bundle_kind, buf, len, origin, &b->env);
}

int mg_bundle_parse(const uint8_t *buf, size_t len, const char *origin, struct mg_bundle *out)
{
	int r = parse_frame(buf, len, origin, out);

	if (r == 0) r = parse_header(out->env.header, out->env.header_len, origin, &out->hdr);
	if (r == 0) r = check_payload(out, origin);
	return r;
}

static int check_times(const struct mg_bundle_header *h, const struct mg_bundle_checks *c,
                       const char *origin)
{
	char when[MG_TIME_LEN], floor[MG_TIME_LEN];

	if (h->issued > c->clock + MG_BUNDLE_FUTURE_SLACK) {
		mg_time_format(h->issued, when);
		return mg_fail(EBADMSG, "%s: issued %s, more than a day ahead of this terminal's "
		               "clock (a signing mistake must not move the clock floor)", origin, when);
	}
	if (h->expires <= c->now) {
		mg_time_format(h->expires, when);
		mg_time_format(c->now, floor);
		return mg_fail(EKEYEXPIRED, "%s: expired at %s (terminal time %s)", origin, when, floor);
	}
	return 0;
}

int mg_bundle_verify(const uint8_t *buf, size_t len, const char *origin,
                     const struct mg_keyring *kr, const struct mg_bundle_checks *checks,
                     struct mg_bundle *out)
{
	int r;

	r = parse_frame(buf, len, origin, out);
	if (r < 0)
		return r;
	/* Signatures over the exact header bytes, before any JSON is parsed. */
	mg_envelope_count(&mg_bundle_kind, &out->env, kr->policy.keys, kr->policy.nkeys,
	                  &out->count);
	r = mg_envelope_require(&out->count, kr->policy.threshold, "policy", origin);
	if (r == 0) r = parse_header(out->env.header, out->env.header_len, origin, &out->hdr);
	if (r == 0) r = check_payload(out, origin);
	if (r == 0) r = check_times(&out->hdr, checks, origin);
	if (r < 0)
		return r;
	if (checks->target && strcmp(out->hdr.target, checks->target) != 0)
		return mg_fail(EXDEV, "%s: for group \"%s\", this terminal is in group \"%s\"", origin,
		               out->hdr.target, checks->target);
	if (out->hdr.keyring > kr->version)
		return mg_fail(ESTALE, "%s: signed under keyring version %llu, the pinned keyring "
		               "is version %llu: update the keyring first", origin,
		               (unsigned long long)out->hdr.keyring, (unsigned long long)kr->version);
	return 0;
}

int mg_bundle_header_format(const struct mg_bundle_header *h, char **json, size_t *len)
{
	_cleanup_json_ json_t *obj = NULL;
	char issued[MG_TIME_LEN], expires[MG_TIME_LEN], hash[2 * MG_BUNDLE_HASH_BYTES + 1];

	mg_time_format(h->issued, issued);
	mg_time_format(h->expires, expires);
	sodium_bin2hex(hash, sizeof(hash), h->payload_hash, sizeof(h->payload_hash));
	obj = json_pack("{s:i, s:s, s:I, s:s, s:s, s:s, s:I, s:I, s:s}",
	                "format", MG_BUNDLE_FORMAT, "domain", MG_BUNDLE_DOMAIN,
	                "version", (json_int_t)h->version, "issued", issued, "expires", expires,
	                "target", h->target, "keyring", (json_int_t)h->keyring,
	                "payload_length", (json_int_t)h->payload_length, "payload_blake2b", hash);
	*json = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	if (!*json)
		return mg_fail(ENOMEM, "bundle header: out of memory");
	*len = strlen(*json);
	return 0;
}

int mg_bundle_create(const struct mg_bundle_header *hdr, const uint8_t *payload,
                     size_t payload_len, const struct mg_secret_key *const *keys, size_t nkeys,
                     uint8_t **out, size_t *len)
{
	struct mg_bundle_header h = *hdr;
	_cleanup_free_ char *header = NULL;
	struct mg_envelope env = {0};
	size_t hlen;
	int r;

	r = mg_bundle_target_check(h.target, "--target");
	if (r < 0)
		return r;
	if (h.version < 1 || h.version > INT64_MAX || h.keyring < 1 || h.keyring > INT64_MAX)
		return mg_fail(EINVAL, "--version and --keyring-version: expected 1 or more");
	if (h.expires <= h.issued)
		return mg_fail(EINVAL, "--expires: must be after the time of signing");
	if (payload_len > MG_POLICY_MAX_BYTES)
		return mg_fail(EFBIG, "policy: larger than %u bytes", MG_POLICY_MAX_BYTES);
	h.payload_length = payload_len;
	crypto_generichash(h.payload_hash, sizeof(h.payload_hash), payload, payload_len, NULL, 0);
	r = mg_bundle_header_format(&h, &header, &hlen);
	if (r < 0)
		return r;
	env.header = (const uint8_t *)header;
	env.header_len = hlen;
	env.rest = payload;
	env.rest_len = payload_len;
	for (size_t i = 0; i < nkeys; i++) {
		r = mg_envelope_add_signature(&mg_bundle_kind, &env, keys[i], "bundle");
		if (r < 0)
			return r;
	}
	return mg_envelope_format(&mg_bundle_kind, &env, out, len);
}

int mg_bundle_cosign(const uint8_t *buf, size_t len, const char *origin,
                     const struct mg_secret_key *k, uint8_t **out, size_t *out_len)
{
	struct mg_bundle b;
	int r;

	/* Only a well-formed bundle is worth a signature; trust is the
	 * verifier's business, but a co-signer must not sign garbage. */
	r = mg_bundle_parse(buf, len, origin, &b);
	if (r == 0) r = mg_envelope_add_signature(&mg_bundle_kind, &b.env, k, origin);
	if (r == 0) r = mg_envelope_format(&mg_bundle_kind, &b.env, out, out_len);
	return r;
}
