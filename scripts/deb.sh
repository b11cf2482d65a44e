#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# make deb: the Debian binary packages (sksteer, libsksteer0, libsksteer-dev) of the tree as it
# is, with dpkg-buildpackage, in DEB_DIR (deb/). Built from a copy of the tree without the
# submodules: a Debian package uses the system's libbpf and bpftool (debian/control's
# Build-Depends), as Debian's own packages do.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${DEB_DIR:-deb}

fail() { echo "make deb: $*" >&2; exit 1; }

if ! command -v dpkg-buildpackage >/dev/null || [ ! -e /usr/share/debhelper ]; then
	fail "no dpkg-buildpackage or debhelper: install them ('sudo make deps')"
fi
VERSION=$(sed -n 's/^VERSION := //p' Makefile)
deb=$(dpkg-parsechangelog -S Version 2>/dev/null) || fail "debian/changelog cannot be read"
# a native package (upstream ships debian/): its version is the upstream one, no revision
[ "$deb" = "$VERSION" ] ||
	fail "debian/changelog is at $deb, the Makefile's VERSION $VERSION: make them one ('dch -v $VERSION')"
missing=$(dpkg-checkbuilddeps 2>&1 | sed -n 's/.*Unmet build dependencies: //p')
[ -z "$missing" ] || fail "missing build dependencies: $missing: install them ('sudo make deps')"

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/sksteer-deb.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
mkdir "$STAGE/sksteer-$VERSION"
tar --exclude=./.git --exclude=./.output --exclude=./sksteer --exclude=./release \
	--exclude=./deb --exclude=./.vmtest --exclude='./libbpf/*' --exclude='./bpftool/*' \
	--exclude="./$OUT" -cf - . | tar -C "$STAGE/sksteer-$VERSION" -xf -
(cd "$STAGE/sksteer-$VERSION" && dpkg-buildpackage -b -us -uc -j"$(nproc)" >"$STAGE/build.log" 2>&1) ||
	{ tail -30 "$STAGE/build.log" >&2; fail "dpkg-buildpackage failed (above)"; }
mkdir -p "$OUT"
rm -f "$OUT"/*.deb "$OUT"/*.changes "$OUT"/*.buildinfo
mv "$STAGE"/*.deb "$STAGE"/*.changes "$STAGE"/*.buildinfo "$OUT"/
echo "make deb: $OUT/: $(cd "$OUT" && printf '%s ' ./*.deb | sed 's|\./||g')"
