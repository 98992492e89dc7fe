/* One bounded transfer from the central repository, over libcurl.
 *
 * Only https:// (CA file, optional public-key pin), http:// and file://
 * (air-gapped delivery from approved media) are spoken; redirects are not
 * followed and environment proxies are ignored.  Every transfer is bounded
 * three ways, so no server can hold a terminal's poll forever or fill its
 * memory: a byte cap checked in the write callback (a chunked body has no
 * length for CURLOPT_MAXFILESIZE_LARGE to check), a total timeout and a
 * low-speed abort, the last three from the policy's "fetch" section.
 *
 * Each request names the terminal and the policy version it runs, so the
 * repository's access log is an inventory of who runs what:
 *     X-Mynaguard-Terminal: t-0012
 *     X-Mynaguard-Policy-Version: 41 */
#ifndef MYNAGUARD_FETCH_H
#define MYNAGUARD_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mynaguard/policy.h"

/* Longest ETag kept; a longer one is ignored (the next request is then
 * unconditional, which costs bytes, not correctness). */
#define MG_FETCH_ETAG_MAX 128
/* Longest terminal id sent in X-Mynaguard-Terminal. */
#define MG_FETCH_TERMINAL_MAX 64

/* What to fetch and under which bounds. */
struct mg_fetch_request {
	const char *url;            /* https://, http:// or file:// URL */
	const char *ca_file;        /* PEM CA bundle for https, or NULL for the system's */
	const char *pinned_key;     /* "sha256//BASE64" pin of the server key, or NULL */
	const char *etag;           /* sent as If-None-Match, or NULL */
	const char *terminal_id;    /* X-Mynaguard-Terminal: [A-Za-z0-9._-], at most 64 */
	uint64_t policy_version;    /* X-Mynaguard-Policy-Version: the version in force */
	uint64_t max_bytes;         /* the body may not exceed this many bytes */
	uint64_t timeout;           /* seconds for the whole transfer */
	uint64_t low_speed_limit;   /* bytes/s under which the transfer is slow ... */
	uint64_t low_speed_time;    /* ... for this many seconds before it is aborted */
};

/* What came back. */
struct mg_fetch_result {
	bool not_modified;          /* HTTP 304: the ETag still matches, body empty */
	long status;                /* HTTP status, 0 for file:// */
	uint8_t *body;              /* the body (NUL-terminated, not counted), or NULL on 304 */
	size_t len;                 /* bytes in body */
	char etag[MG_FETCH_ETAG_MAX + 1]; /* the response's ETag, "" when none */
};

/* Fills the bounds of a request from the policy's fetch section. */
void mg_fetch_request_limits(struct mg_fetch_request *req, const struct mg_fetch_policy *f);

/* Runs one GET.  0 with a 200 (or file://) body or a 304; otherwise a
 * negative errno and a message that starts with the URL:
 *   -EFBIG      the body passed max_bytes (the transfer was cut off)
 *   -ETIMEDOUT  the total timeout or the low-speed limit was hit
 *   -EPROTO     an HTTP status other than 200 and 304
 *   -EKEYREJECTED  the TLS certificate or the pinned key did not match
 *   -ECONNREFUSED  nothing listens there
 *   -ENOENT     a file:// URL names no file
 *   -EINVAL     a bad URL, scheme, credentials in the URL, or terminal id
 *   -EIO        anything else libcurl reports */
int mg_fetch(const struct mg_fetch_request *req, struct mg_fetch_result *res);

void mg_fetch_result_free(struct mg_fetch_result *res);

#endif
