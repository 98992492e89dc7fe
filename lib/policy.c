#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mynaguard/error.h"
#include "mynaguard/json.h"
#include "mynaguard/policy.h"
#include "mynaguard/util.h"

static int parse_fetch(const json_t *obj, const char *where, struct mg_policy *p)
{
	static const char *const keys[] = {"interval", "max_bytes", "timeout", "low_speed_limit",
	                                   "low_speed_time", NULL};
	struct mg_fetch_policy *f = &p->fetch;
	int r;

	r = mg_json_only_keys(obj, where, keys);
	if (r == 0) r = mg_json_get_uint(obj, "interval", where, false, 60, 86400, &f->interval);
	if (r == 0) r = mg_json_get_uint(obj, "max_bytes", where, false, 4096, MG_POLICY_MAX_BYTES, &f->max_bytes);
	if (r == 0) r = mg_json_get_uint(obj, "timeout", where, false, 5, 600, &f->timeout);
	if (r == 0) r = mg_json_get_uint(obj, "low_speed_limit", where, false, 1, 1 << 20, &f->low_speed_limit);
	if (r == 0) r = mg_json_get_uint(obj, "low_speed_time", where, false, 1, 600, &f->low_speed_time);
	return r;
}

static int parse_otp(const json_t *obj, const char *where, struct mg_policy *p)
{
	static const char *const keys[] = {"window", "algorithm", "digits", "period",
	                                   "max_failures", "lockout_seconds", "delay",
	                                   "resync_window", "recovery_codes", "issuer", NULL};
	static const char *const algorithms[] = {"SHA1", "SHA256", "SHA512", NULL};
	struct mg_otp_policy *o = &p->otp;
	const char *issuer = NULL;
	uint64_t digits = o->enroll.digits, period = o->enroll.period;
	int alg = (int)o->enroll.algorithm;
	int r;

	r = mg_json_only_keys(obj, where, keys);
	if (r == 0) r = mg_json_get_uint(obj, "window", where, false, 0, 3, &o->window);
	if (r == 0) r = mg_json_get_enum(obj, "algorithm", where, false, algorithms, &alg);
	if (r == 0) r = mg_json_get_uint(obj, "digits", where, false, 6, 8, &digits);
	if (r == 0) r = mg_json_get_uint(obj, "period", where, false, 30, 60, &period);
	if (r == 0) r = mg_json_get_uint(obj, "max_failures", where, false, 1, 100, &o->max_failures);
	if (r == 0) r = mg_json_get_uint(obj, "lockout_seconds", where, false, 0, 604800, &o->lockout_seconds);
	if (r == 0) r = mg_json_get_uint(obj, "delay", where, false, 0, 10, &o->delay);
	if (r == 0) r = mg_json_get_uint(obj, "resync_window", where, false, 1, 1000, &o->resync_window);
	if (r == 0) r = mg_json_get_uint(obj, "recovery_codes", where, false, 1, 20, &o->recovery_codes);
	if (r == 0) r = mg_json_get_string(obj, "issuer", where, false, &issuer);
	if (r < 0)
		return r;
	o->enroll.algorithm = (enum mg_otp_algorithm)alg;
	o->enroll.digits = (unsigned)digits;
	o->enroll.period = (unsigned)period;
	r = mg_otp_params_check(&o->enroll, where);
	if (r < 0)
		return r;
	if (issuer) {
		if (!*issuer || strlen(issuer) >= sizeof(o->issuer) || strpbrk(issuer, ":\n"))
			return mg_fail(EINVAL, "%s.issuer: expected 1..64 bytes without ':' or newline", where);
		snprintf(o->issuer, sizeof(o->issuer), "%s", issuer);
	}
	return 0;
}

static int parse_clipboard(const json_t *obj, const char *where, struct mg_policy *p)
{
	return mg_clipboard_policy_parse(obj, where, &p->clipboard);
}

static int parse_devices(const json_t *obj, const char *where, struct mg_policy *p)
{
	return mg_device_policy_parse(obj, where, &p->devices);
}

/* One entry per section.  Each parser fills its part of struct mg_policy,
 * whose defaults are already in place. */
static const struct section {
	const char *key;
	int (*parse)(const json_t *obj, const char *where, struct mg_policy *p);
} sections[] = {
	{"fetch", parse_fetch},
	{"otp", parse_otp},
	{"clipboard", parse_clipboard},
	{"devices", parse_devices},
};

void mg_policy_defaults(struct mg_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->schema = MG_POLICY_SCHEMA;
	p->fetch = (struct mg_fetch_policy){
		.interval = 900, .max_bytes = 16u << 20, .timeout = 60,
		.low_speed_limit = 64, .low_speed_time = 15,
	};
	p->otp = (struct mg_otp_policy){
		.window = 1, .max_failures = 10, .lockout_seconds = 600, .delay = 1,
		.resync_window = 60, .recovery_codes = 10, .issuer = "mynaguard",
		.enroll = {.algorithm = MG_OTP_SHA1, .digits = 6, .period = 30},
	};
	mg_clipboard_policy_defaults(&p->clipboard);
	mg_device_policy_defaults(&p->devices);
}

static int check_root_keys(const json_t *root, const char *where)
{
	const char *allowed[MG_ARRAY_SIZE(sections) + 3] = {"schema", "description"};

	for (size_t i = 0; i < MG_ARRAY_SIZE(sections); i++)
		allowed[i + 2] = sections[i].key;
	return mg_json_only_keys(root, where, allowed);
}

/* Operators read the description on their terminals: it may not carry
 * control characters that would move the cursor or hide text. */
static int check_description(const char *s, const char *where)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
			return mg_fail(EBADMSG, "%s.description: control character U+%04X", where, *p);
	return 0;
}

/* only: the one section to parse, or NULL for all of them. */
static int parse_root(const json_t *root, const char *where, const char *only, struct mg_policy *p)
{
	const char *description = NULL;
	int r;

	/* The schema first: a policy written for a newer schema is refused as
	 * such, not for the first key this version does not know. */
	r = mg_json_get_uint(root, "schema", where, true, MG_POLICY_SCHEMA, MG_POLICY_SCHEMA, &p->schema);
	if (r == 0) r = check_root_keys(root, where);
	if (r == 0) r = mg_json_get_string(root, "description", where, false, &description);
	if (r == 0 && description)
		r = check_description(description, where);
	if (r < 0)
		return r;
	if (description && !(p->description = strdup(description)))
		return mg_fail(ENOMEM, "%s: out of memory", where);
	for (size_t i = 0; i < MG_ARRAY_SIZE(sections); i++) {
		char here[MG_WHERE_MAX];
		json_t *obj = NULL;

		if (only && strcmp(only, sections[i].key) != 0)
			continue;
		mg_json_where_key(here, where, sections[i].key);
		r = mg_json_get_object(root, sections[i].key, where, false, &obj);
		if (r == 0 && obj)
			r = sections[i].parse(obj, here, p);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse(const void *buf, size_t len, const char *origin, const char *only,
                 struct mg_policy **out)
{
	_cleanup_json_ json_t *root = NULL;
	_cleanup_policy_ struct mg_policy *p = NULL;
	char where[MG_WHERE_MAX];
	int r;

	if (len > MG_POLICY_MAX_BYTES)
		return mg_fail(EFBIG, "%s: larger than %u bytes", origin, MG_POLICY_MAX_BYTES);
	r = mg_json_parse(buf, len, origin, &root);
	if (r < 0)
		return r;
	p = calloc(1, sizeof(*p));
	if (!p)
		return mg_fail(ENOMEM, "%s: out of memory", origin);
	mg_policy_defaults(p);
	snprintf(where, sizeof(where), "%s: $", origin);
	r = parse_root(root, where, only, p);
	if (r < 0)
		return r;
	*out = MG_TAKE(p);
	return 0;
}

void mg_policy_free(struct mg_policy *p)
{
	if (!p)
		return;
	free(p->description);
	mg_device_policy_free(&p->devices);
	free(p);
}

int mg_policy_parse(const void *buf, size_t len, const char *origin, struct mg_policy **out)
{
	return parse(buf, len, origin, NULL, out);
}

int mg_policy_parse_only(const void *buf, size_t len, const char *origin, const char *section,
                         struct mg_policy **out)
{
	return parse(buf, len, origin, section, out);
}
