/* The PAM stack reader on arbitrary bytes: the input is written as the
 * service file "login" in a scratch pam.d (so includes of itself exercise
 * the depth limit) and loaded for every type, then asked the inspection's
 * question. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mynaguard/pamstack.h"

static char dir[64];
static int dirfd = -1;

static void cleanup(void)
{
	unlinkat(dirfd, "login", 0);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];
	int fd;

	if (dirfd < 0) {
		strcpy(dir, "/tmp/mg-fuzz-pamd.XXXXXX");
		if (!mkdtemp(dir))
			abort();
		dirfd = open(dir, O_RDONLY | O_DIRECTORY);
		if (dirfd < 0)
			abort();
		atexit(cleanup);
	}
	fd = openat(dirfd, "login", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	for (int t = MG_PAM_ACCOUNT; t <= MG_PAM_SESSION; t++) {
		struct mg_pam_stack s;

		if (mg_pam_stack_load(dirfd, dir, "login", t, &s) == 0) {
			mg_pam_stack_enforces(&s, "pam_mynaguard.so", why, sizeof(why));
			mg_pam_stack_free(&s);
		}
	}
	return 0;
}
