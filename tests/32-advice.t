# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The advice in a refusal: the library says it in its own terms, naming no option, and the
# command line says it with the option that follows it (src/cli/messages.c's phrases). Each
# phrase the suite does not meet elsewhere, met once, whole; each refusal changes nothing.
. "$(dirname "$0")/lib.sh"

A=127.0.0.1:9000
B=127.0.0.1:9001

# refuse DESCRIPTION EXPECTED-LINE ARGS...: exit 1, exactly that one line
refuse() {
	local desc=$1 want=$2
	shift 2
	run_sksteer "$@"
	is "$desc" "1 sksteer: $want" "$RC $STDERR"
}

refuse "no target named, and none steered" \
	"nothing is steered here yet: name the target with -s" -p 80
serve --label=A $A
serve --label=B $B
refuse "a target without ports" \
	"$A is not a target in this namespace: give its ports with -p" -s $A
refuse "a socket at another address of the port" \
	"nothing listens at 127.0.0.2:9000 in this network namespace, but $A does: give that address with -s" \
	-p 80 -s 127.0.0.2:9000

ok "steer 80,81 to A" "$SKSTEER" -p 80,81 -s $A
ok "and 82 to B" "$SKSTEER" -p 82 -s $B
before=$("$SKSTEER" --save)
refuse "two targets, none named" \
	"several targets are steered here: name the target with -s" -p 80
refuse "a port another target owns" \
	"ports 80 belong to target $A (use --force to move them to $B)" -p 80,82 -s $B
serve 127.0.0.1:8088
refuse "a port another socket listens on" \
	"refusing to steer port 8088: 127.0.0.1:8088 (netpeer, pid $LAST_PID) already uses it and would lose its connections (use --force to steer anyway)" \
	-p 80,81,8088 -s $A
refuse "removing a port the target lacks" \
	"port 99 is not steered to $A: nothing to remove there (see sksteer --list)" \
	-s $A --remove 99
refuse "detaching ports of a prefix the target has none for" \
	"target $A has no ports for --dst 10.0.0.0/8 (sksteer --list shows them)" \
	--detach -s $A --dst 10.0.0.0/8
is "none of them changed the steering" "$before" "$("$SKSTEER" --save)"
is "80 still goes to A, 82 to B" "A:80 B:82" "$(dial 127.0.0.1:80) $(dial 127.0.0.1:82)"

done_testing
