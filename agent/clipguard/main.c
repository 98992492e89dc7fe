/* mynaguard-clipguard [--config FILE] [--runtime-dir DIR] [--policy FILE] [--no-agent]
 *
 * Started in each X11 session by the XDG autostart entry
 * mynaguard-clipguard.desktop.  Takes the policy's clipboard section from
 * the agent (or, to try a policy, from --policy FILE), then guards the
 * session's selections until the session or a signal ends it. */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <xcb/xcb.h>

#include "clipguard.h"
#include "mynaguard/config.h"
#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/policy.h"
#include "mynaguard/util.h"

struct options {
	const char *config;       /* --config */
	const char *runtime_dir;  /* --runtime-dir, else the configuration's */
	const char *policy;       /* --policy: a policy file to take the section from */
	bool no_agent;            /* --no-agent: do not talk to the agent */
};

static void usage(FILE *out)
{
	fprintf(out, "usage: mynaguard-clipguard [--config FILE] [--runtime-dir DIR] "
	             "[--policy FILE] [--no-agent]\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"runtime-dir", required_argument, NULL, 'r'},
		{"policy", required_argument, NULL, 'p'},
		{"no-agent", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;

	*o = (struct options){.config = MG_SYSCONFDIR "/mynaguard.conf"};
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'r': o->runtime_dir = optarg; break;
		case 'p': o->policy = optarg; break;
		case 'n': o->no_agent = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static int load_policy_file(const char *path, struct mg_clipboard_policy *out)
{
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_policy_ struct mg_policy *p = NULL;
	size_t len;
	int r;

	r = mg_file_read(path, MG_POLICY_MAX_BYTES, &buf, &len);
	if (r == 0)
		r = mg_policy_parse(buf, len, path, &p);
	if (r == 0)
		*out = p->clipboard;
	return r;
}

/* The selections' owners when the guard starts are vetted like new ones. */
static void adopt_current_owners(struct guard *g)
{
	for (int i = 0; i < 2; i++) {
		xcb_get_selection_owner_reply_t *r = xcb_get_selection_owner_reply(
			g->c, xcb_get_selection_owner(g->c, g->sel[i].atom), NULL);
		if (r && r->owner != XCB_NONE && r->owner != g->win) {
			g->sel[i].pending = true;
			g->sel[i].pending_owner = r->owner;
			g->sel[i].pending_time = XCB_CURRENT_TIME;
		}
		free(r);
	}
}

static bool vet_pending(struct guard *g)
{
	bool any = false;

	for (int i = 0; i < 2; i++) {
		struct selection *s = &g->sel[i];
		if (s->pending) {
			guard_selection_changed(g, s, s->pending_owner, s->pending_time);
			any = true;
		}
	}
	return any;
}

static int signal_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* SIGHUP asks for the agent's policy now; the others end the guard. */
static void on_signal(struct guard *g, int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			g->link.next_hello = 0;
		else
			g->quit = true;
	}
}

static void run(struct guard *g, int sfd)
{
	struct pollfd pfd[3] = {
		{.fd = xcb_get_file_descriptor(g->c), .events = POLLIN},
		{.fd = sfd, .events = POLLIN},
	};

	while (!g->quit) {
		xcb_generic_event_t *ev;

		while ((ev = xcb_poll_for_event(g->c))) {
			guard_dispatch(g, ev);
			free(ev);
		}
		if (vet_pending(g))
			continue;
		if (xcb_connection_has_error(g->c)) {
			fprintf(stderr, "mynaguard-clipguard: the X server went away; the session ended\n");
			return;
		}
		link_tick(g);
		xcb_flush(g->c);
		pfd[2] = (struct pollfd){.fd = link_fd(g), .events = POLLIN};
		if (poll(pfd, 3, 1000) < 0)
			continue;
		if (pfd[1].revents)
			on_signal(g, sfd);
		/* The agent never speaks unasked: input means it closed. */
		if (pfd[2].fd >= 0 && pfd[2].revents)
			link_lost(g);
	}
}

int main(int argc, char **argv)
{
	static struct guard g;
	struct mg_config cfg = {0};
	struct options o;
	_cleanup_close_ int sfd = -1;
	int r;

	if (parse_options(argc, argv, &o) < 0)
		return 2;
	mg_clipboard_policy_defaults(&g.policy);
	r = mg_config_load(o.config, &cfg);
	if (r == 0 && o.policy) {
		r = load_policy_file(o.policy, &g.policy);
		g.policy_from_file = true;
	}
	if (r == 0)
		r = guard_x11_open(&g);
	if (r == 0 && (sfd = signal_fd()) < 0)
		r = mg_fail_errno(errno, "signalfd");
	if (r < 0) {
		fprintf(stderr, "mynaguard-clipguard: %s\n", mg_error());
		mg_config_free(&cfg);
		return 1;
	}
	link_init(&g, o.runtime_dir ? o.runtime_dir : cfg.runtime_dir, !o.no_agent);
	link_tick(&g);
	adopt_current_owners(&g);
	vet_pending(&g);
	/* Said once what was there at start has been vetted: from here on
	 * every copy is seen. */
	fprintf(stderr, "mynaguard-clipguard: guarding CLIPBOARD and PRIMARY, mode %s\n",
	        mg_clip_mode_name(g.policy.mode));
	run(&g, sfd);
	link_bye(&g);
	guard_x11_close(&g);
	mg_config_free(&cfg);
	return 0;
}
