/* Drives real PAM stacks for the OTP tests, through Linux-PAM's
 * pam_start_confdir with a private configuration directory (no pam_wrapper
 * needed, so any number of logins can run at once).
 *
 *   otp_pam_login once CONFDIR SERVICE USER INPUT
 *       one login; prints every message the stack sends ("prompt: ...",
 *       "error: ...", "info: ...") and "result: ...".  Exit 0 on success.
 *       INPUT answers every prompt; with newlines in it, one line per
 *       prompt (the last line repeated).
 *   otp_pam_login parallel CONFDIR SERVICE USER:INPUT...
 *       one process per argument, released together; prints
 *       "accepted N rejected M".  Exit 0.
 *   otp_pam_login race CONFDIR SERVICE USER BASE32 TRIALS MIN MAX T0
 *       TRIALS trials; trial i runs MIN + i % (MAX - MIN + 1) logins at once
 *       with the same valid code at MYNAGUARD_FAKE_TIME = T0 + 30 i; prints
 *       "trials T logins L double_accepts D no_accepts Z".  Exit 0 iff every
 *       trial had exactly one success.
 *
 * The locale comes from the environment (setlocale), and MG_LOCALEDIR, if
 * set, is where the "mynaguard" catalog is bound.  Failure delays asked by
 * modules are reported ("delay: N us"), not served. */
#include <libintl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <liboath/oath.h>
#include <security/pam_appl.h>

#include "mynaguard/otp.h"

static bool quiet;

/* The answers to give: INPUT split at newlines, one per prompt, the last
 * one repeated. */
struct answers {
	const char *next;         /* the answer for the next prompt */
};

static char *answer(struct answers *a)
{
	const char *nl = strchr(a->next, '\n');
	char *r;

	if (!nl)
		return strdup(a->next);
	r = strndup(a->next, (size_t)(nl - a->next));
	a->next = nl + 1;
	return r;
}

static int converse(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		const char *kind = msg[i]->msg_style == PAM_ERROR_MSG ? "error"
		                 : msg[i]->msg_style == PAM_TEXT_INFO ? "info" : "prompt";
		if (!quiet)
			printf("%s: %s\n", kind, msg[i]->msg);
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
			r[i].resp = answer(data);
	}
	*resp = r;
	return PAM_SUCCESS;
}

static void no_delay(int status, unsigned delay, void *data)
{
	if (!quiet)
		printf("delay: %u us\n", delay);
}

static int login(const char *confdir, const char *service, const char *user, const char *input)
{
	struct answers answers = {input};
	struct pam_conv conv = {converse, &answers};
	pam_handle_t *pamh = NULL;
	int r = pam_start_confdir(service, user, &conv, confdir, &pamh);

	if (r != PAM_SUCCESS) {
		fprintf(stderr, "pam_start_confdir: %s\n", pam_strerror(pamh, r));
		return 2;
	}
	pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)no_delay);
	r = pam_authenticate(pamh, 0);
	if (r == PAM_SUCCESS)
		r = pam_acct_mgmt(pamh, 0);
	if (!quiet)
		printf("result: %s\n", pam_strerror(pamh, r));
	fflush(stdout);
	pam_end(pamh, r);
	return r == PAM_SUCCESS ? 0 : 1;
}

/* Forks one login per (user, input) pair, all blocked on one pipe until
 * every child is ready; returns how many succeeded. */
static int run_together(const char *confdir, const char *service, size_t n,
                        char *const users[], char *const inputs[])
{
	int gate[2], accepted = 0;
	pid_t *pids = calloc(n, sizeof(*pids));

	if (!pids || pipe(gate) < 0)
		exit(2);
	for (size_t i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			char c;
			close(gate[1]);
			/* EOF on the gate releases everyone at once. */
			(void)!read(gate[0], &c, 1);
			_exit(login(confdir, service, users[i], inputs[i]));
		}
	}
	close(gate[0]);
	close(gate[1]);
	for (size_t i = 0; i < n; i++) {
		int status;
		waitpid(pids[i], &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			accepted++;
		else if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
			fprintf(stderr, "login %zu: crashed or could not start\n", i);
	}
	free(pids);
	return accepted;
}

static int parallel(const char *confdir, const char *service, int argc, char **argv)
{
	char **users = calloc((size_t)argc, sizeof(char *)), **inputs = calloc((size_t)argc, sizeof(char *));
	int accepted;

	for (int i = 0; i < argc; i++) {
		char *colon = strchr(argv[i], ':');
		if (!colon)
			return 2;
		*colon = '\0';
		users[i] = argv[i];
		inputs[i] = colon + 1;
	}
	quiet = true;
	accepted = run_together(confdir, service, (size_t)argc, users, inputs);
	printf("accepted %d rejected %d\n", accepted, argc - accepted);
	free(users);
	free(inputs);
	return 0;
}

static int race(const char *confdir, const char *service, char *user, const char *b32,
                long trials, long min, long max, long long t0)
{
	char *seed = NULL, code[MG_OTP_CODE_MAX + 1];
	char *users[64], *inputs[64];
	size_t seed_len;
	long logins = 0, doubles = 0, none = 0;

	if (max > 64 || min < 1 || min > max ||
	    oath_base32_decode(b32, strlen(b32), &seed, &seed_len) != OATH_OK)
		return 2;
	quiet = true;
	for (long i = 0; i < trials; i++) {
		long n = min + i % (max - min + 1);
		long long t = t0 + 30 * i;
		char when[32];
		int accepted;

		snprintf(when, sizeof(when), "%lld", t);
		setenv("MYNAGUARD_FAKE_TIME", when, 1);
		mg_otp_format(mg_otp_hotp(MG_OTP_SHA1, (uint8_t *)seed, seed_len, mg_otp_step(t, 30), 6),
		              6, code);
		for (long j = 0; j < n; j++) {
			users[j] = user;
			inputs[j] = code;
		}
		accepted = run_together(confdir, service, (size_t)n, users, inputs);
		logins += n;
		doubles += accepted > 1;
		none += accepted == 0;
		if (accepted != 1)
			fprintf(stderr, "trial %ld: %d of %ld logins accepted\n", i, accepted, n);
	}
	free(seed);
	printf("trials %ld logins %ld double_accepts %ld no_accepts %ld\n", trials, logins, doubles, none);
	return doubles || none ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *localedir = getenv("MG_LOCALEDIR");

	setlocale(LC_ALL, "");
	if (localedir)
		bindtextdomain("mynaguard", localedir);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 6 && strcmp(argv[1], "once") == 0)
		return login(argv[2], argv[3], argv[4], argv[5]);
	if (argc >= 5 && strcmp(argv[1], "parallel") == 0)
		return parallel(argv[2], argv[3], argc - 4, argv + 4);
	if (argc == 10 && strcmp(argv[1], "race") == 0)
		return race(argv[2], argv[3], argv[4], argv[5], atol(argv[6]), atol(argv[7]),
		            atol(argv[8]), atoll(argv[9]));
	fprintf(stderr, "usage: otp_pam_login once CONFDIR SERVICE USER INPUT\n"
	                "       otp_pam_login parallel CONFDIR SERVICE USER:INPUT...\n"
	                "       otp_pam_login race CONFDIR SERVICE USER BASE32 TRIALS MIN MAX T0\n");
	return 2;
}
