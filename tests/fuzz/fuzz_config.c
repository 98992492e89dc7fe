/* The terminal configuration parser on arbitrary bytes, through a file as
 * mynaguardctl and the agent read it. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mynaguard/config.h"

static char path[64];

static void cleanup(void)
{
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_config cfg;
	int fd;

	if (!path[0]) {
		strcpy(path, "/tmp/mg-fuzz-config.XXXXXX");
		fd = mkstemp(path);
		if (fd < 0)
			abort();
		close(fd);
		atexit(cleanup);
	}
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if (mg_config_load(path, &cfg) == 0)
		mg_config_free(&cfg);
	return 0;
}
