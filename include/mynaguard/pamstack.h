/* PAM stacks as Linux-PAM runs them from /etc/pam.d, for the
 * self-inspection: does a service's auth stack really run pam_mynaguard so
 * that its "no" denies the login?
 *
 * A service file holds one entry a line:
 *
 *   [-]TYPE  CONTROL  MODULE [ARGS...]      # comment
 *   @include FILE                           (Debian: FILE's lines, in place)
 *
 * TYPE is account, auth, password or session; CONTROL a keyword (required,
 * requisite, sufficient, optional, include, substack) or a bracketed list
 * "[value=action ...]"; a trailing backslash joins the next line; '#'
 * starts a comment anywhere.  "include" splices FILE's entries of the same
 * type in place; "substack" runs them as a nested stack, whose "done" and
 * jumps end only the substack.  A service without entries of a type uses
 * the service "other", as libpam does.  Files are read under a pam.d
 * directory fd (the --root of a test, or /etc/pam.d) with O_NOFOLLOW. */
#ifndef MYNAGUARD_PAMSTACK_H
#define MYNAGUARD_PAMSTACK_H

#include <stdbool.h>
#include <stddef.h>

#define MG_PAM_MAX_FILE (64 * 1024)   /* a bigger service file is refused */
#define MG_PAM_MAX_DEPTH 8            /* include/substack nesting, so a loop ends */
#define MG_PAM_MAX_ENTRIES 1024       /* entries of one flattened stack */

enum mg_pam_type { MG_PAM_ACCOUNT, MG_PAM_AUTH, MG_PAM_PASSWORD, MG_PAM_SESSION };

/* One entry of a stack, in the order libpam runs them. */
struct mg_pam_entry {
	enum mg_pam_type type;   /* its management group */
	bool dash;               /* "-TYPE": skipped silently if the module is missing */
	char control[160];       /* "required", ..., "substack", or "[success=1 default=ignore]" */
	char module[256];        /* module as written ("pam_unix.so", a path), or the
	                            substack's file for a substack call */
	char file[64];           /* the service file it is written in */
	unsigned line;           /* line (the first of a joined line) in that file */
	unsigned scope;          /* 0: the service's own stack; each substack its own number */
	long parent;             /* index of the substack call this entry runs in, -1 at top */
};

/* A flattened stack of one type: includes spliced, substacks inline after
 * their call entry (scope tells them apart). */
struct mg_pam_stack {
	struct mg_pam_entry *entries;
	size_t n;
	unsigned scopes;         /* scopes used so far (the next substack's number) */
};

/* Parses one service file's text (origin names it in messages) and appends
 * its entries of type to out, without following includes: include and
 * substack lines are kept as entries with that control and the file in
 * module; "@include FILE" becomes an "include" entry.  -EINVAL with
 * "ORIGIN:LINE: ..." on a line libpam would not load. */
int mg_pam_file_parse(const void *buf, size_t len, const char *origin, enum mg_pam_type type,
                      struct mg_pam_stack *out);

/* Loads SERVICE's stack of type from the pam.d directory open at dirfd
 * (dir names it in messages), following includes and substacks. */
int mg_pam_stack_load(int dirfd, const char *dir, const char *service, enum mg_pam_type type,
                      struct mg_pam_stack *out);

/* Whether the stack runs a module named module (e.g. "pam_mynaguard.so",
 * matched on the file name) with a control under which its failure
 * denies (required, requisite, or a bracket whose every failure action is
 * bad or die), and no entry before it can end the stack, or jump past it,
 * on success (sufficient, success=done, success=N).  When it does not, why
 * says which entry is in the way ("FILE:LINE: pam_unix.so is sufficient
 * before it"). */
bool mg_pam_stack_enforces(const struct mg_pam_stack *s, const char *module, char *why,
                           size_t why_size);

void mg_pam_stack_free(struct mg_pam_stack *s);

#endif
