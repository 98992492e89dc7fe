/* mynaguardctl policy apply BUNDLE | show [--json] | pull [URL]
 *
 * apply: exit 0 applied or unchanged, 1 rejected (the reason on stderr and
 * in the audit journal; the last-known-good stays), 2 usage or unreadable.
 * After an apply the agent, if it runs, is told to reload. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "mynaguard/config.h"
#include "mynaguard/control.h"
#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/json.h"
#include "mynaguard/terminal.h"
#include "mynaguard/util.h"
#include "verbs.h"

static const char usage[] =
	"policy apply BUNDLE\n"
	"policy show [--json]\n"
	"policy pull [--json] [URL]";

static int apply(struct mg_cli *cli, int argc, char **argv)
{
	_cleanup_free_ uint8_t *buf = NULL;
	struct mg_config cfg = {0};
	struct mg_terminal_ctx ctx;
	struct mg_apply_result res;
	size_t len = 0;
	int r;

	if (argc != 2 || argv[1][0] == '-')
		return mg_cli_usage(cli, "policy", usage);
	if (mg_config_load(cli->config_path, &cfg) < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	ctx = (struct mg_terminal_ctx){.state_dir = cli->state_dir, .component = "ctl",
	                               .target = cfg.group};
	r = mg_file_read(argv[1], MG_BUNDLE_MAX_BYTES, &buf, &len);
	if (r < 0 && r != -EFBIG) {
		mg_config_free(&cfg);
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	}
	/* Too large to be a bundle is a verdict on the bundle, not a failure
	 * to read it. */
	if (r == -EFBIG)
		r = mg_terminal_reject(&ctx, argv[1], r);
	else
		r = mg_terminal_apply(&ctx, buf, len, argv[1], &res);
	if (r < 0) {
		mg_config_free(&cfg);
		return mg_cli_fail(cli, MG_EXIT_NO, NULL);
	}
	if (res.outcome == MG_APPLY_APPLIED) {
		printf("applied: policy version %llu is in force (was %llu)\n",
		       (unsigned long long)res.version, (unsigned long long)res.previous);
		mg_cli_tell_agent(cli);
	} else {
		printf("unchanged: policy version %llu stays in force\n",
		       (unsigned long long)res.version);
	}
	mg_config_free(&cfg);
	return MG_EXIT_OK;
}

static json_t *show_json(const struct mg_policy_in_force *p)
{
	char issued[MG_TIME_LEN], expires[MG_TIME_LEN], hash[2 * MG_BUNDLE_HASH_BYTES + 1];
	json_t *signers = json_array(), *o;

	for (size_t i = 0; signers && i < p->nsigners; i++) {
		char id[MG_KEY_ID_HEX];
		mg_key_id_hex(p->signers[i], id);
		json_array_append_new(signers, json_string(id));
	}
	if (!p->from_bundle)
		return json_pack("{s:b, s:s, s:I, s:o}", "from_bundle", 0, "reason", p->reason,
		                 "keyring_version", (json_int_t)p->keyring_version, "signers", signers);
	mg_time_format(p->issued, issued);
	mg_time_format(p->expires, expires);
	sodium_bin2hex(hash, sizeof(hash), p->bundle_hash, sizeof(p->bundle_hash));
	o = json_pack("{s:b, s:I, s:s, s:s, s:s, s:I, s:o, s:s}", "from_bundle", 1,
	              "version", (json_int_t)p->version, "issued", issued, "expires", expires,
	              "target", p->target, "keyring_version", (json_int_t)p->keyring_version,
	              "signers", signers, "bundle_blake2b", hash);
	return o;
}

/* The signer's name from the pinned keyring, for people; "?" if gone. */
static const char *signer_name(const struct mg_keyring *kr, const uint8_t id[MG_KEY_ID_BYTES])
{
	const struct mg_public_key *k = kr ? mg_keyring_role_find(&kr->policy, id) : NULL;

	return k ? k->name : "?";
}

static void show_text(const struct mg_cli *cli, const struct mg_policy_in_force *p)
{
	char issued[MG_TIME_LEN], expires[MG_TIME_LEN];
	struct mg_keyring kr;
	bool have_kr = mg_terminal_keyring_read(cli->state_dir, &kr, NULL, NULL) == 0;

	if (!p->from_bundle) {
		printf("policy in force: built-in defaults (fail closed)\nreason: %s\n", p->reason);
		return;
	}
	mg_time_format(p->issued, issued);
	mg_time_format(p->expires, expires);
	printf("policy in force: version %llu for group %s\n"
	       "issued:  %s\nexpires: %s\nkeyring: version %llu\nsigned by:",
	       (unsigned long long)p->version, p->target, issued, expires,
	       (unsigned long long)p->keyring_version);
	for (size_t i = 0; i < p->nsigners; i++) {
		char id[MG_KEY_ID_HEX];
		mg_key_id_hex(p->signers[i], id);
		printf("%s %s (%s)", i ? "," : "", signer_name(have_kr ? &kr : NULL, p->signers[i]), id);
	}
	printf("\n");
	if (p->policy->description)
		printf("description: %s\n", p->policy->description);
}

static int show(struct mg_cli *cli, int argc, char **argv)
{
	struct mg_config cfg = {0};
	struct mg_policy_in_force p;
	bool json = cli->json || (argc == 2 && strcmp(argv[1], "--json") == 0);
	int r;

	if (argc > 2 || (argc == 2 && !json))
		return mg_cli_usage(cli, "policy", usage);
	if (mg_config_load(cli->config_path, &cfg) < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	r = mg_terminal_load(&(struct mg_terminal_ctx){.state_dir = cli->state_dir,
	                                               .component = "ctl", .target = cfg.group}, &p);
	mg_config_free(&cfg);
	if (r < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	if (json) {
		_cleanup_json_ json_t *o = show_json(&p);
		if (o)
			json_dumpf(o, stdout, JSON_COMPACT);
		fputc('\n', stdout);
	} else {
		show_text(cli, &p);
	}
	r = p.from_bundle ? MG_EXIT_OK : MG_EXIT_NO;
	mg_policy_in_force_free(&p);
	return r;
}

int ctl_policy(struct mg_cli *cli, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "apply") == 0)
		return apply(cli, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return show(cli, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "pull") == 0) {
		optind = 0;
		return ctl_policy_pull(cli, argc - 1, argv + 1);
	}
	return mg_cli_usage(cli, argv[0], usage);
}
