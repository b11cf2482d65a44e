# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The README's first command ends in `make demo`: it must work and leave nothing behind.
. "$(dirname "$0")/lib.sh"

# The demo in a process group of its own, whose id is the demo's pid (perl makes it, then execs
# the script, which execs unshare and itself again: one pid throughout): what the demo leaves
# running is found in that group, never among other tests' or the host's processes.
perl -e 'setpgrp(0, 0) or die "setpgrp: $!\n"; exec @ARGV or die "exec: $!\n"' \
	"$TOP/scripts/demo.sh" >"$WORK/demo" 2>&1 &
demo_pid=$!
wait "$demo_pid"
is "the demo succeeds" 0 "$?"
demo=$(sed 's/\x1b\[[0-9;]*m//g' "$WORK/demo")
like "it shows a connection steered through port 80" \
	"connect to 127.0.0.1:80 +-> accepted by the server on 127.0.0.1:9000, which sees local port 80" "$demo"
like "it shows an unlisted port refused" "connect to 127.0.0.1:22 +-> refused" "$demo"
like "it shows --list" "target 127.0.0.1:9000  tcp  listening" "$demo"
like "it shows --check passing" "sksteer --check
  \(exit 0\)" "$demo"
like "it shows --trace lines" "tcp +127\.0\.0\.1:[0-9]+ +127\.0\.0\.1:8443 +steered +127\.0\.0\.1:9000" "$demo"
# its own pins (it shows them), not the listing of every namespace's: other tests' come and go
pins=$(sed -n 's|^\$ ls \(/sys/fs/bpf/sksteer/netns-[0-9]*\)$|\1|p' <<<"$demo")
like "it shows its pins" "^/sys/fs/bpf/sksteer/netns-[0-9]+$" "$pins"
ok "it leaves no pins behind" test ! -e "$pins"
left=$(pgrep -a -g "$demo_pid")
is "it leaves no process behind (its server, its tracer)" "" "$left"
[ -z "$left" ] || kill -- -"$demo_pid" # only then: with none left, the group and its id are gone

done_testing
