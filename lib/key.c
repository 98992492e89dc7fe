#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/key.h"
#include "mynaguard/util.h"

/* The decoded body of NAME.pub. */
struct pubkey_file {
	uint8_t algo[2];                    /* "Ed" */
	uint8_t id[MG_KEY_ID_BYTES];
	uint8_t pk[MG_KEY_PUBLIC_BYTES];
} __attribute__((packed));

/* The decoded body of NAME.key.  Everything before sealed is the
 * associated data of the seal. */
struct seckey_file {
	uint8_t algo[2];                    /* "Ed" */
	uint8_t kdf[2];                     /* "BK" (Argon2id) or "\0\0" (none) */
	uint8_t id[MG_KEY_ID_BYTES];
	uint8_t salt[crypto_pwhash_SALTBYTES];
	uint8_t opslimit[8];                /* little-endian */
	uint8_t memlimit[8];                /* little-endian */
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	uint8_t sealed[MG_KEY_SECRET_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES];
} __attribute__((packed));

#define PUB_COMMENT "untrusted comment: mynaguard public key "
#define SEC_COMMENT "untrusted comment: mynaguard secret key "
#define KEY_FILE_MAX 1024
#define PASSPHRASE_MAX 1024

static const uint8_t kdf_argon[2] = {'B', 'K'};
static const uint8_t kdf_none[2] = {0, 0};

void mg_key_id(const uint8_t pk[MG_KEY_PUBLIC_BYTES], uint8_t id[MG_KEY_ID_BYTES])
{
	uint8_t h[32];

	crypto_generichash(h, sizeof(h), pk, MG_KEY_PUBLIC_BYTES, NULL, 0);
	memcpy(id, h, MG_KEY_ID_BYTES);
}

void mg_key_id_hex(const uint8_t id[MG_KEY_ID_BYTES], char hex[MG_KEY_ID_HEX])
{
	sodium_bin2hex(hex, MG_KEY_ID_HEX, id, MG_KEY_ID_BYTES);
}

int mg_key_id_parse(const char *hex, uint8_t id[MG_KEY_ID_BYTES])
{
	size_t n = 0;
	const char *end;

	if (strlen(hex) != 2 * MG_KEY_ID_BYTES || strspn(hex, "0123456789abcdef") != strlen(hex))
		return -EINVAL;
	if (sodium_hex2bin(id, MG_KEY_ID_BYTES, hex, strlen(hex), NULL, &n, &end) != 0 ||
	    n != MG_KEY_ID_BYTES)
		return -EINVAL;
	return 0;
}

int mg_key_name_check(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > MG_KEY_NAME_MAX || name[0] == '.' || name[0] == '-' ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != len)
		return mg_fail(EINVAL, "key name '%.80s': expected 1 to %d of [A-Za-z0-9._-], "
		               "not starting with '.' or '-'", name, MG_KEY_NAME_MAX);
	return 0;
}

static void put_le64(uint8_t out[8], uint64_t v)
{
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t in[8])
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | in[i];
	return v;
}

/* Splits "COMMENT_PREFIX NAME\nBASE64\n" and decodes exactly want bytes. */
static int parse_key_text(const void *buf, size_t len, const char *origin, const char *prefix,
                          char name[MG_KEY_NAME_MAX + 1], void *body, size_t want)
{
	const char *s = buf, *nl1, *nl2;
	size_t plen = strlen(prefix), nlen, b64len, got = 0;
	const char *b64_end;

	if (len > KEY_FILE_MAX)
		return mg_fail(EFBIG, "%s: larger than %d bytes", origin, KEY_FILE_MAX);
	if (memchr(buf, '\0', len))
		return mg_fail(EBADMSG, "%s: contains a NUL byte", origin);
	if (len < plen || memcmp(s, prefix, plen) != 0)
		return mg_fail(EBADMSG, "%s: line 1: expected \"%s<name>\"", origin, prefix);
	nl1 = memchr(s, '\n', len);
	if (!nl1)
		return mg_fail(EBADMSG, "%s: line 1: no newline", origin);
	nlen = (size_t)(nl1 - s) - plen;
	if (nlen == 0 || nlen > MG_KEY_NAME_MAX)
		return mg_fail(EBADMSG, "%s: line 1: key name must be 1 to %d bytes", origin,
		               MG_KEY_NAME_MAX);
	memcpy(name, s + plen, nlen);
	name[nlen] = '\0';
	if (mg_key_name_check(name) < 0)
		return mg_error_prefix(-EBADMSG, "%s: line 1", origin);
	nl2 = memchr(nl1 + 1, '\n', len - (size_t)(nl1 + 1 - s));
	if (!nl2 || (size_t)(nl2 + 1 - s) != len)
		return mg_fail(EBADMSG, "%s: line 2: expected one base64 line ending the file", origin);
	b64len = (size_t)(nl2 - (nl1 + 1));
	if (b64len != sodium_base64_ENCODED_LEN(want, sodium_base64_VARIANT_ORIGINAL) - 1 ||
	    sodium_base642bin(body, want, nl1 + 1, b64len, NULL, &got, &b64_end,
	                      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    got != want || b64_end != nl2)
		return mg_fail(EBADMSG, "%s: line 2: expected base64 of %zu bytes", origin, want);
	return 0;
}

int mg_key_parse_public(const void *buf, size_t len, const char *origin,
                        struct mg_public_key *out)
{
	struct pubkey_file f;
	uint8_t id[MG_KEY_ID_BYTES];
	int r;

	memset(out, 0, sizeof(*out));
	r = parse_key_text(buf, len, origin, PUB_COMMENT, out->name, &f, sizeof(f));
	if (r < 0)
		return r;
	if (memcmp(f.algo, "Ed", 2) != 0)
		return mg_fail(EBADMSG, "%s: not an Ed25519 public key", origin);
	mg_key_id(f.pk, id);
	if (memcmp(id, f.id, sizeof(id)) != 0)
		return mg_fail(EBADMSG, "%s: key id does not match the public key", origin);
	memcpy(out->id, f.id, sizeof(out->id));
	memcpy(out->pk, f.pk, sizeof(out->pk));
	return 0;
}

/* Derives the sealing key: Argon2id of the passphrase, or zeros. */
static int derive(const struct seckey_file *f, const struct mg_passphrase *pass,
                  const char *origin, uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES])
{
	uint64_t ops = get_le64(f->opslimit), mem = get_le64(f->memlimit);

	memset(key, 0, crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
	if (memcmp(f->kdf, kdf_none, 2) == 0)
		return 0;
	if (memcmp(f->kdf, kdf_argon, 2) != 0)
		return mg_fail(EBADMSG, "%s: unknown key derivation", origin);
	if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > MG_KEY_OPSLIMIT_MAX ||
	    mem < crypto_pwhash_MEMLIMIT_MIN || mem > MG_KEY_MEMLIMIT_MAX)
		return mg_fail(EBADMSG, "%s: Argon2id costs out of range", origin);
	if (!pass || !pass->text)
		return mg_fail(ENOKEY, "%s: the key is protected by a passphrase: give "
		               "--passphrase-file or MYNAGUARD_PASSPHRASE_FILE", origin);
	if (crypto_pwhash(key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES, pass->text, pass->len,
	                  f->salt, ops, (size_t)mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return mg_fail(ENOMEM, "%s: Argon2id: out of memory", origin);
	return 0;
}

int mg_key_parse_secret(const void *buf, size_t len, const char *origin,
                        const struct mg_passphrase *pass, struct mg_secret_key *out)
{
	struct seckey_file f;
	uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES], pk[MG_KEY_PUBLIC_BYTES];
	uint8_t id[MG_KEY_ID_BYTES];
	unsigned long long sklen = 0;
	int r;

	memset(out, 0, sizeof(*out));
	r = parse_key_text(buf, len, origin, SEC_COMMENT, out->name, &f, sizeof(f));
	if (r < 0)
		goto done;
	if (memcmp(f.algo, "Ed", 2) != 0) {
		r = mg_fail(EBADMSG, "%s: not an Ed25519 secret key", origin);
		goto done;
	}
	r = derive(&f, pass, origin, key);
	if (r < 0)
		goto done;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out->sk, &sklen, NULL, f.sealed,
	                                               sizeof(f.sealed), (const uint8_t *)&f,
	                                               offsetof(struct seckey_file, sealed),
	                                               f.nonce, key) != 0 ||
	    sklen != MG_KEY_SECRET_BYTES) {
		r = mg_fail(EKEYREJECTED, "%s: wrong passphrase or damaged key file", origin);
		goto done;
	}
	crypto_sign_ed25519_sk_to_pk(pk, out->sk);
	mg_key_id(pk, id);
	if (memcmp(id, f.id, sizeof(id)) != 0) {
		r = mg_fail(EKEYREJECTED, "%s: key id does not match the secret key", origin);
		goto done;
	}
	memcpy(out->id, id, sizeof(id));
	r = 0;
done:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(&f, sizeof(f));
	if (r < 0)
		mg_secret_key_wipe(out);
	return r;
}

static int seal(const uint8_t sk[MG_KEY_SECRET_BYTES], const uint8_t id[MG_KEY_ID_BYTES],
                const struct mg_passphrase *pass, struct seckey_file *f)
{
	uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	bool protect = pass && pass->text;
	int r;

	memset(f, 0, sizeof(*f));
	memcpy(f->algo, "Ed", 2);
	memcpy(f->kdf, protect ? kdf_argon : kdf_none, 2);
	memcpy(f->id, id, MG_KEY_ID_BYTES);
	if (protect) {
		randombytes_buf(f->salt, sizeof(f->salt));
		/* MODERATE: a key is unsealed a few times a year on an offline
		 * machine, so it can afford 256 MiB and a second or so. */
		put_le64(f->opslimit, crypto_pwhash_OPSLIMIT_MODERATE);
		put_le64(f->memlimit, crypto_pwhash_MEMLIMIT_MODERATE);
	}
	randombytes_buf(f->nonce, sizeof(f->nonce));
	r = derive(f, pass, "new key", key);
	if (r == 0)
		crypto_aead_xchacha20poly1305_ietf_encrypt(f->sealed, NULL, sk, MG_KEY_SECRET_BYTES,
		                                           (const uint8_t *)f,
		                                           offsetof(struct seckey_file, sealed),
		                                           NULL, f->nonce, key);
	sodium_memzero(key, sizeof(key));
	return r;
}

/* "COMMENT NAME\nBASE64\n" into a new buffer. */
static char *key_text(const char *comment, const char *name, const void *body, size_t len)
{
	size_t b64len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	_cleanup_free_ char *b64 = malloc(b64len);
	char *text = NULL;

	if (!b64)
		return NULL;
	sodium_bin2base64(b64, b64len, body, len, sodium_base64_VARIANT_ORIGINAL);
	if (asprintf(&text, "%s%s\n%s\n", comment, name, b64) < 0)
		text = NULL;
	sodium_memzero(b64, b64len);
	return text;
}

/* Writes a new file that must not exist yet, refusing links. */
static int write_new(const char *path, const char *text, mode_t mode)
{
	_cleanup_close_ int fd = -1;
	size_t len = strlen(text);

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return mg_fail_errno(errno, "%s", path);
	if (fchmod(fd, mode) < 0)
		return mg_fail_errno(errno, "%s: fchmod", path);
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
		int r = mg_fail_errno(errno ? errno : EIO, "%s: write", path);
		unlink(path);
		return r;
	}
	return 0;
}

/* Wipes and frees a string that held key material. */
static void wipe_strp(char **p)
{
	if (*p) {
		sodium_memzero(*p, strlen(*p));
		free(*p);
	}
}

/* A new key pair as the texts of NAME.key and NAME.pub. */
static int make_texts(const char *name, const struct mg_passphrase *pass,
                      struct mg_public_key *out, char **sectext, char **pubtext)
{
	uint8_t sk[MG_KEY_SECRET_BYTES];
	struct seckey_file sf;
	struct pubkey_file pf;
	int r;

	memset(out, 0, sizeof(*out));
	crypto_sign_ed25519_keypair(out->pk, sk);
	mg_key_id(out->pk, out->id);
	snprintf(out->name, sizeof(out->name), "%s", name);
	r = seal(sk, out->id, pass, &sf);
	sodium_memzero(sk, sizeof(sk));
	if (r < 0)
		return r;
	memcpy(pf.algo, "Ed", 2);
	memcpy(pf.id, out->id, sizeof(pf.id));
	memcpy(pf.pk, out->pk, sizeof(pf.pk));
	*sectext = key_text(SEC_COMMENT, name, &sf, sizeof(sf));
	*pubtext = key_text(PUB_COMMENT, name, &pf, sizeof(pf));
	/* Without a passphrase the sealed key is as good as the key itself. */
	sodium_memzero(&sf, sizeof(sf));
	if (!*sectext || !*pubtext)
		return mg_fail(ENOMEM, "%s: out of memory", name);
	return 0;
}

int mg_key_generate(const char *path_prefix, const struct mg_passphrase *pass,
                    struct mg_public_key *out)
{
	const char *slash = strrchr(path_prefix, '/');
	const char *name = slash ? slash + 1 : path_prefix;
	_cleanup_free_ char *secpath = NULL, *pubpath = NULL, *pubtext = NULL;
	_cleanup_(wipe_strp) char *sectext = NULL;
	int r;

	if (sodium_init() < 0)
		return mg_fail(EIO, "libsodium could not be initialised");
	r = mg_key_name_check(name);
	if (r < 0)
		return r;
	if (asprintf(&secpath, "%s.key", path_prefix) < 0 ||
	    asprintf(&pubpath, "%s.pub", path_prefix) < 0)
		return mg_fail(ENOMEM, "%s: out of memory", path_prefix);
	r = make_texts(name, pass, out, &sectext, &pubtext);
	if (r < 0)
		return r;
	/* The public file first: if it cannot be written, no orphan secret
	 * key is left behind. */
	r = write_new(pubpath, pubtext, 0644);
	if (r < 0)
		return r;
	r = write_new(secpath, sectext, 0600);
	if (r < 0)
		unlink(pubpath);
	return r;
}

int mg_key_load_public(const char *path, struct mg_public_key *out)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len;
	int r = mg_file_read(path, KEY_FILE_MAX, &buf, &len);

	if (r < 0)
		return r;
	return mg_key_parse_public(buf, len, path, out);
}

int mg_key_load_secret(const char *path, const struct mg_passphrase *pass,
                       struct mg_secret_key *out)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0;
	int r = mg_file_read(path, KEY_FILE_MAX, &buf, &len);

	if (r < 0)
		return r;
	r = mg_key_parse_secret(buf, len, path, pass, out);
	sodium_memzero(buf, len);
	return r;
}

int mg_key_open_secret(const char *path, const char *passphrase_file,
                       struct mg_secret_key *out)
{
	const char *file = passphrase_file ? passphrase_file : secure_getenv("MYNAGUARD_PASSPHRASE_FILE");
	struct mg_passphrase pass = {0};
	int r;

	if (file && *file) {
		r = mg_passphrase_read(file, &pass);
		if (r < 0)
			return r;
	}
	r = mg_key_load_secret(path, &pass, out);
	mg_passphrase_free(&pass);
	return r;
}

int mg_passphrase_read(const char *file, struct mg_passphrase *out)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0, line;
	int r;

	out->text = NULL;
	out->len = 0;
	if (sodium_init() < 0)
		return mg_fail(EIO, "libsodium could not be initialised");
	r = mg_file_read(file, PASSPHRASE_MAX + 1, &buf, &len);
	if (r < 0)
		return r;
	line = strcspn((const char *)buf, "\n");
	if (line == 0 || line > PASSPHRASE_MAX || memchr(buf, '\0', len)) {
		sodium_memzero(buf, len);
		return mg_fail(EINVAL, "%s: expected a passphrase of 1 to %d bytes on the first line",
		               file, PASSPHRASE_MAX);
	}
	out->text = sodium_malloc(line + 1);
	if (!out->text) {
		sodium_memzero(buf, len);
		return mg_fail(ENOMEM, "%s: out of memory", file);
	}
	memcpy(out->text, buf, line);
	out->text[line] = '\0';
	out->len = line;
	sodium_memzero(buf, len);
	return 0;
}

void mg_passphrase_free(struct mg_passphrase *p)
{
	if (p->text)
		sodium_free(p->text);
	p->text = NULL;
	p->len = 0;
}

void mg_secret_key_wipe(struct mg_secret_key *k)
{
	sodium_memzero(k, sizeof(*k));
}

void mg_key_sign(const struct mg_secret_key *k, const uint8_t *msg, size_t len,
                 uint8_t sig[MG_KEY_SIG_BYTES])
{
	crypto_sign_ed25519_detached(sig, NULL, msg, len, k->sk);
}

bool mg_key_verify(const struct mg_public_key *k, const uint8_t *msg, size_t len,
                   const uint8_t sig[MG_KEY_SIG_BYTES])
{
	return crypto_sign_ed25519_verify_detached(sig, msg, len, k->pk) == 0;
}
