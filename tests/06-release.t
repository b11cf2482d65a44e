# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# make release: from two clones of HEAD in two directories, at two times, the same bytes; the
# source tarball carries the submodules' sources and builds with no git, the vendored libbpf,
# and the system's libbpf hidden, to the released binary's bytes; each binary tarball holds a
# static binary of its machine, and what it needs beside it. A dirty tree, and a changelog of
# another version, are refused in one line. (It releases HEAD: commit what it should see.)
. "$(dirname "$0")/lib.sh"
unset MAKEFLAGS MFLAGS MAKELEVEL SANITIZE

host_builds_only "make release"
if ! git -C "$TOP" rev-parse -q --verify HEAD >/dev/null 2>&1; then
	skip_all "make release: this tree is no git checkout"
fi
# the submodules: checked out, else the mirrors .ci/run gives (as tests/02-builds.t takes them)
if [ ! -f "$TOP/libbpf/src/Makefile" ] && { [ -z "${SKSTEER_MIRROR_LIBBPF:-}" ] ||
	[ -z "${SKSTEER_MIRROR_BPFTOOL:-}" ]; }; then
	skip_all "make release: no submodules checked out, and no mirrors (SKSTEER_MIRROR_LIBBPF, _BPFTOOL)"
fi
# a checkout's own submodules serve as the mirrors of its clones
export SKSTEER_MIRROR_LIBBPF=${SKSTEER_MIRROR_LIBBPF:-$TOP/.git/modules/libbpf}
export SKSTEER_MIRROR_BPFTOOL=${SKSTEER_MIRROR_BPFTOOL:-$TOP/.git/modules/bpftool}
ARCHES="x86_64 aarch64"
if ! command -v aarch64-linux-gnu-gcc >/dev/null; then
	skip "the aarch64 tarball: no cross compiler (make deps-cross)"
	ARCHES=x86_64
fi
[ "$(uname -m)" = x86_64 ] || skip_all "make release is set up for x86-64 hosts"

VERSION=$(sed -n 's/^VERSION := //p' "$TOP/Makefile")
SRC=sksteer-$VERSION
release() { # release DIR [ENV...]: HEAD cloned into DIR, released there, the system's libbpf
	local dir=$1 # hidden, with ENV
	shift
	git clone -q --no-hardlinks "$TOP" "$dir" &&
		without_system_libbpf env RELEASE_ARCHES="$ARCHES" "$@" make -C "$dir" -s release \
			>"$dir.log" 2>&1 || { cat "$dir.log"; return 1; }
}
ok "make release in one clone" release "$WORK/a/sksteer"
sleep 1.1 # another second: nothing may take the time of the run
# another directory, time zone, locale, temporary directory, umask, git's line ends and
# build flags: none may reach the bytes
mkdir -p "$WORK/tmp2" "$WORK/b/elsewhere"
git config --file "$WORK/gitconfig" core.autocrlf true
release_umask() { (umask 077 && release "$@"); }
ok "make release in another directory, later, with other settings" \
	release_umask "$WORK/b/elsewhere/sksteer" TZ=Asia/Tokyo LC_ALL=C.UTF-8 TMPDIR="$WORK/tmp2" \
	GIT_CONFIG_GLOBAL="$WORK/gitconfig" CFLAGS=-O0 EXTRA_CFLAGS=-DX=1
A=$WORK/a/sksteer/release
B=$WORK/b/elsewhere/sksteer/release
files="SHA256SUMS $SRC-src.tar.gz $(for a in $ARCHES; do printf '%s ' "$SRC-$a-linux.tar.gz"; done)"
is "it writes the tarballs and SHA256SUMS" "$(echo $files | tr ' ' '\n' | sort)" "$(ls "$A")"
for f in $files; do
	ok "$f: byte for byte the same" cmp "$A/$f" "$B/$f"
done
ok "SHA256SUMS checks" bash -c "cd '$A' && sha256sum --quiet -c SHA256SUMS"

# The source tarball: the commit, the submodules' sources, no git; builds offline, as released
listing=$(tar -tzf "$A/$SRC-src.tar.gz")
for f in Makefile src/bpf/sksteer.bpf.c libbpf/src/Makefile bpftool/src/Makefile \
	bpftool/libbpf/src/Makefile vmlinux/x86/vmlinux.h; do
	like "the source tarball has $f" "(^|
)$SRC/$f(
|$)" "$listing"
done
is "... and nothing of git" "" "$(grep -E '(^|/)\.git(/|$)' <<<"$listing")"
is "... all of it under $SRC/" "" "$(grep -v "^$SRC/" <<<"$listing")"
is "... root's, dated by the commit" \
	"0/0 $(date -u -d "@$(git -C "$TOP" log -1 --format=%ct)" '+%Y-%m-%d %H:%M')" \
	"$(tar --numeric-owner -tvzf "$A/$SRC-src.tar.gz" | awk '{ print $2, $4, $5 }' | sort -u)"
mkdir "$WORK/offline"
tar -C "$WORK/offline" -xzf "$A/$SRC-src.tar.gz"
ok "it builds in an empty directory with no .git, the system's libbpf hidden" \
	without_system_libbpf bash -c "cd '$WORK/offline/$SRC' && ! [ -e .git ] &&
		make -s sksteer >'$WORK/offline.log' 2>&1" || cat "$WORK/offline.log"
mkdir "$WORK/x86_64"
tar -C "$WORK/x86_64" -xzf "$A/$SRC-x86_64-linux.tar.gz"
ok "... to the released x86_64 binary's bytes" \
	cmp "$WORK/offline/$SRC/sksteer" "$WORK/x86_64/$SRC-x86_64-linux/sksteer"
like "... with the submodules' libbpf and bpftool" "^libbpf, bpftool: submodules" \
	"$(make -C "$WORK/offline/$SRC" -s info 2>&1)"

# Each binary tarball
for arch in $ARCHES; do
	name=$SRC-$arch-linux
	mkdir -p "$WORK/$arch"
	tar -C "$WORK/$arch" -xzf "$A/$name.tar.gz"
	is "$name: what it holds" "LICENSE
LICENSE.BSD-2-Clause
LICENSE.GPL-2.0
README.md
THIRD-PARTY/README
THIRD-PARTY/libbpf/LICENSE
THIRD-PARTY/libbpf/LICENSE.BSD-2-Clause
THIRD-PARTY/libbpf/LICENSE.LGPL-2.1
THIRD-PARTY/libc6-dev/copyright
THIRD-PARTY/libelf-dev/copyright
THIRD-PARTY/zlib1g-dev/copyright
completion/sksteer
sksteer
sksteer.8
sksteer.conf.5
units/sksteer-example.service
units/sksteer-example.socket
units/sksteer-follow@.service
units/sksteer-metrics.service
units/sksteer@.service" "$(cd "$WORK/$arch/$name" && find . -type f | sed 's|^\./||' | sort)"
	bin=$WORK/$arch/$name/sksteer
	case $arch in
	x86_64) machine="Advanced Micro Devices X86-64" magic="x86-64" ;;
	aarch64) machine="AArch64" magic="ARM aarch64" ;;
	esac
	like "$name: file says a static $magic executable" "$magic.*statically linked" "$(file -b "$bin")"
	like "$name: readelf says $machine" "Machine: +$machine" "$(readelf -h "$bin")"
	is "$name: and no interpreter, no shared library" "" \
		"$(readelf -l -d "$bin" 2>&1 | grep -E 'INTERP|NEEDED')"
	is "$name: the units run the binary from /usr/local/sbin" "" \
		"$(grep -l '@SBINDIR@' "$WORK/$arch/$name"/units/*)"
done
is "the x86_64 binary runs" "sksteer $VERSION" \
	"$("$WORK/x86_64/$SRC-x86_64-linux/sksteer" --version | head -1)"
if [[ $ARCHES == *aarch64* ]] && command -v qemu-aarch64-static >/dev/null; then
	is "the aarch64 binary runs (qemu-user)" "sksteer $VERSION" \
		"$(qemu-aarch64-static "$WORK/aarch64/$SRC-aarch64-linux/sksteer" --version | head -1)"
fi

# Bad input: one line, nothing written
C=$WORK/a/sksteer
echo "# edited" >>"$C/README.md"
# (make adds its own "make: *** [Makefile:N: release] Error 1")
STDERR=$(make -C "$C" -s release RELEASE_DIR="$WORK/dirty" 2>&1 >/dev/null | grep -v '^make: \*\*\*')
is "a dirty tree: refused in one line" \
	"make release: the tree has uncommitted changes ('git status'): commit or stash them first, a release is built from a commit alone" \
	"$STDERR"
ok "... writing nothing" test ! -e "$WORK/dirty"
git -C "$C" checkout -q README.md
mkdir -p "$C/debian"
printf 'sksteer (9.9.9-1) unstable; urgency=medium\n\n  * Other.\n\n -- A <a@example.org>  Sun, 06 Dec 2026 00:00:00 +0000\n' \
	>"$C/debian/changelog"
git -C "$C" add debian/changelog
git -C "$C" -c user.name=t -c user.email=t@example.org commit -q -m "another version"
STDERR=$(make -C "$C" -s release RELEASE_DIR="$WORK/other" 2>&1 >/dev/null | grep -v '^make: \*\*\*')
like "a changelog of another version: refused in one line" \
	"^make release: debian/changelog is at 9\.9\.9-1, the Makefile's VERSION $VERSION: make them one \('dch -v $VERSION'\)$" \
	"$STDERR"
ok "... writing nothing" test ! -e "$WORK/other"

done_testing
