/* The parts of pull that need no network: the poll schedule and
 * STATE/pull.json.  They live apart from the poll itself (pull.c) so that
 * the agent, which only schedules polls and runs `mynaguardctl policy pull`
 * as a child, does not load libcurl and the TLS stack. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mynaguard/bundle.h"
#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/journal.h"
#include "mynaguard/json.h"
#include "mynaguard/pull.h"
#include "mynaguard/terminal.h"
#include "mynaguard/util.h"

static const char *const outcome_names[] = {
	[MG_PULL_NONE] = "none",
	[MG_PULL_APPLIED] = "applied",
	[MG_PULL_UNCHANGED] = "unchanged",
	[MG_PULL_NOT_MODIFIED] = "not-modified",
	[MG_PULL_REJECTED] = "rejected",
	[MG_PULL_FAILED] = "failed",
	NULL,
};

const char *mg_pull_outcome_name(enum mg_pull_outcome o)
{
	return (unsigned)o < MG_ARRAY_SIZE(outcome_names) - 1 ? outcome_names[o] : "none";
}

/* ---- the schedule ---- */

/* random scaled to [0, 1) without floating point surprises. */
static uint64_t scale(uint64_t span, uint32_t random)
{
	return (span * (uint64_t)random) >> 32;
}

uint64_t mg_pull_first_delay(uint64_t interval, uint32_t random)
{
	return scale(interval, random);
}

uint64_t mg_pull_next_delay(uint64_t interval, uint64_t failures, uint32_t random)
{
	uint64_t base, cap;

	if (failures == 0) {
		uint64_t low = interval - interval / 5;
		return low + scale(interval / 5 * 2, random);
	}
	cap = 4 * interval < MG_PULL_BACKOFF_MAX ? 4 * interval : MG_PULL_BACKOFF_MAX;
	base = MG_PULL_BACKOFF_MIN;
	for (uint64_t n = 1; n < failures && base < cap; n++)
		base *= 2;
	if (base > cap)
		base = cap;
	return base - base / 2 + scale(base / 2, random);
}

/* ---- STATE/pull.json ---- */

static int get_time(const json_t *obj, const char *key, const char *where, int64_t *out)
{
	const char *s = NULL;
	int r = mg_json_get_string(obj, key, where, false, &s);

	if (r < 0 || !s)
		return r;
	/* After 1970 only: earlier years do not format back the same way. */
	if (mg_time_parse(s, out) < 0 || *out <= 0)
		return mg_fail(EBADMSG, "%s.%s: expected a time like 2027-03-31T00:00:00Z", where, key);
	return 0;
}

static int copy_string(const json_t *obj, const char *key, const char *where, char *buf,
                       size_t size)
{
	const char *s = NULL;
	int r = mg_json_get_string(obj, key, where, false, &s);

	if (r < 0 || !s)
		return r;
	if (strlen(s) >= size)
		return mg_fail(EBADMSG, "%s.%s: longer than %zu bytes", where, key, size - 1);
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

/* The ETag goes back into a request header: printable ASCII only. */
static int check_etag(const char *etag, const char *where)
{
	for (const char *c = etag; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			return mg_fail(EBADMSG, "%s.etag: not printable ASCII", where);
	return 0;
}

/* The stored pointer is re-read through the pointer's own strict parser. */
static int get_pointer(const json_t *obj, const char *where, struct mg_pull_state *st)
{
	json_t *p = NULL;
	_cleanup_free_ char *text = NULL;
	char here[MG_WHERE_MAX];
	int r = mg_json_get_object(obj, "pointer", where, false, &p);

	if (r < 0 || !p)
		return r;
	text = json_dumps(p, JSON_COMPACT);
	if (!text)
		return mg_fail(ENOMEM, "%s: out of memory", where);
	mg_json_where_key(here, where, "pointer");
	r = mg_pointer_parse(text, strlen(text), here, &st->pointer);
	if (r < 0)
		return r;
	st->has_pointer = true;
	return 0;
}

int mg_pull_state_parse(const void *buf, size_t len, const char *origin, struct mg_pull_state *st)
{
	static const char *const keys[] = {"format", "url", "etag", "judged_version", "pointer",
	                                   "outcome", "last_attempt", "last_success", "failures",
	                                   NULL};
	_cleanup_json_ json_t *root = NULL;
	char where[MG_WHERE_MAX];
	uint64_t format = 0;
	int outcome = MG_PULL_NONE, r;

	memset(st, 0, sizeof(*st));
	if (len > MG_PULL_STATE_MAX)
		return mg_fail(EFBIG, "%s: larger than %d bytes", origin, MG_PULL_STATE_MAX);
	r = mg_json_parse(buf, len, origin, &root);
	if (r < 0)
		return r;
	snprintf(where, sizeof(where), "%s: $", origin);
	r = mg_json_only_keys(root, where, keys);
	if (r == 0) r = mg_json_get_uint(root, "format", where, true, MG_PULL_STATE_FORMAT, MG_PULL_STATE_FORMAT, &format);
	if (r == 0) r = copy_string(root, "url", where, st->url, sizeof(st->url));
	if (r == 0) r = copy_string(root, "etag", where, st->etag, sizeof(st->etag));
	if (r == 0) r = check_etag(st->etag, where);
	if (r == 0) r = mg_json_get_uint(root, "judged_version", where, false, 0, INT64_MAX, &st->judged_version);
	if (r == 0) r = get_pointer(root, where, st);
	if (r == 0) r = mg_json_get_enum(root, "outcome", where, true, outcome_names, &outcome);
	if (r == 0) r = get_time(root, "last_attempt", where, &st->last_attempt);
	if (r == 0) r = get_time(root, "last_success", where, &st->last_success);
	if (r == 0) r = mg_json_get_uint(root, "failures", where, true, 0, INT64_MAX, &st->failures);
	if (r < 0) {
		memset(st, 0, sizeof(*st));
		return r;
	}
	st->outcome = (enum mg_pull_outcome)outcome;
	return 0;
}

static int set_time(json_t *root, const char *key, int64_t t)
{
	char buf[MG_TIME_LEN];

	if (t == 0)
		return 0;
	mg_time_format(t, buf);
	return json_object_set_new(root, key, json_string(buf));
}

int mg_pull_state_format(const struct mg_pull_state *st, char **out, size_t *len)
{
	_cleanup_json_ json_t *root = json_object();
	_cleanup_free_ char *pointer = NULL;
	size_t pointer_len;
	int r = 0;

	if (!root)
		return mg_fail(ENOMEM, "pull.json: out of memory");
	r |= json_object_set_new(root, "format", json_integer(MG_PULL_STATE_FORMAT));
	if (st->url[0])
		r |= json_object_set_new(root, "url", json_string(st->url));
	if (st->etag[0])
		r |= json_object_set_new(root, "etag", json_string(st->etag));
	if (st->url[0])
		r |= json_object_set_new(root, "judged_version", json_integer((json_int_t)st->judged_version));
	if (st->has_pointer) {
		json_t *p;
		if (mg_pointer_format(&st->pointer, &pointer, &pointer_len) < 0)
			return -ENOMEM;
		p = json_loadb(pointer, pointer_len, 0, NULL);
		r |= p ? json_object_set_new(root, "pointer", p) : -1;
	}
	r |= json_object_set_new(root, "outcome", json_string(mg_pull_outcome_name(st->outcome)));
	r |= set_time(root, "last_attempt", st->last_attempt);
	r |= set_time(root, "last_success", st->last_success);
	r |= json_object_set_new(root, "failures", json_integer((json_int_t)st->failures));
	if (r != 0)
		return mg_fail(ENOMEM, "pull.json: out of memory");
	*out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!*out)
		return mg_fail(ENOMEM, "pull.json: out of memory");
	*len = strlen(*out);
	return 0;
}

int mg_pull_state_read(const char *state_dir, struct mg_pull_state *st)
{
	_cleanup_close_ int dirfd = mg_dir_open(state_dir);
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_free_ char *origin = NULL;
	size_t len;
	int r;

	memset(st, 0, sizeof(*st));
	if (dirfd < 0)
		return dirfd;
	r = mg_file_read_at(dirfd, state_dir, MG_PULL_STATE_NAME, MG_PULL_STATE_MAX, &buf, &len);
	if (r < 0)
		return r;
	origin = mg_path_join(state_dir, MG_PULL_STATE_NAME);
	if (!origin)
		return mg_fail(ENOMEM, "%s: out of memory", state_dir);
	return mg_pull_state_parse(buf, len, origin, st);
}
