/* The event loop: one epoll set, each source translated and handed on. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "agent.h"
#include "mynaguard/error.h"
#include "mynaguard/util.h"

/* epoll's data for the fixed sources; a client's is its struct's address,
 * which is never this small. */
enum source { SRC_SIGNAL = 1, SRC_PULL, SRC_WATCHDOG, SRC_LISTEN, SRC_UDEV, SRC_TICKET };

static int watch(struct agent *a, int fd, uint64_t tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};

	if (epoll_ctl(a->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return mg_fail_errno(errno, "epoll_ctl");
	return 0;
}

static int signals_init(struct agent *a)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return mg_fail_errno(errno, "sigprocmask");
	/* A client that hangs up mid-reply must not kill the agent. */
	signal(SIGPIPE, SIG_IGN);
	a->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (a->signal_fd < 0)
		return mg_fail_errno(errno, "signalfd");
	return watch(a, a->signal_fd, SRC_SIGNAL);
}

/* Pings systemd at half the interval it asked for. */
static int watchdog_init(struct agent *a)
{
	uint64_t usec = 0;
	struct itimerspec its;

	a->watchdog_timer_fd = -1;
	if (sd_watchdog_enabled(false, &usec) <= 0 || usec == 0)
		return 0;
	usec /= 2;
	a->watchdog_timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (a->watchdog_timer_fd < 0)
		return mg_fail_errno(errno, "timerfd_create");
	its.it_value = its.it_interval = (struct timespec){
		.tv_sec = (time_t)(usec / 1000000), .tv_nsec = (long)(usec % 1000000) * 1000};
	if (timerfd_settime(a->watchdog_timer_fd, 0, &its, NULL) < 0)
		return mg_fail_errno(errno, "timerfd_settime");
	return watch(a, a->watchdog_timer_fd, SRC_WATCHDOG);
}

int agent_loop_init(struct agent *a)
{
	int r;

	a->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (a->epoll_fd < 0)
		return mg_fail_errno(errno, "epoll_create1");
	r = signals_init(a);
	if (r == 0) r = watchdog_init(a);
	if (r == 0) r = watch(a, a->listen_fd, SRC_LISTEN);
	if (r == 0) r = watch(a, agent_devices_fd(a), SRC_UDEV);
	if (r == 0) r = watch(a, a->pull_timer_fd, SRC_PULL);
	if (r == 0) r = watch(a, agent_devices_timer_fd(a), SRC_TICKET);
	return r;
}

void agent_notify_status(struct agent *a, const char *fmt, ...)
{
	char status[256];
	va_list ap;

	if (!a->notify)
		return;
	va_start(ap, fmt);
	vsnprintf(status, sizeof(status), fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", status);
}

static void drain(int fd)
{
	uint64_t n;

	while (read(fd, &n, sizeof(n)) > 0)
		;
}

static void reap_children(struct agent *a)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		agent_pull_reaped(a, pid, status);
}

static void on_signal(struct agent *a)
{
	struct signalfd_siginfo si;

	while (read(a->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			a->quit = true;
			break;
		case SIGHUP:
			agent_policy_load(a, "SIGHUP");
			break;
		case SIGCHLD:
			reap_children(a);
			break;
		}
	}
}

static void dispatch(struct agent *a, const struct epoll_event *ev)
{
	switch (ev->data.u64) {
	case SRC_SIGNAL:
		on_signal(a);
		break;
	case SRC_PULL:
		drain(a->pull_timer_fd);
		agent_pull_timer(a);
		break;
	case SRC_WATCHDOG:
		drain(a->watchdog_timer_fd);
		sd_notify(0, "WATCHDOG=1");
		break;
	case SRC_LISTEN:
		agent_clients_accept(a);
		break;
	case SRC_UDEV:
		agent_devices_event(a);
		break;
	case SRC_TICKET:
		agent_devices_timer(a);
		break;
	default:
		agent_client_event(a, ev->data.ptr, ev->events);
		break;
	}
}

int agent_loop_run(struct agent *a)
{
	if (a->notify)
		sd_notifyf(0, "READY=1\nMAINPID=%d", (int)getpid());
	while (!a->quit) {
		struct epoll_event ev[16];
		int n = epoll_wait(a->epoll_fd, ev, (int)MG_ARRAY_SIZE(ev), agent_audit_retry_ms(a));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mg_fail_errno(errno, "epoll_wait");
		if (n == 0)
			agent_audit_retry(a);
		for (int i = 0; i < n && !a->quit; i++)
			dispatch(a, &ev[i]);
	}
	if (a->notify)
		sd_notify(0, "STOPPING=1");
	return 0;
}

void agent_loop_free(struct agent *a)
{
	if (a->watchdog_timer_fd >= 0)
		close(a->watchdog_timer_fd);
	if (a->signal_fd >= 0)
		close(a->signal_fd);
	if (a->epoll_fd >= 0)
		close(a->epoll_fd);
}
