#!/bin/bash
# Verifying and applying a large bundle, against minisign on the same bytes;
# and the bytes on the wire of an unchanged poll.  A benchmark, not a test.
#
#   1. A policy with 10,000 device rules (about 1 MB; the rule shape is
#      docs/devices.md) is signed with mynaguard-admin and, as the peer, with
#      Debian's minisign (a key made in a scratch directory).
#   2. hyperfine times, side by side:
#        mynaguard-admin verify    signatures, header, payload hash, policy parse
#        mynaguardctl policy apply the same plus floors, two atomic writes with
#                                  fsync and an audit record (fresh state each run)
#        minisign -V               one Ed25519 signature over BLAKE2b-512 of the file
#      and prints each one's ratio to minisign; a bundle of the same size
#      without rules shows what is crypto and what is the rule parser.
#   3. Debian's nginx serves the published repository through the shipped
#      site; after a first pull, a second pull is a 304, and the access log's
#      request_bytes ($request_length) and response_bytes ($bytes_sent) give
#      the HTTP bytes of an unchanged poll (TCP/IP overhead not counted).
#
#   bash bench/bench_bundle.sh [RULES]         (default 10000)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
export MG_SOURCE_DIR=$src
export MG_BUILD_DIR=${MG_BUILD_DIR:-$src/build/bench}
rules=${1:-10000}

cmake -S "$src" -B "$MG_BUILD_DIR" -DMG_TESTS=OFF >/dev/null
cmake --build "$MG_BUILD_DIR" -j "$(nproc)" --target mynaguardctl mynaguard-admin >/dev/null
# The scratch directory, nginx and the cleanup come from the tests' helpers.
source "$src/tests/integration/lib.sh"
cd "$T"

# ---- the policy, signed both ways --------------------------------------------------
python3 - "$rules" >policy.json <<'PY'
import json, sys
n = int(sys.argv[1])
rules = [{"id": "stick-%05d" % i,
          "match": {"vendor": "0781", "product": "5581", "serial": "4C53%016d" % i},
          "target": "read-only"} for i in range(n)]
policy = {"schema": 1, "description": "bench: %d registered USB sticks" % n,
          "devices": {"default": "block", "rules": rules}}
json.dump(policy, sys.stdout, ensure_ascii=False, separators=(",", ":"))
PY
for k in root policy; do mynaguard-admin keygen --no-passphrase "$k" >/dev/null; done
mynaguard-admin keyring create --root root.pub --root-threshold 1 --policy policy.pub \
	--policy-threshold 1 --sign root.key -o keyring >/dev/null
mynaguard-admin sign --key policy.key --version 1 --expires 2030-01-01T00:00:00Z --target g1 \
	-o bundle policy.json >/dev/null
mynaguard-admin verify --keyring keyring --target g1 bundle >/dev/null
# The same size with no rules (one long description): what the signature,
# hash and frame cost without the rule parser.
python3 - "$(stat -c %s policy.json)" >flat.json <<'PY'
import sys
print('{"schema":1,"description":"%s"}' % ("x" * (int(sys.argv[1]) - 32)), end="")
PY
mynaguard-admin sign --key policy.key --version 1 --expires 2030-01-01T00:00:00Z --target g1 \
	-o flat.bundle flat.json >/dev/null
minisign -G -W -p minisign.pub -s minisign.key >/dev/null
minisign -S -s minisign.key -m bundle >/dev/null
minisign -V -q -p minisign.pub -m bundle
mkdir fresh
mynaguardctl --state-dir fresh keyring pin keyring >/dev/null
printf 'terminal_id = bench-t1\ngroup = g1\nruntime_dir = %s/run\n' "$T" >terminal.conf

echo "bundle: $(stat -c %s bundle) bytes, $rules device rules, one policy signature"

# ---- time -----------------------------------------------------------------------------
bench() { # NAME PREPARE COMMAND
	hyperfine -N --warmup 3 --min-runs 30 --export-json "$1.json" --prepare "sh -c '$2'" "$3" >/dev/null
}
bench verify true "mynaguard-admin verify --keyring keyring --target g1 bundle"
bench flat true "mynaguard-admin verify --keyring keyring --target g1 flat.bundle"
bench apply "rm -rf state && cp -a fresh state" \
	"mynaguardctl --state-dir state --config terminal.conf policy apply bundle"
bench minisign true "minisign -V -q -p minisign.pub -m bundle"
python3 - <<'PY'
import json
def stats(name):
    r = json.load(open(name + ".json"))["results"][0]
    return r["mean"] * 1000, r["stddev"] * 1000
peer, _ = stats("minisign")
print("%-34s %9s %9s %8s" % ("", "mean ms", "stddev", "ratio"))
for name, label in (("verify", "mynaguard-admin verify"),
                    ("apply", "mynaguardctl policy apply"),
                    ("flat", "verify, same size, no rules"),
                    ("minisign", "minisign -V (peer)")):
    m, s = stats(name)
    print("%-34s %9.2f %9.2f %7.2fx" % (label, m, s, m / peer))
PY

# ---- bytes on the wire of an unchanged poll --------------------------------------------
mynaguard-admin publish --repo repo bundle >/dev/null
start_nginx "$T/repo"
rm -rf state && cp -a fresh state
mynaguardctl --state-dir state --config terminal.conf policy pull "$NGINX_URL" >/dev/null
mynaguardctl --state-dir state --config terminal.conf policy pull "$NGINX_URL" | grep -q "not modified"
line=$(grep '" 304 ' "$NGINX_LOG" | tail -1)
req=$(sed -n 's/.* request_bytes=\([0-9]*\).*/\1/p' <<<"$line")
resp=$(sed -n 's/.* response_bytes=\([0-9]*\)$/\1/p' <<<"$line")
first=$(grep -c '" 200 ' "$NGINX_LOG")
full=$(grep '" 200 ' "$NGINX_LOG" | sed -n 's/.* request_bytes=\([0-9]*\) response_bytes=\([0-9]*\)$/\1 \2/p' |
	awk '{t += $1 + $2} END {print t}')
echo "unchanged poll (304): request $req + response $resp = $((req + resp)) bytes of HTTP"
echo "first poll ($first requests: pointer and bundle): $full bytes of HTTP"
