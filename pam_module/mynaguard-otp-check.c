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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <sodium.h>

#include "mynaguard/error.h"
#include "mynaguard/otpstore.h"
#include "mynaguard/util.h"
#include "otp-check.h"

extern char **environ;

/* Where the helper finds things. */
struct paths {
	char store[PATH_MAX];     /* the OTP store */
	char hostkey[PATH_MAX];   /* the host key */
	char statedir[PATH_MAX];  /* policy in force and audit journal */
	char config[PATH_MAX];    /* the terminal configuration */
};

static bool trusted(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && st.st_uid == 0 && !(st.st_mode & 022);
}

static int set_path(char *dst, const char *value, const char *conf, int line)
{
	if (value[0] != '/' || strlen(value) >= PATH_MAX)
		return mg_fail(EINVAL, "%s:%d: expected an absolute path", conf, line);
	snprintf(dst, PATH_MAX, "%s", value);
	return 0;
}

static int conf_line(struct paths *p, char *s, const char *conf, int line)
{
	char key[32], value[PATH_MAX];

	s[strcspn(s, "\n")] = '\0';
	if (s[0] == '#' || s[strspn(s, " \t")] == '\0')
		return 0;
	if (sscanf(s, " %31[a-z] = %4095s", key, value) != 2)
		return mg_fail(EINVAL, "%s:%d: expected KEY = VALUE", conf, line);
	if (strcmp(key, "store") == 0) return set_path(p->store, value, conf, line);
	if (strcmp(key, "hostkey") == 0) return set_path(p->hostkey, value, conf, line);
	if (strcmp(key, "statedir") == 0) return set_path(p->statedir, value, conf, line);
	if (strcmp(key, "config") == 0) return set_path(p->config, value, conf, line);
	return mg_fail(EINVAL, "%s:%d: unknown key '%s'", conf, line, key);
}

static int paths_load(struct paths *p)
{
	char exe[PATH_MAX], conf[PATH_MAX + 8], dir[PATH_MAX];
	_cleanup_fclose_ FILE *f = NULL;
	char buf[PATH_MAX + 64];
	ssize_t n;
	int line = 0, r = 0;

	snprintf(p->store, PATH_MAX, "%s", MG_STATEDIR "/otp");
	snprintf(p->hostkey, PATH_MAX, "%s", MG_SYSCONFDIR "/otp.key");
	snprintf(p->statedir, PATH_MAX, "%s", MG_STATEDIR);
	snprintf(p->config, PATH_MAX, "%s", MG_SYSCONFDIR "/mynaguard.conf");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return mg_fail_errno(errno, "/proc/self/exe");
	exe[n] = '\0';
	snprintf(conf, sizeof(conf), "%s.conf", exe);
	snprintf(dir, sizeof(dir), "%s", exe);
	*strrchr(dir, '/') = '\0';
	f = fopen(conf, "re");
	if (!f)
		return errno == ENOENT ? 0 : mg_fail_errno(errno, "%s", conf);
	if (!trusted(conf) || !trusted(dir))
		return mg_fail(EPERM, "%s: it or its directory is not root's or is writable by others",
		               conf);
	while (r == 0 && fgets(buf, sizeof(buf), f))
		r = conf_line(p, buf, conf, ++line);
	return r;
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

static int check(const struct paths *p, const char *user, const char *input, bool trailing,
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
	struct paths p = {0};
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
