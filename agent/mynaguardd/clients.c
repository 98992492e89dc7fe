/* The control socket's clients and the command dispatcher.
 *
 * Commands register themselves with AGENT_COMMAND (agent.h), which puts a
 * pointer in the "agent_commands" section; the linker marks where it
 * starts and stops.  So a file of commands (guards.c) is added without
 * touching a table here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "agent.h"
#include "mynaguard/error.h"
#include "mynaguard/json.h"
#include "mynaguard/util.h"

extern const struct agent_command *const __start_agent_commands[] __attribute__((weak, visibility("hidden")));
extern const struct agent_command *const __stop_agent_commands[] __attribute__((weak, visibility("hidden")));

static const struct agent_command *command_find(const char *name)
{
	for (const struct agent_command *const *c = __start_agent_commands; c < __stop_agent_commands; c++)
		if (*c && strcmp((*c)->cmd, name) == 0)
			return *c;
	return NULL;
}

static int slot_count(const struct agent *a, uid_t uid, size_t *free_slot)
{
	int same = 0;

	*free_slot = AGENT_MAX_CLIENTS;
	for (size_t i = 0; i < AGENT_MAX_CLIENTS; i++) {
		if (!a->clients[i]) {
			if (*free_slot == AGENT_MAX_CLIENTS)
				*free_slot = i;
		} else if (a->clients[i]->conn.peer.uid == uid) {
			same++;
		}
	}
	return same;
}

static void client_close(struct agent *a, struct agent_client *c)
{
	for (size_t i = 0; i < AGENT_MAX_CLIENTS; i++)
		if (a->clients[i] == c)
			a->clients[i] = NULL;
	if (c->on_close)
		c->on_close(a, c);
	epoll_ctl(a->epoll_fd, EPOLL_CTL_DEL, c->conn.fd, NULL);
	mg_control_conn_close(&c->conn);
	free(c);
}

/* Takes one pending connection; refuses it when the table or the
 * caller's share of it is full, so that one user cannot lock root out. */
static int accept_one(struct agent *a)
{
	struct agent_client *c = calloc(1, sizeof(*c));
	struct epoll_event ev = {.events = EPOLLIN};
	size_t slot;
	int r;

	if (!c)
		return -ENOMEM;
	r = mg_control_accept(a->listen_fd, &c->conn);
	if (r < 0) {
		free(c);
		return r;
	}
	if (slot_count(a, c->conn.peer.uid, &slot) >= AGENT_MAX_CLIENTS_PER_USER &&
	    c->conn.peer.uid != 0)
		slot = AGENT_MAX_CLIENTS;
	if (slot == AGENT_MAX_CLIENTS) {
		fprintf(stderr, "mynaguardd: control: refusing pid %d uid %u: too many connections\n",
		        (int)c->conn.peer.pid, (unsigned)c->conn.peer.uid);
		mg_control_conn_close(&c->conn);
		free(c);
		return 0;
	}
	ev.data.ptr = c;
	if (epoll_ctl(a->epoll_fd, EPOLL_CTL_ADD, c->conn.fd, &ev) < 0) {
		mg_control_conn_close(&c->conn);
		free(c);
		return -errno;
	}
	a->clients[slot] = c;
	return 0;
}

int agent_clients_accept(struct agent *a)
{
	int r;

	while ((r = accept_one(a)) == 0)
		;
	return r == -EAGAIN ? 0 : r;
}

/* Runs one request and queues its reply. */
static int run_request(struct agent *a, struct agent_client *c, const struct mg_control_request *req)
{
	const struct agent_command *cmd = command_find(req->cmd);
	_cleanup_json_ json_t *reply = json_pack("{s:b}", "ok", 1);
	int r;

	if (!reply)
		return -ENOMEM;
	if (!cmd) {
		mg_fail(EINVAL, "%s: unknown command", req->cmd);
		return mg_control_conn_queue_error(&c->conn, mg_error());
	}
	if (!cmd->any_user && c->conn.peer.uid != 0) {
		mg_fail(EPERM, "%s: permission denied (uid %u is not root)", req->cmd,
		        (unsigned)c->conn.peer.uid);
		return mg_control_conn_queue_error(&c->conn, mg_error());
	}
	mg_error_clear();
	r = cmd->run(a, c, req->msg, reply);
	if (r < 0)
		return mg_control_conn_queue_error(&c->conn, mg_error());
	return mg_control_conn_queue(&c->conn, reply);
}

/* A line over the limit ends the conversation: the error is sent, our
 * side shut, and the rest the client sends is read and dropped until it
 * hangs up.  (Closing at once would reset the connection and lose the
 * error the client should see.) */
static int refuse_oversize(struct agent_client *c)
{
	int r = mg_control_conn_queue_error(&c->conn, mg_error());

	if (r == 0)
		r = mg_control_conn_flush(&c->conn);
	if (r < 0)
		return r;
	shutdown(c->conn.fd, SHUT_WR);
	c->conn.in_len = 0;
	c->discarding = true;
	return 0;
}

static void discard_input(struct agent *a, struct agent_client *c)
{
	int r = mg_control_conn_read(&c->conn);

	c->conn.in_len = 0;
	if (r == 0 || (r < 0 && r != -EAGAIN))
		client_close(a, c);
}

/* Handles every complete line received.  A line that does not parse gets
 * an error reply; a line over the limit ends the connection. */
static int run_requests(struct agent *a, struct agent_client *c)
{
	for (;;) {
		struct mg_control_request req;
		int r = mg_control_conn_next(&c->conn, &req);

		if (r == 0)
			return 0;
		if (r == -EMSGSIZE)
			return refuse_oversize(c);
		if (r < 0)
			r = mg_control_conn_queue_error(&c->conn, mg_error());
		else
			r = run_request(a, c, &req);
		mg_control_request_clear(&req);
		if (r < 0)
			return r;
	}
}

/* Waits for EPOLLOUT only while replies are queued. */
static int update_interest(struct agent *a, struct agent_client *c)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};

	if (mg_control_conn_pending(&c->conn))
		ev.events |= EPOLLOUT;
	return epoll_ctl(a->epoll_fd, EPOLL_CTL_MOD, c->conn.fd, &ev) < 0 ? -errno : 0;
}

void agent_client_event(struct agent *a, struct agent_client *c, uint32_t events)
{
	int r = 0;

	if (c->discarding) {
		discard_input(a, c);
		return;
	}
	if (events & EPOLLIN) {
		r = mg_control_conn_read(&c->conn);
		if (r == 0) {
			client_close(a, c);
			return;
		}
		if (r > 0 || r == -EAGAIN)
			r = run_requests(a, c);
	}
	if (r == 0 || r == -EAGAIN) {
		r = mg_control_conn_flush(&c->conn);
		if (r == 0 || r == -EAGAIN)
			r = update_interest(a, c);
	}
	if (r < 0 || (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)))
		client_close(a, c);
}

void agent_clients_free(struct agent *a)
{
	for (size_t i = 0; i < AGENT_MAX_CLIENTS; i++)
		if (a->clients[i])
			client_close(a, a->clients[i]);
}
