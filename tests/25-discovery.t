# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Finding the target socket: sock_diag chooses it, and the kernel puts it into the sockmap
# (a socket iterator, or a one-shot lookup program); pidfd_getfd() is only the last resort.
. "$(dirname "$0")/lib.sh"

serve --label=A 127.0.0.1:9000 # the others answer with the port alone: A is who answers
serve --v6only '[::1]:9001'
serve '[::]:9002'
serve --udp 127.0.0.1:5353
serve --udp --v6only '[::1]:5354'

# each way, forced, for every kind of target
ways="lookup pidfd"
if kernel_at_least 6 5; then
	ways="iter $ways"
else
	STDERR=$(SKSTEER_FIND=iter "$SKSTEER" -p 80 -s 127.0.0.1:9000 2>&1)
	is "before 6.5, SKSTEER_FIND=iter is refused" \
		"sksteer: SKSTEER_FIND=iter: before Linux 6.5 a socket iterator cannot update a sockmap without deadlocking: unset SKSTEER_FIND" \
		"$STDERR"
fi
for way in $ways; do
	export SKSTEER_FIND=$way
	ok "$way: an IPv4 target" "$SKSTEER" -p 80 -s 127.0.0.1:9000
	ok "$way: an IPv6-only target" "$SKSTEER" -p 81 -s '[::1]:9001'
	ok "$way: a dual-stack target" "$SKSTEER" -p 82 -s '[::]:9002'
	ok "$way: a UDP target" "$SKSTEER" -p 53 -s udp:127.0.0.1:5353
	ok "$way: an IPv6-only UDP target" "$SKSTEER" -p 54 -s 'udp:[::1]:5354'
	is "$way: each is steered" "A:80 81 82 82 53 54" "$(dial 127.0.0.1:80) $(dial '[::1]:81') \
$(dial '[::1]:82') $(dial 127.0.0.1:82) $(dial --udp 127.0.0.1:53) $(dial --udp '[::1]:54')"
	# the lookup way asks the kernel's socket lookup, which runs the sk_lookup hook too
	is "$way: sksteer's own lookups are not counted as traffic" 0 \
		"$("$SKSTEER" --list --json | perl -MJSON::PP -e 'print decode_json(join "", <STDIN>)->{lookups}{passed}')"
	ok "$way: --detach" "$SKSTEER" --detach
done
unset SKSTEER_FIND

# the owner in another PID namespace, sksteer without CAP_SYS_PTRACE
in_pidns() { unshare -p -f --mount-proc -- "$@"; }
ok "the owner out of sight (sksteer in another PID namespace)" in_pidns "$SKSTEER" -p 80 -s 127.0.0.1:9000
is "steered" A:80 "$(dial 127.0.0.1:80)"
ok "--list there shows the target, its owner unknown" \
	bash -c "unshare -p -f --mount-proc -- '$SKSTEER' --list | grep -qx 'target 127.0.0.1:9000  tcp  listening'"
# (a run that finds the socket already in place leaves it: detach, so that each way puts it there)
for way in ${ways% pidfd}; do
	"$SKSTEER" --detach
	ok "$way: the same, forced" env SKSTEER_FIND=$way unshare -p -f --mount-proc -- \
		"$SKSTEER" -p 80,83 -s 127.0.0.1:9000
	is "$way: steered to A's socket" "A:80 A:83" "$(dial 127.0.0.1:80) $(dial 127.0.0.1:83)"
done
caps=$LOAD_CAPS
ok "without CAP_SYS_PTRACE" setpriv --inh-caps=-all,$caps --ambient-caps=-all,$caps \
	--bounding-set=-all,$caps -- "$SKSTEER" -p 84 -s 127.0.0.1:9000
is "steered" A:84 "$(dial 127.0.0.1:84)"
run_sksteer_env() { STDERR=$(env "$@" 2>&1 >/dev/null); RC=$?; }
serve 127.0.0.1:9010
run_sksteer_env SKSTEER_FIND=pidfd setpriv --inh-caps=-all,$caps --ambient-caps=-all,$caps \
	--bounding-set=-all,$caps -- "$SKSTEER" -p 85 -s 127.0.0.1:9010
like "the last resort, forced, without CAP_SYS_PTRACE: one line" \
	"^sksteer: no process owning the socket at 127.0.0.1:9010 can be seen \(in another PID namespace, or not without CAP_SYS_PTRACE\): let the kernel find it \(SKSTEER_FIND=iter or lookup\)$" \
	"$STDERR"
is "and nothing changed" "A:84 refused" "$(dial 127.0.0.1:84) $(dial 127.0.0.1:85)"
ok "--detach" "$SKSTEER" --detach

# a socket bound to a device: sk_lookup would hand it every device's connections
serve --device=lo 127.0.0.1:9005
run_sksteer -p 86 -s 127.0.0.1:9005
is "a device-bound target is refused in one line" \
	"sksteer: the socket at 127.0.0.1:9005 is bound to device lo (SO_BINDTODEVICE), and steering would hand it connections that arrive on every device: bind it without a device" \
	"$STDERR"
is "nothing is steered" refused "$(dial 127.0.0.1:86)"
ok "and nothing pinned" pins_gone

# Re-resolving must not hand the ports to another user's socket.
serve 127.0.0.1:9006
OWNER=$LAST_PID
ok "steer 87 to root's socket at 127.0.0.1:9006" "$SKSTEER" -p 87 -s 127.0.0.1:9006
kill "$OWNER"
wait "$OWNER" 2>/dev/null
start_ready setpriv --reuid=65534 --regid=65534 --clear-groups -- "$NETPEER" serve 127.0.0.1:9006
run_sksteer -s 127.0.0.1:9006
is "a socket of another user at the same address is refused" \
	"sksteer: refusing to steer to the socket now at 127.0.0.1:9006: it belongs to uid 65534, the socket it would replace to uid 0 (use --force if the new owner is right)" \
	"$STDERR"
is "nothing changed: port 87 has no target, and the stranger gets nothing" refused \
	"$(dial 127.0.0.1:87)"
ok "with --force, the operator says the new owner is right" "$SKSTEER" -s 127.0.0.1:9006 --force
is "now steered" 87 "$(dial 127.0.0.1:87)"

done_testing
