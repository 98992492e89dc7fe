#!/bin/bash
# Device decisions against the peer: Debian's usbguard-daemon (its umockdev
# backend, DeviceManagerBackend=umockdev) and mynaguardd (under umockdev's
# preload) decide the same USB stick with 10, 1,000, 10,000 and 50,000
# rules, the matching rule last.  For each size: the median time from the
# device's arrival to `authorized` reading 1 (ROUNDS insertions, each on a
# fresh port), and each daemon's resident memory afterwards.
#
#   bash bench/bench_devices.sh            (as root; builds into build/bench)
#   SIZES="10 1000" ROUNDS=10 bash bench/bench_devices.sh
#
# The arrival is when the test driver is told to add the device (mynaguardd)
# or when the device file appears in usbguard's device directory, so both
# numbers include umockdev creating the device and its uevent.  Insertions
# are a quarter second apart, so each daemon has finished with the last one
# (mynaguardd's audit record is fsync'd after the sysfs write).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${MG_BUILD_DIR:-$src/build/bench}
sizes=${SIZES:-10 1000 10000 50000}
rounds=${ROUNDS:-15}
((EUID == 0)) || { echo "bench_devices: run as root (usbguard-daemon and sysfs writes)"; exit 2; }
command -v usbguard-daemon >/dev/null || { echo "bench_devices: usbguard-daemon missing (apt-get install usbguard)"; exit 2; }

cmake -S "$src" -B "$build" -DMG_TESTS=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target mynaguardd mynaguardctl mynaguard-admin mg_testbed >/dev/null
export PATH="$build/admin:$build/agent:$build/tests:$PATH"
W=$(mktemp -d /tmp/mg-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT
zoo=$src/tests/data/zoo

# The stick (device and interface only), not yet authorized, on port P.
stick() {
	awk '/^P:/{n++} n<=2' "$zoo/stick.umockdev" |
		sed "s/^A: authorized=1$/A: authorized=0/; s#/usb1/1-1#/usb1/1-$1#g; s#1-1:1\.0#1-$1:1.0#g"
}
# Port 99 is the warm-up: the first decision proves the daemon is ready.
for p in 99 $(seq 1 "$rounds"); do stick "$p" >"$W/stick-$p.umockdev"; done

# Keys and a keyring for mynaguard's signed policies.
(cd "$W" && mynaguard-admin keygen --no-passphrase root && mynaguard-admin keygen --no-passphrase policy) >/dev/null
mynaguard-admin keyring create --root "$W/root.pub" --root-threshold 1 --policy "$W/policy.pub" \
	--policy-threshold 1 --sign "$W/root.key" -o "$W/keyring" >/dev/null

rules_usbguard() { # N
	python3 - "$1" <<'PY'
import sys
n = int(sys.argv[1])
for i in range(n - 1):
    print(f'allow id 1d50:{i % 65536:04x} serial "S{i:08d}"')
print('allow id 0781:5581 serial "4C530000000000000001"')
PY
}
policy_mynaguard() { # N
	python3 - "$1" <<'PY'
import json, sys
n = int(sys.argv[1])
rules = [{"id": f"r{i}", "match": {"vendor": "1d50", "product": f"{i % 65536:04x}",
          "serial": f"S{i:08d}"}, "target": "allow"} for i in range(n - 1)]
rules.append({"id": "match", "match": {"vendor": "0781", "product": "5581",
              "serial": "4C530000000000000001"}, "target": "allow"})
print(json.dumps({"schema": 1, "devices": {"default": "block", "new_keyboards": "rules",
                                           "rules": rules}}))
PY
}

# The measuring loop, shared: python3 measure.py KIND ARGS...
cat >"$W/measure.py" <<'PY'
import glob, os, statistics, subprocess, sys, time
kind, rounds, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
U = "/sys/devices/pci0000:00/0000:00:14.0/usb1"

def wait_value(path, want, limit=60.0):
    end = time.perf_counter() + limit
    while time.perf_counter() < end:
        try:
            with open(path) as f:
                if f.read().strip() == want:
                    return time.perf_counter()
        except OSError:
            pass
    sys.exit(f"{path}: never became {want}")

def rss(pid):
    """VmRSS and RssAnon (the heap and stacks alone, without shared libraries), in MB."""
    v = {}
    for line in open(f"/proc/{pid}/status"):
        k, _, rest = line.partition(":")
        if k in ("VmRSS", "RssAnon"):
            v[k] = int(rest.split()[0]) / 1024.0
    return f"{v['VmRSS']:.1f} {v['RssAnon']:.1f}"

lat = []
if kind == "mynaguardd":
    state, conf, zoo = sys.argv[4], sys.argv[5], sys.argv[6]
    tbp = subprocess.Popen(["mg_testbed"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    root = tbp.stdout.readline().split()[1]
    def tb(cmd):
        tbp.stdin.write(cmd + "\n"); tbp.stdin.flush()
        reply = tbp.stdout.readline().strip()
        if reply.startswith("error"):
            sys.exit("testbed: " + reply)
    tb(f"load {zoo}/roothub.umockdev")
    env = dict(os.environ, UMOCKDEV_DIR=root, LD_PRELOAD="libumockdev-preload.so.0")
    agent = subprocess.Popen(["mynaguardd", "--state-dir", state, "--config", conf], env=env,
                             stderr=open(state + "/../log", "w"))
    pid = agent.pid
    ctl = ["mynaguardctl", "--state-dir", state, "--config", conf, "devices"]
    while subprocess.run(ctl, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode:
        if agent.poll() is not None:
            sys.exit("mynaguardd exited")
        time.sleep(0.1)
    for p in [99] + list(range(1, rounds + 1)):
        t0 = time.perf_counter()
        tb(f"load {work}/stick-{p}.umockdev")
        t = wait_value(f"{root}{U}/1-{p}/authorized", "1") - t0
        if p != 99:
            lat.append(t)
        time.sleep(0.25)   # let it finish (audit record, fsync) before the next arrival
    mem = rss(pid)
    agent.terminate(); agent.wait()
    tbp.stdin.close()
    tbp.wait()
    print(f"{statistics.median(lat) * 1000:.3f} {max(lat) * 1000:.3f} {mem}")
    sys.exit(0)
else:
    devdir, pid = sys.argv[4], int(sys.argv[5])
    root = sys.argv[6]
    for p in [99] + list(range(1, rounds + 1)):
        t0 = time.perf_counter()
        os.link(f"{work}/stick-{p}.umockdev", f"{devdir}/stick-{p}.umockdev")
        t = wait_value(f"{root}{U}/1-{p}/authorized", "1", 600.0 if p == 99 else 60.0) - t0
        if p != 99:
            lat.append(t)
        time.sleep(0.25)   # let it finish (audit record, fsync) before the next arrival
print(f"{statistics.median(lat) * 1000:.3f} {max(lat) * 1000:.3f} {rss(pid)}")
PY

wait_file() { for ((i = 0; i < 1200; i++)); do [[ -e $1 ]] && return 0; sleep 0.1; done; echo "timeout: $1" >&2; return 1; }

run_usbguard() { # N -> "median max rss"
	local d=$W/usbguard-$1
	mkdir -p "$d/devices" "$d/ipc"
	# usbguard adds a USB device only below a device it knows: the controller first.
	printf 'P: /devices/pci0000:00/0000:00:14.0\nE: SUBSYSTEM=pci\nE: DRIVER=xhci_hcd\n\n' |
		cat - "$zoo/roothub.umockdev" >"$d/devices/controller.umockdev"
	rules_usbguard "$1" >"$d/rules.conf"
	cat >"$d/usbguard-daemon.conf" <<EOF
RuleFile=$d/rules.conf
ImplicitPolicyTarget=block
PresentDevicePolicy=apply-policy
PresentControllerPolicy=keep
InsertedDevicePolicy=apply-policy
AuthorizedDefault=none
RestoreControllerDeviceState=false
DeviceManagerBackend=umockdev
IPCAllowedUsers=root
IPCAccessControlFiles=$d/ipc
DeviceRulesWithPort=false
AuditBackend=FileAudit
AuditFilePath=$d/audit.log
HidePII=false
EOF
	chmod 600 "$d/usbguard-daemon.conf" "$d/rules.conf"
	local before after root
	before=$(ls -d /tmp/umockdev.* 2>/dev/null | sort)
	USBGUARD_UMOCKDEV_DEVICEDIR=$d/devices LD_PRELOAD=libumockdev-preload.so.0 \
		usbguard-daemon -P -k -c "$d/usbguard-daemon.conf" >"$d/log" 2>&1 &
	local pid=$!
	pids+=("$pid")
	# Its testbed is the umockdev directory that appeared with it.
	for ((i = 0; i < 1200; i++)); do
		after=$(ls -d /tmp/umockdev.* 2>/dev/null | sort)
		root=$(comm -13 <(echo "$before") <(echo "$after") | head -1)
		[[ -n $root && -e $root/sys/devices/pci0000:00/0000:00:14.0/usb1 ]] && break
		sleep 0.1
	done
	[[ -n $root ]] || { tail "$d/log" >&2; return 1; }
	python3 "$W/measure.py" usbguard "$rounds" "$W" "$d/devices" "$pid" "$root"
	kill "$pid"; wait "$pid" 2>/dev/null || true
	rm -rf "$root"
}

run_mynaguardd() { # N -> "median max rss"
	local d=$W/mynaguardd-$1
	mkdir -p "$d/state" "$d/run" "$d/rules"
	printf 'group = bench\nruntime_dir = %s/run\nudev_rules = %s/rules/70-mynaguard.rules\n' "$d" "$d" >"$d/conf"
	policy_mynaguard "$1" >"$d/policy.json"
	mynaguard-admin sign --key "$W/policy.key" --version 1 --expires 2099-01-01T00:00:00Z --target bench \
		-o "$d/bundle" "$d/policy.json" >/dev/null
	mynaguardctl --state-dir "$d/state" --config "$d/conf" keyring pin "$W/keyring" >/dev/null
	mynaguardctl --state-dir "$d/state" --config "$d/conf" policy apply "$d/bundle" >/dev/null 2>&1
	python3 "$W/measure.py" mynaguardd "$rounds" "$W" "$d/state" "$d/conf" "$zoo"
}

printf '%8s | %-16s | %-16s | %-7s | %-19s | %s\n' "" "usbguard" "mynaguardd" "" "RSS, MB" "heap (RssAnon), MB"
printf '%8s | %-16s | %-16s | %-7s | %6s %6s %5s | %6s %6s %5s\n' rules "median (max) ms" "median (max) ms" \
	speedup usbg. mynag. ratio usbg. mynag. ratio
for n in $sizes; do
	if [[ -n ${ONLY_MYNAGUARDD:-} ]]; then gm=1 gx=1 gr=1 ga=1; else read -r gm gx gr ga < <(run_usbguard "$n"); fi
	read -r mm mx mr ma < <(run_mynaguardd "$n")
	python3 - "$n" "$gm" "$gx" "$gr" "$ga" "$mm" "$mx" "$mr" "$ma" <<'PY'
import sys
n, gm, gx, gr, ga, mm, mx, mr, ma = sys.argv[1], *map(float, sys.argv[2:])
print(f"{int(n):>8} | {gm:7.2f} ({gx:6.2f}) | {mm:7.2f} ({mx:6.2f}) | {gm / mm:6.1f}x | "
      f"{gr:6.1f} {mr:6.1f} {mr / gr:5.2f} | {ga:6.1f} {ma:6.1f} {ma / ga:5.2f}")
PY
done
echo "speedup: usbguard's median insert->decision / mynaguardd's; ratio: mynaguardd's memory / usbguard's"
