# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Failing safely: fail-closed targets, and other sk_lookup programs in the same namespace.
. "$(dirname "$0")/lib.sh"

# Another listener on the same port, that must get nothing from a fail-closed target's ports.
serve --label=other 0.0.0.0:8080
serve --label=A 127.0.0.1:9000
A_PID=$LAST_PID
ok "steer 8080 to A, fail-closed (over the other listener: --force)" \
	"$SKSTEER" -p 8080 -s 127.0.0.1:9000 --fail-closed --force
is "A gets port 8080" A:8080 "$(dial 127.0.0.1:8080)"
like "--list shows it fail-closed" "target 127.0.0.1:9000  tcp  listening  fail-closed" \
	"$("$SKSTEER" --list)"
like "--list --json too" '"fail_closed":true' "$("$SKSTEER" --list --json)"
kill "$A_PID"
wait "$A_PID" 2>/dev/null
is "with A gone, 8080 is refused (RST), and the other listener gets nothing" refused \
	"$(dial 127.0.0.1:8080)"
is "twice" refused "$(dial 127.0.0.2:8080)"
like "--list counts the refusals" "refused 2  preempted 0" \
	"$("$SKSTEER" --list | grep -A2 '^target 127.0.0.1:9000' | tail -1)"
like "--metrics too" 'sksteer_lookups_total\{netns="[0-9]+",target="127.0.0.1:9000",verdict="refused"\} 2' \
	"$("$SKSTEER" --metrics)"
trace_start "$WORK/trace"
dial 127.0.0.1:8080 >/dev/null
trace_stop
like "--trace shows the verdict" "127\.0\.0\.1:8080 +refused +127\.0\.0\.1:9000" "$(cat "$WORK/trace")"
serve --label=A 127.0.0.1:9000
A_PID=$LAST_PID
ok "-s after A restarted keeps fail-closed" "$SKSTEER" -s 127.0.0.1:9000
like "(still shown)" "fail-closed" "$("$SKSTEER" --list | head -1)"
ok "--fail-open switches back" "$SKSTEER" -s 127.0.0.1:9000 -p 8080 --fail-open --force
ok "(no longer shown)" bash -c "! '$SKSTEER' --list | grep -q fail-closed"
kill "$A_PID"
wait "$A_PID" 2>/dev/null
is "fail-open (the default): with A gone, the other listener gets 8080" other:8080 \
	"$(dial 127.0.0.1:8080)"
ok "--detach" "$SKSTEER" --detach

# UDP: dropped, not answered by the other UDP socket on that port
serve --udp --label=other 0.0.0.0:5300
serve --udp --label=U 127.0.0.1:5353
U_PID=$LAST_PID
ok "steer UDP 5300 to U, fail-closed" "$SKSTEER" -p 5300 -s udp:127.0.0.1:5353 --fail-closed --force
is "U gets 5300" U:5300 "$(dial --udp 127.0.0.1:5300)"
kill "$U_PID"
wait "$U_PID" 2>/dev/null
is "with U gone, a datagram to 5300 is dropped (port unreachable), not answered by the other" \
	refused "$(dial --udp 127.0.0.1:5300)"
ok "--detach" "$SKSTEER" --detach

# UDP over the ephemeral port range: a warning, not a refusal
read -r eph_lo eph_hi </proc/sys/net/ipv4/ip_local_port_range
run_sksteer -p "53,$((eph_lo - 1))-$((eph_lo + 10))" -s udp:0.0.0.0:5300
is "steering UDP into the ephemeral range succeeds" 0 "$RC"
is "with one line of warning naming the overlap" \
	"sksteer: warning: UDP ports $eph_lo-$((eph_lo + 10)) are in the ephemeral range $eph_lo-$eph_hi (net.ipv4.ip_local_port_range): a reply to another program's UDP client socket on one of them (from the address and port it sent to, within 30 s) goes to that socket, not to the target" \
	"$STDERR"
run_sksteer -p 53 -s udp:0.0.0.0:5300
is "none for UDP ports outside it" "0 " "$RC $STDERR"
serve 127.0.0.1:9100
run_sksteer -p "$eph_lo-$eph_hi" -s 127.0.0.1:9100
is "none for TCP (listeners are what TCP steers)" "0 " "$RC $STDERR"
ok "--detach" "$SKSTEER" --detach
run_sksteer --fail-closed
like "--fail-closed alone is a usage error" "go with -s TARGET" "$STDERR"
run_sksteer -s 127.0.0.1:9000 --fail-closed --fail-open
like "--fail-closed with --fail-open is one too" "contradict each other" "$STDERR"

# Other sk_lookup programs: one attached before sksteer chooses first, and sksteer counts it.
OTHER=("$TOP/.output/otherlookup" "$TOP/.output/otherlookup.bpf.o")
start_ready "${OTHER[@]}" 80 7777
OTHER_PID=$LAST_PID
serve --label=B 127.0.0.1:9001
B_PID=$LAST_PID
ok "steer 80,81 to B, with another program attached before" "$SKSTEER" -p 80,81 -s 127.0.0.1:9001
is "the other program's choice stands for 80" other:80 "$(dial 127.0.0.1:80)"
is "sksteer steers 81" B:81 "$(dial 127.0.0.1:81)"
list=$("$SKSTEER" --list)
echo "$list" | sed 's/^/# /'
like "--list counts the preempted lookup" "refused 0  preempted 1" \
	"$(echo "$list" | grep -A2 '^target 127.0.0.1:9001' | tail -1)"
like "--list names the other program and that it runs before sksteer" \
	"other    sk_lookup program otherlookup id [0-9]+ \(link [0-9]+\) runs before sksteer" "$list"
like "--list --json too" '"other_programs":\[\{"prog_id":[0-9]+,"link_id":[0-9]+,"name":"otherlookup","runs":"before"\}\]' \
	"$("$SKSTEER" --list --json)"
like "--metrics counts it" 'target="127.0.0.1:9001",verdict="preempted"\} 1' "$("$SKSTEER" --metrics)"
trace_start "$WORK/trace2"
dial 127.0.0.1:80 >/dev/null
trace_stop
like "--trace shows it" "127\.0\.0\.1:80 +preempted +127\.0\.0\.1:9001" "$(cat "$WORK/trace2")"
ok "B becomes fail-closed" "$SKSTEER" -p 80,81 -s 127.0.0.1:9001 --fail-closed
kill "$B_PID"
wait "$B_PID" 2>/dev/null
is "with B gone, fail-closed never overrides the earlier program's choice" other:80 \
	"$(dial 127.0.0.1:80)"
is "while B's other port is refused" refused "$(dial 127.0.0.1:81)"
like "counted: preempted, and refused" "refused 1  preempted 3" \
	"$("$SKSTEER" --list | grep -A2 '^target 127.0.0.1:9001' | tail -1)"
serve --label=B 127.0.0.1:9001
ok "--detach" "$SKSTEER" --detach
kill "$OTHER_PID"
wait "$OTHER_PID" 2>/dev/null

# ... and one attached after sksteer runs after it: sksteer's choice stands.
ok "steer 80 to B first" "$SKSTEER" -p 80 -s 127.0.0.1:9001
start_ready "${OTHER[@]}" 80 7778
is "sksteer's choice stands for 80" B:80 "$(dial 127.0.0.1:80)"
like "--list says the other program runs after" "runs after sksteer" "$("$SKSTEER" --list)"
like "and nothing was preempted" "refused 0  preempted 0" \
	"$("$SKSTEER" --list | grep -A2 '^target 127.0.0.1:9001' | tail -1)"

done_testing
