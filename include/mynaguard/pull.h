/* One poll of the central repository, and when to poll next.
 *
 * A poll fetches the group's pointer (repo.h) with If-None-Match; a 304
 * ends it.  A pointer naming the bundle already in force ends it too.
 * Otherwise the bundle it names is fetched, capped at the size the pointer
 * promises (and at the policy's fetch.max_bytes), checked against the
 * pointer's size and hash, and handed to mg_terminal_apply, which verifies
 * it and keeps the last-known-good on any doubt.
 *
 * The agent never polls in its own process: it runs `mynaguardctl policy
 * pull` as a child, so a slow server never delays a device decision.
 * What a poll leaves behind, STATE/pull.json (written atomically):
 *
 *   {"format":1,"url":"https://repo.example.lg.jp/mynaguard/honcho/current",
 *    "etag":"\"6752a1c0-f3\"","judged_version":42,
 *    "pointer":{…the pointer last acted on, as in repo.h…},
 *    "outcome":"not-modified","last_attempt":"2026-12-06T05:00:00Z",
 *    "last_success":"2026-12-06T05:00:00Z","failures":0}
 *
 * "etag" is sent only while the policy version in force is still
 * "judged_version", so a bundle applied by other means (approved media,
 * `policy apply`) is followed by a full look at the pointer.  Concurrent
 * polls are serialised by an flock on STATE/pull.lock. */
#ifndef MYNAGUARD_PULL_H
#define MYNAGUARD_PULL_H

#include <stdbool.h>
#include <stdint.h>

#include "mynaguard/config.h"
#include "mynaguard/fetch.h"
#include "mynaguard/repo.h"

#define MG_PULL_STATE_FORMAT 1
#define MG_PULL_STATE_NAME "pull.json"
#define MG_PULL_LOCK_NAME "pull.lock"
#define MG_PULL_STATE_MAX 4096
#define MG_PULL_URL_MAX 1024
/* Backoff after failed polls: from 30 s, doubling, capped at four
 * intervals and at one day. */
#define MG_PULL_BACKOFF_MIN 30
#define MG_PULL_BACKOFF_MAX 86400

/* How a poll ended. */
enum mg_pull_outcome {
	MG_PULL_NONE,           /* no poll has run yet */
	MG_PULL_APPLIED,        /* a new bundle is in force */
	MG_PULL_UNCHANGED,      /* the pointer names what is in force (or what was refused) */
	MG_PULL_NOT_MODIFIED,   /* 304: the pointer did not change */
	MG_PULL_REJECTED,       /* the pointer or bundle was refused; last-known-good stays */
	MG_PULL_FAILED,         /* the repository could not be reached or read */
};

/* STATE/pull.json. */
struct mg_pull_state {
	char url[MG_PULL_URL_MAX];            /* pointer URL the ETag belongs to, "" none */
	char etag[MG_FETCH_ETAG_MAX + 1];     /* ETag of that pointer, "" none */
	uint64_t judged_version;              /* policy version in force when url, etag and
	                                         pointer were stored: they count only while
	                                         it still is */
	bool has_pointer;                     /* pointer is set */
	struct mg_pointer pointer;            /* the pointer last acted on */
	enum mg_pull_outcome outcome;         /* how the last poll ended */
	int64_t last_attempt;                 /* when the last poll ran (0: never) */
	int64_t last_success;                 /* when a poll last reached the repository */
	uint64_t failures;                    /* consecutive MG_PULL_FAILED polls */
};

/* What one poll needs to know. */
struct mg_pull_request {
	const char *state_dir;                /* STATE */
	const char *component;                /* journal component: "ctl" */
	const char *repository;               /* base URL; the pointer is REPOSITORY/GROUP/current */
	const struct mg_config *cfg;          /* terminal id, group, CA file, pin */
};

/* What one poll did. */
struct mg_pull_report {
	enum mg_pull_outcome outcome;
	uint64_t version;                     /* version in force afterwards (0: defaults) */
	uint64_t previous;                    /* version in force before */
	uint64_t bytes;                       /* body bytes received (pointer + bundle) */
	char state_warning[512];              /* pull.json was unreadable and started afresh, or "" */
};

/* Runs one poll.  0 for APPLIED, UNCHANGED and NOT_MODIFIED; otherwise a
 * negative errno with a one-line reason, rep->outcome REJECTED or FAILED,
 * and an audit record ("policy.rejected" or "policy.fetch_failed").  The
 * last-known-good is never touched by a failed or refused poll. */
int mg_pull(const struct mg_pull_request *req, struct mg_pull_report *rep);

/* "applied", "unchanged", "not-modified", "rejected", "failed", "none". */
const char *mg_pull_outcome_name(enum mg_pull_outcome o);

/* Reads STATE/pull.json (-ENOENT when no poll has run). */
int mg_pull_state_read(const char *state_dir, struct mg_pull_state *st);

/* Strict parser and writer of pull.json. */
int mg_pull_state_parse(const void *buf, size_t len, const char *origin, struct mg_pull_state *st);
int mg_pull_state_format(const struct mg_pull_state *st, char **json, size_t *len);

/* The poll schedule, pure so it can be tested; random is a uniform 32-bit
 * number (randombytes_random()).
 * First poll after start: a random phase in [0, interval), so terminals
 * switched on together do not poll together. */
uint64_t mg_pull_first_delay(uint64_t interval, uint32_t random);
/* Next poll: after success interval ±20%; after the n-th consecutive
 * failure, b = min(30 s · 2^(n-1), 4·interval, 1 day) and a delay in
 * [b/2, b] ("equal jitter"), so an outage does not end in a stampede. */
uint64_t mg_pull_next_delay(uint64_t interval, uint64_t failures, uint32_t random);

#endif
