#!/bin/bash
# mynaguardctl audit verify against a journal edited the ways an intruder
# would: exit 1 and one line naming the first bad record; exit 0 on the
# untouched journal; exit 2 when there is no journal at all.
source "$(dirname "$0")/lib.sh"

state=$T/state
journal=$state/audit
export MYNAGUARD_AUDIT_ROTATE_BYTES=1000
for i in $(seq 12); do echo "device.decision usb 0781:5581 #$i 住民記録"; done | audit_writer "$journal" agent >/dev/null
expect_exit 0 mynaguardctl --state-dir "$state" audit verify
expect_grep "intact: 12 records" "$T/out"
ok "an untouched journal verifies: $(cat "$T/out")"
nfiles=$(ls "$journal"/audit-*.log | wc -l)
((nfiles >= 2)) || fail "expected rotated files, got $nfiles"
ok "rotation made $nfiles closed files plus audit.log"

expect_exit 0 mynaguardctl --state-dir "$state" audit show -n 3
expect_grep "住民記録" "$T/out"
(($(wc -l <"$T/out") == 4)) || fail "show -n 3 printed $(wc -l <"$T/out") lines, not a header and 3"
ok "show prints the last records, Japanese intact"

esc=$T/esc
printf 'test.escape \033[2J\033]0;owned\007 \u202eevil\n' | audit_writer "$esc/audit" agent >/dev/null
expect_exit 0 mynaguardctl --state-dir "$esc" audit show
grep -q $'\033' "$T/out" && fail "a raw escape reached the terminal"
expect_grep '?\[2J?\]0;owned? ?evil' "$T/out"
ok "control characters and direction overrides in a subject print as '?'"

pristine=$T/pristine
cp -a "$journal" "$pristine"
restore() { rm -rf "$journal"; cp -a "$pristine" "$journal"; }
first=$(ls "$journal"/audit-*.log | head -1)
# broken DESCRIPTION EXPECTED-MESSAGE: verify must exit 1 naming it.
broken() {
	expect_exit 1 mynaguardctl --state-dir "$state" audit verify
	expect_grep "$2" "$T/err"
	(($(wc -l <"$T/err") == 1)) || fail "more than one line: $(cat "$T/err")"
	ok "$1: $(cat "$T/err")"
	restore
}

sed -i '2s/"decision":"alert"/"decision":"allow"/' "$first"
broken "edited decision" "$(basename "$first") line 2 (seq 2): hash mismatch, record edited"

sed -i '2d' "$first"
broken "deleted record" "line 2 (seq 3): seq 3 follows seq 1: records deleted"

{ sed -n 1p "$first"; sed -n 3p "$first"; sed -n 2p "$first"; sed -n '4,$p' "$first"; } >"$T/swapped"
cat "$T/swapped" >"$first"
broken "swapped records" "line 2 (seq 3): seq 3 follows seq 1"

sed -i '2p' "$first"
broken "duplicated record" "line 3 (seq 2): seq 2 follows seq 2: records duplicated"

sed -i '$d' "$journal/audit.log"
broken "last record cut off" "audit.head: says seq 12 but the journal ends at seq 11: records cut off the end"

rm "$first"
broken "oldest file removed" "the journal starts at seq"

rm "$journal/audit.head"
broken "audit.head removed" "audit.head: missing"

printf '{"seq":99}\n' >>"$journal/audit.log"
broken "garbage appended" "audit.log line"

expect_exit 2 mynaguardctl --state-dir "$T/nowhere" audit verify
expect_grep "nowhere/audit" "$T/err"
ok "no journal at all is an error, not a pass: $(cat "$T/err")"

# Root can rewrite the whole chain consistently: verify alone passes (the
# documented limit), but an anchor noted before the rewrite does not.
expect_exit 0 mynaguardctl --state-dir "$state" audit verify
anchor=$(sed -n 's/^anchor: //p' "$T/out")
[[ $anchor == 12:* ]] || fail "no anchor printed: $(cat "$T/out")"
python3 - "$journal" <<'PY'
import glob, hashlib, json, os, sys
d = sys.argv[1]
files = sorted(glob.glob(d + "/audit-*.log")) + [d + "/audit.log"]
prev = "0" * 64
for f in files:
    out = []
    for line in open(f, encoding="utf-8"):
        rec = json.loads(line)
        rec.pop("hash")
        rec["prev"] = prev
        rec["subject"] = rec["subject"].replace("#3 ", "#3 (rewritten) ")
        body = json.dumps(rec, ensure_ascii=False, separators=(",", ":"))[:-1]
        prev = hashlib.blake2b(body.encode(), digest_size=32).hexdigest()
        out.append(body + ',"hash":"%s"}\n' % prev)
    open(f, "w", encoding="utf-8").write("".join(out))
open(d + "/audit.head", "w").write('{"seq":%d,"hash":"%s"}\n' % (rec["seq"], prev))
PY
grep -q "(rewritten)" "$journal"/audit-*.log || fail "the rewrite did not happen"
expect_exit 0 mynaguardctl --state-dir "$state" audit verify
ok "a whole-chain rewrite by root passes verify alone (the documented limit)"
expect_exit 1 mynaguardctl --state-dir "$state" audit verify --anchor "$anchor"
expect_grep "anchor seq 12: the journal has hash .*the journal was rewritten" "$T/err"
ok "but not an anchor kept from before: $(cat "$T/err")"
