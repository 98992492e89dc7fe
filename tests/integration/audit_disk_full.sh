#!/bin/bash
# A full disk under the audit journal: the writer keeps running and says
# audit is failing; what it could not write waits in memory (up to 256
# records, the rest counted) and arrives, in order, with a journal.lost
# record, once there is space again; the chain verifies throughout.
# Needs root for the tmpfs mount.
source "$(dirname "$0")/lib.sh"

[[ $(id -u) == 0 ]] || { echo "skip: needs root to mount a tmpfs"; exit 77; }
state=$T/state
mkdir -p "$state"
mount -t tmpfs -o size=1m,mode=0700 mg-audit-test "$state" || { echo "skip: cannot mount tmpfs"; exit 77; }
at_exit umount -l "$state"

# The writer runs for the whole test, fed through a fifo.
mkfifo "$T/in"
audit_writer "$state/audit" agent <"$T/in" >"$T/replies" &
writer=$!
exec 3>"$T/in"
at_exit "kill $writer 2>/dev/null"
sent=0

# send EVENT [SUBJECT]: appends one record and waits for its reply.
send() {
	echo "$*" >&3
	sent=$((sent + 1))
	for _ in $(seq 1200); do   # a hang guard, not a timing
		(( $(wc -l <"$T/replies") >= sent )) && return 0
		sleep 0.05
	done
	fail "no reply from audit_writer to '$*'"
}
last_reply() { tail -n 1 "$T/replies"; }

send test.before "before the disk filled"
[[ $(last_reply) == ok ]] || fail "first append: $(last_reply)"
ok "the journal takes records"

dd if=/dev/zero of="$state/fill" bs=4k 2>/dev/null || true
# tmpfs hands out whole pages: records go on until the log needs a new one.
for i in $(seq 40); do
	send test.during "while full $i"
	[[ $(last_reply) == ok ]] || break
done
[[ $(last_reply) == fail:* ]] || fail "40 appends on a full disk all succeeded"
[[ $(last_reply) == "fail: audit journal failing: "*"/audit.log: write: No space left on device" ]] ||
	fail "unexpected failure: $(last_reply)"
ok "a full disk fails the append loudly: $(last_reply)"

failed_first=$(grep -c '^fail' "$T/replies")
for i in $(seq 300); do echo "test.during overflow $i" >&3; sent=$((sent + 1)); done
send test.during "last while full"
held=$(grep -c '^fail' "$T/replies")
((held == failed_first + 301)) || fail "expected $((failed_first + 301)) failures, got $held"
ok "$held appends failed while the disk was full; the writer kept going"

expect_exit 0 mynaguardctl --state-dir "$state" audit verify
ok "the records already on disk still verify: $(cat "$T/out")"

rm -f "$state/fill"
send test.after "space again"
[[ $(last_reply) == ok ]] || fail "append after freeing space: $(last_reply)"
exec 3>&-
wait "$writer" || fail "audit_writer exited $?"
ok "after space is freed the next append works"

expect_exit 0 mynaguardctl --state-dir "$state" audit verify
expect_grep "note: 1 record says the journal was repaired or lost records" "$T/out"
ok "the chain verifies, and verify points at the loss: $(tr '\n' ' ' <"$T/out")"

expect_exit 0 mynaguardctl --state-dir "$state" audit show -n 0 --json
during=$(grep -c '"event":"test.during"' "$T/out")
((during == 256 + (sent - 2 - held))) || fail "expected the 256 held back, got $during test.during records"
ok "the 256 records held in memory arrived"
lost=$(grep '"event":"journal.lost"' "$T/out") || fail "no journal.lost record"
want=$((held - 256))
grep -q "\"lost\":$want," <<<"$lost" || fail "journal.lost does not count $want: $lost"
ok "journal.lost counts the $want that did not fit"
tail -n 1 "$T/out" | grep -q '"event":"test.after"' || fail "test.after is not the last record"
grep -n '"event":"journal.lost"' "$T/out" | cut -d: -f1 | { read -r n; ((n == $(wc -l <"$T/out") - 1)); } ||
	fail "journal.lost is not right before test.after"
ok "order kept: the held records, then journal.lost, then the new record"
