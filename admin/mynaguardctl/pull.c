/* mynaguardctl policy pull [--json] [URL]: one poll of the central
 * repository (pull.h).  The agent runs exactly this as a child process, so
 * the exit status is the contract:
 *   0  applied, unchanged, or not modified (304)
 *   1  the pointer or bundle was refused; the last-known-good stays
 *   2  the repository could not be reached or read, or a usage error
 * After a new bundle is applied, the agent (if it runs) is told to reload. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "mynaguard/config.h"
#include "mynaguard/control.h"
#include "mynaguard/error.h"
#include "mynaguard/json.h"
#include "mynaguard/pull.h"
#include "mynaguard/util.h"
#include "verbs.h"

static const char usage[] = "policy pull [--json] [URL]";

static void print_json(const struct mg_pull_report *rep, int status)
{
	json_t *o = json_pack("{s:s,s:I,s:I,s:I}", "outcome", mg_pull_outcome_name(rep->outcome),
	                      "version", (json_int_t)rep->version,
	                      "previous", (json_int_t)rep->previous,
	                      "bytes", (json_int_t)rep->bytes);

	if (!o)
		return;
	if (status != 0)
		json_object_set_new(o, "reason", json_string(mg_error()));
	json_dumpf(o, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	json_decref(o);
}

static void print_text(const struct mg_pull_report *rep)
{
	unsigned long long v = rep->version, was = rep->previous;

	switch (rep->outcome) {
	case MG_PULL_APPLIED:
		printf("applied: policy version %llu is in force (was %llu)\n", v, was);
		break;
	case MG_PULL_UNCHANGED:
		printf("unchanged: policy version %llu stays in force\n", v);
		break;
	case MG_PULL_NOT_MODIFIED:
		printf("not modified (304): policy version %llu stays in force\n", v);
		break;
	default:
		break;
	}
}

static int exit_status(const struct mg_pull_report *rep, int r)
{
	if (r == 0)
		return MG_EXIT_OK;
	return rep->outcome == MG_PULL_REJECTED ? MG_EXIT_NO : MG_EXIT_USAGE;
}

int ctl_policy_pull(struct mg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct mg_config cfg;
	struct mg_pull_report rep;
	struct mg_pull_request req;
	int c, r, status;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c != 'j')
			return mg_cli_usage(cli, "policy pull", usage);
		cli->json = true;
	}
	if (argc - optind > 1)
		return mg_cli_usage(cli, "policy pull", usage);
	r = mg_config_load(cli->config_path, &cfg);
	if (r < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	req = (struct mg_pull_request){
		.state_dir = cli->state_dir, .component = "ctl", .cfg = &cfg,
		.repository = optind < argc ? argv[optind] : cfg.repository,
	};
	r = mg_pull(&req, &rep);
	status = exit_status(&rep, r);
	if (rep.outcome == MG_PULL_APPLIED)
		mg_cli_tell_agent(cli);
	if (rep.state_warning[0])
		fprintf(stderr, "%s: warning: %s\n", cli->prog, rep.state_warning);
	if (cli->json)
		print_json(&rep, r);
	else if (r == 0)
		print_text(&rep);
	if (r < 0)
		mg_cli_fail(cli, status, "%s: %s", mg_pull_outcome_name(rep.outcome), mg_error());
	mg_config_free(&cfg);
	return status;
}
