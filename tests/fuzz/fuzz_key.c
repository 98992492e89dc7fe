/* Fuzzes the key file parsers (key.h).  Secret keys are parsed without a
 * passphrase, so a sealed key stops before Argon2id: the fuzzer explores
 * the text, the base64 and the seal, not the password hash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mynaguard/key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_public_key pub;
	struct mg_secret_key sec;
	uint8_t id[MG_KEY_ID_BYTES];

	if (mg_key_parse_public(data, size, "fuzz.pub", &pub) == 0) {
		mg_key_id(pub.pk, id);
		if (memcmp(id, pub.id, sizeof(id)) != 0 || mg_key_name_check(pub.name) < 0)
			abort();
	}
	if (mg_key_parse_secret(data, size, "fuzz.key", NULL, &sec) == 0)
		mg_secret_key_wipe(&sec);
	return 0;
}
