# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# UDP over the ephemeral port range: another program's UDP client socket keeps its replies, and
# nothing else (tests/68-udp-clients.t tries to steal them).
. "$(dirname "$0")/lib.sh"

read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
RANGE=$lo-$hi
serve --udp 127.0.0.1:7 # the echo service clients talk to
serve --udp '[::1]:7'
serve --udp 127.0.0.1:9000 # the target: answers with the port a datagram was sent to

run_sksteer -p "$RANGE" -s udp:127.0.0.1:9000
is "steer the whole ephemeral range $RANGE to a UDP target" 0 "$RC"
like "with a warning that says what it means" \
	"^sksteer: warning: UDP ports $RANGE are in the ephemeral range $RANGE \(net.ipv4.ip_local_port_range\): a reply to another program's UDP client socket on one of them \(from the address and port it sent to, within 30 s\) goes to that socket, not to the target$" \
	"$STDERR"

# 20 unconnected clients (sendto from an ephemeral port, a resolver's kind): the echo's
# replies come to ports the target steers, yet each client gets its own.
answers=$(for _ in $(seq 20); do dial --sendto 127.0.0.1:7; done | sort | uniq -c | xargs)
is "20 UDP clients each get their echo" "20 7" "$answers"
answers=$(for _ in $(seq 5); do dial --sendto '[::1]:7'; done | sort | uniq -c | xargs)
is "IPv6 clients too" "5 7" "$answers"
is "a port no client holds is steered" $((lo + 5)) "$(dial --udp 127.0.0.1:$((lo + 5)))"
like "--list says so, and counts the clients' lookups (IPv6 ones too)" \
	"clients  from port $lo up, replies to other programs' UDP client sockets are theirs
  lookups  steered 1 .* to-clients 25$" "$("$SKSTEER" --list | sed -n 3,4p)"
like "--list shows the watcher's table: every closed client gave its entries back" \
	"clients  UDP replies awaited 0 \(16384 at most, 1024 per user\)  unrecorded sends: table full 0, over a user's budget 0" \
	"$("$SKSTEER" --list)"
like "--list --json" "\"clients_from\":$lo,.*\"to_clients\":25," "$("$SKSTEER" --list --json)"
like "--metrics" "sksteer_lookups_total\{netns=\"[0-9]+\",target=\"udp:127.0.0.1:9000\",verdict=\"to_clients\"\} 25" \
	"$("$SKSTEER" --metrics)"
is "closed clients let go of their ports (every mark is 0)" "" \
	"$(bpftool map dump pinned "$PIN_DIR/udp_clients" 2>&1 | grep '"value": [1-9]')"

# A client that holds its port and keeps it: while it lives, its port is its own; after, the target's.
client() { # client OUT [ARGS...]: a netpeer client in the background; its port in CLIENT_PORT
	local out=$1
	shift
	"$NETPEER" client "$@" >"$out" 2>&1 &
	PIDS+=($!)
	CLIENT_PID=$!
	for _ in $(seq 100); do
		CLIENT_PORT=$(sed -n 's/^ready //p' "$out")
		[ -n "$CLIENT_PORT" ] && return 0
		sleep 0.02
	done
	return 1
}
client "$WORK/c1" --every=100 127.0.0.1:7
like "a client gets the replies of the peer it sends to" "got 7" "$(cat "$WORK/c1")"
trace_start "$WORK/trace"
dial --udp 127.0.0.1:"$CLIENT_PORT" >/dev/null
trace_stop
like "a datagram to its port from anyone else is no reply: the target's" \
	":$CLIENT_PORT +steered +udp:127\.0\.0\.1:9000" "$(cat "$WORK/trace")"
like "the replies are traced as the client's" ":$CLIENT_PORT +client +udp:127\.0\.0\.1:9000" \
	"$(cat "$WORK/trace")"
is "(the client got nothing else)" "" "$(grep -v '^got 7$\|^ready' "$WORK/c1")"
like "--list --json: the table holds its port and its peer" '"udp_clients":\{"awaited":2,"max":16384,"per_user":1024,' \
	"$("$SKSTEER" --list --json)"
like "--metrics: the table's entries" "sksteer_udp_replies_awaited\{netns=\"[0-9]+\"\} 2" \
	"$("$SKSTEER" --metrics)"
kill "$CLIENT_PID"
wait "$CLIENT_PID" 2>/dev/null
is "once the client is gone, the target gets its port" "$CLIENT_PORT" \
	"$(dial --udp 127.0.0.1:"$CLIENT_PORT")"

# A server bound explicitly to a steered port after steering is no client: the target keeps it.
client "$WORK/c2" --from=$((lo + 3)) --every=100 127.0.0.1:9
is "a socket bound to a steered port that sends gets nothing" $((lo + 3)) \
	"$(dial --udp 127.0.0.1:$((lo + 3)))"
kill "$CLIENT_PID"
watch_links() { # the ids of the links this namespace's watcher pinned (other namespaces have theirs)
	local pin
	for pin in "$PIN_DIR"/udp_watch_*; do
		bpftool link show pinned "$pin" 2>/dev/null | awk -F: 'NR == 1 { print $1 }'
	done
}
links=$(watch_links)
is "the watcher's links are pinned here" 7 "$(wc -w <<<"$links")"
ok "--detach" "$SKSTEER" --detach
# a pin's last reference goes after an RCU grace period (bpffs frees its inode so), and a
# link put there is freed by a work item: gone a moment after the pins, not at once
left() { for id in $links; do bpftool link show id "$id" >/dev/null 2>&1 && echo "$id"; done; }
for _ in $(seq 100); do [ -z "$(left)" ] && break; sleep 0.05; done
is "the watcher's links went with the pins" "" "$(left)"

# Sockets there before the ports are steered: a client waiting for a reply to a send made before
# is no different from a socket bound there (the watcher cannot tell them apart): each keeps the
# replies to what it sends from then on, and nothing else; the guard lets them be.
client "$WORK/c3" 127.0.0.1:9
waiting=$CLIENT_PORT
waiting_pid=$CLIENT_PID
client "$WORK/c4" --from=$((lo + 4)) --every=100 127.0.0.1:9
ok "steer the range over them, without --force" "$SKSTEER" -p "$RANGE" -s udp:127.0.0.1:9000
steered() { "$SKSTEER" --list --json | grep -o '"steered":[0-9]*' | head -n 1 | cut -d: -f2; }
before=$(steered)
dial --udp 127.0.0.1:"$waiting" >/dev/null # the target cannot answer from a port a client holds
is "a datagram to the waiting client's port is the target's" $((before + 1)) "$(steered)"
is "(the waiting client got nothing)" "" "$(grep -v '^ready' "$WORK/c3")"
dial --udp --from=9 127.0.0.1:$((lo + 4)) >/dev/null # (it hears the socket's own sends)
like "a reply, from the peer the socket bound there sends to, is its own" "got \?" \
	"$(cat "$WORK/c4")"
is "any other datagram to it is the target's" $((lo + 4)) "$(dial --udp 127.0.0.1:$((lo + 4)))"
kill "$waiting_pid"
ok "--detach" "$SKSTEER" --detach
ok "steer the range over them with --force" "$SKSTEER" -p "$RANGE" -s udp:127.0.0.1:9000 --force
# One more send from the socket while the watcher runs (a client's would claim the port), then
# none: the dial below binds port 9, where its sends go, and would take one of them (a "?" from
# its port) for the answer.
kill -USR1 "$CLIENT_PID"
for _ in $(seq 500); do grep -q '^quiet' "$WORK/c4" && break; sleep 0.02; done
before=$(steered)
is "--force makes the bound socket a server: even its peer's datagrams are the target's" \
	$((lo + 4)) "$(dial --udp --from=9 127.0.0.1:$((lo + 4)))"
is "(the target counted it)" $((before + 1)) "$(steered)"
kill "$CLIENT_PID"
ok "--detach" "$SKSTEER" --detach

# Ports outside the ephemeral range pay nothing: no watcher, no flag.
ok "steer UDP ports below the range" "$SKSTEER" -p $((lo - 20))-$((lo - 10)) -s udp:127.0.0.1:9000
is "no watcher is attached" "" "$(ls "$PIN_DIR" | grep watch_)"
ok "then add ephemeral ports" "$SKSTEER" --add $((lo + 100)) -s udp:127.0.0.1:9000
is "the watcher is attached" 7 "$(ls "$PIN_DIR" | grep -c '^udp_watch_[a-z]*[46e]$')"
ok "more, while it runs: loads nothing" \
	"$NOLOAD" "$SKSTEER" --add $((lo + 101)) -s udp:127.0.0.1:9000
ok "remove them again" "$SKSTEER" --remove $((lo + 100)),$((lo + 101)) -s udp:127.0.0.1:9000
is "and it is detached" "" "$(ls "$PIN_DIR" | grep watch_)"
ok "--detach" "$SKSTEER" --detach

# A configuration file turns the rule on as -p does.
printf 'udp 127.0.0.1:9000 %s\n' "$RANGE" >"$WORK/conf"
run_sksteer --config "$WORK/conf"
like "a configuration file with UDP ports in the range warns too" "^sksteer: warning: UDP ports $RANGE" "$STDERR"
is "clients get their replies" 5 \
	"$(for _ in $(seq 5); do dial --sendto 127.0.0.1:7; done | grep -c '^7$')"
ok "applying it again changes nothing" "$SKSTEER" --config "$WORK/conf" --dry-run
ok "--detach" "$SKSTEER" --detach

# A binding for a destination prefix (--dst) turns the rule on as an unscoped one does.
run_sksteer -p "$RANGE" -s udp:127.0.0.1:9000 --dst 127.0.0.0/8
like "the range on a prefix: the same warning (cgroup v2 is there)" \
	"^sksteer: warning: UDP ports $RANGE are in the ephemeral range $RANGE \(net.ipv4.ip_local_port_range\): a reply" \
	"$STDERR"
is "the watcher is attached" 7 "$(ls "$PIN_DIR" | grep -c '^udp_watch_[a-z]*[46e]$')"
is "20 clients get their replies" 20 \
	"$(for _ in $(seq 20); do dial --sendto 127.0.0.1:7; done | grep -c '^7$')"
is "the target gets the rest of the range on that prefix" 40000 "$(dial --udp 127.0.0.1:40000)"
ok "--detach" "$SKSTEER" --detach

# Without cgroup v2 the rule cannot run: steering still works, and the warning says what is lost.
# (umount -a -t: every mount of type cgroup2, wherever it is; the type is the field after " - " in
# mountinfo, not at a fixed position, and the source can be named anything, "cgroup" in Docker)
out=$(unshare -m --propagation private bash -c "umount -a -t cgroup2 && $SKSTEER -p $RANGE -s udp:127.0.0.1:9000" 2>&1)
like "without cgroup v2: a warning naming what is lost and the fix" \
	"^sksteer: warning: UDP ports $RANGE are in the ephemeral range $RANGE \(net.ipv4.ip_local_port_range\) and cgroup v2 is not mounted, so sksteer cannot tell other programs' UDP client sockets: replies to them on these ports go to the target \(mount cgroup2 and run sksteer again\)$" \
	"$out"
is "(and then the target does take the clients' replies)" 0 \
	"$(for _ in $(seq 5); do dial --sendto 127.0.0.1:7; done | grep -c '^7$')"
ok "a later run where cgroup v2 is mounted turns the rule on" "$SKSTEER" -p "$RANGE" -s udp:127.0.0.1:9000
is "then clients get their replies again" 5 \
	"$(for _ in $(seq 5); do dial --sendto 127.0.0.1:7; done | grep -c '^7$')"

done_testing
