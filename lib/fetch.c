#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "mynaguard/error.h"
#include "mynaguard/fetch.h"
#include "mynaguard/util.h"

/* The body as it arrives, and why the write callback stopped it. */
struct sink {
	uint8_t *buf;
	size_t len;
	size_t cap;                 /* bytes allocated */
	uint64_t max;               /* the request's max_bytes */
	bool over;                  /* max was passed: the transfer was cut off */
	bool nomem;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_status = CURLE_FAILED_INIT;

static void global_init(void)
{
	global_status = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void curl_cleanupp(CURL **c) { if (*c) curl_easy_cleanup(*c); }
static void slist_freep(struct curl_slist **l) { if (*l) curl_slist_free_all(*l); }
static void url_freep(CURLU **u) { if (*u) curl_url_cleanup(*u); }

void mg_fetch_request_limits(struct mg_fetch_request *req, const struct mg_fetch_policy *f)
{
	req->max_bytes = f->max_bytes;
	req->timeout = f->timeout;
	req->low_speed_limit = f->low_speed_limit;
	req->low_speed_time = f->low_speed_time;
}

/* The terminal id goes into a header: refuse anything that could end it. */
static bool terminal_id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n > MG_FETCH_TERMINAL_MAX)
		return false;
	return strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* A URL must be one of the three schemes and carry no credentials: URLs
 * end up in audit records and messages. */
static int check_url(const char *url)
{
	__attribute__((cleanup(url_freep))) CURLU *u = curl_url();
	_cleanup_free_ char *scheme = NULL;
	char *user = NULL;

	if (!u)
		return mg_fail(ENOMEM, "%s: out of memory", url);
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		return mg_fail(EINVAL, "%s: not a valid URL", url);
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "https") && strcmp(scheme, "http") && strcmp(scheme, "file")))
		return mg_fail(EINVAL, "%s: only https://, http:// and file:// are supported", url);
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		curl_free(user);
		return mg_fail(EINVAL, "%s: credentials in a URL are not supported "
		               "(they would be logged)", url);
	}
	return 0;
}

static size_t sink_write(char *data, size_t size, size_t n, void *userdata)
{
	struct sink *s = userdata;
	size_t add = size * n;

	/* Refusing here stops a chunked or lying stream at the first byte
	 * past the cap, whatever the headers said. */
	if (add > s->max - s->len) {
		s->over = true;
		return 0;
	}
	if (s->len + add + 1 > s->cap) {
		size_t want = s->cap ? s->cap : 16384;
		uint8_t *p;

		while (want < s->len + add + 1)
			want *= 2;
		p = realloc(s->buf, want);
		if (!p) {
			s->nomem = true;
			return 0;
		}
		s->buf = p;
		s->cap = want;
	}
	memcpy(s->buf + s->len, data, add);
	s->len += add;
	s->buf[s->len] = '\0';
	return add;
}

static int add_header(struct curl_slist **list, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int add_header(struct curl_slist **list, const char *fmt, ...)
{
	char line[256];
	struct curl_slist *l;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	l = curl_slist_append(*list, line);
	if (!l)
		return -ENOMEM;
	*list = l;
	return 0;
}

static int build_headers(const struct mg_fetch_request *req, struct curl_slist **list)
{
	int r;

	r = add_header(list, "X-Mynaguard-Terminal: %s", req->terminal_id);
	if (r == 0)
		r = add_header(list, "X-Mynaguard-Policy-Version: %llu",
		               (unsigned long long)req->policy_version);
	/* An ETag is sent back exactly as received; one with a control
	 * character was never stored (see keep_etag). */
	if (r == 0 && req->etag && *req->etag)
		r = add_header(list, "If-None-Match: %s", req->etag);
	/* curl's default Accept header tells a static file server nothing:
	 * one line less in every poll. */
	if (r == 0)
		r = add_header(list, "Accept:");
	if (r < 0)
		return mg_fail(ENOMEM, "%s: out of memory", req->url);
	return 0;
}

static int set_options(CURL *c, const struct mg_fetch_request *req, struct curl_slist *headers,
                       struct sink *s, char *errbuf)
{
	CURLcode e = CURLE_OK;

#define SET(opt, val) if (e == CURLE_OK) e = curl_easy_setopt(c, opt, val)
	SET(CURLOPT_URL, req->url);
	SET(CURLOPT_PROTOCOLS_STR, "https,http,file");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_PROXY, "");                 /* the environment does not choose the path */
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_USERAGENT, "mynaguard/" MG_VERSION);
	SET(CURLOPT_HTTPHEADER, headers);
	SET(CURLOPT_WRITEFUNCTION, sink_write);
	SET(CURLOPT_WRITEDATA, s);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max_bytes);
	SET(CURLOPT_TIMEOUT, (long)req->timeout);
	SET(CURLOPT_LOW_SPEED_LIMIT, (long)req->low_speed_limit);
	SET(CURLOPT_LOW_SPEED_TIME, (long)req->low_speed_time);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (req->ca_file)
		SET(CURLOPT_CAINFO, req->ca_file);
	if (req->pinned_key)
		SET(CURLOPT_PINNEDPUBLICKEY, req->pinned_key);
#undef SET
	if (e != CURLE_OK)
		return mg_fail(EINVAL, "%s: %s", req->url, curl_easy_strerror(e));
	return 0;
}

/* Turns libcurl's verdict into our errno and a message naming the URL. */
static int transfer_error(const struct mg_fetch_request *req, CURLcode e, const struct sink *s,
                          const char *errbuf)
{
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(e);

	if (s->over || e == CURLE_FILESIZE_EXCEEDED)
		return mg_fail(EFBIG, "%s: more than %llu bytes, transfer cut off", req->url,
		               (unsigned long long)req->max_bytes);
	if (s->nomem)
		return mg_fail(ENOMEM, "%s: out of memory", req->url);
	switch (e) {
	case CURLE_OPERATION_TIMEDOUT:
		return mg_fail(ETIMEDOUT, "%s: %s", req->url, why);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_CACERT_BADFILE:
		return mg_fail(EKEYREJECTED, "%s: %s", req->url, why);
	case CURLE_COULDNT_CONNECT:
		return mg_fail(ECONNREFUSED, "%s: %s", req->url, why);
	case CURLE_FILE_COULDNT_READ_FILE:
		return mg_fail(ENOENT, "%s: %s", req->url, why);
	default:
		return mg_fail(EIO, "%s: %s", req->url, why);
	}
}

/* Keeps the ETag only if it can be sent back verbatim in a header. */
static void keep_etag(CURL *c, struct mg_fetch_result *res)
{
	struct curl_header *h = NULL;
	size_t n;

	res->etag[0] = '\0';
	if (curl_easy_header(c, "ETag", 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
		return;
	n = strlen(h->value);
	if (n == 0 || n > MG_FETCH_ETAG_MAX)
		return;
	for (size_t i = 0; i < n; i++)
		if (h->value[i] < 0x20 || h->value[i] > 0x7e)
			return;
	memcpy(res->etag, h->value, n + 1);
}

static int check_request(const struct mg_fetch_request *req)
{
	if (!req->url)
		return mg_fail(EINVAL, "no repository URL (set repository in the configuration "
		               "or give one on the command line)");
	if (!terminal_id_valid(req->terminal_id))
		return mg_fail(EINVAL, "terminal id '%s': expected 1 to %d of A-Z a-z 0-9 . _ -",
		               req->terminal_id ? req->terminal_id : "", MG_FETCH_TERMINAL_MAX);
	if (req->max_bytes == 0 || req->timeout == 0)
		return mg_fail(EINVAL, "%s: max_bytes and timeout must be set", req->url);
	return check_url(req->url);
}

int mg_fetch(const struct mg_fetch_request *req, struct mg_fetch_result *res)
{
	__attribute__((cleanup(curl_cleanupp))) CURL *c = NULL;
	__attribute__((cleanup(slist_freep))) struct curl_slist *headers = NULL;
	struct sink s = {.max = req->max_bytes};
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode e;
	int r;

	memset(res, 0, sizeof(*res));
	r = check_request(req);
	if (r < 0)
		return r;
	pthread_once(&global_once, global_init);
	if (global_status != CURLE_OK || !(c = curl_easy_init()))
		return mg_fail(EIO, "%s: libcurl failed to initialise", req->url);
	r = build_headers(req, &headers);
	if (r == 0)
		r = set_options(c, req, headers, &s, errbuf);
	if (r < 0)
		return r;
	e = curl_easy_perform(c);
	if (e != CURLE_OK) {
		free(s.buf);
		return transfer_error(req, e, &s, errbuf);
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
	if (res->status == 304) {
		free(s.buf);
		res->not_modified = true;
		keep_etag(c, res);
		return 0;
	}
	if (res->status != 200 && res->status != 0) {
		free(s.buf);
		return mg_fail(EPROTO, "%s: the server answered HTTP %ld", req->url, res->status);
	}
	if (!s.buf && !(s.buf = calloc(1, 1)))
		return mg_fail(ENOMEM, "%s: out of memory", req->url);
	res->body = s.buf;
	res->len = s.len;
	keep_etag(c, res);
	return 0;
}

void mg_fetch_result_free(struct mg_fetch_result *res)
{
	free(res->body);
	res->body = NULL;
	res->len = 0;
}
