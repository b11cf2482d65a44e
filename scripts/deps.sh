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
		"zlib1g-dev, pkg-config, iproute2 and perl by hand" >&2
	exit 1
fi

build="make clang llvm pkg-config libelf-dev zlib1g-dev libbpf-dev file"
tests="iproute2 util-linux perl nftables nginx-light curl apache2-utils socat"

missing=""
for pkg in $build $tests; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $pkg"
done
# bpftool is its own package on Debian and newer Ubuntu, part of linux-tools on older Ubuntu.
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
if ! apt-get install -y -qq --no-install-recommends $missing >/dev/null; then
	case " $missing " in
	*" bpftool "*)
		missing=$(echo "$missing" | sed 's/ bpftool//')
		apt-get install -y -qq --no-install-recommends $missing \
			linux-tools-common "linux-tools-$(uname -r)" >/dev/null
		;;
	*) exit 1 ;;
	esac
fi
