#!/bin/bash
# The audit journal's cost, against the floor of what it does.  A
# benchmark, not a test.
#
#   1. Append: N records through one long-lived writer (tests/tools/
#      audit_writer: lock, tail read, write, fdatasync, audit.head replaced
#      with fsync), against dd writing the same N lines with oflag=dsync (one
#      synchronous write per line and nothing else: the durability floor).
#   2. Verify: `mynaguardctl audit verify` of a 20,000-record journal
#      (parse, BLAKE2b-256 per line, chain and head checks), against b2sum
#      -l 256 over the same files (the hashing alone).
#   Both run with hyperfine side by side in the same directory (the disk
#   under it decides the append figures); the ratio to the peer is printed.
#
#   bash bench/audit_journal.sh [N]        (default 500)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${MG_BUILD_DIR:-$src/build/bench}
n=${1:-500}

cmake -S "$src" -B "$build" >/dev/null
cmake --build "$build" -j "$(nproc)" --target mynaguardctl audit_writer >/dev/null
writer=$build/tests/audit_writer
ctl=$build/admin/mynaguardctl
dir=$(mktemp -d "${TMPDIR:-/var/tmp}/mg-bench-audit.XXXXXX")
trap 'rm -rf "$dir"' EXIT

line="device.decision usb 0781:5581 serial=4C530001231106115282 住民記録係"
lines() { awk -v n="$1" -v l="$line" 'BEGIN { for (i = 0; i < n; i++) print l }'; }
lines "$n" >"$dir/input"
# dd gets records of the journal's own size, one per synchronous write.
printf '%s' "$line" | "$writer" "$dir/sample/audit" agent >/dev/null
size=$(head -n 1 "$dir/sample/audit/audit.log" | wc -c)
python3 -c 'import sys; sys.stdout.write("x" * int(sys.argv[1]))' "$((size * n))" >"$dir/dd-input"

echo "== append: $n records, each durable before the next (in $dir)"
hyperfine --runs 3 --export-json "$dir/append.json" \
	--prepare "rm -rf '$dir/j' '$dir/dd.out'" \
	-n "mynaguard journal" "'$writer' '$dir/j/audit' agent <'$dir/input' >/dev/null" \
	-n "dd oflag=dsync" "dd if='$dir/dd-input' of='$dir/dd.out' bs=$size oflag=dsync status=none"

echo "== verify: 20000 records"
rm -rf "$dir/v"
lines 20000 | MYNAGUARD_AUDIT_ROTATE_BYTES=2000000 "$writer" "$dir/v/audit" agent >/dev/null
hyperfine --runs 5 --warmup 1 --export-json "$dir/verify.json" \
	-n "mynaguardctl audit verify" "'$ctl' --state-dir '$dir/v' audit verify >/dev/null" \
	-n "b2sum -l 256" "b2sum -l 256 '$dir'/v/audit/audit*.log >/dev/null"

ratio() { # JSON: mean of the first over the second
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print("%.2f" % (r[0]["mean"]/r[1]["mean"]))' "$1"
}
per=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print("%.2f ms" % (r[0]["mean"]*1000/int(sys.argv[2])))' "$dir/append.json" "$n")
echo
echo "append: $per per record; mynaguard / dd oflag=dsync = $(ratio "$dir/append.json")"
echo "verify: mynaguard / b2sum = $(ratio "$dir/verify.json")"
