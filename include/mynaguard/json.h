/* Strict JSON reading over jansson, with errors that name the field.
 *
 * "where" is the place of an object for messages, as FILE: JSONPATH, e.g.
 * "policy.json: $.devices.rules[3]".  A getter that fails reports
 *     "policy.json: $.devices.rules[3].vendor: expected a string"
 * Every reader of a JSON format (policy, bundle header, keyring, state
 * files) uses these, so all of them reject the same things the same way. */
#ifndef MYNAGUARD_JSON_H
#define MYNAGUARD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define MG_WHERE_MAX 256

/* Parses exactly len bytes: duplicated keys, NUL bytes and anything after
 * the value are errors.  The root must be an object. */
int mg_json_parse(const void *buf, size_t len, const char *origin, json_t **out);

/* Fails on the first key of obj that is not in allowed (NULL-terminated). */
int mg_json_only_keys(const json_t *obj, const char *where, const char *const allowed[]);

/* Getters.  A missing key leaves *out untouched and succeeds unless
 * required.  Each checks the type, and the range where one is given. */
int mg_json_get_object(const json_t *obj, const char *key, const char *where, bool required,
                       json_t **out);
int mg_json_get_array(const json_t *obj, const char *key, const char *where, bool required,
                      json_t **out);
int mg_json_get_string(const json_t *obj, const char *key, const char *where, bool required,
                       const char **out);
int mg_json_get_uint(const json_t *obj, const char *key, const char *where, bool required,
                     uint64_t min, uint64_t max, uint64_t *out);
int mg_json_get_bool(const json_t *obj, const char *key, const char *where, bool required,
                     bool *out);
/* *out is the index of the value in names (NULL-terminated). */
int mg_json_get_enum(const json_t *obj, const char *key, const char *where, bool required,
                     const char *const names[], int *out);

/* Writes "WHERE.KEY" or "WHERE[INDEX]" into buf (MG_WHERE_MAX bytes). */
void mg_json_where_key(char buf[MG_WHERE_MAX], const char *where, const char *key);
void mg_json_where_index(char buf[MG_WHERE_MAX], const char *where, size_t index);

/* Cleanup for json_t variables. */
static inline void mg_json_decrefp(json_t **j) { if (*j) json_decref(*j); }
#define _cleanup_json_ __attribute__((cleanup(mg_json_decrefp)))

#endif
