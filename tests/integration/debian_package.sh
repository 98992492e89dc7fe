#!/bin/bash
# The Debian packages as a municipal IT vendor installs them: built with
# dpkg-buildpackage, clean under lintian and hardening-check, installed on
# this machine with dpkg -i, laid out where Debian expects, the unit
# verified and scored, an upgrade keeping the keyring, floors and journal,
# and a purge leaving nothing behind.
# ctest-labels: noasan deb
# noasan: dpkg-buildpackage makes its own release build with Debian's
# hardening flags; the packages, not the sanitizer build, are under test.
source "$(dirname "$0")/lib.sh"
pkgs=(mynaguard mynaguard-admin mynaguard-repository)

installed() { dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q 'ok installed\|config-files'; }
purge_all() { dpkg --purge "${pkgs[@]}" >/dev/null 2>&1 || true; }

# This test installs onto the machine it runs on: an earlier copy (a test
# run that was killed) is purged first, and everything is purged at the end.
for p in "${pkgs[@]}"; do
	if installed "$p"; then
		echo "debian_package: $p is installed on this machine; purging it before the test"
		purge_all
		break
	fi
done
at_exit purge_all

v1=$(dpkg-parsechangelog -l "$MG_SOURCE_DIR/packaging/debian/changelog" -S Version)
v2=$v1+upgrade1
out=$T/deb
bash "$MG_SOURCE_DIR/packaging/build-deb.sh" --out "$out" >/dev/null || fail "build-deb.sh $v1 failed"
bash "$MG_SOURCE_DIR/packaging/build-deb.sh" --out "$out" --version "$v2" >/dev/null || fail "build-deb.sh $v2 failed"
debs() { for p in "${pkgs[@]}"; do ls "$out/${p}_$1"_*.deb || fail "no $p $1 package"; done; }
mapfile -t debs_v1 < <(debs "$v1")
mapfile -t debs_v2 < <(debs "$v2")
ok "dpkg-buildpackage built mynaguard, mynaguard-admin and mynaguard-repository"

# lintian: no error and no warning that is not overridden (with its reason)
# in the package.
lintian --fail-on error,warning --tag-display-limit 0 "$out/mynaguard_${v1}_amd64.changes" >"$T/lintian" 2>&1 ||
	{ cat "$T/lintian" >&2; fail "lintian found errors or warnings"; }
ok "lintian: no errors, no warnings ($(grep -c . "$T/lintian" || true) info lines)"

# hardening-check on every ELF file the packages ship: PIE, stack
# protector, fortify, relro, bindnow.  Not control-flow integrity: bookworm's
# crt objects carry no CET property, so no binary linked on bookworm has it
# (nginx and curl from Debian fail that line too).
for deb in "${debs_v1[@]}"; do dpkg -x "$deb" "$T/x"; done
nelf=0
while read -r f; do
	file -b "$f" | grep -q '^ELF' || continue
	hardening-check --quiet --nocfprotection "$f" >"$T/hc" 2>&1 || { cat "$T/hc" >&2; fail "hardening-check: ${f#"$T"/x}"; }
	nelf=$((nelf + 1))
done < <(find "$T/x" -type f)
((nelf >= 4)) || fail "only $nelf ELF files in the packages"
ok "hardening-check (PIE, stack protector, fortify, relro, bindnow) passes on all $nelf binaries"

dpkg -i "${debs_v1[@]}" >"$T/dpkg" 2>&1 || { cat "$T/dpkg" >&2; fail "dpkg -i $v1 failed"; }
ok "dpkg -i of the three packages ($v1)"

for f in /usr/sbin/mynaguardd /usr/sbin/mynaguardctl /usr/bin/mynaguard-admin /usr/bin/mynaguard-clipguard \
	/usr/share/pam-configs/mynaguard /etc/xdg/autostart/mynaguard-clipguard.desktop \
	/usr/share/man/man1/mynaguard-clipguard.1.gz /usr/share/man/man8/mynaguard-otp-check.8.gz \
	/lib/systemd/system/mynaguardd.service /etc/default/grub.d/mynaguard.cfg \
	/etc/mynaguard/mynaguard.conf /etc/nginx/sites-available/mynaguard-repository \
	/usr/share/locale/ja/LC_MESSAGES/mynaguard.mo \
	/usr/share/man/man8/mynaguardd.8.gz /usr/share/man/man8/mynaguardctl.8.gz \
	/usr/share/man/man8/pam_mynaguard.8.gz /usr/share/man/man1/mynaguard-admin.1.gz \
	/usr/share/man/man5/mynaguard-policy.5.gz /usr/share/man/man5/mynaguard-bundle.5.gz \
	/usr/share/man/man5/mynaguard-keyring.5.gz; do
	[[ -e $f ]] || fail "$f not installed"
done
pam=$(ls /usr/lib/*/security/pam_mynaguard.so) || fail "pam_mynaguard.so not installed"
helper=/usr/libexec/mynaguard/mynaguard-otp-check
[[ $(stat -c %a:%U "$helper") == 4755:root ]] || fail "$helper is $(stat -c %a:%U "$helper"), expected setuid root"
grub_cmdline() { (GRUB_CMDLINE_LINUX=; . /etc/default/grub.d/mynaguard.cfg; echo "$GRUB_CMDLINE_LINUX"); }
[[ $(grub_cmdline) == *usbcore.authorized_default=0* ]] || fail "the grub snippet does not set usbcore.authorized_default=0"
ok "layout: programs, unit, $pam, setuid helper, PAM profile, XDG autostart, grub snippet, nginx site, ja catalog, man pages"

# --man=no: the man pages were checked above; man-db need not be installed.
systemd-analyze verify --man=no /lib/systemd/system/mynaguardd.service >"$T/verify" 2>&1 ||
	{ cat "$T/verify" >&2; fail "systemd-analyze verify"; }
[[ ! -s $T/verify ]] || { cat "$T/verify" >&2; fail "systemd-analyze verify warned"; }
systemd-analyze security --offline=true /lib/systemd/system/mynaguardd.service >"$T/security" 2>&1 || true
score=$(sed -n 's/.*Overall exposure level for mynaguardd.service: \([0-9.]*\).*/\1/p' "$T/security")
[[ -n $score ]] || { cat "$T/security" >&2; fail "no score from systemd-analyze security"; }
# docs/install.md quotes the score; a change of the unit that worsens it
# past "OK" (the bands are systemd's) fails here.
awk -v s="$score" 'BEGIN { exit !(s <= 4.0) }' || fail "exposure score $score is above 4.0"
ok "systemd-analyze verify is clean; security --offline exposure $score"

# Terminal state made with the installed tools, as an administrator would.
conf=$T/mynaguard.conf
echo "group = pkgtest" >"$conf"
(cd "$T" &&
	/usr/bin/mynaguard-admin keygen --no-passphrase root >/dev/null &&
	/usr/bin/mynaguard-admin keygen --no-passphrase pol >/dev/null &&
	/usr/bin/mynaguard-admin keyring create --root root.pub --root-threshold 1 --policy pol.pub \
		--policy-threshold 1 --sign root.key -o keyring >/dev/null &&
	echo '{"schema": 1, "description": "package test"}' >policy.json &&
	/usr/bin/mynaguard-admin sign --key pol.key --version 7 --expires 2099-01-01T00:00:00Z \
		--target pkgtest -o bundle policy.json >/dev/null) || fail "mynaguard-admin could not make a keyring and bundle"
/usr/sbin/mynaguardctl --config "$conf" keyring pin "$T/keyring" >/dev/null || fail "keyring pin"
/usr/sbin/mynaguardctl --config "$conf" policy apply "$T/bundle" >/dev/null || fail "policy apply"
state=/var/lib/mynaguard
(cd $state && find keyring bundle terminal.json audit -type f -print0 | sort -z | xargs -0 sha256sum) >"$T/state.sum"
grep -q ' audit/' "$T/state.sum" || fail "no audit journal in $state"
ok "state made by the installed tools: keyring, bundle v7, floors, journal"

dpkg -i "${debs_v2[@]}" >"$T/dpkg" 2>&1 || { cat "$T/dpkg" >&2; fail "dpkg -i $v2 failed"; }
[[ $(dpkg-query -W -f='${Version}' mynaguard) == "$v2" ]] || fail "mynaguard is not at $v2 after the upgrade"
(cd $state && sha256sum --quiet -c "$T/state.sum") || fail "the upgrade changed state files"
/usr/sbin/mynaguardctl --config "$conf" audit verify >/dev/null || fail "audit verify after the upgrade"
/usr/sbin/mynaguardctl --config "$conf" policy show >"$T/show" || fail "policy show after the upgrade"
grep -q 7 "$T/show" || { cat "$T/show" >&2; fail "policy v7 not in force after the upgrade"; }
ok "upgrade to $v2 keeps keyring, bundle, floors and journal byte for byte; the chain verifies"

dpkg --remove mynaguard >/dev/null 2>&1 || fail "dpkg --remove mynaguard"
[[ -f $state/keyring && -f /etc/default/grub.d/mynaguard.cfg ]] || fail "remove (not purge) deleted state or conffiles"
[[ $(grub_cmdline) != *usbcore* ]] || fail "the grub snippet still closes USB with the agent removed"
ok "remove keeps state and conffiles; the kernel snippet no longer counts"

for p in "${pkgs[@]}"; do dpkg-query -L "$p" 2>/dev/null; done | sort -u >"$T/files"
dpkg --purge "${pkgs[@]}" >"$T/dpkg" 2>&1 || { cat "$T/dpkg" >&2; fail "dpkg --purge"; }
for f in $state /etc/mynaguard /run/mynaguard /etc/udev/rules.d/70-mynaguard.rules \
	/etc/default/grub.d/mynaguard.cfg /etc/nginx/sites-available/mynaguard-repository \
	/etc/systemd/system/multi-user.target.wants/mynaguardd.service; do
	[[ ! -e $f ]] || fail "$f left after purge"
done
while read -r f; do
	[[ -d $f || ! -e $f ]] || fail "$f left after purge"
done <"$T/files"
for p in "${pkgs[@]}"; do ! installed "$p" || fail "$p still known to dpkg after purge"; done
ok "purge leaves no file, no state, no conffile behind"
