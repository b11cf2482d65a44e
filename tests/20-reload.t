# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Hot reload: changes in place, never a missed connection, runs serialized,
# killed runs repaired, program upgrades swapped in atomically.
. "$(dirname "$0")/lib.sh"

# the one server: a port steered to it answers with its number ("80"), one it misses is refused
serve 127.0.0.1:9000
ok "first run steers 80 and 1-30000" "$SKSTEER" -p 1-30000 -s 127.0.0.1:9000
first_prog=$(link_prog)
own_tag=$(prog_tag "$first_prog")

loop_start --expect=80 127.0.0.1:80
sets=(1-65535 80 80,443,8000-8999 1-30000 80,30001-65535 79-81)
failed_runs=0
for round in 1 2 3; do
	for set in "${sets[@]}"; do
		"$SKSTEER" -p "$set" -s 127.0.0.1:9000 || failed_runs=$((failed_runs + 1))
	done
done
loop_check "a client looping on kept port 80 through them: no failure, always the server"
is "18 reloads with sets of up to 65535 ports all succeed" 0 "$failed_runs"
is "the last set is in force" "79 81 refused" \
	"$(dial 127.0.0.1:79) $(dial 127.0.0.1:81) $(dial 127.0.0.1:82)"
is "reloads kept the link and its program" "$first_prog" "$(link_prog)"

# A run that only changes bindings, on pins that run this build's program (its "build" pin
# says so), touches maps only: under nobpfload, bpf() can load no program and no BTF, and
# create no map, and such a run still succeeds (program ids cannot tell on a shared host).
ok "the pins record the build whose program runs" test -e "$PIN_DIR/build"
ok "a run that changes the ports loads nothing" \
	"$NOLOAD" "$SKSTEER" -p 80,8000-8099 -s 127.0.0.1:9000
is "and its set is in force" "8050 refused" "$(dial 127.0.0.1:8050) $(dial 127.0.0.1:8100)"
ok "nor does one that applies the same again" \
	"$NOLOAD" "$SKSTEER" -p 80,8000-8099 -s 127.0.0.1:9000
ok "nor --config" "$NOLOAD" "$SKSTEER" --config - <<<"tcp 127.0.0.1:9000 80,8100"
is "and its set is in force" "8100 refused" "$(dial 127.0.0.1:8100) $(dial 127.0.0.1:8050)"
is "the link still runs the first program" "$first_prog" "$(link_prog)"
other_build build # as another build of sksteer would have recorded it
run_sksteer_noload() { STDERR=$("$NOLOAD" "$SKSTEER" "$@" 2>&1 >/dev/null); RC=$?; }
run_sksteer_noload -p 80,8101 -s 127.0.0.1:9000
is "where the record names another build, a run loads this one's program" 1 "$RC"
like "(which nobpfload refuses)" "refused the BPF program" "$STDERR"
is "(and the steering is as it was)" "8100 refused" "$(dial 127.0.0.1:8100) $(dial 127.0.0.1:8101)"
ok "a run that can load does, finds its program in the link and records it" \
	"$SKSTEER" -p 80,8101 -s 127.0.0.1:9000
is "(the same program: not swapped)" "$first_prog" "$(link_prog)"
ok "the next run loads nothing again" "$NOLOAD" "$SKSTEER" -p 80,8102 -s 127.0.0.1:9000
is "and its set is in force" "8102 refused" "$(dial 127.0.0.1:8102) $(dial 127.0.0.1:8101)"

# Runs killed with SIGKILL at random points leave a state the next run uses.
loop_start --expect=80 127.0.0.1:80
for i in $(seq 12); do
	if [ $((i % 2)) = 0 ]; then set=1-65535; else set=80,81; fi
	"$SKSTEER" -p "$set" -s 127.0.0.1:9000 &
	sleep "0.00$((RANDOM % 10))"
	kill -9 $! 2>/dev/null
	wait $! 2>/dev/null
done
loop_check "port 80 stays steered to the server while runs are killed with SIGKILL"
ok "after killed runs, a run succeeds" "$SKSTEER" -p 80,443 -s 127.0.0.1:9000
is "and its set is in force" "80 443 refused" \
	"$(dial 127.0.0.1:80) $(dial 127.0.0.1:443) $(dial 127.0.0.1:81)"

# Concurrent runs are serialized by the lock on the pin directory.
pids=()
for port in 81 82 83 84 85 86; do
	"$SKSTEER" -p "80,$port" -s 127.0.0.1:9000 &
	pids+=($!)
done
failed_runs=0
for pid in "${pids[@]}"; do wait "$pid" || failed_runs=$((failed_runs + 1)); done
is "six concurrent runs all succeed" 0 "$failed_runs"
steered=0
for port in 81 82 83 84 85 86; do [ "$(dial 127.0.0.1:$port)" = "$port" ] && steered=$((steered + 1)); done
is "exactly one concurrent run's set is in force" 1 "$steered"

# Upgrades: a pinned program from another build is replaced atomically.
ok "another build's program is swapped into the link" \
	"$TOP/.output/linkswap" "$PIN_DIR" "$TOP/.output/sksteer-other.bpf.o"
ok "the other build runs (its tag differs)" test "$(prog_tag "$(link_prog)")" != "$own_tag"
is "the other build steers too" 80 "$(dial 127.0.0.1:80)"
run_sksteer_noload -p 80 -s 127.0.0.1:9000
is "the record no longer holds: a run must load this build's program to swap it in" 1 "$RC"
loop_start --expect=80 127.0.0.1:80
ok "a run of this build succeeds" "$SKSTEER" -p 80 -s 127.0.0.1:9000
loop_check "no connection failed or went astray during the upgrade"
is "this build's program runs again" "$own_tag" "$(prog_tag "$(link_prog)")"
ok "and the next run loads nothing" "$NOLOAD" "$SKSTEER" -p 80,81 -s 127.0.0.1:9000

ok "a foreign program is replaced as well" \
	"$TOP/.output/linkswap" "$PIN_DIR" "$TOP/.output/floor.bpf.o"
is "while it runs, nothing is steered" refused "$(dial 127.0.0.1:80)"
run_sksteer_noload -p 80 -s 127.0.0.1:9000
is "(not without loading it)" 1 "$RC"
ok "a run puts sksteer's program back" "$SKSTEER" -p 80 -s 127.0.0.1:9000
is "and steering works again" 80 "$(dial 127.0.0.1:80)"

# An incompatible map layout is refused, with the way out, and steering goes on.
rm "$PIN_DIR/target_addrs"
bpftool map create "$PIN_DIR/target_addrs" type array key 4 value 8 entries 256 name target_addrs
run_sksteer -p 80,81 -s 127.0.0.1:9000
is "a run against an incompatible pinned layout fails" 1 "$RC"
like "it says the layout is incompatible and how to recover" \
	"incompatible sksteer version.*--detach" "$STDERR"
run_sksteer_noload -p 80,81 -s 127.0.0.1:9000
like "(a replaced pin is never taken for current: a run that loads nothing checks it too)" \
	"incompatible sksteer version.*--detach" "$STDERR"
is "steering goes on unchanged" "80 refused" "$(dial 127.0.0.1:80) $(dial 127.0.0.1:81)"
ok "--detach clears the incompatible state" "$SKSTEER" --detach
ok "and a new run works" "$SKSTEER" -p 81 -s 127.0.0.1:9000
is "with its set in force" 81 "$(dial 127.0.0.1:81)"

done_testing
