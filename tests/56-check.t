# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# --check, for health checks: quiet and 0 when all is well, one line per problem otherwise.
. "$(dirname "$0")/lib.sh"

check() { STDERR=$("$SKSTEER" --check 2>&1); RC=$?; }
set_port() { # set_port PORT SLOT: write the pinned port table behind sksteer's back
	"$TOP/.output/setport" "$PIN_DIR" "$1" "$2"
}

check
is "nothing steered: exit 1" 1 "$RC"
is "and one line saying so" "sksteer: nothing is steered in this network namespace: steer with -p PORTS -s TARGET" \
	"$STDERR"

serve 127.0.0.1:9000
A_PID=$LAST_PID
serve 127.0.0.1:9001
ok "steer 80,443,8000-8099 to A" "$SKSTEER" -p 80,443,8000-8099 -s 127.0.0.1:9000
ok "steer 7000 to B" "$SKSTEER" -p 7000 -s 127.0.0.1:9001
check
is "healthy: exit 0" 0 "$RC"
is "healthy: nothing printed" "" "$STDERR"
ok "and nothing printed on stdout either" test -z "$("$SKSTEER" --check 2>/dev/null)"

set_port 443 0
check
is "a port lost from the table: exit 1" 1 "$RC"
is "the line names the target and the port" \
	"sksteer: target 127.0.0.1:9000: port 443 is not steered to it (lost from the port table): run 'sksteer -p PORTS -s 127.0.0.1:9000' again" \
	"$STDERR"
set_port 8001 0
set_port 8002 0
like "several lost ports are listed as ranges" "ports 443,8001-8002 are not steered to it" \
	"$("$SKSTEER" --check 2>&1)"
ok "applying the ports again repairs it" "$SKSTEER" -p 80,443,8000-8099 -s 127.0.0.1:9000
ok "healthy again" "$SKSTEER" --check

set_port 81 1
like "a port steered without being configured is a problem too" \
	"port 81 is steered to it without being in its configuration" "$("$SKSTEER" --check 2>&1)"
ok "repaired by applying again" "$SKSTEER" -p 80,443,8000-8099 -s 127.0.0.1:9000

ok "--force moves 443 from A to B" "$SKSTEER" -p 443,7000 -s 127.0.0.1:9001 --force
ok "a port moved on purpose is not a lost port" "$SKSTEER" --check
ok "and when A gets it back, neither" "$SKSTEER" -p 80,443,8000-8099 -s 127.0.0.1:9000 --force
ok "healthy" "$SKSTEER" --check

# A run cut short after recording ports (its target's, or those --force takes from others) and
# before the table changed: the table is right, the record is not. The same file applied again
# records it afresh (tests/85 met it once in a storm).
"$SKSTEER" --save >"$WORK/ab.conf"
# slot 1's recorded ports start at byte 8 of its record (struct sksteer_target_info): 443 out
flip_bits target_info 1 $((8 + 443 / 8)) $((1 << 443 % 8))
like "a record that leaves out a port the table has is seen" \
	"target 127.0.0.1:9000: port 443 is steered to it without being in its configuration" \
	"$("$SKSTEER" --check 2>&1)"
ok "the same file applied again" "$SKSTEER" --config "$WORK/ab.conf"
ok "records it afresh: healthy" "$SKSTEER" --check

kill "$A_PID"
wait "$A_PID" 2>/dev/null
set_port 7000 0
check
is "two problems: exit 1" 1 "$RC"
is "two problems, two lines" 2 "$(echo "$STDERR" | wc -l)"
like "a target whose socket is gone" \
	"sksteer: target 127.0.0.1:9000: its socket is gone, so its 102 ports are not steered: start its server, then run 'sksteer -s 127.0.0.1:9000'" \
	"$STDERR"
like "and B's lost port" "target 127.0.0.1:9001: port 7000 is not steered to it" "$STDERR"
ok "--detach -s the target whose socket is gone" "$SKSTEER" --detach -s 127.0.0.1:9000
ok "apply B's ports again" "$SKSTEER" -p 7000 -s 127.0.0.1:9001
ok "healthy" "$SKSTEER" --check

link_id=$(bpftool -j link show | NETNS_INO=$NETNS_INO perl -MJSON::PP -e '
	for (@{decode_json(join "", <STDIN>)}) { print $_->{id} if ($_->{netns_ino} // 0) == $ENV{NETNS_INO} }')
ok "someone detaches the link with bpftool" bpftool link detach id "$link_id"
check
is "program not attached: exit 1" 1 "$RC"
like "one line naming it" \
	"^sksteer: the steering pinned in $PIN_DIR is not attached to this network namespace \(its link was detached or never pinned\): apply the configuration again$" \
	"$STDERR"
ok "--check changed nothing: the pins are still there for inspection" test -e "$PIN_DIR/link"
ok "the next run that steers sets it up again" "$SKSTEER" -p 7000 -s 127.0.0.1:9001
is "steered again" 7000 "$(dial 127.0.0.1:7000)"
ok "healthy" "$SKSTEER" --check

# Pins from sksteer 0.1 have no record of the ports each target was given (nor the other
# maps added since).
rm "$PIN_DIR/target_info" "$PIN_DIR/target_flags" "$PIN_DIR/stats_ext"
ok "--list reads such pins" "$SKSTEER" --list
ok "without the record (pins of an older sksteer), --check skips the port comparison" \
	"$SKSTEER" --check
ok "the next run that steers creates it" "$SKSTEER" -p 7000,7001 -s 127.0.0.1:9001
ok "and pins it, root-only" test "$(stat -c %a "$PIN_DIR/target_info")" = 600
ok "and the others" test -e "$PIN_DIR/target_flags" -a -e "$PIN_DIR/stats_ext"
flags_map=$(bpftool -j map show pinned "$PIN_DIR/target_flags" | perl -MJSON::PP -e 'print decode_json(join "", <STDIN>)->{id}')
like "the running program was swapped to use them (the same tag, new maps)" "\b$flags_map\b" \
	"$(bpftool -j prog show id "$(link_prog)" | perl -MJSON::PP -e 'print join " ", @{decode_json(join "", <STDIN>)->{map_ids}}')"
set_port 7001 0
like "so --check compares ports again" "port 7001 is not steered to it" "$("$SKSTEER" --check 2>&1)"

done_testing
