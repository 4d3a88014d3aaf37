# completion/ctrace.bash, sourced in bash: COMPREPLY for options (all of --help; once a mode is
# given, only that mode's, as ctrace MODE --help lists them; --top N is --memory's count, --top alone
# the live view), modes, analyze and merge files, --format/--unwinder values, and -p/--tid against a running fixture.
. "$TOP/tests/integration/lib.sh"
command -v bash >/dev/null || skip "bash is not installed"
start_fixture threads
mkdir -p "$TMP/dumps" && : >"$TMP/dumps/gdb-1.txt"
"$CTRACE" --help | sed -n -E 's/^ +(-[A-Za-z0-9], )?(--[a-z0-9-]+).*/\2/p' | sort -u >"$TMP/help-opts"
# a kernel thread (no command line), if this PID namespace shows any: not offered for -p
KT=
for d in /proc/[0-9]*; do
	[ -r "$d/cmdline" ] && [ -z "$(tr -d '\0' <"$d/cmdline" 2>/dev/null)" ] && [ -n "$(cat "$d/comm" 2>/dev/null)" ] &&
		grep -q '^PPid:[[:space:]]*[02]$' "$d/status" 2>/dev/null && KT=${d#/proc/} && break
done
KT=$KT CT_DIR=$TMP/dumps FPID=$FPID bash -c '
	. "$TOP/completion/ctrace.bash" || exit 1
	# comp WORD… : completes the last word as if TAB were pressed there; prints COMPREPLY
	comp() { COMP_WORDS=("$CTRACE" "$@"); COMP_CWORD=$#; COMPREPLY=(); _ctrace; printf "%s\n" "${COMPREPLY[@]}"; }
	echo "== --ba";       comp --ba
	echo "== first";      comp ""
	echo "== all";        comp --
	echo "== threads";    comp -p 1 --threads --
	echo "== profile";    comp --profile -p 1 --
	echo "== top";        comp -p 1 --top --
	echo "== memtop";     comp -p 1 --memory --top 5 --
	echo "== sites";      comp -p 1 --memory --sites --
	echo "== anopts";     comp analyze --
	echo "== format";     comp -p 1 --backtraces --format ""
	echo "== unwinder";   comp --unwinder ""
	echo "== fail-on";    comp --threads --fail-on ""
	echo "== timeout";    comp --timeout ""
	echo "== analyze";    comp analyze "$CT_DIR/gdb"
	echo "== merge";      comp merge "$CT_DIR/gdb"
	echo "== mergefmt";   comp merge --format ""
	echo "== pid";        comp -p "$FPID"
	echo "== name";       comp -p threa
	echo "== tid";        comp -p "$FPID" --tid ""
	echo "== kthread";    [ -n "$KT" ] && comp -p "$KT"
	echo "== end"
' >"$TMP/comp" 2>"$TMP/comp.err" || fail "bash completion failed: $(cat "$TMP/comp.err")"
cat "$TMP/comp"
part() { sed -n "/^== $1\$/,/^== /p" "$TMP/comp" | grep -v '^== '; }
has() { part "$1" | grep -qx -- "$2" || fail "completing '$1' does not offer '$2': $(part "$1" | tr '\n' ' ')"; }

[ "$(part --ba)" = --backtraces ] || fail "--ba completes to '$(part --ba)'"
has first analyze
has first --threads
part all | sort -u >"$TMP/comp-opts"
diff "$TMP/help-opts" "$TMP/comp-opts" >"$TMP/diff" || fail "options completed differ from --help: $(cat "$TMP/diff")"
# a mode on the line: its options only, the same as MODE --help lists
for m in "threads:--threads" "profile:--profile" "sites:--memory --sites" "anopts:analyze" "top:--top" \
	"memtop:--memory"; do
	# shellcheck disable=SC2086 # the mode words split on purpose
	"$CTRACE" ${m#*:} --help | sed -n -E 's/^ +(-[A-Za-z0-9], )?(--[a-z0-9-]+).*/\2/p' | sort -u >"$TMP/mode-opts"
	part "${m%%:*}" | sort -u >"$TMP/comp-mode"
	diff "$TMP/mode-opts" "$TMP/comp-mode" >"$TMP/diff" ||
		fail "options completed after ${m#*:} differ from its --help: $(cat "$TMP/diff")"
done
has threads --snapshots
has profile --sampler
has sites --rate
has anopts --fail-on
has top --sampler
has memtop --watch
for bad in "threads --watch" "threads --rate" "threads --profile" "profile --snapshots" "sites --sampler" \
	"anopts --pid" "anopts --unwinder" "top --format" "top --per-thread" "memtop --sampler"; do
	part "${bad% *}" | grep -qx -- "${bad#* }" && fail "completing after ${bad% *} offers ${bad#* }, which it refuses"
done
has format text
has format json
has unwinder libdw
has unwinder libunwind
has unwinder fp
has fail-on deadlock
has fail-on stuck
[ -z "$(part timeout)" ] || fail "--timeout SECS offers '$(part timeout)'"
has analyze "$TMP/dumps/gdb-1.txt"
has first merge
has merge "$TMP/dumps/gdb-1.txt"
[ "$(part mergefmt | sort | tr '\n' ' ')" = "folded pprof speedscope " ] ||
	fail "merge --format offers '$(part mergefmt | tr '\n' ' ')', want folded pprof speedscope"
part pid | grep -Eqx "$FPID|$FPID:threads" || fail "-p $FPID offers: $(part pid | tr '\n' ' ')"
part name | grep -Eqx "$FPID|$FPID:threads" || fail "-p threa offers: $(part name | tr '\n' ' ')"
for t in /proc/$FPID/task/*; do has tid "${t##*/}"; done
[ "$(part tid | wc -l)" = "$(ls /proc/$FPID/task | wc -l)" ] || fail "--tid offers other than the threads of $FPID"
if [ -n "$KT" ]; then
	part kthread | grep -Eq "^$KT(:|\$)" && fail "-p $KT offers kernel thread $KT: $(part kthread | tr '\n' ' ')"
else
	skip_case "-p leaves kernel threads out" "no kernel thread is visible here (a PID namespace?)"
fi
echo "completion offers what --help and /proc say"
