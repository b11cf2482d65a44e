# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Read-only for a group (--group NAME, "group NAME" in a configuration): its members read with
# no capability where the kernel lets them use bpf(), others are refused in one line, no member
# can change anything, and none can stall a writer: not by a lock, not by a descriptor held for
# ever. The group is nogroup (gid 65534), its member nobody, a non-member nobody in gid 1.
# A bpffs of its own: the modes it gives the bpffs root are this test's alone.
PRIVATE_MOUNTS=1
. "$(dirname "$0")/lib.sh"

own_bpffs
BASE=/sys/fs/bpf/sksteer
# the binary where nobody may run it (the tree may be in a directory only root passes)
BIN=$(mktemp -d /tmp/sksteer-group.XXXXXX)
at_exit "rm -rf $BIN"
chmod 755 "$BIN"
cp "$SKSTEER" "$BIN/sksteer"
MEMBER=(setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all --ambient-caps=-all
	--bounding-set=-all --)
OUTSIDER=(setpriv --reuid 65534 --regid 1 --clear-groups --inh-caps=-all --ambient-caps=-all
	--bounding-set=-all --)
member() { "${MEMBER[@]}" "$BIN/sksteer" "$@"; }
outsider() { "${OUTSIDER[@]}" "$BIN/sksteer" "$@"; }
modes() { stat -c '%a %U:%G' "$@"; }
# every pin in the directory: "MODE OWNER:GROUP", once per kind
pin_modes() { stat -c '%a %U:%G' "$PIN_DIR"/* | sort -u; }

# Which kernels let a user without CAP_BPF read pins: from 5.19 on, any; before, only with
# kernel.unprivileged_bpf_disabled=0 (the sysctl covered every bpf() command then).
SYSCTL=/proc/sys/kernel/unprivileged_bpf_disabled
SYSCTL_WAS=$(cat "$SYSCTL")
at_exit "echo $SYSCTL_WAS > $SYSCTL"

serve 127.0.0.1:9000
serve --udp 127.0.0.1:9001

# --group alone shares what is steered: where nothing is, it and its --dry-run say so alike
refusal="sksteer: nothing is steered in this network namespace: --group shares the steering's pins: give it with -p and -s (or as 'group NAME' in a configuration file)"
run_sksteer --group nogroup
is "--group alone, nothing steered: one line, exit 1" "1 $refusal" "$RC $STDERR"
run_sksteer --dry-run --group nogroup
is "... its --dry-run the same" "1 $refusal" "$RC $STDERR"
ok "... and no pins made" pins_gone

# Before any group: the pins are root's alone, and so is the way to them
ok "steered, no group" "$SKSTEER" -p 80,443 -s 127.0.0.1:9000
is "no group: the directory is root's alone" "700 root:root" "$(modes "$PIN_DIR")"
is "no group: its pins too" "600 root:root" "$(pin_modes)"
run_member() { STDERR=$(member "$@" 2>&1 >/dev/null); RC=$?; }
run_member --list
is "no group: nobody is refused in one line" \
	"1 sksteer: cannot read the pins in $PIN_DIR: Permission denied: read them as root, or as a member of the group they were given to (sksteer --group NAME)" \
	"$RC $STDERR"

# Bad input: one line, nothing changed
before=$("$SKSTEER" --save)
run_sksteer --group no-such-group-here
is "an unknown group: one line, exit 64" \
	"64 sksteer: --group no-such-group-here: no such group in /etc/group: create it ('groupadd no-such-group-here'), or give its number" \
	"$RC $(echo "$STDERR" | head -1)"
run_sksteer --group "a b"
is "not a group's name: one line, exit 64" \
	"64 sksteer: --group a b: not a group's name: letters, digits, '.', '_' and '-', at most 32, or its number" \
	"$RC $(echo "$STDERR" | head -1)"
run_sksteer --group nogroup --config /dev/null
like "--group with --config: the file says it" "^sksteer: --group goes with -p, -s, --add, --remove or alone \(with --config, the file's 'group NAME' line\)" "$STDERR"
run_sksteer --group nogroup --list
is "--group with a read-only command: exit 64" 64 "$RC"
run_sksteer_caps() { STDERR=$(with_caps "$1" "$SKSTEER" "${@:2}" 2>&1 >/dev/null); RC=$?; }
run_sksteer_caps +bpf,+net_admin --group nogroup
like "--group without CAP_CHOWN: refused up front" \
	"^sksteer: --group needs CAP_BPF, CAP_NET_ADMIN and CAP_CHOWN, and this process lacks CAP_CHOWN" \
	"$STDERR"
printf 'group nogroup\ngroup nogroup\ntcp 127.0.0.1:9000 80,443\n' >"$WORK/twice.conf"
run_sksteer --config "$WORK/twice.conf"
is "two group lines: FILE:LINE" \
	"1 sksteer: $WORK/twice.conf:2: a second 'group' line (the first is line 1): the pins have one group: keep one" \
	"$RC $STDERR"
printf 'group no-such-group-here\ntcp 127.0.0.1:9000 80,443\n' >"$WORK/unknown.conf"
run_sksteer --config "$WORK/unknown.conf"
is "an unknown group in a file: FILE:LINE, exit 1" \
	"1 sksteer: $WORK/unknown.conf:1: unknown group 'no-such-group-here' (not in /etc/group): create it ('groupadd no-such-group-here'), or give its number" \
	"$RC $STDERR"
is "nothing changed by any of them" "$before" "$("$SKSTEER" --save)"
is "... nor the modes" "700 root:root 600 root:root" "$(modes "$PIN_DIR") $(pin_modes)"

# --dry-run says it, changes nothing
out=$("$SKSTEER" --dry-run --group nogroup)
is "--dry-run --group: the change, exit 2" "2 ~ group nogroup (was none)" "$? $out"
is "... and nothing changed" "700 root:root" "$(modes "$PIN_DIR")"

# Given to the group: 0710 (passable, not openable: no lock), pins 0640, the way in passable
ok "--group nogroup with a change" "$SKSTEER" -p 80,443,8080 -s 127.0.0.1:9000 --group nogroup
is "the directory: the group's to pass, not to list or open" "710 root:nogroup" "$(modes "$PIN_DIR")"
is "its pins: the group's to read" "640 root:nogroup" "$(pin_modes)"
is "every namespace's directory: the group lists it (--all-netns)" "750 root:nogroup" \
	"$(modes "$BASE")"
like "the bpffs root: passable by all, listed by none" "^1?711 root:root$" "$(modes /sys/fs/bpf)"
ok "a new target's pins come readable by the group too" \
	"$SKSTEER" -p 53 -s udp:127.0.0.1:9001
is "... every pin" "640 root:nogroup" "$(pin_modes)"
"$SKSTEER" --detach -s udp:127.0.0.1:9001
like "--list says who reads" "pins     $PIN_DIR \(readable by group nogroup\)" "$("$SKSTEER" --list)"
like "--list --json too" '"group":"nogroup"' "$("$SKSTEER" --list --json)"
is "--save writes it" "group nogroup" "$("$SKSTEER" --save | grep '^group')"
out=$("$SKSTEER" --dry-run --group nogroup)
is "--dry-run: in sync, exit 0" "0 " "$? $out"
out=$("$SKSTEER" --dry-run -p 80,443,8080 -s 127.0.0.1:9000)
is "a change's --dry-run on shared pins: in sync, no group line, exit 0" "0 " "$? $out"
out=$("$SKSTEER" --dry-run -p 80,443 -s 127.0.0.1:9000)
is "... a change of ports: its line alone (then its count)" "2 - tcp 127.0.0.1:9000 8080" \
	"$? $(changes <<<"$out")"

member_reads() {
	like "$1: --list" "target 127\.0\.0\.1:9000  tcp  listening
  ports    80,443,8080 \(3\)" "$(member --list 2>&1)"
	like "$1: --list --json" '"ports":"80,443,8080"' "$(member --list --json 2>&1)"
	like "$1: --metrics" 'sksteer_target_ports\{netns="[0-9]+",target="127.0.0.1:9000"\} 3' \
		"$(member --metrics 2>&1)"
	ok "$1: --check" member --check
	like "$1: --list --all-netns" "target 127\.0\.0\.1:9000" "$(member --list --all-netns 2>&1)"
}
member_refused() {
	run_member --list
	like "$1: --list refused in one line naming the sysctl" \
		"^1 sksteer: this kernel lets no process without CAP_BPF use bpf\(\), not even to read pins \(kernel\.unprivileged_bpf_disabled is [12]; from Linux 5\.19 on it no longer covers reading\): read them with CAP_BPF, or set it to 0, which also lets every user load BPF programs$" \
		"$RC $STDERR"
}

# Both sides of kernel.unprivileged_bpf_disabled: as it is, and 0 (1 is for good: never set)
for value in "$SYSCTL_WAS" 0; do
	[ "$value" = 1 ] && continue
	echo "$value" >"$SYSCTL" 2>/dev/null || {
		skip "kernel.unprivileged_bpf_disabled=$value cannot be set here"
		continue
	}
	if readers_allowed; then
		member_reads "a member, no capability, unprivileged_bpf_disabled=$value"
	else
		member_refused "a member, no capability, unprivileged_bpf_disabled=$value"
	fi
done
echo 0 >"$SYSCTL" 2>/dev/null # the rest needs a member that reads, where it may

run_outsider() { STDERR=$(outsider "$@" 2>&1 >/dev/null); RC=$?; }
for cmd in --list --metrics --check; do
	run_outsider $cmd
	is "not a member: $cmd refused in one line" \
		"1 sksteer: cannot read the pins in $PIN_DIR: Permission denied: read them as root, or as a member of the group they were given to (sksteer --group NAME)" \
		"$RC $STDERR"
done
STDERR=$(outsider --serve-metrics 127.0.0.1:9917 2>&1)
is "not a member: --serve-metrics refused at start, in one line" \
	"1 sksteer: cannot read the pins in $PIN_DIR: Permission denied: read them as root, or as a member of the group they were given to (sksteer --group NAME)" \
	"$? $STDERR"

if ! readers_allowed; then
	skip_all "this kernel lets no member read (unprivileged_bpf_disabled cannot be 0 here)"
fi

# A member's server, no capability: scraped
"${MEMBER[@]}" "$BIN/sksteer" --serve-metrics 127.0.0.1:9917 2>"$WORK/serve.err" &
SERVER=$!
PIDS+=($SERVER)
eventually "curl -sf http://127.0.0.1:9917/ >/dev/null"
like "a member's --serve-metrics is scraped" \
	'sksteer_target_ports\{netns="[0-9]+",target="127.0.0.1:9000"\} 3' \
	"$(curl -s http://127.0.0.1:9917/metrics)"

# No member can change anything: not with sksteer, not with bpf() itself, not in bpffs
before=$("$SKSTEER" --save)
run_member -p 80 -s 127.0.0.1:9000
like "a member cannot steer" "^sksteer: steering needs CAP_BPF" "$STDERR"
run_member --detach
like "a member cannot detach" "^sksteer: --detach needs CAP_BPF" "$STDERR"
cat >"$BIN/bpf.py" <<'PY'
# bpf.py PIN: opens PIN read-write, then read-only and updates through that; prints each errno
import ctypes, errno, os, platform, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
NR = {"x86_64": 321, "aarch64": 280}[platform.machine()]
def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr, 128)
    ret = libc.syscall(NR, cmd, buf, 128)
    return ret if ret >= 0 else -ctypes.get_errno()
path = ctypes.create_string_buffer(sys.argv[1].encode())
def obj_get(flags):
    return bpf(7, struct.pack("QII", ctypes.addressof(path), 0, flags))
key, value = ctypes.create_string_buffer(64), ctypes.create_string_buffer(4096)
rw, ro = obj_get(0), obj_get(8)  # BPF_F_RDONLY
upd = bpf(2, struct.pack("iIQQQ", ro, 0, ctypes.addressof(key), ctypes.addressof(value), 0))
print(errno.errorcode.get(-rw, rw), "ro" if ro >= 0 else errno.errorcode.get(-ro),
      errno.errorcode.get(-upd, upd))
PY
for pin in targets ports target_addrs; do
	is "a member's bpf() on $pin: read-write refused, read-only opened, its update refused" \
		"EACCES ro EPERM" "$("${MEMBER[@]}" /usr/bin/python3 "$BIN/bpf.py" "$PIN_DIR/$pin")"
done
is "a member cannot open the link" "EACCES" \
	"$("${MEMBER[@]}" /usr/bin/python3 "$BIN/bpf.py" "$PIN_DIR/link" | cut -d' ' -f1)"
ok "a member cannot remove a pin" bash -c "! ${MEMBER[*]} rm -f $PIN_DIR/ports 2>/dev/null"
ok "... nor rename one" bash -c "! ${MEMBER[*]} mv $PIN_DIR/ports $PIN_DIR/x 2>/dev/null"
ok "... nor make one" bash -c "! ${MEMBER[*]} mkdir $PIN_DIR/x 2>/dev/null"
is "the steering is as it was" "$before" "$("$SKSTEER" --save)"
is "... and it steers" "80 8080" "$(dial 127.0.0.1:80) $(dial 127.0.0.1:8080)"

# No member can stall a writer. A member holds what it can, for ever: a lock on every
# directory and pin it can open, and a descriptor of every pinned map.
cat >"$BIN/hold.py" <<'PY'
# hold.py DIR BASE: lock and hold all a member can; prints what it could not open, then "held"
import fcntl, os, sys, time, subprocess
held, refused = [], []
for path in [sys.argv[2], sys.argv[1]] + [os.path.join(sys.argv[1], n) for n in
        ("ports", "targets", "stats", "link", "applied", "layout")]:
    try:
        fd = os.open(path, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.append(fd)
    except OSError:
        refused.append(os.path.basename(path))
print("refused:", " ".join(refused), flush=True)
print("held", flush=True)
time.sleep(120)
PY
"${MEMBER[@]}" /usr/bin/python3 "$BIN/hold.py" "$PIN_DIR" "$BASE" >"$WORK/hold.out" 2>&1 &
HOLDER_PY=$!
PIDS+=($HOLDER_PY)
eventually "grep -q held $WORK/hold.out"
like "a member cannot open the pin directory, so cannot lock it" \
	"^refused: netns-$NETNS_INO" "$(cat "$WORK/hold.out")"
# and bpf() descriptors of every map, held by a member's reader mid-read
"${MEMBER[@]}" /usr/bin/python3 -c '
import ctypes, os, platform, struct, sys, time
libc = ctypes.CDLL(None, use_errno=True)
NR = {"x86_64": 321, "aarch64": 280}[platform.machine()]
fds = []
for n in os.listdir("/proc/self/fd"): pass
for name in ("ports", "targets", "target_addrs", "stats", "tables4", "table_sel"):
    p = ctypes.create_string_buffer(os.path.join(sys.argv[1], name).encode())
    b = ctypes.create_string_buffer(struct.pack("QII", ctypes.addressof(p), 0, 8), 128)
    fds.append(libc.syscall(NR, 7, b, 128))
print("fds", *fds, flush=True)
time.sleep(120)' "$PIN_DIR" >"$WORK/fds.out" 2>&1 &
PIDS+=($!)
eventually "grep -q fds $WORK/fds.out"
like "a member holds a descriptor of each map" "^fds( [0-9]+){6}$" "$(cat "$WORK/fds.out")"
start=$(date +%s%N)
ok "a change goes through, with --wait 1" "$SKSTEER" --wait 1 -p 80,443,8081 -s 127.0.0.1:9000
is "... and steers" "8081" "$(dial 127.0.0.1:8081)"
ok "--detach goes through, with --wait 1" "$SKSTEER" --wait 1 --detach
is "... and steers nothing" "refused" "$(dial 127.0.0.1:8081)"
ok "steering again goes through" "$SKSTEER" --wait 1 -p 80,443,8080 -s 127.0.0.1:9000 \
	--group nogroup
elapsed=$((($(date +%s%N) - start) / 1000000))
ok "none of them waited for a member (${elapsed} ms for three)" [ "$elapsed" -lt 10000 ]
kill "$HOLDER_PY"

# A member's read waits for a writer, as a locked read would: it never sees half a change
hold
STDERR=$(member --wait 1 --list 2>&1 >/dev/null)
like "a member's read waits for a writer's lock, then says who holds it" \
	"^sksteer: another run \(pid $HOLDER, flock\) holds the lock on $PIN_DIR \(waited 1 s\)" \
	"$STDERR"
let_go
ok "... and reads once it is free" member --list

# Moved to another group: daemon (gid 1), whose member the outsider is
ok "--group daemon: the pins move to it" "$SKSTEER" --group daemon
is "the directory and pins daemon's" "710 root:daemon 640 root:daemon" \
	"$(modes "$PIN_DIR") $(pin_modes)"
is "every namespace's directory stays nogroup's, passable by others" "751 root:nogroup" \
	"$(modes "$BASE")"
like "daemon's member reads" "target 127\.0\.0\.1:9000" "$(outsider --list 2>&1)"
run_member --list
is "nogroup's is refused now" \
	"1 sksteer: cannot read the pins in $PIN_DIR: Permission denied: read them as root, or as a member of the group they were given to (sksteer --group NAME)" \
	"$RC $STDERR"
STDERR=$(outsider --list --all-netns 2>&1 >/dev/null)
is "daemon's member cannot list every namespace's: one line" \
	"sksteer: cannot list $BASE: Permission denied: list it as root, or as a member of the group it was given to (the first given with sksteer --group)" \
	"$STDERR"
ok "back to nogroup" "$SKSTEER" --group nogroup

# A change refused with --group: the group is not changed either
serve 127.0.0.1:7000
run_sksteer -p 7000 -s 127.0.0.1:9000 --group daemon
like "a port in use, with --group: refused" "^sksteer: .*7000" "$STDERR"
is "... and the pins are still nogroup's" "710 root:nogroup 640 root:nogroup" \
	"$(modes "$PIN_DIR") $(pin_modes)"

# Taken back: the door shuts first
ok "--group root: the owner's alone again" "$SKSTEER" --group root
is "the directory root's alone" "700 root:root" "$(modes "$PIN_DIR")"
is "its pins too" "600 root:root" "$(pin_modes)"
run_member --list
is "a member is refused now" \
	"1 sksteer: cannot read the pins in $PIN_DIR: Permission denied: read them as root, or as a member of the group they were given to (sksteer --group NAME)" \
	"$RC $STDERR"
like "a member's server answers 500, and why" "cannot read the pins in $PIN_DIR: Permission denied" \
	"$(curl -s http://127.0.0.1:9917/metrics)"

# In a configuration file: applied, saved, diffed, taken back by a file without it
printf 'group nogroup\ntcp 127.0.0.1:9000 80,443\n' >"$WORK/group.conf"
is "--dry-run of a file with a group" "~ group nogroup (was none)
- tcp 127.0.0.1:9000 8080" "$("$SKSTEER" --dry-run --config "$WORK/group.conf" | changes)"
ok "a file with 'group nogroup' applies" "$SKSTEER" --config "$WORK/group.conf"
is "... and gives the pins to the group" "710 root:nogroup 640 root:nogroup" \
	"$(modes "$PIN_DIR") $(pin_modes)"
ok "a member reads" member --check
is "--save round-trips it" "$(cat "$WORK/group.conf")" "$("$SKSTEER" --save | grep -v '^#')"
printf 'tcp 127.0.0.1:9000 80,443\n' >"$WORK/plain.conf"
is "--dry-run of a file without it" "~ group none (was nogroup)" \
	"$("$SKSTEER" --dry-run --config "$WORK/plain.conf" | changes)"
ok "a file without it applies" "$SKSTEER" --config "$WORK/plain.conf"
is "... and takes it back" "700 root:root 600 root:root" "$(modes "$PIN_DIR") $(pin_modes)"
printf 'group 65534\ntcp 127.0.0.1:9000 80,443\n' >"$WORK/number.conf"
ok "a group by its number" "$SKSTEER" --config "$WORK/number.conf"
is "... is named as /etc/group names it" "group nogroup" "$("$SKSTEER" --save | grep '^group')"

kill "$SERVER"
done_testing
