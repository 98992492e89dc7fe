#!/bin/bash
# Chapter: the clipboard guard.  Under an Xvfb of its own, xclip copies a
# 個人番号; the guard redacts it; a paste into a remote-desktop client
# (a renamed copy of xclip) is refused whatever the content.
set -euo pipefail
dir=$DEMO/clipboard
mkdir -p "$dir"
until_true() { for _ in $(seq 200); do "$@" && return 0; sleep 0.1; done; echo "timed out: $*" >&2; return 1; }

step "Clipboard: try the detectors on sample text"
printf '住民票の写し 個人番号 1234-5678-9018\n法人番号 7000012050002\n誤記 123456789019\n' >"$dir/sample.txt"
run mynaguardctl scan "$dir/sample.txt"

step "Clipboard: the guard in an X11 session (Xvfb), policy: redact, no pasting into xfreerdp"
: >"$dir/display"
Xvfb -displayfd 3 -nolisten tcp -noreset 3>"$dir/display" 2>/dev/null &
echo $! >"$DEMO/xvfb.pid"
until_true test -s "$dir/display"
export DISPLAY=:$(head -1 "$dir/display")
cat >"$dir/policy.json" <<'JSON'
{"schema":1,"clipboard":{"mode":"block-sensitive","action":"redact","redaction":{"mask":"＊"},
 "destinations":["xfreerdp","remmina","vncviewer"]}}
JSON
cat "$dir/policy.json"
mynaguard-clipguard --no-agent --policy "$dir/policy.json" 2>"$dir/guard.log" &
echo $! >"$DEMO/clipguard.pid"
until_true grep -q guarding "$dir/guard.log"
decisions() { grep -c -- ' -> ' "$dir/guard.log" || true; }
more_than() { (($(decisions) > $1)); }

n=$(decisions)
echo "\$ printf '個人番号 1234-5678-9018 の住民' | xclip -selection clipboard -i"
printf '個人番号 1234-5678-9018 の住民' | xclip -selection clipboard -i
until_true more_than "$n"
echo "pasted:"
run xclip -selection clipboard -o; echo

cp "$(command -v xclip)" "$dir/xfreerdp"
echo "pasting into a remote-desktop client (a copy of xclip named xfreerdp):"
run "$dir/xfreerdp" -selection clipboard -o 2>&1 || echo "(refused, exit $?)"
echo "the guard's log (kinds and counts, never content):"
sed 's/^/    /' "$dir/guard.log"
kill "$(cat "$DEMO/clipguard.pid")" "$(cat "$DEMO/xvfb.pid")"
