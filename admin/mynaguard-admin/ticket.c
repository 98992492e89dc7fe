/* mynaguard-admin ticket --key K.key [--passphrase-file F] --host HOST
 *                       (--serial S | --hash H) --mode allow|read-only
 *                       (--expires TIME | --hours N) [--no-qr]
 * Issues a temporary exception for one device on one terminal, signed with
 * a policy key, and prints it as grouped base32 to read over the phone and
 * as a QR code.  Exit 0 issued, 2 usage or a key that does not open. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mynaguard/error.h"
#include "mynaguard/key.h"
#include "mynaguard/ticket.h"
#include "mynaguard/util.h"
#include "verbs.h"

/* A ticket is a stopgap until the device is registered in the policy. */
#define TICKET_MAX_HOURS 744

static const char usage[] =
	"ticket --key K.key [--passphrase-file F] --host HOST (--serial S | --hash H)\n"
	"       --mode allow|read-only (--expires 2027-01-31T09:00:00Z | --hours N) [--no-qr]";

struct ticket_args {
	const char *key, *passphrase_file, *host, *serial, *hash, *expires;
	long hours;
	bool no_qr;
	struct mg_ticket t;
};

static int parse_hours(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	if (errno || !*s || *end || *out < 1 || *out > TICKET_MAX_HOURS)
		return mg_fail(EINVAL, "--hours: expected 1 to %d", TICKET_MAX_HOURS);
	return 0;
}

static int parse_options(int argc, char **argv, struct ticket_args *a)
{
	static const struct option opts[] = {
		{"key", required_argument, NULL, 'k'},
		{"passphrase-file", required_argument, NULL, 'p'},
		{"host", required_argument, NULL, 'H'},
		{"serial", required_argument, NULL, 's'},
		{"hash", required_argument, NULL, 'h'},
		{"mode", required_argument, NULL, 'm'},
		{"expires", required_argument, NULL, 'e'},
		{"hours", required_argument, NULL, 'n'},
		{"no-qr", no_argument, NULL, 'q'},
		{0},
	};
	int c, r = 0;

	a->t.mode = MG_TARGET_BLOCK;
	while (r == 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k': a->key = optarg; break;
		case 'p': a->passphrase_file = optarg; break;
		case 'H': a->host = optarg; break;
		case 's': a->serial = optarg; break;
		case 'h': a->hash = optarg; break;
		case 'e': a->expires = optarg; break;
		case 'n': r = parse_hours(optarg, &a->hours); break;
		case 'q': a->no_qr = true; break;
		case 'm':
			if (mg_target_parse(optarg, &a->t.mode) < 0 || a->t.mode == MG_TARGET_BLOCK)
				r = mg_fail(EINVAL, "--mode: expected allow or read-only");
			break;
		default: return mg_fail(EINVAL, "unknown option");
		}
	}
	if (r < 0)
		return r;
	if (optind != argc || !a->key || !a->host || !a->host[0] || !a->serial == !a->hash ||
	    a->t.mode == MG_TARGET_BLOCK || !a->expires == !a->hours)
		return mg_fail(EINVAL, "ticket: --key, --host, one of --serial and --hash, --mode and one of "
		               "--expires and --hours are required");
	return 0;
}

/* Fills the device binding and expiry of the ticket from the options. */
static int fill_ticket(struct ticket_args *a)
{
	uint8_t hash[MG_USB_HASH_BYTES];
	int64_t now = mg_now();

	if (a->serial) {
		if (!a->serial[0] || strlen(a->serial) > MG_TICKET_SERIAL_MAX)
			return mg_fail(EINVAL, "--serial: expected 1 to %d bytes", MG_TICKET_SERIAL_MAX);
		a->t.bind = MG_TICKET_BIND_SERIAL;
		snprintf(a->t.serial, sizeof(a->t.serial), "%s", a->serial);
	} else {
		if (mg_usb_hash_parse(a->hash, hash) < 0)
			return mg_fail(EINVAL, "--hash: expected the %d hex digits `mynaguardctl devices` shows",
			               2 * MG_USB_HASH_BYTES);
		a->t.bind = MG_TICKET_BIND_HASH;
		memcpy(a->t.hash, hash, MG_TICKET_HASH_BYTES);
	}
	if (a->hours)
		a->t.expires = now + a->hours * 3600;
	else if (mg_time_parse(a->expires, &a->t.expires) < 0)
		return mg_fail(EINVAL, "--expires: expected a UTC time like 2027-01-31T09:00:00Z");
	if (a->t.expires <= now || a->t.expires > now + TICKET_MAX_HOURS * 3600LL)
		return mg_fail(EINVAL, "--expires: must be in the next %d hours", TICKET_MAX_HOURS);
	mg_ticket_host_tag(a->host, a->t.host);
	return 0;
}

static void print_ticket(const struct ticket_args *a, const char *text, const char *qr)
{
	char when[MG_TIME_LEN], key[MG_KEY_ID_HEX];

	mg_time_format(a->t.expires, when);
	mg_key_id_hex(a->t.key_id, key);
	printf("ticket %s: %s for %s %s on host %s until %s (key %s)\n", a->t.id, mg_target_name(a->t.mode),
	       a->serial ? "serial" : "hash", a->serial ? a->serial : a->hash, a->host, when, key);
	printf("%s\n", text);
	if (qr)
		fputs(qr, stdout);
}

int admin_ticket(struct mg_cli *cli, int argc, char **argv)
{
	struct ticket_args a = {0};
	struct mg_secret_key sk;
	_cleanup_free_ char *text = NULL, *qr = NULL;
	int r;

	if (parse_options(argc, argv, &a) < 0) {
		mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
		return mg_cli_usage(cli, "ticket", usage);
	}
	if (fill_ticket(&a) < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	if (mg_key_open_secret(a.key, a.passphrase_file, &sk) < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	r = mg_ticket_issue(&a.t, &sk, &text);
	mg_secret_key_wipe(&sk);
	if (r == 0 && !a.no_qr)
		r = mg_ticket_qr(text, &qr);
	if (r < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	print_ticket(&a, text, qr);
	return MG_EXIT_OK;
}
