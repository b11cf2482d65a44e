#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Installs what sksteer needs to build, test and benchmark, on Debian or Ubuntu. Idempotent.
set -eu

if [ "$(id -u)" != 0 ]; then
	echo "make deps: installing packages needs root: run 'sudo make deps'" >&2
	exit 1
fi
if ! command -v apt-get >/dev/null; then
	echo "make deps: no apt-get: install clang, llvm, libbpf-dev, bpftool, libelf-dev," \
		"zlib1g-dev, pkg-config, iproute2, perl, nginx, curl, apache2-utils and socat by hand" >&2
	exit 1
fi

build="make clang llvm pkg-config libelf-dev zlib1g-dev libbpf-dev file bc"
# the tests drive real servers and clients: nginx, curl, ab (apache2-utils), socat, nft
tests="iproute2 util-linux perl nftables curl apache2-utils socat groff-base"

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }

missing=""
for pkg in $build $tests; do
	installed "$pkg" || missing="$missing $pkg"
done
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
	missing="$missing nginx-light"
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
# Packages pulled in for the tests (nginx) must not start services on this host.
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
	*) pkgs="$pkgs $pkg" ;;
	esac
done
apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
if ! command -v bpftool >/dev/null && [ ! -x /usr/sbin/bpftool ]; then
	apt-get install -y -qq --no-install-recommends "linux-tools-$(uname -r)" >/dev/null
fi
