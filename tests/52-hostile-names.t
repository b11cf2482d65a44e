# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Names sksteer did not choose (a target owner's, a cgroup's, a path or an argument on the command
# line, argv[0]) with a newline, an ESC, a byte that is no UTF-8, a quote and a backslash: --list,
# --list --json, --metrics, --trace and every message stay one line per record, well-formed UTF-8,
# without a control character, and give the name back escaped.
. "$(dirname "$0")/lib.sh"

# clean [N]: stdin is lines of well-formed UTF-8 without a control character (C0, DEL, C1), N of
# them if given; prints "ok", or what is wrong
clean() {
	perl -MEncode -e '
		my ($want, $n, $bad) = (shift, 0, "");
		while (my $line = <STDIN>) {
			$n++;
			$bad .= "line $n has no end\n" unless $line =~ s/\n\z//;
			my $s = eval { decode("UTF-8", $line, Encode::FB_CROAK | Encode::LEAVE_SRC) };
			if (!defined $s) {
				$bad .= "line $n is not UTF-8\n";
			} elsif ($s =~ /[\x00-\x1f\x7f-\x9f]/) {
				$bad .= "line $n has a control character\n";
			}
		}
		$bad .= "$n lines, not $want\n" if length $want && $n != $want;
		print $bad || "ok\n";' "${1:-}"
}

# A server whose name (comm: the basename of the file it runs) is that, and how --list shows it.
NAME=$'n\xff\e"\\\nx'
SHOWN='n\xff\x1b"\\\x0ax'
cp "$NETPEER" "$WORK/$NAME"
start_ready "$WORK/$NAME" serve 127.0.0.1:9000
OWNER=$LAST_PID
is "(the server's name is those bytes)" "$(printf '%s\n' "$NAME" | od -An -tx1)" \
	"$(od -An -tx1 "/proc/$OWNER/comm")"
ok "steer 80 to it" "$SKSTEER" -p 80 -s 127.0.0.1:9000
dial 127.0.0.1:80 >/dev/null

"$SKSTEER" --list >"$WORK/list"
sed 's/^/# /' "$WORK/list" | cat -v
# target, ports, lookups; namespace, lookups, program, pins, tracer
is "--list: 8 lines, well-formed, no control character" ok "$(clean 8 <"$WORK/list")"
is "--list names the owner escaped" 1 "$(grep -cF "  pid $OWNER ($SHOWN)" "$WORK/list")"

"$SKSTEER" --list --json >"$WORK/json"
is "--list --json: one line, well-formed, no control character" ok "$(clean 1 <"$WORK/json")"
is "--list --json gives the name back, U+FFFD for its byte that is no UTF-8" ok \
	"$(perl -MJSON::PP -e '
		my $d = decode_json(join "", <STDIN>);
		my ($t) = grep { $_->{port} == 9000 } @{$d->{targets}};
		my $got = $t->{owner}{comm};
		print $got eq "n\x{fffd}\e\"\\\nx" ? "ok\n" : JSON::PP->new->ascii->encode([$got]);' \
		<"$WORK/json" 2>&1)"

"$SKSTEER" --metrics >"$WORK/metrics"
is "--metrics: well-formed, no control character" ok "$(clean <"$WORK/metrics")"
# label values: anything but a quote, a backslash or a newline, or one of these escaped
is "--metrics: every line is Prometheus text" "" "$(perl -ne '
	next if /^# (HELP|TYPE) sksteer_\w+ \S/;
	next if /^sksteer_\w+\{(\w+="([^"\\\n]|\\[\\"n])*",?)*\} \d+(\.\d+)?$/;
	print "bad line $.: $_"' "$WORK/metrics")"

# --trace prints no name of an owner, but stays one line per event with one around
trace_start "$WORK/trace"
for _ in 1 2 3; do dial 127.0.0.1:80 >/dev/null; done
trace_stop
is "--trace: a header and a line per lookup, well-formed" ok "$(clean 4 <"$WORK/trace")"
trace_start "$WORK/trace.json" --json
for _ in 1 2 3; do dial 127.0.0.1:80 >/dev/null; done
trace_stop
is "--trace --json: a line per lookup and one for lost events, well-formed" ok \
	"$(clean 4 <"$WORK/trace.json")"
is "(each of them JSON)" 4 "$(perl -MJSON::PP -ne 'eval { decode_json($_) } and print' \
	"$WORK/trace.json" | wc -l)"

# fails_with DESCRIPTION LINES WANT ARGS...: sksteer fails; its stderr is LINES well-formed lines
# (2: a usage error, and argp's "Try" line) without control characters, the first with WANT in it
fails_with() {
	local desc=$1 lines=$2 want=$3 rc
	shift 3
	"$SKSTEER" "$@" >/dev/null 2>"$WORK/stderr"
	rc=$?
	[ "$rc" -ne 0 ] && [ "$(clean "$lines" <"$WORK/stderr")" = ok ] &&
		head -1 "$WORK/stderr" | grep -qF -- "$want"
	result "$desc" $? "exit $rc, stderr:" "$(cat -v "$WORK/stderr")"
}
fails_with "-p with a newline: one line, the argument escaped" 1 \
	"sksteer: bad port list item '80\x0ax': not a port number" -p $'80\nx' -s 127.0.0.1:9000
fails_with "-p with a byte that is no UTF-8" 1 "sksteer: bad port list item '\xff': not a port" \
	-p $'\xff' -s 127.0.0.1:9000
fails_with "-s with an escape sequence" 1 "sksteer: bad target address '127.0.0.1:\x1b[31m'" \
	-p 80 -s $'127.0.0.1:\e[31m'
fails_with "--config of a path with a newline and a byte that is no UTF-8" 1 \
	"sksteer: cannot read the configuration /no\x0asuch\xff: No such file or directory" \
	--config $'/no\nsuch\xff'
fails_with "--netns of a path with a newline" 1 "sksteer: --netns /no\x0asuch: No such file" \
	--netns $'/no\nsuch' --list
fails_with "--wait with a newline" 1 "sksteer: --wait 1\x0a2: give whole seconds" \
	--wait $'1\n2' --list
fails_with "an unknown option with a newline: named escaped, then argp's Try line" 2 \
	"sksteer: unrecognized option '--fo\x0ao'" $'--fo\no'
is "(the Try line)" "Try \`sksteer --help' or \`sksteer --usage' for more information." \
	"$(tail -1 "$WORK/stderr")"
fails_with "an option letter that is no UTF-8" 2 "sksteer: invalid option -- '\xff'" $'-l\xff'
fails_with "a stray argument with a newline" 2 "sksteer: unexpected argument 'now\x0a'" \
	-p 80 -s 127.0.0.1:9000 $'now\n'
fails_with "--listen for a command with a newline in its path" 1 \
	"sksteer: cannot run /no\x0asuch: No such file or directory" \
	--listen 127.0.0.1:9100 -p 82 -- $'/no\nsuch'
(exec -a $'/tmp/sk\nsteer\xff' "$SKSTEER" --frobnicate >/dev/null 2>"$WORK/stderr")
is "argv[0] with a newline: messages say sksteer, one line and argp's Try line" \
	"ok sksteer: unrecognized option '--frobnicate'" \
	"$(clean 2 <"$WORK/stderr") $(head -1 "$WORK/stderr")"

# lower layers' messages that quote a process's name: another socket's owner, the lock's holder
start_ready "$WORK/$NAME" serve 127.0.0.1:82
fails_with "a port another socket uses: its owner named escaped" 1 \
	"127.0.0.1:82 ($SHOWN, pid $LAST_PID) already use" -p 80,82 -s 127.0.0.1:9000
kill "$LAST_PID"
mkdir "$WORK/flock"
cp "$(command -v flock)" "$WORK/flock/$NAME"
"$WORK/flock/$NAME" -o "$PIN_DIR" sleep 60 &
HOLDER=$!
PIDS+=("$HOLDER")
for _ in $(seq 100); do grep -q "FLOCK.* $HOLDER " /proc/locks && break; sleep 0.02; done
fails_with "the lock's holder named escaped" 1 "another run (pid $HOLDER, $SHOWN) holds the lock" \
	--wait 0 --list
kill $(cat "/proc/$HOLDER/task/$HOLDER/children") "$HOLDER" # its sleep too
wait "$HOLDER" 2>/dev/null

# --follow-cgroup: a cgroup's name may hold any byte but '/' and a newline, and a configuration
# file (--save) holds a word: such a name is refused, in one line, before anything changes.
CGROOT=$(findmnt -n -t cgroup2 -o TARGET | head -1)
CG=$'/sksteer-test-'$$$'-\e\xff"\\'
if [ -n "$CGROOT" ] && mkdir "$CGROOT$CG" 2>/dev/null; then
	at_exit 'rmdir "$CGROOT$CG"'
	fails_with "--follow-cgroup of a cgroup named with ESC, 0xff, a quote and a backslash" 1 \
		"sksteer: --follow-cgroup /sksteer-test-$$-\x1b\xff\"\\\\: the path holds white space, a control character or bytes that are no UTF-8, which a configuration file cannot hold: give the cgroup a plain name" \
		-p 80 -s 127.0.0.1:9000 --follow --follow-cgroup "$CG"
	is "(nothing changed: the target does not follow)" 0 \
		"$("$SKSTEER" --list | grep -c 'follow')"
else
	skip "no cgroup v2 hierarchy to make a cgroup in"
fi
fails_with "--follow-cgroup of a path with a newline" 1 \
	"sksteer: --follow-cgroup /no\x0asuch: the path holds white space" \
	-p 80 -s 127.0.0.1:9000 --follow --follow-cgroup $'/no\nsuch'
fails_with "--follow-cgroup of a path with a space" 1 \
	"sksteer: --follow-cgroup /no such: the path holds white space" \
	-p 80 -s 127.0.0.1:9000 --follow --follow-cgroup '/no such'

done_testing
