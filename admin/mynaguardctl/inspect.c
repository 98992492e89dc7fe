/* mynaguardctl inspect: the self-inspection report (lib/inspect.c), for an
 * auditor in Japanese or English by the locale (LC_ALL, LC_MESSAGES or LANG
 * "ja*": a small table here, since only the titles and verdicts are words; the facts
 * are names, numbers and the library's messages), and as JSON for fleet
 * tooling.  Exit 0 when every control is in force, 1 when any is off.
 *
 *   mynaguardctl inspect [--json] [--root DIR] [--sysfs-root DIR]
 *                        [--runtime-dir DIR] [--otp-store DIR] [--hostkey FILE]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mynaguard/error.h"
#include "mynaguard/inspect.h"
#include "mynaguard/json.h"
#include "mynaguard/util.h"
#include "verbs.h"

static const char usage[] =
	"inspect [--json] [--root DIR] [--sysfs-root DIR] [--runtime-dir DIR]\n"
	"        [--otp-store DIR] [--hostkey FILE]";

/* The words of the report, by language. */
static const struct {
	const char *id;        /* the check's id */
	const char *en, *ja;   /* its title */
} titles[] = {
	{"policy", "Signed policy", "署名付きポリシー"},
	{"udev-rules", "udev rules", "udevルール"},
	{"usb-controllers", "USB controllers", "USBコントローラ"},
	{"agent", "Resident agent", "常駐エージェント"},
	{"clipboard-guards", "Clipboard guards", "クリップボード保護"},
	{"pam", "PAM login stacks", "PAM認証スタック"},
	{"otp-coverage", "OTP enrollment", "ワンタイムパスワード登録"},
	{"devices", "Devices present", "接続中のデバイス"},
	{"audit", "Audit journal", "監査ログ"},
};

static const char *title(const char *id, bool ja)
{
	for (size_t i = 0; i < MG_ARRAY_SIZE(titles); i++)
		if (strcmp(titles[i].id, id) == 0)
			return ja ? titles[i].ja : titles[i].en;
	return id;
}

/* Japanese when the environment asks for it, in POSIX's order of
 * precedence, whether or not a ja_JP locale is generated on the machine. */
static bool japanese(void)
{
	static const char *const vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};

	for (size_t i = 0; i < MG_ARRAY_SIZE(vars); i++) {
		const char *v = getenv(vars[i]);

		if (v && *v)
			return strncmp(v, "ja", 2) == 0;
	}
	return false;
}

static void print_report(const struct mg_inspect_report *rep)
{
	bool ja = japanese();
	char now[MG_TIME_LEN];
	size_t off = 0;

	mg_time_format(mg_now(), now);
	printf(ja ? "mynaguard 自己点検: %s (%s)\n\n" : "mynaguard self-inspection of %s at %s\n\n",
	       mg_hostname(), now);
	for (size_t i = 0; i < MG_INSPECT_CHECKS; i++) {
		const struct mg_inspect_check *c = &rep->checks[i];

		off += !c->on;
		printf("[%s] %s\n      %s\n", c->on ? (ja ? "有効" : " ON ") : (ja ? "無効" : "OFF!"),
		       title(c->id, ja), c->summary);
	}
	if (off == 0)
		printf(ja ? "\n全 %d 項目が有効です。\n" : "\nAll %d controls are in force.\n",
		       MG_INSPECT_CHECKS);
	else if (ja)
		printf("\n%d 項目中 %zu 項目が無効です。\n", MG_INSPECT_CHECKS, off);
	else
		printf("\n%zu of %d controls are OFF.\n", off, MG_INSPECT_CHECKS);
}

int ctl_inspect(struct mg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},         {"root", required_argument, NULL, 'r'},
		{"sysfs-root", required_argument, NULL, 's'}, {"runtime-dir", required_argument, NULL, 'R'},
		{"otp-store", required_argument, NULL, 'o'},  {"hostkey", required_argument, NULL, 'k'},
		{0},
	};
	struct mg_inspect_paths p = {
		.state_dir = cli->state_dir, .config_path = cli->config_path, .root = "/", .sysfs = "/sys",
	};
	struct mg_inspect_report rep;
	int c;

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'j': cli->json = true; break;
		case 'r': p.root = optarg; break;
		case 's': p.sysfs = optarg; break;
		case 'R': p.runtime_dir = optarg; break;
		case 'o': p.otp_store = optarg; break;
		case 'k': p.otp_hostkey = optarg; break;
		default: return mg_cli_usage(cli, argv[0], usage);
		}
	}
	if (optind != argc)
		return mg_cli_usage(cli, argv[0], usage);
	if (mg_inspect_run(&p, &rep) < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	c = rep.all_on ? MG_EXIT_OK : MG_EXIT_NO;
	if (cli->json) {
		_cleanup_json_ json_t *j = mg_inspect_report_json(&rep);

		if (!j || json_dumpf(j, stdout, JSON_INDENT(2)) < 0)
			c = mg_cli_fail(cli, MG_EXIT_USAGE, "inspect: out of memory");
		else
			putchar('\n');
	} else {
		print_report(&rep);
	}
	mg_inspect_report_free(&rep);
	return c;
}
