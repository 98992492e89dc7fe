/* The one error convention of libmynaguard.
 *
 * Every function that can fail returns a negative errno value (or NULL) and
 * records a one-line message for people that names the file, field or
 * argument and the reason, e.g.
 *     "policy.json: $.devices.rules[3].vendor: expected 4 hex digits"
 * The message is per thread and stays until the next failure, so a caller
 * can add context (mg_error_prefix) and only main() decides what to print
 * and whether to exit.  Nothing in lib/ prints to stderr or exits. */
#ifndef MYNAGUARD_ERROR_H
#define MYNAGUARD_ERROR_H

#include <errno.h>
#include <stddef.h>

/* Records the message and returns -|err| (err may be given as EINVAL or
 * -EINVAL).  Use it as `return mg_fail(EINVAL, "%s: ...", path);`. */
int mg_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like mg_fail, and appends ": strerror(err)". */
int mg_fail_errno(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Puts "PREFIX: " in front of the message in force; returns err unchanged. */
int mg_error_prefix(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The message of the last failure in this thread ("" when none). */
const char *mg_error(void);

void mg_error_clear(void);

#endif
