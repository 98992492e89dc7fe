#!/bin/bash
# Read-only storage on a real block device: a loop device with an ext4
# file system, mounted read-write, is made read-only through the enforce
# API (BLKROSET on the disk and its partitions, remount of what is mounted).
# Then the kernel itself refuses every way back to writing: the mount is
# read-only, `mount -o remount,rw` fails, a new read-write mount comes up
# read-only, and writing to the device node fails.
source "$(dirname "$0")/lib.sh"

[[ $(id -u) == 0 ]] || { echo "SKIP: needs root for a loop device"; exit 77; }
command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null || { echo "SKIP: util-linux or e2fsprogs missing"; exit 77; }

truncate -s 32M "$T/disk.img"
mkfs.ext4 -q -F "$T/disk.img"
LOOP=$(losetup -f --show "$T/disk.img" 2>"$T/err") || { cat "$T/err"; echo "SKIP: no loop devices here"; exit 77; }
at_exit losetup -d "$LOOP"
# The read-only flag belongs to the loop device, not the image: it would
# outlive this test and greet the next user of the device.
blockdev --setrw "$LOOP"
at_exit blockdev --setrw "$LOOP"
MODE=$(stat -c %a "$LOOP")
at_exit chmod "$MODE" "$LOOP"
NAME=${LOOP#/dev/}
mkdir "$T/mnt"
mount -o rw "$LOOP" "$T/mnt" || { echo "SKIP: cannot mount here"; exit 77; }
at_exit "umount -l $T/mnt 2>/dev/null"
echo before >"$T/mnt/file"
[[ $(blockdev --getro "$LOOP") == 0 ]] || fail "$LOOP starts read-only"
ok "$LOOP mounted read-write, a file written"

expect_exit 0 mg_devices readonly "$NAME"
ok "enforce: $NAME made read-only"

[[ $(blockdev --getro "$LOOP") == 1 ]] || fail "blockdev --getro says writable"
[[ $(cat "/sys/class/block/$NAME/ro") == 1 ]] || fail "sysfs ro is not 1"
ok "blockdev --getro and /sys/class/block/$NAME/ro read 1"
[[ $(stat -c %a "$LOOP") != *[2367]* ]] || fail "$LOOP is still writable by mode $(stat -c %a "$LOOP")"
ok "nobody has write permission on $LOOP any more (SG_IO writes need it)"

findmnt -no OPTIONS "$T/mnt" | grep -qE '(^|,)ro(,|$)' || fail "the open mount is still read-write"
if (echo after >"$T/mnt/file") 2>"$T/err"; then fail "wrote through the old mount"; fi
ok "the existing mount was remounted read-only; writing fails: $(sed 's/.*: //' "$T/err")"

if mount -o remount,rw "$T/mnt" 2>"$T/err"; then fail "remount,rw succeeded"; fi
findmnt -no OPTIONS "$T/mnt" | grep -qE '(^|,)ro(,|$)' || fail "remount,rw made it writable"
ok "mount -o remount,rw is refused: $(head -1 "$T/err")"

umount "$T/mnt"
mount -o rw "$LOOP" "$T/mnt" 2>"$T/err" || true
if findmnt -no OPTIONS "$T/mnt" >/dev/null 2>&1; then
	findmnt -no OPTIONS "$T/mnt" | grep -qE '(^|,)ro(,|$)' || fail "a new rw mount is writable"
	umount "$T/mnt"
fi
ok "a new read-write mount comes up read-only or not at all"

if dd if=/dev/zero of="$LOOP" bs=4096 count=1 oflag=direct conv=notrunc 2>"$T/err"; then
	fail "dd wrote to $LOOP"
fi
ok "writing the device node fails: $(grep -m1 '^dd:' "$T/err")"
expect_exit 0 mg_devices writable "$NAME"
[[ $(blockdev --getro "$LOOP") == 0 ]] || fail "allow left $NAME read-only"
[[ $(stat -c %a "$LOOP") == "$MODE" ]] || fail "mode $(stat -c %a "$LOOP"), was $MODE"
ok "allowing the device clears the flag again (what the udev rules set on every USB disk)"

expect_exit 1 mg_devices readonly "no-such-disk"
expect_grep "/dev/no-such-disk" "$T/err"
ok "a missing device is an error naming it"
