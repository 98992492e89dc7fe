#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mynaguard/error.h"

#define MG_ERROR_MAX 512

static __thread char message[MG_ERROR_MAX];

static int negative(int err)
{
	if (err == 0)
		return -EIO;    /* a failure must never read as success */
	return err < 0 ? err : -err;
}

/* Every writer formats into a local buffer first: callers may pass
 * mg_error() itself as an argument ("%s", mg_error()), and formatting
 * into the buffer being read is undefined. */
static void set_message(const char *text)
{
	snprintf(message, sizeof(message), "%s", text);
}

int mg_fail(int err, const char *fmt, ...)
{
	char what[MG_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	set_message(what);
	return negative(err);
}

int mg_fail_errno(int err, const char *fmt, ...)
{
	char what[MG_ERROR_MAX], both[MG_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(both, sizeof(both), "%s: %s", what, strerror(err == 0 ? EIO : abs(err)));
	set_message(both);
	return negative(err);
}

int mg_error_prefix(int err, const char *fmt, ...)
{
	char prefix[MG_ERROR_MAX], old[MG_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, message, sizeof(old));
	snprintf(message, sizeof(message), "%s: %s", prefix, old);
	return err;
}

const char *mg_error(void)
{
	return message;
}

void mg_error_clear(void)
{
	message[0] = '\0';
}
