#!/bin/bash
# The generated udev rules, run by the real udev (systemd's udevadm test,
# which parses every rules file and applies them to one device) against
# every device of the zoo in a umockdev testbed: no line is rejected, each
# device gets what the policy engine decides, the rules alone (no agent)
# keep every storage device unauthorized, and disks and media that are not
# allowed are read-only from their first event.
#
# udevadm test reads the rules directories and writes its database under
# /run/udev, so it runs in a private mount namespace with tmpfs over
# those: the host's udev is neither read nor touched.
source "$(dirname "$0")/lib.sh"

[[ $(id -u) == 0 ]] || { echo "SKIP: needs root for a private mount namespace"; exit 77; }
command -v udevadm >/dev/null && command -v umockdev-run >/dev/null || { echo "SKIP: udev or umockdev missing"; exit 77; }
[[ -d /etc/udev/rules.d && -d /usr/lib/udev/rules.d ]] || { echo "SKIP: no udev rules directories"; exit 77; }

POLICY="$MG_SOURCE_DIR/tests/data/devices/policy.json"
# umockdev-run preloads its library ahead of the sanitizer runtime.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
ZOO="$MG_SOURCE_DIR/tests/data/zoo"
mg_devices udev-rules "$POLICY" >"$T/70-mynaguard.rules"
ok "rules generated from $(basename "$POLICY")"

# name  udev's action  udev's rule  (the engine's decision is compared below)
cat >"$T/expect" <<'LIST'
1-1 block default
1-14 wait stick-0012
1-2 block default
1-3 wait phones
1-4 wait phones
1-5 wait phones
1-6 block default
1-7 allow keyboard-k120
1-8 wait new-keyboard
1-9 allow card-reader
1-10 allow hubs
1-10/1-10.1 block default
1-10/1-10.2 block default
1-11 block default
1-12 wait webcam
LIST

# Runs inside the namespace and the testbed: one udevadm test per device,
# printing "NAME ACTION RULE AUTHORIZED ENGINE-TARGET ENGINE-RULE".
cat >"$T/inside.sh" <<'INSIDE'
set -euo pipefail
bus=/sys/devices/pci0000:00/0000:00:14.0/usb1
while read -r name _ _; do
	udevadm test --action=add "$bus/$name" >"$T/test.out" 2>"$T/test.err" || { cat "$T/test.err"; exit 1; }
	# A rules file that does not parse is reported without a device prefix.
	if grep -E '^/etc/udev/rules.d/70-mynaguard.rules:[0-9]+' "$T/test.err"; then exit 3; fi
	action=$(sed -n 's/^MYNAGUARD=//p' "$T/test.out")
	rule=$(sed -n 's/^MYNAGUARD_RULE=//p' "$T/test.out")
	engine=$(mg_devices decide /sys "devices/pci0000:00/0000:00:14.0/usb1/$name" "$POLICY")
	echo "$name ${action:-none} ${rule:-none} $(cat "$bus/$name/authorized") $engine"
done <"$T/expect"
# Block devices: "NAME RULE RUN".
for blk in sdb sdb1 mmcblk0 sr0; do
	udevadm test --action=add "/sys/class/block/$blk" >"$T/test.out" 2>"$T/test.err"
	if grep -E '^/etc/udev/rules.d/70-mynaguard.rules:[0-9]+' "$T/test.err"; then exit 3; fi
	echo "block-$blk $(sed -n 's/^MYNAGUARD_RULE=//p' "$T/test.out") $(cat "$T/test.out" "$T/test.err" | sed -n "s/^run: '\(.*\)'$/\1/p" | tr ' ' '+')"
done
# Optical drives keep their modes on every event, a new disc included.
for node in block/sr0 scsi_generic/sg1; do
	udevadm test --action=change "/sys/class/$node" >"$T/test.out" 2>&1
	echo "mode-${node#*/} $(sed -n 's/.*70-mynaguard.rules:[0-9]* MODE \([0-7]*\)$/\1/p' "$T/test.out")"
done
# The interfaces of a device udev allowed are authorized through its db entry.
echo 0 >"$bus/1-7/1-7:1.0/authorized"
udevadm test --action=add "$bus/1-7/1-7:1.0" >/dev/null 2>&1
echo "iface-1-7:1.0 $(cat "$bus/1-7/1-7:1.0/authorized")"
echo 1 >"$bus/1-1/1-1:1.0/authorized"
udevadm test --action=add "$bus/1-1/1-1:1.0" >/dev/null 2>&1
echo "iface-1-1:1.0 $(cat "$bus/1-1/1-1:1.0/authorized")"
INSIDE

zoo_args=(-d "$ZOO/roothub.umockdev")
for f in stick stick-registered stick-hid mtp-phone rndis-phone cdc-ecm bluetooth keyboard mouse smartcard hub printer webcam \
	sd-reader optical; do
	zoo_args+=(-d "$ZOO/$f.umockdev")
done
export T POLICY
unshare -m bash -c '
	set -e
	mount --make-rprivate /
	mount -t tmpfs none /run
	mkdir -p /run/udev/rules.d /run/udev/data
	mount -t tmpfs none /etc/udev/rules.d
	mount -t tmpfs none /usr/lib/udev/rules.d
	cp "$T/70-mynaguard.rules" /etc/udev/rules.d/
	exec umockdev-run "$@" -- bash "$T/inside.sh"' _ "${zoo_args[@]}" >"$T/results" 2>"$T/err" ||
	{ cat "$T/results" "$T/err" >&2; fail "udevadm test failed or reported a bad line"; }
ok "udevadm test parsed the rules for $(wc -l <"$T/expect") devices without a complaint"

while read -r name action rule; do
	read -r _ got_action got_rule authorized target engine_rule < <(grep "^$name " "$T/results")
	[[ "$got_action $got_rule" == "$action $rule" ]] || fail "$name: udev did $got_action by $got_rule, expected $action by $rule"
	case $action in
	allow) [[ $authorized == 1 && $target == allow && $engine_rule == "$rule" ]] ||
		fail "$name: udev allowed by $rule, engine says $target by $engine_rule" ;;
	block) [[ $authorized == 0 && $target == block && $engine_rule == "$rule" ]] ||
		fail "$name: udev blocked by $rule, engine says $target by $engine_rule" ;;
	wait) [[ $authorized == 0 ]] || fail "$name: left authorized while waiting for the agent" ;;
	esac
	ok "$name: udev $action ($rule), authorized=$authorized, engine $target ($engine_rule)"
done <"$T/expect"

for name in 1-1 1-14 1-2 1-10/1-10.1; do
	grep -q "^$name [a-z]* [^ ]* 0 " "$T/results" || fail "$name: storage authorized without the agent"
done
ok "without the agent every stick stays unauthorized"
expect_grep "block-sdb usb-storage /usr/sbin/blockdev+--setro+/dev/sdb$" "$T/results"
expect_grep "block-sdb1 usb-storage /usr/sbin/blockdev+--setro+/dev/sdb1$" "$T/results"
expect_grep "block-mmcblk0 media.sd /usr/sbin/blockdev+--setro+/dev/mmcblk0$" "$T/results"
expect_grep "block-sr0 media.optical /usr/sbin/blockdev+--setro+/dev/sr0$" "$T/results"
ok "every disk on USB, the SD card and the optical drive are made read-only before anyone can mount them"
expect_grep "mode-sr0 0440" "$T/results"
expect_grep "mode-sg1 0600" "$T/results"
ok "the optical drive can be read by the cdrom group but not written or burned through, also after a change event"
expect_grep "iface-1-7:1.0 1" "$T/results"
expect_grep "iface-1-1:1.0 1" "$T/results"
ok "interfaces of an allowed device are authorized; others are left to the agent"
