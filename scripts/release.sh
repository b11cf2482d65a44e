#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# make release: from the commit checked out (a clean tree), in RELEASE_DIR (release/):
#   sksteer-VERSION-src.tar.gz            the sources with the libbpf and bpftool submodules',
#                                         which build offline, with no git
#   sksteer-VERSION-ARCH-linux.tar.gz     x86_64 and aarch64: the static binary, built from that
#                                         tarball with the vendored libbpf; man pages, units,
#                                         bash completion, licenses, README
#   SHA256SUMS
# Byte-reproducible: every date is the commit's (SOURCE_DATE_EPOCH), entries sorted, owners
# root and modes fixed; the builds map their directory away (make's PREFIX_MAP). Where the
# submodules are not checked out, their pinned commits come from the git mirrors
# SKSTEER_MIRROR_LIBBPF and SKSTEER_MIRROR_BPFTOOL (as tests/02-builds.t takes them).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${RELEASE_DIR:-release}
ARCHES=${RELEASE_ARCHES:-x86_64 aarch64}

fail() { echo "make release: $*" >&2; exit 1; }

# this tree's own checkout (not one it was unpacked inside), with a commit
if [ "$(git rev-parse --show-toplevel 2>/dev/null)" != "$PWD" ] ||
	! git rev-parse -q --verify HEAD >/dev/null 2>&1; then
	fail "this is no git checkout: a release is made from a commit (the source tarball has one)"
fi
[ -z "$(git status --porcelain --untracked-files=no --ignore-submodules=all)" ] ||
	fail "the tree has uncommitted changes ('git status'): commit or stash them first, a release is built from a commit alone"
VERSION=$(sed -n 's/^VERSION := //p' Makefile)
[[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
	fail "VERSION in the Makefile is '$VERSION': give it as MAJOR.MINOR.PATCH"
if [ -f debian/changelog ]; then
	deb=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
	[ "$deb" = "$VERSION" ] ||
		fail "debian/changelog is at $deb, the Makefile's VERSION $VERSION: make them one ('dch -v $VERSION')"
fi
export SOURCE_DATE_EPOCH
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)
export TZ=UTC LC_ALL=C
umask 022
# nothing of the caller's build settings reaches the release's builds
unset CFLAGS CPPFLAGS LDFLAGS EXTRA_CFLAGS EXTRA_LDFLAGS CC CROSS_COMPILE MAKEFLAGS MFLAGS \
	MAKELEVEL SANITIZE
# git's own settings neither: the files as committed, LF line ends whatever core.autocrlf says
git() { command git -c core.autocrlf=false -c core.eol=lf "$@"; }

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/sksteer-release.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
SRC=sksteer-$VERSION

# A deterministic tarball of DIR's entry NAME: sorted, the commit's time, root's, fixed modes.
pack() { # pack DIR NAME TARBALL
	tar -C "$1" --sort=name --format=gnu --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 \
		--numeric-owner --mode='u+w,go-w,a+rX,ug-s' -cf - "$2" | gzip -n -9 >"$3"
}

# The commit that git repository REPO pins for its submodule PATH at COMMIT.
pinned() { git --git-dir="$1" ls-tree "$2" -- "$3" | awk '$2 == "commit" { print $3 }'; }
# A git directory that has COMMIT: the checked-out submodule's, else the mirror.
source_of() { # source_of SUBMODULE_GIT_DIR MIRROR COMMIT
	local d
	for d in "$1" "$2"; do
		[ -n "$d" ] && git --git-dir="$d" cat-file -e "$3^{commit}" 2>/dev/null &&
			{ echo "$d"; return; }
	done
	fail "no commit $3 of ${1##*/.git/modules/} here: check the submodules out ('git submodule update --init --recursive'), or give a git mirror (SKSTEER_MIRROR_LIBBPF, SKSTEER_MIRROR_BPFTOOL)"
}
archive_into() { git --git-dir="$1" archive --format=tar "$2" | tar -C "$3" -xf -; }

# The sources: the commit, and the submodules at the commits it pins.
mkdir -p "$STAGE/$SRC"
git archive --format=tar HEAD | tar -C "$STAGE/$SRC" -xf -
gitdir=$(git rev-parse --git-dir)
libbpf=$(pinned "$gitdir" HEAD libbpf)
bpftool=$(pinned "$gitdir" HEAD bpftool)
if [ -z "$libbpf" ] || [ -z "$bpftool" ]; then
	fail "HEAD pins no libbpf and bpftool submodules"
fi
libbpf_git=$(source_of "$gitdir/modules/libbpf" "${SKSTEER_MIRROR_LIBBPF:-}" "$libbpf")
bpftool_git=$(source_of "$gitdir/modules/bpftool" "${SKSTEER_MIRROR_BPFTOOL:-}" "$bpftool")
inner=$(pinned "$bpftool_git" "$bpftool" libbpf)
inner_git=$(source_of "$gitdir/modules/bpftool/modules/libbpf" "${SKSTEER_MIRROR_LIBBPF:-}" "$inner")
archive_into "$libbpf_git" "$libbpf" "$STAGE/$SRC/libbpf"
archive_into "$bpftool_git" "$bpftool" "$STAGE/$SRC/bpftool"
archive_into "$inner_git" "$inner" "$STAGE/$SRC/bpftool/libbpf"
# written whole in $STAGE/out, then moved: a failed run leaves OUT as it was
mkdir -p "$STAGE/out"
pack "$STAGE" "$SRC" "$STAGE/out/$SRC-src.tar.gz"

# The licences of what the static binary carries besides sksteer: the vendored libbpf's, and
# the copyright files of the libelf, zlib and libc it was linked with (Debian's, per machine).
third_party() { # third_party TREE ARCH DIR
	local deb=$2 p
	[ "$2" = x86_64 ] && deb=amd64
	[ "$2" = aarch64 ] && deb=arm64
	mkdir -p "$3/libbpf"
	cp "$1"/libbpf/LICENSE* "$3/libbpf/"
	for p in libelf-dev zlib1g-dev libc6-dev; do
		local doc
		doc=$(dpkg -L "$p:$deb" 2>/dev/null | grep '/copyright$' | head -1)
		[ -n "$doc" ] || fail "no $p:$deb installed, whose licence the $2 binary carries ('make deps-cross')"
		mkdir -p "$3/$p"
		cp "$doc" "$3/$p/copyright"
	done
	cat >"$3/README" <<-EOF
		The static sksteer binary carries, besides sksteer (LICENSE):
		  libbpf   (LGPL-2.1 OR BSD-2-Clause): libbpf/, from the source tarball's libbpf/
		  libelf   (elfutils: LGPL-3.0+ OR GPL-2.0+): libelf-dev/copyright
		  zlib     (Zlib): zlib1g-dev/copyright
		  glibc    (LGPL-2.1+, static): libc6-dev/copyright
		as Debian builds them for $deb. Their sources: Debian's archive; libbpf's is in
		sksteer's source tarball.
	EOF
}

# Each binary: built from the source tarball, in a directory of its own, with no git.
for arch in $ARCHES; do
	case $arch in
	x86_64) kernel_arch=x86 cross='' magic="x86-64" ;;
	aarch64) kernel_arch=arm64 cross=aarch64-linux-gnu- magic="ARM aarch64" ;;
	*) fail "RELEASE_ARCHES has '$arch': x86_64 and aarch64 are built" ;;
	esac
	[ -z "$cross" ] || command -v "${cross}gcc" >/dev/null ||
		fail "no ${cross}gcc for the $arch binary: install the cross toolchain ('make deps-cross')"
	build=$STAGE/build-$arch
	mkdir -p "$build"
	tar -C "$build" -xzf "$STAGE/out/$SRC-src.tar.gz"
	make -C "$build/$SRC" -s sksteer ARCH="$kernel_arch" CROSS_COMPILE="$cross" \
		>"$STAGE/build-$arch.log" 2>&1 ||
		{ tail -20 "$STAGE/build-$arch.log" >&2; fail "the $arch build failed (above)"; }
	kind=$(file -b "$build/$SRC/sksteer")
	[[ $kind == *"$magic"* && $kind == *"statically linked"* ]] ||
		fail "the $arch binary is not a static $magic executable: $kind"
	name=$SRC-$arch-linux
	dir=$STAGE/$name
	mkdir -p "$dir/units" "$dir/completion"
	cp "$build/$SRC/sksteer" "$build/$SRC/sksteer.8" "$build/$SRC/sksteer.conf.5" \
		"$build/$SRC/README.md" "$build/$SRC"/LICENSE* "$dir/"
	for u in "$build/$SRC"/contrib/*.service "$build/$SRC"/contrib/*.socket; do
		sed 's|@SBINDIR@|/usr/local/sbin|g' "$u" >"$dir/units/${u##*/}"
	done
	cp "$build/$SRC/contrib/bash-completion/sksteer.bash" "$dir/completion/sksteer"
	third_party "$build/$SRC" "$arch" "$dir/THIRD-PARTY"
	pack "$STAGE" "$name" "$STAGE/out/$name.tar.gz"
done

sums=("$SRC-src.tar.gz")
for arch in $ARCHES; do sums+=("$SRC-$arch-linux.tar.gz"); done
(cd "$STAGE/out" && sha256sum "${sums[@]}" >SHA256SUMS)
mkdir -p "$OUT"
for f in "${sums[@]}" SHA256SUMS; do mv -f "$STAGE/out/$f" "$OUT/$f"; done
echo "make release: $OUT/: $(cd "$OUT" && awk '{ print $2 }' SHA256SUMS | paste -sd' ') SHA256SUMS"
