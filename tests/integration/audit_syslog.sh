#!/bin/bash
# The syslog mirror, read off a real /dev/log: each record goes to
# authpriv whole, with the stable MESSAGE_ID of its event and the writer's
# own tag (mynaguard never calls openlog); a journal that cannot be written
# sends LOG_ALERT "audit journal failing" and the record marked "(not
# journaled)".  A private mount namespace gives the test its own /dev/log.
source "$(dirname "$0")/lib.sh"

[[ $(id -u) == 0 ]] || { echo "skip: needs root for a mount namespace"; exit 77; }
unshare --mount true 2>/dev/null || { echo "skip: no mount namespaces here"; exit 77; }
mkdir -p "$T/ro"
writer=$(command -v audit_writer)

# Inside the namespace: a tmpfs /dev with a listening /dev/log, then the
# writer appends to a good journal and to one on a read-only mount.
unshare --mount bash -euo pipefail -s "$T" "$writer" <<'INNER'
T=$1 writer=$2
mount -t tmpfs mg-dev /dev
mknod -m 666 /dev/null c 1 3
mknod -m 444 /dev/urandom c 1 9
python3 - "$T/syslog" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
open(sys.argv[1] + ".ready", "w").close()
s.settimeout(2)
with open(sys.argv[1], "ab") as out:
    while True:
        try:
            msg = s.recv(65536)
        except socket.timeout:
            break
        out.write(msg.replace(b"\n", b" ") + b"\n")
        out.flush()
PY
listener=$!
for _ in $(seq 200); do [[ -e $T/syslog.ready ]] && break; sleep 0.05; done
printf 'device.decision usb 0781:5581 住民記録\n' | "$writer" "$T/state/audit" agent >"$T/good.out"
mount -t tmpfs -o ro mg-ro "$T/ro"
printf 'otp.accept yamada\n' | "$writer" "$T/ro/audit" pam >"$T/bad.out" || true
wait "$listener"
INNER

[[ -s $T/syslog ]] || fail "nothing arrived on /dev/log"
id=$(mynaguardctl audit message-id device.decision | cut -d' ' -f1)
line=$(grep "MESSAGE_ID=$id " "$T/syslog") || { cat "$T/syslog"; fail "no record with MESSAGE_ID=$id"; }
ok "a record reaches syslog with its event's MESSAGE_ID $id"
[[ $line == "<81>"* ]] || fail "not authpriv.alert: $line"
ok "facility authpriv, priority from the decision (alert): ${line:0:4}"
[[ $line == *"audit_writer"* ]] || fail "the tag is not the program's own: $line"
ok "the tag is the program's own: mynaguard did not call openlog"
grep -q '"seq":1,.*"subject":"usb 0781:5581 住民記録",.*"hash":"' <<<"$line" ||
	fail "the record is not mirrored whole: $line"
journal_line=$(head -n 1 "$T/state/audit/audit.log")
[[ $line == *"$journal_line" ]] || fail "syslog and journal differ: $line / $journal_line"
ok "the mirrored record is byte for byte the journal's line, hash included"

grep -q "^fail: audit journal failing: .*Read-only file system" "$T/bad.out" || fail "$(cat "$T/bad.out")"
alert=$(grep "mynaguard audit journal failing (pam)" "$T/syslog") || { cat "$T/syslog"; fail "no alert"; }
[[ $alert == "<81>"* ]] || fail "the alert is not LOG_ALERT: $alert"
ok "a failing journal raises LOG_ALERT: ${alert#*: }"
otp=$(mynaguardctl audit message-id otp.accept | cut -d' ' -f1)
grep -q "MESSAGE_ID=$otp (not journaled) {\"time\":.*\"subject\":\"yamada\"" "$T/syslog" ||
	{ cat "$T/syslog"; fail "the unjournaled record is not in syslog"; }
ok "the record that could not be journaled is in syslog, marked (not journaled)"
