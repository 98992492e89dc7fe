#!/bin/bash
# policy.sh ADMIN-DIR ROOT: the trust state a terminal boots with, made as
# on a real one.  On the host, the administrator's tools make keys, a
# keyring and a signed policy (keyboard, mouse, hubs and card readers
# allowed; the registered stick read-only; everything else blocked);
# mynaguardctl pins and applies them in ROOT's state directory; and
# mynaguardd, run once on an empty umockdev testbed as on the terminal's
# previous boot, writes ROOT's udev rules from that policy.
set -euo pipefail
admin=$1 root=$2
: "${MG_BUILD_DIR:?}"
state=$root/var/lib/mynaguard
mkdir -p "$admin/run" "$state" "$root/etc/mynaguard" "$root/etc/udev/rules.d"
chmod 700 "$state"
printf 'group = e2e\n' >"$root/etc/mynaguard/mynaguard.conf"
printf 'group = e2e\nruntime_dir = %s\nudev_rules = %s\n' "$admin/run" \
	"$root/etc/udev/rules.d/70-mynaguard.rules" >"$admin/host.conf"
cat >"$admin/policy.json" <<'JSON'
{"schema": 1, "description": "real-kernel test terminal",
 "devices": {
  "default": "block", "new_keyboards": "rules",
  "rules": [
   {"id": "card-reader", "match": {"classes": {"one-of": ["smartcard"]}}, "target": "allow"},
   {"id": "registered-stick", "match": {"vendor": "46f4", "product": "0001",
     "serial": "MG-REGISTERED-1"}, "target": "read-only"},
   {"id": "input", "match": {"classes": {"one-of": ["keyboard", "mouse"]}}, "target": "allow"},
   {"id": "hubs", "match": {"classes": {"one-of": ["hub"]}}, "target": "allow"}
  ]}}
JSON
admin_tool=$MG_BUILD_DIR/admin/mynaguard-admin
ctl=$MG_BUILD_DIR/admin/mynaguardctl
(cd "$admin" &&
	"$admin_tool" keygen --no-passphrase root &&
	"$admin_tool" keygen --no-passphrase policy &&
	"$admin_tool" keyring create --root root.pub --root-threshold 1 --policy policy.pub \
		--policy-threshold 1 --sign root.key -o keyring &&
	"$admin_tool" sign --key policy.key --version 1 --expires 2099-01-01T00:00:00Z \
		--target e2e -o bundle policy.json) >/dev/null
"$ctl" --state-dir "$state" --config "$admin/host.conf" keyring pin "$admin/keyring" >/dev/null
"$ctl" --state-dir "$state" --config "$admin/host.conf" policy apply "$admin/bundle" >/dev/null

coproc TB { exec "$MG_BUILD_DIR/tests/mg_testbed"; }
read -r _ tbroot <&"${TB[0]}"
UMOCKDEV_DIR=$tbroot LD_PRELOAD=libumockdev-preload.so.0 \
	"$MG_BUILD_DIR/agent/mynaguardd" --state-dir "$state" --config "$admin/host.conf" 2>"$admin/agent.log" &
agent=$!
for ((i = 0; i < 300; i++)); do
	[[ -s $root/etc/udev/rules.d/70-mynaguard.rules ]] && break
	sleep 0.1
done
kill "$agent"
wait "$agent" || true
echo quit >&"${TB[1]}"
wait "$TB_PID" || true
[[ -s $root/etc/udev/rules.d/70-mynaguard.rules ]] || { cat "$admin/agent.log" >&2; echo "policy.sh: mynaguardd wrote no udev rules" >&2; exit 1; }
