#!/bin/bash
# The real-kernel test: boots Debian's own kernel under QEMU (TCG) with a
# busybox initramfs holding Debian's udevd, the generated udev rules and
# mynaguardd, hot-plugs USB devices through QMP, and lets the guest prove
# that storage never binds (agent up, agent killed, agent not yet started),
# that the registered stick is read-only, and that keyboard and card reader
# keep working across an agent restart.
#
#   tests/e2e/run.sh            (MG_SOURCE_DIR, MG_BUILD_DIR from the caller
#                                or this tree's build/packaging)
#
# Downloads (linux-image-6.1.0-*-amd64 and udev, by apt-get download) and
# their extracted trees are cached in tests/e2e/cache/ (git-ignored); the
# initramfs and logs go to $MG_BUILD_DIR/e2e/.  Exits 0 only when every
# check the guest is expected to run printed PASS.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
MG_SOURCE_DIR=${MG_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
MG_BUILD_DIR=${MG_BUILD_DIR:-$MG_SOURCE_DIR/build/packaging}
cache=$here/cache
work=$MG_BUILD_DIR/e2e
die() { echo "e2e: $*" >&2; exit 1; }

for tool in qemu-system-x86_64 busybox cpio depmod modprobe apt-get dpkg python3; do
	command -v "$tool" >/dev/null || die "$tool not found (packaging/deps/packaging.txt)"
done
busybox_bin=$(command -v busybox)
[[ $(ldd "$busybox_bin" 2>&1 || true) == *"not a dynamic executable"* ]] ||
	die "$busybox_bin is not static (install busybox-static)"
for prog in agent/mynaguardd admin/mynaguardctl admin/mynaguard-admin tests/mg_testbed; do
	[[ -x $MG_BUILD_DIR/$prog ]] || die "$MG_BUILD_DIR/$prog not built"
done

# fetch PACKAGE: the cached .deb of PACKAGE, downloaded once.
fetch() {
	local pkg=$1 deb
	deb=$(ls "$cache/${pkg}"_*.deb 2>/dev/null | head -1 || true)
	if [[ -z $deb ]]; then
		(cd "$cache" && apt-get download "$pkg" >/dev/null 2>&1) || die "apt-get download $pkg failed"
		deb=$(ls "$cache/${pkg}"_*.deb | head -1)
	fi
	echo "$deb"
}

# unpack DEB DIR: dpkg -x once, marked done by DIR/.done.
unpack() {
	[[ -f $2/.done ]] && return
	rm -rf "$2"; mkdir -p "$2"
	dpkg -x "$1" "$2" && touch "$2/.done"
}

mkdir -p "$cache"
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -1)
[[ -n $kpkg ]] || kpkg=$(ls "$cache" | sed -n 's/^\(linux-image-6\.1\.0-[0-9]*-amd64\)_.*/\1/p' | head -1)
[[ -n $kpkg ]] || die "cannot tell which linux-image-6.1.0-*-amd64 linux-image-amd64 depends on (apt-get update?)"
kver=${kpkg#linux-image-}
kroot=$cache/$kpkg
unpack "$(fetch "$kpkg")" "$kroot"
uroot=$cache/udev
unpack "$(fetch udev)" "$uroot"
[[ -f $kroot/lib/modules/$kver/modules.dep ]] || depmod -b "$kroot" "$kver"

rm -rf "$work"; mkdir -p "$work"
root=$work/root

# copy_bin FILE DEST: FILE at DEST in the initramfs, with the shared
# libraries ldd lists for it at their own paths.
copy_bin() {
	install -D -m 0755 "$1" "$root$2"
	ldd "$1" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
		[[ -e $root$lib ]] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
	done
}

# The modules the guest needs, in dependency order, with their .ko files.
modules=(xhci_pci usb_storage uas sd_mod usbhid hid_generic evdev)
for m in "${modules[@]}"; do
	modprobe -d "$kroot" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
	rel=${ko#"$kroot"}
	install -D -m 0644 "$ko" "$root$rel"
done
cp "$kroot/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$kver/"
depmod -b "$root" "$kver"

mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,run,tmp,var/lib,usr/sbin,lib/udev/rules.d,etc/udev/rules.d}
install -m 0755 "$busybox_bin" "$root/bin/busybox"
for applet in $("$busybox_bin" --list); do
	[[ -e $root/bin/$applet ]] || ln -s busybox "$root/bin/$applet"
done
copy_bin "$uroot/bin/udevadm" /bin/udevadm
# The generated rules make disks read-only with util-linux's blockdev.
copy_bin /usr/sbin/blockdev /usr/sbin/blockdev
ln -sf /bin/udevadm "$root/sbin/systemd-udevd"
# Debian's default rules for the USB, input and block subsystems.
for r in 50-udev-default 60-block 60-persistent-storage 60-input-id 60-persistent-input 80-drivers; do
	[[ -f $uroot/lib/udev/rules.d/$r.rules ]] && cp "$uroot/lib/udev/rules.d/$r.rules" "$root/lib/udev/rules.d/"
done
printf 'root:x:0:0:root:/:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\ndisk:x:6:\ninput:x:101:\nplugdev:x:46:\n' >"$root/etc/group"

copy_bin "$MG_BUILD_DIR/agent/mynaguardd" /usr/sbin/mynaguardd
copy_bin "$MG_BUILD_DIR/admin/mynaguardctl" /usr/sbin/mynaguardctl

# The terminal's trust state, prepared by the administrator's tools on the
# host exactly as on a real terminal: a pinned keyring and an applied
# policy that allows the keyboard and card reader and the registered stick
# read-only.  The generated udev rules come from that policy.
MG_BUILD_DIR=$MG_BUILD_DIR bash "$here/policy.sh" "$work/admin" "$root"

install -m 0755 "$here/guest-init.sh" "$root/init"
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) >"$work/initrd.gz"

# The kernel command line carries the packaged grub snippet's setting.
cmdline=$(grep -o 'usbcore\.authorized_default=[0-9-]*' "$MG_SOURCE_DIR/packaging/grub/mynaguard.cfg") ||
	die "packaging/grub/mynaguard.cfg sets no usbcore.authorized_default"
# Every check the guest runs must pass.
grep -v '^[[:space:]]*#' "$here/guest-init.sh" | grep -oE '(^|[[:space:]])check [a-z0-9-]+' |
	awk '{print $2}' >"$work/expect"
exec python3 "$here/drive.py" --kernel "$kroot/boot/vmlinuz-$kver" --initrd "$work/initrd.gz" \
	--work "$work" --expect "$work/expect" \
	--append "console=ttyS0 quiet loglevel=3 panic=-1 $cmdline"
