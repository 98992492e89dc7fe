#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "mynaguard/control.h"
#include "mynaguard/error.h"
#include "mynaguard/util.h"

static int parse(const char *s, struct mg_control_request *req)
{
	return mg_control_parse(s, strlen(s), req);
}

Test(control, parses_a_command_with_or_without_newline)
{
	struct mg_control_request req;

	cr_assert_eq(parse("{\"cmd\":\"reload\"}\n", &req), 0);
	cr_assert_str_eq(req.cmd, "reload");
	mg_control_request_clear(&req);
	cr_assert_eq(parse("{\"cmd\":\"approve-keyboard\",\"device\":\"1-4\"}", &req), 0);
	cr_assert_str_eq(req.cmd, "approve-keyboard");
	cr_assert_str_eq(json_string_value(json_object_get(req.msg, "device")), "1-4");
	mg_control_request_clear(&req);
}

Test(control, rejects_bad_messages_naming_the_field)
{
	static const struct { const char *line, *msg; } bad[] = {
		{"{}", "$.cmd: required"},
		{"{\"cmd\":7}", "$.cmd: expected a string"},
		{"{\"cmd\":\"\"}", "$.cmd: expected 1 to 31"},
		{"{\"cmd\":\"Reload\"}", "$.cmd: expected 1 to 31"},
		{"{\"cmd\":\"a b\"}", "$.cmd: expected 1 to 31"},
		{"{\"cmd\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", "$.cmd: expected 1 to 31"},
		{"[\"reload\"]", "expected an object"},
		{"{\"cmd\":\"x\",\"cmd\":\"y\"}", "control"},
		{"{\"cmd\":\"x\"} {}", "control"},
	};
	struct mg_control_request req;

	for (size_t i = 0; i < MG_ARRAY_SIZE(bad); i++) {
		cr_assert_eq(parse(bad[i].line, &req), -EBADMSG, "%s", bad[i].line);
		cr_assert(strstr(mg_error(), bad[i].msg), "%s: %s", bad[i].line, mg_error());
		cr_assert_null(req.msg);
	}
}

Test(control, rejects_an_oversize_message)
{
	size_t n = MG_CONTROL_MAX_MESSAGE + 10;
	char *big = malloc(n + 1);
	struct mg_control_request req;

	memset(big, ' ', n);
	memcpy(big, "{\"cmd\":\"x\"}", 11);
	big[n] = '\0';
	cr_assert_eq(mg_control_parse(big, n, &req), -EMSGSIZE);
	free(big);
}

static void conn_pair(struct mg_control_conn *conn, int *client)
{
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	memset(conn, 0, sizeof(*conn));
	conn->fd = sv[0];
	*client = sv[1];
}

Test(control, splits_lines_and_waits_for_the_rest)
{
	struct mg_control_conn conn;
	struct mg_control_request req;
	int client;
	const char *two = "{\"cmd\":\"status\"}\n{\"cmd\":\"dev";

	conn_pair(&conn, &client);
	cr_assert_eq(write(client, two, strlen(two)), (ssize_t)strlen(two));
	cr_assert_gt(mg_control_conn_read(&conn), 0);
	cr_assert_eq(mg_control_conn_next(&conn, &req), 1);
	cr_assert_str_eq(req.cmd, "status");
	mg_control_request_clear(&req);
	cr_assert_eq(mg_control_conn_next(&conn, &req), 0);
	cr_assert_eq(write(client, "ices\"}\n", 7), 7);
	cr_assert_gt(mg_control_conn_read(&conn), 0);
	cr_assert_eq(mg_control_conn_next(&conn, &req), 1);
	cr_assert_str_eq(req.cmd, "devices");
	mg_control_request_clear(&req);
	cr_assert_eq(mg_control_conn_read(&conn), -EAGAIN);
	close(client);
	cr_assert_eq(mg_control_conn_read(&conn), 0);
	mg_control_conn_close(&conn);
}

Test(control, a_line_that_never_ends_is_refused)
{
	struct mg_control_conn conn;
	struct mg_control_request req;
	char junk[4096];
	int client, r = 0;

	conn_pair(&conn, &client);
	memset(junk, 'x', sizeof(junk));
	for (int i = 0; i < MG_CONTROL_MAX_MESSAGE / (int)sizeof(junk) + 1; i++) {
		cr_assert_eq(write(client, junk, sizeof(junk)), (ssize_t)sizeof(junk));
		while (mg_control_conn_read(&conn) > 0)
			;
		r = mg_control_conn_next(&conn, &req);
		if (r != 0)
			break;
	}
	cr_assert_eq(r, -EMSGSIZE);
	close(client);
	mg_control_conn_close(&conn);
}

Test(control, a_client_that_does_not_read_is_cut_off)
{
	struct mg_control_conn conn;
	json_t *reply = json_pack("{s:b,s:s}", "ok", 1, "pad", "................................................................................................................................................................................................................................................................");
	int client, r = 0;

	conn_pair(&conn, &client);
	for (int i = 0; i < 100000 && r == 0; i++) {
		r = mg_control_conn_queue(&conn, reply);
		if (r == 0) {
			int f = mg_control_conn_flush(&conn);
			cr_assert(f == 0 || f == -EAGAIN);
		}
	}
	cr_assert_eq(r, -ENOBUFS);
	cr_assert(mg_control_conn_pending(&conn));
	json_decref(reply);
	close(client);
	mg_control_conn_close(&conn);
}

Test(control, exchange_reports_the_agents_refusal)
{
	struct mg_control_conn conn;
	json_t *req = json_pack("{s:s}", "cmd", "reload"), *reply = NULL;
	int client;

	conn_pair(&conn, &client);
	cr_assert_eq(mg_control_conn_queue_error(&conn, "reload: permission denied (uid 65534 is not root)"), 0);
	cr_assert_eq(mg_control_conn_flush(&conn), 0);
	cr_assert_eq(mg_control_exchange(client, req, &reply), -EPERM);
	cr_assert(strstr(mg_error(), "permission denied"), "%s", mg_error());
	cr_assert_not_null(reply);
	json_decref(reply);

	/* The agent saw exactly the request line. */
	cr_assert_gt(mg_control_conn_read(&conn), 0);
	{
		struct mg_control_request got;
		cr_assert_eq(mg_control_conn_next(&conn, &got), 1);
		cr_assert_str_eq(got.cmd, "reload");
		mg_control_request_clear(&got);
	}
	json_decref(req);
	close(client);
	mg_control_conn_close(&conn);
}

Test(control, listen_accept_and_peer_credentials)
{
	char dir[] = "/tmp/mg-control-XXXXXX", *sock;
	struct mg_control_conn conn;
	struct stat st;
	int lfd, cfd;

	cr_assert_not_null(mkdtemp(dir));
	lfd = mg_control_listen(dir);
	cr_assert_geq(lfd, 0, "%s", mg_error());
	sock = malloc(strlen(dir) + 32);
	sprintf(sock, "%s/%s", dir, MG_CONTROL_SOCKET);
	cr_assert_eq(stat(sock, &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 0777, 0666);
	cr_assert_eq(mg_control_accept(lfd, &conn), -EAGAIN);
	cfd = mg_control_connect(dir);
	cr_assert_geq(cfd, 0, "%s", mg_error());
	cr_assert_eq(mg_control_accept(lfd, &conn), 0);
	cr_assert_eq(conn.peer.pid, getpid());
	cr_assert_eq(conn.peer.uid, geteuid());
	mg_control_conn_close(&conn);
	close(cfd);
	/* A second agent does not take the socket of a running one. */
	cr_assert_eq(mg_control_listen(dir), -EADDRINUSE);
	cr_assert(strstr(mg_error(), "another agent is running"), "%s", mg_error());
	close(lfd);
	/* Once the first is gone, the next start replaces the stale socket. */
	lfd = mg_control_listen(dir);
	cr_assert_geq(lfd, 0, "%s", mg_error());
	close(lfd);
	unlink(sock);
	rmdir(dir);
	free(sock);
}

Test(control, connecting_without_an_agent_says_so)
{
	cr_assert_eq(mg_control_connect("/nonexistent/mynaguard"), -ENOENT);
	cr_assert(strstr(mg_error(), "/nonexistent/mynaguard/control.sock: the agent is not running"),
	          "%s", mg_error());
}
