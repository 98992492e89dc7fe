#!/bin/bash
# The agent's control socket: who may say what, and what a hostile client
# cannot do.  The socket is world-connectable (each session's clipboard
# guard talks to it) so the peer credentials the kernel reports are the
# only gate: another user can neither reload the policy nor list devices.
source "$(dirname "$0")/lib.sh"

testbed_start
agent_config "$T/mynaguard.conf"
mkdir -p "$T/state"
chmod 755 "$T"    # so that nobody can reach the socket at all
ctl() { mynaguardctl --state-dir "$T/state" --config "$T/mynaguard.conf" "$@"; }
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

# talk [LINES...]: sends each line (raw, as given) and prints each reply line.
cat >"$T/talk.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.settimeout(20)
f = s.makefile("rb")
for line in sys.argv[2:]:
    s.sendall(line.encode() + b"\n")
    reply = f.readline()
    print(reply.decode().rstrip("\n") if reply else "EOF")
PY
sock=$T/run/control.sock
talk() { python3 "$T/talk.py" "$sock" "$@"; }

expect_exit 2 ctl devices
expect_grep "control.sock: the agent is not running" "$T/err"
ok "without the agent: one clear line, exit 2"

agent_start "$T/state" "$T/mynaguard.conf"
[[ $(stat -c %a "$sock") == 666 && $(stat -c %a "$T/run") == 755 ]] || fail "socket modes $(stat -c %a "$sock" "$T/run")"
ok "control.sock is 0666 in a 0755 directory"
expect_exit 1 env UMOCKDEV_DIR="$UMOCKDEV_ROOT" LD_PRELOAD=libumockdev-preload.so.0 \
	mynaguardd --state-dir "$T/state" --config "$T/mynaguard.conf"
expect_grep "control.sock: another agent is running" "$T/err"
expect_exit 0 ctl devices
ok "a second agent refuses to start and the first keeps its socket"

expect_exit 0 ctl devices --json
python3 -c 'import json,sys; assert json.load(open(sys.argv[1])) == []' "$T/out"
ok "root lists devices (none on an empty testbed)"

for cmd in reload devices status approve-keyboard; do
	as_nobody /usr/bin/python3 "$T/talk.py" "$sock" "{\"cmd\":\"$cmd\"}" >"$T/out"
	expect_grep "\"ok\":false.*$cmd: permission denied (uid 65534 is not root)" "$T/out"
done
ok "a non-root peer may not reload, list, ask status or approve"
expect_exit 2 as_nobody mynaguardctl --state-dir "$T/state" --config "$T/mynaguard.conf" devices
expect_grep "permission denied" "$T/err"
ok "mynaguardctl devices as nobody: refused with a clear line"
audit_has "$T/state" '"trigger":"reload"' && fail "a refused reload ran"
ok "the refused reload did not run"

talk '{"cmd":"reload"}' >"$T/out"
expect_grep '"ok":true' "$T/out"
wait_for 10 audit_has "$T/state" '"event":"agent.policy".*"trigger":"reload"'
ok "root reloads; the reload is audited"
expect_exit 0 ctl status
expect_grep "enforcing defaults, version 0" "$T/out"
expect_grep "devices: 0 present" "$T/out"
expect_grep "udev rules: $T/rules/70-mynaguard.rules" "$T/out"
ok "mynaguardctl status shows the agent's own view"

talk 'not json' '{"cmd":"no-such"}' '{"cmd":"status"}' >"$T/out"
[[ $(sed -n 1p "$T/out") == *'"ok":false'*'control: line 1'* ]] || fail "bad JSON: $(sed -n 1p "$T/out")"
[[ $(sed -n 2p "$T/out") == *'no-such: unknown command'* ]] || fail "unknown: $(sed -n 2p "$T/out")"
[[ $(sed -n 3p "$T/out") == *'"ok":true'*'"pid":'* ]] || fail "status: $(sed -n 3p "$T/out")"
ok "bad lines get an error reply and the connection goes on"

python3 - "$sock" >"$T/out" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1]); s.settimeout(20)
try:
    s.sendall(b"{" + b" " * 40000)
except OSError:
    pass
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(data.decode().strip())
PY
expect_grep '"ok":false.*message larger than 16384 bytes' "$T/out"
ok "an oversize message is refused and the connection closed"

# A client that sends half a line and waits does not stall the agent,
# and one user's connections cannot fill every slot.
python3 - "$sock" <<'PY' &
import socket, sys, time
conns = []
for i in range(12):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1]); s.sendall(b'{"cmd":"dev'); conns.append(s)
time.sleep(600)
PY
hog=$!
at_exit "kill $hog"
setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 - "$sock" <<'PY' >"$T/nobody.out" &
import socket, sys, time
conns, closed = [], 0
for i in range(12):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1]); conns.append(s)
for s in conns:
    s.settimeout(5)
    try:
        s.sendall(b'{"cmd":"guard-ping"}\n')
        if s.recv(4096) == b"":
            closed += 1
    except OSError:
        closed += 1
print(closed, flush=True)
time.sleep(600)
PY
nobody=$!
at_exit "kill $nobody"
wait_for 30 test -s "$T/nobody.out"
[[ $(cat "$T/nobody.out") -ge 4 ]] || fail "nobody kept $(cat "$T/nobody.out") of 12 connections closed, expected at least 4"
ok "one non-root user gets at most 8 connections"
expect_exit 0 ctl devices
ok "root is still served while clients hang and hog"
