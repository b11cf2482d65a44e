# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Several targets, each owning its ports; moves, detaching one, target death, proxy switch.
. "$(dirname "$0")/lib.sh"

serve --label=A 127.0.0.1:9000
serve --label=B 127.0.0.1:9001
serve --label=C 127.0.0.1:9002
C_PID=$LAST_PID

ok "target A gets 80,443" "$SKSTEER" -p 80,443 -s 127.0.0.1:9000
ok "target B gets 5000-6000" "$SKSTEER" -p 5000-6000 -s 127.0.0.1:9001
is "both targets receive their ports" "A:80 A:443 B:5000 B:6000" \
	"$(dial 127.0.0.1:80) $(dial 127.0.0.1:443) $(dial 127.0.0.1:5000) $(dial 127.0.0.1:6000)"

run_sksteer -p 443,5000 -s 127.0.0.1:9002
is "taking ports another target owns is refused" 1 "$RC"
like "the refusal names the ports and both owners" \
	"ports 443 belong to target 127.0.0.1:9000; ports 5000 belong to target 127.0.0.1:9001.*--force" \
	"$STDERR"
is "the refused run changed nothing" "A:443 B:5000 refused" \
	"$(dial 127.0.0.1:443) $(dial 127.0.0.1:5000) $(dial 127.0.0.1:9999)"

run_sksteer -p 80
is "-p alone is refused when several targets exist" 1 "$RC"
like "it asks for the target" "several targets.*-s" "$STDERR"

ok "--force moves the ports" "$SKSTEER" -p 443,5000 -s 127.0.0.1:9002 --force
is "moved ports reach the new owner, the others stay" "A:80 C:443 C:5000 B:5001" \
	"$(dial 127.0.0.1:80) $(dial 127.0.0.1:443) $(dial 127.0.0.1:5000) $(dial 127.0.0.1:5001)"

ok "--detach -s removes one target" "$SKSTEER" --detach -s 127.0.0.1:9001
is "its ports are refused, the other targets stay" "refused A:80 C:443" \
	"$(dial 127.0.0.1:5001) $(dial 127.0.0.1:80) $(dial 127.0.0.1:443)"
run_sksteer --detach -s 127.0.0.1:9001
like "detaching it again names it as unknown" "127.0.0.1:9001 is not a target" "$STDERR"

ok "C takes A's last port" "$SKSTEER" -p 80,443,5000 -s 127.0.0.1:9002 --force
run_sksteer -s 127.0.0.1:9000
like "a target left without ports is removed" "127.0.0.1:9000 is not a target.*-p" "$STDERR"
ok "-p alone sets the ports of the only target" "$SKSTEER" -p 80,8080
is "the only target now owns 80 and 8080" "C:80 C:8080 refused" \
	"$(dial 127.0.0.1:80) $(dial 127.0.0.1:8080) $(dial 127.0.0.1:443)"

# The target's owner goes away: its ports are refused at once, others are untouched. At once
# is without a clock: a SYN dropped even once is sent again (TCPSynRetrans, this namespace's),
# where a refusal answers the first.
syn_retrans() {
	awk '$1 == "TcpExt:" && !n { n = split($0, name); next }
		$1 == "TcpExt:" { for (i = 2; i <= n; i++) if (name[i] == "TCPSynRetrans") print $i }' \
		/proc/net/netstat
}
ok "A steers 7000" "$SKSTEER" -p 7000 -s 127.0.0.1:9000
kill "$C_PID"
wait "$C_PID" 2>/dev/null
retrans=$(syn_retrans)
is "a dead target's port is refused" refused "$(dial 127.0.0.1:80)"
is "at once: by an answer to the first SYN, none sent again" "${retrans:-no counter}" "$(syn_retrans)"
is "another target is untouched" A:7000 "$(dial 127.0.0.1:7000)"
run_sksteer -s 127.0.0.1:9002
like "with nothing listening, -s TARGET says so" "nothing listens at 127.0.0.1:9002" "$STDERR"
serve --label=C2 127.0.0.1:9002
ok "-s TARGET takes the restarted owner's socket" "$SKSTEER" -s 127.0.0.1:9002
is "the target's ports work again, on the new socket" "C2:80 C2:8080" \
	"$(dial 127.0.0.1:80) $(dial 127.0.0.1:8080)"

# A restarted proxy on SO_REUSEPORT: -s prefers the socket that is not the current one.
serve --reuseport --label=old 127.0.0.1:9100
OLD_PID=$LAST_PID
ok "steer 7100 to the old proxy" "$SKSTEER" -p 7100 -s 127.0.0.1:9100
serve --reuseport --label=new 127.0.0.1:9100
ok "-s swaps to the new socket of the same address" "$SKSTEER" -s 127.0.0.1:9100
kill "$OLD_PID"
wait "$OLD_PID" 2>/dev/null
is "after the old proxy exits, connections reach the new one" new:7100 "$(dial 127.0.0.1:7100)"

# A restart while the old process drains: all new connections to the new socket, none to the
# old one, though both are in one SO_REUSEPORT group (BPF_SK_LOOKUP_F_NO_REUSEPORT).
serve --reuseport --label=old 127.0.0.1:9300
OLD_PID=$LAST_PID
ok "steer 7300 to the old proxy" "$SKSTEER" -p 7300 -s 127.0.0.1:9300
serve --reuseport --label=new 127.0.0.1:9300
NEW_PID=$LAST_PID
ok "-s after the restart" "$SKSTEER" -s 127.0.0.1:9300
count() { for _ in $(seq 40); do dial 127.0.0.1:7300; done | sort | uniq -c | awk '{print $2"="$1}' | tr '\n' ' '; }
is "all 40 new connections reach the new process, while the old one still listens" "new:7300=40 " \
	"$(count)"
like "--list says so" "assign   this socket only" "$("$SKSTEER" --list)"
like "--list --json too" '"target":"127.0.0.1:9300".*"reuseport":"socket"' "$("$SKSTEER" --list --json)"

# A group of workers: a run with -p spreads over the group, as the kernel does without sksteer.
serve --reuseport --label=w3 127.0.0.1:9300
ok "-p with -s: the group shares the load" "$SKSTEER" -p 7300 -s 127.0.0.1:9300
spread=$(count)
echo "# $spread"
ok "40 connections spread over the group's three members" test "$(echo "$spread" | wc -w)" = 3
like "--list --json says group" '"target":"127.0.0.1:9300".*"reuseport":"group"' "$("$SKSTEER" --list --json)"
kill "$OLD_PID" "$NEW_PID"

# Zero-downtime switch from a proxy on :9200 to a new one on :9201.
serve --label=v1 127.0.0.1:9200
serve --label=v2 127.0.0.1:9201
ok "steer 81,444 to v1" "$SKSTEER" -p 81,444 -s 127.0.0.1:9200
# the switch moves the loop's port: v1 answers before it, v2 after, nobody else ever
loop_start --expect=v1:81 --expect=v2:81 127.0.0.1:81
ok "switch to v2 with --force" "$SKSTEER" -s 127.0.0.1:9201 -p 81,444 --force
loop_check "a client looping through the switch sees no failure, and only v1 or v2"
is "new connections reach the new owner" "v2:81 v2:444" "$(dial 127.0.0.1:81) $(dial 127.0.0.1:444)"

done_testing
