/* Small helpers every module uses: scope-bound cleanup (after systemd's
 * _cleanup_ attributes), and UTC time in RFC 3339.  Hex and
 * base64 come from libsodium (sodium_bin2hex, sodium_bin2base64). */
#ifndef MYNAGUARD_UTIL_H
#define MYNAGUARD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define MG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void mg_freep(void *p) { free(*(void **)p); }
static inline void mg_closep(int *fd) { if (*fd >= 0) close(*fd); }
static inline void mg_fclosep(FILE **f) { if (*f) fclose(*f); }

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(mg_freep)
#define _cleanup_close_ _cleanup_(mg_closep)
#define _cleanup_fclose_ _cleanup_(mg_fclosep)

/* Hands ownership out of a _cleanup_ variable. */
#define MG_TAKE(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define MG_TAKE_FD(fd) ({ int _t = (fd); (fd) = -1; _t; })

/* Seconds since the epoch.  Tests and the demo may pin it with
 * MYNAGUARD_FAKE_TIME=SECONDS, read through secure_getenv so that a setuid
 * helper never honours it. */
int64_t mg_now(void);

/* "2027-03-31T00:00:00Z" <-> seconds.  Only this exact UTC form is
 * accepted, so a timestamp has one spelling. */
int mg_time_parse(const char *s, int64_t *out);
/* buf must hold MG_TIME_LEN bytes. */
#define MG_TIME_LEN 21
void mg_time_format(int64_t t, char buf[MG_TIME_LEN]);

/* The host name, for audit records and tickets ("unknown" if unset). */
const char *mg_hostname(void);

#endif
