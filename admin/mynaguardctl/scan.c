/* mynaguardctl scan [--detectors LIST] [FILE|-]
 *
 * Runs the number detectors over a file or standard input and prints one
 * line per finding, KIND<TAB>BYTE_OFFSET<TAB>MASKED, where MASKED shows only
 * the last 4 digits.  Exit status as grep: 0 found, 1 none, 2 error.
 * Administrators use it to try the clipboard policy on sample text. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "mynaguard/detect.h"
#include "mynaguard/error.h"
#include "mynaguard/util.h"
#include "verbs.h"

/* Standard input is read into memory up to this size. */
#define SCAN_PIPE_MAX (1ull << 30)

static const char scan_usage[] = "scan [--detectors kojin,hojin] [FILE|-]";

/* The text to scan: a mapping of a regular file, or a buffer read from a pipe. */
struct input {
	const char *name;      /* FILE, or "-" */
	uint8_t *data;         /* the bytes */
	size_t len;            /* how many */
	bool mapped;           /* data is an mmap, else malloc'd */
};

static int read_all(int fd, struct input *in)
{
	size_t cap = 0;

	for (;;) {
		ssize_t n;
		if (in->len == cap) {
			uint8_t *bigger;
			if (cap >= SCAN_PIPE_MAX)
				return mg_fail(EFBIG, "%s: larger than %llu bytes", in->name, SCAN_PIPE_MAX);
			cap = cap ? cap * 2 : 1 << 16;
			if (!(bigger = realloc(in->data, cap)))
				return mg_fail(ENOMEM, "%s: out of memory", in->name);
			in->data = bigger;
		}
		n = read(fd, in->data + in->len, cap - in->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mg_fail_errno(errno, "%s", in->name);
		if (n == 0)
			return 0;
		in->len += (size_t)n;
	}
}

static int input_open(const char *name, struct input *in)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	in->name = name;
	if (strcmp(name, "-") == 0)
		return read_all(STDIN_FILENO, in);
	fd = open(name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0)
		return mg_fail_errno(errno, "%s", name);
	if (!S_ISREG(st.st_mode) || st.st_size == 0)
		return read_all(fd, in);
	in->data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (in->data == MAP_FAILED) {
		in->data = NULL;
		return mg_fail_errno(errno, "%s: mmap", name);
	}
	in->len = (size_t)st.st_size;
	in->mapped = true;
	return 0;
}

static void input_close(struct input *in)
{
	if (in->mapped)
		munmap(in->data, in->len);
	else
		free(in->data);
}

/* --detectors kojin,hojin → a set. */
static int parse_detectors(const char *list, mg_detect_set *set)
{
	_cleanup_free_ char *copy = strdup(list);
	char *save = NULL;

	if (!copy)
		return mg_fail(ENOMEM, "--detectors: out of memory");
	*set = 0;
	for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		unsigned det;
		int r = mg_detector_find(name, "--detectors", &det);
		if (r < 0)
			return r;
		*set |= 1u << det;
	}
	if (!*set)
		return mg_fail(EINVAL, "--detectors: name at least one detector");
	return 0;
}

struct printer {
	size_t found;          /* findings printed */
};

static int print_finding(const struct mg_finding *f, void *userdata)
{
	struct printer *pr = userdata;
	char mask[MG_DETECT_MASK_MAX];

	mg_finding_mask(f, mask);
	printf("%s\t%zu\t%s\n", mg_detectors[f->detector].name, f->offset, mask);
	pr->found++;
	return 0;
}

int ctl_scan(struct mg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"detectors", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	mg_detect_set set = MG_DETECT_ALL;
	struct input in = {0};
	struct printer pr = {0};
	int c, r;

	while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		if (c != 'd')
			return mg_cli_usage(cli, "scan", scan_usage);
		if (parse_detectors(optarg, &set) < 0)
			return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	}
	if (argc - optind > 1)
		return mg_cli_usage(cli, "scan", scan_usage);
	r = input_open(optind < argc ? argv[optind] : "-", &in);
	if (r == 0)
		mg_detect_scan(in.data, in.len, set, print_finding, &pr);
	input_close(&in);
	if (r < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	if (fflush(stdout) != 0 || ferror(stdout))
		return mg_cli_fail(cli, MG_EXIT_USAGE, "standard output: %s", strerror(errno));
	return pr.found ? MG_EXIT_OK : MG_EXIT_NO;
}
