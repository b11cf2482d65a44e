# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# What vmtest/run (the suite, x86-64) and vmtest/arm64 (the smoke run) share, sourced with TOP
# set: one line and exit; an apt configuration of their own over Debian's archive; a kernel
# package's name; the modules an initramfs carries; dropping kernels no name points to.

die() {
	echo "vmtest: $*" >&2
	exit 1
}

# apt_setup DIR [ARCH]: APT_OPTS, an apt configuration in DIR (for ARCH, else the host's own),
# which leaves the host's apt setup alone
apt_setup() {
	APT=$1
	APT_ARCH=${2:-}
	APT_OPTS=(-q -o Dir::Etc::sourcelist="$APT/sources.list" -o Dir::Etc::sourceparts=-
		-o Dir::State::Lists="$APT/lists" -o Dir::Cache="$APT/cache")
	if [ -n "$APT_ARCH" ]; then
		APT_OPTS+=(-o APT::Architecture="$APT_ARCH" -o APT::Architectures::="$APT_ARCH")
	fi
	# as root, apt downloads as _apt, which may not write here
	if [ "$(id -u)" = 0 ]; then
		APT_OPTS+=(-o APT::Sandbox::User=root)
	fi
	mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial"
}

# apt_update SUITE...: those suites' lists, refreshed when older than a day; an offline host
# keeps going with what it has
apt_update() {
	local uri list arch=
	uri=$("$TOP/vmtest/mirror")
	[ -z "$APT_ARCH" ] || arch="arch=$APT_ARCH "
	list=$(printf '%s\n' "$@" | sort -u | while read -r suite; do
		echo "deb [${arch}signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main"
	done)
	if [ "$list" != "$(cat "$APT/sources.list" 2>/dev/null)" ]; then
		echo "$list" >"$APT/sources.list"
		rm -f "$APT/updated"
	fi
	if [ -z "$(find "$APT/updated" -mmin -1440 2>/dev/null)" ]; then
		if apt-get "${APT_OPTS[@]}" update >"$APT/update.log" 2>&1; then
			touch "$APT/updated"
		else
			echo "vmtest: could not refresh the package lists (see $APT/update.log)" >&2
		fi
	fi
}

# kernel_image METAPACKAGE SUITE: the versioned image it depends on today (nothing if unknown)
kernel_image() {
	apt-cache "${APT_OPTS[@]}" show "$1/$2" 2>/dev/null |
		sed -n 's/^Depends: \(linux-image-[^ ,]*\).*/\1/p' | head -1 || true
}

# stage_modules KDIR KVER DIR MODULE...: the modules and what they depend on, in the order to
# load them, as DIR/1.ko, DIR/2.ko... (decompressed); prints each file's name
stage_modules() {
	local kdir=$1 kver=$2 dir=$3 mod n=0
	shift 3
	# modprobe orders them (dependencies first); built-in ones print "builtin", not "insmod"
	while read -r mod; do
		n=$((n + 1))
		case $mod in
		*.xz) xz -dc "$mod" >"$dir/$n.ko" ;;
		*.zst) zstd -qdc "$mod" >"$dir/$n.ko" ;;
		*) cp "$mod" "$dir/$n.ko" ;;
		esac
		echo "$n.ko"
	done < <(modprobe -d "$kdir" -S "$kver" --show-depends -a "$@" |
		awk '$1 == "insmod" && !seen[$2]++ { print $2 }')
}

# prune_kernels CURRENT DIR...: removes each DIR that no link in CURRENT points to
prune_kernels() {
	local current=$1 old cur
	shift
	for old in "$@"; do
		[ -d "$old" ] || continue
		for cur in "$current"/*; do
			[ "$(readlink -f "$cur")" = "$(readlink -f "$old")" ] && continue 2
		done
		rm -rf "$old"
	done
}
