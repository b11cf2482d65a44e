# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# --serve-metrics: --metrics over HTTP, read afresh each scrape, with CAP_BPF alone; a stuck
# client stalls nobody; the last apply's time and result, and each target's socket, to alert
# on; the systemd unit, run with the capabilities it grants; a real Prometheus server scrapes
# it, and a sksteer series is read back through Prometheus's query API.
# A bpffs of its own (in a private mount namespace): --all-netns sees only this test's pins.
PRIVATE_MOUNTS=1
. "$(dirname "$0")/lib.sh"

own_bpffs
ADDR=127.0.0.1:9917
get() { curl -s --max-time 5 "http://$ADDR${1:-/metrics}"; } # get [PATH]: the body
sample() { get | grep "^$1" | awk '{ print $2 }'; } # sample SERIES{LABELS: its value
# server_run COMMAND...: a server in the background, in SERVER, once it answers at ADDR
server_run() {
	"$@" >"$WORK/server.out" 2>&1 &
	SERVER=$!
	PIDS+=("$SERVER")
	eventually 'get / >/dev/null' && return 0
	echo "# the server did not answer: $(cat "$WORK/server.out")"
	return 1
}
server_start() { server_run "$SKSTEER" --serve-metrics "$ADDR" "$@"; } # server_start [ARGS...]

serve 127.0.0.1:9000
WEB=$LAST_PID
ok "steer 80,443" "$SKSTEER" -p 80,443 -s 127.0.0.1:9000
saved=$("$SKSTEER" --save)

# Bad input: one line, nothing changed
run_sksteer --serve-metrics udp:$ADDR
is "UDP: refused, one line" "64 sksteer: --serve-metrics udp:$ADDR: HTTP is TCP: give ADDR:PORT (127.0.0.1:9917)" \
	"$RC $(echo "$STDERR" | head -n 1)"
run_sksteer --serve-metrics 127.0.0.1
is "no port: refused" 64 "$RC"
run_sksteer --serve-metrics "$ADDR" --check
like "with --check: refused" "^sksteer: --serve-metrics serves --metrics: not with --metrics, --list" "$STDERR"
serve "$ADDR"
run_sksteer --serve-metrics "$ADDR"
is "a port in use: one line, exit 1" \
	"1 sksteer: --serve-metrics $ADDR: Address already in use: another socket is bound there ('ss -tlnp' shows which): stop it, or give another port" \
	"$RC $STDERR"
kill "$LAST_PID"
wait "$LAST_PID" 2>/dev/null
STDERR=$(with_caps +bpf "$SKSTEER" --serve-metrics 127.0.0.1:80 2>&1)
is "a port below 1024 without CAP_NET_BIND_SERVICE: one line, exit 1" \
	"1 sksteer: --serve-metrics 127.0.0.1:80: Permission denied: a port below net.ipv4.ip_unprivileged_port_start needs CAP_NET_BIND_SERVICE: give a port from 1024 up, or run with it" \
	"$? $STDERR"
if readers_allowed; then # the pins' modes decide: root's, read by root with no capability
	caps_argv ""
	server_run "${CAPS_ARGV[@]}" "$SKSTEER" --serve-metrics "$ADDR"
	like "without CAP_BPF: root's own pins served, where the kernel allows it" \
		'sksteer_target_ports\{netns="[0-9]+",target="127.0.0.1:9000"\} 2' "$(get)"
	kill "$SERVER"
	wait "$SERVER" 2>/dev/null
else
	STDERR=$(with_caps "" "$SKSTEER" --serve-metrics "$ADDR" 2>&1)
	like "without CAP_BPF: refused at start in one line, naming the sysctl" \
		"^sksteer: this kernel lets no process without CAP_BPF use bpf\(\).*kernel\.unprivileged_bpf_disabled is [12]" \
		"$STDERR"
fi
is "the steering is as it was" "$saved" "$("$SKSTEER" --save)"

# Started by root, it keeps CAP_BPF alone
server_start
is "CAP_BPF alone: effective, permitted, bounding; nothing inheritable or ambient" \
	"CapInh:0000000000000000 CapPrm:0000008000000000 CapEff:0000008000000000 CapBnd:0000008000000000 CapAmb:0000000000000000 NoNewPrivs:1" \
	"$(grep -E '^(Cap|NoNewPrivs)' "/proc/$SERVER/status" | tr -d '\t' | tr '\n' ' ' | sed 's/ $//')"
head=$(curl -sI --max-time 5 "http://$ADDR/metrics" | tr -d '\r')
like "/metrics: 200 in Prometheus's text format" \
	"^HTTP/1.1 200 OK
Content-Type: text/plain; version=0.0.4; charset=utf-8" "$head"
body=$(get)
is "promtool check metrics: clean" "" "$(echo "$body" | promtool check metrics 2>&1)"
is "a target's socket is there (has-socket)" 1 \
	"$(echo "$body" | grep "^sksteer_target_up{netns=\"$NETNS_INO\",target=\"127.0.0.1:9000\"}" | awk '{ print $2 }')"
is "the last apply took" "1 ok 1 failed 0" \
	"$(sample sksteer_last_apply_successful) ok $(sample 'sksteer_applies_total{.*result="ok"') failed $(sample 'sksteer_applies_total{.*result="failed"')"
took=$(sample sksteer_last_apply_success_timestamp_seconds)
now=$(date +%s)
ok "its time is now's (within a minute)" test "${took%.*}" -ge $((now - 60)) -a "${took%.*}" -le "$now"

# Each scrape reads the pins afresh: changes and failures show at once
ok "add 8080" "$SKSTEER" -s 127.0.0.1:9000 --add 8080
is "the next scrape has it" 3 "$(sample 'sksteer_target_ports{')"
before=$took
took=$(sample sksteer_last_apply_success_timestamp_seconds)
ok "and the time it took" test "$took" != "$before"
run_sksteer -p 81 -s 127.0.0.1:9999
is "an apply that fails (nothing listens there)" 1 "$RC"
is "the next scrape says it failed, and when the last one took" "0 failed 1 $took" \
	"$(sample sksteer_last_apply_successful) failed $(sample 'sksteer_applies_total{.*result="failed"') $(sample sksteer_last_apply_success_timestamp_seconds)"
last=$("$SKSTEER" --list --json | perl -MJSON::PP -e 'local $/; my $l = decode_json(<STDIN>)->{last_apply};
	print join " ", $l->{ok} ? "ok" : "failed", $l->{errno}, $l->{applied}, $l->{failed}, $l->{error}')
is "--list --json: the same, with the failure's message" \
	"failed 2 2 1 nothing listens at 127.0.0.1:9999 in this network namespace: start the server first (check with 'ss -tln')" \
	"$last"
ok "an apply that takes" "$SKSTEER" -s 127.0.0.1:9000 --remove 8080
is "... and it took again" 1 "$(sample sksteer_last_apply_successful)"
error() { "$SKSTEER" --list --json | perl -MJSON::PP -e 'local $/; print decode_json(<STDIN>)->{last_apply}{error}'; }
printf 'tcp 127.0.0.1:9000 80,443\nbogus\n' >"$WORK/bad.conf"
run_sksteer --config "$WORK/bad.conf"
is "a file that does not parse is refused" 1 "$RC"
like "... and recorded as a failed apply, at FILE:LINE" "^0 $WORK/bad\.conf:2: " \
	"$(sample sksteer_last_apply_successful) $(error)"
printf 'tcp 127.0.0.1:9000 80,443\ntcp 127.0.0.1:9999 81\n' >"$WORK/late.conf"
run_sksteer --config "$WORK/late.conf" --wait 0
is "a file whose plan fails (a target not listening) is refused" 1 "$RC"
like "... and recorded" "^0 .*127\.0\.0\.1:9999" "$(sample sksteer_last_apply_successful) $(error)"
run_sksteer --config "$WORK/bad.conf" --dry-run
like "--dry-run records nothing: it applies nothing" "^1 0 .*127\.0\.0\.1:9999" \
	"$RC $(sample sksteer_last_apply_successful) $(error)"
printf 'tcp 127.0.0.1:9000 80,443\n' >"$WORK/good.conf"
ok "a good file" "$SKSTEER" --config "$WORK/good.conf"
is "... took" "1 " "$(sample sksteer_last_apply_successful) $(error)"
run_sksteer --config "$WORK/none.conf"
like "a file that is not there: refused, and recorded" "^1 0 .*none\.conf" \
	"$RC $(sample sksteer_last_apply_successful) $(error)"
ok "a good file again" "$SKSTEER" --config "$WORK/good.conf"
run_sksteer --detach -s 127.0.0.1:9999
like "a target's detach that fails: recorded" "^1 0 .*127\.0\.0\.1:9999" \
	"$RC $(sample sksteer_last_apply_successful) $(error)"
ok "a good file again" "$SKSTEER" --config "$WORK/good.conf"

# HTTP as Prometheus and people use it
status() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }
is "/: a pointer to /metrics" "sksteer: the metrics are at /metrics" "$(get /)"
is "a query string is fine" 200 "$(status "http://$ADDR/metrics?x=1")"
is "another path: 404" 404 "$(status "http://$ADDR/nope")"
is "POST: 405, GET and HEAD allowed" "405 Allow: GET, HEAD" \
	"$(curl -si -X POST --max-time 5 "http://$ADDR/metrics" | tr -d '\r' | sed -n '1s/^HTTP\/1.1 \([0-9]*\).*/\1/p; /^Allow/p' | tr '\n' ' ' | sed 's/ $//')"
is "not HTTP: 400" "HTTP/1.1 400 Bad Request" \
	"$(printf 'hello\r\n\r\n' | timeout 5 socat - "TCP:$ADDR" | head -n 1 | tr -d '\r')"
is "headers past 8 KiB: 431" "HTTP/1.1 431 Request Header Fields Too Large" \
	"$( (printf 'GET /metrics HTTP/1.1\r\nX: %09000d\r\n\r\n' 0) | timeout 5 socat - "TCP:$ADDR" | head -n 1 | tr -d '\r')"

# Stuck clients stall nobody: 80 connections that never ask (more than the 64 it holds), one
# that asks half a request, one that asks and never reads
for i in $(seq 80); do
	exec {fd}<>"/dev/tcp/127.0.0.1/9917"
	STUCK+=("$fd")
done
exec {half}<>"/dev/tcp/127.0.0.1/9917"
printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n' >&"$half"
exec {deaf}<>"/dev/tcp/127.0.0.1/9917"
printf 'GET /metrics HTTP/1.1\r\n\r\n' >&"$deaf"
is "a scrape among them is answered" 1 "$(sample 'sksteer_target_up{')"
for fd in "${STUCK[@]}" "$half" "$deaf"; do exec {fd}>&-; done

# The target's socket goes: it says so
kill "$WEB"
eventually '[ "$(sample '\''sksteer_target_up{'\'')" = 0 ]'
is "its socket gone: sksteer_target_up 0" 0 "$(sample 'sksteer_target_up{')"
serve 127.0.0.1:9000
ok "the server back, steered again" "$SKSTEER" -p 80,443 -s 127.0.0.1:9000

# SIGHUP reloads nothing (every scrape reads afresh); SIGTERM ends it, steering left in place
kill -HUP "$SERVER"
sleep 0.1
is "SIGHUP: still serving" 1 "$(sample 'sksteer_target_up{')"
kill -TERM "$SERVER"
wait "$SERVER"
is "SIGTERM: exit 0, quietly" "0 " "$? $(cat "$WORK/server.out")"
is "the steering is as it was" "$saved" "$("$SKSTEER" --save)"

# A scrape that cannot get the pins' lock in time (--wait): a 500 that says why
server_start --wait 1
hold -x
is "a writer holds the lock: 500, and why" "500 sksteer: another run" \
	"$(curl -s -w '%{http_code}' -o "$WORK/body" --max-time 5 "http://$ADDR/metrics") $(cut -c1-20 "$WORK/body")"
let_go
is "let go: 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$ADDR/metrics")"
kill "$SERVER"
wait "$SERVER" 2>/dev/null

# --netns PATH: another namespace's, read from outside
netns_add
serve_in "$NS" 127.0.0.1:9001
ok "steer in the named namespace" "$SKSTEER" --netns "/run/netns/$NS" -p 81 -s 127.0.0.1:9001
server_start --netns "/run/netns/$NS"
is "--netns: that namespace's targets alone" "target=\"127.0.0.1:9001\"" \
	"$(get | grep -o '^sksteer_target_up{[^}]*' | grep -o 'target=.*')"
kill "$SERVER"
wait "$SERVER" 2>/dev/null
ok "the named namespace unsteered" "$SKSTEER" --netns "/run/netns/$NS" --detach

# The systemd unit: verified, then its command run with the capabilities it grants
UNIT=$WORK/sksteer-metrics.service
sed "s|@SBINDIR@|$(dirname "$SKSTEER")|g" "$TOP/contrib/sksteer-metrics.service" >"$UNIT"
if command -v systemd-analyze >/dev/null; then
	out=$(systemd-analyze verify --man=no "$UNIT" 2>&1)
	result "systemd-analyze verify: no warning" $? "$out"
	ok "and it has nothing to say" test -z "$out"
else
	skip "systemd-analyze is not installed"
fi
is "the unit grants CAP_BPF alone" "CAP_BPF CAP_BPF yes" \
	"$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT") $(sed -n 's/^AmbientCapabilities=//p' "$UNIT") $(sed -n 's/^NoNewPrivileges=//p' "$UNIT")"
read -ra CMD <<<"$(sed -n 's/^ExecStart=//p' "$UNIT")"
is "it serves $ADDR, every namespace" "--serve-metrics $ADDR --all-netns" "${CMD[*]:1}"
caps_argv +bpf
server_run "${CAPS_ARGV[@]}" setpriv --no-new-privs -- "${CMD[@]}"
body=$(get)
is "with those capabilities it serves every namespace's; this one by its inode (its processes' are not its to read, and never by its own pid: a name that would change)" \
	"sksteer_netns_info{netns=\"$NETNS_INO\",name=\"inode $NETNS_INO\"} 1 sksteer_netns_unreadable 0" \
	"$(echo "$body" | grep -E '^sksteer_netns_(info|unreadable)' | tr '\n' ' ' | sed 's/ $//')"
is "promtool check metrics: clean" "" "$(echo "$body" | promtool check metrics 2>&1)"

# A real Prometheus scrapes it; a series is read back through its query API
if [ -n "${SKSTEER_VMTEST:-}" ]; then
	# what it checks is no kernel's: a Go server under emulation takes half a minute of CI
	skip "Prometheus in a vmtest guest: the native suite scrapes with it"
elif command -v prometheus >/dev/null; then
	cat >"$WORK/prometheus.yml" <<-EOF
		global:
		  scrape_interval: 1s
		  scrape_timeout: 1s
		scrape_configs:
		  - job_name: sksteer
		    static_configs:
		      - targets: ['$ADDR']
	EOF
	prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
		--web.listen-address=127.0.0.1:9090 >"$WORK/prometheus.out" 2>&1 &
	PIDS+=($!)
	query() { # query PROMQL: "LABEL=VALUE... VALUE" per series, as Prometheus has them
		curl -s --max-time 5 --get --data-urlencode "query=$1" \
			http://127.0.0.1:9090/api/v1/query | perl -MJSON::PP -e 'local $/;
			my $r = eval { decode_json(<STDIN>) } or exit;
			for (@{$r->{data}{result}}) { my $m = $_->{metric};
				print join(" ", map { "$_=$m->{$_}" } grep { $_ ne "instance" }
					sort keys %$m), " $_->{value}[1]\n" }'
	}
	eventually '[ -n "$(query sksteer_target_up)" ]' 1500 # Prometheus starts, then scrapes
	is "Prometheus has the target's socket gauge" \
		"__name__=sksteer_target_up job=sksteer netns=$NETNS_INO target=127.0.0.1:9000 1" \
		"$(query sksteer_target_up)"
	is "... and sksteer is up for it" "__name__=up job=sksteer 1" "$(query 'up{job="sksteer"}')"
	is "... and the last apply" "__name__=sksteer_last_apply_successful job=sksteer netns=$NETNS_INO 1" \
		"$(query sksteer_last_apply_successful)"
else
	skip "prometheus is not installed (make deps installs it)"
fi

done_testing
