#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "mynaguard/error.h"
#include "mynaguard/util.h"

int64_t mg_now(void)
{
	const char *fake = secure_getenv("MYNAGUARD_FAKE_TIME");

	if (fake && *fake) {
		char *end;
		long long v = strtoll(fake, &end, 10);
		if (*end == '\0' && v > 0)
			return v;
	}
	return (int64_t)time(NULL);
}

int mg_time_parse(const char *s, int64_t *out)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	char again[MG_TIME_LEN];
	struct tm tm = {0};
	time_t t;

	if (!s || strlen(s) != MG_TIME_LEN - 1)
		goto bad;
	/* strptime alone would take " 3" for "03" and "02-30" for March 2. */
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			goto bad;
	if (!strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm))
		goto bad;
	t = timegm(&tm);
	if (t == (time_t)-1)
		goto bad;
	mg_time_format(t, again);
	if (strcmp(again, s) != 0)
		goto bad;
	*out = t;
	return 0;
bad:
	return mg_fail(EINVAL, "expected a UTC time like 2027-03-31T00:00:00Z");
}

void mg_time_format(int64_t t, char buf[MG_TIME_LEN])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || strftime(buf, MG_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, MG_TIME_LEN, "invalid-time");
}

const char *mg_hostname(void)
{
	static __thread char name[65];

	if (!name[0]) {
		struct utsname u;
		snprintf(name, sizeof(name), "%s", uname(&u) == 0 && u.nodename[0] ? u.nodename : "unknown");
	}
	return name;
}
