/* audit_writer DIR COMPONENT: one long-lived journal writer, as the agent
 * is one, for tests of what happens across a failing disk.  Each stdin
 * line "EVENT [SUBJECT]" is appended; each gets one stdout line, "ok" or
 * "fail: MESSAGE", flushed at once.  Exits 0 when the last append worked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mynaguard/error.h"
#include "mynaguard/journal.h"
#include "mynaguard/util.h"

int main(int argc, char **argv)
{
	_cleanup_free_ char *line = NULL;
	struct mg_journal *j;
	size_t cap = 0;
	int r = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: audit_writer DIR COMPONENT\n");
		return 2;
	}
	if (mg_journal_open(argv[1], argv[2], &j) < 0) {
		fprintf(stderr, "audit_writer: %s\n", mg_error());
		return 2;
	}
	while (getline(&line, &cap, stdin) > 0) {
		char *subject = NULL, *event = strtok_r(line, " \n", &subject);

		if (!event)
			continue;
		subject[strcspn(subject, "\n")] = '\0';
		r = mg_journal_append(j, &(struct mg_audit){.event = event, .decision = "alert",
		                                             .subject = *subject ? subject : NULL});
		if (r < 0)
			printf("fail: %s\n", mg_error());
		else
			printf("ok\n");
		fflush(stdout);
	}
	mg_journal_close(j);
	return r < 0 ? 1 : 0;
}
