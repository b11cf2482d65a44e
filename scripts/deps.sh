#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Installs what sksteer needs to build, test and benchmark, on Debian or Ubuntu. Idempotent.
# With --cross (make deps-cross), also what an arm64 cross build needs: the cross compiler,
# the arm64 libraries through Debian multiarch, and qemu-user to run the result.
set -eu

cross=
[ "${1:-}" = --cross ] && cross=1

if [ "$(id -u)" != 0 ]; then
	echo "make deps: installing packages needs root: run 'sudo make deps'" >&2
	exit 1
fi
if ! command -v apt-get >/dev/null; then
	echo "make deps: no apt-get: install clang, llvm, libbpf-dev, bpftool, libelf-dev," \
		"zlib1g-dev, libssl-dev, pkg-config, iproute2, perl, nginx, haproxy, curl, apache2-utils," \
		"socat and libabigail (abidw) by hand" >&2
	exit 1
fi

# libssl-dev: bpftool from the submodule links libcrypto
build="make clang llvm pkg-config libelf-dev zlib1g-dev libssl-dev libbpf-dev file bc"
# the tests drive real servers and clients: nginx, haproxy (reloaded with -sf), curl, ab
# (apache2-utils), socat, nft; systemd for systemd-analyze verify of the units (not run)
tests="iproute2 util-linux perl nftables curl apache2-utils socat groff-base haproxy systemd"
# --serve-metrics: scraped by a real Prometheus server; promtool check metrics; the Kubernetes
# manifests parsed (python3-yaml)
tests="$tests prometheus python3-yaml"
# make lint; make abi (abidw, abidiff)
tests="$tests cppcheck abigail-tools"
# make deb and its test: dpkg-buildpackage, debhelper, lintian
tests="$tests dpkg-dev debhelper fakeroot lintian"

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }

if [ -n "$cross" ] && [ "$(dpkg --print-architecture 2>/dev/null)" = arm64 ]; then
	echo "make deps-cross: this host is arm64 already: a plain 'make' builds for it"
	cross=
fi
if [ -n "$cross" ]; then
	# arm64 libraries for the static link and the cross pkg-config (pkgconf:arm64 gives
	# aarch64-linux-gnu-pkg-config); the host's clang and bpftool still build the BPF side.
	build="$build gcc-aarch64-linux-gnu libc6-dev-arm64-cross pkgconf:arm64 libelf-dev:arm64 \
		zlib1g-dev:arm64 libbpf-dev:arm64"
	tests="$tests qemu-user-static"
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		echo "make deps: adding the arm64 architecture to dpkg (multiarch)"
		# Debian serves every architecture from one archive; Ubuntu serves arm64
		# from its ports archive, which must be in its sources first.
		dpkg --add-architecture arm64
	fi
fi

missing=""
for pkg in $build $tests; do
	installed "$pkg" || missing="$missing $pkg"
done
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
	missing="$missing nginx-light"
fi
# make fuzz and tests/03-fuzz-corpus.t: clang's libFuzzer and sanitizer runtimes. Debian 12 and
# later package them apart (libclang-rt-dev), only recommended by clang, which
# --no-install-recommends leaves out; older releases (Ubuntu 22.04) ship them with clang.
if ! [ -f "$(clang -print-file-name="libclang_rt.fuzzer-$(uname -m).a" 2>/dev/null)" ]; then
	missing="$missing libclang-rt-dev"
fi
# bpftool is its own package on Debian and newer Ubuntu, part of linux-tools on older Ubuntu
if ! command -v bpftool >/dev/null && [ ! -x /usr/sbin/bpftool ]; then
	missing="$missing bpftool"
fi
if [ -z "$missing" ]; then
	echo "make deps: all dependencies are installed"
	exit 0
fi

echo "make deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Packages pulled in for the tests (nginx, haproxy) must not start services on this host.
policy=/usr/sbin/policy-rc.d
if [ ! -e $policy ]; then
	printf '#!/bin/sh\nexit 101\n' >$policy
	chmod +x $policy
	trap 'rm -f $policy' EXIT
fi
pick() { # the first of the given packages that this distribution has
	for p in "$@"; do
		apt-cache show "$p" >/dev/null 2>&1 && { echo "$p"; return; }
	done
}
pkgs=""
for pkg in $missing; do
	case $pkg in
	nginx-light) pkgs="$pkgs $(pick nginx-light nginx)" ;;
	bpftool) pkgs="$pkgs $(pick bpftool linux-tools-common)" ;;
	libclang-rt-dev) pkgs="$pkgs $(pick libclang-rt-dev)" ;;
	*) pkgs="$pkgs $pkg" ;;
	esac
done
apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
if ! command -v bpftool >/dev/null && [ ! -x /usr/sbin/bpftool ]; then
	apt-get install -y -qq --no-install-recommends "linux-tools-$(uname -r)" >/dev/null
fi
