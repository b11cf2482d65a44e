# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Namespace totals behave like counters: detaching or replacing a target never lowers them
# (Prometheus rate() would read a drop as a reset); and no counter goes down across a program
# swap, a target's new socket, a trace or a layout migration, which count every lookup.
. "$(dirname "$0")/lib.sh"

totals() { # steered passed no_target errors, from --list --json
	"$SKSTEER" --list --json | perl -MJSON::PP -e '
		my $l = decode_json(join "", <STDIN>)->{lookups}; my $e = 0; $e += $_ for values %{$l->{errors}};
		print "$l->{steered} $l->{passed} $l->{no_target} $e\n"'
}
metric() { # metric VERDICT: the namespace total in --metrics
	"$SKSTEER" --metrics | sed -n "s/^sksteer_namespace_lookups_total{netns=\"$NETNS_INO\",verdict=\"$1\"} //p"
}

serve 127.0.0.1:9000
serve 127.0.0.1:9001
B_PID=$LAST_PID
serve 127.0.0.1:9002
ok "steer 80 to A, 81-83 to B" "$SKSTEER" -p 80 -s 127.0.0.1:9000
ok "(B)" "$SKSTEER" -p 81-83 -s 127.0.0.1:9001
for port in 80 81 82 83 83; do dial 127.0.0.1:$port >/dev/null; done
dial 127.0.0.1:99 >/dev/null
is "totals: 5 steered, 1 passed" "5 1 0 0" "$(totals)"
is "--metrics has the namespace total" 5 "$(metric steered)"

ok "detach B" "$SKSTEER" --detach -s 127.0.0.1:9001
is "the totals keep B's lookups" "5 1 0 0" "$(totals)"
is "so does --metrics" 5 "$(metric steered)"

ok "C takes A's only port (--force): A is removed" "$SKSTEER" -p 80 -s 127.0.0.1:9002 --force
ok "A is gone from --list" bash -c "! '$SKSTEER' --list | grep -q 'target 127.0.0.1:9000 '"
is "the totals keep A's lookups" "5 1 0 0" "$(totals)"

ok "B comes back" "$SKSTEER" -p 81 -s 127.0.0.1:9001
like "with its own counters from zero" "steered 0 " "$("$SKSTEER" --list | grep -A2 '^target 127.0.0.1:9001' | tail -1)"
dial 127.0.0.1:81 >/dev/null
is "and the totals go on from where they were" "6 1 0 0" "$(totals)"

kill "$B_PID"
wait "$B_PID" 2>/dev/null
dial 127.0.0.1:81 >/dev/null
is "a lookup for B's port while its socket is gone counts as no-target" "6 1 1 0" "$(totals)"
ok "detach B again" "$SKSTEER" --detach -s 127.0.0.1:9001
is "its no-target lookup stays counted" "6 1 1 0" "$(totals)"
is "in --metrics too" 1 "$(metric no_target)"
ok "the namespace total is declared a counter" \
	bash -c "'$SKSTEER' --metrics | grep -qx '# TYPE sksteer_namespace_lookups_total counter'"

# Counters never go down across a program swap, a trace, or a layout migration: every counter
# sample of --metrics and every lookup count of --list --json is at least what it was, and the
# lookups made meanwhile are counted, exactly.
snapshot() { # snapshot FILE: "KEY VALUE" lines, --metrics' counter samples and --list --json's counts
	{
		"$SKSTEER" --metrics | grep -E '^sksteer_[a-z_]+_total\{'
		"$SKSTEER" --list --json | perl -MJSON::PP -e '
			sub flat { my ($p, $v) = @_;
				if (ref $v eq "HASH") { flat("$p.$_", $v->{$_}) for sort keys %$v }
				elsif (defined $v && $v =~ /^\d+$/) { print "json:$p $v\n" } }
			my $d = decode_json(join "", <STDIN>);
			flat("lookups", $d->{lookups});
			flat("$_->{target}.lookups", $_->{lookups}) for @{$d->{targets}};'
	} >"$1"
}
# compare BEFORE AFTER [KEY=DELTA...]: "ok", or each counter that went down or vanished, and
# each KEY (netns="NS" for this namespace's) that did not grow by exactly DELTA
compare() {
	perl -e '
		sub rd { my %h; open my $f, "<", $_[0] or die "$_[0]: $!\n";
			while (<$f>) { $h{$1} = $2 if /^(.*) (\d+)$/ } \%h }
		my ($b, $a) = (rd(shift), rd(shift)); my @bad;
		die "no counters read\n" unless %$b;
		for my $k (sort keys %$b) {
			if (!exists $a->{$k}) { push @bad, "gone: $k (was $b->{$k})" }
			elsif ($a->{$k} < $b->{$k}) { push @bad, "down: $k $b->{$k} -> $a->{$k}" }
		}
		for (@ARGV) {
			my ($k, $n) = /^(.*)=(\d+)$/ or die "bad delta $_\n";
			$k =~ s/netns="NS"/netns="$ENV{NETNS_INO}"/;
			my $got = ($a->{$k} // 0) - ($b->{$k} // 0);
			push @bad, "$k: +$got, not +$n" if $got != $n;
		}
		print @bad ? join("\n", @bad) . "\n" : "ok\n";' "$@"
}
export NETNS_INO
ns_total() { echo "sksteer_namespace_lookups_total{netns=\"NS\",verdict=\"$1\"}=$2"; }
of_target() { echo "sksteer_lookups_total{netns=\"NS\",target=\"$1\",verdict=\"$2\"}=$3"; }

serve 127.0.0.1:9004
D_PID=$LAST_PID
serve --v6only '[::]:9005'
ok "D steers 85" "$SKSTEER" -p 85 -s 127.0.0.1:9004
ok "an IPv6-only E steers 84 (IPv4 clients are assign errors)" "$SKSTEER" -p 84 -s '[::]:9005'
dial 127.0.0.1:85 >/dev/null
dial 127.0.0.1:84 >/dev/null
snapshot "$WORK/c0"

# A program swap: another build's program (another tag) runs, then a run of this build swaps
# its own back in; and a target swap: D's server restarts, sksteer -s takes the new socket.
own_tag=$(prog_tag "$(link_prog)")
ok "another build's program is swapped into the link" \
	"$TOP/.output/linkswap" "$PIN_DIR" "$TOP/.output/sksteer-other.bpf.o"
ok "(it runs: another tag)" test "$(prog_tag "$(link_prog)")" != "$own_tag"
dial 127.0.0.1:85 >/dev/null
dial 127.0.0.1:84 >/dev/null
ok "a run of this build swaps its program back" "$SKSTEER" -p 85,86 -s 127.0.0.1:9004
is "(its tag)" "$own_tag" "$(prog_tag "$(link_prog)")"
dial 127.0.0.1:86 >/dev/null
kill "$D_PID"
wait "$D_PID" 2>/dev/null
dial 127.0.0.1:85 >/dev/null
serve 127.0.0.1:9004
ok "D's server restarted: sksteer -s takes its new socket" "$SKSTEER" -s 127.0.0.1:9004
dial 127.0.0.1:85 >/dev/null
snapshot "$WORK/c1"
is "across the swaps no counter went down, and each lookup counted" ok \
	"$(compare "$WORK/c0" "$WORK/c1" "$(ns_total steered 3)" "$(ns_total no_target 1)" \
		"$(ns_total error 1)" "$(of_target 127.0.0.1:9004 steered 3)" \
		"$(of_target 127.0.0.1:9004 no_target 1)" "$(of_target '[::]:9005' error 1)" \
		'sksteer_assign_errors_total{netns="NS",target="[::]:9005",cause="family"}=1' \
		json:lookups.steered=3 json:127.0.0.1:9004.lookups.steered=3 \
		json:lookups.errors.family=1 'json:[::]:9005.lookups.errors.family=1')"

# A trace: the tracing program counts into the same counters, and the plain one goes on after.
trace_start "$WORK/trace"
dial 127.0.0.1:85 >/dev/null
dial 127.0.0.1:84 >/dev/null
snapshot "$WORK/c2"
trace_stop
dial 127.0.0.1:85 >/dev/null
snapshot "$WORK/c3"
is "while tracing, no counter went down, and each lookup counted" ok \
	"$(compare "$WORK/c1" "$WORK/c2" "$(ns_total steered 1)" "$(ns_total error 1)" \
		"$(of_target 127.0.0.1:9004 steered 1)" json:lookups.errors.family=1)"
is "after the trace, the same" ok \
	"$(compare "$WORK/c2" "$WORK/c3" "$(ns_total steered 1)" "$(ns_total error 0)" \
		"$(of_target 127.0.0.1:9004 steered 1)" json:lookups.steered=1)"

# A layout migration: pins as sksteer 0.2 left them (layout 2), then a run that changes them.
ok "--detach" "$SKSTEER" --detach
start_ready "$TOP/.output/oldsteer" "$PIN_DIR" "$TOP/.output/sksteer-0.2.bpf.o" 127.0.0.1:9010 8000-8009
ok "(oldsteer pinned the old layout)" test ! -e "$PIN_DIR/layout"
dial 127.0.0.1:8000 >/dev/null
dial 127.0.0.1:8005 >/dev/null
dial 127.0.0.1:7999 >/dev/null
snapshot "$WORK/c4"
ok "a run that changes the ports migrates the layout" "$SKSTEER" -p 8000-8019 -s 127.0.0.1:9010
ok "(the layout is pinned)" test -e "$PIN_DIR/layout"
dial 127.0.0.1:8015 >/dev/null
dial 127.0.0.1:7999 >/dev/null
snapshot "$WORK/c5"
is "across the migration no counter went down, and each lookup counted" ok \
	"$(compare "$WORK/c4" "$WORK/c5" "$(ns_total steered 1)" "$(ns_total passed 1)" \
		"$(of_target 127.0.0.1:9010 steered 1)" json:lookups.steered=1 json:lookups.passed=1)"
ok "(and they were there to carry: 2 steered, 1 passed)" \
	grep -qx 'json:127.0.0.1:9010.lookups.steered 2' "$WORK/c4"

done_testing
