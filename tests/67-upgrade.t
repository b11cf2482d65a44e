# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Upgrades across map layouts, from pins that the old program made and still runs: layout 2
# (sksteer 0.2), 3 (before --dst), 4 (before the UDP client rule kept replies, not ports) and 5
# (before the bindings table: a prefix's binding moves to it) are migrated in place, under load,
# without a failed or strayed connection, the new program in before any key needs it; a newer
# layout is refused, changing nothing.
. "$(dirname "$0")/lib.sh"

# oldsteer steers to its own socket with a frozen old program, and pins as that sksteer did
OLD2=("$TOP/.output/oldsteer" "$PIN_DIR" "$TOP/.output/sksteer-0.2.bpf.o")
OLD3=("$TOP/.output/oldsteer" "$PIN_DIR" "$TOP/.output/sksteer-layout3.bpf.o")
OLD4=("$TOP/.output/oldsteer" "$PIN_DIR" "$TOP/.output/sksteer-0.3.bpf.o")
OLD5=("$TOP/.output/oldsteer" "$PIN_DIR" "$TOP/.output/sksteer-layout5.bpf.o")
value_size() { bpftool map show pinned "$PIN_DIR/$1" | grep -o 'value [0-9]*B' | tr -dc 0-9; }
layout() {
	bpftool -j map lookup pinned "$PIN_DIR/layout" key 0 0 0 0 |
		grep -o '"value":[0-9][0-9]*' | cut -d: -f2
}
# the namespace's steered lookups, in the pinned counters that every program adds to
steered() {
	"$SKSTEER" --metrics |
		sed -n "s/^sksteer_namespace_lookups_total{netns=\"$NETNS_INO\",verdict=\"steered\"} //p"
}
# steered_past N: until more than N lookups were steered (after a run: by its program)
steered_past() {
	for _ in $(seq 1000); do
		[ "$(steered)" -gt "$1" ] && return 0
		sleep 0.01
	done
	return 1
}
loop_oks() { sed -n 's/^ok \([0-9]*\) .*/\1/p' <<<"$LOOP_RESULT"; } # after loop_check: its ok count

start_ready "${OLD2[@]}" 127.0.0.1:9000 8000-8099
OLD_PID=$LAST_PID
ok "steering pinned by the old layout" test "$(value_size ports)" = 1
is "it steers" 8000 "$(dial 127.0.0.1:8000)"
like "--list reads the old layout" "ports    8000-8099 \(100\)" "$("$SKSTEER" --list)"
out=$("$SKSTEER" --check 2>&1)
is "--check too: healthy, so silent with exit 0" "0 ''" "$? '$out'"
is "(reading changed nothing)" 1 "$(value_size ports)"

# --metrics on the old layout: the right series, and the pins exactly as they were.
pins_state() { # each pin's name and the id of its map or link, and the link's program
	local pin
	for pin in "$PIN_DIR"/*; do
		echo "${pin##*/} $({ bpftool -j map show pinned "$pin" || bpftool -j link show pinned "$pin"; } 2>/dev/null |
			grep -o '"id":[0-9]*' | head -1)"
	done
	echo "program $(link_prog)"
}
dial 127.0.0.1:8001 >/dev/null
dial 127.0.0.1:8099 >/dev/null
dial 127.0.0.1:7999 >/dev/null
dial 127.0.0.2:8100 >/dev/null
before=$(pins_state)
metrics=$("$SKSTEER" --metrics)
result "--metrics reads the old layout" $? "$metrics"
is "with the right series: 3 steered, 2 passed, 100 ports, up, nothing lost" \
	"$(sed "s/NS/$NETNS_INO/" <<'EOF'
sksteer_lookups_total{netns="NS",target="",verdict="passed"} 2
sksteer_lookups_total{netns="NS",target="127.0.0.1:9000",verdict="steered"} 3
sksteer_lookups_total{netns="NS",target="127.0.0.1:9000",verdict="no_target"} 0
sksteer_lookups_total{netns="NS",target="127.0.0.1:9000",verdict="error"} 0
sksteer_lookups_total{netns="NS",target="127.0.0.1:9000",verdict="refused"} 0
sksteer_lookups_total{netns="NS",target="127.0.0.1:9000",verdict="preempted"} 0
sksteer_lookups_total{netns="NS",target="127.0.0.1:9000",verdict="to_clients"} 0
sksteer_namespace_lookups_total{netns="NS",verdict="passed"} 2
sksteer_namespace_lookups_total{netns="NS",verdict="steered"} 3
sksteer_namespace_lookups_total{netns="NS",verdict="no_target"} 0
sksteer_namespace_lookups_total{netns="NS",verdict="error"} 0
sksteer_namespace_lookups_total{netns="NS",verdict="refused"} 0
sksteer_namespace_lookups_total{netns="NS",verdict="preempted"} 0
sksteer_assign_errors_total{netns="NS",target="127.0.0.1:9000",cause="family"} 0
sksteer_assign_errors_total{netns="NS",target="127.0.0.1:9000",cause="protocol"} 0
sksteer_assign_errors_total{netns="NS",target="127.0.0.1:9000",cause="state"} 0
sksteer_assign_errors_total{netns="NS",target="127.0.0.1:9000",cause="other"} 0
sksteer_target_up{netns="NS",target="127.0.0.1:9000"} 1
sksteer_target_ports{netns="NS",target="127.0.0.1:9000"} 100
sksteer_target_dst_prefixes{netns="NS",target="127.0.0.1:9000"} 0
sksteer_target_dst_ports{netns="NS",target="127.0.0.1:9000"} 0
sksteer_trace_events_lost_total{netns="NS"} 0
EOF
)" "$(grep -v '^#' <<<"$metrics")"
like "(what is compared: each pin with its id, and the program)" \
	'^events "id":[0-9]+ link "id":[0-9]+ ports "id":[0-9]+ stats "id":[0-9]+ .* program [0-9]+$' \
	"$(echo $before)"
is "--metrics changed no pin, map, link or program" "$before" "$(pins_state)"
ok "(and pinned no layout)" test ! -e "$PIN_DIR/layout"
is "(the port table is still the old one)" 1 "$(value_size ports)"

# oldsteer's own socket answers, before the upgrade and after (it stays the target)
s0=$(steered)
loop_start --expect=8050 127.0.0.1:8050
id_before=$(link_prog)
out=$("$SKSTEER" -p 8000-8199 -s 127.0.0.1:9000 --dry-run)
is "--dry-run on the old layout: the change, and no count (the run migrates the maps)" \
	"2 + tcp 127.0.0.1:9000 8100-8199" "$? $out"
is "(it changed nothing: the old program, the old port table)" "$id_before 1" \
	"$(link_prog) $(value_size ports)"
ok "a run that changes the ports migrates the layout" "$SKSTEER" -p 8000-8199 -s 127.0.0.1:9000
ok "(a new program runs)" test "$id_before" != "$(link_prog)"
ok "(the loop's connections go through it too)" steered_past $(($(steered) + 20))
loop_check "a client hammering a steered port through the upgrade never failed, nor strayed"
n=$(loop_oks)
ok "counters came across: each lookup before and through the upgrade is counted" \
	test "$(steered)" -ge $((s0 + n))
is "the port table is packed now" 8 "$(value_size ports)"
is "the layout is pinned" 6 "$(layout)"
ok "the trace ring buffer is no longer pinned" test ! -e "$PIN_DIR/events"
is "old ports still steer" 8000 "$(dial 127.0.0.1:8000)"
is "new ports too" 8150 "$(dial 127.0.0.1:8150)"
ok "healthy" "$SKSTEER" --check
id_before=$(link_prog)
ok "a second run finds nothing to migrate" "$SKSTEER" -p 8000-8199 -s 127.0.0.1:9000
is "and keeps the program" "$id_before" "$(link_prog)"

# A newer layout: refused with one line, nothing changed.
bpftool map update pinned "$PIN_DIR/layout" key 0 0 0 0 value 7 0 0 0
run_sksteer -p 8000 -s 127.0.0.1:9000
is "pins of a newer layout are refused" 1 "$RC"
like "with one line naming it" "^sksteer: the steering pinned in $PIN_DIR comes from a newer sksteer \(map layout 7; this one knows up to 6\): use that sksteer, or run 'sksteer --detach' and apply the configuration again$" "$STDERR"
is "and steering is as it was" 8199 "$(dial 127.0.0.1:8199)"
ok "--detach" "$SKSTEER" --detach
kill "$OLD_PID"
wait "$OLD_PID" 2>/dev/null

# Layouts 3 and 4, pinned by their own programs, frozen: tests/sksteer-layout3.bpf.c, and 0.3's
# in bench/ (on today's headers). Each map as that sksteer pinned it, recorded from the real
# ones: type, key and value sizes, entries and flags; a frozen program that drifts fails here.
pins_shape() {
	local pin
	for pin in "$PIN_DIR"/*; do
		echo "${pin##*/} $({ bpftool map show pinned "$pin" || bpftool link show pinned "$pin"; } 2>/dev/null |
			awk 'NR == 1 { t = $2; f = $6 } NR == 2 { print t, ($1 == "key" ? $2 " " $4 " " $6 " " f : $4) }')"
	done | LC_ALL=C sort
}
LAYOUT3_SHAPE="layout array 4B 4B 1 0x0
link netns sk_lookup
ports array 4B 8B 16384 0x400
routes array 4B 4B 512 0x0
standby sockmap 4B 8B 256 0x0
stats percpu_array 4B 64B 256 0x0
stats_ext percpu_array 4B 16B 256 0x0
target_addrs array 4B 20B 256 0x0
target_flags array 4B 4B 256 0x0
target_info hash 4B 8200B 256 0x1
targets sockmap 4B 8B 256 0x0
tracer array 4B 16B 1 0x0
udp_clients array 4B 8B 4096 0x400"
LAYOUT4_SHAPE=$(LC_ALL=C sort <<<"$LAYOUT3_SHAPE
prefix_list array 4B 4B 1 0x0
prefixes array 4B 776B 2 0x0
scopes array_of_maps 4B 4B 33 0x0")
# layout 5, with a prefix that binds a port (OLDSTEER_DST): its scope table, and the shared one
LAYOUT5_SHAPE=$(LC_ALL=C sort <<<"$LAYOUT4_SHAPE
scope_0 array 4B 8B 16384 0x400
scope_1 array 4B 8B 16384 0x400
udp_replies array_of_maps 4B 4B 1 0x0")

# uses MAP...: the program the link runs reads these pinned maps
uses() {
	local ids m
	ids=$(bpftool prog show id "$(link_prog)" | grep -o 'map_ids [0-9,]*' | cut -d' ' -f2 | tr , ' ')
	for m in "$@"; do
		[[ " $ids " == *" $(bpftool map show pinned "$PIN_DIR/$m" | cut -d: -f1 -s | head -1) "* ]] ||
			{ echo "no $m in the maps it reads ($ids)"; return 1; }
	done
}

# upgrade LAYOUT HOW OLDSTEER...: oldsteer pins LAYOUT and steers 8000-8199 to its socket; under
# load, a run (HOW: "run", sksteer -p -s --dst; or "config", --config, which applies a whole
# configuration its own way) binds 8100 for the prefix 127.0.0.1 to P, which needs the mark of
# a prefix in the port table. Layout 3's program reads that mark as a route to no target: the
# current program must be in before the mark is. Clients hammer a port the prefix takes and one
# that stays.
serve --label=P 127.0.0.1:9100
printf 'tcp 127.0.0.1:9000 8000-8199\ntcp 127.0.0.1:9100 8100 dst=127.0.0.1/32\n' >"$WORK/dst.conf"
upgrade() {
	local n=$1 how=$2 shape=$LAYOUT3_SHAPE old_pid old_prog before n1 n2 n3 s0
	shift 2
	[ "$n" = 4 ] && shape=$LAYOUT4_SHAPE
	[ "$n" = 5 ] && shape=$LAYOUT5_SHAPE
	start_ready "$@" 127.0.0.1:9000 8000-8199
	old_pid=$LAST_PID
	if [ "$how" = run ]; then # the same pins each time: once is enough
		is "layout $n, as sksteer pinned it" "$shape" "$(pins_shape)"
		is "(the layout map says $n)" "$n" "$(layout)"
	fi
	is "its program steers" "8000 8100" "$(dial 127.0.0.1:8000) $(dial 127.0.0.1:8100)"
	old_prog=$(link_prog)
	before=$("$SKSTEER" --list | grep -A1 '^target 127.0.0.1:9000 ')
	s0=$(steered)
	loop_start --expect=8100 --expect=P:8100 127.0.0.1:8100
	loop_start --name=stay --expect=8150 127.0.0.1:8150
	[ "$n" = 5 ] && loop_start --name=old-dst --expect=8300 127.0.0.2:8300
	if [ "$how" = run ]; then
		ok "layout $n: a run with --dst" "$SKSTEER" -p 8100 -s 127.0.0.1:9100 --dst 127.0.0.1
	else
		counted=$("$SKSTEER" --config "$WORK/dst.conf" --dry-run | grep -c '^kernel updates')
		is "layout $n: --config --dry-run: no count, nothing changed" "0 $old_prog" \
			"$counted $(link_prog)"
		ok "layout $n: --config with a dst= line" "$SKSTEER" --config "$WORK/dst.conf"
	fi
	ok "(a new program runs)" test "$old_prog" != "$(link_prog)"
	ok "(the loops' connections go through it too)" steered_past $(($(steered) + 20))
	loop_check "a client hammering the port the prefix takes through the upgrade never failed, nor strayed"
	n1=$(loop_oks)
	loop_check --name=stay "nor did one hammering a port that stays"
	n2=$(loop_oks) n3=0
	if [ "$n" = 5 ]; then
		loop_check --name=old-dst "nor one hammering the port layout 5's prefix binds"
		n3=$(loop_oks)
		is "layout 5's prefix lists and its prefix's table are gone" "" \
			"$(cd "$PIN_DIR" && ls -d prefixes prefix_list scope_1 2>/dev/null)"
		is "its prefix's binding came across" \
			"tcp 127.0.0.1:9000 8300 dst=127.0.0.2/32" "$("$SKSTEER" --save | grep 8300)"
	fi
	ok "counters came across: each lookup before and through the upgrade is counted" \
		test "$(steered)" -ge $((s0 + n1 + n2 + n3))
	is "layout 6 is pinned" 6 "$(layout)"
	ok "the program is this sksteer's: it reads the bindings table and the UDP client table" \
		uses ports routes stats scopes udp_replies tables4 tables6 table_ranges table_metas table_sel
	is "the prefix takes its port" P:8100 "$(dial 127.0.0.1:8100)"
	is "the old program's bindings stay, that port off the prefix too" "8000 8199 8100" \
		"$(dial 127.0.0.1:8000) $(dial 127.0.0.1:8199) $(dial 127.0.0.2:8100)"
	is "--list: the old target as it was" "$before" \
		"$("$SKSTEER" --list | grep -A1 '^target 127.0.0.1:9000 ')"
	ok "healthy" "$SKSTEER" --check
	ok "--detach" "$SKSTEER" --detach
	kill "$old_pid"
	wait "$old_pid" 2>/dev/null
}
upgrade 3 run "${OLD3[@]}"
upgrade 3 config "${OLD3[@]}"
upgrade 4 run "${OLD4[@]}"
OLDSTEER_DST="127.0.0.2/32 8300" upgrade 5 run "${OLD5[@]}"

# Layout 4's UDP client watcher, which pinned its links as watch_*, is not frozen: it is stood
# for by this sksteer's pins with layout 4's maps taken away and the links renamed. Any run
# replaces the watcher and pins layout 6, while a client hammers a steered UDP port below the
# ephemeral range (one in it may be the client's own port: its datagram is then a reply to
# itself), its own port in the steered part of the range at times.
read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
serve --udp 127.0.0.1:7
serve --udp --label=U 127.0.0.1:9200
ok "a UDP target over the ephemeral range" "$SKSTEER" -p $((lo - 100))-$((lo + 99)) -s udp:127.0.0.1:9200
bpftool map update pinned "$PIN_DIR/layout" key 0 0 0 0 value 4 0 0 0
rm "$PIN_DIR/udp_replies" "$PIN_DIR/udp_awaited" "$PIN_DIR/udp_watch_stats"
rm "$PIN_DIR/udp_watch_bound4" "$PIN_DIR/udp_watch_bound6" # layout 4 had no post_bind links
for f in release bind4 bind6 sendmsg4 sendmsg6; do mv "$PIN_DIR/udp_watch_$f" "$PIN_DIR/watch_$f"; done
id_before=$(link_prog)
loop_start --udp --expect=U:$((lo - 50)) 127.0.0.1:$((lo - 50))
ok "a run on layout 4 pins" "$SKSTEER" --add $((lo + 100)) -s udp:127.0.0.1:9200
loop_check "a client hammering a steered UDP port through the upgrade never failed, nor strayed"
is "layout 6 is pinned" 6 "$(layout)"
ok "with a new program" test "$id_before" != "$(link_prog)"
is "the old watcher's links are gone, the new one's in place" "0 7" \
	"$(ls "$PIN_DIR" | grep -c '^watch_') $(ls "$PIN_DIR" | grep -c '^udp_watch_[a-z]*[46e]$')"
is "clients get their replies" 5 \
	"$(for _ in $(seq 5); do dial --udp --sendto 127.0.0.1:7; done | grep -c '^7$')"
ok "--detach" "$SKSTEER" --detach

# --trace on old pins migrates first, then traces.
start_ready "${OLD2[@]}" 127.0.0.1:9001 8300
trace_start "$WORK/trace"
dial 127.0.0.1:8300 >/dev/null
trace_stop
like "--trace on the old layout: migrated, then traced" "127\.0\.0\.1:8300 +steered +127\.0\.0\.1:9001" \
	"$(cat "$WORK/trace")"
is "(migrated)" 8 "$(value_size ports)"
ok "--detach" "$SKSTEER" --detach

done_testing
