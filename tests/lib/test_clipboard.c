#include <criterion/criterion.h>
#include <string.h>

#include "mynaguard/clipboard.h"
#include "mynaguard/error.h"
#include "mynaguard/json.h"
#include "mynaguard/policy.h"

/* Parses {"schema":1,"clipboard":SECTION}; returns mg_policy_parse's result. */
static int parse(const char *section, struct mg_clipboard_policy *out)
{
	char doc[4096];
	struct mg_policy *p = NULL;
	int r;

	snprintf(doc, sizeof(doc), "{\"schema\":1,\"clipboard\":%s}", section);
	r = mg_policy_parse(doc, strlen(doc), "policy.json", &p);
	if (r == 0)
		*out = p->clipboard;
	mg_policy_free(p);
	return r;
}

static struct mg_clipboard_policy policy(const char *section)
{
	struct mg_clipboard_policy c;

	cr_assert_eq(parse(section, &c), 0, "%s: %s", section, mg_error());
	return c;
}

static void expect_error(const char *section, const char *message)
{
	struct mg_clipboard_policy c;

	cr_assert_lt(parse(section, &c), 0, "%s parsed", section);
	cr_assert_str_eq(mg_error(), message);
}

static struct mg_clip_vetting vet(const struct mg_clipboard_policy *c, const char *text)
{
	struct mg_clip_vetting v;

	cr_assert_eq(mg_clip_vet(c, MG_CLIP_TEXT, (const uint8_t *)text, strlen(text), &v), 0);
	return v;
}

Test(clipboard, defaults_fail_closed)
{
	struct mg_policy p;

	mg_policy_defaults(&p);
	cr_assert_eq(p.clipboard.mode, MG_CLIP_BLOCK_SENSITIVE);
	cr_assert_eq(p.clipboard.action, MG_CLIP_CLEAR);
	cr_assert_eq(p.clipboard.detectors, MG_DETECT_ALL);
	cr_assert_eq(p.clipboard.max_bytes, 4u << 20);
	cr_assert_not(p.clipboard.lock_session_on_guard_loss);
}

Test(clipboard, a_full_section)
{
	struct mg_clipboard_policy c = policy(
		"{\"mode\":\"block-all\",\"action\":\"redact\",\"redaction\":{\"text\":\"[個人番号]\"},"
		"\"detectors\":[\"kojin\"],\"destinations\":[\"xfreerdp\",\"/usr/bin/remmina\"],"
		"\"max_bytes\":1024,\"lock_session_on_guard_loss\":true}");

	cr_assert_eq(c.mode, MG_CLIP_BLOCK_ALL);
	cr_assert_eq(c.action, MG_CLIP_REDACT);
	cr_assert_str_eq(c.text, "[個人番号]");
	cr_assert_str_eq(c.mask, "");
	cr_assert_eq(c.detectors, 1u);
	cr_assert_eq(c.ndestinations, 2);
	cr_assert_str_eq(c.destinations[1], "/usr/bin/remmina");
	cr_assert_eq(c.max_bytes, 1024);
	cr_assert(c.lock_session_on_guard_loss);
}

Test(clipboard, bad_fields_are_named)
{
	expect_error("{\"mode\":\"off\"}",
	             "policy.json: $.clipboard.mode: \"off\" is not one of allow, block-sensitive, block-all");
	expect_error("{\"colour\":1}", "policy.json: $.clipboard.colour: unknown key");
	expect_error("{\"detectors\":[\"kojin\",\"mynumber\"]}",
	             "policy.json: $.clipboard.detectors[1]: no detector \"mynumber\" (known: kojin, hojin)");
	expect_error("{\"detectors\":[]}", "policy.json: $.clipboard.detectors: name at least one detector");
	expect_error("{\"detectors\":[\"kojin\",\"kojin\"]}",
	             "policy.json: $.clipboard.detectors[1]: \"kojin\" is named twice");
	expect_error("{\"redaction\":{\"mask\":\"0\"}}",
	             "policy.json: $.clipboard.redaction.mask: expected one character that is not a digit");
	expect_error("{\"redaction\":{\"mask\":\"**\"}}",
	             "policy.json: $.clipboard.redaction.mask: expected one character that is not a digit");
	expect_error("{\"redaction\":{\"mask\":\"*\",\"text\":\"x\"}}",
	             "policy.json: $.clipboard.redaction: expected exactly one of \"mask\" and \"text\"");
	expect_error("{\"redaction\":{\"text\":\"see 123456789018\"}}",
	             "policy.json: $.clipboard.redaction.text: contains a number the detectors find");
	expect_error("{\"destinations\":[\"bin/xfreerdp\"]}",
	             "policy.json: $.clipboard.destinations[0]: \"bin/xfreerdp\": expected a file name or an absolute path");
	expect_error("{\"max_bytes\":16}",
	             "policy.json: $.clipboard.max_bytes: 16 is out of range 1024..16777216");
}

Test(clipboard, json_round_trip)
{
	struct mg_clipboard_policy c = policy(
		"{\"mode\":\"block-sensitive\",\"action\":\"redact\",\"redaction\":{\"mask\":\"＊\"},"
		"\"destinations\":[\"vncviewer\"],\"lock_session_on_guard_loss\":true}");
	struct mg_clipboard_policy back;
	_cleanup_json_ json_t *j = NULL;

	cr_assert_eq(mg_clipboard_policy_to_json(&c, &j), 0);
	mg_clipboard_policy_defaults(&back);
	cr_assert_eq(mg_clipboard_policy_parse(j, "hello", &back), 0, "%s", mg_error());
	cr_assert_eq(memcmp(&c, &back, sizeof(c)), 0);
}

Test(clipboard, allow_passes_everything)
{
	struct mg_clipboard_policy c = policy("{\"mode\":\"allow\"}");
	struct mg_clip_vetting v = vet(&c, "123456789018");
	struct mg_clip_process owner = {1, "/usr/bin/a"}, req = {2, NULL};

	cr_assert_eq(v.verdict, MG_CLIP_PASS);
	cr_assert_eq(mg_clip_may_paste(&c, &owner, &req), MG_CLIP_PASTE_OK);
}

Test(clipboard, a_number_is_cleared)
{
	struct mg_clipboard_policy c = policy("{}");
	struct mg_clip_vetting v = vet(&c, "氏名 山田 番号 1234-5678-9018 と 7000012050002");

	cr_assert_eq(v.verdict, MG_CLIP_TAKE);
	cr_assert_str_eq(v.reason, "detected");
	cr_assert_eq(v.total, 2);
	cr_assert_eq(v.counts[0], 1);
	cr_assert_eq(v.counts[1], 1);
	cr_assert_null(v.text);
}

Test(clipboard, a_wrong_check_digit_passes)
{
	struct mg_clipboard_policy c = policy("{}");
	struct mg_clip_vetting v = vet(&c, "番号 123456789019");

	cr_assert_eq(v.verdict, MG_CLIP_PASS);
	cr_assert_null(v.reason);
}

Test(clipboard, redaction_by_mask_keeps_the_layout)
{
	struct mg_clipboard_policy c = policy("{\"action\":\"redact\"}");
	struct mg_clip_vetting v = vet(&c, "A 1234-5678-9018 B １２３４５６７８９０１８ C");

	cr_assert_eq(v.verdict, MG_CLIP_SERVE);
	cr_assert_str_eq((char *)v.text, "A ****-****-**** B ************ C");
	cr_assert_eq(v.len, strlen((char *)v.text));
	mg_clip_vetting_free(&v);
}

Test(clipboard, redaction_by_text)
{
	struct mg_clipboard_policy c = policy(
		"{\"action\":\"redact\",\"redaction\":{\"text\":\"[番号]\"},\"detectors\":[\"hojin\"]}");
	struct mg_clip_vetting v = vet(&c, "法人 7000012050002, 個人 123456789018");

	cr_assert_eq(v.verdict, MG_CLIP_SERVE);
	cr_assert_str_eq((char *)v.text, "法人 [番号], 個人 123456789018");
	cr_assert_eq(v.counts[0], 0);
	mg_clip_vetting_free(&v);
}

Test(clipboard, unreadable_and_oversize_are_taken)
{
	struct mg_clipboard_policy c = policy("{}");
	struct mg_clip_vetting v;

	cr_assert_eq(mg_clip_vet(&c, MG_CLIP_UNREADABLE, NULL, 0, &v), 0);
	cr_assert_eq(v.verdict, MG_CLIP_TAKE);
	cr_assert_str_eq(v.reason, "unreadable");
	cr_assert_eq(mg_clip_vet(&c, MG_CLIP_OVERSIZE, NULL, 0, &v), 0);
	cr_assert_eq(v.verdict, MG_CLIP_TAKE);
	cr_assert_str_eq(v.reason, "oversize");
	cr_assert_eq(mg_clip_vet(&c, MG_CLIP_NOT_TEXT, NULL, 0, &v), 0);
	cr_assert_eq(v.verdict, MG_CLIP_PASS);
}

Test(clipboard, destinations_make_the_guard_serve_clean_text)
{
	struct mg_clipboard_policy c = policy("{\"destinations\":[\"xfreerdp\",\"/opt/vnc/bin/viewer\"]}");
	struct mg_clip_vetting v = vet(&c, "hello");
	struct mg_clip_process owner = {100, "/usr/bin/mousepad"};
	struct mg_clip_process rdp = {200, "/tmp/t/xfreerdp"}, vnc = {201, "/opt/vnc/bin/viewer"};
	struct mg_clip_process other_viewer = {202, "/usr/bin/viewer"}, unknown = {0, NULL};

	cr_assert_eq(v.verdict, MG_CLIP_SERVE);
	cr_assert_str_eq((char *)v.text, "hello");
	mg_clip_vetting_free(&v);
	cr_assert_eq(mg_clip_may_paste(&c, &owner, &rdp), MG_CLIP_PASTE_DESTINATION);
	cr_assert_eq(mg_clip_may_paste(&c, &owner, &vnc), MG_CLIP_PASTE_DESTINATION);
	cr_assert_eq(mg_clip_may_paste(&c, &owner, &other_viewer), MG_CLIP_PASTE_OK);
	cr_assert_eq(mg_clip_may_paste(&c, &owner, &unknown), MG_CLIP_PASTE_DESTINATION);
	cr_assert_eq(mg_clip_vet(&c, MG_CLIP_NOT_TEXT, NULL, 0, &v), 0);
	cr_assert_eq(v.verdict, MG_CLIP_TAKE);
}

Test(clipboard, block_all_pastes_only_into_the_copying_process)
{
	struct mg_clipboard_policy c = policy("{\"mode\":\"block-all\"}");
	struct mg_clip_process owner = {100, "/usr/bin/mousepad"}, same = {100, "/usr/bin/mousepad"};
	struct mg_clip_process other = {101, "/usr/bin/mousepad"}, unknown = {0, NULL};

	cr_assert_eq(mg_clip_may_paste(&c, &owner, &same), MG_CLIP_PASTE_OK);
	cr_assert_eq(mg_clip_may_paste(&c, &owner, &other), MG_CLIP_PASTE_BLOCK_ALL);
	cr_assert_eq(mg_clip_may_paste(&c, &owner, &unknown), MG_CLIP_PASTE_BLOCK_ALL);
	cr_assert_eq(mg_clip_may_paste(&c, &unknown, &unknown), MG_CLIP_PASTE_BLOCK_ALL);
	cr_assert_str_eq(mg_clip_paste_name(MG_CLIP_PASTE_BLOCK_ALL), "block-all");
}

Test(clipboard, counts_as_json_carry_no_content)
{
	struct mg_clipboard_policy c = policy("{}");
	struct mg_clip_vetting v = vet(&c, "123456789018 123456789018");
	_cleanup_json_ json_t *j = NULL;
	char *s;

	cr_assert_eq(mg_clip_counts_json(&v, &j), 0);
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	cr_assert_str_eq(s, "{\"kojin\":2}");
	free(s);
}
