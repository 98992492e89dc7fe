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

int mg_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	return negative(err);
}

int mg_fail_errno(int err, const char *fmt, ...)
{
	char what[MG_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(message, sizeof(message), "%s: %s", what, strerror(abs(err)));
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
