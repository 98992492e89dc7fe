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
 * bye as the guard's death.  The guard runs as the session's user and
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
}

void link_tick(struct guard *g)
{
	if (g->link.enabled && mg_now() >= g->link.next_hello)
		hello(g);
}

void link_block(struct guard *g, json_t *event)
{
	_cleanup_json_ json_t *reply = NULL;
	int r;

	if (!g->link.enabled)
		return;
	if (g->link.fd < 0) {
		fprintf(stderr, "mynaguard-clipguard: block not audited: the agent is unreachable\n");
		return;
	}
	r = mg_control_exchange(g->link.fd, event, &reply);
	if (r == -EREMOTEIO || r == -EPERM)
		fprintf(stderr, "mynaguard-clipguard: clipboard-block: %s\n", mg_error());
	else if (r < 0)
		link_lost(g);
}

void link_bye(struct guard *g)
{
	_cleanup_json_ json_t *req = NULL, *reply = NULL;

	if (g->link.fd < 0)
		return;
	req = json_pack("{s:s}", "cmd", "guard-bye");
	if (req)
		mg_control_exchange(g->link.fd, req, &reply);
	close(g->link.fd);
	g->link.fd = -1;
}
