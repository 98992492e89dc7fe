/* mynaguardctl status: what this terminal trusts and enforces, in one
 * screen: the pinned keyring, the policy in force (or why the defaults
 * are), the floors, and whether the agent answers. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "mynaguard/config.h"
#include "mynaguard/control.h"
#include "mynaguard/error.h"
#include "mynaguard/json.h"
#include "mynaguard/terminal.h"
#include "mynaguard/util.h"
#include "verbs.h"

static const char usage[] = "status";

static void print_floors(const char *state_dir)
{
	struct mg_terminal_state st;
	char clock[MG_TIME_LEN];

	if (mg_terminal_state_read(state_dir, &st) < 0) {
		printf("floors:    unreadable: %s\n", mg_error());
		return;
	}
	mg_time_format(st.clock_floor, clock);
	printf("floors:    policy version >= %llu, clock >= %s\n",
	       (unsigned long long)st.policy_floor, clock);
}

static void print_agent(const struct mg_config *cfg)
{
	_cleanup_json_ json_t *reply = NULL;
	int r = mg_control_call(cfg->runtime_dir, "status", NULL, &reply);

	printf("agent:     %s\n", r == 0 ? "running" : r == -ENOENT || r == -ECONNREFUSED
	       ? "not running" : mg_error());
}

int ctl_status(struct mg_cli *cli, int argc, char **argv)
{
	struct mg_config cfg = {0};
	struct mg_policy_in_force p;
	char expires[MG_TIME_LEN];

	if (argc != 1)
		return mg_cli_usage(cli, argv[0], usage);
	if (mg_config_load(cli->config_path, &cfg) < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	if (mg_terminal_load(&(struct mg_terminal_ctx){.state_dir = cli->state_dir,
	                                               .component = "ctl", .target = cfg.group},
	                     &p) < 0) {
		mg_config_free(&cfg);
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	}
	printf("terminal:  %s, group %s\n", cfg.terminal_id ? cfg.terminal_id : mg_hostname(),
	       cfg.group ? cfg.group : "(none configured)");
	if (p.keyring_version)
		printf("keyring:   version %llu\n", (unsigned long long)p.keyring_version);
	else
		printf("keyring:   none pinned\n");
	if (p.from_bundle) {
		mg_time_format(p.expires, expires);
		printf("policy:    version %llu, expires %s, %zu signer%s\n",
		       (unsigned long long)p.version, expires, p.nsigners, p.nsigners == 1 ? "" : "s");
	} else {
		printf("policy:    built-in defaults (fail closed): %s\n", p.reason);
	}
	print_floors(cli->state_dir);
	print_agent(&cfg);
	mg_policy_in_force_free(&p);
	mg_config_free(&cfg);
	return MG_EXIT_OK;
}
