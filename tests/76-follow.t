# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# --follow: a new socket at a target's address takes over in the kernel (sock_ops on the cgroup
# v2 root), the new socket alone or its SO_REUSEPORT group; only an entitled owner (the same uid,
# the named cgroup) may take over, and refusals are counted; haproxy -sf reloads under load lose
# no connection.
. "$(dirname "$0")/lib.sh"

block() { "$SKSTEER" --list | grep -A6 "^target $1 "; }
labels() { # labels N ADDR:PORT: the distinct answers of N connections, sorted
	for _ in $(seq "$1"); do dial "$2"; done | cut -d: -f1 | sort -u | paste -sd' '
}
takeovers() { block "$1" | grep -o 'takeovers [0-9]*' | cut -d' ' -f2; }
stop() { kill "$1" && wait "$1" 2>/dev/null; }
CGROOT=$(findmnt -n -t cgroup2 -o TARGET | head -1)

serve --label=probe 127.0.0.1:9999
probe=$LAST_PID
if ! "$SKSTEER" -p 9998 -s 127.0.0.1:9999 --follow >"$WORK/probe" 2>&1; then
	if grep -q "refused the follower\|cannot run sock_ops\|cgroup v2" "$WORK/probe"; then
		echo "1..0 # skip --follow does not load here: $(cat "$WORK/probe")"
		exit 0
	fi
fi
"$SKSTEER" --detach
stop "$probe"

# A restart at the same address: the old socket closes, a new one listens, and takes over at once.
serve --label=v1 127.0.0.1:9000
v1=$LAST_PID
ok "steer 80,443 to 127.0.0.1:9000, following its address" \
	"$SKSTEER" -p 80,443 -s 127.0.0.1:9000 --follow
like "--list shows it" "follow   the new socket alone, uid 0  takeovers 0  refused 0" \
	"$(block 127.0.0.1:9000)"
ok "the follower is pinned in the namespace's pin directory" \
	test -e "$PIN_DIR/follow" -a -e "$PIN_DIR/follow_addrs" -a -e "$PIN_DIR/follow_stats"
link_id=$(bpftool link show pinned "$PIN_DIR/follow" | awk 'NR == 1 { sub(":", "", $1); print $1 }')
like "its link is attached to the cgroup v2 root as sock_ops" \
	"cgroup_id $(stat -c %i "$CGROOT") +attach_type (cgroup_)?sock_ops" \
	"$(bpftool link show pinned "$PIN_DIR/follow")"
stop "$v1"
serve --label=v2 127.0.0.1:9000
is "a restarted server gets the ports with no sksteer run" "v2:80 v2:443" \
	"$(dial 127.0.0.1:80) $(dial 127.0.0.1:443)"
like "counted as a takeover" "takeovers 1  refused 0" "$(block 127.0.0.1:9000)"
v2=$LAST_PID

# IPv6 and dual-stack targets follow too.
serve --label=six '[::]:9001'
ok "a dual-stack target follows" "$SKSTEER" -p 81 -s '[::]:9001' --follow
stop "$LAST_PID"
serve --label=six2 '[::]:9001'
is "its restart takes IPv4 and IPv6 clients" "six2:81 six2:81" "$(dial 127.0.0.1:81) $(dial '[::1]:81')"
stop "$LAST_PID"
ok "detach it" "$SKSTEER" --detach -s '[::]:9001'

# SO_REUSEPORT: a new process binds next to the old one (a reload): the new socket alone.
stop "$v2"
serve --reuseport --label=old 127.0.0.1:9000
old=$LAST_PID
is "the old process has the ports" "old" "$(labels 10 127.0.0.1:80)"
serve --reuseport --label=new 127.0.0.1:9000
is "a reload's new socket gets every connection, the old one none" "new" \
	"$(labels 40 127.0.0.1:80)"
like "--list: this socket only" "assign   this socket only" "$(block 127.0.0.1:9000)"
new=$LAST_PID
# The steered socket closes while its older sibling still listens (a reload that failed): the
# sibling, the target's standby, gets the connections.
stop "$new"
is "the new socket closes: its older sibling gets the connections again" "old" \
	"$(labels 10 127.0.0.1:80)"
like "--list says a sibling serves" "standby  its socket is gone: a sibling at its address gets" \
	"$(block 127.0.0.1:9000)"
ok "--check is content" "$SKSTEER" --check
stop "$old"
is "once no socket listens there, the port is the kernel's" refused "$(dial 127.0.0.1:80)"

# --follow=group: a group of worker sockets shares the connections, a new member included.
serve --reuseport --label=w1 127.0.0.1:9000
serve --reuseport --label=w2 127.0.0.1:9000
ok "--follow=group" "$SKSTEER" -p 80,443 -s 127.0.0.1:9000 --follow=group
like "--list shows the group" "follow   its SO_REUSEPORT group" "$(block 127.0.0.1:9000)"
serve --reuseport --label=w3 127.0.0.1:9000
got=$(labels 60 127.0.0.1:80)
like "after a new member listens, connections spread over the group, the new one too" \
	"^w[123] w[123]( w[123])?$" "$got"
like "the new member is one of them" "w3" "$got"
follow_link() { bpftool link show pinned "$PIN_DIR/follow" | awk 'NR == 1 { print $1, $4 }'; }
before=$(follow_link)
ok "kept by a run without --follow (and by --save), which loads nothing" \
	"$NOLOAD" "$SKSTEER" -p 80,443,8080 -s 127.0.0.1:9000
is "the same link runs the same follower" "$before" "$(follow_link)"
ok "nor does a run that says --follow=group again" \
	"$NOLOAD" "$SKSTEER" -p 80,443,8080 -s 127.0.0.1:9000 --follow=group
other_build follow_build # as another build of sksteer would have recorded it
out=$("$NOLOAD" "$SKSTEER" -p 80,443,8080 -s 127.0.0.1:9000 --follow=group 2>&1)
like "then --follow asks the kernel again before anything changes (nobpfload refuses its probe)" \
	"cannot run sock_ops programs" "$out"
ok "where another build's follower runs, a run of this one" \
	"$SKSTEER" -p 80,443,8080 -s 127.0.0.1:9000
after=$(follow_link)
is "swaps its follower into the pinned link, as an upgrade does: same link" \
	"${before%% *}" "${after%% *}"
ok "a program loaded by this run" test "${before#* }" != "${after#* }"
ok "and the next run loads nothing" "$NOLOAD" "$SKSTEER" -p 80,443,8080 -s 127.0.0.1:9000
like "the target still follows" "follow   its SO_REUSEPORT group" "$(block 127.0.0.1:9000)"
is "--save keeps it" "tcp 127.0.0.1:9000 80,443,8080 follow=group" "$("$SKSTEER" --save | tail -1)"
# and the follower this run swapped in takes over: the whole group restarts
before=$(takeovers 127.0.0.1:9000)
for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
wait 2>/dev/null
PIDS=()
serve --reuseport --label=w4 127.0.0.1:9000
is "the restarted group's socket gets the ports, the one that run added too" "w4:80 w4:8080" \
	"$(dial 127.0.0.1:80) $(dial 127.0.0.1:8080)"
is "a takeover by the swapped-in follower" "$((before + 1))" "$(takeovers 127.0.0.1:9000)"
stop "$LAST_PID"
PIDS=()

# Hijacking: during a restart, another user binds the address: no takeover, no connection.
serve --label=proxy 127.0.0.1:9000
ok "--follow (the new socket alone again)" "$SKSTEER" -p 80,443 -s 127.0.0.1:9000 --follow
proxy=$LAST_PID
trace_start "$WORK/trace"
stop "$proxy"
start_ready setpriv --reuid 65534 --regid 65534 --clear-groups "$NETPEER" serve --label=thief 127.0.0.1:9000
thief=$LAST_PID
is "an unprivileged user's socket at the address gets no steered connection" "refused refused" \
	"$(dial 127.0.0.1:80) $(dial 127.0.0.1:443)"
like "--list counts the refused takeover and names the uid (counters live as long as following)" \
	"refused 1 \(uid 1, cgroup 0\)  last refused uid 65534" "$(block 127.0.0.1:9000)"
like "--metrics too" 'sksteer_follow_refused_total\{netns="[0-9]+",target="127.0.0.1:9000",cause="uid"\} 1' \
	"$("$SKSTEER" --metrics)"
stop "$thief"
serve --label=proxy2 127.0.0.1:9000
is "the proxy's own restart takes over" "proxy2:80" "$(dial 127.0.0.1:80)"
trace_stop
like "--trace shows the refused takeover, with the thief's uid" \
	"uid 65534 +127.0.0.1:9000 +no-takeover +127.0.0.1:9000" "$(cat "$WORK/trace")"
like "and the takeover" "uid 0 +127.0.0.1:9000 +takeover +127.0.0.1:9000" "$(cat "$WORK/trace")"

# --follow-cgroup: only a socket made in the proxy's cgroup takes over.
if [ -n "$CGROOT" ] && mkdir "$CGROOT/sksteer-test-$$" 2>/dev/null; then
	CG=/sksteer-test-$$
	at_exit rmdir "$CGROOT$CG"
	# exec: start_ready's pid is the server's, which the cleanup kills (then the cgroup goes)
	in_cgroup() { exec sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CGROOT$CG" "$@"; }
	ok "--follow-cgroup $CG" "$SKSTEER" -p 80,443 -s 127.0.0.1:9000 --follow --follow-cgroup "$CG"
	like "--list names the cgroup" "uid 0, cgroup $CG" "$(block 127.0.0.1:9000)"
	ok "the same again loads nothing (both instances run this build's follower)" \
		"$NOLOAD" "$SKSTEER" -p 80,443 -s 127.0.0.1:9000 --follow --follow-cgroup "$CG"
	cg_ino=$(stat -c %i "$CGROOT$CG")
	like "an instance is attached to that cgroup" \
		"cgroup_id $cg_ino +attach_type (cgroup_)?sock_ops" \
		"$(bpftool link show pinned "$PIN_DIR/follow-$cg_ino" 2>&1)"
	stop "$LAST_PID"
	serve --label=outsider 127.0.0.1:9000
	is "a socket of the same uid from outside the cgroup does not take over" refused \
		"$(dial 127.0.0.1:80)"
	like "counted as refused for its cgroup" "refused 2 \(uid 1, cgroup 1\)" "$(block 127.0.0.1:9000)"
	stop "$LAST_PID"
	before=$(takeovers 127.0.0.1:9000)
	start_ready in_cgroup "$NETPEER" serve --label=unit 127.0.0.1:9000
	is "one made in the cgroup does" unit:80 "$(dial 127.0.0.1:80)"
	like "and is not counted as refused" "takeovers $((before + 1))  refused 2 \(uid 1, cgroup 1\)" \
		"$(block 127.0.0.1:9000)"
	is "--save keeps the cgroup" "tcp 127.0.0.1:9000 80,443 follow follow-cgroup=$CG" \
		"$("$SKSTEER" --save | tail -1)"
	run_sksteer -p 80 -s 127.0.0.1:9000 --follow --follow-cgroup /no/such/cgroup
	like "a cgroup that does not exist: one line" "^sksteer: --follow-cgroup /no/such/cgroup: No such file or directory" "$STDERR"
	stop "$LAST_PID"
	serve --label=back 127.0.0.1:9000
	ok "back to following by uid alone" "$SKSTEER" -p 80,443 -s 127.0.0.1:9000 --follow
	ok "the cgroup's instance is gone" test ! -e "$PIN_DIR/follow-$(stat -c %i "$CGROOT$CG")"
else
	skip "no cgroup v2 hierarchy to make a cgroup in"
fi

# UDP cannot follow: one line, nothing changed.
serve --udp 127.0.0.1:5353
ok "a UDP target" "$SKSTEER" -p 53 -s udp:127.0.0.1:5353
before=$("$SKSTEER" --save)
run_sksteer -p 53,54 -s udp:127.0.0.1:5353 --follow
like "--follow on UDP is refused, naming the fallback" \
	"^sksteer: --follow udp:127.0.0.1:5353: the kernel tells BPF of TCP listen\(\) calls only.*run 'sksteer -s udp:127.0.0.1:5353'" \
	"$STDERR"
is "and changed nothing" "$before" "$("$SKSTEER" --save)"

# Configuration files: follow is state; a file without it stops following.
printf 'tcp 127.0.0.1:9000 80,443\nudp 127.0.0.1:5353 53\n' >"$WORK/f.conf"
updates() { "$SKSTEER" -v "$@" 2>&1 | grep -o 'kernel updates [0-9]*: .*'; } # -v's count
out=$("$SKSTEER" --config "$WORK/f.conf" --dry-run)
is "--dry-run shows the change" "~ tcp 127.0.0.1:9000 no-follow (was follow)" \
	"$(changes <<<"$out")"
is "applying it: the kernel updates --dry-run counted (its last line)" "$(tail -n1 <<<"$out")" \
	"$(updates --config "$WORK/f.conf")"
ok "no target follows: the follower's pins are gone" \
	test ! -e "$PIN_DIR/follow" -a ! -e "$PIN_DIR/follow_addrs"
ok "and its link is detached" test -z "$(bpftool link show id "$link_id" 2>/dev/null)"
printf 'tcp 127.0.0.1:9000 80,443 follow\nudp 127.0.0.1:5353 53\n' >"$WORK/f.conf"
out=$("$SKSTEER" --config "$WORK/f.conf" --dry-run | tail -n1)
is "a file with follow: the kernel updates --dry-run counted" "$out" \
	"$(updates --config "$WORK/f.conf")"
like "follows again" "follow   the new socket alone" "$(block 127.0.0.1:9000)"
ok "applied again, it loads nothing" "$NOLOAD" "$SKSTEER" --config "$WORK/f.conf"
link_id=$(bpftool link show pinned "$PIN_DIR/follow" | awk 'NR == 1 { sub(":", "", $1); print $1 }')

# --no-follow: the target stops following (a new socket at its address no longer takes over);
# the other targets go on following.
serve --label=n1 127.0.0.1:9010
n1=$LAST_PID
serve --label=m1 127.0.0.1:9011
m1=$LAST_PID
ok "two more targets, following" "$SKSTEER" -p 90 -s 127.0.0.1:9010 --follow
ok "(the second)" "$SKSTEER" -p 91 -s 127.0.0.1:9011 --follow
like "--list: the first follows" "follow   the new socket alone" "$(block 127.0.0.1:9010)"
ok "--no-follow for the first" "$SKSTEER" -s 127.0.0.1:9010 --no-follow
only() { # only TARGET: the target's own lines of --list, up to the next target
	"$SKSTEER" --list | awk -v t="target $1 " 'index($0, t) == 1 { on = 1; print; next }
		/^[a-z]/ { on = 0 } on'
}
own=$(only 127.0.0.1:9010)
like "--list: it still steers" "^target 127.0.0.1:9010  tcp  listening.*
  ports    90 \(1\)" "$own"
is "but no longer follows (no follow line)" "" "$(grep '^  follow' <<<"$own")"
like "the second still does" "follow   the new socket alone" "$(block 127.0.0.1:9011)"
is "--save: follow on the second's line only" "tcp 127.0.0.1:9010 90|tcp 127.0.0.1:9011 91 follow" \
	"$("$SKSTEER" --save | grep -E '127.0.0.1:901[01] ' | sed 's/  */ /g' | paste -sd'|')"
is "the first still steers to its socket" n1:90 "$(dial 127.0.0.1:90)"
stop "$n1"
serve --label=n2 127.0.0.1:9010
n2=$LAST_PID
is "its server restarts: the new socket at its address does not take over" refused \
	"$(dial 127.0.0.1:90)"
like "--list: the target's socket is gone" "^target 127.0.0.1:9010  tcp  gone" "$(block 127.0.0.1:9010)"
stop "$m1"
serve --label=m2 127.0.0.1:9011
is "the second's restart still takes over" m2:91 "$(dial 127.0.0.1:91)"
ok "sksteer -s points the first at its new socket" "$SKSTEER" -s 127.0.0.1:9010
is "as without following" n2:90 "$(dial 127.0.0.1:90)"
ok "detach both" "$SKSTEER" --detach -s 127.0.0.1:9010
ok "(the second)" "$SKSTEER" --detach -s 127.0.0.1:9011
stop "$n2"
stop "$LAST_PID"

# haproxy reloaded with -sf, 20 times (8 in a vmtest guest, whose emulated CPU makes each
# reload slow), while clients hammer steered ports.
RELOADS=20
[ -n "${SKSTEER_VMTEST:-}" ] && RELOADS=8
if command -v haproxy >/dev/null; then
	H=$WORK/haproxy
	mkdir -p "$H"
	serve --label=backend 127.0.0.1:7000
	cat >"$H/h.cfg" <<EOC
global
	pidfile $H/h.pid
defaults
	mode tcp
	timeout connect 2s
	timeout client 5s
	timeout server 5s
frontend fe
	bind 127.0.0.1:9100
	default_backend be
backend be
	server s1 127.0.0.1:7000
EOC
	# queued connections of the closing listener move to the new one (Linux >= 5.14)
	sysctl -qw net.ipv4.tcp_migrate_req=1 2>/dev/null
	haproxy -f "$H/h.cfg" -D
	at_exit 'kill $(cat '"$H/h.pid"')'
	wait_listening 9100
	ok "steer 8000-8099 to haproxy, following" "$SKSTEER" -p 8000-8099 -s 127.0.0.1:9100 --follow
	# whichever haproxy process takes a connection, the backend answers, naming its own port
	for port in 8000 8050 8099; do
		loop_start --name=$port --expect=backend:7000 127.0.0.1:$port
	done
	listeners() { ss -Htln 'sport = :9100' | wc -l; }
	steady=$(listeners)
	reloads=0
	for i in $(seq $RELOADS); do
		haproxy -f "$H/h.cfg" -D -sf "$(cat "$H/h.pid")" && reloads=$((reloads + 1))
		# the next reload once this one's process took over (the old one may still be leaving)
		for _ in $(seq 250); do
			[ "$(takeovers 127.0.0.1:9100)" = "$i" ] && break
			sleep 0.02
		done
	done
	# the clients are checked over the whole handover: until every old process closed its
	# listener (what it had queued then moved, or failed)
	for _ in $(seq 250); do
		[ "$(listeners)" = "$steady" ] && break
		sleep 0.02
	done
	is "$RELOADS reloads with -sf" $RELOADS "$reloads"
	for port in 8000 8050 8099; do
		loop_check --name=$port \
			"a client on $port through them: no failure, and the backend answers"
	done
	like "$RELOADS takeovers, none refused" "takeovers $RELOADS  refused 0" "$(block 127.0.0.1:9100)"
else
	skip "haproxy is not installed"
fi

ok "--detach" "$SKSTEER" --detach
ok "removes the follower's link" test -z "$(bpftool link show id "$link_id" 2>/dev/null)"

done_testing
