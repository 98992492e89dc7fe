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

static int state_write(int dirfd, const char *state_dir, const struct mg_pull_state *st)
{
	_cleanup_free_ char *json = NULL;
	size_t len;
	int r = mg_pull_state_format(st, &json, &len);

	if (r < 0)
		return r;
	return mg_file_replace_at(dirfd, state_dir, MG_PULL_STATE_NAME, json, len, 0644);
}

/* ---- one poll ---- */

/* Everything one poll carries from step to step. */
struct poll {
	const struct mg_pull_request *req;
	struct mg_terminal_ctx ctx;
	struct mg_policy_in_force now;        /* the policy in force before the poll */
	struct mg_pull_state st;              /* pull.json, updated as the poll goes */
	struct mg_pull_report *rep;
	char pointer_url[MG_PULL_URL_MAX];
	char bundle_url[MG_PULL_URL_MAX + MG_REPO_PATH_MAX];
	char etag[MG_FETCH_ETAG_MAX + 1];     /* ETag of the pointer just fetched */
};

static void request_for(const struct poll *p, struct mg_fetch_request *fr, const char *url,
                        uint64_t max_bytes)
{
	const struct mg_config *cfg = p->req->cfg;

	*fr = (struct mg_fetch_request){
		.url = url, .ca_file = cfg->ca_file, .pinned_key = cfg->pinned_key,
		.terminal_id = cfg->terminal_id, .policy_version = p->now.version,
	};
	mg_fetch_request_limits(fr, &p->now.policy->fetch);
	fr->max_bytes = max_bytes;
}

/* Records a refusal or failure in the journal; the poll's own error
 * message (already set) is kept and returned. */
static int audit_failure(const struct poll *p, int err, const char *event, const char *url)
{
	_cleanup_free_ char *dir = mg_path_join(p->req->state_dir, "audit");
	_cleanup_json_ json_t *detail = json_pack("{s:s}", "reason", mg_error());
	char reason[512];
	struct mg_audit rec = {
		.event = event,
		.decision = strcmp(event, "policy.rejected") == 0 ? "rejected" : "failed",
		.subject = url, .detail = detail,
	};

	snprintf(reason, sizeof(reason), "%s", mg_error());
	if (dir)
		mg_audit(dir, p->req->component, &rec);
	mg_fail(err, "%s", reason);    /* the journal may have set its own message */
	return err;
}

static int rejected(struct poll *p, int err, const char *url)
{
	p->rep->outcome = MG_PULL_REJECTED;
	return audit_failure(p, err, "policy.rejected", url);
}

static int failed(struct poll *p, int err, const char *url)
{
	p->rep->outcome = MG_PULL_FAILED;
	return audit_failure(p, err, "policy.fetch_failed", url);
}

static int build_urls(struct poll *p)
{
	const char *base = p->req->repository, *group = p->req->cfg->group;
	size_t n;

	if (!base || !*base)
		return mg_fail(EINVAL, "no repository URL: set repository in the configuration "
		               "or give one to policy pull");
	if (!group || !*group)
		return mg_fail(EINVAL, "no group: set group in the configuration (the group "
		               "whose bundles this terminal takes)");
	if (mg_bundle_target_check(group, "configuration: group") < 0)
		return -EINVAL;
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	if ((size_t)snprintf(p->pointer_url, sizeof(p->pointer_url), "%.*s/%s/" MG_POINTER_NAME,
	                     (int)n, base, group) >= sizeof(p->pointer_url))
		return mg_fail(EINVAL, "%s: URL too long", base);
	return 0;
}

/* The ETag is only worth sending while nothing else has changed what is in
 * force since it was stored. */
static const char *etag_to_send(const struct poll *p)
{
	if (!p->st.etag[0] || strcmp(p->st.url, p->pointer_url) != 0 ||
	    p->st.judged_version != p->now.version)
		return NULL;
	return p->st.etag;
}

static int fetch_pointer(struct poll *p, struct mg_pointer *ptr, bool *not_modified)
{
	struct mg_fetch_request fr;
	struct mg_fetch_result res;
	int r;

	request_for(p, &fr, p->pointer_url, MG_POINTER_MAX);
	fr.etag = etag_to_send(p);
	r = mg_fetch(&fr, &res);
	if (r < 0)
		return failed(p, r, p->pointer_url);
	*not_modified = res.not_modified;
	snprintf(p->etag, sizeof(p->etag), "%s", res.etag);
	p->rep->bytes += res.len;
	if (res.not_modified)
		return 0;
	r = mg_pointer_parse(res.body, res.len, p->pointer_url, ptr);
	mg_fetch_result_free(&res);
	if (r < 0)
		return rejected(p, r, p->pointer_url);
	return 0;
}

static bool pointer_equal(const struct mg_pointer *a, const struct mg_pointer *b)
{
	return a->version == b->version && a->size == b->size && strcmp(a->path, b->path) == 0 &&
	       memcmp(a->blake2b, b->blake2b, sizeof(a->blake2b)) == 0;
}

/* A pointer needs no download when it names the bundle in force, or the
 * very pointer already refused under the same version in force. */
static bool pointer_settled(const struct poll *p, const struct mg_pointer *ptr)
{
	if (p->now.from_bundle &&
	    sodium_memcmp(ptr->blake2b, p->now.bundle_hash, sizeof(ptr->blake2b)) == 0)
		return true;
	return p->st.outcome == MG_PULL_REJECTED && p->st.has_pointer &&
	       p->st.judged_version == p->now.version && strcmp(p->st.url, p->pointer_url) == 0 &&
	       pointer_equal(&p->st.pointer, ptr);
}

/* A refusal is remembered and not retried until the pointer changes; a
 * terminal that could not write or lock its state (disk full, a stuck
 * lock) has judged nothing, so that poll counts as failed and is retried. */
static bool terminal_could_not_judge(int r)
{
	switch (-r) {
	case ENOMEM: case EIO: case ENOSPC: case EDQUOT: case EROFS: case ETIMEDOUT:
	case EACCES: case EPERM: case EMFILE: case ENFILE: case EAGAIN: case EBUSY:
		return true;
	default:
		return false;
	}
}

static int fetch_and_apply(struct poll *p, const struct mg_pointer *ptr)
{
	const uint64_t max = p->now.policy->fetch.max_bytes;
	struct mg_fetch_request fr;
	struct mg_fetch_result res;
	struct mg_apply_result applied;
	size_t n = strlen(p->pointer_url) - strlen(MG_POINTER_NAME);
	int r;

	snprintf(p->bundle_url, sizeof(p->bundle_url), "%.*s%s", (int)n, p->pointer_url, ptr->path);
	if (ptr->size > max)
		return rejected(p, mg_fail(EFBIG, "%s: oversized: the pointer names %llu bytes, "
		                           "more than fetch.max_bytes %llu", p->bundle_url,
		                           (unsigned long long)ptr->size, (unsigned long long)max),
		                p->bundle_url);
	/* Not one byte more than promised is accepted. */
	request_for(p, &fr, p->bundle_url, ptr->size);
	r = mg_fetch(&fr, &res);
	if (r < 0)
		return failed(p, r, p->bundle_url);
	p->rep->bytes += res.len;
	r = mg_pointer_check(ptr, res.body, res.len, p->bundle_url);
	if (r < 0) {
		mg_fetch_result_free(&res);
		return rejected(p, r, p->bundle_url);
	}
	/* mg_terminal_apply writes its own audit record either way. */
	r = mg_terminal_apply(&p->ctx, res.body, res.len, p->bundle_url, &applied);
	mg_fetch_result_free(&res);
	if (r < 0) {
		p->rep->outcome = terminal_could_not_judge(r) ? MG_PULL_FAILED : MG_PULL_REJECTED;
		return r;
	}
	p->rep->outcome = applied.outcome == MG_APPLY_APPLIED ? MG_PULL_APPLIED : MG_PULL_UNCHANGED;
	p->rep->version = applied.version;
	return 0;
}

static int poll_once(struct poll *p)
{
	struct mg_pointer ptr;
	bool not_modified = false;
	int r;

	r = fetch_pointer(p, &ptr, &not_modified);
	if (r < 0)
		return r;
	if (not_modified) {
		p->rep->outcome = MG_PULL_NOT_MODIFIED;
		return 0;
	}
	if (pointer_settled(p, &ptr)) {
		p->rep->outcome = MG_PULL_UNCHANGED;
		return 0;
	}
	p->st.has_pointer = true;
	p->st.pointer = ptr;
	return fetch_and_apply(p, &ptr);
}

/* What the next poll needs to know about this one. */
static void state_update(struct poll *p)
{
	struct mg_pull_state *st = &p->st;
	int64_t now = mg_now();

	st->last_attempt = now;
	st->outcome = p->rep->outcome;
	if (p->rep->outcome == MG_PULL_FAILED) {
		st->failures++;
		return;
	}
	st->failures = 0;
	st->last_success = now;
	if (p->rep->outcome == MG_PULL_NOT_MODIFIED)
		return;
	/* A 200 means this ETag now stands for this pointer, judged. */
	snprintf(st->url, sizeof(st->url), "%s", p->pointer_url);
	snprintf(st->etag, sizeof(st->etag), "%s", p->etag);
	st->judged_version = p->rep->version;
}

static void load_state(struct poll *p)
{
	int r = mg_pull_state_read(p->req->state_dir, &p->st);

	/* pull.json is a cache of the last poll: a damaged one costs one
	 * unconditional fetch, never a poll. */
	if (r < 0 && r != -ENOENT)
		snprintf(p->rep->state_warning, sizeof(p->rep->state_warning),
		         "%s (starting afresh)", mg_error());
	if (r < 0)
		memset(&p->st, 0, sizeof(p->st));
}

/* Opens STATE and takes the poll lock; the lock fd is returned. */
static int lock_state(const char *state_dir, int *dirfd)
{
	int lock;

	*dirfd = mg_dir_open(state_dir);
	if (*dirfd < 0)
		return *dirfd;
	lock = mg_file_lock_at(*dirfd, state_dir, MG_PULL_LOCK_NAME, true, 0);
	if (lock == -ETIMEDOUT)
		return mg_fail(EBUSY, "%s: another policy pull is running", state_dir);
	return lock;
}

int mg_pull(const struct mg_pull_request *req, struct mg_pull_report *rep)
{
	_cleanup_close_ int dirfd = -1, lock = -1;
	struct poll p = {.req = req, .rep = rep};
	int r, w;

	memset(rep, 0, sizeof(*rep));
	rep->outcome = MG_PULL_FAILED;
	p.ctx = (struct mg_terminal_ctx){.state_dir = req->state_dir, .component = req->component,
	                                 .target = req->cfg->group};
	r = build_urls(&p);
	if (r < 0)
		return r;
	lock = lock_state(req->state_dir, &dirfd);
	if (lock < 0)
		return lock;
	r = mg_terminal_load(&p.ctx, &p.now);
	if (r < 0)
		return r;
	rep->previous = rep->version = p.now.version;
	load_state(&p);
	r = poll_once(&p);
	state_update(&p);
	mg_policy_in_force_free(&p.now);
	w = state_write(dirfd, req->state_dir, &p.st);
	/* The poll's own verdict matters more than a failed cache write. */
	if (r == 0 && w < 0) {
		rep->outcome = MG_PULL_FAILED;
		return w;
	}
	return r;
}
