#!/bin/bash
# Signed policy from the administrators' keys to a terminal, over Debian's
# nginx serving the shipped site: sign -> publish -> pull -> applied; an
# unchanged poll is a 304 that the access log shows with the terminal's id
# and version; every rejection of issue 2 section 3 over the wire exits 1
# with one line, leaves an audit record and keeps the last-known-good; https
# works with a CA file, and a wrong public-key pin is refused.
source "$(dirname "$0")/lib.sh"
cd "$T"

now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
expires=2030-01-01T00:00:00Z

# ---- keys and keyring -------------------------------------------------------
# Policy keys need two signatures.  pol1/pol2 are made by mynaguard-admin;
# ext1/ext2 by openssl, an independent signer used below to craft headers
# that mynaguard-admin would never write (duplicate or unknown fields,
# another format) yet that carry good signatures.
for k in root pol1 pol2 stray1 stray2; do mynaguard-admin keygen --no-passphrase "$k" >/dev/null; done

# ext_key NAME: NAME.pem (Ed25519, openssl) and NAME.pub in mynaguard's format.
ext_key() {
	openssl genpkey -algorithm ed25519 -out "$1.pem" 2>/dev/null
	openssl pkey -in "$1.pem" -pubout -outform DER | tail -c 32 >"$1.raw"
	python3 - "$1" <<-'PY'
	import base64, hashlib, sys
	name = sys.argv[1]
	pk = open(name + ".raw", "rb").read()
	kid = hashlib.blake2b(pk, digest_size=32).digest()[:8]
	open(name + ".id", "w").write(kid.hex())
	open(name + ".pub", "w").write("untrusted comment: mynaguard public key %s\n%s\n"
	                               % (name, base64.b64encode(b"Ed" + kid + pk).decode()))
	PY
}
ext_key ext1
ext_key ext2

mynaguard-admin keyring create --root root.pub --root-threshold 1 \
	--policy pol1.pub --policy pol2.pub --policy ext1.pub --policy ext2.pub --policy-threshold 2 \
	--sign root.key -o keyring >/dev/null
mkdir state
mynaguardctl --state-dir state keyring pin keyring >/dev/null
cat >terminal.conf <<EOF
terminal_id = t-0012
group = g1
runtime_dir = $T/run
EOF
ctl() { mynaguardctl --state-dir "$T/state" --config "$T/terminal.conf" "$@"; }

# policy VERSION [DESCRIPTION]: a policy that keeps bundles under 4 KiB.
policy() {
	printf '{"schema":1,"description":"%s","fetch":{"max_bytes":4096}}' "${2:-version $1}" >"p$1.json"
}
# sign OUT VERSION [sign options...]: signed by pol1 and pol2 unless keys are given.
sign() {
	local out=$1 v=$2; shift 2
	(($# > 0)) || set -- --key pol1.key --key pol2.key
	mynaguard-admin sign "$@" --version "$v" --expires "$expires" --target g1 -o "$out" "p$v.json" >/dev/null
}

# craft OUT HEADER PAYLOAD KEY.pem...: a bundle signed with openssl over the
# exact header text given; @LEN@ and @HASH@ stand for the payload's length
# and BLAKE2b-512.
craft() {
	local out=$1 header=$2 payload=$3; shift 3
	python3 - "$out" "$header" "$payload" "$@" <<-'PY'
	import base64, hashlib, subprocess, sys
	out, header, payload, keys = sys.argv[1], sys.argv[2], sys.argv[3].encode(), sys.argv[4:]
	header = header.replace("@LEN@", str(len(payload)))
	header = header.replace("@HASH@", hashlib.blake2b(payload).hexdigest()).encode()
	frame = b"mynaguard-bundle 1\n"
	# Ed25519 in openssl signs whole files only ("oneshot").
	open(out + ".msg", "wb").write(b"mynaguard-bundle-v1\0" + header)
	for k in keys:
	    sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", k,
	                          "-in", out + ".msg"], capture_output=True, check=True).stdout
	    kid = open(k[:-4] + ".id").read().strip()
	    frame += b"signature %s %s\n" % (kid.encode(), base64.b64encode(sig))
	frame += b"header %d\n" % len(header) + header + payload
	open(out, "wb").write(frame)
	PY
}
header() { # VERSION [EXTRA-JSON-MEMBERS] [FORMAT] [ISSUED] [EXPIRES] [TARGET]
	printf '{"format":%s,"domain":"mynaguard/policy-bundle/v1","version":%s,"issued":"%s","expires":"%s","target":"%s","keyring":1,"payload_length":@LEN@,"payload_blake2b":"@HASH@"%s}' \
		"${3:-1}" "$1" "${4:-$now}" "${5:-$expires}" "${6:-g1}" "${2:-}"
}

# ---- the repository -----------------------------------------------------------
# place VERSION FILE: serves FILE as g1's bundle VERSION with a pointer
# written here, for bundles publish rightly refuses to touch.  Like
# publish, the new pointer gets a later mtime second than the old one.
place() {
	local v=$1 f=$2 h size old dir=$T/repo/g1
	h=$(b2sum "$f" | cut -d' ' -f1)
	size=$(stat -c %s "$f")
	mkdir -p "$dir/bundles"
	cp "$f" "$dir/bundles/$v-${h:0:16}.bundle"
	printf '{"format":1,"version":%s,"path":"bundles/%s-%s.bundle","size":%s,"blake2b":"%s"}\n' \
		"$v" "$v" "${h:0:16}" "$size" "$h" >"$dir/.current.new"
	old=$(stat -c %Y "$dir/current" 2>/dev/null || echo 0)
	(($(date +%s) > old)) || touch -d "@$((old + 1))" "$dir/.current.new"
	mv "$dir/.current.new" "$dir/current"
}

start_nginx "$T/repo"
URL=$NGINX_URL
rejections() { grep -c '"event":"policy.rejected"' "$T/state/audit/audit.log" || true; }

# ---- sign, publish, pull, applied; then a 304 -------------------------------------
policy 1 && sign b1 1
expect_exit 0 mynaguard-admin publish --repo repo b1
expect_grep "published g1 version 1" "$T/out"
expect_exit 0 ctl policy pull "$URL"
expect_grep "applied: policy version 1" "$T/out"
cmp -s b1 state/bundle || fail "the pulled bundle is not the one in force"
ok "sign -> publish -> pull: version 1 applied from nginx"

expect_exit 0 ctl policy pull "$URL"
expect_grep "not modified (304)" "$T/out"
expect_grep '"GET /g1/current HTTP/1.1" 304 terminal=t-0012 policy=1 ' "$NGINX_LOG"
ok "an unchanged poll is a 304; nginx logs it with X-Mynaguard-Terminal and -Policy-Version"

grep -q '"GET /g1/current HTTP/1.1" 200 terminal=t-0012 policy=0 ' "$NGINX_LOG" ||
	fail "the first poll is not logged with policy=0"
ok "the access log shows which version each poll ran (0 before, 1 after)"

policy 2 && sign b2 2
mynaguard-admin publish --repo repo b2 >/dev/null
expect_exit 0 ctl policy pull "$URL"
expect_grep "applied: policy version 2 is in force (was 1)" "$T/out"
mynaguard-admin publish --repo repo b2 >/dev/null
expect_exit 0 ctl policy pull "$URL"
expect_grep "unchanged: policy version 2" "$T/out"
ok "a new version applies; the same version published again is no change"
cp state/bundle lkg

# ---- every rejection, over the wire -------------------------------------------------
# refused WHAT PATTERN: the poll exits 1 with one line matching PATTERN, one
# more policy.rejected audit record, and version 2 still in force.
refused() {
	local what=$1 pattern=$2 before
	before=$(rejections)
	expect_exit 1 ctl policy pull "$URL"
	[[ $(wc -l <"$T/err") == 1 ]] || { cat "$T/err" >&2; fail "$what: not one line"; }
	grep -Eqi -- "$pattern" "$T/err" || { cat "$T/err" >&2; fail "$what: '$pattern' not in the reason"; }
	(($(rejections) == before + 1)) || fail "$what: no policy.rejected audit record"
	cmp -s lkg state/bundle || fail "$what: the last-known-good changed"
	ctl policy show >"$T/show" || fail "$what: no policy in force"
	grep -q "version 2" "$T/show" || { cat "$T/show" >&2; fail "$what: version 2 is no longer in force"; }
	ok "refused over nginx, exit 1, audited, LKG kept: $what ($(sed "s/.*\.bundle: //" "$T/err" | cut -c1-100))"
}

policy 3
sign good3 3

# Signature lines taken from another bundle by the same keys: well-formed,
# but not signatures over this header.
policy 30 && sign other 30
{ head -n 1 good3; sed -n 2,3p other; tail -n +4 good3; } >bad
place 3 bad
refused "bad signature" "signature"

sign bad 3 --key pol1.key
place 3 bad
refused "too few signatures" "1 valid|required"

sign bad 3 --key stray1.key --key stray2.key
place 3 bad
refused "unknown key" "unknown key"

mynaguard-admin publish --repo repo b1 >/dev/null
refused "rollback to version 1" "rollback|version 1|floor"

craft bad "$(header 3 "" 1 "$(date -u -d '-10 days' +%Y-%m-%dT%H:%M:%SZ)" \
	"$(date -u -d '-5 days' +%Y-%m-%dT%H:%M:%SZ)")" '{"schema":1}' ext1.pem ext2.pem
place 3 bad
refused "expired" "expired"

mynaguard-admin sign --key pol1.key --key pol2.key --version 3 --expires "$expires" --target g2 -o bad p3.json >/dev/null
place 3 bad
refused "wrong target group" "target|g2"

head -c -20 good3 >bad
place 3 bad
refused "truncated" "truncated|length|short"

policy 4 "$(head -c 5000 /dev/zero | tr '\0' x)" && sign bad 4
mynaguard-admin publish --repo repo bad >/dev/null
refused "oversized (more than fetch.max_bytes)" "oversized"

{ cat good3; printf 'trailing'; } >bad
place 3 bad
refused "trailing bytes" "trailing|length|longer"

craft bad "$(header 3 ',"version":3')" '{"schema":1}' ext1.pem ext2.pem
place 3 bad
refused "duplicate header field" "duplicate"

craft bad "$(header 3 ',"comment":"hi"')" '{"schema":1}' ext1.pem ext2.pem
place 3 bad
refused "unknown header field" "unknown key|comment"

craft bad "$(header 3 "" 2)" '{"schema":1}' ext1.pem ext2.pem
place 3 bad
refused "unsupported format" "format"

printf '{"format":1,"version":3,"path":"../../keyring","size":1,"blake2b":"%s"}\n' "$(printf 'ab%.0s' {1..64})" >repo/g1/.current.new
touch -d "@$(($(stat -c %Y repo/g1/current) + 1))" repo/g1/.current.new
mv repo/g1/.current.new repo/g1/current
before=$(rejections)
expect_exit 1 ctl policy pull "$URL"
expect_grep 'current: \$.path: expected "bundles/3-abababababababab.bundle"' "$T/err"
(($(rejections) == before + 1)) || fail "a bad pointer is not audited"
cmp -s lkg state/bundle || fail "a bad pointer changed the last-known-good"
ok "a malformed pointer (a path out of the repository) is refused before any bundle is fetched"

# A pointer whose hash does not match the file behind it (a file swapped
# under the pointer) is refused before the bundle is even parsed.
place 3 good3
h=$(b2sum good3 | cut -d' ' -f1)
printf 'X' | dd of="repo/g1/bundles/3-${h:0:16}.bundle" bs=1 seek=100 conv=notrunc 2>/dev/null
before=$(rejections)
expect_exit 1 ctl policy pull "$URL"
expect_grep "BLAKE2b differs" "$T/err"
(($(rejections) == before + 1)) || fail "a swapped file is not audited"
cmp -s lkg state/bundle || fail "a swapped file changed the last-known-good"
ok "a bundle swapped under its pointer is refused (hash), LKG kept"

# The crafted path is sound: the same openssl signers make a bundle that applies.
craft good5 "$(header 5)" '{"schema":1,"description":"crafted by openssl"}' ext1.pem ext2.pem
place 5 good5
expect_exit 0 ctl policy pull "$URL"
expect_grep "applied: policy version 5" "$T/out"
ok "after every refusal a good bundle still applies (version 5, signed by openssl)"

# ---- https: CA file, pin -------------------------------------------------------------
mkdir tls
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt \
	-days 2 -subj /CN=mynaguard-test-ca 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls/server.key \
	-out server.csr -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >ext.cnf
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
	-extfile ext.cnf -out tls/server.crt 2>/dev/null
start_nginx "$T/repo" "$T/tls"
HTTPS=$NGINX_URL
pin=$(openssl x509 -in tls/server.crt -pubkey -noout | openssl pkey -pubin -outform der |
	openssl dgst -sha256 -binary | base64)

policy 6 && sign b6 6
mynaguard-admin publish --repo repo b6 >/dev/null
expect_exit 2 ctl policy pull "$HTTPS"
expect_grep "certificate" "$T/err"
ok "https without the test CA: refused, exit 2 ($(cut -c1-80 "$T/err"))"

printf 'ca_file = %s\n' "$T/ca.crt" >>terminal.conf
printf 'pinned_public_key = sha256//%s\n' "$(head -c 32 /dev/urandom | base64)" >>terminal.conf
expect_exit 2 ctl policy pull "$HTTPS"
expect_grep "public key" "$T/err"
cmp -s good5 state/bundle || fail "a refused https poll changed the last-known-good"
ok "https with the CA file but a wrong pin: refused, exit 2"
grep -q '"event":"policy.fetch_failed"' state/audit/audit.log || fail "fetch failures are not audited"
ok "fetch failures are audited (policy.fetch_failed)"

sed -i "s|^pinned_public_key = .*|pinned_public_key = sha256//$pin|" terminal.conf
expect_exit 0 ctl policy pull "$HTTPS"
expect_grep "applied: policy version 6" "$T/out"
ok "https with the CA file and the right pin: version 6 applied"

expect_exit 0 ctl policy pull "$HTTPS"
expect_grep "not modified (304)" "$T/out"
ok "an unchanged poll over https is a 304 too"

# ---- pull.json and the poll lock ----------------------------------------------------
printf '{"format":1,"etag":"\\r\\nX-Evil: 1"}' >state/pull.json
expect_exit 0 ctl policy pull "$HTTPS"
expect_grep "warning: .*pull.json.*starting afresh" "$T/err"
expect_grep "unchanged: policy version 6" "$T/out"
ok "a damaged pull.json costs one full fetch and a warning, never a poll"

exec 9>state/pull.lock
flock -n 9
expect_exit 2 ctl policy pull "$HTTPS"
expect_grep "another policy pull is running" "$T/err"
exec 9>&-
ok "a second poll while one runs exits 2 at once"

# ---- air-gapped: the same repository on approved media -------------------------------
policy 7 && sign b7 7
mynaguard-admin publish --repo media b7 >/dev/null
expect_exit 0 ctl policy pull "file://$T/media"
expect_grep "applied: policy version 7" "$T/out"
expect_exit 0 ctl policy pull "file://$T/media"
expect_grep "unchanged: policy version 7" "$T/out"
ok "file:// (approved media): version 7 applied, then unchanged without an ETag"

expect_exit 0 ctl audit verify
ok "the audit journal verifies after all of it"
echo "$checks checks passed"
