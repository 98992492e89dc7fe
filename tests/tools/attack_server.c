/* attack_server: the two hostile repositories of tests/integration/fetch_bounds.sh.
 * Everything else in the tests is served by Debian's nginx; these two
 * behaviours are what no well-behaved server can be made to do.
 *
 *   attack_server --mode endless|trickle --port-file FILE [--pointer FILE]
 *
 * Listens on 127.0.0.1 on a free port and writes the port to FILE.
 * endless: "200 OK", chunked, 16 KiB chunks forever (no length to check).
 * trickle: "200 OK" with no length, then one byte a second until the client goes.
 * With --pointer, a request for a path ending in "/current" gets that file
 * promptly, so the attack is aimed at the bundle behind a valid pointer.
 * One child per connection; a child stops when its client goes away. */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mynaguard/file.h"
#include "mynaguard/util.h"

enum mode { ENDLESS, TRICKLE };

/* No child outlives this, whatever its client does. */
#define CHILD_MAX_SECONDS 300

static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads the request head; returns the request line's path or NULL. */
static char *read_path(int fd, char *buf, size_t size)
{
	size_t have = 0;
	char *sp, *end;

	while (have < size - 1 && !strstr(buf, "\r\n\r\n")) {
		ssize_t n = recv(fd, buf + have, size - 1 - have, 0);
		if (n <= 0)
			return NULL;
		have += (size_t)n;
		buf[have] = '\0';
	}
	sp = strchr(buf, ' ');
	if (!sp)
		return NULL;
	end = strchr(sp + 1, ' ');
	if (!end)
		return NULL;
	*end = '\0';
	return sp + 1;
}

static void serve_file(int fd, const uint8_t *data, size_t len)
{
	char head[128];
	int n = snprintf(head, sizeof(head),
	                 "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", len);

	if (send_all(fd, head, (size_t)n) == 0)
		send_all(fd, data, len);
}

static void serve_endless(int fd)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
	static char chunk[6 + 16384 + 2];

	memcpy(chunk, "4000\r\n", 6);
	memset(chunk + 6, 'A', 16384);
	memcpy(chunk + 6 + 16384, "\r\n", 2);
	if (send_all(fd, head, sizeof(head) - 1) < 0)
		return;
	while (send_all(fd, chunk, sizeof(chunk)) == 0)
		;
}

static void serve_trickle(int fd)
{
	/* No length: the body ends when the connection does, so nothing
	 * short of the client's own clock can end it. */
	static const char head[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";

	if (send_all(fd, head, sizeof(head) - 1) < 0)
		return;
	while (send_all(fd, "A", 1) == 0)
		sleep(1);
}

static void serve(int fd, enum mode mode, const uint8_t *pointer, size_t pointer_len)
{
	char buf[8192] = "";
	const char *path = read_path(fd, buf, sizeof(buf));
	size_t n = path ? strlen(path) : 0;

	if (!path)
		return;
	if (pointer && n >= 8 && strcmp(path + n - 8, "/current") == 0)
		serve_file(fd, pointer, pointer_len);
	else if (mode == ENDLESS)
		serve_endless(fd);
	else
		serve_trickle(fd);
}

static int listen_local(const char *port_file)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	char port[16];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		perror("attack_server: listen");
		return -1;
	}
	snprintf(port, sizeof(port), "%u\n", ntohs(sa.sin_port));
	if (mg_file_replace(port_file, port, strlen(port), 0644) < 0) {
		fprintf(stderr, "attack_server: %s: cannot write the port\n", port_file);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"mode", required_argument, NULL, 'm'},
		{"port-file", required_argument, NULL, 'p'},
		{"pointer", required_argument, NULL, 'P'},
		{0},
	};
	const char *port_file = NULL, *pointer_path = NULL;
	_cleanup_free_ uint8_t *pointer = NULL;
	size_t pointer_len = 0;
	enum mode mode = ENDLESS;
	int c, lfd;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm': mode = strcmp(optarg, "trickle") == 0 ? TRICKLE : ENDLESS; break;
		case 'p': port_file = optarg; break;
		case 'P': pointer_path = optarg; break;
		default: return 2;
		}
	}
	if (!port_file) {
		fprintf(stderr, "usage: attack_server --mode endless|trickle --port-file FILE "
		        "[--pointer FILE]\n");
		return 2;
	}
	if (pointer_path && mg_file_read(pointer_path, 1 << 20, &pointer, &pointer_len) < 0) {
		fprintf(stderr, "attack_server: %s: cannot read\n", pointer_path);
		return 2;
	}
	signal(SIGCHLD, SIG_IGN);      /* children are reaped by the kernel */
	lfd = listen_local(port_file);
	if (lfd < 0)
		return 1;
	for (;;) {
		int cfd = accept(lfd, NULL, NULL);
		if (cfd < 0)
			continue;
		if (fork() == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			alarm(CHILD_MAX_SECONDS);
			close(lfd);
			serve(cfd, mode, pointer, pointer_len);
			_exit(0);
		}
		close(cfd);
	}
}
