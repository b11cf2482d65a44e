# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Every bad input: one short message naming it, a non-zero exit, live steering unchanged.
. "$(dirname "$0")/lib.sh"

serve 127.0.0.1:9000
serve 127.0.0.1:9001
ok "steering 80,443 to 127.0.0.1:9000" "$SKSTEER" -p 80,443 -s 127.0.0.1:9000

steering() { echo "$(dial 127.0.0.1:80) $(dial 127.0.0.1:443) $(dial 127.0.0.1:81)"; }

# bad DESCRIPTION STDERR-REGEX ARGS...: the run fails with one short line and changes nothing
bad() {
	local desc=$1 want=$2
	shift 2
	STDERR=$("${RUN_AS[@]}" "$SKSTEER" "$@" 2>&1 >/dev/null)
	RC=$?
	local lines state
	lines=$(printf '%s\n' "$STDERR" | wc -l)
	state=$(steering)
	[ "$RC" -ne 0 ] && [[ $STDERR =~ $want ]] && [ "$lines" -le 2 ] && [ "$state" = "80 443 refused" ]
	result "$desc" $? "sksteer $*: exit $RC, steering now: $state" "stderr: $STDERR"
}

RUN_AS=()
T=(-s 127.0.0.1:9001)
bad "port 0" "item '0': port 0 cannot be steered" -p 0 "${T[@]}"
bad "a port above 65535" "item '65536': ports go up to 65535" -p 65536 "${T[@]}"
bad "a huge number" "item '99999999999999999999': ports go up to 65535" \
	-p 99999999999999999999 "${T[@]}"
bad "a non-number" "item 'http': not a port number" -p http "${T[@]}"
bad "a signed number" "item '\+80': not a port number" -p +80 "${T[@]}"
bad "an empty item" "item '': empty item" -p 82,,83 "${T[@]}"
bad "a trailing comma" "empty item" -p 82, "${T[@]}"
bad "a range without an end" "item '82-': range without an end" -p 82- "${T[@]}"
bad "a range without a start" "item '-82': range without a start" -p -82 "${T[@]}"
bad "a reversed range" "item '90-82': range runs backwards" -p 90-82 "${T[@]}"
bad "a range to 70000" "item '82-70000': ports go up to 65535" -p 82-70000 "${T[@]}"
bad "spaces" "not a port number" -p "82, 83" "${T[@]}"
bad "an empty list" "empty port list" -p "" "${T[@]}"
bad "an address without a port" "'127.0.0.1': missing :PORT" -p 82 -s 127.0.0.1
bad "an address with an empty port" "the port is not a number" -p 82 -s 127.0.0.1:
bad "a malformed IPv4 address" "'127.0.0.256:9001': not a valid IPv4 address" -p 82 -s 127.0.0.256:9001
bad "a short IPv4 address" "not a valid IPv4 address" -p 82 -s 127.1:9001
bad "a malformed IPv6 address" "'\[::g\]:9001': not a valid IPv6 address" -p 82 -s '[::g]:9001'
bad "an IPv6 address without brackets" "in brackets" -p 82 -s ::1:9001
bad "an unclosed bracket" "missing '\]'" -p 82 -s '[::1:9001'
bad "port 0 in the address" "the port must be 1-65535" -p 82 -s 127.0.0.1:0
bad "a port above 65535 in the address" "the port must be 1-65535" -p 82 -s 127.0.0.1:70000
bad "a host name" "host names are not resolved; give a numeric address" -p 82 -s localhost:9001
bad "an unknown protocol prefix" "unknown protocol \(use tcp: or udp:\)" -p 82 -s sctp:127.0.0.1:9001
bad "nothing listening at the target" "nothing listens at 127.0.0.1:9999.*ss -tln" \
	-p 82 -s 127.0.0.1:9999
bad "listening elsewhere on that port" "nothing listens at 127.0.0.2:9001.*127.0.0.1:9001 does" \
	-p 82 -s 127.0.0.2:9001
bad "an unknown target without -p" "127.0.0.1:9001 is not a target.*-p" -s 127.0.0.1:9001
bad "an unknown option" "unrecognized option '--frobnicate'" --frobnicate
bad "a stray argument" "unexpected argument 'now'" -p 82 "${T[@]}" now
bad "no arguments" "nothing to do" 
bad "--detach with -p" "--detach takes -s TARGET or nothing" --detach -p 80
bad "--detach of an unknown target" "127.0.0.1:9001 is not a target" --detach "${T[@]}"

# The environment: privileges, bpffs, the target's owner out of sight.
RUN_AS=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
bad "not root" \
	"^sksteer: steering needs $LOAD_NEEDS, and this process lacks $LOAD_NEEDS: run it with sudo$MEMLOCK_HINT\$" \
	-p 82 "${T[@]}"
RUN_AS=(setpriv --inh-caps=-net_admin --bounding-set=-net_admin --)
bad "root without CAP_NET_ADMIN" "steering needs .*, and this process lacks CAP_NET_ADMIN: run it with sudo" \
	-p 82 "${T[@]}"

# A private mount and PID namespace where bpffs is not mounted and cannot be.
no_bpffs() {
	unshare -m -p -f --mount-proc -- sh -c 'umount /sys/fs/bpf 2>/dev/null
		exec setpriv --inh-caps=-sys_admin --bounding-set=-sys_admin -- "$@"' sh "$@"
}
RUN_AS=(no_bpffs)
bad "no bpffs, and no right to mount it" \
	"^sksteer: bpffs is not mounted on /sys/fs/bpf and sksteer could not mount it \(Operation not permitted\): run sksteer as root \(mounting needs CAP_SYS_ADMIN\), or mount it once with 'mount -t bpf bpf /sys/fs/bpf'$" \
	-p 82 "${T[@]}"
# (tests/05-fresh-host.t shows the mount that a run which steers makes)
is "a read-only run does not mount bpffs, and finds nothing steered" \
	"not steering in this network namespace sysfs" \
	"$(unshare -m -- sh -c 'umount /sys/fs/bpf 2>/dev/null
		"$1" --list && stat -f -c %T /sys/fs/bpf' sh "$SKSTEER" | tr '\n' ' ' | sed 's/ $//')"

# A PID namespace from which the target's owner cannot be seen, with the last resort forced
# (tests/25-discovery.t shows that the other ways work there).
RUN_AS=(env SKSTEER_FIND=pidfd unshare -p -f --mount-proc --)
bad "the target's owner out of sight, for SKSTEER_FIND=pidfd" \
	"no process owning the socket at 127.0.0.1:9001 can be seen \(in another PID namespace" \
	-p 82 "${T[@]}"

# Hostile surroundings: too few descriptors, a pin directory others may write, a pin replaced.
RUN_AS=(prlimit --nofile=16 --)
bad "RLIMIT_NOFILE of 16" \
	"^sksteer: a run needs up to 128 open files, and RLIMIT_NOFILE allows 16: raise it \(ulimit -n 128\)$" \
	-p 82 "${T[@]}"
RUN_AS=(prlimit --nofile=16:4096 --)
ok "a low soft RLIMIT_NOFILE under a higher hard one is raised, and the run works" \
	"${RUN_AS[@]}" "$SKSTEER" --list
RUN_AS=()
chmod 0777 "$PIN_DIR"
bad "a pin directory writable by others" \
	"^sksteer: the pin directory $PIN_DIR is writable by others \(sksteer's pins are its owner's alone\)" \
	-p 82 "${T[@]}"
is "(read-only commands refuse it too)" 1 "$("$SKSTEER" --list >/dev/null 2>&1; echo $?)"
chmod 0700 "$PIN_DIR"
chown 65534 "$PIN_DIR"
bad "a pin directory of another user" "^sksteer: the pin directory $PIN_DIR is owned by another user" \
	-p 82 "${T[@]}"
chown 0 "$PIN_DIR"
ext=$(bpftool map show pinned "$PIN_DIR/stats_ext" | awk -F: 'NR == 1 { print $1 }')
rm "$PIN_DIR/stats_ext"
bpftool map create "$PIN_DIR/stats_ext" type array key 4 value 4 entries 1 name stats_ext
bad "a pinned map replaced by one of another type" \
	"^sksteer: the steering pinned in $PIN_DIR comes from an incompatible sksteer version \(map 'stats_ext' differs\)" \
	-p 82 "${T[@]}"
rm "$PIN_DIR/stats_ext"
bpftool map pin id "$ext" "$PIN_DIR/stats_ext"
ok "with the pins put back, a run works again" "$SKSTEER" -p 80,443 -s 127.0.0.1:9000

done_testing
