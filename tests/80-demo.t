# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The README's first command ends in `make demo`: it must work and leave nothing behind.
. "$(dirname "$0")/lib.sh"

before=$(ls /sys/fs/bpf/sksteer 2>/dev/null | sort)
servers() { pgrep -f 'netpeer serve 127.0.0.1:9000$' | sort; }
servers_before=$(servers)
"$TOP/scripts/demo.sh" >"$WORK/demo" 2>&1
is "the demo succeeds" 0 "$?"
demo=$(sed 's/\x1b\[[0-9;]*m//g' "$WORK/demo")
like "it shows a connection steered through port 80" \
	"connect to 127.0.0.1:80 +-> accepted by the server on 127.0.0.1:9000, which sees local port 80" "$demo"
like "it shows an unlisted port refused" "connect to 127.0.0.1:22 +-> refused" "$demo"
like "it shows --list" "target 127.0.0.1:9000  tcp  listening" "$demo"
like "it shows --check passing" "sksteer --check
  \(exit 0\)" "$demo"
like "it shows --trace lines" "tcp +127\.0\.0\.1:[0-9]+ +127\.0\.0\.1:8443 +steered +127\.0\.0\.1:9000" "$demo"
is "it leaves no pins behind" "$before" "$(ls /sys/fs/bpf/sksteer 2>/dev/null | sort)"
is "it leaves no server process behind" "$servers_before" "$(servers)"

done_testing
