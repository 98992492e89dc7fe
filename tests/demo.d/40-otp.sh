#!/bin/bash
# Chapter: TOTP as the second factor.  A member of staff's hardware token
# is enrolled, she logs in with a code through a real PAM stack
# (pam_wrapper + pamtester), the same code is refused when replayed, wrong
# codes lock the account under the signed policy, and the audit journal
# shows every step (never a code).
set -euo pipefail
d=$DEMO/otp
mkdir -p "$d/etc" "$d/state" "$d/pam.d" && cd "$d"
ctl() { mynaguardctl --state-dir "$d/state" --config "$d/etc/mynaguard.conf" "$@"; }
otp() { ctl otp "$@" --store "$d/state/otp" --hostkey "$d/etc/otp.key"; }
module=$MG_BUILD_DIR/pam_module/pam_mynaguard.so
opts="store=$d/state/otp hostkey=$d/etc/otp.key statedir=$d/state config=$d/etc/mynaguard.conf"
login() { # USER CODE: pamtester through pam_wrapper, with the service file below
	printf '$ echo %s | pamtester login-otp %s authenticate acct_mgmt\n' "$2" "$1"
	echo "$2" | PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$d/pam.d" LD_PRELOAD=libpam_wrapper.so \
		pamtester login-otp "$1" authenticate acct_mgmt 2>&1 | grep -v PWRAP || true
}

step "OTP: the terminal's policy (signed) sets the lockout: 3 failures, 10 minutes"
echo "group = madoguchi" >etc/mynaguard.conf
(mynaguard-admin keygen --no-passphrase root && mynaguard-admin keygen --no-passphrase policy &&
	mynaguard-admin keyring create --root root.pub --root-threshold 1 --policy policy.pub \
		--policy-threshold 1 --sign root.key -o keyring) >/dev/null
cat >policy.json <<'JSON'
{"schema": 1, "description": "窓口端末", "otp": {"max_failures": 3, "lockout_seconds": 600,
 "delay": 0, "issuer": "前橋市"}}
JSON
run cat policy.json
mynaguard-admin sign --key policy.key --version 1 --expires 2099-01-01T00:00:00Z --target madoguchi \
	-o otp.bundle policy.json >/dev/null
ctl keyring pin keyring >/dev/null
run ctl policy apply otp.bundle

step "OTP: enroll Tanaka's hardware token (its seed comes with it) and show the PAM stack"
seed=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
printf '$ echo %s | mynaguardctl otp enroll tanaka --secret -\n' "$seed"
echo "$seed" | otp enroll tanaka --secret -
printf 'auth required %s %s\naccount required %s %s\n' "$module" "$opts" "$module" "$opts" \
	>pam.d/login-otp
run cat pam.d/login-otp
run otp status tanaka
run ls -l state/otp

step "OTP: Tanaka logs in with the code her token shows (oathtool plays the token)"
code=$(oathtool --totp -b "$seed")
login tanaka "$code"

step "OTP: someone who saw that code tries it again: refused as a replay"
login tanaka "$code"

step "OTP: three wrong codes lock the account; then even the right code is refused"
for wrong in 111111 222222 333333; do login tanaka $wrong; done
login tanaka "$(oathtool --totp -b "$seed" -N "now + 30 seconds")"
run otp status tanaka

step "OTP: the administrator unlocks; the audit journal has every attempt, never a code"
run otp unlock tanaka
run ctl audit show -n 8
run ctl audit verify
