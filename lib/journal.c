/* The audit journal: writer (append, rotation, repair, backlog), verifier
 * and reader.  The format is in include/mynaguard/journal.h and
 * docs/audit.md.
 *
 * Writers agree on the end of the chain only under the flock on
 * audit.lock, and only from what is on disk: the last complete line of the
 * newest file is the truth, audit.head a lower bound (it lags when a writer
 * is killed between its line and the head, and it is ahead when records
 * were cut off).  So a writer killed at any point never makes the next one
 * reuse a seq or break the chain. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <sodium.h>

#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/journal.h"
#include "mynaguard/json.h"
#include "mynaguard/util.h"

#define LOG_NAME "audit.log"
#define HEAD_NAME "audit.head"
#define LOCK_NAME "audit.lock"
#define ROTATED_PREFIX "audit-"
#define ROTATED_DIGITS 20
#define HASH_BYTES crypto_generichash_BYTES          /* BLAKE2b-256 */
#define HASH_HEX (HASH_BYTES * 2)
#define HASH_SUFFIX ",\"hash\":\""
/* A line never exceeds this; the reader refuses longer ones. */
#define LINE_MAX_BYTES 16384
/* Room for seq, prev and hash around the caller's fields. */
#define BODY_MAX_BYTES (LINE_MAX_BYTES - 256)
/* Each caller string is cut to this many bytes (at a character boundary). */
#define FIELD_MAX_BYTES 1024
#define BACKLOG_MAX 256
#define ROTATE_DEFAULT_BYTES (8u << 20)
#define LOCK_TIMEOUT_MS 10000

struct mg_journal {
	char *dir;                     /* the journal directory */
	char *component;               /* who writes: "agent", "ctl", "pam", ... */
	json_t *backlog[BACKLOG_MAX];  /* records not yet on disk, oldest first; each
	                                  holds time..detail, without seq, prev, hash */
	size_t backlog_len;            /* entries used in backlog */
	uint64_t lost;                 /* records dropped because the backlog was full */
	int64_t lost_first;            /* time of the first dropped record */
	int64_t lost_last;             /* time of the last dropped record */
};

/* The end of the chain, as a writer or the verifier sees it. */
struct chain_end {
	uint64_t seq;                  /* seq of the last record; 0 when there is none */
	char hash[HASH_HEX + 1];       /* its hash; all zeros when there is none */
};

static const char zero_hash[HASH_HEX + 1] =
	"0000000000000000000000000000000000000000000000000000000000000000";

/* ---- shared by writer and reader ---- */

void mg_journal_message_id(const char *event, char out[MG_JOURNAL_MESSAGE_ID_LEN])
{
	static const char domain[] = "mynaguard-event:";
	uint8_t id[16];
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, sizeof(id));
	crypto_generichash_update(&st, (const uint8_t *)domain, sizeof(domain) - 1);
	crypto_generichash_update(&st, (const uint8_t *)event, strlen(event));
	crypto_generichash_final(&st, id, sizeof(id));
	sodium_bin2hex(out, MG_JOURNAL_MESSAGE_ID_LEN, id, sizeof(id));
}

static void hash_hex(const char *data, size_t len, char out[HASH_HEX + 1])
{
	uint8_t h[HASH_BYTES];

	crypto_generichash(h, sizeof(h), (const uint8_t *)data, len, NULL, 0);
	sodium_bin2hex(out, HASH_HEX + 1, h, sizeof(h));
}

static bool is_hash_hex(const char *s)
{
	if (strlen(s) != HASH_HEX)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

/* "audit-00000000000000000042.log" -> 42; 0 for any other name. */
static uint64_t rotated_seq(const char *name)
{
	const char *digits = name + strlen(ROTATED_PREFIX);
	uint64_t seq = 0;

	if (strncmp(name, ROTATED_PREFIX, strlen(ROTATED_PREFIX)) != 0 ||
	    strlen(digits) != ROTATED_DIGITS + 4 || strcmp(digits + ROTATED_DIGITS, ".log") != 0)
		return 0;
	for (int i = 0; i < ROTATED_DIGITS; i++) {
		if (digits[i] < '0' || digits[i] > '9' || seq > (UINT64_MAX - 9) / 10)
			return 0;
		seq = seq * 10 + (uint64_t)(digits[i] - '0');
	}
	return seq;
}

static int cmp_names(const void *a, const void *b)
{
	/* Fixed-width digits: name order is seq order. */
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct file_list {
	char **names;                  /* rotated files by seq, then audit.log if present */
	size_t len;                    /* entries in names */
};

static void file_list_free(struct file_list *l)
{
	for (size_t i = 0; i < l->len; i++)
		free(l->names[i]);
	free(l->names);
	l->names = NULL;
	l->len = 0;
}

static int file_list_add(struct file_list *l, const char *name)
{
	char **grown = realloc(l->names, (l->len + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	l->names = grown;
	if (!(l->names[l->len] = strdup(name)))
		return -ENOMEM;
	l->len++;
	return 0;
}

static int list_files(int dirfd, const char *dir, struct file_list *out)
{
	struct file_list l = {0};
	bool have_log = false;
	struct dirent *e;
	DIR *d;
	int fd, r = 0;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return mg_fail_errno(errno, "%s", dir);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return mg_fail_errno(errno, "%s", dir);
	}
	while (r == 0 && (e = readdir(d))) {
		if (rotated_seq(e->d_name) > 0)
			r = file_list_add(&l, e->d_name);
		else if (strcmp(e->d_name, LOG_NAME) == 0)
			have_log = true;
	}
	closedir(d);
	if (r < 0) {
		file_list_free(&l);
		return mg_fail(ENOMEM, "%s: out of memory", dir);
	}
	if (l.len > 1)
		qsort(l.names, l.len, sizeof(*l.names), cmp_names);
	if (have_log && file_list_add(&l, LOG_NAME) < 0) {
		file_list_free(&l);
		return mg_fail(ENOMEM, "%s: out of memory", dir);
	}
	*out = l;
	return 0;
}

/* Opens a journal file for reading; never follows a link or blocks on a fifo. */
static int open_regular(int dirfd, const char *dir, const char *name, int flags)
{
	struct stat st;
	int fd;

	fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
	if (fd < 0)
		return mg_fail_errno(errno, "%s/%s", dir, name);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return mg_fail(EINVAL, "%s/%s: not a regular file", dir, name);
	}
	return fd;
}

/* What a line says about itself, checked only as far as the writer needs:
 * seq and hash.  Returns 0, or -EBADMSG when the line is no record. */
static int line_end(const char *line, size_t len, struct chain_end *end)
{
	_cleanup_json_ json_t *rec = NULL;
	const char *hash = NULL;
	uint64_t seq = 0;
	int r;

	r = mg_json_parse(line, len, "record", &rec);
	if (r == 0) r = mg_json_get_uint(rec, "seq", "record", true, 1, UINT64_MAX, &seq);
	if (r == 0) r = mg_json_get_string(rec, "hash", "record", true, &hash);
	if (r < 0 || !is_hash_hex(hash))
		return -EBADMSG;
	end->seq = seq;
	memcpy(end->hash, hash, sizeof(end->hash));
	return 0;
}

/* Reads the last complete line of fd (which ends with '\n', or is empty). */
static int last_line(int fd, off_t size, struct chain_end *end)
{
	off_t from = size > LINE_MAX_BYTES + 1 ? size - (LINE_MAX_BYTES + 1) : 0;
	_cleanup_free_ char *buf = NULL;
	ssize_t n;
	char *start;

	if (size == 0)
		return -ENOENT;
	buf = malloc((size_t)(size - from));
	if (!buf)
		return -ENOMEM;
	n = pread(fd, buf, (size_t)(size - from), from);
	if (n != size - from)
		return -EIO;
	buf[n - 1] = '\0';            /* the final '\n' */
	start = strrchr(buf, '\n');
	if (start)
		start++;
	else if (from == 0)
		start = buf;
	else
		return -EBADMSG;       /* longer than any record */
	return line_end(start, strlen(start), end);
}

/* ---- writer ---- */

int mg_journal_open(const char *dir, const char *component, struct mg_journal **out)
{
	struct mg_journal *j;

	if (!dir || !*dir)
		return mg_fail(EINVAL, "audit journal: no directory given");
	if (!component || !*component || strlen(component) > 32)
		return mg_fail(EINVAL, "audit journal: component must be 1..32 characters");
	if (sodium_init() < 0)
		return mg_fail(EIO, "audit journal: libsodium failed to initialise");
	j = calloc(1, sizeof(*j));
	if (!j || !(j->dir = strdup(dir)) || !(j->component = strdup(component))) {
		mg_journal_close(j);
		return mg_fail(ENOMEM, "audit journal: out of memory");
	}
	*out = j;
	return 0;
}

static bool valid_event(const char *event)
{
	size_t n = event ? strlen(event) : 0;

	if (n == 0 || n > 64)
		return false;
	for (const char *p = event; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("._-", *p)))
			return false;
	return true;
}

/* The length of the valid UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_sequence(const unsigned char *p, size_t left)
{
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (p[0] == 0xe0) lo = 0xa0;
	if (p[0] == 0xed) hi = 0x9f;
	if (p[0] == 0xf0) lo = 0x90;
	if (p[0] == 0xf4) hi = 0x8f;
	if (len > left || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* A JSON string of s: cut to FIELD_MAX_BYTES at a character boundary,
 * each byte that is not part of valid UTF-8 replaced by '?', so that an
 * odd device serial never costs a record and Japanese text stays. */
static json_t *field_string(const char *s)
{
	const unsigned char *in = (const unsigned char *)s;
	char buf[FIELD_MAX_BYTES];
	size_t n = strnlen(s, FIELD_MAX_BYTES + 1), out = 0;

	if (n > FIELD_MAX_BYTES)
		n = FIELD_MAX_BYTES;
	for (size_t i = 0; i < n;) {
		size_t len = utf8_sequence(in + i, n - i);

		if (len == 0) {
			/* a character cut by the limit is dropped, not mangled */
			if (s[n] && (in[i] & 0xc0) == 0xc0 && utf8_sequence(in + i, 4) > n - i)
				break;
			buf[out++] = '?';
			i++;
			continue;
		}
		memcpy(buf + out, in + i, len);
		out += len;
		i += len;
	}
	return json_stringn(buf, out);
}

static int set_field(json_t *obj, const char *key, const char *value)
{
	if (!value)
		return 0;
	return json_object_set_new(obj, key, field_string(value)) < 0 ? -ENOMEM : 0;
}

/* Builds time..detail in the fixed key order.  A detail that would make
 * the line too long is replaced by its size, so the record still says
 * what happened. */
static int record_body(const struct mg_journal *j, const struct mg_audit *rec, json_t **out)
{
	_cleanup_json_ json_t *body = json_object();
	char now[MG_TIME_LEN];
	int r = 0;

	if (!rec || !valid_event(rec->event))
		return mg_fail(EINVAL, "audit record: event \"%s\" is not a dotted name of [a-z0-9._-]{1,64}",
		               rec && rec->event ? rec->event : "(null)");
	if (rec->detail && !json_is_object(rec->detail))
		return mg_fail(EINVAL, "audit record %s: detail must be an object", rec->event);
	if (!body)
		return mg_fail(ENOMEM, "audit record: out of memory");
	mg_time_format(mg_now(), now);
	if (r == 0) r = set_field(body, "time", now);
	if (r == 0) r = set_field(body, "host", mg_hostname());
	if (r == 0) r = set_field(body, "component", j->component);
	if (r == 0) r = set_field(body, "event", rec->event);
	if (r == 0) r = set_field(body, "decision", rec->decision);
	if (r == 0) r = set_field(body, "rule", rec->rule);
	if (r == 0) r = set_field(body, "subject", rec->subject);
	if (r == 0 && rec->detail)
		r = json_object_set_new(body, "detail", json_deep_copy(rec->detail)) < 0 ? -ENOMEM : 0;
	if (r < 0)
		return mg_fail(ENOMEM, "audit record: out of memory");
	if (rec->detail) {
		size_t size = json_dumpb(body, NULL, 0, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (size > BODY_MAX_BYTES)
			json_object_set_new(body, "detail", json_pack("{sI}", "omitted_bytes", (json_int_t)size));
	}
	*out = MG_TAKE(body);
	return 0;
}

static int syslog_priority(const char *decision)
{
	if (!decision)
		return LOG_INFO;
	if (strcmp(decision, "alert") == 0)
		return LOG_ALERT;
	if (strcmp(decision, "block") == 0 || strcmp(decision, "reject") == 0 ||
	    strcmp(decision, "rejected") == 0)
		return LOG_WARNING;
	return LOG_NOTICE;
}

/* The syslog copy: the whole record, so a collector off the box holds the
 * chain too.  Never openlog(): the PAM module runs inside sshd and login. */
static void mirror(const json_t *rec, const char *text, bool journaled)
{
	const char *event = json_string_value(json_object_get(rec, "event"));
	const char *decision = json_string_value(json_object_get(rec, "decision"));
	char id[MG_JOURNAL_MESSAGE_ID_LEN];

	mg_journal_message_id(event, id);
	syslog(LOG_AUTHPRIV | syslog_priority(decision), "mynaguard audit MESSAGE_ID=%s%s %s", id,
	       journaled ? "" : " (not journaled)", text);
}

static void mirror_body(const json_t *body)
{
	_cleanup_free_ char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (text)
		mirror(body, text, false);
}

/* Takes body into the backlog, or counts it lost when the backlog is full. */
static void enqueue(struct mg_journal *j, json_t *body)
{
	if (j->backlog_len < BACKLOG_MAX) {
		j->backlog[j->backlog_len++] = body;
		return;
	}
	mg_time_parse(json_string_value(json_object_get(body, "time")), &j->lost_last);
	if (j->lost++ == 0)
		j->lost_first = j->lost_last;
	json_decref(body);
}

static uint64_t rotate_bytes(void)
{
	const char *s = secure_getenv("MYNAGUARD_AUDIT_ROTATE_BYTES");
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return ROTATE_DEFAULT_BYTES;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v == 0)
		return ROTATE_DEFAULT_BYTES;
	return v;
}

/* Everything a writer holds while it owns the lock. */
struct writer {
	struct mg_journal *j;
	int dirfd;                     /* the journal directory */
	int lockfd;                    /* holds the flock on audit.lock */
	int logfd;                     /* audit.log, O_APPEND */
	struct chain_end end;          /* the last record on disk */
	uint64_t head_seq;             /* what audit.head said (0: missing) */
	json_t *alerts;                /* journal.repaired records to write first */
};

static void writer_release(struct writer *w)
{
	if (w->logfd >= 0)
		close(w->logfd);
	if (w->lockfd >= 0)
		close(w->lockfd);
	if (w->dirfd >= 0)
		close(w->dirfd);
	json_decref(w->alerts);
}

static int add_alert(struct writer *w, const char *reason, json_t *detail)
{
	struct mg_audit a = {.event = "journal.repaired", .decision = "alert", .subject = reason,
	                     .detail = detail};
	json_t *body;
	int r = record_body(w->j, &a, &body);

	json_decref(detail);
	if (r < 0)
		return r;
	return json_array_append_new(w->alerts, body) < 0 ? mg_fail(ENOMEM, "out of memory") : 0;
}

static int read_head(int dirfd, const char *dir, struct chain_end *head)
{
	_cleanup_free_ uint8_t *data = NULL;
	_cleanup_json_ json_t *obj = NULL;
	static const char *const keys[] = {"seq", "hash", NULL};
	const char *hash = NULL;
	size_t len;
	int r;

	r = mg_file_read_at(dirfd, dir, HEAD_NAME, 1024, &data, &len);
	if (r < 0)
		return r;
	r = mg_json_parse(data, len, HEAD_NAME, &obj);
	if (r == 0) r = mg_json_only_keys(obj, HEAD_NAME ": $", keys);
	if (r == 0) r = mg_json_get_uint(obj, "seq", HEAD_NAME ": $", true, 1, UINT64_MAX, &head->seq);
	if (r == 0) r = mg_json_get_string(obj, "hash", HEAD_NAME ": $", true, &hash);
	if (r == 0 && !is_hash_hex(hash))
		r = mg_fail(EBADMSG, "%s: $.hash: expected %d hex digits", HEAD_NAME, HASH_HEX);
	if (r < 0)
		return r;
	memcpy(head->hash, hash, sizeof(head->hash));
	return 0;
}

/* A writer killed mid-line leaves an unterminated tail.  A short one is a
 * torn record and is cut off; anything longer than a record is not ours
 * to destroy, so it is only terminated, and verify reports it. */
static int repair_tail(struct writer *w, off_t *size)
{
	off_t from = *size > LINE_MAX_BYTES + 1 ? *size - (LINE_MAX_BYTES + 1) : 0;
	_cleanup_free_ char *buf = NULL;
	off_t keep;
	ssize_t n;
	char *nl, last;

	if (*size == 0)
		return 0;
	if (pread(w->logfd, &last, 1, *size - 1) != 1)
		return mg_fail_errno(errno ? errno : EIO, "%s/%s: read", w->j->dir, LOG_NAME);
	if (last == '\n')
		return 0;
	buf = malloc((size_t)(*size - from));
	if (!buf)
		return mg_fail(ENOMEM, "out of memory");
	n = pread(w->logfd, buf, (size_t)(*size - from), from);
	if (n != *size - from)
		return mg_fail_errno(n < 0 ? errno : EIO, "%s/%s: read", w->j->dir, LOG_NAME);
	nl = memrchr(buf, '\n', (size_t)n);
	if (!nl && from > 0) {
		if (write(w->logfd, "\n", 1) != 1)
			return mg_fail_errno(errno ? errno : EIO, "%s/%s: write", w->j->dir, LOG_NAME);
		*size += 1;
		return add_alert(w, "unterminated data at the end of audit.log, kept for inspection",
		                 json_pack("{ss}", "file", LOG_NAME));
	}
	keep = nl ? from + (nl - buf) + 1 : 0;
	if (ftruncate(w->logfd, keep) < 0 || fdatasync(w->logfd) < 0)
		return mg_fail_errno(errno, "%s/%s: truncate a torn record", w->j->dir, LOG_NAME);
	n = *size - keep;
	*size = keep;
	return add_alert(w, "torn record at the end of audit.log removed (a writer was killed mid-write)",
	                 json_pack("{sssI}", "file", LOG_NAME, "removed_bytes", (json_int_t)n));
}

/* The highest seq of any line of fd that is a record, for a file whose
 * last line is not one: continuing after the highest, not the last, is
 * what keeps a seq from being used twice.  Files beyond any size the
 * writer makes are not read. */
static int scan_highest(int fd, off_t size, struct chain_end *end)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	bool found = false;
	size_t cap = 0;
	ssize_t n;
	int copy;

	if ((uint64_t)size > 64u << 20)
		return -ENOENT;
	copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (copy < 0)
		return -errno;
	f = fdopen(copy, "r");
	if (!f) {
		close(copy);
		return -errno;
	}
	rewind(f);
	while ((n = getline(&line, &cap, f)) > 0) {
		struct chain_end e;

		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (line_end(line, (size_t)n, &e) == 0 && (!found || e.seq > end->seq)) {
			*end = e;
			found = true;
		}
	}
	return found ? 0 : -ENOENT;
}

/* The end of the chain in one file: its last line, or the highest record
 * in it when the last line is none (*damaged is then set). */
static int file_end(int fd, off_t size, struct chain_end *end, bool *damaged)
{
	int r = last_line(fd, size, end);

	if (r != -EBADMSG)
		return r;
	*damaged = true;
	return scan_highest(fd, size, end);
}

/* The end of the chain in the newest rotated file that has one. */
static int rotated_end(struct writer *w, struct chain_end *end, bool *damaged)
{
	struct file_list l = {0};
	struct stat st;
	int fd, r;

	r = list_files(w->dirfd, w->j->dir, &l);
	if (r < 0)
		return r;
	r = -ENOENT;
	for (size_t i = l.len; i-- > 0 && r == -ENOENT;) {
		if (strcmp(l.names[i], LOG_NAME) == 0)
			continue;
		fd = open_regular(w->dirfd, w->j->dir, l.names[i], O_RDONLY);
		if (fd < 0) {
			r = fd;
			break;
		}
		r = fstat(fd, &st) < 0 ? -errno : file_end(fd, st.st_size, end, damaged);
		close(fd);
	}
	file_list_free(&l);
	return r;
}

/* Settles the end of the chain from the log and audit.head.  Whatever is
 * damaged, the writer goes on writing (an audit trail that stops is worse
 * than one with a marked gap): it continues after the highest seq it can
 * find, records what it found in a journal.repaired alert, and leaves the
 * damage itself for verify to name. */
static int find_end(struct writer *w, off_t size)
{
	struct chain_end tail = {0}, head = {0};
	bool have_tail, have_head, damaged = false;
	int r;

	r = size > 0 ? file_end(w->logfd, size, &tail, &damaged) : -ENOENT;
	if (r == -ENOENT)
		r = rotated_end(w, &tail, &damaged);
	have_tail = r == 0;
	if (r < 0 && r != -ENOENT)
		return mg_fail_errno(r, "%s: reading the end of the journal", w->j->dir);
	r = read_head(w->dirfd, w->j->dir, &head);
	have_head = r == 0;
	if (r < 0 && r != -ENOENT) {
		r = add_alert(w, "audit.head unreadable", json_pack("{ss}", "error", mg_error()));
		if (r < 0)
			return r;
	}
	w->head_seq = have_head ? head.seq : 0;
	memcpy(w->end.hash, zero_hash, sizeof(zero_hash));
	if (damaged) {
		r = add_alert(w, "the last line of the journal is not a record; continuing after the "
		              "highest record found", json_pack("{sI}", "seq", (json_int_t)tail.seq));
		if (r < 0)
			return r;
	}
	if (!have_tail && !have_head) {
		if (damaged)
			return add_alert(w, "no readable record and no audit.head: a new chain starts here",
			                 NULL);
		return 0;
	}
	if (have_head && (!have_tail || head.seq > tail.seq)) {
		w->end = head;
		return add_alert(w, "records missing at the end of the journal (audit.head is ahead)",
		                 json_pack("{sIsI}", "head_seq", (json_int_t)head.seq,
		                           "log_seq", (json_int_t)tail.seq));
	}
	w->end = tail;
	if (have_head && head.seq == tail.seq && strcmp(head.hash, tail.hash) != 0)
		return add_alert(w, "audit.head does not match the last record",
		                 json_pack("{sIss}", "seq", (json_int_t)tail.seq, "head_hash", head.hash));
	return 0;
}

static int open_log(struct writer *w, off_t *size)
{
	struct stat st;

	w->logfd = open_regular(w->dirfd, w->j->dir, LOG_NAME, O_RDWR | O_APPEND | O_CREAT);
	if (w->logfd < 0)
		return w->logfd;
	if (fstat(w->logfd, &st) < 0)
		return mg_fail_errno(errno, "%s/%s", w->j->dir, LOG_NAME);
	/* fdatasync of a record does not make a new file's name durable: an
	 * empty (perhaps new) log gets its directory synced once. */
	if (st.st_size == 0 && fsync(w->dirfd) < 0)
		return mg_fail_errno(errno, "%s: fsync", w->j->dir);
	*size = st.st_size;
	return 0;
}

/* audit.log -> audit-SEQ.log, SEQ the first record in it. */
static int rotate(struct writer *w)
{
	_cleanup_free_ char *first = malloc(LINE_MAX_BYTES + 1);
	struct chain_end start = {0};
	char name[64];
	ssize_t n;
	char *nl;
	off_t size;

	if (!first)
		return mg_fail(ENOMEM, "out of memory");
	n = pread(w->logfd, first, LINE_MAX_BYTES, 0);
	if (n < 0)
		return mg_fail_errno(errno, "%s/%s: read", w->j->dir, LOG_NAME);
	first[n] = '\0';
	nl = strchr(first, '\n');
	/* An unreadable first line still rotates, named for the next seq:
	 * verify reports the damage either way. */
	if (!nl || line_end(first, (size_t)(nl - first), &start) < 0)
		start.seq = w->end.seq + 1;
	snprintf(name, sizeof(name), ROTATED_PREFIX "%0*llu.log", ROTATED_DIGITS,
	         (unsigned long long)start.seq);
	if (renameat2(w->dirfd, LOG_NAME, w->dirfd, name, RENAME_NOREPLACE) < 0)
		return mg_fail_errno(errno, "%s/%s: rotate to %s", w->j->dir, LOG_NAME, name);
	if (fsync(w->dirfd) < 0)
		return mg_fail_errno(errno, "%s: fsync", w->j->dir);
	/* Temp files of audit.head left by killed writers; safe only under the
	 * lock, and rare enough to do here. */
	mg_file_sweep_temps(w->dirfd);
	close(w->logfd);
	return open_log(w, &size);
}

static int writer_begin(struct mg_journal *j, struct writer *w)
{
	off_t size;
	int r;

	*w = (struct writer){.j = j, .dirfd = -1, .lockfd = -1, .logfd = -1, .alerts = json_array()};
	if (!w->alerts)
		return mg_fail(ENOMEM, "out of memory");
	w->dirfd = mg_dir_open(j->dir);
	if (w->dirfd == -ENOENT) {
		r = mg_dir_ensure(j->dir, 0700);
		if (r < 0)
			return r;
		w->dirfd = mg_dir_open(j->dir);
	}
	if (w->dirfd < 0)
		return w->dirfd;
	w->lockfd = mg_file_lock_at(w->dirfd, j->dir, LOCK_NAME, true, LOCK_TIMEOUT_MS);
	if (w->lockfd < 0)
		return w->lockfd;
	r = open_log(w, &size);
	if (r == 0) r = repair_tail(w, &size);
	if (r == 0) r = find_end(w, size);
	if (r == 0 && (uint64_t)size >= rotate_bytes())
		r = rotate(w);
	return r;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes one record durably; on failure the log is cut back so that no
 * torn line remains. */
static int write_record(struct writer *w, const json_t *body)
{
	_cleanup_json_ json_t *rec = json_pack("{sI}", "seq", (json_int_t)(w->end.seq + 1));
	_cleanup_free_ char *text = NULL, *line = NULL;
	char hash[HASH_HEX + 1];
	struct stat st;
	size_t len;
	int r;

	if (!rec || json_object_update(rec, (json_t *)body) < 0 ||
	    json_object_set_new(rec, "prev", json_string(w->end.hash)) < 0)
		return mg_fail(ENOMEM, "audit record: out of memory");
	text = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text)
		return mg_fail(ENOMEM, "audit record: out of memory");
	len = strlen(text) - 1;        /* without the closing '}' */
	hash_hex(text, len, hash);
	line = malloc(len + sizeof(HASH_SUFFIX) + HASH_HEX + 3);
	if (!line)
		return mg_fail(ENOMEM, "audit record: out of memory");
	memcpy(line, text, len);
	len += (size_t)sprintf(line + len, HASH_SUFFIX "%s\"}\n", hash);
	if (fstat(w->logfd, &st) < 0)
		return mg_fail_errno(errno, "%s/%s", w->j->dir, LOG_NAME);
	r = write_all(w->logfd, line, len);
	if (r == 0 && fdatasync(w->logfd) < 0)
		r = -errno;
	if (r < 0) {
		if (ftruncate(w->logfd, st.st_size) == 0)
			fdatasync(w->logfd);
		return mg_fail_errno(r, "%s/%s: write", w->j->dir, LOG_NAME);
	}
	w->end.seq++;
	memcpy(w->end.hash, hash, sizeof(hash));
	line[len - 1] = '\0';
	mirror(rec, line, true);
	return 0;
}

static int write_head(struct writer *w)
{
	char text[128];
	int n;

	if (w->end.seq == 0 || w->end.seq == w->head_seq)
		return 0;
	n = snprintf(text, sizeof(text), "{\"seq\":%llu,\"hash\":\"%s\"}\n",
	             (unsigned long long)w->end.seq, w->end.hash);
	/* The records are durable already.  A replaced head that a crash
	 * takes back is the previous one, still a lower bound, so only the
	 * first head needs the directory synced. */
	if (w->head_seq == 0)
		return mg_file_replace_at(w->dirfd, w->j->dir, HEAD_NAME, text, (size_t)n, 0600);
	return mg_file_replace_at_unsynced_dir(w->dirfd, w->j->dir, HEAD_NAME, text, (size_t)n, 0600);
}

static int write_lost(struct writer *w)
{
	char first[MG_TIME_LEN], last[MG_TIME_LEN];
	struct mg_audit a = {.event = "journal.lost", .decision = "alert",
	                     .subject = "records dropped while the journal could not be written"};
	json_t *body;
	int r;

	mg_time_format(w->j->lost_first, first);
	mg_time_format(w->j->lost_last, last);
	a.detail = json_pack("{sIssss}", "lost", (json_int_t)w->j->lost, "first", first, "last", last);
	r = record_body(w->j, &a, &body);
	json_decref(a.detail);
	if (r < 0)
		return r;
	r = write_record(w, body);
	json_decref(body);
	if (r == 0)
		w->j->lost = 0;
	return r;
}

/* Writes the repair alerts, the backlog in order, the count of lost
 * records, then body, and moves audit.head.  A failed head is not a lost
 * record: the log is the truth and the head only a lower bound, so it is
 * reported and the append counts as done. */
static int flush(struct mg_journal *j, const json_t *body)
{
	struct writer w;
	size_t done = 0, i;
	int r;

	r = writer_begin(j, &w);
	for (i = 0; r == 0 && i < json_array_size(w.alerts); i++)
		r = write_record(&w, json_array_get(w.alerts, i));
	for (; r == 0 && done < j->backlog_len; done++)
		r = write_record(&w, j->backlog[done]);
	if (r < 0 && done > 0)
		done--;                /* the one that failed stays */
	for (i = 0; i < done; i++)
		json_decref(j->backlog[i]);
	memmove(j->backlog, j->backlog + done, (j->backlog_len - done) * sizeof(*j->backlog));
	j->backlog_len -= done;
	if (r == 0 && j->lost > 0)
		r = write_lost(&w);
	if (r == 0 && body)
		r = write_record(&w, body);
	/* After a failure the head stays behind (a lower bound), and the
	 * message stays the failure's. */
	if (r == 0 && write_head(&w) < 0)
		syslog(LOG_AUTHPRIV | LOG_ERR, "mynaguard audit: %s not updated: %s", HEAD_NAME, mg_error());
	writer_release(&w);
	return r;
}

int mg_journal_append(struct mg_journal *j, const struct mg_audit *rec)
{
	bool was_failing = j->backlog_len > 0 || j->lost > 0;
	json_t *body;
	int r;

	r = record_body(j, rec, &body);
	if (r < 0)
		return r;
	r = flush(j, body);
	if (r == 0) {
		json_decref(body);
		if (was_failing)
			syslog(LOG_AUTHPRIV | LOG_NOTICE, "mynaguard audit journal (%s) writing again",
			       j->component);
		return 0;
	}
	mirror_body(body);
	enqueue(j, body);
	syslog(LOG_AUTHPRIV | LOG_ALERT,
	       "mynaguard audit journal failing (%s): %s; held in memory: %zu, lost: %llu",
	       j->component, mg_error(), j->backlog_len, (unsigned long long)j->lost);
	return mg_error_prefix(r, "audit journal failing");
}

int mg_journal_flush(struct mg_journal *j)
{
	int r;

	if (j->backlog_len == 0 && j->lost == 0)
		return 0;
	r = flush(j, NULL);
	if (r < 0)
		return mg_error_prefix(r, "audit journal failing");
	syslog(LOG_AUTHPRIV | LOG_NOTICE, "mynaguard audit journal (%s) writing again", j->component);
	return 0;
}

size_t mg_journal_pending(const struct mg_journal *j)
{
	return j->backlog_len;
}

/* Does not try again: the records still held were mirrored to syslog
 * when they failed, and a retry here would hide the first error. */
void mg_journal_close(struct mg_journal *j)
{
	if (!j)
		return;
	if (j->backlog_len > 0 || j->lost > 0)
		syslog(LOG_AUTHPRIV | LOG_ALERT,
		       "mynaguard audit journal failing (%s): at close, not journaled: %zu, lost: %llu",
		       j->component, j->backlog_len, (unsigned long long)j->lost);
	for (size_t i = 0; i < j->backlog_len; i++)
		json_decref(j->backlog[i]);
	free(j->dir);
	free(j->component);
	free(j);
}

int mg_audit(const char *dir, const char *component, const struct mg_audit *rec)
{
	struct mg_journal *j;
	int r;

	r = mg_journal_open(dir, component, &j);
	if (r < 0)
		return r;
	r = mg_journal_append(j, rec);
	mg_journal_close(j);
	return r;
}

/* ---- verifier ---- */

/* What the verifier carries from record to record and file to file. */
struct verifier {
	const char *dir;               /* the journal directory */
	const char *file;              /* the file being read */
	size_t line_no;                /* its line being checked, from 1 */
	struct chain_end last;         /* the last record that verified */
	struct chain_end head;         /* what audit.head says (seq 0: missing) */
	bool head_matches;             /* the record at head.seq has the head's hash */
	char head_where[128];          /* where that record is, for messages */
	struct mg_journal_report *rep;
};

static int bad(const struct verifier *v, uint64_t seq, const char *what)
{
	if (seq)
		return mg_fail(EBADMSG, "%s line %zu (seq %llu): %s", v->file, v->line_no,
		               (unsigned long long)seq, what);
	return mg_fail(EBADMSG, "%s line %zu: %s", v->file, v->line_no, what);
}

/* The fields and their types; the hash is checked against the bytes. */
static int check_fields(const struct verifier *v, const json_t *rec, uint64_t *seq,
                        const char **prev, const char **hash)
{
	static const char *const keys[] = {"seq", "time", "host", "component", "event", "decision",
	                                   "rule", "subject", "detail", "prev", "hash", NULL};
	static const char *const required[] = {"host", "component", "event", NULL};
	static const char *const optional[] = {"decision", "rule", "subject", NULL};
	const char *time = NULL, *s;
	json_t *detail;
	char where[MG_WHERE_MAX];
	int64_t t;
	int r;

	snprintf(where, sizeof(where), "%s line %zu: $", v->file, v->line_no);
	r = mg_json_only_keys(rec, where, keys);
	if (r == 0) r = mg_json_get_uint(rec, "seq", where, true, 1, UINT64_MAX, seq);
	if (r == 0) r = mg_json_get_string(rec, "time", where, true, &time);
	for (size_t i = 0; r == 0 && required[i]; i++)
		r = mg_json_get_string(rec, required[i], where, true, &s);
	for (size_t i = 0; r == 0 && optional[i]; i++)
		r = mg_json_get_string(rec, optional[i], where, false, &s);
	if (r == 0) r = mg_json_get_object(rec, "detail", where, false, &detail);
	if (r == 0) r = mg_json_get_string(rec, "prev", where, true, prev);
	if (r == 0) r = mg_json_get_string(rec, "hash", where, true, hash);
	if (r < 0)
		return -EBADMSG;
	if (mg_time_parse(time, &t) < 0)
		return bad(v, *seq, "time is not a UTC time like 2026-12-06T05:00:00Z");
	if (!is_hash_hex(*prev) || !is_hash_hex(*hash))
		return bad(v, *seq, "prev and hash must be 64 lower-case hex digits");
	return 0;
}

static int check_line(struct verifier *v, const char *line, size_t len)
{
	_cleanup_json_ json_t *rec = NULL;
	const char *prev, *hash;
	char want[HASH_HEX + 1], msg[128];
	size_t suffix = sizeof(HASH_SUFFIX) - 1 + HASH_HEX + 2;
	uint64_t seq;
	int r;

	if (mg_json_parse(line, len, "", &rec) < 0)
		return bad(v, 0, "not a JSON record (edited or corrupted)");
	r = check_fields(v, rec, &seq, &prev, &hash);
	if (r < 0)
		return r;
	/* "hash" is the last member, so its bytes end the line. */
	if (len < suffix || memcmp(line + len - suffix, HASH_SUFFIX, sizeof(HASH_SUFFIX) - 1) != 0 ||
	    memcmp(line + len - HASH_HEX - 2, hash, HASH_HEX) != 0)
		return bad(v, seq, "\"hash\" is not the last member (edited)");
	hash_hex(line, len - suffix, want);
	if (sodium_memcmp(want, hash, HASH_HEX) != 0)
		return bad(v, seq, "hash mismatch, record edited");
	if (seq != v->last.seq + 1) {
		if (v->last.seq == 0)
			snprintf(msg, sizeof(msg), "the journal starts at seq %llu, not 1: "
			         "earlier records or files removed", (unsigned long long)seq);
		else
			snprintf(msg, sizeof(msg), "seq %llu follows seq %llu: records %s",
			         (unsigned long long)seq, (unsigned long long)v->last.seq,
			         seq > v->last.seq ? "deleted or reordered" : "duplicated or reordered");
		return bad(v, seq, msg);
	}
	if (strcmp(prev, v->last.hash) != 0)
		return bad(v, seq, "prev is not the hash of the record before: record inserted, "
		           "deleted or reordered");
	v->last.seq = seq;
	memcpy(v->last.hash, hash, sizeof(v->last.hash));
	if (seq == v->head.seq) {
		v->head_matches = strcmp(hash, v->head.hash) == 0;
		snprintf(v->head_where, sizeof(v->head_where), "%s line %zu", v->file, v->line_no);
	}
	v->rep->records++;
	v->rep->last_seq = seq;
	if (strncmp(json_string_value(json_object_get(rec, "event")), "journal.", 8) == 0)
		v->rep->incidents++;
	memcpy(v->rep->last_hash, hash, HASH_HEX + 1);
	return 0;
}

static int verify_file(struct verifier *v, int dirfd, const char *name)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	uint64_t named = rotated_seq(name);
	size_t cap = 0;
	ssize_t n;
	int fd, r;

	fd = open_regular(dirfd, v->dir, name, O_RDONLY);
	if (fd < 0)
		return fd;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return mg_fail_errno(errno, "%s/%s", v->dir, name);
	}
	v->file = name;
	v->line_no = 0;
	v->rep->files++;
	while ((n = getline(&line, &cap, f)) > 0) {
		v->line_no++;
		if (line[n - 1] != '\n')
			return bad(v, 0, "incomplete record at the end (a writer was killed mid-write; "
			           "the next append removes it)");
		if (n > LINE_MAX_BYTES)
			return bad(v, 0, "longer than any record (inserted data)");
		r = check_line(v, line, (size_t)n - 1);
		if (r < 0)
			return r;
		if (v->line_no == 1 && named > 0 && named != v->last.seq)
			return bad(v, v->last.seq, "the file is named for another seq (renamed)");
	}
	if (ferror(f))
		return mg_fail_errno(errno, "%s/%s: read", v->dir, name);
	if (v->line_no == 0 && named > 0)
		return mg_fail(EBADMSG, "%s: empty rotated file (records removed)", name);
	return 0;
}

static int verify_head(struct verifier *v, int dirfd)
{
	int r = read_head(dirfd, v->dir, &v->head);

	if (r == -ENOENT) {
		v->head.seq = 0;
		return 0;
	}
	return r < 0 ? mg_fail(EBADMSG, "%s", mg_error()) : 0;
}

static int verify_once(int dirfd, const char *dir, struct mg_journal_report *rep)
{
	struct file_list files = {0};
	struct verifier v = {.dir = dir, .rep = rep};
	int r;

	*rep = (struct mg_journal_report){0};
	memcpy(v.last.hash, zero_hash, sizeof(zero_hash));
	r = verify_head(&v, dirfd);
	if (r == 0) r = list_files(dirfd, dir, &files);
	for (size_t i = 0; r == 0 && i < files.len; i++)
		r = verify_file(&v, dirfd, files.names[i]);
	file_list_free(&files);
	if (r < 0)
		return r;
	if (v.head.seq == 0 && v.last.seq > 0)
		return mg_fail(EBADMSG, "%s: missing, so cutting records off the end cannot be ruled out",
		               HEAD_NAME);
	if (v.head.seq > v.last.seq)
		return mg_fail(EBADMSG, "%s: says seq %llu but the journal ends at seq %llu: "
		               "records cut off the end", HEAD_NAME, (unsigned long long)v.head.seq,
		               (unsigned long long)v.last.seq);
	if (v.head.seq > 0 && !v.head_matches)
		return mg_fail(EBADMSG, "%s: the hash of seq %llu does not match %s", HEAD_NAME,
		               (unsigned long long)v.head.seq, v.head_where);
	return 0;
}

/* The first pass runs beside live writers, so a record half-written or a
 * file rotated away in the middle of the walk can look like damage.  Any
 * failure is therefore confirmed by a second pass under the writers' lock
 * (shared), which only failures pay for; a journal without audit.lock (an
 * archived copy) has no writers. */
int mg_journal_verify(const char *dir, struct mg_journal_report *rep)
{
	_cleanup_close_ int dirfd = -1, lock = -1;
	int r;

	if (sodium_init() < 0)
		return mg_fail(EIO, "libsodium failed to initialise");
	dirfd = mg_dir_open(dir);
	if (dirfd < 0)
		return dirfd;
	r = verify_once(dirfd, dir, rep);
	if (r == 0 || faccessat(dirfd, LOCK_NAME, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return r;
	lock = mg_file_lock_at(dirfd, dir, LOCK_NAME, false, LOCK_TIMEOUT_MS);
	if (lock < 0)
		return lock;
	return verify_once(dirfd, dir, rep);
}

/* ---- reader ---- */

/* The last n lines, kept while walking forward through the files. */
struct tail_ring {
	char **lines;                  /* n slots, oldest at next once full */
	size_t n;                      /* slots */
	size_t next;                   /* the slot the next line goes into */
	size_t used;                   /* slots filled */
};

static int deliver(const char *line, mg_journal_fn fn, void *userdata)
{
	_cleanup_json_ json_t *rec = NULL;

	if (mg_json_parse(line, strlen(line), "", &rec) < 0)
		rec = NULL;
	return fn(rec, line, userdata);
}

/* Reads one file through fd, which it takes. */
static int read_file(int fd, const char *dir, const char *name, struct tail_ring *ring,
                     mg_journal_fn fn, void *userdata)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int r;

	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return mg_fail_errno(errno, "%s/%s", dir, name);
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (!ring->n) {
			r = deliver(line, fn, userdata);
			if (r != 0)
				return r;
			continue;
		}
		free(ring->lines[ring->next]);
		ring->lines[ring->next] = MG_TAKE(line);
		cap = 0;
		ring->next = (ring->next + 1) % ring->n;
		if (ring->used < ring->n)
			ring->used++;
	}
	return ferror(f) ? mg_fail_errno(errno, "%s/%s: read", dir, name) : 0;
}

/* Opens every file of the journal before reading any, so that a file
 * rotated away after it was listed is still read whole, by descriptor.  A
 * file gone between listing and opening was rotated: list again. */
static int open_all(int dirfd, const char *dir, struct file_list *files, int **fds)
{
	for (int tries = 0;; tries++) {
		size_t opened = 0;
		int r = list_files(dirfd, dir, files);

		if (r < 0)
			return r;
		*fds = calloc(files->len + 1, sizeof(**fds));
		if (!*fds) {
			file_list_free(files);
			return mg_fail(ENOMEM, "out of memory");
		}
		for (; r >= 0 && opened < files->len; opened++) {
			r = open_regular(dirfd, dir, files->names[opened], O_RDONLY);
			(*fds)[opened] = r;
		}
		if (r >= 0)
			return 0;
		for (size_t i = 0; i + 1 < opened; i++)
			close((*fds)[i]);
		free(*fds);
		file_list_free(files);
		if (r != -ENOENT || tries == 3)
			return r;
	}
}

int mg_journal_read(const char *dir, size_t n, mg_journal_fn fn, void *userdata)
{
	_cleanup_close_ int dirfd = -1;
	_cleanup_free_ int *fds = NULL;
	struct file_list files = {0};
	struct tail_ring ring = {.n = n};
	size_t i;
	int r;

	dirfd = mg_dir_open(dir);
	if (dirfd < 0)
		return dirfd;
	if (n && !(ring.lines = calloc(n, sizeof(*ring.lines))))
		return mg_fail(ENOMEM, "out of memory");
	r = open_all(dirfd, dir, &files, &fds);
	/* Only the newest files matter for the last n lines, but a line count
	 * is not known without reading, and journals are small enough. */
	for (i = 0; r == 0 && i < files.len; i++)
		r = read_file(fds[i], dir, files.names[i], &ring, fn, userdata);
	for (; i < files.len; i++)
		close(fds[i]);
	for (i = 0; r == 0 && i < ring.used; i++)
		r = deliver(ring.lines[(ring.next + ring.n - ring.used + i) % ring.n], fn, userdata);
	for (i = 0; i < ring.n; i++)
		free(ring.lines[i]);
	free(ring.lines);
	file_list_free(&files);
	return r;
}

/* What mg_journal_check_anchor looks for, and what it found. */
struct anchor {
	uint64_t seq;                  /* the anchor's seq */
	char hash[HASH_HEX + 1];       /* the hash of that record in the journal, "" if absent */
};

static int find_anchor(const json_t *rec, const char *line, void *userdata)
{
	struct anchor *a = userdata;
	const char *hash;

	if (!rec || (uint64_t)json_integer_value(json_object_get(rec, "seq")) != a->seq)
		return 0;
	hash = json_string_value(json_object_get(rec, "hash"));
	if (hash && is_hash_hex(hash))
		memcpy(a->hash, hash, sizeof(a->hash));
	return 1;
}

int mg_journal_check_anchor(const char *dir, uint64_t seq, const char *hash)
{
	struct anchor a = {.seq = seq};
	int r;

	if (!hash || !is_hash_hex(hash))
		return mg_fail(EINVAL, "anchor: expected %d lower-case hex digits", HASH_HEX);
	r = mg_journal_read(dir, 0, find_anchor, &a);
	if (r < 0)
		return r;
	if (!a.hash[0])
		return mg_fail(ENOENT, "anchor seq %llu: no such record in the journal",
		               (unsigned long long)seq);
	if (sodium_memcmp(a.hash, hash, HASH_HEX) != 0)
		return mg_fail(EBADMSG, "anchor seq %llu: the journal has hash %.16s..., the anchor "
		               "%.16s...: the journal was rewritten", (unsigned long long)seq, a.hash,
		               hash);
	return 0;
}
