# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# --all-netns: --list, --list --json, --metrics and --check over every namespace with pins, each
# named by its /run/netns name, else a process in it, else its inode; one that is gone is stale.
# A bpffs of its own (in a private mount namespace): only this test's pins are seen.
PRIVATE_MOUNTS=1
. "$(dirname "$0")/lib.sh"

own_bpffs

# Nothing pinned yet
is "--list: no namespace has pins" "no network namespace has sksteer pins" \
	"$("$SKSTEER" --list --all-netns)"
is "--list --json: an empty array" "[]" "$("$SKSTEER" --list --json --all-netns)"
run_sksteer --check --all-netns
is "--check: nothing steered anywhere is a problem, in one line" \
	"1 sksteer: nothing is steered in any network namespace: steer with -p PORTS -s TARGET" \
	"$RC $STDERR"
is "--metrics: nothing but the count of namespaces it could not read" "sksteer_netns_unreadable 0" \
	"$("$SKSTEER" --metrics --all-netns | grep -v '^#')"

# Four namespaces: a named one, a process's, this test's own, and one that is gone.
netns_add
serve_in "$NS" 127.0.0.1:9000
WEB_PID=$LAST_PID
ok "steer in the named namespace" "$SKSTEER" --netns "/run/netns/$NS" -p 80,443 -s 127.0.0.1:9000
unshare -n bash -c "ip link set lo up; '$NETPEER' serve 127.0.0.1:9001 >/dev/null &
	echo \$! >'$WORK/box-server'; exec sleep 600" &
PIDS+=($!)
BOX=$!
for _ in $(seq 250); do
	nsenter --net=/proc/$BOX/ns/net ss -Htln 'sport = :9001' 2>/dev/null | grep -q . && break
	sleep 0.02
done
BOX_INO=$(netns_ino /proc/$BOX/ns/net)
at_exit "kill $(cat "$WORK/box-server")"
at_exit "$SKSTEER --netns /proc/$BOX/ns/net --detach"
ok "steer in a process's namespace" "$SKSTEER" --netns /proc/$BOX/ns/net -p 81 -s 127.0.0.1:9001
kill "$(cat "$WORK/box-server")"
serve 127.0.0.1:9002
ok "steer in this test's own" "$SKSTEER" -p 82 -s 127.0.0.1:9002 --dst 127.8.0.0/16
unshare -n bash -c "ip link set lo up; '$NETPEER' serve 127.0.0.1:9003 >/dev/null & sleep 0.3
	'$SKSTEER' -p 83 -s 127.0.0.1:9003; echo \$(stat -L -c %i /proc/self/ns/net); kill \$!" \
	>"$WORK/gone" 2>&1
GONE_INO=$(tail -n 1 "$WORK/gone")
# the kernel tears a namespace down in the background: its link detaches then
for _ in $(seq 250); do
	"$SKSTEER" --list --all-netns | grep -q "^netns inode $GONE_INO  stale" && break
	sleep 0.02
done

list=$("$SKSTEER" --list --all-netns)
is "--list names the namespaces with pins, in order of their inodes" \
	"$(printf '%s\n' "$NETNS_INO" "$BOX_INO" "$GONE_INO" "$(netns_ino "/run/netns/$NS")" | sort -n |
		while read -r ino; do
			case $ino in
			"$NETNS_INO") echo "netns pid" ;;
			"$BOX_INO") echo "netns pid $BOX (sleep)" ;;
			"$GONE_INO") echo "netns inode $GONE_INO" ;;
			*) echo "netns $NS" ;;
			esac
		done)" \
	"$(echo "$list" | grep '^netns ' | sed -E 's/^(netns pid) [0-9]+ \(bash\)$/\1/; s/  stale.*//')"
like "a named namespace by its /run/netns name, its target's owner found inside" \
	"netns $NS
target 127\.0\.0\.1:9000  tcp  listening  pid $WEB_PID \(netpeer\)
  ports    80,443 \(2\)" "$list"
like "a container's by the lowest pid in it and its command; its target's socket is gone" \
	"netns pid $BOX \(sleep\)
target 127\.0\.0\.1:9001  tcp  gone" "$list"
like "this one with its prefix" "target 127\.0\.0\.1:9002  tcp  listening  pid [0-9]+ \(netpeer\)
  dst      127\.8\.0\.0/16  ports 82 \(1\)" "$list"
like "one that is gone by its inode, stale, and what removes its pins" \
	"netns inode $GONE_INO  stale: its pins in /sys/fs/bpf/sksteer/netns-$GONE_INO steer nothing \(its namespace is gone, or its link was detached: the next sksteer run that steers removes them\)" \
	"$list"
is "each namespace's block, as --list gives it" 3 "$(echo "$list" | grep -c '^namespace [0-9]*$')"

json=$("$SKSTEER" --list --json --all-netns)
is "--list --json: one array, a document a namespace, with netns and netns_name" \
	"$(printf '%s true\n' "$NETNS_INO" "$BOX_INO" "$(netns_ino "/run/netns/$NS")" |
		sed "\$a $GONE_INO false" | sort -n | paste -sd' ')" \
	"$(echo "$json" | perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>);
		my @s = sort { $a->{netns} <=> $b->{netns} } @$d;
		print join " ", map { ($_->{netns}, $_->{steering} ? "true" : "false") } @s')"
like "the gone one is stale, with its pins' directory" \
	"\{\"netns\":$GONE_INO,\"netns_name\":\"inode $GONE_INO\",\"steering\":false,\"stale\":true,\"pin_dir\":\"/sys/fs/bpf/sksteer/netns-$GONE_INO\",\"targets\":\[\]\}" \
	"$json"
like "a named one's name" "\"netns_name\":\"$NS\",\"steering\":true" "$json"

metrics=$("$SKSTEER" --metrics --all-netns)
like "--metrics names each namespace once, in an info series (0: stale)" \
	"sksteer_netns_info\{netns=\"$GONE_INO\",name=\"inode $GONE_INO\"\} 0" "$metrics"
like "... the named one" "sksteer_netns_info\{netns=\"[0-9]+\",name=\"$NS\"\} 1" "$metrics"
is "each family's HELP and TYPE once, its samples together" \
	"1 1 3" "$(echo "$metrics" | grep -c '^# TYPE sksteer_target_up ') \
$(echo "$metrics" | grep -c '^# HELP sksteer_target_up ') \
$(echo "$metrics" | grep -c '^sksteer_target_up{')"
is "and no family split: each one's samples follow its TYPE line" "" \
	"$(echo "$metrics" | awk '/^# TYPE/ { fam = $3; next } /^#/ { next }
		{ name = $1; sub(/\{.*/, "", name); if (name != fam) print }')"
like "the target whose socket is gone is down, in its namespace" \
	"sksteer_target_up\{netns=\"$BOX_INO\",target=\"127.0.0.1:9001\"\} 0" "$metrics"
if command -v promtool >/dev/null; then
	ok "promtool check metrics is clean" bash -c "'$SKSTEER' --metrics --all-netns | promtool check metrics"
else
	skip "promtool is not installed"
fi

run_sksteer --check --all-netns
# namespaces in inode order: the gone one's warning may come first
like "--check names the namespace of each problem" \
	"(^|
)sksteer: netns pid $BOX \(sleep\): target 127\.0\.0\.1:9001: its socket is gone, so its 1 port is not steered: start its server, then run 'sksteer --netns /proc/$BOX/ns/net -s 127\.0\.0\.1:9001'" \
	"$STDERR"
like "and warns of the gone one's pins, without failing for them" \
	"sksteer: warning: netns inode $GONE_INO: its pins in /sys/fs/bpf/sksteer/netns-$GONE_INO steer nothing" \
	"$STDERR"
is "exit 1 for the problem" 1 "$RC"
ok "the process's namespace unsteered" "$SKSTEER" --netns /proc/$BOX/ns/net --detach
run_sksteer --check --all-netns
is "healthy elsewhere: the warning alone, exit 0" \
	"0 sksteer: warning: netns inode $GONE_INO: its pins in /sys/fs/bpf/sksteer/netns-$GONE_INO steer nothing (its namespace is gone, or its link was detached: the next sksteer run that steers removes them)" \
	"$RC $STDERR"

# A reader with CAP_BPF alone: the pins, by inode where a namespace cannot be entered
like "--list --all-netns with CAP_BPF alone" "netns $NS
target 127\.0\.0\.1:9000  tcp  listening" "$(with_caps +bpf "$SKSTEER" --list --all-netns)"
like "--metrics --all-netns with CAP_BPF alone" \
	"sksteer_target_ports\{netns=\"[0-9]+\",target=\"127.0.0.1:9000\"\} 2" \
	"$(with_caps +bpf "$SKSTEER" --metrics --all-netns)"
ok "--check --all-netns with CAP_BPF alone" with_caps +bpf "$SKSTEER" --check --all-netns
run_sksteer_caps() { STDERR=$(with_caps "" "$SKSTEER" "$@" 2>&1 >/dev/null); RC=$?; }
run_sksteer_caps --list --all-netns
if readers_allowed; then # root's pins, read by root with no capability
	is "without CAP_BPF: root reads its own pins, where the kernel allows it" "0 " "$RC $STDERR"
else
	like "without CAP_BPF: refused in one line, naming the sysctl" \
		"^sksteer: this kernel lets no process without CAP_BPF use bpf\(\).*kernel\.unprivileged_bpf_disabled is [12]" \
		"$STDERR"
fi

# What it goes with
for args in "--all-netns" "--save --all-netns" "--list --all-netns --netns /run/netns/$NS" \
	"--list --all-netns -s 127.0.0.1:9000" "--list --all-netns --dst 10.0.0.0/8" \
	"-p 80 -s 127.0.0.1:9000 --all-netns" "--detach --all-netns"; do
	# shellcheck disable=SC2086 # the words of args
	run_sksteer $args
	like "sksteer $args: refused in one line" \
		"^sksteer: --all-netns goes with --list, --metrics, --serve-metrics or --check alone: not with --netns, -s or --dst" \
		"$STDERR"
	is "(exit 64)" 64 "$RC"
done
is "the steering as it was" "80 refused 82" \
	"$(dial_in "$NS" 127.0.0.1:80) $(dial_in "$NS" 127.0.0.1:81) $(dial 127.8.0.1:82)"
# A link detached by hand in a namespace that is there: stale too, told by its inode alone (a
# namespace made after another went may have its inode: the pins are not that one's)
WEB_INO=$(netns_ino "/run/netns/$NS")
bpftool link detach pinned "/sys/fs/bpf/sksteer/netns-$WEB_INO/link"
like "a detached link's pins: stale, named by their inode, not by the namespace there now" \
	"netns inode $WEB_INO  stale: its pins in /sys/fs/bpf/sksteer/netns-$WEB_INO steer nothing" \
	"$("$SKSTEER" --list --all-netns)"
run_sksteer --check --all-netns
like "--check warns of them, and does not fail" \
	"^0 sksteer: warning: netns inode [0-9]+: .*
sksteer: warning: netns inode [0-9]+: " "$RC $STDERR"
ok "a run that steers removes the gone namespace's pins" "$SKSTEER" -p 84 -s 127.0.0.1:9002
ok "(they are gone)" test ! -e "/sys/fs/bpf/sksteer/netns-$GONE_INO"

# A namespace whose pins cannot be read (one is missing): one line naming it, the others read
WEB=$NS
netns_add # (it may have the inode of one gone before: this comes after their checks)
BAD=$NS
NS=$WEB
BAD_INO=$(netns_ino "/run/netns/$BAD")
serve_in "$BAD" 127.0.0.1:9000
ok "steer in another named namespace" "$SKSTEER" --netns "/run/netns/$BAD" -p 85 -s 127.0.0.1:9000
at_exit "$SKSTEER --netns /run/netns/$BAD --detach"
rm "/sys/fs/bpf/sksteer/netns-$BAD_INO/target_addrs"
for cmd in "--list --json" --metrics --check; do
	# shellcheck disable=SC2086 # the words of cmd
	out=$("$SKSTEER" $cmd --all-netns 2>"$WORK/err")
	rc=$?
	like "$cmd --all-netns: one line names the namespace that cannot be read" \
		"^sksteer: network namespace $BAD: the steering pinned in /sys/fs/bpf/sksteer/netns-$BAD_INO is incomplete \(no 'target_addrs'" \
		"$(grep -v warning "$WORK/err")"
	is "(exit 1)" 1 "$rc"
	case $cmd in
	--list*) is "the others are read (this one: the rest were swept): the array whole" \
		"$NETNS_INO" \
		"$(echo "$out" | perl -MJSON::PP -e 'local $/; print join " ",
			sort { $a <=> $b } map { $_->{netns} } @{decode_json(<STDIN>)}')" ;;
	--metrics) is "the others are read; it has no info series, and is counted" \
		"1 0 1" "$(echo "$out" | grep -c "^sksteer_target_up{netns=\"$NETNS_INO\",") $(echo "$out" | grep -c "netns=\"$BAD_INO\"") $(echo "$out" | sed -n 's/^sksteer_netns_unreadable //p')" ;;
	esac
done
ok "the namespace unsteered" "$SKSTEER" --netns "/run/netns/$BAD" --detach

# An empty pin directory (a first run's, before it pins anything) and names that are no
# namespace's: none of them is a namespace with pins
mkdir /sys/fs/bpf/sksteer/netns-123 /sys/fs/bpf/sksteer/netns-x1 /sys/fs/bpf/sksteer/other
is "skipped: only this namespace is listed" "$NETNS_INO" \
	"$("$SKSTEER" --list --json --all-netns | perl -MJSON::PP -e 'local $/;
		print join " ", map { $_->{netns} } @{decode_json(<STDIN>)}')"
rmdir /sys/fs/bpf/sksteer/netns-123 /sys/fs/bpf/sksteer/netns-x1 /sys/fs/bpf/sksteer/other

done_testing
