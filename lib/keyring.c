#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mynaguard/error.h"
#include "mynaguard/json.h"
#include "mynaguard/keyring.h"
#include "mynaguard/util.h"

const struct mg_envelope_kind mg_keyring_kind = {
	.magic = MG_KEYRING_MAGIC,
	.domain = "mynaguard-keyring-v1",
	.header_max = MG_KEYRING_HEADER_MAX,
	.has_payload = false,
};

#define PK_B64_LEN (sodium_base64_ENCODED_LEN(MG_KEY_PUBLIC_BYTES, sodium_base64_VARIANT_ORIGINAL) - 1)

const struct mg_public_key *mg_keyring_role_find(const struct mg_keyring_role *role,
                                                 const uint8_t id[MG_KEY_ID_BYTES])
{
	for (size_t i = 0; i < role->nkeys; i++)
		if (memcmp(role->keys[i].id, id, MG_KEY_ID_BYTES) == 0)
			return &role->keys[i];
	return NULL;
}

/* {"id":"…","name":"…","public":"<base64>"}: the id must be the public key's. */
static int parse_key(const json_t *obj, const char *where, struct mg_public_key *k)
{
	static const char *const keys[] = {"id", "name", "public", NULL};
	const char *id = NULL, *name = NULL, *pub = NULL, *end;
	uint8_t computed[MG_KEY_ID_BYTES];
	size_t got = 0;
	int r;

	if (!json_is_object(obj))
		return mg_fail(EBADMSG, "%s: expected an object", where);
	r = mg_json_only_keys(obj, where, keys);
	if (r == 0) r = mg_json_get_string(obj, "id", where, true, &id);
	if (r == 0) r = mg_json_get_string(obj, "name", where, true, &name);
	if (r == 0) r = mg_json_get_string(obj, "public", where, true, &pub);
	if (r < 0)
		return r;
	if (mg_key_id_parse(id, k->id) < 0)
		return mg_fail(EBADMSG, "%s.id: expected 16 lower-case hex digits", where);
	if (mg_key_name_check(name) < 0)
		return mg_error_prefix(-EBADMSG, "%s.name", where);
	snprintf(k->name, sizeof(k->name), "%s", name);
	if (strlen(pub) != PK_B64_LEN ||
	    sodium_base642bin(k->pk, sizeof(k->pk), pub, strlen(pub), NULL, &got, &end,
	                      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    got != sizeof(k->pk) || *end)
		return mg_fail(EBADMSG, "%s.public: expected base64 of %d bytes", where,
		               MG_KEY_PUBLIC_BYTES);
	mg_key_id(k->pk, computed);
	if (memcmp(computed, k->id, sizeof(computed)) != 0)
		return mg_fail(EBADMSG, "%s.id: does not match the public key", where);
	return 0;
}

static int parse_role(const json_t *body, const char *key, const char *where,
                      struct mg_keyring_role *role)
{
	static const char *const keys[] = {"threshold", "keys", NULL};
	char here[MG_WHERE_MAX], kwhere[MG_WHERE_MAX], at[MG_WHERE_MAX];
	json_t *obj = NULL, *arr = NULL;
	int r;

	mg_json_where_key(here, where, key);
	r = mg_json_get_object(body, key, where, true, &obj);
	if (r == 0) r = mg_json_only_keys(obj, here, keys);
	if (r == 0) r = mg_json_get_array(obj, "keys", here, true, &arr);
	if (r < 0)
		return r;
	mg_json_where_key(kwhere, here, "keys");
	if (json_array_size(arr) < 1 || json_array_size(arr) > MG_KEYRING_MAX_KEYS)
		return mg_fail(EBADMSG, "%s: expected 1 to %d keys", kwhere, MG_KEYRING_MAX_KEYS);
	role->nkeys = 0;
	for (size_t i = 0; i < json_array_size(arr); i++) {
		struct mg_public_key *k = &role->keys[i];

		mg_json_where_index(at, kwhere, i);
		r = parse_key(json_array_get(arr, i), at, k);
		if (r < 0)
			return r;
		if (mg_keyring_role_find(role, k->id))
			return mg_fail(EBADMSG, "%s.id: the same key appears twice", at);
		role->nkeys++;
	}
	return mg_json_get_uint(obj, "threshold", here, true, 1, role->nkeys, &role->threshold);
}

static int parse_body(const uint8_t *buf, size_t len, const char *origin, struct mg_keyring *kr)
{
	static const char *const keys[] = {"format", "domain", "version", "issued", "root",
	                                   "policy", "reset_policy_floor", NULL};
	_cleanup_json_ json_t *body = NULL;
	char where[MG_WHERE_MAX];
	const char *domain = NULL, *issued = NULL;
	uint64_t format = 0;
	int r;

	snprintf(where, sizeof(where), "%s: header $", origin);
	r = mg_json_parse(buf, len, origin, &body);
	if (r == 0) r = mg_json_only_keys(body, where, keys);
	if (r == 0) r = mg_json_get_uint(body, "format", where, true, 0, INT64_MAX, &format);
	if (r < 0)
		return r;
	if (format != MG_KEYRING_FORMAT)
		return mg_fail(EPROTONOSUPPORT, "%s.format: unsupported keyring format %llu "
		               "(this terminal reads %d)", where, (unsigned long long)format,
		               MG_KEYRING_FORMAT);
	r = mg_json_get_string(body, "domain", where, true, &domain);
	if (r == 0 && strcmp(domain, MG_KEYRING_DOMAIN) != 0)
		r = mg_fail(EBADMSG, "%s.domain: expected \"%s\"", where, MG_KEYRING_DOMAIN);
	if (r == 0) r = mg_json_get_uint(body, "version", where, true, 1, INT64_MAX, &kr->version);
	if (r == 0) r = mg_json_get_string(body, "issued", where, true, &issued);
	if (r == 0 && mg_time_parse(issued, &kr->issued) < 0)
		r = mg_fail(EBADMSG, "%s.issued: expected a UTC time like 2026-12-06T00:00:00Z", where);
	if (r == 0) r = parse_role(body, "root", where, &kr->root);
	if (r == 0) r = parse_role(body, "policy", where, &kr->policy);
	if (r == 0) r = mg_json_get_bool(body, "reset_policy_floor", where, true,
	                                 &kr->reset_policy_floor);
	return r;
}

int mg_keyring_parse(const uint8_t *buf, size_t len, const char *origin, struct mg_keyring *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (len > MG_KEYRING_MAX_BYTES)
		return mg_fail(EFBIG, "%s: larger than %u bytes", origin, MG_KEYRING_MAX_BYTES);
	r = mg_envelope_parse(&mg_keyring_kind, buf, len, origin, &out->env);
	if (r < 0)
		return r;
	return parse_body(out->env.header, out->env.header_len, origin, out);
}

/* Counts the signatures of kr's frame by the keys of role. */
static int require_role(const struct mg_keyring *kr, const struct mg_keyring_role *role,
                        const char *what, const char *origin)
{
	struct mg_envelope_count count;

	mg_envelope_count(&mg_keyring_kind, &kr->env, role->keys, role->nkeys, &count);
	return mg_envelope_require(&count, role->threshold, what, origin);
}

/* Signatures are checked on the frame before the body is trusted; the body
 * has to be parsed first only to learn which keys are its own roots, and
 * nothing in it is used unless they have signed. */
int mg_keyring_verify_self(const uint8_t *buf, size_t len, const char *origin,
                           struct mg_keyring *out)
{
	int r = mg_keyring_parse(buf, len, origin, out);

	if (r < 0)
		return r;
	return require_role(out, &out->root, "its own root", origin);
}

int mg_keyring_verify_rotation(const struct mg_keyring *cur, const uint8_t *buf, size_t len,
                               const char *origin, struct mg_keyring *out)
{
	struct mg_envelope env;
	int r;

	/* The old roots vouch for the new header bytes before they are parsed. */
	memset(out, 0, sizeof(*out));
	r = mg_envelope_parse(&mg_keyring_kind, buf, len, origin, &env);
	if (r < 0)
		return r;
	out->env = env;
	r = require_role(out, &cur->root, "old root", origin);
	if (r < 0)
		return r;
	r = mg_keyring_parse(buf, len, origin, out);
	if (r < 0)
		return r;
	if (out->version != cur->version + 1)
		return mg_fail(ESTALE, "%s: keyring version %llu cannot follow version %llu: "
		               "rotations go one version at a time", origin,
		               (unsigned long long)out->version, (unsigned long long)cur->version);
	return require_role(out, &out->root, "new root", origin);
}

static json_t *role_json(const struct mg_keyring_role *role)
{
	json_t *keys = json_array();

	for (size_t i = 0; keys && i < role->nkeys; i++) {
		const struct mg_public_key *k = &role->keys[i];
		char hex[MG_KEY_ID_HEX], b64[PK_B64_LEN + 1];

		mg_key_id_hex(k->id, hex);
		sodium_bin2base64(b64, sizeof(b64), k->pk, sizeof(k->pk), sodium_base64_VARIANT_ORIGINAL);
		json_array_append_new(keys, json_pack("{s:s, s:s, s:s}", "id", hex, "name", k->name,
		                                      "public", b64));
	}
	return json_pack("{s:I, s:o}", "threshold", (json_int_t)role->threshold, "keys", keys);
}

static int check_role(const struct mg_keyring_role *role, const char *what)
{
	if (role->nkeys < 1 || role->nkeys > MG_KEYRING_MAX_KEYS)
		return mg_fail(EINVAL, "%s keys: expected 1 to %d", what, MG_KEYRING_MAX_KEYS);
	if (role->threshold < 1 || role->threshold > role->nkeys)
		return mg_fail(EINVAL, "%s threshold: expected 1 to %zu", what, role->nkeys);
	for (size_t i = 0; i < role->nkeys; i++)
		for (size_t j = 0; j < i; j++)
			if (memcmp(role->keys[i].id, role->keys[j].id, MG_KEY_ID_BYTES) == 0)
				return mg_fail(EINVAL, "%s keys: %s is given twice", what,
				               role->keys[i].name);
	return 0;
}

int mg_keyring_create(const struct mg_keyring *kr, const struct mg_secret_key *const *keys,
                      size_t nkeys, uint8_t **out, size_t *len)
{
	_cleanup_json_ json_t *body = NULL;
	_cleanup_free_ char *text = NULL;
	struct mg_envelope env = {0};
	char issued[MG_TIME_LEN];
	int r;

	r = check_role(&kr->root, "root");
	if (r == 0) r = check_role(&kr->policy, "policy");
	if (r < 0)
		return r;
	mg_time_format(kr->issued, issued);
	body = json_pack("{s:i, s:s, s:I, s:s, s:o, s:o, s:b}", "format", MG_KEYRING_FORMAT,
	                 "domain", MG_KEYRING_DOMAIN, "version", (json_int_t)kr->version,
	                 "issued", issued, "root", role_json(&kr->root),
	                 "policy", role_json(&kr->policy),
	                 "reset_policy_floor", kr->reset_policy_floor);
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (!text)
		return mg_fail(ENOMEM, "keyring: out of memory");
	env.header = (const uint8_t *)text;
	env.header_len = strlen(text);
	if (env.header_len > MG_KEYRING_HEADER_MAX)
		return mg_fail(EFBIG, "keyring: body larger than %u bytes", MG_KEYRING_HEADER_MAX);
	for (size_t i = 0; i < nkeys; i++) {
		r = mg_envelope_add_signature(&mg_keyring_kind, &env, keys[i], "keyring");
		if (r < 0)
			return r;
	}
	return mg_envelope_format(&mg_keyring_kind, &env, out, len);
}
