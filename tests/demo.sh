#!/bin/bash
# The demo: a simulated terminal and an administrator, end to end, in a
# throw-away directory.  Each capability adds one chapter, tests/demo.d/NN-*.sh,
# run in order with the variables below.
set -euo pipefail
export MG_SOURCE_DIR=$(cd "$(dirname "$0")/.." && pwd)
export MG_BUILD_DIR=${MG_BUILD_DIR:-$MG_SOURCE_DIR/build/demo}
cmake -S "$MG_SOURCE_DIR" -B "$MG_BUILD_DIR" -DMG_TESTS=OFF >/dev/null
cmake --build "$MG_BUILD_DIR" -j "$(nproc)" >/dev/null
export DEMO=$(mktemp -d /tmp/mynaguard-demo.XXXXXX)
export PATH="$MG_BUILD_DIR/admin:$MG_BUILD_DIR/agent:$PATH"
cleanup() { for f in "$DEMO"/*.pid; do [[ -f $f ]] && kill "$(cat "$f")" 2>/dev/null; done; rm -rf "$DEMO"; }
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
export -f step run
for chapter in "$MG_SOURCE_DIR"/tests/demo.d/*.sh; do
	bash "$chapter"
done
printf '\nThe demo ran to the end.\n'
