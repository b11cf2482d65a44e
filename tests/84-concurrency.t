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

ok "steer 80 to A, 5000 to B" sh -c "'$SKSTEER' -p 80 -s $A && '$SKSTEER' -p 5000 -s $B"
before=$(steering)
is "(steering)" "A:80 refused B:5000" "$before"

# --- runs behind a held lock --------------------------------------------------------------------
# Each is seen waiting for the lock (lib.sh's in_wait: a sleep between two tries), then ends by
# itself; which gives up first is an ordering, not a time: a run without --wait that waited
# first still waits when one with --wait 1 that came after has given up.
LOCKED="^sksteer: another run \(pid [0-9]+, flock\) holds the lock on $PIN_DIR \(waited %s s\): wait for it to finish, or give --wait SECONDS to wait longer\$"
declare -A BLOCKED=()
blocked_start() { # blocked_start NAME ARGS...: sksteer ARGS in the background
	local name=$1
	shift
	"$SKSTEER" "$@" >/dev/null 2>"$WORK/blocked.$name" &
	BLOCKED[$name]=$!
}
# seen_waiting NAME...: each of these runs seen in its wait, round after round (none gives up
# unseen while another is looked at); the names never seen on stdout
seen_waiting() {
	local -A left=()
	local n
	for n; do left[$n]=1; done
	for _ in $(seq 1500); do
		for n in "${!left[@]}"; do
			in_wait "${BLOCKED[$n]}" && unset "left[$n]"
		done
		[ ${#left[@]} = 0 ] && return 0
		sleep 0.02
	done
	echo "never seen waiting: ${!left[*]}"
	return 1
}
# blocked DESCRIPTION NAME WAIT: the run ended by itself (reap: within 30 s, or it is killed),
# exit 1, one line naming the holder and WAIT seconds, and nothing changed
blocked() {
	local desc=$1 wait=$3 lines
	reap "${BLOCKED[$2]}"
	STDERR=$(cat "$WORK/blocked.$2")
	lines=$(printf '%s\n' "$STDERR" | wc -l)
	# shellcheck disable=SC2059
	[ "$RC" = 1 ] && [[ $STDERR =~ $(printf "$LOCKED" "$wait") ]] && [ "$lines" = 1 ] &&
		[ "$(steering)" = "$before" ]
	result "$desc" $? "exit $RC, steering now: $(steering)" "stderr: $STDERR"
}

hold
blocked_start default -p 80,81 -s $A
ok "a run behind the lock waits for it" waits "${BLOCKED[default]}"
blocked_start change --wait 1 -p 80,81 -s $A
ok "(one with --wait 1 too)" waits "${BLOCKED[change]}"
blocked "a change gives up after --wait 1" change 1
like "(naming the holder's pid)" "pid $HOLDER, flock" "$STDERR"
! ended "${BLOCKED[default]}"
result "while the run without --wait, which waited first, waits still" $?
blocked_start zero --wait 0 -p 80,81 -s $A
blocked_start detach --wait 1 --detach -s $B
blocked_start list --wait 1 --list
blocked_start check --wait 1 --check
blocked_start save --wait 1 --save
printf 'tcp %s 80,81\n' $A >"$WORK/one.conf"
blocked_start config --wait 1 --config "$WORK/one.conf"
blocked_start dry --wait 1 --config "$WORK/one.conf" --dry-run
blocked_start trace --wait 1 --trace
ok "every kind waits, readers too" seen_waiting detach list check save config dry trace
blocked "--wait 0: one try" zero 0
blocked "--detach too" detach 1
blocked "--list, a reader, behind a writer" list 1
blocked "--check" check 1
blocked "--save" save 1
blocked "--config" config 1
blocked "--config --dry-run" dry 1
blocked "--trace" trace 1
blocked "without --wait: 10 seconds" default 10
let_go

hold -s
ok "a shared holder lets a reader in" "$SKSTEER" --wait 1 --list
blocked_start writer --wait 1 -p 80,81 -s $A
ok "and keeps a writer waiting" waits "${BLOCKED[writer]}"
blocked "until it gives up" writer 1
let_go

# let go within a run's wait, the lock is the run's: as it is let go, not at the end of the wait
# (--wait 3600 outlasts reap's guard of 30 s or more: a run that did not see it let go is killed)
hold
"$SKSTEER" --wait 3600 -p 80,81 -s $A >/dev/null 2>"$WORK/let-go.err" &
pid=$!
ok "a run waits behind a held lock" waits "$pid"
let_go
reap "$pid"
is "let go, the lock is the run's: it succeeds, long before its --wait 3600 ends" "0 " \
	"$RC $(cat "$WORK/let-go.err")"
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
ok "a run with --config --wait waits for a late server" waits "$LATE"
ok "while it does, another run steers" "$SKSTEER" -p 80,81 -s $A
serve --label=C 127.0.0.1:9002
reap "$LATE"
is "the waiting run then applies its file" "0 " "$RC $(cat "$WORK/late.out")"
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
for i in $(seq 0 $((N - 1))); do
	(
		timeout 150 bash -c "$(declare -f storm_run); SKSTEER='$SKSTEER' WORK='$WORK' \
			A=$A B=$B storm_run $i" >/dev/null 2>"$WORK/storm/$i.err"
		echo $? >"$WORK/storm/$i.rc"
	) &
done
# and a tracer now and then, one at a time (a second one is refused: one tracer at a time),
# each until it traced a lookup (the client's, below its header line; a bound against a hang)
(
	for _ in 1 2 3; do
		trace_start "$WORK/storm/trace.out" --wait 120 >>"$WORK/storm/trace.err"
		for _ in $(seq 500); do
			[ "$(wc -l <"$WORK/storm/trace.out")" -ge 2 ] && break
			sleep 0.02
		done
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
