/* Reading a new selection and vetting it.
 *
 * The guard asks the owner for its text (UTF8_STRING, else another text
 * form) into a property of its own window, reads it back, and follows the
 * INCR protocol when the owner sends it in chunks.  Every step has a deadline and the total
 * a size cap, so a mute, slow or endless owner costs a few seconds and
 * ends as "unreadable" or "oversize", which mg_clip_vet blocks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clipguard.h"
#include "mynaguard/error.h"

/* The text read so far. */
struct text {
	uint8_t *data;            /* the bytes read (malloc'd, NUL-terminated) */
	size_t len;               /* how many */
	size_t max;               /* the policy's max_bytes */
	bool oversize;            /* more than max was offered */
	bool incr;                /* it came in INCR chunks */
};

/* The conversion being waited for. */
struct request {
	xcb_atom_t selection;
	xcb_timestamp_t time;     /* the new owner's own timestamp, echoed in the notify */
};

/* The time tells this answer from a late one to an earlier conversion that
 * timed out, which would otherwise be taken for the new owner's. */
static bool is_notify_for(struct guard *g, xcb_generic_event_t *ev, void *arg)
{
	const struct request *req = arg;
	const xcb_selection_notify_event_t *e = (const xcb_selection_notify_event_t *)ev;

	return (ev->response_type & 0x7F) == XCB_SELECTION_NOTIFY && e->requestor == g->win &&
	       e->selection == req->selection && e->time == req->time;
}

static bool is_new_chunk(struct guard *g, xcb_generic_event_t *ev, void *arg)
{
	const xcb_property_notify_event_t *e = (const xcb_property_notify_event_t *)ev;

	return (ev->response_type & 0x7F) == XCB_PROPERTY_NOTIFY && e->window == g->win &&
	       e->atom == g->atoms[A_PROPERTY] && e->state == XCB_PROPERTY_NEW_VALUE;
}

/* Asks the owner of s (since time t) for target.  1: the answer is in our
 * property; 0: refused; -ETIMEDOUT: no answer in time. */
static int convert(struct guard *g, struct selection *s, xcb_atom_t target, xcb_timestamp_t t)
{
	struct request req = {.selection = s->atom, .time = t};
	xcb_generic_event_t *ev;
	bool refused;

	xcb_delete_property(g->c, g->win, g->atoms[A_PROPERTY]);
	xcb_convert_selection(g->c, g->win, s->atom, target, g->atoms[A_PROPERTY], t);
	ev = guard_wait(g, guard_now_ms() + GUARD_ANSWER_MS, is_notify_for, &req);
	if (!ev)
		return -ETIMEDOUT;
	refused = ((xcb_selection_notify_event_t *)ev)->property == XCB_NONE;
	free(ev);
	return refused ? 0 : 1;
}

/* Reads and deletes our property (deleting asks an INCR owner for the
 * next chunk), appending 8-bit data to t.  *type is the property's type. */
static int take_property(struct guard *g, struct text *t, xcb_atom_t *type)
{
	xcb_get_property_reply_t *r;
	uint32_t want = (uint32_t)(t->max / 4 + 2);      /* 4-byte units: a bit more than fits */
	size_t n;
	int ret = 0;

	r = xcb_get_property_reply(g->c, xcb_get_property(g->c, 1, g->win, g->atoms[A_PROPERTY],
	                                                  XCB_GET_PROPERTY_TYPE_ANY, 0, want), NULL);
	if (!r)
		return -EIO;
	*type = r->type;
	n = (size_t)xcb_get_property_value_length(r);
	if (r->type == g->atoms[A_INCR]) {
		/* The value is a lower bound of the size: refuse early. */
		if (n == 4 && *(uint32_t *)xcb_get_property_value(r) > t->max)
			t->oversize = true;
	} else if (r->format != 8 && n > 0) {
		ret = -EPROTO;
	} else if (r->bytes_after > 0 || t->len + n > t->max) {
		t->oversize = true;
	} else if (n > 0) {
		uint8_t *bigger = realloc(t->data, t->len + n + 1);
		if (!bigger) {
			ret = -ENOMEM;
		} else {
			t->data = bigger;
			memcpy(t->data + t->len, xcb_get_property_value(r), n);
			t->len += n;
			t->data[t->len] = '\0';
		}
	}
	free(r);
	return ret;
}

/* Chunks until the empty one, each within GUARD_ANSWER_MS, all within
 * GUARD_TRANSFER_MS. */
static int read_incr(struct guard *g, struct text *t)
{
	int64_t end = guard_now_ms() + GUARD_TRANSFER_MS;

	while (!t->oversize) {
		size_t before = t->len;
		int64_t deadline = guard_now_ms() + GUARD_ANSWER_MS;
		xcb_generic_event_t *ev;
		xcb_atom_t type;
		int r;

		ev = guard_wait(g, deadline < end ? deadline : end, is_new_chunk, NULL);
		if (!ev)
			return -ETIMEDOUT;
		free(ev);
		if ((r = take_property(g, t, &type)) < 0)
			return r;
		if (t->len == before && !t->oversize)
			return 0;                /* the empty chunk ends the transfer */
	}
	return 0;
}

static enum mg_clip_content read_text(struct guard *g, struct selection *s, xcb_timestamp_t when,
                                      struct text *t)
{
	/* Every text form an application may offer alone; text/plain last
	 * because old applications answer it in their locale's charset. */
	const xcb_atom_t forms[] = {g->atoms[A_UTF8_STRING], g->atoms[A_TEXT_PLAIN_UTF8],
	                            g->atoms[A_STRING], g->atoms[A_TEXT_PLAIN]};
	xcb_atom_t type;
	int r = 0;

	for (size_t k = 0; k < sizeof(forms) / sizeof(forms[0]) && r == 0; k++)
		r = convert(g, s, forms[k], when);
	if (r == 0)
		return MG_CLIP_NOT_TEXT;
	if (r < 0 || take_property(g, t, &type) < 0)
		return MG_CLIP_UNREADABLE;
	t->incr = type == g->atoms[A_INCR];
	if (t->incr && !t->oversize && read_incr(g, t) < 0)
		return MG_CLIP_UNREADABLE;
	return t->oversize ? MG_CLIP_OVERSIZE : MG_CLIP_TEXT;
}

static const char *const content_names[] = {"text", "not text", "oversize", "unreadable"};

/* The block as the agent records it: kinds and counts, never content. */
static void report(struct guard *g, const struct selection *s, const struct mg_clip_vetting *v)
{
	json_t *ev, *counts = NULL;

	if (mg_clip_counts_json(v, &counts) < 0)
		return;
	ev = json_pack("{s:s, s:s, s:s, s:s, s:o}", "cmd", "clipboard-block",
	               "selection", s->name, "reason", v->reason,
	               "action", v->verdict == MG_CLIP_SERVE ? "redact" : "clear",
	               "counts", counts);
	if (ev && s->owner.exe)
		json_object_set_new(ev, "source", json_string(s->owner.exe));
	if (ev)
		link_block(g, ev);
	json_decref(ev);
}

void guard_selection_changed(struct guard *g, struct selection *s, xcb_window_t owner,
                             xcb_timestamp_t t)
{
	struct text text = {.max = g->policy.max_bytes};
	struct mg_clip_vetting v;
	enum mg_clip_content content;

	s->pending = false;
	if (g->policy.mode == MG_CLIP_ALLOW)
		return;
	s->owner.pid = guard_client_pid(g, owner, s->owner_exe);
	s->owner.exe = s->owner_exe[0] ? s->owner_exe : NULL;
	content = read_text(g, s, t, &text);
	/* A newer copy arrived meanwhile: this one is gone, vet that one. */
	if (s->pending) {
		free(text.data);
		return;
	}
	/* Out of memory for the redacted text: what cannot be vetted is taken. */
	if (mg_clip_vet(&g->policy, content, text.data, text.len, &v) < 0) {
		fprintf(stderr, "mynaguard-clipguard: %s: %s\n", s->name, mg_error());
		v = (struct mg_clip_vetting){.verdict = MG_CLIP_TAKE, .reason = "unreadable"};
	}
	free(text.data);
	/* Taking over with the copy's own timestamp fails when a newer copy
	 * has claimed the selection since: that one is vetted next. */
	if (v.verdict != MG_CLIP_PASS && guard_take(g, s, t, &v) < 0) {
		mg_clip_vetting_free(&v);
		return;
	}
	fprintf(stderr, "mynaguard-clipguard: %s: %s, %zu bytes%s, %zu found -> %s%s%s\n", s->name,
	        content_names[content], text.len, text.incr ? " by INCR" : "", v.total,
	        v.verdict == MG_CLIP_PASS ? "left" : v.verdict == MG_CLIP_SERVE ? "served" : "taken",
	        v.reason ? " for " : "", v.reason ? v.reason : "");
	if (v.reason)
		report(g, s, &v);
	mg_clip_vetting_free(&v);
}
