/* pam_mynaguard.so: a TOTP code as the second factor of a login.
 *
 * Thin glue over lib/otpstore (which mynaguardctl otp shares, as
 * pam_faillock shares faillock.c with its CLI).  "auth" checks the code,
 * "account" reports a lockout.  Running as root the module opens the store
 * itself; otherwise (a screen locker running as the user) it asks the
 * setuid helper mynaguard-otp-check, which checks only the calling user.
 *
 *   auth     required  pam_mynaguard.so [store=DIR] [hostkey=FILE] [statedir=DIR]
 *                      [config=FILE] [helper=FILE] [nullok] [use_first_pass]
 *                      [try_first_pass] [forward_pass] [debug]
 *   account  required  pam_mynaguard.so [same options]
 *
 * Options come only from the PAM configuration (root's); the policy (window,
 * lockout, delay) only from the signed policy in force.  No code or secret
 * is ever logged, even with debug. */
#include <errno.h>
#include <fcntl.h>
#include <libintl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <sodium.h>

#include "mynaguard/error.h"
#include "mynaguard/otpstore.h"
#include "mynaguard/util.h"
#include "otp-check.h"

#define MG_TEXTDOMAIN "mynaguard"
#define _(s) dgettext(MG_TEXTDOMAIN, s)

/* The module's arguments, after defaults. */
struct options {
	const char *store;        /* store=DIR: the OTP store */
	const char *hostkey;      /* hostkey=FILE: the key the secrets are sealed with */
	const char *statedir;     /* statedir=DIR: policy in force and audit journal */
	const char *config;       /* config=FILE: the terminal configuration (its group) */
	const char *helper;       /* helper=FILE: the setuid checker used when not root */
	bool nullok;              /* users without a token pass (PAM_IGNORE) */
	bool use_first_pass;      /* the code is PAM_AUTHTOK; never prompt */
	bool try_first_pass;      /* the code is PAM_AUTHTOK if that is 6 or 8 digits; else prompt */
	bool forward_pass;        /* prompt for password and code together; pass the
	                             password on as PAM_AUTHTOK */
	bool debug;               /* more syslog lines (never a code) */
};

/* One authentication, from the prompt to the answer. */
struct attempt {
	const char *user;         /* PAM_USER */
	const char *service;      /* PAM_SERVICE, for logs */
	char *input;              /* what was typed: wiped and freed at the end */
	bool from_item;           /* input came from PAM_AUTHTOK */
	bool audited;             /* the helper writes the audit record */
	struct mg_otp_result res; /* the verdict */
	int err;                  /* < 0: no verdict could be reached (fails closed) */
};

/* An application (or a test driver) that bound our domain keeps its
 * choice; otherwise the catalog comes from where it is installed. */
static void bind_catalog(void)
{
	const char *cur = bindtextdomain(MG_TEXTDOMAIN, NULL);

	if (!cur || strcmp(cur, "/usr/share/locale") == 0)
		bindtextdomain(MG_TEXTDOMAIN, MG_LOCALEDIR);
	bind_textdomain_codeset(MG_TEXTDOMAIN, "UTF-8");
}

static int parse_options(pam_handle_t *pamh, int argc, const char **argv, struct options *o)
{
	*o = (struct options){
		.store = MG_STATEDIR "/otp", .hostkey = MG_SYSCONFDIR "/otp.key",
		.statedir = MG_STATEDIR, .config = MG_SYSCONFDIR "/mynaguard.conf",
		.helper = MG_HELPER_PATH,
	};
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strncmp(a, "store=", 6) == 0) o->store = a + 6;
		else if (strncmp(a, "hostkey=", 8) == 0) o->hostkey = a + 8;
		else if (strncmp(a, "statedir=", 9) == 0) o->statedir = a + 9;
		else if (strncmp(a, "config=", 7) == 0) o->config = a + 7;
		else if (strncmp(a, "helper=", 7) == 0) o->helper = a + 7;
		else if (strcmp(a, "nullok") == 0) o->nullok = true;
		else if (strcmp(a, "use_first_pass") == 0) o->use_first_pass = true;
		else if (strcmp(a, "try_first_pass") == 0) o->try_first_pass = true;
		else if (strcmp(a, "forward_pass") == 0) o->forward_pass = true;
		else if (strcmp(a, "debug") == 0) o->debug = true;
		else {
			/* A typo must not silently weaken the stack. */
			pam_syslog(pamh, LOG_ERR, "unknown option '%s'", a);
			return PAM_SERVICE_ERR;
		}
	}
	return PAM_SUCCESS;
}

static int get_user(pam_handle_t *pamh, struct attempt *a)
{
	const void *service = NULL;
	int ret = pam_get_user(pamh, &a->user, NULL);

	if (ret != PAM_SUCCESS || !a->user || !*a->user) {
		pam_syslog(pamh, LOG_ERR, "cannot determine the user name");
		return ret == PAM_SUCCESS ? PAM_USER_UNKNOWN : ret;
	}
	pam_get_item(pamh, PAM_SERVICE, &service);
	a->service = service ? service : "";
	return PAM_SUCCESS;
}

static int get_input(pam_handle_t *pamh, const struct options *o, struct attempt *a)
{
	const void *item = NULL;
	char *resp = NULL;
	int ret;

	if (o->use_first_pass || o->try_first_pass) {
		pam_get_item(pamh, PAM_AUTHTOK, &item);
		/* try_first_pass after a password module: a password is not a
		 * code, and must not count as a failed one. */
		if (item && o->try_first_pass && !mg_otp_code_syntax(item, 6) &&
		    !mg_otp_code_syntax(item, 8))
			item = NULL;
		if (item) {
			a->input = strdup(item);
			a->from_item = true;
			return a->input ? PAM_SUCCESS : PAM_BUF_ERR;
		}
		if (o->use_first_pass) {
			pam_syslog(pamh, LOG_ERR, "use_first_pass: no code from an earlier module");
			return PAM_AUTH_ERR;
		}
	}
	ret = pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &resp, "%s",
	                 o->forward_pass ? _("Password & one-time password: ")
	                                 : _("One-time password: "));
	if (ret != PAM_SUCCESS)
		return ret;
	if (!resp)
		return PAM_CONV_ERR;
	if (strlen(resp) > MG_OTP_CHECK_INPUT_MAX) {
		sodium_memzero(resp, strlen(resp));
		free(resp);
		return PAM_AUTH_ERR;
	}
	a->input = resp;
	return PAM_SUCCESS;
}

/* The store is root's: as root, check in this process. */
static int check_as_root(pam_handle_t *pamh, const struct options *o, struct attempt *a)
{
	struct mg_otp_policy policy, *pol = &policy;
	struct mg_otpstore *s = NULL;
	struct mg_otp_state st;
	int ret = PAM_SUCCESS, r;

	r = mg_otp_policy_load(o->statedir, o->config, pol);
	if (r == 0 && o->debug)
		pam_syslog(pamh, LOG_DEBUG, "user %s: store %s, window %llu, max_failures %llu, "
		           "lockout %llu s", a->user, o->store, (unsigned long long)pol->window,
		           (unsigned long long)pol->max_failures, (unsigned long long)pol->lockout_seconds);
	if (r == 0)
		r = mg_otpstore_open(o->store, o->hostkey, &s);
	/* Users without a token are not asked for a code. */
	if (r == 0) {
		r = mg_otpstore_read(s, a->user, &st);
		if (r == 0 && !st.active)
			r = -ENOENT;
		mg_otp_state_wipe(&st);
		if (r == -ENOENT) {
			a->res.verdict = MG_OTP_NOT_ENROLLED;
			mg_otpstore_close(s);
			return PAM_SUCCESS;
		}
	}
	if (r == 0)
		ret = get_input(pamh, o, a);
	if (r == 0 && ret == PAM_SUCCESS)
		r = mg_otpstore_verify(s, a->user, a->input, o->forward_pass && !a->from_item, pol,
		                       mg_now(), &a->res);
	a->err = r;
	mg_otpstore_close(s);
	return ret;
}

static int helper_parse(const char *line, struct attempt *a)
{
	char verdict[16];
	unsigned long long failures;
	long long remaining;

	if (sscanf(line, MG_OTP_CHECK_FORMAT, verdict, &failures, &remaining,
	           &a->res.recovery_left, &a->res.prefix_len) != 5)
		return mg_fail(EPROTO, "helper: unexpected answer");
	a->res.failures = failures;
	a->res.lock_remaining = remaining;
	for (int v = MG_OTP_ACCEPT; v <= MG_OTP_NOT_ENROLLED; v++) {
		if (strcmp(verdict, mg_otp_verdict_event(v) + 4) == 0) {
			a->res.verdict = v;
			return a->res.prefix_len <= strlen(a->input) ? 0
			       : mg_fail(EPROTO, "helper: prefix beyond the input");
		}
	}
	return mg_fail(EPROTO, "helper: unknown verdict '%s'", verdict);
}

static void helper_exec(const struct options *o, const struct attempt *a, int sock)
{
	char *const env[] = {NULL};
	const char *argv[] = {o->helper, a->user, o->forward_pass && !a->from_item ? "--trailing" : NULL,
	                      NULL};
	int devnull = open("/dev/null", O_WRONLY);

	if (dup2(sock, 0) < 0 || dup2(sock, 1) < 0 || devnull < 0 || dup2(devnull, 2) < 0)
		_exit(MG_OTP_CHECK_ERROR);
	closefrom(3);
	execve(o->helper, (char *const *)argv, env);
	_exit(MG_OTP_CHECK_ERROR);
}

/* Not root: the setuid helper checks the calling user's code. */
static int helper_talk(const struct options *o, struct attempt *a)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL}, old;
	char line[128];
	size_t have = 0;
	int sv[2], status = 0, r = 0;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return mg_fail_errno(errno, "helper: socketpair");
	/* The application's SIGCHLD handler must not reap our child. */
	sigaction(SIGCHLD, &dfl, &old);
	pid = fork();
	if (pid == 0)
		helper_exec(o, a, sv[1]);
	close(sv[1]);
	if (pid < 0) {
		r = mg_fail_errno(errno, "helper: fork");
		goto out;
	}
	if (send(sv[0], a->input, strlen(a->input), MSG_NOSIGNAL) < 0 || shutdown(sv[0], SHUT_WR) < 0)
		r = mg_fail_errno(errno, "helper %s: send", o->helper);
	while (r == 0 && have < sizeof(line) - 1) {
		ssize_t n = read(sv[0], line + have, sizeof(line) - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	line[have] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) == MG_OTP_CHECK_ERROR))
		r = mg_fail(EIO, "helper %s: failed (%s)", o->helper, have ? line : "no answer");
	if (r == 0)
		r = helper_parse(line, a);
	/* Both must say yes: the line and the exit status. */
	if (r == 0 && (a->res.verdict == MG_OTP_ACCEPT || a->res.verdict == MG_OTP_ACCEPT_RECOVERY) !=
	              (WEXITSTATUS(status) == MG_OTP_CHECK_ACCEPT))
		r = mg_fail(EPROTO, "helper %s: answer and exit status disagree", o->helper);
out:
	sigaction(SIGCHLD, &old, NULL);
	close(sv[0]);
	return r;
}

static int check_with_helper(pam_handle_t *pamh, const struct options *o, struct attempt *a)
{
	int ret = get_input(pamh, o, a);

	if (ret != PAM_SUCCESS)
		return ret;
	if (o->debug)
		pam_syslog(pamh, LOG_DEBUG, "user %s: not root, asking %s", a->user, o->helper);
	a->err = helper_talk(o, a);
	/* The helper writes the audit record; without root the module cannot. */
	a->audited = true;
	return PAM_SUCCESS;
}

static void tell_locked(pam_handle_t *pamh, int64_t remaining)
{
	long minutes = (long)((remaining + 59) / 60);

	if (remaining < 0)
		pam_error(pamh, "%s", _("Too many failed one-time passwords: this account is locked "
		                        "until an administrator unlocks it."));
	else
		pam_error(pamh, dngettext(MG_TEXTDOMAIN,
		                          "Too many failed one-time passwords: this account is locked "
		                          "for %ld more minute.",
		                          "Too many failed one-time passwords: this account is locked "
		                          "for %ld more minutes.", (unsigned long)minutes), minutes);
}

static void tell_user(pam_handle_t *pamh, const struct attempt *a)
{
	switch (a->res.verdict) {
	case MG_OTP_LOCKED:
		tell_locked(pamh, a->res.lock_remaining);
		break;
	case MG_OTP_REPLAY:
		pam_error(pamh, "%s", _("This one-time password has already been used; "
		                        "wait for the next one."));
		break;
	case MG_OTP_NOT_ENROLLED:
		pam_error(pamh, "%s", _("No one-time password token is enrolled for this account."));
		break;
	case MG_OTP_ACCEPT_RECOVERY:
		pam_info(pamh, dngettext(MG_TEXTDOMAIN,
		                         "Recovery code accepted; %zu code is left. Ask your "
		                         "administrator for a new token.",
		                         "Recovery code accepted; %zu codes are left. Ask your "
		                         "administrator for a new token.",
		                         (unsigned long)a->res.recovery_left), a->res.recovery_left);
		break;
	case MG_OTP_ACCEPT:
	case MG_OTP_REJECT:
		break;
	}
}

/* forward_pass: the part before the code is the password of the next
 * module (pam_unix.so use_first_pass). */
static void forward_password(pam_handle_t *pamh, const struct attempt *a)
{
	char *password = strndup(a->input, a->res.prefix_len);

	if (!password)
		return;
	pam_set_item(pamh, PAM_AUTHTOK, password);
	sodium_memzero(password, a->res.prefix_len);
	free(password);
}

/* Logs, audits, delays and answers.  Everything is said about the user
 * and the outcome, never about the code. */
static int conclude(pam_handle_t *pamh, const struct options *o, struct attempt *a,
                    bool silent, unsigned delay)
{
	bool accepted = a->res.verdict == MG_OTP_ACCEPT || a->res.verdict == MG_OTP_ACCEPT_RECOVERY;

	if (a->err < 0) {
		pam_syslog(pamh, LOG_ERR, "user %s: denied, the code could not be checked: %s",
		           a->user, mg_error());
		if (!a->audited)
			mg_otp_audit(o->statedir, a->user, a->service, &a->res, a->err);
		if (!silent)
			pam_error(pamh, "%s", _("The one-time password cannot be checked now; "
			                        "contact your administrator."));
		return PAM_AUTH_ERR;
	}
	if (a->res.verdict == MG_OTP_NOT_ENROLLED && o->nullok) {
		if (o->debug)
			pam_syslog(pamh, LOG_DEBUG, "user %s: no token, nullok", a->user);
		return PAM_IGNORE;
	}
	pam_syslog(pamh, accepted ? LOG_INFO : LOG_NOTICE, "user %s: %s (service %s, failures %llu)",
	           a->user, mg_otp_verdict_event(a->res.verdict), a->service,
	           (unsigned long long)a->res.failures);
	if (!a->audited && mg_otp_audit(o->statedir, a->user, a->service, &a->res, 0) < 0)
		pam_syslog(pamh, LOG_ALERT, "audit: %s", mg_error());
	if (!silent)
		tell_user(pamh, a);
	if (a->input && o->forward_pass && !a->from_item && a->res.prefix_len > 0)
		forward_password(pamh, a);
	if (accepted)
		return PAM_SUCCESS;
	if (delay)
		pam_fail_delay(pamh, delay * 1000000u);
	return PAM_AUTH_ERR;
}

static void attempt_wipe(struct attempt *a)
{
	if (a->input) {
		sodium_memzero(a->input, strlen(a->input));
		free(a->input);
	}
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct options o;
	struct attempt a = {0};
	int ret;

	bind_catalog();
	ret = parse_options(pamh, argc, argv, &o);
	if (ret == PAM_SUCCESS)
		ret = get_user(pamh, &a);
	if (ret == PAM_SUCCESS)
		ret = geteuid() == 0 ? check_as_root(pamh, &o, &a)
		                     : check_with_helper(pamh, &o, &a);
	if (ret == PAM_SUCCESS)
		ret = conclude(pamh, &o, &a, flags & PAM_SILENT, geteuid() == 0 ? a.res.delay : 0);
	attempt_wipe(&a);
	return ret;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return PAM_SUCCESS;
}

/* A locked account stays locked for every way in, even one that did not
 * ask for a code (say a key-based ssh login with an account stack). */
static int lockout_remaining(const struct options *o, const char *user, int64_t *remaining)
{
	struct mg_otp_policy pol;
	struct mg_otpstore *s = NULL;
	struct mg_otp_state st;
	int r;

	*remaining = 0;
	r = mg_otp_policy_load(o->statedir, o->config, &pol);
	if (r == 0)
		r = mg_otpstore_open(o->store, o->hostkey, &s);
	if (r == 0)
		r = mg_otpstore_read(s, user, &st);
	if (r == 0)
		*remaining = mg_otp_state_lock_remaining(&st, &pol, mg_now());
	mg_otp_state_wipe(&st);
	mg_otpstore_close(s);
	return r == -ENOENT ? 0 : r;
}

PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct options o;
	struct attempt a = {0};
	int64_t remaining = 0;
	int ret, r;

	bind_catalog();
	ret = parse_options(pamh, argc, argv, &o);
	if (ret == PAM_SUCCESS)
		ret = get_user(pamh, &a);
	if (ret != PAM_SUCCESS)
		return ret;
	/* Without root the store is out of reach; the helper enforces lockouts at auth. */
	if (geteuid() != 0)
		return PAM_IGNORE;
	r = lockout_remaining(&o, a.user, &remaining);
	if (r < 0) {
		pam_syslog(pamh, LOG_ERR, "user %s: denied, lockout state unreadable: %s", a.user,
		           mg_error());
		return PAM_PERM_DENIED;
	}
	if (remaining == 0)
		return PAM_SUCCESS;
	pam_syslog(pamh, LOG_NOTICE, "user %s: account locked (remaining %lld s, -1: until unlocked)",
	           a.user, (long long)remaining);
	if (!(flags & PAM_SILENT))
		tell_locked(pamh, remaining);
	return PAM_PERM_DENIED;
}
