# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# --netns PATH: every command works on another network namespace from outside it, as `ip -n`.
. "$(dirname "$0")/lib.sh"

netns_add
N=/run/netns/$NS
N_INO=$(netns_ino "$N")
N_PINS=/sys/fs/bpf/sksteer/netns-$N_INO
at_exit "$SKSTEER --netns $N --detach"
serve_in "$NS" 127.0.0.1:9000
# a socket at the same address here, in the caller's namespace, that must not be picked
serve 127.0.0.1:9000

ok "steer in a named namespace from outside" "$SKSTEER" --netns "$N" -p 80,443 -s 127.0.0.1:9000
is "port 80 is steered inside it" 80 "$(dial_in "$NS" 127.0.0.1:80)"
is "port 443 too" 443 "$(dial_in "$NS" 127.0.0.1:443)"
is "nothing is steered in the caller's namespace" refused "$(dial 127.0.0.1:80)"
ok "the pins are keyed by that namespace" test -e "$N_PINS/link"
ok "none for the caller's namespace" pins_gone
like "the link is attached to that namespace" "\"netns_ino\":$N_INO" "$(bpftool -j link show | tr -d ' ')"
is "and none to the caller's" "" "$(link_prog)"
owner=$(ip netns exec "$NS" ss -Htlnp 'sport = :9000' | grep -o 'pid=[0-9]*' | cut -d= -f2)
like "the target is the socket inside it (its owner's pid is listed)" \
	"target 127.0.0.1:9000  tcp  listening  pid $owner " "$("$SKSTEER" --netns "$N" --list)"
like "--list --json names the namespace" "^\{\"netns\":$N_INO,\"steering\":true" \
	"$("$SKSTEER" --netns "$N" --list --json)"
like "--metrics labels it" "sksteer_target_up\{netns=\"$N_INO\",target=\"127.0.0.1:9000\"\} 1" \
	"$("$SKSTEER" --netns "$N" --metrics)"
ok "--check is healthy" "$SKSTEER" --netns "$N" --check
is "--list here still shows nothing" "not steering in this network namespace" "$("$SKSTEER" --list)"

# the first run recorded its build as it attached: the second loads nothing (nobpfload)
ok "a second run changes it in place, and loads nothing" \
	"$NOLOAD" "$SKSTEER" --netns "$N" -p 81 -s 127.0.0.1:9000
is "81 steered, 80 not" "81 refused" "$(dial_in "$NS" 127.0.0.1:81) $(dial_in "$NS" 127.0.0.1:80)"
is "one link for that namespace" 1 "$(bpftool link show | grep -c "netns_ino $N_INO ")"
# that namespace's pins prove the kernel runs sk_lookup, and hold this build's program: no load
ok "a run that only changes bindings there loads nothing" \
	"$NOLOAD" "$SKSTEER" --netns "$N" -p 81,82 -s 127.0.0.1:9000
is "82 steered too" "81 82" "$(dial_in "$NS" 127.0.0.1:81) $(dial_in "$NS" 127.0.0.1:82)"

# --trace from outside
"$SKSTEER" --netns "$N" --trace >"$WORK/trace" 2>"$WORK/trace.err" &
tracer=$!
for _ in $(seq 250); do
	"$SKSTEER" --netns "$N" --list | grep -q "tracer   pid $tracer" && break
	sleep 0.02
done
dial_in "$NS" 127.0.0.1:81 >/dev/null
kill -INT $tracer
wait $tracer
is "--trace exits 0 on SIGINT" 0 "$?"
like "--trace shows the lookup inside the namespace" "127\.0\.0\.1:81 +steered +127\.0\.0\.1:9000" \
	"$(cat "$WORK/trace")"

# /proc/PID/ns/net works as well
unshare -n sleep 600 &
PIDS+=($!)
P=/proc/$!/ns/net
for _ in $(seq 100); do [ "$(netns_ino "$P")" != "$NETNS_INO" ] && break; sleep 0.02; done
nsenter --net="$P" ip link set lo up
nsenter --net="$P" "$NETPEER" serve 127.0.0.1:7000 >"$WORK/p.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q ready "$WORK/p.out" && break; sleep 0.02; done
ok "steer in /proc/PID/ns/net" "$SKSTEER" --netns "$P" -p 8080 -s 127.0.0.1:7000
is "port 8080 is steered there" 8080 "$(nsenter --net="$P" "$NETPEER" connect 127.0.0.1:8080)"
ok "--detach it" "$SKSTEER" --netns "$P" --detach
ok "its pins are gone" test ! -e "/sys/fs/bpf/sksteer/netns-$(netns_ino "$P")"

# bad paths: one line each, nothing changed
steered() { dial_in "$NS" 127.0.0.1:81; }
bad_netns() { # bad_netns DESCRIPTION REGEX PATH
	run_sksteer --netns "$3" -p 82 -s 127.0.0.1:9000
	[ "$RC" != 0 ] && [[ $STDERR =~ $2 ]] && [ "$(echo "$STDERR" | wc -l)" = 1 ] &&
		[ "$(steered)" = 81 ]
	result "$1" $? "exit $RC, stderr: $STDERR"
}
touch "$WORK/file"
bad_netns "a path that does not exist" \
	"^sksteer: --netns /nope: No such file or directory: give /run/netns/NAME or /proc/PID/ns/net$" /nope
bad_netns "a regular file" "^sksteer: --netns $WORK/file is not a network namespace: give" "$WORK/file"
bad_netns "a mount namespace" "^sksteer: --netns /proc/self/ns/mnt is not a network namespace" \
	/proc/self/ns/mnt
run_sksteer --netns "$N" -p 82 -s 127.0.0.1:9000
ok "a clean run afterwards still works (the namespace is untouched by the bad ones)" test "$RC" = 0

ok "--detach from outside" "$SKSTEER" --netns "$N" --detach
is "port 81 is refused inside" refused "$(dial_in "$NS" 127.0.0.1:81)"
ok "the pins are gone" test ! -e "$N_PINS"

done_testing
