/* mynaguard-clipguard: the clipboard guard of one X11 session.
 *
 * It watches CLIPBOARD and PRIMARY through XFixes selection-owner
 * notifications.  When an application copies, the guard reads the text of
 * the new selection (with a size cap and deadlines, INCR included), hands
 * it to mg_clip_vet (lib/clipboard.c) and does what that says: leave the
 * selection with its owner, or become the owner itself and serve a text of
 * its own (redacted, or the clean text when it must see who pastes) or
 * nothing.  While it serves, each paste request is decided by
 * mg_clip_may_paste from the requesting process, found through the
 * X-Resource extension (client -> PID -> /proc/PID/exe).
 *
 * Files: main.c (options, policy source, loop), x11.c (connection, atoms,
 * events, waiting with deadlines), selection.c (reading a selection),
 * serve.c (owning and serving), link.c (the agent link).  The decisions
 * are all in lib/; these files translate X11 to them and back. */
#ifndef CLIPGUARD_H
#define CLIPGUARD_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <xcb/xcb.h>
#include <jansson.h>

#include "mynaguard/clipboard.h"

#define GUARD_ANSWER_MS 2000      /* an owner's time to answer a conversion or send a chunk */
#define GUARD_TRANSFER_MS 10000   /* the whole of one INCR transfer */
#define GUARD_HEARTBEAT_S 60      /* hello again: liveness and the policy in force */
#define GUARD_RETRY_S 10          /* reconnect to an agent that went away */
#define GUARD_BACKLOG 64          /* blocks kept for an agent that is away */

enum guard_atom {
	A_CLIPBOARD, A_PRIMARY, A_TARGETS, A_TIMESTAMP, A_INCR, A_UTF8_STRING,
	A_STRING, A_TEXT, A_TEXT_PLAIN_UTF8, A_TEXT_PLAIN, A_PROPERTY, A_GUARD, A_COUNT
};

/* One selection the guard watches. */
struct selection {
	const char *name;                  /* "CLIPBOARD" or "PRIMARY" */
	xcb_atom_t atom;                   /* its atom */
	bool owned;                        /* the guard owns it now */
	xcb_timestamp_t since;             /* when it took ownership */
	bool serving;                      /* text is what it serves (else nothing) */
	uint8_t *text;                     /* the text served (malloc'd), or NULL */
	size_t len;                        /* its bytes */
	struct mg_clip_process owner;      /* who copied: pid 0 / exe NULL when unknown */
	char owner_exe[PATH_MAX];          /* storage for owner.exe */
	pid_t last_refused;                /* requester last reported, so a poller is reported once */
	bool pending;                      /* a new owner to vet, seen while busy */
	xcb_window_t pending_owner;        /* its window */
	xcb_timestamp_t pending_time;      /* its ownership timestamp (XFixes) */
};

/* The link to the agent (agent/mynaguardd/guards.c on the other side). */
struct link {
	bool enabled;                      /* false with --no-agent */
	const char *runtime_dir;           /* where control.sock is */
	int fd;                            /* the connection, -1 when down */
	int64_t next_hello;                /* mg_now() of the next hello (heartbeat or retry) */
	json_t *backlog[GUARD_BACKLOG];    /* blocks not yet delivered, oldest first */
	size_t nbacklog;                   /* entries in backlog */
	size_t dropped;                    /* blocks lost because the backlog was full */
};

struct guard {
	xcb_connection_t *c;               /* the session's X server */
	xcb_window_t win;                  /* requestor for reads, owner when serving */
	xcb_atom_t atoms[A_COUNT];         /* interned at start, by enum guard_atom */
	uint8_t xfixes_event;              /* first event code of XFixes */
	uint32_t max_property;             /* largest property one request may write (bytes) */
	struct selection sel[2];           /* CLIPBOARD, PRIMARY */
	struct mg_clipboard_policy policy; /* in force */
	bool policy_from_file;             /* --policy: the agent's section is not taken */
	struct link link;
	bool quit;                         /* a signal asked the guard to end */
};

/* x11.c */
int guard_x11_open(struct guard *g);
void guard_x11_close(struct guard *g);
/* Handles one event that nobody waits for (requests, clears, new owners). */
void guard_dispatch(struct guard *g, xcb_generic_event_t *ev);
/* Waits until match accepts an event (returned, caller frees) or the
 * deadline (monotonic ms) passes (NULL).  Other events are dispatched. */
xcb_generic_event_t *guard_wait(struct guard *g, int64_t deadline,
                                bool (*match)(struct guard *g, xcb_generic_event_t *ev, void *arg),
                                void *arg);
int64_t guard_now_ms(void);
/* PID of the client that created window w (X-Resource), 0 when unknown;
 * fills exe (PATH_MAX) from /proc/PID/exe, "" when unreadable. */
pid_t guard_client_pid(struct guard *g, xcb_window_t w, char exe[PATH_MAX]);

/* selection.c: a new owner of s appeared at time t */
void guard_selection_changed(struct guard *g, struct selection *s, xcb_window_t owner,
                             xcb_timestamp_t t);

/* serve.c */
/* Takes s over and serves v's text (moved out of v), or nothing. */
int guard_take(struct guard *g, struct selection *s, xcb_timestamp_t t,
               struct mg_clip_vetting *v);
void guard_release(struct selection *s);
void guard_serve(struct guard *g, const xcb_selection_request_event_t *req);

/* link.c */
void link_init(struct guard *g, const char *runtime_dir, bool enabled);
/* Says hello when it is time (first, heartbeat, reconnect) and takes the
 * clipboard section from the reply unless the policy came from a file. */
void link_tick(struct guard *g);
int link_fd(const struct guard *g);
void link_lost(struct guard *g);
/* Reports a block: kind and counts only, never content.  While the agent
 * is away, up to GUARD_BACKLOG blocks wait for the next hello. */
void link_block(struct guard *g, json_t *event);
/* Says bye (when connected) and frees the backlog. */
void link_bye(struct guard *g);

#endif
