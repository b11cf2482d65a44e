# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Software nobody here wrote: nginx as the target, curl and ab as clients, socat as a UDP peer.
. "$(dirname "$0")/lib.sh"

for tool in nginx curl ab socat; do
	ok "$tool is installed (sudo make deps)" command -v "$tool"
done

# nginx listens on the wildcard address, so $server_port is the port the client dialled.
nginx_start 9000 'listen 9000; location / { return 200 "nginx server_port=$server_port\n"; }'

ok "steer 80,443,8000-8999 to nginx on 0.0.0.0:9000" "$SKSTEER" -p 80,443,8000-8999 -s 0.0.0.0:9000
is "curl on port 80 gets nginx's page with server_port 80" "nginx server_port=80" \
	"$(curl -s --max-time 5 http://127.0.0.1:80/)"
is "curl on 127.0.0.2:443 (plain HTTP) gets server_port 443" "nginx server_port=443" \
	"$(curl -s --max-time 5 http://127.0.0.2:443/)"
is "curl on a range member gets server_port 8765" "nginx server_port=8765" \
	"$(curl -s --max-time 5 http://127.0.0.1:8765/)"
like "--list names nginx as the owner" "target 0.0.0.0:9000  tcp  listening  pid [0-9]+ \(nginx\)" \
	"$("$SKSTEER" --list)"

ab -q -n 3000 -c 8 http://127.0.0.1:8080/ >"$WORK/ab" 2>&1
like "ab: 3000 requests through a steered port complete" "Complete requests: +3000" "$(cat "$WORK/ab")"
like "ab: none of them failed" "Failed requests: +0" "$(cat "$WORK/ab")"
is "ab: all were 2xx (ab reports Non-2xx responses only when there are some)" 0 \
	"$(grep -c 'Non-2xx' "$WORK/ab")"

# socat as the UDP client of a UDP target; a connected socat only takes replies from port 53.
serve --udp 127.0.0.1:5353
ok "steer UDP 53 to udp:127.0.0.1:5353" "$SKSTEER" -p 53 -s udp:127.0.0.1:5353
is "socat's datagram to port 53 is answered from port 53" 53 \
	"$(echo hello | socat -t 2 - UDP:127.0.0.1:53 2>&1)"

done_testing
