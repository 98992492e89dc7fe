#!/bin/bash
# mynaguardctl inspect reports every control in force on a terminal made of
# real parts (the agent under umockdev, a signed policy, its generated udev
# rules, Debian-style PAM files, an OTP store, the journal), exits 0, and
# then names each control that is switched off, one at a time, and exits 1.
source "$(dirname "$0")/lib.sh"

zoo=$MG_SOURCE_DIR/tests/data/zoo
hub=/sys/devices/pci0000:00/0000:00:14.0/usb1
state=$T/state conf=$T/mynaguard.conf root=$T/root key=$T/etc/otp.key
mkdir -p "$state" "$root/etc/pam.d" "$T/etc"
agent_config "$conf"

testbed_start
tb load "$zoo/roothub.umockdev"
tb load "$zoo/keyboard.umockdev"
sys=$UMOCKDEV_ROOT/sys
mkdir -p "$sys/module/usbcore/parameters"
echo 0 >"$sys/module/usbcore/parameters/authorized_default"

cat >"$T/policy.json" <<'EOF'
{"schema": 1, "description": "inspect",
 "devices": {"default": "block",
  "rules": [{"id": "input", "match": {"classes": {"one-of": ["keyboard", "mouse"]}}, "target": "allow"},
            {"id": "hubs", "match": {"classes": {"one-of": ["hub"]}}, "target": "allow"}]}}
EOF
policy_keys
policy_apply "$state" "$conf" "$T/policy.json" 3

# Debian's layout after pam-auth-update enabled the mynaguard profile.
cat >"$root/etc/pam.d/common-auth" <<'EOF'
auth	[success=1 default=ignore]	pam_unix.so nullok
auth	requisite			pam_deny.so
auth	required			pam_permit.so
auth	required			pam_mynaguard.so
EOF
printf 'auth optional pam_faildelay.so delay=3000000\n@include common-auth\n' >"$root/etc/pam.d/login"
printf '@include common-auth\n-auth optional pam_gnome_keyring.so\n' >"$root/etc/pam.d/lightdm"
printf 'auth include common-auth\n' >"$root/etc/pam.d/xfce4-screensaver"
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/bash
_apt:x:42:65534::/nonexistent:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
alice:x:1000:1000:Alice:/home/alice:/bin/bash
kiosk:x:1001:1001::/home/kiosk:/bin/false
EOF
ctl() { mynaguardctl --state-dir "$state" --config "$conf" "$@"; }
ctl otp enroll alice --secret JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP --store "$state/otp" --hostkey "$key" >/dev/null

agent_start "$state" "$conf"
inspect() { ctl inspect --root "$root" --sysfs-root "$sys" --otp-store "$state/otp" --hostkey "$key" "$@"; }
# state_of ID: "true" or "false" from the JSON report in $T/out.
state_of() { python3 -c 'import json,sys; print(str({c["id"]: c["in_force"] for c in json.load(open(sys.argv[1]))["checks"]}[sys.argv[2]]).lower())' "$T/out" "$1"; }
# expect_off ID PATTERN: inspect exits 1, ID is off, and its line says PATTERN.
expect_off() {
	expect_exit 1 inspect --json
	[[ $(state_of "$1") == false ]] || { cat "$T/out" >&2; fail "$1 not reported off"; }
	expect_exit 1 inspect
	expect_grep "$2" "$T/out"
}

wait_for 30 test "$(cat "$sys/bus/usb/devices/usb1/interface_authorized_default")" = 0
expect_exit 0 inspect
expect_grep "All 9 controls are in force." "$T/out"
expect_grep "version 3 for test" "$T/out"
expect_grep "pam_mynaguard.so enforces in the auth stacks of login, lightdm, xfce4-screensaver" "$T/out"
expect_grep "all 1 users with a login shell" "$T/out"
expect_grep "1 present: 1-7 046d:c31c allow (input)" "$T/out"
ok "every control in force: exit 0, policy v3, PAM stacks, OTP coverage, devices"

expect_exit 0 inspect --json
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["all_in_force"] and len(r["checks"]) == 9, r' "$T/out"
LANG=ja_JP.UTF-8 expect_exit 0 inspect
expect_grep "全 9 項目が有効です" "$T/out"
expect_grep "署名付きポリシー" "$T/out"
ok "--json for fleet tooling; Japanese by LANG"

cp "$root/etc/pam.d/login" "$T/login.good"
printf 'auth sufficient pam_unix.so\n@include common-auth\n' >"$root/etc/pam.d/login"
expect_off pam "login: login:1: pam_unix.so (sufficient) can end the stack before pam_mynaguard.so"
cp "$T/login.good" "$root/etc/pam.d/login"
printf 'auth required pam_unix.so\n' >"$root/etc/pam.d/xfce4-screensaver"
expect_off pam "xfce4-screensaver: pam_mynaguard.so is not in the stack"
printf 'auth include common-auth\n' >"$root/etc/pam.d/xfce4-screensaver"
ok "a PAM stack that can be passed without the module is named"

echo 'bob:x:1002:1002::/home/bob:/bin/bash' >>"$root/etc/passwd"
expect_off otp-coverage "1 of 2 users with a login shell have no active token (first: bob)"
sed -i '/^bob:/d' "$root/etc/passwd"
ok "a user without a token is named"

rules=$T/rules/70-mynaguard.rules
cp "$rules" "$T/rules.good"
echo 'SUBSYSTEM=="usb", ATTR{authorized}="1"' >>"$rules"
expect_off udev-rules "differs from the rules of the policy in force"
cp "$T/rules.good" "$rules"
ok "udev rules that are not the policy's are reported"

tb set "$hub" interface_authorized_default 1
expect_off usb-controllers "usb1: authorized_default=0 interface_authorized_default=1"
tb set "$hub" interface_authorized_default 0
echo -1 >"$sys/module/usbcore/parameters/authorized_default"
expect_off usb-controllers "usbcore.authorized_default is -1"
echo 0 >"$sys/module/usbcore/parameters/authorized_default"
ok "an open root hub or kernel default is reported"

expect_exit 0 inspect
ok "back in force once restored"

agent_stop
expect_off agent "the agent is not running"
expect_exit 1 inspect --json
[[ $(state_of devices) == false ]] || fail "devices reported without the agent"
ok "a stopped agent is reported (and devices cannot be listed)"

mv "$state/bundle" "$T/bundle.away"
expect_off policy "built-in defaults in force"
mv "$T/bundle.away" "$state/bundle"
ok "no bundle in force is reported"

sed -i '1s/"seq":1/"seq":9/' "$state"/audit/audit*.log
expect_off audit "seq"
ok "an edited audit record is reported"
