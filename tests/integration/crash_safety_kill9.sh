#!/bin/bash
# kill -9 of `mynaguardctl policy apply` of a ~1 MB bundle at random points,
# ROUNDS times (default 120): afterwards the old or the new bundle is in
# force byte for byte, never a mix or nothing; the terminal loads it; the
# next complete apply leaves no temp file; the audit journal verifies.
source "$MG_SOURCE_DIR/tests/integration/lib.sh"

rounds=${ROUNDS:-120}
S=$T/state
printf 'group = test\nruntime_dir = %s/run\n' "$T" >"$T/conf"
ctl() { mynaguardctl --state-dir "$S" --config "$T/conf" "$@"; }
policy_ceremony
policy_pin "$S"
python3 -c 'import json; print(json.dumps({"schema": 1, "description": "x" * (1 << 20)}))' >"$T/big.json"

policy_sign 1 "$T/big.json" "$T/inforce"
ctl policy apply "$T/inforce" >/dev/null
size=$(stat -c %s "$T/inforce")
((size > 1000000)) || fail "the bundle is only $size bytes"
ok "a $size-byte bundle is in force"

# The span to aim the kills at: one whole apply, measured here.
policy_sign 2 "$T/big.json" "$T/new"
start=$(date +%s%N)
ctl policy apply "$T/new" >/dev/null
cp "$T/new" "$T/inforce"
span_us=$(( ($(date +%s%N) - start) / 1000 ))
echo "one apply takes ${span_us} us; kills land anywhere in 0..$((span_us * 3 / 2)) us"

old=0 new=0 version=2
for ((i = 0; i < rounds; i++)); do
	version=$((version + 1))
	policy_sign "$version" "$T/big.json" "$T/new"
	# The program itself, not a shell function: $! must be the applier.
	mynaguardctl --state-dir "$S" --config "$T/conf" policy apply "$T/new" >/dev/null 2>&1 &
	pid=$!
	delay_us=$(( (RANDOM * 32768 + RANDOM) % (span_us * 3 / 2 + 1) ))
	sleep "$((delay_us / 1000000)).$(printf '%06d' $((delay_us % 1000000)))"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	if cmp -s "$S/bundle" "$T/new"; then
		new=$((new + 1)); cp "$T/new" "$T/inforce"; want=$version
	elif cmp -s "$S/bundle" "$T/inforce"; then
		old=$((old + 1)); want=$(sed -n 's/.*"version":\([0-9]*\).*/\1/p' <(head -c 4096 "$T/inforce" | grep -a '^{"format"'))
	else
		fail "round $i: the bundle in force is neither the old nor the new one"
	fi
	ctl policy show --json >"$T/show" || { cat "$T/show"; fail "round $i: defaults in force after the kill"; }
	grep -q "\"version\":$want," "$T/show" || { cat "$T/show"; fail "round $i: version $want is not what loads"; }
done
ok "$rounds kills: old bundle in force $old times, new bundle $new times, never anything else"

version=$((version + 1))
policy_sign "$version" "$T/big.json" "$T/new"
expect_exit 0 ctl policy apply "$T/new"
cmp -s "$S/bundle" "$T/new" || fail "the last apply did not take"
leftover=$(find "$S" -maxdepth 1 -name ".*.tmp-*" | wc -l)
[[ $leftover == 0 ]] || fail "$leftover temp files left after a complete apply"
ok "a complete apply afterwards leaves no temp file"
expect_exit 0 mynaguardctl --state-dir "$S" audit verify
ok "the audit journal verifies: $(cat "$T/out")"
# Every bundle that came into force has a record: its own, or one written by
# the next update that found the floors lagging behind it.
applied=$(cat "$S"/audit/audit*.log | grep -c '"event":"policy.applied"')
((applied >= new + 3)) || fail "$applied policy.applied records for $((new + 3)) bundles put in force"
ok "$applied policy.applied records for $((new + 3)) bundles put in force"
echo "crash_safety_kill9: old=$old new=$new of $rounds"
