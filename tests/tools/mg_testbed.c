/* mg_testbed: a umockdev testbed driven line by line, for shell tests.
 *
 * umockdev's testbed lives in the process that made it, so the tests run
 * this as a coprocess and talk to it:
 *
 *   out: "root DIR"                  first line: run programs with
 *                                    UMOCKDEV_DIR=DIR LD_PRELOAD=libumockdev-preload.so.0
 *   in:  load FILE                   umockdev-record description(s) into the testbed
 *   in:  add-from TEXT               the same from one line ("\n" for newlines)
 *   in:  uevent SYSPATH ACTION       send add/change/remove/bind to every monitor
 *   in:  set SYSPATH ATTR VALUE      write a sysfs attribute
 *   in:  set-hex SYSPATH ATTR HEX    write a binary attribute (`descriptors`)
 *   in:  get SYSPATH ATTR            -> "value CONTENT" (first line of the file)
 *   in:  remove SYSPATH              take the device out of sysfs
 *   in:  quit
 *   out: "ok", "value ..." or "error MESSAGE" for each command.
 * Adding devices (load, add-from) sends their "add" uevents, as umockdev does.
 *
 * SYSPATH is as umockdev spells it: "/sys/devices/...".  The driver runs
 * under umockdev's preload itself (it re-executes itself so), because
 * umockdev_testbed_uevent looks the device up through libudev. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <umockdev.h>

static void reply_error(const char *what, GError *err)
{
	printf("error %s: %s\n", what, err ? err->message : "failed");
	if (err)
		g_error_free(err);
}

/* "a\nb" written as one line with a literal backslash-n. */
static char *unescape(const char *s)
{
	char *out = g_malloc(strlen(s) + 1), *o = out;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] == 'n') {
			*o++ = '\n';
			s++;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

static void get_attr(UMockdevTestbed *tb, const char *syspath, const char *attr)
{
	char *root = umockdev_testbed_get_root_dir(tb);
	char *path = g_strdup_printf("%s%s/%s", root, syspath, attr);
	char line[4096] = "";
	FILE *f = fopen(path, "r");

	if (!f) {
		printf("error %s: cannot open\n", path);
	} else {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		line[strcspn(line, "\n")] = '\0';
		printf("value %s\n", line);
		fclose(f);
	}
	g_free(path);
	g_free(root);
}

static void set_hex(UMockdevTestbed *tb, const char *syspath, const char *attr, const char *hex)
{
	size_t n = strlen(hex) / 2;
	guint8 *buf = g_malloc(n + 1);

	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
			printf("error set-hex: bad hex at %zu\n", 2 * i);
			g_free(buf);
			return;
		}
		buf[i] = (guint8)v;
	}
	umockdev_testbed_set_attribute_binary(tb, syspath, attr, buf, (gssize)n);
	printf("ok\n");
	g_free(buf);
}

static void add_from(UMockdevTestbed *tb, const char *escaped)
{
	char *text = unescape(escaped);
	GError *err = NULL;

	if (umockdev_testbed_add_from_string(tb, text, &err))
		printf("ok\n");
	else
		reply_error("add-from", err);
	g_free(text);
}

static void command(UMockdevTestbed *tb, char *line)
{
	char *verb, *a, *b, *rest;
	GError *err = NULL;

	if (strncmp(line, "add-from ", 9) == 0) {
		add_from(tb, line + 9);
		return;
	}
	verb = strtok(line, " ");
	a = strtok(NULL, " ");
	b = strtok(NULL, " ");
	rest = strtok(NULL, "");
	if (!verb) {
		printf("error empty command\n");
	} else if (strcmp(verb, "load") == 0 && a) {
		if (umockdev_testbed_add_from_file(tb, a, &err))
			printf("ok\n");
		else
			reply_error(a, err);
	} else if (strcmp(verb, "uevent") == 0 && a && b) {
		umockdev_testbed_uevent(tb, a, b);
		printf("ok\n");
	} else if (strcmp(verb, "set") == 0 && a && b) {
		umockdev_testbed_set_attribute(tb, a, b, rest ? rest : "");
		printf("ok\n");
	} else if (strcmp(verb, "set-hex") == 0 && a && b && rest) {
		set_hex(tb, a, b, rest);
	} else if (strcmp(verb, "get") == 0 && a && b) {
		get_attr(tb, a, b);
	} else if (strcmp(verb, "remove") == 0 && a) {
		umockdev_testbed_remove_device(tb, a);
		printf("ok\n");
	} else {
		printf("error unknown command '%s'\n", verb);
	}
}

#define PRELOAD "libumockdev-preload.so.0"

static void reexec_under_preload(char **argv)
{
	const char *preload = getenv("LD_PRELOAD");

	if (preload && strstr(preload, PRELOAD))
		return;
	setenv("LD_PRELOAD", PRELOAD, 1);
	execv("/proc/self/exe", argv);
	perror("mg_testbed: /proc/self/exe");
	exit(2);
}

int main(int argc, char **argv)
{
	UMockdevTestbed *tb;
	char *root;
	char line[65536];

	reexec_under_preload(argv);
	tb = umockdev_testbed_new();
	root = umockdev_testbed_get_root_dir(tb);

	printf("root %s\n", root);
	fflush(stdout);
	g_free(root);
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line, "quit") == 0)
			break;
		command(tb, line);
		fflush(stdout);
	}
	/* Dropping the testbed removes its directory. */
	g_object_unref(tb);
	return 0;
}
