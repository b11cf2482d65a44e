#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# A short live demonstration in a throwaway network namespace; leaves nothing behind.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
	echo "make demo: sksteer loads a BPF program and needs root: run 'sudo make demo'" >&2
	exit 1
fi
if [ -z "${SKSTEER_DEMO_NETNS:-}" ]; then
	exec unshare -n -- env SKSTEER_DEMO_NETNS=1 "$0" "$@"
fi

SKSTEER=./sksteer
NETPEER=.output/netpeer
trace_out=$(mktemp)
ip link set lo up
cleanup() {
	$SKSTEER --detach 2>/dev/null || true
	kill "${server:-}" 2>/dev/null || true
	rm -f "$trace_out"
}
trap cleanup EXIT

say() { printf '\n\033[1m# %s\033[0m\n' "$*"; }
run() {
	printf '$ %s\n' "$*"
	"$@"
}
dial() {
	printf '  connect to %-16s -> ' "$1"
	local port
	port=$($NETPEER connect "$1" || true)
	case $port in
	refused) echo "refused" ;;
	*) echo "accepted by the server on 127.0.0.1:9000, which sees local port $port" ;;
	esac
}

say "A server, owned by another process, listens on 127.0.0.1:9000 only"
$NETPEER serve 127.0.0.1:9000 >/dev/null &
server=$!
until ss -Htln 'sport = :9000' | grep -q .; do sleep 0.02; done
dial 127.0.0.1:80

say "Steer ports 80, 443 and 8000-8999, on every local address, to that socket; sksteer exits"
run $SKSTEER -p 80,443,8000-8999 -s 127.0.0.1:9000
for addr in 127.0.0.1:80 127.0.0.2:443 127.0.0.1:8080 127.0.0.1:22; do
	dial $addr
done

say "What this namespace steers, with counters (--list)"
run $SKSTEER --list

say "A health check for probes and monitoring: silent when all is well (--check)"
run $SKSTEER --check && echo "  (exit 0)"

say "Each lookup the program sees (--trace), while three clients connect"
$SKSTEER --trace >"$trace_out" 2>&1 &
tracer=$!
until $SKSTEER --list | grep -q "tracer   pid"; do sleep 0.02; done
for addr in 127.0.0.1:80 127.0.0.1:8443 127.0.0.1:22; do $NETPEER connect $addr >/dev/null || true; done
kill -INT $tracer
wait $tracer || true
printf '$ %s\n' "$SKSTEER --trace"
cat "$trace_out"

say "The steering is pinned in bpffs and visible to bpftool"
run ls "/sys/fs/bpf/sksteer/netns-$(stat -L -c %i /proc/self/ns/net)"
run bpftool link show

say "Run again to change the ports in place: now only 22"
run $SKSTEER -p 22 -s 127.0.0.1:9000
dial 127.0.0.1:80
dial 127.0.0.1:22

say "Stop steering"
run $SKSTEER --detach
dial 127.0.0.1:22
