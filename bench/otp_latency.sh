#!/bin/bash
# Authentication latency of pam_mynaguard.so against Debian's
# pam_google_authenticator.so, in one run, both under pam_wrapper and driven
# by pamtester (one process per login, as a real login), sequential and
# 8-way parallel (8 users at once, each with their own state).
#
# What each module does per login differs, and the figures say so:
#   pam_mynaguard.so   a fresh code each time (pinned clock, a new step per
#                      login), so every login takes the user's lock, opens
#                      the sealed state, raises the replay floor with an
#                      fsync'd write and appends an fsync'd audit record;
#   pam_google_authenticator.so   TOTP_AUTH without DISALLOW_REUSE or
#                      RATE_LIMIT (it cannot be given a clock, so the same
#                      valid code is reused): a read of the secret file and
#                      no write at all.
# So the ratio is the price of single use, throttling and audit on disk.
#
#   bash bench/otp_latency.sh [LOGINS]        (default 200 per case)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-200}
build=${MG_BUILD_DIR:-$src/build/bench}
if [[ -z ${MG_BUILD_DIR:-} ]]; then
	cmake -S "$src" -B "$build" -DMG_TESTS=OFF >/dev/null
	cmake --build "$build" -j "$(nproc)" --target pam_mynaguard mynaguardctl >/dev/null
fi
ga=$(find /lib/*/security /usr/lib/*/security -name pam_google_authenticator.so 2>/dev/null | head -1)
[[ -n $ga ]] || { echo "pam_google_authenticator.so not found (apt-get install libpam-google-authenticator)"; exit 1; }
T=$(mktemp -d /tmp/mg-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/pam.d" "$T/state" "$T/etc" "$T/ga"
S=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP

# pam_mynaguard.so: users u0 (sequential) and p1..p8 (parallel).
opts="store=$T/state/otp hostkey=$T/etc/otp.key statedir=$T/state config=$T/etc/none.conf"
echo "auth required $build/pam_module/pam_mynaguard.so $opts" >"$T/pam.d/mynaguard"
for u in u0 p1 p2 p3 p4 p5 p6 p7 p8; do
	"$build/admin/mynaguardctl" --state-dir "$T/state" --config "$T/etc/none.conf" otp enroll $u \
		--secret "$S" --store "$T/state/otp" --hostkey "$T/etc/otp.key" >/dev/null
done
# pam_google_authenticator.so: one secret file per user, root's, 0400.
echo "auth required $ga secret=$T/ga/\${USER} user=root" >"$T/pam.d/ga"
for u in u0 p1 p2 p3 p4 p5 p6 p7 p8; do
	printf '%s\n" TOTP_AUTH\n' "$S" >"$T/ga/$u"
	chmod 400 "$T/ga/$u"
done

t0=1900000000
codes=()
# The codes are made before the clock starts, for both modules: for
# pam_mynaguard one per step (a new step per login), for google-authenticator
# the code of now (valid for its whole window, longer than a case lasts).
fresh_codes() { # the next n steps after the ones used so far
	t0=$((t0 + 30 * (n + 10)))
	mapfile -t codes < <(oathtool --totp -b "$S" -N "@$t0" -w "$n")
}

# pamlogin SERVICE USER CODE [TIME].  A run that fails before pam_start
# succeeds (no output, or "Initialization failure" after pam_wrapper's
# "Failed to create pam_wrapper config dir") is pam_wrapper tripping over
# itself under parallel load, not the module: counted apart.
pamlogin() {
	local out
	out=$(echo "$3" | env PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/pam.d" LD_PRELOAD=libpam_wrapper.so \
		${4:+MYNAGUARD_FAKE_TIME=$4} pamtester -v "$1" "$2" authenticate 2>&1) && return 0
	if [[ -z $out || $out == *"pamtester: Initialization failure"* || $out == *"pwrap_init: Failed"* ]]; then
		echo >>"$T/harness.$1"
		return 0
	fi
	echo "$out" | tr '\n' ' ' >>"$T/refusals.$1"
	echo >>"$T/refusals.$1"
	return 1
}
# run SERVICE USER COUNT: COUNT logins; a refused one is counted in $T/failed.SERVICE.
run() {
	local i
	for ((i = 0; i < $3; i++)); do
		if [[ $1 == mynaguard ]]; then
			pamlogin mynaguard "$2" "${codes[i]}" $((t0 + 30 * i)) || echo >>"$T/failed.$1"
		else
			pamlogin ga "$2" "$gacode" || echo >>"$T/failed.$1"
		fi
	done
}
failed() { [[ -f $T/$2.$1 ]] && wc -l <"$T/$2.$1" || echo 0; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
prepare() { fresh_codes; gacode=$(oathtool --totp -b "$S"); }
sequential() { local s=$(date +%s%N); run "$1" u0 "$n"; ms "$s"; }
parallel() {
	local s=$(date +%s%N) pids=() k
	for k in 1 2 3 4 5 6 7 8; do run "$1" p$k $((n / 8)) & pids+=($!); done
	for k in "${pids[@]}"; do wait "$k"; done
	ms "$s"
}
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }

# A pass of each before measuring warms the page cache and the dynamic loader.
prepare
run mynaguard u0 5
run ga u0 5
rm -f "$T"/failed.* "$T"/harness.*
# Three rounds, the modules alternating, so load from elsewhere falls on
# both; each figure is the median of its three.
rounds=3 my_seq=() ga_seq=() my_par=() ga_par=()
for ((r = 0; r < rounds; r++)); do
	prepare; my_seq+=("$(sequential mynaguard)")
	prepare; ga_seq+=("$(sequential ga)")
	prepare; my_par+=("$(parallel mynaguard)")
	prepare; ga_par+=("$(parallel ga)")
done
my_seq=$(median "${my_seq[@]}") ga_seq=$(median "${ga_seq[@]}")
my_par=$(median "${my_par[@]}") ga_par=$(median "${ga_par[@]}")

per() { awk -v t="$1" -v n="$2" 'BEGIN { printf "%.2f", t / n }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "otp_latency: $n logins per case, median of $rounds rounds, pamtester under pam_wrapper, $(nproc) CPUs"
printf '%-34s %12s %12s\n' "" "ms/login" "wall ms"
printf '%-34s %12s %12s\n' "pam_mynaguard.so sequential" "$(per "$my_seq" "$n")" "$my_seq"
printf '%-34s %12s %12s\n' "pam_google_authenticator sequential" "$(per "$ga_seq" "$n")" "$ga_seq"
printf '%-34s %12s %12s\n' "pam_mynaguard.so 8-way parallel" "$(per "$my_par" "$n")" "$my_par"
printf '%-34s %12s %12s\n' "pam_google_authenticator 8-way" "$(per "$ga_par" "$n")" "$ga_par"
echo "refused logins (should be 0): pam_mynaguard $(failed mynaguard failed), google-authenticator $(failed ga failed)"
echo "pam_wrapper start-up failures (harness): pam_mynaguard runs $(failed mynaguard harness), google-authenticator runs $(failed ga harness)"
[[ ! -f $T/refusals.ga && ! -f $T/refusals.mynaguard ]] || head -3 "$T"/refusals.* >&2
echo "ratio mynaguard/google-authenticator: sequential $(ratio "$my_seq" "$ga_seq"), 8-way parallel $(ratio "$my_par" "$ga_par")"
