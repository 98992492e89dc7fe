/* Policy pulls.  The agent never talks to the repository itself: a timer
 * starts `mynaguardctl policy pull` as a child, which verifies and applies
 * what it fetches and then tells the agent to reload over the control
 * socket.  The schedule (first phase, interval with jitter, backoff after
 * failures) is the pull module's. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "agent.h"
#include "mynaguard/error.h"
#include "mynaguard/pull.h"
#include "mynaguard/util.h"

static int arm(struct agent *a, uint64_t seconds)
{
	struct itimerspec its = {.it_value = {.tv_sec = (time_t)(seconds ? seconds : 1)}};

	if (timerfd_settime(a->pull_timer_fd, 0, &its, NULL) < 0)
		return mg_fail_errno(errno, "timerfd_settime");
	return 0;
}

int agent_pull_init(struct agent *a)
{
	a->pull_timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (a->pull_timer_fd < 0)
		return mg_fail_errno(errno, "timerfd_create");
	a->last_pull_status = -1;
	/* Without a repository there is nothing to poll: policy arrives on
	 * approved media through `mynaguardctl policy apply`. */
	if (!a->config.repository)
		return 0;
	return arm(a, mg_pull_first_delay(a->policy.policy->fetch.interval, randombytes_random()));
}

static void start_child(struct agent *a)
{
	pid_t pid = fork();

	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execl(a->ctl_path, a->ctl_path, "--state-dir", a->state_dir, "--config", a->config_path,
		      "policy", "pull", (char *)NULL);
		fprintf(stderr, "mynaguardd: %s: %s\n", a->ctl_path, strerror(errno));
		_exit(127);
	}
	if (pid < 0) {
		fprintf(stderr, "mynaguardd: pull: fork: %s\n", strerror(errno));
		a->pull_failures++;
		arm(a, mg_pull_next_delay(a->policy.policy->fetch.interval, a->pull_failures,
		                          randombytes_random()));
		return;
	}
	a->pull_pid = pid;
}

void agent_pull_timer(struct agent *a)
{
	/* One poll at a time; the timer is re-armed when it ends. */
	if (a->pull_pid == 0)
		start_child(a);
}

/* The pull module counts consecutive failures in pull.json; a child that
 * died before writing it counts as one more. */
static uint64_t failures_after(struct agent *a, int status)
{
	struct mg_pull_state st;

	if (WIFEXITED(status) && mg_pull_state_read(a->state_dir, &st) == 0)
		return st.failures;
	return status == 0 ? 0 : a->pull_failures + 1;
}

void agent_pull_reaped(struct agent *a, pid_t pid, int status)
{
	if (pid != a->pull_pid)
		return;
	a->pull_pid = 0;
	a->last_pull = mg_now();
	a->last_pull_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	a->pull_failures = (unsigned)failures_after(a, status);
	agent_notify_status(a, "policy %s %llu; last pull exit %d",
	                    a->policy.from_bundle ? "version" : "defaults, version",
	                    (unsigned long long)a->policy.version, a->last_pull_status);
	arm(a, mg_pull_next_delay(a->policy.policy->fetch.interval, a->pull_failures,
	                          randombytes_random()));
}
