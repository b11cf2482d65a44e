# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The UDP client rule against hostile local users: a client socket keeps the replies from the
# address and port it sent to, lately, and nothing else; no user can take a steered port's
# traffic by choosing a port, handing one over, or filling the table.
. "$(dirname "$0")/lib.sh"

# a small ephemeral range, so that a user finds a chosen port in a few thousand binds
sysctl -qw net.ipv4.ip_local_port_range="40000 42999"
RANGE=40000-42999
NOBODY=65534
USER_PL=$TOP/tests/udpuser.pl
serve --udp 127.0.0.1:7 # an echo service: answers every datagram with "7"
serve --udp 127.0.0.1:9000 # the target
ok "steer the ephemeral range to a UDP target" "$SKSTEER" -p $RANGE -s udp:127.0.0.1:9000

user_start() { # user_start OUT UID MODE ARGS...: udpuser.pl as UID; its "ready" words in READY
	local out=$1 uid=$2
	shift 2
	setpriv --reuid="$uid" --regid="$uid" --clear-groups perl "$USER_PL" "$@" >"$out" 2>&1 &
	USER_PID=$!
	PIDS+=("$USER_PID")
	for _ in $(seq 500); do
		READY=$(sed -n 's/^ready //p' "$out" 2>/dev/null)
		[ -n "$READY" ] && return 0
		kill -0 "$USER_PID" 2>/dev/null || break
		sleep 0.02
	done
	echo "# udpuser.pl $*: $(cat "$out")"
	return 1
}
user_stop() { kill "$@" 2>/dev/null && wait "$@" 2>/dev/null; }
steered() { "$SKSTEER" --list --json | grep -o '"steered":[0-9]*' | head -n 1 | cut -d: -f2; }
from_peer() { dial --udp --from=9 127.0.0.1:"$1" >/dev/null; } # one datagram from 127.0.0.1:9
got() { grep -c '^got' "$1"; }

# "Lately": replies are awaited for 30 s after the last send to the peer. The condition is that
# time itself, on the kernel's monotonic clock: 31 s after the send (a sleep at the end, once
# the rest of the test has run), it has passed, however slow the machine (no duration is
# checked). Its entries (two) count in what --list shows awaited until then.
user_start "$WORK/early" 0 send 127.0.0.1:9
while [ "$READY" = 41000 ]; do # the port "take" needs below: another one
	user_stop "$USER_PID"
	user_start "$WORK/early" 0 send 127.0.0.1:9
done
LATELY_SENT=$(date +%s)
EARLY_PORT=$READY
EARLY_PID=$USER_PID
from_peer "$EARLY_PORT"
is "a reply within the window is the client's" 1 "$(got "$WORK/early")"

# DNS-style: an unconnected client sends to a resolver and gets its answer.
user_start "$WORK/dns" "$NOBODY" send 127.0.0.1:7
ok "an unconnected client gets the reply of the peer it sent to" grep -qx 'got 7' "$WORK/dns"
user_stop "$USER_PID"

# Finding 1: a user binds to 127.0.0.1:0 until the kernel gives it a steered port, and sends once.
user_start "$WORK/take" "$NOBODY" take 41000 127.0.0.1:9
before=$(steered)
for _ in 1 2 3 4 5; do dial --udp 127.0.0.1:41000 >/dev/null; done
is "a user who takes a steered port by binding to port 0: the target still gets its datagrams" \
	$((before + 5)) "$(steered)"
is "(the user got none)" 0 "$(got "$WORK/take")"
dial --udp --from=8 127.0.0.1:41000 >/dev/null
is "nor one from its peer's address but another port: replies are by address and port" \
	$((before + 6)) "$(steered)"
from_peer 41000
is "what it does get: replies from the peer it sent to" 1 "$(got "$WORK/take")"
user_stop "$USER_PID"

# Finding 2: socket S1 sends (port A), disconnects (the kernel frees A); S2 binds A explicitly.
user_start "$WORK/handoff" "$NOBODY" handoff 127.0.0.1:9
port=$READY
before=$(steered)
from_peer "$port"
dial --udp 127.0.0.1:"$port" >/dev/null
is "a port a disconnected client left, bound explicitly by another socket: the target's" \
	$((before + 2)) "$(steered)"
is "(the socket bound there got nothing, not even from the first one's peer)" 0 \
	"$(got "$WORK/handoff")"
user_stop "$USER_PID"

# The same socket disconnects, then binds its old port explicitly: a server now, no client.
user_start "$WORK/rebind" "$NOBODY" rebind 127.0.0.1:9
port=$READY
before=$(steered)
from_peer "$port"
is "a client that rebinds its port explicitly gives back its peers" $((before + 1)) "$(steered)"
is "(it got nothing)" 0 "$(got "$WORK/rebind")"
user_stop "$USER_PID"

# A client that disconnects and sends again from another port: the old port is given back.
user_start "$WORK/move" "$NOBODY" move 127.0.0.1:9
read -r old new <<<"$READY"
before=$(steered)
from_peer "$old"
is "a client that moved to another port gives back the old one" $((before + 1)) "$(steered)"
from_peer "$new"
is "and gets the replies on the new one" 1 "$(got "$WORK/move")"
user_stop "$USER_PID"

# --force on a port a client holds while the watcher runs: the socket is a server from then on,
# though it keeps sending (its next send would otherwise claim the port again).
user_start "$WORK/forced" "$NOBODY" repeat 127.0.0.1:9
port=$READY
ok "the port leaves the target" "$SKSTEER" --remove "$port" -s udp:127.0.0.1:9000
ok "and comes back with --force" "$SKSTEER" --add "$port" -s udp:127.0.0.1:9000 --force
: >"$WORK/forced"
awaited() { "$SKSTEER" --list | grep -o 'replies awaited [0-9]*' | grep -o '[0-9]*$'; }
for _ in $(seq 100); do [ "$(awaited)" = 2 ] && break; sleep 0.05; done
is "its next send gives back its peers, and claims nothing (the early client's two are left)" 2 \
	"$(awaited)"
from_peer "$port"
is "a client whose port --force took gets no reply" 0 "$(got "$WORK/forced")"
user_stop "$USER_PID"

# A user fills its budget: its sends go unrecorded, counted; nobody else's entries move. The
# victim keeps sending (every 0.1 s), so that its window stays open however long the filling
# takes (an emulated CPU under load took over 30 s): its sends refresh the entries it has, and
# if a filler had displaced them, they would find the table full.
user_start "$WORK/victim" 20100 repeat 127.0.0.1:9
VICTIM_PORT=$READY
VICTIM_PID=$USER_PID
peers=$(for p in $(seq 1001 1008); do printf '127.0.0.1:%s ' "$p"; done)
# shellcheck disable=SC2086 # one word a peer
user_start "$WORK/fill-nobody" "$NOBODY" fill 200 $peers
FILLERS=("$USER_PID")
like "a user's entries stop at its budget, and --list counts what was not recorded" \
	"clients  UDP replies awaited $((2 + 2 + 1024)) \(16384 at most, 1024 per user\)  unrecorded sends: table full 0, over a user's budget [1-9]" \
	"$("$SKSTEER" --list)"
user_start "$WORK/over" "$NOBODY" send 127.0.0.1:9
before=$(steered)
from_peer "$READY"
is "a send over the budget fails safe: its reply is the target's" $((before + 1)) "$(steered)"
is "(the client got nothing)" 0 "$(got "$WORK/over")"
user_stop "$USER_PID"
for uid in $(seq 20001 20016); do
	# shellcheck disable=SC2086
	user_start "$WORK/fill-$uid" "$uid" fill 120 $peers && FILLERS+=("$USER_PID")
done
like "sixteen more users fill the table: --list says so" \
	"clients  UDP replies awaited 16384 \(16384 at most, 1024 per user\)  unrecorded sends: table full [1-9][0-9]*, " \
	"$("$SKSTEER" --list)"
like "--metrics counts it" \
	"sksteer_udp_sends_unrecorded_total\{netns=\"[0-9]+\",cause=\"table_full\"\} [1-9]" \
	"$("$SKSTEER" --metrics)"
user_start "$WORK/late" 0 send 127.0.0.1:9
before=$(steered)
from_peer "$READY"
is "a full table fails safe: a new client's reply is the target's" $((before + 1)) "$(steered)"
user_stop "$USER_PID"
from_peer "$VICTIM_PORT"
is "a client recorded before keeps its replies: no user displaced it" 1 "$(got "$WORK/victim")"
user_stop "${FILLERS[@]}" "$VICTIM_PID"
like "the users' sockets closed: their entries are given back (the early client's are left)" \
	"clients  UDP replies awaited 2 " "$("$SKSTEER" --list)"
user_start "$WORK/again" 0 send 127.0.0.1:9
from_peer "$READY"
is "then a new client's replies are its own again" 1 "$(got "$WORK/again")"
user_stop "$USER_PID"

# "Lately", ended: over 31 s after the early client's one send (the rest of the test ran meanwhile).
sleep "$((LATELY_SENT + 32 - $(date +%s)))" 2>/dev/null || :
before=$(steered)
from_peer "$EARLY_PORT"
is "30 s after its last send, a datagram from the peer is the target's" $((before + 1)) \
	"$(steered)"
user_stop "$EARLY_PID"

done_testing
