/* The clipboard guards' commands: guard-hello, clipboard-block, guard-bye.
 *
 * Each session's mynaguard-clipguard keeps one connection open.  Its hello
 * is answered with the clipboard section in force (the guard runs as the
 * user and cannot read root's state); its blocks become audit records with
 * kinds and counts; and when its connection closes without a bye, the
 * guard was killed or crashed: the agent records the alert
 * "clipboard.guard-lost" and, when the policy says
 * lock_session_on_guard_loss, asks logind to lock that session.  The
 * session is looked up from the guard's PID (SO_PEERCRED) at hello, never
 * taken from the message, so a guard cannot have another session locked. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-login.h>

#include "agent.h"
#include "mynaguard/clipboard.h"
#include "mynaguard/error.h"
#include "mynaguard/json.h"
#include "mynaguard/util.h"

#define GUARD_BLOCKS_PER_MINUTE 120  /* audit records one guard may cause per minute */
#define GUARD_LOCK_TIMEOUT_US (5 * 1000000ull)

/* One guard, as the agent knows it (agent_client.data). */
struct guard_session {
	pid_t pid;                   /* the guard's process (SO_PEERCRED) */
	uid_t uid;                   /* its user (SO_PEERCRED) */
	char display[64];            /* the X display it says it guards; for people only */
	char session[64];            /* its logind session, "" when it has none */
	char subject[160];           /* "uid 1000 pid 4242 session 3" for the records */
	bool said_bye;               /* it ended cleanly */
	int64_t window_start;        /* start of the current minute of blocks */
	unsigned window_blocks;      /* blocks recorded in it */
};

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7F)
			return false;
	return true;
}

static struct guard_session *session_new(const struct agent_client *c, const char *display)
{
	struct guard_session *g = calloc(1, sizeof(*g));
	char *session = NULL;

	if (!g)
		return NULL;
	g->pid = c->conn.peer.pid;
	g->uid = c->conn.peer.uid;
	snprintf(g->display, sizeof(g->display), "%s", display);
	if (sd_pid_get_session(g->pid, &session) >= 0 && session)
		snprintf(g->session, sizeof(g->session), "%s", session);
	free(session);
	snprintf(g->subject, sizeof(g->subject), "uid %u pid %d session %s", (unsigned)g->uid,
	         (int)g->pid, g->session[0] ? g->session : "none");
	g->window_start = mg_now();
	return g;
}

/* Asks logind to lock the session; *outcome says what happened. */
static void lock_session(const struct guard_session *g, char *outcome, size_t size)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus *bus = NULL;
	int r;

	if (!g->session[0]) {
		snprintf(outcome, size, "failed: pid %d had no logind session", (int)g->pid);
		return;
	}
	r = sd_bus_open_system(&bus);
	if (r >= 0)
		r = sd_bus_set_method_call_timeout(bus, GUARD_LOCK_TIMEOUT_US);
	if (r >= 0)
		r = sd_bus_call_method(bus, "org.freedesktop.login1", "/org/freedesktop/login1",
		                       "org.freedesktop.login1.Manager", "LockSession", &err, NULL,
		                       "s", g->session);
	if (r >= 0)
		snprintf(outcome, size, "locked session %s", g->session);
	else
		snprintf(outcome, size, "failed: logind: %s",
		         err.message ? err.message : strerror(-r));
	sd_bus_error_free(&err);
	sd_bus_flush_close_unref(bus);
}

static void on_guard_close(struct agent *a, struct agent_client *c)
{
	struct guard_session *g = c->data;
	json_t *detail;

	/* When the agent itself stops, every connection closes: the guards are
	 * not lost and say hello to the next agent. */
	if (!g->said_bye && !a->quit) {
		char lock[256] = "not asked";
		if (a->policy.policy->clipboard.lock_session_on_guard_loss)
			lock_session(g, lock, sizeof(lock));
		detail = json_pack("{s:s, s:s, s:i, s:s}", "display", g->display, "session",
		                   g->session, "pid", (int)g->pid, "lock", lock);
		agent_audit(a, "clipboard.guard-lost", "alert", NULL, g->subject, detail);
		json_decref(detail);
		fprintf(stderr, "mynaguardd: clipboard guard of %s lost; lock: %s\n", g->subject, lock);
	}
	free(g);
	c->data = NULL;
}

/* {"cmd":"guard-hello","display":":0"} -> {"clipboard":{section in force}}.
 * Sent again as a heartbeat; only the first one is recorded. */
static int run_hello(struct agent *a, struct agent_client *c, const json_t *msg, json_t *reply)
{
	static const char *const keys[] = {"cmd", "display", NULL};
	const char *display = "";
	json_t *section, *detail;
	int r;

	r = mg_json_only_keys(msg, "guard-hello: $", keys);
	if (r == 0) r = mg_json_get_string(msg, "display", "guard-hello: $", false, &display);
	if (r < 0)
		return r;
	if (strlen(display) >= sizeof(((struct guard_session *)0)->display) || !printable(display))
		return mg_fail(EINVAL, "guard-hello: $.display: expected at most 63 printable bytes");
	if (!c->data) {
		struct guard_session *g = session_new(c, display);
		if (!g)
			return mg_fail(ENOMEM, "guard-hello: out of memory");
		c->data = g;
		c->on_close = on_guard_close;
		detail = json_pack("{s:s, s:s}", "display", g->display, "session", g->session);
		agent_audit(a, "clipboard.guard-start", NULL, NULL, g->subject, detail);
		json_decref(detail);
	}
	r = mg_clipboard_policy_to_json(&a->policy.policy->clipboard, &section);
	if (r < 0)
		return r;
	return json_object_set_new(reply, "clipboard", section) < 0
	       ? mg_fail(ENOMEM, "guard-hello: out of memory") : 0;
}
AGENT_COMMAND(cmd_guard_hello) = {.cmd = "guard-hello", .any_user = true, .run = run_hello};

/* Copies an optional string field that names a program (no content). */
static int copy_path(const json_t *msg, const char *key, json_t *detail)
{
	const char *v = NULL;
	int r = mg_json_get_string(msg, key, "clipboard-block: $", false, &v);

	if (r < 0 || !v)
		return r;
	if (strlen(v) >= PATH_MAX || !printable(v))
		return mg_fail(EINVAL, "clipboard-block: $.%s: expected a path of printable bytes", key);
	return json_object_set_new(detail, key, json_string(v)) < 0 ? -ENOMEM : 0;
}

/* Counts by detector name: {"kojin":1}; names and numbers only. */
static int copy_counts(const json_t *msg, json_t *detail)
{
	json_t *counts = NULL, *out, *v;
	const char *name;
	int r = mg_json_get_object(msg, "counts", "clipboard-block: $", false, &counts);

	if (r < 0 || !counts)
		return r;
	out = json_object();
	if (!out)
		return mg_fail(ENOMEM, "clipboard-block: out of memory");
	json_object_foreach(counts, name, v) {
		unsigned det;
		char where[MG_WHERE_MAX];
		mg_json_where_key(where, "clipboard-block: $", "counts");
		r = mg_detector_find(name, where, &det);
		if (r == 0 && (!json_is_integer(v) || json_integer_value(v) < 0))
			r = mg_fail(EINVAL, "%s.%s: expected a count", where, name);
		if (r == 0)
			r = json_object_set(out, mg_detectors[det].name, v);
		if (r < 0) {
			json_decref(out);
			return r;
		}
	}
	return json_object_set_new(detail, "counts", out);
}

/* The last defence against a flood of records from a hostile "guard". */
static bool within_rate(struct agent *a, struct guard_session *g)
{
	int64_t now = mg_now();

	if (now - g->window_start >= 60) {
		g->window_start = now;
		g->window_blocks = 0;
	}
	if (++g->window_blocks == GUARD_BLOCKS_PER_MINUTE + 1)
		agent_audit(a, "clipboard.block-flood", "alert", NULL, g->subject, NULL);
	return g->window_blocks <= GUARD_BLOCKS_PER_MINUTE;
}

/* {"cmd":"clipboard-block","selection":"CLIPBOARD","reason":"detected",
 *  "action":"redact","counts":{"kojin":1},"source":PATH,"requester":PATH} */
static int run_block(struct agent *a, struct agent_client *c, const json_t *msg, json_t *reply)
{
	static const char *const keys[] = {"cmd", "selection", "reason", "action", "counts",
	                                   "source", "requester", NULL};
	static const char *const selections[] = {"CLIPBOARD", "PRIMARY", NULL};
	static const char *const reasons[] = {"detected", "oversize", "unreadable", "destination",
	                                      "block-all", NULL};
	static const char *const actions[] = {"clear", "redact", NULL};
	const char *where = "clipboard-block: $";
	struct guard_session *g = c->data;
	_cleanup_json_ json_t *detail = json_object();
	int sel = 0, reason = 0, action = -1, r;

	if (!g)
		return mg_fail(EPROTO, "clipboard-block: say guard-hello first");
	if (!detail)
		return mg_fail(ENOMEM, "clipboard-block: out of memory");
	r = mg_json_only_keys(msg, where, keys);
	if (r == 0) r = mg_json_get_enum(msg, "selection", where, true, selections, &sel);
	if (r == 0) r = mg_json_get_enum(msg, "reason", where, true, reasons, &reason);
	if (r == 0) r = mg_json_get_enum(msg, "action", where, false, actions, &action);
	if (r == 0) r = copy_counts(msg, detail);
	if (r == 0) r = copy_path(msg, "source", detail);
	if (r == 0) r = copy_path(msg, "requester", detail);
	if (r < 0)
		return r;
	json_object_set_new(detail, "selection", json_string(selections[sel]));
	json_object_set_new(detail, "display", json_string(g->display));
	if (action >= 0)
		json_object_set_new(detail, "action", json_string(actions[action]));
	if (!within_rate(a, g))
		return mg_fail(EBUSY, "clipboard-block: more than %d a minute; not recorded",
		               GUARD_BLOCKS_PER_MINUTE);
	agent_audit(a, "clipboard.block", "block", reasons[reason], g->subject, detail);
	return 0;
}
AGENT_COMMAND(cmd_clipboard_block) = {.cmd = "clipboard-block", .any_user = true, .run = run_block};

/* {"cmd":"guard-bye"}: the guard ends cleanly (logout, SIGTERM). */
static int run_bye(struct agent *a, struct agent_client *c, const json_t *msg, json_t *reply)
{
	struct guard_session *g = c->data;

	if (!g)
		return mg_fail(EPROTO, "guard-bye: say guard-hello first");
	g->said_bye = true;
	agent_audit(a, "clipboard.guard-stop", NULL, NULL, g->subject, NULL);
	return 0;
}
AGENT_COMMAND(cmd_guard_bye) = {.cmd = "guard-bye", .any_user = true, .run = run_bye};

/* The guards connected now, for `status` (and so for inspect, which
 * compares them with the X11 sessions logind knows). */
json_t *agent_guards_json(const struct agent *a)
{
	json_t *out = json_array();

	for (size_t i = 0; out && i < AGENT_MAX_CLIENTS; i++) {
		const struct agent_client *c = a->clients[i];
		const struct guard_session *g = c ? c->data : NULL;

		if (!g || c->on_close != on_guard_close || g->said_bye)
			continue;
		json_array_append_new(out, json_pack("{s:s,s:I,s:I,s:s}", "session", g->session,
		                                     "uid", (json_int_t)g->uid, "pid", (json_int_t)g->pid,
		                                     "display", g->display));
	}
	return out;
}
