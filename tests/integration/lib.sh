# Sourced by every integration test: a scratch directory that is removed on
# exit, paths of the built programs, and small assertion helpers.
set -euo pipefail
: "${MG_SOURCE_DIR:?}" "${MG_BUILD_DIR:?}"
export PATH="$MG_BUILD_DIR/admin:$MG_BUILD_DIR/agent:$MG_BUILD_DIR/tests:$PATH"
T=$(mktemp -d /tmp/mg-test.XXXXXX)
MG_CLEANUP=()
mg_cleanup() {
	local rc=$?
	for ((i = ${#MG_CLEANUP[@]} - 1; i >= 0; i--)); do eval "${MG_CLEANUP[i]}" || true; done
	rm -rf "$T"
	exit $rc
}
trap mg_cleanup EXIT
at_exit() { MG_CLEANUP+=("$*"); }

checks=0
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }
# expect_exit CODE CMD...: runs CMD, fails unless it exits CODE; output in $T/out, $T/err.
expect_exit() {
	local want=$1 got=0; shift
	"$@" >"$T/out" 2>"$T/err" || got=$?
	[[ $got == "$want" ]] || { cat "$T/out" "$T/err" >&2; fail "'$*' exited $got, expected $want"; }
}
expect_grep() { grep -q -- "$1" "$2" || { cat "$2" >&2; fail "'$1' not in $2"; }; }
# A TCP port nothing listens on now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_nginx ROOT [TLS_DIR [SITE]]: Debian's nginx serving ROOT on 127.0.0.1
# through the shipped site (packaging/nginx/mynaguard-repository.conf, or
# SITE written in its shape), its paths and listen line rewritten into a new
# $T/nginx.XXXX.  Plain http unless TLS_DIR holds server.crt and server.key.
# Sets NGINX_URL and NGINX_LOG (the access log).
start_nginx() {
	local root=$1 tls=${2:-} site=${3:-$MG_SOURCE_DIR/packaging/nginx/mynaguard-repository.conf}
	local dir port try pid listen
	dir=$(mktemp -d "$T/nginx.XXXX")
	for try in 1 2 3 4 5; do
		port=$(free_port)
		if [[ -n $tls ]]; then listen="listen 127.0.0.1:$port ssl;"; else listen="listen 127.0.0.1:$port;"; fi
		sed -e "s|^\tlisten 443 ssl;|\t$listen|" -e '/listen \[::\]:443/d' \
		    -e "s|/srv/mynaguard/repository|$root|" \
		    -e "s|/var/log/nginx/mynaguard-repository.log|$dir/access.log|" \
		    -e "s|/etc/mynaguard/repository/tls|$tls|" \
		    "$site" >"$dir/site.conf"
		[[ -n $tls ]] || sed -i '/^\tssl_/d' "$dir/site.conf"
		cat >"$dir/nginx.conf" <<-CONF
		$( ((EUID == 0)) && echo "user root;" )
		worker_processes 1;
		pid $dir/nginx.pid;
		error_log $dir/error.log info;
		events { worker_connections 64; }
		http {
			client_body_temp_path $dir/client_body;
			proxy_temp_path $dir/proxy;
			fastcgi_temp_path $dir/fastcgi;
			uwsgi_temp_path $dir/uwsgi;
			scgi_temp_path $dir/scgi;
			include $dir/site.conf;
		}
		CONF
		nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;' &
		pid=$!
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
				at_exit "kill $pid; wait $pid"
				if [[ -n $tls ]]; then NGINX_URL=https://127.0.0.1:$port; else NGINX_URL=http://127.0.0.1:$port; fi
				NGINX_LOG=$dir/access.log
				return 0
			fi
			sleep 0.1
		done
		kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
		grep -q "Address already in use" "$dir/error.log" || break
	done
	cat "$dir/error.log" >&2
	fail "nginx did not start"
}

# --- The device agent under umockdev (engineer agent) ---
# wait_for SECONDS CMD...: polls CMD until it succeeds; fails the test after SECONDS.
wait_for() {
	local limit=$(($1 * 10)); shift
	for ((i = 0; i < limit; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	fail "timed out waiting for: $*"
}
# testbed_start: a umockdev testbed held by mg_testbed (a coprocess); sets
# UMOCKDEV_ROOT.  tb VERB ARGS... talks to it (see tests/tools/mg_testbed.c),
# the reply is in TB_REPLY.
testbed_start() {
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	coproc MG_TB { exec mg_testbed; }
	read -r _ UMOCKDEV_ROOT <&"${MG_TB[0]}"
	[[ -d $UMOCKDEV_ROOT ]] || fail "mg_testbed did not start"
	at_exit "echo quit >&${MG_TB[1]}; wait $MG_TB_PID"
}
tb() {
	echo "$*" >&"${MG_TB[1]}"
	read -r TB_REPLY <&"${MG_TB[0]}"
	[[ $TB_REPLY != error* ]] || fail "testbed: $* -> $TB_REPLY"
}
# sysattr SYSPATH ATTR: the attribute's value in the testbed ("" if missing).
sysattr() { cat "$UMOCKDEV_ROOT$1/$2" 2>/dev/null || true; }
# agent_config FILE: a terminal configuration with runtime and rules under $T.
agent_config() {
	mkdir -p "$T/run" "$T/rules"
	printf 'group = test\nruntime_dir = %s\nudev_rules = %s\n' "$T/run" "$T/rules/70-mynaguard.rules" >"$1"
}
# agent_start STATE CONFIG [ARGS...]: mynaguardd on the testbed, in the
# background (AGENT_PID), once its control socket answers.
agent_start() {
	local state=$1 config=$2; shift 2
	UMOCKDEV_DIR=$UMOCKDEV_ROOT LD_PRELOAD=libumockdev-preload.so.0 \
		mynaguardd --state-dir "$state" --config "$config" "$@" 2>>"$T/agent.log" &
	AGENT_PID=$!
	at_exit "kill $AGENT_PID 2>/dev/null; wait $AGENT_PID 2>/dev/null"
	wait_for 30 mynaguardctl --state-dir "$state" --config "$config" devices
}
# agent_stop: SIGTERM, and the agent must exit 0 (under ASan: no leak).
agent_stop() {
	local rc=0
	kill "$AGENT_PID"
	wait "$AGENT_PID" || rc=$?
	((rc == 0)) || fail "mynaguardd exited $rc: $(tail -5 "$T/agent.log")"
}
# audit_has STATE PATTERN: an audit record matching PATTERN (grep -E) exists.
audit_has() { cat "$1"/audit/audit*.log 2>/dev/null | grep -qE -- "$2"; }
# Signed policy for tests.  policy_ceremony: $T/keys/{root1,root2,pol1,pol2}
# (no passphrase) and $T/keys/keyring (root and policy thresholds 2).
policy_ceremony() {
	mkdir -p "$T/keys"
	local k
	for k in root1 root2 pol1 pol2; do mynaguard-admin keygen --no-passphrase "$T/keys/$k" >/dev/null; done
	mynaguard-admin keyring create --root "$T/keys/root1.pub" --root "$T/keys/root2.pub" --root-threshold 2 \
		--policy "$T/keys/pol1.pub" --policy "$T/keys/pol2.pub" --policy-threshold 2 \
		--sign "$T/keys/root1.key" --sign "$T/keys/root2.key" -o "$T/keys/keyring" >/dev/null
}
# policy_sign VERSION POLICY.json OUT [GROUP [EXPIRES]]: signed by pol1 and pol2.
policy_sign() {
	mynaguard-admin sign --key "$T/keys/pol1.key" --key "$T/keys/pol2.key" --version "$1" \
		--expires "${5:-2099-12-31T00:00:00Z}" --target "${4:-test}" -o "$3" "$2" >/dev/null
}
# policy_pin STATE: pins $T/keys/keyring in STATE.
policy_pin() { mynaguardctl --state-dir "$1" keyring pin "$T/keys/keyring" >/dev/null; }
# policy_keys: a root key, a policy key (no passphrases) and a keyring
# signed by the root, in $T/keys.
policy_keys() {
	mkdir -p "$T/keys"
	(cd "$T/keys" && mynaguard-admin keygen --no-passphrase root && mynaguard-admin keygen --no-passphrase policy) >/dev/null
	mynaguard-admin keyring create --root "$T/keys/root.pub" --root-threshold 1 \
		--policy "$T/keys/policy.pub" --policy-threshold 1 --sign "$T/keys/root.key" \
		-o "$T/keys/keyring" >/dev/null
}
# policy_apply STATE CONFIG POLICY.json VERSION: signs POLICY for group
# "test" with the policy key and applies it (pinning the keyring first);
# a running agent is told to reload by mynaguardctl.
policy_apply() {
	local state=$1 config=$2 policy=$3 version=$4
	mynaguard-admin sign --key "$T/keys/policy.key" --version "$version" \
		--expires 2099-01-01T00:00:00Z --target test -o "$T/keys/bundle-$version" "$policy" >/dev/null
	[[ -e $state/keyring ]] || mynaguardctl --state-dir "$state" --config "$config" keyring pin "$T/keys/keyring" >/dev/null
	mynaguardctl --state-dir "$state" --config "$config" policy apply "$T/keys/bundle-$version" >/dev/null
}

# OTP tests: a scratch store, host key and state directory, a PAM service
# "otp" naming the built module by absolute path (in $T/pam.d, for both
# pam_wrapper and pam_start_confdir), and a terminal configuration of group
# "test" (so policy_apply can set the otp section).  Extra module options
# in $1.
otp_setup() {
	OTP_STATE=$T/state OTP_STORE=$T/state/otp OTP_KEY=$T/etc/otp.key OTP_CONFIG=$T/etc/mynaguard.conf
	OTP_MODULE=$MG_BUILD_DIR/pam_module/pam_mynaguard.so
	OTP_OPTS="store=$OTP_STORE hostkey=$OTP_KEY statedir=$OTP_STATE config=$OTP_CONFIG ${1:-}"
	mkdir -p "$T/etc" "$OTP_STATE" "$T/pam.d"
	echo "group = test" >"$OTP_CONFIG"
	printf 'auth required %s %s\naccount required %s %s\n' \
		"$OTP_MODULE" "$OTP_OPTS" "$OTP_MODULE" "$OTP_OPTS" >"$T/pam.d/otp"
	otp_ctl init >/dev/null
}
otp_ctl() { # ACTION [USER] [OPTIONS...]
	mynaguardctl --state-dir "$OTP_STATE" --config "$OTP_CONFIG" otp "$@" --store "$OTP_STORE" --hostkey "$OTP_KEY"
}
# otp_code BASE32 TIME [sha1|sha256|sha512] [DIGITS] [PERIOD]: oathtool, the independent reference.
otp_code() { oathtool --totp="${3:-sha1}" --digits="${4:-6}" --time-step-size="${5:-30}s" -b "$1" -N "@$2"; }
# The sanitizer runtimes a foreign program needs before it can dlopen our
# module when the build is instrumented (empty otherwise).
otp_asan_preload() { ldd "$OTP_MODULE" | awk '/lib(a|ub)san/ {print $3}' | paste -sd: -; }
# otp_pamtester USER INPUT [ENV...]: pamtester through pam_wrapper, service
# $OTP_SERVICE (default otp).  PAM_WRAPPER_DEBUGLEVEL=2 in ENV shows the
# module's pam_syslog lines as "SYSLOG(PRIORITY): ...".
otp_pamtester() {
	local user=$1 input=$2 pre; shift 2
	pre=$(otp_asan_preload)
	echo "$input" | env PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/pam.d" \
		LD_PRELOAD="${pre:+$pre:}libpam_wrapper.so" ASAN_OPTIONS=detect_leaks=0 "$@" \
		pamtester -v "${OTP_SERVICE:-otp}" "$user" authenticate 2>&1
}
# otp_login USER INPUT [ENV...]: one login through pam_start_confdir.
otp_login() {
	local user=$1 input=$2; shift 2
	env MG_LOCALEDIR="$MG_BUILD_DIR/locale" "$@" otp_pam_login once "$T/pam.d" otp "$user" "$input"
}
otp_audit_count() { cat "$OTP_STATE"/audit/audit*.log | grep -c "\"event\":\"$1\""; }

# --- X11, for the clipboard guard (engineer clipboard) ---
# wait_until WHAT CMD...: runs CMD every 0.1 s until it succeeds; fails after 20 s.
wait_until() {
	local what=$1 i; shift
	for ((i = 0; i < 200; i++)); do "$@" && return 0; sleep 0.1; done
	fail "timed out waiting for $what"
}
# start_xvfb: an Xvfb of our own on a display it picks itself; exports DISPLAY.
start_xvfb() {
	: >"$T/xvfb.display"
	# -noreset: the server must not reset when its last client (a guard being
	# restarted) goes, or a client connecting at that moment is refused.
	Xvfb -displayfd 3 -nolisten tcp -noreset -screen 0 640x480x24 3>"$T/xvfb.display" 2>"$T/xvfb.log" &
	at_exit "kill $!"
	wait_until "Xvfb" test -s "$T/xvfb.display"
	export DISPLAY=:$(head -1 "$T/xvfb.display")
}
# guard_start ARGS...: (re)starts mynaguard-clipguard with ARGS, log in $T/guard.log.
guard_start() {
	[[ -z ${GUARD_PID:-} ]] || { kill "$GUARD_PID"; wait "$GUARD_PID" || true; }
	: >"$T/guard.log"
	mynaguard-clipguard "$@" 2>>"$T/guard.log" &
	GUARD_PID=$!
	at_exit "kill $GUARD_PID 2>/dev/null"
	wait_until "the guard to start" grep -q guarding "$T/guard.log"
}
guard_decisions() { grep -c -- ' -> ' "$T/guard.log" || true; }
guard_decided_after() { (($(guard_decisions) > $1)); }
# clip_copy SELECTION TEXT [XCLIP]: copies with xclip, waits for the guard's decision.
clip_copy() {
	local before; before=$(guard_decisions)
	printf '%s' "$2" | "${3:-xclip}" -selection "$1" -i
	wait_until "the guard's decision" guard_decided_after "$before"
}
# clip_paste SELECTION [XCLIP]: pastes into stdout; fails when nothing is given.
clip_paste() { "${2:-xclip}" -selection "$1" -o; }
