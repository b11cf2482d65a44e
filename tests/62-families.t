# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# One service, two families: an IPv4 socket and an IPv6-only socket share ports, each getting
# its family's lookups; a lone socket (dual-stack or not) still gets both, as before.
. "$(dirname "$0")/lib.sh"

serve --label=v4 0.0.0.0:8080
serve --v6only --label=v6 '[::]:8080'
ok "steer 80,443 to the IPv4 socket" "$SKSTEER" -p 80,443 -s 0.0.0.0:8080
is "alone, it gets IPv4 lookups" v4:80 "$(dial 127.0.0.1:80)"
ok "the same ports to the IPv6-only socket: no conflict" "$SKSTEER" -p 80,443 -s '[::]:8080'
is "IPv4 lookups go to the IPv4 socket" "v4:80 v4:443" \
	"$(dial 127.0.0.1:80) $(dial 127.0.0.2:443)"
is "IPv6 lookups to the IPv6 one" "v6:80 v6:443" "$(dial '[::1]:80') $(dial '[::1]:443')"
list=$("$SKSTEER" --list)
like "--list shows both targets with the ports" \
	"target 0.0.0.0:8080 tcp listening .*ports 80,443 \(2\).*target \[::\]:8080 tcp listening .*ports 80,443 \(2\)" \
	"$(echo $list)"
like "each counts its own family's lookups" \
	"target 0.0.0.0:8080 .* steered 3 .*target \[::\]:8080 .* steered 2 " "$(echo $list)"

# Conflicts are per family: a second IPv4 socket may not take them.
serve --label=other 127.0.0.1:9000
run_sksteer -p 80 -s 127.0.0.1:9000
is "another IPv4 target on port 80 is a conflict" 1 "$RC"
like "naming the IPv4 target only" "^sksteer: ports 80 belong to target 0.0.0.0:8080 \(use --force" "$STDERR"
ok "--force moves IPv4's port 80, and only IPv4's" "$SKSTEER" -p 80 -s 127.0.0.1:9000 --force
is "IPv4 to the new target, IPv6 still to the IPv6 socket" "other:80 v6:80" \
	"$(dial 127.0.0.1:80) $(dial '[::1]:80')"
ok "--detach -s the IPv6 socket" "$SKSTEER" --detach -s '[::]:8080'
is "IPv6 on its ports now goes where IPv4 does (an IPv4 socket: the kernel decides)" \
	"refused refused" "$(dial '[::1]:80') $(dial '[::1]:443')"
is "IPv4 is untouched" "other:80 v4:443" "$(dial 127.0.0.1:80) $(dial 127.0.0.1:443)"
ok "--detach" "$SKSTEER" --detach

# A dual-stack socket alone gets both families; beside an IPv4 socket, IPv6 only.
serve --label=dual '[::]:8090'
ok "a dual-stack socket" "$SKSTEER" -p 90 -s '[::]:8090'
is "gets both families" "dual:90 dual:90" "$(dial 127.0.0.1:90) $(dial '[::1]:90')"
serve --label=v4b 0.0.0.0:8091
ok "an IPv4 socket on the same port" "$SKSTEER" -p 90 -s 0.0.0.0:8091
is "takes IPv4; the dual-stack one keeps IPv6" "v4b:90 dual:90" \
	"$(dial 127.0.0.1:90) $(dial '[::1]:90')"
ok "--detach" "$SKSTEER" --detach

# The hijack guard is per family too: an IPv4 listener loses nothing to an IPv6-only target.
serve --label=sshd 0.0.0.0:2222
ok "steer 2222 (an IPv4 listener there) to the IPv6-only socket" "$SKSTEER" -p 2222 -s '[::]:8080'
is "IPv4 clients still reach the listener, IPv6 ones the target" "sshd:2222 v6:2222" \
	"$(dial 127.0.0.1:2222) $(dial '[::1]:2222')"
run_sksteer -p 2222 -s 0.0.0.0:8080
like "an IPv4 target there is refused, naming it" "refusing to steer port 2222: 0\.0\.0\.0:2222" "$STDERR"
ok "--detach" "$SKSTEER" --detach

# A configuration file may give the pair, and --save writes it.
printf 'tcp 0.0.0.0:8080 80,443\ntcp [::]:8080 80,443\n' >"$WORK/pair.conf"
ok "a configuration file with both sockets on the same ports" "$SKSTEER" --config "$WORK/pair.conf"
is "each family to its socket" "v4:443 v6:443" "$(dial 127.0.0.1:443) $(dial '[::1]:443')"
"$SKSTEER" --save >"$WORK/saved.conf"
is "--save writes both" "tcp 0.0.0.0:8080 80,443|tcp [::]:8080 80,443" \
	"$(grep -v '^#' "$WORK/saved.conf" | sed 's/  */ /g' | paste -sd'|')"
is "applying it again changes nothing" "" "$("$SKSTEER" --config "$WORK/pair.conf" --dry-run)"
printf 'tcp 0.0.0.0:8080 80\ntcp 127.0.0.1:9000 80\n' >"$WORK/clash.conf"
run_sksteer --config "$WORK/clash.conf"
like "two IPv4 sockets on one port in a file: refused, naming the line" \
	":2: tcp ports? 80 already belongs? to 0.0.0.0:8080 on line 1: a port goes to one target of each family" \
	"$STDERR"
ok "--detach" "$SKSTEER" --detach

# UDP: the same, with an IPv4 and an IPv6-only socket.
serve --udp 127.0.0.1:5300
serve --udp --v6only '[::1]:5300'
ok "UDP 53 to the IPv4 socket" "$SKSTEER" -p 53 -s udp:127.0.0.1:5300
ok "and to the IPv6-only socket" "$SKSTEER" -p 53 -s 'udp:[::1]:5300'
is "each family's datagrams to its socket" "53 53" \
	"$(dial --udp 127.0.0.1:53) $(dial --udp '[::1]:53')"
ok "--detach" "$SKSTEER" --detach

# nginx's ordinary listen 8081; listen [::]:8081; gives exactly this pair.
if command -v nginx >/dev/null; then
	nginx_start 8081 'listen 8081; listen [::]:8081;
		location / { return 200 "nginx $server_addr port $server_port\n"; }'
	ok "steer 80,443 to nginx's IPv4 socket" "$SKSTEER" -p 80,443 -s 0.0.0.0:8081
	ok "and to its IPv6-only socket" "$SKSTEER" -p 80,443 -s '[::]:8081'
	is "curl -4 and curl -6 both reach nginx on port 80" \
		"nginx 127.0.0.1 port 80 nginx ::1 port 80" \
		"$(curl -s4 http://127.0.0.1/) $(curl -s6 'http://[::1]/')"
	is "and 443" "nginx ::1 port 443" "$(curl -s6 'http://[::1]:443/')"
	ok "--detach" "$SKSTEER" --detach
else
	skip "nginx is not installed (sudo make deps)"
fi

# --listen on IPv6 with --dual-stack: IPv4 too, whatever net.ipv6.bindv6only says (a sysctl of
# this test's own network namespace). Without it, such a socket is IPv6-only there.
sysctl -qw net.ipv6.bindv6only=1
is "(net.ipv6.bindv6only is 1 here)" 1 "$(cat /proc/sys/net/ipv6/bindv6only)"
start_ready "$SKSTEER" --listen '[::]:8095' --dual-stack -p 95 -- "$NETPEER" activated --label=ds
result "--listen [::]:8095 --dual-stack -p 95 -- CMD" $? "$(cat "$WORK"/serve.* 2>/dev/null)"
is "IPv4 and IPv6 clients both reach it" "ds:95 ds:95" "$(dial 127.0.0.1:95) $(dial '[::1]:95')"
start_ready "$SKSTEER" --listen 'udp:[::]:8095' --dual-stack -p 95 -- "$NETPEER" activated --label=dsu
is "UDP too" "dsu:95 dsu:95" "$(dial --udp 127.0.0.1:95) $(dial --udp '[::1]:95')"
start_ready "$SKSTEER" --listen '[::]:8096' -p 96 -- "$NETPEER" activated --label=plain
is "without --dual-stack, the IPv6 socket gets IPv6 clients only" "refused plain:96" \
	"$(dial 127.0.0.1:96) $(dial '[::1]:96')"
sysctl -qw net.ipv6.bindv6only=0
ok "--detach" "$SKSTEER" --detach

done_testing
