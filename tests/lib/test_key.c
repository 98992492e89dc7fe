/* Key files: round trips with and without a passphrase, a wrong
 * passphrase, edited bytes, the signify-shaped text, O_EXCL and modes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/key.h"
#include "mynaguard/util.h"

static char dir[64];

static void setup(void)
{
	cr_assert(sodium_init() >= 0);
	strcpy(dir, "/tmp/mg-key.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	unsetenv("MYNAGUARD_PASSPHRASE_FILE");
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(key, .init = setup, .fini = teardown);

static char *path(const char *name)
{
	static char buf[4][128];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static void write_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static void check_sign_verify(const struct mg_secret_key *sk, const struct mg_public_key *pk)
{
	uint8_t sig[MG_KEY_SIG_BYTES];

	mg_key_sign(sk, (const uint8_t *)"hello", 5, sig);
	cr_assert(mg_key_verify(pk, (const uint8_t *)"hello", 5, sig));
	cr_assert_not(mg_key_verify(pk, (const uint8_t *)"hellO", 5, sig));
}

Test(key, round_trip_without_passphrase)
{
	struct mg_public_key gen, pub;
	struct mg_secret_key sec;
	struct stat st;

	cr_assert_eq(mg_key_generate(path("admin-a"), NULL, &gen), 0, "%s", mg_error());
	cr_assert_eq(stat(path("admin-a.key"), &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(mg_key_load_public(path("admin-a.pub"), &pub), 0, "%s", mg_error());
	cr_assert_str_eq(pub.name, "admin-a");
	cr_assert_eq(memcmp(pub.id, gen.id, sizeof(pub.id)), 0);
	cr_assert_eq(mg_key_load_secret(path("admin-a.key"), NULL, &sec), 0, "%s", mg_error());
	cr_assert_eq(memcmp(sec.id, pub.id, sizeof(sec.id)), 0);
	check_sign_verify(&sec, &pub);
	mg_secret_key_wipe(&sec);
}

Test(key, passphrase_protects_and_wrong_one_is_detected)
{
	struct mg_passphrase good = {0}, bad = {0};
	struct mg_public_key pub;
	struct mg_secret_key sec;

	write_file(path("good"), "correct horse\n");
	write_file(path("bad"), "correct hors\n");
	cr_assert_eq(mg_passphrase_read(path("good"), &good), 0, "%s", mg_error());
	cr_assert_eq(good.len, strlen("correct horse"));
	cr_assert_eq(mg_passphrase_read(path("bad"), &bad), 0);
	cr_assert_eq(mg_key_generate(path("k"), &good, &pub), 0, "%s", mg_error());
	cr_assert_eq(mg_key_load_secret(path("k.key"), NULL, &sec), -ENOKEY);
	cr_assert(strstr(mg_error(), "passphrase"), "%s", mg_error());
	cr_assert_eq(mg_key_load_secret(path("k.key"), &bad, &sec), -EKEYREJECTED);
	cr_assert(strstr(mg_error(), "wrong passphrase"), "%s", mg_error());
	cr_assert_eq(mg_key_load_secret(path("k.key"), &good, &sec), 0, "%s", mg_error());
	check_sign_verify(&sec, &pub);
	/* The environment variable is the other way to name the file. */
	setenv("MYNAGUARD_PASSPHRASE_FILE", path("good"), 1);
	cr_assert_eq(mg_key_open_secret(path("k.key"), NULL, &sec), 0, "%s", mg_error());
	mg_secret_key_wipe(&sec);
	mg_passphrase_free(&good);
	mg_passphrase_free(&bad);
}

Test(key, refuses_to_overwrite_and_bad_names)
{
	struct mg_public_key pub;

	cr_assert_eq(mg_key_generate(path("k"), NULL, &pub), 0);
	cr_assert_eq(mg_key_generate(path("k"), NULL, &pub), -EEXIST);
	cr_assert_lt(mg_key_generate(path("-k"), NULL, &pub), 0);
	cr_assert_lt(mg_key_generate(path("a b"), NULL, &pub), 0);
	cr_assert(strstr(mg_error(), "key name"), "%s", mg_error());
}

Test(key, any_edited_byte_of_a_secret_key_is_rejected)
{
	struct mg_public_key pub;
	struct mg_secret_key sec;
	uint8_t *buf = NULL;
	size_t len = 0, line2;

	cr_assert_eq(mg_key_generate(path("k"), NULL, &pub), 0);
	cr_assert_eq(mg_file_read(path("k.key"), 4096, &buf, &len), 0);
	line2 = (size_t)((uint8_t *)memchr(buf, '\n', len) - buf) + 1;
	for (size_t i = line2; i + 1 < len; i++) {
		uint8_t saved = buf[i];
		buf[i] = buf[i] == 'A' ? 'B' : 'A';
		cr_assert_lt(mg_key_parse_secret(buf, len, "k.key", NULL, &sec), 0,
		             "byte %zu edited and accepted", i);
		buf[i] = saved;
	}
	cr_assert_eq(mg_key_parse_secret(buf, len, "k.key", NULL, &sec), 0, "%s", mg_error());
	free(buf);
}

Test(key, public_key_text_is_strict)
{
	struct mg_public_key pub, got;
	uint8_t *buf = NULL;
	size_t len = 0;
	char *copy;

	cr_assert_eq(mg_key_generate(path("k"), NULL, &pub), 0);
	cr_assert_eq(mg_file_read(path("k.pub"), 4096, &buf, &len), 0);
	cr_assert(strncmp((char *)buf, "untrusted comment: mynaguard public key k\n", 42) == 0);
	cr_assert_eq(mg_key_parse_public(buf, len, "k.pub", &got), 0);
	cr_assert_lt(mg_key_parse_public(buf, len - 1, "k.pub", &got), 0);     /* no final newline */
	copy = malloc(len + 2);
	memcpy(copy, buf, len);
	memcpy(copy + len, "x\n", 2);
	cr_assert_lt(mg_key_parse_public(copy, len + 2, "k.pub", &got), 0);    /* a third line */
	memcpy(copy, buf, len);
	copy[len - 3] ^= 1;                                                    /* key id mismatch */
	cr_assert_lt(mg_key_parse_public(copy, len, "k.pub", &got), 0);
	cr_assert(strstr(mg_error(), "k.pub"), "%s", mg_error());
	free(copy);
	free(buf);
}

Test(key, key_ids_are_blake2b_prefixes_in_hex)
{
	uint8_t pk[32] = {0}, id[8], back[8], h[32];
	char hex[MG_KEY_ID_HEX];

	mg_key_id(pk, id);
	crypto_generichash(h, sizeof(h), pk, sizeof(pk), NULL, 0);
	cr_assert_eq(memcmp(id, h, 8), 0);
	mg_key_id_hex(id, hex);
	cr_assert_eq(strlen(hex), 16);
	cr_assert_eq(mg_key_id_parse(hex, back), 0);
	cr_assert_eq(memcmp(id, back, 8), 0);
	cr_assert_lt(mg_key_id_parse("ABCDEF0123456789", back), 0);
	cr_assert_lt(mg_key_id_parse("abc", back), 0);
}

Test(key, passphrase_file_rules)
{
	struct mg_passphrase p = {0};

	write_file(path("empty"), "\n");
	cr_assert_lt(mg_passphrase_read(path("empty"), &p), 0);
	cr_assert_null(p.text);
	cr_assert_lt(mg_passphrase_read(path("missing"), &p), 0);
}
