#!/bin/bash
# A ticket allows exactly one device on one host until it expires: issued
# offline by mynaguard-admin, typed in with mynaguardctl ticket apply,
# verified against the pinned keyring, and used by the decision engine for
# that device only.  Forged, altered, foreign and expired tickets are
# refused, and each apply is in the audit journal.
source "$(dirname "$0")/lib.sh"

command -v umockdev-run >/dev/null || { echo "SKIP: umockdev missing"; exit 77; }
cd "$T"
# umockdev-run preloads its library ahead of the sanitizer runtime.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
ZOO="$MG_SOURCE_DIR/tests/data/zoo"
POLICY="$MG_SOURCE_DIR/tests/data/devices/policy.json"
BUS=devices/pci0000:00/0000:00:14.0/usb1
ctl() { mynaguardctl --state-dir "$T/state" --config "$T/none.conf" "$@"; }
decide() { umockdev-run -d "$ZOO/roothub.umockdev" -d "$ZOO/stick.umockdev" -d "$ZOO/hub.umockdev" \
	-- mg_devices decide /sys "$BUS/$1" "$POLICY" "$T/state"; }

mynaguard-admin keygen --no-passphrase root >/dev/null
mynaguard-admin keygen --no-passphrase policy >/dev/null
mynaguard-admin keygen --no-passphrase rogue >/dev/null
mynaguard-admin keyring create --root root.pub --root-threshold 1 --policy policy.pub \
	--policy-threshold 1 --sign root.key -o keyring >/dev/null
ctl keyring pin keyring >/dev/null
HOST=$(hostname)
ok "a terminal with a pinned keyring ($HOST)"

[[ $(decide 1-1) == "block default" ]] || fail "the stick is not blocked to begin with"
expect_exit 0 mynaguard-admin ticket --key policy.key --host "$HOST" --serial 4C530000000000000001 \
	--mode read-only --hours 8
CODE=$(sed -n 2p "$T/out")
ID=$(sed -n 's/^ticket \([0-9a-f]*\):.*/\1/p' "$T/out")
[[ ${#CODE} -le 200 ]] || fail "a ticket of ${#CODE} characters is too long to read out"
grep -q $'\u2588' "$T/out" || fail "no QR code"
ok "issued ticket $ID: ${#CODE} characters in groups of four, and a QR code"

# Read over the phone: lower case, spaces between the groups.
expect_exit 0 ctl ticket apply $(tr 'A-Z-' 'a-z ' <<<"$CODE")
expect_grep "ticket $ID applied: read-only for serial 4C530000000000000001" "$T/out"
expect_exit 0 ctl ticket list
expect_grep "$ID  read-only" "$T/out"
ok "applied as typed over the phone; listed"

[[ $(decide 1-1) == "read-only ticket:$ID" ]] || fail "the stick is not read-only under the ticket: $(decide 1-1)"
[[ $(decide 1-10/1-10.1) == "block default" ]] || fail "another stick got the ticket"
ok "the ticket makes that stick read-only and no other"

expect_exit 0 mynaguard-admin ticket --key policy.key --host other-terminal --serial 4C530000000000000001 \
	--mode allow --hours 1 --no-qr
expect_exit 1 ctl ticket apply "$(sed -n 2p "$T/out")"
expect_grep "another host" "$T/err"
ok "a ticket for another host is refused"

expect_exit 0 mynaguard-admin ticket --key rogue.key --host "$HOST" --serial 20060000000000000010 \
	--mode allow --hours 1 --no-qr
expect_exit 1 ctl ticket apply "$(sed -n 2p "$T/out")"
expect_grep "not signed by a policy key" "$T/err"
ok "a ticket signed by a key outside the keyring is refused"

BAD=${CODE:0:20}$([[ ${CODE:20:1} == A ]] && echo B || echo A)${CODE:21}
expect_exit 1 ctl ticket apply "$BAD"
ok "a ticket with one character changed is refused"

expect_exit 2 mynaguard-admin ticket --key policy.key --host "$HOST" --serial X --mode block --hours 1
expect_exit 2 mynaguard-admin ticket --key policy.key --host "$HOST" --serial X --mode allow --hours 9999
expect_grep "hours: expected 1 to 744" "$T/err"
ok "the issuer refuses a block ticket and one that lasts too long"

ctl audit show >"$T/audit"
[[ $(grep -c 'ticket.apply *applied' "$T/audit") == 1 ]] || { cat "$T/audit"; fail "the apply was not audited"; }
[[ $(grep -c 'ticket.apply *rejected' "$T/audit") == 3 ]] || { cat "$T/audit"; fail "not every refusal was audited"; }
expect_grep "issued for another host" "$T/audit"
expect_exit 0 ctl audit verify
ok "every apply, accepted or not, is in the verified audit journal"

export MYNAGUARD_FAKE_TIME=$(($(date +%s) + 9 * 3600))
[[ $(decide 1-1) == "block default" ]] || fail "an expired ticket still counts"
expect_exit 1 ctl ticket list
[[ ! -e "$T/state/tickets/$ID" ]] || fail "the expired ticket was kept"
ok "after it expires the stick is blocked again and the ticket is gone"
