/* The self-inspection (§7 監査及び自己点検): for each control of a
 * terminal, whether it is really in force right now, and the facts behind
 * the answer, for an auditor and for fleet tooling (`mynaguardctl inspect`).
 *
 * Each check looks at the thing itself, not at what was configured:
 *   policy            the bundle in force re-verified (version, signers, expiry)
 *   udev-rules        the rules file equals what the policy in force generates
 *   usb-controllers   usbcore's authorized_default, and authorized_default and
 *                     interface_authorized_default on every root hub (sysfs)
 *   agent             mynaguardd answers on its socket, runs the policy in
 *                     force, and its last pull
 *   clipboard-guards  every active X11 session has a guard (logind + agent)
 *   pam               the auth stacks of login, the display manager and the
 *                     screen lockers run pam_mynaguard so that it can deny
 *   otp-coverage      every user with a login shell and UID >= 1000 has an
 *                     active token
 *   devices           present devices and their decisions (from the agent)
 *   audit             the journal's chain verifies
 * Anything that cannot be checked counts as off: an auditor must never read
 * "in force" for a control nobody could see. */
#ifndef MYNAGUARD_INSPECT_H
#define MYNAGUARD_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#define MG_INSPECT_CHECKS 9

/* Where to look.  Tests point every path into a scratch tree. */
struct mg_inspect_paths {
	const char *state_dir;    /* STATE (keyring, bundle, floors, pull.json, audit/) */
	const char *config_path;  /* the terminal configuration */
	const char *root;         /* prefix of /etc/pam.d and /etc/passwd ("/") */
	const char *sysfs;        /* sysfs mount ("/sys") */
	const char *runtime_dir;  /* the agent's socket directory, or NULL for the config's */
	const char *otp_store;    /* OTP store, or NULL for STATE/otp */
	const char *otp_hostkey;  /* host key, or NULL for SYSCONFDIR/otp.key */
};

/* One control. */
struct mg_inspect_check {
	const char *id;           /* stable name, from the list above */
	bool on;                  /* in force */
	char summary[512];        /* one line: the facts, or why it is off */
	json_t *facts;            /* the details, for --json (owned) */
};

struct mg_inspect_report {
	struct mg_inspect_check checks[MG_INSPECT_CHECKS]; /* in the order above */
	bool all_on;              /* every check is on */
};

/* Runs every check.  Returns 0 (a check that fails is a finding, not an
 * error) or -ENOMEM. */
int mg_inspect_run(const struct mg_inspect_paths *p, struct mg_inspect_report *rep);

void mg_inspect_report_free(struct mg_inspect_report *rep);

/* The report as {"all_in_force":B,"checks":[{"id","in_force","summary","facts"}]}. */
json_t *mg_inspect_report_json(const struct mg_inspect_report *rep);

#endif
