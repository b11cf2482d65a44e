# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Namespace totals behave like counters: detaching or replacing a target never lowers them
# (Prometheus rate() would read a drop as a reset).
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

done_testing
