/* The agent's audit records: one journal, opened once, component "agent". */
#include <stdio.h>

#include "agent.h"
#include "mynaguard/error.h"
#include "mynaguard/journal.h"

/* A record that cannot be written is kept by the journal and retried with
 * the next one, or by agent_audit_retry when no event comes; the decision it
 * describes stands either way. */
void agent_audit(struct agent *a, const char *event, const char *decision, const char *rule,
                 const char *subject, json_t *detail)
{
	const struct mg_audit rec = {
		.event = event, .decision = decision, .rule = rule, .subject = subject, .detail = detail,
	};

	if (mg_journal_append(a->journal, &rec) < 0)
		fprintf(stderr, "mynaguardd: audit: %s\n", mg_error());
}

int agent_audit_retry_ms(const struct agent *a)
{
	return mg_journal_pending(a->journal) ? AGENT_AUDIT_RETRY_MS : -1;
}

void agent_audit_retry(struct agent *a)
{
	if (mg_journal_flush(a->journal) < 0)
		fprintf(stderr, "mynaguardd: audit: %s\n", mg_error());
}
