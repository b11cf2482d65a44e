# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The four builds: native and arm64, with the system's libbpf and bpftool or with the
# submodules'. Each one is built from two clean copies of the tree in two directories,
# in parallel, and must give the same bytes, statically linked for the right machine; arm64
# runs under qemu-user; libsksteer too, its .so linking the system's libbpf.so.1 or carrying
# the submodule's libbpf inside. The submodules' builds run with the system's libbpf hidden,
# and their dependency files name no header of the system's libbpf.
. "$(dirname "$0")/lib.sh"
# the builds released, whatever the suite runs on (make SANITIZE=1 test passes SANITIZE down)
unset MAKEFLAGS MFLAGS MAKELEVEL SANITIZE

loud() { echo "# 02-builds: $*" >&2; } # on stderr, which prove shows without -v

# Eight builds take the host seconds and an emulated CPU most of an hour: in a vmtest guest
# (make vmtest) they are left to the host's run of this file, which checks the same bytes; they
# build unsanitized whatever the suite runs on: the sanitized suite would only repeat them.
host_builds_only "the builds"

copy_tree() { # copy_tree DIR system|submodules: the working tree, unbuilt, as a clone has it
	local without=()
	[ "$2" = system ] && without=(--exclude='./libbpf/*' --exclude='./bpftool/*')
	mkdir -p "$1"
	tar -C "$TOP" --exclude=./.output --exclude=./sksteer --exclude=./.vmtest --exclude=.git "${without[@]}" -cf - . |
		tar -C "$1" -xf -
	# where the checkout has no submodules, theirs from the local mirrors (below)
	if [ "$2" = submodules ] && [ -n "$mirrored" ]; then
		tar -C "$mirrored" --exclude=.git -cf - libbpf bpftool | tar -C "$1" -xf -
	fi
}

build() { # build DIR FROM ARCH: make sksteer and the library there, its output in DIR.log
	local dir=$1 from=$2 arch=$3 cmd=(nice make -C "$1" sksteer lib)
	[ "$arch" = arm64 ] && cmd+=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
	[ "$from" = submodules ] && cmd=(without_system_libbpf "${cmd[@]}")
	"${cmd[@]}" >"$dir.log" 2>&1
}

built() { # built DIR: there are sksteer and libsksteer.so.0, else the build's output
	[ -f "$1/sksteer" ] && [ -f "$1/.output/libsksteer.so.0" ] || cat "$1.log"
	[ -f "$1/sksteer" ] && [ -f "$1/.output/libsksteer.so.0" ]
}

submodules=yes
for f in libbpf/src/Makefile bpftool/src/Makefile bpftool/libbpf/src/Makefile; do
	[ -f "$TOP/$f" ] || submodules=
done

# Where the checkout has no submodules (CI clones without them and cannot reach GitHub), the
# commits it pins can come from local git mirrors of libbpf/libbpf and libbpf/bpftool:
# SKSTEER_MIRROR_LIBBPF and SKSTEER_MIRROR_BPFTOOL, each a repository git clones from (.ci/run
# sets them where the machine has them). A commit is named by its hash: a mirror gives exactly
# the bytes the checkout pins, or nothing.
mirrored=
pinned() { # pinned REPO PATH: the commit the git repository REPO pins for its submodule PATH
	git -C "$1" ls-files -s -- "$2" 2>/dev/null | awk '$1 == 160000 { print $2 }'
}
checkout_pinned() { # checkout_pinned MIRROR COMMIT DIR: that commit's files in DIR; else why not
	rmdir "$3" 2>/dev/null # (the empty directory a checkout leaves for a submodule)
	# --shared: the clone reads the mirror's objects, and nothing is written there
	git clone -q --shared --no-checkout "$1" "$3" >/dev/null 2>&1 &&
		git -C "$3" checkout -q --detach "$2" >/dev/null 2>&1 ||
		{ echo "the mirror $1 does not give commit $2"; return 1; }
}
from_mirrors() { # the pinned commits of libbpf, bpftool and bpftool's libbpf in $WORK/mirrored
	local libbpf bpftool
	if [ -z "${SKSTEER_MIRROR_LIBBPF:-}" ] || [ -z "${SKSTEER_MIRROR_BPFTOOL:-}" ]; then
		echo "no local mirrors are given (SKSTEER_MIRROR_LIBBPF, SKSTEER_MIRROR_BPFTOOL)"
		return 1
	fi
	libbpf=$(pinned "$TOP" libbpf)
	bpftool=$(pinned "$TOP" bpftool)
	if [ -z "$libbpf" ] || [ -z "$bpftool" ]; then
		echo "this tree is no git checkout that pins them"
		return 1
	fi
	checkout_pinned "$SKSTEER_MIRROR_BPFTOOL" "$bpftool" "$WORK/mirrored/bpftool" &&
		checkout_pinned "$SKSTEER_MIRROR_LIBBPF" "$libbpf" "$WORK/mirrored/libbpf" &&
		checkout_pinned "$SKSTEER_MIRROR_LIBBPF" "$(pinned "$WORK/mirrored/bpftool" libbpf)" \
			"$WORK/mirrored/bpftool/libbpf"
}
if [ -z "$submodules" ]; then
	if why_not=$(from_mirrors); then
		mirrored=$WORK/mirrored
		submodules=yes
		loud "the submodules are not checked out: the commits they pin come from the local mirrors" \
			"$SKSTEER_MIRROR_LIBBPF and $SKSTEER_MIRROR_BPFTOOL"
	else
		why_not="the submodules are not checked out, and $why_not"
		loud "NOT TESTED: the builds from the submodules: $why_not"
	fi
fi
host_arch=$(uname -m)

for from in system submodules; do
	for arch in native arm64; do
		what="$arch build, libbpf from the $from"
		why=
		if [ $from = system ] && ! pkg-config --exists libbpf; then
			why="the system's libbpf is not installed (make deps)"
		elif [ $from = submodules ] && [ -z "$submodules" ]; then
			why="$why_not (git submodule update --init --recursive)"
		elif [ $arch = arm64 ] && [ $host_arch != x86_64 ]; then
			why="the arm64 cross build is set up for x86-64 hosts"
		elif [ $arch = arm64 ] && ! command -v aarch64-linux-gnu-gcc >/dev/null; then
			why="no aarch64-linux-gnu-gcc (make deps-cross)"
		elif [ $arch = arm64 ] && [ $from = system ] && [ ! -f /usr/lib/aarch64-linux-gnu/libbpf.a ]; then
			why="no arm64 libbpf.a (make deps-cross)"
		elif [ $arch = arm64 ] && [ ! -f /usr/lib/aarch64-linux-gnu/libelf.a ]; then
			why="no arm64 libelf.a (make deps-cross)"
		fi
		if [ -n "$why" ]; then
			skip "$what: $why"
			continue
		fi

		a=$WORK/$from-$arch/a
		b=$WORK/$from-$arch/bb/in/another/directory
		copy_tree "$a" $from
		copy_tree "$b" $from
		build "$a" $from $arch &
		pid_a=$!
		build "$b" $from $arch &
		pid_b=$!
		wait $pid_a $pid_b
		ok "$what: builds in $a" built "$a"
		ok "$what: builds in $b" built "$b"
		ok "$what: the two are byte for byte the same" cmp "$a/sksteer" "$b/sksteer"
		case $arch-$host_arch in
		native-x86_64) machine=x86-64 ;;
		*) machine="ARM aarch64" ;;
		esac
		like "$what: a static $machine executable" "ELF 64-bit .*, $machine, .*statically linked" \
			"$(file -b "$a/sksteer")"
		like "$what: make info says so" "libbpf, bpftool: $from" "$(make -s -C "$a" info)"
		for f in libsksteer.so.0 libsksteer.a; do
			ok "$what: $f is the same bytes in both" cmp "$a/.output/$f" "$b/.output/$f"
		done
		like "$what: libsksteer.so.0 is a $machine shared object" \
			"ELF 64-bit .*shared object, $machine, " "$(file -b -L "$a/.output/libsksteer.so.0")"
		needed=$(readelf -d "$a/.output/libsksteer.so.0" | grep -o 'libbpf[^]]*')
		if [ $from = system ]; then
			is "$what: libsksteer.so.0 links the system's libbpf.so.1" libbpf.so.1 "$needed"
		else
			is "$what: libsksteer.so.0 needs no libbpf.so: the submodule's is inside" "" "$needed"
		fi
		is "$what: libsksteer.so.0 exports sksteer_* only" "" \
			"$(nm -D --defined-only "$a/.output/libsksteer.so.0" | grep -v -e ' sksteer_' -e ' A LIBSKSTEER_')"

		if [ $arch = arm64 ]; then
			if command -v qemu-aarch64-static >/dev/null; then
				like "$what: --version under qemu-user" "^sksteer [0-9]+\.[0-9]+" \
					"$(qemu-aarch64-static "$a/sksteer" --version 2>&1)"
				like "$what: --help under qemu-user" "Examples:.*sksteer -p 80,443" \
					"$(qemu-aarch64-static "$a/sksteer" --help 2>&1 | tr '\n' ' ')"
			else
				skip "$what: no qemu-aarch64-static to run it (make deps-cross)"
			fi
		fi

		if [ $from = submodules ]; then
			ok "$what: built where the system's libbpf.h, libbpf.a and bpftool are empty" \
				without_system_libbpf sh -c '! [ -s /usr/include/bpf/libbpf.h ] &&
					! [ -s /usr/sbin/bpftool ] && ! [ -s "/usr/lib/$(cc -print-multiarch)/libbpf.a" ]'
			deps=$(cat "$a"/.output/*.d)
			is "$what: no dependency file names a header of the system's libbpf" "" \
				"$(grep -E -o '/usr/[^ ]*/(bpf/[^ ]*|linux/(bpf|bpf_common|btf)\.h)' <<<"$deps" | sort -u)"
			like "$what: the BPF object includes the submodule's bpf_helpers.h" \
				"$a/\.output/include/bpf/bpf_helpers\.h" "$(cat "$a/.output/sksteer.bpf.d")"
			like "$what: userspace includes the submodule's libbpf.h" \
				"$a/\.output/include/bpf/libbpf\.h" "$(cat "$a/.output/program.d")"
			like "$what: and libbpf's UAPI linux/bpf.h" \
				"$a/\.output/include/linux/bpf\.h" "$(cat "$a/.output/program.d")"
			ok "$what: the skeleton comes from the submodule's bpftool, built for the host" \
				test -x "$a/.output/bpftool/bootstrap/bpftool"
		fi
		rm -rf "$WORK/$from-$arch"
	done
done

done_testing
