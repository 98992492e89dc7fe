/* Fuzzes the parser of STATE/pull.json (pull.h).  What it accepts must
 * survive a format/parse round trip unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mynaguard/pull.h"
#include "mynaguard/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_pull_state a, b;
	_cleanup_free_ char *text = NULL;
	size_t len;

	if (mg_pull_state_parse(data, size, "pull.json", &a) < 0)
		return 0;
	if (mg_pull_state_format(&a, &text, &len) < 0)
		abort();
	if (mg_pull_state_parse(text, len, "again", &b) < 0)
		abort();
	if (strcmp(a.url, b.url) != 0 || strcmp(a.etag, b.etag) != 0 || a.outcome != b.outcome ||
	    a.failures != b.failures || a.has_pointer != b.has_pointer ||
	    a.last_attempt != b.last_attempt || a.last_success != b.last_success)
		abort();
	if (a.url[0] && a.judged_version != b.judged_version)
		abort();
	return 0;
}
