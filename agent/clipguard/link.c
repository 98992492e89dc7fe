/* The link to the agent over its control socket (control.h).
 *
 *   guard-hello      {"cmd":"guard-hello","display":":0"}
 *                    -> {"ok":true,"clipboard":{ the section in force }}
 *                    sent at start, every GUARD_HEARTBEAT_S (the agent's
 *                    policy may have changed) and after a reconnect
 *   clipboard-block  {"cmd":"clipboard-block","selection":"CLIPBOARD",
 *                     "reason":"detected","action":"redact",
 *                     "counts":{"kojin":1},"source":"/usr/bin/mousepad"}
 *                    or, for a refused paste,
 *                    {"cmd":"clipboard-block","selection":"CLIPBOARD",
 *                     "reason":"destination","requester":"/usr/bin/xfreerdp",
 *                     "source":"/usr/bin/mousepad"}
 *   guard-bye        {"cmd":"guard-bye"} on a clean exit
 *
 * The connection stays open: the agent takes its end closing without a
 * bye as the guard's death.  Blocks made while the agent is away wait
 * (GUARD_BACKLOG of them, oldest dropped first) and go after the next hello.  The guard runs as the session's user and
 * cannot read root's policy state, so the section comes from the agent;
 * while the agent is unreachable the last section (at first the built-in
 * defaults, which block) stays in force. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clipguard.h"
#include "mynaguard/control.h"
#include "mynaguard/error.h"
#include "mynaguard/json.h"
#include "mynaguard/util.h"

void link_init(struct guard *g, const char *runtime_dir, bool enabled)
{
	g->link = (struct link){.enabled = enabled, .runtime_dir = runtime_dir, .fd = -1};
}

int link_fd(const struct guard *g)
{
	return g->link.fd;
}

void link_lost(struct guard *g)
{
	if (g->link.fd >= 0) {
		fprintf(stderr, "mynaguard-clipguard: lost the agent; retrying every %d s\n", GUARD_RETRY_S);
		close(g->link.fd);
	}
	g->link.fd = -1;
	g->link.next_hello = mg_now() + GUARD_RETRY_S;
}

/* Puts the agent's section in force; a bad one leaves the last in force. */
static void take_policy(struct guard *g, const json_t *reply)
{
	struct mg_clipboard_policy p;
	json_t *section = NULL;

	mg_clipboard_policy_defaults(&p);
	if (mg_json_get_object(reply, "clipboard", "guard-hello reply: $", true, &section) < 0 ||
	    mg_clipboard_policy_parse(section, "guard-hello reply: $.clipboard", &p) < 0) {
		fprintf(stderr, "mynaguard-clipguard: %s\n", mg_error());
		return;
	}
	if (memcmp(&p, &g->policy, sizeof(p)) != 0)
		fprintf(stderr, "mynaguard-clipguard: policy from the agent: mode %s\n",
		        mg_clip_mode_name(p.mode));
	g->policy = p;
}

/* Sends one block; false when it must wait for the agent. */
static bool deliver(struct guard *g, json_t *event)
{
	_cleanup_json_ json_t *reply = NULL;
	int r;

	if (g->link.fd < 0)
		return false;
	r = mg_control_exchange(g->link.fd, event, &reply);
	if (r == -EREMOTEIO || r == -EPERM) {
		/* The agent read it and refused it: sending it again would not help. */
		fprintf(stderr, "mynaguard-clipguard: clipboard-block: %s\n", mg_error());
		return true;
	}
	if (r < 0) {
		link_lost(g);
		return false;
	}
	return true;
}

static void keep(struct guard *g, json_t *event)
{
	struct link *l = &g->link;

	if (l->nbacklog == GUARD_BACKLOG) {
		json_decref(l->backlog[0]);
		memmove(l->backlog, l->backlog + 1, (GUARD_BACKLOG - 1) * sizeof(l->backlog[0]));
		l->nbacklog--;
		l->dropped++;
		fprintf(stderr, "mynaguard-clipguard: %zu blocks lost while the agent is away\n",
		        l->dropped);
	}
	l->backlog[l->nbacklog++] = json_incref(event);
}

/* After a hello: what waited goes first, in order. */
static void flush_backlog(struct guard *g)
{
	struct link *l = &g->link;
	size_t sent = 0;

	while (sent < l->nbacklog && deliver(g, l->backlog[sent]))
		json_decref(l->backlog[sent++]);
	memmove(l->backlog, l->backlog + sent, (l->nbacklog - sent) * sizeof(l->backlog[0]));
	l->nbacklog -= sent;
}

static void hello(struct guard *g)
{
	_cleanup_json_ json_t *req = NULL, *reply = NULL;
	const char *display = getenv("DISPLAY");
	int r;

	if (g->link.fd < 0) {
		r = mg_control_connect(g->link.runtime_dir);
		if (r < 0) {
			fprintf(stderr, "mynaguard-clipguard: %s\n", mg_error());
			g->link.next_hello = mg_now() + GUARD_RETRY_S;
			return;
		}
		g->link.fd = r;
	}
	req = json_pack("{s:s, s:s}", "cmd", "guard-hello", "display", display ? display : "");
	r = req ? mg_control_exchange(g->link.fd, req, &reply) : -ENOMEM;
	if (r < 0) {
		fprintf(stderr, "mynaguard-clipguard: guard-hello: %s\n", mg_error());
		link_lost(g);
		return;
	}
	if (!g->policy_from_file)
		take_policy(g, reply);
	g->link.next_hello = mg_now() + GUARD_HEARTBEAT_S;
	flush_backlog(g);
}

void link_tick(struct guard *g)
{
	if (g->link.enabled && mg_now() >= g->link.next_hello)
		hello(g);
}

void link_block(struct guard *g, json_t *event)
{
	if (!g->link.enabled)
		return;
	if (g->link.nbacklog > 0 || !deliver(g, event))
		keep(g, event);
}

void link_bye(struct guard *g)
{
	_cleanup_json_ json_t *req = NULL, *reply = NULL;

	flush_backlog(g);
	for (size_t i = 0; i < g->link.nbacklog; i++)
		json_decref(g->link.backlog[i]);
	g->link.nbacklog = 0;
	if (g->link.fd < 0)
		return;
	req = json_pack("{s:s}", "cmd", "guard-bye");
	if (req)
		mg_control_exchange(g->link.fd, req, &reply);
	close(g->link.fd);
	g->link.fd = -1;
}
