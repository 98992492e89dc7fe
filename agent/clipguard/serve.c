/* Owning a selection and answering paste requests.
 *
 * The guard offers only text (UTF8_STRING, STRING, TEXT, text/plain) and
 * writes it in one property; max_bytes is capped so that it fits.  Each
 * request names its requestor window, whose client the X server knows:
 * X-Resource gives the PID, /proc gives the executable, and
 * mg_clip_may_paste decides. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clipguard.h"
#include "mynaguard/error.h"

void guard_release(struct selection *s)
{
	free(s->text);
	s->text = NULL;
	s->len = 0;
	s->owned = false;
	s->serving = false;
	s->last_refused = 0;
}

int guard_take(struct guard *g, struct selection *s, xcb_timestamp_t t, struct mg_clip_vetting *v)
{
	xcb_get_selection_owner_reply_t *r;
	bool ours;

	xcb_set_selection_owner(g->c, g->win, s->atom, t);
	r = xcb_get_selection_owner_reply(g->c, xcb_get_selection_owner(g->c, s->atom), NULL);
	ours = r && r->owner == g->win;
	free(r);
	if (!ours) {
		fprintf(stderr, "mynaguard-clipguard: %s: a newer copy came first\n", s->name);
		return -EBUSY;
	}
	free(s->text);
	s->owned = true;
	s->since = t;
	s->serving = v->verdict == MG_CLIP_SERVE;
	s->text = v->text;        /* the vetting's text is now served from here */
	s->len = v->len;
	s->last_refused = 0;
	v->text = NULL;
	v->len = 0;
	return 0;
}

static bool is_text_target(const struct guard *g, xcb_atom_t t)
{
	return t == g->atoms[A_UTF8_STRING] || t == g->atoms[A_STRING] || t == g->atoms[A_TEXT] ||
	       t == g->atoms[A_TEXT_PLAIN_UTF8] || t == g->atoms[A_TEXT_PLAIN];
}

/* Writes the answer for target into the requestor's property; false when
 * the target cannot be given. */
static bool answer(struct guard *g, const struct selection *s,
                   const xcb_selection_request_event_t *req, xcb_atom_t property)
{
	if (req->target == g->atoms[A_TARGETS]) {
		xcb_atom_t targets[] = {g->atoms[A_TARGETS], g->atoms[A_TIMESTAMP],
		                        g->atoms[A_UTF8_STRING], g->atoms[A_STRING], g->atoms[A_TEXT],
		                        g->atoms[A_TEXT_PLAIN_UTF8], g->atoms[A_TEXT_PLAIN]};
		xcb_change_property(g->c, XCB_PROP_MODE_REPLACE, req->requestor, property, XCB_ATOM_ATOM,
		                    32, s->serving ? 7 : 2, targets);
		return true;
	}
	if (req->target == g->atoms[A_TIMESTAMP]) {
		xcb_change_property(g->c, XCB_PROP_MODE_REPLACE, req->requestor, property,
		                    XCB_ATOM_INTEGER, 32, 1, &s->since);
		return true;
	}
	if (!s->serving || !is_text_target(g, req->target) || s->len > g->max_property)
		return false;
	xcb_change_property(g->c, XCB_PROP_MODE_REPLACE, req->requestor, property,
	                    req->target == g->atoms[A_STRING] ? g->atoms[A_STRING]
	                                                      : g->atoms[A_UTF8_STRING],
	                    8, (uint32_t)s->len, s->text);
	return true;
}

static void notify(struct guard *g, const xcb_selection_request_event_t *req, xcb_atom_t property)
{
	xcb_selection_notify_event_t ev = {
		.response_type = XCB_SELECTION_NOTIFY, .time = req->time, .requestor = req->requestor,
		.selection = req->selection, .target = req->target, .property = property,
	};

	xcb_send_event(g->c, 0, req->requestor, XCB_EVENT_MASK_NO_EVENT, (const char *)&ev);
	xcb_flush(g->c);
}

/* A refused paste is reported once per requesting process and copy. */
static void report_refusal(struct guard *g, struct selection *s, enum mg_clip_paste why,
                           const struct mg_clip_process *who)
{
	json_t *ev;

	if (s->last_refused == who->pid && who->pid)
		return;
	fprintf(stderr, "mynaguard-clipguard: %s: paste into %s refused (%s)\n", s->name,
	        who->exe ? who->exe : "an unknown process", mg_clip_paste_name(why));
	s->last_refused = who->pid;
	/* Executables the guard could not read are left out, not sent empty. */
	ev = json_pack("{s:s, s:s, s:s}", "cmd", "clipboard-block", "selection", s->name,
	               "reason", mg_clip_paste_name(why));
	if (ev && who->exe)
		json_object_set_new(ev, "requester", json_string(who->exe));
	if (ev && s->owner.exe)
		json_object_set_new(ev, "source", json_string(s->owner.exe));
	if (ev)
		link_block(g, ev);
	json_decref(ev);
}

void guard_serve(struct guard *g, const xcb_selection_request_event_t *req)
{
	struct selection *s = req->selection == g->sel[0].atom ? &g->sel[0]
	                    : req->selection == g->sel[1].atom ? &g->sel[1] : NULL;
	/* ICCCM: a property of None comes from an obsolete client; use the target. */
	xcb_atom_t property = req->property != XCB_NONE ? req->property : req->target;
	char exe[PATH_MAX];
	struct mg_clip_process who;
	enum mg_clip_paste why;

	if (!s || !s->owned || req->owner != g->win) {
		notify(g, req, XCB_NONE);
		return;
	}
	who.pid = guard_client_pid(g, req->requestor, exe);
	who.exe = exe[0] ? exe : NULL;
	why = mg_clip_may_paste(&g->policy, &s->owner, &who);
	if (why != MG_CLIP_PASTE_OK) {
		report_refusal(g, s, why, &who);
		notify(g, req, XCB_NONE);
		return;
	}
	notify(g, req, answer(g, s, req, property) ? property : XCB_NONE);
}
