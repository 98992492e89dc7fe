#!/bin/bash
# Builds mynaguard three ways and runs everything:
#   1. release build (the hardening flags), every ctest test;
#   2. ASan + UBSan build, the same tests (those labelled noasan excepted);
#   3. clang libFuzzer build, each fuzz target for FUZZ_SECONDS (default 10).
# Ends with "N passed, N failed" and exits non-zero on any failure.
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=${MG_BUILD_ROOT:-$src/build}
jobs=${MG_JOBS:-$(nproc)}
fuzz_seconds=${FUZZ_SECONDS:-10}
passed=0 failed=0
failures=()

note() { printf '\n=== %s\n' "$*"; }

# Adds ctest's counts from its log ("N tests failed out of M").
count_ctest() {
	local log=$1 total fails
	total=$(sed -n 's/.*tests passed, [0-9]* tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -1)
	fails=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of.*/\1/p' "$log" | tail -1)
	if [[ -z $total ]]; then
		failed=$((failed + 1)); failures+=("$2: ctest did not finish")
		return
	fi
	passed=$((passed + total - fails)); failed=$((failed + fails))
	while read -r name; do failures+=("$2: $name"); done < <(sed -n 's/^\s*[0-9]* - \(.*\) (.*)$/\1/p' "$log")
}

build() { # DIR CMAKE-ARGS...
	local dir=$1; shift
	cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$dir.configure.log" 2>&1 &&
		cmake --build "$dir" -j "$jobs" >"$dir.build.log" 2>&1
}

run_suite() { # NAME DIR CTEST-ARGS...
	local name=$1 dir=$2; shift 2
	note "$name: tests"
	(cd "$dir" && ctest --output-on-failure -j "$jobs" --timeout 900 "$@") 2>&1 | tee "$dir.ctest.log"
	count_ctest "$dir.ctest.log" "$name"
}

mkdir -p "$out"

note "release build"
if build "$out/release"; then
	run_suite release "$out/release"
else
	tail -40 "$out/release.build.log" "$out/release.configure.log"; failed=$((failed + 1)); failures+=("release build")
fi

note "ASan+UBSan build"
if build "$out/asan" -DMG_SANITIZE=ON; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		run_suite asan "$out/asan" -LE noasan
else
	tail -40 "$out/asan.build.log"; failed=$((failed + 1)); failures+=("asan build")
fi

note "libFuzzer build (clang), $fuzz_seconds s per target"
if CC=clang build "$out/fuzz" -DMG_FUZZ=ON; then
	for fz in "$out"/fuzz/tests/fuzz/fuzz_*; do
		[[ -x $fz ]] || continue
		name=$(basename "$fz")
		corpus=$(mktemp -d)
		[[ -d $src/tests/fuzz/corpus/$name ]] && cp -r "$src/tests/fuzz/corpus/$name"/. "$corpus"/
		if (cd "$corpus" && "$fz" -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 "$corpus" >"$out/$name.log" 2>&1); then
			runs=$(grep -o 'Done [0-9]* runs' "$out/$name.log" | tail -1)
			echo "fuzz $name: ok ($runs)"; passed=$((passed + 1))
		else
			echo "fuzz $name: FAILED"; tail -30 "$out/$name.log"; failed=$((failed + 1)); failures+=("fuzz $name")
		fi
		rm -rf "$corpus"
	done
else
	tail -40 "$out/fuzz.build.log"; failed=$((failed + 1)); failures+=("fuzz build")
fi

note "summary"
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "$passed passed, $failed failed"
((failed == 0))
