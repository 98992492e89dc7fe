#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mynaguard/config.h"
#include "mynaguard/control.h"
#include "mynaguard/error.h"
#include "mynaguard/json.h"
#include "mynaguard/key.h"
#include "mynaguard/util.h"

static const struct mg_verb *verb_table;

static void usage_all(const char *prog, FILE *out)
{
	fprintf(out, "usage: %s [--state-dir DIR] [--config FILE] VERB ...\n", prog);
	for (const struct mg_verb *v = verb_table; v->name; v++) {
		const char *line = v->usage;
		while (line && *line) {
			const char *nl = strchr(line, '\n');
			int n = nl ? (int)(nl - line) : (int)strlen(line);
			fprintf(out, "       %s %.*s\n", prog, n, line);
			line = nl ? nl + 1 : NULL;
		}
	}
}

int mg_cli_fail(const struct mg_cli *cli, int code, const char *fmt, ...)
{
	fprintf(stderr, "%s: ", cli->prog);
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	} else {
		fputs(mg_error(), stderr);
	}
	fputc('\n', stderr);
	return code;
}

void mg_cli_tell_agent(const struct mg_cli *cli)
{
	_cleanup_json_ json_t *reply = NULL;
	struct mg_config cfg = {0};
	int r;

	if (mg_config_load(cli->config_path, &cfg) < 0) {
		mg_cli_fail(cli, 0, "the agent was not told to reload: %s", mg_error());
		return;
	}
	r = mg_control_call(cfg.runtime_dir, "reload", NULL, &reply);
	if (r < 0 && r != -ENOENT && r != -ECONNREFUSED)
		mg_cli_fail(cli, 0, "the agent was not told to reload: %s", mg_error());
	mg_config_free(&cfg);
}

static void print_role(const char *what, const struct mg_keyring_role *role)
{
	printf("%s keys (threshold %llu of %zu):\n", what, (unsigned long long)role->threshold,
	       role->nkeys);
	for (size_t i = 0; i < role->nkeys; i++) {
		char id[MG_KEY_ID_HEX];
		mg_key_id_hex(role->keys[i].id, id);
		printf("  %s  %s\n", id, role->keys[i].name);
	}
}

void mg_cli_print_keyring(const struct mg_keyring *kr)
{
	char issued[MG_TIME_LEN];

	mg_time_format(kr->issued, issued);
	printf("keyring version %llu, issued %s\nresets the policy floor: %s\n",
	       (unsigned long long)kr->version, issued, kr->reset_policy_floor ? "yes" : "no");
	print_role("root", &kr->root);
	print_role("policy", &kr->policy);
}

int mg_cli_usage(const struct mg_cli *cli, const char *verb, const char *usage)
{
	const char *line = usage;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		int n = nl ? (int)(nl - line) : (int)strlen(line);
		fprintf(stderr, "usage: %s %.*s\n", cli->prog, n, line);
		line = nl ? nl + 1 : NULL;
	}
	(void)verb;
	return MG_EXIT_USAGE;
}

int mg_cli_main(const char *prog, const struct mg_verb *verbs, int argc, char **argv)
{
	static const struct option opts[] = {
		{"state-dir", required_argument, NULL, 's'},
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	struct mg_cli cli = {.prog = prog, .state_dir = MG_STATEDIR,
	                     .config_path = MG_SYSCONFDIR "/mynaguard.conf"};
	int c;

	verb_table = verbs;
	/* "+" stops at the verb, so each verb parses its own options. */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 's': cli.state_dir = optarg; break;
		case 'c': cli.config_path = optarg; break;
		case 'h': usage_all(prog, stdout); return MG_EXIT_OK;
		case 'V': printf("%s %s\n", prog, MG_VERSION); return MG_EXIT_OK;
		default: usage_all(prog, stderr); return MG_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage_all(prog, stderr);
		return MG_EXIT_USAGE;
	}
	for (const struct mg_verb *v = verbs; v->name; v++) {
		if (strcmp(argv[optind], v->name) == 0) {
			int sub_argc = argc - optind;
			char **sub_argv = argv + optind;
			optind = 0;     /* reset getopt for the verb */
			return v->run(&cli, sub_argc, sub_argv);
		}
	}
	mg_cli_fail(&cli, MG_EXIT_USAGE, "unknown verb '%s'", argv[optind]);
	usage_all(prog, stderr);
	return MG_EXIT_USAGE;
}
