#!/bin/bash
# Detector throughput against grep: 100 MB of mixed Japanese and ASCII text
# with numbers sprinkled in (generated under the build tree, never
# committed), scanned by `mynaguardctl scan` (both detectors, check digits
# verified) and by `grep -P '\d{12}'` (a bare 12-digit pattern that checks
# nothing), timed by hyperfine.  The detector alone is also timed
# (tests/tools/mg_detect_bench: map the file, count).  Prints each one's
# median and its ratio to grep.
#   bash bench/detect.sh [MEGABYTES]        (default 100)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${MG_BUILD_DIR:-$src/build/bench}
mb=${1:-100}
text=$build/bench-detect-$mb.txt

cmake -S "$src" -B "$build" -DMG_TESTS=ON >/dev/null
cmake --build "$build" -j "$(nproc)" --target mynaguardctl mg_detect_bench >/dev/null

# Lines from a fixed seed: business prose, addresses, dates, phone numbers,
# amounts, and 12/13-digit numbers (some valid, some not, some full-width
# or grouped) at about one per 2 KB.  A 4 MB block is repeated to the size.
generate() {
	python3 - "$1" "$2" <<'PY'
import random, sys
out, mb = sys.argv[1], int(sys.argv[2])
rnd = random.Random(20261206)
words = ["住民票", "の写し", "を交付", "しました", "転入届", "世帯主", "東京都", "千代田区",
         "申請書", "受付", "担当者", "確認", "については", "課税証明", "国民健康保険",
         "Application", "received", "status", "OK", "record", "updated", "id", "form"]
fw = str.maketrans("0123456789-", "０１２３４５６７８９－")
def kojin():
    d = [rnd.randrange(10) for _ in range(11)]
    s = sum(d[11 - n] * (n + 1 if n <= 6 else n - 5) for n in range(1, 12)) % 11
    d.append(0 if s <= 1 else 11 - s)
    if rnd.random() < 0.3: d[11] = (d[11] + 1) % 10
    t = "".join(map(str, d))
    r = rnd.random()
    if r < 0.2: t = t[:4] + "-" + t[4:8] + "-" + t[8:]
    elif r < 0.35: t = t.translate(fw)
    return t
def filler():
    r = rnd.random()
    if r < 0.12: return "%04d-%02d-%02d" % (rnd.randrange(1990, 2030), rnd.randrange(1, 13), rnd.randrange(1, 29))
    if r < 0.18: return "03-%04d-%04d" % (rnd.randrange(10000), rnd.randrange(10000))
    if r < 0.25: return "{:,}円".format(rnd.randrange(10**7))
    return "".join(rnd.choice(words) for _ in range(rnd.randrange(3, 9)))
block, size = [], 0
while size < 4 << 20:
    line = "、".join(filler() for _ in range(rnd.randrange(4, 12)))
    if rnd.random() < 0.08: line += " 個人番号 " + kojin()
    if rnd.random() < 0.01: line += " 法人番号 T" + str(rnd.randrange(10**12, 10**13))
    line += "\n"
    block.append(line)
    size += len(line.encode())
data = "".join(block).encode()
with open(out, "wb") as f:
    for _ in range((mb << 20) // len(data)):
        f.write(data)
    f.write(data[:(mb << 20) % len(data)])
PY
}

[[ -f $text ]] || generate "$text" "$mb"
bytes=$(stat -c %s "$text")
cat "$text" >/dev/null        # both runs read from the page cache

# hyperfine runs both, interleaved warm-up included, 15 times each; the
# output goes through a pipe because GNU grep stops at the first match when
# it sees /dev/null.  Medians, which a busy machine disturbs least.
empty=$build/bench-detect-empty.txt
: >"$empty"
hyperfine --style none --output pipe -N --ignore-failure --warmup 2 --runs 15 \
	--export-json "$build/bench-detect.json" \
	"$build/tests/mg_detect_bench $text" \
	"$build/admin/mynaguardctl scan $text" \
	"env LC_ALL=C.UTF-8 grep -P -c '\\d{12}' $text" \
	"$build/admin/mynaguardctl scan $empty" >/dev/null 2>"$build/bench-detect.err" ||
	{ cat "$build/bench-detect.err" >&2; exit 1; }
# Wall-clock medians, and CPU seconds (user + system, mean), which other
# work on a busy machine disturbs less.
read -r detector ours peer startup < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(*(x["median"] for x in r))' "$build/bench-detect.json")
read -r cdetector cours cpeer < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(*(x["user"] + x["system"] for x in r[:3]))' "$build/bench-detect.json")
found=$("$build/admin/mynaguardctl" scan "$text" | wc -l || true)
lines=$(LC_ALL=C.UTF-8 grep -P -c '\d{12}' "$text" || true)

mbps() { awk -v n="$bytes" -v t="$1" 'BEGIN { printf "%d", n / 1048576 / t }'; }
printf '%s MB of text, %s lines\n' "$((bytes >> 20))" "$(wc -l <"$text")"
ratio() { awk -v p="$1" -v o="$2" 'BEGIN { printf "%.2f", p / o }'; }
printf '                              wall (median)              CPU (user+sys)\n'
printf '  detector (mg_detect_bench)  %6.3f s %5s MB/s %5s x  %6.3f s %5s x grep\n' "$detector" \
	"$(mbps "$detector")" "$(ratio "$peer" "$detector")" "$cdetector" "$(ratio "$cpeer" "$cdetector")"
printf '  mynaguardctl scan           %6.3f s %5s MB/s %5s x  %6.3f s %5s x grep\n' "$ours" \
	"$(mbps "$ours")" "$(ratio "$peer" "$ours")" "$cours" "$(ratio "$cpeer" "$cours")"
printf "  grep -P '\\\\d{12}'            %6.3f s %5s MB/s  1.00 x  %6.3f s  1.00 x\n" \
	"$peer" "$(mbps "$peer")" "$cpeer"
printf '  found: %s numbers with valid check digits; grep: %s lines with 12 digits in a row\n' \
	"$found" "$lines"
printf '  (mynaguardctl scan of an empty file: %.1f ms, the start-up of a tool that links every verb'"'"'s libraries)\n' \
	"$(awk -v t="$startup" 'BEGIN { print t * 1000 }')"

