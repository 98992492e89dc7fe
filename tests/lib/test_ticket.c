/* ticket: issue, the text form, offline verification, the clock floor and
 * the store under STATE/tickets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <criterion/criterion.h>
#include <sodium.h>

#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/keyring.h"
#include "mynaguard/terminal.h"
#include "mynaguard/ticket.h"
#include "mynaguard/util.h"

static char dir[] = "/tmp/mg-ticket.XXXXXX";
static struct mg_secret_key policy_sk, other_sk, root_sk;
static struct mg_keyring kr;

static void make_key(const char *name, struct mg_secret_key *sk, struct mg_public_key *pk)
{
	char prefix[256], path[300];

	snprintf(prefix, sizeof(prefix), "%s/%s", dir, name);
	cr_assert_eq(mg_key_generate(prefix, NULL, pk), 0, "%s", mg_error());
	snprintf(path, sizeof(path), "%s.key", prefix);
	cr_assert_eq(mg_key_load_secret(path, NULL, sk), 0, "%s", mg_error());
}

/* A state directory with a pinned keyring whose policy key is policy_sk. */
static void pin_keyring(void)
{
	const struct mg_secret_key *signers[] = {&root_sk};
	uint8_t *buf = NULL;
	size_t len = 0;
	char state[256], path[300];

	snprintf(state, sizeof(state), "%s/state", dir);
	cr_assert_eq(mkdir(state, 0700), 0);
	cr_assert_eq(mg_keyring_create(&kr, signers, 1, &buf, &len), 0, "%s", mg_error());
	snprintf(path, sizeof(path), "%s/keyring", state);
	cr_assert_eq(mg_file_replace(path, buf, len, 0644), 0, "%s", mg_error());
	free(buf);
}

static void setup(void)
{
	struct mg_public_key root_pk, policy_pk, other_pk;

	cr_assert(sodium_init() >= 0);
	cr_assert(mkdtemp(dir));
	make_key("root", &root_sk, &root_pk);
	make_key("policy", &policy_sk, &policy_pk);
	make_key("other", &other_sk, &other_pk);
	kr = (struct mg_keyring){
		.version = 1, .issued = mg_now() - 60,
		.root = {.threshold = 1, .nkeys = 1, .keys = {root_pk}},
		.policy = {.threshold = 1, .nkeys = 1, .keys = {policy_pk}},
	};
	pin_keyring();
}

static void teardown(void)
{
	char cmd[300];

	mg_secret_key_wipe(&policy_sk);
	mg_secret_key_wipe(&other_sk);
	mg_secret_key_wipe(&root_sk);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(ticket, .init = setup, .fini = teardown);

static char *issue(struct mg_ticket *t, const struct mg_secret_key *k)
{
	char *text = NULL;

	cr_assert_eq(mg_ticket_issue(t, k, &text), 0, "%s", mg_error());
	return text;
}

static struct mg_ticket serial_ticket(const char *host, int64_t expires)
{
	struct mg_ticket t = {.mode = MG_TARGET_READ_ONLY, .bind = MG_TICKET_BIND_SERIAL,
	                      .serial = "4C530000000000000001", .expires = expires};

	mg_ticket_host_tag(host, t.host);
	return t;
}

Test(ticket, round_trip_and_length)
{
	struct mg_ticket t = {.mode = MG_TARGET_ALLOW, .bind = MG_TICKET_BIND_HASH, .expires = mg_now() + 3600};
	struct mg_ticket v;
	_cleanup_free_ char *text = NULL;

	memset(t.hash, 0xab, sizeof(t.hash));
	mg_ticket_host_tag("t-0012", t.host);
	text = issue(&t, &policy_sk);
	/* 94 bytes -> 151 base32 characters in groups of four. */
	cr_assert_eq(strlen(text), 151 + 37, "%zu: %s", strlen(text), text);
	cr_assert_eq(text[4], '-');
	cr_assert_eq(mg_ticket_verify(text, &kr, "t-0012", mg_now(), &v), 0, "%s", mg_error());
	cr_assert_eq(v.mode, MG_TARGET_ALLOW);
	cr_assert_eq(v.bind, MG_TICKET_BIND_HASH);
	cr_assert_arr_eq(v.hash, t.hash, sizeof(t.hash));
	cr_assert_eq(v.expires, t.expires);
	cr_assert_str_eq(v.id, t.id);
	cr_assert_arr_eq(v.key_id, kr.policy.keys[0].id, MG_KEY_ID_BYTES);
}

Test(ticket, text_is_forgiving_about_case_and_separators)
{
	struct mg_ticket t = serial_ticket("T-0012", mg_now() + 60), v;
	_cleanup_free_ char *text = issue(&t, &policy_sk);
	char spoken[512];
	size_t o = 0;

	/* read aloud and typed back: lower case, spaces instead of dashes */
	for (const char *p = text; *p; p++)
		spoken[o++] = *p == '-' ? ' ' : (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	spoken[o] = '\0';
	cr_assert_eq(mg_ticket_verify(spoken, &kr, "t-0012", mg_now(), &v), 0, "%s", mg_error());
	cr_assert_str_eq(v.serial, "4C530000000000000001");
	cr_assert_eq(v.mode, MG_TARGET_READ_ONLY);
}

Test(ticket, refusals)
{
	struct mg_ticket t = serial_ticket("t-0012", mg_now() + 60), v;
	_cleanup_free_ char *text = issue(&t, &policy_sk);
	_cleanup_free_ char *forged = NULL;
	struct mg_ticket o = serial_ticket("t-0012", mg_now() + 60);

	cr_assert_eq(mg_ticket_verify(text, &kr, "t-0013", mg_now(), &v), -EXDEV);
	cr_assert(strstr(mg_error(), "another host"), "%s", mg_error());
	cr_assert_eq(mg_ticket_verify(text, &kr, "t-0012", t.expires, &v), -ETIME);
	cr_assert(strstr(mg_error(), "expired"), "%s", mg_error());
	forged = issue(&o, &other_sk);
	cr_assert_eq(mg_ticket_verify(forged, &kr, "t-0012", mg_now(), &v), -EKEYREJECTED);

	/* One character changed anywhere breaks it. */
	for (size_t k = 0; k < strlen(text); k += 7) {
		char bad[512];

		if (text[k] == '-')
			continue;
		snprintf(bad, sizeof(bad), "%s", text);
		bad[k] = bad[k] == 'A' ? 'B' : 'A';
		cr_assert_lt(mg_ticket_verify(bad, &kr, "t-0012", mg_now(), &v), 0, "changed at %zu", k);
	}
	cr_assert_eq(mg_ticket_verify("hello, world", &kr, "t-0012", mg_now(), &v), -EINVAL);
	cr_assert_eq(mg_ticket_verify("AAAA-AAAA", &kr, "t-0012", mg_now(), &v), -EBADMSG);
}

Test(ticket, issue_checks_its_input)
{
	struct mg_ticket t = serial_ticket("h", mg_now() + 60);
	char *text = NULL;

	t.mode = MG_TARGET_BLOCK;
	cr_assert_eq(mg_ticket_issue(&t, &policy_sk, &text), -EINVAL);
	t = serial_ticket("h", mg_now() + 60);
	t.serial[0] = '\0';
	cr_assert_eq(mg_ticket_issue(&t, &policy_sk, &text), -EINVAL);
	t = serial_ticket("h", (int64_t)UINT32_MAX + 1);
	cr_assert_eq(mg_ticket_issue(&t, &policy_sk, &text), -EINVAL);
}

Test(ticket, matches_one_device)
{
	struct mg_ticket t = serial_ticket("h", 1);
	struct mg_usbdev dev = {.serial = "4C530000000000000001"};

	cr_assert(mg_ticket_matches(&t, &dev));
	snprintf(dev.serial, sizeof(dev.serial), "4C530000000000000002");
	cr_assert_not(mg_ticket_matches(&t, &dev));
	t.bind = MG_TICKET_BIND_HASH;
	memset(dev.hash, 7, sizeof(dev.hash));
	memset(t.hash, 7, sizeof(t.hash));
	cr_assert(mg_ticket_matches(&t, &dev));
	dev.hash[15] = 8;
	cr_assert_not(mg_ticket_matches(&t, &dev));
	dev.serial[0] = '\0';
	t.bind = MG_TICKET_BIND_SERIAL;
	t.serial[0] = '\0';
	cr_assert_not(mg_ticket_matches(&t, &dev), "no serial never matches");
}

static void state_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/state%s%s", dir, name[0] ? "/" : "", name);
}

Test(ticket, apply_store_and_load)
{
	struct mg_ticket t = serial_ticket(mg_hostname(), mg_now() + 3600), v, *all = NULL;
	struct mg_ticket gone = serial_ticket(mg_hostname(), mg_now() + 3600);
	_cleanup_free_ char *text = issue(&t, &policy_sk);
	char state[300], path[400];
	size_t n = 0;

	state_path(state, sizeof(state), "");
	cr_assert_eq(mg_ticket_apply(state, text, &v), 0, "%s", mg_error());
	snprintf(path, sizeof(path), "%s/tickets/%s", state, t.id);
	cr_assert_eq(access(path, F_OK), 0, "%s", path);
	cr_assert_eq(mg_ticket_load_all(state, &all, &n), 0, "%s", mg_error());
	cr_assert_eq(n, 1);
	cr_assert_str_eq(all[0].id, t.id);
	free(all);

	/* A damaged file is skipped, not trusted. */
	snprintf(gone.serial, sizeof(gone.serial), "OTHER");
	free(issue(&gone, &policy_sk));
	snprintf(path, sizeof(path), "%s/tickets/%s", state, gone.id);
	cr_assert_eq(mg_file_replace(path, "AAAA-BBBB\n", 10, 0600), 0);
	cr_assert_eq(mg_ticket_load_all(state, &all, &n), 0);
	cr_assert_eq(n, 1);
	free(all);

	/* Each apply is in the audit journal. */
	snprintf(path, sizeof(path), "%s/audit/audit.log", state);
	{
		uint8_t *log = NULL;
		size_t len = 0;

		cr_assert_eq(mg_file_read(path, 1 << 20, &log, &len), 0, "%s", mg_error());
		cr_assert(strstr((char *)log, "\"ticket.apply\""), "%s", log);
		cr_assert(strstr((char *)log, t.id));
		free(log);
	}
}

Test(ticket, another_host_is_refused_and_audited)
{
	struct mg_ticket t = serial_ticket("elsewhere", mg_now() + 3600), v;
	_cleanup_free_ char *text = issue(&t, &policy_sk);
	char state[300], path[400];
	uint8_t *log = NULL;
	size_t len = 0;

	state_path(state, sizeof(state), "");
	cr_assert_eq(mg_ticket_apply(state, text, &v), -EXDEV);
	snprintf(path, sizeof(path), "%s/audit/audit.log", state);
	cr_assert_eq(mg_file_read(path, 1 << 20, &log, &len), 0);
	cr_assert(strstr((char *)log, "\"rejected\""), "%s", log);
	free(log);
}

Test(ticket, the_clock_floor_ends_a_ticket_early)
{
	struct mg_terminal_state st = {.clock_floor = mg_now() + 7200, .keyring_version = 1};
	struct mg_ticket t = serial_ticket(mg_hostname(), mg_now() + 3600), v, *all = NULL;
	_cleanup_free_ char *text = issue(&t, &policy_sk);
	_cleanup_free_ char *json = NULL;
	char state[300], path[400];
	size_t len = 0, n = 0;
	int64_t now;

	state_path(state, sizeof(state), "");
	cr_assert_eq(mg_ticket_apply(state, text, &v), 0, "%s", mg_error());
	/* A bundle issued in two hours was seen: the clock cannot be earlier
	 * than that, whatever the system clock says now. */
	cr_assert_eq(mg_terminal_state_format(&st, &json, &len), 0, "%s", mg_error());
	snprintf(path, sizeof(path), "%s/terminal.json", state);
	cr_assert_eq(mg_file_replace(path, json, len, 0644), 0);
	cr_assert_eq(mg_ticket_now(state, &now), 0);
	cr_assert_eq(now, st.clock_floor);
	cr_assert_eq(mg_ticket_apply(state, text, &v), -ETIME);
	cr_assert_eq(mg_ticket_load_all(state, &all, &n), 0);
	cr_assert_eq(n, 0);
	snprintf(path, sizeof(path), "%s/tickets/%s", state, t.id);
	cr_assert_neq(access(path, F_OK), 0, "an expired ticket is removed");
}

Test(ticket, no_keyring_no_tickets)
{
	struct mg_ticket t = serial_ticket(mg_hostname(), mg_now() + 3600), v, *all = NULL;
	_cleanup_free_ char *text = issue(&t, &policy_sk);
	char state[300], path[400];
	size_t n = 7;

	state_path(state, sizeof(state), "");
	cr_assert_eq(mg_ticket_apply(state, text, &v), 0);
	snprintf(path, sizeof(path), "%s/keyring", state);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(mg_ticket_load_all(state, &all, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_lt(mg_ticket_apply(state, text, &v), 0);
}

Test(ticket, qr_code)
{
	struct mg_ticket t = serial_ticket("h", mg_now() + 60);
	_cleanup_free_ char *text = issue(&t, &policy_sk);
	_cleanup_free_ char *qr = NULL;
	size_t lines = 0;

	cr_assert_eq(mg_ticket_qr(text, &qr), 0, "%s", mg_error());
	for (const char *p = qr; *p; p++)
		lines += *p == '\n';
	cr_assert_gt(lines, 10);
	cr_assert_lt(lines, 40, "fits a terminal: %zu lines", lines);
	cr_assert(strstr(qr, "\u2588"));
}
