/* mynaguardctl devices: the devices present and what the policy decided
 * for each, as the agent sees them (asked over its control socket).
 *
 *   mynaguardctl devices [--json]
 *   mynaguardctl devices approve DEVICE     let a held keyboard in
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "mynaguard/config.h"
#include "mynaguard/control.h"
#include "mynaguard/error.h"
#include "mynaguard/json.h"
#include "mynaguard/util.h"
#include "verbs.h"

static const char usage[] = "devices [--json]\ndevices approve DEVICE";

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* The description without the name and id, which have columns of their own. */
static const char *product(const json_t *d)
{
	const char *desc = str(d, "description"), *name = str(d, "name"), *id = str(d, "id");
	size_t n = strlen(name), m = strlen(id);

	if (strncmp(desc, name, n) == 0 && desc[n] == ' ' && strncmp(desc + n + 1, id, m) == 0 &&
	    desc[n + 1 + m] == ' ')
		return desc + n + m + 2;
	return desc;
}

static void print_table(const json_t *reply)
{
	const json_t *list = json_object_get(reply, "devices");
	size_t i;
	json_t *d;

	if (json_is_true(json_object_get(reply, "audit_only")))
		printf("audit-only mode: decisions are logged, not enforced\n");
	if (json_array_size(list) == 0) {
		printf("no USB devices present\n");
		return;
	}
	printf("%-10s %-9s %-9s %-24s %s\n", "DEVICE", "ID", "DECISION", "RULE", "PRODUCT");
	json_array_foreach(list, i, d)
		printf("%-10s %-9s %-9s %-24s %s\n", str(d, "name"), str(d, "id"), str(d, "decision"),
		       str(d, "rule"), product(d));
}

static int call(struct mg_cli *cli, const char *cmd, const json_t *args, json_t **reply)
{
	struct mg_config cfg = {0};
	int r = mg_config_load(cli->config_path, &cfg);

	if (r == 0)
		r = mg_control_call(cfg.runtime_dir, cmd, args, reply);
	mg_config_free(&cfg);
	return r;
}

static int list(struct mg_cli *cli)
{
	_cleanup_json_ json_t *reply = NULL;

	if (call(cli, "devices", NULL, &reply) < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	if (cli->json) {
		json_dumpf(json_object_get(reply, "devices"), stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		print_table(reply);
	}
	return MG_EXIT_OK;
}

static int approve(struct mg_cli *cli, const char *device)
{
	_cleanup_json_ json_t *args = json_pack("{s:s}", "device", device), *reply = NULL;
	int r;

	if (!args)
		return mg_cli_fail(cli, MG_EXIT_USAGE, "out of memory");
	r = call(cli, "approve-keyboard", args, &reply);
	if (r < 0)
		return mg_cli_fail(cli, r == -EREMOTEIO ? MG_EXIT_NO : MG_EXIT_USAGE, NULL);
	printf("%s: approved\n", device);
	return MG_EXIT_OK;
}

int ctl_devices(struct mg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {0}};
	int c;

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c != 'j')
			return mg_cli_usage(cli, argv[0], usage);
		cli->json = true;
	}
	if (optind == argc)
		return list(cli);
	if (optind + 2 == argc && strcmp(argv[optind], "approve") == 0)
		return approve(cli, argv[optind + 1]);
	return mg_cli_usage(cli, argv[0], usage);
}
