/* mynaguardd: the resident device agent (see agent.h for its shape). */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/journal.h"
#include "mynaguard/util.h"

static const char usage[] =
	"Usage: mynaguardd [--state-dir DIR] [--config FILE] [--runtime-dir DIR] [--ctl PATH]\n"
	"Runs in the foreground (systemd Type=notify).  SIGHUP reloads the policy.\n";

static int parse_args(struct agent *a, int argc, char **argv)
{
	static const struct option options[] = {
		{"state-dir", required_argument, NULL, 's'},
		{"config", required_argument, NULL, 'c'},
		{"runtime-dir", required_argument, NULL, 'r'},
		{"ctl", required_argument, NULL, 'x'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int opt;

	a->state_dir = MG_STATEDIR;
	a->config_path = MG_SYSCONFDIR "/mynaguard.conf";
	a->ctl_path = MG_SBINDIR "/mynaguardctl";
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 's': a->state_dir = optarg; break;
		case 'c': a->config_path = optarg; break;
		case 'r': a->runtime_dir = optarg; break;
		case 'x': a->ctl_path = optarg; break;
		case 'h': fputs(usage, stdout); exit(0);
		default: return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mynaguardd: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* Everything that must be in place before the first device is decided. */
static int agent_start(struct agent *a)
{
	_cleanup_free_ char *audit_dir = mg_path_join(a->state_dir, "audit");
	int r;

	a->epoll_fd = a->signal_fd = a->pull_timer_fd = a->watchdog_timer_fd = a->listen_fd = -1;
	a->started = mg_now();
	a->notify = getenv("NOTIFY_SOCKET") != NULL;
	r = mg_config_load(a->config_path, &a->config);
	if (r < 0)
		return r;
	if (!a->runtime_dir)
		a->runtime_dir = a->config.runtime_dir;
	if (!audit_dir)
		return mg_fail(ENOMEM, "out of memory");
	/* The socket first: a second agent stops here, before it touches a
	 * device.  Clients wait in the backlog until the loop runs. */
	a->listen_fd = mg_control_listen(a->runtime_dir);
	if (a->listen_fd < 0)
		return a->listen_fd;
	r = mg_journal_open(audit_dir, "agent", &a->journal);
	if (r == 0) r = agent_devices_init(a);
	if (r == 0) r = agent_policy_load(a, "start");
	if (r == 0) r = agent_pull_init(a);
	if (r == 0) r = agent_loop_init(a);
	return r;
}

static void agent_stop(struct agent *a)
{
	agent_clients_free(a);
	agent_devices_free(a);
	agent_loop_free(a);
	if (a->pull_timer_fd >= 0)
		close(a->pull_timer_fd);
	if (a->listen_fd >= 0)
		close(a->listen_fd);
	mg_policy_in_force_free(&a->policy);
	if (a->journal)
		mg_journal_close(a->journal);
	mg_config_free(&a->config);
}

int main(int argc, char **argv)
{
	struct agent a = {0};
	int r;

	setlocale(LC_ALL, "");
	if (parse_args(&a, argc, argv) < 0) {
		fputs(usage, stderr);
		return 2;
	}
	r = agent_start(&a);
	if (r == 0)
		r = agent_loop_run(&a);
	if (r < 0)
		fprintf(stderr, "mynaguardd: %s\n", mg_error());
	agent_stop(&a);
	return r < 0 ? 1 : 0;
}
