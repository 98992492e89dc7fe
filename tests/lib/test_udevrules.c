/* udevrules: the text generated from a policy.  That udev parses it and
 * applies it as the engine decides is udev_rules_syntax.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <criterion/criterion.h>

#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/policy.h"
#include "mynaguard/udevrules.h"
#include "mynaguard/util.h"

static char *generate(const char *json)
{
	_cleanup_policy_ struct mg_policy *p = NULL;
	char *text = NULL;

	cr_assert_eq(mg_policy_parse(json, strlen(json), "p.json", &p), 0, "%s", mg_error());
	cr_assert_eq(mg_udevrules_generate(&p->devices, "p.json", &text), 0, "%s", mg_error());
	return text;
}

/* The line after the comment of rule ID. */
static const char *line_of(const char *text, const char *id)
{
	static char line[4096];
	char marker[128];
	const char *p;

	snprintf(marker, sizeof(marker), "\"%s\": ", id);
	p = strstr(text, marker);
	cr_assert(p, "no rule %s in\n%s", id, text);
	p = strchr(p, '\n') + 1;
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
	return line;
}

Test(udevrules, no_policy_blocks_every_device)
{
	_cleanup_free_ char *text = generate("{\"schema\":1}");

	cr_assert(strstr(text, "# \"default\": block\nATTR{authorized}=\"0\""), "%s", text);
	cr_assert(strstr(text, "IMPORT{builtin}=\"usb_id\""));
	cr_assert(strstr(text, "LABEL=\"mynaguard_end\"\n"));
}

Test(udevrules, expressible_rules_decide_in_udev)
{
	_cleanup_free_ char *text = generate(
		"{\"schema\":1,\"devices\":{\"new_keyboards\":\"rules\",\"composite_storage_hid\":\"rules\",\"rules\":["
		"{\"id\":\"reader\",\"match\":{\"classes\":{\"one-of\":[\"smartcard\"]}},\"target\":\"allow\"},"
		"{\"id\":\"kbd\",\"match\":{\"vendor\":\"046d\",\"product\":\"c3*\",\"connect\":\"hotplug\"},\"target\":\"allow\"},"
		"{\"id\":\"net\",\"match\":{\"classes\":{\"all-of\":[\"network\"],\"none-of\":[\"hid\"]}},\"target\":\"block\"},"
		"{\"id\":\"port\",\"match\":{\"port\":\"1-4.*\",\"serial\":\"AB12\"},\"target\":\"allow\"}]}}");

	cr_assert_str_eq(line_of(text, "reader"),
	                 "ENV{MYNAGUARD_CLASSES}==\"*:0b????:*\", ATTR{authorized}=\"1\", ENV{MYNAGUARD}=\"allow\", "
	                 "ENV{MYNAGUARD_RULE}=\"reader\", GOTO=\"mynaguard_end\"");
	cr_assert(strstr(line_of(text, "kbd"), "ATTR{idVendor}==\"046d\", ATTR{idProduct}==\"c3*\", "
	                                       "ATTR{removable}==\"removable\", ATTR{authorized}=\"1\""));
	cr_assert(strstr(line_of(text, "net"),
	                 "ENV{MYNAGUARD_CLASSES}==\"*:02????:*|*:0a????:*|*:e00102:*|*:e00103:*|*:e002??:*|*:ef04??:*\", "
	                 "ENV{MYNAGUARD_CLASSES}!=\"*:03????:*\", ATTR{authorized}=\"0\", ENV{MYNAGUARD}=\"block\""));
	cr_assert(strstr(line_of(text, "port"), "ATTR{serial}==\"AB12\", KERNEL==\"1-4.*\", ATTR{authorized}=\"1\""));
}

Test(udevrules, what_udev_cannot_check_waits_for_the_agent)
{
	_cleanup_free_ char *text = generate(
		"{\"schema\":1,\"devices\":{\"rules\":["
		"{\"id\":\"h\",\"match\":{\"hash\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"},"
		"\"target\":\"allow\"},"
		"{\"id\":\"ro\",\"match\":{\"vendor\":\"0781\"},\"target\":\"read-only\"},"
		"{\"id\":\"mtp\",\"match\":{\"classes\":{\"one-of\":[\"mtp\"]}},\"target\":\"block\"},"
		"{\"id\":\"odd\",\"match\":{\"serial\":\"A\\\"B*\"},\"target\":\"allow\"},"
		"{\"id\":\"cam\",\"match\":{\"vendor\":\"04f2\"},\"interfaces\":{\"audio\":\"block\"},\"target\":\"allow\"}]}}");

	cr_assert_str_eq(line_of(text, "h"), "ATTR{authorized}=\"0\", ENV{MYNAGUARD}=\"wait\", ENV{MYNAGUARD_RULE}=\"h\", "
	                                     "GOTO=\"mynaguard_end\"");
	cr_assert(strstr(line_of(text, "ro"), "ATTR{idVendor}==\"0781\", ATTR{authorized}=\"0\", ENV{MYNAGUARD}=\"wait\""));
	/* MTP by interface string: udev sees only "vendor-specific". */
	cr_assert(strstr(line_of(text, "mtp"), "==\"*:06????:*|*:ff????:*\", ATTR{authorized}=\"0\", ENV{MYNAGUARD}=\"wait\""));
	/* A serial with a quote or a glob character cannot be written literally. */
	cr_assert_str_eq(line_of(text, "odd"), "ATTR{authorized}=\"0\", ENV{MYNAGUARD}=\"wait\", "
	                                       "ENV{MYNAGUARD_RULE}=\"odd\", GOTO=\"mynaguard_end\"");
	cr_assert(strstr(line_of(text, "cam"), "ENV{MYNAGUARD}=\"wait\""));
	cr_assert(strstr(text, "the agent decides"));
}

Test(udevrules, guards_come_before_an_allow)
{
	_cleanup_free_ char *text = generate("{\"schema\":1,\"devices\":{\"default\":\"allow\"}}");
	const char *d = strstr(text, "# \"default\": allow\n");

	cr_assert(d, "%s", text);
	cr_assert(strstr(d, "ENV{MYNAGUARD_CLASSES}==\"*:03????:*\", ENV{MYNAGUARD_CLASSES}==\"*:08????:*|"),
	          "composite guard: %s", d);
	cr_assert(strstr(d, "ENV{MYNAGUARD_RULE}=\"composite-storage-hid\""));
	cr_assert(strstr(d, "ENV{MYNAGUARD_RULE}=\"new-keyboard\""));
	cr_assert(strstr(d, "ATTR{authorized}=\"1\", ENV{MYNAGUARD}=\"allow\", ENV{MYNAGUARD_RULE}=\"default\""));
	cr_assert(strstr(d, "composite-storage-hid") < strstr(d, "MYNAGUARD_RULE}=\"default\""));
}

Test(udevrules, origin_cannot_break_the_comment)
{
	_cleanup_policy_ struct mg_policy *p = NULL;
	_cleanup_free_ char *text = NULL;

	cr_assert_eq(mg_policy_parse("{\"schema\":1}", 12, "p", &p), 0);
	cr_assert_eq(mg_udevrules_generate(&p->devices, "evil\nATTR{authorized}=\"1\"", &text), 0);
	cr_assert(strstr(text, "evil?ATTR"), "%.200s", text);
}

Test(udevrules, install_writes_atomically)
{
	_cleanup_policy_ struct mg_policy *p = NULL;
	char dir[] = "/tmp/mg-udevrules.XXXXXX", path[128], cmd[160];
	uint8_t *buf = NULL;
	size_t len = 0;
	struct stat st;

	cr_assert(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/70-mynaguard.rules", dir);
	cr_assert_eq(mg_policy_parse("{\"schema\":1}", 12, "p", &p), 0);
	cr_assert_eq(mg_udevrules_install(&p->devices, "p", path, false), 0, "%s", mg_error());
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644);
	cr_assert_eq(mg_file_read(path, 1 << 20, &buf, &len), 0);
	cr_assert(strstr((char *)buf, "Generated by mynaguard"));
	free(buf);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(udevrules, audit_only_blocks_nothing)
{
	_cleanup_free_ char *text = generate(
		"{\"schema\":1,\"devices\":{\"audit_only\":true,\"rules\":["
		"{\"id\":\"r\",\"match\":{\"vendor\":\"0781\"},\"target\":\"block\"}]}}");

	cr_assert(strstr(text, "\"audit_only\" is on"), "%s", text);
	cr_assert_null(strstr(text, "ATTR{authorized}=\"0\""), "%s", text);
	cr_assert(strstr(text, "ATTR{authorized}=\"1\", ENV{MYNAGUARD}=\"allow\", ENV{MYNAGUARD_RULE}=\"audit-only\""),
	          "%s", text);
}

Test(udevrules, media_are_read_only_from_their_first_event)
{
	_cleanup_free_ char *text = generate(
		"{\"schema\":1,\"devices\":{\"media\":{\"sd\":\"allow\",\"optical\":\"read-only\"}}}");
	const char *b = strstr(text, "LABEL=\"mynaguard_block\"");

	cr_assert(b, "%s", text);
	cr_assert(strstr(b, "SUBSYSTEMS==\"usb\", RUN+=\"/usr/sbin/blockdev --setro $devnode\""), "%s", b);
	cr_assert_null(strstr(b, "mmcblk"), "an allowed medium is left alone");
	cr_assert(strstr(b, "KERNEL==\"sr[0-9]*\", RUN+=\"/usr/sbin/blockdev --setro $devnode\", ENV{MYNAGUARD}"));
	cr_assert(strstr(b, "ATTRS{removable}==\"1\", RUN+=\"/usr/sbin/blockdev --setro $devnode\", "
	                    "ENV{UDISKS_IGNORE}=\"1\""));
}

Test(udevrules, optical_drives_cannot_burn)
{
	_cleanup_free_ char *blocked = generate("{\"schema\":1}");
	_cleanup_free_ char *allowed = generate("{\"schema\":1,\"devices\":{\"media\":{\"optical\":\"allow\"}}}");

	/* Before the ACTION filter: modes hold on change events too. */
	cr_assert(strstr(blocked, "SUBSYSTEM==\"block\", KERNEL==\"sr[0-9]*\", MODE:=\"0440\"\n"
	                          "SUBSYSTEM==\"scsi_generic\", ATTRS{type}==\"5\", MODE:=\"0600\"\n"
	                          "ACTION!=\"add\""), "%s", blocked);
	cr_assert_null(strstr(allowed, "MODE:="), "%s", allowed);
}
