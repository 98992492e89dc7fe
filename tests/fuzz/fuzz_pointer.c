/* Fuzzes the repository pointer parser (repo.h), the one piece of a
 * poll's input that is read before any signature is checked.  What it
 * accepts must survive a format/parse round trip unchanged and must name
 * a path under bundles/ only. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mynaguard/repo.h"
#include "mynaguard/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_pointer p, q;
	_cleanup_free_ char *text = NULL;
	size_t len;

	if (mg_pointer_parse(data, size, "current", &p) < 0)
		return 0;
	if (strncmp(p.path, "bundles/", 8) != 0 || strstr(p.path, "..") || strchr(p.path + 8, '/'))
		abort();
	if (mg_pointer_format(&p, &text, &len) < 0)
		abort();
	if (mg_pointer_parse(text, len, "again", &q) < 0)
		abort();
	if (p.version != q.version || p.size != q.size || strcmp(p.path, q.path) != 0 ||
	    memcmp(p.blake2b, q.blake2b, sizeof(p.blake2b)) != 0)
		abort();
	return 0;
}
