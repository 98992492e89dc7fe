#!/bin/sh
# PID 1 of the real-kernel test guest (busybox sh).  It reports over the
# serial console, one line each:
#   PASS NAME            a check held
#   FAIL NAME: WHY       a check did not
#   @@ plug NAME KIND    asks the host (drive.py) to hot-plug a device, then
#   @@ unplug NAME       waits for the host's "ok" line on the console
#   @@ end               every phase ran
#
# Storage checks never race the agent: a stick is "blocked" when the kernel
# log since it was plugged has no line from usb-storage or uas for it, no
# interface of it has a driver and no SCSI disk hangs below it, checked
# after udev settled and the agent recorded its decision, and again just
# before it is unplugged.  usb-storage's scan delay therefore cannot hide
# a binding that happened and was undone.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin SYSTEMD_PAGER=cat
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs tmpfs /tmp
exec </dev/console >/dev/console 2>&1
echo 3 >/proc/sys/kernel/printk

STATE=/var/lib/mynaguard
AGENT_PID=
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
# check NAME CMD...: PASS or FAIL by CMD's status.
check() { n=$1; shift; if "$@"; then pass "$n"; else fail "$n" "$*"; fi; }
ask_host() { echo "@@ $*"; read -r _reply; }
bye() { echo "@@ end"; sync; poweroff -f; }

usb_devices() { ls /sys/bus/usb/devices | grep -E '^[0-9]+-[0-9.]+$' | sort; }
klog_lines() { dmesg | wc -l; }

# plug NAME KIND: the host hot-plugs it; sets DEV (sysfs name, e.g. 1-1)
# and KLOG0 (kernel log lines before the plug).
plug() {
	before=$(usb_devices)
	KLOG0=$(klog_lines)
	AUDIT0=$(cat "$STATE"/audit/audit.log 2>/dev/null | wc -l)
	ask_host plug "$1" "$2"
	DEV=
	i=0
	while [ -z "$DEV" ]; do
		for d in $(usb_devices); do
			echo "$before" | grep -qx "$d" || DEV=$d
		done
		[ -n "$DEV" ] && break
		i=$((i + 1))
		[ $i -gt 1200 ] && { diagnose; fail "plug-$1" "no new USB device in sysfs"; return 1; }
		sleep 0.1
	done
	udevadm settle
	eval "DEV_$1=$DEV KLOG_$1=$KLOG0 AUDIT_$1=$AUDIT0"
}

unplug() {
	d=$(eval echo "\$DEV_$1")
	ask_host unplug "$1"
	while [ -e "/sys/bus/usb/devices/$d" ]; do sleep 0.1; done
	udevadm settle
}

# diagnose [DEV]: what a failing check looked at, for the console log.
diagnose() {
	echo "--- usb devices:"; ls /sys/bus/usb/devices | tr '\n' ' '; echo
	if [ -n "${1:-}" ]; then
		for f in /sys/bus/usb/devices/$1 /sys/bus/usb/devices/$1:*; do
			echo "$f authorized=$(cat "$f/authorized" 2>/dev/null) driver=$(readlink "$f/driver" 2>/dev/null)"
		done
	fi
	echo "--- kernel:"; dmesg | tail -15
	echo "--- udevd: $(pidof systemd-udevd) $(udevadm control --ping 2>&1 && echo answers)"
	dmesg | grep -i udev | tail -5
	[ -n "${1:-}" ] && { echo "--- udev events:"; grep -E '^UDEV|^ACTION|^DEVPATH|MYNAGUARD' /tmp/udev-events | grep -A3 "/$1" | tail -24; }
	echo "--- processes:"; ps | grep -v ' \[' | tail -8
	echo "--- agent:"; tail -5 /tmp/agent.log 2>/dev/null
	echo "--- decisions:"; grep -o '"event":"device[^}]*' "$STATE"/audit/audit.log 2>/dev/null | tail -4
	echo "---"
}

# agent_decided NAME SERIAL: waits until the agent's journal has, since NAME
# was plugged, a decision on a device with this serial.
agent_decided() {
	[ -n "$AGENT_PID" ] || return 0
	a=$(eval echo "\$AUDIT_$1")
	i=0
	until tail -n +$((a + 1)) "$STATE"/audit/audit.log 2>/dev/null | grep -q "device.decision.*$2"; do
		i=$((i + 1))
		[ $i -gt 1200 ] && return 1
		sleep 0.1
	done
}

# storage_never_bound NAME: see the header.
storage_never_bound() {
	d=$(eval echo "\$DEV_$1")
	k=$(eval echo "\$KLOG_$1")
	# usb-storage logs "USB Mass Storage device detected" when it takes an
	# interface, and each SCSI host it or uas adds is logged with the
	# interface's name; a refused probe ("not authorized") logs neither.
	if dmesg | tail -n +$((k + 1)) | grep -E "Mass Storage device detected|scsi host[0-9]+: (usb-storage|uas)" | grep -F "$d:"; then
		return 1
	fi
	for intf in /sys/bus/usb/devices/$d:*; do
		[ -e "$intf/driver" ] && { echo "$intf bound to $(basename "$(readlink "$intf/driver")")"; return 1; }
	done
	ls -d /sys/bus/usb/devices/$d/$d:*/host*/target*/*/block/* >/dev/null 2>&1 && { echo "a disk exists below $d"; return 1; }
	return 0
}

keyboard_usable() {
	d=$(eval echo "\$DEV_$1")
	ev=$(ls -d /sys/bus/usb/devices/$d:1.0/*/input/input*/event* 2>/dev/null | head -1)
	drv=$(readlink "/sys/bus/usb/devices/$d:1.0/driver")
	[ "$(cat /sys/bus/usb/devices/$d/authorized)" = 1 ] && [ "${drv##*/}" = usbhid ] &&
		[ -n "$ev" ] && [ -c "/dev/input/${ev##*/}" ] && return 0
	diagnose "$d"
	return 1
}
keyboard_input() { ls -d /sys/bus/usb/devices/$(eval echo "\$DEV_$1"):1.0/*/input/input* 2>/dev/null; }

card_reader_usable() {
	d=$(eval echo "\$DEV_$1")
	[ "$(cat /sys/bus/usb/devices/$d/authorized)" = 1 ] &&
		[ "$(cat /sys/bus/usb/devices/$d:1.0/bInterfaceClass)" = 0b ] &&
		[ "$(cat /sys/bus/usb/devices/$d:1.0/authorized)" = 1 ] &&
		[ -c "/dev/bus/usb/$(printf %03d "$(cat /sys/bus/usb/devices/$d/busnum)")/$(printf %03d "$(cat /sys/bus/usb/devices/$d/devnum)")" ]
}

# stick_disk NAME: prints the SCSI disk below the stick once it exists.
stick_disk() {
	d=$(eval echo "\$DEV_$1")
	i=0
	until b=$(ls /sys/bus/usb/devices/$d/$d:1.0/host*/target*/*/block/ 2>/dev/null) && [ -n "$b" ]; do
		i=$((i + 1))
		[ $i -gt 1200 ] && return 1
		sleep 0.1
	done
	udevadm settle
	echo "$b"
}

# read_only DISK: the kernel says read-only and opening it for writing fails.
read_only() {
	[ "$(cat "/sys/block/$1/ro")" = 1 ] || { echo "/sys/block/$1/ro is not 1"; return 1; }
	[ "$(blockdev --getro "/dev/$1")" = 1 ] || { echo "BLKROGET is not 1"; return 1; }
	if dd if=/dev/zero of="/dev/$1" bs=512 count=1 conv=fsync 2>/dev/null; then
		echo "a write to /dev/$1 succeeded"; return 1
	fi
}

start_agent() {
	mynaguardd --state-dir "$STATE" --config /etc/mynaguard/mynaguard.conf >/tmp/agent.log 2>&1 &
	AGENT_PID=$!
	i=0
	until [ -S /run/mynaguard/control.sock ]; do
		i=$((i + 1))
		kill -0 "$AGENT_PID" 2>/dev/null && [ $i -lt 1200 ] || { cat /tmp/agent.log; return 1; }
		sleep 0.1
	done
}
stop_agent() { kill "-$1" "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null; AGENT_PID=; }

# Layer 0: the kernel command line (the packaged grub snippet) reaches usbcore
# and every root hub, before anything in user space runs.
modprobe xhci_pci
for m in usb_storage uas sd_mod usbhid hid_generic evdev; do modprobe "$m"; done
check kernel-authorized-default [ "$(cat /sys/module/usbcore/parameters/authorized_default)" = 0 ]
hubs_closed() {
	for h in /sys/bus/usb/devices/usb*; do
		[ "$(cat "$h/authorized_default")" = 0 ] || return 1
	done
}
check root-hubs-authorized-default hubs_closed

# Layer 1: udevd with the generated rules, no agent yet.
udevd_start() {
	/sbin/systemd-udevd --daemon && udevadm trigger --action=add && udevadm settle &&
		{ udevadm monitor --udev --property --subsystem-match=usb >/tmp/udev-events 2>&1 & }
}
check udevd-started udevd_start

plug kbd usb-kbd && check keyboard-usable-before-agent keyboard_usable kbd
plug ccid usb-ccid && check card-reader-usable-before-agent card_reader_usable ccid
plug stick usb-storage && check stick-blocked-before-agent storage_never_bound stick
check stick-blocked-before-agent-final storage_never_bound stick
unplug stick

# Layer 2: the agent.
check agent-started start_agent
# inspect_on ID...: mynaguardctl inspect, on the real kernel's sysfs, finds
# these controls in force (PAM and OTP have nothing to look at here).
inspect_on() {
	mynaguardctl --state-dir "$STATE" --config /etc/mynaguard/mynaguard.conf inspect --json >/tmp/inspect 2>&1
	for id in "$@"; do
		grep -A1 "\"id\": \"$id\"" /tmp/inspect | grep -q '"in_force": true' || { cat /tmp/inspect; return 1; }
	done
}
check inspect-finds-controls-in-force inspect_on policy udev-rules usb-controllers agent devices audit
check keyboard-usable-agent-started keyboard_usable kbd
check card-reader-usable-agent-started card_reader_usable ccid
# A keyboard plugged in now meets root hubs the agent closed to interfaces.
plug kbd2 usb-kbd && agent_decided kbd2 0627:0001 &&
	check keyboard-plugged-agent-running keyboard_usable kbd2
plug stick usb-storage && agent_decided stick MG-UNREGISTERED &&
	check stick-blocked-agent-running storage_never_bound stick
plug regstick usb-storage-registered
if disk=$(stick_disk regstick) && agent_decided regstick MG-REGISTERED-1; then
	check registered-stick-read-only read_only "$disk"
else
	diagnose "$DEV_regstick"
	fail registered-stick-read-only "no disk below the registered stick"
fi
check stick-blocked-agent-running-final storage_never_bound stick
unplug stick

kbd_input=$(keyboard_input kbd)
stop_agent TERM
check agent-restarted start_agent
check keyboard-kept-across-restart [ "$(keyboard_input kbd)" = "$kbd_input" ]
check keyboard-usable-after-restart keyboard_usable kbd
check card-reader-usable-after-restart card_reader_usable ccid
disk_kept() { [ -n "$disk" ] && [ "$(stick_disk regstick)" = "$disk" ]; }
check registered-stick-kept-across-restart disk_kept
check registered-stick-read-only-after-restart read_only "$disk"

# Layer 1 again: the agent killed outright.
stop_agent KILL
plug stick usb-storage && check stick-blocked-agent-killed storage_never_bound stick
check keyboard-usable-agent-killed keyboard_usable kbd
plug kbd3 usb-kbd && check keyboard-plugged-agent-killed keyboard_usable kbd3
check stick-blocked-agent-killed-final storage_never_bound stick
unplug stick
bye
