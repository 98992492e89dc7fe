#!/bin/bash
# Every way a bundle is refused (issue 2 §3), from files: each is exit 1
# with a one-line reason naming the cause, leaves a "policy.rejected" audit
# record, and the last-known-good stays in force byte for byte.  The same
# version again is "unchanged", exit 0.
source "$MG_SOURCE_DIR/tests/integration/lib.sh"

S=$T/state
printf 'group = test\nruntime_dir = %s/run\n' "$T" >"$T/conf"
ctl() { mynaguardctl --state-dir "$S" --config "$T/conf" "$@"; }
policy_ceremony
mynaguard-admin keygen --no-passphrase "$T/keys/stranger" >/dev/null
policy_pin "$S"
echo '{"schema":1,"description":"version 5"}' >"$T/p5.json"
echo '{"schema":1,"description":"other"}' >"$T/other.json"
policy_sign 5 "$T/p5.json" "$T/good"
expect_exit 0 ctl policy apply "$T/good"
expect_grep "applied: policy version 5" "$T/out"
ok "a bundle signed by two policy keys is applied"

records() { cat "$S"/audit/audit*.log | wc -l; }

# rejected NAME REASON FILE: apply FILE, expect exit 1 with REASON on one line.
rejected() {
	local name=$1 reason=$2 file=$3 before
	before=$(records)
	expect_exit 1 ctl policy apply "$file"
	[[ $(wc -l <"$T/err") == 1 ]] || { cat "$T/err"; fail "$name: reason is not one line"; }
	expect_grep "$reason" "$T/err"
	[[ $(records) == $((before + 1)) ]] || fail "$name: no audit record"
	tail -1 "$S/audit/audit.log" | grep -q '"event":"policy.rejected"' || fail "$name: last record is not policy.rejected"
	cmp -s "$S/bundle" "$T/good" || fail "$name: the last-known-good was changed"
	ctl policy show --json | grep -q '"version":5' || fail "$name: version 5 is not in force"
	ok "$name: $(sed 's/^mynaguardctl: //' "$T/err")"
}

# Header bytes: everything after "header N\n" up to the payload.
header_of() { awk '/^header [0-9]+$/ {n=$2; found=1; next} found' "$1" | head -c "$(sed -n 's/^header \([0-9]*\)$/\1/p' "$1")"; }
payload_of() { local n; n=$(sed -n 's/^header \([0-9]*\)$/\1/p' "$1"); awk '/^header [0-9]+$/ {f=1; next} f' "$1" | tail -c +$((n + 1)); }
# raw HEADER_JSON OUT: a bundle around exactly these header bytes, validly signed.
raw() {
	printf '%s' "$1" >"$T/h.json"
	payload_of "$T/good" >"$T/payload"
	mg_sign_raw bundle "$T/h.json" "$T/payload" "$T/keys/pol1.key" "$T/keys/pol2.key" >"$2"
}
good_header=$(header_of "$T/good")

# Signatures.
# One base64 character of the first signature changed (B <-> C keeps it decodable).
awk 'NR == 2 { c = substr($3, 10, 1); $3 = substr($3, 1, 9) (c == "B" ? "C" : "B") substr($3, 11) } 1' \
	"$T/good" >"$T/badsig"
cmp -s "$T/good" "$T/badsig" && fail "badsig unchanged"
rejected "bad signature" "does not verify" "$T/badsig"
grep -v '^signature ' "$T/good" >"$T/nosig"
rejected "missing signature" "unsigned" "$T/nosig"
policy_sign 6 "$T/p5.json" "$T/one"
mynaguard-admin sign --key "$T/keys/pol1.key" --version 6 --expires 2099-01-01T00:00:00Z --target test -o "$T/one" "$T/p5.json" >/dev/null
rejected "too few signatures" "1 valid signature by policy keys, 2 required" "$T/one"
sed '2{p}' "$T/one" >"$T/twice"
rejected "the same key twice never counts twice" "a second signature by key" "$T/twice"
mynaguard-admin sign --key "$T/keys/pol1.key" --key "$T/keys/stranger.key" --version 6 \
	--expires 2099-01-01T00:00:00Z --target test -o "$T/stranger" "$T/p5.json" >/dev/null
stranger_id=$(mynaguard-admin inspect "$T/keys/stranger.pub" | sed -n 's/^key id: //p')
rejected "unknown key" "signed by unknown key $stranger_id" "$T/stranger"

# Versions and times.
policy_sign 4 "$T/other.json" "$T/old"
rejected "rollback" "version 4 is lower than the version floor 5 (rollback)" "$T/old"
policy_sign 5 "$T/other.json" "$T/samever"
rejected "same version, other bytes" "version 5 is in force with different content" "$T/samever"
MYNAGUARD_FAKE_TIME=1700000000 policy_sign 6 "$T/p5.json" "$T/expired" test 2023-12-01T00:00:00Z
rejected "expired" "expired at 2023-12-01T00:00:00Z" "$T/expired"
MYNAGUARD_FAKE_TIME=$(( $(date +%s) + 3 * 86400 )) policy_sign 6 "$T/p5.json" "$T/future"
rejected "issued in the future" "more than a day ahead" "$T/future"
policy_sign 6 "$T/p5.json" "$T/wrongtarget" shisho
rejected "wrong target group" 'for group "shisho", this terminal is in group "test"' "$T/wrongtarget"
mynaguard-admin sign --key "$T/keys/pol1.key" --key "$T/keys/pol2.key" --version 6 --keyring-version 2 \
	--expires 2099-01-01T00:00:00Z --target test -o "$T/newkr" "$T/p5.json" >/dev/null
rejected "keyring version ahead" "update the keyring first" "$T/newkr"

# Bounds.
head -c $(( $(stat -c %s "$T/good") - 10 )) "$T/good" >"$T/truncated"
rejected "truncated payload" "truncated: payload has" "$T/truncated"
head -c 200 "$T/good" >"$T/truncated2"
rejected "truncated header" "truncated" "$T/truncated2"
{ cat "$T/good"; printf 'x'; } >"$T/trailing"
rejected "trailing bytes" "1 trailing bytes after the payload" "$T/trailing"
truncate -s 70M "$T/huge"
rejected "oversized file" "larger than" "$T/huge"
sed 's/^header [0-9]*$/header 5000/' "$T/good" >"$T/bighdr"
rejected "oversized header" "header of 5000 bytes is larger than 4096" "$T/bighdr"

# Header fields, validly signed, so that the parser is what refuses them.
raw "{\"version\":6,${good_header:1}" "$T/dup"
rejected "duplicated header field" "duplicate" "$T/dup"
raw "{\"comment\":\"x\",${good_header:1}" "$T/unknown"
rejected "unknown header field" '$.comment: unknown key' "$T/unknown"
raw "${good_header/\"format\":1/\"format\":2}" "$T/fmt2"
rejected "unsupported header format" "unsupported bundle format 2" "$T/fmt2"
sed '1s/mynaguard-bundle 1/mynaguard-bundle 2/' "$T/good" >"$T/magic2"
rejected "unsupported frame version" "unsupported format or version" "$T/magic2"
echo '{"schema":1,"usb":{}}' >"$T/badpolicy.json"
printf '%s' '{"schema":1,"usb":{}}' >"$T/payload"
h=$(header_of "$T/good")
hash=$(python3 -c 'import hashlib,sys; print(hashlib.blake2b(open(sys.argv[1],"rb").read()).hexdigest())' "$T/payload")
h=$(printf '%s' "$h" | sed -E "s/\"version\":5/\"version\":7/; s/\"payload_length\":[0-9]+/\"payload_length\":$(stat -c %s "$T/payload")/; s/\"payload_blake2b\":\"[0-9a-f]+\"/\"payload_blake2b\":\"$hash\"/")
printf '%s' "$h" >"$T/h.json"
mg_sign_raw bundle "$T/h.json" "$T/payload" "$T/keys/pol1.key" "$T/keys/pol2.key" >"$T/badpol"
rejected "a policy that does not parse" 'usb: unknown key' "$T/badpol"

# No change.
expect_exit 0 ctl policy apply "$T/good"
expect_grep "unchanged: policy version 5" "$T/out"
ok "the same version again is unchanged, exit 0"
expect_exit 0 mynaguardctl --state-dir "$S" audit verify
ok "the audit journal verifies after $(records) records"
echo "bundle_rejections: $checks checks passed"
