/* Fuzzes the keyring parser (keyring.h) and the self-signature check.
 * What parses must survive a format/parse round trip of its frame. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mynaguard/keyring.h"
#include "mynaguard/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ uint8_t *out = NULL;
	struct mg_keyring kr, again;
	size_t len = 0;

	if (mg_keyring_parse(data, size, "fuzz", &kr) < 0)
		return 0;
	if (kr.root.threshold < 1 || kr.root.threshold > kr.root.nkeys ||
	    kr.policy.threshold < 1 || kr.policy.threshold > kr.policy.nkeys)
		abort();
	if (mg_envelope_format(&mg_keyring_kind, &kr.env, &out, &len) < 0)
		abort();
	if (mg_keyring_parse(out, len, "again", &again) < 0 || again.version != kr.version ||
	    again.root.nkeys != kr.root.nkeys || again.policy.nkeys != kr.policy.nkeys)
		abort();
	mg_keyring_verify_self(data, size, "fuzz", &kr);
	mg_keyring_verify_rotation(&again, data, size, "fuzz", &kr);
	return 0;
}
