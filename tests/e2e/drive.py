#!/usr/bin/env python3
"""Host side of the real-kernel test: runs QEMU (TCG, an xHCI controller,
a QMP socket), hot-plugs the USB devices the guest asks for, and judges the
guest's PASS/FAIL lines (protocol in guest-init.sh).

Exit 0 when the guest reached its end, printed no FAIL and passed every
check named in --expect; 1 otherwise.  The overall deadline only stops a
hung guest; no check depends on how long anything took."""
import argparse
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time

# What each KIND the guest asks for is on the QEMU side.
DEVICES = {
    "usb-kbd": {"driver": "usb-kbd"},
    "usb-ccid": {"driver": "usb-ccid"},
    "usb-storage": {"driver": "usb-storage", "serial": "MG-UNREGISTERED"},
    "usb-storage-registered": {"driver": "usb-storage", "serial": "MG-REGISTERED-1"},
}


class Qmp:
    """A QMP client that keeps the events it reads past."""

    def __init__(self, path):
        for _ in range(600):
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit(f"drive: cannot connect to QMP at {path}")
        self.file = self.sock.makefile("rw")
        self.events = []
        json.loads(self.file.readline())
        self.call("qmp_capabilities")

    def _read(self):
        msg = json.loads(self.file.readline())
        if "event" in msg:
            self.events.append(msg)
            return None
        return msg

    def call(self, command, **args):
        self.file.write(json.dumps({"execute": command, "arguments": args}) + "\n")
        self.file.flush()
        while (msg := self._read()) is None:
            pass
        if "error" in msg:
            raise RuntimeError(f"QMP {command} {args}: {msg['error']['desc']}")
        return msg["return"]

    def wait_event(self, name, device):
        while True:
            for e in self.events:
                if e["event"] == name and e.get("data", {}).get("device") == device:
                    self.events.remove(e)
                    return
            self._read()


def plug(qmp, work, name, kind, log):
    spec = dict(DEVICES[kind])
    if spec["driver"] == "usb-storage":
        image = os.path.join(work, f"{name}.img")
        with open(image, "wb") as f:
            f.truncate(16 << 20)
        qmp.call("blockdev-add", **{"driver": "raw", "node-name": f"blk-{name}",
                                     "file": {"driver": "file", "filename": image}})
        spec["drive"] = f"blk-{name}"
    qmp.call("device_add", id=name, bus="xhci.0", **spec)
    usb = qmp.call("human-monitor-command", **{"command-line": "info usb"}).rstrip()
    log.write(usb + "\n")
    print(usb, flush=True)


def unplug(qmp, name, kinds):
    qmp.call("device_del", id=name)
    qmp.wait_event("DEVICE_DELETED", name)
    if DEVICES[kinds[name]]["driver"] == "usb-storage":
        qmp.call("blockdev-del", **{"node-name": f"blk-{name}"})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--initrd", required=True)
    ap.add_argument("--append", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--expect", required=True, help="file with one check name a line")
    ap.add_argument("--deadline", type=int, default=int(os.environ.get("MG_E2E_DEADLINE", "600")))
    a = ap.parse_args()
    expect = [l.strip() for l in open(a.expect) if l.strip()]
    qmp_path = os.path.join(a.work, "qmp.sock")
    log = open(os.path.join(a.work, "console.log"), "w")
    vm = subprocess.Popen(
        ["qemu-system-x86_64", "-accel", "tcg", "-m", "768", "-smp", "1",
         "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
         "-kernel", a.kernel, "-initrd", a.initrd, "-append", a.append,
         "-device", "qemu-xhci,id=xhci,p2=8,p3=8",
         "-qmp", f"unix:{qmp_path},server=on,wait=off"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l) for l in vm.stdout] and lines.put(None),
                     daemon=True).start()
    qmp = Qmp(qmp_path)
    passed, failed, kinds, ended = set(), [], {}, False
    deadline = time.monotonic() + a.deadline
    try:
        while time.monotonic() < deadline:
            try:
                raw = lines.get(timeout=1)
            except queue.Empty:
                if vm.poll() is not None:
                    break
                continue
            if raw is None:
                break
            line = raw.decode(errors="replace").rstrip("\r\n")
            log.write(line + "\n")
            log.flush()
            print(line, flush=True)
            words = line.split()
            if line.startswith("PASS "):
                passed.add(words[1])
            elif line.startswith("FAIL "):
                failed.append(line[5:])
            elif line.startswith("@@ plug "):
                kinds[words[2]] = words[3]
                plug(qmp, a.work, words[2], words[3], log)
                vm.stdin.write(b"ok\n"); vm.stdin.flush()
            elif line.startswith("@@ unplug "):
                unplug(qmp, words[2], kinds)
                vm.stdin.write(b"ok\n"); vm.stdin.flush()
            elif line == "@@ end":
                ended = True
                break
        else:
            failed.append(f"the guest did not finish within {a.deadline} s (safety deadline)")
    finally:
        vm.kill()
        vm.wait()
    failed_names = {f.split(":")[0] for f in failed}
    missing = [n for n in expect if n not in passed and n not in failed_names]
    if not ended:
        failed.append("the guest stopped before its end (see console.log)")
    for f in failed:
        print(f"e2e: FAIL {f}", file=sys.stderr)
    for n in missing:
        print(f"e2e: check {n} did not pass", file=sys.stderr)
    print(f"e2e: {len(passed)} checks passed, {len(failed) + len(missing)} failed")
    return 0 if ended and not failed and not missing else 1


if __name__ == "__main__":
    sys.exit(main())
