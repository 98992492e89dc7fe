/* The terminal configuration: defaults, every key, and each kind of bad
 * line named by FILE:LINE. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mynaguard/config.h"
#include "mynaguard/error.h"
#include "mynaguard/util.h"

static char path[64];

static void setup(void)
{
	int fd;

	strcpy(path, "/tmp/mg-config.XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
}

static void teardown(void)
{
	unlink(path);
}

TestSuite(config, .init = setup, .fini = teardown);

static void write_config(const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static void expect_error(const char *text, const char *needle)
{
	struct mg_config cfg;

	write_config(text);
	cr_assert_lt(mg_config_load(path, &cfg), 0, "accepted: %s", text);
	cr_assert(strstr(mg_error(), needle), "'%s' not in '%s'", needle, mg_error());
	cr_assert(strncmp(mg_error(), path, strlen(path)) == 0, "%s", mg_error());
	cr_assert_null(cfg.terminal_id);
	cr_assert_null(cfg.runtime_dir);
}

Test(config, a_missing_file_means_the_defaults)
{
	struct mg_config cfg;

	cr_assert_eq(mg_config_load("/nonexistent/mynaguard.conf", &cfg), 0, "%s", mg_error());
	cr_assert_str_eq(cfg.terminal_id, mg_hostname());
	cr_assert_null(cfg.group);
	cr_assert_null(cfg.repository);
	cr_assert_null(cfg.ca_file);
	cr_assert_null(cfg.pinned_key);
	cr_assert_str_eq(cfg.runtime_dir, "/run/mynaguard");
	cr_assert_str_eq(cfg.udev_rules, "/etc/udev/rules.d/70-mynaguard.rules");
	mg_config_free(&cfg);
}

Test(config, every_key_is_read)
{
	struct mg_config cfg;

	write_config("# 本庁 住民記録系\n"
	             "\n"
	             "terminal_id = T-0012\n"
	             "  group=juki.honcho  \n"
	             "repository = https://policy.example.lg.jp/repo#frag\n"
	             "ca_file = /etc/mynaguard/ca.pem\n"
	             "pinned_public_key = sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=;"
	             "sha256//BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=\r\n"
	             "runtime_dir = /run/mg\n"
	             "udev_rules = /etc/udev/rules.d/71-test.rules\n");
	cr_assert_eq(mg_config_load(path, &cfg), 0, "%s", mg_error());
	cr_assert_str_eq(cfg.terminal_id, "T-0012");
	cr_assert_str_eq(cfg.group, "juki.honcho");
	cr_assert_str_eq(cfg.repository, "https://policy.example.lg.jp/repo#frag");
	cr_assert_str_eq(cfg.ca_file, "/etc/mynaguard/ca.pem");
	cr_assert(strncmp(cfg.pinned_key, "sha256//AAAA", 12) == 0);
	cr_assert_str_eq(cfg.runtime_dir, "/run/mg");
	cr_assert_str_eq(cfg.udev_rules, "/etc/udev/rules.d/71-test.rules");
	mg_config_free(&cfg);
	cr_assert_null(cfg.group);
}

Test(config, repository_schemes)
{
	struct mg_config cfg;

	write_config("repository = http://127.0.0.1:8080/repo\n");
	cr_assert_eq(mg_config_load(path, &cfg), 0, "%s", mg_error());
	mg_config_free(&cfg);
	write_config("repository = file:///media/usb/repo\n");
	cr_assert_eq(mg_config_load(path, &cfg), 0, "%s", mg_error());
	mg_config_free(&cfg);
	expect_error("repository = ftp://x/\n", ":1: repository: 'ftp://x/': expected an https://");
	expect_error("repository = file://host/x\n", ":1: repository");
	expect_error("repository = https://\n", ":1: repository");
	expect_error("repository = https://a b/\n", "without spaces");
}

Test(config, unknown_keys_are_rejected_with_their_line)
{
	expect_error("group = a\n\n# x\nreposity = https://x/\n", ":4: unknown key 'reposity'");
}

Test(config, duplicate_keys_are_rejected)
{
	expect_error("group = a\ngroup = b\n", ":2: group: given again (first on line 1)");
}

Test(config, groups_are_checked)
{
	expect_error("group = Honcho\n", ":1: group: 'Honcho': expected 1 to 64 of a-z");
	expect_error("group = ..\n", ":1: group");
	expect_error("group = a/b\n", ":1: group");
	expect_error("group = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	             ":1: group");
}

Test(config, values_are_checked)
{
	expect_error("terminal_id = t 1\n", ":1: terminal_id");
	expect_error("ca_file = ca.pem\n", ":1: ca_file: 'ca.pem': expected an absolute path");
	expect_error("runtime_dir = run\n", ":1: runtime_dir");
	expect_error("udev_rules = x\n", ":1: udev_rules");
	expect_error("pinned_public_key = sha256//short\n", ":1: pinned_public_key");
	expect_error("pinned_public_key = md5//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	             ":1: pinned_public_key");
	expect_error("group =\n", ":1: group: empty value");
	expect_error("just words\n", ":1: expected \"key = value\"");
}

Test(config, control_characters_do_not_reach_the_message)
{
	expect_error("gr\x1b[2Joup = a\n", "unknown key 'gr?[2Joup'");
}

Test(config, nul_bytes_are_rejected)
{
	struct mg_config cfg;
	FILE *f = fopen(path, "w");

	fwrite("group = a\0b\n", 1, 12, f);
	fclose(f);
	cr_assert_lt(mg_config_load(path, &cfg), 0);
	cr_assert(strstr(mg_error(), "NUL"), "%s", mg_error());
}

Test(config, a_world_writable_file_is_refused)
{
	struct mg_config cfg;

	write_config("group = a\n");
	cr_assert_eq(chmod(path, 0666), 0);
	cr_assert_eq(mg_config_load(path, &cfg), -EPERM);
	cr_assert(strstr(mg_error(), "writable by every user"), "%s", mg_error());
}

Test(config, a_linked_file_is_refused)
{
	struct mg_config cfg;
	char link[80];

	snprintf(link, sizeof(link), "%s.link", path);
	cr_assert_eq(symlink(path, link), 0);
	cr_assert_lt(mg_config_load(link, &cfg), 0);
	unlink(link);
}
