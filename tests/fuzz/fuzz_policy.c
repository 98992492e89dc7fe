/* The policy parser on arbitrary bytes: every section it knows. */
#include <stdint.h>

#include "mynaguard/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_policy *p = NULL;

	if (mg_policy_parse(data, size, "fuzz.json", &p) == 0)
		mg_policy_free(p);
	return 0;
}
