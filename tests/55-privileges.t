# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Least privilege: each command with exactly the capabilities --help names, and a clear
# refusal that changes nothing when one is missing. Runs as uid 0 with a reduced set.
. "$(dirname "$0")/lib.sh"

serve 127.0.0.1:9000
ok "root steers 80,443" "$SKSTEER" -p 80,443 -s 127.0.0.1:9000
dial 127.0.0.1:80 >/dev/null
netns_add
at_exit "$SKSTEER --netns /run/netns/$NS --detach"
serve_in "$NS" 127.0.0.1:9000
ok "root steers 81 in a named namespace" "$SKSTEER" --netns "/run/netns/$NS" -p 81 -s 127.0.0.1:9000
configuration() { # targets, ports and program of both namespaces, without counters
	"$SKSTEER" --list | grep -E '^target|ports|program'
	"$SKSTEER" --netns "/run/netns/$NS" --list | grep -E '^target|ports|program'
}
before=$(configuration)

# Monitoring: CAP_BPF alone.
like "--list with CAP_BPF alone" "target 127.0.0.1:9000  tcp  listening
  ports    80,443 \(2\)
  lookups  steered 1 " "$(with_caps +bpf "$SKSTEER" --list 2>&1)"
like "--list --json with CAP_BPF alone" '"ports":"80,443","port_count":2' \
	"$(with_caps +bpf "$SKSTEER" --list --json 2>&1)"
like "--metrics with CAP_BPF alone" 'sksteer_target_ports\{netns="[0-9]+",target="127.0.0.1:9000"\} 2' \
	"$(with_caps +bpf "$SKSTEER" --metrics 2>&1)"
ok "--check with CAP_BPF alone" with_caps +bpf "$SKSTEER" --check
like "--list --netns with CAP_BPF alone finds the pins without entering the namespace" \
	"ports    81 \(1\)" "$(with_caps +bpf "$SKSTEER" --netns "/run/netns/$NS" --list 2>&1)"
ok "--check --netns with CAP_BPF alone" with_caps +bpf "$SKSTEER" --netns "/run/netns/$NS" --check
run_sksteer_as() { STDERR=$(with_caps "$@" 2>&1 >/dev/null); RC=$?; }
# Without CAP_BPF the pins' modes decide (a group's readers, tests/19-group.t): root's own
run_sksteer_as "" "$SKSTEER" --list
if readers_allowed; then
	is "--list without CAP_BPF: root reads its own pins, where the kernel allows it" "0 " \
		"$RC $STDERR"
else
	like "--list without CAP_BPF: refused in one line, naming the sysctl" \
		"^sksteer: this kernel lets no process without CAP_BPF use bpf\(\).*kernel\.unprivileged_bpf_disabled is [12].*: read them with CAP_BPF, or set it to 0, which also lets every user load BPF programs$" \
		"$STDERR"
fi

# Changes: refused without CAP_NET_ADMIN (or CAP_PERFMON for loads), nothing changed.
refused() { # refused DESCRIPTION CAPS REGEX ARGS...
	local desc=$1 caps=$2 want=$3
	shift 3
	run_sksteer_as "$caps" "$SKSTEER" "$@"
	[ "$RC" != 0 ] && [[ $STDERR =~ $want ]] && [ "$(echo "$STDERR" | wc -l)" = 1 ] &&
		[ "$(dial 127.0.0.1:80) $(dial 127.0.0.1:82)" = "80 refused" ] &&
		[ "$(configuration)" = "$before" ]
	result "$desc" $? "exit $RC, stderr: $STDERR"
}
# every capability the commands use but one (CAP_SYS_ADMIN implies CAP_BPF and CAP_PERFMON)
all_but() { echo "$LOAD_CAPS" | sed "s/+$1,\?//;s/,$//"; }
refused "steering without CAP_NET_ADMIN" "$(all_but net_admin)" \
	"^sksteer: steering needs $LOAD_NEEDS, and this process lacks CAP_NET_ADMIN: run it with sudo$" \
	-p 80,82 -s 127.0.0.1:9000
refused "steering without CAP_PERFMON" "$(all_but perfmon)" "lacks CAP_PERFMON" -p 80,82 -s 127.0.0.1:9000
refused "--detach without CAP_NET_ADMIN" "$(all_but net_admin)" \
	"^sksteer: --detach needs CAP_BPF and CAP_NET_ADMIN, and this process lacks CAP_NET_ADMIN" --detach
refused "--trace without CAP_NET_ADMIN" "$(all_but net_admin)" \
	"^sksteer: --trace needs $LOAD_NEEDS, and this process lacks CAP_NET_ADMIN" \
	--trace
refused "--netns steering without CAP_SYS_ADMIN" "$(all_but none)" \
	"^sksteer: steering with --netns needs CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON.* and CAP_SYS_ADMIN, and this process lacks CAP_SYS_ADMIN" \
	--netns "/run/netns/$NS" -p 82 -s 127.0.0.1:9000

# What --help names is enough.
ok "steering with CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON (no CAP_SYS_PTRACE)" \
	with_caps "$LOAD_CAPS" "$SKSTEER" -p 80,82 -s 127.0.0.1:9000
is "it took effect" "80 82" "$(dial 127.0.0.1:80) $(dial 127.0.0.1:82)"
# not through with_caps: a function in the background is a subshell that SIGINT would not reach
caps=$LOAD_CAPS
setpriv --inh-caps=-all,$caps --ambient-caps=-all,$caps --bounding-set=-all,$caps -- \
	"$SKSTEER" --trace >"$WORK/trace" 2>&1 &
tracer=$!
for _ in $(seq 250); do tracing && break; sleep 0.02; done
dial 127.0.0.1:82 >/dev/null
kill -INT $tracer
wait $tracer
is "--trace with CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON exits 0" 0 "$?"
like "and streams events" "127\.0\.0\.1:82 +steered" "$(cat "$WORK/trace")"
ok "--detach with CAP_BPF and CAP_NET_ADMIN" with_caps +bpf,+net_admin "$SKSTEER" --detach
is "it took effect" refused "$(dial 127.0.0.1:80)"

done_testing
