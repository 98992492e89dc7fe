/* The journal's reading side on arbitrary bytes: audit.log (and, when the
 * first byte says so, audit.head) are written into a scratch directory,
 * then verified, read back as show reads them, and sometimes appended to,
 * which runs the writer's repair and end-of-chain logic on the same bytes.
 * Input layout: FLAGS HEADLEN(1) HEAD[HEADLEN] LOG... */
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mynaguard/journal.h"
#include "mynaguard/util.h"

static char dir[64];

static void put(const char *name, const uint8_t *data, size_t len)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	if (len && write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
}

static void drop(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

static int remove_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(p);
}

static void cleanup(void)
{
	nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

static int count(const json_t *rec, const char *line, void *userdata)
{
	(*(size_t *)userdata)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_journal_report rep;
	size_t seen = 0, headlen;
	uint8_t flags;

	if (!dir[0]) {
		strcpy(dir, access("/dev/shm", W_OK) == 0 ? "/dev/shm/mg-fuzz-journal.XXXXXX"
		                                          : "/tmp/mg-fuzz-journal.XXXXXX");
		if (!mkdtemp(dir))
			abort();
		atexit(cleanup);
	}
	if (size < 2)
		return 0;
	flags = data[0];
	headlen = data[1] < size - 2 ? data[1] : size - 2;
	if (flags & 1)
		put("audit.head", data + 2, headlen);
	else
		drop("audit.head");
	put("audit.log", data + 2 + headlen, size - 2 - headlen);
	mg_journal_verify(dir, &rep);
	mg_journal_read(dir, flags & 2 ? 3 : 0, count, &seen);
	if ((flags & 0x1c) == 0x1c) {
		struct mg_audit a = {.event = "fuzz.append", .subject = "fuzz"};
		setenv("MYNAGUARD_AUDIT_ROTATE_BYTES", "1000000000", 1);
		mg_audit(dir, "fuzz", &a);
		mg_journal_verify(dir, &rep);
	}
	return 0;
}
