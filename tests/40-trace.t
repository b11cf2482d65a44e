# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# --trace: lookup events through the ring buffer; nothing of it runs when nobody traces.
. "$(dirname "$0")/lib.sh"

run_sksteer --trace
like "--trace with nothing steered says so" "nothing is steered in this namespace.*-p and -s" "$STDERR"

serve 127.0.0.1:9000
ok "steer 80,443" "$SKSTEER" -p 80,443 -s 127.0.0.1:9000
plain=$(link_prog)
ringbuf_calls() { bpftool prog dump xlated id "$1" | grep -c bpf_ringbuf_reserve; }
is "the program that normally runs has no tracing code" 0 "$(ringbuf_calls "$plain")"

loop_start --expect=443 127.0.0.1:443
ok "a tracer starts" trace_start "$WORK/trace"
tracing=$(link_prog)
ok "while tracing, the link runs an instance with the tracing code" test "$(ringbuf_calls "$tracing")" -gt 0
is "and bpftool names it sksteer_trace" sksteer_trace "$(prog_name "$tracing")"
steered=$(dial 127.0.0.1:80)
passed=$(dial 127.0.0.2:81)
run_sksteer --trace
like "a second tracer is refused, naming the first" "pid $TRACER is tracing this namespace already" "$STDERR"
ok "the tracer stops on SIGINT" trace_stop
loop_check "a client looping through trace start and stop sees no failure, and always the server"
is "after the trace, the program from before runs again" "$plain" "$(link_prog)"

is "the trace starts with a header" "TIME PROTO SRC DST VERDICT TARGET" "$(head -1 "$WORK/trace" | tr -s ' ')"
like "a steered connection is traced with its addresses and target" \
	"tcp +127\.0\.0\.1:[0-9]+ +127\.0\.0\.1:80 +steered +127\.0\.0\.1:9000" "$(cat "$WORK/trace")"
like "an unlisted port is traced as pass" "tcp +127\.0\.0\.1:[0-9]+ +127\.0\.0\.2:81 +pass +-" \
	"$(cat "$WORK/trace")"
is "no events were lost, so nothing is said" "" "$(cat "$WORK/trace.err")"

# JSON lines, checked with perl's JSON::PP. Kernels before 5.17 do not give the lookup's
# interface (bpf_sk_lookup has no ingress_ifindex): there "ifindex" is null.
if bpftool btf dump file /sys/kernel/btf/vmlinux | awk '/^\[/ { s = / STRUCT .bpf_sk_lookup. / }
	s && /.ingress_ifindex./ { f = 1 } END { exit !f }'; then
	export IFINDEX=1
else
	export IFINDEX=null
fi
trace_start "$WORK/json" --json
dial 127.0.0.1:80 >/dev/null
dial 127.0.0.2:81 >/dev/null
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
ok "the next run succeeds" "$SKSTEER" -p 80,84 -s 127.0.0.1:9000
is "and the running program has no tracing code again" 0 "$(ringbuf_calls "$(link_prog)")"
ok "a new tracer can start" trace_start "$WORK/after-kill"
trace_stop

# Lost events: a reader that stalls while lookups flood in.
"$SKSTEER" --trace 2>"$WORK/flood.err" | (sleep 3; cat >/dev/null) &
FLOOD=$!
for _ in $(seq 250); do tracing && break; sleep 0.02; done
"$NETPEER" rate 127.0.0.2:81 1.5 >/dev/null
pkill -INT -f "$SKSTEER --trace"
wait "$FLOOD"
like "events the ring buffer could not take are counted and reported" \
	"^sksteer: [1-9][0-9]* events lost" "$(cat "$WORK/flood.err")"

# --detach while tracing ends the trace.
trace_start "$WORK/detached"
ok "--detach while tracing succeeds" "$SKSTEER" --detach
wait "$TRACER"
is "the tracer exits with an error" 1 "$?"
like "saying that steering was detached" "detached" "$(cat "$WORK/detached.err")"
is "port 80 is refused at once" refused "$(dial 127.0.0.1:80)"

done_testing
