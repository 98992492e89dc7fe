/* mynaguardctl ticket apply CODE... | list [--json]
 *
 * apply: verifies a ticket read over the phone (the code may be given in
 * pieces, as typed, or as "-" for standard input) against the pinned
 * keyring, this host and the clock floor, stores it in STATE/tickets and
 * tells the agent to reload.  Exit 0 applied, 1 rejected (the reason on
 * stderr and in the audit journal), 2 usage.
 * list: the stored tickets that still verify. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "mynaguard/config.h"
#include "mynaguard/control.h"
#include "mynaguard/error.h"
#include "mynaguard/json.h"
#include "mynaguard/ticket.h"
#include "mynaguard/util.h"
#include "verbs.h"

static const char usage[] =
	"ticket apply CODE...|-\n"
	"ticket list [--json]";

/* Joins the pieces of a code as typed ("ABCD EFGH ..." may arrive as many
 * arguments); "-" reads one line from standard input. */
static int read_code(int argc, char **argv, char *code, size_t size)
{
	size_t len = 0;

	code[0] = '\0';
	if (argc == 1 && strcmp(argv[0], "-") == 0) {
		if (!fgets(code, (int)size, stdin))
			return mg_fail(EINVAL, "ticket: nothing on standard input");
		code[strcspn(code, "\n")] = '\0';
		return 0;
	}
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (len + n + 2 > size)
			return mg_fail(EINVAL, "ticket: longer than any ticket");
		memcpy(code + len, argv[i], n);
		len += n;
		code[len++] = '-';
		code[len] = '\0';
	}
	return 0;
}

static void ticket_device(const struct mg_ticket *t, char *buf, size_t size)
{
	if (t->bind == MG_TICKET_BIND_SERIAL) {
		snprintf(buf, size, "serial %s", t->serial);
	} else {
		char hex[2 * MG_TICKET_HASH_BYTES + 1];

		sodium_bin2hex(hex, sizeof(hex), t->hash, MG_TICKET_HASH_BYTES);
		snprintf(buf, size, "hash %s...", hex);
	}
}

static int apply(struct mg_cli *cli, int argc, char **argv)
{
	char code[MG_TICKET_TEXT_MAX + 2], device[MG_TICKET_SERIAL_MAX + 16], when[MG_TIME_LEN];
	struct mg_ticket t;
	int r;

	if (argc < 2 || (argv[1][0] == '-' && argv[1][1]))
		return mg_cli_usage(cli, "ticket", usage);
	if (read_code(argc - 1, argv + 1, code, sizeof(code)) < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	r = mg_ticket_apply(cli->state_dir, code, &t);
	if (r == -EKEYREJECTED || r == -EXDEV || r == -ETIME || r == -EBADMSG || r == -EINVAL)
		return mg_cli_fail(cli, MG_EXIT_NO, NULL);
	if (r < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	ticket_device(&t, device, sizeof(device));
	mg_time_format(t.expires, when);
	printf("ticket %s applied: %s for %s until %s\n", t.id, mg_target_name(t.mode), device, when);
	mg_cli_tell_agent(cli);
	return MG_EXIT_OK;
}

static int list(struct mg_cli *cli, int argc, char **argv)
{
	_cleanup_free_ struct mg_ticket *all = NULL;
	_cleanup_json_ json_t *out = NULL;
	bool json = argc == 2 && strcmp(argv[1], "--json") == 0;
	size_t n = 0;

	if (argc > 2 || (argc == 2 && !json))
		return mg_cli_usage(cli, "ticket", usage);
	if (mg_ticket_load_all(cli->state_dir, &all, &n) < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	out = json_array();
	for (size_t i = 0; i < n; i++) {
		char device[MG_TICKET_SERIAL_MAX + 16], when[MG_TIME_LEN], key[MG_KEY_ID_HEX];

		ticket_device(&all[i], device, sizeof(device));
		mg_time_format(all[i].expires, when);
		mg_key_id_hex(all[i].key_id, key);
		if (json)
			json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", all[i].id, "mode",
			                                     mg_target_name(all[i].mode), "device", device,
			                                     "expires", when, "key", key));
		else
			printf("%s  %-9s  %s  until %s  (key %s)\n", all[i].id, mg_target_name(all[i].mode), device,
			       when, key);
	}
	if (json) {
		char *s = json_dumps(out, JSON_COMPACT);

		if (!s)
			return mg_cli_fail(cli, MG_EXIT_USAGE, "out of memory");
		puts(s);
		free(s);
	}
	return n ? MG_EXIT_OK : MG_EXIT_NO;
}

int ctl_ticket(struct mg_cli *cli, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "apply") == 0)
		return apply(cli, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return list(cli, argc - 1, argv + 1);
	return mg_cli_usage(cli, "ticket", usage);
}
