/* mynaguard-admin publish --repo DIR BUNDLE: puts a signed bundle into a
 * repository that any static web server (or approved media) can carry,
 * as DIR/GROUP/bundles/<version>-<hash>.bundle and the pointer
 * DIR/GROUP/current (repo.h).  Version and group come from the bundle's
 * own header; publishing does not judge signatures (the terminals do, and
 * `verify` does that here), it only refuses what is not a bundle. */
#include <getopt.h>
#include <stdio.h>

#include "mynaguard/bundle.h"
#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/repo.h"
#include "mynaguard/util.h"
#include "verbs.h"

static const char usage[] = "publish --repo DIR BUNDLE";

int admin_publish(struct mg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"repo", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	_cleanup_free_ uint8_t *buf = NULL;
	const char *repo = NULL, *path;
	struct mg_bundle b;
	struct mg_pointer p;
	size_t len;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c != 'r')
			return mg_cli_usage(cli, "publish", usage);
		repo = optarg;
	}
	if (!repo || argc - optind != 1)
		return mg_cli_usage(cli, "publish", usage);
	path = argv[optind];
	if (mg_file_read(path, MG_BUNDLE_MAX_BYTES, &buf, &len) < 0 ||
	    mg_bundle_parse(buf, len, path, &b) < 0 ||
	    mg_repo_publish(repo, b.hdr.target, b.hdr.version, buf, len, &p) < 0)
		return mg_cli_fail(cli, MG_EXIT_USAGE, NULL);
	printf("published %s version %llu: %s/%s/%s (%llu bytes), pointer %s/%s/%s\n",
	       b.hdr.target, (unsigned long long)p.version, repo, b.hdr.target, p.path,
	       (unsigned long long)p.size, repo, b.hdr.target, MG_POINTER_NAME);
	return MG_EXIT_OK;
}
