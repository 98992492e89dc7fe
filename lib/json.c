#include <stdio.h>
#include <string.h>

#include "mynaguard/error.h"
#include "mynaguard/json.h"

/* A key or value from the input, fit for a one-line message: at most 64
 * bytes, control characters as '?'. */
static const char *printable(const char *s, char out[72])
{
	size_t i;

	for (i = 0; s[i] && i < 64; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	out[i] = '\0';
	if (s[i])
		strcpy(out + i, "...");
	return out;
}

/* Both may be called with buf == where, to go one level down in place. */
void mg_json_where_key(char buf[MG_WHERE_MAX], const char *where, const char *key)
{
	char out[MG_WHERE_MAX];

	snprintf(out, sizeof(out), "%s.%s", where, key);
	memcpy(buf, out, strlen(out) + 1);
}

void mg_json_where_index(char buf[MG_WHERE_MAX], const char *where, size_t index)
{
	char out[MG_WHERE_MAX];

	snprintf(out, sizeof(out), "%s[%zu]", where, index);
	memcpy(buf, out, strlen(out) + 1);
}

int mg_json_parse(const void *buf, size_t len, const char *origin, json_t **out)
{
	json_error_t err;
	json_t *root;

	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	if (!root)
		return mg_fail(EBADMSG, "%s: line %d column %d: %s", origin, err.line, err.column,
		               err.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return mg_fail(EBADMSG, "%s: $: expected an object", origin);
	}
	*out = root;
	return 0;
}

int mg_json_only_keys(const json_t *obj, const char *where, const char *const allowed[])
{
	const char *key;
	json_t *value;

	json_object_foreach((json_t *)obj, key, value) {
		bool known = false;
		char shown[72];
		for (size_t i = 0; allowed[i] && !known; i++)
			known = strcmp(key, allowed[i]) == 0;
		if (!known)
			return mg_fail(EBADMSG, "%s.%s: unknown key", where, printable(key, shown));
	}
	return 0;
}

/* Looks key up; 1 when present, 0 when absent and optional, <0 on error. */
static int lookup(const json_t *obj, const char *key, const char *where, bool required,
                  json_t **value)
{
	*value = json_object_get(obj, key);
	if (*value)
		return 1;
	if (required)
		return mg_fail(EBADMSG, "%s.%s: required", where, key);
	return 0;
}

static int wrong_type(const char *where, const char *key, const char *what)
{
	return mg_fail(EBADMSG, "%s.%s: expected %s", where, key, what);
}

int mg_json_get_object(const json_t *obj, const char *key, const char *where, bool required,
                       json_t **out)
{
	json_t *v;
	int r = lookup(obj, key, where, required, &v);

	if (r <= 0)
		return r;
	if (!json_is_object(v))
		return wrong_type(where, key, "an object");
	*out = v;
	return 0;
}

int mg_json_get_array(const json_t *obj, const char *key, const char *where, bool required,
                      json_t **out)
{
	json_t *v;
	int r = lookup(obj, key, where, required, &v);

	if (r <= 0)
		return r;
	if (!json_is_array(v))
		return wrong_type(where, key, "an array");
	*out = v;
	return 0;
}

int mg_json_get_string(const json_t *obj, const char *key, const char *where, bool required,
                       const char **out)
{
	json_t *v;
	int r = lookup(obj, key, where, required, &v);

	if (r <= 0)
		return r;
	if (!json_is_string(v))
		return wrong_type(where, key, "a string");
	/* jansson allows \u0000 inside strings; C cannot carry it. */
	if (strlen(json_string_value(v)) != json_string_length(v))
		return mg_fail(EBADMSG, "%s.%s: contains a NUL character", where, key);
	*out = json_string_value(v);
	return 0;
}

int mg_json_get_uint(const json_t *obj, const char *key, const char *where, bool required,
                     uint64_t min, uint64_t max, uint64_t *out)
{
	json_t *v;
	json_int_t n;
	int r = lookup(obj, key, where, required, &v);

	if (r <= 0)
		return r;
	if (!json_is_integer(v))
		return wrong_type(where, key, "an integer");
	n = json_integer_value(v);
	if (n < 0 || (uint64_t)n < min || (uint64_t)n > max)
		return mg_fail(ERANGE, "%s.%s: %lld is out of range %llu..%llu", where, key,
		               (long long)n, (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)n;
	return 0;
}

int mg_json_get_bool(const json_t *obj, const char *key, const char *where, bool required,
                     bool *out)
{
	json_t *v;
	int r = lookup(obj, key, where, required, &v);

	if (r <= 0)
		return r;
	if (!json_is_boolean(v))
		return wrong_type(where, key, "true or false");
	*out = json_is_true(v);
	return 0;
}

int mg_json_get_enum(const json_t *obj, const char *key, const char *where, bool required,
                     const char *const names[], int *out)
{
	const char *s = NULL;
	char choices[MG_WHERE_MAX] = "", shown[72];
	int r = mg_json_get_string(obj, key, where, required, &s);

	if (r < 0 || !s)
		return r;
	for (int i = 0; names[i]; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return 0;
		}
		snprintf(choices + strlen(choices), sizeof(choices) - strlen(choices), "%s%s",
		         i ? ", " : "", names[i]);
	}
	return mg_fail(EBADMSG, "%s.%s: \"%s\" is not one of %s", where, key, printable(s, shown),
	               choices);
}
