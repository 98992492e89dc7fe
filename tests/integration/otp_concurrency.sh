#!/bin/bash
# The store holds under parallel logins: in OTP_TRIALS (1,000) trials of 2
# to 50 simultaneous logins with the same valid code exactly one succeeds;
# 20 parallel wrong codes raise the failure count by exactly 20; two users
# logging in at once never disturb each other, and one user's held lock
# never holds up another; a lock or temp file left by a killed login does
# not block the next.  Logins are separate processes started through
# pam_start_confdir and released together.
source "$(dirname "$0")/lib.sh"
otp_setup
SA=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
SB=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
otp_ctl enroll alice --secret "$SA" >/dev/null
otp_ctl enroll bob --secret "$SB" >/dev/null
trials=${OTP_TRIALS:-1000}
# The sanitizer build checks the same code paths for memory errors with 300
# trials (about 7,700 logins) to spare CI time; the release
# build runs the full 1,000.
[[ -z $(otp_asan_preload) ]] || trials=${OTP_TRIALS:-300}
t0=1900000000

otp_pam_login race "$T/pam.d" otp alice "$SA" "$trials" 2 50 $t0 >"$T/race" 2>"$T/race.err" ||
	{ cat "$T/race" "$T/race.err"; fail "a trial did not have exactly one success"; }
cat "$T/race"
expect_grep "trials $trials .* double_accepts 0 no_accepts 0" "$T/race"
[[ $(otp_audit_count otp.accept) == "$trials" ]] || fail "expected $trials otp.accept records"
ok "$(cat "$T/race"): exactly one success per trial"

t=$((t0 + 30 * trials + 300))
MYNAGUARD_FAKE_TIME=$t otp_pam_login parallel "$T/pam.d" otp $(for i in $(seq 20); do echo alice:000000; done) >"$T/out"
expect_grep "accepted 0 rejected 20" "$T/out"
MYNAGUARD_FAKE_TIME=$t otp_ctl status alice >"$T/out"
grep -q "failures: 20" "$T/out" || { grep otp.error "$OTP_STATE"/audit/audit.log; fail "$(grep failures "$T/out")"; }
ok "20 parallel wrong codes raise the failure count by exactly 20"
otp_ctl unlock alice >/dev/null

for i in $(seq 20); do
	t=$((t + 30))
	MYNAGUARD_FAKE_TIME=$t otp_pam_login parallel "$T/pam.d" otp \
		"alice:$(otp_code "$SA" $t)" "bob:$(otp_code "$SB" $t)" >"$T/out"
	expect_grep "accepted 2 rejected 0" "$T/out"
done
ok "alice and bob logging in at the same moment: 20 of 20 rounds both succeed"

# bob's lock held by a stuck process: alice's login does not wait on it
# (the lock wait would time out and deny).
(exec 9>"$OTP_STORE/.lock-bob" && flock 9 && exec sleep 60) &
holder=$!
while flock -n "$OTP_STORE/.lock-bob" true; do sleep 0.1; done    # until it holds the lock
at_exit "kill $holder 2>/dev/null"
t=$((t + 30))
expect_exit 0 otp_login alice "$(otp_code "$SA" $t)" MYNAGUARD_FAKE_TIME=$t
ok "alice logs in while bob's lock is held"

# A login killed while holding bob's lock, and a temp file it left behind.
kill -9 $holder
wait $holder 2>/dev/null || true
touch "$OTP_STORE/.bob.tmp-deadbeef"
chmod 600 "$OTP_STORE/.bob.tmp-deadbeef"
expect_exit 0 otp_login bob "$(otp_code "$SB" $t)" MYNAGUARD_FAKE_TIME=$t
[[ ! -e $OTP_STORE/.bob.tmp-deadbeef ]] || fail "the leftover temp file was not swept"
ok "a killed lock holder and its temp file block nothing; the temp file is swept"
mynaguardctl --state-dir "$OTP_STATE" audit verify >/dev/null
ok "the audit journal verifies after $(otp_audit_count 'otp\.[a-z_]*') OTP records"
