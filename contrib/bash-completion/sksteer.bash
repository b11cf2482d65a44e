# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
# bash completion for sksteer(8): its options, and what each takes (sksteer.bash, installed as
# /usr/share/bash-completion/completions/sksteer). Needs nothing of bash-completion's own helpers.

# The targets steered now, as -s takes them (a UDP one as "udp:ADDR:PORT"), in the namespace
# of --netns if the line gives one, where --list --json can be read (root, CAP_BPF, or a member
# of the pins' group); nothing otherwise, never a prompt.
_sksteer_targets() { # _sksteer_targets SKSTEER [NETNS]
	"${1:-sksteer}" ${2:+--netns "$2"} --list --json 2>/dev/null </dev/null |
		grep -o '"target":"[^"]*"' | sed 's/^"target":"//; s/"$//'
}

# The words as typed, in _SKSTEER_WORDS and _SKSTEER_CWORD: bash splits them at ':' and '='
# too (COMP_WORDBREAKS), so that "udp:127.0.0.1:9000" comes as "udp" ":" "127.0.0.1" ":"
# "9000", and "--socket=udp:" as "--socket" "=" "udp" ":". Joined back; a blank before the
# cursor (COMP_LINE) starts a word of its own, whatever the one before ends with.
_sksteer_words() {
	local i w
	_SKSTEER_WORDS=()
	_SKSTEER_CWORD=0
	for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
		w=${COMP_WORDS[i]}
		if ((i > 1)) && [[ $w == [:=]* || ${_SKSTEER_WORDS[-1]} == *[:=] ]] &&
			! [[ $i == "$COMP_CWORD" && -z $w && -n ${COMP_LINE-} &&
				${COMP_LINE:COMP_POINT-1:1} == [[:blank:]] ]]; then
			_SKSTEER_WORDS[-1]+=$w
		else
			_SKSTEER_WORDS+=("$w")
		fi
		((i == COMP_CWORD)) && _SKSTEER_CWORD=$((${#_SKSTEER_WORDS[@]} - 1))
	done
	((COMP_CWORD < ${#COMP_WORDS[@]})) || _SKSTEER_CWORD=${#_SKSTEER_WORDS[@]}
}

# COMPREPLY: the candidates for the value cur (of option opt, given as --opt=VALUE when eq is 1)
# as bash replaces the word: only what follows the last ':' it split at, as bash-completion's
# __ltrim_colon_completions does; with "--opt=" where it did not split at '='; none empty.
_sksteer_reply() { # _sksteer_reply CUR CANDIDATE...
	local cur=$1 head='' prefix='' c
	shift
	if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
		head=${cur%"${cur##*:}"}
	elif ((eq)) && [[ $COMP_WORDBREAKS != *=* ]]; then
		prefix=$opt=
	fi
	COMPREPLY=()
	for c in "$@"; do
		c=${c#"$head"}
		[ -n "$c" ] && COMPREPLY+=("$prefix$c")
	done
}

# what compgen offers for cur, a line each (names with blanks kept whole)
_sksteer_gen() { mapfile -t _SKSTEER_GEN < <(compgen "$@" 2>/dev/null); }

_sksteer() {
	local -a options=(--ports --socket --dst --add --remove --force --fail-closed --fail-open
		--follow --no-follow --follow-cgroup --config --dry-run --watch
		--new-sockets --save --detach --group --wait --trace --list --json --metrics
		--serve-metrics --check --netns --all-netns --verbose --fd --systemd --listen
		--backlog --reuseport --v6only --dual-stack --fdname --help --usage --version)
	local cur prev opt='' eq=0 i t netns=''
	local -a _SKSTEER_GEN=() found=() targets=()
	_sksteer_words
	cur=${_SKSTEER_WORDS[_SKSTEER_CWORD]-}
	prev=${_SKSTEER_WORDS[_SKSTEER_CWORD - 1]-}

	# after "--", CMD and its arguments (--listen ... -- CMD)
	for ((i = 1; i < _SKSTEER_CWORD; i++)); do
		if [[ ${_SKSTEER_WORDS[i]} == -- ]]; then
			if ((i < _SKSTEER_CWORD - 1)); then
				_sksteer_gen -f -- "$cur"
				compopt -o filenames 2>/dev/null
			else
				_sksteer_gen -c -- "$cur"
			fi
			COMPREPLY=("${_SKSTEER_GEN[@]}")
			return
		fi
	done
	# --opt=VALUE: VALUE completed as --opt's; -o VALUE, --opt VALUE alike
	if [[ $cur == --*=* ]]; then
		opt=${cur%%=*} eq=1 cur=${cur#*=}
	elif [[ $prev == -* ]] && ((_SKSTEER_CWORD > 1)); then
		opt=$prev
	fi
	case $opt in
	--follow)
		# its value is optional, so only ever given after '=': "group"
		if ((eq)); then
			_sksteer_gen -W group -- "$cur"
			_sksteer_reply "$cur" "${_SKSTEER_GEN[@]}"
			return
		fi
		;;
	-s | --socket | --listen)
		for ((i = 1; i < _SKSTEER_CWORD - 1; i++)); do
			case ${_SKSTEER_WORDS[i]} in
			-n | --netns) netns=${_SKSTEER_WORDS[i + 1]} ;;
			--netns=*) netns=${_SKSTEER_WORDS[i]#--netns=} ;;
			esac
		done
		mapfile -t targets < <(_sksteer_targets "${COMP_WORDS[0]}" "$netns")
		for t in "${targets[@]}" udp: tcp:; do
			# where the word says "tcp:" (the default), the TCP ones with it too
			[[ $cur == tcp:* && $t != udp:* && $t != tcp: ]] && t=tcp:$t
			[[ $t == "$cur"* ]] && found+=("$t")
		done
		_sksteer_reply "$cur" "${found[@]}"
		return
		;;
	-c | --config)
		_sksteer_gen -f -- "$cur"
		[[ -z $cur || $cur == - ]] && _SKSTEER_GEN+=(-)
		compopt -o filenames 2>/dev/null
		_sksteer_reply "$cur" "${_SKSTEER_GEN[@]}"
		return
		;;
	-n | --netns)
		for t in /run/netns/*; do
			[[ -e $t && $t == "$cur"* ]] && found+=("$t")
		done
		[[ $cur == /proc* ]] && _sksteer_gen -G "$cur*/ns/net" && found+=("${_SKSTEER_GEN[@]}")
		_sksteer_reply "$cur" "${found[@]}"
		return
		;;
	--group)
		_sksteer_gen -g -- "$cur"
		_sksteer_reply "$cur" "${_SKSTEER_GEN[@]}"
		return
		;;
	--follow-cgroup)
		mapfile -t found < <(cd /sys/fs/cgroup 2>/dev/null && compgen -d -- "${cur#/}" |
			sed 's|^|/|')
		_sksteer_reply "$cur" "${found[@]}"
		return
		;;
	--serve-metrics)
		_sksteer_gen -W "127.0.0.1:9917 [::1]:9917" -- "$cur"
		_sksteer_reply "$cur" "${_SKSTEER_GEN[@]}"
		return
		;;
	--fd)
		_sksteer_gen -W "${LISTEN_FDNAMES//:/ }" -- "$cur"
		_sksteer_reply "$cur" "${_SKSTEER_GEN[@]}"
		return
		;;
	-p | --ports | -a | --add | -r | --remove | --dst | -w | --wait | --backlog | --fdname)
		COMPREPLY=() # a value of the operator's own: nothing to offer
		return
		;;
	esac
	if [[ $cur == -* || -z $cur ]]; then
		_sksteer_gen -W "${options[*]}" -- "$cur"
		COMPREPLY=("${_SKSTEER_GEN[@]}")
	fi
}
complete -F _sksteer sksteer
