/* mynaguard-admin keygen [--no-passphrase | --passphrase-file F] NAME
 * Writes NAME.key (0600, sealed) and NAME.pub.  The passphrase never comes
 * from the command line, where ps and shell history would show it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "mynaguard/error.h"
#include "mynaguard/key.h"
#include "verbs.h"

static const char usage[] = "keygen [--no-passphrase | --passphrase-file FILE] NAME";

int admin_keygen(struct mg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"no-passphrase", no_argument, NULL, 'n'},
		{"passphrase-file", required_argument, NULL, 'p'},
		{0},
	};
	const char *file = secure_getenv("MYNAGUARD_PASSPHRASE_FILE");
	struct mg_passphrase pass = {0};
	struct mg_public_key pub;
	char id[MG_KEY_ID_HEX];
	bool none = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': none = true; break;
		case 'p': file = optarg; break;
		default: return mg_cli_usage(cli, argv[0], usage);
		}
	}
	if (optind != argc - 1)
		return mg_cli_usage(cli, argv[0], usage);
	if (none == !!(file && *file))
		return mg_cli_fail(cli, MG_EXIT_USAGE, "keygen: give exactly one of --passphrase-file "
		                   "FILE (or MYNAGUARD_PASSPHRASE_FILE) and --no-passphrase");
	if (!none && mg_passphrase_read(file, &pass) < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	r = mg_key_generate(argv[optind], &pass, &pub);
	mg_passphrase_free(&pass);
	if (r < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	mg_key_id_hex(pub.id, id);
	printf("%s.key, %s.pub: key id %s%s\n", argv[optind], argv[optind], id,
	       none ? " (no passphrase)" : "");
	return MG_EXIT_OK;
}
