#!/bin/bash
# The messages speak the user's language: the ja catalog built from
# po/ja.po holds the prompt 「ワンタイムパスワード: 」 and the lockout
# notice with the remaining time, and a login under a Japanese locale gets
# them from pam_mynaguard.so; under C the English originals.
source "$(dirname "$0")/lib.sh"
otp_setup
mo=$MG_BUILD_DIR/locale/ja/LC_MESSAGES/mynaguard.mo
[[ -f $mo ]] || fail "$mo was not built"
msgunfmt --no-wrap "$mo" >"$T/ja.po"
expect_grep 'msgstr "ワンタイムパスワード: "' "$T/ja.po"
expect_grep 'あと%ld分間ロックされています' "$T/ja.po"
expect_grep '管理者が解除するまでロックされています' "$T/ja.po"
ok "the ja catalog holds the prompt and the lockout notices"

msgfmt --check --statistics -o /dev/null "$MG_SOURCE_DIR/po/ja.po" 2>"$T/stats"
grep -q "untranslated\|fuzzy" "$T/stats" && fail "po/ja.po is incomplete: $(cat "$T/stats")"
xgettext --keyword=_ --keyword=dngettext:2,3 --from-code=UTF-8 -o "$T/new.pot" \
	"$MG_SOURCE_DIR"/pam_module/*.c
msgcmp "$MG_SOURCE_DIR/po/ja.po" "$T/new.pot" 2>"$T/cmp" || fail "ja.po misses strings: $(cat "$T/cmp")"
ok "every message in the module's sources is translated"

S=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
otp_ctl enroll alice --secret "$S" >/dev/null
t=1900000000
ja=(LANGUAGE=ja LC_ALL=C.UTF-8)
expect_exit 0 otp_login alice "$(otp_code "$S" $t)" MYNAGUARD_FAKE_TIME=$t "${ja[@]}"
expect_grep "prompt: ワンタイムパスワード: " "$T/out"
expect_exit 1 otp_login alice "$(otp_code "$S" $t)" MYNAGUARD_FAKE_TIME=$t "${ja[@]}"
expect_grep "このワンタイムパスワードは使用済みです" "$T/out"
for i in $(seq 10); do expect_exit 1 otp_login alice 000000 MYNAGUARD_FAKE_TIME=$t; done
expect_exit 1 otp_login alice "$(otp_code "$S" $((t + 30)))" MYNAGUARD_FAKE_TIME=$((t + 30)) "${ja[@]}"
expect_grep "あと10分間ロックされています" "$T/out"
expect_exit 1 otp_login alice "$(otp_code "$S" $((t + 30)))" MYNAGUARD_FAKE_TIME=$((t + 30)) LC_ALL=C
expect_grep "prompt: One-time password: " "$T/out"
expect_grep "locked for 10 more minutes" "$T/out"
ok "a login under ja gets the Japanese prompt, replay and lockout notices; C gets English"
