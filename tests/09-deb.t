# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# make deb: the packages sksteer, libsksteer0 and libsksteer-dev, lintian clean; installed into
# a dpkg root of the test's own (dpkg --root: the host's packages are never touched), they start
# nothing and steer nothing, removing leaves the steering, purging leaves no file; and the
# package of an earlier commit, steering a port, upgraded to this one while a client hammers
# that port: no connection fails, and the new binary's next run upgrades the pins in place. The
# suite's other files pass against the installed binary.
. "$(dirname "$0")/lib.sh"
unset MAKEFLAGS MFLAGS MAKELEVEL SANITIZE

host_builds_only "make deb"
if ! command -v dpkg-buildpackage >/dev/null || ! command -v lintian >/dev/null; then
	skip_all "make deb: no dpkg-buildpackage or lintian (make deps installs them)"
fi

VERSION=$(sed -n 's/^VERSION := //p' "$TOP/Makefile")
ARCH=$(dpkg --print-architecture)
# the tree as it is, in a copy: make deb leaves the checkout alone
mkdir "$WORK/tree"
tar -C "$TOP" --exclude=./.git --exclude=./.output --exclude=./sksteer --exclude=./deb \
	--exclude=./release -cf - . | tar -C "$WORK/tree" -xf -
ok "make deb" make -C "$WORK/tree" -s deb DEB_DIR="$WORK/deb"
is "it builds the three packages (and their debug symbols)" \
	"libsksteer-dev_${VERSION}_$ARCH.deb
libsksteer0-dbgsym_${VERSION}_$ARCH.deb
libsksteer0_${VERSION}_$ARCH.deb
sksteer-dbgsym_${VERSION}_$ARCH.deb
sksteer_${VERSION}_$ARCH.deb" "$(cd "$WORK/deb" && ls ./*.deb | sed 's|^\./||')"
lintian --fail-on error,warning -I "$WORK"/deb/*.changes >"$WORK/lintian" 2>&1
result "lintian: no error, no warning (overrides say why)" $? "$(cat "$WORK/lintian")"
is "nor the infos of a library unfortified or without a symbols file" "" \
	"$(grep -E 'hardening-no-fortify-functions|no-symbols-control-file' "$WORK/lintian")"
contents() { dpkg-deb -c "$WORK/deb/$1_${VERSION}_$ARCH.deb" | awk '{ print $6 }' | grep -v '/$'; }
is "sksteer: the binary, man pages, units, completion, an example" "./usr/lib/systemd/system/sksteer-follow@.service
./usr/lib/systemd/system/sksteer-metrics.service
./usr/lib/systemd/system/sksteer@.service
./usr/sbin/sksteer
./usr/share/bash-completion/completions/sksteer
./usr/share/doc/sksteer/changelog.gz
./usr/share/doc/sksteer/copyright
./usr/share/doc/sksteer/examples/edge.conf
./usr/share/lintian/overrides/sksteer
./usr/share/man/man5/sksteer.conf.5.gz
./usr/share/man/man8/sksteer.8.gz" "$(contents sksteer | sort)"
like "libsksteer0: the shared library" "libsksteer\.so\.0" "$(contents libsksteer0)"
is "libsksteer-dev: header, static library, .so link, .pc" "./usr/include/sksteer/sksteer.h
./usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/libsksteer.a
./usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/libsksteer.so
./usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/pkgconfig/libsksteer.pc" \
	"$(contents libsksteer-dev | grep -v /share/ | sort)"
is "no maintainer script: installing, removing and upgrading run nothing" "" \
	"$(for d in "$WORK"/deb/*.deb; do dpkg-deb -I "$d"; done | grep -E ' (pre|post)(inst|rm) ')"
like "Built-Using names what the static binary carries" \
	"Built-Using: elfutils .*glibc .*libbpf .*zlib" "$(dpkg-deb -I "$WORK/deb/sksteer_${VERSION}_$ARCH.deb")"
# the build's flags reach what is installed (make install with other flags would build afresh)
dpkg-deb -x "$WORK/deb/libsksteer0_${VERSION}_$ARCH.deb" "$WORK/lib0"
like "libsksteer0 is built with _FORTIFY_SOURCE: its calls go through the checked functions" \
	"__[a-z]+_chk@" "$(nm -D "$WORK"/lib0/usr/lib/*/libsksteer.so.0.* 2>&1)"
like "libsksteer0's symbols file holds each function of LIBSKSTEER_0.1 since $VERSION" \
	$'^libsksteer\\.so\\.0 libsksteer0 #MINVER#\n\\* Build-Depends-Package: libsksteer-dev\n.* sksteer_ns__apply@LIBSKSTEER_0\\.1 '"$VERSION" \
	"$(dpkg-deb -I "$WORK/deb/libsksteer0_${VERSION}_$ARCH.deb" symbols)"

# A dpkg root of the test's own
ROOT=$WORK/root
mkdir -p "$ROOT/var/lib/dpkg/info" "$ROOT/var/lib/dpkg/updates"
touch "$ROOT/var/lib/dpkg/status"
rootdpkg() { dpkg --root="$ROOT" --force-depends --force-not-root --log=/dev/null "$@"; }
files() { find "$ROOT" ! -path "$ROOT/var/lib/dpkg/*" | sort; }
empty=$(files)

# An earlier commit's package: its tree with this one's debian/, at a lower version
OLD=03f24d3
if git -C "$TOP" cat-file -e "$OLD^{commit}" 2>/dev/null; then
	mkdir "$WORK/old"
	git -C "$TOP" archive "$OLD" | tar -C "$WORK/old" -xf -
	cp -r "$TOP/debian" "$WORK/old/"
	mkdir -p "$WORK/old/examples" && cp "$TOP/examples/edge.conf" "$WORK/old/examples/"
	sed -i '/bash-completion/d' "$WORK/old/debian/sksteer.install" # it installed none yet
	sed -i "1s/(.*)/(${VERSION}~old)/" "$WORK/old/debian/changelog"
	(cd "$WORK/old" && dpkg-buildpackage -b -us -uc >"$WORK/old.log" 2>&1) || cat "$WORK/old.log"
	ok "the earlier commit ($OLD) packaged, as ${VERSION}~old" \
		test -f "$WORK/sksteer_${VERSION}~old_$ARCH.deb"
	ok "... and installed" rootdpkg -i "$WORK/sksteer_${VERSION}~old_$ARCH.deb"
	SKSTEER_OLD=$ROOT/usr/sbin/sksteer
else
	skip "no commit $OLD in this clone (a shallow one?): the upgrade starts from this package"
	SKSTEER_OLD=
fi

serve 127.0.0.1:9000
if [ -n "$SKSTEER_OLD" ]; then
	ok "the earlier package's binary steers 80" "$SKSTEER_OLD" -p 80 -s 127.0.0.1:9000
	link=$(bpftool link show pinned "$PIN_DIR/link" | awk 'NR == 1 { print $1 }')
	loop_start --expect=80 127.0.0.1:80
	ok "this package installed over it, under load" \
		rootdpkg -i "$WORK/deb/sksteer_${VERSION}_$ARCH.deb"
	ok "the new binary's first run changes the steering in place, under load" \
		"$ROOT/usr/sbin/sksteer" -p 80,443 -s 127.0.0.1:9000
	loop_check "a client hammering 80 through the upgrade never failed, nor strayed"
	is "the same link: upgraded in place, never detached" "$link" \
		"$(bpftool link show pinned "$PIN_DIR/link" | awk 'NR == 1 { print $1 }')"
	is "80 and 443 steered" "80 443" "$(dial 127.0.0.1:80) $(dial 127.0.0.1:443)"
else
	ok "installed" rootdpkg -i "$WORK"/deb/sksteer_"${VERSION}"_"$ARCH".deb
	ok "the installed binary steers 80" "$ROOT/usr/sbin/sksteer" -p 80,443 -s 127.0.0.1:9000
fi
ok "the libraries install beside it" rootdpkg -i "$WORK/deb/libsksteer0_${VERSION}_$ARCH.deb" \
	"$WORK/deb/libsksteer-dev_${VERSION}_$ARCH.deb"
is "the installed package is this one" "$VERSION" \
	"$(dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f '${Version}' sksteer)"
mkdir "$WORK/unpacked"
dpkg-deb -x "$WORK/deb/sksteer_${VERSION}_$ARCH.deb" "$WORK/unpacked"
ok "... its binary installed" cmp "$WORK/unpacked/usr/sbin/sksteer" "$ROOT/usr/sbin/sksteer"
like "... static, stripped" "statically linked.*stripped" "$(file -b "$ROOT/usr/sbin/sksteer")"
is "installing enabled no unit" "" "$(find "$ROOT/etc" -name '*.service' 2>/dev/null)"

# The suite against the installed binary: every file but the builds' own (01, 02, 06 and this),
# which test the tree's build rather than a binary
mapfile -t suite < <(ls "$TOP"/tests/*.t | grep -vE '/(01|02|06|09)-')
SKSTEER=$ROOT/usr/sbin/sksteer prove --exec bash "${suite[@]}" >"$WORK/suite.log" 2>&1
result "the suite passes against the installed binary (${#suite[@]} files)" $? \
	"$(grep -E '^(not ok|Failed|tests/.* (Wstat|Failed))' "$WORK/suite.log" | head -20)"

# Removing leaves the steering; purging leaves no file
ok "dpkg --remove" rootdpkg --remove sksteer libsksteer-dev libsksteer0
is "the steering is as it was: 80 and 443 steered" "80 443" "$(dial 127.0.0.1:80) $(dial 127.0.0.1:443)"
ok "dpkg --purge" rootdpkg --purge sksteer libsksteer-dev libsksteer0
is "every file the packages installed is gone" "$empty" "$(files)"
is "and the steering still is as it was" "80 443" "$(dial 127.0.0.1:80) $(dial 127.0.0.1:443)"
ok "--detach ends it, as the package's man page says" "$SKSTEER" --detach

# Bad input: one line, nothing built
sed -i "1s/(.*)/(9.9.9-1)/" "$WORK/tree/debian/changelog"
STDERR=$(make -C "$WORK/tree" -s deb DEB_DIR="$WORK/deb2" 2>&1 >/dev/null | grep -v '^make: \*\*\*')
is "a changelog of another version than the Makefile's: refused in one line" \
	"make deb: debian/changelog is at 9.9.9-1, the Makefile's VERSION $VERSION: make them one ('dch -v $VERSION')" \
	"$STDERR"
ok "... building nothing" test ! -e "$WORK/deb2"

done_testing
