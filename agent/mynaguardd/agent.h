/* mynaguardd: the resident agent.  One thread, one epoll loop over
 *   - the libudev monitor (devices added, changed, removed),
 *   - a signalfd (SIGTERM/SIGINT stop, SIGHUP reload, SIGCHLD pull done),
 *   - a timerfd for policy pulls (run as a child `mynaguardctl policy pull`,
 *     so a slow server never delays a device decision),
 *   - a timerfd for the systemd watchdog,
 *   - the control socket and its clients (include/mynaguard/control.h).
 * Everything a decision needs is in lib/; the files here translate events
 * and delegate. */
#ifndef MYNAGUARDD_AGENT_H
#define MYNAGUARDD_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "mynaguard/config.h"
#include "mynaguard/control.h"
#include "mynaguard/terminal.h"

#define AGENT_MAX_CLIENTS 64          /* connections at once */
#define AGENT_MAX_CLIENTS_PER_USER 8  /* for each non-root uid, so users cannot lock root out */

struct agent_devices;                 /* devices.c: the present devices and their decisions */
struct mg_journal;
struct agent;

/* One control-socket connection. */
struct agent_client {
	struct mg_control_conn conn;  /* fd, peer credentials, buffers */
	bool discarding;              /* refused an oversize line: input is dropped until EOF */
	void *data;                   /* owned by a command (a clipboard guard's session) */
	/* Called once when the connection closes, if a command set it. */
	void (*on_close)(struct agent *a, struct agent_client *c);
};

/* What the command handlers see. */
struct agent {
	/* From the command line. */
	const char *state_dir;        /* --state-dir */
	const char *config_path;      /* --config */
	const char *ctl_path;         /* mynaguardctl to run for pulls */
	struct mg_config config;      /* the terminal's configuration */
	const char *runtime_dir;      /* --runtime-dir, else config.runtime_dir */

	/* State. */
	struct mg_journal *journal;   /* the audit journal, component "agent" */
	struct mg_policy_in_force policy; /* policy in force (bundle or fail-closed defaults) */
	struct agent_devices *devices;/* present devices */
	int64_t started;              /* mg_now() at start */
	int64_t last_reload;          /* mg_now() of the last policy load */
	int64_t last_pull;            /* mg_now() when the last pull finished (0: none yet) */
	int last_pull_status;         /* its exit status (-1: killed or not run) */
	pid_t pull_pid;               /* running pull child, or 0 */
	unsigned pull_failures;       /* consecutive failed pulls, for the backoff */
	char udev_rules_error[512];   /* why the last rules file write failed, "" if it did not */

	/* The loop. */
	int epoll_fd;
	int signal_fd;
	int pull_timer_fd;
	int watchdog_timer_fd;        /* -1 when systemd asked for no watchdog */
	int listen_fd;                /* control.sock */
	struct agent_client *clients[AGENT_MAX_CLIENTS];
	bool notify;                  /* NOTIFY_SOCKET is set */
	bool quit;
};

/* A control command.  Register one from any file of the agent with
 *     AGENT_COMMAND(cmd_reload) = { .cmd = "reload", .run = run_reload };
 * The dispatcher finds it by name; no table needs editing. */
struct agent_command {
	const char *cmd;              /* the request's "cmd" */
	bool any_user;                /* false: only root (uid 0) may send it */
	/* Adds to reply (an object that says "ok":true already) or returns a negative
	 * errno with mg_fail's message, which becomes the "error". */
	int (*run)(struct agent *a, struct agent_client *c, const json_t *msg, json_t *reply);
};

#define AGENT_COMMAND(var)                                                               \
	static const struct agent_command var;                                           \
	static const struct agent_command *const var##_entry                             \
		__attribute__((used, section("agent_commands"), aligned(sizeof(void *)))) = \
		&var;                                                                    \
	static const struct agent_command var

/* loop.c */
int agent_loop_init(struct agent *a);
int agent_loop_run(struct agent *a);
void agent_loop_free(struct agent *a);
void agent_notify_status(struct agent *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* clients.c: the control socket */
int agent_clients_accept(struct agent *a);
void agent_client_event(struct agent *a, struct agent_client *c, uint32_t events);
void agent_clients_free(struct agent *a);

/* policy.c: load the policy in force and apply it everywhere */
int agent_policy_load(struct agent *a, const char *why);

/* pull.c: the pull timer and its child */
int agent_pull_init(struct agent *a);
void agent_pull_timer(struct agent *a);
void agent_pull_reaped(struct agent *a, pid_t pid, int status);

/* devices.c: the udev monitor and the decisions */
int agent_devices_init(struct agent *a);
int agent_devices_fd(struct agent *a);
void agent_devices_event(struct agent *a);
int agent_devices_timer_fd(struct agent *a);
void agent_devices_timer(struct agent *a);
int agent_devices_reevaluate(struct agent *a, const char *trigger);
int agent_devices_approve(struct agent *a, const char *name);
int agent_devices_json(struct agent *a, json_t **out);
void agent_devices_count(struct agent *a, json_t *into);
size_t agent_devices_present(struct agent *a);
void agent_devices_free(struct agent *a);

/* guards.c: the clipboard guards of the sessions (their commands register
 * themselves with AGENT_COMMAND) */
json_t *agent_guards_json(const struct agent *a);

/* audit.c: every record the agent writes goes through here */
void agent_audit(struct agent *a, const char *event, const char *decision, const char *rule,
                 const char *subject, json_t *detail);

/* Records held in memory after a failed write (a full disk) are retried
 * this often while nothing else happens: the epoll timeout in ms, or -1
 * when nothing is held. */
#define AGENT_AUDIT_RETRY_MS 5000
int agent_audit_retry_ms(const struct agent *a);
void agent_audit_retry(struct agent *a);

#endif
