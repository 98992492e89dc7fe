#!/bin/bash
# Writers killed with SIGKILL at random points, three at a time: whatever
# the moment, the next append repairs what is torn, no seq is reused and
# the whole chain verifies.
source "$(dirname "$0")/lib.sh"

state=$T/state
journal=$state/audit
export MYNAGUARD_AUDIT_ROTATE_BYTES=20000
rounds=${MG_KILL_ROUNDS:-60}
torn=0
for round in $(seq "$rounds"); do
	pids=()
	for w in 1 2 3; do
		yes "test.kill round $round writer $w" | audit_writer "$journal" "w$w" >/dev/null 2>&1 &
		pids+=($!)
	done
	sleep "0.0$((RANDOM % 9 + 1))"
	# $! is the writer, the last in its pipeline; yes then dies of SIGPIPE.
	kill -9 "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
	if ! mynaguardctl --state-dir "$state" audit verify >"$T/out" 2>"$T/err"; then
		grep -q "incomplete record at the end" "$T/err" || { cat "$T/err"; fail "round $round: $(cat "$T/err")"; }
		torn=$((torn + 1))
	fi
done
ok "$rounds rounds of kill -9 on 3 writers; $torn left a torn last line, nothing worse"

echo "test.after all rounds" | audit_writer "$journal" ctl >/dev/null
expect_exit 0 mynaguardctl --state-dir "$state" audit verify
ok "after one more append the chain verifies: $(cat "$T/out")"

expect_exit 0 mynaguardctl --state-dir "$state" audit show -n 0 --json
dups=$(grep -o '^{"seq":[0-9]*' "$T/out" | sort | uniq -d | wc -l)
((dups == 0)) || fail "$dups seqs appear twice"
repaired=$(grep -c '"event":"journal.repaired"' "$T/out" || true)
ok "no seq reused; $repaired torn records were cut off and recorded as journal.repaired"
