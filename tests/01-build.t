# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The build: one static binary, with --help and --version.
. "$(dirname "$0")/lib.sh"

if [ -n "${SKSTEER_SANITIZED:-}" ]; then # make SANITIZE=1 test: the sanitizers link dynamically
	like "sksteer is built with AddressSanitizer (SANITIZE=1)" "__asan_init" \
		"$(nm -D "$SKSTEER" 2>/dev/null | grep -m1 -o __asan_init)"
else
	like "sksteer is one statically linked binary" "statically linked" "$(file -L "$SKSTEER")"
fi
like "--version names the tool" "^sksteer [0-9]+\.[0-9]+" "$("$SKSTEER" --version)"
help=$("$SKSTEER" --help)
for opt in --ports --socket --detach --force --verbose --version; do
	like "--help documents $opt" "$opt" "$help"
done
like "--help has examples" "Examples:.*sksteer -p 80,443,8000-8999 -s 127.0.0.1:9000" "$(echo $help)"

# The build itself is the host's business, not the kernel's: a vmtest guest (make vmtest),
# whose emulated CPU takes minutes per make, leaves it to the host's run of this file; the
# sanitized suite (make SANITIZE=1 test) looks for memory errors, and make has none to show.
if [ -n "${SKSTEER_VMTEST:-}" ]; then
	skip "rebuilds, make's checks and make install: in a vmtest guest, the host's run checks them"
elif [ -n "${SKSTEER_SANITIZED:-}" ]; then
	skip "rebuilds, make's checks and make install: the plain suite's run checks them"
else
	# rebuilds: nothing to do when up to date; a changed shared header rebuilds both sides
	ok "make has nothing to do after a build" make -C "$TOP" -s -q sksteer
	version=$(sed -n 's/^VERSION := //p' "$TOP/Makefile")
	ok "nor for the library it builds too, libsksteer.a and .so" \
		make -C "$TOP" -s -q .output/libsksteer.a ".output/libsksteer.so.$version"
	touch "$TOP/src/bpf/sksteer_abi.h"
	ok "after src/bpf/sksteer_abi.h changes, make wants to rebuild" bash -c "! make -C '$TOP' -s -q sksteer"
	like "and rebuilds the BPF object, the skeleton and the loader" \
		"sksteer.bpf.o.*sksteer.skel.h.*program.o.*LINK" "$(make -C "$TOP" sksteer 2>&1 | tr '\n' ' ')"
	like "make V=1 shows the full commands" "clang .*-target bpf" \
		"$(touch "$TOP/src/bpf/sksteer.bpf.c"; make -C "$TOP" V=1 sksteer 2>&1)"

	# make info: where libbpf and bpftool come from, and which versions and compilers
	info=$(make -C "$TOP" -s info)
	from=system
	[ -f "$TOP/libbpf/src/Makefile" ] && [ -f "$TOP/bpftool/src/Makefile" ] &&
		[ -f "$TOP/bpftool/libbpf/src/Makefile" ] && from=submodules
	like "make info says libbpf and bpftool come from: $from" "libbpf, bpftool: $from" "$info"
	like "make info gives the libbpf and bpftool versions" \
		$'\nlibbpf: +[0-9]+\\.[0-9]+\\.[0-9]+ .*\nbpftool: +[0-9]+\\.[0-9]+\\.[0-9]+ ' "$info"
	like "make info gives clang, cc and ARCH" $'\nclang: +[^\n]*clang version.*\ncc: +[^ ].*\nARCH: +[a-z0-9]+ ' "$info"

	# A user's CFLAGS (and EXTRA_CFLAGS) come after the flags the build needs, never instead;
	# the BPF object does not get them, and a change of flags rebuilds.
	out=$(make -C "$TOP" V=1 CFLAGS='-O1 -DSKSTEER_TEST_CFLAGS' EXTRA_CFLAGS=-DSKSTEER_TEST_EXTRA sksteer 2>&1)
	is "make V=1 CFLAGS=... EXTRA_CFLAGS=... builds" 0 $?
	like "cc gets the build's flags, then CFLAGS, then EXTRA_CFLAGS" \
		"-D_GNU_SOURCE .*-DSKSTEER_VERSION=.* -O1 -DSKSTEER_TEST_CFLAGS -DSKSTEER_TEST_EXTRA " \
		"$(grep -e ' -c src/cli/main.c' <<<"$out")"
	like "the BPF object is rebuilt too" "clang .*-target bpf .* src/bpf/sksteer.bpf.c" "$out"
	is "with none of the user's flags" "" "$(grep -e '-target bpf' <<<"$out" | grep SKSTEER_TEST)"
	ok "that binary runs" "$SKSTEER" --version
	ok "back to the default flags, it rebuilds" make -C "$TOP" -s sksteer
	ok "and then has nothing to do" make -C "$TOP" -s -q sksteer

	# A build for another architecture with this host's compiler, or a vmlinux.h for it from
	# this kernel, is refused in one line, and the native build is left as it was.
	[ "$(uname -m)" = x86_64 ] && other=arm64 || other=x86
	out=$(make -s -C "$TOP" ARCH=$other sksteer 2>&1)
	like "make ARCH=$other without CROSS_COMPILE is refused" \
		"\\*\\*\\* ARCH=$other, but cc builds for '[a-z0-9]+': set CROSS_COMPILE .*Stop\\.$" "$out"
	is "in one line" 1 "$(wc -l <<<"$out")"
	ok "and the native build is still up to date" make -C "$TOP" -s -q sksteer
	out=$(make -C "$TOP" -s ARCH=riscv vmlinux/riscv/vmlinux.h 2>&1)
	like "no vmlinux.h for another architecture from this kernel" \
		"^vmlinux/riscv/vmlinux.h is missing: a build for riscv cannot dump it from this [a-z0-9]+ kernel" "$out"
	ok "nothing is written" test ! -e "$TOP/vmlinux/riscv"
	like "make vmlinux for another architecture is refused" "^make vmlinux: this kernel is [a-z0-9]+, not $other" \
		"$(make -C "$TOP" -s ARCH=$other vmlinux 2>&1)"

	# make vmtest: arm64 runs the smoke run (vmtest/arm64, in CI), another ARCH nothing; each
	# refusal is one line, before anything is built or fetched
	out=$(make -C "$TOP" -s vmtest ARCH=riscv KERNEL=6.1 2>&1)
	like "make vmtest ARCH=riscv is refused in one line" \
		"^vmtest/vmtest.mk:[0-9]+: \\*\\*\\* make vmtest boots [a-z0-9]+ kernels \\(the suite\\) and arm64 ones \\(the smoke run\\), not ARCH=riscv\\.  Stop\\.$" "$out"
	if [ "$(uname -m)" = x86_64 ]; then
		like "make vmtest ARCH=arm64 without KERNEL names the kernels" \
			"^vmtest/vmtest.mk:[0-9]+: \\*\\*\\* make vmtest ARCH=arm64 needs KERNEL=NAME: one of 5\\.10 6\\.1 .*Stop\\.$" \
			"$(make -C "$TOP" -s vmtest ARCH=arm64 2>&1)"
		like "and with TESTS says the smoke run takes none" \
			"^vmtest/vmtest.mk:[0-9]+: \\*\\*\\* make vmtest ARCH=arm64 runs vmtest/smoke and not TESTS=tests/10-steer.t: .*drop TESTS\\.  Stop\\.$" \
			"$(make -C "$TOP" -s vmtest ARCH=arm64 KERNEL=6.1 TESTS=tests/10-steer.t 2>&1)"
	fi
	# vmtest/arm64's own refusals come before it looks for QEMU or builds anything
	said() { "$@" >"$WORK/said" 2>&1; echo "$? $(cat "$WORK/said")"; } # said CMD: "RC OUTPUT"
	is "vmtest/arm64: a kernel vmtest/kernels does not name, one line" \
		"1 vmtest: no kernel 4.19 in vmtest/kernels" "$(said "$TOP/vmtest/arm64" 6.1 4.19)"
	is "... a timeout too short for a guest" \
		"1 vmtest: VMTEST_TIMEOUT=5: give more than 120 seconds" \
		"$(said env VMTEST_TIMEOUT=5 "$TOP/vmtest/arm64" 6.1)"
	is "... a VMTEST_SKSTEER that is no file" "1 vmtest: VMTEST_SKSTEER=$WORK/none: no such file" \
		"$(said env VMTEST_SKSTEER="$WORK/none" "$TOP/vmtest/arm64" 6.1)"
	ok "and the native build is still up to date" make -C "$TOP" -s -q sksteer

	# make install: the binary, the man page, the systemd unit and the library, under PREFIX
	# (the library's directory LIBDIR)
	root=$WORK/root
	ok "make install PREFIX=... LIBDIR=... succeeds" make -C "$TOP" -s install PREFIX="$root" \
		LIBDIR="$root/lib64"
	ok "it installs sbin/sksteer, which runs" "$root/sbin/sksteer" --version
	ok "it installs the library's header, archive, shared objects and .pc (tests/07-library.t more)" \
		test -f "$root/include/sksteer/sksteer.h" -a -f "$root/lib64/libsksteer.a" -a \
		-f "$root/lib64/libsksteer.so.$version" -a -L "$root/lib64/libsksteer.so.0" -a \
		-L "$root/lib64/libsksteer.so" -a -f "$root/lib64/pkgconfig/libsksteer.pc"
	like "the .pc names them where they are" \
		$'\nprefix='"$root"$'\nlibdir=\\$\\{prefix\\}/lib64\nincludedir=\\$\\{prefix\\}/include\n' \
		"$(cat "$root/lib64/pkgconfig/libsksteer.pc")"
	ok "it installs the man pages" test -f "$root/share/man/man8/sksteer.8" -a \
		-f "$root/share/man/man5/sksteer.conf.5"
	is "it installs the bash completion, the tested one (tests/04-completion.t)" "" \
		"$(cmp "$TOP/contrib/bash-completion/sksteer.bash" \
			"$root/share/bash-completion/completions/sksteer" 2>&1)"
	for u in sksteer@ sksteer-follow@; do
		ok "it installs the systemd unit $u, pointing at the installed binary" \
			grep -q "^ExecStart=$root/sbin/sksteer --config" "$root/lib/systemd/system/$u.service"
	done
	is "the man page renders without warnings" "" "$(groff -man -Tutf8 -ww -z "$TOP/sksteer.8" 2>&1)"
	is "sksteer.conf(5) renders without warnings" "" \
		"$(groff -man -Tutf8 -ww -z "$TOP/sksteer.conf.5" 2>&1)"
	man_text=$(groff -man -Tascii -P-cbou "$TOP/sksteer.8" 2>/dev/null)
	for opt in $(echo "$help" | grep -o -- '--[a-z]*' | sort -u); do
		case $opt in --help | --usage | --version) continue ;; esac
		like "the man page documents $opt, as --help does" "$opt" "$man_text"
	done
	if command -v systemd-analyze >/dev/null; then
		mkdir -p "$WORK/units"
		cp "$root"/lib/systemd/system/sksteer*@.service "$WORK/units/"
		printf '[Unit]\nDescription=a proxy\n[Service]\nExecStart=/bin/true\n' >"$WORK/units/proxy.service"
		is "systemd-analyze verify accepts the installed units" "" \
			"$(cd "$WORK/units" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no \
				"$WORK/units/sksteer@proxy.service" "$WORK/units/sksteer-follow@proxy.service" 2>&1)"
	else
		skip "systemd-analyze is not installed (make deps installs it, from systemd)"
	fi
	ok "make uninstall removes them" make -C "$TOP" -s uninstall PREFIX="$root" LIBDIR="$root/lib64"
	is "nothing is left but directories" "" "$(find "$root" ! -type d)"
fi

done_testing
