/* mynaguardctl audit verify | show | message-id: the audit journal in
 * STATE/audit (journal.h), for the officer doing the 自己点検.
 *   verify  0 intact, 1 broken (the first bad record named), 2 error;
 *           prints an anchor (SEQ:HASH of the last record) to keep off the
 *           terminal; --anchor checks one kept earlier, which a journal
 *           rewritten since (by root, whole) no longer reproduces
 *   show    the last N records (default 20), one per line
 *   message-id  the syslog MESSAGE_ID of each event name, for collectors */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/journal.h"
#include "mynaguard/util.h"
#include "verbs.h"

static const char usage[] =
	"audit verify [--anchor SEQ:HASH]...\naudit show [--json] [-n N]\naudit message-id EVENT...";

/* show -n keeps that many lines in memory; -n 0 streams everything. */
#define SHOW_MAX 1000000

/* How show prints: the options of one run. */
struct show_options {
	bool json;                     /* the records as stored, one JSON object a line */
	size_t count;                  /* the last count records; 0 for all */
};

/* Copies s for a terminal: control characters (C0, DEL, C1) and the
 * bidirectional overrides become '?', so a subject cannot move the cursor,
 * hide text or reorder what the officer reads. */
static void put_safe(const char *s, FILE *out)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		if (*p < 0x20 || *p == 0x7f) {
			fputc('?', out);
			p++;
		} else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			fputc('?', out);
			p += 2;
		} else if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae) {
			fputc('?', out);
			p += 3;
		} else if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9) {
			fputc('?', out);
			p += 3;
		} else {
			fputc(*p++, out);
		}
	}
}

/* put_safe, padded with spaces to width bytes (the fields padded are ASCII). */
static void put_column(const char *s, int width, FILE *out)
{
	put_safe(s, out);
	for (int n = (int)strlen(s); n < width; n++)
		fputc(' ', out);
	fputs("  ", out);
}

static const char *field(const json_t *rec, const char *key)
{
	const char *s = json_string_value(json_object_get(rec, key));

	return s ? s : "-";
}

static int show_one(const json_t *rec, const char *line, void *userdata)
{
	const struct show_options *o = userdata;
	json_t *detail;

	if (o->json) {
		put_safe(line, stdout);
		fputc('\n', stdout);
		return 0;
	}
	if (!rec) {
		fputs("      ?  (not a record) ", stdout);
		put_safe(line, stdout);
		fputc('\n', stdout);
		return 0;
	}
	printf("%7lld  %s  ", (long long)json_integer_value(json_object_get(rec, "seq")),
	       field(rec, "time"));
	put_column(field(rec, "component"), 6, stdout);
	put_column(field(rec, "event"), 18, stdout);
	put_column(field(rec, "decision"), 8, stdout);
	if (json_object_get(rec, "rule")) {
		fputs("rule=", stdout);
		put_safe(field(rec, "rule"), stdout);
		fputs("  ", stdout);
	}
	put_safe(field(rec, "subject"), stdout);
	detail = json_object_get(rec, "detail");
	if (detail) {
		_cleanup_free_ char *text = json_dumps(detail, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (text) {
			fputs("  ", stdout);
			put_safe(text, stdout);
		}
	}
	fputc('\n', stdout);
	return 0;
}

static int audit_show(struct mg_cli *cli, const char *dir, int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct show_options o = {.count = 20};
	char *end;
	int c, r;

	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o.json = true;
			break;
		case 'n':
			errno = 0;
			o.count = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || optarg[0] == '-' || o.count > SHOW_MAX)
				return mg_cli_fail(cli, MG_EXIT_USAGE, "-n: \"%s\" is not a count of at "
				                   "most %d (0 for all)", optarg, SHOW_MAX);
			break;
		default:
			return mg_cli_usage(cli, "audit", usage);
		}
	}
	if (optind != argc)
		return mg_cli_usage(cli, "audit", usage);
	if (!o.json)
		printf("%7s  %-20s  %-6s  %-18s  %-8s  %s\n", "SEQ", "TIME (UTC)", "WHO", "EVENT",
		       "DECISION", "RULE, SUBJECT, DETAIL");
	r = mg_journal_read(dir, o.count, show_one, &o);
	if (r < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	return MG_EXIT_OK;
}

/* "SEQ:HASH" as verify prints it. */
static int parse_anchor(const char *arg, uint64_t *seq, const char **hash)
{
	char *end;

	errno = 0;
	*seq = strtoull(arg, &end, 10);
	if (errno || end == arg || *end != ':' || arg[0] == '-')
		return mg_fail(EINVAL, "--anchor: \"%s\" is not SEQ:HASH", arg);
	*hash = end + 1;
	return 0;
}

static int check_anchors(struct mg_cli *cli, const char *dir, char **anchors, int n)
{
	for (int i = 0; i < n; i++) {
		const char *hash = NULL;
		uint64_t seq = 0;
		int r = parse_anchor(anchors[i], &seq, &hash);

		if (r == 0)
			r = mg_journal_check_anchor(dir, seq, hash);
		if (r == -EINVAL)
			return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
		if (r < 0)
			return mg_cli_fail(cli, MG_EXIT_NO, "audit journal BROKEN: %s", mg_error());
	}
	return MG_EXIT_OK;
}

static int audit_verify(struct mg_cli *cli, const char *dir, int argc, char **argv)
{
	static const struct option opts[] = {
		{"anchor", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	_cleanup_free_ char **anchors = calloc((size_t)argc, sizeof(*anchors));
	struct mg_journal_report rep;
	int c, n = 0, r;

	if (!anchors)
		return mg_cli_fail(cli, MG_EXIT_USAGE, "out of memory");
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c != 'a')
			return mg_cli_usage(cli, "audit", usage);
		anchors[n++] = optarg;
	}
	if (optind != argc)
		return mg_cli_usage(cli, "audit", usage);
	r = mg_journal_verify(dir, &rep);
	if (r == -EBADMSG)
		return mg_cli_fail(cli, MG_EXIT_NO, "audit journal BROKEN: %s (%llu record%s before it "
		                   "verified)", mg_error(), (unsigned long long)rep.records,
		                   rep.records == 1 ? "" : "s");
	if (r < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	r = check_anchors(cli, dir, anchors, n);
	if (r != MG_EXIT_OK)
		return r;
	if (rep.records == 0) {
		printf("audit journal intact: no records yet (%s)\n", dir);
	} else {
		printf("audit journal intact: %llu records (seq 1..%llu) in %llu file%s, chain and "
		       "audit.head agree (%s)\n", (unsigned long long)rep.records,
		       (unsigned long long)rep.last_seq, (unsigned long long)rep.files,
		       rep.files == 1 ? "" : "s", dir);
		printf("anchor: %llu:%s\n", (unsigned long long)rep.last_seq, rep.last_hash);
	}
	if (rep.incidents > 0)
		printf("note: %llu record%s say%s the journal was repaired or lost records; "
		       "see 'audit show --json -n 0 | grep journal\\.'\n",
		       (unsigned long long)rep.incidents, rep.incidents == 1 ? "" : "s",
		       rep.incidents == 1 ? "s" : "");
	for (int i = 0; i < n; i++)
		printf("anchor %s: still in the journal, unchanged\n", anchors[i]);
	return MG_EXIT_OK;
}

static int audit_message_id(struct mg_cli *cli, int argc, char **argv)
{
	char id[MG_JOURNAL_MESSAGE_ID_LEN];

	if (argc < 2)
		return mg_cli_usage(cli, "audit", usage);
	for (int i = 1; i < argc; i++) {
		mg_journal_message_id(argv[i], id);
		printf("%s  %s\n", id, argv[i]);
	}
	return MG_EXIT_OK;
}

int ctl_audit(struct mg_cli *cli, int argc, char **argv)
{
	_cleanup_free_ char *dir = mg_path_join(cli->state_dir, "audit");

	if (!dir)
		return mg_cli_fail(cli, MG_EXIT_USAGE, "out of memory");
	if (argc < 2)
		return mg_cli_usage(cli, "audit", usage);
	if (strcmp(argv[1], "verify") == 0)
		return audit_verify(cli, dir, argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return audit_show(cli, dir, argc - 1, argv + 1);
	if (strcmp(argv[1], "message-id") == 0)
		return audit_message_id(cli, argc - 1, argv + 1);
	mg_cli_fail(cli, MG_EXIT_USAGE, "audit: unknown command '%s'", argv[1]);
	return mg_cli_usage(cli, "audit", usage);
}
