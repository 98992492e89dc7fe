#!/bin/bash
# pam_mynaguard.so in real PAM stacks (pam_wrapper + pamtester, and
# Linux-PAM's pam_start_confdir): a code logs in once, its replay and wrong
# codes are refused, failures lock the account for auth and account, the
# stacking options work, and no code ever reaches the audit journal.
source "$(dirname "$0")/lib.sh"
otp_setup
S=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
otp_ctl enroll alice --secret "$S" >/dev/null
now=$(date +%s)
used=()

c=$(otp_code "$S" "$now"); used+=("$c")
otp_pamtester alice "$c" >"$T/out" || fail "a fresh code was refused: $(cat "$T/out")"
expect_grep "successfully authenticated" "$T/out"
ok "pamtester under pam_wrapper: a fresh code logs in"

! otp_pamtester alice "$c" >"$T/out" || fail "a replayed code was accepted"
expect_grep "already been used" "$T/out"
ok "the same code is refused on replay"

# Later steps through pam_start_confdir with a pinned clock.
t=$((now + 300))
c=$(otp_code "$S" "$t"); used+=("$c")
expect_exit 1 otp_login alice 000000 MYNAGUARD_FAKE_TIME=$t
expect_grep "result: Authentication failure" "$T/out"
expect_exit 0 otp_login alice "$c" MYNAGUARD_FAKE_TIME=$t
ok "a wrong code fails, the right one then passes (account phase included)"

c=$(otp_code "$S" $((t + 60))); used+=("$c")
expect_exit 1 otp_login alice "$c" MYNAGUARD_FAKE_TIME=$t
c=$(otp_code "$S" $((t + 30))); used+=("$c")
expect_exit 0 otp_login alice "$c" MYNAGUARD_FAKE_TIME=$t
ok "a code two steps ahead is outside the default window of ±1; one step ahead is inside"

# The policy in force (signed) sets the lockout: 3 failures, 120 s.
policy_keys
cat >"$T/policy.json" <<'JSON'
{"schema": 1, "otp": {"max_failures": 3, "lockout_seconds": 120, "delay": 2}}
JSON
policy_apply "$OTP_STATE" "$OTP_CONFIG" "$T/policy.json" 1
t=$((t + 600))
for i in 1 2 3; do expect_exit 1 otp_login alice 999999 MYNAGUARD_FAKE_TIME=$t; done
expect_grep "delay: [0-9]" "$T/out"
c=$(otp_code "$S" "$t"); used+=("$c")
expect_exit 1 otp_login alice "$c" MYNAGUARD_FAKE_TIME=$t
expect_grep "locked for 2 more minutes" "$T/out"
ok "3 failures (policy max_failures 3) lock the account: the right code is refused"
pre=$(otp_asan_preload)
PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/pam.d" LD_PRELOAD="${pre:+$pre:}libpam_wrapper.so" \
	ASAN_OPTIONS=detect_leaks=0 MYNAGUARD_FAKE_TIME=$t pamtester otp alice acct_mgmt >"$T/out" 2>&1 && fail "account passed while locked"
expect_grep "locked for 2 more minutes" "$T/out"
ok "the account phase reports the lockout"
MYNAGUARD_FAKE_TIME=$t otp_ctl status alice >"$T/out"
expect_grep "locked: yes, 120 s left" "$T/out"
expect_grep "failures: 4" "$T/out"
t=$((t + 121))
c=$(otp_code "$S" "$t"); used+=("$c")
expect_exit 0 otp_login alice "$c" MYNAGUARD_FAKE_TIME=$t
ok "after lockout_seconds the account opens again"

t=$((t + 300))
for i in 1 2 3; do expect_exit 1 otp_login alice 999999 MYNAGUARD_FAKE_TIME=$t; done
otp_ctl unlock alice >/dev/null
c=$(otp_code "$S" "$t"); used+=("$c")
expect_exit 0 otp_login alice "$c" MYNAGUARD_FAKE_TIME=$t
ok "otp unlock opens a locked account at once"

# Not enrolled: denied; with nullok the next module decides.
expect_exit 1 otp_login bob 123456
expect_grep "No one-time password token is enrolled" "$T/out"
sed 's|statedir=|nullok statedir=|' "$T/pam.d/otp" >"$T/pam.d/otp-nullok"
echo "auth required pam_permit.so" >>"$T/pam.d/otp-nullok"
expect_exit 0 otp_pam_login once "$T/pam.d" otp-nullok bob 123456
if grep -q prompt "$T/out"; then fail "nullok prompted a user without a token"; fi
ok "no token: denied, unless nullok (then not even prompted)"

printf 'auth required %s %s bogus_option\n' "$OTP_MODULE" "$OTP_OPTS" >"$T/pam.d/otp-typo"
expect_exit 1 otp_pam_login once "$T/pam.d" otp-typo alice 123456
ok "an unknown module option fails the stack"

# forward_pass then use_first_pass: "PASSWORD+CODE" is split; the first
# module checks the code, the next gets the rest as PAM_AUTHTOK (here bob's
# code in a second store, checked by a use_first_pass line).
mkdir -p "$T/store2"
chmod 700 "$T/store2"
S2=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
mynaguardctl --state-dir "$OTP_STATE" --config "$OTP_CONFIG" otp enroll bob --secret "$S2" \
	--store "$T/store2" --hostkey "$OTP_KEY" >/dev/null
mynaguardctl --state-dir "$OTP_STATE" --config "$OTP_CONFIG" otp enroll bob --secret "$S" >/dev/null \
	--store "$OTP_STORE" --hostkey "$OTP_KEY"
{
	printf 'auth required %s %s forward_pass\n' "$OTP_MODULE" "$OTP_OPTS"
	printf 'auth required %s %s use_first_pass\n' "$OTP_MODULE" "${OTP_OPTS/store=$OTP_STORE/store=$T/store2}"
	echo "account required pam_permit.so"
} >"$T/pam.d/otp-forward"
t=$((t + 300))
c1=$(otp_code "$S" "$t") c2=$(otp_code "$S2" "$t"); used+=("$c1" "$c2")
expect_exit 0 env MYNAGUARD_FAKE_TIME=$t otp_pam_login once "$T/pam.d" otp-forward bob "$c2$c1"
expect_grep "prompt: Password & one-time password:" "$T/out"
expect_exit 1 env MYNAGUARD_FAKE_TIME=$((t + 30)) otp_pam_login once "$T/pam.d" otp-forward bob \
	"000000$(otp_code "$S" $((t + 30)))"
ok "forward_pass passes the password part on; use_first_pass checks it without a prompt"

# try_first_pass after a password module: a password is not taken for a
# code (no failure counted), the module prompts instead; a code is used.
{
	printf 'auth required %s %s forward_pass\n' "$OTP_MODULE" "${OTP_OPTS/store=$OTP_STORE/store=$T/store2}"
	printf 'auth required %s %s try_first_pass\n' "$OTP_MODULE" "$OTP_OPTS"
	echo "account required pam_permit.so"
} >"$T/pam.d/otp-try"
t=$((t + 300))
c1=$(otp_code "$S" "$t") c2=$(otp_code "$S2" "$t"); used+=("$c1" "$c2")
expect_exit 0 env MYNAGUARD_FAKE_TIME=$t otp_pam_login once "$T/pam.d" otp-try bob "hunter2$c2
$c1"
[[ $(grep -c "^prompt:" "$T/out") == 2 ]] || fail "expected a second prompt: $(cat "$T/out")"
MYNAGUARD_FAKE_TIME=$t otp_ctl status bob >"$T/status"
expect_grep "failures: 0" "$T/status"
t=$((t + 300))
c1=$(otp_code "$S" "$t") c2=$(otp_code "$S2" "$t"); used+=("$c1" "$c2")
expect_exit 0 env MYNAGUARD_FAKE_TIME=$t otp_pam_login once "$T/pam.d" otp-try bob "$c1$c2"
[[ $(grep -c "^prompt:" "$T/out") == 1 ]] || fail "a code in PAM_AUTHTOK should not prompt again"
ok "try_first_pass: a password from an earlier module is not taken for a code; a code is"

# Recovery codes: single use, through PAM.
otp_ctl recovery alice >"$T/out"
rc=$(grep -o '[a-z2-7]\{4\}-[a-z2-7]\{4\}-[a-z2-7]\{4\}-[a-z2-7]\{4\}' "$T/out" | head -1)
[[ -n $rc ]] || fail "no recovery code printed"
expect_exit 0 otp_login alice "$rc" MYNAGUARD_FAKE_TIME=$t
expect_grep "Recovery code accepted; 9 codes are left" "$T/out"
expect_exit 1 otp_login alice "$rc" MYNAGUARD_FAKE_TIME=$t
ok "a recovery code logs in once"

# The pam_syslog lines (pam_wrapper shows them), with debug on: the
# outcome and the user, never the code.
sed 's|statedir=|debug statedir=|' "$T/pam.d/otp" >"$T/pam.d/otp-debug"
t=$((t + 300))
c=$(otp_code "$S" "$t")
OTP_SERVICE=otp-debug otp_pamtester alice "$c" PAM_WRAPPER_DEBUGLEVEL=2 MYNAGUARD_FAKE_TIME=$t >"$T/log1" || true
OTP_SERVICE=otp-debug otp_pamtester alice "$c" PAM_WRAPPER_DEBUGLEVEL=2 MYNAGUARD_FAKE_TIME=$t >"$T/log2" || true
cat "$T/log1" "$T/log2" >"$T/syslog"
expect_grep "SYSLOG(7): user alice: store .*, window 1, max_failures 3" "$T/syslog"
expect_grep "SYSLOG(6): user alice: otp.accept (service otp-debug, failures 0)" "$T/log1"
expect_grep "SYSLOG(5): user alice: otp.replay (service otp-debug, failures 0)" "$T/log2"
if grep -q -- "$c" "$T/syslog"; then fail "the code appears in the module's log lines"; fi
used+=("$c")
ok "pam_syslog lines (debug on) name the user and the outcome, never the code"

for f in "$OTP_STATE"/audit/*.log; do
	for c in "${used[@]}" "$rc"; do
		if grep -q -- "$c" "$f"; then fail "code $c appears in $f"; fi
	done
done
for e in otp.accept otp.replay otp.reject otp.locked otp.recovery; do
	[[ $(otp_audit_count $e) -ge 1 ]] || fail "no $e audit record"
done
mynaguardctl --state-dir "$OTP_STATE" audit verify >/dev/null
ok "accept, replay, reject, lockout and recovery are audited (journal intact), never a code"

nm -D --defined-only "$OTP_MODULE" | awk '{print $3}' | sort >"$T/exports"
printf 'pam_sm_acct_mgmt\npam_sm_authenticate\npam_sm_setcred\n' | diff - "$T/exports" >/dev/null ||
	fail "the module exports more than pam_sm_*: $(tr '\n' ' ' <"$T/exports")"
ok "the module exports only pam_sm_authenticate, pam_sm_setcred and pam_sm_acct_mgmt"
