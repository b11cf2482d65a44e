# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Configuration files: --save, --config, --dry-run, FILE:LINE errors, --add/--remove, --wait,
# and applying files under load without a failed connection.
. "$(dirname "$0")/lib.sh"

serve --label=A 127.0.0.1:9000
A_PID=$LAST_PID
serve --label=B 127.0.0.1:9001
serve --udp --label=U 127.0.0.1:5353

save() { "$SKSTEER" --save; }
steering() { echo "$(dial 127.0.0.1:80) $(dial 127.0.0.1:443) $(dial 127.0.0.1:5000) $(dial 127.0.0.1:8150)"; }
# --list --json without what a fresh attach or traffic changes: counters, the program's id
listing() {
	"$SKSTEER" --list --json | perl -MJSON::PP -e '
		my $j = decode_json(join "", <STDIN>);
		delete $j->{$_} for qw(lookups events_lost last_apply);
		delete $j->{program}{id};
		delete $_->{lookups} for @{$j->{targets}};
		$j->{targets} = [sort { $a->{target} cmp $b->{target} } @{$j->{targets}}];
		print JSON::PP->new->canonical->encode($j)'
}

# --- round trip: steered by hand, saved, detached, applied, saved again -----------------------
ok "steer A by hand" "$SKSTEER" -p 80,443,8000-8099 -s 127.0.0.1:9000 --fail-closed
ok "steer B by hand" "$SKSTEER" -p 5000-6000 -s 127.0.0.1:9001
ok "steer U by hand" "$SKSTEER" -p 53 -s udp:127.0.0.1:5353
save >"$WORK/saved.conf"
is "--save prints one sorted line per target" \
	"# sksteer.conf(5): PROTOCOL ADDRESS PORTS [OPTIONS], one target per line
tcp 127.0.0.1:9000 80,443,8000-8099 fail-closed
tcp 127.0.0.1:9001 5000-6000
udp 127.0.0.1:5353 53" "$(cat "$WORK/saved.conf")"
is "saving twice gives identical bytes" "$(cat "$WORK/saved.conf")" "$(save)"
listed=$(listing)
ok "--detach" "$SKSTEER" --detach
ok "--config the saved file" "$SKSTEER" --config "$WORK/saved.conf"
is "--save after --config reproduces the file" "$(cat "$WORK/saved.conf")" "$(save)"
is "--list --json is identical apart from counters and the program's id" "$listed" "$(listing)"
is "and the steering works" "A:80 A:443 B:5000 refused" "$(steering)"
is "UDP too" U:53 "$(dial --udp 127.0.0.1:53)"

# --- idempotence ------------------------------------------------------------------------------
# the steering's state: --list --json without the record of the runs that applied it
steering_json() { "$SKSTEER" --list --json | sed 's/"last_apply":{[^}]*},//'; }
before=$(steering_json)
applied=$("$SKSTEER" --list --json | grep -o '"applied":[0-9]*' | cut -d: -f2)
ok "applying the same file again" "$SKSTEER" --config "$WORK/saved.conf"
is "changes nothing: --list --json identical, counters and program included" "$before" \
	"$(steering_json)"
is "... but the apply is recorded: the last took, one more" \
	"true $((applied + 1))" \
	"$("$SKSTEER" --list --json | grep -o '"ok":[a-z]*,"last_ok_time":[0-9.]*,"applied":[0-9]*' | sed 's/"ok":\([a-z]*\),.*"applied":/\1 /')"
out=$("$SKSTEER" --config "$WORK/saved.conf" --dry-run)
is "--dry-run of the live file: exit 0 (in sync)" 0 $?
is "and prints nothing" "" "$out"

# --- dry run of another file ------------------------------------------------------------------
cat >"$WORK/other.conf" <<'EOF'
# the web proxy gets 8100-8199 and gives 443 to B; B drops 5001-6000; U goes
tcp 127.0.0.1:9000   80,8000-8199      # fail-open now
tcp 127.0.0.1:9001   443,5000 fail-closed
EOF
out=$("$SKSTEER" --config "$WORK/other.conf" --dry-run)
is "--dry-run of another file: exit 2 (would change)" 2 $?
is "one line per change" "+ tcp 127.0.0.1:9000 8100-8199
~ tcp 127.0.0.1:9000 fail-open (was fail-closed)
~ tcp 127.0.0.1:9001 443 (from 127.0.0.1:9000)
- tcp 127.0.0.1:9001 5001-6000
~ tcp 127.0.0.1:9001 fail-closed (was fail-open)
- udp 127.0.0.1:5353 53 (target removed)" "$(changes <<<"$out")"
like "then the kernel updates the apply would make, in -v's words" \
	"^kernel updates [0-9]+: port table bytes [0-9]+, bindings table stores 0 \
\(whole tables switched 0\), other map entries [0-9]+\$" \
	"$(tail -n1 <<<"$out")"
is "the dry run changed nothing" "$(cat "$WORK/saved.conf")" "$(save)"
is "nothing, by connecting" "A:80 A:443 B:5000 refused U:53" "$(steering) $(dial --udp 127.0.0.1:53)"
ok "apply it" "$SKSTEER" --config "$WORK/other.conf"
is "now the steering is what it says" "A:80 B:443 B:5000 A:8150 refused refused" \
	"$(steering) $(dial 127.0.0.1:5001) $(dial --udp 127.0.0.1:53)"
ok "and it is in sync" "$SKSTEER" --config "$WORK/other.conf" --dry-run
is "--config - reads standard input" "0 $(cat "$WORK/saved.conf")" \
	"$("$SKSTEER" --config - <"$WORK/saved.conf"; echo $?) $(save)"

# --- dry run of ordinary runs -----------------------------------------------------------------
out=$("$SKSTEER" -p 80,5000 -s 127.0.0.1:9001 --force --dry-run)
is "-p -s --force --dry-run: exit 2" 2 $?
is "shows the move and what B lets go" "~ tcp 127.0.0.1:9001 80 (from 127.0.0.1:9000)
- tcp 127.0.0.1:9001 5001-6000" "$(changes <<<"$out")"
like "and the kernel updates the run would make: a byte a port moved, 1000 let go" \
	"^kernel updates [0-9]+: port table bytes 1001, " "$(tail -n1 <<<"$out")"
run_sksteer -p 80,5000 -s 127.0.0.1:9001 --dry-run
is "without --force, --dry-run refuses as the run would" 1 "$RC"
like "naming the owner" "ports 80 belong to target 127.0.0.1:9000" "$STDERR"
out=$("$SKSTEER" -p 80,443,8000-8099 -s 127.0.0.1:9000 --fail-closed --dry-run)
is "a run that changes nothing: exit 0" 0 $?
is "and prints nothing" "" "$out"
is "none of it changed anything" "$(cat "$WORK/saved.conf")" "$(save)"

# --- incremental edits ------------------------------------------------------------------------
out=$("$SKSTEER" -s 127.0.0.1:9000 --add 8100-8199 --remove 443 --dry-run)
is "--add/--remove --dry-run" "+ tcp 127.0.0.1:9000 8100-8199
- tcp 127.0.0.1:9000 443" "$(changes <<<"$out")"
ok "--add 8100-8199 --remove 443" "$SKSTEER" -s 127.0.0.1:9000 --add 8100-8199 --remove 443
is "the other ports stay" "tcp 127.0.0.1:9000 80,8000-8199 fail-closed" "$(save | grep 9000)"
is "added ports steer, removed ones do not" "A:8150 refused A:80" \
	"$(dial 127.0.0.1:8150) $(dial 127.0.0.1:443) $(dial 127.0.0.1:80)"
run_sksteer -s 127.0.0.1:9000 --remove 443
like "removing a port the target lacks is refused" \
	"^sksteer: port 443 is not steered to 127.0.0.1:9000: nothing to remove there" "$STDERR"
run_sksteer -s 127.0.0.1:9001 --remove 5000-6000
like "removing every port is refused, pointing at --detach" \
	"leaves 127.0.0.1:9001 without ports: .*--detach -s 127.0.0.1:9001" "$STDERR"
run_sksteer -s 127.0.0.1:9001 --add 80
like "--add of another target's port: refused without --force" "ports 80 belong to target 127.0.0.1:9000" "$STDERR"
run_sksteer -s 127.0.0.1:9001 -p 80 --add 81
is "-p with --add: usage error" 64 "$RC"
ok "--remove 8100-8199 puts it back" "$SKSTEER" -s 127.0.0.1:9000 --remove 8100-8199 --add 443
is "as saved" "$(cat "$WORK/saved.conf")" "$(save)"

# --- bad files: FILE:LINE, one line, exit 1, nothing changed ----------------------------------
bad() { # bad DESCRIPTION STDERR-REGEX FILE-CONTENT
	printf '%s\n' "$3" >"$WORK/bad.conf"
	STDERR=$("$SKSTEER" --config "$WORK/bad.conf" 2>&1 >/dev/null)
	RC=$?
	local state lines
	state="$(steering) $(save | md5sum)"
	lines=$(printf '%s\n' "$STDERR" | wc -l)
	[ "$RC" = 1 ] && [[ $STDERR =~ $2 ]] && [ "$lines" = 1 ] && [ "$state" = "$good" ]
	result "$1" $? "exit $RC, steering now: $state" "stderr: $STDERR"
}
good="$(steering) $(save | md5sum)"
F="sksteer: $WORK/bad.conf"
OK1="tcp 127.0.0.1:9000 80"
bad "an unknown keyword" "^$F:2: unknown keyword 'sctp': a line is 'tcp\|udp ADDRESS PORTS" \
	"$OK1
sctp 127.0.0.1:9001 5000"
bad "a bad port list" "^$F:3: bad port list item '70000': ports go up to 65535" \
	"# comment

$OK1,70000"
bad "a bad address" "^$F:1: bad target address '127.0.0.256:9000': not a valid IPv4 address" \
	"tcp 127.0.0.256:9000 80"
bad "a protocol prefix on the address" "^$F:1: 'udp:127.0.0.1:5353': the protocol is the line's first word" \
	"udp udp:127.0.0.1:5353 53"
bad "a target without ports" "^$F:1: tcp 127.0.0.1:9000 has no ports" "tcp 127.0.0.1:9000"
bad "ports split by a space" "^$F:1: unknown option '443' \(the ports are one list without spaces" \
	"tcp 127.0.0.1:9000 80 443"
bad "an unknown option" "^$F:1: unknown option 'fail-close' \(known: dst=PREFIX, fail-closed, fail-open, force, follow, follow=group, follow-cgroup=PATH\)" \
	"tcp 127.0.0.1:9000 80 fail-close"
bad "a port claimed twice" "^$F:2: tcp ports 443,5000 already belong to 127.0.0.1:9000 on line 1: a port goes to one target of each family" \
	"tcp 127.0.0.1:9000 80,443,5000
tcp 127.0.0.1:9001 443,5000-5001"
bad "a target given twice" "^$F:2: target 127.0.0.1:9000 is already on line 1" \
	"$OK1
tcp 127.0.0.1:9000 81"
bad "a target with nothing listening" \
	"^$F:2: nothing listens at 127.0.0.1:9999 in this network namespace: start the server first" \
	"$OK1
tcp 127.0.0.1:9999 7000"
printf 'tcp 127.0.0.1:9000 80\n\0\n' >"$WORK/nul.conf"
run_sksteer --config "$WORK/nul.conf"
is "a NUL byte: FILE:LINE" "1 sksteer: $WORK/nul.conf:2: a NUL byte: this is not a text file" "$RC $STDERR"
serve --label=sshd 127.0.0.1:22
bad "a port another socket listens on (the hijack guard)" \
	"^$F:1: refusing to steer port 22: 127.0.0.1:22 \(netpeer, pid [0-9]+\) already uses it.*--force" \
	"tcp 127.0.0.1:9000 22,80"
run_sksteer --config /nonexistent.conf
is "a missing file: exit 1" 1 "$RC"
is "one line" "sksteer: cannot read the configuration /nonexistent.conf: No such file or directory" "$STDERR"
run_sksteer --config "$WORK/saved.conf" -p 80
like "--config with -p: usage error" "--config states the whole steering" "$STDERR"
is "the usage error exits 64" 64 "$RC"
printf 'tcp 127.0.0.1:9000 22,80,443,8000-8099 force\n' >"$WORK/force.conf"
ok "'force' on the line steers it anyway" "$SKSTEER" --config "$WORK/force.conf"
is "port 22 reaches the target" A:22 "$(dial 127.0.0.1:22)"
is "--save does not write 'force': it is how a line is applied, not state" \
	"tcp 127.0.0.1:9000 22,80,443,8000-8099" "$(save | grep -v '^#')"
ok "back to the saved file" "$SKSTEER" --config "$WORK/saved.conf"

# --- the target's server restarts: applying the file again takes its new socket ---------------
kill "$A_PID"
wait "$A_PID" 2>/dev/null
serve --label=A2 127.0.0.1:9000
A_PID=$LAST_PID
out=$("$SKSTEER" --config "$WORK/saved.conf" --dry-run)
is "--dry-run after a restart: the socket" "~ tcp 127.0.0.1:9000 new socket (its socket is gone)" \
	"$(changes <<<"$out")"
ok "apply the file again" "$SKSTEER" --config "$WORK/saved.conf"
is "the new server gets the ports" "A2:80 A2:443" "$(dial 127.0.0.1:80) $(dial 127.0.0.1:443)"
ok "in sync afterwards" "$SKSTEER" --config "$WORK/saved.conf" --dry-run
# A server that re-binds on reload: a new SO_REUSEPORT socket next to the old, still open one.
serve --reuseport --label=old 127.0.0.1:9003
OLD_PID=$LAST_PID
printf 'tcp 127.0.0.1:9003 7300\n' >"$WORK/reuse.conf"
ok "steer 7300 to a server on SO_REUSEPORT" "$SKSTEER" --config "$WORK/reuse.conf"
serve --reuseport --label=new 127.0.0.1:9003
ok "while its socket lives, the target keeps it: in sync" \
	"$SKSTEER" --config "$WORK/reuse.conf" --dry-run
is "--new-sockets --dry-run: the other socket" \
	"~ tcp 127.0.0.1:9003 new socket (another one listens there)" \
	"$("$SKSTEER" --config "$WORK/reuse.conf" --new-sockets --dry-run | changes)"
ok "--new-sockets takes it" "$SKSTEER" --config "$WORK/reuse.conf" --new-sockets
kill "$OLD_PID"
wait "$OLD_PID" 2>/dev/null
is "after the old server exits, the new one gets the port" new:7300 "$(dial 127.0.0.1:7300)"
ok "back to the saved file" "$SKSTEER" --config "$WORK/saved.conf"

# --- --wait: a server that binds late --------------------------------------------------------
printf 'tcp 127.0.0.1:9000 80\ntcp 127.0.0.1:9002 7000\n' >"$WORK/late.conf"
"$SKSTEER" --config "$WORK/late.conf" --wait 1 >/dev/null 2>"$WORK/late.err" &
late=$!
ok "--wait 1 with nothing listening: the run waits (seen between two looks)" waits "$late"
reap "$late"
like "then gives up by itself: FILE:LINE" \
	"^sksteer: $WORK/late.conf:2: nothing listens at 127.0.0.1:9002" "$(cat "$WORK/late.err")"
is "(exit 1)" 1 "$RC"
is "nothing changed" "$(cat "$WORK/saved.conf")" "$(save)"
# a server that binds once the run waits for it
"$SKSTEER" --config "$WORK/late.conf" --wait 30 >/dev/null 2>"$WORK/late.err" &
late=$!
ok "--wait 30: the run waits" waits "$late"
serve --label=C 127.0.0.1:9002
reap "$late"
is "the server binds meanwhile, and the run steers it" "0 " "$RC $(cat "$WORK/late.err")"
is "the late server gets its port" C:7000 "$(dial 127.0.0.1:7000)"
ok "back to the saved file" "$SKSTEER" --config "$WORK/saved.conf"

# --- two files applied alternately, under load -----------------------------------------------
# 80 stays with A in both; 443 moves between A and B; other ports come and go. (A's server is A2
# since the restart above.)
cat >"$WORK/one.conf" <<'EOF'
tcp 127.0.0.1:9000 80,443,8000-8099 fail-closed
tcp 127.0.0.1:9001 5000-6000
udp 127.0.0.1:5353 53
EOF
cat >"$WORK/two.conf" <<'EOF'
tcp 127.0.0.1:9000 80,8000-8199
tcp 127.0.0.1:9001 443,5000,7000-7999
EOF
loop_start --name=443 --expect=A2:443 --expect=B:443 127.0.0.1:443
loop_start --expect=A2:80 127.0.0.1:80
fails=0
for i in $(seq 20); do
	"$SKSTEER" --config "$WORK/two.conf" || fails=$((fails + 1))
	"$SKSTEER" --config "$WORK/one.conf" || fails=$((fails + 1))
done
is "40 applications, none failed" 0 "$fails"
loop_check "a client hammering port 80 (kept by both) saw no failure, and A2 alone"
result=$LOOP_RESULT
loop_check --name=443 \
	"a client hammering port 443 (moving between A2 and B) saw no failure, nobody else"
# the counts alone: the lines before them (the first failure, the first wrong answer) are not TAP
echo "# port 80: $(tail -1 <<<"$result"); port 443: $(tail -1 <<<"$LOOP_RESULT")"
ok "in sync with the last file" "$SKSTEER" --config "$WORK/one.conf" --dry-run

# --- an empty file: nothing steered -----------------------------------------------------------
out=$("$SKSTEER" --config /dev/null --dry-run)
is "--dry-run of an empty file lists every target as removed" \
	"- tcp 127.0.0.1:9000 80,443,8000-8099 (target removed)
- tcp 127.0.0.1:9001 5000-6000 (target removed)
- udp 127.0.0.1:5353 53 (target removed)" "$(changes <<<"$out")"
ok "applying it" "$SKSTEER" --config /dev/null
ok "detaches: no pins left" pins_gone
is "--save of nothing: the comment alone" \
	"# sksteer.conf(5): PROTOCOL ADDRESS PORTS [OPTIONS], one target per line" "$(save)"
ok "an empty file applied to nothing makes no pins" "$SKSTEER" --config /dev/null
ok "none" pins_gone
out=$("$SKSTEER" --config "$WORK/saved.conf" --dry-run)
is "--dry-run with nothing steered: exit 2" 2 $?
like "every target is new" "^\+ tcp 127.0.0.1:9000 80,443,8000-8099 fail-closed \(new target\)" "$out"
ok "and no pins were made for it" pins_gone

done_testing
