#!/bin/bash
# Installs every Debian package that mynaguard's build, tests, demo and
# benchmarks need: the union of packaging/deps/*.txt, one list per area.
# Idempotent: when everything is present it only says so.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mapfile -t wanted < <(grep -hv '^\s*\(#\|$\)' "$here"/deps/*.txt | sort -u)
missing=()
for p in "${wanted[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
	echo "install-deps: all ${#wanted[@]} packages present"
	exit 0
fi
echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
