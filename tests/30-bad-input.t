# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Every bad input: one short message naming it, a non-zero exit, live steering unchanged.
. "$(dirname "$0")/lib.sh"

serve 127.0.0.1:9000
serve 127.0.0.1:9001
ok "steering 80,443 to 127.0.0.1:9000" "$SKSTEER" -p 80,443 -s 127.0.0.1:9000

steering() { echo "$(dial 127.0.0.1:80) $(dial 127.0.0.1:443) $(dial 127.0.0.1:81)"; }

# argp's line after the message of a command line getopt or argp itself cannot take (an
# unknown option, a stray argument): the only second line a usage error (exit 64) may have
TRY="Try \`sksteer --help' or \`sksteer --usage' for more information."

# bad DESCRIPTION STDERR-REGEX ARGS...: the run fails with one short line and changes nothing
# (a refusal, exit 1: exactly that line; a usage error, exit 64: that line, or it and $TRY)
bad() {
	local desc=$1 want=$2
	shift 2
	STDERR=$("${RUN_AS[@]}" "$SKSTEER" "$@" 2>&1 >/dev/null)
	RC=$?
	local first rest state
	first=${STDERR%%$'\n'*}
	rest=${STDERR#"$first"}
	state=$(steering)
	case $RC in
	1) [ -z "$rest" ] ;;
	64) [ -z "$rest" ] || [ "$rest" = $'\n'"$TRY" ] ;;
	*) false ;;
	esac && [[ $first =~ $want ]] && [ "$state" = "80 443 refused" ]
	result "$desc" $? "sksteer $*: exit $RC, steering now: $state" "stderr: $STDERR"
}

RUN_AS=()
T=(-s 127.0.0.1:9001)
bad "port 0" "item '0': port 0 cannot be steered" -p 0 "${T[@]}"
bad "a port above 65535" "item '65536': ports go up to 65535" -p 65536 "${T[@]}"
bad "a huge number" "item '99999999999999999999': ports go up to 65535" \
	-p 99999999999999999999 "${T[@]}"
bad "a non-number" "item 'http': not a port number" -p http "${T[@]}"
bad "a signed number" "item '\+80': not a port number" -p +80 "${T[@]}"
bad "an empty item" "item '': empty item" -p 82,,83 "${T[@]}"
bad "a trailing comma" "empty item" -p 82, "${T[@]}"
bad "a range without an end" "item '82-': range without an end" -p 82- "${T[@]}"
bad "a range without a start" "item '-82': range without a start" -p -82 "${T[@]}"
bad "a reversed range" "item '90-82': range runs backwards" -p 90-82 "${T[@]}"
bad "a range to 70000" "item '82-70000': ports go up to 65535" -p 82-70000 "${T[@]}"
bad "spaces" "not a port number" -p "82, 83" "${T[@]}"
bad "an empty list" "empty port list" -p "" "${T[@]}"
bad "an address without a port" "'127.0.0.1': missing :PORT" -p 82 -s 127.0.0.1
bad "an address with an empty port" "the port is not a number" -p 82 -s 127.0.0.1:
bad "a malformed IPv4 address" "'127.0.0.256:9001': not a valid IPv4 address" -p 82 -s 127.0.0.256:9001
bad "a short IPv4 address" "not a valid IPv4 address" -p 82 -s 127.1:9001
bad "a malformed IPv6 address" "'\[::g\]:9001': not a valid IPv6 address" -p 82 -s '[::g]:9001'
bad "an IPv6 address without brackets" "in brackets" -p 82 -s ::1:9001
bad "an unclosed bracket" "missing '\]'" -p 82 -s '[::1:9001'
bad "port 0 in the address" "the port must be 1-65535" -p 82 -s 127.0.0.1:0
bad "a port above 65535 in the address" "the port must be 1-65535" -p 82 -s 127.0.0.1:70000
bad "a host name" "host names are not resolved; give a numeric address" -p 82 -s localhost:9001
bad "an unknown protocol prefix" "unknown protocol \(use tcp: or udp:\)" -p 82 -s sctp:127.0.0.1:9001
bad "nothing listening at the target" "nothing listens at 127.0.0.1:9999.*ss -tln" \
	-p 82 -s 127.0.0.1:9999
bad "listening elsewhere on that port" "nothing listens at 127.0.0.2:9001.*127.0.0.1:9001 does" \
	-p 82 -s 127.0.0.2:9001
bad "an unknown target without -p" "127.0.0.1:9001 is not a target.*-p" -s 127.0.0.1:9001
bad "an unknown option" "unrecognized option '--frobnicate'" --frobnicate
bad "a stray argument" "unexpected argument 'now'" -p 82 "${T[@]}" now
bad "no arguments" "nothing to do" 
bad "--detach with -p" "--detach takes -s TARGET or nothing" --detach -p 80
bad "--detach of an unknown target" "127.0.0.1:9001 is not a target" --detach "${T[@]}"
bad "--wait below 0" "^sksteer: --wait -1: give whole seconds, 0 to 3600" --wait -1 --list
bad "--wait of words" "^sksteer: --wait soon: give whole seconds, 0 to 3600" --wait soon --list
bad "--wait above an hour" "^sksteer: --wait 3601: give whole seconds, 0 to 3600" --wait 3601 --list
bad "--backlog 0" "^sksteer: --backlog 0: give a length, 1 to 65535" \
	--backlog 0 --listen 127.0.0.1:9100 -p 82 -- true
bad "--fdname with a colon" "^sksteer: --fdname 'a:b': give a name of up to 255 characters without ':'" \
	--fdname a:b --listen 127.0.0.1:9100 -p 82 -- true
bad "--follow=anything" "^sksteer: --follow=all: give --follow .* or --follow=group" \
	--follow=all -p 82 "${T[@]}"

# --netns: what is not a network namespace
touch "$WORK/file"
NS_FIX="give /run/netns/NAME, /proc/PID/ns/net or a bind mount of one\$"
bad "--netns of a missing file" \
	"^sksteer: --netns /nonexistent: No such file or directory: give /run/netns/NAME or /proc/PID/ns/net\$" \
	--netns /nonexistent -p 82 "${T[@]}"
bad "--netns of a regular file" "^sksteer: --netns $WORK/file is not a network namespace: $NS_FIX" \
	--netns "$WORK/file" -p 82 "${T[@]}"
bad "--netns of a directory" "^sksteer: --netns /tmp is not a network namespace: $NS_FIX" \
	--netns /tmp -p 82 "${T[@]}"
bad "--netns of another kind of namespace" \
	"^sksteer: --netns /proc/self/ns/mnt is not a network namespace: $NS_FIX" \
	--netns /proc/self/ns/mnt -p 82 "${T[@]}"
bad "--netns of a file in /proc, for a reader" \
	"^sksteer: --netns /proc/self/status is not a network namespace: $NS_FIX" \
	--netns /proc/self/status --list
bad "--netns of a missing /run/netns entry" \
	"^sksteer: --netns /run/netns/sksteer-none-$$: No such file or directory" \
	--netns /run/netns/sksteer-none-$$ -p 82 "${T[@]}"
# what 'ip netns add' leaves when it dies before its bind mount: an empty file
mkdir -p /run/netns
touch /run/netns/sksteer-stale-$$
at_exit "rm -f /run/netns/sksteer-stale-$$"
bad "--netns of a /run/netns entry that is no bind mount" \
	"^sksteer: --netns /run/netns/sksteer-stale-$$ is not a network namespace: $NS_FIX" \
	--netns /run/netns/sksteer-stale-$$ -p 82 "${T[@]}"

# --fd and --systemd: descriptors that are not a listening socket (made by perl, which keeps a
# socket open across exec when its number is above $^F)
with_socket() { # with_socket TYPE CONNECT-PORT COMMAND...: COMMAND --fd (the socket)
	perl -MSocket -e '$^F = 100; my ($type, $port) = (shift, shift);
		socket(my $s, PF_INET, $type eq "udp" ? SOCK_DGRAM : SOCK_STREAM, 0) or die "$!";
		$port and (connect($s, pack_sockaddr_in($port, inet_aton("127.0.0.1"))) or die "$!");
		exec @ARGV, "--fd", fileno($s)' "$@"
}
bad "--fd of a descriptor not open" \
	"^sksteer: --fd 42 is not an open descriptor of sksteer: pass the socket down to it" --fd 42 -p 82
bad "--fd of a regular file" \
	"^sksteer: --fd 3 is a regular file: give the descriptor of a listening TCP socket or a bound UDP socket\$" \
	--fd 3 -p 82 3<"$WORK/file"
bad "--fd of a negative number" "^sksteer: --fd -1: give a descriptor number" --fd -1 -p 82
bad "--fd of a name, with nothing passed" \
	"^sksteer: --fd web: not a descriptor number, and no named sockets were passed \(LISTEN_FDS is not set\)" \
	--fd web -p 82
RUN_AS=(with_socket tcp 0)
bad "--fd of a TCP socket never bound" \
	"^sksteer: --fd [0-9]+ is a TCP socket that is not bound to an address: bind it" -p 82
RUN_AS=(with_socket tcp 9001)
bad "--fd of a connected TCP socket" \
	"^sksteer: --fd [0-9]+ is a TCP socket at 127\.0\.0\.1:[0-9]+ that is not listening \(a connection\): give the descriptor of a listening socket" \
	-p 82
RUN_AS=(with_socket udp 0)
bad "--fd of a UDP socket never bound" \
	"^sksteer: --fd [0-9]+ is a UDP socket that is not bound to an address" -p 82
RUN_AS=()
bad "--systemd with nothing passed" "^sksteer: no sockets were passed \(LISTEN_FDS is not set\)" \
	--systemd -p 82

# --listen: the socket it cannot make
bad "--listen at a malformed address" \
	"^sksteer: --listen: bad target address '127\.0\.0\.256:9100': not a valid IPv4 address\$" \
	--listen 127.0.0.256:9100 -p 82 -- true
bad "--listen where a socket is bound already" \
	"^sksteer: --listen 127\.0\.0\.1:9000: Address already in use: another socket is bound there" \
	--listen 127.0.0.1:9000 -p 82 -- true
bad "--listen at an address no interface has" \
	"^sksteer: --listen 192\.0\.2\.1:9100: Cannot assign requested address: no interface of this network namespace has that address\$" \
	--listen 192.0.2.1:9100 -p 82 -- true
bad "--listen for a command that does not exist" "^sksteer: cannot run /nonexistent: No such file or directory" \
	--listen 127.0.0.1:9100 -p 82 -- /nonexistent

# configuration files that cannot be read (tests/58-config.t has the lines that are wrong)
bad "--config of a missing file" \
	"^sksteer: cannot read the configuration /nonexistent: No such file or directory\$" \
	--config /nonexistent
bad "--config of a directory" \
	"^sksteer: the configuration /tmp is a directory, not a file: give a configuration file \(sksteer.conf\(5\)\), or pipe it into --config -\$" \
	--config /tmp
printf 'tcp 127.0.0.1:9001 82 fail-closed fail-open\n' >"$WORK/both.conf"
bad "a line that is fail-closed and fail-open" \
	"^sksteer: $WORK/both\.conf:1: fail-closed and fail-open contradict each other: give one\$" \
	--config "$WORK/both.conf"
printf 'tcp [::1]:9001 82\n' >"$WORK/v6.conf"
bad "a target of the other family, nothing listening there" \
	"^sksteer: $WORK/v6\.conf:1: nothing listens at \[::1\]:9001" --config "$WORK/v6.conf"

# The environment: privileges, bpffs, the target's owner out of sight.
RUN_AS=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
bad "not root" \
	"^sksteer: steering needs $LOAD_NEEDS, and this process lacks $LOAD_NEEDS: run it with sudo$MEMLOCK_HINT\$" \
	-p 82 "${T[@]}"
RUN_AS=(setpriv --inh-caps=-net_admin --bounding-set=-net_admin --)
bad "root without CAP_NET_ADMIN" "steering needs .*, and this process lacks CAP_NET_ADMIN: run it with sudo" \
	-p 82 "${T[@]}"

# A private mount and PID namespace where bpffs is not mounted and cannot be.
no_bpffs() {
	unshare -m -p -f --mount-proc -- sh -c 'umount /sys/fs/bpf 2>/dev/null
		exec setpriv --inh-caps=-sys_admin --bounding-set=-sys_admin -- "$@"' sh "$@"
}
RUN_AS=(no_bpffs)
bad "no bpffs, and no right to mount it" \
	"^sksteer: bpffs is not mounted on /sys/fs/bpf and sksteer could not mount it \(Operation not permitted\): run sksteer as root \(mounting needs CAP_SYS_ADMIN\), or mount it once with 'mount -t bpf bpf /sys/fs/bpf'$" \
	-p 82 "${T[@]}"
# (tests/05-fresh-host.t shows the mount that a run which steers makes)
is "a read-only run does not mount bpffs, and finds nothing steered" \
	"not steering in this network namespace sysfs" \
	"$(unshare -m -- sh -c 'umount /sys/fs/bpf 2>/dev/null
		"$1" --list && stat -f -c %T /sys/fs/bpf' sh "$SKSTEER" | tr '\n' ' ' | sed 's/ $//')"

# A PID namespace from which the target's owner cannot be seen, with the last resort forced
# (tests/25-discovery.t shows that the other ways work there).
RUN_AS=(env SKSTEER_FIND=pidfd unshare -p -f --mount-proc --)
bad "the target's owner out of sight, for SKSTEER_FIND=pidfd" \
	"no process owning the socket at 127.0.0.1:9001 can be seen \(in another PID namespace" \
	-p 82 "${T[@]}"

# Hostile surroundings: too few descriptors, a pin directory others may write, a pin replaced.
RUN_AS=(prlimit --nofile=16 --)
bad "RLIMIT_NOFILE of 16" \
	"^sksteer: a run needs up to 128 open files, and RLIMIT_NOFILE allows 16: raise it \(ulimit -n 128\)$" \
	-p 82 "${T[@]}"
RUN_AS=(prlimit --nofile=16:4096 --)
ok "a low soft RLIMIT_NOFILE under a higher hard one is raised, and the run works" \
	"${RUN_AS[@]}" "$SKSTEER" --list
RUN_AS=()
chmod 0777 "$PIN_DIR"
bad "a pin directory writable by others" \
	"^sksteer: the pin directory $PIN_DIR is writable by others \(sksteer's pins are its owner's alone\)" \
	-p 82 "${T[@]}"
is "(read-only commands refuse it too)" 1 "$("$SKSTEER" --list >/dev/null 2>&1; echo $?)"
chmod 0700 "$PIN_DIR"
chown 65534 "$PIN_DIR"
bad "a pin directory of another user" "^sksteer: the pin directory $PIN_DIR is owned by another user" \
	-p 82 "${T[@]}"
chown 0 "$PIN_DIR"
ext=$(bpftool map show pinned "$PIN_DIR/stats_ext" | awk -F: 'NR == 1 { print $1 }')
rm "$PIN_DIR/stats_ext"
bpftool map create "$PIN_DIR/stats_ext" type array key 4 value 4 entries 1 name stats_ext
bad "a pinned map replaced by one of another type" \
	"^sksteer: the steering pinned in $PIN_DIR comes from an incompatible sksteer version \(map 'stats_ext' differs\)" \
	-p 82 "${T[@]}"
rm "$PIN_DIR/stats_ext"
bpftool map pin id "$ext" "$PIN_DIR/stats_ext"
ok "with the pins put back, a run works again" "$SKSTEER" -p 80,443 -s 127.0.0.1:9000
ports=$(bpftool map show pinned "$PIN_DIR/ports" | awk -F: 'NR == 1 { print $1 }')
rm "$PIN_DIR/ports"
bpftool map create "$PIN_DIR/ports" type hash key 4 value 4 entries 1 name ports
bad "the port table replaced by a hash map" \
	"^sksteer: the steering pinned in $PIN_DIR has a map layout this sksteer does not know \(map 'ports' differs\)" \
	-p 82 "${T[@]}"
rm "$PIN_DIR/ports"
bpftool map pin id "$ports" "$PIN_DIR/ports"
# the link pinned elsewhere too (it would go with its last pin), a map in its place: taken for
# stale pins, everything was cleared, and a second program attached beside the first
link=$(bpftool link show pinned "$PIN_DIR/link" | awk -F: 'NR == 1 { print $1 }')
KEEP=$(dirname "$PIN_DIR")/test-keep-$$
bpftool link pin id "$link" "$KEEP"
at_exit "rm -f $KEEP"
rm "$PIN_DIR/link"
bpftool map create "$PIN_DIR/link" type array key 4 value 4 entries 1 name link
bad "the link replaced by a map" \
	"^sksteer: the pin $PIN_DIR/link is not a link \(something else was pinned in its place\): remove it" \
	-p 82 "${T[@]}"
is "(readers refuse it too)" 1 "$("$SKSTEER" --list >/dev/null 2>&1; echo $?)"
is "(no second program attached)" 1 "$(bpftool link show | grep -c "netns_ino $NETNS_INO")"
rm "$PIN_DIR/link"
bpftool link pin id "$link" "$PIN_DIR/link"
rm "$KEEP"
ok "with the link put back, a run works again" "$SKSTEER" -p 80,443 -s 127.0.0.1:9000

# bpffs read-only here (a private mount namespace's read-only bind mount of it), or a fresh
# read-only bpffs: a --detach would have left every pin behind, a change half made
ro_bpffs() {
	unshare -m --propagation private -- sh -c 'mount -o bind,ro /sys/fs/bpf /sys/fs/bpf &&
		exec "$@"' sh "$@"
}
RO="^sksteer: bpffs is mounted read-only on /sys/fs/bpf, and sksteer changes its pins there: remount it read-write \('mount -o remount,rw /sys/fs/bpf'\)\$"
RUN_AS=(ro_bpffs)
bad "bpffs read-only, a change" "$RO" -p 82 "${T[@]}"
bad "bpffs read-only, --detach" "$RO" --detach
bad "bpffs read-only, --config" "$RO" --config "$WORK/both.conf"
RUN_AS=(unshare -m --propagation private -- sh -c 'mount -t bpf -o ro bpf /sys/fs/bpf && exec "$@"' sh)
bad "a fresh read-only bpffs" "$RO" -p 82 "${T[@]}"
RUN_AS=()
is "(readers read it read-only)" "0" \
	"$(ro_bpffs "$SKSTEER" --list >/dev/null 2>&1; echo $?)"

# limits: RLIMIT_NOFILE between 16 and what a run needs; RLIMIT_MEMLOCK of nothing
RUN_AS=(prlimit --nofile=64 --)
bad "RLIMIT_NOFILE of 64" "^sksteer: a run needs up to 128 open files, and RLIMIT_NOFILE allows 64" \
	-p 82 "${T[@]}"
RUN_AS=()
if kernel_at_least 5 11; then
	# BPF memory is charged to the memory cgroup, not RLIMIT_MEMLOCK: a run works
	ok "RLIMIT_MEMLOCK of 0 (Linux >= 5.11: BPF memory is not charged to it)" \
		prlimit --memlock=0 "$SKSTEER" -p 80,443 -s 127.0.0.1:9000
	is "(and steers as before)" "80 443 refused" "$(steering)"
else
	ok "RLIMIT_MEMLOCK of 0: root raises it" prlimit --memlock=0 "$SKSTEER" -p 80,443 -s 127.0.0.1:9000
fi

# A target's owner that named itself with a quote, a backslash, a control character and bytes
# that are no UTF-8 (prctl PR_SET_NAME takes any): --list --json stays JSON, --list one line
# per field with no control character of the owner's choosing
perl -MConfig -MIO::Socket::INET -e '$| = 1;
	my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1:9002", Listen => 5) or die "$!";
	my $name = "a\xff\xfe\"\\\x1b[2Jb\0";
	my $prctl = $Config{archname} =~ /aarch64/ ? 167 : 157;
	syscall($prctl, 15, $name) == 0 or die "prctl: $!"; # PR_SET_NAME
	print "ready\n"; sleep 60' >"$WORK/named.out" 2>&1 &
PIDS+=($!)
wait_listening 9002
ok "steer 84 to the oddly named owner's socket" "$SKSTEER" -p 84 -s 127.0.0.1:9002
is "--list --json is JSON, the name's bytes that are no UTF-8 as U+FFFD, the others as they are" \
	'a\ufffd\ufffd"\\u001b[2Jb' \
	"$("$SKSTEER" --list --json | perl -MJSON::PP -e '
		my $j = decode_json(join "", <STDIN>);
		my ($t) = grep { $_->{port} == 9002 } @{$j->{targets}};
		print JSON::PP->new->ascii->encode([$t->{owner}{comm}]) =~ s/^\["|"\]$//gr' |
		sed 's/\\"/"/; s/\\\\/\\/')"
is "--list prints no control character of it" 0 \
	"$("$SKSTEER" --list | tr -d '\n' | LC_ALL=C grep -c '[[:cntrl:]]')"
ok "--detach it" "$SKSTEER" --detach -s 127.0.0.1:9002

done_testing
