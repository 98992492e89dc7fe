/* Loading the policy in force and carrying it out everywhere at once:
 * the udev rules file (the layer that works without the agent) and every
 * present device. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "mynaguard/error.h"
#include "mynaguard/json.h"
#include "mynaguard/udevrules.h"
#include "mynaguard/util.h"

static void audit_load(struct agent *a, const char *why)
{
	const struct mg_policy_in_force *p = &a->policy;
	_cleanup_json_ json_t *detail = json_pack("{s:s,s:b,s:I}", "trigger", why, "from_bundle",
	                                          p->from_bundle, "version", (json_int_t)p->version);
	char subject[128];

	if (detail && !p->from_bundle)
		json_object_set_new(detail, "reason", json_string(p->reason));
	if (p->from_bundle)
		snprintf(subject, sizeof(subject), "policy version %llu", (unsigned long long)p->version);
	else
		snprintf(subject, sizeof(subject), "built-in defaults");
	agent_audit(a, "agent.policy", p->from_bundle ? "loaded" : "defaults", NULL, subject, detail);
}

/* udevd is told to re-read only a file in a directory it reads; a file
 * written elsewhere (a test, a staging tree) is none of its business. */
static bool udevd_reads(const char *path)
{
	static const char *const dirs[] = {"/etc/udev/rules.d/", "/run/udev/rules.d/",
	                                   "/usr/lib/udev/rules.d/", "/lib/udev/rules.d/"};

	for (size_t i = 0; i < MG_ARRAY_SIZE(dirs); i++)
		if (strncmp(path, dirs[i], strlen(dirs[i])) == 0)
			return true;
	return false;
}

/* The rules file follows every load.  When it cannot be written the
 * running agent still enforces; the failure is audited and in `status`. */
static void install_udev_rules(struct agent *a)
{
	char origin[128];

	snprintf(origin, sizeof(origin), a->policy.from_bundle ? "policy version %llu" : "built-in defaults",
	         (unsigned long long)a->policy.version);
	a->udev_rules_error[0] = '\0';
	if (mg_udevrules_install(&a->policy.policy->devices, origin, a->config.udev_rules,
	                         udevd_reads(a->config.udev_rules)) == 0)
		return;
	snprintf(a->udev_rules_error, sizeof(a->udev_rules_error), "%s", mg_error());
	fprintf(stderr, "mynaguardd: udev rules: %s\n", a->udev_rules_error);
	agent_audit(a, "agent.udev_rules", "failed", NULL, a->config.udev_rules, NULL);
}

int agent_policy_load(struct agent *a, const char *why)
{
	const struct mg_terminal_ctx ctx = {
		.state_dir = a->state_dir, .component = "agent", .target = a->config.group,
	};
	struct mg_policy_in_force next = {0};
	int r;

	r = mg_terminal_load(&ctx, &next);
	if (r < 0) {
		/* Only out of memory gets here: the policy in force stays. */
		fprintf(stderr, "mynaguardd: reload: %s\n", mg_error());
		return r;
	}
	mg_policy_in_force_free(&a->policy);
	a->policy = next;
	/* Verifying and parsing a large bundle leaves megabytes of freed heap
	 * (the bundle, its JSON tree); give them back, the agent stays resident. */
	malloc_trim(0);
	a->last_reload = mg_now();
	audit_load(a, why);
	install_udev_rules(a);
	r = agent_devices_reevaluate(a, why);
	agent_notify_status(a, "policy %s %llu; %zu devices",
	                    a->policy.from_bundle ? "version" : "defaults, version",
	                    (unsigned long long)a->policy.version, agent_devices_present(a));
	return r;
}
