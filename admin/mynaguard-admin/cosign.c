/* mynaguard-admin cosign --key K.key [--passphrase-file F] FILE
 * Adds one signature to a bundle or a keyring in place, atomically, so that
 * two administrators on two machines can each sign the same bytes. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "mynaguard/bundle.h"
#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/keyring.h"
#include "mynaguard/util.h"
#include "verbs.h"

static const char usage[] = "cosign --key K.key [--passphrase-file F] BUNDLE|KEYRING";

static bool starts_with(const uint8_t *buf, size_t len, const char *magic)
{
	size_t n = strlen(magic);

	return len > n && memcmp(buf, magic, n) == 0 && buf[n] == '\n';
}

static int cosign_keyring(const uint8_t *buf, size_t len, const char *path,
                          const struct mg_secret_key *k, uint8_t **out, size_t *out_len)
{
	struct mg_keyring kr;
	int r = mg_keyring_parse(buf, len, path, &kr);

	if (r == 0) r = mg_envelope_add_signature(&mg_keyring_kind, &kr.env, k, path);
	if (r == 0) r = mg_envelope_format(&mg_keyring_kind, &kr.env, out, out_len);
	return r;
}

static int cosign(const char *path, const char *key, const char *passphrase_file)
{
	_cleanup_free_ uint8_t *buf = NULL, *out = NULL;
	struct mg_secret_key k;
	size_t len = 0, out_len = 0;
	int r;

	r = mg_file_read(path, MG_BUNDLE_MAX_BYTES, &buf, &len);
	if (r < 0)
		return r;
	r = mg_key_open_secret(key, passphrase_file, &k);
	if (r < 0)
		return r;
	if (starts_with(buf, len, MG_KEYRING_MAGIC))
		r = cosign_keyring(buf, len, path, &k, &out, &out_len);
	else
		r = mg_bundle_cosign(buf, len, path, &k, &out, &out_len);
	mg_secret_key_wipe(&k);
	if (r == 0)
		r = mg_file_replace(path, out, out_len, 0644);
	return r;
}

int admin_cosign(struct mg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"key", required_argument, NULL, 'k'},
		{"passphrase-file", required_argument, NULL, 'p'},
		{0},
	};
	const char *key = NULL, *pass = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k': key = optarg; break;
		case 'p': pass = optarg; break;
		default: return mg_cli_usage(cli, argv[0], usage);
		}
	}
	if (!key || optind != argc - 1)
		return mg_cli_usage(cli, argv[0], usage);
	if (cosign(argv[optind], key, pass) < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	printf("%s: signature added\n", argv[optind]);
	return MG_EXIT_OK;
}
