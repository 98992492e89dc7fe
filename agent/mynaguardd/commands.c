/* The root-only control commands: reload, devices, status, approve-keyboard.
 * (A session's clipboard guard has its own file of commands.) */
#include <unistd.h>

#include "agent.h"
#include "mynaguard/error.h"
#include "mynaguard/json.h"
#include "mynaguard/util.h"

/* {"cmd":"reload"}: sent by `mynaguardctl policy apply|pull` and `ticket
 * apply` after they changed the state.  Replies once every present device
 * has been decided again under the new policy. */
static int run_reload(struct agent *a, struct agent_client *c, const json_t *msg, json_t *reply)
{
	int r = agent_policy_load(a, "reload");

	if (r < 0)
		return r;
	json_object_set_new(reply, "from_bundle", json_boolean(a->policy.from_bundle));
	json_object_set_new(reply, "version", json_integer((json_int_t)a->policy.version));
	return 0;
}
AGENT_COMMAND(cmd_reload) = {.cmd = "reload", .run = run_reload};

/* {"cmd":"devices"} -> {"devices":[{name,id,description,serial,hash,
 * decision,rule,reason,present_at_start,interfaces:[...]}...]} */
static int run_devices(struct agent *a, struct agent_client *c, const json_t *msg, json_t *reply)
{
	json_t *list;
	int r = agent_devices_json(a, &list);

	if (r < 0)
		return r;
	json_object_set_new(reply, "audit_only", json_boolean(a->policy.policy->devices.audit_only));
	return json_object_set_new(reply, "devices", list) < 0 ? mg_fail(ENOMEM, "devices: out of memory") : 0;
}
AGENT_COMMAND(cmd_devices) = {.cmd = "devices", .run = run_devices};

static json_t *time_json(int64_t t)
{
	char buf[MG_TIME_LEN];

	if (t == 0)
		return json_null();
	mg_time_format(t, buf);
	return json_string(buf);
}

static json_t *policy_json(const struct agent *a)
{
	const struct mg_policy_in_force *p = &a->policy;
	json_t *o = json_pack("{s:b,s:I,s:o,s:o,s:b}", "from_bundle", p->from_bundle, "version",
	                      (json_int_t)p->version, "expires", time_json(p->expires), "loaded",
	                      time_json(a->last_reload), "audit_only", p->policy->devices.audit_only);

	if (o && !p->from_bundle)
		json_object_set_new(o, "reason", json_string(p->reason));
	return o;
}

static json_t *pull_json(const struct agent *a)
{
	return json_pack("{s:b,s:b,s:o,s:i,s:i}", "configured", a->config.repository != NULL,
	                 "running", a->pull_pid != 0, "last", time_json(a->last_pull), "last_exit",
	                 a->last_pull_status, "failures", (int)a->pull_failures);
}

/* {"cmd":"status"} -> what `mynaguardctl status` and `inspect` show of the agent. */
static int run_status(struct agent *a, struct agent_client *c, const json_t *msg, json_t *reply)
{
	json_t *devices = json_object(), *rules;

	if (!devices)
		return mg_fail(ENOMEM, "status: out of memory");
	agent_devices_count(a, devices);
	rules = json_pack("{s:s,s:b}", "path", a->config.udev_rules, "written", a->udev_rules_error[0] == '\0');
	if (rules && a->udev_rules_error[0])
		json_object_set_new(rules, "error", json_string(a->udev_rules_error));
	json_object_set_new(reply, "pid", json_integer(getpid()));
	json_object_set_new(reply, "version", json_string(MG_VERSION));
	json_object_set_new(reply, "started", time_json(a->started));
	json_object_set_new(reply, "policy", policy_json(a));
	json_object_set_new(reply, "pull", pull_json(a));
	json_object_set_new(reply, "udev_rules", rules);
	json_object_set_new(reply, "devices", devices);
	json_object_set_new(reply, "clipboard_guards", agent_guards_json(a));
	return 0;
}
AGENT_COMMAND(cmd_status) = {.cmd = "status", .run = run_status};

/* {"cmd":"approve-keyboard","device":"1-4"} (a kernel name or a descriptor
 * hash): lets a held keyboard in, decided as if it had been present. */
static int run_approve(struct agent *a, struct agent_client *c, const json_t *msg, json_t *reply)
{
	static const char *const keys[] = {"cmd", "device", NULL};
	const char *device = NULL;
	int r;

	r = mg_json_only_keys(msg, "approve-keyboard: $", keys);
	if (r == 0)
		r = mg_json_get_string(msg, "device", "approve-keyboard: $", true, &device);
	if (r == 0)
		r = agent_devices_approve(a, device);
	return r;
}
AGENT_COMMAND(cmd_approve) = {.cmd = "approve-keyboard", .run = run_approve};
