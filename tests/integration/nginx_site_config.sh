#!/bin/bash
# The shipped nginx site (packaging/nginx/mynaguard-repository.conf) passes
# `nginx -t` as installed on Debian, and serves only what a repository is:
# pointers with ETags and no-cache, immutable bundles, nothing else (no
# listings, no stray files, no links, no writes).  Two publishes in one
# second still give two ETags, so no terminal is told 304 for a new pointer.
source "$(dirname "$0")/lib.sh"
cd "$T"
site=$MG_SOURCE_DIR/packaging/nginx/mynaguard-repository.conf

# ---- nginx -t, the Debian way: the site inside http {} beside mime.types ----
mkdir -p tls t
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls/server.key \
	-out tls/server.crt -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
# Only the paths that would touch /etc and /var change; listen lines stay.
sed -e "s|/etc/mynaguard/repository/tls|$T/tls|" \
    -e "s|/var/log/nginx/mynaguard-repository.log|$T/t/access.log|" "$site" >t/site.conf
cat >t/nginx.conf <<EOF
pid $T/t/nginx.pid;
error_log $T/t/error.log;
events { }
http {
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	client_body_temp_path $T/t/body;
	proxy_temp_path $T/t/proxy;
	fastcgi_temp_path $T/t/fastcgi;
	uwsgi_temp_path $T/t/uwsgi;
	scgi_temp_path $T/t/scgi;
	include $T/t/site.conf;
}
EOF
expect_exit 0 nginx -t -q -p "$T/t" -c "$T/t/nginx.conf" -e "$T/t/error.log"
ok "nginx -t accepts the shipped site inside Debian's http {}"

# ---- what it serves ------------------------------------------------------------------
for k in root pol; do mynaguard-admin keygen --no-passphrase "$k" >/dev/null; done
# Two policies of one length: bundles and pointers of equal size.
printf '{"schema":1,"description":"a"}' >pa.json
printf '{"schema":1,"description":"b"}' >pb.json
for p in a b; do
	mynaguard-admin sign --key pol.key --version 1 --expires 2030-01-01T00:00:00Z --target g1 \
		-o "b$p" "p$p.json" >/dev/null
done
mynaguard-admin publish --repo repo ba >/dev/null
start_nginx "$T/repo" "$T/tls"
get() { curl -s --cacert "$T/tls/server.crt" -o "$T/body" -D "$T/head" -w '%{http_code}' "$@"; }

code=$(get "$NGINX_URL/g1/current")
[[ $code == 200 ]] || fail "pointer: HTTP $code"
expect_grep "^ETag: " "$T/head"
expect_grep "^Cache-Control: no-cache" "$T/head"
expect_grep "^Content-Type: application/json" "$T/head"
expect_grep "^Server: nginx.$" "$T/head"
etag1=$(sed -n 's/^ETag: \(.*\)\r$/\1/p' "$T/head")
ok "the pointer: 200 with an ETag, no-cache, JSON, no server version"

path=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["path"])' "$T/body")
code=$(get "$NGINX_URL/g1/$path")
[[ $code == 200 ]] || fail "bundle: HTTP $code"
cmp -s body ba || fail "the bundle served is not the one published"
expect_grep "^Cache-Control: public, max-age=31536000, immutable" "$T/head"
expect_grep "^Content-Type: application/octet-stream" "$T/head"
ok "a bundle: the published bytes, immutable"

code=$(get -H "If-None-Match: $etag1" "$NGINX_URL/g1/current")
[[ $code == 304 ]] || fail "conditional GET: HTTP $code"
ok "If-None-Match with the current ETag: 304"

# Equal sizes, published at once: the pointer's mtime moves to a new second.
mynaguard-admin publish --repo repo bb >/dev/null
code=$(get -H "If-None-Match: $etag1" "$NGINX_URL/g1/current")
[[ $code == 200 ]] || fail "a new pointer of the same size answered $code to the old ETag"
etag2=$(sed -n 's/^ETag: \(.*\)\r$/\1/p' "$T/head")
[[ $etag1 != "$etag2" && ${etag1#*-} == "${etag2#*-}" ]] || fail "ETags $etag1 and $etag2"
ok "two publishes of equal size back to back: new ETag ($etag1 -> $etag2), no false 304"

code=$(get -H 'Range: bytes=0-9' "$NGINX_URL/g1/current")
[[ $code == 200 ]] || fail "a range request answered $code"
ok "range requests get the whole file (max_ranges 0)"

echo secret >repo/g1/notes.txt
mkdir -p repo/g2 && ln -s /etc/hostname repo/g2/current
for url in / /g1/ /g1/bundles/ /g1/notes.txt /g1/.publish.lock /g2/current /g1/current.json /.g1/current; do
	code=$(get "$NGINX_URL$url")
	[[ $code == 404 || $code == 403 ]] || fail "$url: HTTP $code"
done
ok "no listings, no stray files, no links (404/403)"

for m in POST PUT DELETE; do
	code=$(get -X "$m" --data x "$NGINX_URL/g1/current")
	[[ $code == 403 || $code == 405 ]] || fail "$m: HTTP $code"
done
ok "only GET and HEAD"

curl -s --cacert "$T/tls/server.crt" -o /dev/null -H 'X-Mynaguard-Terminal: t-7' \
	-H 'X-Mynaguard-Policy-Version: 12' "$NGINX_URL/g1/current"
expect_grep '"GET /g1/current HTTP/1.1" 200 terminal=t-7 policy=12 request_bytes=[0-9]* response_bytes=[0-9]*$' "$NGINX_LOG"
ok "the access log names the terminal, its policy version and the bytes each way"

echo "$checks checks passed"
