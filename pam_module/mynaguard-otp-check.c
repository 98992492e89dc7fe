/* mynaguard-otp-check: checks the calling user's one-time password for a
 * pam_mynaguard.so that does not run as root (a screen locker).  Installed
 * setuid root; the unix_chkpwd pattern.  The protocol is in otp-check.h.
 *
 * It trusts nothing from its caller but the code: the user is the real uid's,
 * the environment is dropped, and the paths come from its own
 * configuration, "<this program>.conf" (lines "store = DIR",
 * "hostkey = FILE", "statedir = DIR", "config = FILE"), read only when that
 * file and its directory are root's and closed to writes by others; with no
 * such file, the built-in paths.  The same lock, replay floor, counters and
 * lockout apply as for a login, and the failure delay is served here. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <sodium.h>

#include "mynaguard/error.h"
#include "mynaguard/otpstore.h"
#include "mynaguard/util.h"
#include "otp-check.h"

extern char **environ;

/* The configuration beside the program, if there is one.  It must be
 * root's, as must its directory, and neither writable by others: a user
 * who could plant it could point the helper at a store of their own. */
static int paths_load(struct mg_otp_paths *p)
{
	char exe[PATH_MAX], conf[PATH_MAX + 8], buf[MG_OTP_PATHS_FILE_MAX + 1];
	_cleanup_close_ int fd = -1;
	struct stat st, dir;
	ssize_t n;

	mg_otp_paths_defaults(p);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return mg_fail_errno(errno, "/proc/self/exe");
	exe[n] = '\0';
	snprintf(conf, sizeof(conf), "%s.conf", exe);
	fd = open(conf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : mg_fail_errno(errno, "%s", conf);
	*strrchr(exe, '/') = '\0';
	if (fstat(fd, &st) < 0 || stat(exe, &dir) < 0)
		return mg_fail_errno(errno, "%s", conf);
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) || dir.st_uid != 0 ||
	    (dir.st_mode & 022))
		return mg_fail(EPERM, "%s: it or its directory is not root's or is writable by others",
		               conf);
	n = read(fd, buf, sizeof(buf));
	if (n < 0)
		return mg_fail_errno(errno, "%s", conf);
	return mg_otp_paths_parse(buf, (size_t)n, conf, p);
}

/* Limits are inherited from the caller.  A user who set RLIMIT_FSIZE to a
 * few bytes would make every write of the state file fail, so failures
 * would never be counted and the throttling could be skipped; the helper
 * writes root's files under root's limits.  Where even root may not raise
 * a hard limit (no CAP_SYS_RESOURCE in a container), it checks nothing:
 * no verdict, so nothing to learn.  SIGXFSZ is ignored so that a write
 * over the limit fails with EFBIG instead of killing the helper mid-way. */
static int limits_reset(void)
{
	static const struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};

	signal(SIGXFSZ, SIG_IGN);
	if (setrlimit(RLIMIT_FSIZE, &unlimited) < 0)
		return mg_fail_errno(errno, "cannot lift the caller's file-size limit");
	return 0;
}

/* The code: stdin up to EOF, at most MG_OTP_CHECK_INPUT_MAX bytes. */
static int read_input(char buf[MG_OTP_CHECK_INPUT_MAX + 1])
{
	size_t have = 0;

	for (;;) {
		ssize_t n = read(0, buf + have, MG_OTP_CHECK_INPUT_MAX + 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mg_fail_errno(errno, "stdin");
		if (n == 0)
			break;
		have += (size_t)n;
		if (have > MG_OTP_CHECK_INPUT_MAX)
			return mg_fail(EFBIG, "stdin: longer than %d bytes", MG_OTP_CHECK_INPUT_MAX);
	}
	buf[have] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int check(const struct mg_otp_paths *p, const char *user, const char *input, bool trailing,
                 struct mg_otp_result *res)
{
	struct mg_otp_policy pol;
	struct mg_otpstore *s = NULL;
	int r;

	r = mg_otp_policy_load(p->statedir, p->config, &pol);
	if (r == 0)
		r = mg_otpstore_open(p->store, p->hostkey, &s);
	if (r == 0)
		r = mg_otpstore_verify(s, user, input, trailing, &pol, mg_now(), res);
	mg_otpstore_close(s);
	return r;
}

int main(int argc, char **argv)
{
	static char *empty[] = {NULL};
	char input[MG_OTP_CHECK_INPUT_MAX + 1];
	struct mg_otp_result res = {0};
	struct mg_otp_paths p = {0};
	struct passwd *pw;
	char user[MG_OTP_USER_MAX + 1];
	bool trailing, trusted_paths;
	int r;

	environ = empty;
	openlog("mynaguard-otp-check", LOG_PID, LOG_AUTHPRIV);
	pw = getpwuid(getuid());
	if (!pw || snprintf(user, sizeof(user), "%s", pw->pw_name) >= (int)sizeof(user)) {
		syslog(LOG_ERR, "uid %u: no usable user name", (unsigned)getuid());
		return MG_OTP_CHECK_ERROR;
	}
	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--trailing") != 0)) {
		fprintf(stderr, "usage: mynaguard-otp-check USER [--trailing] < CODE\n");
		return MG_OTP_CHECK_ERROR;
	}
	/* Only the caller's own code: the helper must not probe other users. */
	if (strcmp(argv[1], user) != 0) {
		syslog(LOG_ALERT, "uid %u (%s) asked to check the code of '%.64s': refused",
		       (unsigned)getuid(), user, argv[1]);
		fprintf(stderr, "mynaguard-otp-check: only the calling user's code is checked\n");
		return MG_OTP_CHECK_ERROR;
	}
	trailing = argc == 3;
	r = sodium_init() < 0 ? mg_fail(EIO, "sodium_init failed") : 0;
	if (r == 0 && geteuid() != 0)
		r = mg_fail(EPERM, "not running as root (the helper must be setuid root)");
	if (r == 0)
		r = limits_reset();
	if (r == 0)
		r = paths_load(&p);
	/* Only paths from a trusted configuration receive an audit record. */
	trusted_paths = r == 0;
	if (r == 0)
		r = read_input(input);
	if (r == 0)
		r = check(&p, user, input, trailing, &res);
	sodium_memzero(input, sizeof(input));
	if (r < 0) {
		syslog(LOG_ERR, "user %s: denied, the code could not be checked: %s", user, mg_error());
		fprintf(stderr, "mynaguard-otp-check: %s\n", mg_error());
		if (trusted_paths)
			mg_otp_audit(p.statedir, user, "mynaguard-otp-check", &res, r);
		return MG_OTP_CHECK_ERROR;
	}
	syslog(res.verdict == MG_OTP_ACCEPT ? LOG_INFO : LOG_NOTICE, "user %s: %s (failures %llu)",
	       user, mg_otp_verdict_event(res.verdict), (unsigned long long)res.failures);
	if (mg_otp_audit(p.statedir, user, "mynaguard-otp-check", &res, 0) < 0)
		syslog(LOG_ALERT, "audit: %s", mg_error());
	/* The delay is served before the answer, so a caller cannot skip it. */
	if (res.delay)
		sleep(res.delay);
	printf("%s %llu %lld %zu %zu\n", mg_otp_verdict_event(res.verdict) + 4,
	       (unsigned long long)res.failures, (long long)res.lock_remaining, res.recovery_left,
	       res.prefix_len);
	return res.verdict == MG_OTP_ACCEPT || res.verdict == MG_OTP_ACCEPT_RECOVERY
	       ? MG_OTP_CHECK_ACCEPT : MG_OTP_CHECK_REFUSED;
}
