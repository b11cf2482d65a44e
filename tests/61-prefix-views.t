# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Prefix bindings at a glance: --list's counts past 16 prefixes, --list -s TARGET and --list --dst
# PREFIX for the bindings themselves, --check of the marks that send a port to the prefixes, and
# --verbose's count of what a change wrote to the kernel.
. "$(dirname "$0")/lib.sh"

serve --label=A 127.0.0.1:9001 # unscoped
serve --label=C 127.0.0.1:9003 # 40 /24s
serve --label=D 127.0.0.1:9004 # a /32 in each
serve --label=E 127.0.0.1:9005 # a few prefixes
E_PID=$LAST_PID
serve --label=E6 '[::1]:9006' # an IPv6 target on every address

{
	echo "tcp 127.0.0.1:9001 80,443"
	echo "tcp [::1]:9006 8080"
	for i in $(seq 0 39); do
		echo "tcp 127.0.0.1:9003 22,1000-1999 dst=127.80.$i.0/24"
		echo "tcp 127.0.0.1:9004 80,443 dst=127.80.$i.7"
	done
	echo "tcp 127.0.0.1:9005 25 dst=127.90.0.0/16"
} >"$WORK/views.conf"
ok "a file with 80 prefixes" "$SKSTEER" --config "$WORK/views.conf"

LIST=$("$SKSTEER" --list)
like "--list: past 16 prefixes, one line with their count, bindings and ports" \
	"  dst      40 prefixes: 80 bindings, 40040 ports counted per prefix \(sksteer --list -s 127.0.0.1:9003 shows them\)" \
	"$LIST"
like "(the /32s' target too)" \
	"  dst      40 prefixes: 80 bindings, 80 ports counted per prefix \(sksteer --list -s 127.0.0.1:9004 " "$LIST"
like "a target with few prefixes still shows each" "  dst      127.90.0.0/16  ports 25 \(1\)" "$LIST"
is "no line per prefix past 16" 1 "$(grep -c '^  dst' <<<"$(grep -A3 '^target 127.0.0.1:9003 ' <<<"$LIST")")"

LIST=$("$SKSTEER" --list -s 127.0.0.1:9003)
is "--list -s TARGET: that target alone" 1 "$(grep -c '^target' <<<"$LIST")"
is "with each of its prefixes" 40 "$(grep -c '^  dst      127\.80\.[0-9]*\.0/24  ports 22,1000-1999 (1001)$' <<<"$LIST")"
is "and no namespace block" 0 "$(grep -c '^namespace' <<<"$LIST")"

LIST=$("$SKSTEER" --list --dst 127.80.7.0/24)
is "--list --dst PREFIX: the targets that can serve an address in it" \
	"target 127.0.0.1:9001 target 127.0.0.1:9003 target 127.0.0.1:9004" \
	"$(grep -o '^target [^ ]*' <<<"$LIST" | tr '\n' ' ' | sed 's/ $//')"
is "with the bindings there: the prefix, the /32 inside it, every address's" \
	"  ports    80,443 (2)|  dst      127.80.7.0/24  ports 22,1000-1999 (1001)|  dst      127.80.7.7/32  ports 80,443 (2)" \
	"$(grep -E '^  (ports|dst) ' <<<"$LIST" | tr '\n' '|' | sed 's/|$//')"
LIST=$("$SKSTEER" --list --dst 127.80.7.7)
like "an address: every prefix around it" "127.80.7.0/24.*127.80.7.7/32" "$(tr '\n' ' ' <<<"$LIST")"
LIST=$("$SKSTEER" --list --dst 127.0.0.0/8 -s 127.0.0.1:9005)
is "a wide prefix with -s: that target's prefixes inside it" \
	"target 127.0.0.1:9005|  dst      127.90.0.0/16  ports 25 (1)" \
	"$(grep -E '^(target|  dst|  ports)' <<<"$LIST" | sed 's/  tcp .*//' | tr '\n' '|' | sed 's/|$//')"
JSON=$("$SKSTEER" --list --json --dst 127.80.7.0/24)
ok "--list --json --dst is JSON" perl -MJSON::PP -e 'decode_json(join "", <STDIN>)' <<<"$JSON"
is "with the same selection" "127.0.0.1:9001:0 127.0.0.1:9003:1 127.0.0.1:9004:1" \
	"$(perl -MJSON::PP -e '$j = decode_json(join "", <STDIN>);
		print join " ", map { "$_->{target}:" . scalar @{$_->{dst}} } @{$j->{targets}}' <<<"$JSON")"
is "--list --json gives every prefix" 81 \
	"$("$SKSTEER" --list --json | perl -MJSON::PP -e '$j = decode_json(join "", <STDIN>);
		$n += @{$_->{dst}} for @{$j->{targets}}; print $n')"
LIST=$("$SKSTEER" --list --dst 2001:db8::/32)
is "an IPv6 prefix: the IPv6 target for every address alone" "target [::1]:9006" \
	"$(grep -o '^target [^ ]*' <<<"$LIST")"

run_sksteer --list -s 127.0.0.1:9009
is "--list -s of a target not steered: one line, exit 1" \
	"sksteer: nothing is steered to 127.0.0.1:9009 in this network namespace: sksteer --list shows the targets 1" \
	"$STDERR $RC"
run_sksteer --list --dst 10.0.0.0/8 -s 127.0.0.1:9004
is "--list of a target with no binding in the prefix: one line, exit 1" \
	"sksteer: target 127.0.0.1:9004 has no binding for an address in 10.0.0.0/8: sksteer --list -s 127.0.0.1:9004 shows its bindings 1" \
	"$STDERR $RC"
run_sksteer --list -p 80 --dst 127.80.7.0/24
is "--list with -p: a usage error" 64 "$RC"
run_sksteer --check --dst 127.80.7.0/24
is "--check takes no --dst" 64 "$RC"

# --check: a prefix's port whose key the port table does not mark is a port its lookups never
# reach (a run cut short, or a writer behind sksteer's back)
ok "--check: healthy" "$SKSTEER" --check
setport() { "$TOP/.output/setport" "$PIN_DIR" "$@"; }
setport 1500 0 # TCP key 1500: its mark cleared
is "an unmarked key: the /24s lose port 1500" "refused C:1501" \
	"$(dial 127.80.3.1:1500) $(dial 127.80.3.1:1501)"
run_sksteer --check
is "--check: exit 1" 1 "$RC"
is "one line per prefix that lost it" 40 "$(grep -c 'port 1500 for --dst 127\.80\.[0-9]*\.0/24 is not steered to it (not marked in the port table' <<<"$STDERR")"
like "naming the run that repairs it" \
	"sksteer: target 127.0.0.1:9003: port 1500 for --dst 127.80.0.0/24 is not steered to it \(not marked in the port table, so lookups miss the prefix\): run 'sksteer -p PORTS -s 127.0.0.1:9003 --dst 127.80.0.0/24' again" \
	"$STDERR"
ok "which it does" "$SKSTEER" -p 22,1000-1999 -s 127.0.0.1:9003 --dst 127.80.0.0/24
ok "--check: healthy again" "$SKSTEER" --check
is "and port 1500 steered on every /24" "C:1500 C:1500" "$(dial 127.80.3.1:1500) $(dial 127.80.39.1:1500)"

# --check: a target bound for prefixes alone whose socket is gone counts its prefixes' ports
kill "$E_PID"
for _ in $(seq 100); do ended "$E_PID" && break; sleep 0.02; done
run_sksteer --check
is "a gone target bound for a prefix alone: its prefix's ports, not 0" \
	"sksteer: target 127.0.0.1:9005: its socket is gone, so its 1 port (0 for every address, the rest for 1 prefix) is not steered: start its server, then run 'sksteer -s 127.0.0.1:9005' 1" \
	"$STDERR $RC"
ok "(its server back)" serve --label=E 127.0.0.1:9005
ok "(steered to again)" "$SKSTEER" -s 127.0.0.1:9005
ok "(healthy)" "$SKSTEER" --check

# --verbose: a change prints what it wrote to the kernel, and that grows with the change
updates() { # updates ARGS...: a run's "kernel updates N: ..." line, from --verbose
	"$SKSTEER" -v "$@" 2>&1 | grep -o 'kernel updates [0-9]*: .*'
}
U=$(updates --config "$WORK/views.conf")
like "applying the file again: no port table byte, no binding" \
	"^kernel updates [0-9]+: port table bytes 0, bindings table stores 0 \(whole tables switched 0\)" "$U"
sed 's/^tcp 127.0.0.1:9004 \(.* dst=127\.80\.1[0-9]\..*\)$/tcp 127.0.0.1:9001 \1/' \
	"$WORK/views.conf" >"$WORK/moved.conf"
U=$(updates --config "$WORK/moved.conf")
# in place, by generation: a moved entry's new copy (three words) and the old one's hide bit, then
# the copy shown and the old one a tombstone; the switch of generations (and the probes raised
# when a copy lands past them)
like "ten /32s moved to another target: six stores each and the switch, in place, no table switched" \
	"^kernel updates [0-9]+: port table bytes 0, bindings table stores 6[12] \(whole tables switched 0\)" "$U"
is "moved" "A:80 D:80" "$(dial 127.80.15.7:80) $(dial 127.80.25.7:80)"
# where the kernel cannot be asked to wait for a grace period (membarrier refused, as a
# container's seccomp profile may), no change is made in place: a whole table, as before
U=$("$NOLOAD" --membarrier "$SKSTEER" -v --config "$WORK/views.conf" 2>&1 | grep -o 'kernel updates.*')
like "membarrier refused: the ten /32s moved back with a table switched whole" \
	"^kernel updates [0-9]+: port table bytes 0, bindings table stores [0-9]+ \(whole tables switched 1\)" "$U"
is "moved back" "D:80 D:80" "$(dial 127.80.15.7:80) $(dial 127.80.25.7:80)"
ok "(and moved again, in place)" "$SKSTEER" --config "$WORK/moved.conf"
U=$(updates -p 22,1000-1999,5000 -s 127.0.0.1:9003 --dst 127.80.0.0/24)
like "a port added to a prefix: its key marked (2 bytes), its entry rewritten in place" \
	"^kernel updates [0-9]+: port table bytes 2, bindings table stores [78] \(whole tables switched 0\)" "$U"
U=$(updates -p 5000 -s 127.0.0.1:9003 --dst 127.80.99.0/27)
like "a prefix of a length the table has not: the table built again, switched whole" \
	"^kernel updates [0-9]+: port table bytes 0, bindings table stores [0-9]+ \(whole tables switched 1\)" "$U"
U=$(updates -p 5000 -s 127.0.0.1:9003 --dst 127.80.98.0/27)
like "the next of that length: in place (its entry, a marker, the switch)" \
	"^kernel updates [0-9]+: port table bytes 0, bindings table stores [0-9]+ \(whole tables switched 0\)" "$U"
is "both steered" "C:5000 C:5000" "$(dial 127.80.99.1:5000) $(dial 127.80.98.1:5000)"
U=$(updates -p 80,443,8443 -s 127.0.0.1:9001)
like "a port added for every address: one byte" "^kernel updates [0-9]+: port table bytes 1, bindings table stores 0 " "$U"
is "(steered)" "A:8443 C:5000" "$(dial 127.0.0.1:8443) $(dial 127.80.0.1:5000)"

ok "(the IPv6 target detached)" "$SKSTEER" --detach -s '[::1]:9006'
run_sksteer --list --dst 2001:db8::/32
is "--list --dst with no binding there, none for every address either: one line, exit 1" \
	"sksteer: no binding steers an address in 2001:db8::/32 in this network namespace: sksteer --list shows the targets 1" \
	"$STDERR $RC"
serve --udp --label=U6 '[::]:9008' # dual-stack: takes IPv4 too
ok "(a UDP target at [::] on 5353)" "$SKSTEER" -p 5353 -s 'udp:[::]:9008'
like "--list --dst of IPv4 names the [::] target, which takes IPv4 too" \
	"target udp:\[::\]:9008 .*ports    5353 \(1\)" "$(tr '\n' ' ' <<<"$("$SKSTEER" --list --dst 127.80.7.0/24)")"
is "--list --json --dst: every address's ports too" "80,443,8443" \
	"$("$SKSTEER" --list --json --dst 127.80.7.0/24 | perl -MJSON::PP -e '
		print map { $_->{target} eq "127.0.0.1:9001" ? $_->{ports} : () }
			@{decode_json(join "", <STDIN>)->{targets}}')"
run_sksteer --list -s 127.0.0.1:9999 --dst 127.80.7.0/24
is "-s of a target not steered, with --dst: that it is not steered" \
	"sksteer: nothing is steered to 127.0.0.1:9999 in this network namespace: sksteer --list shows the targets 1" \
	"$STDERR $RC"

done_testing
