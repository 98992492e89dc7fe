/* Fuzzes the configuration parser of the setuid helper mynaguard-otp-check
 * (mg_otp_paths_parse): whatever it accepts holds absolute, terminated paths. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mynaguard/otpstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_otp_paths p;

	if (mg_otp_paths_parse((const char *)data, size, "fuzz", &p) < 0)
		return 0;
	if (p.store[0] != '/' || p.hostkey[0] != '/' || p.statedir[0] != '/' || p.config[0] != '/' ||
	    !memchr(p.store, '\0', sizeof(p.store)) || !memchr(p.config, '\0', sizeof(p.config)))
		abort();
	return 0;
}
