#!/bin/bash
# policy.sh ADMIN-DIR ROOT: the terminal state and udev rules the guest boots with.
set -euo pipefail
admin=$1 root=$2
mkdir -p "$admin" "$root/etc/mynaguard" "$root/var/lib/mynaguard"
cat >"$root/etc/udev/rules.d/70-mynaguard.rules" <<'RULES'
ACTION!="add", GOTO="mg_end"
SUBSYSTEM!="usb", GOTO="mg_end"
ENV{DEVTYPE}=="usb_device", TEST=="interface_authorized_default", ATTR{interface_authorized_default}="0"
ENV{DEVTYPE}=="usb_device", ATTR{authorized}=="0", ATTR{authorized}="1"
ENV{DEVTYPE}=="usb_interface", ATTR{bInterfaceClass}=="03|0b|09", ATTR{authorized}="1", RUN+="/bin/sh -c 'echo $kernel >/sys/bus/usb/drivers_probe'"
LABEL="mg_end"
RULES
