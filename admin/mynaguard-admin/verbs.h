/* The verbs of mynaguard-admin, one file each. */
#ifndef MYNAGUARD_ADMIN_VERBS_H
#define MYNAGUARD_ADMIN_VERBS_H

#include "cli.h"

/* Keys, keyrings and bundles: keygen.c, keyring.c, sign.c, cosign.c,
 * verify.c, inspect.c. */
int admin_keygen(struct mg_cli *cli, int argc, char **argv);
int admin_keyring(struct mg_cli *cli, int argc, char **argv);
int admin_sign(struct mg_cli *cli, int argc, char **argv);
int admin_cosign(struct mg_cli *cli, int argc, char **argv);
int admin_verify(struct mg_cli *cli, int argc, char **argv);
int admin_inspect(struct mg_cli *cli, int argc, char **argv);
/* publish.c (engineer fetch): lays a bundle out in a static repository. */
int admin_publish(struct mg_cli *cli, int argc, char **argv);
/* ticket.c: issue a temporary device exception (engineer devices). */
int admin_ticket(struct mg_cli *cli, int argc, char **argv);

#endif
