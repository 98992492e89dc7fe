/* mg_detect_bench FILE: the detectors over a file, nothing else.  Prints
 * the count of findings.  bench/detect.sh times it beside grep -P, so that
 * the detector is measured without the start-up of mynaguardctl, which
 * loads every library of every verb. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mynaguard/detect.h"

int main(int argc, char **argv)
{
	size_t counts[32];
	struct stat st;
	void *text;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: mg_detect_bench FILE\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0) {
		perror(argv[1]);
		return 2;
	}
	text = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (text == MAP_FAILED) {
		perror(argv[1]);
		return 2;
	}
	printf("%zu\n", mg_detect_count(text, (size_t)st.st_size, MG_DETECT_ALL, counts));
	munmap(text, (size_t)st.st_size);
	close(fd);
	return 0;
}
