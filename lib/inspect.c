/* The self-inspection: one function per control (inspect.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <systemd/sd-login.h>

#include "mynaguard/clipboard.h"
#include "mynaguard/config.h"
#include "mynaguard/control.h"
#include "mynaguard/error.h"
#include "mynaguard/sysfs.h"
#include "mynaguard/file.h"
#include "mynaguard/inspect.h"
#include "mynaguard/journal.h"
#include "mynaguard/json.h"
#include "mynaguard/otpstore.h"
#include "mynaguard/pamstack.h"
#include "mynaguard/pull.h"
#include "mynaguard/terminal.h"
#include "mynaguard/udevrules.h"
#include "mynaguard/util.h"

#define RULES_MAX (16u << 20)

/* What the checks share: read once, used by several. */
struct ctx {
	const struct mg_inspect_paths *p;
	struct mg_config cfg;          /* the terminal configuration */
	char cfg_error[256];           /* why it could not be read ("" if it was) */
	const char *runtime_dir;       /* where the agent's socket is */
	struct mg_policy_in_force policy; /* the policy in force (defaults on any doubt) */
	json_t *status;                /* the agent's "status" reply, or NULL */
	char agent_error[256];         /* why there is none */
};

/* Sets the check's verdict and its one-line summary. */
static void verdict(struct mg_inspect_check *c, bool on, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void verdict(struct mg_inspect_check *c, bool on, const char *fmt, ...)
{
	va_list ap;

	c->on = on;
	va_start(ap, fmt);
	vsnprintf(c->summary, sizeof(c->summary), fmt, ap);
	va_end(ap);
}

static json_t *time_json(int64_t t)
{
	char buf[MG_TIME_LEN];

	if (t == 0)
		return json_null();
	mg_time_format(t, buf);
	return json_string(buf);
}

static void check_policy(struct ctx *x, struct mg_inspect_check *c)
{
	const struct mg_policy_in_force *pf = &x->policy;
	json_t *signers = json_array();
	char expires[MG_TIME_LEN], ids[256] = "";

	for (size_t i = 0; i < pf->nsigners; i++) {
		char hex[2 * MG_KEY_ID_BYTES + 1];

		sodium_bin2hex(hex, sizeof(hex), pf->signers[i], MG_KEY_ID_BYTES);
		json_array_append_new(signers, json_string(hex));
		snprintf(ids + strlen(ids), sizeof(ids) - strlen(ids), "%s%.16s", i ? "," : "", hex);
	}
	c->facts = json_pack("{s:b,s:I,s:o,s:o,s:s,s:I,s:o}", "from_bundle", pf->from_bundle,
	                     "version", (json_int_t)pf->version, "issued", time_json(pf->issued),
	                     "expires", time_json(pf->expires), "target", pf->target,
	                     "keyring_version", (json_int_t)pf->keyring_version, "signers", signers);
	if (x->cfg_error[0])
		return verdict(c, false, "%s", x->cfg_error);
	if (!pf->from_bundle)
		return verdict(c, false, "built-in defaults in force: %s", pf->reason);
	mg_time_format(pf->expires, expires);
	verdict(c, true, "version %llu for %s, signed by %s, expires %s, keyring version %llu",
	        (unsigned long long)pf->version, pf->target, ids, expires,
	        (unsigned long long)pf->keyring_version);
}

/* The rules without comment lines: the header names the policy's origin,
 * which is the agent's wording, not part of what udevd enforces. */
static char *strip_comments(const char *text)
{
	char *out = malloc(strlen(text) + 1), *o = out;

	for (const char *s = text; out && *s;) {
		size_t n = strcspn(s, "\n") + (s[strcspn(s, "\n")] == '\n');

		if (*s != '#') {
			memcpy(o, s, n);
			o += n;
		}
		s += n;
	}
	if (out)
		*o = '\0';
	return out;
}

static unsigned first_difference(const char *a, const char *b)
{
	unsigned line = 1;

	for (; *a && *a == *b; a++, b++)
		line += *a == '\n';
	return line;
}

static void check_udev_rules(struct ctx *x, struct mg_inspect_check *c)
{
	const char *path = x->cfg.udev_rules;
	_cleanup_free_ char *want = NULL, *want_rules = NULL, *have_rules = NULL;
	_cleanup_free_ uint8_t *have = NULL;
	size_t len;

	if (!path)
		return verdict(c, false, "%s", x->cfg_error);
	c->facts = json_pack("{s:s,s:I}", "path", path, "policy_version", (json_int_t)x->policy.version);
	if (mg_udevrules_generate(&x->policy.policy->devices, "inspect", &want) < 0)
		return verdict(c, false, "cannot generate the rules of the policy in force: %s", mg_error());
	if (mg_file_read(path, RULES_MAX, &have, &len) < 0)
		return verdict(c, false, "%s", mg_error());
	want_rules = strip_comments(want);
	have_rules = strip_comments((const char *)have);
	if (!want_rules || !have_rules)
		return verdict(c, false, "out of memory");
	if (strcmp(want_rules, have_rules) != 0)
		return verdict(c, false, "%s differs from the rules of the policy in force "
		               "(first difference at rule line %u)", path,
		               first_difference(want_rules, have_rules));
	verdict(c, true, "%s matches the policy in force (%s)", path,
	        x->policy.from_bundle ? "its bundle" : "built-in defaults");
}

static bool closed_default(const char *v)
{
	return strcmp(v, "0") == 0 || strcmp(v, "2") == 0;
}

static void check_usb(struct ctx *x, struct mg_inspect_check *c)
{
	_cleanup_close_ int sysfd = open(x->p->sysfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	json_t *hubs = json_array();
	char param[16] = "", bad[256] = "";
	DIR *d;
	int nhubs = 0, devfd;

	c->facts = json_pack("{s:o}", "root_hubs", hubs);
	if (sysfd < 0)
		return verdict(c, false, "%s: %s", x->p->sysfs, strerror(errno));
	if (mg_sysfs_read(sysfd, "module/usbcore/parameters/authorized_default", param, sizeof(param)) == 0)
		json_object_set_new(c->facts, "kernel_authorized_default", json_string(param));
	devfd = openat(sysfd, "bus/usb/devices", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = devfd >= 0 ? fdopendir(devfd) : NULL;
	for (struct dirent *e; d && (e = readdir(d));) {
		char dev[16] = "?", intf[16] = "?", path[300];

		if (strncmp(e->d_name, "usb", 3) != 0)
			continue;
		nhubs++;
		snprintf(path, sizeof(path), "bus/usb/devices/%s/authorized_default", e->d_name);
		mg_sysfs_read(sysfd, path, dev, sizeof(dev));
		snprintf(path, sizeof(path), "bus/usb/devices/%s/interface_authorized_default", e->d_name);
		mg_sysfs_read(sysfd, path, intf, sizeof(intf));
		json_array_append_new(hubs, json_pack("{s:s,s:s,s:s}", "hub", e->d_name,
		                                      "authorized_default", dev,
		                                      "interface_authorized_default", intf));
		if ((!closed_default(dev) || strcmp(intf, "0") != 0) && !bad[0])
			snprintf(bad, sizeof(bad), "%s: authorized_default=%s interface_authorized_default=%s",
			         e->d_name, dev, intf);
	}
	if (d)
		closedir(d);
	else if (devfd >= 0)
		close(devfd);
	if (nhubs == 0 && !param[0])
		return verdict(c, true, "no USB controller on this machine");
	if (!closed_default(param))
		return verdict(c, false, "usbcore.authorized_default is %s: devices plugged in before "
		               "udev runs are authorized (install the grub snippet, run update-grub, reboot)",
		               param[0] ? param : "unknown");
	if (bad[0])
		return verdict(c, false, "%s", bad);
	verdict(c, true, "usbcore.authorized_default=%s; %d root hubs closed to new devices and interfaces",
	        param, nhubs);
}

static void check_agent(struct ctx *x, struct mg_inspect_check *c)
{
	struct mg_pull_state pull;
	json_t *policy;
	json_int_t version;

	c->facts = json_object();
	if (mg_pull_state_read(x->p->state_dir, &pull) == 0)
		json_object_set_new(c->facts, "last_pull",
		                    json_pack("{s:s,s:o,s:o,s:I}", "outcome", mg_pull_outcome_name(pull.outcome),
		                              "last_attempt", time_json(pull.last_attempt),
		                              "last_success", time_json(pull.last_success),
		                              "failures", (json_int_t)pull.failures));
	else
		pull = (struct mg_pull_state){0};
	if (!x->status)
		return verdict(c, false, "%s", x->agent_error);
	json_object_set(c->facts, "status", x->status);
	policy = json_object_get(x->status, "policy");
	version = json_integer_value(json_object_get(policy, "version"));
	if ((uint64_t)version != x->policy.version)
		return verdict(c, false, "the agent enforces policy version %lld, the state holds %llu "
		               "(reload pending or failed)", (long long)version,
		               (unsigned long long)x->policy.version);
	if (json_is_false(json_object_get(json_object_get(x->status, "udev_rules"), "written")))
		return verdict(c, false, "the agent could not write its udev rules: %s",
		               json_string_value(json_object_get(json_object_get(x->status, "udev_rules"),
		                                                 "error")));
	if (pull.last_attempt) {
		char when[MG_TIME_LEN];

		mg_time_format(pull.last_attempt, when);
		return verdict(c, true, "running (pid %lld), policy version %lld; last pull %s: %s, "
		               "%llu failures in a row", json_integer_value(json_object_get(x->status, "pid")),
		               (long long)version, when, mg_pull_outcome_name(pull.outcome),
		               (unsigned long long)pull.failures);
	}
	verdict(c, true, "running (pid %lld), policy version %lld; no pull yet",
	        json_integer_value(json_object_get(x->status, "pid")), (long long)version);
}

/* The active X11 sessions logind knows, as a JSON array of session ids. */
static json_t *x11_sessions(void)
{
	json_t *out = json_array();
	char **ids = NULL;
	int n = sd_get_sessions(&ids);

	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *type = NULL, *state = NULL;

		if (sd_session_get_type(ids[i], &type) >= 0 && strcmp(type, "x11") == 0 &&
		    sd_session_get_state(ids[i], &state) >= 0 && strcmp(state, "closing") != 0)
			json_array_append_new(out, json_string(ids[i]));
		free(ids[i]);
	}
	free(ids);
	return out;
}

static bool guarded(const json_t *guards, const char *session)
{
	size_t i;
	json_t *g;

	json_array_foreach(guards, i, g)
		if (json_is_string(json_object_get(g, "session")) &&
		    strcmp(json_string_value(json_object_get(g, "session")), session) == 0)
			return true;
	return false;
}

static void check_clipboard(struct ctx *x, struct mg_inspect_check *c)
{
	enum mg_clip_mode mode = x->policy.policy->clipboard.mode;
	json_t *sessions = x11_sessions(), *guards, *s;
	size_t i;

	c->facts = json_pack("{s:s,s:o}", "mode", mg_clip_mode_name(mode), "x11_sessions", sessions);
	if (mode == MG_CLIP_ALLOW)
		return verdict(c, true, "the policy's clipboard mode is allow: no guard is needed");
	if (json_array_size(sessions) == 0)
		return verdict(c, true, "mode %s; no active X11 session", mg_clip_mode_name(mode));
	if (!x->status)
		return verdict(c, false, "%s", x->agent_error);
	guards = json_object_get(x->status, "clipboard_guards");
	if (!json_is_array(guards))
		return verdict(c, false, "the agent does not report its clipboard guards");
	json_object_set(c->facts, "guards", guards);
	json_array_foreach(sessions, i, s)
		if (!guarded(guards, json_string_value(s)))
			return verdict(c, false, "session %s has no clipboard guard", json_string_value(s));
	verdict(c, true, "mode %s; all %zu X11 sessions guarded", mg_clip_mode_name(mode),
	        json_array_size(sessions));
}

/* Services whose auth stack must run the module: login always; the first
 * display manager found; every screen locker present (light-locker
 * unlocks through the display manager's greeter, so it has no file). */
static const char *const display_managers[] = {"lightdm", "gdm-password", "sddm"};
static const char *const screen_lockers[] = {"xfce4-screensaver", "mate-screensaver",
                                            "xscreensaver", "cinnamon-screensaver", "i3lock"};

static bool pam_service_ok(int dirfd, const char *dir, const char *service, json_t *facts,
                           char *why, size_t size)
{
	struct mg_pam_stack s;
	bool ok;

	if (mg_pam_stack_load(dirfd, dir, service, MG_PAM_AUTH, &s) < 0) {
		snprintf(why, size, "%s", mg_error());
		json_object_set_new(facts, service, json_string(why));
		return false;
	}
	ok = mg_pam_stack_enforces(&s, "pam_mynaguard.so", why, size);
	json_object_set_new(facts, service, ok ? json_string("enforces") : json_string(why));
	mg_pam_stack_free(&s);
	return ok;
}

static bool service_exists(int dirfd, const char *name)
{
	return faccessat(dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static void check_pam(struct ctx *x, struct mg_inspect_check *c)
{
	_cleanup_free_ char *dir = mg_path_join(x->p->root, "etc/pam.d");
	_cleanup_close_ int dirfd = -1;
	char why[512] = "", first[600] = "", names[256] = "login";
	const char *dm = NULL;
	bool ok;

	c->facts = json_object();
	if (!dir)
		return verdict(c, false, "out of memory");
	dirfd = mg_dir_open(dir);
	if (dirfd < 0)
		return verdict(c, false, "%s", mg_error());
	ok = pam_service_ok(dirfd, dir, "login", c->facts, why, sizeof(why));
	if (!ok)
		snprintf(first, sizeof(first), "login: %s", why);
	for (size_t i = 0; i < MG_ARRAY_SIZE(display_managers) && !dm; i++)
		if (service_exists(dirfd, display_managers[i]))
			dm = display_managers[i];
	if (!dm && !first[0])
		snprintf(first, sizeof(first), "no display manager's PAM service (lightdm) in %s", dir);
	ok = ok && dm;
	for (size_t i = 0; i < MG_ARRAY_SIZE(screen_lockers) + 1; i++) {
		const char *svc = i == 0 ? dm : screen_lockers[i - 1];

		if (!svc || (i > 0 && !service_exists(dirfd, svc)))
			continue;
		snprintf(names + strlen(names), sizeof(names) - strlen(names), ", %s", svc);
		if (!pam_service_ok(dirfd, dir, svc, c->facts, why, sizeof(why))) {
			if (!first[0])
				snprintf(first, sizeof(first), "%s: %s", svc, why);
			ok = false;
		}
	}
	if (!ok)
		return verdict(c, false, "%s", first);
	verdict(c, true, "pam_mynaguard.so enforces in the auth stacks of %s", names);
}

/* Users who can log in: a UID of 1000 or more (not nobody) and a shell
 * that is not nologin or false. */
static bool login_user(const struct passwd *pw)
{
	const char *shell = strrchr(pw->pw_shell, '/') ? strrchr(pw->pw_shell, '/') + 1 : pw->pw_shell;

	return pw->pw_uid >= 1000 && pw->pw_uid != 65534 && *shell && strcmp(shell, "nologin") != 0 &&
	       strcmp(shell, "false") != 0;
}

static int token_state(struct mg_otpstore *store, const char *user, bool *active)
{
	struct mg_otp_state st = {0};
	_cleanup_close_ int lock = mg_otpstore_lock(store, user);
	int r;

	if (lock < 0)
		return lock;
	r = mg_otpstore_read(store, user, &st);
	if (r == 0)
		*active = st.active;
	mg_otp_state_wipe(&st);
	return r;
}

/* ROOT/etc/passwd, read with glibc's own parser (fgetpwent). */
static FILE *open_passwd(const char *path)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;

	if (!f) {
		mg_fail_errno(errno, "%s", path);
		if (fd >= 0)
			close(fd);
	}
	return f;
}

static void check_otp(struct ctx *x, struct mg_inspect_check *c)
{
	_cleanup_free_ char *passwd = mg_path_join(x->p->root, "etc/passwd");
	_cleanup_free_ char *store_dir = x->p->otp_store ? NULL : mg_path_join(x->p->state_dir, "otp");
	const char *hostkey = x->p->otp_hostkey ? x->p->otp_hostkey : MG_SYSCONFDIR "/otp.key";
	_cleanup_fclose_ FILE *f = NULL;
	struct mg_otpstore *store = NULL;
	json_t *missing = json_array();
	struct passwd *pw;
	size_t users = 0;

	c->facts = json_pack("{s:o}", "not_enrolled", missing);
	if (!passwd || (!x->p->otp_store && !store_dir))
		return verdict(c, false, "out of memory");
	f = open_passwd(passwd);
	if (!f)
		return verdict(c, false, "%s", mg_error());
	if (mg_otpstore_open(x->p->otp_store ? x->p->otp_store : store_dir, hostkey, &store) < 0)
		return verdict(c, false, "%s", mg_error());
	while ((pw = fgetpwent(f))) {
		bool active = false;

		if (!login_user(pw))
			continue;
		users++;
		if (mg_otp_user_check(pw->pw_name) < 0 || token_state(store, pw->pw_name, &active) < 0 ||
		    !active)
			json_array_append_new(missing, json_string(pw->pw_name));
	}
	mg_otpstore_close(store);
	json_object_set_new(c->facts, "users", json_integer((json_int_t)users));
	if (json_array_size(missing) > 0)
		return verdict(c, false, "%zu of %zu users with a login shell have no active token (first: %s)",
		               json_array_size(missing), users, json_string_value(json_array_get(missing, 0)));
	verdict(c, true, "all %zu users with a login shell and UID >= 1000 have an active token", users);
}

static void check_devices(struct ctx *x, struct mg_inspect_check *c)
{
	json_t *reply = NULL, *list, *d;
	char line[512] = "";
	size_t i;

	if (!x->status)
		return verdict(c, false, "%s", x->agent_error);
	if (mg_control_call(x->runtime_dir, "devices", NULL, &reply) < 0) {
		json_decref(reply);
		return verdict(c, false, "%s", mg_error());
	}
	list = json_object_get(reply, "devices");
	c->facts = json_pack("{s:o}", "devices", list ? json_incref(list) : json_array());
	json_array_foreach(list, i, d)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s%s %s %s (%s)", i ? "; " : "",
		         json_string_value(json_object_get(d, "name")),
		         json_string_value(json_object_get(d, "id")),
		         json_string_value(json_object_get(d, "decision")),
		         json_string_value(json_object_get(d, "rule")));
	verdict(c, true, "%zu present: %s", json_array_size(list), i ? line : "none");
	json_decref(reply);
}

static void check_audit(struct ctx *x, struct mg_inspect_check *c)
{
	_cleanup_free_ char *dir = mg_path_join(x->p->state_dir, "audit");
	struct mg_journal_report rep = {0};

	if (!dir)
		return verdict(c, false, "out of memory");
	c->facts = json_pack("{s:s}", "dir", dir);
	if (mg_journal_verify(dir, &rep) < 0)
		return verdict(c, false, "%s", mg_error());
	json_object_set_new(c->facts, "records", json_integer((json_int_t)rep.records));
	json_object_set_new(c->facts, "files", json_integer((json_int_t)rep.files));
	verdict(c, true, "chain intact: %llu records in %llu files", (unsigned long long)rep.records,
	        (unsigned long long)rep.files);
}

/* Configuration, policy in force and the agent's status, read once. */
static int gather(struct ctx *x)
{
	struct mg_terminal_ctx t = {.state_dir = x->p->state_dir, .component = "ctl"};
	int r;

	if (mg_config_load(x->p->config_path, &x->cfg) < 0)
		snprintf(x->cfg_error, sizeof(x->cfg_error), "%s", mg_error());
	t.target = x->cfg.group;
	x->runtime_dir = x->p->runtime_dir ? x->p->runtime_dir
	               : x->cfg.runtime_dir ? x->cfg.runtime_dir : "/run/mynaguard";
	r = mg_terminal_load(&t, &x->policy);
	if (r < 0)
		return r;
	if (mg_control_call(x->runtime_dir, "status", NULL, &x->status) < 0) {
		snprintf(x->agent_error, sizeof(x->agent_error), "agent: %s", mg_error());
		json_decref(x->status);
		x->status = NULL;
	}
	return 0;
}

int mg_inspect_run(const struct mg_inspect_paths *p, struct mg_inspect_report *rep)
{
	static const struct {
		const char *id;
		void (*run)(struct ctx *x, struct mg_inspect_check *c);
	} checks[MG_INSPECT_CHECKS] = {
		{"policy", check_policy},        {"udev-rules", check_udev_rules},
		{"usb-controllers", check_usb},  {"agent", check_agent},
		{"clipboard-guards", check_clipboard}, {"pam", check_pam},
		{"otp-coverage", check_otp},     {"devices", check_devices},
		{"audit", check_audit},
	};
	struct ctx x = {.p = p};
	int r;

	*rep = (struct mg_inspect_report){.all_on = true};
	r = gather(&x);
	for (size_t i = 0; r == 0 && i < MG_INSPECT_CHECKS; i++) {
		rep->checks[i].id = checks[i].id;
		checks[i].run(&x, &rep->checks[i]);
		if (!rep->checks[i].facts)
			rep->checks[i].facts = json_object();
		rep->all_on = rep->all_on && rep->checks[i].on;
	}
	json_decref(x.status);
	mg_policy_in_force_free(&x.policy);
	mg_config_free(&x.cfg);
	return r;
}

void mg_inspect_report_free(struct mg_inspect_report *rep)
{
	for (size_t i = 0; i < MG_INSPECT_CHECKS; i++)
		json_decref(rep->checks[i].facts);
	*rep = (struct mg_inspect_report){0};
}

json_t *mg_inspect_report_json(const struct mg_inspect_report *rep)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < MG_INSPECT_CHECKS; i++)
		json_array_append_new(list, json_pack("{s:s,s:b,s:s,s:O}", "id", rep->checks[i].id,
		                                      "in_force", rep->checks[i].on, "summary",
		                                      rep->checks[i].summary, "facts", rep->checks[i].facts));
	return json_pack("{s:b,s:o}", "all_in_force", rep->all_on, "checks", list);
}
