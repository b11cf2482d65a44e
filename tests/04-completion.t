# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# bash completion (contrib/bash-completion/sksteer): every option --help lists, and what each
# option takes, by calling the completion function with prepared COMP_WORDS and COMP_CWORD, as
# bash would on TAB.
. "$(dirname "$0")/lib.sh"

. "$TOP/contrib/bash-completion/sksteer"
# complete WORD...: the candidates for the last word, one per line, sorted (bash splits
# "--opt=VALUE" as "--opt" "=" "VALUE": so do the callers)
complete_words() {
	COMP_WORDS=("${COMPLETE_BIN:-$SKSTEER}" "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	_sksteer
	printf '%s\n' "${COMPREPLY[@]}" | sort
}

is "registered for sksteer" "complete -F _sksteer sksteer" "$(complete -p sksteer)"

# Every long option --help shows is offered, and nothing it does not show
help_options=$("$SKSTEER" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
offered=$(complete_words "--" | sed 's/=.*//' | sort -u)
is "every option of --help, and no other" "$help_options" "$offered"
is "a prefix: what it begins" "--fail-closed
--fail-open" "$(complete_words --fail)"
is "after a value, options again" "--detach
--dry-run
--dst
--dual-stack" "$(complete_words -p 80 --d)"

# -s: the live targets, as -s takes them, and the protocol prefixes
serve 127.0.0.1:9000
serve --udp 127.0.0.1:9001
ok "a TCP target" "$SKSTEER" -p 80 -s 127.0.0.1:9000
ok "a UDP target" "$SKSTEER" -p 53 -s udp:127.0.0.1:9001
is "-s: the steered targets, udp: before a UDP one" "127.0.0.1:9000
tcp:
udp:
udp:127.0.0.1:9001" "$(complete_words -s "")"
is "--socket=udp: the UDP ones" "udp:
udp:127.0.0.1:9001" "$(complete_words --socket = udp:)"
is "--listen too" "127.0.0.1:9000" "$(complete_words --listen 127)"
is "-s where --list cannot be read: the prefixes alone" "tcp:
udp:" "$(COMPLETE_BIN=/bin/false complete_words -s "")"

# --config: files, and - for standard input
touch "$WORK/edge.conf" "$WORK/edge.other"
is "--config: files" "$WORK/edge.conf" "$(complete_words --config "$WORK/edge.c")"
is "--config: - among them" "-" "$(complete_words -c "" | grep -x -- -)"

# --netns: /run/netns names, and /proc/PID/ns/net
netns_add
is "--netns: /run/netns's namespaces" "/run/netns/$NS" "$(complete_words --netns "/run/netns/$NS")"
is "--netns /proc/PID: its ns/net" "/proc/$$/ns/net" "$(complete_words -n "/proc/$$")"

# the others
is "--group: the host's groups" "nogroup" "$(complete_words --group nogrou)"
is "--follow=: group" "group" "$(complete_words --follow = "")"
is "--follow alone takes no word: options follow" "--fail-closed
--fail-open" "$(complete_words --follow --fail)"
is "--follow-cgroup: cgroups under /sys/fs/cgroup" "$(cd /sys/fs/cgroup && compgen -d | sort |
	sed 's|^|/|')" "$(complete_words --follow-cgroup /)"
is "--serve-metrics: loopback addresses" "127.0.0.1:9917" "$(complete_words --serve-metrics 127)"
is "-p: nothing (the operator's ports)" "" "$(complete_words -p "")"
is "--dst=: nothing" "" "$(complete_words --dst = "")"
is "after --: commands" "bash" \
	"$(complete_words --listen 127.0.0.1:9000 -p 80 -- bas | grep -x bash | sort -u)"
is "... then files" "$WORK/edge.conf" "$(complete_words --listen 127.0.0.1:9000 -p 80 -- nginx "$WORK/edge.c")"

done_testing
