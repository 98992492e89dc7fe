#!/bin/bash
# The running agent and tickets: a ticket lets exactly one device in on
# this host until it expires; the agent decides every device again when the
# earliest ticket in use runs out, and turning the clock back below the
# clock floor does not revive one.  (device_ticket.sh covers issuing and
# verifying.)  MYNAGUARD_FAKE_TIME moves the clock.
source "$(dirname "$0")/lib.sh"

zoo=$MG_SOURCE_DIR/tests/data/zoo
U=/sys/devices/pci0000:00/0000:00:14.0/usb1
state=$T/state conf=$T/mynaguard.conf
mkdir -p "$state"
agent_config "$conf"
ctl() { mynaguardctl --state-dir "$state" --config "$conf" "$@"; }
host=$(uname -n)
now=$(date +%s)
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
# ticket SERIAL HOST EXPIRES: prints the ticket's code.
ticket() {
	mynaguard-admin ticket --key "$T/keys/policy.key" --host "$2" --serial "$1" --mode allow \
		--expires "$3" --no-qr | sed -n 2p
}
# decision NAME: "DECISION RULE" of the agent's last record for NAME.
decision() {
	python3 - "$state" "$1" <<'PY'
import glob, json, sys
last = ""
for p in sorted(glob.glob(sys.argv[1] + "/audit/audit*.log")):
    for l in open(p):
        r = json.loads(l)
        if r.get("event") == "device.decision" and r["subject"].split(" ")[0] == sys.argv[2]:
            last = r["decision"] + " " + r["rule"] + " " + r["detail"]["trigger"]
print(last)
PY
}
restart_agent() { # FAKE_TIME
	agent_stop
	MYNAGUARD_FAKE_TIME=$1 agent_start "$state" "$conf"
}

cat >"$T/policy.json" <<'EOF'
{"schema": 1, "devices": {"default": "block", "rules": [
  {"id": "hubs", "match": {"classes": {"one-of": ["hub"]}}, "target": "allow"}]}}
EOF
policy_keys
policy_apply "$state" "$conf" "$T/policy.json" 1 2>/dev/null

# The stick on port 1 has a ticket; the stick behind the hub has none.
code=$(ticket 4C530000000000000001 "$host" "$(iso $((now + 7200)))")
expect_exit 0 ctl ticket apply "$code"
ok "a ticket for this host applies"
other=$(ticket 4C530000000000000001 other-host "$(iso $((now + 7200)))")
expect_exit 1 ctl ticket apply "$other"
ok "a ticket for another host is refused: $(head -c 120 "$T/err")"

testbed_start
tb load "$zoo/roothub.umockdev"
tb load "$zoo/stick.umockdev"
tb load "$zoo/hub.umockdev"
MYNAGUARD_FAKE_TIME=$((now + 60)) agent_start "$state" "$conf"
[[ $(decision 1-1) == "allow ticket:"*" start" && $(sysattr "$U/1-1" authorized) == 1 ]] ||
	fail "ticketed stick: $(decision 1-1), authorized=$(sysattr "$U/1-1" authorized)"
ok "the ticketed stick is allowed, the audit names the ticket: $(decision 1-1)"
[[ $(decision 1-10.1) == "block default start" && $(sysattr "$U/1-10/1-10.1" authorized) == 0 ]] ||
	fail "other stick: $(decision 1-10.1)"
ok "another stick on the same host stays blocked"

restart_agent $((now + 3 * 3600))
[[ $(decision 1-1) == "block default start" && $(sysattr "$U/1-1" authorized) == 0 ]] ||
	fail "after expiry: $(decision 1-1)"
ok "after its expiry the ticket no longer counts"

# Turning the clock back: a bundle issued in three hours raises the clock
# floor past the ticket's expiry; a clock set back to now does not revive it.
agent_stop
code=$(ticket 4C530000000000000001 "$host" "$(iso $((now + 7200)))")
expect_exit 0 ctl ticket apply "$code"
MYNAGUARD_FAKE_TIME=$((now + 60)) agent_start "$state" "$conf"
[[ $(decision 1-1) == "allow ticket:"*" start" ]] || fail "fresh ticket: $(decision 1-1)"
MYNAGUARD_FAKE_TIME=$((now + 3 * 3600)) policy_apply "$state" "$conf" "$T/policy.json" 2 2>/dev/null
restart_agent $((now + 60))
[[ $(decision 1-1) == "block default start" && $(sysattr "$U/1-1" authorized) == 0 ]] ||
	fail "clock set back below the floor: $(decision 1-1)"
ok "setting the clock back below the clock floor does not extend a ticket"

# A ticket that runs out while the agent runs: the stick is cut off then.
agent_stop
rm -rf "$state"
mkdir -p "$state"
policy_apply "$state" "$conf" "$T/policy.json" 1 2>/dev/null
code=$(ticket 4C530000000000000001 "$host" "$(iso $(($(date +%s) + 6)))")
expect_exit 0 ctl ticket apply "$code"
agent_start "$state" "$conf"
[[ $(decision 1-1) == "allow ticket:"*" start" ]] || fail "short ticket: $(decision 1-1)"
is_cut_off() { [[ $(decision 1-1) == "block default ticket-expired" && $(sysattr "$U/1-1" authorized) == 0 ]]; }
wait_for 60 is_cut_off
ok "when the ticket expires the running agent blocks the stick (trigger ticket-expired)"
audit_has "$state" '"event":"ticket.applied"' || audit_has "$state" '"event":"ticket.apply' ||
	fail "ticket applies not audited"
ok "each ticket apply is audited"
agent_stop
