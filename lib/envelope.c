#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mynaguard/envelope.h"
#include "mynaguard/error.h"
#include "mynaguard/util.h"

#define SIG_B64_LEN (sodium_base64_ENCODED_LEN(MG_KEY_SIG_BYTES, sodium_base64_VARIANT_ORIGINAL) - 1)

/* A cursor over the frame's text lines. */
struct reader {
	const uint8_t *buf;
	size_t len, pos;
	unsigned line;              /* 1-based number of the line about to be read */
	const char *origin;
};

/* Takes the next line (without "\n") of at most max bytes. */
static int next_line(struct reader *rd, size_t max, const char **line, size_t *len)
{
	const uint8_t *start = rd->buf + rd->pos;
	size_t room = rd->len - rd->pos;
	const uint8_t *nl = memchr(start, '\n', room < max + 1 ? room : max + 1);

	if (!nl)
		return mg_fail(EBADMSG, "%s: line %u: %s", rd->origin, rd->line,
		               room <= max ? "truncated (no newline)" : "too long");
	*line = (const char *)start;
	*len = (size_t)(nl - start);
	rd->pos += *len + 1;
	rd->line++;
	return 0;
}

static bool has_prefix(const char *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(line, prefix, n) == 0;
}

/* "signature <16 hex> <base64>" */
static int parse_signature(const struct reader *rd, const char *line, size_t len,
                           struct mg_signature *sig)
{
	const size_t want = strlen("signature ") + 16 + 1 + SIG_B64_LEN;
	char hex[MG_KEY_ID_HEX];
	size_t got = 0;
	const char *end;
	unsigned n = rd->line - 1;

	if (len != want || line[strlen("signature ") + 16] != ' ')
		return mg_fail(EBADMSG, "%s: line %u: expected \"signature <key id> <signature>\"",
		               rd->origin, n);
	memcpy(hex, line + strlen("signature "), 16);
	hex[16] = '\0';
	if (mg_key_id_parse(hex, sig->id) < 0)
		return mg_fail(EBADMSG, "%s: line %u: key id: expected 16 lower-case hex digits",
		               rd->origin, n);
	if (sodium_base642bin(sig->sig, sizeof(sig->sig), line + len - SIG_B64_LEN, SIG_B64_LEN,
	                      NULL, &got, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    got != sizeof(sig->sig) || end != line + len)
		return mg_fail(EBADMSG, "%s: line %u: signature: expected base64 of %d bytes",
		               rd->origin, n, MG_KEY_SIG_BYTES);
	return 0;
}

/* "header <N>": decimal, no sign, no leading zero, at most max. */
static int parse_header_len(const struct reader *rd, const char *line, size_t len, size_t max,
                            size_t *out)
{
	const char *digits = line + strlen("header ");
	size_t nd = len - strlen("header ");
	uint64_t v = 0;

	if (nd == 0 || nd > 10 || strspn(digits, "0123456789") < nd || (digits[0] == '0'))
		return mg_fail(EBADMSG, "%s: line %u: expected \"header <length>\" in decimal "
		               "without leading zeros", rd->origin, rd->line - 1);
	for (size_t i = 0; i < nd; i++)
		v = v * 10 + (uint64_t)(digits[i] - '0');
	if (v > max)
		return mg_fail(EFBIG, "%s: line %u: header of %llu bytes is larger than %zu",
		               rd->origin, rd->line - 1, (unsigned long long)v, max);
	*out = (size_t)v;
	return 0;
}

static int check_distinct(const struct mg_envelope *env, const struct reader *rd)
{
	for (size_t i = 0; i + 1 < env->nsig; i++) {
		if (memcmp(env->sig[i].id, env->sig[env->nsig - 1].id, MG_KEY_ID_BYTES) == 0) {
			char hex[MG_KEY_ID_HEX];
			mg_key_id_hex(env->sig[i].id, hex);
			return mg_fail(EBADMSG, "%s: line %u: a second signature by key %s",
			               rd->origin, rd->line - 1, hex);
		}
	}
	return 0;
}

int mg_envelope_parse(const struct mg_envelope_kind *kind, const uint8_t *buf, size_t len,
                      const char *origin, struct mg_envelope *env)
{
	struct reader rd = {.buf = buf, .len = len, .line = 1, .origin = origin};
	const char *line;
	size_t n, hlen = 0;
	int r;

	memset(env, 0, sizeof(*env));
	r = next_line(&rd, strlen(kind->magic), &line, &n);
	if (r < 0 || n != strlen(kind->magic) || memcmp(line, kind->magic, n) != 0)
		return mg_fail(EBADMSG, "%s: line 1: not a \"%s\" file (unsupported format or "
		               "version)", origin, kind->magic);
	for (;;) {
		r = next_line(&rd, 256, &line, &n);
		if (r < 0)
			return r;
		if (!has_prefix(line, n, "signature "))
			break;
		if (env->nsig == MG_ENVELOPE_MAX_SIGNATURES)
			return mg_fail(EBADMSG, "%s: line %u: more than %d signatures", origin,
			               rd.line - 1, MG_ENVELOPE_MAX_SIGNATURES);
		r = parse_signature(&rd, line, n, &env->sig[env->nsig]);
		if (r < 0)
			return r;
		env->nsig++;
		r = check_distinct(env, &rd);
		if (r < 0)
			return r;
	}
	if (env->nsig == 0)
		return mg_fail(EBADMSG, "%s: line 2: expected a \"signature\" line (unsigned file)",
		               origin);
	if (!has_prefix(line, n, "header "))
		return mg_fail(EBADMSG, "%s: line %u: expected \"signature\" or \"header\"", origin,
		               rd.line - 1);
	r = parse_header_len(&rd, line, n, kind->header_max, &hlen);
	if (r < 0)
		return r;
	if (len - rd.pos < hlen)
		return mg_fail(EBADMSG, "%s: truncated: header needs %zu bytes, %zu left", origin,
		               hlen, len - rd.pos);
	env->header = buf + rd.pos;
	env->header_len = hlen;
	env->rest = buf + rd.pos + hlen;
	env->rest_len = len - rd.pos - hlen;
	if (!kind->has_payload && env->rest_len > 0)
		return mg_fail(EBADMSG, "%s: %zu trailing bytes after the header", origin,
		               env->rest_len);
	return 0;
}

/* The signed message: DOMAIN || 0x00 || header. */
static uint8_t *signed_message(const struct mg_envelope_kind *kind, const uint8_t *header,
                               size_t header_len, size_t *len)
{
	size_t dlen = strlen(kind->domain) + 1;
	uint8_t *msg = malloc(dlen + header_len + 1);

	if (!msg)
		return NULL;
	memcpy(msg, kind->domain, dlen);
	memcpy(msg + dlen, header, header_len);
	*len = dlen + header_len;
	return msg;
}

static const struct mg_public_key *find_key(const struct mg_public_key *keys, size_t nkeys,
                                            const uint8_t id[MG_KEY_ID_BYTES])
{
	for (size_t i = 0; i < nkeys; i++)
		if (memcmp(keys[i].id, id, MG_KEY_ID_BYTES) == 0)
			return &keys[i];
	return NULL;
}

static bool already_counted(const struct mg_envelope_count *c, const uint8_t id[MG_KEY_ID_BYTES])
{
	for (size_t i = 0; i < c->valid; i++)
		if (memcmp(c->signers[i], id, MG_KEY_ID_BYTES) == 0)
			return true;
	return false;
}

static void note_unknown(struct mg_envelope_count *c, const uint8_t id[MG_KEY_ID_BYTES])
{
	char hex[MG_KEY_ID_HEX];
	size_t used = strlen(c->unknown_ids);

	mg_key_id_hex(id, hex);
	snprintf(c->unknown_ids + used, sizeof(c->unknown_ids) - used, "%s%s", used ? ", " : "",
	         hex);
	c->unknown++;
}

void mg_envelope_count(const struct mg_envelope_kind *kind, const struct mg_envelope *env,
                       const struct mg_public_key *keys, size_t nkeys,
                       struct mg_envelope_count *count)
{
	_cleanup_free_ uint8_t *msg = NULL;
	size_t mlen = 0;

	memset(count, 0, sizeof(*count));
	msg = signed_message(kind, env->header, env->header_len, &mlen);
	for (size_t i = 0; i < env->nsig; i++) {
		const struct mg_public_key *k = find_key(keys, nkeys, env->sig[i].id);

		if (!k) {
			note_unknown(count, env->sig[i].id);
			continue;
		}
		/* Out of memory counts nothing: it fails closed. */
		if (!msg || !mg_key_verify(k, msg, mlen, env->sig[i].sig)) {
			count->bad++;
			continue;
		}
		/* A key counts once, however many lines carry it. */
		if (!already_counted(count, k->id))
			memcpy(count->signers[count->valid++], k->id, MG_KEY_ID_BYTES);
	}
}

int mg_envelope_require(const struct mg_envelope_count *count, uint64_t threshold,
                        const char *role, const char *origin)
{
	char unknown[sizeof(count->unknown_ids) + 64] = "";

	if (count->valid >= threshold)
		return 0;
	if (count->unknown)
		snprintf(unknown, sizeof(unknown), "; signed by unknown key%s %s",
		         count->unknown > 1 ? "s" : "", count->unknown_ids);
	return mg_fail(EKEYREJECTED, "%s: %zu valid signature%s by %s keys, %llu required%s%s",
	               origin, count->valid, count->valid == 1 ? "" : "s", role,
	               (unsigned long long)threshold,
	               count->bad ? "; a signature does not verify (altered or wrongly signed)" : "",
	               unknown);
}

int mg_envelope_add_signature(const struct mg_envelope_kind *kind, struct mg_envelope *env,
                              const struct mg_secret_key *k, const char *origin)
{
	_cleanup_free_ uint8_t *msg = NULL;
	size_t mlen;
	char hex[MG_KEY_ID_HEX];

	for (size_t i = 0; i < env->nsig; i++) {
		if (memcmp(env->sig[i].id, k->id, MG_KEY_ID_BYTES) == 0) {
			mg_key_id_hex(k->id, hex);
			return mg_fail(EEXIST, "%s: already signed by key %s (%s)", origin, hex,
			               k->name);
		}
	}
	if (env->nsig == MG_ENVELOPE_MAX_SIGNATURES)
		return mg_fail(E2BIG, "%s: already %d signatures", origin, MG_ENVELOPE_MAX_SIGNATURES);
	msg = signed_message(kind, env->header, env->header_len, &mlen);
	if (!msg)
		return mg_fail(ENOMEM, "%s: out of memory", origin);
	memcpy(env->sig[env->nsig].id, k->id, MG_KEY_ID_BYTES);
	mg_key_sign(k, msg, mlen, env->sig[env->nsig].sig);
	env->nsig++;
	return 0;
}

int mg_envelope_format(const struct mg_envelope_kind *kind, const struct mg_envelope *env,
                       uint8_t **out, size_t *len)
{
	size_t cap = strlen(kind->magic) + 1 + env->nsig * 128 + 32 + env->header_len +
	             env->rest_len;
	_cleanup_free_ uint8_t *buf = malloc(cap);
	size_t pos = 0;

	if (!buf)
		return mg_fail(ENOMEM, "out of memory");
	pos += (size_t)sprintf((char *)buf, "%s\n", kind->magic);
	for (size_t i = 0; i < env->nsig; i++) {
		char hex[MG_KEY_ID_HEX], b64[SIG_B64_LEN + 1];
		mg_key_id_hex(env->sig[i].id, hex);
		sodium_bin2base64(b64, sizeof(b64), env->sig[i].sig, MG_KEY_SIG_BYTES,
		                  sodium_base64_VARIANT_ORIGINAL);
		pos += (size_t)sprintf((char *)buf + pos, "signature %s %s\n", hex, b64);
	}
	pos += (size_t)sprintf((char *)buf + pos, "header %zu\n", env->header_len);
	memcpy(buf + pos, env->header, env->header_len);
	pos += env->header_len;
	if (env->rest_len)
		memcpy(buf + pos, env->rest, env->rest_len);
	pos += env->rest_len;
	*out = MG_TAKE(buf);
	*len = pos;
	return 0;
}
