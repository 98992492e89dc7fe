#!/bin/bash
# Every doubt about the store denies the login, with one line that says
# why (in the audit journal's otp.error record and the user's notice):
# an unreadable or corrupt store, a missing host key, a state file owned by
# another user or open to the group, a link, a file copied from another
# user, and a clock behind the replay floor.  After each case is repaired,
# the same user logs in again.
source "$(dirname "$0")/lib.sh"
otp_setup
S=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
otp_ctl enroll alice --secret "$S" >/dev/null
t=1900000000

# denied WHY [ENV...]: a valid fresh code is refused, and the last audit
# record is an otp.error naming WHY.
denied() {
	local why=$1; shift
	t=$((t + 30))
	expect_exit 1 otp_login alice "$(otp_code "$S" $t)" MYNAGUARD_FAKE_TIME=$t "$@"
	expect_grep "cannot be checked now" "$T/out"
	tail -1 "$OTP_STATE"/audit/audit.log >"$T/last"
	expect_grep '"event":"otp.error"' "$T/last"
	expect_grep "$why" "$T/last"
}
logs_in() {
	t=$((t + 30))
	expect_exit 0 otp_login alice "$(otp_code "$S" $t)" MYNAGUARD_FAKE_TIME=$t
}
logs_in
ok "baseline: alice logs in"

cp -a "$OTP_STORE/alice" "$T/alice.good"
restore() { cp -a "$T/alice.good" "$OTP_STORE/alice"; }

mv "$OTP_STORE" "$T/store.moved"
denied "otp: No such file or directory"
ln -s "$T/store.moved" "$OTP_STORE"
denied "Not a directory\|Too many levels of symbolic links"
rm "$OTP_STORE"
mv "$T/store.moved" "$OTP_STORE"
chmod 777 "$OTP_STORE"
denied "mode 0777 is open to group or others"
chmod 700 "$OTP_STORE"
logs_in
ok "a missing store, a store behind a link, a store open to others: denied"

cp -a "$OTP_STORE/alice" "$T/alice.good"
head -c 40 "$T/alice.good" >"$OTP_STORE/alice"
denied "alice: line 1 column"
echo '{"format":"mynaguard-otp 1"}' >"$OTP_STORE/alice"
denied "alice: \$.user: required"
sed 's/"secret":"./"secret":"A/' "$T/alice.good" >"$OTP_STORE/alice"
denied "does not open with the host key"
restore
logs_in
ok "a truncated, incomplete or edited state file: denied"

mv "$OTP_KEY" "$T/key.moved"
denied "host key $OTP_KEY: No such file or directory"
head -c 31 "$T/key.moved" >"$OTP_KEY"
chmod 600 "$OTP_KEY"
denied "31 bytes, expected 32"
mv "$T/key.moved" "$OTP_KEY"
chmod 640 "$OTP_KEY"
denied "mode 0640 is open to group or others"
chmod 600 "$OTP_KEY"
logs_in
ok "a missing, short or group-readable host key: denied"

cp -a "$OTP_STORE/alice" "$T/alice.good"
chown nobody "$OTP_STORE/alice"
denied "owned by uid $(id -u nobody), expected 0"
chown root "$OTP_STORE/alice"
chmod 620 "$OTP_STORE/alice"
denied "mode 0620 is open to group or others"
otp_pamtester alice "$(otp_code "$S" $t)" PAM_WRAPPER_DEBUGLEVEL=2 MYNAGUARD_FAKE_TIME=$t >"$T/log" || true
expect_grep "SYSLOG(3): user alice: denied, the code could not be checked: .*/alice: mode 0620 is open to group or others" "$T/log"
chmod 600 "$OTP_STORE/alice"
mv "$OTP_STORE/alice" "$T/alice.real"
ln -s "$T/alice.real" "$OTP_STORE/alice"
denied "Too many levels of symbolic links"
rm "$OTP_STORE/alice"
mv "$T/alice.real" "$OTP_STORE/alice"
ln "$OTP_STORE/alice" "$T/alice.hardlink"
denied "has 2 hard links"
rm "$T/alice.hardlink"
logs_in
ok "a state file owned by another user, group-writable, a symlink or hard-linked: denied"

otp_ctl enroll mallory --secret GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ >/dev/null
cp -a "$OTP_STORE/alice" "$T/alice.good"
sed 's/"user":"alice"/"user":"mallory"/' "$T/alice.good" >"$OTP_STORE/mallory"
t=$((t + 30))
expect_exit 1 otp_login mallory "$(otp_code "$S" $t)" MYNAGUARD_FAKE_TIME=$t
tail -1 "$OTP_STATE"/audit/audit.log >"$T/last"
expect_grep "does not open with the host key" "$T/last"
ok "alice's file copied over mallory's does not open (the user is bound to the secret)"

denied "behind the last accepted code" MYNAGUARD_FAKE_TIME=$((t - 3600))
# (denied bumped t; the pinned clock above overrides it for the login)
logs_in
ok "a clock behind the replay floor: denied, and fine again once the clock is right"

otp_ctl status alice >"$T/out"
expect_grep "failures: 0" "$T/out"
ok "store errors are not counted as failures of the user"
