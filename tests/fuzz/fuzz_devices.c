/* Fuzzes the "devices" policy section (rules.h) from the whole policy
 * parser down: whatever parses must decide a fixed device without fault
 * and turn into a udev rules file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mynaguard/policy.h"
#include "mynaguard/udevrules.h"
#include "mynaguard/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct mg_usbdev dev = {
		.name = "1-2", .parent = "usb1", .vendor = 0x0951, .product = 0x1666, .serial = "E0D55EA574E8F3A1",
		.connect = MG_USB_CONNECT_HOTPLUG, .n_interfaces = 2,
		.interfaces = {{.number = 0, .cls = {0x08, 0x06, 0x50}}, {.number = 1, .cls = {0x03, 0x01, 0x01}}},
	};
	_cleanup_policy_ struct mg_policy *p = NULL;
	_cleanup_free_ char *rules = NULL;
	struct mg_decision d;

	if (mg_policy_parse(data, size, "fuzz.json", &p) < 0)
		return 0;
	mg_rules_decide(&p->devices, &dev, NULL, 0, 0, &d);
	if (d.target > MG_TARGET_HOLD || !d.rule[0])
		abort();
	if (mg_udevrules_generate(&p->devices, "fuzz.json", &rules) < 0 || !strstr(rules, "LABEL=\"mynaguard_end\""))
		abort();
	return 0;
}
