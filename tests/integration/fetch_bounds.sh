#!/bin/bash
# No repository can hold a terminal's poll forever or fill its memory: an
# endless chunked body is cut off at the byte cap, a byte-a-second trickle
# at the low-speed limit or the total timeout (the policy's fetch section),
# an unreachable or broken server is a plain failure.  Each time the poll
# exits 2 with a one-line reason, an audit record is written, and the
# last-known-good stays in force.  The only timing asserted is a generous
# upper bound proving the transfer was cut off at all.
source "$(dirname "$0")/lib.sh"
cd "$T"

for k in root pol; do mynaguard-admin keygen --no-passphrase "$k" >/dev/null; done
mynaguard-admin keyring create --root root.pub --root-threshold 1 --policy pol.pub \
	--policy-threshold 1 --sign root.key -o keyring >/dev/null
mkdir state
mynaguardctl --state-dir state keyring pin keyring >/dev/null
printf 'terminal_id = t-0099\ngroup = g1\nruntime_dir = %s/run\n' "$T" >terminal.conf
ctl() { mynaguardctl --state-dir "$T/state" --config "$T/terminal.conf" "$@"; }
# apply_fetch VERSION FETCH-JSON: puts a policy with that fetch section in force.
apply_fetch() {
	printf '{"schema":1,"fetch":%s}' "$2" >"p$1.json"
	mynaguard-admin sign --key pol.key --version "$1" --expires 2030-01-01T00:00:00Z --target g1 \
		-o "b$1" "p$1.json" >/dev/null
	ctl policy apply "b$1" >/dev/null
	cp state/bundle lkg
}
# A real pointer, so the attack can aim at the bundle behind it.
printf '{"schema":1}' >p9.json
mynaguard-admin sign --key pol.key --version 9 --expires 2030-01-01T00:00:00Z --target g1 -o b9 p9.json >/dev/null
mynaguard-admin publish --repo repo b9 >/dev/null

# attack MODE [--pointer FILE]: starts attack_server; sets ATTACK_URL.
attack() {
	local portfile=$T/port.$RANDOM pid
	attack_server --mode "$@" --port-file "$portfile" &
	pid=$!
	at_exit "kill $pid"
	for _ in $(seq 100); do [[ -s $portfile ]] && break; sleep 0.1; done
	[[ -s $portfile ]] || fail "attack_server did not start"
	ATTACK_URL=http://127.0.0.1:$(cat "$portfile")
}
failures() { grep -c '"event":"policy.fetch_failed"' "$T/state/audit/audit.log" || true; }

# cut_off WHAT SECONDS PATTERN URL: the poll ends with exit 2 within
# SECONDS, one line matching PATTERN, an audit record, and the LKG kept.
cut_off() {
	local what=$1 bound=$2 pattern=$3 url=$4 before start took
	before=$(failures)
	start=$(date +%s)
	expect_exit 2 ctl policy pull "$url"
	took=$(($(date +%s) - start))
	((took <= bound)) || fail "$what: still running after ${took}s (bound ${bound}s)"
	[[ $(wc -l <"$T/err") == 1 ]] || { cat "$T/err" >&2; fail "$what: not one line"; }
	grep -Eq -- "$pattern" "$T/err" || { cat "$T/err" >&2; fail "$what: '$pattern' not in the reason"; }
	(($(failures) == before + 1)) || fail "$what: no policy.fetch_failed audit record"
	cmp -s lkg state/bundle || fail "$what: the last-known-good changed"
	ok "$what: ended, exit 2, audited, LKG kept ($(sed 's/^mynaguardctl: failed: //' "$T/err" | cut -c1-110))"
}

# Slow transfers are abandoned after 3 s under 64 bytes/s, whole ones after 60 s.
apply_fetch 1 '{"low_speed_limit":64,"low_speed_time":3,"timeout":60}'

attack endless --pointer repo/g1/current
cut_off "endless chunked bundle behind a valid pointer" 30 "more than [0-9]+ bytes, transfer cut off" "$ATTACK_URL"

attack endless
cut_off "endless chunked pointer" 30 "current: more than 1024 bytes, transfer cut off" "$ATTACK_URL"

attack trickle --pointer repo/g1/current
cut_off "byte-a-second bundle (low-speed limit 64 B/s for 3 s)" 30 "too slow" "$ATTACK_URL"

attack trickle
cut_off "byte-a-second pointer (low-speed limit)" 30 "too slow" "$ATTACK_URL"

# A trickle that is not slow by the policy's measure still ends at the total timeout.
apply_fetch 2 '{"low_speed_limit":1,"low_speed_time":600,"timeout":5}'
attack trickle --pointer repo/g1/current
cut_off "byte-a-second bundle, 1 B/s allowed (total timeout 5 s)" 40 "timed out" "$ATTACK_URL"

port=$(free_port)
cut_off "nothing listening" 30 "onnect" "http://127.0.0.1:$port"

start_nginx "$T/repo"
sed -i 's/^group = g1/group = nosuchgroup/' terminal.conf
cut_off "a group the repository does not have (HTTP 404)" 30 "HTTP 404" "$NGINX_URL"
sed -i 's/^group = nosuchgroup/group = g1/' terminal.conf

# Redirects are not followed, wherever they point.
printf 'server {\n\tlisten 443 ssl;\n\troot /srv/mynaguard/repository;\n\tlocation / { return 302 %s/g1/current; }\n}\n' \
	"$NGINX_URL" >redirect.conf
repo_url=$NGINX_URL
start_nginx "$T/repo" "" "$T/redirect.conf"
cut_off "a redirect to the real repository (not followed)" 30 "HTTP 302" "$NGINX_URL"
NGINX_URL=$repo_url

cut_off "an unsupported scheme" 30 "only https://, http:// and file://" "ftp://127.0.0.1/"

# After all of it the real repository still works, and the failures count
# that drives the backoff is back to zero.
grep -q '"failures":[1-9]' state/pull.json || fail "consecutive failures are not counted"
expect_exit 0 ctl policy pull "$NGINX_URL"
expect_grep "applied: policy version 9" "$T/out"
grep -q '"failures":0' state/pull.json || fail "failures not reset after a good poll"
ok "the real repository still applies; the failure count resets"
echo "$checks checks passed"
