/* mynaguard-admin inspect FILE
 * Shows what a bundle, keyring or key file says, for people.  It decides
 * nothing: signatures are listed, not verified (that is `verify`). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "mynaguard/bundle.h"
#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/key.h"
#include "mynaguard/keyring.h"
#include "mynaguard/util.h"
#include "verbs.h"

static const char usage[] = "inspect BUNDLE|KEYRING|KEY.pub|KEY.key";

static bool starts_with(const uint8_t *buf, size_t len, const char *prefix)
{
	return len >= strlen(prefix) && memcmp(buf, prefix, strlen(prefix)) == 0;
}

static void print_signatures(const struct mg_envelope *env)
{
	printf("signatures (not verified here):\n");
	for (size_t i = 0; i < env->nsig; i++) {
		char id[MG_KEY_ID_HEX];
		mg_key_id_hex(env->sig[i].id, id);
		printf("  key %s\n", id);
	}
}

static int inspect_bundle(const uint8_t *buf, size_t len, const char *path)
{
	struct mg_bundle b;
	char issued[MG_TIME_LEN], expires[MG_TIME_LEN];
	int r = mg_bundle_parse(buf, len, path, &b);

	if (r < 0)
		return r;
	mg_time_format(b.hdr.issued, issued);
	mg_time_format(b.hdr.expires, expires);
	printf("policy bundle, format %d\n"
	       "version:         %llu\n"
	       "target group:    %s\n"
	       "issued:          %s\n"
	       "expires:         %s\n"
	       "keyring version: %llu\n"
	       "payload:         %llu bytes\n",
	       MG_BUNDLE_FORMAT, (unsigned long long)b.hdr.version, b.hdr.target, issued, expires,
	       (unsigned long long)b.hdr.keyring, (unsigned long long)b.hdr.payload_length);
	print_signatures(&b.env);
	return 0;
}

static int inspect_keyring(const uint8_t *buf, size_t len, const char *path)
{
	struct mg_keyring kr;
	int r = mg_keyring_parse(buf, len, path, &kr);

	if (r < 0)
		return r;
	printf("keyring, format %d\n", MG_KEYRING_FORMAT);
	mg_cli_print_keyring(&kr);
	print_signatures(&kr.env);
	return 0;
}

static int inspect_public(const uint8_t *buf, size_t len, const char *path)
{
	struct mg_public_key k;
	char id[MG_KEY_ID_HEX];
	int r = mg_key_parse_public(buf, len, path, &k);

	if (r < 0)
		return r;
	mg_key_id_hex(k.id, id);
	printf("Ed25519 public key\nname:   %s (from the untrusted comment)\nkey id: %s\n", k.name, id);
	return 0;
}

int admin_inspect(struct mg_cli *cli, int argc, char **argv)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0;
	const char *path;
	int r;

	if (argc != 2 || argv[1][0] == '-')
		return mg_cli_usage(cli, argv[0], usage);
	path = argv[1];
	if (mg_file_read(path, MG_BUNDLE_MAX_BYTES, &buf, &len) < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	if (starts_with(buf, len, MG_BUNDLE_MAGIC "\n"))
		r = inspect_bundle(buf, len, path);
	else if (starts_with(buf, len, MG_KEYRING_MAGIC "\n"))
		r = inspect_keyring(buf, len, path);
	else if (starts_with(buf, len, "untrusted comment: mynaguard public key "))
		r = inspect_public(buf, len, path);
	else if (starts_with(buf, len, "untrusted comment: mynaguard secret key "))
		r = mg_fail(EINVAL, "%s: a secret key; inspect its .pub file instead", path);
	else
		r = mg_fail(EINVAL, "%s: not a mynaguard bundle, keyring or key file", path);
	if (r < 0)
		return mg_cli_fail(cli, MG_EXIT_NO, NULL);
	return MG_EXIT_OK;
}
