#!/bin/bash
# The screen-locker path, as a user who is not root: pam_mynaguard.so running
# as "nobody" asks the setuid helper mynaguard-otp-check, which checks only
# the calling user's code under the same lock, replay floor and lockout,
# ignores the caller's environment, and refuses to check anyone else.
source "$(dirname "$0")/lib.sh"
otp_setup
chmod 755 "$T"                       # nobody must reach the files below
S=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
otp_ctl enroll nobody --secret "$S" >/dev/null
otp_ctl enroll alice --secret "$S" >/dev/null

# The helper, installed setuid root with its configuration beside it.
mkdir -m 755 "$T/bin"
install -m 4755 -o root "$MG_BUILD_DIR/pam_module/mynaguard-otp-check" "$T/bin/"
HELPER=$T/bin/mynaguard-otp-check
printf 'store = %s\nhostkey = %s\nstatedir = %s\nconfig = %s\n' \
	"$OTP_STORE" "$OTP_KEY" "$OTP_STATE" "$OTP_CONFIG" >"$HELPER.conf"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
as_nobody true || { echo "skip: cannot switch to nobody here"; exit 77; }
if findmnt -n -o OPTIONS -T "$T" | grep -qw nosuid; then
	echo "skip: $T is on a nosuid mount, a setuid helper cannot run there"
	exit 77
fi

# The helper ignores MYNAGUARD_FAKE_TIME, so these checks use the real
# clock: codes of steps B-1, B and B+1 (all inside the window of ±1), where
# B is the step now, started early in a step so that B lasts a while.
while (( $(date +%s) % 30 >= 15 )); do sleep 1; done
B=$(( $(date +%s) / 30 ))
code_of() { otp_code "$S" $(( ($1) * 30 )); }
code=$(code_of B-1)
echo "$code" | as_nobody "$HELPER" nobody >"$T/out" || fail "helper refused a fresh code: $(cat "$T/out")"
expect_grep "^accept 0 0 0 0$" "$T/out"
ok "helper, as nobody: a fresh code of the calling user is accepted"
expect_exit 1 as_nobody sh -c "echo $code | $HELPER nobody"
expect_grep "^replay " "$T/out"
ok "helper: the same code again is a replay"

expect_exit 2 as_nobody sh -c "echo $code | $HELPER alice"
expect_grep "only the calling user's code is checked" "$T/err"
otp_ctl status alice >"$T/out"
expect_grep "failures: 0" "$T/out"
ok "helper: nobody cannot have alice's code checked (refused before any look-up)"

future=$(( $(date +%s) + 3000 ))
expect_exit 1 as_nobody env MYNAGUARD_FAKE_TIME=$future sh -c "echo $(otp_code "$S" $future) | $HELPER nobody"
expect_grep "^reject " "$T/out"
ok "helper: the caller's MYNAGUARD_FAKE_TIME is ignored (its environment is dropped)"
otp_ctl unlock nobody >/dev/null

# Limits are inherited too: with a file-size limit of 0 every write of the
# state file would fail, and failures would go uncounted.  Root lifts the
# limit where it holds CAP_SYS_RESOURCE (bit 24); in a container without
# it the helper must refuse to check at all.
as_nobody sh -c "ulimit -f 0; echo 000000 | $HELPER nobody 2>&1" | cat >"$T/out" || true
otp_ctl status nobody >"$T/status"
if (( 0x$(awk '/^CapBnd/ {print $2}' /proc/self/status) >> 24 & 1 )); then
	expect_grep "^reject 1 " "$T/out"
	expect_grep "failures: 1" "$T/status"
	ok "helper: a caller's file-size limit of 0 does not stop a failure being counted"
else
	expect_grep "cannot lift the caller's file-size limit" "$T/out"
	grep -q "^reject\|^accept" "$T/out" && fail "a verdict was given under the caller's limit"
	expect_grep "failures: 0" "$T/status"
	ok "helper: under a file-size limit it cannot lift, it checks nothing and says why"
fi
otp_ctl unlock nobody >/dev/null

# Through PAM: the module, not root, goes through the helper.
{
	printf 'auth required %s helper=%s\n' "$OTP_MODULE" "$HELPER"
	echo "account required pam_permit.so"
} >"$T/pam.d/locker"
pre=$(otp_asan_preload)
locker() { as_nobody env ${pre:+LD_PRELOAD=$pre} ASAN_OPTIONS=detect_leaks=0 \
	MG_LOCALEDIR="$MG_BUILD_DIR/locale" "$@"; }
code=$(code_of B)
expect_exit 0 locker otp_pam_login once "$T/pam.d" locker nobody "$code"
expect_exit 1 locker otp_pam_login once "$T/pam.d" locker nobody "$code"
expect_grep "already been used" "$T/out"
ok "pam_mynaguard.so as nobody: accepted once through the helper, then a replay"

expect_exit 1 locker otp_pam_login once "$T/pam.d" locker alice "$code"
expect_grep "cannot be checked now" "$T/out"
ok "pam_mynaguard.so as nobody: unlocking alice's screen is refused"

# The same lockout: 3 failures (policy) lock, and the next right code is refused.
policy_keys
echo '{"schema": 1, "otp": {"max_failures": 3, "delay": 0}}' >"$T/policy.json"
policy_apply "$OTP_STATE" "$OTP_CONFIG" "$T/policy.json" 1
for i in 1 2 3; do expect_exit 1 locker otp_pam_login once "$T/pam.d" locker nobody 000000; done
expect_exit 1 locker env LANGUAGE=ja LC_ALL=C.UTF-8 otp_pam_login once "$T/pam.d" locker nobody \
	"$(code_of B+1)"
expect_grep "あと10分間ロックされています" "$T/out"
ok "the helper applies the lockout of the policy in force (notice in Japanese)"
grep '"event":"otp.locked"' "$OTP_STATE"/audit/audit.log | grep -q '"service":"mynaguard-otp-check"' ||
	fail "no otp.locked record from the helper"
ok "the helper writes the audit records"

chmod 666 "$HELPER.conf"
expect_exit 2 as_nobody sh -c "echo 123456 | $HELPER nobody"
expect_grep "writable by others" "$T/err"
chmod 644 "$HELPER.conf"
cp "$HELPER" "$T/bin/not-setuid"
chmod 755 "$T/bin/not-setuid"
expect_exit 2 as_nobody sh -c "echo 123456 | $T/bin/not-setuid nobody"
expect_grep "not running as root" "$T/err"
ok "a configuration others may write, or a helper without setuid: refused"
