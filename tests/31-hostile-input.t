# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# No input may hang a run that holds the lock (issue 24): a FIFO, a socket, a terminal or a
# device as --config or --netns, standard input that never ends, and SIGTERM or SIGINT wherever a
# run waits. Every run is under timeout, so that a regression fails here instead of hanging: one
# line on stderr, a non-zero exit, at once; the lock free afterwards, the steering as it was.
. "$(dirname "$0")/lib.sh"

serve --label=A 127.0.0.1:9000
A=127.0.0.1:9000
ok "steer 80,443 to A" "$SKSTEER" -p 80,443 -s $A
"$SKSTEER" --save >"$WORK/saved.conf"
# the steering by connecting, and as saved by a reader that does not wait for the lock
steering() {
	echo "$(dial 127.0.0.1:80) $(dial 127.0.0.1:443) $(dial 127.0.0.1:81)" \
		"$("$SKSTEER" --wait 0 --save 2>&1 | md5sum | cut -c1-8)"
}
before=$(steering)
is "(steering)" "A:80 A:443 refused $(md5sum <"$WORK/saved.conf" | cut -c1-8)" "$before"
elapsed_ms() { echo $(($(date +%s%3N) - $1)); }

# refused DESCRIPTION STDERR-REGEX MAX-MS ARGS...: sksteer ARGS (under timeout, by the command
# RUN_AS) exits non-zero within MAX-MS with one line matching STDERR-REGEX; the steering is as it
# was, and a reader gets the lock at once
RUN_AS=()
refused() {
	local desc=$1 want=$2 max=$3 start lines state
	shift 3
	start=$(date +%s%3N)
	STDERR=$("${RUN_AS[@]}" timeout --foreground -s KILL 30 "$SKSTEER" "$@" 2>&1 >/dev/null)
	RC=$?
	MS=$(elapsed_ms "$start")
	lines=$(printf '%s\n' "$STDERR" | wc -l)
	state=$(steering)
	[ "$RC" != 0 ] && [ "$RC" != 137 ] && [[ $STDERR =~ $want ]] && [ "$lines" = 1 ] &&
		[ "$MS" -lt "$max" ] && [ "$state" = "$before" ]
	result "$desc" $? "sksteer $*: exit $RC after $MS ms, steering now: $state" \
		"stderr: $STDERR"
}

# files of every kind that is not a configuration or a namespace
mkfifo "$WORK/fifo"
perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Local => shift, Listen => 1) or die "$!"' \
	"$WORK/sock"
mkdir "$WORK/dir"
touch "$WORK/file"

# --- --config FILE: a regular file only, looked at before it is opened, before the lock -------
NOT_FILE="not a file: give a configuration file \(sksteer.conf\(5\)\), or pipe it into --config -\$"
refused "--config of a FIFO without a writer: one line at once" \
	"^sksteer: the configuration $WORK/fifo is a FIFO, $NOT_FILE" 2000 --config "$WORK/fifo"
refused "(with --dry-run too)" \
	"^sksteer: the configuration $WORK/fifo is a FIFO, $NOT_FILE" 2000 \
	--config "$WORK/fifo" --dry-run
refused "--config of a socket" "^sksteer: the configuration $WORK/sock is a socket, $NOT_FILE" \
	2000 --config "$WORK/sock"
refused "--config of a device" "^sksteer: the configuration /dev/zero is a character device, " \
	2000 --config /dev/zero
refused "--config of a directory" "^sksteer: the configuration $WORK/dir is a directory, " \
	2000 --config "$WORK/dir"
out=$(timeout 30 "$SKSTEER" --config /dev/null --dry-run)
is "--config /dev/null is still the empty configuration (--dry-run: exit 2, all removed)" \
	"2 - tcp 127.0.0.1:9000 80,443 (target removed)" "$? $out"

# --- --config -: a pipe that ends within 10 s (or --wait), or a regular file ------------------
# two pipes whose writers never close them, one of them after a line (process substitutions:
# the test holds their reading ends as fds 5 and 6, a writer each)
exec 5< <(exec sleep 1000)
PIDS+=($!)
exec 6< <(printf 'tcp %s 80\n' $A && exec sleep 1000)
PIDS+=($!)
start=$(date +%s%3N)
timeout -s KILL 30 "$SKSTEER" --config - <&5 >/dev/null 2>"$WORK/stalled.err" &
STALLED=$!
sleep 0.5
ok "while a run waits for standard input, the lock is free: --list gets it at once" \
	"$SKSTEER" --wait 0 --list
ok "and a run that changes steering" "$SKSTEER" --wait 0 -p 80,443,81 -s $A
ok "(back as it was)" "$SKSTEER" --wait 0 -p 80,443 -s $A
timeout -s KILL 30 "$SKSTEER" --config - --dry-run --wait 2 <&6 >/dev/null 2>"$WORK/half.err" &
HALF=$!
wait "$STALLED"
RC=$?
ms=$(elapsed_ms "$start")
STDIN_END="^sksteer: standard input did not end within 10 s: close it once the configuration is \
written, or give --wait SECONDS to wait longer\$"
like "a pipe whose writer never writes nor closes: one line" "$STDIN_END" \
	"$(cat "$WORK/stalled.err")"
result "(exit 1 after 10 s: $ms ms)" "$([ $RC = 1 ] && [ "$ms" -ge 9500 ] && [ "$ms" -lt 15000 ]
	echo $?)"
wait "$HALF"
is "a pipe with a line, then no end: exit 1; --wait 2 does not shorten the 10 s" 1 "$?"
like "(the same line)" "$STDIN_END" "$(cat "$WORK/half.err")"
is "the steering is as it was" "$before" "$(steering)"
exec 6<&-

out=$(timeout 30 "$SKSTEER" --config - --dry-run <"$WORK/saved.conf")
is "standard input from a regular file still works (in sync: exit 0, nothing printed)" "0 " \
	"$? $out"
# shellcheck disable=SC2002 # a pipe, not the file
out=$(cat "$WORK/saved.conf" | timeout 30 "$SKSTEER" --config - --dry-run)
is "and from a pipe that ends" "0 " "$? $out"
# a terminal (script(1) makes one, fed by the pipe that never ends: a human who types nothing)
RUN_AS=(bash -c 'script -qec "$(printf "%q " "$@") 2>&3" /dev/null 3>&2 <&5 >/dev/null' bash)
STDIN_NOT="pipe the configuration in \(--config - <FILE\), or give --config FILE\$"
refused "standard input a terminal: refused" \
	"^sksteer: --config - reads standard input, and it is a terminal: $STDIN_NOT" 5000 --config -
# a socket whose peer never closes it
RUN_AS=(perl -MSocket -e 'socketpair(my $a, my $b, AF_UNIX, SOCK_STREAM, 0) or die "$!";
	open(STDIN, "<&", $a) or die "$!"; exec @ARGV')
refused "standard input a socket: refused" \
	"^sksteer: --config - reads standard input, and it is a socket: $STDIN_NOT" 2000 --config -
RUN_AS=(sh -c 'exec "$@" <&-' sh)
refused "standard input closed: refused" \
	"^sksteer: --config - reads standard input, and it is not open: " 2000 --config -
RUN_AS=()

# --- --netns PATH: a network namespace only, looked at before it is opened -------------------
NS_FIX="give /run/netns/NAME, /proc/PID/ns/net or a bind mount of one\$"
for f in "$WORK/fifo" "$WORK/sock" "$WORK/dir" "$WORK/file" /dev/zero; do
	kind=$(stat -c %F "$f")
	refused "--netns of a $kind, --list: one line at once" \
		"^sksteer: --netns $f is not a network namespace: $NS_FIX" 2000 --netns "$f" --list
	refused "(a run that changes steering)" \
		"^sksteer: --netns $f is not a network namespace: $NS_FIX" 2000 --netns "$f" \
		-p 82 -s $A
done
ok "--netns of this namespace still works" "$SKSTEER" --netns /proc/self/ns/net --list

# --- SIGTERM and SIGINT: wherever a run waits, it ends at once, changing nothing -------------
ended() { [ ! -e "/proc/$1" ] || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
# waiting PID: the process sits in a call that waits (flock, a sleep, poll, select, read), as a
# run does once it waits for the lock, its input or a server: not still starting up (an emulated
# CPU takes seconds to get there)
waiting() {
	local call
	for _ in $(seq 3000); do
		read -r call _ <"/proc/$1/syscall" 2>/dev/null || return 1
		case $call in 0 | 7 | 23 | 35 | 73 | 230 | 270 | 271) return 0 ;; esac
		sleep 0.01
	done
	return 1
}
# signalled DESCRIPTION SIGNAL STDERR-REGEX ARGS...: sksteer ARGS (exec'd by the command RUN_AS),
# sent SIGNAL once it waits, ends by itself (within 30 s, or it is killed): exit 1, one line, the
# steering as it was
signalled() {
	local desc=$1 sig=$2 want=$3 pid start ms lines state
	shift 3
	"${RUN_AS[@]}" "$SKSTEER" "$@" <&0 >/dev/null 2>"$WORK/signalled.err" &
	pid=$!
	waiting "$pid"
	sleep 0.2 # and has waited a while: a signal at once would test start-up, not the wait
	start=$(date +%s%3N)
	kill -"$sig" "$pid"
	for _ in $(seq 3000); do
		ended "$pid" && break
		sleep 0.01
	done
	ms=$(elapsed_ms "$start")
	kill -KILL "$pid" 2>/dev/null # a regression: it did not end
	wait "$pid"
	RC=$?
	STDERR=$(cat "$WORK/signalled.err")
	lines=$(printf '%s\n' "$STDERR" | wc -l)
	state=$(steering)
	[ "$RC" = 1 ] && [[ $STDERR =~ $want ]] && [ "$lines" = 1 ] && [ "$state" = "$before" ]
	result "$desc" $? "sksteer $*: SIG$sig, exit $RC after $ms ms, steering now: $state" \
		"stderr: $STDERR"
}
# a shared holder keeps every run that changes steering waiting, and lets steering()'s reader in
hold -s
LOCK="while waiting for another run's lock on $PIN_DIR: nothing changed\$"
signalled "SIGTERM to a run waiting for the lock" TERM "^sksteer: interrupted by SIGTERM $LOCK" \
	--wait 60 -p 80,81 -s $A
signalled "SIGINT to --config waiting for the lock" INT "^sksteer: interrupted by SIGINT $LOCK" \
	--wait 60 --config "$WORK/saved.conf"
signalled "SIGTERM to --trace waiting for the lock" TERM "^sksteer: interrupted by SIGTERM $LOCK" \
	--wait 60 --trace
# the signal mask outlives exec: a caller that blocks SIGTERM (a supervisor's thread) passes it on
RUN_AS=(perl -MPOSIX -e 'sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGTERM, SIGINT)) or die "$!";
	exec @ARGV')
signalled "SIGTERM to a run whose caller blocked SIGTERM" TERM \
	"^sksteer: interrupted by SIGTERM $LOCK" --wait 60 -p 80,81 -s $A
RUN_AS=()
let_go
signalled "SIGTERM to a run reading standard input" TERM \
	"^sksteer: interrupted by SIGTERM while reading the configuration: nothing changed\$" \
	--config - <&5
printf 'tcp %s 80\ntcp 127.0.0.1:9002 7000\n' $A >"$WORK/late.conf"
signalled "SIGTERM to --config --wait, waiting for a server that binds late" TERM \
	"^sksteer: interrupted by SIGTERM while waiting for the targets to listen: nothing changed\$" \
	--config "$WORK/late.conf" --wait 60
signalled "SIGINT too" INT \
	"^sksteer: interrupted by SIGINT while waiting for the targets to listen: nothing changed\$" \
	--config "$WORK/late.conf" --wait 60
exec 5<&-

# --trace (tests/40-trace.t: SIGINT and SIGTERM put the plain program back): a tracer stopped
# while another run holds the lock waits for it, then puts the plain program back; a second
# signal ends that wait too, and the next run puts the plain program back
plain=$(link_prog)
ok "a tracer starts" trace_start "$WORK/trace"
hold
kill -TERM "$TRACER"
waiting "$TRACER" # for the lock: the stream waits in epoll, which waiting() does not count
ok "SIGTERM while another run holds the lock: the tracer waits for it" tracing
let_go
wait "$TRACER"
is "then exits 0, and puts the plain program back" "0 $plain" "$? $(link_prog)"
ok "a tracer starts again" trace_start "$WORK/trace2"
hold
kill -TERM "$TRACER"
waiting "$TRACER"
kill -INT "$TRACER"
wait "$TRACER"
is "a second signal ends its wait for the lock: exit 1" "1" "$?"
like "one line: the next run puts the plain program back" "^sksteer: interrupted by SIGINT while \
waiting for the lock to put the plain program back: the next run that changes steering does so\$" \
	"$(cat "$WORK/trace2.err")"
let_go
ok "the next run" "$SKSTEER" -p 80,443 -s $A
is "puts the plain program back" sksteer "$(prog_name "$(link_prog)")"
is "and the steering is as it was" "$before" "$(steering)"

done_testing
