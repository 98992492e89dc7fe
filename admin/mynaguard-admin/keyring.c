/* mynaguard-admin keyring create|rotate
 *
 *   keyring create --root A.pub [--root B.pub ...] --root-threshold T
 *                  --policy P.pub [...] --policy-threshold T [--version 1]
 *                  --sign A.key [--sign B.key ...] [--passphrase-file F] -o KEYRING
 *   keyring rotate --from OLD_KEYRING [--root ... --root-threshold T]
 *                  [--policy ... --policy-threshold T] --sign OLDROOT.key ...
 *                  --sign NEWROOT.key ... [--reset-policy-floor] -o KEYRING2
 *
 * A rotation keeps a key set that is not given.  Signatures still missing
 * (another administrator's root key) are added later with `cosign`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/keyring.h"
#include "mynaguard/util.h"
#include "verbs.h"

static const char usage[] =
	"keyring create --root A.pub [--root B.pub ...] --root-threshold T --policy P.pub [...]\n"
	"               --policy-threshold T [--version 1] --sign A.key [...] [--passphrase-file F] -o KEYRING\n"
	"keyring rotate --from OLD_KEYRING [--root N.pub ... --root-threshold T] [--policy P.pub ...\n"
	"               --policy-threshold T] --sign OLDROOT.key ... --sign NEWROOT.key ...\n"
	"               [--reset-policy-floor] [--passphrase-file F] -o KEYRING2";

struct keyring_args {
	const char *from, *out, *passphrase_file;
	const char *sign[MG_ENVELOPE_MAX_SIGNATURES];
	size_t nsign;
	struct mg_keyring kr;       /* roles filled from --root/--policy */
	bool root_given, policy_given;
	bool reset;
};

/* A whole number in 1..max, nothing else. */
static int parse_number(const char *s, const char *what, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || !*s || *end || s[0] == '-' || v < 1 || v > max)
		return mg_fail(EINVAL, "%s: expected a whole number from 1 to %llu", what,
		               (unsigned long long)max);
	*out = v;
	return 0;
}

static int add_key(struct mg_keyring_role *role, const char *path, const char *what)
{
	if (role->nkeys == MG_KEYRING_MAX_KEYS)
		return mg_fail(E2BIG, "%s: at most %d keys", what, MG_KEYRING_MAX_KEYS);
	return mg_key_load_public(path, &role->keys[role->nkeys++]);
}

static int parse_args(int argc, char **argv, struct keyring_args *a)
{
	static const struct option opts[] = {
		{"from", required_argument, NULL, 'f'},
		{"root", required_argument, NULL, 'R'},
		{"root-threshold", required_argument, NULL, 'T'},
		{"policy", required_argument, NULL, 'P'},
		{"policy-threshold", required_argument, NULL, 't'},
		{"version", required_argument, NULL, 'v'},
		{"sign", required_argument, NULL, 's'},
		{"passphrase-file", required_argument, NULL, 'p'},
		{"reset-policy-floor", no_argument, NULL, 'x'},
		{"output", required_argument, NULL, 'o'},
		{0},
	};
	int c, r = 0;

	a->kr.version = 1;
	while (r == 0 && (c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'f': a->from = optarg; break;
		case 'R': a->root_given = true; r = add_key(&a->kr.root, optarg, "--root"); break;
		case 'P': a->policy_given = true; r = add_key(&a->kr.policy, optarg, "--policy"); break;
		case 'T': r = parse_number(optarg, "--root-threshold", MG_KEYRING_MAX_KEYS,
		                           &a->kr.root.threshold); break;
		case 't': r = parse_number(optarg, "--policy-threshold", MG_KEYRING_MAX_KEYS,
		                           &a->kr.policy.threshold); break;
		case 'v': r = parse_number(optarg, "--version", INT64_MAX, &a->kr.version); break;
		case 's':
			if (a->nsign == MG_ENVELOPE_MAX_SIGNATURES)
				return mg_fail(E2BIG, "--sign: at most %d", MG_ENVELOPE_MAX_SIGNATURES);
			a->sign[a->nsign++] = optarg;
			break;
		case 'p': a->passphrase_file = optarg; break;
		case 'x': a->reset = true; break;
		case 'o': a->out = optarg; break;
		default: return mg_fail(EINVAL, "unknown option");
		}
	}
	if (r < 0)
		return r;
	if (optind != argc || !a->out || !a->nsign)
		return mg_fail(EINVAL, "keyring: --sign and -o are required");
	return 0;
}

/* Fills the roles a rotation does not change from the old keyring. */
static int from_old(struct keyring_args *a, struct mg_keyring *old, uint8_t **raw)
{
	size_t len = 0;
	int r;

	r = mg_file_read(a->from, MG_KEYRING_MAX_BYTES, raw, &len);
	if (r == 0) r = mg_keyring_verify_self(*raw, len, a->from, old);
	if (r < 0)
		return r;
	if (!a->root_given)
		a->kr.root = old->root;
	if (!a->policy_given)
		a->kr.policy = old->policy;
	a->kr.version = old->version + 1;
	a->kr.reset_policy_floor = a->reset;
	return 0;
}

static int open_keys(const struct keyring_args *a, struct mg_secret_key *keys,
                     const struct mg_secret_key **ptrs)
{
	for (size_t i = 0; i < a->nsign; i++) {
		int r = mg_key_open_secret(a->sign[i], a->passphrase_file, &keys[i]);
		if (r < 0)
			return r;
		ptrs[i] = &keys[i];
	}
	return 0;
}

/* Says how many of the required signatures the new file has. */
static void report(const struct keyring_args *a, const struct mg_keyring *old,
                   const uint8_t *buf, size_t len)
{
	struct mg_keyring kr;
	struct mg_envelope_count count;

	if (mg_keyring_parse(buf, len, a->out, &kr) < 0)
		return;
	printf("%s: keyring version %llu", a->out, (unsigned long long)kr.version);
	if (old) {
		mg_envelope_count(&mg_keyring_kind, &kr.env, old->root.keys, old->root.nkeys, &count);
		printf(", old root signatures %zu of %llu", count.valid,
		       (unsigned long long)old->root.threshold);
	}
	mg_envelope_count(&mg_keyring_kind, &kr.env, kr.root.keys, kr.root.nkeys, &count);
	printf(", %sroot signatures %zu of %llu\n", old ? "new " : "", count.valid,
	       (unsigned long long)kr.root.threshold);
}

static int make(struct keyring_args *a)
{
	struct mg_secret_key keys[MG_ENVELOPE_MAX_SIGNATURES];
	const struct mg_secret_key *ptrs[MG_ENVELOPE_MAX_SIGNATURES];
	_cleanup_free_ uint8_t *old_raw = NULL, *out = NULL;
	struct mg_keyring old;
	size_t len = 0;
	int r = 0;

	if (a->from)
		r = from_old(a, &old, &old_raw);
	if (r < 0)
		return r;
	a->kr.issued = mg_now();
	sodium_memzero(keys, sizeof(keys));
	r = open_keys(a, keys, ptrs);
	if (r == 0)
		r = mg_keyring_create(&a->kr, ptrs, a->nsign, &out, &len);
	sodium_memzero(keys, sizeof(keys));
	if (r == 0)
		r = mg_file_replace(a->out, out, len, 0644);
	if (r == 0)
		report(a, a->from ? &old : NULL, out, len);
	return r;
}

int admin_keyring(struct mg_cli *cli, int argc, char **argv)
{
	struct keyring_args a = {0};
	bool rotate;

	if (argc < 2 || (strcmp(argv[1], "create") && strcmp(argv[1], "rotate")))
		return mg_cli_usage(cli, argv[0], usage);
	rotate = strcmp(argv[1], "rotate") == 0;
	if (parse_args(argc - 1, argv + 1, &a) < 0) {
		mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
		return mg_cli_usage(cli, argv[0], usage);
	}
	if (rotate != !!a.from)
		return mg_cli_fail(cli, MG_EXIT_USAGE, rotate ? "keyring rotate: --from is required"
		                   : "keyring create: --from belongs to rotate");
	if (!rotate && a.reset)
		return mg_cli_fail(cli, MG_EXIT_USAGE, "keyring create: --reset-policy-floor belongs "
		                   "to rotate");
	if (make(&a) < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	return MG_EXIT_OK;
}
