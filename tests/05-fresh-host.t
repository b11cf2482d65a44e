# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# A new user's host: no bpffs mounted. Runs in a private mount namespace with /sys/fs/bpf
# unmounted, whatever the machine's own state, and checks what a new user hits first.
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
like "--check says nothing is steered, and fails" "^sksteer: nothing is steered in this network namespace" \
	"$STDERR $RC"
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

done_testing
