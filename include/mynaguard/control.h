/* The agent's local control socket, RUNTIME_DIR/control.sock.
 *
 * A UNIX stream socket carrying JSON lines: one compact JSON object per
 * line, at most MG_CONTROL_MAX_MESSAGE bytes with its '\n'.  A client sends
 * a request and reads exactly one reply line per request; it may keep the
 * connection open for more (the clipboard guards do, so that the agent
 * notices when one dies).
 *
 *   request  {"cmd":"devices"}
 *   reply    {"ok":true,"devices":[...]}
 *   reply    {"ok":false,"error":"devices: permission denied (uid 65534 is not root)"}
 *
 * "cmd" is 1..MG_CONTROL_CMD_MAX-1 characters of [a-z0-9-]; the other keys
 * belong to the command.  The agent learns who is calling from the kernel
 * (SO_PEERCRED), never from the message: root-only commands (reload,
 * devices, status, approve-keyboard) are refused to other users, while a
 * session's clipboard guard may send its own commands (guard-hello,
 * guard-bye, clipboard-block).  The socket is 0666 in a 0755 directory so
 * that every session's guard can connect; the peer check is the gate.
 *
 * The agent side keeps each connection non-blocking with bounded input and
 * output buffers, so a slow or hostile client costs one slot and never
 * stalls the loop.  The format and every command are in docs/agent.md. */
#ifndef MYNAGUARD_CONTROL_H
#define MYNAGUARD_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

#define MG_CONTROL_SOCKET "control.sock"
#define MG_CONTROL_MAX_MESSAGE 16384          /* one line, '\n' included */
#define MG_CONTROL_MAX_QUEUED (1u << 20)      /* unsent reply bytes before a client is dropped */
#define MG_CONTROL_CMD_MAX 32
#define MG_CONTROL_TIMEOUT_MS 10000           /* a client's wait for one reply */

/* One parsed request. */
struct mg_control_request {
	char cmd[MG_CONTROL_CMD_MAX]; /* the "cmd" value, validated */
	json_t *msg;                  /* the whole message object (owned; has "cmd") */
};

/* Who is on the other end, from SO_PEERCRED. */
struct mg_control_peer {
	pid_t pid;                    /* the connecting process */
	uid_t uid;                    /* its effective user */
	gid_t gid;                    /* its effective group */
};

/* The agent's view of one connection: bounded buffers for a non-blocking fd. */
struct mg_control_conn {
	int fd;                                /* the accepted socket (non-blocking) */
	struct mg_control_peer peer;           /* fixed at accept */
	char in[MG_CONTROL_MAX_MESSAGE];       /* bytes received, not yet a full line */
	size_t in_len;                         /* bytes used in in[] */
	char *out;                             /* replies not yet written (malloc'd) */
	size_t out_len;                        /* bytes in out */
	size_t out_off;                        /* bytes of out already written */
};

/* Parses one line (without or with its '\n') into req.  Fails with
 * -EMSGSIZE over the size limit and -EBADMSG with a message naming the
 * field ("control: $.cmd: expected a string") otherwise. */
int mg_control_parse(const void *line, size_t len, struct mg_control_request *req);
void mg_control_request_clear(struct mg_control_request *req);

/* --- client side (mynaguardctl, mynaguard-clipguard) --- */

/* Connects to RUNTIME_DIR/control.sock.  Returns the fd; -ENOENT or
 * -ECONNREFUSED with "RUNTIME_DIR/control.sock: the agent is not running". */
int mg_control_connect(const char *runtime_dir);

/* Sends request on fd and waits (MG_CONTROL_TIMEOUT_MS) for its reply.
 * Returns 0 and the reply when it says "ok":true.  When it says
 * "ok":false, returns -EPERM (permission denied) or -EREMOTEIO with the
 * agent's error as the message; *reply is set in both cases. */
int mg_control_exchange(int fd, const json_t *request, json_t **reply);

/* Connect, one exchange, close.  request is {"cmd":cmd} when args is NULL,
 * else args (borrowed) with "cmd" added. */
int mg_control_call(const char *runtime_dir, const char *cmd, const json_t *args,
                    json_t **reply);

/* --- agent side --- */

/* Creates RUNTIME_DIR (0755) and a listening socket in it (0666), after
 * removing a stale socket.  Returns the listening fd (non-blocking, CLOEXEC);
 * -EADDRINUSE when the socket there answers: another agent is running. */
int mg_control_listen(const char *runtime_dir);

/* Accepts one connection into conn (fd non-blocking, peer filled).
 * Returns 0, -EAGAIN when none is pending, or another error. */
int mg_control_accept(int listen_fd, struct mg_control_conn *conn);

/* Reads what is available.  Returns the bytes read, 0 at EOF, -EAGAIN. */
int mg_control_conn_read(struct mg_control_conn *conn);

/* Takes the next complete line out of the input.  Returns 1 with req
 * filled, 0 when no full line is there yet, or a parse error (the bad line
 * is consumed; -EMSGSIZE when a line outgrew the buffer: close then). */
int mg_control_conn_next(struct mg_control_conn *conn, struct mg_control_request *req);

/* Queues one reply line.  -ENOBUFS when the client has left more than
 * MG_CONTROL_MAX_QUEUED unread: close it. */
int mg_control_conn_queue(struct mg_control_conn *conn, const json_t *reply);

/* Queues {"ok":false,"error":message}. */
int mg_control_conn_queue_error(struct mg_control_conn *conn, const char *message);

/* Writes what the socket takes.  Returns 0 when all is out, -EAGAIN when
 * some is left (wait for EPOLLOUT), another error when the peer is gone. */
int mg_control_conn_flush(struct mg_control_conn *conn);

bool mg_control_conn_pending(const struct mg_control_conn *conn);

/* Closes the fd and frees the buffers. */
void mg_control_conn_close(struct mg_control_conn *conn);

#endif
