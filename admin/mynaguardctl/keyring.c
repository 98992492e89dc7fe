/* mynaguardctl keyring pin KEYRING | show | update KEYRING2
 *
 * pin: trusts a first keyring, brought on approved media; the operator
 * compares the root key ids shown with the ones from the key ceremony.
 * update: a rotation to the next version, signed by the old and the new
 * roots.  Exit 0 done or unchanged, 1 rejected, 2 usage or unreadable. */
#include <stdio.h>
#include <string.h>

#include "mynaguard/config.h"
#include "mynaguard/control.h"
#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/json.h"
#include "mynaguard/terminal.h"
#include "mynaguard/util.h"
#include "verbs.h"

static const char usage[] =
	"keyring pin KEYRING\n"
	"keyring show\n"
	"keyring update KEYRING2";

static int show(struct mg_cli *cli)
{
	_cleanup_free_ uint8_t *raw = NULL;
	struct mg_keyring kr;
	size_t len = 0;
	int r = mg_terminal_keyring_read(cli->state_dir, &kr, &raw, &len);

	if (r == -ENOENT)
		return mg_cli_fail(cli, MG_EXIT_NO, NULL);
	if (r < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	mg_cli_print_keyring(&kr);
	return MG_EXIT_OK;
}

static int pin_or_update(struct mg_cli *cli, bool pin, const char *path)
{
	_cleanup_free_ uint8_t *buf = NULL;
	const struct mg_terminal_ctx ctx = {.state_dir = cli->state_dir, .component = "ctl"};
	uint64_t version = 0;
	bool changed = true;
	size_t len = 0;
	int r;

	if (mg_file_read(path, MG_KEYRING_MAX_BYTES, &buf, &len) < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	if (pin)
		r = mg_terminal_keyring_pin(&ctx, buf, len, path, &version);
	else
		r = mg_terminal_keyring_update(&ctx, buf, len, path, &version, &changed);
	if (r < 0)
		return mg_cli_fail(cli, MG_EXIT_NO, NULL);
	if (!changed) {
		printf("unchanged: keyring version %llu stays pinned\n", (unsigned long long)version);
	} else {
		printf("%s: keyring version %llu is pinned\n", pin ? "pinned" : "rotated",
		       (unsigned long long)version);
		mg_cli_tell_agent(cli);
	}
	return show(cli);
}

int ctl_keyring(struct mg_cli *cli, int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "show") == 0)
		return show(cli);
	if (argc == 3 && strcmp(argv[1], "pin") == 0)
		return pin_or_update(cli, true, argv[2]);
	if (argc == 3 && strcmp(argv[1], "update") == 0)
		return pin_or_update(cli, false, argv[2]);
	return mg_cli_usage(cli, argv[0], usage);
}
