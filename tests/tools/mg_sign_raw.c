/* mg_sign_raw MAGIC HEADER_FILE PAYLOAD_FILE KEY.key...
 * Writes to stdout a signed frame around the exact header bytes given,
 * valid signatures included, so that the tests can show that the header
 * parser (not a bad signature) refuses duplicated or unknown fields and
 * unsupported versions.  MAGIC picks the kind: "bundle" or "keyring". */
#include <stdio.h>
#include <string.h>

#include "mynaguard/bundle.h"
#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/keyring.h"
#include "mynaguard/util.h"

int main(int argc, char **argv)
{
	_cleanup_free_ uint8_t *header = NULL, *payload = NULL, *out = NULL;
	const struct mg_envelope_kind *kind;
	struct mg_envelope env = {0};
	size_t hlen = 0, plen = 0, len = 0;

	if (argc < 5) {
		fprintf(stderr, "usage: mg_sign_raw bundle|keyring HEADER PAYLOAD KEY.key...\n");
		return 2;
	}
	kind = strcmp(argv[1], "keyring") == 0 ? &mg_keyring_kind : &mg_bundle_kind;
	if (mg_file_read(argv[2], 1 << 20, &header, &hlen) < 0 ||
	    mg_file_read(argv[3], MG_POLICY_MAX_BYTES, &payload, &plen) < 0)
		goto fail;
	env.header = header;
	env.header_len = hlen;
	env.rest = payload;
	env.rest_len = plen;
	for (int i = 4; i < argc; i++) {
		struct mg_secret_key k;
		int r = mg_key_open_secret(argv[i], NULL, &k);
		if (r == 0)
			r = mg_envelope_add_signature(kind, &env, &k, argv[i]);
		mg_secret_key_wipe(&k);
		if (r < 0)
			goto fail;
	}
	if (mg_envelope_format(kind, &env, &out, &len) < 0)
		goto fail;
	return fwrite(out, 1, len, stdout) == len ? 0 : 1;
fail:
	fprintf(stderr, "mg_sign_raw: %s\n", mg_error());
	return 1;
}
