#!/bin/bash
# Chapter: the signed-policy path, from a key ceremony on the
# administrators' offline machine to a terminal enforcing the policy.
set -euo pipefail
d=$DEMO/policy
mkdir -p "$d" && cd "$d"
ctl() { mynaguardctl --state-dir "$d/terminal" --config "$d/terminal.conf" "$@"; }

step "Policy: key ceremony (two root keys, two policy keys: the two-person rule)"
# In a real ceremony each administrator types a passphrase into a file on
# the offline machine; it never appears on a command line.
printf 'demo passphrase for the root keys\n' >root.pass
run mynaguard-admin keygen --passphrase-file root.pass root-kacho
run mynaguard-admin keygen --passphrase-file root.pass root-jicho
run mynaguard-admin keygen --no-passphrase policy-tanaka
run mynaguard-admin keygen --no-passphrase policy-suzuki
run ls -l root-kacho.key root-kacho.pub

step "Policy: the keyring (the trust root): roots 2 of 2, policy keys 2 of 2"
run mynaguard-admin keyring create --root root-kacho.pub --root root-jicho.pub --root-threshold 2 \
	--policy policy-tanaka.pub --policy policy-suzuki.pub --policy-threshold 2 \
	--sign root-kacho.key --sign root-jicho.key --passphrase-file root.pass -o keyring
run mynaguard-admin inspect keyring

step "Policy: Tanaka signs version 1; Suzuki co-signs on her own machine"
cat >policy-v1.json <<'JSON'
{"schema":1,"description":"本庁 住民記録系端末","fetch":{"interval":900}}
JSON
run mynaguard-admin sign --key policy-tanaka.key --version 1 --expires 2030-03-31T00:00:00Z \
	--target honcho -o v1.bundle policy-v1.json
printf '$ mynaguard-admin verify --keyring keyring --target honcho v1.bundle   # one signature is not enough\n'
mynaguard-admin verify --keyring keyring --target honcho v1.bundle || echo "(exit $?: rejected)"
run mynaguard-admin cosign --key policy-suzuki.key v1.bundle
run mynaguard-admin verify --keyring keyring --target honcho v1.bundle
run head -c 600 v1.bundle
echo

step "Policy: the terminal pins the keyring (from approved media) and applies the bundle"
printf 'terminal_id = honcho-t0001\ngroup = honcho\nruntime_dir = %s/run\n' "$d" >terminal.conf
run ctl keyring pin keyring
run ctl policy apply v1.bundle
run ctl policy apply v1.bundle
run ctl policy show
run ctl status

step "Policy: a tampered bundle is rejected with its reason; version 1 stays in force"
sed 's/"interval":900/"interval":901/' v1.bundle >tampered.bundle
printf '$ mynaguardctl policy apply tampered.bundle\n'
ctl policy apply tampered.bundle || echo "(exit $?: rejected, last-known-good kept)"
run cmp v1.bundle terminal/bundle
run ctl policy show --json

step "Policy: every decision is in the tamper-evident audit journal"
run ctl audit show -n 5
run ctl audit verify
