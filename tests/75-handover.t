# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Sockets handed over: --fd from a server that passes its socket down, --listen -- CMD with a
# socket-activated server, --systemd, and the bad descriptors each get one line.
. "$(dirname "$0")/lib.sh"

block() { "$SKSTEER" --list | grep -A2 "^target $1 "; }

# A server that runs 'sksteer --fd 3' on its own listening socket before it accepts.
start_ready "$NETPEER" serve --label=own --run="$SKSTEER -p 80,443 --fd 3" 127.0.0.1:9000
result "a server steers 80,443 to its own socket with --fd 3" $? "$(cat "$WORK"/serve.* 2>/dev/null)"
is "both ports reach it" "own:80 own:443" "$(dial 127.0.0.1:80) $(dial 127.0.0.1:443)"
like "--list names the socket's own address and its owner" \
	"^target 127.0.0.1:9000  tcp  listening  pid $LAST_PID \(netpeer\)" "$(block 127.0.0.1:9000)"
ok "a later run finds the target by that address" "$SKSTEER" -p 80,443,8080 -s 127.0.0.1:9000
is "and changes its ports" own:8080 "$(dial 127.0.0.1:8080)"

# IPv6, dual-stack, and UDP sockets by descriptor.
start_ready "$NETPEER" serve --label=six --run="$SKSTEER -p 81 --fd 3" '[::]:9001'
is "a dual-stack IPv6 socket by descriptor gets IPv4 and IPv6" "six:81 six:81" \
	"$(dial 127.0.0.1:81) $(dial '[::1]:81')"
start_ready "$NETPEER" serve --udp --run="$SKSTEER -p 5300 --fd 3" 127.0.0.1:5353
is "a bound UDP socket by descriptor" 5300 "$(dial --udp 127.0.0.1:5300)"
like "--list shows it as a UDP target" "^target udp:127.0.0.1:5353  udp  bound" \
	"$(block udp:127.0.0.1:5353)"

# Bad descriptors: one line each, exit 1, steering as it was.
before=$("$SKSTEER" --save)
run_sksteer -p 82 --fd 7
is "a closed descriptor is refused" 1 "$RC"
like "naming it and how to pass one" "^sksteer: --fd 7 is not an open descriptor of sksteer: pass the socket down" "$STDERR"
echo "a regular file" >"$WORK/regular"
run_sksteer -p 82 --fd 7 7<"$WORK/regular"
like "a regular file is refused" "^sksteer: --fd 7 is a regular file: give the descriptor of a listening TCP socket or a bound UDP socket$" "$STDERR"
exec 7<>/dev/tcp/127.0.0.1/9000
run_sksteer -p 82 --fd 7
like "a connected TCP socket is refused" "^sksteer: --fd 7 is a TCP socket at 127.0.0.1:[0-9]+ that is not listening \(a connection\)" "$STDERR"
exec 7>&-
# (perl: a Unix socket as fd 7, which dup2 leaves open across exec)
perl -MSocket -MPOSIX=dup2 -e 'socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die "socket: $!\n";
	dup2(fileno($s), 7) or die "dup2: $!\n"; exec { $ARGV[0] } @ARGV or die "exec: $!\n"' \
	"$SKSTEER" -p 82 --fd 7 >/dev/null 2>"$WORK/unix"
like "a Unix socket is refused" "^sksteer: --fd 7 is not a TCP or UDP socket of IPv4 or IPv6" "$(cat "$WORK/unix")"
netns_add
ip netns exec "$NS" "$NETPEER" serve \
	--run="nsenter --net=/proc/$$/ns/net $SKSTEER -p 82 --fd 3" 127.0.0.1:9000 >"$WORK/otherns" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q "ready\|failed" "$WORK/otherns" && break; sleep 0.02; done
like "a socket of another network namespace is refused, naming both" \
	"sksteer: --fd 3: the socket at 127.0.0.1:9000 belongs to network namespace $(netns_ino "/run/netns/$NS"), not to the one steered here \($NETNS_INO\): run sksteer in the socket's namespace, or with --netns" \
	"$(cat "$WORK/otherns")"
run_sksteer -p 82 --fd 3 -s 127.0.0.1:9000
is "--fd with -s is a usage error" 64 "$RC"
is "none of them changed the steering" "$before" "$("$SKSTEER" --save)"

# --listen: sksteer makes the socket, steers to it, and execs a socket-activated server.
start_ready "$SKSTEER" --listen 127.0.0.1:9100 --fdname=web -p 8000-8002 -- "$NETPEER" activated
result "--listen ... -- CMD: the server found LISTEN_PID, LISTEN_FDS=1 and fd 3" $? \
	"$(cat "$WORK"/serve.* 2>/dev/null)"
server=$LAST_PID
is "the server answers on the steered ports, named by LISTEN_FDNAMES" "web:8000 web:8002" \
	"$(dial 127.0.0.1:8000) $(dial 127.0.0.1:8002)"
like "--list shows the target, owned by CMD (sksteer's pid, exec'd)" \
	"^target 127.0.0.1:9100  tcp  listening  pid $server \(netpeer\)" "$(block 127.0.0.1:9100)"
start_ready "$SKSTEER" --listen udp:[::1]:9153 --v6only -p 53 -- "$NETPEER" activated --label=dns
is "--listen udp: on IPv6, with --v6only" "dns:53" "$(dial --udp '[::1]:53')"
start_ready "$SKSTEER" --listen 127.0.0.1:9101 --reuseport --backlog 16 -p 8003 -- \
	"$NETPEER" activated --label=a
start_ready "$SKSTEER" --listen 127.0.0.1:9101 --reuseport -p 8004 -- "$NETPEER" activated --label=b
# the same target, its ports now 8004: with -p, the kernel spreads over the SO_REUSEPORT group
like "--reuseport: a second socket at the same address, in its group" "^[ab]:8004$" \
	"$(dial 127.0.0.1:8004)"
kill "$server"
wait "$server" 2>/dev/null
like "the steering stays after CMD exits: the target is there, gone" \
	"^target 127.0.0.1:9100  tcp  gone" "$(block 127.0.0.1:9100)"

before=$("$SKSTEER" --save)
run_sksteer --listen 127.0.0.1:9101 -p 8005 -- "$NETPEER" activated
like "--listen at an address in use: one line" \
	"^sksteer: --listen 127.0.0.1:9101: Address already in use: another socket is bound there" "$STDERR"
run_sksteer --listen 127.0.0.1:9102 -p 8005 -- /nonexistent/server
like "a command that cannot run is refused before anything changes" \
	"^sksteer: cannot run /nonexistent/server: No such file or directory$" "$STDERR"
run_sksteer --listen 127.0.0.1:9102 -p 8005
is "--listen without a command is a usage error" 64 "$RC"
like "that says how" "--listen needs a command to pass the socket to" "$STDERR"
ok "nothing listens at 9102 afterwards" test -z "$(ss -Htln 'sport = :9102')"
is "and the steering is as it was" "$before" "$("$SKSTEER" --save)"

# --systemd: a service's main process with the socket systemd passed (LISTEN_PID is its pid).
activate() { # the socket as fd 3, with the environment systemd gives a socket-activated service
	exec "$NETPEER" serve --run="LISTEN_FDS=1 LISTEN_FDNAMES=$1 exec sh -c 'LISTEN_PID=\$\$ exec $2'" "$3"
}
start_ready activate web "$SKSTEER --systemd -p 8100,8101 -- $NETPEER activated" 127.0.0.1:9200
is "--systemd -- CMD: the server gets the passed socket on the steered ports" "web:8100 web:8101" \
	"$(dial 127.0.0.1:8100) $(dial 127.0.0.1:8101)"
start_ready activate web "$SKSTEER --fd web -p 8102 -- $NETPEER activated --label=named" 127.0.0.1:9201
is "--fd NAME: the socket named in LISTEN_FDNAMES" named:8102 "$(dial 127.0.0.1:8102)"
like "--fd NAME that was not passed: one line naming the names there are" \
	"^sksteer: --fd api: no socket of that name was passed \(LISTEN_FDNAMES=web\)" \
	"$(LISTEN_FDS=1 LISTEN_FDNAMES=web "$SKSTEER" --fd api -p 8103 2>&1)"
run_sksteer --systemd -p 8103
like "--systemd where nothing was passed: one line" "^sksteer: no sockets were passed \(LISTEN_FDS is not set\)" "$STDERR"
LISTEN_FDS=1 LISTEN_PID=1 run_sksteer --systemd -p 8103
like "--systemd with another process's LISTEN_PID: one line" "^sksteer: LISTEN_PID=1 is not this process" "$STDERR"

# The example units in contrib/ and their README section.
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$WORK/units"
	for u in sksteer-example.socket sksteer-example.service; do
		sed -e "s|@SBINDIR@|$(dirname "$SKSTEER")|g" -e "s|/usr/local/bin/my-server|$NETPEER|" \
			"$TOP/contrib/$u" >"$WORK/units/$u"
	done
	out=$(SYSTEMD_UNIT_PATH=$WORK/units: systemd-analyze verify --man=no \
		"$WORK/units/sksteer-example.socket" "$WORK/units/sksteer-example.service" 2>&1)
	result "systemd-analyze verify: the example .socket and .service" $? "$out"
	ok "and it has nothing to say" test -z "$out"
else
	skip "systemd-analyze is not installed"
fi
exec_line=$(sed -n 's/^ExecStart=//p' "$TOP/contrib/sksteer-example.service")
like "the example service runs sksteer --systemd -- the server" "sksteer --systemd -p [0-9,-]+ -- " \
	"$exec_line"

done_testing
