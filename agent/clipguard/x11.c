/* The X11 edge: connection, atoms, the event dispatcher, waiting with
 * deadlines, and who a client is. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xcb/res.h>
#include <xcb/xfixes.h>

#include "clipguard.h"
#include "mynaguard/error.h"

static const char *const atom_names[A_COUNT] = {
	[A_CLIPBOARD] = "CLIPBOARD", [A_PRIMARY] = "PRIMARY", [A_TARGETS] = "TARGETS",
	[A_TIMESTAMP] = "TIMESTAMP", [A_INCR] = "INCR",
	[A_UTF8_STRING] = "UTF8_STRING", [A_STRING] = "STRING", [A_TEXT] = "TEXT",
	[A_TEXT_PLAIN_UTF8] = "text/plain;charset=utf-8", [A_TEXT_PLAIN] = "text/plain",
	[A_PROPERTY] = "_MYNAGUARD_SELECTION", [A_GUARD] = "_MYNAGUARD_CLIPGUARD",
};

int64_t guard_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int intern_atoms(struct guard *g)
{
	xcb_intern_atom_cookie_t cookies[A_COUNT];

	for (int i = 0; i < A_COUNT; i++)
		cookies[i] = xcb_intern_atom(g->c, 0, (uint16_t)strlen(atom_names[i]), atom_names[i]);
	for (int i = 0; i < A_COUNT; i++) {
		xcb_intern_atom_reply_t *r = xcb_intern_atom_reply(g->c, cookies[i], NULL);
		if (!r)
			return mg_fail(EIO, "X11: cannot intern atom %s", atom_names[i]);
		g->atoms[i] = r->atom;
		free(r);
	}
	return 0;
}

/* Both extensions are required: without XFixes the guard cannot see a
 * copy, without X-Resource it cannot tell who pastes. */
static int check_extensions(struct guard *g)
{
	const xcb_query_extension_reply_t *fx = xcb_get_extension_data(g->c, &xcb_xfixes_id);
	const xcb_query_extension_reply_t *res = xcb_get_extension_data(g->c, &xcb_res_id);
	xcb_xfixes_query_version_reply_t *v;
	xcb_res_query_version_reply_t *rv;

	if (!fx || !fx->present)
		return mg_fail(ENOTSUP, "X11: the server has no XFIXES extension");
	if (!res || !res->present)
		return mg_fail(ENOTSUP, "X11: the server has no X-Resource extension");
	v = xcb_xfixes_query_version_reply(g->c, xcb_xfixes_query_version(g->c, 5, 0), NULL);
	rv = xcb_res_query_version_reply(g->c, xcb_res_query_version(g->c, 1, 2), NULL);
	if (!v || !rv || rv->server_major < 1 || (rv->server_major == 1 && rv->server_minor < 2)) {
		free(v);
		free(rv);
		return mg_fail(ENOTSUP, "X11: XFIXES 1+ and X-Resource 1.2+ are required");
	}
	free(v);
	free(rv);
	g->xfixes_event = fx->first_event;
	return 0;
}

/* One guard per display: two would take every selection from each other
 * in turn.  The claim is a selection of our own, as window managers do
 * with WM_S0; it is released when the guard's connection closes. */
static int claim_display(struct guard *g)
{
	xcb_atom_t claim = g->atoms[A_GUARD];
	xcb_get_selection_owner_reply_t *r;
	bool ours;

	r = xcb_get_selection_owner_reply(g->c, xcb_get_selection_owner(g->c, claim), NULL);
	ours = r && r->owner == XCB_NONE;
	free(r);
	if (ours) {
		xcb_set_selection_owner(g->c, g->win, claim, XCB_CURRENT_TIME);
		r = xcb_get_selection_owner_reply(g->c, xcb_get_selection_owner(g->c, claim), NULL);
		ours = r && r->owner == g->win;
		free(r);
	}
	if (!ours)
		return mg_fail(EEXIST, "X11: display \"%s\" has a clipboard guard already",
		               getenv("DISPLAY") ? getenv("DISPLAY") : "");
	return 0;
}

int guard_x11_open(struct guard *g)
{
	const xcb_setup_t *setup;
	xcb_screen_t *screen;
	uint32_t mask = XCB_EVENT_MASK_PROPERTY_CHANGE;
	int r;

	g->c = xcb_connect(NULL, NULL);
	if (xcb_connection_has_error(g->c))
		return mg_fail(EHOSTUNREACH, "X11: cannot connect to display \"%s\"",
		               getenv("DISPLAY") ? getenv("DISPLAY") : "");
	xcb_prefetch_extension_data(g->c, &xcb_xfixes_id);
	xcb_prefetch_extension_data(g->c, &xcb_res_id);
	if ((r = check_extensions(g)) < 0 || (r = intern_atoms(g)) < 0)
		return r;
	setup = xcb_get_setup(g->c);
	screen = xcb_setup_roots_iterator(setup).data;
	/* Property requests carry a 24-byte header; lengths are in 4-byte units. */
	g->max_property = xcb_get_maximum_request_length(g->c) * 4u - 24u;
	g->win = xcb_generate_id(g->c);
	xcb_create_window(g->c, XCB_COPY_FROM_PARENT, g->win, screen->root, 0, 0, 1, 1, 0,
	                  XCB_WINDOW_CLASS_INPUT_ONLY, screen->root_visual, XCB_CW_EVENT_MASK, &mask);
	if ((r = claim_display(g)) < 0)
		return r;
	g->sel[0] = (struct selection){.name = "CLIPBOARD", .atom = g->atoms[A_CLIPBOARD]};
	g->sel[1] = (struct selection){.name = "PRIMARY", .atom = g->atoms[A_PRIMARY]};
	for (int i = 0; i < 2; i++)
		xcb_xfixes_select_selection_input(g->c, g->win, g->sel[i].atom,
		                                  XCB_XFIXES_SELECTION_EVENT_MASK_SET_SELECTION_OWNER);
	xcb_flush(g->c);
	return 0;
}

void guard_x11_close(struct guard *g)
{
	for (int i = 0; i < 2; i++)
		guard_release(&g->sel[i]);
	if (g->c)
		xcb_disconnect(g->c);
	g->c = NULL;
}

static struct selection *selection_of(struct guard *g, xcb_atom_t atom)
{
	for (int i = 0; i < 2; i++)
		if (g->sel[i].atom == atom)
			return &g->sel[i];
	return NULL;
}

void guard_dispatch(struct guard *g, xcb_generic_event_t *ev)
{
	uint8_t type = ev->response_type & 0x7F;
	struct selection *s;

	if (type == XCB_SELECTION_REQUEST) {
		guard_serve(g, (xcb_selection_request_event_t *)ev);
	} else if (type == XCB_SELECTION_CLEAR) {
		xcb_selection_clear_event_t *e = (xcb_selection_clear_event_t *)ev;
		if ((s = selection_of(g, e->selection)))
			guard_release(s);
	} else if (type == g->xfixes_event + XCB_XFIXES_SELECTION_NOTIFY) {
		xcb_xfixes_selection_notify_event_t *e = (xcb_xfixes_selection_notify_event_t *)ev;
		/* Our own takeovers and cleared selections need no vetting. */
		if ((s = selection_of(g, e->selection)) && e->owner != g->win && e->owner != XCB_NONE) {
			s->pending = true;
			s->pending_owner = e->owner;
			s->pending_time = e->selection_timestamp;
		}
	}
}

xcb_generic_event_t *guard_wait(struct guard *g, int64_t deadline,
                                bool (*match)(struct guard *g, xcb_generic_event_t *ev, void *arg),
                                void *arg)
{
	struct pollfd pfd = {.fd = xcb_get_file_descriptor(g->c), .events = POLLIN};

	for (;;) {
		xcb_generic_event_t *ev;
		int64_t left;

		while ((ev = xcb_poll_for_event(g->c))) {
			if (match(g, ev, arg))
				return ev;
			guard_dispatch(g, ev);
			free(ev);
		}
		if (xcb_connection_has_error(g->c))
			return NULL;
		left = deadline - guard_now_ms();
		if (left <= 0)
			return NULL;
		xcb_flush(g->c);
		poll(&pfd, 1, (int)left);
	}
}

static void exe_of(pid_t pid, char exe[PATH_MAX])
{
	static const char deleted[] = " (deleted)";
	const size_t dlen = sizeof(deleted) - 1;
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, PATH_MAX - 1);
	exe[n > 0 ? n : 0] = '\0';
	/* A client still running after its package was upgraded is the same
	 * program: "/usr/bin/xfreerdp (deleted)" must match "xfreerdp". */
	if (n > (ssize_t)dlen && strcmp(exe + n - dlen, deleted) == 0)
		exe[n - dlen] = '\0';
}

pid_t guard_client_pid(struct guard *g, xcb_window_t w, char exe[PATH_MAX])
{
	xcb_res_client_id_spec_t spec = {.client = w, .mask = XCB_RES_CLIENT_ID_MASK_LOCAL_CLIENT_PID};
	xcb_res_query_client_ids_reply_t *r;
	xcb_res_client_id_value_iterator_t it;
	pid_t pid = 0;

	exe[0] = '\0';
	r = xcb_res_query_client_ids_reply(g->c, xcb_res_query_client_ids(g->c, 1, &spec), NULL);
	if (!r)
		return 0;
	for (it = xcb_res_query_client_ids_ids_iterator(r); it.rem; xcb_res_client_id_value_next(&it)) {
		if ((it.data->spec.mask & XCB_RES_CLIENT_ID_MASK_LOCAL_CLIENT_PID) &&
		    xcb_res_client_id_value_value_length(it.data) == 1)
			pid = (pid_t)*xcb_res_client_id_value_value(it.data);
	}
	free(r);
	if (pid > 0)
		exe_of(pid, exe);
	return pid > 0 ? pid : 0;
}
