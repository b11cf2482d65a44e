# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The foundation: steering ports to a socket another process owns, and letting go.
. "$(dirname "$0")/lib.sh"

serve 127.0.0.1:9000
ok "sksteer steers 80,443,8000-8999 to 127.0.0.1:9000" \
	"$SKSTEER" -p 80,443,8000-8999 -s 127.0.0.1:9000

# sksteer has exited: everything below checks steering that outlived it
is "port 80 on 127.0.0.1 reaches the target, which sees port 80" 80 "$(dial 127.0.0.1:80)"
is "port 443 on 127.0.0.2 reaches the target" 443 "$(dial 127.0.0.2:443)"
is "a range member (8500) is steered" 8500 "$(dial 127.0.0.1:8500)"
is "the range's ends are steered" "8000 8999" "$(dial 127.0.0.1:8000) $(dial 127.0.0.1:8999)"
is "an unlisted port (81) is refused" refused "$(dial 127.0.0.1:81)"
is "the port next to the range (9001) is refused" refused "$(dial 127.0.0.1:9001)"
is "the target's own port still works" 9000 "$(dial 127.0.0.1:9000)"

link=$(bpftool -j link show | tr -d ' ')
like "the link is visible in bpftool link, attached to this namespace" \
	"\"type\":\"netns\".*\"netns_ino\":$NETNS_INO" "$link"
like "the program is named sksteer in bpftool prog" '"name":"sksteer"' \
	"$(bpftool -j prog show | tr -d ' ')"
is "pin directory is private (0700)" 700 "$(stat -c %a "$PIN_DIR")"
is "pinned objects are root-only (0600)" 600 "$(stat -c %a "$PIN_DIR"/link "$PIN_DIR"/ports | sort -u)"

ok "a second run replaces the port set" "$SKSTEER" -p 81,7000-7001 -s 127.0.0.1:9000
is "after the second run, 81 is steered" 81 "$(dial 127.0.0.1:81)"
is "after the second run, 7001 is steered" 7001 "$(dial 127.0.0.1:7001)"
is "after the second run, 80 and 8500 are no longer steered" "refused refused" \
	"$(dial 127.0.0.1:80) $(dial 127.0.0.1:8500)"
is "the second run reused the link (one link here)" 1 \
	"$(bpftool link show | grep -c "netns_ino $NETNS_INO ")"

ok "--detach succeeds" "$SKSTEER" --detach
is "after --detach, 81 is refused at once" refused "$(dial 127.0.0.1:81)"
ok "after --detach, no link is left here" bash -c "! bpftool link show | grep -q 'netns_ino $NETNS_INO '"
ok "--detach removes the pins" pins_gone
ok "--detach again is not an error" "$SKSTEER" --detach
run_sksteer --detach -s 127.0.0.1:9000
like "--detach -s with nothing steered names the target" "127.0.0.1:9000 is not a target" "$STDERR"
ok "and creates no pins" pins_gone

done_testing
