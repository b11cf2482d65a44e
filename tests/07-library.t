# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# libsksteer as a library: make install puts the header, both libraries and the .pc in place
# under DESTDIR; the .so exports the public header's functions and nothing else; and a second
# client, examples/selfsteer.c, built with pkg-config against the installed library, steers
# its own ports, serves them, and leaves the steering pinned when it exits.
. "$(dirname "$0")/lib.sh"

# Installing and compiling are the host's business: a vmtest guest's emulated CPU spends
# about two minutes on them. The library against the guest's kernel is 08-library-api's.
if [ -n "${SKSTEER_VMTEST:-}" ]; then
	skip_all "make install and building selfsteer: in a vmtest guest, the host's run checks them"
fi

version=$(sed -n 's/^VERSION := //p' "$TOP/Makefile")
root=$WORK/root
lib=$root/usr/lib

ok "make install DESTDIR=... PREFIX=/usr succeeds" make -C "$TOP" -s install DESTDIR="$root" PREFIX=/usr
for f in include/sksteer/sksteer.h lib/libsksteer.a "lib/libsksteer.so.$version" \
	lib/pkgconfig/libsksteer.pc; do
	ok "it installs /usr/$f" test -f "$root/usr/$f"
done
is "libsksteer.so.0 links to libsksteer.so.$version" "libsksteer.so.$version" \
	"$(readlink "$lib/libsksteer.so.0")"
is "libsksteer.so links to libsksteer.so.0" libsksteer.so.0 "$(readlink "$lib/libsksteer.so")"
like "the .so's SONAME is libsksteer.so.0" "Library soname: \[libsksteer\.so\.0\]" \
	"$(readelf -d "$lib/libsksteer.so.$version")"

# What a program can reach: the functions the public header declares, in the version node.
declared=$(tr '\n' ' ' <"$TOP/src/lib/include/sksteer/sksteer.h" | grep -o 'SKSTEER_API [^;(]*(' |
	grep -o 'sksteer_[a-z0-9_]*($' | tr -d '(' | sort)
exported=$(nm -D --defined-only "$lib/libsksteer.so.0")
is "the .so exports sksteer_* only (and its version node)" "" \
	"$(grep -v -e ' sksteer_' -e ' A LIBSKSTEER_' <<<"$exported")"
is "exactly the functions the header declares" "$declared" \
	"$(awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' <<<"$exported" | sort)"
is "each in version node LIBSKSTEER_0.1" "" \
	"$(nm -D --defined-only --with-symbol-versions "$lib/libsksteer.so.0" |
		awk '$2 == "T" && $3 !~ /@@LIBSKSTEER_0\.1$/')"
is "the archive's global symbols are sksteer_* only too" "" \
	"$(nm -g --defined-only "$lib/libsksteer.a" | awk 'NF == 3 && $3 !~ /^sksteer_/')"

# pkg-config, on the installed tree as a packager's DESTDIR has it
pc() { PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_PATH=$lib/pkgconfig pkg-config "$@"; }
is "pkg-config --modversion libsksteer is the Makefile's VERSION" "$version" "$(pc --modversion libsksteer)"
is "which the header's LIBSKSTEER_MAJOR/MINOR_VERSION agree with" "${version%.*}" \
	"$(sed -n 's/^#define LIBSKSTEER_\(MAJOR\|MINOR\)_VERSION //p' "$root/usr/include/sksteer/sksteer.h" |
		paste -sd.)"
like "pkg-config --cflags --libs gives the installed header and library" \
	"^-I$root/usr/include -L$lib -lsksteer *$" "$(pc --cflags --libs libsksteer)"

# The second client, built from the installed files only: in $WORK, not the tree.
cp "$TOP/examples/selfsteer.c" "$WORK/"
san=()
[ -n "${SKSTEER_SANITIZED:-}" ] && san=(-fsanitize=address,undefined -fno-sanitize-recover=all)
ok "examples/selfsteer.c builds with pkg-config --cflags --libs libsksteer, no warning" \
	cc -Wall -Wextra -Werror "${san[@]}" -o "$WORK/selfsteer" "$WORK/selfsteer.c" \
	$(pc --cflags --libs libsksteer)
like "it needs libsksteer.so.0" "NEEDED.*\[libsksteer\.so\.0\]" "$(readelf -d "$WORK/selfsteer" 2>&1)"
export LD_LIBRARY_PATH=$lib
like "which it finds in the installed tree" "libsksteer\.so\.0 => $lib/libsksteer\.so\.0 " \
	"$(ldd "$WORK/selfsteer")"

start_ready "$WORK/selfsteer" 127.0.0.1:9100
result "selfsteer binds 127.0.0.1:9100 and steers 8000-8099 to itself" $? "$(cat "$WORK"/serve.*)"
server=$LAST_PID
is "a connection to a steered port reaches it, which answers with that port" 8042 \
	"$(dial 127.0.0.1:8042)"
is "the range's ends too" "8000 8099" "$(dial 127.0.0.1:8000) $(dial 127.0.0.1:8099)"
is "a port outside the range does not" refused "$(dial 127.0.0.1:8100)"
is "its own port still answers" 9100 "$(dial 127.0.0.1:9100)"
like "sksteer --list shows the target, its owner and ports 8000-8099" \
	"^target 127.0.0.1:9100  tcp  listening  pid $server \(selfsteer\)"$'\n'"  ports    8000-8099 \(100\)" \
	"$("$SKSTEER" --list)"

kill -TERM "$server"
wait "$server"
is "SIGTERM ends it with exit 0" 0 $?
like "the steering stays pinned, the socket gone" \
	"^target 127.0.0.1:9100  tcp  gone"$'\n'"  ports    8000-8099 \(100\)" "$("$SKSTEER" --list)"
ok "the pins are still there" test -e "$PIN_DIR/link"
start_ready "$WORK/selfsteer" 127.0.0.1:9100
result "a new run (a restart) starts" $? "$(cat "$WORK"/serve.*)"
is "and takes the ports over with its new socket" 8042 "$(dial 127.0.0.1:8042)"
kill -TERM "$LAST_PID"
wait "$LAST_PID"
# the fast path is the library's: its pins record this build's program, so a restart that
# only moves the bindings to the new socket loads nothing (nobpfload: no program, BTF or map)
start_ready "$NOLOAD" "$WORK/selfsteer" 127.0.0.1:9100
result "a restart under nobpfload starts: the library loaded nothing" $? "$(cat "$WORK"/serve.*)"
is "and takes the ports over too" 8042 "$(dial 127.0.0.1:8042)"
kill -TERM "$LAST_PID"
wait "$LAST_PID"

# Errors are values: the library's message, once, and exit 1; the steering as it was.
before=$("$SKSTEER" --save)
out=$("$WORK/selfsteer" 127.0.0.1:9101 8000-70000 2>&1)
is "a bad port list: exit 1" 1 $?
like "with the library's message (sksteer_errmsg)" \
	"^selfsteer: steering 8000-70000: bad port list item '8000-70000': ports go up to 65535" "$out"
out=$("$WORK/selfsteer" 127.0.0.1:9101 8050 2>&1)
is "a port another target owns: exit 1" 1 $?
like "naming the owner" "^selfsteer: steering 8050: ports 8050 belong to target 127.0.0.1:9100" "$out"
is "the steering is as it was" "$before" "$("$SKSTEER" --save)"

# The archive: the same client linked statically with pkg-config --static.
if [ -n "${SKSTEER_SANITIZED:-}" ]; then
	skip "static linking: the sanitizers' runtimes are shared libraries"
else
	ok "selfsteer links statically against libsksteer.a with pkg-config --static" \
		cc -Wall -Werror -static -o "$WORK/selfsteer-static" "$WORK/selfsteer.c" \
		$(pc --static --cflags --libs libsksteer)
	like "and runs, libsksteer inside" "^selfsteer: steering 8000-70000: bad port list" \
		"$(env -u LD_LIBRARY_PATH "$WORK/selfsteer-static" 127.0.0.1:9101 8000-70000 2>&1)"
fi

ok "sksteer --detach ends the steering selfsteer left" "$SKSTEER" --detach
done_testing
