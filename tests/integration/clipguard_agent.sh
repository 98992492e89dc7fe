#!/bin/bash
# The guard and the agent: the guard, running as an ordinary user, takes the
# clipboard section of the signed policy in force from the agent; its
# blocks become audit records with kinds and counts only; killing it is
# noticed and recorded as an alert, with the session lock attempted (no
# logind here, so the record says why it failed); a clean exit is not an alert.
source "$(dirname "$0")/lib.sh"
command -v Xvfb >/dev/null && command -v xclip >/dev/null || { echo "skip: no Xvfb or xclip"; exit 77; }

testbed_start
at_exit '((rc == 0)) || { echo "--- guard log:"; cat "$T/guard.log" 2>/dev/null; echo "--- agent log:"; cat "$T/agent.log" 2>/dev/null; } >&2'
agent_config "$T/mynaguard.conf"
mkdir -p "$T/state"
chmod 755 "$T"; chmod 644 "$T/mynaguard.conf"    # the guard runs as nobody
ctl() { mynaguardctl --state-dir "$T/state" --config "$T/mynaguard.conf" "$@"; }

policy_ceremony
cat >"$T/policy.json" <<'EOF'
{"schema":1,"clipboard":{"mode":"block-sensitive","action":"redact","redaction":{"text":"[個人番号]"},
 "lock_session_on_guard_loss":true}}
EOF
policy_sign 1 "$T/policy.json" "$T/bundle"
policy_pin "$T/state"
expect_exit 0 ctl policy apply "$T/bundle"
agent_start "$T/state" "$T/mynaguard.conf"
start_xvfb
guard_start_as_nobody() {
	: >"$T/guard.log"
	# setpriv and env exec, so $! is the guard itself.
	setpriv --reuid=nobody --regid=nogroup --clear-groups env DISPLAY="$DISPLAY" \
		"$MG_BUILD_DIR/agent/mynaguard-clipguard" --config "$T/mynaguard.conf" 2>>"$T/guard.log" &
	GUARD_PID=$!
	at_exit "kill $GUARD_PID 2>/dev/null"
	wait_until "the guard to start" grep -q guarding "$T/guard.log"
}
guard_start_as_nobody
wait_for 10 audit_has "$T/state" '"event":"clipboard.guard-start".*uid 65534'
expect_grep "policy from the agent: mode block-sensitive" "$T/guard.log"
ok "a guard running as nobody says hello; the agent records it and hands it the section"

# inspect compares the agent's list of guards with the X11 sessions.
python3 - "$T/run/control.sock" "$GUARD_PID" <<'PY' || fail "the agent's status does not list the guard"
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b'{"cmd":"status"}\n')
reply = json.loads(s.makefile("rb").readline())
assert any(g["pid"] == int(sys.argv[2]) and g["uid"] == 65534 for g in reply["clipboard_guards"]), reply
PY
ok "the agent's status lists the running guard (uid, pid, session) for inspect"

clip_copy clipboard "転出 123456789018 と 1234-5678-9018"
[[ $(clip_paste clipboard) == "転出 [個人番号] と [個人番号]" ]] || fail "redaction: $(clip_paste clipboard)"
ok "the agent's section is in force: numbers become the policy's redaction text"

wait_for 10 audit_has "$T/state" '"event":"clipboard.block".*"decision":"block".*"rule":"detected"'
audit_has "$T/state" '"event":"clipboard.block".*"counts":\{"kojin":2\}' || fail "counts not audited"
! cat "$T/state"/audit/audit*.log | grep -qE '123456789018|転出|9018' || fail "clipboard content in the audit journal"
ok "the block is audited with kind and count, without content"

kill -9 "$GUARD_PID"
wait_for 10 audit_has "$T/state" '"event":"clipboard.guard-lost".*"decision":"alert"'
audit_has "$T/state" '"event":"clipboard.guard-lost".*"lock":"failed: ' || fail "lock attempt not recorded"
ok "a killed guard is noticed: alert clipboard.guard-lost, session lock attempted and its failure recorded"

guard_start_as_nobody
lost=$(cat "$T/state"/audit/audit*.log | grep -c '"clipboard.guard-lost"')
kill -TERM "$GUARD_PID"
wait_for 10 audit_has "$T/state" '"event":"clipboard.guard-stop"'
sleep 0.5
[[ $(cat "$T/state"/audit/audit*.log | grep -c '"clipboard.guard-lost"') == "$lost" ]] || fail "a clean exit raised an alert"
ok "a guard that ends cleanly says bye: no alert"

lost=$(cat "$T/state"/audit/audit*.log | grep -c '"clipboard.guard-lost"')
guard_start_as_nobody
starts=$(cat "$T/state"/audit/audit*.log | grep -c '"clipboard.guard-start"')
blocks=$(cat "$T/state"/audit/audit*.log | grep -c '"clipboard.block"')
agent_stop
clip_copy clipboard "留守中 216684847514"
[[ $(clip_paste clipboard) == "留守中 [個人番号]" ]] || fail "the guard stopped enforcing without the agent"
agent_start "$T/state" "$T/mynaguard.conf"
guard_restarted() { (($(cat "$T/state"/audit/audit*.log | grep -c '"clipboard.guard-start"') > starts)); }
wait_for 30 guard_restarted
[[ $(cat "$T/state"/audit/audit*.log | grep -c '"clipboard.guard-lost"') == "$lost" ]] || fail "an agent restart raised an alert"
kill -0 "$GUARD_PID" || fail "the guard did not survive the agent's restart"
ok "an agent restart is no alert: the guard keeps enforcing and says hello to the new agent"
block_delivered() { (($(cat "$T/state"/audit/audit*.log | grep -c '"clipboard.block"') > blocks)); }
wait_for 10 block_delivered
ok "a block made while the agent was away is audited after the reconnection"

expect_exit 0 ctl audit verify
ok "the journal with these records verifies"
