# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Runs at the same time: a run behind another run's lock gives up after --wait SECONDS (10 by
# default) with one line, changing nothing; many concurrent runs of every kind all finish, a
# client on a port every configuration keeps never fails, and the end state is consistent.
# CONCURRENT_RUNS (default 40) sets how many runs the storm starts at once.
. "$(dirname "$0")/lib.sh"

serve --label=A 127.0.0.1:9000
serve --label=B 127.0.0.1:9001
A=127.0.0.1:9000
B=127.0.0.1:9001
steering() { echo "$(dial 127.0.0.1:80) $(dial 127.0.0.1:81) $(dial 127.0.0.1:5000)"; }
elapsed_ms() { echo $(($(date +%s%3N) - $1)); }

ok "steer 80 to A, 5000 to B" sh -c "'$SKSTEER' -p 80 -s $A && '$SKSTEER' -p 5000 -s $B"
before=$(steering)
is "(steering)" "A:80 refused B:5000" "$before"

# --- a run behind a held lock -----------------------------------------------------------------
LOCKED="^sksteer: another run \(pid [0-9]+, flock\) holds the lock on $PIN_DIR \(waited %s s\): wait for it to finish, or give --wait SECONDS to wait longer\$"
# blocked DESCRIPTION WAIT ARGS...: gives up after WAIT seconds (+2 at most), one line, no change
blocked() {
	local desc=$1 wait=$2 start ms lines
	shift 2
	start=$(date +%s%3N)
	STDERR=$(timeout 30 "$SKSTEER" "$@" 2>&1 >/dev/null)
	RC=$?
	ms=$(elapsed_ms "$start")
	lines=$(printf '%s\n' "$STDERR" | wc -l)
	# shellcheck disable=SC2059
	[ "$RC" = 1 ] && [[ $STDERR =~ $(printf "$LOCKED" "$wait") ]] && [ "$lines" = 1 ] &&
		[ "$ms" -ge $((wait * 1000)) ] && [ "$ms" -lt $((wait * 1000 + 2000)) ] &&
		[ "$(steering)" = "$before" ]
	result "$desc" $? "sksteer $*: exit $RC after $ms ms, steering now: $(steering)" \
		"stderr: $STDERR"
}

hold
blocked "a change gives up after --wait 1" 1 --wait 1 -p 80,81 -s $A
like "(naming the holder's pid)" "pid $HOLDER, flock" "$STDERR"
blocked "--wait 0: one try" 0 --wait 0 -p 80,81 -s $A
blocked "--detach too" 1 --wait 1 --detach -s $B
blocked "--list, a reader, behind a writer" 1 --wait 1 --list
blocked "--check" 1 --wait 1 --check
blocked "--save" 1 --wait 1 --save
printf 'tcp %s 80,81\n' $A >"$WORK/one.conf"
blocked "--config" 1 --wait 1 --config "$WORK/one.conf"
blocked "--config --dry-run" 1 --wait 1 --config "$WORK/one.conf" --dry-run
blocked "--trace" 1 --wait 1 --trace
blocked "without --wait: 10 seconds" 10 -p 80,81 -s $A
let_go

hold -s
ok "a shared holder lets a reader in" "$SKSTEER" --wait 1 --list
blocked "and keeps a writer out" 1 --wait 1 -p 80,81 -s $A
let_go

flock "$PIN_DIR" sleep 1 &
PIDS+=($!)
sleep 0.2
start=$(date +%s%3N)
ok "a run behind a lock let go within --wait gets it" "$SKSTEER" --wait 5 -p 80,81 -s $A
ms=$(elapsed_ms "$start")
result "(soon after it was let go: $ms ms)" "$([ "$ms" -ge 500 ] && [ "$ms" -lt 2500 ]; echo $?)"
is "and steers" "A:80 A:81 B:5000" "$(steering)"
run_sksteer --wait 3601 --list
is "--wait above 3600: usage error" 64 "$RC"
run_sksteer --new-sockets -p 80 -s $A
is "--new-sockets without --config: still a usage error" 64 "$RC"

# --- --config --wait: the pins another run made meanwhile are read afresh -------------------
# (the lock is let go while waiting for a late server; a run that kept what it had read before
# the wait would take the pins for absent and attach again over the other run's)
ok "--detach" "$SKSTEER" --detach
printf 'tcp %s 80\ntcp 127.0.0.1:9002 7000\n' $A >"$WORK/late.conf"
"$SKSTEER" --config "$WORK/late.conf" --wait 20 >"$WORK/late.out" 2>&1 &
LATE=$!
sleep 0.3
ok "while --config --wait waits for a late server, another run steers" \
	"$SKSTEER" -p 80,81 -s $A
serve --label=C 127.0.0.1:9002
wait "$LATE"
is "the waiting run then applies its file" "0 " "$? $(cat "$WORK/late.out")"
is "over the steering the other run made" "$(printf 'tcp %s 80\ntcp 127.0.0.1:9002 7000' $A)" \
	"$("$SKSTEER" --save | grep -v '^#')"
is "(by connecting)" "A:80 refused C:7000" \
	"$(dial 127.0.0.1:80) $(dial 127.0.0.1:81) $(dial 127.0.0.1:7000)"
ok "healthy" "$SKSTEER" --check

# --- a storm of concurrent runs ---------------------------------------------------------------
# a vmtest guest's emulated CPU: the same kinds of runs, fewer at once
if [ -n "${SKSTEER_VMTEST:-}" ]; then N=${CONCURRENT_RUNS:-12}; else N=${CONCURRENT_RUNS:-40}; fi
printf 'tcp %s 80,8000-8099\ntcp %s 5000-5010\n' $A $B >"$WORK/c1.conf"
printf 'tcp %s 80,8100-8199,20000-40000 fail-closed\n' $A >"$WORK/c2.conf"
printf 'tcp %s 80,443\ntcp %s 5000\n' $A $B >"$WORK/final.conf"
mkdir "$WORK/storm"
# one run of the storm, of kind i % 10; exit code and stderr in $WORK/storm/i.*
storm_run() {
	local i=$1 w=(--wait 120)
	case $((i % 10)) in
	0) "$SKSTEER" "${w[@]}" -p 80,8000-8099 -s $A ;;
	1) "$SKSTEER" "${w[@]}" -p 80,10000-30000 -s $A --fail-closed ;;
	2) "$SKSTEER" "${w[@]}" -p 5000-5010 -s $B ;;
	3) "$SKSTEER" "${w[@]}" --detach -s $B ;;
	4) "$SKSTEER" "${w[@]}" --list ;;
	5) "$SKSTEER" "${w[@]}" --list --json | perl -MJSON::PP -e 'decode_json(join "", <STDIN>)' ;;
	6) "$SKSTEER" "${w[@]}" --config "$WORK/c1.conf" ;;
	7) "$SKSTEER" "${w[@]}" --config "$WORK/c2.conf" ;;
	8) "$SKSTEER" "${w[@]}" -s $A --add 443 ;;
	9) "$SKSTEER" "${w[@]}" --save >/dev/null && "$SKSTEER" "${w[@]}" --metrics >/dev/null ;;
	esac
}
ok "steer 80 to A" "$SKSTEER" --config "$WORK/c1.conf"
loop_start --expect=A:80 127.0.0.1:80
start=$(date +%s%3N)
for i in $(seq 0 $((N - 1))); do
	(
		timeout 150 bash -c "$(declare -f storm_run); SKSTEER='$SKSTEER' WORK='$WORK' \
			A=$A B=$B storm_run $i" >/dev/null 2>"$WORK/storm/$i.err"
		echo $? >"$WORK/storm/$i.rc"
	) &
done
# and a tracer now and then, one at a time (a second one is refused: one tracer at a time)
(
	for _ in 1 2 3; do
		trace_start "$WORK/storm/trace.out" --wait 120 >>"$WORK/storm/trace.err"
		sleep 0.2
		trace_stop 2>>"$WORK/storm/trace.err"
		echo $? >>"$WORK/storm/trace.rc"
	done
) &
wait_storm() {
	for _ in $(seq 1800); do
		[ "$(ls "$WORK/storm"/*.rc 2>/dev/null | wc -l)" -gt "$N" ] &&
			[ "$(wc -l <"$WORK/storm/trace.rc")" = 3 ] && return 0
		sleep 0.1
	done
	return 1
}
ok "all $N concurrent runs and 3 tracers finished" wait_storm
ms=$(elapsed_ms "$start")
echo "# the storm took $ms ms"
hung=$(grep -lx 124 "$WORK"/storm/*.rc | wc -l)
is "none hung (killed by timeout)" 0 "$hung"
# the one refusal concurrency explains: a detach of B, which another run removed already
bad=$(for i in $(seq 0 $((N - 1))); do
	rc=$(cat "$WORK/storm/$i.rc")
	[ "$rc" = 0 ] && continue
	[ $((i % 10)) = 3 ] && grep -q "^sksteer: $B is not a target" "$WORK/storm/$i.err" && continue
	echo "run $i (kind $((i % 10))): exit $rc: $(head -3 "$WORK/storm/$i.err")"
done)
is "every run succeeded, or was refused for a reason of its own (a detach of a target gone)" "" "$bad"
result "the tracers too" "$([ "$(cat "$WORK/storm/trace.rc")" = "0
0
0" ]; echo $?)" "$(cat "$WORK/storm/trace.rc" "$WORK/storm/trace.err"*)"
ok "a final known configuration" "$SKSTEER" --config "$WORK/final.conf"
sleep 0.2
loop_check "the client on port 80 (A's in every configuration) never failed, and always got A"
ok "--check is quiet and 0" sh -c "out=\$('$SKSTEER' --check 2>&1) && [ -z \"\$out\" ]"
is "--save is the final file" "$(grep -v '^#' "$WORK/final.conf")" \
	"$("$SKSTEER" --save | grep -v '^#')"
ok "--list --json parses" sh -c "'$SKSTEER' --list --json | perl -MJSON::PP -e 'decode_json(join \"\", <STDIN>)'"
like "--list shows both targets" "127\.0\.0\.1:9000.*127\.0\.0\.1:9001" "$("$SKSTEER" --list | tr '\n' ' ')"
is "the steering, by connecting" "A:80 A:443 B:5000 refused refused" \
	"$(dial 127.0.0.1:80) $(dial 127.0.0.1:443) $(dial 127.0.0.1:5000) $(dial 127.0.0.1:8000) \
$(dial 127.0.0.1:25000)"
is "the link runs the plain program, no tracer's" sksteer "$(prog_name "$(link_prog)")"

done_testing
