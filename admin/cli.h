/* What mynaguardctl and mynaguard-admin share: the verb table, global
 * options and the exit-status convention.
 *
 * Exit status: 0 success (or "unchanged"), 1 the answer is no (a bundle
 * rejected, nothing found, a control off), 2 a usage or operational error.
 * Every error is one line on stderr that names the file, field or argument. */
#ifndef MYNAGUARD_CLI_H
#define MYNAGUARD_CLI_H

#include <stdbool.h>

#include "mynaguard/keyring.h"

enum { MG_EXIT_OK = 0, MG_EXIT_NO = 1, MG_EXIT_USAGE = 2 };

/* Global options, given before the verb. */
struct mg_cli {
	const char *prog;
	const char *state_dir;    /* --state-dir (default MG_STATEDIR) */
	const char *config_path;  /* --config (default MG_SYSCONFDIR/mynaguard.conf) */
	bool json;                /* --json where a verb supports it */
};

struct mg_verb {
	const char *name;
	int (*run)(struct mg_cli *cli, int argc, char **argv); /* argv[0] is the verb */
	const char *usage;        /* one or more lines, without the program name */
};

/* Parses global options, finds the verb and runs it. */
int mg_cli_main(const char *prog, const struct mg_verb *verbs, int argc, char **argv);

/* Prints "PROG: MESSAGE" (mg_error() when fmt is NULL) and returns code. */
int mg_cli_fail(const struct mg_cli *cli, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Asks a running agent to reload the policy in force, after anything that
 * can change it (a bundle, a keyring, a ticket).  Best effort: with no agent
 * running there is nobody to tell, and the agent reads the state when it
 * starts; any other failure is one line on stderr. */
void mg_cli_tell_agent(const struct mg_cli *cli);

/* Prints a keyring for people: version, issue time, floor reset, and each
 * role's threshold and keys.  Both tools show keyrings the same way. */
void mg_cli_print_keyring(const struct mg_keyring *kr);

/* Prints the verb's usage to stderr and returns MG_EXIT_USAGE. */
int mg_cli_usage(const struct mg_cli *cli, const char *verb, const char *usage);

#endif
