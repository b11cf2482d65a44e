# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# bash completion (contrib/bash-completion/sksteer.bash): every option --help lists, and what each
# option takes, by calling the completion function with prepared COMP_WORDS and COMP_CWORD, as
# bash would on TAB.
. "$(dirname "$0")/lib.sh"

. "$TOP/contrib/bash-completion/sksteer.bash"
COMP_WORDBREAKS=$' \t\n"\'><=;|&(:' # bash's default: words split at ':' and '=' too
# complete LINE: the candidates bash would offer on TAB at the end of LINE (after "sksteer "),
# one per line, sorted. LINE is split as bash splits it: at blanks, and around each run of ':'
# and '=' (so "-s udp:127" comes as "-s" "udp" ":" "127"); a blank at its end starts a word.
complete_line() {
	local words breaks=''
	[[ $COMP_WORDBREAKS == *:* ]] && breaks+=:
	[[ $COMP_WORDBREAKS == *=* ]] && breaks+==
	read -r -a words <<<"$(sed -E "${breaks:+s/([$breaks]+)/ \\1 /g}" <<<"$1")"
	[[ $1 == *" " || -z $1 ]] && words+=("")
	COMP_WORDS=("${COMPLETE_BIN:-$SKSTEER}" "${words[@]}")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="sksteer $1"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_sksteer
	printf '%s\n' "${COMPREPLY[@]}" | sort
}
is "registered for sksteer" "complete -F _sksteer sksteer" "$(complete -p sksteer)"

# Every long option --help shows is offered, and nothing it does not show
help_options=$("$SKSTEER" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
is "every option of --help, and no other" "$help_options" "$(complete_line "--")"
is "a prefix: what it begins" "--fail-closed
--fail-open" "$(complete_line "--fail")"
is "after a value, options again" "--detach
--dry-run
--dst
--dual-stack" "$(complete_line "-p 80 --d")"

# -s: the live targets, as -s takes them, and the protocol prefixes; past a ':', what follows
# it (bash replaces only that)
serve 127.0.0.1:9000
serve --udp 127.0.0.1:9001
ok "a TCP target" "$SKSTEER" -p 80 -s 127.0.0.1:9000
ok "a UDP target" "$SKSTEER" -p 53 -s udp:127.0.0.1:9001
is "-s: the steered targets, udp: before a UDP one" "127.0.0.1:9000
tcp:
udp:
udp:127.0.0.1:9001" "$(complete_line "-s ")"
is "-s udp: (split at ':'): the UDP ones, after the colon" "127.0.0.1:9001" \
	"$(complete_line "-s udp:")"
is "-s udp:127.0.0.1:90: the port" "9001" "$(complete_line "-s udp:127.0.0.1:90")"
is "--socket=udp:127 (split at '=' and ':')" "127.0.0.1:9001" "$(complete_line "--socket=udp:127")"
is "--listen 127: a TCP one" "127.0.0.1:9000" "$(complete_line "--listen 127")"
is "-s tcp:127: with the default prefix too" "127.0.0.1:9000" "$(complete_line "-s tcp:127")"
is "-s udp: and a blank: a new word, not -s's: the options" "$help_options" \
	"$(complete_line "-s udp: ")"
serve "[::1]:9002"
ok "an IPv6 target" "$SKSTEER" -p 82 -s "[::1]:9002"
touch "$WORK/1:9002" # a file its address would glob to, were it expanded unquoted
is "-s [: the IPv6 one, whole, whatever files are about" "[::1]:9002" \
	"$(cd "$WORK" && complete_line "-s [")"
is "-s where --list cannot be read: the prefixes alone" "tcp:
udp:" "$(COMPLETE_BIN=/bin/false complete_line "-s ")"

# --config: files, and - for standard input
touch "$WORK/edge.conf" "$WORK/edge.other"
is "--config: files" "$WORK/edge.conf" "$(complete_line "--config $WORK/edge.c")"
is "--config=: files too" "$WORK/edge.conf" "$(complete_line "--config=$WORK/edge.c")"
is "--config: - among them" "-" "$(complete_line "-c " | grep -x -- -)"
touch "$WORK/my edge.conf"
is "--config: a name with a blank, whole" "$WORK/my edge.conf" "$(complete_line "--config $WORK/my")"
is "where '=' does not split words: --config= given with the value" "--config=$WORK/edge.conf" \
	"$(COMP_WORDBREAKS=${COMP_WORDBREAKS//=/} complete_line "--config=$WORK/edge.c")"

# --netns: /run/netns names, and /proc/PID/ns/net
netns_add
is "--netns: /run/netns's namespaces" "/run/netns/$NS" "$(complete_line "--netns /run/netns/$NS")"
is "--netns /proc/PID: its ns/net" "/proc/$$/ns/net" "$(complete_line "-n /proc/$$")"
serve_in "$NS" 127.0.0.1:9009
ok "a target in that namespace" "$SKSTEER" --netns "/run/netns/$NS" -p 81 -s 127.0.0.1:9009
is "-s after --netns: that namespace's targets" "9009" \
	"$(complete_line "--netns /run/netns/$NS -s 127.0.0.1:90")"
is "-s without: this one's" "9000" "$(complete_line "-s 127.0.0.1:90")"

# the others
is "--group: the host's groups" "nogroup" "$(complete_line "--group nogrou")"
is "--follow=: group" "group" "$(complete_line "--follow=")"
is "--follow alone takes no word: options follow" "--fail-closed
--fail-open" "$(complete_line "--follow --fail")"
is "--follow-cgroup: cgroups under /sys/fs/cgroup" "$(cd /sys/fs/cgroup && compgen -d | sort |
	sed 's|^|/|')" "$(complete_line "--follow-cgroup /")"
is "--serve-metrics 127.0.0.1:99: the port" "9917" "$(complete_line "--serve-metrics 127.0.0.1:99")"
is "-p: nothing (the operator's ports)" "" "$(complete_line "-p ")"
is "--dst=: nothing" "" "$(complete_line "--dst=")"
is "after --: commands" "bash" \
	"$(complete_line "--listen 127.0.0.1:9000 -p 80 -- bas" | grep -x bash | sort -u)"
is "... then files" "$WORK/edge.conf" \
	"$(complete_line "--listen 127.0.0.1:9000 -p 80 -- nginx $WORK/edge.c")"

done_testing
