/* /etc/mynaguard/mynaguard.conf: "key = value" lines.  The grammar is small
 * on purpose: '#' starts a comment only at the start of a line (a URL may
 * hold one), blank lines are skipped, spaces around key and value are
 * dropped, and every other line must be a known key given once with a
 * valid, non-empty value.  Errors name FILE:LINE. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "mynaguard/bundle.h"
#include "mynaguard/config.h"
#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/util.h"

#define CONFIG_MAX_BYTES (64u << 10)
#define VALUE_MAX 2048

/* One key of the file: where its value goes and what it must look like. */
struct config_key {
	const char *name;              /* as written in the file */
	size_t offset;                 /* of its char * in struct mg_config */
	const char *(*check)(const char *value); /* NULL when valid, else why not */
};

static bool all_of(const char *s, const char *extra)
{
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr(extra, *p)))
			return false;
	return true;
}

/* The group must be spelt exactly as bundles spell their target. */
static const char *check_group(const char *v)
{
	if (mg_bundle_target_check(v, "group") < 0)
		return "expected 1 to 64 of a-z 0-9 . _ - not starting with '.'";
	return NULL;
}

static const char *check_terminal_id(const char *v)
{
	if (strlen(v) > 64 || v[0] == '.' ||
	    !all_of(v, "._-ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
		return "expected 1 to 64 of A-Z a-z 0-9 . _ - not starting with '.'";
	return NULL;
}

static bool printable_ascii(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return false;
	return true;
}

static const char *check_repository(const char *v)
{
	if (!printable_ascii(v))
		return "expected a URL without spaces or control characters";
	if (strncmp(v, "https://", 8) == 0 && v[8])
		return NULL;
	if (strncmp(v, "http://", 7) == 0 && v[7])
		return NULL;
	if (strncmp(v, "file:///", 8) == 0)
		return NULL;
	return "expected an https://, http:// or file:/// URL";
}

static const char *check_path(const char *v)
{
	if (v[0] != '/' || !printable_ascii(v))
		return "expected an absolute path without spaces or control characters";
	return NULL;
}

/* curl's pin list: "sha256//BASE64[;sha256//BASE64...]", each a SHA-256. */
static const char *check_pin(const char *v)
{
	static const char why[] = "expected sha256//BASE64 of a 32-byte SHA-256, ';' between several";
	_cleanup_free_ char *copy = strdup(v);
	char *save = NULL;

	if (!copy)
		return "out of memory";
	for (char *pin = strtok_r(copy, ";", &save); pin; pin = strtok_r(NULL, ";", &save)) {
		uint8_t digest[32];
		size_t len;

		if (strncmp(pin, "sha256//", 8) != 0 ||
		    sodium_base642bin(digest, sizeof(digest), pin + 8, strlen(pin + 8), NULL, &len,
		                      NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    len != sizeof(digest))
			return why;
	}
	return v[strlen(v) - 1] == ';' ? why : NULL;
}

static const struct config_key keys[] = {
	{"terminal_id", offsetof(struct mg_config, terminal_id), check_terminal_id},
	{"group", offsetof(struct mg_config, group), check_group},
	{"repository", offsetof(struct mg_config, repository), check_repository},
	{"ca_file", offsetof(struct mg_config, ca_file), check_path},
	{"pinned_public_key", offsetof(struct mg_config, pinned_key), check_pin},
	{"runtime_dir", offsetof(struct mg_config, runtime_dir), check_path},
	{"udev_rules", offsetof(struct mg_config, udev_rules), check_path},
};

static char **slot(struct mg_config *cfg, const struct config_key *k)
{
	return (char **)((char *)cfg + k->offset);
}

/* s for a message: at most 40 bytes, control characters as '?'. */
static const char *quoted(const char *s, char buf[48])
{
	size_t i;

	for (i = 0; s[i] && i < 40; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	buf[i] = '\0';
	if (s[i])
		strcpy(buf + i, "...");
	return buf;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static int set_defaults(struct mg_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->terminal_id = strdup(mg_hostname());
	cfg->runtime_dir = strdup("/run/mynaguard");
	cfg->udev_rules = strdup("/etc/udev/rules.d/70-mynaguard.rules");
	if (!cfg->terminal_id || !cfg->runtime_dir || !cfg->udev_rules)
		return mg_fail(ENOMEM, "configuration: out of memory");
	return 0;
}

static int parse_line(const char *path, size_t line_no, char *line, struct mg_config *cfg,
                      size_t first_seen[])
{
	char *eq = strchr(line, '='), *key, *value, q[48];
	const struct config_key *k = NULL;
	const char *why;

	if (!eq)
		return mg_fail(EINVAL, "%s:%zu: expected \"key = value\"", path, line_no);
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	for (size_t i = 0; i < MG_ARRAY_SIZE(keys) && !k; i++)
		if (strcmp(key, keys[i].name) == 0)
			k = &keys[i];
	if (!k)
		return mg_fail(EINVAL, "%s:%zu: unknown key '%s'", path, line_no, quoted(key, q));
	if (first_seen[k - keys])
		return mg_fail(EINVAL, "%s:%zu: %s: given again (first on line %zu)", path, line_no,
		               k->name, first_seen[k - keys]);
	first_seen[k - keys] = line_no;
	if (!*value)
		return mg_fail(EINVAL, "%s:%zu: %s: empty value", path, line_no, k->name);
	if (strlen(value) > VALUE_MAX)
		return mg_fail(EINVAL, "%s:%zu: %s: longer than %d bytes", path, line_no, k->name,
		               VALUE_MAX);
	why = k->check(value);
	if (why)
		return mg_fail(EINVAL, "%s:%zu: %s: '%s': %s", path, line_no, k->name,
		               quoted(value, q), why);
	free(*slot(cfg, k));
	*slot(cfg, k) = strdup(value);
	return *slot(cfg, k) ? 0 : mg_fail(ENOMEM, "%s: out of memory", path);
}

static int parse(const char *path, char *text, size_t len, struct mg_config *cfg)
{
	size_t first_seen[MG_ARRAY_SIZE(keys)] = {0}, line_no = 0;

	if (strlen(text) != len)
		return mg_fail(EINVAL, "%s: contains a NUL byte", path);
	for (char *line = text, *next; line; line = next) {
		char *body;
		int r;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line_no++;
		body = trim(line);
		if (!*body || *body == '#')
			continue;
		r = parse_line(path, line_no, body, cfg, first_seen);
		if (r < 0)
			return r;
	}
	return 0;
}

int mg_config_load(const char *path, struct mg_config *cfg)
{
	_cleanup_free_ uint8_t *data = NULL;
	struct stat st;
	size_t len;
	int r;

	r = set_defaults(cfg);
	if (r == 0) {
		r = mg_file_read(path, CONFIG_MAX_BYTES, &data, &len);
		if (r == -ENOENT)
			return 0;
	}
	/* A file anyone may write would let anyone point the terminal
	 * elsewhere; signatures still hold, but availability would not. */
	if (r == 0 && stat(path, &st) == 0 && (st.st_mode & S_IWOTH))
		r = mg_fail(EPERM, "%s: writable by every user; refusing it", path);
	if (r == 0)
		r = parse(path, (char *)data, len, cfg);
	if (r < 0)
		mg_config_free(cfg);
	return r;
}

void mg_config_free(struct mg_config *cfg)
{
	for (size_t i = 0; i < MG_ARRAY_SIZE(keys); i++) {
		free(*slot(cfg, &keys[i]));
		*slot(cfg, &keys[i]) = NULL;
	}
}
