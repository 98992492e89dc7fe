/* Test driver for the device-control core, for the integration tests:
 *   mg_devices udev-rules POLICY.json          print the generated rules file
 *   mg_devices decide SYSROOT DEVPATH POLICY.json [STATE]
 *                                              print "TARGET RULE" for a device,
 *                                              with the tickets stored in STATE
 *   mg_devices readonly|writable NAME          make /dev/NAME read-only or writable (/sys, /dev)
 * It calls the library exactly as mynaguardd does; it is not installed. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "mynaguard/enforce.h"
#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/policy.h"
#include "mynaguard/ticket.h"
#include "mynaguard/udevrules.h"
#include "mynaguard/usbdev.h"
#include "mynaguard/util.h"

static int load_policy(const char *path, struct mg_policy **p)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	r = mg_file_read(path, MG_POLICY_MAX_BYTES, &buf, &len);
	if (r == 0)
		r = mg_policy_parse(buf, len, path, p);
	return r;
}

static int udev_rules(const char *policy)
{
	_cleanup_policy_ struct mg_policy *p = NULL;
	_cleanup_free_ char *text = NULL;
	int r;

	r = load_policy(policy, &p);
	if (r == 0) r = mg_udevrules_generate(&p->devices, policy, &text);
	if (r == 0) fputs(text, stdout);
	return r;
}

static int decide(const char *sysroot, const char *devpath, const char *policy, const char *state)
{
	_cleanup_policy_ struct mg_policy *p = NULL;
	_cleanup_free_ struct mg_ticket *tickets = NULL;
	size_t n = 0;
	_cleanup_close_ int sysfd = -1;
	struct mg_usbdev dev;
	struct mg_decision d;
	int r;

	r = load_policy(policy, &p);
	if (r < 0)
		return r;
	sysfd = open(sysroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sysfd < 0)
		return mg_fail_errno(errno, "%s", sysroot);
	r = mg_usbdev_read(sysfd, devpath, &dev);
	if (r == 0 && state)
		r = mg_ticket_load_all(state, &tickets, &n);
	if (r < 0)
		return r;
	mg_rules_decide(&p->devices, &dev, tickets, n, 0, &d);
	printf("%s %s\n", mg_target_name(d.target), d.rule);
	return 0;
}

static int set_block(const char *name, enum mg_target t)
{
	_cleanup_close_ int sysfd = open("/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int devfd = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (sysfd < 0 || devfd < 0)
		return mg_fail_errno(errno, "/sys or /dev");
	return mg_enforce_block(sysfd, devfd, name, t);
}

int main(int argc, char **argv)
{
	int r;

	if (argc == 3 && strcmp(argv[1], "udev-rules") == 0)
		r = udev_rules(argv[2]);
	else if ((argc == 5 || argc == 6) && strcmp(argv[1], "decide") == 0)
		r = decide(argv[2], argv[3], argv[4], argc == 6 ? argv[5] : NULL);
	else if (argc == 3 && strcmp(argv[1], "readonly") == 0)
		r = set_block(argv[2], MG_TARGET_READ_ONLY);
	else if (argc == 3 && strcmp(argv[1], "writable") == 0)
		r = set_block(argv[2], MG_TARGET_ALLOW);
	else {
		fprintf(stderr, "usage: mg_devices udev-rules POLICY | decide SYSROOT DEVPATH POLICY [STATE] | readonly|writable NAME\n");
		return 2;
	}
	if (r < 0) {
		fprintf(stderr, "mg_devices: %s\n", mg_error());
		return 1;
	}
	return 0;
}
