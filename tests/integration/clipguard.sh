#!/bin/bash
# The clipboard guard on a real X server (our own Xvfb) with xclip as the
# applications that copy and paste: numbers are redacted or cleared, wrong
# check digits left alone, block-all and destination rules refuse pastes,
# large INCR selections are capped, and a mute owner does not hang the guard.
source "$(dirname "$0")/lib.sh"
command -v Xvfb >/dev/null && command -v xclip >/dev/null || { echo "skip: no Xvfb or xclip"; exit 77; }
start_xvfb
at_exit '((rc == 0)) || { echo "--- guard log:"; cat "$T/guard.log"; echo "--- Xvfb:"; cat "$T/xvfb.log"; } >&2'
policy() { printf '{"schema":1,"clipboard":%s}' "$1" >"$T/policy.json"; }

# --- block-sensitive, redact with the default mask
policy '{"mode":"block-sensitive","action":"redact","redaction":{"mask":"*"}}'
guard_start --no-agent --policy "$T/policy.json"
expect_grep "mode block-sensitive" "$T/guard.log"
expect_exit 1 timeout 20 mynaguard-clipguard --no-agent --policy "$T/policy.json"
expect_grep "display \"$DISPLAY\" has a clipboard guard already" "$T/err"
ok "one guard per display: a second one refuses to start"

clip_copy clipboard "住民 山田太郎 個人番号 123456789018 です"
[[ $(clip_paste clipboard) == "住民 山田太郎 個人番号 ************ です" ]] || fail "kojin not redacted: $(clip_paste clipboard)"
ok "a valid 個人番号 copied is redacted"

clip_copy clipboard "番号 123456789019 は誤り"
[[ $(clip_paste clipboard) == "番号 123456789019 は誤り" ]] || fail "a wrong check digit was touched"
ok "a wrong check digit is left untouched"

clip_copy clipboard "全角 １２３４５６７８９０１８ と 1234-5678-9018"
[[ $(clip_paste clipboard) == "全角 ************ と ****-****-****" ]] || fail "forms: $(clip_paste clipboard)"
ok "full-width and hyphenated forms are found"

clip_copy clipboard "法人 7000012050002"
[[ $(clip_paste clipboard) == "法人 *************" ]] || fail "hojin: $(clip_paste clipboard)"
ok "a 法人番号 is found"

before=$(guard_decisions)
printf 'text/plain のみ 981506162255' | xclip -selection clipboard -t text/plain -i
wait_until "the guard's decision" guard_decided_after "$before"
[[ $(xclip -selection clipboard -t text/plain -o) == "text/plain のみ ************" ]] || fail "text/plain only"
ok "an owner that offers only text/plain is read too"

clip_copy primary "選択 291417776316"
[[ $(clip_paste primary) == "選択 ************" ]] || fail "primary: $(clip_paste primary)"
ok "PRIMARY is guarded too"

# --- clear
policy '{"action":"clear"}'
guard_start --no-agent --policy "$T/policy.json"
clip_copy clipboard "個人番号 415868344976"
expect_exit 1 clip_paste clipboard
[[ ! -s $T/out ]] || fail "a cleared selection still pasted: $(cat "$T/out")"
clip_copy clipboard "ただの文 42"
[[ $(clip_paste clipboard) == "ただの文 42" ]] || fail "clean text was touched"
ok "with action clear the selection is taken away; clean text passes"

# --- block-all: one process cannot paste what another copied
policy '{"mode":"block-all"}'
guard_start --no-agent --policy "$T/policy.json"
clip_copy clipboard "ordinary text"
expect_exit 1 clip_paste clipboard
expect_grep "paste into /usr/bin/xclip refused (block-all)" "$T/guard.log"
ok "block-all refuses a paste into another process"

# --- a destination rule: a renamed copy of xclip plays the remote-desktop client
cp "$(command -v xclip)" "$T/xfreerdp"
policy '{"action":"redact","destinations":["xfreerdp","remmina","vncviewer"]}'
guard_start --no-agent --policy "$T/policy.json"
clip_copy clipboard "議事録の草稿"
expect_exit 1 clip_paste clipboard "$T/xfreerdp"
expect_grep "paste into $T/xfreerdp refused (destination)" "$T/guard.log"
[[ $(clip_paste clipboard) == "議事録の草稿" ]] || fail "an ordinary paste was refused"
ok "pasting into a remote-desktop client is refused, whatever the content; others paste"

# --- INCR: a selection of several MB, over and under the cap
head -c 4500000 /dev/urandom | base64 -w 76 | tr -d '0-9' >"$T/big.txt"
printf '\n末尾 368595748906\n' >>"$T/big.txt"
size=$(stat -c %s "$T/big.txt")
policy '{"action":"redact","max_bytes":1048576}'
guard_start --no-agent --policy "$T/policy.json"
before=$(guard_decisions)
xclip -selection clipboard -i "$T/big.txt"
wait_until "the guard's decision" guard_decided_after "$before"
expect_grep "CLIPBOARD: oversize" "$T/guard.log"
expect_exit 1 clip_paste clipboard
ok "a $size-byte selection over the 1 MiB cap is read no further and cleared"

policy '{"action":"redact","max_bytes":8388608}'
guard_start --no-agent --policy "$T/policy.json"
before=$(guard_decisions)
xclip -selection clipboard -i "$T/big.txt"
wait_until "the guard's decision" guard_decided_after "$before"
clip_paste clipboard >"$T/pasted"
expect_grep "CLIPBOARD: text, $size bytes by INCR, 1 found -> served for detected" "$T/guard.log"
[[ $(stat -c %s "$T/pasted") == "$size" ]] || fail "INCR: pasted $(stat -c %s "$T/pasted") of $size bytes"
tail -1 "$T/pasted" | grep -qx '末尾 \*\{12\}' || fail "INCR: the number at the end was not redacted"
ok "a $size-byte selection under the cap is read through INCR and redacted"

# --- a mute owner: it owns the clipboard and never answers
kill "$GUARD_PID"; wait "$GUARD_PID" || true; GUARD_PID=    # no guard sees it answer once
printf 'mute' | xclip -quiet -selection clipboard -i &
mute=$!
at_exit "kill -CONT $mute; kill $mute"
wait_until "xclip to own the clipboard" bash -c 'xclip -selection clipboard -o | grep -q mute'
kill -STOP "$mute"
guard_start --no-agent --policy "$T/policy.json"
wait_until "the guard to give up on the mute owner" grep -q "CLIPBOARD: unreadable" "$T/guard.log"
clip_copy clipboard "その後 368595748906"
[[ $(clip_paste clipboard) == "その後 ************" ]] || fail "the guard stopped working after a mute owner"
ok "a mute owner is given up on (and its selection taken), and the guard goes on"

# --- the log carries kinds and counts, never content
! grep -qE '123456789018|415868344976|山田|議事録' "$T/guard.log" || fail "content in the guard's log"
ok "no clipboard content in the guard's log"
