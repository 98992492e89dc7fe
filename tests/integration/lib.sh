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
