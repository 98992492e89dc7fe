/* Ed25519 keys of administrators, in signify-shaped files.
 *
 *   NAME.pub   "untrusted comment: mynaguard public key NAME\n"
 *              base64("Ed" || keyid[8] || pk[32]) "\n"
 *   NAME.key   "untrusted comment: mynaguard secret key NAME\n"   (mode 0600)
 *              base64("Ed" || kdf[2] || keyid[8] || salt[16] || opslimit[8]
 *                     || memlimit[8] || nonce[24] || sealed_sk[64+16]) "\n"
 *
 * kdf "BK": the sealing key is Argon2id(passphrase, salt, opslimit, memlimit)
 * (crypto_pwhash); kdf "\0\0": no passphrase, the sealing key is all zeros
 * and salt/opslimit/memlimit are zero.  The secret key is sealed with
 * XChaCha20-Poly1305 over the bytes before it as associated data, so a wrong
 * passphrase or any edited byte is detected (the tag is the checksum).
 * The key id is the first 8 bytes of BLAKE2b-256(pk), shown as 16 hex
 * digits.  The comments are untrusted: the name inside is only a label.
 * Full format: docs/formats.md. */
#ifndef MYNAGUARD_KEY_H
#define MYNAGUARD_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MG_KEY_ID_BYTES 8
#define MG_KEY_ID_HEX (2 * MG_KEY_ID_BYTES + 1)   /* with the NUL */
#define MG_KEY_PUBLIC_BYTES 32
#define MG_KEY_SECRET_BYTES 64
#define MG_KEY_SIG_BYTES 64
#define MG_KEY_NAME_MAX 64                        /* [A-Za-z0-9._-]{1,64} */
/* Upper bounds on stored Argon2id costs, so a crafted key file cannot make
 * the tool spin or eat memory before the passphrase is even checked. */
#define MG_KEY_OPSLIMIT_MAX 16u
#define MG_KEY_MEMLIMIT_MAX (1024ull << 20)

/* A public key: what keyrings hold and signatures are checked against. */
struct mg_public_key {
	uint8_t id[MG_KEY_ID_BYTES];       /* BLAKE2b-256(pk)[0..8] */
	uint8_t pk[MG_KEY_PUBLIC_BYTES];   /* Ed25519 public key */
	char name[MG_KEY_NAME_MAX + 1];    /* label for people; never trusted */
};

/* An unsealed secret key.  Lives only in memory; wipe with mg_secret_key_wipe. */
struct mg_secret_key {
	uint8_t id[MG_KEY_ID_BYTES];       /* id of the matching public key */
	uint8_t sk[MG_KEY_SECRET_BYTES];   /* libsodium Ed25519 secret key (seed || pk) */
	char name[MG_KEY_NAME_MAX + 1];    /* from the file's comment */
};

/* A passphrase read from a file: the first line, without its newline. */
struct mg_passphrase {
	char *text;                        /* sodium_malloc'd, NUL-terminated, or NULL for none */
	size_t len;                        /* bytes in text */
};

/* Computes the key id of pk. */
void mg_key_id(const uint8_t pk[MG_KEY_PUBLIC_BYTES], uint8_t id[MG_KEY_ID_BYTES]);

/* Writes 16 lower-case hex digits and a NUL. */
void mg_key_id_hex(const uint8_t id[MG_KEY_ID_BYTES], char hex[MG_KEY_ID_HEX]);

/* Parses 16 hex digits. */
int mg_key_id_parse(const char *hex, uint8_t id[MG_KEY_ID_BYTES]);

/* Checks a key name: [A-Za-z0-9._-]{1,64}, not starting with '.' or '-'. */
int mg_key_name_check(const char *name);

/* Makes a key pair and writes PATH_PREFIX.key (O_EXCL|O_NOFOLLOW, 0600) and
 * PATH_PREFIX.pub.  The name in the comments is the last component of
 * path_prefix.  pass NULL (or pass->text NULL) means no passphrase. */
int mg_key_generate(const char *path_prefix, const struct mg_passphrase *pass,
                    struct mg_public_key *out);

/* Reads NAME.pub. */
int mg_key_load_public(const char *path, struct mg_public_key *out);

/* Reads and unseals NAME.key; -EKEYREJECTED "wrong passphrase or damaged
 * key file" when the tag does not verify, -ENOKEY when a passphrase is
 * needed and none was given. */
int mg_key_load_secret(const char *path, const struct mg_passphrase *pass,
                       struct mg_secret_key *out);

/* Parsers over bytes (what the loaders and the fuzz target use). */
int mg_key_parse_public(const void *buf, size_t len, const char *origin,
                        struct mg_public_key *out);
int mg_key_parse_secret(const void *buf, size_t len, const char *origin,
                        const struct mg_passphrase *pass, struct mg_secret_key *out);

/* Loads a secret key as the administrator tools do: the passphrase, if
 * the key needs one, from passphrase_file, else from the file named by
 * $MYNAGUARD_PASSPHRASE_FILE; never from the command line. */
int mg_key_open_secret(const char *path, const char *passphrase_file,
                       struct mg_secret_key *out);

/* Reads a passphrase from file (first line, at most 1024 bytes, not empty). */
int mg_passphrase_read(const char *file, struct mg_passphrase *out);
void mg_passphrase_free(struct mg_passphrase *p);

void mg_secret_key_wipe(struct mg_secret_key *k);

/* Detached Ed25519 over msg. */
void mg_key_sign(const struct mg_secret_key *k, const uint8_t *msg, size_t len,
                 uint8_t sig[MG_KEY_SIG_BYTES]);
bool mg_key_verify(const struct mg_public_key *k, const uint8_t *msg, size_t len,
                   const uint8_t sig[MG_KEY_SIG_BYTES]);

#endif
