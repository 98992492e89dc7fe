#!/bin/bash
# mynaguardctl scan: one line per finding (KIND, byte offset, the number
# masked to its last 4 digits) and grep's exit codes: 0 found, 1 none, 2 error.
source "$(dirname "$0")/lib.sh"

printf '住民票 個人番号 123456789018\n法人 T7000012050002、全角 １２３４－５６７８－９０１８\n誤り 123456789019\n' >"$T/sample.txt"
expect_exit 0 mynaguardctl scan "$T/sample.txt"
printf 'kojin\t23\t********9018\nhojin\t44\t*********0002\nkojin\t67\t********9018\n' >"$T/want"
diff -u "$T/want" "$T/out" || fail "scan output"
ok "each finding: KIND<TAB>BYTE_OFFSET<TAB>MASKED, the wrong check digit not found"

! grep -q '12345678' "$T/out" || fail "more than the last 4 digits shown"
ok "only the last 4 digits are shown"

expect_exit 0 mynaguardctl scan - <"$T/sample.txt"
diff -u "$T/want" "$T/out" || fail "scan - differs from scan FILE"
ok "standard input as '-' gives the same"

expect_exit 0 mynaguardctl scan --detectors hojin "$T/sample.txt"
[[ $(cat "$T/out") == $'hojin\t44\t*********0002' ]] || fail "--detectors hojin: $(cat "$T/out")"
ok "--detectors limits the scan"

printf 'nothing here 1234 5678\n' >"$T/clean.txt"
expect_exit 1 mynaguardctl scan "$T/clean.txt"
[[ ! -s $T/out ]] || fail "output without findings"
: >"$T/empty"
expect_exit 1 mynaguardctl scan "$T/empty"
head -c 100000 /dev/urandom >"$T/binary"
printf 'x123456789018x' >>"$T/binary"
expect_exit 0 mynaguardctl scan "$T/binary"
tail -1 "$T/out" | grep -q $'^kojin\t100001\t' || fail "binary: $(tail -1 "$T/out")"
ok "exit 1 when nothing is found (also empty input); binary input is scanned safely"

expect_exit 2 mynaguardctl scan "$T/missing"
[[ $(cat "$T/err") == "mynaguardctl: $T/missing: No such file or directory" ]] || fail "$(cat "$T/err")"
expect_exit 2 mynaguardctl scan --detectors mynumber "$T/sample.txt"
expect_grep 'no detector "mynumber" (known: kojin, hojin)' "$T/err"
expect_exit 2 mynaguardctl scan a b
expect_grep "usage: mynaguardctl scan" "$T/err"
expect_exit 2 mynaguardctl scan "$T"
expect_grep "$T: Is a directory" "$T/err"
ok "errors exit 2 with one line naming the file or argument"
