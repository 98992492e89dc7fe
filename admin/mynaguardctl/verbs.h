/* The verbs of mynaguardctl, one file each. */
#ifndef MYNAGUARDCTL_VERBS_H
#define MYNAGUARDCTL_VERBS_H

#include "cli.h"

/* policy.c: apply | show | pull; keyring.c: pin | show | update; status.c. */
int ctl_policy(struct mg_cli *cli, int argc, char **argv);
int ctl_keyring(struct mg_cli *cli, int argc, char **argv);
int ctl_status(struct mg_cli *cli, int argc, char **argv);
/* pull.c (engineer fetch): `policy pull [URL]`; argv[0] is "pull".  policy.c
 * dispatches to it; it applies through mg_terminal_apply (terminal.h). */
int ctl_policy_pull(struct mg_cli *cli, int argc, char **argv);

/* scan.c: run the number detectors over a file (engineer clipboard). */
int ctl_scan(struct mg_cli *cli, int argc, char **argv);
/* audit.c: verify | show, over the journal in STATE/audit. */
int ctl_audit(struct mg_cli *cli, int argc, char **argv);
/* devices.c: present devices and their decisions, from the agent (engineer agent). */
int ctl_devices(struct mg_cli *cli, int argc, char **argv);
/* otp.c: init | enroll | list | status | unlock | reset | resync | recovery | remove. */
int ctl_otp(struct mg_cli *cli, int argc, char **argv);
/* inspect.c: the self-inspection report (lib/inspect.c). */
int ctl_inspect(struct mg_cli *cli, int argc, char **argv);
/* ticket.c: apply | list, temporary device exceptions (engineer devices). */
int ctl_ticket(struct mg_cli *cli, int argc, char **argv);

#endif
