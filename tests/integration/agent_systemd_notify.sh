#!/bin/bash
# mynaguardd speaks systemd's notify protocol: READY=1 once its socket is up
# and every present device is decided, WATCHDOG=1 at half of WATCHDOG_USEC,
# STATUS= lines, and STOPPING=1 on SIGTERM.  The listener is a datagram
# socket like the one systemd gives a Type=notify service.
source "$(dirname "$0")/lib.sh"

testbed_start
agent_config "$T/mynaguard.conf"
mkdir -p "$T/state"

python3 - "$T/notify.sock" "$T/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        for line in s.recv(4096).decode().split("\n"):
            log.write(line + "\n")
PY
listener=$!
at_exit "kill $listener"
wait_for 10 test -S "$T/notify.sock"

NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=400000 agent_start "$T/state" "$T/mynaguard.conf"
wait_for 30 grep -qx READY=1 "$T/notify.log"
ok "READY=1 after the control socket answers"
grep -q "^MAINPID=$AGENT_PID$" "$T/notify.log" || fail "no MAINPID=$AGENT_PID"
ok "MAINPID names the agent"
wait_for 30 grep -qx WATCHDOG=1 "$T/notify.log"
ok "WATCHDOG=1 with WATCHDOG_USEC set"
grep -q "^STATUS=policy defaults" "$T/notify.log" || { cat "$T/notify.log"; fail "no STATUS= line"; }
ok "STATUS= says which policy is in force"

kill -HUP "$AGENT_PID"
wait_for 30 audit_has "$T/state" '"event":"agent.policy".*"trigger":"SIGHUP"'
ok "SIGHUP reloads the policy"
agent_stop
wait_for 10 grep -qx STOPPING=1 "$T/notify.log" || fail "no STOPPING=1"
ok "STOPPING=1 on SIGTERM"

# Without WATCHDOG_USEC the agent sends no pings.
: >"$T/notify.log"
NOTIFY_SOCKET=$T/notify.sock agent_start "$T/state" "$T/mynaguard.conf"
wait_for 30 grep -qx READY=1 "$T/notify.log"
sleep 1
! grep -q WATCHDOG=1 "$T/notify.log" || fail "watchdog pings without WATCHDOG_USEC"
ok "no watchdog pings unless asked"
agent_stop
