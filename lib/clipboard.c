#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mynaguard/clipboard.h"
#include "mynaguard/error.h"
#include "mynaguard/json.h"
#include "mynaguard/util.h"

static const char *const mode_names[] = {"allow", "block-sensitive", "block-all", NULL};
static const char *const action_names[] = {"clear", "redact", NULL};

void mg_clipboard_policy_defaults(struct mg_clipboard_policy *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = MG_CLIP_BLOCK_SENSITIVE;
	c->action = MG_CLIP_CLEAR;
	c->detectors = MG_DETECT_ALL;
	strcpy(c->mask, "*");
	c->max_bytes = 4u << 20;
}

/* Code points in a valid UTF-8 string (jansson guarantees validity). */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((uint8_t)*s & 0xC0) != 0x80;
	return n;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((uint8_t)*s < 0x20 || *s == 0x7F)
			return true;
	return false;
}

static int parse_redaction(const json_t *obj, const char *where, struct mg_clipboard_policy *c)
{
	static const char *const keys[] = {"mask", "text", NULL};
	const char *mask = NULL, *text = NULL;
	size_t counts[MG_CLIP_MAX_DETECTORS];
	int r;

	r = mg_json_only_keys(obj, where, keys);
	if (r == 0) r = mg_json_get_string(obj, "mask", where, false, &mask);
	if (r == 0) r = mg_json_get_string(obj, "text", where, false, &text);
	if (r < 0)
		return r;
	if (!mask == !text)
		return mg_fail(EINVAL, "%s: expected exactly one of \"mask\" and \"text\"", where);
	if (mask) {
		/* A digit as mask would write new numbers ("000000000000" is valid). */
		bool digit = (uint8_t)(mask[0] - '0') < 10 ||
		             (strncmp(mask, "\xEF\xBC", 2) == 0 && (uint8_t)(mask[2] - 0x90) < 10);
		if (utf8_chars(mask) != 1 || has_control(mask) || digit)
			return mg_fail(EINVAL, "%s.mask: expected one character that is not a digit", where);
		snprintf(c->mask, sizeof(c->mask), "%s", mask);
		c->text[0] = '\0';
		return 0;
	}
	if (!*text || strlen(text) > MG_CLIP_TEXT_MAX || has_control(text))
		return mg_fail(EINVAL, "%s.text: expected 1..%d bytes without control characters",
		               where, MG_CLIP_TEXT_MAX);
	if (mg_detect_count(text, strlen(text), MG_DETECT_ALL, counts))
		return mg_fail(EINVAL, "%s.text: contains a number the detectors find", where);
	snprintf(c->text, sizeof(c->text), "%s", text);
	c->mask[0] = '\0';
	return 0;
}

static int parse_detectors(const json_t *arr, const char *where, struct mg_clipboard_policy *c)
{
	size_t i;
	json_t *v;

	if (json_array_size(arr) == 0)
		return mg_fail(EINVAL, "%s: name at least one detector", where);
	c->detectors = 0;
	json_array_foreach(arr, i, v) {
		char here[MG_WHERE_MAX];
		unsigned det;
		int r;

		mg_json_where_index(here, where, i);
		if (!json_is_string(v))
			return mg_fail(EBADMSG, "%s: expected a string", here);
		r = mg_detector_find(json_string_value(v), here, &det);
		if (r < 0)
			return r;
		if (c->detectors >> det & 1)
			return mg_fail(EINVAL, "%s: \"%s\" is named twice", here, json_string_value(v));
		c->detectors |= 1u << det;
	}
	return 0;
}

/* "xfreerdp" (an executable's file name) or "/usr/bin/xfreerdp" (a path). */
static int destination_check(const char *s, const char *where)
{
	size_t len = strlen(s);

	if (len == 0 || len > MG_CLIP_DESTINATION_MAX || has_control(s))
		return mg_fail(EINVAL, "%s: expected 1..%d bytes without control characters", where,
		               MG_CLIP_DESTINATION_MAX);
	if (s[0] != '/' && strchr(s, '/'))
		return mg_fail(EINVAL, "%s: \"%s\": expected a file name or an absolute path", where, s);
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || (s[0] == '/' && s[len - 1] == '/'))
		return mg_fail(EINVAL, "%s: \"%s\" names no executable", where, s);
	return 0;
}

static int parse_destinations(const json_t *arr, const char *where, struct mg_clipboard_policy *c)
{
	size_t i;
	json_t *v;

	if (json_array_size(arr) > MG_CLIP_MAX_DESTINATIONS)
		return mg_fail(E2BIG, "%s: more than %d entries", where, MG_CLIP_MAX_DESTINATIONS);
	c->ndestinations = 0;
	json_array_foreach(arr, i, v) {
		char here[MG_WHERE_MAX];
		int r;

		mg_json_where_index(here, where, i);
		if (!json_is_string(v))
			return mg_fail(EBADMSG, "%s: expected a string", here);
		r = destination_check(json_string_value(v), here);
		if (r < 0)
			return r;
		for (size_t k = 0; k < c->ndestinations; k++)
			if (strcmp(c->destinations[k], json_string_value(v)) == 0)
				return mg_fail(EINVAL, "%s: \"%s\" is named twice", here, json_string_value(v));
		snprintf(c->destinations[c->ndestinations++], MG_CLIP_DESTINATION_MAX + 1, "%s",
		         json_string_value(v));
	}
	return 0;
}

int mg_clipboard_policy_parse(const json_t *obj, const char *where, struct mg_clipboard_policy *c)
{
	static const char *const keys[] = {"mode", "action", "redaction", "detectors",
	                                   "destinations", "max_bytes",
	                                   "lock_session_on_guard_loss", NULL};
	char here[MG_WHERE_MAX];
	json_t *redaction = NULL, *detectors = NULL, *destinations = NULL;
	int mode = (int)c->mode, action = (int)c->action;
	int r;

	r = mg_json_only_keys(obj, where, keys);
	if (r == 0) r = mg_json_get_enum(obj, "mode", where, false, mode_names, &mode);
	if (r == 0) r = mg_json_get_enum(obj, "action", where, false, action_names, &action);
	if (r == 0) r = mg_json_get_object(obj, "redaction", where, false, &redaction);
	if (r == 0) r = mg_json_get_array(obj, "detectors", where, false, &detectors);
	if (r == 0) r = mg_json_get_array(obj, "destinations", where, false, &destinations);
	if (r == 0) r = mg_json_get_uint(obj, "max_bytes", where, false, MG_CLIP_MIN_BYTES, MG_CLIP_MAX_BYTES, &c->max_bytes);
	if (r == 0) r = mg_json_get_bool(obj, "lock_session_on_guard_loss", where, false, &c->lock_session_on_guard_loss);
	if (r < 0)
		return r;
	c->mode = (enum mg_clip_mode)mode;
	c->action = (enum mg_clip_action)action;
	if (redaction) {
		mg_json_where_key(here, where, "redaction");
		if ((r = parse_redaction(redaction, here, c)) < 0)
			return r;
	}
	if (detectors) {
		mg_json_where_key(here, where, "detectors");
		if ((r = parse_detectors(detectors, here, c)) < 0)
			return r;
	}
	if (destinations) {
		mg_json_where_key(here, where, "destinations");
		if ((r = parse_destinations(destinations, here, c)) < 0)
			return r;
	}
	return 0;
}

int mg_clipboard_policy_to_json(const struct mg_clipboard_policy *c, json_t **out)
{
	json_t *o, *dets = json_array(), *dests = json_array();

	for (unsigned det = 0; dets && det < mg_ndetectors; det++)
		if (c->detectors >> det & 1)
			json_array_append_new(dets, json_string(mg_detectors[det].name));
	for (size_t i = 0; dests && i < c->ndestinations; i++)
		json_array_append_new(dests, json_string(c->destinations[i]));
	o = json_pack("{s:s, s:s, s:{s:s}, s:o, s:o, s:I, s:b}",
	              "mode", mode_names[c->mode], "action", action_names[c->action],
	              "redaction", c->text[0] ? "text" : "mask", c->text[0] ? c->text : c->mask,
	              "detectors", dets, "destinations", dests,
	              "max_bytes", (json_int_t)c->max_bytes,
	              "lock_session_on_guard_loss", c->lock_session_on_guard_loss);
	if (!o)
		return mg_fail(ENOMEM, "clipboard policy: out of memory");
	*out = o;
	return 0;
}

/* A growing output buffer for redaction. */
struct redactor {
	const struct mg_clipboard_policy *c;
	const uint8_t *in;        /* the selection */
	size_t done;              /* input bytes already copied or replaced */
	uint8_t *out;             /* the redacted text */
	size_t len, cap;
	bool oom;
};

static void put(struct redactor *r, const void *bytes, size_t n)
{
	if (r->oom)
		return;
	if (r->len + n + 1 > r->cap) {
		size_t cap = (r->len + n + 1) * 2;
		uint8_t *bigger = realloc(r->out, cap);
		if (!bigger) {
			r->oom = true;
			return;
		}
		r->out = bigger;
		r->cap = cap;
	}
	memcpy(r->out + r->len, bytes, n);
	r->len += n;
	r->out[r->len] = '\0';
}

/* Each digit becomes the mask; separators stay, so the layout shows. */
static void put_masked(struct redactor *r, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		bool wide = p[i] == 0xEF && i + 2 < n && p[i + 1] == 0xBC && p[i + 2] >= 0x90 &&
		            p[i + 2] <= 0x99;
		if (wide || (uint8_t)(p[i] - '0') < 10) {
			put(r, r->c->mask, strlen(r->c->mask));
			i += wide ? 3 : 1;
		} else {
			put(r, p + i, 1);
			i++;
		}
	}
}

static int redact_one(const struct mg_finding *f, void *userdata)
{
	struct redactor *r = userdata;

	put(r, r->in + r->done, f->offset - r->done);
	if (r->c->text[0])
		put(r, r->c->text, strlen(r->c->text));
	else
		put_masked(r, r->in + f->offset, f->length);
	r->done = f->offset + f->length;
	return 0;
}

static int redact(const struct mg_clipboard_policy *c, const uint8_t *text, size_t len,
                  struct mg_clip_vetting *v)
{
	struct redactor r = {.c = c, .in = text};

	mg_detect_scan(text, len, c->detectors, redact_one, &r);
	put(&r, text + r.done, len - r.done);
	if (r.oom) {
		free(r.out);
		return mg_fail(ENOMEM, "clipboard: out of memory redacting %zu bytes", len);
	}
	v->text = r.out;
	v->len = r.len;
	return 0;
}

static int serve_copy(const uint8_t *text, size_t len, struct mg_clip_vetting *v)
{
	v->text = malloc(len + 1);
	if (!v->text)
		return mg_fail(ENOMEM, "clipboard: out of memory copying %zu bytes", len);
	memcpy(v->text, text, len);
	v->text[len] = '\0';
	v->len = len;
	return 0;
}

/* Whether the guard must answer paste requests itself to see who asks. */
static bool guard_serves(const struct mg_clipboard_policy *c)
{
	return c->mode == MG_CLIP_BLOCK_ALL || c->ndestinations > 0;
}

int mg_clip_vet(const struct mg_clipboard_policy *c, enum mg_clip_content content,
                const uint8_t *text, size_t len, struct mg_clip_vetting *out)
{
	memset(out, 0, sizeof(*out));
	out->verdict = MG_CLIP_PASS;
	if (c->mode == MG_CLIP_ALLOW)
		return 0;
	switch (content) {
	case MG_CLIP_NOT_TEXT:
		/* Only text crosses while the guard serves; otherwise an image
		 * is not inspected and stays with its owner. */
		if (guard_serves(c))
			out->verdict = MG_CLIP_TAKE;
		return 0;
	case MG_CLIP_OVERSIZE:
		out->verdict = MG_CLIP_TAKE;
		out->reason = "oversize";
		return 0;
	case MG_CLIP_UNREADABLE:
		out->verdict = MG_CLIP_TAKE;
		out->reason = "unreadable";
		return 0;
	case MG_CLIP_TEXT:
		break;
	}
	out->total = mg_detect_count(text, len, c->detectors, out->counts);
	if (out->total == 0) {
		if (!guard_serves(c))
			return 0;
		out->verdict = MG_CLIP_SERVE;
		return serve_copy(text, len, out);
	}
	out->reason = "detected";
	if (c->action == MG_CLIP_CLEAR) {
		out->verdict = MG_CLIP_TAKE;
		return 0;
	}
	out->verdict = MG_CLIP_SERVE;
	return redact(c, text, len, out);
}

void mg_clip_vetting_free(struct mg_clip_vetting *v)
{
	free(v->text);
	v->text = NULL;
	v->len = 0;
}

static bool destination_matches(const char *dest, const char *exe)
{
	const char *base = strrchr(exe, '/');

	if (dest[0] == '/')
		return strcmp(dest, exe) == 0;
	return strcmp(dest, base ? base + 1 : exe) == 0;
}

enum mg_clip_paste mg_clip_may_paste(const struct mg_clipboard_policy *c,
                                     const struct mg_clip_process *owner,
                                     const struct mg_clip_process *requester)
{
	if (c->mode == MG_CLIP_ALLOW)
		return MG_CLIP_PASTE_OK;
	/* A requester we cannot name might be any of the destinations. */
	if (c->ndestinations > 0 && !requester->exe)
		return MG_CLIP_PASTE_DESTINATION;
	for (size_t i = 0; i < c->ndestinations; i++)
		if (destination_matches(c->destinations[i], requester->exe))
			return MG_CLIP_PASTE_DESTINATION;
	if (c->mode == MG_CLIP_BLOCK_ALL &&
	    (owner->pid == 0 || requester->pid == 0 || owner->pid != requester->pid))
		return MG_CLIP_PASTE_BLOCK_ALL;
	return MG_CLIP_PASTE_OK;
}

const char *mg_clip_mode_name(enum mg_clip_mode m)
{
	return mode_names[m];
}

const char *mg_clip_paste_name(enum mg_clip_paste p)
{
	static const char *const names[] = {"allowed", "destination", "block-all"};
	return names[p];
}

int mg_clip_counts_json(const struct mg_clip_vetting *v, json_t **out)
{
	json_t *o = json_object();

	for (unsigned det = 0; o && det < mg_ndetectors; det++)
		if (v->counts[det] && json_object_set_new(o, mg_detectors[det].name,
		                                          json_integer((json_int_t)v->counts[det])) < 0) {
			json_decref(o);
			o = NULL;
		}
	if (!o)
		return mg_fail(ENOMEM, "clipboard: out of memory");
	*out = o;
	return 0;
}
