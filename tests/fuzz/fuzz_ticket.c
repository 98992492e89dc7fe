/* Fuzzes the ticket text form and its verification (ticket.h): what an
 * operator types in.  A ticket signed with the fixed policy key below
 * reaches the host and expiry checks; anything that decodes must match
 * only the device it names. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mynaguard/ticket.h"

static struct mg_keyring kr;

static void keyring_once(void)
{
	uint8_t seed[crypto_sign_SEEDBYTES], sk[crypto_sign_SECRETKEYBYTES];

	if (kr.version)
		return;
	memset(seed, 0x42, sizeof(seed));
	crypto_sign_seed_keypair(kr.policy.keys[0].pk, sk, seed);
	mg_key_id(kr.policy.keys[0].pk, kr.policy.keys[0].id);
	kr.policy.nkeys = kr.policy.threshold = 1;
	kr.version = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[MG_TICKET_TEXT_MAX * 2];
	struct mg_ticket t;
	struct mg_usbdev dev = {.serial = ""};

	keyring_once();
	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (mg_ticket_decode(text, &t) == 0) {
		if (t.mode != MG_TARGET_ALLOW && t.mode != MG_TARGET_READ_ONLY)
			abort();
		if (t.bind == MG_TICKET_BIND_SERIAL && (mg_ticket_matches(&t, &dev) || !t.serial[0]))
			abort();
	}
	mg_ticket_verify(text, &kr, "fuzz-host", 1700000000, &t);
	return 0;
}
