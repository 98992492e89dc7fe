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

/* The agent's own view, from its "status" reply (docs/agent.md). */
static void print_agent_details(const json_t *st)
{
	const json_t *pol = json_object_get(st, "policy"), *dev = json_object_get(st, "devices");
	const json_t *rules = json_object_get(st, "udev_rules"), *pull = json_object_get(st, "pull");
	long long n[6];
	const char *keys[] = {"present", "allowed", "read_only", "blocked", "held", "kept"};

	for (size_t i = 0; i < MG_ARRAY_SIZE(keys); i++)
		n[i] = json_integer_value(json_object_get(dev, keys[i]));
	printf("  pid %lld, enforcing %s %lld%s\n", json_integer_value(json_object_get(st, "pid")),
	       json_is_true(json_object_get(pol, "from_bundle")) ? "policy version" : "defaults, version",
	       json_integer_value(json_object_get(pol, "version")),
	       json_is_true(json_object_get(pol, "audit_only")) ? " (audit-only: devices are not blocked)" : "");
	printf("  devices: %lld present: %lld allowed, %lld read-only, %lld blocked, %lld held, %lld kept\n",
	       n[0], n[1], n[2], n[3], n[4], n[5]);
	printf("  udev rules: %s%s%s\n", json_string_value(json_object_get(rules, "path")),
	       json_is_true(json_object_get(rules, "written")) ? "" : ": NOT WRITTEN: ",
	       json_is_true(json_object_get(rules, "written")) ? "" :
	       json_string_value(json_object_get(rules, "error")));
	if (json_is_true(json_object_get(pull, "configured")))
		printf("  last pull: %s (exit %lld, %lld failures in a row)\n",
		       json_is_string(json_object_get(pull, "last")) ?
		       json_string_value(json_object_get(pull, "last")) : "none yet",
		       json_integer_value(json_object_get(pull, "last_exit")),
		       json_integer_value(json_object_get(pull, "failures")));
}

static void print_agent(const struct mg_config *cfg)
{
	_cleanup_json_ json_t *reply = NULL;
	int r = mg_control_call(cfg->runtime_dir, "status", NULL, &reply);

	printf("agent:     %s\n", r == 0 ? "running" : r == -ENOENT || r == -ECONNREFUSED
	       ? "not running" : mg_error());
	if (r == 0)
		print_agent_details(reply);
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
