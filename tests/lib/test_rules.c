/* rules: the "devices" section parser and the decision engine, on the zoo
 * and on large generated rule sets. */
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include <sodium.h>

#include "mynaguard/file.h"
#include "mynaguard/policy.h"
#include "mynaguard/rules.h"
#include "mynaguard/ticket.h"
#include "mynaguard/util.h"
#include "zoo.h"

static struct zoo z;

static void setup(void)
{
	static const char *const all[] = {"stick", "stick-hid", "mtp-phone", "rndis-phone", "cdc-ecm", "bluetooth",
	                                  "keyboard", "mouse", "smartcard", "hub", "printer", "webcam",
	                                  "stick-registered", NULL};

	cr_assert(sodium_init() >= 0);
	zoo_load(&z, all);
}

static void teardown(void)
{
	zoo_free(&z);
}

static struct mg_policy *load_example(void)
{
	struct mg_policy *p = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;

	cr_assert_eq(mg_file_read(MG_TEST_DATA "/devices/policy.json", 1 << 20, &buf, &len), 0, "%s", mg_error());
	cr_assert_eq(mg_policy_parse(buf, len, "policy.json", &p), 0, "%s", mg_error());
	free(buf);
	return p;
}

static struct mg_policy *parse(const char *json)
{
	struct mg_policy *p = NULL;

	cr_assert_eq(mg_policy_parse(json, strlen(json), "p.json", &p), 0, "%s", mg_error());
	return p;
}

static void decide(const struct mg_policy *p, const char *name, unsigned flags, struct mg_decision *d)
{
	struct mg_usbdev dev;

	zoo_read(&z, name, &dev);
	mg_rules_decide(&p->devices, &dev, NULL, 0, flags, d);
}

TestSuite(rules, .init = setup, .fini = teardown);

/* Every device of the zoo under the example policy of docs/devices.md. */
Test(rules, the_zoo_under_the_example_policy)
{
	static const struct { const char *dev; enum mg_target target; const char *rule; } want[] = {
		{"1-1", MG_TARGET_BLOCK, "default"},               /* stick, not registered */
		{"1-14", MG_TARGET_READ_ONLY, "stick-0012"},       /* the registered stick */
		{"1-2", MG_TARGET_BLOCK, "default"},               /* stick + keyboard */
		{"1-3", MG_TARGET_BLOCK, "phones"},                /* MTP on ff/ff/00 "MTP" */
		{"1-4", MG_TARGET_BLOCK, "phones"},                /* RNDIS tethering */
		{"1-5", MG_TARGET_BLOCK, "default"},               /* USB Ethernet */
		{"1-6", MG_TARGET_BLOCK, "default"},               /* Bluetooth */
		{"1-7", MG_TARGET_ALLOW, "keyboard-k120"},         /* registered keyboard model */
		{"1-8", MG_TARGET_HOLD, "new-keyboard"},           /* a mouse can type too */
		{"1-9", MG_TARGET_ALLOW, "card-reader"},           /* My Number card reader */
		{"1-10", MG_TARGET_ALLOW, "hubs"},
		{"1-10/1-10.1", MG_TARGET_BLOCK, "default"},       /* stick behind the hub */
		{"1-10/1-10.2", MG_TARGET_BLOCK, "default"},       /* keyboard behind the hub */
		{"1-11", MG_TARGET_BLOCK, "default"},              /* printer */
		{"1-12", MG_TARGET_ALLOW, "webcam"},               /* built-in webcam */
	};
	_cleanup_policy_ struct mg_policy *p = load_example();

	for (size_t k = 0; k < MG_ARRAY_SIZE(want); k++) {
		struct mg_decision d;

		decide(p, want[k].dev, 0, &d);
		cr_expect_eq(d.target, want[k].target, "%s: %s by %s (%s)", want[k].dev, mg_target_name(d.target),
		             d.rule, d.reason);
		cr_expect_str_eq(d.rule, want[k].rule, "%s", want[k].dev);
	}
}

Test(rules, present_devices_are_not_held)
{
	_cleanup_policy_ struct mg_policy *p = load_example();
	struct mg_decision d;

	decide(p, "1-8", MG_DECIDE_PRESENT, &d);
	cr_assert_eq(d.target, MG_TARGET_ALLOW);
	cr_assert_str_eq(d.rule, "mice");
}

Test(rules, per_interface_targets)
{
	_cleanup_policy_ struct mg_policy *p = load_example();
	struct mg_decision d;

	/* webcam: video control, streaming (2 alts), audio control, audio streaming (2 alts) */
	decide(p, "1-12", 0, &d);
	cr_assert_eq(d.ifaces[0], MG_TARGET_ALLOW);
	cr_assert_eq(d.ifaces[1], MG_TARGET_ALLOW);
	cr_assert_eq(d.ifaces[2], MG_TARGET_ALLOW);
	cr_assert_eq(d.ifaces[3], MG_TARGET_BLOCK);
	cr_assert_eq(d.ifaces[4], MG_TARGET_BLOCK);
	cr_assert_eq(d.ifaces[5], MG_TARGET_BLOCK);

	decide(p, "1-14", 0, &d);
	cr_assert_eq(d.ifaces[0], MG_TARGET_READ_ONLY);
	decide(p, "1-1", 0, &d);
	cr_assert_eq(d.ifaces[0], MG_TARGET_BLOCK);
}

Test(rules, read_only_grants_storage_and_nothing_else)
{
	_cleanup_policy_ struct mg_policy *p = parse(
		"{\"schema\":1,\"devices\":{\"composite_storage_hid\":\"rules\",\"new_keyboards\":\"rules\",\"rules\":["
		"{\"id\":\"ro\",\"match\":{\"vendor\":\"0951\"},\"target\":\"read-only\"}]}}");
	struct mg_decision d;

	decide(p, "1-2", 0, &d);
	cr_assert_eq(d.target, MG_TARGET_READ_ONLY);
	cr_assert_eq(d.ifaces[0], MG_TARGET_READ_ONLY);
	cr_assert_eq(d.ifaces[1], MG_TARGET_BLOCK, "the HID half of a read-only stick");
}

Test(rules, guards_under_an_allowing_default)
{
	_cleanup_policy_ struct mg_policy *p = parse(
		"{\"schema\":1,\"devices\":{\"default\":\"allow\",\"rules\":["
		"{\"id\":\"this-badusb\",\"match\":{\"serial\":\"E0D55EA574E8F3A1\"},\"target\":\"allow\"},"
		"{\"id\":\"kingston\",\"match\":{\"vendor\":\"0951\",\"product\":\"1666\"},\"target\":\"allow\"}]}}");
	_cleanup_policy_ struct mg_policy *q = parse(
		"{\"schema\":1,\"devices\":{\"default\":\"allow\",\"rules\":["
		"{\"id\":\"kingston\",\"match\":{\"vendor\":\"0951\",\"product\":\"1666\"},\"target\":\"allow\"}]}}");
	_cleanup_policy_ struct mg_policy *off = parse(
		"{\"schema\":1,\"devices\":{\"default\":\"allow\",\"composite_storage_hid\":\"rules\","
		"\"new_keyboards\":\"rules\"}}");
	struct mg_decision d;

	decide(p, "1-2", 0, &d);
	cr_assert_eq(d.target, MG_TARGET_ALLOW, "a serial rule names this very device");
	cr_assert_str_eq(d.rule, "this-badusb");
	decide(q, "1-2", 0, &d);
	cr_assert_eq(d.target, MG_TARGET_BLOCK, "vendor:product can be cloned by a BadUSB");
	cr_assert_str_eq(d.rule, "composite-storage-hid");
	decide(q, "1-1", 0, &d);
	cr_assert_eq(d.target, MG_TARGET_ALLOW);
	decide(q, "1-7", 0, &d);
	cr_assert_eq(d.target, MG_TARGET_HOLD);
	cr_assert_str_eq(d.rule, "new-keyboard");
	decide(q, "1-6", 0, &d);
	cr_assert_eq(d.target, MG_TARGET_ALLOW, "bluetooth alone is not a composite");
	decide(off, "1-2", 0, &d);
	cr_assert_eq(d.target, MG_TARGET_ALLOW);
	decide(off, "1-7", 0, &d);
	cr_assert_eq(d.target, MG_TARGET_ALLOW);
}

Test(rules, tickets_come_first)
{
	_cleanup_policy_ struct mg_policy *p = load_example();
	struct mg_ticket t = {.id = "0123456789abcdef", .mode = MG_TARGET_READ_ONLY, .bind = MG_TICKET_BIND_SERIAL,
	                      .serial = "4C530000000000000001", .expires = 4102444800};
	struct mg_usbdev dev;
	struct mg_decision d;

	zoo_read(&z, "1-1", &dev);
	mg_rules_decide(&p->devices, &dev, &t, 1, 0, &d);
	cr_assert_eq(d.target, MG_TARGET_READ_ONLY);
	cr_assert_str_eq(d.rule, "ticket:0123456789abcdef");
	cr_assert(strstr(d.reason, "2100-01-01T00:00:00Z"), "%s", d.reason);

	/* The phone is not the ticket's device. */
	zoo_read(&z, "1-3", &dev);
	mg_rules_decide(&p->devices, &dev, &t, 1, 0, &d);
	cr_assert_str_eq(d.rule, "phones");

	/* By hash: the first 16 bytes of the descriptor hash. */
	zoo_read(&z, "1-2", &dev);
	t.bind = MG_TICKET_BIND_HASH;
	t.mode = MG_TARGET_ALLOW;
	memcpy(t.hash, dev.hash, sizeof(t.hash));
	mg_rules_decide(&p->devices, &dev, &t, 1, 0, &d);
	cr_assert_eq(d.target, MG_TARGET_ALLOW, "a ticket is an explicit exception, even for a composite");
}

Test(rules, match_fields)
{
	_cleanup_policy_ struct mg_policy *p = NULL;
	struct mg_usbdev stick, hub, behind;
	char json[1024], hh[MG_USB_HASH_HEX], sh[MG_USB_HASH_HEX];
	struct mg_decision d;

	zoo_read(&z, "1-1", &stick);
	zoo_read(&z, "1-10", &hub);
	zoo_read(&z, "1-10/1-10.1", &behind);
	mg_usb_hash_hex(hub.hash, hh);
	mg_usb_hash_hex(stick.hash, sh);
	snprintf(json, sizeof(json),
	         "{\"schema\":1,\"devices\":{\"rules\":["
	         "{\"id\":\"by-hash\",\"match\":{\"hash\":\"%s\"},\"target\":\"read-only\"},"
	         "{\"id\":\"behind-hub\",\"match\":{\"parent_hash\":\"%s\",\"port\":\"1-10.*\"},\"target\":\"allow\"},"
	         "{\"id\":\"raw\",\"match\":{\"classes\":{\"one-of\":[\"e0:01:01\"]}},\"target\":\"allow\"},"
	         "{\"id\":\"by-glob\",\"match\":{\"vendor\":\"04?6\",\"connect\":\"hotplug\"},\"target\":\"allow\"}]}}",
	         sh, hh);
	p = parse(json);
	mg_rules_decide(&p->devices, &stick, NULL, 0, 0, &d);
	cr_assert_str_eq(d.rule, "by-hash");
	mg_rules_decide(&p->devices, &behind, NULL, 0, 0, &d);
	cr_assert_str_eq(d.rule, "behind-hub");
	decide(p, "1-6", 0, &d);
	cr_assert_str_eq(d.rule, "raw");
	decide(p, "1-9", 0, &d);
	cr_assert_str_eq(d.rule, "by-glob", "04e6 is 04?6");
	decide(p, "1-12", 0, &d);
	cr_assert_str_eq(d.rule, "default", "04f2 is not 04?6, and it is hardwired");
}

Test(rules, root_hubs_are_always_allowed)
{
	_cleanup_policy_ struct mg_policy *p = load_example();
	struct mg_usbdev dev;
	struct mg_decision d;

	cr_assert_eq(mg_usbdev_read(z.sysfd, "devices/pci0000:00/0000:00:14.0/usb1", &dev), 0);
	mg_rules_decide(&p->devices, &dev, NULL, 0, 0, &d);
	cr_assert_eq(d.target, MG_TARGET_ALLOW);
	cr_assert_str_eq(d.rule, "root-hub");
}

Test(rules, no_section_blocks_everything)
{
	_cleanup_policy_ struct mg_policy *p = parse("{\"schema\":1}");
	struct mg_decision d;

	decide(p, "1-7", 0, &d);
	cr_assert_eq(d.target, MG_TARGET_BLOCK);
	cr_assert_str_eq(d.rule, "default");
	cr_assert_eq(p->devices.media[MG_MEDIA_OPTICAL], MG_TARGET_BLOCK);
}

/* ---- first match, through the indexes ---- */

static char *big_policy(size_t n, const char *before, const char *after)
{
	size_t cap = n * 128 + 4096, len = 0;
	char *s = malloc(cap);

	cr_assert(s);
	len += (size_t)snprintf(s + len, cap - len, "{\"schema\":1,\"devices\":{\"rules\":[%s", before);
	for (size_t k = 0; k < n; k++)
		len += (size_t)snprintf(s + len, cap - len,
		                        "%s{\"id\":\"s%zu\",\"match\":{\"vendor\":\"0781\",\"serial\":\"SER%08zu\"},"
		                        "\"target\":\"allow\"}", k || before[0] ? "," : "", k, k);
	len += (size_t)snprintf(s + len, cap - len, "%s]}}", after);
	return s;
}

Test(rules, fifty_thousand_exact_rules)
{
	_cleanup_free_ char *json = big_policy(50000, "",
		",{\"id\":\"storage\",\"match\":{\"classes\":{\"one-of\":[\"mass-storage\"]}},\"target\":\"read-only\"}");
	_cleanup_policy_ struct mg_policy *p = parse(json);
	struct mg_usbdev dev;
	struct mg_decision d;

	cr_assert_eq(p->devices.n_rules, 50001);
	zoo_read(&z, "1-1", &dev);
	snprintf(dev.serial, sizeof(dev.serial), "SER%08d", 49999);
	mg_rules_decide(&p->devices, &dev, NULL, 0, 0, &d);
	cr_assert_str_eq(d.rule, "s49999");
	snprintf(dev.serial, sizeof(dev.serial), "SER%08d", 50000);
	mg_rules_decide(&p->devices, &dev, NULL, 0, 0, &d);
	cr_assert_str_eq(d.rule, "storage");
	dev.vendor = 0x0782;
	snprintf(dev.serial, sizeof(dev.serial), "SER%08d", 7);
	mg_rules_decide(&p->devices, &dev, NULL, 0, 0, &d);
	cr_assert_str_eq(d.rule, "storage", "the serial's rule also wants vendor 0781");
}

Test(rules, an_earlier_class_rule_beats_an_indexed_one)
{
	_cleanup_free_ char *json = big_policy(1000,
		"{\"id\":\"no-storage\",\"match\":{\"classes\":{\"one-of\":[\"mass-storage\"]}},\"target\":\"block\"}", "");
	_cleanup_policy_ struct mg_policy *p = parse(json);
	struct mg_usbdev dev;
	struct mg_decision d;

	zoo_read(&z, "1-1", &dev);
	snprintf(dev.serial, sizeof(dev.serial), "SER%08d", 10);
	mg_rules_decide(&p->devices, &dev, NULL, 0, 0, &d);
	cr_assert_str_eq(d.rule, "no-storage");
}

Test(rules, duplicate_serials_keep_policy_order)
{
	_cleanup_policy_ struct mg_policy *p = parse(
		"{\"schema\":1,\"devices\":{\"rules\":["
		"{\"id\":\"a\",\"match\":{\"serial\":\"4C530000000000000001\",\"port\":\"2-*\"},\"target\":\"allow\"},"
		"{\"id\":\"b\",\"match\":{\"serial\":\"4C530000000000000001\"},\"target\":\"read-only\"},"
		"{\"id\":\"c\",\"match\":{\"serial\":\"4C530000000000000001\"},\"target\":\"allow\"}]}}");
	struct mg_decision d;

	decide(p, "1-1", 0, &d);
	cr_assert_str_eq(d.rule, "b");
}

/* ---- the parser's errors name the field ---- */

static void expect_error(const char *section, const char *want)
{
	char json[2048];
	struct mg_policy *p = NULL;

	snprintf(json, sizeof(json), "{\"schema\":1,\"devices\":%s}", section);
	int r = mg_policy_parse(json, strlen(json), "p.json", &p);

	cr_expect_lt(r, 0, "accepted %s", section);
	cr_expect(strstr(mg_error(), want), "\"%s\" not in \"%s\"", want, mg_error());
	mg_policy_free(p);
}

Test(parse, errors_name_the_field)
{
	expect_error("{\"rules\":[{\"id\":\"a\",\"match\":{},\"target\":\"allow\"},"
	             "{\"id\":\"a\",\"match\":{},\"target\":\"block\"}]}",
	             "p.json: $.devices.rules[1].id: \"a\" is already the id of rules[0]");
	expect_error("{\"rules\":[{\"id\":\"a\",\"match\":{\"vendor\":\"78x1\"},\"target\":\"allow\"}]}",
	             "$.devices.rules[0].match.vendor: expected 4 hex digits");
	expect_error("{\"rules\":[{\"id\":\"a\",\"match\":{\"vendor\":\"781\"},\"target\":\"allow\"}]}",
	             "$.devices.rules[0].match.vendor");
	expect_error("{\"rules\":[{\"id\":\"a\",\"match\":{\"classes\":{\"one-of\":[\"hid\",\"phone\"]}},"
	             "\"target\":\"allow\"}]}", "$.devices.rules[0].match.classes.one-of[1]: \"phone\": not a class");
	expect_error("{\"rules\":[{\"id\":\"a\",\"match\":{\"classes\":{\"any-of\":[\"hid\"]}},\"target\":\"allow\"}]}",
	             "any-of");
	expect_error("{\"rules\":[{\"id\":\"a\",\"match\":{},\"target\":\"hold\"}]}", "$.devices.rules[0].target");
	expect_error("{\"rules\":[{\"id\":\"a b\",\"match\":{},\"target\":\"allow\"}]}", "$.devices.rules[0].id");
	expect_error("{\"rules\":[{\"match\":{},\"target\":\"allow\"}]}", "$.devices.rules[0]");
	expect_error("{\"rules\":[{\"id\":\"a\",\"match\":{\"hash\":\"00\"},\"target\":\"allow\"}]}",
	             "$.devices.rules[0].match.hash: expected 64 hex digits");
	expect_error("{\"rules\":[{\"id\":\"a\",\"match\":{\"connect\":\"wifi\"},\"target\":\"allow\"}]}",
	             "$.devices.rules[0].match.connect");
	expect_error("{\"rules\":[{\"id\":\"a\",\"match\":{},\"target\":\"allow\",\"interfaces\":{\"hid\":\"maybe\"}}]}",
	             "$.devices.rules[0].interfaces.hid");
	expect_error("{\"default\":\"open\"}", "$.devices.default");
	expect_error("{\"media\":{\"usb\":\"block\"}}", "$.devices.media");
	expect_error("{\"present_devices\":\"ignore\"}", "$.devices.present_devices");
	expect_error("{\"rules\":[{\"id\":\"a\",\"match\":{\"serial\":\"\"},\"target\":\"allow\"}]}",
	             "$.devices.rules[0].match.serial");
	expect_error("{\"rules\":[{\"id\":\"a\",\"match\":{\"classes\":{\"one-of\":[]}},\"target\":\"allow\"}]}",
	             "one-of");
}

Test(parse, class_terms)
{
	struct mg_class_term t;
	struct mg_usb_class kbd = {0x03, 0x01, 0x01}, ecm = {0x02, 0x06, 0x00}, bt = {0xe0, 0x01, 0x01};

	cr_assert_eq(mg_class_term_parse("keyboard", &t), 0);
	cr_assert(mg_class_term_matches(&t, &kbd, false));
	cr_assert_eq(mg_class_term_parse("network", &t), 0);
	cr_assert(mg_class_term_matches(&t, &ecm, false));
	cr_assert_not(mg_class_term_matches(&t, &bt, false), "Bluetooth is not network");
	cr_assert_eq(mg_class_term_parse("E0:01", &t), 0);
	cr_assert(mg_class_term_matches(&t, &bt, false));
	cr_assert_eq(mg_class_term_parse("e0:1", &t), -EINVAL);
	cr_assert_eq(mg_class_term_parse("mtp", &t), 0);
	cr_assert(mg_class_term_matches(&t, &(struct mg_usb_class){0xff, 0xff, 0x00}, true));
	cr_assert_not(mg_class_term_matches(&t, &(struct mg_usb_class){0xff, 0xff, 0x00}, false));
}

Test(parse, target_names)
{
	enum mg_target t;

	cr_assert_eq(mg_target_parse("read-only", &t), 0);
	cr_assert_eq(t, MG_TARGET_READ_ONLY);
	cr_assert_eq(mg_target_parse("hold", &t), -EINVAL, "hold is a decision, not a policy target");
	cr_assert_str_eq(mg_target_name(MG_TARGET_HOLD), "hold");
}
