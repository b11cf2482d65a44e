# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# --dry-run's count of kernel updates: its last line says what the apply would write, in -v's
# words, and a series of random configurations (ports added, removed and moved, prefixes added,
# removed and of new lengths, targets added and removed, both families and protocols) checks it
# against the apply's own -v line, number for number. A dry run still changes nothing, and one
# with nothing to change prints nothing.
. "$(dirname "$0")/lib.sh"

serve --label=A 127.0.0.1:9001
serve --label=B 127.0.0.1:9002
serve --label=C 127.0.0.1:9003
serve --label=K 127.0.0.1:9004 # every configuration's one fixed line: steering never ends
serve --label=A6 '[::1]:9006'
serve --udp --label=U 127.0.0.1:9005
serve --udp --label=U6 '[::1]:9007'

# -v's line after an apply, and --dry-run's last
UPDATES='kernel updates [0-9]+: port table bytes [0-9]+, bindings table stores [0-9]+ '
UPDATES+='\(whole tables switched [0-9]+\), other map entries [0-9]+'

dry() { # dry FILE: --dry-run's output
	"$SKSTEER" --config "$1" --dry-run
}
dry_count() { # dry_count FILE: --dry-run's summary line
	dry "$1" | grep -E "^$UPDATES\$"
}
applied_count() { # applied_count FILE: the apply's -v line
	"$SKSTEER" -v --config "$1" 2>&1 | grep -oE "$UPDATES"
}
# compare DESCRIPTION FILE: the dry run's count, then the apply's: the same five numbers
compare() {
	local d a
	d=$(dry_count "$2")
	a=$(applied_count "$2")
	is "$1" "$a" "$d"
	[ -n "$a" ] || result "$1: the apply printed its count" 1 "no -v line"
	LAST=$d
}

{
	echo "tcp 127.0.0.1:9004 7000"
	echo "tcp 127.0.0.1:9001 80,443"
	echo "tcp 127.0.0.1:9002 22 dst=127.80.0.0/24"
	echo "tcp 127.0.0.1:9002 22 dst=127.80.1.0/24"
} >"$WORK/base.conf"
ok "a first configuration" "$SKSTEER" --config "$WORK/base.conf"

# nothing to change: nothing printed, exit 0
out=$(dry "$WORK/base.conf")
is "--dry-run in sync: no line at all, exit 0" "0 " "$? $out"

# a dry run changes nothing: the steering saved, listed and checked is as it was
cp "$WORK/base.conf" "$WORK/in-place.conf"
echo "tcp 127.0.0.1:9003 22 dst=127.80.2.0/24" >>"$WORK/in-place.conf"
SAVED=$("$SKSTEER" --save)
LISTED=$("$SKSTEER" --list)
PINS=$(ls -l --time-style=+%s.%N "$PIN_DIR")
out=$(dry "$WORK/in-place.conf")
is "--dry-run of a change: exit 2" 2 $?
like "its last line: the kernel updates the apply would make" "$UPDATES\$" "$(tail -n1 <<<"$out")"
like "(after the change's lines)" "^\+ tcp 127.0.0.1:9003 22 dst=127.80.2.0/24" "$out"
is "(one summary line)" 1 "$(grep -cE "^$UPDATES" <<<"$out")"
is "the dry run changed nothing: --save" "$SAVED" "$("$SKSTEER" --save)"
is "(--list)" "$LISTED" "$("$SKSTEER" --list)"
is "(the pins, their times)" "$PINS" "$(ls -l --time-style=+%s.%N "$PIN_DIR")"
ok "(--check)" "$SKSTEER" --check
is "(a connection to the new prefix: not steered yet)" "refused" "$(dial 127.80.2.1:22)"

# a prefix of a length the table has: in place, no table switched
compare "a /24 more, in place: the dry count is the apply's" "$WORK/in-place.conf"
like "(in place: stores, no table switched)" \
	"bindings table stores [1-9][0-9]* \(whole tables switched 0\)" "$LAST"
is "(steered)" "C:22" "$(dial 127.80.2.1:22)"

# a prefix of a new length: the table built again, switched whole
cp "$WORK/in-place.conf" "$WORK/whole.conf"
echo "tcp 127.0.0.1:9003 25 dst=127.80.3.0/27" >>"$WORK/whole.conf"
compare "a /27, a new length: the dry count is the apply's" "$WORK/whole.conf"
like "(a whole table switched)" "\(whole tables switched 1\)" "$LAST"
is "(steered)" "C:25" "$(dial 127.80.3.1:25)"

# membarrier refused (a seccomp profile): no change in place, and the dry run, refused it too,
# says so: a whole table
cp "$WORK/whole.conf" "$WORK/nomb.conf"
echo "tcp 127.0.0.1:9003 26 dst=127.80.4.0/27" >>"$WORK/nomb.conf"
d=$("$NOLOAD" --membarrier "$SKSTEER" --config "$WORK/nomb.conf" --dry-run | grep -E "^$UPDATES\$")
a=$("$NOLOAD" --membarrier "$SKSTEER" -v --config "$WORK/nomb.conf" 2>&1 | grep -oE "$UPDATES")
is "membarrier refused: the dry count is the apply's" "$a" "$d"
like "(a whole table switched)" "\(whole tables switched 1\)" "$d"
ok "(and back)" "$SKSTEER" --config "$WORK/whole.conf"

# a port for every address: port table bytes only
cp "$WORK/whole.conf" "$WORK/ports.conf"
sed -i 's/^tcp 127.0.0.1:9001 80,443$/tcp 127.0.0.1:9001 80,443,8080/' "$WORK/ports.conf"
compare "a port for every address: the dry count is the apply's" "$WORK/ports.conf"
like "(one port table byte)" "port table bytes 1, bindings table stores 0 " "$LAST"

# random configurations, each against the one before
SEED=${SKSTEER_DRY_SEED:-$RANDOM}
RANDOM=$SEED
echo "# random configurations: SKSTEER_DRY_SEED=$SEED"
POOL=(80 443 8080 1000-1099 2000 2001 5000-5009 22 25 6000-6999)
# UDP ports in the ephemeral range start and stop the client watcher (cgroup v2 needed)
read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
grep -q ' cgroup2 ' /proc/mounts && POOL+=("$((lo + 200))-$((lo + 209))")
DST4=("" 127.80.0.0/24 127.80.1.0/24 127.80.1.7 127.90.0.0/16 127.80.2.0/27 127.80.4.0/23)
DST6=("" fd00::/16 ::1/128 2001:db8::/48 fd00:1::/32)

# The state the configurations are written from: each (set, dst, pool item) given to one of
# the set's targets or to none (ASSIGN), each (set, dst) bound or not (BOUND). A set is
# a protocol and a family: a port goes to one target of it per prefix.
SETS=("tcp|127.0.0.1:9001 127.0.0.1:9002 127.0.0.1:9003|4" "tcp|[::1]:9006|6"
	"udp|127.0.0.1:9005|4" "udp|[::1]:9007|6")
declare -A ASSIGN=() BOUND=()
dsts() { # dsts FAMILY: the prefixes of that family, "" for every address
	if [ "$1" = 4 ]; then echo "${!DST4[@]}"; else echo "${!DST6[@]}"; fi
}
pick() { # pick SET DST ITEM: the item to a target of the set, or to none
	local targets
	IFS='|' read -r _ targets _ <<<"${SETS[$1]}"
	read -ra targets <<<"$targets"
	ASSIGN[$1,$2,$3]=$((RANDOM % (${#targets[@]} + 1)))
}
randomize() { # every choice made again
	local g d i fam
	for g in "${!SETS[@]}"; do
		IFS='|' read -r _ _ fam <<<"${SETS[$g]}"
		for d in $(dsts "$fam"); do
			BOUND[$g,$d]=$((RANDOM % 3 != 0))
			for i in "${!POOL[@]}"; do pick "$g" "$d" "$i"; done
		done
	done
	NO_C=$((RANDOM % 2)) # 127.0.0.1:9003 removed, or added back
}
mutate() { # a few choices made again: a small change
	local g d fam all
	for _ in $(seq 0 $((RANDOM % 3))); do
		g=$((RANDOM % ${#SETS[@]}))
		IFS='|' read -r _ _ fam <<<"${SETS[$g]}"
		read -ra all <<<"$(dsts "$fam")"
		d=${all[RANDOM % ${#all[@]}]}
		case $((RANDOM % 6)) in
		0) BOUND[$g,$d]=$((!BOUND[$g,$d])) ;; # a prefix added or removed
		1) NO_C=$((RANDOM % 2)) ;;
		*) pick "$g" "$d" $((RANDOM % ${#POOL[@]})) ;; # a port moved, added or removed
		esac
	done
}
write_config() { # the state as a configuration file
	local g d i proto targets fam dst t
	echo "tcp 127.0.0.1:9004 7000"
	for g in "${!SETS[@]}"; do
		IFS='|' read -r proto targets fam <<<"${SETS[$g]}"
		read -ra targets <<<"$targets"
		for d in $(dsts "$fam"); do
			[ "${BOUND[$g,$d]}" = 1 ] || continue
			if [ "$fam" = 4 ]; then dst=${DST4[d]}; else dst=${DST6[d]}; fi
			declare -A got=()
			for i in "${!POOL[@]}"; do
				t=${ASSIGN[$g,$d,$i]}
				[ "$t" -lt "${#targets[@]}" ] || continue
				[ "${targets[t]}" = 127.0.0.1:9003 ] && [ "$NO_C" = 1 ] && continue
				got[${targets[t]}]+=${got[${targets[t]}]:+,}${POOL[i]}
			done
			for t in "${!got[@]}"; do
				echo "$proto $t ${got[$t]}${dst:+ dst=$dst}"
			done
			unset got
		done
	done
}

N=${SKSTEER_DRY_RUNS:-100}
switched=0 in_place=0 in_sync=0
for i in $(seq 1 "$N"); do
	# one in four a configuration made afresh, else a small change to the last one
	if [ $((i % 4)) = 1 ]; then randomize; else mutate; fi
	write_config >"$WORK/r$i.conf"
	out=$(dry "$WORK/r$i.conf")
	rc=$?
	if [ "$rc" -eq 0 ]; then
		is "random $i: in sync, nothing printed" "" "$out"
		in_sync=$((in_sync + 1))
		continue
	fi
	d=$(grep -E "^$UPDATES\$" <<<"$out")
	a=$(applied_count "$WORK/r$i.conf")
	is "random $i: the dry count is the apply's ($(grep -c '^[-+~]' <<<"$out") changes)" "$a" "$d"
	if [ "$a" != "$d" ]; then
		echo "# the configuration:"
		sed 's/^/#   /' "$WORK/r$i.conf"
	fi
	grep -q 'whole tables switched [1-9]' <<<"$a" && switched=$((switched + 1))
	grep -qE 'bindings table stores [1-9][0-9]* \(whole tables switched 0\)' <<<"$a" &&
		in_place=$((in_place + 1))
	ok "random $i: --check after the apply" "$SKSTEER" --check
	out=$(dry "$WORK/r$i.conf")
	is "random $i: then in sync" "0 " "$? $out"
done
echo "# $N random configurations: $switched switched a table whole, $in_place changed one" \
	"in place, $in_sync were in sync"
result "among them, a table switched whole" "$([ "$switched" -gt 0 ]; echo $?)"
result "and one changed in place" "$([ "$in_place" -gt 0 ]; echo $?)"

# the last steering removed but the fixed line: a target's every prefix goes
echo "tcp 127.0.0.1:9004 7000" >"$WORK/last.conf"
compare "everything but one line removed: the dry count is the apply's" "$WORK/last.conf"

# one change (-p, -s, --add, --remove, --dst, --force): its --dry-run's count, then its -v one
single() { # single DESCRIPTION ARGS...
	local d a
	d=$("$SKSTEER" --dry-run "${@:2}" | tail -n1)
	a=$("$SKSTEER" -v "${@:2}" 2>&1 | grep -oE "$UPDATES")
	is "$1: the dry count is the run's" "$a" "$d"
	[ -n "$a" ] || result "$1: the run printed its count" 1 "no -v line"
}
single "-p -s, a new target" -p 80,443 -s 127.0.0.1:9001
single "--add" -s 127.0.0.1:9001 --add 8080
single "--remove" -s 127.0.0.1:9001 --remove 443
single "-p --dst, a new prefix" -p 22 -s 127.0.0.1:9002 --dst 127.80.0.0/24
single "--add --dst, in place" -s 127.0.0.1:9002 --add 25 --dst 127.80.0.0/24
single "-p --dst, a new length" -p 22 -s 127.0.0.1:9002 --dst 127.80.1.0/27
single "--force, a port moved" -p 80 -s 127.0.0.1:9002 --force
single "UDP, IPv6" -p 53 -s 'udp:[::1]:9007'
out=$("$SKSTEER" --dry-run -p 53 -s 'udp:[::1]:9007')
is "a change with nothing to change: nothing printed, exit 0" "0 " "$? $out"
ok "(healthy)" "$SKSTEER" --check
ok "back to one line" "$SKSTEER" --config "$WORK/last.conf"

# UDP ports in the ephemeral range: the client watcher's replies map, given and taken back
if grep -q ' cgroup2 ' /proc/mounts; then
	printf 'tcp 127.0.0.1:9004 7000\nudp 127.0.0.1:9005 %s\n' $((lo + 100)) >"$WORK/eph.conf"
	compare "UDP ports in the ephemeral range, the watcher started: the dry count is the apply's" \
		"$WORK/eph.conf"
	compare "and stopped: the dry count is the apply's" "$WORK/last.conf"
else
	skip "cgroup v2 is not mounted: no UDP client watcher"
	skip "(nor its stop)"
fi

done_testing
