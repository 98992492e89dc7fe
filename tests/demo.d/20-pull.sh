#!/bin/bash
# Chapter: from the administrators' signature to the terminal, over the
# central server (Debian's nginx serving static files).
source "$MG_SOURCE_DIR/tests/integration/lib.sh"
d=$DEMO/pull
mkdir -p "$d" && cd "$d"
ctl() { mynaguardctl --state-dir "$d/terminal" --config "$d/terminal.conf" "$@"; }

step "Pull: the administrators sign a policy and publish it to a static repository"
for k in root policy; do mynaguard-admin keygen --no-passphrase "$k" >/dev/null; done
mynaguard-admin keyring create --root root.pub --root-threshold 1 --policy policy.pub \
	--policy-threshold 1 --sign root.key -o keyring >/dev/null
cat >policy-v1.json <<'EOF'
{"schema":1,"description":"本庁 住民記録系端末 version 1","fetch":{"interval":900}}
EOF
mynaguard-admin sign --key policy.key --version 1 --expires 2030-03-31T00:00:00Z \
	--target honcho -o v1.bundle policy-v1.json >/dev/null
run mynaguard-admin publish --repo repo v1.bundle
run find repo -type f
run cat repo/honcho/current

step "Pull: nginx serves the repository with the shipped site file"
start_nginx "$d/repo"
echo "central server: $NGINX_URL (packaging/nginx/mynaguard-repository.conf)"

step "Pull: the terminal (keyring pinned at install) polls and applies"
mkdir -p terminal
mynaguardctl --state-dir terminal keyring pin keyring >/dev/null
printf 'terminal_id = honcho-t0012\ngroup = honcho\nrepository = %s\nruntime_dir = %s/run\n' "$NGINX_URL" "$d" >terminal.conf
run cat terminal.conf
run ctl policy pull

step "Pull: the next poll is a conditional GET, answered 304"
run ctl policy pull
run cat "$NGINX_LOG"
echo "(every line names the terminal and the policy version it runs: an inventory for free)"

step "Pull: a tampered bundle is published; the terminal refuses it and keeps version 1"
sed 's/version 1/version 2/' policy-v1.json >policy-v2.json
mynaguard-admin sign --key policy.key --version 2 --expires 2030-03-31T00:00:00Z \
	--target honcho -o v2.bundle policy-v2.json >/dev/null
# Someone with write access to the server extends the expiry in the
# header: one byte, after signing.
sed 's/"expires":"2030-/"expires":"2039-/' v2.bundle >v2-tampered.bundle
run mynaguard-admin publish --repo repo v2-tampered.bundle
rc=0
run ctl policy pull || rc=$?
echo "exit status $rc (1: refused)"
run ctl policy show
run ctl audit show -n 3
run ctl audit verify
