#!/bin/bash
# The administrator's tool on bad input: usage errors exit 2 with one line
# naming the argument, verify answers 0/1/2, keys are never overwritten,
# passphrases come from files only, and sign refuses a policy a terminal
# would refuse, naming the JSON path.
source "$MG_SOURCE_DIR/tests/integration/lib.sh"

K=$T/keys
admin() { mynaguard-admin "$@"; }
one_line() { [[ $(wc -l <"$T/err") == 1 ]] || { cat "$T/err"; fail "not one line: $*"; }; }
mkdir -p "$K"

expect_exit 2 admin keygen "$K/a"
expect_grep "exactly one of --passphrase-file" "$T/err"
expect_exit 2 admin keygen --passphrase hunter2 "$K/a"
ok "keygen wants a passphrase file or --no-passphrase, never a passphrase in argv"
expect_exit 0 admin keygen --no-passphrase "$K/a"
[[ $(stat -c %a "$K/a.key") == 600 ]] || fail "a.key is not 0600"
expect_exit 2 admin keygen --no-passphrase "$K/a"
one_line keygen twice
expect_grep "a.pub: File exists" "$T/err"
ln -s /etc/passwd "$K/l.pub"
expect_exit 2 admin keygen --no-passphrase "$K/l"
ok "keys are 0600, never overwritten, and a planted link is refused"

echo "secret one" >"$T/pass1"
echo "secret two" >"$T/pass2"
expect_exit 0 admin keygen --passphrase-file "$T/pass1" "$K/p"
echo '{"schema":1}' >"$T/p.json"
sign_p() { admin sign --key "$K/p.key" --version 1 --expires 2099-01-01T00:00:00Z --target test -o "$T/b" "$@" "$T/p.json"; }
expect_exit 2 sign_p
expect_grep "protected by a passphrase" "$T/err"
expect_exit 2 sign_p --passphrase-file "$T/pass2"
one_line wrong passphrase
expect_grep "wrong passphrase or damaged key file" "$T/err"
MYNAGUARD_PASSPHRASE_FILE=$T/pass1 expect_exit 0 sign_p
ok "a sealed key needs its passphrase (file or MYNAGUARD_PASSPHRASE_FILE) and says when it is wrong"

sign_a() { admin sign --key "$K/a.key" "$@"; }
expect_exit 2 sign_a --version 1 --expires 2099-01-01T00:00:00Z --target test "$T/p.json"
expect_grep "are required" "$T/err"
expect_exit 2 sign_a --version 0 --expires 2099-01-01T00:00:00Z --target test -o "$T/b" "$T/p.json"
expect_grep "--version: expected a whole number" "$T/err"
expect_exit 2 sign_a --version 1 --expires 2099-01-01 --target test -o "$T/b" "$T/p.json"
expect_grep "--expires: expected a UTC time" "$T/err"
expect_exit 2 sign_a --version 1 --expires 2099-01-01T00:00:00Z --target Test -o "$T/b" "$T/p.json"
expect_grep '--target: "Test" is not a group name' "$T/err"
expect_exit 2 sign_a --version 1 --expires 2001-01-01T00:00:00Z --target test -o "$T/b" "$T/p.json"
expect_grep "--expires: must be after" "$T/err"
expect_exit 2 sign_a --key "$K/a.key" --version 1 --expires 2099-01-01T00:00:00Z --target test -o "$T/b" "$T/p.json"
expect_grep "the same key is given twice" "$T/err"
echo '{"schema":1,"fetch":{"interval":5}}' >"$T/bad.json"
rm -f "$T/b"
expect_exit 2 sign_a --version 1 --expires 2099-01-01T00:00:00Z --target test -o "$T/b" "$T/bad.json"
one_line bad policy
expect_grep 'bad.json: $.fetch.interval: 5 is out of range' "$T/err"
[[ ! -e $T/b ]] || fail "a bundle was written for a bad policy"
ok "sign names the bad argument, and refuses a policy a terminal would refuse (JSON path)"

admin keygen --no-passphrase "$K/root" >/dev/null
admin keyring create --root "$K/root.pub" --root-threshold 1 --policy "$K/a.pub" --policy-threshold 1 \
	--sign "$K/root.key" -o "$T/kr" >/dev/null
expect_exit 2 admin keyring create --root "$K/root.pub" --root-threshold 2 --policy "$K/a.pub" \
	--policy-threshold 1 --sign "$K/root.key" -o "$T/kr-bad"
expect_grep "root threshold: expected 1 to 1" "$T/err"
expect_exit 2 admin keyring rotate --root "$K/root.pub" --sign "$K/root.key" -o "$T/kr-bad"
expect_grep "rotate: --from is required" "$T/err"
ok "keyring create/rotate name the bad option"

sign_a --version 1 --expires 2099-01-01T00:00:00Z --target test -o "$T/b" "$T/p.json" >/dev/null
expect_exit 0 admin verify --keyring "$T/kr" --target test "$T/b"
expect_grep "valid: policy version 1 for group test" "$T/out"
expect_exit 1 admin verify --keyring "$T/kr" --target other "$T/b"
one_line verify wrong group
expect_exit 2 admin verify --keyring "$T/kr" "$T/missing"
expect_grep "missing: No such file or directory" "$T/err"
expect_exit 2 admin verify "$T/b"
expect_exit 2 admin verify --keyring "$T/b" "$T/b"
ok "verify: 0 valid, 1 rejected (one line), 2 usage or unreadable"

expect_exit 2 admin cosign --key "$K/a.key" "$T/b"
expect_grep "already signed by key" "$T/err"
cp "$T/b" "$T/b.before"
admin keygen --no-passphrase "$K/c" >/dev/null
expect_exit 0 admin cosign --key "$K/c.key" "$T/b"
[[ $(grep -c '^signature ' "$T/b") == 2 ]] || fail "cosign did not add a signature"
echo garbage >"$T/g"
expect_exit 2 admin cosign --key "$K/c.key" "$T/g"
ok "cosign adds one signature in place, refuses a duplicate and garbage"

expect_exit 0 admin inspect "$T/b"
expect_grep "version:         1" "$T/out"
expect_exit 0 admin inspect "$T/kr"
expect_grep "policy keys (threshold 1 of 1)" "$T/out"
expect_exit 1 admin inspect "$K/a.key"
expect_grep "inspect its .pub file" "$T/err"
expect_exit 1 admin inspect "$T/p.json"
ok "inspect shows bundles, keyrings and public keys; a secret key is not displayed"

expect_exit 2 admin frobnicate
expect_grep "unknown verb 'frobnicate'" "$T/err"
expect_exit 2 mynaguardctl --state-dir "$T/s" policy
expect_exit 2 mynaguardctl --state-dir "$T/s" keyring pin
expect_exit 1 mynaguardctl --state-dir "$T/s" --config "$T/none.conf" policy show
expect_grep "built-in defaults (fail closed)" "$T/out"
ok "mynaguardctl: usage errors exit 2; no state means the defaults, said plainly"
echo "admin_errors: $checks checks passed"
