# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Sourced by every tests/*.t: re-runs the test in its own throwaway network
# namespace, gives TAP helpers, and cleans up servers and pins at exit.

set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SKSTEER=${SKSTEER:-$TOP/sksteer}
NETPEER=$TOP/.output/netpeer

if [ -z "${SKSTEER_TEST_NETNS:-}" ]; then
	# a fresh network namespace for every test file; with PRIVATE_MOUNTS=1, mounts too
	exec unshare -n ${PRIVATE_MOUNTS:+-m --propagation private} -- \
		env SKSTEER_TEST_NETNS=1 bash "$0" "$@"
fi
unset SKSTEER_TEST_NETNS

ip link set lo up
WORK=$(mktemp -d /tmp/sksteer-test.XXXXXX)
NETNS_INO=$(stat -L -c %i /proc/self/ns/net)
PIN_DIR=/sys/fs/bpf/sksteer/netns-$NETNS_INO
TESTS=0
FAILED=0
PIDS=()
AT_EXIT=()

skip() { # skip REASON: one TAP skip line, the reason on it
	TESTS=$((TESTS + 1))
	echo "ok $TESTS # skip $*"
}
ok() { # ok DESCRIPTION COMMAND...: passes when COMMAND succeeds
	local desc=$1
	shift
	TESTS=$((TESTS + 1))
	if "$@" >"$WORK/out" 2>&1; then
		echo "ok $TESTS - $desc"
	else
		FAILED=$((FAILED + 1))
		echo "not ok $TESTS - $desc"
		echo "#   command: $*"
		sed 's/^/#   /' "$WORK/out" | head -20
	fi
}

result() { # result DESCRIPTION STATUS [DIAGNOSTIC...]: status 0 passes; else the lines are shown
	local desc=$1 status=$2
	shift 2
	TESTS=$((TESTS + 1))
	if [ "$status" = 0 ]; then
		echo "ok $TESTS - $desc"
	else
		FAILED=$((FAILED + 1))
		echo "not ok $TESTS - $desc"
		printf '%s\n' "$@" | sed 's/^/#   /'
	fi
}

is() { # is DESCRIPTION EXPECTED ACTUAL
	TESTS=$((TESTS + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $TESTS - $1"
	else
		FAILED=$((FAILED + 1))
		echo "not ok $TESTS - $1"
		echo "#   expected: '$2'"
		echo "#   got:      '$3'"
	fi
}

like() { # like DESCRIPTION REGEX ACTUAL
	TESTS=$((TESTS + 1))
	if [[ $3 =~ $2 ]]; then
		echo "ok $TESTS - $1"
	else
		FAILED=$((FAILED + 1))
		echo "not ok $TESTS - $1"
		echo "#   expected to match: $2"
		echo "#   got: '$3'"
	fi
}

start_ready() { # start_ready COMMAND...: in the background, until it prints "ready"
	local out="$WORK/serve.$RANDOM"
	"$@" >"$out" 2>&1 &
	PIDS+=($!)
	LAST_PID=$!
	for _ in $(seq 100); do
		grep -q ready "$out" 2>/dev/null && return 0
		sleep 0.02
	done
	echo "# $* did not start: $(cat "$out")"
	return 1
}

serve() { start_ready "$NETPEER" serve "$@"; } # serve [--udp] [--v6only] [--reuseport] ADDR:PORT

dial() { # dial [--udp] ADDR:PORT: prints the port the server saw, "refused" or "timeout"
	"$NETPEER" connect "$@" 2>&1
}

# ended PID: the process is gone, or a zombie (its end seen, not yet reaped)
ended() { [ ! -e "/proc/$1" ] || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]; }

# in_wait PID: the process sits in a call that waits, as a run does once it waits for the lock
# or a late server (a sleep between looks) or for its standard input (poll): not while it still
# starts up, which an emulated CPU takes seconds to do
case $(uname -m) in
aarch64) WAIT_CALLS=" 73 101 115 " ;; # ppoll, nanosleep, clock_nanosleep
*) WAIT_CALLS=" 7 35 230 271 " ;;     # x86_64: poll, nanosleep, clock_nanosleep, ppoll
esac
in_wait() {
	local call
	read -r call _ 2>/dev/null <"/proc/$1/syscall" && [[ $WAIT_CALLS == *" $call "* ]]
}
# waits PID: until the process is in_wait; 1 if it ended first, or after 30 s
waits() {
	for _ in $(seq 3000); do
		in_wait "$1" && return 0
		ended "$1" && return 1
		sleep 0.01
	done
	return 1
}

# reap PID: until a process this test started ends by itself, then its exit code in RC; one
# that has not after 3000 looks (30 s, more on a loaded machine) hangs, and is killed (RC
# 137): a guard, not a measure of time
reap() {
	for _ in $(seq 3000); do
		ended "$1" && break
		sleep 0.01
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1"
	RC=$?
}

# hold [-s]: another process holds the pin directory's lock (flock -o: flock's own, not its
# command's), until let_go; returns once it is held (an exclusive try fails either way)
hold() {
	flock -o "$@" "$PIN_DIR" sleep 60 &
	HOLDER=$!
	PIDS+=($HOLDER)
	for _ in $(seq 500); do
		flock -n -x "$PIN_DIR" true || return 0
		sleep 0.01
	done
	return 1
}
let_go() { # flock first (its sleep, orphaned, keeps its pid): killed after it, flock could exit
	# and be reaped by this shell in between, and kill name a pid that is gone
	local sleeper
	sleeper=$(cat /proc/$HOLDER/task/$HOLDER/children)
	kill "$HOLDER" $sleeper
	wait "$HOLDER" 2>/dev/null
}

# sksteer's exit code and its stderr, for checking bad input
# changes: --dry-run's output (stdin) without its last line, the count of kernel updates
changes() { grep -v '^kernel updates [0-9]*: ' || true; }

run_sksteer() {
	STDERR=$("$SKSTEER" "$@" 2>&1 >/dev/null)
	RC=$?
}

pins_gone() { [ ! -e "$PIN_DIR" ]; }

kernel_at_least() { # kernel_at_least MAJOR MINOR
	local v
	v=$(uname -r)
	[ "${v%%.*}" -gt "$1" ] || { [ "${v%%.*}" -eq "$1" ] && [ "$(echo "$v" | cut -d. -f2)" -ge "$2" ]; }
}

# readers_allowed: whether this kernel lets a process without CAP_BPF read pins its modes
# let it open: from 5.19 on, any; before, only with kernel.unprivileged_bpf_disabled=0
readers_allowed() {
	kernel_at_least 5 19 || [ "$(cat /proc/sys/kernel/unprivileged_bpf_disabled)" = 0 ]
}

# The capabilities a run that loads programs needs (see --help): before 5.11, BPF memory counts
# against RLIMIT_MEMLOCK, and raising it needs CAP_SYS_RESOURCE.
LOAD_CAPS=+bpf,+net_admin,+perfmon
LOAD_NEEDS="CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON"
MEMLOCK_HINT="" # what the refusal adds there
if ! kernel_at_least 5 11; then
	LOAD_CAPS=$LOAD_CAPS,+sys_resource
	LOAD_NEEDS="CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON and CAP_SYS_RESOURCE"
	MEMLOCK_HINT=" \(before Linux 5\.11, .*\)"
fi

netns_ino() { stat -L -c %i "$1"; } # netns_ino PATH: the inode that names a network namespace

# a named network namespace with lo up, deleted at exit; its name in NS
netns_add() {
	NS=sksteer-test-$$-$RANDOM
	ip netns add "$NS" && ip -n "$NS" link set lo up || return 1
	at_exit "ip netns del $NS"
}

# serve_in NAME ADDR:PORT: a server inside the named namespace (ip execs it: same pid)
serve_in() { start_ready ip netns exec "$1" "$NETPEER" serve "$2"; }

dial_in() { ip netns exec "$1" "$NETPEER" connect "$2" 2>&1; } # dial_in NAME ADDR:PORT

# the id and tag of the program the namespace's sk_lookup link runs
# (sksteer's pinned link where there is one: other programs may be attached too)
link_prog() {
	if [ -e "$PIN_DIR/link" ]; then
		bpftool link show pinned "$PIN_DIR/link" | awk 'NR == 1 { print $4 }'
		return
	fi
	bpftool link show | awk -v ino="$NETNS_INO" '
		$2 == "netns" { prog = $4 }
		$1 == "netns_ino" && $2 == ino { print prog; exit }'
}
prog_tag() { bpftool prog show id "$1" | grep -o 'tag [0-9a-f]*' | cut -d' ' -f2; }

# flip_bits PIN KEY BYTE MASK: flips MASK's bits in byte BYTE of the value of u32 KEY in the map
# pinned as PIN, behind sksteer's back
flip_bits() {
	local v key
	key=$(printf '%d %d %d %d' $(($2 & 255)) $(($2 >> 8 & 255)) $(($2 >> 16 & 255)) $(($2 >> 24)))
	# shellcheck disable=SC2086 # the key's four bytes
	v=$(bpftool -j map lookup pinned "$PIN_DIR/$1" key $key |
		perl -MJSON::PP -ne 'print join " ", @{decode_json($_)->{value}}')
	read -ra v <<<"$v"
	v[$3]=$(printf '0x%02x' $((v[$3] ^ $4)))
	# shellcheck disable=SC2086
	bpftool map update pinned "$PIN_DIR/$1" key $key value "${v[@]}"
}
# other_build PIN: the build record pinned as PIN (build, follow_build) names another build now
other_build() { flip_bits "$1" 0 0 0xff; }
NOLOAD=$TOP/.output/nobpfload # NOLOAD CMD...: CMD's bpf() loads no program or BTF, makes no map

prog_name() { bpftool prog show id "$1" 2>/dev/null | awk 'NR == 1 { print $4 }'; }
tracing() { [ "$(prog_name "$(link_prog)")" = sksteer_trace ]; }

trace_start() { # trace_start OUT [ARGS...]: a tracer in the background, once its program runs
	local out=$1
	shift
	"$SKSTEER" --trace "$@" >"$out" 2>"$out.err" &
	TRACER=$!
	for _ in $(seq 250); do
		tracing && return 0
		kill -0 "$TRACER" 2>/dev/null || break # it failed: no need to wait for it
		sleep 0.02
	done
	echo "# the tracer did not start: $(cat "$out.err")"
	return 1
}

trace_stop() { # SIGINT, then its exit code
	kill -INT "$TRACER"
	wait "$TRACER"
}

wait_listening() { # wait_listening PORT: until something listens on TCP PORT here
	for _ in $(seq 250); do
		ss -Htln "sport = :$1" | grep -q . && return 0
		sleep 0.02
	done
	return 1
}

# Client loops: load checks. A loop counts an answer from the wrong server, or for the wrong
# port, as wrong: a port steered elsewhere for a moment still connects. Several loops at once
# have names (--name=NAME, first); the unnamed one is "loop".
declare -A LOOP_PIDS=()

# loop_start [--name=NAME] [--udp] --expect=ANSWER... ADDR:PORT: a client connecting again and
# again, until loop_stop. ANSWER is what the server that must answer says ("A:80", or "80"
# without --label); a port a test moves on purpose has two. Returns once an expected answer
# came, so the loop works before what it watches starts; if none came within 5 s, that is a
# failed test of its own.
loop_start() {
	local name=loop pid
	if [[ ${1:-} == --name=* ]]; then
		name=loop.${1#--name=}
		shift
	fi
	rm -f "$WORK/$name.stop"
	"$NETPEER" loop "$@" "$WORK/$name.stop" >"$WORK/$name.out" 2>&1 &
	pid=$!
	LOOP_PIDS[$name]=$pid
	for _ in $(seq 250); do
		grep -qx ready "$WORK/$name.out" && return 0
		kill -0 "$pid" 2>/dev/null || break # it failed: no need to wait for it
		sleep 0.02
	done
	result "a client loop ($*) gets an expected answer within 5 s" 1 "$(cat "$WORK/$name.out")"
	return 1
}

loop_stop() { # loop_stop [--name=NAME]: prints "ok N fail M wrong K", after the first of each
	local name=loop${1:+.${1#--name=}} pid
	pid=${LOOP_PIDS[$name]:-}
	touch "$WORK/$name.stop"
	# often called as $(loop_stop), in a subshell, where wait cannot wait for the loop: its
	# last line tells that it is done
	for _ in $(seq 1000); do
		grep -q '^ok ' "$WORK/$name.out" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	wait "$pid" 2>/dev/null
	grep -vx ready "$WORK/$name.out"
}

# loop_check [--name=NAME] [--min=N] DESCRIPTION: stops the loop; passes when no connection
# failed, none was answered wrong, and at least N (10 unless given) were answered right (a
# loop that barely ran proves nothing). Its output in LOOP_RESULT.
loop_check() {
	local name="" min=10 n
	if [[ ${1:-} == --name=* ]]; then
		name=$1
		shift
	fi
	if [[ ${1:-} == --min=* ]]; then
		min=${1#--min=}
		shift
	fi
	# not in $(...): the loop is waited for in this shell
	loop_stop ${name:+"$name"} >"$WORK/loop.result"
	LOOP_RESULT=$(cat "$WORK/loop.result")
	n=$(sed -n 's/^ok \([0-9]*\) fail 0 wrong 0$/\1/p' "$WORK/loop.result")
	result "$1" "$([ "$(wc -l <"$WORK/loop.result")" = 1 ] && [ "${n:-0}" -ge "$min" ]
		echo $?)" "$LOOP_RESULT" "(needs fail 0, wrong 0, and ok $min or more)"
}

# nginx_start PORT SERVER-BODY: a real nginx in the foreground of a background job, its files
# in $WORK/nginx, serving one server block (SERVER-BODY: its listen and location lines),
# until it listens on PORT
nginx_start() {
	mkdir -p "$WORK/nginx"
	cat >"$WORK/nginx/nginx.conf" <<-CONF
		daemon off;
		pid $WORK/nginx/nginx.pid;
		error_log $WORK/nginx/error.log;
		worker_processes 2;
		events { worker_connections 1024; }
		http {
			access_log off;
			client_body_temp_path $WORK/nginx/body;
			proxy_temp_path $WORK/nginx/proxy;
			fastcgi_temp_path $WORK/nginx/fastcgi;
			uwsgi_temp_path $WORK/nginx/uwsgi;
			scgi_temp_path $WORK/nginx/scgi;
			server { $2 }
		}
	CONF
	nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
	PIDS+=($!)
	wait_listening "$1"
}

with_caps() { # with_caps +cap,+cap COMMAND...: only these capabilities ("": none)
	caps_argv "$1"
	shift
	"${CAPS_ARGV[@]}" "$@"
}
# caps_argv +cap,+cap: in CAPS_ARGV, the setpriv that runs a command with only these (which
# execs it: "${CAPS_ARGV[@]}" COMMAND & has the command's own pid in $!, a function would not)
caps_argv() {
	CAPS_ARGV=(setpriv --inh-caps=-all${1:+,$1} --ambient-caps=-all${1:+,$1}
		--bounding-set=-all${1:+,$1} --)
}

# own_bpffs: a bpffs of this test's own on /sys/fs/bpf (with PRIVATE_MOUNTS=1): the namespaces
# with pins are this test's alone
own_bpffs() {
	while [ "$(stat -f -c %T /sys/fs/bpf)" = bpf_fs ]; do umount /sys/fs/bpf || break; done
	mount -t bpf -o mode=700 bpf /sys/fs/bpf
}

# eventually 'SHELL CONDITION' [TRIES]: until it holds (evaluated afresh each time), TRIES
# times 20 ms at most (250: 5 s); whether it came to hold
eventually() {
	for _ in $(seq "${2:-250}"); do
		eval "$1" && return 0
		sleep 0.02
	done
	return 1
}

# without_system_libbpf CMD...: CMD where every file of the system's libbpf and bpftool
# packages, and the UAPI headers libbpf ships (in this machine's and the cross compiler's
# include directories), is empty: a build that still reads one fails. The list, in
# $WORK/system-libbpf (every path) and $WORK/hide (the files), is made on first use.
without_system_libbpf() {
	local arch f
	if [ ! -f "$WORK/hide" ]; then
		for arch in $(dpkg --print-architecture 2>/dev/null) \
			$(dpkg --print-foreign-architectures 2>/dev/null); do
			dpkg -L libbpf-dev:"$arch" libbpf1:"$arch" bpftool:"$arch" 2>/dev/null
		done | grep -v '^/usr/share/' >"$WORK/system-libbpf"
		ls -d /usr/include/linux/{bpf,bpf_common,btf}.h \
			/usr/*-linux-gnu/include/linux/{bpf,bpf_common,btf}.h /usr/sbin/bpftool \
			/usr/local/sbin/bpftool /usr/include/bpf/* 2>/dev/null >>"$WORK/system-libbpf"
		while read -r f; do [ -f "$f" ] && realpath "$f"; done <"$WORK/system-libbpf" |
			sort -u >"$WORK/hide"
		touch "$WORK/empty"
	fi
	unshare -m --propagation private -- bash -c \
		'while read -r f; do mount --bind "$0" "$f" || exit; done <"$1"; shift; exec "$@"' \
		"$WORK/empty" "$WORK/hide" "$@"
}

at_exit() { AT_EXIT+=("$*"); }

cleanup() {
	local i # last registered first, like a stack of undos
	for ((i = ${#AT_EXIT[@]} - 1; i >= 0; i--)); do eval "${AT_EXIT[i]}" >/dev/null 2>&1; done
	"$SKSTEER" --detach >/dev/null 2>&1
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

# skip_all REASON: the rest of the file skipped, with one TAP skip line saying why
skip_all() {
	skip "$1"
	done_testing
	exit
}
# host_builds_only WHAT: a file that builds (make, packages, releases) runs in the host's plain
# suite alone: skipped, saying so, in a vmtest guest and in the sanitized suite
host_builds_only() {
	[ -z "${SKSTEER_VMTEST:-}" ] || skip_all "$1: in a vmtest guest, the host's run checks it"
	[ -z "${SKSTEER_SANITIZED:-}" ] ||
		skip_all "$1: it builds unsanitized; the plain suite's run checks it"
}

done_testing() { # detaches, checks that no pins are left, prints the plan
	"$SKSTEER" --detach >/dev/null 2>&1
	ok "no pins left behind" pins_gone
	echo "1..$TESTS"
	[ "$FAILED" -eq 0 ]
}
