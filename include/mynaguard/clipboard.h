/* The clipboard control: the policy's "clipboard" section and the
 * decisions the session guard (agent/clipguard) takes, kept here so that
 * they are tested without a display.
 *
 *   "clipboard": {
 *     "mode": "block-sensitive",            allow | block-sensitive | block-all
 *     "action": "redact",                   clear | redact (on a detection)
 *     "redaction": {"mask": "*"},           each digit becomes the mask, or
 *                  {"text": "[個人番号]"},   each number becomes the text
 *     "detectors": ["kojin", "hojin"],
 *     "destinations": ["xfreerdp", "remmina", "/usr/bin/vncviewer"],
 *     "max_bytes": 4194304,
 *     "lock_session_on_guard_loss": true
 *   }
 *
 * The guard reads each new selection's text (at most max_bytes), vets it
 * (mg_clip_vet) and either leaves it with its owner, takes it over and
 * serves a text of its own, or clears it.  When it serves, every paste
 * request is decided by mg_clip_may_paste from the requesting process.
 * No function here keeps or reports content: findings are counted by kind.
 * The full description is docs/clipboard.md. */
#ifndef MYNAGUARD_CLIPBOARD_H
#define MYNAGUARD_CLIPBOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "mynaguard/detect.h"

#define MG_CLIP_MAX_DESTINATIONS 32
#define MG_CLIP_DESTINATION_MAX 255      /* bytes of one name or path */
#define MG_CLIP_MASK_MAX 4               /* one UTF-8 character */
#define MG_CLIP_TEXT_MAX 64              /* bytes of a redaction text */
#define MG_CLIP_MIN_BYTES 1024u
#define MG_CLIP_MAX_BYTES (16u << 20)    /* the guard serves a selection in one property */
#define MG_CLIP_MAX_DETECTORS 32         /* bits in an mg_detect_set */

enum mg_clip_mode {
	MG_CLIP_ALLOW,            /* the guard does nothing */
	MG_CLIP_BLOCK_SENSITIVE,  /* selections with a finding are cleared or redacted */
	MG_CLIP_BLOCK_ALL,        /* nothing is pasted from one process into another */
};

enum mg_clip_action {
	MG_CLIP_CLEAR,            /* the selection is taken away */
	MG_CLIP_REDACT,           /* the selection is replaced by a redacted text */
};

/* "clipboard": what the guard enforces in every session. */
struct mg_clipboard_policy {
	enum mg_clip_mode mode;           /* "mode" (block-sensitive) */
	enum mg_clip_action action;       /* "action" (clear) */
	mg_detect_set detectors;          /* "detectors": names (all of them) */
	char mask[MG_CLIP_MASK_MAX + 1];  /* "redaction": {"mask": C}: each digit of a number
	                                     becomes C, separators stay; "" when text is used ("*") */
	char text[MG_CLIP_TEXT_MAX + 1];  /* "redaction": {"text": T}: each number becomes T ("") */
	size_t ndestinations;             /* entries in destinations ([]) */
	/* "destinations": processes that never get a paste.  A name without '/'
	 * matches the executable's file name, an absolute path the whole path. */
	char destinations[MG_CLIP_MAX_DESTINATIONS][MG_CLIP_DESTINATION_MAX + 1];
	uint64_t max_bytes;               /* "max_bytes": largest selection read; a larger one
	                                     cannot be vetted and is cleared (1 KiB..16 MiB, 4 MiB) */
	bool lock_session_on_guard_loss;  /* "lock_session_on_guard_loss": the agent locks a
	                                     session whose guard died (false) */
};

/* What the guard could read of a selection. */
enum mg_clip_content {
	MG_CLIP_TEXT,             /* all of its text, in text/len */
	MG_CLIP_NOT_TEXT,         /* the owner offers no text form (an image, say) */
	MG_CLIP_OVERSIZE,         /* the text is larger than max_bytes */
	MG_CLIP_UNREADABLE,       /* the owner did not answer in time, or broke the protocol */
};

/* What becomes of a selection. */
enum mg_clip_verdict {
	MG_CLIP_PASS,             /* it stays with its owner */
	MG_CLIP_SERVE,            /* the guard owns it and serves text to allowed requesters */
	MG_CLIP_TAKE,             /* the guard owns it and serves nothing */
};

/* The outcome of vetting one selection. */
struct mg_clip_vetting {
	enum mg_clip_verdict verdict;
	const char *reason;       /* for the audit: "detected", "oversize", "unreadable",
	                             or NULL when nothing was blocked */
	size_t total;             /* findings of all kinds */
	size_t counts[MG_CLIP_MAX_DETECTORS]; /* findings per detector (index of mg_detectors) */
	uint8_t *text;            /* MG_CLIP_SERVE: what to serve (malloc'd, NUL-terminated) */
	size_t len;               /* its bytes */
};

/* Why a paste is refused. */
enum mg_clip_paste {
	MG_CLIP_PASTE_OK,
	MG_CLIP_PASTE_DESTINATION,  /* the requester is a named destination, or unknown while
	                               destinations are named */
	MG_CLIP_PASTE_BLOCK_ALL,    /* block-all, and the requester is not the copying process */
};

/* The process asking for a paste, or that copied. */
struct mg_clip_process {
	pid_t pid;                /* 0 when unknown */
	const char *exe;          /* /proc/PID/exe, or NULL when unknown */
};

void mg_clipboard_policy_defaults(struct mg_clipboard_policy *c);

/* Parses the section object at where ("policy.json: $.clipboard") over
 * the defaults already in c. */
int mg_clipboard_policy_parse(const json_t *obj, const char *where,
                              struct mg_clipboard_policy *c);

/* The section as JSON, every field spelled out (what the agent hands a
 * guard; mg_clipboard_policy_parse reads it back to the same struct). */
int mg_clipboard_policy_to_json(const struct mg_clipboard_policy *c, json_t **out);

/* Decides what becomes of a selection of which the guard read content. */
int mg_clip_vet(const struct mg_clipboard_policy *c, enum mg_clip_content content,
                const uint8_t *text, size_t len, struct mg_clip_vetting *out);

void mg_clip_vetting_free(struct mg_clip_vetting *v);

/* May requester have a selection the guard serves, copied by owner? */
enum mg_clip_paste mg_clip_may_paste(const struct mg_clipboard_policy *c,
                                     const struct mg_clip_process *owner,
                                     const struct mg_clip_process *requester);

/* Stable names for the audit: "allow", "block-sensitive", "destination", ... */
const char *mg_clip_mode_name(enum mg_clip_mode m);
const char *mg_clip_paste_name(enum mg_clip_paste p);

/* {"kojin":1,"hojin":0}: the counts of a vetting by detector name. */
int mg_clip_counts_json(const struct mg_clip_vetting *v, json_t **out);

#endif
