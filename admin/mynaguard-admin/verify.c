/* mynaguard-admin verify --keyring KEYRING [--target GROUP] BUNDLE
 * Checks a bundle as a terminal in GROUP with that keyring pinned would,
 * except for the terminal's version floor: frame, signatures, header,
 * payload, times, target, keyring version and the policy itself.
 * Exit 0 valid, 1 rejected (the reason on stderr), 2 usage or unreadable. */
#include <getopt.h>
#include <stdio.h>

#include "mynaguard/bundle.h"
#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/util.h"
#include "verbs.h"

static const char usage[] = "verify --keyring KEYRING [--target GROUP] BUNDLE";

static void print_valid(const char *path, const struct mg_bundle *b, const struct mg_keyring *kr)
{
	char expires[MG_TIME_LEN];

	mg_time_format(b->hdr.expires, expires);
	printf("%s: valid: policy version %llu for group %s, expires %s, signed by", path,
	       (unsigned long long)b->hdr.version, b->hdr.target, expires);
	for (size_t i = 0; i < b->count.valid; i++) {
		const struct mg_public_key *k = mg_keyring_role_find(&kr->policy, b->count.signers[i]);
		char id[MG_KEY_ID_HEX];
		mg_key_id_hex(b->count.signers[i], id);
		printf("%s %s (%s)", i ? "," : "", k ? k->name : "?", id);
	}
	printf(" (%llu required)\n", (unsigned long long)kr->policy.threshold);
}

int admin_verify(struct mg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"keyring", required_argument, NULL, 'k'},
		{"target", required_argument, NULL, 't'},
		{0},
	};
	_cleanup_free_ uint8_t *krbuf = NULL, *buf = NULL;
	_cleanup_policy_ struct mg_policy *policy = NULL;
	const char *keyring = NULL, *path;
	struct mg_bundle_checks checks = {0};
	struct mg_keyring kr;
	struct mg_bundle b;
	size_t krlen = 0, len = 0;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k': keyring = optarg; break;
		case 't': checks.target = optarg; break;
		default: return mg_cli_usage(cli, argv[0], usage);
		}
	}
	if (!keyring || optind != argc - 1)
		return mg_cli_usage(cli, argv[0], usage);
	path = argv[optind];
	if (checks.target && mg_bundle_target_check(checks.target, "--target") < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	if (mg_file_read(keyring, MG_KEYRING_MAX_BYTES, &krbuf, &krlen) < 0 ||
	    mg_keyring_verify_self(krbuf, krlen, keyring, &kr) < 0 ||
	    mg_file_read(path, MG_BUNDLE_MAX_BYTES, &buf, &len) < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	checks.now = checks.clock = mg_now();
	if (mg_bundle_verify(buf, len, path, &kr, &checks, &b) < 0 ||
	    mg_policy_parse(b.payload, b.payload_len, path, &policy) < 0)
		return mg_cli_fail(cli, MG_EXIT_NO, NULL);
	print_valid(path, &b, &kr);
	return MG_EXIT_OK;
}
