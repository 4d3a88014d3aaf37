# bash completion for ctrace(1)                                   -*- shell-script -*-
# Option names, and which of them take a value, are read from `ctrace --help` at completion time
# (`ctrace MODE --help` once a mode is on the line, so only the options that mode takes are
# offered), so options added to ctrace complete without editing this file. Values of --format and --unwinder
# come from ctrace's own "unknown value" message for the same reason.

# _ctrace_opts CMD [MODE…]: every option of `CMD MODE… --help`, one per line; an option taking a
# value is followed by "=" (--pid=), so callers can tell the two kinds apart.
_ctrace_opts()
{
	"$@" --help 2>/dev/null | sed -n -E \
		-e 's/^ +(-[A-Za-z0-9]), (--[a-z0-9-]+) [A-Z][A-Z_]*( .*|$)/\1=\n\2=/p' \
		-e 's/^ +(-[A-Za-z0-9]), (--[a-z0-9-]+)( .*|$)/\1\n\2/p' \
		-e 's/^ +(--[a-z0-9-]+) [A-Z][A-Z_]*( .*|$)/\1=/p' \
		-e 's/^ +(--[a-z0-9-]+)( .*|$)/\1/p'
}

# _ctrace_values CMD OPTION: the values CMD lists when OPTION gets one it does not know,
# e.g. "unknown unwinder '' (libdw, libunwind or fp)".
_ctrace_values()
{
	"$1" "$2" '' --help 2>&1 >/dev/null | sed -n -E 's/.*\(([^)]*)\).*/\1/p' | head -n 1 |
		sed -E 's/,? or /, /g; s/, */\n/g'
}

# _ctrace_pids CUR: user processes whose PID starts with CUR or whose name does. One match
# completes to its PID; several are listed as PID:NAME so the names are visible.
_ctrace_pids()
{
	local cur=$1 d pid comm n=0
	local -a pids=() names=()
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		[[ $pid == "$$" ]] && continue
		comm=
		read -r comm 2>/dev/null <"$d/comm" || continue
		# kernel threads (and zombies) have no command line and cannot be inspected
		local arg0=
		IFS= read -r -d '' arg0 2>/dev/null <"$d/cmdline"
		[[ -n $arg0 ]] || continue
		if [[ $pid == "$cur"* || ( -n $cur && $comm == "$cur"* ) ]]; then
			pids[n]=$pid
			names[n]=${comm// /_}
			n=$((n + 1))
		fi
	done
	if ((n == 1)); then
		COMPREPLY=("${pids[0]}")
	elif ((n > 1)); then
		local i
		for ((i = 0; i < n; i++)); do
			COMPREPLY+=("${pids[i]}:${names[i]}")
		done
		# Readline inserts the common prefix of the matches: for names, that is no PID, so
		# keep the typed word until the user types digits.
		[[ $cur == [0-9]* ]] || COMPREPLY+=("$cur")
	fi
}

_ctrace()
{
	local cur prev cmd=${COMP_WORDS[0]} analyze= merge= i
	local -a mode=() # the mode words on the line, for `ctrace MODE --help`
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		analyze | merge)
			if ((i == 1)); then
				[[ ${COMP_WORDS[i]} == analyze ]] && analyze=1 || merge=1
				mode=("${COMP_WORDS[i]}")
				break
			fi
			;;
		--backtraces | --threads | --memory | --sites | --profile) mode+=("${COMP_WORDS[i]}") ;;
		--top)
			# --top N is --memory's count; --top alone the live view
			[[ ${COMP_WORDS[i + 1]} == [0-9]* ]] || mode+=(--top)
			;;
		esac
	done

	case $prev in
	-p | --pid)
		_ctrace_pids "$cur"
		return
		;;
	--tid)
		# threads of the process given with -p
		local pid= t
		for ((i = 1; i < COMP_CWORD - 1; i++)); do
			[[ ${COMP_WORDS[i]} == -p || ${COMP_WORDS[i]} == --pid ]] && pid=${COMP_WORDS[i + 1]}
		done
		[[ $pid =~ ^[0-9]+$ ]] || return
		for t in /proc/"$pid"/task/[0-9]*; do
			t=${t##*/}
			[[ $t == "$cur"* ]] && COMPREPLY+=("$t")
		done
		return
		;;
	-f | --format | --unwinder)
		if [[ -n $merge && $prev != --unwinder ]]; then
			# the formats ctrace merge writes
			COMPREPLY=($(compgen -W 'folded pprof speedscope' -- "$cur"))
			return
		fi
		local v
		while IFS= read -r v; do
			[[ -n $v && $v == "$cur"* ]] && COMPREPLY+=("$v")
		done < <(_ctrace_values "$cmd" "$prev")
		return
		;;
	--fail-on)
		COMPREPLY=($(compgen -W 'deadlock stuck' -- "$cur"))
		return
		;;
	-o | --output | --core | --exe)
		# --core: a core file (core.*, *.zst, *.lz4, apport's *.crash); --exe: its program
		COMPREPLY=($(compgen -f -- "$cur"))
		compopt -o filenames 2>/dev/null
		return
		;;
	--debug-dir | --sysroot)
		COMPREPLY=($(compgen -d -- "$cur"))
		compopt -o filenames 2>/dev/null
		return
		;;
	esac

	# Another option that takes a value (a number, a glob): nothing to offer.
	local o opts=()
	while IFS= read -r o; do
		[[ $o == "$prev=" ]] && return
		opts+=("${o%=}")
	done < <(_ctrace_opts "$cmd" "${mode[@]}")

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "${opts[*]}" -- "$cur"))
	elif [[ -n $analyze || -n $merge ]]; then
		COMPREPLY=($(compgen -f -- "$cur"))
		compopt -o filenames 2>/dev/null
	elif ((COMP_CWORD == 1)); then
		COMPREPLY=($(compgen -W "analyze merge ${opts[*]}" -- "$cur"))
	fi
}
complete -F _ctrace ctrace
