#!/bin/bash
# Chapter: device control.  A terminal's USB bus is simulated with umockdev
# (the real libudev and the agent's real sysfs writes, redirected to a
# testbed); everything else is the product as installed: a signed policy,
# mynaguardd deciding each device, the audit journal, mynaguardctl.
source "$MG_SOURCE_DIR/tests/integration/lib.sh"
d=$DEMO/devices
mkdir -p "$d/bin" "$d/terminal" && cd "$d"
# The testbed driver is a test tool; the demo builds it for itself.
cc -O2 -o "$d/bin/mg_testbed" "$MG_SOURCE_DIR/tests/tools/mg_testbed.c" $(pkg-config --cflags --libs umockdev-1.0)
export PATH="$d/bin:$PATH"
zoo=$MG_SOURCE_DIR/tests/data/zoo
U=/sys/devices/pci0000:00/0000:00:14.0/usb1
conf=$d/terminal.conf state=$d/terminal
ctl() { mynaguardctl --state-dir "$state" --config "$conf" "$@"; }
# plug NAME FILE: a device arrives, held unauthorized by the kernel (its
# add uevent comes with it), and the agent's decision is awaited.
plug() {
	printf '$ # plug in: %s\n' "$(sed -n 's/^- `'"$2"'.umockdev`: //p' "$zoo/README.md" | cut -d. -f1)"
	sed 's/^A: authorized=1$/A: authorized=0/' "$zoo/$2.umockdev" >"$d/$2.umockdev"
	tb load "$d/$2.umockdev"
	wait_for 30 audit_has "$state" "\"event\":\"device.decision\".*\"subject\":\"$1 .*\"trigger\":\"add\""
	printf '$ cat %s/authorized\n%s\n' "$U/$1" "$(sysattr "$U/$1" authorized)"
}

step "Devices: the policy (each rule has an id; anything else is blocked)"
cat >devices-policy.json <<'JSON'
{"schema": 1, "description": "本庁 住民記録系端末: devices",
 "devices": {
  "default": "block",
  "composite_storage_hid": "block",
  "rules": [
   {"id": "card-reader", "match": {"classes": {"one-of": ["smartcard"]}}, "target": "allow"},
   {"id": "stick-0012", "match": {"vendor": "0781", "product": "5583",
     "serial": "4C530000000000000012"}, "target": "read-only"},
   {"id": "input", "match": {"classes": {"one-of": ["keyboard", "mouse"]}}, "target": "allow"},
   {"id": "phones", "match": {"classes": {"one-of": ["mtp", "ptp"]}}, "target": "block"}
  ]}}
JSON
run cat devices-policy.json
agent_config "$conf"
policy_keys
policy_apply "$state" "$conf" devices-policy.json 1 2>/dev/null
run ctl policy show

step "Devices: a terminal with a keyboard and a My Number card reader; mynaguardd starts"
testbed_start
for f in roothub keyboard smartcard; do tb load "$zoo/$f.umockdev"; done
agent_start "$state" "$conf"
run ctl devices
echo "(the agent also closed the root hub: authorized_default=$(sysattr $U authorized_default), so nothing new binds before it decides)"

step "Devices: a USB stick is plugged in: blocked"
plug 1-1 stick
step "Devices: the registered stick: allowed read-only"
plug 1-14 stick-registered
echo "(only its storage interface is authorized.  Its disk would be made read-only with BLKROSET;"
echo " umockdev's /dev/sdc is no real disk, so that fails and the agent fails closed: it removes the disk."
echo " The real-kernel test of the packaging shows the read-only disk.)"
step "Devices: a BadUSB 'stick' that is also a keyboard: blocked whole"
plug 1-2 stick-hid

step "Devices: what the agent decided, and why"
run ctl devices
step "Devices: the audit journal names the device, the decision and the rule"
run ctl audit show -n 6
run ctl audit verify

step "Self-inspection (§7 監査・自己点検): what the auditor runs on this terminal"
# The terminal's PAM files as pam-auth-update leaves them with the mynaguard
# profile enabled for login and LightDM, but a screen locker that bypasses
# common-auth, and one member of staff without a token: inspect must say so.
mkdir -p "$d/root/etc/pam.d"
printf 'auth\trequired\tpam_unix.so\nauth\trequired\tpam_mynaguard.so\n' >"$d/root/etc/pam.d/common-auth"
printf '@include common-auth\n' >"$d/root/etc/pam.d/login"
printf '@include common-auth\n' >"$d/root/etc/pam.d/lightdm"
printf 'auth required pam_unix.so\n' >"$d/root/etc/pam.d/xscreensaver"
printf 'root:x:0:0:root:/root:/bin/bash\ntanaka:x:1000:1000:田中:/home/tanaka:/bin/bash\nsuzuki:x:1001:1001:鈴木:/home/suzuki:/bin/bash\n' \
	>"$d/root/etc/passwd"
ctl otp enroll tanaka --secret JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP --store "$state/otp" \
	--hostkey "$d/otp.key" >/dev/null
inspect() { ctl inspect --root "$d/root" --sysfs-root "$UMOCKDEV_ROOT/sys" --otp-store "$state/otp" \
	--hostkey "$d/otp.key" "$@"; }
printf '$ LANG=ja_JP.UTF-8 mynaguardctl inspect\n'
(unset LC_ALL LC_MESSAGES; LANG=ja_JP.UTF-8 inspect) || echo "(exit $?: a control is off, so fleet tooling can act on it)"

step "Devices: with the agent stopped, the generated udev rules still hold the ports"
agent_stop
run grep -A2 'rules\[1\]' "$T/rules/70-mynaguard.rules"
run tail -4 "$T/rules/70-mynaguard.rules"
