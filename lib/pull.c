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
