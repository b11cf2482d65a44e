# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# --trace: lookup events through the ring buffer; nothing of it runs when nobody traces.
. "$(dirname "$0")/lib.sh"

run_sksteer --trace
like "--trace with nothing steered says so" "nothing is steered in this namespace.*-p and -s" "$STDERR"

serve 127.0.0.1:9000
ok "steer 80,443" "$SKSTEER" -p 80,443 -s 127.0.0.1:9000
plain=$(link_prog)
sample() { # sample NAME [LABELS]: the namespace's sample of a metric
	"$SKSTEER" --metrics | sed -n "s/^$1{netns=\"$NETNS_INO\"${2:+,$2}} //p"
}
lost() { sample sksteer_trace_events_lost_total; }
ringbuf_calls() { bpftool prog dump xlated id "$1" | grep -c bpf_ringbuf_reserve; }
is "the program that normally runs has no tracing code" 0 "$(ringbuf_calls "$plain")"

loop_start --expect=443 127.0.0.1:443
lost_before=$(lost)
ok "a tracer starts" trace_start "$WORK/trace"
tracing=$(link_prog)
ok "while tracing, the link runs an instance with the tracing code" test "$(ringbuf_calls "$tracing")" -gt 0
is "and bpftool names it sksteer_trace" sksteer_trace "$(prog_name "$tracing")"
steered=$(dial 127.0.0.1:80)
passed=$(dial 127.0.0.2:81)
run_sksteer --trace
like "a second tracer is refused, naming the first" "pid $TRACER is tracing this namespace already" "$STDERR"
ok "a run that changes ports while tracing" "$SKSTEER" -p 80,443,444 -s 127.0.0.1:9000
is "leaves the tracing instance in the link" "$tracing" "$(link_prog)"
ok "the tracer stops on SIGINT" trace_stop
loop_check "a client looping through trace start and stop sees no failure, and always the server"
is "after the trace, the program from before runs again" "$plain" "$(link_prog)"
ok "and a run that changes ports loads nothing again" \
	"$NOLOAD" "$SKSTEER" -p 80,443 -s 127.0.0.1:9000
# a tracer that died after it put the plain program back, before it cleared its record
bpftool map update pinned "$PIN_DIR/tracer" key 0 0 0 0 value 0xff 0xff 0xff 0x7f 0 0 0 0 \
	1 0 0 0 0 0 0 0
"$NOLOAD" "$SKSTEER" -p 80,443 -s 127.0.0.1:9000 2>/dev/null
is "a recorded tracer, even dead, is no current build: a run must load to clear it" 1 "$?"
ok "a run that can load does" "$SKSTEER" -p 80,443 -s 127.0.0.1:9000
like "and clears the dead tracer's record" '"value":\["0x00","0x00","0x00","0x00",' \
	"$(bpftool -j map lookup pinned "$PIN_DIR/tracer" key 0 0 0 0 | tr -d ' ')"
# (a dead tracer's program may be in the link: such a run swaps its own in, the plain one now)
is "the link runs a plain program" sksteer "$(prog_name "$(link_prog)")"
plain=$(link_prog)

is "the trace starts with a header" "TIME PROTO SRC DST VERDICT TARGET" "$(head -1 "$WORK/trace" | tr -s ' ')"
like "a steered connection is traced with its addresses and target" \
	"tcp +127\.0\.0\.1:[0-9]+ +127\.0\.0\.1:80 +steered +127\.0\.0\.1:9000" "$(cat "$WORK/trace")"
like "an unlisted port is traced as pass" "tcp +127\.0\.0\.1:[0-9]+ +127\.0\.0\.2:81 +pass +-" \
	"$(cat "$WORK/trace")"
# The loop client may outrun a tracer on a loaded machine (the ring buffer then fills): what the
# tracer says must be what the kernel counted, and nothing when that is nothing.
lost_during=$(($(lost) - lost_before))
if [ "$lost_during" = 0 ]; then
	is "no events were lost, so nothing is said" "" "$(cat "$WORK/trace.err")"
else
	is "the events lost (the loop outran the tracer) are said, as the kernel counted them" \
		"sksteer: $lost_during events lost (the ring buffer was full)" "$(cat "$WORK/trace.err")"
fi

# JSON lines, checked with perl's JSON::PP. Kernels before 5.17 do not give the lookup's
# interface (bpf_sk_lookup has no ingress_ifindex): there "ifindex" is null.
if bpftool btf dump file /sys/kernel/btf/vmlinux | awk '/^\[/ { s = / STRUCT .bpf_sk_lookup. / }
	s && /.ingress_ifindex./ { f = 1 } END { exit !f }'; then
	export IFINDEX=1
else
	export IFINDEX=null
fi
# "dst_prefix": the prefix whose binding (--dst) chose the target, null for an unscoped one.
serve '[::]:9007'
ok "steer 85 to 127.0.0.1:9000 for destinations in 127.0.2.0/24" \
	"$SKSTEER" -p 85 -s 127.0.0.1:9000 --dst 127.0.2.0/24
ok "and 86 to [::]:9007 for ::1 alone" "$SKSTEER" -p 86 -s '[::]:9007' --dst ::1
trace_start "$WORK/json" --json
dial 127.0.0.1:80 >/dev/null
dial 127.0.0.2:81 >/dev/null
dial 127.0.2.5:85 >/dev/null
dial '[::1]:86' >/dev/null
dial 127.0.0.1:85 >/dev/null
trace_stop
json_check='
	use JSON::PP; my @ev = map { decode_json($_) } <STDIN>;
	my $last = pop @ev; die "no events_lost object\n" unless exists $last->{events_lost};
	my ($s) = grep { $_->{dst} eq "127.0.0.1:80" } @ev; my ($p) = grep { $_->{dst} eq "127.0.0.2:81" } @ev;
	die "missing events\n" unless $s && $p;
	for my $k (qw(time family proto src dst verdict target ifindex)) { die "no $k\n" unless exists $s->{$k} }
	die "steered: @{[%$s]}\n" unless $s->{verdict} eq "steered" && $s->{target} eq "127.0.0.1:9000"
		&& $s->{family} eq "ipv4" && $s->{proto} eq "tcp" && $s->{src} =~ /^127\.0\.0\.1:\d+$/
		&& $s->{time} =~ /^\d{4}-\d\d-\d\dT/
		&& ($ENV{IFINDEX} eq "null" ? !defined $s->{ifindex} : $s->{ifindex} == $ENV{IFINDEX});
	die "pass: @{[%$p]}\n" unless $p->{verdict} eq "pass" && !defined $p->{target};
	print "ok\n";'
is "--json: one object per event with the documented keys, then events_lost" ok \
	"$(perl -e "$json_check" <"$WORK/json" 2>&1)"

dst_check='
	use JSON::PP; my @ev = map { decode_json($_) } <STDIN>; pop @ev;
	my %by = map { $_->{dst} => $_ } @ev;
	for my $d ("127.0.2.5:85", "[::1]:86", "127.0.0.1:80", "127.0.0.1:85") {
		die "no event for $d\n" unless $by{$d};
		die "no dst_prefix key for $d\n" unless exists $by{$d}{dst_prefix};
	}
	my ($v4, $v6, $un, $off) = @by{"127.0.2.5:85", "[::1]:86", "127.0.0.1:80", "127.0.0.1:85"};
	die "v4: @{[%$v4]}\n" unless $v4->{verdict} eq "steered" && $v4->{target} eq "127.0.0.1:9000"
		&& $v4->{dst_prefix} eq "127.0.2.0/24";
	die "v6: @{[%$v6]}\n" unless $v6->{verdict} eq "steered" && $v6->{target} eq "[::]:9007"
		&& $v6->{dst_prefix} eq "::1/128";
	die "unscoped: @{[%$un]}\n" unless $un->{verdict} eq "steered" && !defined $un->{dst_prefix};
	die "off the prefix: @{[%$off]}\n" unless $off->{verdict} eq "pass" && !defined $off->{dst_prefix};
	print "ok\n";'
is "--json: a scoped lookup has its prefix in dst_prefix (IPv4 and IPv6), others null" ok \
	"$(perl -e "$dst_check" <"$WORK/json" 2>&1)"
ok "detach the scoped bindings" "$SKSTEER" --detach -s 127.0.0.1:9000 --dst 127.0.2.0/24
ok "(and the IPv6 target)" "$SKSTEER" --detach -s '[::]:9007'

# no-target and error verdicts
serve --v6only '[::]:9001'
ok "steer 82 to an IPv6-only socket" "$SKSTEER" -p 82 -s '[::]:9001'
serve 127.0.0.1:9002
DYING=$LAST_PID
ok "steer 83 to a socket that will close" "$SKSTEER" -p 83 -s 127.0.0.1:9002
kill "$DYING"
wait "$DYING" 2>/dev/null
trace_start "$WORK/verdicts" --json
dial 127.0.0.1:82 >/dev/null
dial 127.0.0.1:83 >/dev/null
trace_stop
like "an IPv4 lookup for an IPv6-only target is traced as an error with its errno" \
	'"dst":"127.0.0.1:82","verdict":"error","target":"\[::\]:9001","ifindex":'"$IFINDEX"',"errno":97,"error":"EAFNOSUPPORT"' \
	"$(cat "$WORK/verdicts")"
like "a closed target is traced as no-target" '"dst":"127.0.0.1:83","verdict":"no-target"' \
	"$(cat "$WORK/verdicts")"

# --trace with -p/-s applies the configuration first
trace_start "$WORK/applied" -p 80,84 -s 127.0.0.1:9000
is "--trace -p -s applies the ports" 84 "$(dial 127.0.0.1:84)"
trace_stop
like "and traces them" "127\.0\.0\.1:84 +steered" "$(cat "$WORK/applied")"

# A closed stdout ends the trace and restores the program.
"$SKSTEER" --trace | head -n 2 >"$WORK/head" &
for _ in $(seq 250); do tracing && break; sleep 0.02; done
dial 127.0.0.1:80 >/dev/null
dial 127.0.0.1:80 >/dev/null
for _ in $(seq 250); do [ "$(link_prog)" = "$plain" ] && break; sleep 0.02; done
is "a tracer whose reader went away puts the program back" "$plain" "$(link_prog)"

# SIGTERM ends a trace as SIGINT does.
trace_start "$WORK/term"
kill -TERM "$TRACER"
wait "$TRACER"
is "a tracer stopped with SIGTERM exits cleanly" 0 "$?"
is "and puts the program back" "$plain" "$(link_prog)"

# A tracer killed with SIGKILL is undone by the next run.
trace_start "$WORK/killed"
kill -9 "$TRACER"
wait "$TRACER" 2>/dev/null
"$NOLOAD" "$SKSTEER" -p 80,84 -s 127.0.0.1:9000 2>/dev/null
is "a run must load the plain program to put it back (its record holds no more)" 1 "$?"
is "(the dead tracer's instance still runs)" sksteer_trace "$(prog_name "$(link_prog)")"
ok "the next run succeeds" "$SKSTEER" -p 80,84 -s 127.0.0.1:9000
is "and the running program has no tracing code again" 0 "$(ringbuf_calls "$(link_prog)")"
ok "a new tracer can start" trace_start "$WORK/after-kill"
trace_stop

# sksteer_trace_events_lost_total: a tracer stopped with SIGSTOP reads nothing, so its 256 KiB
# ring buffer (72 bytes an event: at most 3,640) fills. 8,000 datagrams to a port nobody steers
# are at least 8,000 traced lookups (the ICMP errors they draw are lookups too), and those the
# buffer cannot take are counted. By count, not by time: the bounds hold however fast they go.
passed() { sample sksteer_namespace_lookups_total 'verdict="passed"'; }
is "no event was lost since the first trace" "$lost_during" "$(lost)"
ok "declared a counter" bash -c "'$SKSTEER' --metrics | grep -qx '# TYPE sksteer_trace_events_lost_total counter'"
trace_start "$WORK/stopped" --json
kill -STOP "$TRACER"
for _ in $(seq 250); do [ "$(cut -d' ' -f3 "/proc/$TRACER/stat")" = T ] && break; sleep 0.02; done
is "the tracer is stopped" T "$(cut -d' ' -f3 "/proc/$TRACER/stat")"
lost0=$(lost)
passed0=$(passed)
perl -MSocket -e 'socket(my $s, PF_INET, SOCK_DGRAM, 0) or die "socket: $!";
	my $to = pack_sockaddr_in(81, inet_aton("127.0.0.2"));
	for (1 .. 8000) { defined send($s, "x", 0, $to) or die "send: $!" }'
lookups=$(($(passed) - passed0))
lost1=$(lost)
lost_meanwhile=$((lost1 - lost0))
echo "# $lookups lookups while the tracer was stopped, $lost_meanwhile events lost"
ok "the 8,000 datagrams were 8,000 lookups (or more)" test "$lookups" -ge 8000
ok "sksteer_trace_events_lost_total counts what the full buffer could not take" \
	test "$lost_meanwhile" -gt 0 -a "$lost_meanwhile" -le "$lookups" -a "$lost_meanwhile" -ge $((lookups - 3640))
kill -CONT "$TRACER"
trace_stop
is "the tracer exits cleanly" 0 "$?"
is "and reports the same number of lost events" "{\"events_lost\":$lost_meanwhile}" \
	"$(tail -1 "$WORK/stopped")"
is "the counter keeps them after the trace" "$lost1" "$(lost)"

# Lost events: a reader that stalls while lookups flood in. The reader reads nothing until the
# counter says events were lost; the flood goes on, burst after burst, until they are (a burst
# is 8,000 lookups, more than the pipe and the ring buffer take: the first one does it; the
# bound is there only to end a test that would hang).
# (through a FIFO, so that $! is the tracer's own pid: the signal goes to it and nothing else)
mkfifo "$WORK/flood.fifo"
(until [ -e "$WORK/flood.read" ]; do sleep 0.02; done; cat >/dev/null) <"$WORK/flood.fifo" &
READER=$!
"$SKSTEER" --trace 2>"$WORK/flood.err" >"$WORK/flood.fifo" &
FLOOD=$!
for _ in $(seq 250); do tracing && break; sleep 0.02; done
lost0=$(lost)
bursts=0
while [ "$(lost)" = "$lost0" ] && [ "$bursts" -lt 20 ]; do
	perl -MSocket -e 'socket(my $s, PF_INET, SOCK_DGRAM, 0) or die "socket: $!";
		my $to = pack_sockaddr_in(81, inet_aton("127.0.0.2"));
		for (1 .. 8000) { defined send($s, "x", 0, $to) or die "send: $!" }'
	bursts=$((bursts + 1))
done
echo "# $bursts bursts of 8,000 datagrams"
touch "$WORK/flood.read"
kill -INT "$FLOOD"
wait "$FLOOD"
is "a tracer whose reader stalled exits cleanly" 0 "$?"
wait "$READER"
lost1=$(lost)
ok "the flood overflowed the ring buffer" test "$lost1" -gt "$lost0"
is "the tracer reports the events lost, as many as the counter counted" \
	"sksteer: $((lost1 - lost0)) events lost (the ring buffer was full)" "$(cat "$WORK/flood.err")"

# --detach while tracing ends the trace.
trace_start "$WORK/detached"
ok "--detach while tracing succeeds" "$SKSTEER" --detach
wait "$TRACER"
is "the tracer exits with an error" 1 "$?"
like "saying that steering was detached" "detached" "$(cat "$WORK/detached.err")"
is "port 80 is refused at once" refused "$(dial 127.0.0.1:80)"

done_testing
