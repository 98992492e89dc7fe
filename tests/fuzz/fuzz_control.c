/* The control socket's message parser, fed as the agent feeds it: bytes
 * through a connection's line buffer, then each line to mg_control_parse. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mynaguard/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_control_request req;
	struct mg_control_conn conn = {0};
	int sv[2];

	if (mg_control_parse(data, size, &req) == 0)
		mg_control_request_clear(&req);

	if (size > MG_CONTROL_MAX_MESSAGE * 2 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		return 0;
	conn.fd = sv[0];
	if (size && write(sv[1], data, size) < 0)
		size = 0;
	close(sv[1]);
	for (;;) {
		int r = mg_control_conn_read(&conn);
		int n;

		while ((n = mg_control_conn_next(&conn, &req)) != 0) {
			mg_control_request_clear(&req);
			if (n == -EMSGSIZE)
				goto out;
		}
		if (r <= 0)
			break;
	}
out:
	mg_control_conn_close(&conn);
	return 0;
}
