#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/journal.h"
#include "mynaguard/json.h"
#include "mynaguard/terminal.h"
#include "mynaguard/util.h"

#define STATE_FILE "terminal.json"
#define STATE_MAX 4096
#define BUNDLE_FILE "bundle"
#define KEYRING_FILE "keyring"
#define LOCK_FILE "lock"
/* How messages name STATE/bundle. */
#define INFORCE "the bundle in force"

/* Everything an update decides from, read under the lock. */
struct current {
	int dirfd;                              /* STATE, O_NOFOLLOW */
	struct mg_keyring kr;                   /* the pinned keyring, verified */
	uint8_t *kr_raw;                        /* its bytes (kr.env points into them) */
	size_t kr_len;
	struct mg_terminal_state st;            /* terminal.json (zeros when absent) */
	uint8_t *bundle;                        /* STATE/bundle, or NULL */
	size_t bundle_len;
	bool bundle_valid;                      /* its signatures verify against kr */
	struct mg_bundle b;                     /* parsed, when bundle_valid */
	uint8_t bundle_hash[MG_BUNDLE_HASH_BYTES];
	uint64_t policy_floor;                  /* the floors in force (see terminal.h) */
	int64_t clock_floor;
};

static void current_free(struct current *c)
{
	free(c->kr_raw);
	free(c->bundle);
	if (c->dirfd >= 0)
		close(c->dirfd);
}

static void hash_bytes(const uint8_t *buf, size_t len, uint8_t out[MG_BUNDLE_HASH_BYTES])
{
	crypto_generichash(out, MG_BUNDLE_HASH_BYTES, buf, len, NULL, 0);
}

/* ---- terminal.json ---- */

int mg_terminal_state_parse(const void *buf, size_t len, const char *origin,
                            struct mg_terminal_state *st)
{
	static const char *const keys[] = {"format", "policy_floor", "clock_floor",
	                                   "keyring_version", "bundle_blake2b", NULL};
	_cleanup_json_ json_t *root = NULL;
	char where[MG_WHERE_MAX];
	const char *clock = NULL, *hash = NULL, *end;
	uint64_t format = 0;
	size_t got = 0;
	int r;

	memset(st, 0, sizeof(*st));
	snprintf(where, sizeof(where), "%s: $", origin);
	r = mg_json_parse(buf, len, origin, &root);
	if (r == 0) r = mg_json_only_keys(root, where, keys);
	if (r == 0) r = mg_json_get_uint(root, "format", where, true, MG_TERMINAL_FORMAT,
	                                 MG_TERMINAL_FORMAT, &format);
	if (r == 0) r = mg_json_get_uint(root, "policy_floor", where, true, 0, INT64_MAX,
	                                 &st->policy_floor);
	if (r == 0) r = mg_json_get_string(root, "clock_floor", where, true, &clock);
	if (r == 0 && mg_time_parse(clock, &st->clock_floor) < 0)
		r = mg_fail(EBADMSG, "%s.clock_floor: expected a UTC time like 2026-12-06T00:00:00Z",
		            where);
	if (r == 0) r = mg_json_get_uint(root, "keyring_version", where, true, 0, INT64_MAX,
	                                 &st->keyring_version);
	if (r == 0) r = mg_json_get_string(root, "bundle_blake2b", where, true, &hash);
	if (r < 0)
		return r;
	if (!*hash)
		return 0;
	if (strlen(hash) != 2 * MG_BUNDLE_HASH_BYTES || strspn(hash, "0123456789abcdef") != strlen(hash) ||
	    sodium_hex2bin(st->bundle_hash, sizeof(st->bundle_hash), hash, strlen(hash), NULL, &got,
	                   &end) != 0 || got != MG_BUNDLE_HASH_BYTES)
		return mg_fail(EBADMSG, "%s.bundle_blake2b: expected \"\" or %d lower-case hex digits",
		               where, 2 * MG_BUNDLE_HASH_BYTES);
	st->has_bundle = true;
	return 0;
}

int mg_terminal_state_format(const struct mg_terminal_state *st, char **json, size_t *len)
{
	_cleanup_json_ json_t *obj = NULL;
	char clock[MG_TIME_LEN], hash[2 * MG_BUNDLE_HASH_BYTES + 1] = "";
	char *text;

	mg_time_format(st->clock_floor, clock);
	if (st->has_bundle)
		sodium_bin2hex(hash, sizeof(hash), st->bundle_hash, sizeof(st->bundle_hash));
	obj = json_pack("{s:i, s:I, s:s, s:I, s:s}", "format", MG_TERMINAL_FORMAT,
	                "policy_floor", (json_int_t)st->policy_floor, "clock_floor", clock,
	                "keyring_version", (json_int_t)st->keyring_version, "bundle_blake2b", hash);
	text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	if (!text)
		return mg_fail(ENOMEM, STATE_FILE ": out of memory");
	/* A trailing newline, so that cat shows it nicely; the parser
	 * accepts the whitespace. */
	*len = strlen(text);
	*json = realloc(text, *len + 2);
	if (!*json) {
		free(text);
		return mg_fail(ENOMEM, STATE_FILE ": out of memory");
	}
	memcpy(*json + *len, "\n", 2);
	(*len)++;
	return 0;
}

static int state_read_at(int dirfd, const char *dir, struct mg_terminal_state *st)
{
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_free_ char *origin = mg_path_join(dir, STATE_FILE);
	size_t len = 0;
	int r;

	memset(st, 0, sizeof(*st));
	r = mg_file_read_at(dirfd, dir, STATE_FILE, STATE_MAX, &buf, &len);
	/* A terminal that never pinned a keyring has no state yet. */
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	r = mg_terminal_state_parse(buf, len, origin ? origin : STATE_FILE, st);
	if (r < 0)
		return mg_error_prefix(r, "corrupt terminal state (floors kept, defaults enforced)");
	return 0;
}

static int state_write_at(int dirfd, const char *dir, const struct mg_terminal_state *st)
{
	_cleanup_free_ char *json = NULL;
	size_t len;
	int r = mg_terminal_state_format(st, &json, &len);

	if (r < 0)
		return r;
	return mg_file_replace_at(dirfd, dir, STATE_FILE, json, len, 0644);
}

int mg_terminal_state_read(const char *state_dir, struct mg_terminal_state *st)
{
	_cleanup_close_ int dirfd = mg_dir_open(state_dir);

	if (dirfd < 0)
		return dirfd;
	return state_read_at(dirfd, state_dir, st);
}

/* ---- the pinned keyring ---- */

static int keyring_read_at(int dirfd, const char *dir, struct mg_keyring *kr, uint8_t **raw,
                           size_t *raw_len)
{
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_free_ char *origin = mg_path_join(dir, KEYRING_FILE);
	size_t len = 0;
	int r;

	r = mg_file_read_at(dirfd, dir, KEYRING_FILE, MG_KEYRING_MAX_BYTES, &buf, &len);
	if (r == -ENOENT)
		return mg_fail(ENOENT, "%s: no keyring pinned (mynaguardctl keyring pin KEYRING)", dir);
	if (r < 0)
		return r;
	r = mg_keyring_verify_self(buf, len, origin ? origin : KEYRING_FILE, kr);
	if (r < 0)
		return r;
	*raw = MG_TAKE(buf);
	*raw_len = len;
	return 0;
}

int mg_terminal_keyring_read(const char *state_dir, struct mg_keyring *kr, uint8_t **raw,
                             size_t *raw_len)
{
	_cleanup_close_ int dirfd = mg_dir_open(state_dir);
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if (dirfd < 0)
		return dirfd;
	r = keyring_read_at(dirfd, state_dir, kr, &buf, &len);
	if (r < 0)
		return r;
	if (!raw) {
		/* The frame would point into freed bytes: leave no dangling view. */
		memset(&kr->env, 0, sizeof(kr->env));
		return 0;
	}
	*raw = MG_TAKE(buf);
	*raw_len = len;
	return 0;
}

/* ---- the bundle in force ---- */

/* Reads STATE/bundle and checks its signatures only: a bundle that an
 * authorised key signed raises the floors whether or not it is still
 * enforceable (expired, another group). */
static int inforce_read(struct current *c, const char *dir)
{
	/* Neither expiry nor the one-day slack applies here. */
	const struct mg_bundle_checks any = {.now = INT64_MIN, .clock = INT64_MAX - MG_BUNDLE_FUTURE_SLACK};
	int r;

	r = mg_file_read_at(c->dirfd, dir, BUNDLE_FILE, MG_BUNDLE_MAX_BYTES, &c->bundle,
	                    &c->bundle_len);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	hash_bytes(c->bundle, c->bundle_len, c->bundle_hash);
	c->bundle_valid = mg_bundle_verify(c->bundle, c->bundle_len, INFORCE, &c->kr, &any,
	                                   &c->b) == 0;
	return 0;
}

/* terminal.json does not yet account for the valid bundle in force: an
 * apply was interrupted between its two writes. */
static bool floors_lag(const struct current *c)
{
	return c->bundle_valid && !(c->st.has_bundle && sodium_memcmp(c->st.bundle_hash,
	                                                              c->bundle_hash,
	                                                              MG_BUNDLE_HASH_BYTES) == 0);
}

/* The floors in force: terminal.json, unless it does not yet account for
 * the bundle in force (a crash between the two writes), in which case that
 * bundle's version and issued time count too. */
static void floors(struct current *c)
{
	c->policy_floor = c->st.policy_floor;
	c->clock_floor = c->st.clock_floor;
	if (!floors_lag(c))
		return;
	if (c->b.hdr.version > c->policy_floor)
		c->policy_floor = c->b.hdr.version;
	if (c->b.hdr.issued > c->clock_floor)
		c->clock_floor = c->b.hdr.issued;
}

static int current_read(struct current *c, const char *dir, bool need_keyring)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->dirfd = mg_dir_open(dir);
	if (c->dirfd < 0)
		return c->dirfd;
	r = keyring_read_at(c->dirfd, dir, &c->kr, &c->kr_raw, &c->kr_len);
	if (r == -ENOENT && !need_keyring)
		r = 0;
	if (r < 0)
		return r;
	r = state_read_at(c->dirfd, dir, &c->st);
	if (r == 0 && c->kr_raw)
		r = inforce_read(c, dir);
	if (r == 0)
		floors(c);
	return r;
}

/* ---- audit ---- */

/* Records a decision.  The message of a failure in progress survives: the
 * journal reports its own failures loudly (syslog) and enforcement goes on. */
static void audit(const struct mg_terminal_ctx *ctx, const char *event, const char *decision,
                  const char *subject, const char *reason)
{
	char saved[512];
	_cleanup_free_ char *dir = mg_path_join(ctx->state_dir, "audit");
	_cleanup_json_ json_t *detail = reason ? json_pack("{s:s}", "reason", reason) : NULL;
	struct mg_audit rec = {.event = event, .decision = decision, .subject = subject,
	                       .detail = detail};

	snprintf(saved, sizeof(saved), "%s", mg_error());
	if (dir)
		mg_audit(dir, ctx->component, &rec);
	mg_fail(EIO, "%s", saved);
}

static void audit_applied(const struct mg_terminal_ctx *ctx, const char *origin,
                          uint64_t version, uint64_t previous, const char *note)
{
	char subject[512];

	snprintf(subject, sizeof(subject), "%s version %llu (was %llu)%s", origin,
	         (unsigned long long)version, (unsigned long long)previous, note);
	audit(ctx, "policy.applied", "applied", subject, NULL);
}

static int reject(const struct mg_terminal_ctx *ctx, const char *event, const char *origin,
                  int r)
{
	audit(ctx, event, "rejected", origin, mg_error());
	return r;
}

int mg_terminal_reject(const struct mg_terminal_ctx *ctx, const char *origin, int err)
{
	return reject(ctx, "policy.rejected", origin, err);
}

/* ---- apply ---- */

static int lock_state(const char *state_dir, int *dirfd)
{
	*dirfd = mg_dir_open(state_dir);
	if (*dirfd < 0)
		return *dirfd;
	return mg_file_lock_at(*dirfd, state_dir, LOCK_FILE, true, MG_TERMINAL_LOCK_TIMEOUT_MS);
}

/* Version against the floor: lower is a rollback, the same version must
 * be the same bytes.  Sets *same when new is the bundle in force. */
static int check_version(const struct current *c, const struct mg_bundle *nb,
                         const uint8_t hash[MG_BUNDLE_HASH_BYTES], const char *origin,
                         bool *same)
{
	uint64_t v = nb->hdr.version;

	*same = c->bundle_valid && sodium_memcmp(hash, c->bundle_hash, MG_BUNDLE_HASH_BYTES) == 0;
	if (*same)
		return 0;
	if (v < c->policy_floor)
		return mg_fail(ESTALE, "%s: version %llu is lower than the version floor %llu "
		               "(rollback)", origin, (unsigned long long)v,
		               (unsigned long long)c->policy_floor);
	if (c->bundle_valid && v == c->b.hdr.version)
		return mg_fail(EEXIST, "%s: version %llu is in force with different content; a new "
		               "policy needs a new version", origin, (unsigned long long)v);
	if (v == c->st.policy_floor && c->st.has_bundle &&
	    sodium_memcmp(hash, c->st.bundle_hash, MG_BUNDLE_HASH_BYTES) != 0)
		return mg_fail(EEXIST, "%s: version %llu was applied before with different content",
		               origin, (unsigned long long)v);
	return 0;
}

static int apply_locked(const struct mg_terminal_ctx *ctx, struct current *c,
                        const uint8_t *buf, size_t len, const char *origin,
                        struct mg_apply_result *res)
{
	const int64_t clock = mg_now();
	const struct mg_bundle_checks checks = {
		.now = clock > c->clock_floor ? clock : c->clock_floor,
		.clock = clock,
		.target = ctx->target,
	};
	uint8_t hash[MG_BUNDLE_HASH_BYTES];
	_cleanup_policy_ struct mg_policy *policy = NULL;
	struct mg_terminal_state st = c->st;
	struct mg_bundle nb;
	bool same;
	int r;

	res->previous = c->bundle_valid ? c->b.hdr.version : 0;
	r = mg_bundle_verify(buf, len, origin, &c->kr, &checks, &nb);
	if (r < 0)
		return r;
	hash_bytes(buf, len, hash);
	r = check_version(c, &nb, hash, origin, &same);
	if (r < 0)
		return r;
	r = mg_policy_parse(nb.payload, nb.payload_len, origin, &policy);
	if (r < 0)
		return mg_error_prefix(r, "policy rejected");
	res->version = nb.hdr.version;
	res->outcome = same ? MG_APPLY_UNCHANGED : MG_APPLY_APPLIED;
	/* The same bytes again change nothing, not even the floors: after a
	 * rotation reset them, re-reading the bundle in force must not raise
	 * them back. */
	if (same && !floors_lag(c))
		return 0;
	if (!same) {
		r = mg_file_replace_at(c->dirfd, ctx->state_dir, BUNDLE_FILE, buf, len, 0644);
		if (r < 0)
			return r;
		/* Recorded before the floors are written: a kill in between is
		 * then seen (and recorded) by the next update, never lost. */
		audit_applied(ctx, origin, nb.hdr.version, res->previous, "");
	}
	st.policy_floor = nb.hdr.version > c->policy_floor ? nb.hdr.version : c->policy_floor;
	st.clock_floor = nb.hdr.issued > c->clock_floor ? nb.hdr.issued : c->clock_floor;
	st.keyring_version = c->kr.version;
	st.has_bundle = true;
	memcpy(st.bundle_hash, hash, sizeof(hash));
	/* If this write fails, the bundle is in force all the same and the
	 * floors in force already count it (see floors()), so it is not a
	 * rejection; the next update writes them. */
	state_write_at(c->dirfd, ctx->state_dir, &st);
	return 0;
}

int mg_terminal_apply(const struct mg_terminal_ctx *ctx, const uint8_t *buf, size_t len,
                      const char *origin, struct mg_apply_result *res)
{
	_cleanup_close_ int dirfd = -1, lockfd = -1;
	struct current c = {.dirfd = -1};
	int r;

	memset(res, 0, sizeof(*res));
	if (!ctx->target)
		return reject(ctx, "policy.rejected", origin,
		              mg_fail(EINVAL, "%s: this terminal has no group (\"group\" in the "
		                      "configuration)", origin));
	lockfd = lock_state(ctx->state_dir, &dirfd);
	if (lockfd < 0)
		return reject(ctx, "policy.rejected", origin, lockfd);
	mg_file_sweep_temps(dirfd);
	r = current_read(&c, ctx->state_dir, true);
	if (r == 0 && floors_lag(&c))
		audit_applied(ctx, BUNDLE_FILE, c.b.hdr.version, c.st.policy_floor,
		              " (completed after an interrupted apply)");
	if (r == 0)
		r = apply_locked(ctx, &c, buf, len, origin, res);
	current_free(&c);
	if (r < 0)
		return reject(ctx, "policy.rejected", origin, r);
	return 0;
}

/* ---- load ---- */

static void use_defaults(struct mg_policy_in_force *out, const char *why)
{
	out->from_bundle = false;
	snprintf(out->reason, sizeof(out->reason), "%s", why);
}

static void load_from(const struct mg_terminal_ctx *ctx, struct current *c,
                      struct mg_policy_in_force *out)
{
	const int64_t clock = mg_now();
	const int64_t now = clock > c->st.clock_floor ? clock : c->st.clock_floor;
	/* The one-day slack on "issued" guarded the floor when the bundle was
	 * applied; here the floor itself is the earliest the time can be. */
	const struct mg_bundle_checks checks = {.now = now, .clock = now, .target = ctx->target};
	struct mg_policy *policy = NULL;
	struct mg_bundle b;

	out->keyring_version = c->kr.version;
	if (!c->bundle)
		return use_defaults(out, "no bundle has been applied");
	memcpy(out->bundle_hash, c->bundle_hash, sizeof(out->bundle_hash));
	if (!ctx->target)
		return use_defaults(out, "this terminal has no group (\"group\" in the configuration)");
	if (mg_bundle_verify(c->bundle, c->bundle_len, INFORCE, &c->kr, &checks, &b) < 0)
		return use_defaults(out, mg_error());
	if (b.hdr.version < c->st.policy_floor) {
		mg_fail(ESTALE, INFORCE ": version %llu is lower than the floor %llu (rollback)",
		        (unsigned long long)b.hdr.version, (unsigned long long)c->st.policy_floor);
		return use_defaults(out, mg_error());
	}
	if (mg_policy_parse_only(b.payload, b.payload_len, INFORCE, ctx->section, &policy) < 0)
		return use_defaults(out, mg_error());
	mg_policy_free(out->policy);
	out->policy = policy;
	out->from_bundle = true;
	out->reason[0] = '\0';
	out->version = b.hdr.version;
	out->issued = b.hdr.issued;
	out->expires = b.hdr.expires;
	snprintf(out->target, sizeof(out->target), "%s", b.hdr.target);
	out->nsigners = b.count.valid;
	memcpy(out->signers, b.count.signers, sizeof(out->signers));
}

int mg_terminal_load(const struct mg_terminal_ctx *ctx, struct mg_policy_in_force *out)
{
	struct current c = {.dirfd = -1};
	char saved[512];

	memset(out, 0, sizeof(*out));
	snprintf(saved, sizeof(saved), "%s", mg_error());
	out->policy = calloc(1, sizeof(*out->policy));
	if (!out->policy)
		return mg_fail(ENOMEM, "out of memory");
	mg_policy_defaults(out->policy);
	if (current_read(&c, ctx->state_dir, true) < 0)
		use_defaults(out, mg_error());
	else
		load_from(ctx, &c, out);
	current_free(&c);
	/* Falling back is an answer, not a failure: leave the caller's message. */
	mg_fail(EIO, "%s", saved);
	return 0;
}

void mg_policy_in_force_free(struct mg_policy_in_force *p)
{
	mg_policy_free(p->policy);
	p->policy = NULL;
}

/* ---- keyring pin and rotation ---- */

static int pin_locked(const struct mg_terminal_ctx *ctx, int dirfd, const uint8_t *buf,
                      size_t len, const char *origin, uint64_t *version)
{
	struct mg_terminal_state st;
	struct mg_keyring kr;
	struct stat sb;
	int r;

	if (fstatat(dirfd, KEYRING_FILE, &sb, AT_SYMLINK_NOFOLLOW) == 0)
		return mg_fail(EEXIST, "%s/%s: a keyring is pinned already; rotations go through "
		               "\"keyring update\"", ctx->state_dir, KEYRING_FILE);
	r = mg_keyring_verify_self(buf, len, origin, &kr);
	if (r == 0) r = state_read_at(dirfd, ctx->state_dir, &st);
	if (r == 0) r = mg_file_replace_at(dirfd, ctx->state_dir, KEYRING_FILE, buf, len, 0644);
	if (r < 0)
		return r;
	st.keyring_version = kr.version;
	*version = kr.version;
	return state_write_at(dirfd, ctx->state_dir, &st);
}

int mg_terminal_keyring_pin(const struct mg_terminal_ctx *ctx, const uint8_t *buf, size_t len,
                            const char *origin, uint64_t *version)
{
	_cleanup_close_ int dirfd = -1, lockfd = -1;
	char subject[512];
	int r;

	r = mg_dir_ensure(ctx->state_dir, 0755);
	if (r < 0)
		return r;
	lockfd = lock_state(ctx->state_dir, &dirfd);
	if (lockfd < 0)
		return reject(ctx, "keyring.rejected", origin, lockfd);
	r = pin_locked(ctx, dirfd, buf, len, origin, version);
	if (r < 0)
		return reject(ctx, "keyring.rejected", origin, r);
	snprintf(subject, sizeof(subject), "%s version %llu", origin, (unsigned long long)*version);
	audit(ctx, "keyring.pinned", "applied", subject, NULL);
	return 0;
}

/* The state half of a rotation.  Runs once per version: a re-run after a
 * crash finds keyring_version behind and finishes it. */
static int rotate_state(const struct mg_terminal_ctx *ctx, struct current *c,
                        const struct mg_keyring *next)
{
	struct mg_terminal_state st = c->st;

	if (st.keyring_version >= next->version)
		return 0;
	st.keyring_version = next->version;
	if (next->reset_policy_floor) {
		/* The bundle in force stays, but stops counting towards the
		 * floors: recording its hash says the floors account for it. */
		st.policy_floor = 0;
		st.clock_floor = next->issued;
		st.has_bundle = c->bundle != NULL;
		memcpy(st.bundle_hash, c->bundle_hash, sizeof(st.bundle_hash));
	}
	return state_write_at(c->dirfd, ctx->state_dir, &st);
}

static int update_locked(const struct mg_terminal_ctx *ctx, struct current *c,
                         const uint8_t *buf, size_t len, const char *origin,
                         uint64_t *version, bool *changed)
{
	struct mg_keyring next;
	int r;

	*changed = !(len == c->kr_len && memcmp(buf, c->kr_raw, len) == 0);
	if (!*changed) {
		*version = c->kr.version;
		return rotate_state(ctx, c, &c->kr);
	}
	r = mg_keyring_verify_rotation(&c->kr, buf, len, origin, &next);
	if (r == 0) r = mg_file_replace_at(c->dirfd, ctx->state_dir, KEYRING_FILE, buf, len, 0644);
	if (r == 0) r = rotate_state(ctx, c, &next);
	if (r == 0)
		*version = next.version;
	return r;
}

int mg_terminal_keyring_update(const struct mg_terminal_ctx *ctx, const uint8_t *buf,
                               size_t len, const char *origin, uint64_t *version, bool *changed)
{
	_cleanup_close_ int dirfd = -1, lockfd = -1;
	struct current c = {.dirfd = -1};
	char subject[512];
	int r;

	*changed = false;
	lockfd = lock_state(ctx->state_dir, &dirfd);
	if (lockfd < 0)
		return reject(ctx, "keyring.rejected", origin, lockfd);
	r = current_read(&c, ctx->state_dir, true);
	if (r == 0)
		r = update_locked(ctx, &c, buf, len, origin, version, changed);
	current_free(&c);
	if (r < 0)
		return reject(ctx, "keyring.rejected", origin, r);
	if (*changed) {
		snprintf(subject, sizeof(subject), "%s version %llu", origin,
		         (unsigned long long)*version);
		audit(ctx, "keyring.rotated", "applied", subject, NULL);
	}
	return 0;
}
