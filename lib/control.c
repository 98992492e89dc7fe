#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "mynaguard/control.h"
#include "mynaguard/error.h"
#include "mynaguard/file.h"
#include "mynaguard/json.h"
#include "mynaguard/util.h"

/* ---- the message format ---- */

static bool cmd_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= MG_CONTROL_CMD_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

int mg_control_parse(const void *line, size_t len, struct mg_control_request *req)
{
	_cleanup_json_ json_t *msg = NULL;
	const char *cmd = NULL;
	int r;

	memset(req, 0, sizeof(*req));
	if (len > 0 && ((const char *)line)[len - 1] == '\n')
		len--;
	if (len + 1 > MG_CONTROL_MAX_MESSAGE)
		return mg_fail(EMSGSIZE, "control: message larger than %d bytes", MG_CONTROL_MAX_MESSAGE);
	r = mg_json_parse(line, len, "control", &msg);
	if (r < 0)
		return r;
	r = mg_json_get_string(msg, "cmd", "control: $", true, &cmd);
	if (r < 0)
		return r;
	if (!cmd_valid(cmd))
		return mg_fail(EBADMSG, "control: $.cmd: expected 1 to %d characters of a-z, 0-9 and '-'",
		               MG_CONTROL_CMD_MAX - 1);
	snprintf(req->cmd, sizeof(req->cmd), "%s", cmd);
	req->msg = MG_TAKE(msg);
	return 0;
}

void mg_control_request_clear(struct mg_control_request *req)
{
	if (req->msg)
		json_decref(req->msg);
	memset(req, 0, sizeof(*req));
}

/* The line for msg, '\n' included; NULL when it cannot be encoded or is
 * too long for the other side to accept. */
static char *format_line(const json_t *msg, size_t *len)
{
	char *s = json_dumps(msg, JSON_COMPACT | JSON_ENSURE_ASCII), *line;
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s);
	line = realloc(s, n + 2);
	if (!line) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	*len = n + 1;
	return line;
}

/* ---- client side ---- */

static int socket_path(const char *runtime_dir, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if ((size_t)snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", runtime_dir,
	                     MG_CONTROL_SOCKET) >= sizeof(sa->sun_path))
		return mg_fail(ENAMETOOLONG, "%s: runtime directory name too long for a socket",
		               runtime_dir);
	return 0;
}

int mg_control_connect(const char *runtime_dir)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa;
	int r = socket_path(runtime_dir, &sa);

	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return mg_fail_errno(errno, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			return mg_fail(errno, "%s: the agent is not running", sa.sun_path);
		return mg_fail_errno(errno, "%s", sa.sun_path);
	}
	return MG_TAKE_FD(fd);
}

static int wait_fd(int fd, short events, int64_t deadline_ms)
{
	struct timespec ts;
	struct pollfd p = {.fd = fd, .events = events};
	int64_t now;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (now >= deadline_ms)
		return mg_fail(ETIMEDOUT, "control: no reply from the agent within %d ms",
		               MG_CONTROL_TIMEOUT_MS);
	r = poll(&p, 1, (int)(deadline_ms - now));
	if (r < 0 && errno != EINTR)
		return mg_fail_errno(errno, "control: poll");
	return 0;
}

static int64_t deadline_after(int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + ms;
}

static int send_line(int fd, const char *line, size_t len, int64_t deadline)
{
	while (len > 0) {
		ssize_t n = send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			int r = wait_fd(fd, POLLOUT, deadline);
			if (r < 0)
				return r;
			continue;
		}
		if (n < 0)
			return mg_fail_errno(errno, "control: send");
		line += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one reply line.  Replies may be larger than requests (a device
 * list), so their cap is MG_CONTROL_MAX_QUEUED. */
static int recv_line(int fd, char **out, size_t *out_len, int64_t deadline)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	for (;;) {
		char chunk[4096];
		ssize_t n = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT | MSG_PEEK);
		char *nl;
		size_t take;

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			int r = wait_fd(fd, POLLIN, deadline);
			if (r < 0)
				return r;
			continue;
		}
		if (n < 0)
			return mg_fail_errno(errno, "control: recv");
		if (n == 0)
			return mg_fail(ECONNRESET, "control: the agent closed the connection without a reply");
		/* Take up to the newline only, so that a later reply stays queued. */
		nl = memchr(chunk, '\n', (size_t)n);
		take = nl ? (size_t)(nl - chunk) + 1 : (size_t)n;
		if (len + take > MG_CONTROL_MAX_QUEUED)
			return mg_fail(EMSGSIZE, "control: reply larger than %u bytes", MG_CONTROL_MAX_QUEUED);
		if (len + take + 1 > cap) {
			size_t ncap = (len + take + 1) * 2;
			char *nbuf = realloc(buf, ncap);
			if (!nbuf)
				return mg_fail(ENOMEM, "control: out of memory");
			buf = nbuf;
			cap = ncap;
		}
		n = recv(fd, buf + len, take, 0);
		if (n < 0)
			return mg_fail_errno(errno, "control: recv");
		len += (size_t)n;
		buf[len] = '\0';
		if (nl && (size_t)n == take)
			break;
	}
	*out_len = len - 1;
	buf[len - 1] = '\0';
	*out = MG_TAKE(buf);
	return 0;
}

static int reply_verdict(json_t *reply)
{
	json_t *ok = json_object_get(reply, "ok");
	const char *error;

	if (json_is_true(ok))
		return 0;
	if (!json_is_false(ok))
		return mg_fail(EBADMSG, "control: reply: $.ok: expected true or false");
	error = json_string_value(json_object_get(reply, "error"));
	if (!error)
		error = "refused without a reason";
	return mg_fail(strstr(error, "permission denied") ? EPERM : EREMOTEIO, "agent: %s", error);
}

int mg_control_exchange(int fd, const json_t *request, json_t **reply)
{
	_cleanup_free_ char *line = NULL, *answer = NULL;
	int64_t deadline = deadline_after(MG_CONTROL_TIMEOUT_MS);
	size_t len, answer_len;
	json_t *msg = NULL;
	int r;

	*reply = NULL;
	line = format_line(request, &len);
	if (!line)
		return mg_fail(EINVAL, "control: request cannot be encoded");
	if (len > MG_CONTROL_MAX_MESSAGE)
		return mg_fail(EMSGSIZE, "control: request larger than %d bytes", MG_CONTROL_MAX_MESSAGE);
	r = send_line(fd, line, len, deadline);
	if (r == 0)
		r = recv_line(fd, &answer, &answer_len, deadline);
	if (r == 0)
		r = mg_json_parse(answer, answer_len, "control: reply", &msg);
	if (r < 0)
		return r;
	*reply = msg;
	return reply_verdict(msg);
}

int mg_control_call(const char *runtime_dir, const char *cmd, const json_t *args,
                    json_t **reply)
{
	_cleanup_close_ int fd = -1;
	_cleanup_json_ json_t *req = args ? json_deep_copy(args) : json_object();

	*reply = NULL;
	if (!req || json_object_set_new(req, "cmd", json_string(cmd)) < 0)
		return mg_fail(ENOMEM, "control: out of memory");
	fd = mg_control_connect(runtime_dir);
	if (fd < 0)
		return fd;
	return mg_control_exchange(fd, req, reply);
}

/* ---- agent side ---- */

static int socket_answers(const struct sockaddr_un *sa)
{
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return mg_fail_errno(errno, "socket");
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		return mg_fail(EADDRINUSE, "%s: another agent is running", sa->sun_path);
	return 0;
}

int mg_control_listen(const char *runtime_dir)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa;
	struct stat st;
	int r;

	r = socket_path(runtime_dir, &sa);
	if (r == 0)
		r = mg_dir_ensure(runtime_dir, 0755);
	if (r < 0)
		return r;
	/* Only a stale socket is removed: one that answers belongs to a
	 * running agent, and a file someone planted there stays and makes the
	 * bind fail loudly. */
	if (lstat(sa.sun_path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		r = socket_answers(&sa);
		if (r < 0)
			return r;
		unlink(sa.sun_path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return mg_fail_errno(errno, "socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return mg_fail_errno(errno, "%s: bind", sa.sun_path);
	if (chmod(sa.sun_path, 0666) < 0)
		return mg_fail_errno(errno, "%s: chmod", sa.sun_path);
	if (listen(fd, 64) < 0)
		return mg_fail_errno(errno, "%s: listen", sa.sun_path);
	return MG_TAKE_FD(fd);
}

int mg_control_accept(int listen_fd, struct mg_control_conn *conn)
{
	_cleanup_close_ int fd = -1;
	struct ucred cred;
	socklen_t len = sizeof(cred);

	fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return -EAGAIN;
		return mg_fail_errno(errno, "control: accept");
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return mg_fail_errno(errno, "control: SO_PEERCRED");
	memset(conn, 0, sizeof(*conn));
	conn->peer = (struct mg_control_peer){.pid = cred.pid, .uid = cred.uid, .gid = cred.gid};
	conn->fd = MG_TAKE_FD(fd);
	return 0;
}

int mg_control_conn_read(struct mg_control_conn *conn)
{
	size_t room = sizeof(conn->in) - conn->in_len;
	ssize_t n;

	if (room == 0)
		return mg_fail(EMSGSIZE, "control: message larger than %d bytes", MG_CONTROL_MAX_MESSAGE);
	n = recv(conn->fd, conn->in + conn->in_len, room, MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return -EAGAIN;
		return mg_fail_errno(errno, "control: recv");
	}
	conn->in_len += (size_t)n;
	return (int)n;
}

int mg_control_conn_next(struct mg_control_conn *conn, struct mg_control_request *req)
{
	char *nl = memchr(conn->in, '\n', conn->in_len);
	size_t used;
	int r;

	memset(req, 0, sizeof(*req));
	if (!nl) {
		if (conn->in_len == sizeof(conn->in))
			return mg_fail(EMSGSIZE, "control: message larger than %d bytes",
			               MG_CONTROL_MAX_MESSAGE);
		return 0;
	}
	used = (size_t)(nl - conn->in) + 1;
	r = mg_control_parse(conn->in, used, req);
	memmove(conn->in, conn->in + used, conn->in_len - used);
	conn->in_len -= used;
	return r < 0 ? r : 1;
}

int mg_control_conn_queue(struct mg_control_conn *conn, const json_t *reply)
{
	_cleanup_free_ char *line = NULL;
	size_t len, pending = conn->out_len - conn->out_off;
	char *out;

	line = format_line(reply, &len);
	if (!line)
		return mg_fail(ENOMEM, "control: reply cannot be encoded");
	if (pending + len > MG_CONTROL_MAX_QUEUED)
		return mg_fail(ENOBUFS, "control: client pid %d does not read its replies",
		               (int)conn->peer.pid);
	/* Compact what was sent, then append. */
	if (pending)
		memmove(conn->out, conn->out + conn->out_off, pending);
	out = realloc(conn->out, pending + len);
	if (!out)
		return mg_fail(ENOMEM, "control: out of memory");
	memcpy(out + pending, line, len);
	conn->out = out;
	conn->out_len = pending + len;
	conn->out_off = 0;
	return 0;
}

int mg_control_conn_queue_error(struct mg_control_conn *conn, const char *message)
{
	_cleanup_json_ json_t *reply = json_pack("{s:b,s:s}", "ok", 0, "error", message);

	if (!reply)
		return mg_fail(ENOMEM, "control: out of memory");
	return mg_control_conn_queue(conn, reply);
}

int mg_control_conn_flush(struct mg_control_conn *conn)
{
	while (conn->out_off < conn->out_len) {
		ssize_t n = send(conn->fd, conn->out + conn->out_off, conn->out_len - conn->out_off,
		                 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -EAGAIN;
			if (errno == EINTR)
				continue;
			return mg_fail_errno(errno, "control: send to pid %d", (int)conn->peer.pid);
		}
		conn->out_off += (size_t)n;
	}
	return 0;
}

bool mg_control_conn_pending(const struct mg_control_conn *conn)
{
	return conn->out_off < conn->out_len;
}

void mg_control_conn_close(struct mg_control_conn *conn)
{
	if (conn->fd >= 0)
		close(conn->fd);
	free(conn->out);
	conn->fd = -1;
	conn->out = NULL;
	conn->out_len = conn->out_off = conn->in_len = 0;
}
