# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# IPv6, dual-stack and UDP targets.
. "$(dirname "$0")/lib.sh"

block() { "$SKSTEER" --list | grep -A2 "^target $1 "; }

# An IPv6-only target gets IPv6 only; IPv4 lookups pass through, counted as family errors.
serve --v6only '[::1]:9000'
ok "steer 80 to an IPv6-only socket [::1]:9000" "$SKSTEER" -p 80 -s '[::1]:9000'
is "an IPv6 client reaches it, on the dialled port" 80 "$(dial '[::1]:80')"
is "an IPv4 client is refused at once (never handed to a v6-only socket)" refused \
	"$(dial 127.0.0.1:80)"
like "and --list counts it as an error, not as steered" "steered 1  no-target 0  errors 1" \
	"$(block '\[::1\]:9000')"
like "by cause: family" "errors 1 \(family 1, protocol 0" "$("$SKSTEER" --list)"

# A dual-stack target gets both.
serve '[::]:9001'
ok "steer 81 to a dual-stack socket [::]:9001" "$SKSTEER" -p 81 -s '[::]:9001'
is "IPv4 and IPv6 clients reach it" "81 81" "$(dial 127.0.0.1:81) $(dial '[::1]:81')"

# An IPv4 target gets IPv4 only.
serve 127.0.0.1:9002
ok "steer 82 to an IPv4 socket" "$SKSTEER" -p 82 -s 127.0.0.1:9002
is "IPv4 reaches it, IPv6 is refused" "82 refused" "$(dial 127.0.0.1:82) $(dial '[::1]:82')"

# UDP: a datagram target that answers from the port the client used.
serve --udp --label=U 127.0.0.1:5353
ok "steer UDP 53,5000-5010 to udp:127.0.0.1:5353" "$SKSTEER" -p 53,5000-5010 -s udp:127.0.0.1:5353
is "a UDP client on port 53 gets an answer from port 53, naming 53" U:53 \
	"$(dial --udp 127.0.0.1:53)"
is "on 127.0.0.2:5005 as well" U:5005 "$(dial --udp 127.0.0.2:5005)"
is "an unsteered UDP port is refused (ICMP port unreachable)" refused "$(dial --udp 127.0.0.1:5011)"
serve --udp '[::1]:5354'
ok "an IPv6 UDP target" "$SKSTEER" -p 5300 -s 'udp:[::1]:5354'
is "an IPv6 UDP client gets its answer" 5300 "$(dial --udp '[::1]:5300')"

# TCP and UDP own port numbers separately.
serve --label=tcp53 127.0.0.1:9053
ok "a TCP target takes TCP port 53 while a UDP target owns UDP 53" \
	"$SKSTEER" -p 53 -s 127.0.0.1:9053
is "TCP 53 and UDP 53 reach their own targets" "tcp53:53 U:53" \
	"$(dial 127.0.0.1:53) $(dial --udp 127.0.0.1:53)"
serve --udp 127.0.0.1:5355
run_sksteer -p 53 -s udp:127.0.0.1:5355
like "another UDP target taking UDP 53 is refused, naming the UDP owner" \
	"ports 53 belong to target udp:127.0.0.1:5353 \(use --force" "$STDERR"
serve 127.0.0.1:9054
run_sksteer -p 53 -s 127.0.0.1:9054
like "another TCP target taking TCP 53 is refused, naming the TCP owner" \
	"ports 53 belong to target 127.0.0.1:9053 \(use" "$STDERR"
like "a UDP socket that is not a target guards its port too" "refusing to steer port 5355" \
	"$(run_sksteer -p 5355 -s udp:127.0.0.1:5353; echo "$STDERR")"

# The trace shows IPv6 addresses bracketed, and UDP as udp.
trace_start "$WORK/trace" --json
dial '[::1]:80' >/dev/null
dial --udp 127.0.0.1:5005 >/dev/null
trace_stop
like "an IPv6 lookup is traced with bracketed addresses" \
	'"family":"ipv6","proto":"tcp","src":"\[::1\]:[0-9]+","dst":"\[::1\]:80","verdict":"steered","target":"\[::1\]:9000"' \
	"$(cat "$WORK/trace")"
like "a UDP lookup is traced as udp" \
	'"family":"ipv4","proto":"udp","src":"127\.0\.0\.1:[0-9]+","dst":"127\.0\.0\.1:5005","verdict":"steered","target":"udp:127\.0\.0\.1:5353"' \
	"$(cat "$WORK/trace")"

# Hot reload of a UDP target under a datagram loop.
loop_start --udp --expect=U:53 127.0.0.1:53
failed_runs=0
for set in 53,1-20000 53 53,5000-5010 1-65535 53,60000; do
	"$SKSTEER" -p "$set" -s udp:127.0.0.1:5353 --force || failed_runs=$((failed_runs + 1))
done
loop_check "a datagram loop on kept port 53 loses nothing to them: U answers, naming 53"
is "UDP reloads all succeed" 0 "$failed_runs"
is "TCP 53 was never touched by the UDP reloads" tcp53:53 "$(dial 127.0.0.1:53)"

# An IPv6 target's owner goes: its ports are refused promptly.
serve --label=v6 '[::1]:9100'
V6=$LAST_PID
ok "steer 90 to [::1]:9100" "$SKSTEER" -p 90 -s '[::1]:9100'
kill "$V6"
wait "$V6" 2>/dev/null
is "when it exits, its port is refused" refused "$(dial '[::1]:90')"

done_testing
