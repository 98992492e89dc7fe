/* Strict JSON reading: parse errors and each getter's errors, all naming
 * the JSON path. */
#include <criterion/criterion.h>
#include <string.h>

#include "mynaguard/error.h"
#include "mynaguard/json.h"

static json_t *doc;

static void load(const char *text)
{
	cr_assert_eq(mg_json_parse(text, strlen(text), "p.json", &doc), 0, "%s", mg_error());
}

static void done(void)
{
	if (doc)
		json_decref(doc);
	doc = NULL;
}

TestSuite(json, .fini = done);

static void expect_msg(int r, int err, const char *msg)
{
	cr_assert_eq(r, -err, "returned %d", r);
	cr_assert_str_eq(mg_error(), msg);
}

Test(json, parse_rejects_what_is_not_one_object)
{
	json_t *j = NULL;

	cr_assert_eq(mg_json_parse("[1]", 3, "p.json", &j), -EBADMSG);
	cr_assert_str_eq(mg_error(), "p.json: $: expected an object");
	cr_assert_eq(mg_json_parse("{\"a\":1,\"a\":2}", 13, "p.json", &j), -EBADMSG);
	cr_assert(strstr(mg_error(), "p.json: line 1"), "%s", mg_error());
	cr_assert(strstr(mg_error(), "duplicate"), "%s", mg_error());
	cr_assert_eq(mg_json_parse("{} {}", 5, "p.json", &j), -EBADMSG);
	cr_assert_eq(mg_json_parse("{\"a\":\"\\u0000\"}", 14, "p.json", &j), -EBADMSG);
	cr_assert_eq(mg_json_parse("{}\0", 3, "p.json", &j), -EBADMSG);
	cr_assert_eq(mg_json_parse("{\"a\":", 5, "p.json", &j), -EBADMSG);
	cr_assert_eq(mg_json_parse("", 0, "p.json", &j), -EBADMSG);
	cr_assert_null(j);
	cr_assert_eq(mg_json_parse("{} \n", 4, "p.json", &j), 0, "whitespace after is fine");
	json_decref(j);
}

Test(json, only_keys_names_the_stranger)
{
	static const char *const allowed[] = {"a", "b", NULL};

	load("{\"a\":1,\"c\":2}");
	expect_msg(mg_json_only_keys(doc, "p.json: $.x", allowed), EBADMSG, "p.json: $.x.c: unknown key");
	done();
	load("{\"\\u001b[2J\":1}");
	expect_msg(mg_json_only_keys(doc, "$", allowed), EBADMSG, "$.?[2J: unknown key");
}

Test(json, object_and_array)
{
	json_t *out = NULL;

	load("{\"o\":{},\"a\":[],\"s\":\"x\"}");
	cr_assert_eq(mg_json_get_object(doc, "o", "$", true, &out), 0);
	cr_assert(json_is_object(out));
	expect_msg(mg_json_get_object(doc, "a", "$", true, &out), EBADMSG, "$.a: expected an object");
	expect_msg(mg_json_get_object(doc, "z", "$", true, &out), EBADMSG, "$.z: required");
	out = NULL;
	cr_assert_eq(mg_json_get_object(doc, "z", "$", false, &out), 0);
	cr_assert_null(out, "untouched when missing");
	cr_assert_eq(mg_json_get_array(doc, "a", "$", true, &out), 0);
	cr_assert(json_is_array(out));
	expect_msg(mg_json_get_array(doc, "s", "$", true, &out), EBADMSG, "$.s: expected an array");
}

Test(json, string)
{
	const char *s = "default";

	load("{\"s\":\"住民\",\"n\":1}");
	cr_assert_eq(mg_json_get_string(doc, "s", "$", true, &s), 0);
	cr_assert_str_eq(s, "住民");
	expect_msg(mg_json_get_string(doc, "n", "$", true, &s), EBADMSG, "$.n: expected a string");
	cr_assert_eq(mg_json_get_string(doc, "missing", "$", false, &s), 0);
	cr_assert_str_eq(s, "住民");
}

Test(json, uint_ranges)
{
	uint64_t v = 7;

	load("{\"a\":5,\"neg\":-1,\"big\":100,\"real\":1.5,\"str\":\"5\",\"max\":9223372036854775807}");
	cr_assert_eq(mg_json_get_uint(doc, "a", "$", true, 1, 10, &v), 0);
	cr_assert_eq(v, 5);
	expect_msg(mg_json_get_uint(doc, "neg", "$", true, 0, 10, &v), ERANGE,
	           "$.neg: -1 is out of range 0..10");
	expect_msg(mg_json_get_uint(doc, "big", "$", true, 0, 10, &v), ERANGE,
	           "$.big: 100 is out of range 0..10");
	expect_msg(mg_json_get_uint(doc, "a", "$", true, 6, 10, &v), ERANGE,
	           "$.a: 5 is out of range 6..10");
	expect_msg(mg_json_get_uint(doc, "real", "$", true, 0, 10, &v), EBADMSG,
	           "$.real: expected an integer");
	expect_msg(mg_json_get_uint(doc, "str", "$", true, 0, 10, &v), EBADMSG,
	           "$.str: expected an integer");
	cr_assert_eq(mg_json_get_uint(doc, "max", "$", true, 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, 9223372036854775807ull);
	v = 3;
	cr_assert_eq(mg_json_get_uint(doc, "none", "$", false, 0, 1, &v), 0);
	cr_assert_eq(v, 3);
}

Test(json, integers_beyond_int64_are_parse_errors)
{
	json_t *j = NULL;

	cr_assert_eq(mg_json_parse("{\"a\":18446744073709551616}", 26, "p.json", &j), -EBADMSG);
}

Test(json, bool)
{
	bool b = false;

	load("{\"t\":true,\"n\":0}");
	cr_assert_eq(mg_json_get_bool(doc, "t", "$", true, &b), 0);
	cr_assert(b);
	expect_msg(mg_json_get_bool(doc, "n", "$", true, &b), EBADMSG, "$.n: expected true or false");
}

Test(json, enum_lists_the_choices)
{
	static const char *const names[] = {"allow", "block", "read-only", NULL};
	int v = -1;

	load("{\"d\":\"block\",\"x\":\"maybe\",\"n\":1}");
	cr_assert_eq(mg_json_get_enum(doc, "d", "$", true, names, &v), 0);
	cr_assert_eq(v, 1);
	expect_msg(mg_json_get_enum(doc, "x", "$", true, names, &v), EBADMSG,
	           "$.x: \"maybe\" is not one of allow, block, read-only");
	expect_msg(mg_json_get_enum(doc, "n", "$", true, names, &v), EBADMSG, "$.n: expected a string");
}

Test(json, where_helpers)
{
	char w[MG_WHERE_MAX];

	mg_json_where_key(w, "p.json: $.devices", "rules");
	cr_assert_str_eq(w, "p.json: $.devices.rules");
	mg_json_where_index(w, w, 3);
	cr_assert_str_eq(w, "p.json: $.devices.rules[3]");
}
