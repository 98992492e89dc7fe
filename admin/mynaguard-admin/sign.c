/* mynaguard-admin sign --key K.key [--key K2.key] --version N --expires TIME
 *                      --target GROUP [--keyring-version V] -o BUNDLE POLICY.json
 * Validates the policy exactly as a terminal will, then signs the header of
 * a new bundle with each key.  "issued" is now. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mynaguard/bundle.h"
#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/util.h"
#include "verbs.h"

static const char usage[] =
	"sign --key K.key [--key K2.key ...] [--passphrase-file F] --version N\n"
	"     --expires 2027-03-31T00:00:00Z --target GROUP [--keyring-version V] -o BUNDLE POLICY.json";

struct sign_args {
	const char *keys[MG_ENVELOPE_MAX_SIGNATURES];
	size_t nkeys;
	const char *passphrase_file, *out, *policy;
	struct mg_bundle_header hdr;
};

static int parse_u64(const char *s, const char *what, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || !*s || *end || s[0] == '-' || v < 1 || v > INT64_MAX)
		return mg_fail(EINVAL, "%s: expected a whole number from 1", what);
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct sign_args *a)
{
	static const struct option opts[] = {
		{"key", required_argument, NULL, 'k'},
		{"passphrase-file", required_argument, NULL, 'p'},
		{"version", required_argument, NULL, 'v'},
		{"expires", required_argument, NULL, 'e'},
		{"target", required_argument, NULL, 't'},
		{"keyring-version", required_argument, NULL, 'r'},
		{"output", required_argument, NULL, 'o'},
		{0},
	};
	int c, r = 0;

	a->hdr.keyring = 1;
	while (r == 0 && (c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (a->nkeys == MG_ENVELOPE_MAX_SIGNATURES)
				return mg_fail(E2BIG, "--key: at most %d", MG_ENVELOPE_MAX_SIGNATURES);
			a->keys[a->nkeys++] = optarg;
			break;
		case 'p': a->passphrase_file = optarg; break;
		case 'v': r = parse_u64(optarg, "--version", &a->hdr.version); break;
		case 'r': r = parse_u64(optarg, "--keyring-version", &a->hdr.keyring); break;
		case 'e':
			if (mg_time_parse(optarg, &a->hdr.expires) < 0)
				r = mg_fail(EINVAL, "--expires: expected a UTC time like 2027-03-31T00:00:00Z");
			break;
		case 't':
			r = mg_bundle_target_check(optarg, "--target");
			snprintf(a->hdr.target, sizeof(a->hdr.target), "%s", optarg);
			break;
		case 'o': a->out = optarg; break;
		default: return mg_fail(EINVAL, "unknown option");
		}
	}
	if (r < 0)
		return r;
	if (optind != argc - 1 || !a->nkeys || !a->hdr.version || !a->hdr.expires ||
	    !a->hdr.target[0] || !a->out)
		return mg_fail(EINVAL, "sign: --key, --version, --expires, --target, -o and one "
		               "POLICY.json are required");
	a->policy = argv[optind];
	return 0;
}

/* Unseals every key, refusing the same key twice. */
static int open_keys(const struct sign_args *a, struct mg_secret_key *keys)
{
	for (size_t i = 0; i < a->nkeys; i++) {
		int r = mg_key_open_secret(a->keys[i], a->passphrase_file, &keys[i]);
		if (r < 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (memcmp(keys[i].id, keys[j].id, MG_KEY_ID_BYTES) == 0)
				return mg_fail(EINVAL, "--key %s: the same key is given twice", a->keys[i]);
	}
	return 0;
}

static int sign(struct sign_args *a, struct mg_secret_key *keys)
{
	_cleanup_free_ uint8_t *policy = NULL, *bundle = NULL;
	_cleanup_policy_ struct mg_policy *parsed = NULL;
	const struct mg_secret_key *signers[MG_ENVELOPE_MAX_SIGNATURES];
	size_t plen = 0, blen = 0;
	int r;

	r = mg_file_read(a->policy, MG_POLICY_MAX_BYTES, &policy, &plen);
	if (r == 0) r = mg_policy_parse(policy, plen, a->policy, &parsed);
	if (r == 0) r = open_keys(a, keys);
	if (r < 0)
		return r;
	for (size_t i = 0; i < a->nkeys; i++)
		signers[i] = &keys[i];
	a->hdr.issued = mg_now();
	r = mg_bundle_create(&a->hdr, policy, plen, signers, a->nkeys, &bundle, &blen);
	if (r == 0)
		r = mg_file_replace(a->out, bundle, blen, 0644);
	return r;
}

int admin_sign(struct mg_cli *cli, int argc, char **argv)
{
	struct sign_args a = {0};
	struct mg_secret_key keys[MG_ENVELOPE_MAX_SIGNATURES];
	int r;

	if (parse_args(argc, argv, &a) < 0) {
		mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
		return mg_cli_usage(cli, argv[0], usage);
	}
	sodium_memzero(keys, sizeof(keys));
	r = sign(&a, keys);
	sodium_memzero(keys, sizeof(keys));
	if (r < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	printf("%s: policy version %llu for group %s, signed by %zu key%s\n", a.out,
	       (unsigned long long)a.hdr.version, a.hdr.target, a.nkeys, a.nkeys == 1 ? "" : "s");
	return MG_EXIT_OK;
}
