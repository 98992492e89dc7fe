/* The agent's audit records: one journal, opened once, component "agent". */
#include <stdio.h>

#include "agent.h"
#include "mynaguard/error.h"
#include "mynaguard/journal.h"

/* A record that cannot be written is kept by the journal and retried with
 * the next one; the decision it describes stands either way. */
void agent_audit(struct agent *a, const char *event, const char *decision, const char *rule,
                 const char *subject, json_t *detail)
{
	const struct mg_audit rec = {
		.event = event, .decision = decision, .rule = rule, .subject = subject, .detail = detail,
	};

	if (mg_journal_append(a->journal, &rec) < 0)
		fprintf(stderr, "mynaguardd: audit: %s\n", mg_error());
}
