#!/bin/bash
# With the agent stopped, what it left behind still blocks storage: the
# root hubs' authorized_default=0 (the kernel holds every new device
# unauthorized) and the generated udev rules, which the real udevadm of
# this machine applies to each zoo device as udevd would on a plug-in.
# udevadm runs under umockdev (sysfs of the testbed) in a private mount
# namespace where the generated file is the only rules file, so neither
# the machine's rules nor its devices are touched.  (The real-kernel test
# of the packaging proves the same with udevd and a kernel.)
source "$(dirname "$0")/lib.sh"

unshare -m true 2>/dev/null || { echo "SKIP: needs a private mount namespace (root)"; exit 77; }
zoo=$MG_SOURCE_DIR/tests/data/zoo
U=/sys/devices/pci0000:00/0000:00:14.0/usb1
state=$T/state conf=$T/mynaguard.conf
mkdir -p "$state"
agent_config "$conf"
rules=$T/rules/70-mynaguard.rules

cat >"$T/policy.json" <<'EOF'
{"schema": 1, "description": "agent down",
 "devices": {
  "default": "block", "new_keyboards": "rules",
  "rules": [
   {"id": "card-reader", "match": {"classes": {"one-of": ["smartcard"]}}, "target": "allow"},
   {"id": "stick-0012", "match": {"vendor": "0781", "product": "5583",
     "serial": "4C530000000000000012"}, "target": "read-only"},
   {"id": "input", "match": {"classes": {"one-of": ["keyboard", "mouse"]}}, "target": "allow"},
   {"id": "hubs", "match": {"classes": {"one-of": ["hub"]}}, "target": "allow"},
   {"id": "printer", "match": {"classes": {"one-of": ["printer"]}}, "target": "allow"},
   {"id": "phones", "match": {"classes": {"one-of": ["mtp", "ptp"]}}, "target": "block"}
  ]}}
EOF
policy_keys
policy_apply "$state" "$conf" "$T/policy.json" 1 2>/dev/null

testbed_start
tb load "$zoo/roothub.umockdev"
agent_start "$state" "$conf"
agent_stop
[[ -s $rules ]] || fail "the agent wrote no rules file"
grep -q '"stick-0012"' "$rules" || fail "rules file is not from policy version 1"
ok "the agent wrote the udev rules from the policy in force"
[[ $(sysattr $U authorized_default) == 0 && $(sysattr $U interface_authorized_default) == 0 ]] ||
	fail "root hub defaults are not 0 after the agent stopped"
ok "after the agent stopped the root hub still holds new devices (authorized_default=0)"

# Every zoo device arrives as the kernel shows it with authorized_default=0.
devices=()
for f in stick stick-hid mtp-phone rndis-phone cdc-ecm bluetooth keyboard mouse smartcard hub printer \
	webcam stick-registered; do
	tb load "$zoo/$f.umockdev"
	for p in $(awk '/^P:/{p=$2} /DEVTYPE=usb_device/{print p}' "$zoo/$f.umockdev"); do
		tb set "/sys$p" authorized 0
		devices+=("/sys$p")
	done
done
disk=$(awk '/^P:/{p=$2} /DEVTYPE=disk/{print p}' "$zoo/stick.umockdev")

# One namespace: tmpfs over every rules directory, the generated file alone
# in /etc/udev/rules.d, then `udevadm test` per device.
cat >"$T/in-namespace.sh" <<EOS
set -e
for d in /etc/udev/rules.d /usr/lib/udev/rules.d /lib/udev/rules.d /run/udev/rules.d; do
	[[ -d \$d ]] && mount -t tmpfs mynaguard-test "\$d"
done
cp "$rules" /etc/udev/rules.d/
export UMOCKDEV_DIR=$UMOCKDEV_ROOT LD_PRELOAD=libumockdev-preload.so.0
for dev in ${devices[*]} /sys$disk; do
	udevadm test --action=add "\$dev" >"$T/udev-\${dev##*/}.out" 2>&1
done
EOS
unshare -m bash "$T/in-namespace.sh" || fail "udevadm test failed: $(tail -5 "$T"/udev-*.out)"
! grep -hiE '70-mynaguard\.rules:[0-9]+.*(invalid|unknown|error|failed to parse)' "$T"/udev-*.out ||
	fail "udevd complains about the generated file"
ok "udevadm reads the generated file without a complaint"

# expect NAME MYNAGUARD RULE AUTHORIZED
expect() {
	local out=$T/udev-$1.out got auth
	got=$(sed -n 's/^MYNAGUARD=//p' "$out")" "$(sed -n 's/^MYNAGUARD_RULE=//p' "$out")
	auth=$(sysattr "$(printf '%s\n' "${devices[@]}" | grep "/$1\$")" authorized)
	[[ $got == "$2 $3" && $auth == "$4" ]] ||
		fail "$1: udev says '$got' authorized=$auth, expected '$2 $3' authorized=$4"
}
expect 1-1 block default 0
expect 1-2 block composite-storage-hid 0
expect 1-4 block default 0
# The Ethernet adapter's vendor-specific configuration might be MTP, which
# udev cannot tell: it waits, unauthorized, for the agent.
expect 1-5 wait phones 0
expect 1-6 block default 0
expect 1-14 wait stick-0012 0
ok "storage, BadUSB, tethering, network and bluetooth stay unauthorized without the agent"
[[ $(sysattr "$(printf '%s\n' "${devices[@]}" | grep '/1-3$')" authorized) == 0 ]] || fail "MTP phone authorized"
ok "the MTP phone stays unauthorized (udev cannot read the MTP string: it waits for the agent)"
expect 1-7 allow input 1
expect 1-8 allow input 1
expect 1-9 allow card-reader 1
expect 1-10 allow hubs 1
expect 1-10.2 allow input 1
expect 1-11 allow printer 1
expect 1-10.1 block default 0
ok "keyboard, mouse, card reader, hub and printer work without the agent; the stick behind the hub does not"
grep -q "^MYNAGUARD=read-only" "$T/udev-sdb.out" && grep -q "blockdev --setro" "$T/udev-sdb.out" ||
	fail "a USB disk is not made read-only by udev: $(grep MYNAGUARD "$T/udev-sdb.out")"
ok "a disk on USB starts read-only under udev alone (blockdev --setro)"
