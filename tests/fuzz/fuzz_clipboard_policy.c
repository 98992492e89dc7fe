/* Fuzzes the "clipboard" section parser.  A section that parses must
 * survive the trip through mg_clipboard_policy_to_json (what the agent
 * hands a guard) unchanged, and vetting a sample with it must not fail. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mynaguard/clipboard.h"
#include "mynaguard/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sample[] = "番号 1234-5678-9018 と 7000012050002";
	_cleanup_json_ json_t *root = NULL, *back = NULL;
	struct mg_clipboard_policy c, again;
	struct mg_clip_vetting v;

	if (mg_json_parse(data, size, "fuzz", &root) < 0)
		return 0;
	mg_clipboard_policy_defaults(&c);
	if (mg_clipboard_policy_parse(root, "fuzz: $", &c) < 0)
		return 0;
	if (mg_clipboard_policy_to_json(&c, &back) < 0)
		abort();
	mg_clipboard_policy_defaults(&again);
	if (mg_clipboard_policy_parse(back, "fuzz: $", &again) < 0 || memcmp(&c, &again, sizeof(c)))
		abort();
	if (mg_clip_vet(&c, MG_CLIP_TEXT, (const uint8_t *)sample, sizeof(sample) - 1, &v) < 0)
		abort();
	mg_clip_vetting_free(&v);
	return 0;
}
