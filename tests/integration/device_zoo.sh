#!/bin/bash
# Every device of the zoo (tests/data/zoo) gets the policy's decision from
# the running agent, under umockdev: the real libudev and the agent's real
# sysfs writes, redirected to a testbed.  Devices present at start and
# plugged in later; add, change (re-enumeration with other descriptors),
# remove; a new policy re-decides what is present; audit-only decides and
# writes nothing; a new keyboard is held until approved.  Each step checks
# the `authorized` values written and the audit record naming the rule.
source "$(dirname "$0")/lib.sh"

zoo=$MG_SOURCE_DIR/tests/data/zoo
U=/sys/devices/pci0000:00/0000:00:14.0/usb1
state=$T/state conf=$T/mynaguard.conf
mkdir -p "$state"
agent_config "$conf"
ctl() { mynaguardctl --state-dir "$state" --config "$conf" "$@"; }

# syspath NAME: "1-10.2" -> $U/1-10/1-10.2
syspath() { if [[ $1 == *.* ]]; then echo "$U/${1%.*}/$1"; else echo "$U/$1"; fi; }

# The audit records of device decisions, as "SEQ NAME TRIGGER DECISION RULE AUDIT_ONLY".
cat >"$T/decisions.py" <<'PY'
import glob, json, sys
for path in sorted(glob.glob(sys.argv[1] + "/audit/audit*.log")):
    for line in open(path):
        r = json.loads(line)
        if r.get("event") != "device.decision":
            continue
        d = r.get("detail", {})
        print(r["seq"], r["subject"].split(" ")[0], d.get("trigger"), r["decision"], r["rule"],
              str(d.get("audit_only")).lower())
PY
decisions() { python3 "$T/decisions.py" "$state"; }
mark() { MARK=$(python3 -c 'import glob,json,sys
seq=0
for p in glob.glob(sys.argv[1]+"/audit/audit*.log"):
    for l in open(p): seq=max(seq, json.loads(l)["seq"])
print(seq)' "$state"); }
MARK=0
# decided NAME TRIGGER: the last decision for NAME with TRIGGER after MARK.
decided() { decisions | awk -v m="$MARK" -v n="$1" -v t="$2" '$1 > m && $2 == n && $3 == t' | tail -1; }
has_decision() { [[ -n $(decided "$1" "$2") ]]; }
# expect NAME TRIGGER DECISION RULE AUTHORIZED
expect() {
	local name=$1 trigger=$2 decision=$3 rule=$4 auth=$5 got
	wait_for 30 has_decision "$name" "$trigger"
	got=$(decided "$name" "$trigger" | cut -d' ' -f4,5)
	[[ $got == "$decision $rule" ]] || fail "$name ($trigger): decided '$got', expected '$decision $rule'"
	got=$(sysattr "$(syspath "$name")" authorized)
	[[ $got == "$auth" ]] || fail "$name ($trigger): authorized=$got, expected $auth"
}
# plug FILE: a zoo device as a kernel with authorized_default=0 shows it
# (not yet authorized), then its add uevent.
plug() {
	local f=$zoo/$1.umockdev p
	tb load "$f"
	for p in $(awk '/^P:/{p=$2} /DEVTYPE=usb_device/{print p}' "$f"); do
		tb set "/sys$p" authorized 0
		tb uevent "/sys$p" add
	done
}

# unplug NAME: takes the device out of the testbed, its interfaces first
# (umockdev keeps their bus links otherwise).
unplug() {
	local dev=$(syspath "$1") i
	for i in "$UMOCKDEV_ROOT$dev"/"$1":*; do [[ -d $i ]] && tb remove "${i#"$UMOCKDEV_ROOT"}"; done
	tb remove "$dev"
}

cat >"$T/policy-1.json" <<'EOF'
{"schema": 1, "description": "zoo",
 "devices": {
  "default": "block", "present_devices": "apply-policy",
  "composite_storage_hid": "block", "new_keyboards": "rules",
  "rules": [
   {"id": "card-reader", "match": {"classes": {"one-of": ["smartcard"]}}, "target": "allow"},
   {"id": "stick-0012", "match": {"vendor": "0781", "product": "5583",
     "serial": "4C530000000000000012"}, "target": "read-only"},
   {"id": "input", "match": {"classes": {"one-of": ["keyboard", "mouse"]}}, "target": "allow"},
   {"id": "hubs", "match": {"classes": {"one-of": ["hub"]}}, "target": "allow"},
   {"id": "printer", "match": {"classes": {"one-of": ["printer"]}}, "target": "allow"},
   {"id": "built-in", "match": {"connect": "hardwired"}, "target": "allow"},
   {"id": "phones", "match": {"classes": {"one-of": ["mtp", "ptp"]}}, "target": "block"}
  ]}}
EOF
policy_keys
policy_apply "$state" "$conf" "$T/policy-1.json" 1

# --- present at start ---
testbed_start
tb load "$zoo/roothub.umockdev"
for f in stick keyboard smartcard hub webcam stick-registered; do tb load "$zoo/$f.umockdev"; done
agent_start "$state" "$conf"
expect 1-1 start block default 0
expect 1-7 start allow input 1
expect 1-9 start allow card-reader 1
expect 1-10 start allow hubs 1
expect 1-10.1 start block default 0
expect 1-10.2 start allow input 1
expect 1-12 start allow built-in 1
expect 1-14 start read-only stick-0012 1
ok "devices present at start: each decided by its rule, authorized written"
[[ $(sysattr $U authorized_default) == 0 && $(sysattr $U interface_authorized_default) == 0 ]] ||
	fail "root hub defaults not closed"
ok "root hub: authorized_default=0, interface_authorized_default=0"
[[ $(sysattr "$U/1-14/1-14:1.0" authorized) == 1 ]] || fail "read-only stick lost its storage interface"
ok "the read-only stick keeps its storage interface"

# --- plugged in later ---
for f in stick-hid mtp-phone rndis-phone cdc-ecm bluetooth mouse printer; do plug "$f"; done
expect 1-2 add block composite-storage-hid 0
expect 1-3 add block phones 0
expect 1-4 add block default 0
expect 1-5 add block default 0
expect 1-6 add block default 0
expect 1-8 add allow input 1
expect 1-11 add allow printer 1
ok "inserted devices: BadUSB composite, phones, tethering, network, bluetooth blocked; mouse, printer allowed"
audit_has "$state" '"rule":"composite-storage-hid","subject":"1-2 0951:1666' || fail "composite audit line"
ok "the audit line names the rule and the device"

ctl devices --json >"$T/devices.json"
python3 - "$T/devices.json" <<'PY' || fail "devices --json"
import json, sys
d = {x["name"]: x for x in json.load(open(sys.argv[1]))}
assert len(d) == 15, sorted(d)
assert d["1-14"]["decision"] == "read-only" and d["1-14"]["rule"] == "stick-0012"
assert d["1-2"]["rule"] == "composite-storage-hid"
assert d["1-7"]["present_at_start"] and not d["1-8"]["present_at_start"]
assert len(d["1-1"]["hash"]) == 64
PY
ok "mynaguardctl devices --json lists all 15 with decision and rule"

# --- change: the keyboard re-describes itself as a storage + HID composite ---
mark
tb set-hex "$U/1-7" descriptors "$(sed -n 's/^H: descriptors=//p' "$zoo/stick-hid.umockdev" | head -1)"
tb uevent "$U/1-7" change
expect 1-7 change block composite-storage-hid 0
ok "a device that changes its descriptors is decided anew"
mark
tb uevent "$U/1-7" change
tb uevent "$U/1-8" remove
# Uevents are handled in order: once the removal is in, the change was seen.
wait_for 30 audit_has "$state" '"event":"device.removed".*"subject":"1-8 '
[[ -z $(decided 1-7 change) ]] || fail "a change event without new descriptors was decided again"
ok "a change event that changes nothing is not re-decided"
ctl devices --json | python3 -c 'import json,sys; assert "1-8" not in [x["name"] for x in json.load(sys.stdin)]' ||
	fail "removed mouse still listed"
ok "remove: audited and no longer listed"

# --- a new policy re-decides what is present ---
sed 's#"rules": \[#"rules": [ {"id": "stick-0001", "match": {"serial": "4C530000000000000001"}, "target": "allow"},#' \
	"$T/policy-1.json" >"$T/policy-2.json"
mark
policy_apply "$state" "$conf" "$T/policy-2.json" 2
expect 1-1 reload allow stick-0001 1
expect 1-9 reload allow card-reader 1
expect 1-3 reload block phones 0
ok "policy version 2 re-decides every present device at once (the stick is now allowed)"
wait_for 30 grep -q stick-0001 "$T/rules/70-mynaguard.rules"
ok "the udev rules file was regenerated from version 2"

# --- audit-only: decide and log, write nothing ---
sed 's#"default": "block"#"default": "block", "audit_only": true#' "$T/policy-1.json" >"$T/policy-3.json"
mark
policy_apply "$state" "$conf" "$T/policy-3.json" 3
wait_for 30 has_decision 1-1 reload
[[ $(decided 1-1 reload | cut -d' ' -f4-6) == "block default true" ]] || fail "audit-only: $(decided 1-1 reload)"
[[ $(sysattr "$U/1-1" authorized) == 1 ]] || fail "audit-only wrote authorized=0"
unplug 1-6
tb load "$zoo/bluetooth.umockdev"
tb uevent "$U/1-6" add
wait_for 30 has_decision 1-6 add
[[ $(decided 1-6 add | cut -d' ' -f4-6) == "block default true" && $(sysattr "$U/1-6" authorized) == 1 ]] ||
	fail "audit-only insert: $(decided 1-6 add), authorized=$(sysattr "$U/1-6" authorized)"
[[ $(sysattr $U authorized_default) == 1 && $(sysattr $U interface_authorized_default) == 1 ]] ||
	fail "audit-only left the root hub holding new devices"
ok "audit-only: decisions logged with audit_only=true, nothing enforced, root hub not holding"

# --- a new keyboard is held until an operator approves it ---
sed 's#"new_keyboards": "rules"#"new_keyboards": "hold"#' "$T/policy-1.json" >"$T/policy-4.json"
mark
policy_apply "$state" "$conf" "$T/policy-4.json" 4
expect 1-10.2 reload allow input 1
ok "the keyboard in use is not held by a reload"
mark
unplug 1-8
plug mouse
expect 1-8 add hold new-keyboard 0
ok "a new HID device allowed only by a class rule is held"
expect_exit 0 ctl devices approve 1-8
expect 1-8 approved allow input 1
ok "mynaguardctl devices approve lets it in"
expect_exit 1 ctl devices approve 1-1
expect_grep "1-1: not held" "$T/err"
ok "approving a device that is not held is refused"

# --- what a restarted agent does with the devices already there ---
sed 's#"present_devices": "apply-policy"#"present_devices": "keep"#' "$T/policy-1.json" >"$T/policy-5.json"
policy_apply "$state" "$conf" "$T/policy-5.json" 5
agent_stop
tb set "$U/1-1" authorized 1
mark
agent_start "$state" "$conf"
expect 1-1 start keep present-devices 1
ok "present_devices keep: a device there at start is left as it is (and audited)"
unplug 1-2
plug stick-hid
expect 1-2 add block composite-storage-hid 0
ok "present_devices keep: a device inserted later is decided by the rules"
sed 's#"present_devices": "apply-policy"#"present_devices": "block"#' "$T/policy-1.json" >"$T/policy-6.json"
policy_apply "$state" "$conf" "$T/policy-6.json" 6
agent_stop
mark
agent_start "$state" "$conf"
expect 1-9 start block present-devices 0
expect 1-10.2 start block present-devices 0
ok "present_devices block: even the card reader and keyboard present at start are blocked"
agent_stop
