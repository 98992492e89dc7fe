/* PAM stacks from /etc/pam.d: a parser faithful to libpam's line syntax and
 * the one question the self-inspection asks of a stack (pamstack.h). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/pamstack.h"
#include "mynaguard/util.h"

static const char *const type_names[] = {
	[MG_PAM_ACCOUNT] = "account", [MG_PAM_AUTH] = "auth",
	[MG_PAM_PASSWORD] = "password", [MG_PAM_SESSION] = "session",
};

static const char *const keywords[] = {"required", "requisite", "sufficient", "optional",
                                       "include", "substack"};

/* The return values a bracket may name (libpam's _pam_token_returns). */
static const char *const return_names[] = {
	"success", "open_err", "symbol_err", "service_err", "system_err", "buf_err",
	"perm_denied", "auth_err", "cred_insufficient", "authinfo_unavail", "user_unknown",
	"maxtries", "new_authtok_reqd", "acct_expired", "session_err", "cred_unavail",
	"cred_expired", "cred_err", "no_module_data", "conv_err", "authtok_err",
	"authtok_recover_err", "authtok_lock_busy", "authtok_disable_aging", "try_again",
	"ignore", "abort", "authtok_expired", "module_unknown", "bad_item", "conv_again",
	"incomplete", "default",
};

/* One logical line being cut into tokens. */
struct cursor {
	char *p;                 /* next unread character (the line is NUL-terminated) */
	const char *origin;      /* file name, for messages */
	unsigned line;           /* first physical line of this logical line */
};

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(s, list[i]) == 0)
			return true;
	return false;
}

/* The next token, NUL-terminated in place, or NULL at the end.  A token
 * starting with '[' runs to the matching ']' ("\]" escapes one). */
static int next_token(struct cursor *c, char **tok)
{
	char *s = c->p, *end;

	while (*s && isspace((unsigned char)*s))
		s++;
	*tok = NULL;
	if (!*s) {
		c->p = s;
		return 0;
	}
	if (*s == '[') {
		for (end = s + 1; *end && *end != ']'; end++)
			if (*end == '\\' && end[1])
				end++;
		if (!*end)
			return mg_fail(EINVAL, "%s:%u: '[' without its ']'", c->origin, c->line);
		end++;
	} else {
		for (end = s; *end && !isspace((unsigned char)*end); end++)
			;
	}
	if (*end)
		*end++ = '\0';
	c->p = end;
	*tok = s;
	return 0;
}

/* Checks "[value=action ...]": known values, actions ignore/bad/die/ok/
 * done/reset or a jump count. */
static int check_bracket(const struct cursor *c, const char *control)
{
	_cleanup_free_ char *copy = strndup(control + 1, strlen(control) - 2);
	char *save = NULL;

	if (!copy)
		return mg_fail(ENOMEM, "out of memory");
	for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(t, '=');
		static const char *const actions[] = {"ignore", "bad", "die", "ok", "done", "reset"};

		if (!eq)
			return mg_fail(EINVAL, "%s:%u: control: '%.40s' is not value=action", c->origin,
			               c->line, t);
		*eq = '\0';
		if (!in_list(t, return_names, MG_ARRAY_SIZE(return_names)))
			return mg_fail(EINVAL, "%s:%u: control: unknown return value '%.40s'", c->origin,
			               c->line, t);
		if (!in_list(eq + 1, actions, MG_ARRAY_SIZE(actions)) &&
		    !(eq[1] && strspn(eq + 1, "0123456789") == strlen(eq + 1) && atoi(eq + 1) > 0))
			return mg_fail(EINVAL, "%s:%u: control: unknown action '%.40s'", c->origin, c->line,
			               eq + 1);
	}
	return 0;
}

static int type_parse(const char *s, enum mg_pam_type *t)
{
	for (size_t i = 0; i < MG_ARRAY_SIZE(type_names); i++)
		if (strcasecmp(s, type_names[i]) == 0) {
			*t = (enum mg_pam_type)i;
			return 0;
		}
	return -EINVAL;
}

static int push(struct mg_pam_stack *s, const struct mg_pam_entry *e)
{
	struct mg_pam_entry *n;

	if (s->n >= MG_PAM_MAX_ENTRIES)
		return mg_fail(E2BIG, "%s: more than %d PAM entries", e->file, MG_PAM_MAX_ENTRIES);
	n = realloc(s->entries, (s->n + 1) * sizeof(*n));
	if (!n)
		return mg_fail(ENOMEM, "out of memory");
	s->entries = n;
	s->entries[s->n++] = *e;
	return 0;
}

static int copy_field(const struct cursor *c, char *dst, size_t size, const char *what,
                      const char *src)
{
	if (strlen(src) >= size)
		return mg_fail(EINVAL, "%s:%u: %s longer than %zu bytes", c->origin, c->line, what,
		               size - 1);
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/* One logical line: an entry of the wanted type is appended to out. */
static int parse_line(struct cursor *c, enum mg_pam_type want, struct mg_pam_stack *out)
{
	struct mg_pam_entry e = {.line = c->line, .parent = -1};
	char *type, *control, *module;
	int r;

	r = next_token(c, &type);
	if (r < 0 || !type)
		return r;
	snprintf(e.file, sizeof(e.file), "%s", c->origin);
	if (strcmp(type, "@include") == 0) {
		r = next_token(c, &module);
		if (r == 0 && !module)
			r = mg_fail(EINVAL, "%s:%u: @include without a file", c->origin, c->line);
		if (r == 0) r = copy_field(c, e.module, sizeof(e.module), "file", module);
		if (r == 0) r = copy_field(c, e.control, sizeof(e.control), "control", "include");
		e.type = want;
		return r < 0 ? r : push(out, &e);
	}
	e.dash = type[0] == '-';
	if (type_parse(type + e.dash, &e.type) < 0)
		return mg_fail(EINVAL, "%s:%u: unknown type '%.40s'", c->origin, c->line, type);
	r = next_token(c, &control);
	if (r == 0 && !control)
		r = mg_fail(EINVAL, "%s:%u: no control", c->origin, c->line);
	if (r == 0 && control[0] == '[')
		r = check_bracket(c, control);
	else if (r == 0 && !in_list(control, keywords, MG_ARRAY_SIZE(keywords)))
		r = mg_fail(EINVAL, "%s:%u: unknown control '%.40s'", c->origin, c->line, control);
	if (r == 0) r = next_token(c, &module);
	if (r == 0 && !module)
		r = mg_fail(EINVAL, "%s:%u: no module", c->origin, c->line);
	if (r == 0) r = copy_field(c, e.control, sizeof(e.control), "control", control);
	if (r == 0) r = copy_field(c, e.module, sizeof(e.module), "module", module);
	/* The module's arguments are its own business: skipped. */
	if (r < 0 || e.type != want)
		return r;
	return push(out, &e);
}

int mg_pam_file_parse(const void *buf, size_t len, const char *origin, enum mg_pam_type type,
                      struct mg_pam_stack *out)
{
	_cleanup_free_ char *text = NULL;
	size_t i = 0;
	unsigned line_no = 1;

	if (len > MG_PAM_MAX_FILE)
		return mg_fail(EFBIG, "%s: larger than %d bytes", origin, MG_PAM_MAX_FILE);
	if (memchr(buf, '\0', len))
		return mg_fail(EINVAL, "%s: holds a NUL byte", origin);
	text = malloc(len + 1);
	if (!text)
		return mg_fail(ENOMEM, "out of memory");
	while (i < len) {
		/* Assemble one logical line: "\\\n" joins, '#' ends the useful part. */
		struct cursor c = {.origin = origin, .line = line_no};
		size_t n = 0;
		bool comment = false;
		int r;

		for (; i < len && ((const char *)buf)[i] != '\n'; i++) {
			char ch = ((const char *)buf)[i];

			if (ch == '\\' && i + 1 < len && ((const char *)buf)[i + 1] == '\n') {
				i++;
				line_no++;
				if (!comment)
					text[n++] = ' ';
				continue;
			}
			if (ch == '#')
				comment = true;
			if (!comment)
				text[n++] = ch;
		}
		i++;
		line_no++;
		text[n] = '\0';
		c.p = text;
		r = parse_line(&c, type, out);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The name of an included file inside the pam.d directory: a plain name,
 * or an absolute path into /etc/pam.d. */
static int include_name(const struct mg_pam_entry *e, const char **name)
{
	const char *n = e->module;

	if (strncmp(n, "/etc/pam.d/", 11) == 0)
		n += 11;
	if (!*n || strchr(n, '/') || strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
		return mg_fail(EINVAL, "%s:%u: %s of '%s', which is not a file in pam.d", e->file, e->line,
		               e->control, e->module);
	*name = n;
	return 0;
}

static int load(int dirfd, const char *dir, const char *name, enum mg_pam_type type,
                unsigned depth, unsigned scope, long parent, struct mg_pam_stack *out)
{
	struct mg_pam_stack here = {0};
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len;
	int r;

	if (depth > MG_PAM_MAX_DEPTH)
		return mg_fail(ELOOP, "%s/%s: includes nested deeper than %d", dir, name, MG_PAM_MAX_DEPTH);
	r = mg_file_read_at(dirfd, dir, name, MG_PAM_MAX_FILE, &buf, &len);
	if (r == 0)
		r = mg_pam_file_parse(buf, len, name, type, &here);
	for (size_t i = 0; r == 0 && i < here.n; i++) {
		struct mg_pam_entry *e = &here.entries[i];
		const char *inc = NULL;
		bool sub = strcasecmp(e->control, "substack") == 0;

		if (strcasecmp(e->control, "include") != 0 && !sub) {
			e->scope = scope;
			e->parent = parent;
			r = push(out, e);
			continue;
		}
		r = include_name(e, &inc);
		if (r == 0 && !sub) {
			r = load(dirfd, dir, inc, type, depth + 1, scope, parent, out);
		} else if (r == 0) {
			e->scope = scope;
			e->parent = parent;
			r = push(out, e);
			if (r == 0)
				r = load(dirfd, dir, inc, type, depth + 1, out->scopes++, (long)out->n - 1, out);
		}
	}
	free(here.entries);
	return r;
}

int mg_pam_stack_load(int dirfd, const char *dir, const char *service, enum mg_pam_type type,
                      struct mg_pam_stack *out)
{
	int r;

	*out = (struct mg_pam_stack){.scopes = 1};
	r = load(dirfd, dir, service, type, 0, 0, -1, out);
	if (r == 0 && out->n == 0 && strcmp(service, "other") != 0)
		r = load(dirfd, dir, "other", type, 0, 0, -1, out);
	if (r < 0)
		mg_pam_stack_free(out);
	return r;
}

/* The action a bracket gives to value ("default" when it names none), or
 * NULL; written to act. */
static const char *bracket_action(const char *control, const char *value, char *act, size_t size)
{
	size_t vlen = strlen(value);

	for (const char *p = control + 1; *p && *p != ']';) {
		size_t tlen = strcspn(p, " \t]");

		if (tlen > vlen && strncasecmp(p, value, vlen) == 0 && p[vlen] == '=') {
			snprintf(act, size, "%.*s", (int)(tlen - vlen - 1), p + vlen + 1);
			return act;
		}
		p += tlen;
		p += strspn(p, " \t");
	}
	return NULL;
}

/* A failure of the module denies the stack. */
static bool denies_on_failure(const char *control)
{
	char act[32];

	if (strcasecmp(control, "required") == 0 || strcasecmp(control, "requisite") == 0)
		return true;
	if (control[0] != '[')
		return false;
	for (size_t i = 0; i < MG_ARRAY_SIZE(return_names); i++) {
		const char *a = bracket_action(control, return_names[i], act, sizeof(act));

		if (strcmp(return_names[i], "success") == 0)
			continue;
		if (!a)
			a = bracket_action(control, "default", act, sizeof(act));
		if (!a || (strcasecmp(a, "bad") != 0 && strcasecmp(a, "die") != 0))
			return false;
	}
	return true;
}

/* How a success of this entry moves on: 0 to the next entry, -1 out of
 * the (sub)stack, N > 0 over the next N entries. */
static long on_success(const char *control)
{
	char act[32];

	if (strcasecmp(control, "sufficient") == 0)
		return -1;
	if (control[0] != '[' || !bracket_action(control, "success", act, sizeof(act)))
		return 0;
	if (strcasecmp(act, "done") == 0)
		return -1;
	return isdigit((unsigned char)act[0]) ? atol(act) : 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* The entry j in the way of entry i: it may skip i, or the substack call
 * that runs i, on success. */
static bool skips(const struct mg_pam_stack *s, size_t j, size_t i)
{
	long a = (long)i, step = on_success(s->entries[j].control);
	long between = 0;

	while (a >= 0 && s->entries[a].scope != s->entries[j].scope)
		a = s->entries[a].parent;
	if (a < 0 || (size_t)a <= j || step == 0)
		return false;
	if (step < 0)
		return true;
	for (size_t k = j + 1; k <= (size_t)a; k++)
		between += s->entries[k].scope == s->entries[j].scope;
	return step >= between;
}

bool mg_pam_stack_enforces(const struct mg_pam_stack *s, const char *module, char *why,
                           size_t why_size)
{
	bool seen = false;

	for (size_t i = 0; i < s->n; i++) {
		const struct mg_pam_entry *e = &s->entries[i];
		size_t j;

		if (strcmp(base_name(e->module), module) != 0)
			continue;
		seen = true;
		if (!denies_on_failure(e->control)) {
			snprintf(why, why_size, "%s:%u: %s with control %s does not deny on failure",
			         e->file, e->line, module, e->control);
			continue;
		}
		for (j = 0; j < i && !skips(s, j, i); j++)
			;
		if (j == i)
			return true;
		snprintf(why, why_size, "%s:%u: %s (%s) can end the stack before %s at %s:%u",
		         s->entries[j].file, s->entries[j].line, base_name(s->entries[j].module),
		         s->entries[j].control, module, e->file, e->line);
	}
	if (!seen)
		snprintf(why, why_size, "%s is not in the stack", module);
	return false;
}

void mg_pam_stack_free(struct mg_pam_stack *s)
{
	free(s->entries);
	*s = (struct mg_pam_stack){0};
}
