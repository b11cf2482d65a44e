# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# A new user's host: no bpffs mounted. Runs in a private mount namespace with /sys/fs/bpf
# unmounted, whatever the machine's own state, and checks what a new user hits first; then the
# same with /proc/1 unreadable (as in many containers), and in a PID namespace with its own /proc.
PRIVATE_MOUNTS=1
. "$(dirname "$0")/lib.sh"

unmount_bpffs() { # every bpffs stacked on /sys/fs/bpf, in this private mount namespace only
	while [ "$(stat -f -c %T /sys/fs/bpf)" = bpf_fs ]; do umount /sys/fs/bpf || return 1; done
}
fstype() { stat -f -c %T /sys/fs/bpf; }

unmount_bpffs
is "the test starts without bpffs" sysfs "$(fstype)"

is "--list finds nothing steered" "not steering in this network namespace" "$("$SKSTEER" --list)"
run_sksteer --check
like "--check says nothing is steered" "^sksteer: nothing is steered in this network namespace" "$STDERR"
is "and fails with 1, as for any problem" 1 "$RC"
is "--detach is a no-op" 0 "$("$SKSTEER" --detach; echo $?)"
is "none of them mounts bpffs" sysfs "$(fstype)"

# The README's first command ends in `make demo`.
"$TOP/scripts/demo.sh" >"$WORK/demo" 2>&1
is "the demo succeeds on a host without bpffs" 0 "$?"
demo=$(sed 's/\x1b\[[0-9;]*m//g' "$WORK/demo")
like "the demo shows a connection steered through port 80" \
	"connect to 127.0.0.1:80 +-> accepted by the server on 127.0.0.1:9000, which sees local port 80" \
	"$demo"
like "the demo shows --list" "target 127.0.0.1:9000  tcp  listening" "$demo"
is "the demo leaves no pins" "" "$(ls /sys/fs/bpf/sksteer 2>/dev/null)"

# A steer, list, check and detach round, from scratch.
unmount_bpffs
serve 127.0.0.1:9000
ok "the first run steers" "$SKSTEER" -p 80,8000-8099 -s 127.0.0.1:9000
is "it mounted bpffs on /sys/fs/bpf" bpf_fs "$(fstype)"
is "mode 1700, as systemd mounts it" 1700 "$(stat -c %a /sys/fs/bpf)"
is "port 80 is steered" 80 "$(dial 127.0.0.1:80)"
like "--list shows the target" "target 127.0.0.1:9000  tcp  listening" "$("$SKSTEER" --list)"
ok "--check is quiet and succeeds" test -z "$("$SKSTEER" --check 2>&1)"
ok "--detach" "$SKSTEER" --detach
is "port 80 is refused again" refused "$(dial 127.0.0.1:80)"
ok "no pins are left" pins_gone

# `ip netns exec NAME sksteer`: the command's mount namespace ends with it, so the pins go to
# the bpffs of the namespace ip was run from, mounted there if it is missing.
unmount_bpffs
netns_add
serve_in "$NS" 127.0.0.1:9000
ns_pins=/sys/fs/bpf/sksteer/netns-$(netns_ino "/run/netns/$NS")
ok "under ip netns exec, a run steers" ip netns exec "$NS" "$SKSTEER" -p 80 -s 127.0.0.1:9000
is "it mounted bpffs in the namespace ip was run from" bpf_fs "$(fstype)"
ok "and pinned there, under the namespace's inode" test -e "$ns_pins/link"
is "port 80 is steered in that namespace" 80 "$(dial_in "$NS" 127.0.0.1:80)"
like "--list under ip netns exec finds the pins" "target 127.0.0.1:9000  tcp  listening" \
	"$(ip netns exec "$NS" "$SKSTEER" --list)"
like "--list --netns from outside finds the same" "pins     $ns_pins" \
	"$("$SKSTEER" --netns "/run/netns/$NS" --list)"
ok "a second run under ip netns exec changes it in place" \
	ip netns exec "$NS" "$SKSTEER" -p 81 -s 127.0.0.1:9000
is "port 81 is steered, 80 no longer" "81 refused" \
	"$(dial_in "$NS" 127.0.0.1:81) $(dial_in "$NS" 127.0.0.1:80)"
ok "--detach under ip netns exec" ip netns exec "$NS" "$SKSTEER" --detach
ok "removes the pins" test ! -e "$ns_pins"

# /proc/1 unreadable, as in many containers: sksteer decides nothing from it. An empty tmpfs of
# mode 000 covers it (in this test's mount namespace only), and sksteer runs without
# CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, as root in a container may: EACCES, as there.
mount -t tmpfs -o mode=000,size=4k sksteer-test-hidden /proc/1
at_exit umount /proc/1
cat >"$WORK/sksteer-nodac" <<EOF
#!/bin/sh
exec setpriv --bounding-set=-dac_override,-dac_read_search --inh-caps=-dac_override,-dac_read_search -- "$SKSTEER" "\$@"
EOF
chmod +x "$WORK/sksteer-nodac"
SKSTEER_REAL=$SKSTEER
SKSTEER=$WORK/sksteer-nodac # the helpers (trace_start, run_sksteer) use it too
like "/proc/1/ns/net cannot be read" "Permission denied" \
	"$(setpriv --bounding-set=-dac_override,-dac_read_search -- stat -L /proc/1/ns/net 2>&1)"
unmount_bpffs
is "(no bpffs again)" sysfs "$(fstype)"
serve --label=h 127.0.0.1:9002
ok "with /proc/1 unreadable, the first run steers" "$SKSTEER" -p 80,8000-8099 -s 127.0.0.1:9002
is "it mounted bpffs on /sys/fs/bpf" bpf_fs "$(fstype)"
is "port 80 is steered" h:80 "$(dial 127.0.0.1:80)"
like "--list shows the target and its owner" "target 127.0.0.1:9002  tcp  listening  pid $LAST_PID \\(netpeer\\)" \
	"$("$SKSTEER" --list)"
ok "--check is quiet and succeeds" test -z "$("$SKSTEER" --check 2>&1)"
like "--metrics counts the lookup" \
	"sksteer_lookups_total\{netns=\"$NETNS_INO\",target=\"127.0.0.1:9002\",verdict=\"steered\"\} 1" \
	"$("$SKSTEER" --metrics)"
ok "--trace starts" trace_start "$WORK/trace"
dial 127.0.0.1:8050 >/dev/null
trace_stop
like "and traces" "127\.0\.0\.1:8050 +steered +127\.0\.0\.1:9002" "$(cat "$WORK/trace")"
"$SKSTEER" --save >"$WORK/hidden.conf"
ok "--config of what --save wrote changes nothing" test -z "$("$SKSTEER" --config "$WORK/hidden.conf" --dry-run)"
netns_add
serve_in "$NS" 127.0.0.1:9000
ns_pins=/sys/fs/bpf/sksteer/netns-$(netns_ino "/run/netns/$NS")
ok "under ip netns exec, a run steers" ip netns exec "$NS" "$SKSTEER" -p 81 -s 127.0.0.1:9000
ok "pinning where ip was run from" test -e "$ns_pins/link"
is "port 81 is steered in that namespace" 81 "$(dial_in "$NS" 127.0.0.1:81)"
ok "--netns from outside steers there too" "$SKSTEER" --netns "/run/netns/$NS" -p 81,82 -s 127.0.0.1:9000
is "port 82 is steered in that namespace" 82 "$(dial_in "$NS" 127.0.0.1:82)"
ok "--detach --netns" "$SKSTEER" --netns "/run/netns/$NS" --detach
ok "removes its pins" test ! -e "$ns_pins"

# A PID namespace with a /proc of its own, where sksteer is pid 1 and the server's pid is not
# there: the socket is found all the same; --list leaves the owner out.
serve --label=p 127.0.0.1:9001
ok "in a PID namespace with its own /proc, a run steers" \
	unshare --pid --fork --mount-proc "$SKSTEER" -p 83 -s 127.0.0.1:9001
is "port 83 is steered" p:83 "$(dial 127.0.0.1:83)"
like "--list there shows the target, without an owner it cannot see" \
	"(^|
)target 127.0.0.1:9001  tcp  listening
  ports    83 \(1\)" "$(unshare --pid --fork --mount-proc "$SKSTEER" --list)"
ok "--detach" "$SKSTEER" --detach
ok "no pins are left" pins_gone
SKSTEER=$SKSTEER_REAL

done_testing
