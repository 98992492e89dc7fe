#!/bin/bash
# Keyring rotation on a terminal, the TUF root chain: N -> N+1 needs a
# threshold of the old roots and of the new roots, N -> N+2 only through
# N+1, the same keyring again is no change, and a rotation with
# --reset-policy-floor recovers a terminal from a fast-forwarded version.
# Rotations arrive as files, like bundles, and the root keys here are
# passphrase-protected, as in a real ceremony.
source "$MG_SOURCE_DIR/tests/integration/lib.sh"

S=$T/state
K=$T/keys
mkdir -p "$K"
printf 'group = test\nruntime_dir = %s/run\n' "$T" >"$T/conf"
ctl() { mynaguardctl --state-dir "$S" --config "$T/conf" "$@"; }
admin() { mynaguard-admin "$@"; }
echo "a passphrase for the root keys" >"$T/pass"
for k in rootA rootB rootC rootD; do admin keygen --passphrase-file "$T/pass" "$K/$k" >/dev/null; done
for k in pol1 pol2 pol3; do admin keygen --no-passphrase "$K/$k" >/dev/null; done
echo '{"schema":1}' >"$T/p.json"
sign() { # VERSION KEY OUT
	admin sign --key "$K/$2.key" --version "$1" --expires 2099-01-01T00:00:00Z --target test \
		--keyring-version "${4:-1}" -o "$3" "$T/p.json" >/dev/null
}

# Version 1: roots A and B (2 of 2), policy key pol1.  Root B signs on
# "another machine": cosign.
admin keyring create --root "$K/rootA.pub" --root "$K/rootB.pub" --root-threshold 2 \
	--policy "$K/pol1.pub" --policy-threshold 1 --sign "$K/rootA.key" --passphrase-file "$T/pass" \
	-o "$T/kr1" >"$T/out"
expect_grep "root signatures 1 of 2" "$T/out"
expect_exit 1 ctl keyring pin "$T/kr1"
expect_grep "1 valid signature by its own root keys, 2 required" "$T/err"
MYNAGUARD_PASSPHRASE_FILE=$T/pass admin cosign --key "$K/rootB.key" "$T/kr1" >/dev/null
expect_exit 0 ctl keyring pin "$T/kr1"
ok "a first keyring needs a threshold of its own roots (second root by cosign)"
expect_exit 1 ctl keyring pin "$T/kr1"
expect_grep "pinned already" "$T/err"
ok "a second pin is refused: rotations go through update"

sign 7 pol1 "$T/b7"
expect_exit 0 ctl policy apply "$T/b7"

# Version 2: roots C and D replace A and B; pol2 replaces pol1.
rotate2() { # OUT SIGNERS...
	local out=$1; shift
	local signs=()
	for s in "$@"; do signs+=(--sign "$K/$s.key"); done
	admin keyring rotate --from "$T/kr1" --root "$K/rootC.pub" --root "$K/rootD.pub" --root-threshold 2 \
		--policy "$K/pol2.pub" --policy-threshold 1 "${signs[@]}" --passphrase-file "$T/pass" -o "$out" >/dev/null
}
rotate2 "$T/kr2-new-only" rootC rootD
expect_exit 1 ctl keyring update "$T/kr2-new-only"
expect_grep "0 valid signatures by old root keys, 2 required" "$T/err"
rotate2 "$T/kr2-old-only" rootA rootB
expect_exit 1 ctl keyring update "$T/kr2-old-only"
expect_grep "0 valid signatures by new root keys, 2 required" "$T/err"
rotate2 "$T/kr2-half" rootA rootC rootD
expect_exit 1 ctl keyring update "$T/kr2-half"
expect_grep "1 valid signature by old root keys, 2 required" "$T/err"
ctl keyring show | grep -q "keyring version 1" || fail "the keyring changed after a refused rotation"
ok "a rotation needs a threshold of the old AND of the new roots"

rotate2 "$T/kr2" rootA rootB rootC rootD
admin keyring rotate --from "$T/kr2" --policy "$K/pol3.pub" --policy-threshold 1 \
	--sign "$K/rootC.key" --sign "$K/rootD.key" --passphrase-file "$T/pass" -o "$T/kr3" >/dev/null
expect_exit 1 ctl keyring update "$T/kr3"
expect_grep "0 valid signatures by old root keys" "$T/err"
ok "version 3 is refused before version 2 (signed by roots version 1 does not know)"
expect_exit 0 ctl keyring update "$T/kr2"
expect_grep "rotated: keyring version 2" "$T/out"
expect_exit 0 ctl keyring update "$T/kr2"
expect_grep "unchanged" "$T/out"
expect_exit 0 ctl keyring update "$T/kr3"
ok "1 -> 2 -> 3 in order; the same keyring again is unchanged"

# pol1 was rotated out: its bundle in force no longer verifies.
expect_exit 1 ctl policy show
expect_grep "unknown key" "$T/out"
ok "a bundle by a rotated-out policy key stops being enforced (defaults)"
sign 8 pol1 "$T/b8-old" 3
expect_exit 1 ctl policy apply "$T/b8-old"
sign 8 pol3 "$T/b8" 3
expect_exit 0 ctl policy apply "$T/b8"
ok "the new policy key signs; the old one is refused"

# A fast-forward: the policy key signs version 1000000 by mistake (or
# under compromise).  Nothing lower is accepted afterwards...
sign 1000000 pol3 "$T/ff" 3
expect_exit 0 ctl policy apply "$T/ff"
sign 9 pol3 "$T/b9" 3
expect_exit 1 ctl policy apply "$T/b9"
expect_grep "rollback" "$T/err"
# ...until the roots rotate with --reset-policy-floor (and replace the key).
admin keyring rotate --from "$T/kr3" --policy "$K/pol2.pub" --policy-threshold 1 --reset-policy-floor \
	--sign "$K/rootC.key" --sign "$K/rootD.key" --passphrase-file "$T/pass" -o "$T/kr4" >/dev/null
admin inspect "$T/kr4" | grep -q "resets the policy floor: yes" || fail "inspect does not show the reset"
expect_exit 0 ctl keyring update "$T/kr4"
sign 9 pol2 "$T/b9" 4
expect_exit 0 ctl policy apply "$T/b9"
ctl policy show --json | grep -q '"version":9,' || fail "version 9 is not in force"
ok "a rotation with --reset-policy-floor recovers from a fast-forwarded version"
sign 8 pol2 "$T/b8b" 4
expect_exit 1 ctl policy apply "$T/b8b"
ok "the floor rises again from the new start"

expect_exit 0 mynaguardctl --state-dir "$S" audit verify
for e in keyring.pinned keyring.rotated keyring.rejected; do
	grep -q "\"event\":\"$e\"" "$S"/audit/audit*.log || fail "no $e audit record"
done
ok "pins, rotations and refusals are in the audit journal, which verifies"
echo "keyring_rotation: $checks checks passed"
