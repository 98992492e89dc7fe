/* The audit journal: tamper-evident evidence for §7 (監査・自己点検).
 *
 * One JSON object per line, appended to DIR/audit.log and rotated to
 * DIR/audit-SEQ.log (SEQ: the first record's number, 20 digits) when it
 * grows past 8 MiB (MYNAGUARD_AUDIT_ROTATE_BYTES, read with secure_getenv,
 * sets another size for tests).  Each record is chained to the one before:
 *
 *   {"seq":42,"time":"2026-12-06T05:00:00Z","host":"t-0012",
 *    "component":"agent","event":"device.decision","decision":"block",
 *    "rule":"default","subject":"usb 0781:5581 serial=...","detail":{...},
 *    "prev":"<hex BLAKE2b-256 of record 41>","hash":"<hex BLAKE2b-256>"}
 *
 * "hash" covers every byte of the line before ',"hash"'.  DIR/audit.head
 * holds the last seq and hash, so cutting records off the end is noticed.
 * Appends from every process (agent, mynaguardctl, the PAM module) are
 * serialised by an flock on DIR/audit.lock; under it a writer takes the
 * end of the chain from the log itself (audit.head is only a lower bound),
 * cuts off a record torn by a killed writer, and records any damage it
 * finds as a "journal.repaired" alert before going on.  The full format
 * is in docs/audit.md.
 *
 * No record ever holds a secret, an OTP or clipboard content: callers put
 * identities and counts in subject and detail, nothing else. */
#ifndef MYNAGUARD_JOURNAL_H
#define MYNAGUARD_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* What a caller says about one event. */
struct mg_audit {
	const char *event;    /* stable dotted name: "policy.applied", "device.decision",
	                         "otp.accept", "clipboard.block", ... (required) */
	const char *decision; /* "allow", "block", "read-only", "applied", "rejected",
	                         "accept", "reject", "alert", ... or NULL */
	const char *rule;     /* id of the rule that decided, "default", or NULL */
	const char *subject;  /* what it is about: a device identity, a user name,
	                         a bundle file and version; or NULL */
	json_t *detail;       /* extra fields, borrowed (the caller keeps its ref), or NULL */
};

struct mg_journal;

/* Opens the journal in dir for one component ("agent", "ctl", "pam",
 * "clipguard", "admin").  Nothing is created, read or locked until an
 * append, which creates dir (mode 0700) if it is missing, so opening never
 * fails for want of a disk. */
int mg_journal_open(const char *dir, const char *component, struct mg_journal **out);

/* Appends one record durably (fdatasync) and mirrors it to syslog with a
 * stable MESSAGE_ID per event type.  One struct mg_journal belongs to one
 * thread at a time; any number of them, in any processes, may append to
 * the same dir.  On failure (say the disk is full) the
 * record is kept in memory and written before the next one, syslog gets a
 * LOG_ALERT that audit is failing, and the error is returned: the caller
 * keeps enforcing.  Records are never dropped silently; if the backlog
 * overflows, a "journal.lost" record with the count is written. */
int mg_journal_append(struct mg_journal *j, const struct mg_audit *rec);

/* Writes the records held after a failure (and the journal.lost count)
 * without a new one: for a long-lived writer's timer, so that held records
 * do not wait for the next event.  0 when nothing is held or all went. */
int mg_journal_flush(struct mg_journal *j);

/* How many records are held in memory, waiting for the journal. */
size_t mg_journal_pending(const struct mg_journal *j);

void mg_journal_close(struct mg_journal *j);

/* Open, append, close: for one-shot programs. */
int mg_audit(const char *dir, const char *component, const struct mg_audit *rec);

/* The result of checking a journal. */
struct mg_journal_report {
	uint64_t records;        /* records that verified */
	uint64_t files;          /* files read */
	uint64_t last_seq;       /* seq of the last good record (0 if none) */
	char last_hash[65];      /* its hash in hex ("" if none): with last_seq, an
	                            anchor to keep off the terminal and check later */
	uint64_t incidents;      /* journal.repaired and journal.lost records among
	                            them: an intact chain that says it was damaged */
};

/* Checks every file in order: each line parses, seq increases by one,
 * prev matches, hash matches, and the end matches audit.head.  Returns 0
 * when intact, -EBADMSG with a message naming the first bad record
 * ("audit-…log line 17 (seq 4711): hash mismatch, record edited"). */
int mg_journal_verify(const char *dir, struct mg_journal_report *rep);

/* Checks that the record numbered seq is still in the journal with this
 * hash (an anchor noted earlier, e.g. in a self-inspection report).
 * 0 when it is, -EBADMSG when the journal no longer holds it as it was
 * (rewritten), -ENOENT when there is no record seq. */
int mg_journal_check_anchor(const char *dir, uint64_t seq, const char *hash);

/* Calls fn for each of the last n records (every record when n is 0),
 * oldest first, as read: rec is the parsed object, or NULL for a line that
 * is not JSON.  Nothing is verified; that is mg_journal_verify's job.
 * A non-zero return from fn stops the walk and is returned. */
typedef int (*mg_journal_fn)(const json_t *rec, const char *line, void *userdata);
int mg_journal_read(const char *dir, size_t n, mg_journal_fn fn, void *userdata);

/* The syslog MESSAGE_ID of an event type: the first 128 bits of
 * BLAKE2b("mynaguard-event:" EVENT) in hex, stable across releases. */
#define MG_JOURNAL_MESSAGE_ID_LEN 33
void mg_journal_message_id(const char *event, char out[MG_JOURNAL_MESSAGE_ID_LEN]);

#endif
