/* Fuzzes the parser of STATE/terminal.json (terminal.h).  What it accepts
 * must survive a format/parse round trip unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mynaguard/terminal.h"
#include "mynaguard/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_terminal_state a, b;
	_cleanup_free_ char *text = NULL;
	size_t len;

	if (mg_terminal_state_parse(data, size, "terminal.json", &a) < 0)
		return 0;
	if (mg_terminal_state_format(&a, &text, &len) < 0)
		abort();
	if (mg_terminal_state_parse(text, len, "again", &b) < 0)
		abort();
	if (a.policy_floor != b.policy_floor || a.clock_floor != b.clock_floor ||
	    a.keyring_version != b.keyring_version || a.has_bundle != b.has_bundle ||
	    memcmp(a.bundle_hash, b.bundle_hash, sizeof(a.bundle_hash)) != 0)
		abort();
	return 0;
}
