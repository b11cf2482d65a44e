# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The hijack guard, and namespaces that never see each other's steering.
. "$(dirname "$0")/lib.sh"

serve 127.0.0.1:9000
serve --label=sshd 0.0.0.0:2222

run_sksteer -p 80,2222 -s 127.0.0.1:9000
is "steering a port another socket listens on is refused" 1 "$RC"
like "the refusal names the port, the socket and its owner" \
	"refusing to steer port 2222: 0.0.0.0:2222 \(netpeer, pid [0-9]+\).*--force" "$STDERR"
is "the refused first run steered nothing" refused "$(dial 127.0.0.1:80)"
ok "and left no pins" pins_gone

ok "steering free ports works" "$SKSTEER" -p 80 -s 127.0.0.1:9000
run_sksteer -p 80,2222 -s 127.0.0.1:9000
is "the guard also holds on a reload" 1 "$RC"
is "the refused reload changed nothing" "80 sshd:2222" "$(dial 127.0.0.1:80) $(dial 127.0.0.1:2222)"
serve --label=other 0.0.0.0:2223
serve --label=other6 '[::]:2224'
run_sksteer -p 80,2222-2224 -s 127.0.0.1:9000
like "several guarded ports are refused together" \
	"refusing to steer ports 2222-2224: .* already use them and would lose their connections" \
	"$STDERR"
for sock in '0\.0\.0\.0:2222' '0\.0\.0\.0:2223' '\[::\]:2224'; do
	like "the refusal names $sock and its owner" "$sock \(netpeer, pid [0-9]+\)" "$STDERR"
done
ok "--force steers it anyway" "$SKSTEER" -p 80,2222 -s 127.0.0.1:9000 --force
is "the port now reaches the target" 2222 "$(dial 127.0.0.1:2222)"
ok "a port already steered is not refused again" "$SKSTEER" -p 80,2222,443 -s 127.0.0.1:9000
ok "the target's own port is no hijack" "$SKSTEER" -p 9000 -s 127.0.0.1:9000

# A second network namespace with its own steering.
other=sksteer-test-$$
ip netns add "$other"
at_exit ip netns exec "$other" "$SKSTEER" --detach
at_exit ip netns del "$other"
ip netns exec "$other" ip link set lo up
ip netns exec "$other" "$NETPEER" serve --label=other 127.0.0.1:9000 >/dev/null &
PIDS+=($!)
for _ in $(seq 250); do
	ip netns exec "$other" ss -Htln 'sport = :9000' | grep -q . && break
	sleep 0.02
done
ok "the other namespace steers its own ports (under ip netns exec)" \
	ip netns exec "$other" "$SKSTEER" -p 80,81 -s 127.0.0.1:9000
is "each namespace reaches its own target" "9000 other:81 refused" \
	"$(dial 127.0.0.1:9000) $(ip netns exec "$other" "$NETPEER" connect 127.0.0.1:81) $(dial 127.0.0.1:81)"
other_ino=$(ip netns exec "$other" stat -L -c %i /proc/self/ns/net)
ok "its pins are in the host's bpffs, in a directory of its own" \
	test -e "/sys/fs/bpf/sksteer/netns-$other_ino/link" -a "$other_ino" != "$NETNS_INO"
ok "detaching the other namespace succeeds" ip netns exec "$other" "$SKSTEER" --detach
is "ours is untouched" 9000 "$(dial 127.0.0.1:9000)"
is "theirs is gone" refused "$(ip netns exec "$other" "$NETPEER" connect 127.0.0.1:81)"

# Pins of a namespace that died without --detach are removed by the next run anywhere.
unshare -n bash -c "ip link set lo up
	'$NETPEER' serve 127.0.0.1:9000 >/dev/null &
	for _ in \$(seq 250); do ss -Htln 'sport = :9000' | grep -q . && break; sleep 0.02; done
	'$SKSTEER' -p 80 -s 127.0.0.1:9000; stat -L -c %i /proc/self/ns/net >'$WORK/dead'; kill %1; wait"
dead=$(cat "$WORK/dead")
ok "a namespace that died while steering left pins" test -d "/sys/fs/bpf/sksteer/netns-$dead"
# the kernel tears a namespace down asynchronously: wait until its link is detached
for _ in $(seq 250); do
	bpftool link show | grep -q "netns_ino $dead " || break
	sleep 0.02
done
ok "a run here succeeds" "$SKSTEER" -p 80 -s 127.0.0.1:9000
# (other namespaces' pins may come and go meanwhile: tests can run side by side)
ok "and removed the dead namespace's pins" test ! -e "/sys/fs/bpf/sksteer/netns-$dead"

done_testing
