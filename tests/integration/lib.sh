# Sourced by every integration test: a scratch directory that is removed on
# exit, paths of the built programs, and small assertion helpers.
set -euo pipefail
: "${MG_SOURCE_DIR:?}" "${MG_BUILD_DIR:?}"
export PATH="$MG_BUILD_DIR/admin:$MG_BUILD_DIR/agent:$MG_BUILD_DIR/tests:$PATH"
T=$(mktemp -d /tmp/mg-test.XXXXXX)
MG_CLEANUP=()
mg_cleanup() {
	local rc=$?
	for ((i = ${#MG_CLEANUP[@]} - 1; i >= 0; i--)); do eval "${MG_CLEANUP[i]}" || true; done
	rm -rf "$T"
	exit $rc
}
trap mg_cleanup EXIT
at_exit() { MG_CLEANUP+=("$*"); }

checks=0
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }
# expect_exit CODE CMD...: runs CMD, fails unless it exits CODE; output in $T/out, $T/err.
expect_exit() {
	local want=$1 got=0; shift
	"$@" >"$T/out" 2>"$T/err" || got=$?
	[[ $got == "$want" ]] || { cat "$T/out" "$T/err" >&2; fail "'$*' exited $got, expected $want"; }
}
expect_grep() { grep -q -- "$1" "$2" || { cat "$2" >&2; fail "'$1' not in $2"; }; }
# A TCP port nothing listens on now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_nginx ROOT [TLS_DIR]: Debian's nginx serving ROOT on 127.0.0.1 through
# the shipped site (packaging/nginx/mynaguard-repository.conf), its paths and
# listen line rewritten into $T/nginx.  Plain http unless TLS_DIR holds
# server.crt and server.key.  Sets NGINX_URL and NGINX_LOG (the access log).
start_nginx() {
	local root=$1 tls=${2:-} dir=$T/nginx port try pid listen
	mkdir -p "$dir"
	for try in 1 2 3 4 5; do
		port=$(free_port)
		if [[ -n $tls ]]; then listen="listen 127.0.0.1:$port ssl;"; else listen="listen 127.0.0.1:$port;"; fi
		sed -e "s|^\tlisten 443 ssl;|\t$listen|" -e '/listen \[::\]:443/d' \
		    -e "s|/srv/mynaguard/repository|$root|" \
		    -e "s|/var/log/nginx/mynaguard-repository.log|$dir/access.log|" \
		    -e "s|/etc/mynaguard/repository/tls|$tls|" \
		    "$MG_SOURCE_DIR/packaging/nginx/mynaguard-repository.conf" >"$dir/site.conf"
		[[ -n $tls ]] || sed -i '/^\tssl_/d' "$dir/site.conf"
		cat >"$dir/nginx.conf" <<-CONF
		$( ((EUID == 0)) && echo "user root;" )
		worker_processes 1;
		pid $dir/nginx.pid;
		error_log $dir/error.log info;
		events { worker_connections 64; }
		http {
			client_body_temp_path $dir/client_body;
			proxy_temp_path $dir/proxy;
			fastcgi_temp_path $dir/fastcgi;
			uwsgi_temp_path $dir/uwsgi;
			scgi_temp_path $dir/scgi;
			include $dir/site.conf;
		}
		CONF
		nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;' &
		pid=$!
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
				at_exit "kill $pid; wait $pid"
				if [[ -n $tls ]]; then NGINX_URL=https://127.0.0.1:$port; else NGINX_URL=http://127.0.0.1:$port; fi
				NGINX_LOG=$dir/access.log
				return 0
			fi
			sleep 0.1
		done
		kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
		grep -q "Address already in use" "$dir/error.log" || break
	done
	cat "$dir/error.log" >&2
	fail "nginx did not start"
}
