# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# No input may hang a run that holds the lock (issue 24): a FIFO, a socket, a terminal or a
# device as --config or --netns, standard input that never ends, and SIGTERM or SIGINT wherever a
# run waits. Every run is under timeout, so that a regression fails here instead of hanging: one
# line on stderr, a non-zero exit; the lock free afterwards, the steering as it was.
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

# refused DESCRIPTION STDERR-REGEX ARGS...: sksteer ARGS (under timeout, by the command RUN_AS)
# exits non-zero with one line matching STDERR-REGEX, which names the kind of file: it looked
# before it opened, so nothing could block it. The steering is as it was, and a reader that
# tries the lock once (steering()'s --wait 0) gets it.
RUN_AS=()
refused() {
	local desc=$1 want=$2 lines state
	shift 2
	STDERR=$("${RUN_AS[@]}" timeout --foreground -s KILL 30 "$SKSTEER" "$@" 2>&1 >/dev/null)
	RC=$?
	lines=$(printf '%s\n' "$STDERR" | wc -l)
	state=$(steering)
	[ "$RC" != 0 ] && [ "$RC" != 137 ] && [[ $STDERR =~ $want ]] && [ "$lines" = 1 ] &&
		[ "$state" = "$before" ]
	result "$desc" $? "sksteer $*: exit $RC, steering now: $state" "stderr: $STDERR"
}

# files of every kind that is not a configuration or a namespace
mkfifo "$WORK/fifo"
perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Local => shift, Listen => 1) or die "$!"' \
	"$WORK/sock"
mkdir "$WORK/dir"
touch "$WORK/file"

# --- --config FILE: a regular file only, looked at before it is opened, before the lock -------
NOT_FILE="not a file: give a configuration file \(sksteer.conf\(5\)\), or pipe it into --config -\$"
refused "--config of a FIFO without a writer: one line" \
	"^sksteer: the configuration $WORK/fifo is a FIFO, $NOT_FILE" --config "$WORK/fifo"
refused "(with --dry-run too)" \
	"^sksteer: the configuration $WORK/fifo is a FIFO, $NOT_FILE" --config "$WORK/fifo" --dry-run
refused "--config of a socket" "^sksteer: the configuration $WORK/sock is a socket, $NOT_FILE" \
	--config "$WORK/sock"
refused "--config of a device" "^sksteer: the configuration /dev/zero is a character device, " \
	--config /dev/zero
refused "--config of a directory" "^sksteer: the configuration $WORK/dir is a directory, " \
	--config "$WORK/dir"
# a million bindings a family fit in 256 MiB; past it, one line, the file refused before it is read
truncate -s 257M "$WORK/huge.conf"
refused "--config of a file over 256 MiB: refused unread" \
	"^sksteer: the configuration $WORK/huge.conf is larger than 256 MiB \(269484032 bytes\): not a sksteer configuration\$" \
	--config "$WORK/huge.conf"
rm -f "$WORK/huge.conf"
if [ -z "${SKSTEER_VMTEST:-}" ]; then # the guest's memory is small
	STDERR=$(head -c 300M /dev/zero | timeout 60 "$SKSTEER" --config - 2>&1 >/dev/null)
	is "a pipe of more than 256 MiB: read to the limit, then one line" \
		"sksteer: standard input is larger than 256 MiB: not a sksteer configuration 1" \
		"$STDERR $?"
fi
out=$(timeout 30 "$SKSTEER" --config /dev/null --dry-run)
is "--config /dev/null is still the empty configuration (--dry-run: exit 2, all removed)" \
	"2 - tcp 127.0.0.1:9000 80,443 (target removed)" "$? $(changes <<<"$out")"

# --- --config -: a pipe that ends within 10 s (or --wait), or a regular file ------------------
# two pipes whose writers never close them, one of them after a line (process substitutions:
# the test holds their reading ends as fds 5 and 6, a writer each)
exec 5< <(exec sleep 1000)
PIDS+=($!)
exec 6< <(printf 'tcp %s 80\n' $A && exec sleep 1000)
PIDS+=($!)
"$SKSTEER" --config - <&5 >/dev/null 2>"$WORK/stalled.err" &
STALLED=$!
ok "a run waits for standard input" waits "$STALLED"
ok "while it does, the lock is free: --list gets it at once (one try, --wait 0)" \
	"$SKSTEER" --wait 0 --list
ok "and a run that changes steering" "$SKSTEER" --wait 0 -p 80,443,81 -s $A
ok "(back as it was)" "$SKSTEER" --wait 0 -p 80,443 -s $A
"$SKSTEER" --config - --dry-run --wait 2 <&6 >/dev/null 2>"$WORK/half.err" &
HALF=$!
reap "$STALLED"
STDIN_END="^sksteer: standard input did not end within 10 s: close it once the configuration is \
written, or give --wait SECONDS to wait longer\$"
like "a pipe whose writer never writes nor closes: one line, after the 10 s it names" \
	"$STDIN_END" "$(cat "$WORK/stalled.err")"
is "(exit 1, by itself)" 1 "$RC"
reap "$HALF"
is "a pipe with a line, then no end: exit 1" 1 "$RC"
like "(the same line: --wait 2 does not shorten the 10 s)" "$STDIN_END" "$(cat "$WORK/half.err")"
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
	"^sksteer: --config - reads standard input, and it is a terminal: $STDIN_NOT" --config -
# a socket whose peer never closes it
RUN_AS=(perl -MSocket -e 'socketpair(my $a, my $b, AF_UNIX, SOCK_STREAM, 0) or die "$!";
	open(STDIN, "<&", $a) or die "$!"; exec @ARGV')
refused "standard input a socket: refused" \
	"^sksteer: --config - reads standard input, and it is a socket: $STDIN_NOT" --config -
RUN_AS=(sh -c 'exec "$@" <&-' sh)
refused "standard input closed: refused" \
	"^sksteer: --config - reads standard input, and it is not open: " --config -
RUN_AS=()

# --- --netns PATH: a network namespace only, looked at before it is opened -------------------
NS_FIX="give /run/netns/NAME, /proc/PID/ns/net or a bind mount of one\$"
for f in "$WORK/fifo" "$WORK/sock" "$WORK/dir" "$WORK/file" /dev/zero; do
	kind=$(stat -c %F "$f")
	refused "--netns of a $kind, --list: one line" \
		"^sksteer: --netns $f is not a network namespace: $NS_FIX" --netns "$f" --list
	refused "(a run that changes steering)" \
		"^sksteer: --netns $f is not a network namespace: $NS_FIX" --netns "$f" -p 82 -s $A
done
ok "--netns of this namespace still works" "$SKSTEER" --netns /proc/self/ns/net --list

# --- SIGTERM and SIGINT: wherever a run waits, it ends at once, changing nothing -------------
# signalled DESCRIPTION SIGNAL STDERR-REGEX ARGS...: sksteer ARGS (exec'd by the command RUN_AS),
# sent SIGNAL once it waits (lib.sh's waits: in the wait itself, past its start-up), ends by
# itself (reap: within 30 s, or it is killed): exit 1, one line, the steering as it was
signalled() {
	local desc=$1 sig=$2 want=$3 pid lines state
	shift 3
	"${RUN_AS[@]}" "$SKSTEER" "$@" <&0 >/dev/null 2>"$WORK/signalled.err" &
	pid=$!
	waits "$pid"
	kill -"$sig" "$pid"
	reap "$pid"
	STDERR=$(cat "$WORK/signalled.err")
	lines=$(printf '%s\n' "$STDERR" | wc -l)
	state=$(steering)
	[ "$RC" = 1 ] && [[ $STDERR =~ $want ]] && [ "$lines" = 1 ] && [ "$state" = "$before" ]
	result "$desc" $? "sksteer $*: SIG$sig, exit $RC, steering now: $state" "stderr: $STDERR"
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
last_apply() { "$SKSTEER" --list --json | grep -o '"last_apply":{[^}]*}'; }
applied=$(last_apply)
signalled "SIGTERM to --config --wait, waiting for a server that binds late" TERM \
	"^sksteer: interrupted by SIGTERM while waiting for the targets to listen: nothing changed\$" \
	--config "$WORK/late.conf" --wait 60
signalled "SIGINT too" INT \
	"^sksteer: interrupted by SIGINT while waiting for the targets to listen: nothing changed\$" \
	--config "$WORK/late.conf" --wait 60
is "a stop (with the lock held) is no failed apply: the record is as it was" "$applied" \
	"$(last_apply)"
exec 5<&-

# --trace (tests/40-trace.t: SIGINT and SIGTERM put the plain program back): a tracer stopped
# while another run holds the lock waits for it, then puts the plain program back; a second
# signal ends that wait too, and the next run puts the plain program back
plain=$(link_prog)
ok "a tracer starts" trace_start "$WORK/trace"
hold
kill -TERM "$TRACER"
waits "$TRACER" # for the lock: the stream waits in epoll, which waits() does not count
ok "SIGTERM while another run holds the lock: the tracer waits for it" tracing
let_go
wait "$TRACER"
is "then exits 0, and puts the plain program back" "0 $plain" "$? $(link_prog)"
ok "a tracer starts again" trace_start "$WORK/trace2"
hold
kill -TERM "$TRACER"
waits "$TRACER"
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
