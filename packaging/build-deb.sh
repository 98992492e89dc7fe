#!/bin/bash
# Builds the Debian packages without touching the source tree: copies the
# tree (no build trees, caches or .git) to OUT/src/mynaguard-VERSION, moves
# packaging/debian to debian/ there and runs dpkg-buildpackage -us -uc -b.
# The .debs (with their -dbgsym companions), .buildinfo and .changes land
# in OUT.
#
#   packaging/build-deb.sh [--out DIR] [--version VERSION]
#
# --out      default build/deb in the source tree
# --version  adds a changelog entry with this version first (the upgrade
#            test builds a bumped package this way)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=$src/build/deb
version=
while (($#)); do
	case $1 in
	--out) out=$2; shift 2 ;;
	--version) version=$2; shift 2 ;;
	*) echo "build-deb.sh: unknown argument '$1' (usage: build-deb.sh [--out DIR] [--version VERSION])" >&2; exit 2 ;;
	esac
done
for tool in dpkg-buildpackage dh cmake; do
	command -v "$tool" >/dev/null || { echo "build-deb.sh: $tool not found (bash packaging/install-deps.sh)" >&2; exit 2; }
done

version=${version:-$(dpkg-parsechangelog -l "$src/packaging/debian/changelog" -S Version)}
tree=$out/src/mynaguard-$version
rm -rf "$tree"
mkdir -p "$tree"
tar -C "$src" --exclude='./build*' --exclude=./.git --exclude=./tests/e2e/cache \
	--exclude=./packaging/debian -cf - . | tar -C "$tree" -xf -
cp -r "$src/packaging/debian" "$tree/debian"
if [[ $version != "$(dpkg-parsechangelog -l "$tree/debian/changelog" -S Version)" ]]; then
	{
		printf 'mynaguard (%s) unstable; urgency=medium\n\n  * Rebuilt as %s.\n\n' "$version" "$version"
		printf ' -- mynaguard maintainers <mynaguard-maintainers@example.org>  %s\n\n' "$(date -R)"
		cat "$src/packaging/debian/changelog"
	} >"$tree/debian/changelog"
fi
(cd "$tree" && DEB_BUILD_OPTIONS="parallel=${MG_JOBS:-2}" dpkg-buildpackage -us -uc -b) >"$out/build-$version.log" 2>&1 ||
	{ tail -40 "$out/build-$version.log" >&2; echo "build-deb.sh: dpkg-buildpackage failed (log: $out/build-$version.log)" >&2; exit 1; }
# dpkg-buildpackage writes next to the tree it built.
for f in "$out"/src/mynaguard*_"$version"_*.{deb,buildinfo,changes}; do
	mv -f "$f" "$out"/
done
ls "$out"/mynaguard*_"$version"_*.deb
