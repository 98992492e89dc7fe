/* mynaguardctl otp: the administrator's side of one-time passwords.
 *
 *   otp init                 make the store and the host key
 *   otp enroll USER          new secret, URI and QR code; active after one good code
 *   otp enroll USER --secret BASE32|-   import a token's seed (no prompt)
 *   otp list | status USER   who has a token; one user's counters and lockout
 *   otp unlock USER          clear failures and the lockout
 *   otp reset USER           lost token: a new secret replaces the old at once
 *   otp resync USER          two consecutive codes on stdin; searches the
 *                            policy's resync_window and stores the drift
 *   otp recovery USER        new single-use recovery codes (shown once)
 *   otp remove USER          delete the user's token
 *
 * Every verb takes [--store DIR] [--hostkey FILE]; the store defaults to
 * STATE/otp, the host key to SYSCONFDIR/otp.key.  Codes and secrets are
 * read from stdin, so they stay out of ps and shell history (--secret BASE32
 * on the command line is accepted for scripts that already hold the seed).
 * Each change is an audit record (component "ctl"). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>
#include <qrencode.h>
#include <sodium.h>

#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/journal.h"
#include "mynaguard/otpstore.h"
#include "mynaguard/util.h"
#include "verbs.h"

static const char usage[] =
	"otp init [--store DIR] [--hostkey FILE]\n"
	"otp enroll USER [--secret BASE32|-] [--algorithm SHA1|SHA256|SHA512] [--digits 6|8] "
	"[--period 30|60] [--store DIR] [--hostkey FILE]\n"
	"otp list|status|unlock|reset|resync|recovery|remove [USER] [--store DIR] [--hostkey FILE]";

/* What one invocation was asked. */
struct otp_args {
	const char *action;       /* "enroll", "list", ... */
	const char *user;         /* USER, or NULL for init and list */
	char *store;              /* --store, or STATE/otp */
	const char *hostkey;      /* --hostkey, or SYSCONFDIR/otp.key */
	const char *secret;       /* --secret: base32, "-" for stdin, or NULL to generate */
	struct mg_otp_params params; /* --algorithm, --digits, --period over the policy's */
	bool params_given;        /* any of the three was given */
	struct mg_otp_policy pol; /* the otp section of the policy in force */
};

static int parse_uint(const char *s, const char *what, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v > 1000)
		return mg_fail(EINVAL, "%s '%s': expected a number", what, s);
	*out = (unsigned)v;
	return 0;
}

static int parse_args(struct mg_cli *cli, int argc, char **argv, struct otp_args *a)
{
	static const struct option opts[] = {
		{"secret", required_argument, NULL, 's'}, {"algorithm", required_argument, NULL, 'a'},
		{"digits", required_argument, NULL, 'd'}, {"period", required_argument, NULL, 'p'},
		{"store", required_argument, NULL, 'S'}, {"hostkey", required_argument, NULL, 'k'},
		{0},
	};
	int c, r = 0;

	a->hostkey = MG_SYSCONFDIR "/otp.key";
	r = mg_otp_policy_load(cli->state_dir, cli->config_path, &a->pol);
	if (r < 0)
		return r;
	a->params = a->pol.enroll;
	while (r == 0 && (c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 's': a->secret = optarg; break;
		case 'a': r = mg_otp_algorithm_parse(optarg, &a->params.algorithm); a->params_given = true; break;
		case 'd': r = parse_uint(optarg, "--digits", &a->params.digits); a->params_given = true; break;
		case 'p': r = parse_uint(optarg, "--period", &a->params.period); a->params_given = true; break;
		case 'S': free(a->store); a->store = strdup(optarg); break;
		case 'k': a->hostkey = optarg; break;
		default: return mg_fail(EINVAL, "otp: unknown option (see usage)");
		}
	}
	if (r < 0)
		return r;
	if (!a->store && !(a->store = mg_path_join(cli->state_dir, "otp")))
		return mg_fail(ENOMEM, "out of memory");
	return mg_otp_params_check(&a->params, "--algorithm/--digits/--period");
}

/* Reads one line from stdin without its newline. */
static int read_line(const char *prompt, char *buf, size_t size)
{
	if (prompt) {
		fputs(prompt, stderr);
		fflush(stderr);
	}
	if (!fgets(buf, (int)size, stdin))
		return mg_fail(EINVAL, "stdin: no input");
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

static void audit(const struct mg_cli *cli, const char *event, const char *user)
{
	_cleanup_free_ char *dir = mg_path_join(cli->state_dir, "audit");
	struct mg_audit rec = {.event = event, .decision = "applied", .subject = user};

	if (!dir || mg_audit(dir, "ctl", &rec) < 0)
		fprintf(stderr, "%s: audit: %s\n", cli->prog, mg_error());
}

/* RFC 3986 percent-encoding of everything but the unreserved characters. */
static void uri_put(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    strchr("-._~", c))
			fputc(c, f);
		else
			fprintf(f, "%%%02X", c);
	}
}

static int secret_base32(const struct mg_otp_state *st, char **b32)
{
	size_t len;

	if (oath_base32_encode((const char *)st->secret, st->secret_len, b32, &len) != OATH_OK)
		return mg_fail(ENOMEM, "base32 encoding failed");
	(*b32)[strcspn(*b32, "=")] = '\0';    /* authenticator apps want no padding */
	return 0;
}

/* The otpauth URI in memory (it holds the secret: the caller wipes it). */
static int make_uri(const struct otp_args *a, const struct mg_otp_state *st, char **uri, size_t *len)
{
	char *b32 = NULL;
	FILE *f;
	int r = secret_base32(st, &b32);

	if (r < 0)
		return r;
	f = open_memstream(uri, len);
	if (!f) {
		sodium_memzero(b32, strlen(b32));
		free(b32);
		return mg_fail(ENOMEM, "out of memory");
	}
	fputs("otpauth://totp/", f);
	uri_put(f, a->pol.issuer);
	fputc(':', f);
	uri_put(f, st->user);
	fprintf(f, "?secret=%s&issuer=", b32);
	uri_put(f, a->pol.issuer);
	fprintf(f, "&algorithm=%s&digits=%u&period=%u", mg_otp_algorithm_name(st->params.algorithm),
	        st->params.digits, st->params.period);
	fclose(f);
	sodium_memzero(b32, strlen(b32));
	free(b32);
	return 0;
}

/* Two modules per character with UTF-8 half blocks, light modules drawn,
 * as `qrencode -t UTF8` does, with a quiet zone of two modules. */
static int print_qr(const char *uri)
{
	QRcode *qr = QRcode_encodeString(uri, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	const int margin = 2;

	if (!qr)
		return mg_fail(EINVAL, "the URI does not fit in a QR code");
	for (int y = -margin; y < qr->width + margin; y += 2) {
		for (int x = -margin; x < qr->width + margin; x++) {
			bool top = y >= 0 && y < qr->width && x >= 0 && x < qr->width &&
			           (qr->data[y * qr->width + x] & 1);
			bool bottom = y + 1 >= 0 && y + 1 < qr->width && x >= 0 && x < qr->width &&
			              (qr->data[(y + 1) * qr->width + x] & 1);
			fputs(!top && !bottom ? "\u2588" : !top ? "\u2580" : !bottom ? "\u2584" : " ", stdout);
		}
		fputc('\n', stdout);
	}
	sodium_memzero(qr->data, (size_t)qr->width * (size_t)qr->width);
	QRcode_free(qr);
	return 0;
}

static int show_token(const struct otp_args *a, const struct mg_otp_state *st)
{
	char *uri = NULL;
	size_t len = 0;
	int r = make_uri(a, st, &uri, &len);

	if (r < 0)
		return r;
	printf("Scan this code with the authenticator app, or enter the URI:\n\n");
	r = print_qr(uri);
	printf("\n%s\n\n", uri);
	fflush(stdout);
	sodium_memzero(uri, len);
	free(uri);
	return r;
}

static int import_secret(const struct otp_args *a, struct mg_otp_state *st)
{
	char line[256];
	const char *b32 = a->secret;
	char *raw = NULL;
	size_t len = 0;
	int r = 0;

	if (strcmp(a->secret, "-") == 0) {
		r = read_line(NULL, line, sizeof(line));
		b32 = line;
	}
	if (r == 0 && oath_base32_decode(b32, strlen(b32), &raw, &len) != OATH_OK)
		r = mg_fail(EINVAL, "--secret: not base32");
	if (r == 0 && (len < MG_OTP_SECRET_MIN || len > MG_OTP_SECRET_MAX))
		r = mg_fail(EINVAL, "--secret: %zu bytes, expected %d..%d", len, MG_OTP_SECRET_MIN,
		            MG_OTP_SECRET_MAX);
	if (r == 0) {
		memcpy(st->secret, raw, len);
		st->secret_len = len;
		st->active = true;
	}
	if (raw)
		sodium_memzero(raw, len);
	free(raw);
	sodium_memzero(line, sizeof(line));
	return r;
}

/* Asks for one code of the new token, up to three times, and activates it
 * under the lock, if the token on disk is still the one shown. */
static int confirm(struct mg_otpstore *s, const struct otp_args *a, const struct mg_otp_state *made)
{
	_cleanup_close_ int lock = -1;
	struct mg_otp_state st;
	char code[64];
	int r = -EKEYREJECTED;

	for (int tries = 0; tries < 3 && r == -EKEYREJECTED; tries++) {
		struct mg_otp_state probe = *made;
		r = read_line("Type the code the app shows now: ", code, sizeof(code));
		if (r < 0)
			r = mg_fail(ECANCELED, "%s: no code typed; the token stays inactive "
			            "(run the command again)", a->user);
		if (r == 0)
			r = mg_otp_state_activate(&probe, code, a->pol.window, mg_now());
		if (r == -EKEYREJECTED)
			fprintf(stderr, "%s\n", mg_error());
		mg_otp_state_wipe(&probe);
	}
	if (r < 0)
		return r;
	lock = mg_otpstore_lock(s, a->user);
	if (lock < 0)
		return lock;
	r = mg_otpstore_read(s, a->user, &st);
	if (r == 0 && (st.secret_len != made->secret_len ||
	               sodium_memcmp(st.secret, made->secret, made->secret_len) != 0))
		r = mg_fail(EBUSY, "%s: the token was changed meanwhile; enroll again", a->user);
	if (r == 0)
		r = mg_otp_state_activate(&st, code, a->pol.window, mg_now());
	if (r == 0)
		r = mg_otpstore_write(s, &st);
	sodium_memzero(code, sizeof(code));
	mg_otp_state_wipe(&st);
	return r;
}

/* enroll and reset: a new token, written at once (inactive unless
 * imported), then confirmed with one code. */
static int enroll(struct mg_cli *cli, struct mg_otpstore *s, const struct otp_args *a, bool reset)
{
	_cleanup_close_ int lock = -1;
	struct mg_otp_state st, old;
	int r;

	lock = mg_otpstore_lock(s, a->user);
	if (lock < 0)
		return lock;
	r = mg_otpstore_read(s, a->user, &old);
	if (r == 0 && old.active && !reset)
		r = mg_fail(EEXIST, "%s already has a token; `otp reset %s` replaces it", a->user, a->user);
	else if (r == -ENOENT && reset)
		r = mg_fail(ENOENT, "%s has no token; use `otp enroll %s`", a->user, a->user);
	else if (r == -ENOENT || r == 0)
		r = mg_otp_state_generate(&st, a->user, &a->params, mg_now());
	mg_otp_state_wipe(&old);
	if (r == 0 && a->secret)
		r = import_secret(a, &st);
	if (r == 0)
		r = mg_otpstore_write(s, &st);
	close(MG_TAKE_FD(lock));       /* not held while the administrator types */
	if (r == 0 && !a->secret)
		r = show_token(a, &st);
	if (r == 0 && !a->secret)
		r = confirm(s, a, &st);
	mg_otp_state_wipe(&st);
	if (r < 0)
		return r;
	audit(cli, reset ? "otp.reset" : "otp.enroll", a->user);
	printf("%s: token active (%s, %u digits, %u s)\n", a->user,
	       mg_otp_algorithm_name(a->params.algorithm), a->params.digits, a->params.period);
	return 0;
}

static void print_status(const struct otp_args *a, const struct mg_otp_state *st)
{
	char when[MG_TIME_LEN] = "never";
	int64_t left = mg_otp_state_lock_remaining(st, &a->pol, mg_now());

	if (st->last_success)
		mg_time_format(st->last_success, when);
	printf("user: %s\ntoken: %s, %u digits, %u s, %s\nlast success: %s\nfailures: %llu\n",
	       st->user, mg_otp_algorithm_name(st->params.algorithm), st->params.digits,
	       st->params.period, st->active ? "active" : "not confirmed", when,
	       (unsigned long long)st->failures);
	if (left < 0)
		printf("locked: yes, until unlocked\n");
	else if (left > 0)
		printf("locked: yes, %lld s left\n", (long long)left);
	else
		printf("locked: no\n");
	printf("drift: %lld steps\nrecovery codes left: %zu\n", (long long)st->drift, st->nrecovery);
}

static int list(struct mg_otpstore *s, const struct otp_args *a)
{
	char **users = NULL;
	size_t n = 0;
	int r = mg_otpstore_users(s, &users, &n);

	for (size_t i = 0; r == 0 && i < n; i++) {
		struct mg_otp_state st;
		int64_t left;
		if (mg_otpstore_read(s, users[i], &st) < 0) {
			printf("%-20s unreadable: %s\n", users[i], mg_error());
			continue;
		}
		left = mg_otp_state_lock_remaining(&st, &a->pol, mg_now());
		printf("%-20s %-13s failures=%llu %s\n", st.user, st.active ? "active" : "not-confirmed",
		       (unsigned long long)st.failures, left ? "locked" : "");
		mg_otp_state_wipe(&st);
	}
	for (size_t i = 0; i < n; i++)
		free(users[i]);
	free(users);
	return r;
}

/* status, unlock, resync, recovery: read-modify-write under the lock. */
static int change(struct mg_cli *cli, struct mg_otpstore *s, const struct otp_args *a)
{
	_cleanup_close_ int lock = -1;
	char codes[MG_OTP_RECOVERY_MAX][MG_OTP_RECOVERY_LEN + 4];
	char c1[64] = "", c2[64] = "";
	struct mg_otp_state st;
	bool write = true;
	int r;

	lock = mg_otpstore_lock(s, a->user);
	if (lock < 0)
		return lock;
	r = mg_otpstore_read(s, a->user, &st);
	if (r < 0)
		return r;
	if (strcmp(a->action, "status") == 0) {
		print_status(a, &st);
		write = false;
	} else if (strcmp(a->action, "unlock") == 0) {
		st.failures = 0;
		st.locked_at = 0;
	} else if (strcmp(a->action, "resync") == 0) {
		r = read_line("First code: ", c1, sizeof(c1));
		if (r == 0) r = read_line("Next code: ", c2, sizeof(c2));
		if (r == 0) r = mg_otp_state_resync(&st, c1, c2, a->pol.resync_window, mg_now());
	} else {
		r = mg_otp_state_new_recovery(&st, a->pol.recovery_codes, codes);
	}
	if (r == 0 && write)
		r = mg_otpstore_write(s, &st);
	mg_otp_state_wipe(&st);
	sodium_memzero(c1, sizeof(c1));
	sodium_memzero(c2, sizeof(c2));
	if (r < 0 || !write)
		return r;
	audit(cli, strcmp(a->action, "recovery") == 0 ? "otp.recovery_issued"
	           : strcmp(a->action, "unlock") == 0 ? "otp.unlock" : "otp.resync", a->user);
	if (strcmp(a->action, "recovery") == 0) {
		printf("Recovery codes for %s (each works once; hand them over sealed):\n", a->user);
		for (size_t i = 0; i < a->pol.recovery_codes; i++)
			printf("  %s\n", codes[i]);
		sodium_memzero(codes, sizeof(codes));
	} else {
		printf("%s: %s done\n", a->user, a->action);
	}
	return 0;
}

static int remove_user(struct mg_cli *cli, struct mg_otpstore *s, const struct otp_args *a)
{
	_cleanup_close_ int lock = mg_otpstore_lock(s, a->user);
	int r;

	if (lock < 0)
		return lock;
	r = mg_otpstore_remove(s, a->user);
	if (r == 0) {
		audit(cli, "otp.remove", a->user);
		printf("%s: token removed\n", a->user);
	}
	return r;
}

static int init(const struct otp_args *a)
{
	bool created;
	int r = mg_otpstore_init(a->store, a->hostkey, &created);

	if (r == 0)
		printf("store %s ready; host key %s %s\n", a->store, a->hostkey,
		       created ? "created" : "already present");
	return r;
}

static int run(struct mg_cli *cli, struct mg_otpstore **s, struct otp_args *a)
{
	bool created;
	int r;

	if (strcmp(a->action, "init") == 0)
		return init(a);
	/* The first enrollment makes the store and key if needed. */
	if (strcmp(a->action, "enroll") == 0 && (r = mg_otpstore_init(a->store, a->hostkey, &created)) < 0)
		return r;
	r = mg_otpstore_open(a->store, a->hostkey, s);
	if (r < 0)
		return r;
	if (strcmp(a->action, "list") == 0)
		return list(*s, a);
	if (!a->user)
		return mg_fail(EINVAL, "otp %s: USER is required", a->action);
	r = mg_otp_user_check(a->user);
	if (r < 0)
		return r;
	if (strcmp(a->action, "enroll") == 0 || strcmp(a->action, "reset") == 0)
		return enroll(cli, *s, a, strcmp(a->action, "reset") == 0);
	if (strcmp(a->action, "remove") == 0)
		return remove_user(cli, *s, a);
	return change(cli, *s, a);
}

int ctl_otp(struct mg_cli *cli, int argc, char **argv)
{
	static const char *const actions[] = {"init", "enroll", "list", "status", "unlock", "reset",
	                                      "resync", "recovery", "remove", NULL};
	struct otp_args a = {0};
	struct mg_otpstore *s = NULL;
	bool known = false;
	int r;

	if (argc < 2)
		return mg_cli_usage(cli, "otp", usage);
	for (size_t i = 0; actions[i]; i++)
		known |= strcmp(argv[1], actions[i]) == 0;
	if (!known)
		return mg_cli_usage(cli, "otp", usage);
	a.action = argv[1];
	if (argc > 2 && argv[2][0] != '-')
		a.user = argv[2];
	r = parse_args(cli, argc - (a.user ? 2 : 1), argv + (a.user ? 2 : 1), &a);
	if (r == 0 && (a.secret || a.params_given) && strcmp(a.action, "enroll") != 0)
		r = mg_fail(EINVAL, "--secret, --algorithm, --digits and --period go with enroll");
	if (r == 0)
		r = run(cli, &s, &a);
	mg_otpstore_close(s);
	free(a.store);
	if (r == -EKEYREJECTED || r == -EEXIST || r == -ENOENT || r == -ESTALE)
		return mg_cli_fail(cli, MG_EXIT_NO, NULL);
	return r < 0 ? mg_cli_fail(cli, MG_EXIT_USAGE, NULL) : MG_EXIT_OK;
}
