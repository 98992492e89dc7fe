#!/bin/bash
# Codes from oathtool, the independent reference, log in through
# pam_mynaguard.so for SHA1/SHA256/SHA512, 6 and 8 digits, 30 and 60 s
# steps; HOTP of the step gives the same code; and the interactive
# enrollment prints a URI whose secret oathtool turns into the code that
# activates the token.
source "$(dirname "$0")/lib.sh"
otp_setup
t0=1900000000
n=0
for alg in sha1 sha256 sha512; do
	case $alg in sha1) bytes=20 ;; sha256) bytes=32 ;; sha512) bytes=64 ;; esac
	for digits in 6 8; do
		for period in 30 60; do
			n=$((n + 1))
			user=u$n
			secret=$(head -c $bytes /dev/urandom | base32 -w0 | tr -d =)
			otp_ctl enroll $user --secret "$secret" --algorithm "${alg^^}" --digits $digits \
				--period $period >/dev/null
			t=$((t0 + 1000 * n))
			code=$(otp_code "$secret" $t $alg $digits $period)
			[[ ${#code} == "$digits" ]] || fail "oathtool gave '$code'"
			expect_exit 0 otp_login $user "$code" MYNAGUARD_FAKE_TIME=$t
			expect_exit 1 otp_login $user "$code" MYNAGUARD_FAKE_TIME=$t
			if [[ $alg == sha1 ]]; then    # oathtool's HOTP is SHA1 only
				hotp=$(oathtool --hotp --digits=$digits -b "$secret" -c $(((t + period) / period)))
				expect_exit 0 otp_login $user "$hotp" MYNAGUARD_FAKE_TIME=$((t + period))
			fi
			ok "$alg, $digits digits, ${period} s: oathtool's code logs in once"
		done
	done
done

# Interactive enrollment: the URI names issuer, algorithm, digits, period;
# the QR code is drawn; the token is inactive until one correct code.
coproc CTL { otp_ctl enroll carol --algorithm SHA256 --digits 8 2>&1; }
ctl_pid=$CTL_PID ctl_out=${CTL[0]} ctl_in=${CTL[1]}
uri=
while IFS= read -r line <&"$ctl_out"; do
	echo "$line" >>"$T/enroll.out"
	if [[ $line == otpauth://* ]]; then uri=$line; break; fi
done
[[ $uri =~ ^otpauth://totp/mynaguard:carol\?secret=([A-Z2-7]+)\&issuer=mynaguard\&algorithm=SHA256\&digits=8\&period=30$ ]] ||
	fail "unexpected URI: $uri"
secret=${BASH_REMATCH[1]}
(( ${#secret} == 52 )) || fail "a SHA256 secret should be 256 bits, got ${#secret} base32 characters"
grep -q "▀\|▄" "$T/enroll.out" || fail "no QR code drawn"
otp_ctl status carol >"$T/status"
expect_grep "not confirmed" "$T/status"
expect_exit 1 otp_login carol 12345678
echo "$(otp_code "$secret" "$(date +%s)" sha256 8)" >&"$ctl_in"
cat <&"$ctl_out" >>"$T/enroll.out"
wait $ctl_pid || { cat "$T/enroll.out"; fail "enrollment failed"; }
expect_grep "token active" "$T/enroll.out"
ok "enroll: URI and QR code, inactive until one correct code from oathtool"
t=$(( $(date +%s) + 60 ))
expect_exit 0 otp_login carol "$(otp_code "$secret" $t sha256 8)" MYNAGUARD_FAKE_TIME=$t
ok "the enrolled token logs in"

expect_exit 1 otp_ctl enroll carol --secret "$secret"
expect_grep "already has a token" "$T/err"
expect_exit 2 otp_ctl enroll dave --secret 'not base32!'
expect_grep "secret" "$T/err"
expect_exit 2 otp_ctl enroll dave --secret "$(head -c 5 /dev/urandom | base32)"
expect_grep "bytes, expected 10..64" "$T/err"
expect_exit 2 otp_ctl enroll dave --digits 7 --secret "$secret"
expect_grep "digits 7" "$T/err"
expect_exit 2 otp_ctl enroll ../root --secret "$secret"
ok "bad enrollments fail with one clear line"

# A token whose clock runs 25 steps ahead: refused until the administrator
# resyncs with two consecutive codes; then its codes log in.
secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
otp_ctl enroll drifty --secret "$secret" >/dev/null
tf=1950000000 ahead=$((25 * 30))
expect_exit 1 otp_login drifty "$(otp_code "$secret" $((tf + ahead)))" MYNAGUARD_FAKE_TIME=$tf
printf '%s\n%s\n' "$(otp_code "$secret" $((tf + ahead + 3000)))" "$(otp_code "$secret" $((tf + ahead + 3030)))" >"$T/far"
MYNAGUARD_FAKE_TIME=$tf expect_exit 1 otp_ctl resync drifty <"$T/far"
expect_grep "not consecutive codes within 60 steps" "$T/err"
printf '%s\n%s\n' "$(otp_code "$secret" $((tf + ahead)))" "$(otp_code "$secret" $((tf + ahead + 30)))" |
	MYNAGUARD_FAKE_TIME=$tf otp_ctl resync drifty >/dev/null 2>&1
MYNAGUARD_FAKE_TIME=$tf otp_ctl status drifty >"$T/out"
expect_grep "drift: 26 steps" "$T/out"
expect_exit 1 otp_login drifty "$(otp_code "$secret" $((tf + ahead + 30)))" MYNAGUARD_FAKE_TIME=$tf
expect_exit 0 otp_login drifty "$(otp_code "$secret" $((tf + ahead + 60)))" MYNAGUARD_FAKE_TIME=$((tf + 30))
ok "resync: two consecutive codes within resync_window set the drift; the codes used stay used"

otp_ctl list >"$T/out"
expect_grep "^drifty .*active" "$T/out"
otp_ctl remove drifty >/dev/null
expect_exit 1 otp_ctl status drifty
expect_exit 1 otp_login drifty "$(otp_code "$secret" $((tf + ahead + 90)))" MYNAGUARD_FAKE_TIME=$((tf + 60))
expect_grep "No one-time password token is enrolled" "$T/out"
ok "list shows the token; after remove the user has none"

# Lost token: reset replaces the secret at once, so the old token stops
# working even before the new one is confirmed.
secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
otp_ctl enroll erin --secret "$secret" >/dev/null
expect_exit 1 otp_ctl reset nobody-here
expect_grep "has no token" "$T/err"
printf '000000\n000000\n000000\n' | MYNAGUARD_FAKE_TIME=$tf expect_exit 1 otp_ctl reset erin
expect_grep "otpauth://totp/mynaguard:erin?secret=" "$T/out"
expect_grep "does not match the new token" "$T/err"
expect_exit 1 otp_login erin "$(otp_code "$secret" $((tf + 120)))" MYNAGUARD_FAKE_TIME=$((tf + 120))
expect_grep "No one-time password token is enrolled" "$T/out"
ok "otp reset: the old token stops at once; the new one waits for a correct code"
