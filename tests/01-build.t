# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The build: one static binary, with --help and --version.
. "$(dirname "$0")/lib.sh"

like "sksteer is one statically linked binary" "statically linked" "$(file -L "$SKSTEER")"
like "--version names the tool" "^sksteer [0-9]+\.[0-9]+" "$("$SKSTEER" --version)"
help=$("$SKSTEER" --help)
for opt in --ports --socket --detach --force --verbose --version; do
	like "--help documents $opt" "$opt" "$help"
done
like "--help has examples" "Examples:.*sksteer -p 80,443,8000-8999 -s 127.0.0.1:9000" "$(echo $help)"

# rebuilds: nothing to do when up to date; a changed shared header rebuilds both sides
ok "make has nothing to do after a build" make -C "$TOP" -s -q sksteer
touch "$TOP/src/sksteer.h"
ok "after src/sksteer.h changes, make wants to rebuild" bash -c "! make -C '$TOP' -s -q sksteer"
like "and rebuilds the BPF object, the skeleton and the loader" \
	"sksteer.bpf.o.*sksteer.skel.h.*sksteer.o.*LINK" "$(make -C "$TOP" sksteer 2>&1 | tr '\n' ' ')"
like "make V=1 shows the full commands" "clang .*-target bpf" \
	"$(touch "$TOP/src/sksteer.bpf.c"; make -C "$TOP" V=1 sksteer 2>&1)"

# make install: the binary, the man page and the systemd unit, under PREFIX
root=$WORK/root
ok "make install PREFIX=... succeeds" make -C "$TOP" -s install PREFIX="$root"
ok "it installs sbin/sksteer, which runs" "$root/sbin/sksteer" --version
ok "it installs the man page" test -f "$root/share/man/man8/sksteer.8"
ok "it installs the systemd unit, pointing at the installed binary" \
	grep -q "^ExecStart=$root/sbin/sksteer -p" "$root/lib/systemd/system/sksteer@.service"
is "the man page renders without warnings" "" "$(groff -man -Tutf8 -ww -z "$TOP/sksteer.8" 2>&1)"
man_text=$(groff -man -Tascii -P-cbou "$TOP/sksteer.8" 2>/dev/null)
for opt in $(echo "$help" | grep -o -- '--[a-z]*' | sort -u); do
	case $opt in --help | --usage | --version) continue ;; esac
	like "the man page documents $opt, as --help does" "$opt" "$man_text"
done
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$WORK/units"
	cp "$root/lib/systemd/system/sksteer@.service" "$WORK/units/"
	printf '[Unit]\nDescription=a proxy\n[Service]\nExecStart=/bin/true\n' >"$WORK/units/proxy.service"
	is "systemd-analyze verify accepts the unit" "" \
		"$(cd "$WORK/units" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no \
			"$WORK/units/sksteer@proxy.service" 2>&1)"
else
	TESTS=$((TESTS + 1))
	echo "ok $TESTS # SKIP systemd-analyze is not installed"
fi
ok "make uninstall removes them" make -C "$TOP" -s uninstall PREFIX="$root"
ok "nothing is left" test -z "$(find "$root" -type f)"

done_testing
