# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Destination-scoped bindings (--dst PREFIX): the most specific prefix wins, per protocol and
# family; removing a binding lets the next one take over; listing, tracing, bad prefixes.
. "$(dirname "$0")/lib.sh"

# IPv6 destinations on lo beside ::1 (IPv4 has all of 127.0.0.0/8 there already)
for a in 2001:db8:1:1::1 2001:db8:1:1::2 2001:db8:1:2::1 2001:db8:2::1; do
	ip addr add "$a/128" dev lo nodad
done

serve --label=A 127.0.0.1:9001 # unscoped
serve --label=B 127.0.0.1:9002 # /16
serve --label=C 127.0.0.1:9003 # /24
serve --label=D 127.0.0.1:9004 # /32
serve --label=A6 '[::1]:9001'
serve --label=B6 '[::1]:9002'
serve --label=C6 '[::1]:9003'
serve --label=D6 '[::1]:9004'
serve --udp --label=UA 127.0.0.1:9001
serve --udp --label=UC 127.0.0.1:9003
serve --udp --label=UD 127.0.0.1:9004

ok "unscoped: 80,443 to A" "$SKSTEER" -p 80,443 -s 127.0.0.1:9001
ok "--dst 127.1.0.0/16: 80 to B" "$SKSTEER" -p 80 -s 127.0.0.1:9002 --dst 127.1.0.0/16
ok "--dst 127.1.2.0/24: 80,443 to C" "$SKSTEER" -p 80,443 -s 127.0.0.1:9003 --dst 127.1.2.0/24
ok "--dst 127.1.2.3 (a /32): 80 to D" "$SKSTEER" -p 80 -s 127.0.0.1:9004 --dst 127.1.2.3

where() { # where ADDR:PORT...: who answers at each
	local out=() a
	for a in "$@"; do out+=("$(dial "$a")"); done
	echo "${out[*]}"
}
is "TCP, IPv4: /32 over /24 over /16 over unscoped" \
	"D:80 C:80 B:80 A:80 C:443 A:443 A:443" \
	"$(where 127.1.2.3:80 127.1.2.4:80 127.1.9.9:80 127.2.0.1:80 127.1.2.3:443 127.1.9.9:443 127.0.0.1:443)"
is "an unsteered port stays unsteered on every prefix" "refused" "$(dial 127.1.2.3:81)"

# the same port on different prefixes is no conflict; on the same prefix it is
ok "the /24's port 80 again, to the same target: no change" \
	"$SKSTEER" -p 80,443 -s 127.0.0.1:9003 --dst 127.1.2.0/24
run_sksteer -p 80 -s 127.0.0.1:9001 --dst 127.1.2.0/24
like "port 80 on the /24 to another target: a conflict naming the prefix" \
	"ports 80 for --dst 127.1.2.0/24 belong to target 127.0.0.1:9003 .*--force" "$STDERR"
is "and nothing changed" "C:80" "$(dial 127.1.2.9:80)"

# --list, --list --json, --metrics and --save show each binding's prefix
LIST=$("$SKSTEER" --list)
like "--list: the /24's ports under its target" \
	"target 127.0.0.1:9003 .*
  dst      127.1.2.0/24  ports 80,443 \(2\)" "$LIST"
like "--list: the /32's" "dst      127.1.2.3/32  ports 80 \(1\)" "$LIST"
like "--list --json: prefix and ports" \
	'"dst":\[\{"prefix":"127.1.2.0/24","ports":"80,443","port_count":2\}\]' \
	"$("$SKSTEER" --list --json)"
METRICS=$("$SKSTEER" --metrics)
like "--metrics: a target's prefixes" \
	'sksteer_target_dst_prefixes\{netns="[0-9]+",target="127.0.0.1:9003"\} 1' "$METRICS"
like "--metrics: and their ports, summed" \
	'sksteer_target_dst_ports\{netns="[0-9]+",target="127.0.0.1:9003"\} 2' "$METRICS"
ok "--metrics: no series a prefix (a namespace may have a million)" \
	sh -c '! echo "$1" | grep -q dst=' sh "$METRICS"

# with the capabilities --help names: CAP_BPF alone reads them, the three steer with --dst:
# a port added on a prefix (its scope table written), a new prefix (a table made and pinned),
# and both undone (a table dropped)
caps() { local c=$1; shift; setpriv --inh-caps=-all,$c --ambient-caps=-all,$c --bounding-set=-all,$c -- "$@"; }
like "--list with CAP_BPF alone reads the prefixes' tables" "dst      127.1.2.0/24  ports 80,443" \
	"$(caps +bpf "$SKSTEER" --list 2>&1)"
ok "--dst with the capabilities steering needs (lib.sh's LOAD_CAPS): 443 added on the /32" \
	caps "$LOAD_CAPS" "$SKSTEER" -p 80,443 -s 127.0.0.1:9004 --dst 127.1.2.3
ok "(and a new prefix, 127.7.0.0/16: 87 to B)" \
	caps "$LOAD_CAPS" "$SKSTEER" -p 87 -s 127.0.0.1:9002 --dst 127.7.0.0/16
is "443 on the /32 goes to D now, beside it to C still; 87 on the new prefix to B" \
	"D:443 C:443 B:87 refused" "$(where 127.1.2.3:443 127.1.2.4:443 127.7.0.1:87 127.6.0.1:87)"
ok "(443 taken back from the /32)" caps "$LOAD_CAPS" "$SKSTEER" -p 80 -s 127.0.0.1:9004 --dst 127.1.2.3
ok "(and the new prefix detached)" caps "$LOAD_CAPS" "$SKSTEER" --detach -s 127.0.0.1:9002 --dst 127.7.0.0/16
is "both undone: 443 on the /32 to C, 87 nowhere; the /16's 80 still to B" "C:443 D:80 refused B:80" \
	"$(where 127.1.2.3:443 127.1.2.3:80 127.7.0.1:87 127.1.9.9:80)"

# --trace names the prefix whose binding chose the target
OUT=$WORK/trace
trace_start "$OUT"
dial 127.1.2.4:80 >/dev/null
dial 127.0.0.1:80 >/dev/null
# a prefix that comes while tracing, goes, and another that takes its scope
"$SKSTEER" -p 85 -s 127.0.0.1:9001 --dst 127.8.0.0/16
dial 127.8.0.1:85 >/dev/null
"$SKSTEER" --detach -s 127.0.0.1:9001 --dst 127.8.0.0/16
"$SKSTEER" -p 86 -s 127.0.0.1:9001 --dst 127.9.0.0/16
dial 127.9.0.1:86 >/dev/null
"$SKSTEER" --detach -s 127.0.0.1:9001 --dst 127.9.0.0/16
trace_stop >/dev/null
like "--trace: a scoped lookup names its prefix" \
	"steered +127.0.0.1:9003 for 127.1.2.0/24" "$(cat "$OUT")"
like "--trace: a prefix added while tracing" "127.8.0.1:85 +steered +127.0.0.1:9001 for 127.8.0.0/16" \
	"$(cat "$OUT")"
like "--trace: and one that took its scope after it went" \
	"127.9.0.1:86 +steered +127.0.0.1:9001 for 127.9.0.0/16" "$(cat "$OUT")"
like "--trace: an unscoped one does not" "127.0.0.1:80 +steered +127.0.0.1:9001$" \
	"$(grep 127.0.0.1:80 "$OUT")"

# --save writes a line per prefix; the file applies back as a no-op, and as a configuration
SAVED=$WORK/saved.conf
"$SKSTEER" --save >"$SAVED"
like "--save: a dst= line per prefix a target binds" \
	"tcp 127.0.0.1:9003 80,443 dst=127.1.2.0/24" "$(cat "$SAVED")"
like "--save: the unscoped line, and the /32's" "tcp 127.0.0.1:9001 80,443
tcp 127.0.0.1:9002 80 dst=127.1.0.0/16
tcp 127.0.0.1:9003 80,443 dst=127.1.2.0/24
tcp 127.0.0.1:9004 80 dst=127.1.2.3/32" "$(cat "$SAVED")"
"$SKSTEER" --config "$SAVED" --dry-run >/dev/null
is "--config --dry-run of the saved file: in sync" 0 $?
sed 's|^tcp 127.0.0.1:9003 80,443 dst=127.1.2.0/24$|tcp 127.0.0.1:9003 443 dst=127.1.2.0/24|' \
	"$SAVED" >"$WORK/less.conf"
like "--dry-run of a file with port 80 gone from the /24" \
	"^- tcp 127.0.0.1:9003 80 dst=127.1.2.0/24$" \
	"$("$SKSTEER" --config "$WORK/less.conf" --dry-run | changes)"
ok "--config applies it" "$SKSTEER" --config "$WORK/less.conf"
is "port 80 on the /24 falls back to the /16; the /32 keeps its own" "B:80 D:80 C:443" \
	"$(where 127.1.2.4:80 127.1.2.3:80 127.1.2.4:443)"
ok "--config puts the saved file back" "$SKSTEER" --config "$SAVED"
is "as it was" "C:80 D:80" "$(where 127.1.2.4:80 127.1.2.3:80)"
printf 'tcp 127.0.0.1:9003 80 dst=127.1.2.0/24 fail-closed\ntcp 127.0.0.1:9003 443\n' \
	>"$WORK/odd.conf"
run_sksteer --config "$WORK/odd.conf"
like "a target's lines with other options: refused, naming the line" \
	"odd.conf:2: target 127.0.0.1:9003 has other options on line 1" "$STDERR"
printf 'tcp 127.0.0.1:9003 80 dst=127.1.2.0/24\ntcp 127.0.0.1:9002 80 dst=127.1.2.0/24\n' \
	>"$WORK/twice.conf"
run_sksteer --config "$WORK/twice.conf"
like "one port on one prefix for two targets: refused" \
	"twice.conf:2: tcp port 80 already belongs to 127.0.0.1:9003 on line 1" "$STDERR"
printf 'tcp 127.0.0.1:9003 80 dst=127.1.2.0/24 dst=127.1.3.0/24\n' >"$WORK/twodst.conf"
run_sksteer --config "$WORK/twodst.conf"
like "two dst= on a line: refused" "twodst.conf:1: dst= given twice: a line binds one prefix" \
	"$STDERR"
printf 'tcp 127.0.0.1:9003 80 dst=127.1.2.1/24\n' >"$WORK/bits.conf"
run_sksteer --config "$WORK/bits.conf"
like "a bad dst= in a file: FILE:LINE and the prefix's problem" \
	"bits.conf:1: dst='127.1.2.1/24': host bits are set" "$STDERR"
is "and nothing changed" "$(cat "$SAVED")" "$("$SKSTEER" --save)"

# removing a binding lets the next most specific take over
ok "--detach -s D --dst 127.1.2.3" "$SKSTEER" --detach -s 127.0.0.1:9004 --dst 127.1.2.3
is "127.1.2.3 falls back to the /24" "C:80" "$(dial 127.1.2.3:80)"
ok "a smaller -p on the /24: 443 only" "$SKSTEER" -p 443 -s 127.0.0.1:9003 --dst 127.1.2.0/24
is "port 80 on the /24 falls back to the /16" "B:80 C:443" "$(where 127.1.2.4:80 127.1.2.4:443)"
ok "--detach -s B (its only binding is the /16)" "$SKSTEER" --detach -s 127.0.0.1:9002
is "then to the unscoped binding" "A:80" "$(dial 127.1.2.4:80)"
unlike_scope() { ! "$SKSTEER" --list | grep -q "127.1.0.0/16"; }
ok "the /16 binds nothing now: gone from --list" unlike_scope

# UDP: the same rules, on its own ports
ok "UDP unscoped 5353 to UA" "$SKSTEER" -p 5353 -s udp:127.0.0.1:9001
ok "UDP /24 5353 to UC" "$SKSTEER" -p 5353 -s udp:127.0.0.1:9003 --dst 127.1.2.0/24
ok "UDP /32 5353 to UD" "$SKSTEER" -p 5353 -s udp:127.0.0.1:9004 --dst 127.1.2.3/32
is "UDP: /32, /24, unscoped" "UD:5353 UC:5353 UA:5353 " \
	"$(for a in 127.1.2.3 127.1.2.4 127.3.0.1; do printf '%s ' "$(dial --udp $a:5353)"; done)"
is "TCP 443 unaffected by the UDP bindings" "C:443" "$(dial 127.1.2.3:443)"

# IPv6: /128 over /64 over /48 over unscoped
ok "IPv6 unscoped 8080 to A6" "$SKSTEER" -p 8080 -s '[::1]:9001'
ok "IPv6 /48" "$SKSTEER" -p 8080 -s '[::1]:9002' --dst 2001:db8:1::/48
ok "IPv6 /64" "$SKSTEER" -p 8080 -s '[::1]:9003' --dst 2001:db8:1:1::/64
ok "IPv6 /128" "$SKSTEER" -p 8080 -s '[::1]:9004' --dst 2001:db8:1:1::1
is "IPv6: /128, /64, /48, unscoped" "D6:8080 C6:8080 B6:8080 A6:8080 A6:8080" \
	"$(where '[2001:db8:1:1::1]:8080' '[2001:db8:1:1::2]:8080' '[2001:db8:1:2::1]:8080' \
		'[2001:db8:2::1]:8080' '[::1]:8080')"
is "an IPv4 prefix never takes IPv6 lookups, nor the reverse" "A:80" "$(dial 127.1.2.4:80)"

# UDP over IPv6: the /64's binding over the unscoped one
serve --udp --label=U6A '[::1]:9001'
serve --udp --label=U6C '[::1]:9003'
ok "UDP IPv6 unscoped 5353" "$SKSTEER" -p 5353 -s 'udp:[::1]:9001'
ok "UDP IPv6 /64 5353" "$SKSTEER" -p 5353 -s 'udp:[::1]:9003' --dst 2001:db8:1:1::/64
is "UDP, IPv6: /64, unscoped" "U6C:5353 U6A:5353" \
	"$(dial --udp '[2001:db8:1:1::2]:5353') $(dial --udp '[2001:db8:2::1]:5353')"

# The hijack guard, per prefix: a socket bound to an address in the prefix (or to every
# address) would lose connections; one bound outside it loses nothing.
serve --label=OWN 127.1.2.5:7000
run_sksteer -p 7000 -s 127.0.0.1:9001 --dst 127.1.2.0/24
like "a socket at an address in the prefix: refused, named" \
	"refusing to steer port 7000: 127.1.2.5:7000 \(netpeer" "$STDERR"
is "it keeps its connections" "OWN:7000" "$(dial 127.1.2.5:7000)"
ok "a prefix that does not hold its address: no hijack" \
	"$SKSTEER" -p 7000 -s 127.0.0.1:9001 --dst 127.7.0.0/16
is "both get their own" "OWN:7000 A:7000" "$(where 127.1.2.5:7000 127.7.0.1:7000)"
ok "--force on the prefix that holds it" \
	"$SKSTEER" -p 7000 -s 127.0.0.1:9001 --dst 127.1.2.0/24 --force
is "steered there now" "A:7000" "$(dial 127.1.2.5:7000)"
ok "--force moves a port on a prefix from another target" \
	"$SKSTEER" -p 80,7000 -s 127.0.0.1:9001 --dst 127.1.2.0/24 --force
is "the /24's port 80 is A's; its 443 stays C's" "A:80 C:443" \
	"$(where 127.1.2.4:80 127.1.2.4:443)"
ok "and back" "$SKSTEER" -p 80,443 -s 127.0.0.1:9003 --dst 127.1.2.0/24 --force
ok "the /24 without A" "$SKSTEER" --detach -s 127.0.0.1:9001 --dst 127.1.2.0/24
ok "and the /16" "$SKSTEER" --detach -s 127.0.0.1:9001 --dst 127.7.0.0/16
is "as before" "C:80 OWN:7000" "$(where 127.1.2.4:80 127.1.2.5:7000)"

# prefix ranges apply, and fall back, as a whole (how fast: make bench, "ports on a /24")
ok "a /24 over 10000-65535" "$SKSTEER" -p 10000-65535 -s 127.0.0.1:9003 --dst 127.9.9.0/24
is "ports in it, at both ends, on the prefix and off it" "C:10000 C:65535 C:40000 refused" \
	"$(where 127.9.9.1:10000 127.9.9.2:65535 127.9.9.1:40000 127.9.8.1:40000)"
ok "and removed" "$SKSTEER" --detach -s 127.0.0.1:9003 --dst 127.9.9.0/24

# Many prefixes: the loader keeps a prefix's bindings as runs of ports, the kernel in the
# bindings table; a file with 2,000 prefixes (a /24 on every port, a /32 inside on two) applies
# in one run, and each prefix costs bytes, not a table
# (the loader's business: a vmtest guest leaves it to the host; make bench times the scale)
if [ -z "${SKSTEER_VMTEST:-}" ]; then
	BEFORE=$("$SKSTEER" --save)
	pinned_bytes() { # the kernel memory of every map pinned here
		local pin total=0 b
		for pin in "$PIN_DIR"/*; do
			b=$(bpftool -j map show pinned "$pin" 2>/dev/null | grep -o '"bytes_memlock":[0-9]*')
			b=${b#*:}
			total=$((total + ${b:-0}))
		done
		echo "$total"
	}
	BYTES=$(pinned_bytes)
	{
		echo "$BEFORE" | grep -v '^#'
		for i in $(seq 0 999); do
			echo "tcp 127.0.0.1:9003 1-65535 dst=127.$((60 + i / 256)).$((i % 256)).0/24"
			echo "tcp 127.0.0.1:9004 80,443 dst=127.$((60 + i / 256)).$((i % 256)).7"
		done
	} >"$WORK/many.conf"
	ok "2,000 prefixes in one file" "$SKSTEER" --config "$WORK/many.conf"
	is "each binds its ports: a /24 on every port, the /32 inside on 80" \
		"C:22 C:80 D:80 D:443 C:65535 C:80" \
		"$(where 127.60.0.1:22 127.60.0.1:80 127.60.0.7:80 127.63.231.7:443 127.63.231.9:65535 \
			127.63.231.8:80)"
	is "a port the /32 does not bind falls to the /24" "C:22" "$(dial 127.63.231.7:22)"
	is "outside them all, the unscoped binding" "A:80" "$(dial 127.59.0.1:80)"
	GREW=$(($(pinned_bytes) - BYTES))
	ok "2,000 prefixes took under 100 bytes of kernel memory each ($GREW bytes)" \
		test "$GREW" -lt 200000
	is "--save gives the file back" "$(grep -c . "$WORK/many.conf")" \
		"$("$SKSTEER" --save | grep -vc '^#')"
	is "--list -s names each prefix of a target" 1000 \
		"$("$SKSTEER" --list -s 127.0.0.1:9003 | grep -c '^  dst      127\.6[0-3]\.[0-9]*\.0/24  ports 1-65535 ')"
	like "--list counts them (and the /24 from before)" \
		"dst      1000 prefixes: 2000 bindings, 2000 ports counted per prefix .*-s 127.0.0.1:9004" \
		"$("$SKSTEER" --list)"
	ok "applying it again changes nothing" "$SKSTEER" --config "$WORK/many.conf"
	sed -i 's|^tcp 127.0.0.1:9004 80,443 dst=127.63.231.7$|tcp 127.0.0.1:9004 80 dst=127.63.231.7|' \
		"$WORK/many.conf"
	ok "a one-line change" "$SKSTEER" --config "$WORK/many.conf"
	is "takes effect, the rest as it was" "C:443 D:80 D:443" \
		"$(where 127.63.231.7:443 127.63.231.7:80 127.63.230.7:443)"
	# six switches between two files that move the 1,000 /32s between D and B, under load
	sed 's/^tcp 127.0.0.1:9004 \(.* dst=127\.6[0-3]\..*\)$/tcp 127.0.0.1:9002 \1/' \
		"$WORK/many.conf" >"$WORK/many2.conf"
	loop_start --name=kept --expect=C:80 127.60.0.1:80
	loop_start --name=moved --expect=D:80 --expect=B:80 127.60.0.7:80
	for f in many2 many many2 many many2 many; do
		"$SKSTEER" --config "$WORK/$f.conf" || echo "switch to $f.conf failed" >&2
	done
	loop_check --name=kept "a client on a binding both files keep: no failure over six switches"
	loop_check --name=moved "one on a /32 the switches move: no failure, D or B alone"
	is "and each switch took: the last one's owner" "D:80 D:80" \
		"$(where 127.60.0.7:80 127.62.5.7:80)"
	# six switches between files that differ in 200 bindings, 100 /32s gone and 100 new ones,
	# under load: made in the table in use (whole tables switched 0), by generation
	awk '/dst=127\.60\.[0-9]*\.7$/ && ++n <= 100 { sub(/\.7$/, ".9") } { print }' \
		"$WORK/many.conf" >"$WORK/many3.conf"
	loop_start --name=kept --expect=C:80 127.60.0.1:80
	loop_start --name=comes --expect=C:80 --expect=D:80 127.60.5.9:80
	loop_start --name=goes --expect=C:80 --expect=D:80 127.60.5.7:80
	for f in many3 many many3 many many3; do
		"$SKSTEER" -v --config "$WORK/$f.conf" 2>&1 | grep -o 'kernel updates.*' >>"$WORK/switches" ||
			echo "switch to $f.conf failed" >&2
	done
	loop_check --name=kept "a client on a binding both files keep: no failure over five switches of prefixes"
	loop_check --name=comes "one on a /32 that comes and goes: no failure, D or the /24's C alone"
	loop_check --name=goes "one on a /32 that goes and comes: no failure, the /24's C or D alone"
	is "each switch made in place: no whole table switched" 5 \
		"$(grep -c 'whole tables switched 0' "$WORK/switches")"
	is "and each took" "D:80 C:80 D:80" "$(where 127.60.5.9:80 127.60.5.7:80 127.60.200.7:80)"
	"$SKSTEER" --config "$WORK/many.conf"
	echo "$BEFORE" >"$WORK/before.conf"
	ok "and all of it removed again" "$SKSTEER" --config "$WORK/before.conf"
	is "as before" "$BEFORE" "$("$SKSTEER" --save)"
	scope_pins() { ls "$PIN_DIR" | grep -c '^scope_'; }
	is "no table a prefix: scope table 0 alone" 1 "$(scope_pins)"
else
	skip "2,000 prefixes: in a vmtest guest, the host's run checks them"
fi

# A scope table of a prefix as layouts 4-5 pinned them, left by a migration cut short: it binds
# nothing a lookup reaches; readers ignore it, the next change removes it.
BEFORE=$("$SKSTEER" --save)
bpftool map create "$PIN_DIR/scope_30" type array key 4 value 8 entries 16384 name scope_30 \
	flags 1024
bpftool map update pinned "$PIN_DIR/scope_30" key 10 0 0 0 value 1 0 0 0 0 0 0 0
SAVE_NOW=$("$SKSTEER" --save)
is "--save ignores a table of an older layout" "$BEFORE" "$SAVE_NOW"
ok "the next change" "$SKSTEER" -p 80,443 -s 127.0.0.1:9001
ok "removes it" test ! -e "$PIN_DIR/scope_30"

# A run cut short between two stores of a change: the next change repairs the marks.
setport() { "$TOP/.output/setport" "$PIN_DIR" "$@"; }
table_byte() { # table_byte TABLE KEY: the route the pinned table holds for KEY
	local e=$(($2 / 8))
	bpftool -j map lookup pinned "$PIN_DIR/$1" key $((e & 255)) $((e >> 8 & 255)) $((e >> 16)) 0 |
		perl -MJSON::PP -e '$j = decode_json(join "", <>); $k = '"$(($2 % 8))"';
			# raw bytes, or (a map with BTF) the formatted u64
			$v = $j->{formatted} ? $j->{formatted}{value} : $j->{value};
			print ref $v ? hex($v->[$k]) : ($v >> (8 * $k)) & 0xff'
}
R80=$(table_byte scope_0 80) # A's route: port 80 is marked, the /24 and the /32 bind it
setport 80 "$R80" # the mark lost, as after a run cut short before writing it
is "a key a prefix binds left unmarked: its prefix is not seen" "A:80" "$(dial 127.1.2.4:80)"
"$SKSTEER" -p 80,443,6001 -s 127.0.0.1:9001 # 6001: every address, no prefix
setport 6001 "$R80" scope_0
setport 6001 255 # a mark no prefix needs, as after a run cut short before unmarking
is "a mark no prefix needs still steers (to the unscoped route)" "A:6001" "$(dial 127.1.2.4:6001)"
ok "the next change" "$SKSTEER" -p 81 -s 127.0.0.1:9004
is "marks the key a prefix binds again: the /24 gets its port back" "C:80" "$(dial 127.1.2.4:80)"
is "and unmarks the one no prefix binds" "$R80" "$(table_byte ports 6001)"
ok "(as it was)" "$SKSTEER" -p 80,443 -s 127.0.0.1:9001
ok "(and 81 gone)" "$SKSTEER" -p 80 -s 127.0.0.1:9004 --dst 127.1.2.3

# A run cut short between pinning a scope table and giving it to the program (or between taking
# it from the program and unpinning it): the pin is there, the program's slot empty. The next
# change gives the program its table again (tests/85-kill-storm.t found it, now and then).
is "(port 80 off the prefixes is A's)" "A:80" "$(dial 127.0.0.1:80)"
bpftool map delete pinned "$PIN_DIR/scopes" key 0 0 0 0
is "scope table 0 lost by the program: a marked key's unscoped route reaches nothing" refused \
	"$(dial 127.0.0.1:80)"
ok "the next change" "$SKSTEER" -p 81 -s 127.0.0.1:9004
is "gives the program its table again" "A:80" "$(dial 127.0.0.1:80)"
ok "(and 81 gone)" "$SKSTEER" -p 80 -s 127.0.0.1:9004 --dst 127.1.2.3

# Bad prefixes: one line, exit 64, nothing changed
bad_dst() {
	local desc=$1 want=$2 before after
	before=$("$SKSTEER" --save)
	run_sksteer -p 80 -s 127.0.0.1:9001 --dst "$3"
	after=$("$SKSTEER" --save)
	[ "$RC" = 64 ] && [[ $STDERR =~ $want ]] && [ "$(printf '%s\n' "$STDERR" | wc -l)" = 1 ] &&
		[ "$before" = "$after" ] && [ "$(dial 127.1.2.4:443)" = C:443 ]
	result "$desc" $? "exit $RC: $STDERR"
}
bad_dst "/33" "--dst '127.0.0.0/33': prefix length 33 is out of range for IPv4 \(0-32\)" 127.0.0.0/33
bad_dst "::/129" "prefix length 129 is out of range for IPv6 \(0-128\)" ::/129
bad_dst "host bits" "host bits are set after /8: write the network, 10.0.0.0/8" 10.0.0.1/8
bad_dst "IPv6 host bits" "write the network, 2001:db8::/32" 2001:db8::1/32
bad_dst "garbage" "not an address prefix" 'not-a-prefix'
bad_dst "an empty length" "the prefix length is not a number" 10.0.0.0/
bad_dst "a signed length" "the prefix length is not a number" 10.0.0.0/+8
bad_dst "a bracketed address" "not an address prefix" '[::1]/128'
bad_dst "a host name" "not an address prefix" localhost
bad_dst "an empty prefix" "missing address" ''
bad_dst "a huge length" "prefix length 99999 is out of range for IPv4" 10.0.0.0/99999
BEFORE=$("$SKSTEER" --save)
run_sksteer -p 80 -s 127.0.0.1:9002 --dst 2001:db8:1::/48
like "an IPv6 prefix for an IPv4 socket: one line" \
	"^sksteer: --dst 2001:db8:1::/48: target 127.0.0.1:9002 is an IPv4 socket and never gets connections to IPv6 addresses: give it a prefix of its own family$" \
	"$STDERR"
serve --v6only --label=V6 '[::1]:9010'
run_sksteer -p 80 -s '[::1]:9010' --dst 127.1.0.0/16
like "an IPv4 prefix for an IPv6-only socket: one line" \
	"target \[::1\]:9010 is an IPv6-only socket and never gets connections to IPv4" "$STDERR"
is "nothing changed" "$BEFORE" "$("$SKSTEER" --save)"
is "and the unscoped binding still gets those destinations" "A6:8080 C:80" \
	"$(where '[2001:db8:2::1]:8080' 127.1.2.4:80)"
run_sksteer -s 127.0.0.1:9001 --dst 127.0.0.0/8
like "--dst without -p: a usage error" "--dst goes with -p PORTS, --add or --remove" "$STDERR"

# --add, --remove and --dry-run work on a prefix's bindings as -p does
BEFORE=$("$SKSTEER" --save)
like "--dry-run --add --dst: the plan names the prefix" \
	"^\+ tcp 127.0.0.1:9003 8081 dst=127.1.2.0/24$" \
	"$("$SKSTEER" --dry-run --add 8081 -s 127.0.0.1:9003 --dst 127.1.2.0/24 | changes)"
is "and changes nothing" "$BEFORE" "$("$SKSTEER" --save)"
ok "--add 8081,8082 --dst the /24" "$SKSTEER" --add 8081,8082 -s 127.0.0.1:9003 --dst 127.1.2.0/24
is "the /24 has them, its other ports kept; off it, still unscoped" "C:8081 C:8082 C:80 refused" \
	"$(where 127.1.2.4:8081 127.1.2.4:8082 127.1.2.4:80 127.1.9.9:8081)"
ok "--remove 8081 --dst the /24" "$SKSTEER" --remove 8081 -s 127.0.0.1:9003 --dst 127.1.2.0/24
is "8081 gone from it, 8082 kept" "refused C:8082" "$(where 127.1.2.4:8081 127.1.2.4:8082)"
run_sksteer --remove 8081 -s 127.0.0.1:9003 --dst 127.1.2.0/24
like "--remove of a port the prefix does not bind: one line" \
	"^sksteer: port 8081 is not steered to 127.0.0.1:9003 for --dst 127.1.2.0/24: nothing to remove there" \
	"$STDERR"
ok "--remove 8082 --dst the /24" "$SKSTEER" --remove 8082 -s 127.0.0.1:9003 --dst 127.1.2.0/24
is "as before" "$BEFORE" "$("$SKSTEER" --save)"
run_sksteer --remove 80,443 -s 127.0.0.1:9003 --dst 127.1.2.0/24
is "--remove of a prefix's last ports: one line, the command that does it" \
	"sksteer: that leaves 127.0.0.1:9003 without ports for --dst 127.1.2.0/24: to stop steering to it there, run sksteer --detach -s 127.0.0.1:9003 --dst 127.1.2.0/24 1" \
	"$STDERR $RC"
is "(nothing changed)" "$BEFORE" "$("$SKSTEER" --save)"
run_sksteer --detach -s 127.0.0.1:9001 --dst 127.4.0.0/16
like "--detach of a prefix the target has no ports for" \
	"target 127.0.0.1:9001 has no ports for --dst 127.4.0.0/16" "$STDERR"

# Files that use every prefix, and many targets (each file below is the whole steering)
for i in $(seq 16); do echo "tcp 127.0.0.1:9001 $((9100 + i)) dst=127.60.$i.0/24"; done \
	>"$WORK/sixteen.conf"
ok "a file with 16 IPv4 prefixes" "$SKSTEER" --config "$WORK/sixteen.conf"
sed 's|^tcp 127.0.0.1:9001 9116 dst=127.60.16.0/24$|tcp 127.0.0.1:9001 9116 dst=127.61.0.0/24|' \
	"$WORK/sixteen.conf" >"$WORK/swapped.conf"
ok "the same file with one prefix swapped for another applies" \
	"$SKSTEER" --config "$WORK/swapped.conf"
is "the new prefix steers, the old one no more" "A:9116 refused" \
	"$(where 127.61.0.1:9116 127.60.16.1:9116)"
is "the other fifteen as they were" "A:9101 A:9115" "$(where 127.60.1.1:9101 127.60.15.1:9115)"

if [ -z "${SKSTEER_VMTEST:-}" ]; then
	start_ready "$NETPEER" crowd 127.0.0.3:20000 130
	for i in $(seq 0 129); do
		echo "tcp 127.0.0.3:$((20000 + i)) $((30000 + i))"
		echo "tcp 127.0.0.3:$((20000 + i)) $((40000 + i)) dst=127.70.0.0/16"
	done >"$WORK/many-targets.conf"
	ok "130 targets with two lines each (260 lines)" "$SKSTEER" --config "$WORK/many-targets.conf"
	"$SKSTEER" --save >"$WORK/many-saved.conf"
	ok "what --save prints of them applies back" "$SKSTEER" --config "$WORK/many-saved.conf"
	"$SKSTEER" --config "$WORK/many-saved.conf" --dry-run >/dev/null
	is "in sync" 0 $?
else
	skip "130 targets from a file, and --save of them: in a vmtest guest, the host's run checks them"
fi

done_testing
