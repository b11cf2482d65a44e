# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# --list, --list --json and --metrics: targets, owners, ports and exact counters.
. "$(dirname "$0")/lib.sh"

is "--list with nothing steered says so, and succeeds" "not steering in this network namespace" \
	"$("$SKSTEER" --list)"
is "--list --json with nothing steered" '{"netns":'"$NETNS_INO"',"steering":false,"targets":[]}' \
	"$("$SKSTEER" --list --json)"
ok "--list did not create pins" pins_gone

serve 127.0.0.1:9000
A_PID=$LAST_PID
serve 127.0.0.1:9001
B_PID=$LAST_PID
ok "steer 80,443,8000-8999 to A" "$SKSTEER" -p 80,443,8000-8999 -s 127.0.0.1:9000
ok "steer 7000-7002 to B" "$SKSTEER" -p 7000-7002 -s 127.0.0.1:9001
for port in 80 443 8123; do dial 127.0.0.1:$port >/dev/null; done
for port in 7000 7002; do dial 127.0.0.1:$port >/dev/null; done
for port in 81 82 83 84; do dial 127.0.0.1:$port >/dev/null; done

list=$("$SKSTEER" --list)
echo "$list" | sed 's/^/# /'
like "--list names target A, its state and owner" \
	"target 127.0.0.1:9000  tcp  listening  pid $A_PID \(netpeer\)" "$list"
like "--list shows A's ports as compact ranges with their count" "ports    80,443,8000-8999 \(1002\)" "$list"
block() { echo "$list" | grep -A2 "^target $1 "; }
like "--list counts A's steered lookups exactly" "lookups  steered 3  no-target 0  errors 0" \
	"$(block 127.0.0.1:9000)"
like "--list shows B with its ports and counts" "ports    7000-7002 \(3\)
  lookups  steered 2  no-target 0  errors 0" "$(block 127.0.0.1:9001)"
like "--list counts the namespace's passed lookups exactly" \
	"lookups  steered 5  passed 4  no-target 0  errors 0" "$list"
like "--list names the program, the pins and the tracer" \
	"program  sksteer id [0-9]+ tag [0-9a-f]{16}
  pins     $PIN_DIR
  tracer   none" "$list"

json_check='
	use JSON::PP; my $d = decode_json(join "", <STDIN>);
	my ($a) = grep { $_->{target} eq "127.0.0.1:9000" } @{$d->{targets}};
	my ($b) = grep { $_->{target} eq "127.0.0.1:9001" } @{$d->{targets}};
	die "targets\n" unless $a && $b && @{$d->{targets}} == 2;
	die "a: @{[%$a]}\n" unless $a->{ports} eq "80,443,8000-8999" && $a->{port_count} == 1002
		&& $a->{state} eq "listening" && $a->{owner}{pid} == $ENV{A_PID}
		&& $a->{owner}{comm} eq "netpeer" && $a->{lookups}{steered} == 3
		&& $a->{proto} eq "tcp" && $a->{family} eq "ipv4" && $a->{port} == 9000;
	die "b\n" unless $b->{lookups}{steered} == 2 && $b->{ports} eq "7000-7002";
	die "totals\n" unless $d->{lookups}{steered} == 5 && $d->{lookups}{passed} == 4
		&& $d->{lookups}{no_target} == 0 && $d->{steering} && $d->{netns} == $ENV{NETNS_INO};
	die "program\n" unless $d->{program}{name} eq "sksteer" && $d->{program}{tag} =~ /^[0-9a-f]{16}$/;
	print "ok\n";'
is "--list --json parses and matches the counts" ok \
	"$("$SKSTEER" --list --json | A_PID=$A_PID NETNS_INO=$NETNS_INO perl -e "$json_check" 2>&1)"

# --metrics: Prometheus text exposition, checked line by line
metrics=$("$SKSTEER" --metrics)
check_metrics='
	my (%type, $bad);
	while (<STDIN>) {
		chomp;
		if (/^# HELP (sksteer_\w+) \S/) { next }
		if (/^# TYPE (sksteer_\w+) (counter|gauge)$/) { $type{$1} = $2; next }
		if (/^(sksteer_\w+)\{((?:\w+="[^"\\]*",?)*)\} (\d+(\.\d+)?)$/) {
			$bad .= "no TYPE for $1\n" unless $type{$1};
			$bad .= "counter $1 without _total\n" if $type{$1} eq "counter" && $1 !~ /_total$/;
			next;
		}
		$bad .= "bad line: $_\n";
	}
	print $bad // "ok\n";'
is "--metrics is valid Prometheus text (HELP, TYPE, samples)" ok \
	"$(echo "$metrics" | perl -e "$check_metrics")"
value() { echo "$metrics" | grep -F "$1" | awk '{ print $2 }'; }
is "steered lookups per target, labelled" 3 \
	"$(value 'sksteer_lookups_total{netns="'"$NETNS_INO"'",target="127.0.0.1:9000",verdict="steered"}')"
is "passed lookups of the namespace" 4 \
	"$(value 'sksteer_lookups_total{netns="'"$NETNS_INO"'",target="",verdict="passed"}')"
is "a target's port count" 3 "$(value 'sksteer_target_ports{netns="'"$NETNS_INO"'",target="127.0.0.1:9001"}')"

# counters survive a hot reload; a target whose owner exits is shown as gone
ok "a hot reload" "$SKSTEER" -p 80,443 -s 127.0.0.1:9000
list=$("$SKSTEER" --list)
like "counters survive it" "steered 3  no-target 0" "$(block 127.0.0.1:9000)"
kill "$B_PID"
wait "$B_PID" 2>/dev/null
dial 127.0.0.1:7001 >/dev/null
list=$("$SKSTEER" --list)
like "a target whose owner exited is shown as gone" "target 127.0.0.1:9001  tcp  gone
" "$list"
like "and its lookups count as no-target" "lookups  steered 2  no-target 1" "$(block 127.0.0.1:9001)"
is "--metrics shows it down" 0 \
	"$("$SKSTEER" --metrics | grep -F 'sksteer_target_up{netns="'"$NETNS_INO"'",target="127.0.0.1:9001"}' | awk '{print $2}')"

trace_start "$WORK/trace"
like "--list shows an attached tracer" "tracer   pid $TRACER" "$("$SKSTEER" --list)"
trace_stop

# an owner whose name needs escaping in JSON
odd="$WORK/we\"ird\\x"
cp "$NETPEER" "$odd"
"$odd" serve 127.0.0.1:9005 >/dev/null 2>&1 &
PIDS+=($!)
wait_listening 9005
ok "steer 7005 to a server with quotes in its name" "$SKSTEER" -p 7005 -s 127.0.0.1:9005
is "--list --json escapes the owner's name" 'we"ird\x' \
	"$("$SKSTEER" --list --json | perl -MJSON::PP -e '
		my $d = decode_json(join "", <STDIN>);
		my ($t) = grep { $_->{target} eq "127.0.0.1:9005" } @{$d->{targets}};
		print $t->{owner}{comm};' 2>&1)"

# sksteer_assign_errors_total{netns,target,cause}: an IPv4 client of an IPv6-only target is an
# assignment the kernel refuses (EAFNOSUPPORT), counted for that target with cause "family".
serve --v6only '[::]:9006'
ok "steer 7006 to an IPv6-only socket" "$SKSTEER" -p 7006 -s '[::]:9006'
is "an IPv4 client is not steered there" "refused refused" \
	"$(dial 127.0.0.1:7006) $(dial 127.0.0.2:7006)"
is "an IPv6 client is" 7006 "$(dial '[::1]:7006')"
metrics=$("$SKSTEER" --metrics)
errors_of() { # errors_of TARGET: its assign_errors_total samples, "cause=N" each, in order
	echo "$metrics" | sed -n "s/^sksteer_assign_errors_total{netns=\"$NETNS_INO\",target=\"$1\",cause=\"\([a-z]*\)\"} /\1=/p" |
		paste -sd' '
}
is "assign_errors_total: the target's two IPv4 lookups, cause family, and no other cause" \
	"family=2 protocol=0 state=0 other=0" "$(errors_of '\[::\]:9006')"
is "another target's errors stay 0" "family=0 protocol=0 state=0 other=0" \
	"$(errors_of 127.0.0.1:9000)"
ok "declared a counter" grep -qx '# TYPE sksteer_assign_errors_total counter' <<<"$metrics"
is "the target's error and steered lookups agree" "2 1" \
	"$(value 'sksteer_lookups_total{netns="'"$NETNS_INO"'",target="[::]:9006",verdict="error"}') $(value 'sksteer_lookups_total{netns="'"$NETNS_INO"'",target="[::]:9006",verdict="steered"}')"
like "--list counts them by cause too" "errors 2 \(family 2, protocol 0, state 0, other 0\)" \
	"$("$SKSTEER" --list)"

run_sksteer --list --metrics
like "--list with --metrics is refused" "use them alone" "$STDERR"

# A reader maps the port table through a descriptor opened for writing; one that cannot open
# it so (the pin not writable, and no CAP_DAC_OVERRIDE: a group reader, say) copies it: the
# same status either way
mapped=$(with_caps +bpf "$SKSTEER" --list --json 2>&1)
chmod 0400 "$PIN_DIR/ports"
copied=$(with_caps +bpf "$SKSTEER" --list --json 2>&1)
chmod 0600 "$PIN_DIR/ports"
like "with CAP_BPF alone, mapped: every target's ports" '"ports":"80,443".*"ports":"7000-7002".*"ports":"7006"' "$mapped"
is "a port table copied, not mapped (the pin not writable): the same status" "$mapped" "$copied"

done_testing
