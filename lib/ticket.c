/* Tickets: the compact signed form, its base32 text and QR, and the store. */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <liboath/oath.h>
#include <qrencode.h>
#include <sodium.h>

#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/journal.h"
#include "mynaguard/json.h"
#include "mynaguard/terminal.h"
#include "mynaguard/ticket.h"
#include "mynaguard/util.h"

enum {
	OFF_VERSION = 0,
	OFF_FLAGS = 1,
	OFF_EXPIRES = 2,
	OFF_HOST = 6,
	OFF_DEVICE = OFF_HOST + MG_TICKET_HOST_BYTES,
	BODY_MAX = OFF_DEVICE + 1 + MG_TICKET_SERIAL_MAX,
	WIRE_MAX = BODY_MAX + MG_KEY_SIG_BYTES,
	MODE_ALLOW = 1,
	MODE_READ_ONLY = 2,
	GROUP = 4,              /* characters per group of the text form */
};

void mg_ticket_host_tag(const char *host, uint8_t tag[MG_TICKET_HOST_BYTES])
{
	crypto_generichash_state st;
	char lower[256];
	size_t n;

	/* Host names compare without case (RFC 4343). */
	for (n = 0; host[n] && n + 1 < sizeof(lower); n++)
		lower[n] = (char)tolower((unsigned char)host[n]);
	crypto_generichash_init(&st, NULL, 0, MG_TICKET_HOST_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)MG_TICKET_HOST_DOMAIN, strlen(MG_TICKET_HOST_DOMAIN));
	crypto_generichash_update(&st, (const uint8_t *)lower, n);
	crypto_generichash_final(&st, tag, MG_TICKET_HOST_BYTES);
}

/* ---- the binary form ------------------------------------------------- */

static size_t body_encode(const struct mg_ticket *t, uint8_t body[BODY_MAX])
{
	uint32_t e = (uint32_t)t->expires;
	size_t len = OFF_DEVICE;

	body[OFF_VERSION] = MG_TICKET_VERSION;
	body[OFF_FLAGS] = (uint8_t)((t->mode == MG_TARGET_READ_ONLY ? MODE_READ_ONLY : MODE_ALLOW) |
	                            (t->bind << 2));
	body[OFF_EXPIRES] = (uint8_t)(e >> 24);
	body[OFF_EXPIRES + 1] = (uint8_t)(e >> 16);
	body[OFF_EXPIRES + 2] = (uint8_t)(e >> 8);
	body[OFF_EXPIRES + 3] = (uint8_t)e;
	memcpy(body + OFF_HOST, t->host, MG_TICKET_HOST_BYTES);
	if (t->bind == MG_TICKET_BIND_SERIAL) {
		size_t n = strlen(t->serial);

		body[len++] = (uint8_t)n;
		memcpy(body + len, t->serial, n);
		len += n;
	} else {
		memcpy(body + len, t->hash, MG_TICKET_HASH_BYTES);
		len += MG_TICKET_HASH_BYTES;
	}
	return len;
}

static void ticket_id(const uint8_t *body, size_t len, char id[MG_TICKET_ID_HEX])
{
	uint8_t h[8];

	crypto_generichash(h, sizeof(h), body, len, NULL, 0);
	sodium_bin2hex(id, MG_TICKET_ID_HEX, h, sizeof(h));
}

static int body_decode(const uint8_t *buf, size_t len, struct mg_ticket *t, size_t *body_len)
{
	uint8_t mode, bind;
	size_t n;

	memset(t, 0, sizeof(*t));
	if (len < OFF_DEVICE + 1 + MG_KEY_SIG_BYTES)
		return mg_fail(EBADMSG, "ticket: too short (%zu bytes)", len);
	if (buf[OFF_VERSION] != MG_TICKET_VERSION)
		return mg_fail(EBADMSG, "ticket: version %u, expected %d", buf[OFF_VERSION], MG_TICKET_VERSION);
	mode = buf[OFF_FLAGS] & 3;
	bind = (buf[OFF_FLAGS] >> 2) & 3;
	if ((mode != MODE_ALLOW && mode != MODE_READ_ONLY) || buf[OFF_FLAGS] >> 4 ||
	    (bind != MG_TICKET_BIND_SERIAL && bind != MG_TICKET_BIND_HASH))
		return mg_fail(EBADMSG, "ticket: unknown mode or binding (flags %02x)", buf[OFF_FLAGS]);
	t->mode = mode == MODE_ALLOW ? MG_TARGET_ALLOW : MG_TARGET_READ_ONLY;
	t->bind = (enum mg_ticket_bind)bind;
	t->expires = (int64_t)((uint32_t)buf[OFF_EXPIRES] << 24 | (uint32_t)buf[OFF_EXPIRES + 1] << 16 |
	                       (uint32_t)buf[OFF_EXPIRES + 2] << 8 | buf[OFF_EXPIRES + 3]);
	memcpy(t->host, buf + OFF_HOST, MG_TICKET_HOST_BYTES);
	if (t->bind == MG_TICKET_BIND_SERIAL) {
		n = buf[OFF_DEVICE];
		if (n == 0 || n > MG_TICKET_SERIAL_MAX || memchr(buf + OFF_DEVICE + 1, 0, n) ||
		    len != OFF_DEVICE + 1 + n + MG_KEY_SIG_BYTES)
			return mg_fail(EBADMSG, "ticket: bad serial length");
		memcpy(t->serial, buf + OFF_DEVICE + 1, n);
		*body_len = OFF_DEVICE + 1 + n;
	} else {
		if (len != OFF_DEVICE + MG_TICKET_HASH_BYTES + MG_KEY_SIG_BYTES)
			return mg_fail(EBADMSG, "ticket: %zu bytes, expected %d for a hash binding", len,
			               OFF_DEVICE + MG_TICKET_HASH_BYTES + MG_KEY_SIG_BYTES);
		memcpy(t->hash, buf + OFF_DEVICE, MG_TICKET_HASH_BYTES);
		*body_len = OFF_DEVICE + MG_TICKET_HASH_BYTES;
	}
	ticket_id(buf, *body_len, t->id);
	return 0;
}

/* ---- the text form --------------------------------------------------- */

static int text_encode(const uint8_t *wire, size_t len, char **text)
{
	char *b32 = NULL, *out;
	size_t b32len = 0, k, o = 0;

	if (oath_base32_encode((const char *)wire, len, &b32, &b32len) != OATH_OK)
		return mg_fail(ENOMEM, "ticket: base32 encoding failed");
	while (b32len > 0 && b32[b32len - 1] == '=')
		b32len--;
	out = malloc(b32len + b32len / GROUP + 1);
	if (!out) {
		free(b32);
		return mg_fail(ENOMEM, "ticket: out of memory");
	}
	for (k = 0; k < b32len; k++) {
		if (k && k % GROUP == 0)
			out[o++] = '-';
		out[o++] = b32[k];
	}
	out[o] = '\0';
	free(b32);
	*text = out;
	return 0;
}

/* Upper-cases, drops separators and restores the padding liboath wants. */
static int text_normalize(const char *text, char *out, size_t size)
{
	size_t o = 0;

	for (const char *p = text; *p; p++) {
		if (*p == '-' || *p == ' ' || *p == '\n' || *p == '\t')
			continue;
		if (!isalnum((unsigned char)*p) || o + 8 >= size)
			return mg_fail(EINVAL, "ticket: not a ticket code (unexpected '%c' or too long)", *p);
		out[o++] = (char)toupper((unsigned char)*p);
	}
	while (o % 8)
		out[o++] = '=';
	out[o] = '\0';
	return (int)o;
}

static int text_decode(const char *text, uint8_t *wire, size_t *len)
{
	char norm[MG_TICKET_TEXT_MAX + 8];
	char *bin = NULL;
	size_t binlen = 0;
	int n;

	n = text_normalize(text, norm, sizeof(norm));
	if (n < 0)
		return n;
	if (oath_base32_decode(norm, (size_t)n, &bin, &binlen) != OATH_OK)
		return mg_fail(EINVAL, "ticket: not a ticket code (bad base32)");
	if (binlen > WIRE_MAX) {
		free(bin);
		return mg_fail(EINVAL, "ticket: too long");
	}
	memcpy(wire, bin, binlen);
	*len = binlen;
	free(bin);
	return 0;
}

static size_t signed_message(const uint8_t *body, size_t len, uint8_t *msg)
{
	size_t d = strlen(MG_TICKET_DOMAIN);

	memcpy(msg, MG_TICKET_DOMAIN, d);
	memcpy(msg + d, body, len);
	return d + len;
}

int mg_ticket_issue(struct mg_ticket *t, const struct mg_secret_key *k, char **text)
{
	uint8_t wire[WIRE_MAX], msg[sizeof(MG_TICKET_DOMAIN) + BODY_MAX];
	size_t len, mlen;

	if (t->mode != MG_TARGET_ALLOW && t->mode != MG_TARGET_READ_ONLY)
		return mg_fail(EINVAL, "ticket: mode must be allow or read-only");
	if (t->bind == MG_TICKET_BIND_SERIAL && (!t->serial[0] || strlen(t->serial) > MG_TICKET_SERIAL_MAX))
		return mg_fail(EINVAL, "ticket: serial must be 1 to %d bytes", MG_TICKET_SERIAL_MAX);
	if (t->bind != MG_TICKET_BIND_SERIAL && t->bind != MG_TICKET_BIND_HASH)
		return mg_fail(EINVAL, "ticket: bind to a serial or a hash");
	if (t->expires <= 0 || t->expires > UINT32_MAX)
		return mg_fail(EINVAL, "ticket: expiry out of range");
	len = body_encode(t, wire);
	mlen = signed_message(wire, len, msg);
	mg_key_sign(k, msg, mlen, wire + len);
	memcpy(t->key_id, k->id, MG_KEY_ID_BYTES);
	ticket_id(wire, len, t->id);
	return text_encode(wire, len + MG_KEY_SIG_BYTES, text);
}

int mg_ticket_decode(const char *text, struct mg_ticket *out)
{
	uint8_t wire[WIRE_MAX];
	size_t len = 0, body = 0;
	int r;

	r = text_decode(text, wire, &len);
	if (r == 0)
		r = body_decode(wire, len, out, &body);
	return r;
}

static int verify_signature(const uint8_t *wire, size_t body, const struct mg_keyring *kr,
                            struct mg_ticket *t)
{
	uint8_t msg[sizeof(MG_TICKET_DOMAIN) + BODY_MAX];
	size_t mlen = signed_message(wire, body, msg);

	for (size_t k = 0; k < kr->policy.nkeys; k++)
		if (mg_key_verify(&kr->policy.keys[k], msg, mlen, wire + body)) {
			memcpy(t->key_id, kr->policy.keys[k].id, MG_KEY_ID_BYTES);
			return 0;
		}
	return mg_fail(EKEYREJECTED, "ticket %s: not signed by a policy key of keyring version %llu",
	               t->id, (unsigned long long)kr->version);
}

int mg_ticket_verify(const char *text, const struct mg_keyring *kr, const char *host, int64_t now,
                     struct mg_ticket *out)
{
	uint8_t wire[WIRE_MAX], tag[MG_TICKET_HOST_BYTES];
	size_t len = 0, body = 0;
	char when[MG_TIME_LEN];
	int r;

	r = text_decode(text, wire, &len);
	if (r == 0) r = body_decode(wire, len, out, &body);
	if (r == 0) r = verify_signature(wire, body, kr, out);
	if (r < 0)
		return r;
	mg_ticket_host_tag(host, tag);
	if (sodium_memcmp(tag, out->host, MG_TICKET_HOST_BYTES) != 0)
		return mg_fail(EXDEV, "ticket %s: issued for another host, not %s", out->id, host);
	if (now >= out->expires) {
		mg_time_format(out->expires, when);
		return mg_fail(ETIME, "ticket %s: expired at %s", out->id, when);
	}
	return 0;
}

bool mg_ticket_matches(const struct mg_ticket *t, const struct mg_usbdev *dev)
{
	if (t->bind == MG_TICKET_BIND_SERIAL)
		return dev->serial[0] && strcmp(t->serial, dev->serial) == 0;
	return sodium_memcmp(t->hash, dev->hash, MG_TICKET_HASH_BYTES) == 0;
}

/* ---- the terminal side ----------------------------------------------- */

int mg_ticket_now(const char *state_dir, int64_t *now)
{
	struct mg_terminal_state st;
	int r;

	*now = mg_now();
	r = mg_terminal_state_read(state_dir, &st);
	if (r == -ENOENT) {
		mg_error_clear();
		return 0;
	}
	if (r < 0)
		return r;
	if (st.clock_floor > *now)
		*now = st.clock_floor;
	return 0;
}

static int pinned_keyring(const char *state_dir, struct mg_keyring *kr)
{
	_cleanup_free_ uint8_t *raw = NULL;
	size_t len = 0;

	return mg_terminal_keyring_read(state_dir, kr, &raw, &len);
}

static void audit_apply(const char *state_dir, const struct mg_ticket *t, const char *decision,
                        const char *why)
{
	_cleanup_free_ char *audit = mg_path_join(state_dir, "audit");
	_cleanup_json_ json_t *detail = NULL;
	char subject[96], when[MG_TIME_LEN], key[MG_KEY_ID_HEX], hash[2 * MG_TICKET_HASH_BYTES + 1];

	if (!audit)
		return;
	mg_time_format(t->expires, when);
	mg_key_id_hex(t->key_id, key);
	sodium_bin2hex(hash, sizeof(hash), t->hash, MG_TICKET_HASH_BYTES);
	snprintf(subject, sizeof(subject), "ticket %s", t->id);
	detail = json_pack("{s:s, s:s, s:s, s:s, s:s}", "mode", mg_target_name(t->mode),
	                   "device", t->bind == MG_TICKET_BIND_SERIAL ? t->serial : hash,
	                   "expires", when, "key", key, "reason", why);
	mg_audit(audit, "ctl", &(struct mg_audit){.event = "ticket.apply", .decision = decision,
	                                          .subject = subject, .detail = detail});
}

int mg_ticket_apply(const char *state_dir, const char *text, struct mg_ticket *out)
{
	_cleanup_free_ char *dir = mg_path_join(state_dir, MG_TICKET_DIR);
	_cleanup_close_ int dfd = -1;
	struct mg_keyring kr;
	char line[MG_TICKET_TEXT_MAX + 2];
	int64_t now;
	int r;

	if (!dir)
		return mg_fail(ENOMEM, "out of memory");
	/* What is not even a ticket is refused before anything is read. */
	r = mg_ticket_decode(text, out);
	if (r < 0)
		return r;
	r = pinned_keyring(state_dir, &kr);
	if (r == -ENOENT)
		return mg_fail(ENOENT, "%s: no keyring pinned, so no ticket can be verified", state_dir);
	if (r == 0) r = mg_ticket_now(state_dir, &now);
	if (r < 0)
		return r;
	memset(out, 0, sizeof(*out));
	r = mg_ticket_verify(text, &kr, mg_hostname(), now, out);
	if (r < 0) {
		/* What is not even a ticket has nothing to name in a record. */
		if (out->id[0])
			audit_apply(state_dir, out, "rejected", mg_error());
		return r;
	}
	r = mg_dir_ensure(dir, 0700);
	if (r == 0) r = dfd = mg_dir_open(dir);
	if (r < 0)
		return r;
	snprintf(line, sizeof(line), "%s\n", text);
	r = mg_file_replace_at(dfd, dir, out->id, line, strlen(line), 0600);
	if (r == 0)
		audit_apply(state_dir, out, "applied", "verified");
	return r;
}

static bool is_ticket_name(const char *name)
{
	return strlen(name) == MG_TICKET_ID_HEX - 1 && strspn(name, "0123456789abcdef") == MG_TICKET_ID_HEX - 1;
}

/* Reads one stored ticket; an expired one is removed. */
static int load_one(int dfd, const char *dir, const char *name, const struct mg_keyring *kr, int64_t now,
                    struct mg_ticket *t)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	r = mg_file_read_at(dfd, dir, name, MG_TICKET_TEXT_MAX + 2, &buf, &len);
	if (r == 0) r = mg_ticket_verify((const char *)buf, kr, mg_hostname(), now, t);
	if (r == -ETIME)
		unlinkat(dfd, name, 0);
	if (r == 0 && strcmp(t->id, name) != 0)
		r = mg_fail(EBADMSG, "%s/%s: holds ticket %s", dir, name, t->id);
	return r;
}

int mg_ticket_load_all(const char *state_dir, struct mg_ticket **out, size_t *n)
{
	_cleanup_free_ char *dir = mg_path_join(state_dir, MG_TICKET_DIR);
	_cleanup_free_ struct mg_ticket *list = NULL;
	struct mg_keyring kr;
	struct dirent *de;
	DIR *d;
	int64_t now;
	int dfd, r;

	*out = NULL;
	*n = 0;
	if (!dir || !(list = calloc(MG_TICKETS_MAX, sizeof(*list))))
		return mg_fail(ENOMEM, "out of memory");
	/* No keyring pinned or no directory: nothing can verify, so no tickets. */
	if (pinned_keyring(state_dir, &kr) < 0 || (dfd = mg_dir_open(dir)) < 0) {
		mg_error_clear();
		return 0;
	}
	r = mg_ticket_now(state_dir, &now);
	if (r < 0 || !(d = fdopendir(dfd))) {
		close(dfd);
		return r < 0 ? r : mg_fail_errno(errno, "%s", dir);
	}
	while ((de = readdir(d)) && *n < MG_TICKETS_MAX)
		if (is_ticket_name(de->d_name) && load_one(dirfd(d), dir, de->d_name, &kr, now, &list[*n]) == 0)
			(*n)++;
	closedir(d);
	mg_error_clear();
	if (*n)
		*out = MG_TAKE(list);
	return 0;
}

/* ---- QR ---------------------------------------------------------------- */

static bool module_dark(const QRcode *qr, int x, int y)
{
	return x >= 0 && y >= 0 && x < qr->width && y < qr->width && (qr->data[y * qr->width + x] & 1);
}

/* Light modules are drawn as blocks, for a terminal's dark background; two
 * rows of modules share one line of text. */
int mg_ticket_qr(const char *text, char **out)
{
	static const char *const cell[4] = {"\u2588", "\u2584", "\u2580", " "};
	const int quiet = 2;
	QRcode *qr;
	char *buf;
	size_t o = 0, size;
	int side;

	qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!qr)
		return mg_fail_errno(errno ? errno : EINVAL, "ticket: QR encoding failed");
	side = qr->width + 2 * quiet;
	size = (size_t)((side + 1) / 2) * ((size_t)side * 3 + 1) + 1;
	buf = malloc(size);
	if (!buf) {
		QRcode_free(qr);
		return mg_fail(ENOMEM, "ticket: out of memory");
	}
	for (int y = -quiet; y < qr->width + quiet; y += 2) {
		for (int x = -quiet; x < qr->width + quiet; x++) {
			int top = module_dark(qr, x, y), bottom = module_dark(qr, x, y + 1);
			const char *c = cell[top | bottom << 1];

			memcpy(buf + o, c, strlen(c));
			o += strlen(c);
		}
		buf[o++] = '\n';
	}
	buf[o] = '\0';
	QRcode_free(qr);
	*out = buf;
	return 0;
}
