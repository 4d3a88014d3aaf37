#!/bin/sh
# ctrace --top in a real terminal: tmux runs it in an 80x24 pane and capture-pane reads the screen.
# Against cpusplit (two threads splitting their CPU 60/30/10 among hot_60, warm_30, cool_10): the
# ranking and the shares within 4 s, the refresh, every key, resizing, NO_COLOR, q (exit 0 within a
# second, the target running and not traced), the terminal given back after SIGTERM, SIGHUP and
# Ctrl-C. Plain tables when stdout is a pipe, --tid, several -p, --children, Python: test_top_plain.sh
# (in a lane).
# check: alone (measures the CPU split of its target: run without other tests)
. "$TOP/tests/integration/lib.sh"
command -v tmux >/dev/null || skip "tmux is not installed (make deps): --top needs a terminal to be tested in"
command -v python3 >/dev/null || skip "python3 is not installed"
need_ptrace

start_fixture cpusplit 2
P=$FPID
SOCK="$TMP/tmux.sock"
tm() { tmux -S "$SOCK" "$@"; }
trap 'tm kill-server 2>/dev/null; cleanup' EXIT

# A shell in an 80x24 pane: ctrace runs in it, so what the pane shows after ctrace is the shell's.
tm -f /dev/null new-session -d -x 80 -y 24 -s top "env -i PATH=$PATH HOME=$TMP TERM=screen PS1='$ ' sh" ||
	fail "tmux cannot start a session"
tm set-option -g status off >/dev/null
screen() { tm capture-pane -p -t top; }
alt() { tm display-message -p -t top '#{alternate_on}'; }
line() { screen | sed -n "${1}p"; }
# wait_for PATTERN [STEPS]: until the screen shows PATTERN (grep -E), 0.1 s steps (default 50)
wait_for() {
	i=0
	until screen | grep -Eq -- "$1"; do
		i=$((i + 1))
		[ $i -gt "${2:-50}" ] && fail "the screen does not show '$1' after $((${2:-50} / 10)) s: $(screen)"
		sleep 0.1
	done
}
# run_top ARGS…: starts ctrace --top in the pane; its exit status goes to $TMP/exit
run_top() {
	rm -f "$TMP/exit"
	tm send-keys -t top "stty -g >$TMP/stty.before; $* $CTRACE -p $P --top $TOPARGS; echo EXIT=\$? >$TMP/exit; " \
		"stty -g >$TMP/stty.after; clear; echo back at the shell" Enter
}
key() { tm send-keys -t top "$@"; sleep 0.4; }
TOPARGS="-r 499"

# --- the ranking and the shares, since the start, within 4 s
run_top
wait_for 'hot_60'
[ "$(alt)" = 1 ] || fail "--top does not use the alternate screen"
key a
wait_for '^since start [0-9]+ s'
sleep 2.5
screen >"$TMP/rank"
python3 - "$TMP/rank" <<'PY' || fail "ranking or shares wrong: $(cat "$TMP/rank")"
import re, sys
rows = {}
order = []
for l in open(sys.argv[1]):
    m = re.match(r'^\s+([\d.]+)\s+([\d.]+)\s+(\d+)\s+(\d+)\s+(\S+)', l)
    if m:
        rows[m.group(5)] = float(m.group(1))
        order.append(m.group(5))
fns = ['hot_60', 'warm_30', 'cool_10']
assert all(f in rows for f in fns), 'missing rows: %s' % order
assert [f for f in order if f in fns] == fns, 'order %s' % order
assert order[0] == 'hot_60', 'first row %s' % order[0]
tot = sum(rows[f] for f in fns)
shares = [100 * rows[f] / tot for f in fns]
print('# shares of hot_60/warm_30/cool_10: %.1f/%.1f/%.1f (want 60/30/10)' % tuple(shares))
for got, want in zip(shares, (60, 30, 10)):
    assert abs(got - want) <= 8, 'share %.1f, want %d +- 8' % (got, want)
PY
grep -E '^cpusplit \([0-9]+\)  3 threads  (perf|ptrace) 499 Hz  lost [0-9]+  ctrace CPU [0-9.]+%' "$TMP/rank" >/dev/null ||
	fail "header line 1 says not what is sampled: $(head -n 1 "$TMP/rank")"
awk 'length > 80 { exit 1 }' "$TMP/rank" || fail "a line is wider than the 80 columns: $(cat "$TMP/rank")"
tail -n 1 "$TMP/rank" | grep -q '^q quit  s sort  space pause' || fail "no key line at the bottom: $(cat "$TMP/rank")"

# --- a: back to the last interval; the view refreshes (the header's clock and the counts change)
key a
wait_for '^last [0-9.]+ s: [0-9]+ samples'
screen | sed '$d' >"$TMP/one"
sleep 1.3
screen | sed '$d' >"$TMP/two"
cmp -s "$TMP/one" "$TMP/two" && fail "the view did not change in 1.3 s: $(cat "$TMP/two")"
[ "$(sed -n 2p "$TMP/one")" != "$(sed -n 2p "$TMP/two")" ] || fail "the header did not change in 1.3 s"

# --- s: sorted by total (split_loop and its callers have 100%), then by self again
key s
wait_for '  sort total  '
# (split_loop holds every sample of the split threads; the sleeping main thread may have one)
screen | awk '/^ +[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+ / { if (n++ && $2 + 0 > prev + 0) bad = 1; prev = $2
		if ($5 == "split_loop") loop = n; if ($5 == "hot_60") hot = n }
	END { exit !(!bad && loop && hot && loop < hot) }' || fail "s: not sorted by total: $(screen)"
key s
wait_for '  sort self  '
sleep 1.1
[ "$(line 4 | awk '{ print $5 }')" = hot_60 ] || fail "s again: the first row is not hot_60: $(screen)"

# --- space: paused (the screen stays as it was), space again: refreshing
# (a space read in the same tick as a refresh once left no PAUSED: CI failed on it; fixed in cli/top.c)
key ' '
wait_for 'PAUSED'
screen >"$TMP/p1"
sleep 1.5
screen >"$TMP/p2"
cmp -s "$TMP/p1" "$TMP/p2" || fail "paused, the screen changed: $(diff "$TMP/p1" "$TMP/p2")"
key p
i=0
while screen | grep -q PAUSED; do i=$((i + 1)); [ $i -gt 20 ] && fail "p does not resume: $(screen)"; sleep 0.1; done
sleep 1.2
screen | sed '$d' | cmp -s - "$TMP/p2" && fail "resumed, the view does not refresh"

# --- t: one thread at a time (each one of the fixture's, by name and TID), then every thread again;
# the split threads are among them (the main thread sleeps, but a sample may catch it)
tids=" $(ls /proc/$P/task | tr '\n' ' ') "
seen=" "
for n in 1 2 3 4 5; do
	key t
	hdr=$(line 2)
	case $hdr in *"  all threads  "*) break ;; esac
	th=$(printf '%s\n' "$hdr" | sed -n -E 's/.*  thread ([^ ]+-[0-9]+)  .*/\1/p')
	[ -n "$th" ] || fail "t: the header names no thread: $hdr"
	case $tids in *" ${th##*-} "*) ;; *) fail "t: thread $th is not one of $P's ($tids)" ;; esac
	case $seen in *" $th "*) fail "t: thread $th shown twice before every thread again" ;; esac
	seen="$seen$th "
done
case $seen in *" split-0-"*" split-1-"* | *" split-1-"*" split-0-"*) ;; *) fail "t: the split threads were not offered: $seen" ;; esac
line 2 | grep -q '  all threads  ' || fail "t: no way back to every thread after$seen"
first=${seen# }; first=${first%% *}
key t
wait_for "  thread $first  "
key T
wait_for '  all threads  '

# --- n: a native program has no interpreter frames to merge, said so; ?: the keys, closed by any key; an unknown key says where help is
key n
wait_for 'native frames only: no Python or Ruby interpreter found'
key '?'
wait_for 'ctrace --top keys'
for k in 'q  ' 's  ' 'space p' 'a  ' 't  ' 'T  ' 'n  '; do
	screen | grep -q "^  $k" || fail "?: the help does not list '$k': $(screen)"
done
key x
screen | grep -q 'ctrace --top keys' && fail "a key does not close the help"
key z
wait_for 'unknown key: \? lists the keys'

# --- resizing: the status line (keys, or what the last key did) follows the bottom; 80x24 again
tm resize-window -t top -x 60 -y 15
sleep 0.6
[ "$(screen | wc -l)" = 15 ] || fail "the pane is not 15 lines after resize-window"
line 15 | grep -Eq '^(q quit|unknown key)' || fail "after a resize to 60x15 the key line is not at the bottom: $(screen)"
screen | awk 'length > 60 { exit 1 }' || fail "after a resize to 60 columns a line is wider: $(screen)"
tm resize-window -t top -x 80 -y 24
sleep 0.6
line 24 | grep -Eq '^(q quit|unknown key)' || fail "after a resize back to 80x24 the key line is not at the bottom: $(screen)"

# --- color, unless NO_COLOR
if tm capture-pane -e -p -t top | python3 -c '
import re, sys
sgr = re.findall(r"\x1b\[([0-9;]*)m", sys.stdin.read())
sys.exit(0 if any(re.fullmatch(r"3[0-7]|4[0-7]|38|48|9[0-7]|10[0-7]", p) for s in sgr for p in s.split(";")) else 1)'
then :; else fail "no color on a color terminal without NO_COLOR"; fi

# --- q: exit 0 within a second; the target runs on, untraced
tm send-keys -t top q
i=0
while [ ! -s "$TMP/exit" ]; do
	i=$((i + 1))
	[ $i -gt 20 ] && fail "q: ctrace did not exit within a second: $(screen)"
	sleep 0.05
done
note "q: exited within $((i * 50)) ms"
grep -qx 'EXIT=0' "$TMP/exit" || fail "q: $(cat "$TMP/exit"), want EXIT=0"
assert_not_traced $P
st=$(sed 's/.*) \(.\).*/\1/' /proc/$P/stat)
[ "$st" != t ] && [ "$st" != T ] || fail "q left $P in state $st"
c1=$(awk '{ print $14 + $15 }' /proc/$P/stat); sleep 0.5; c2=$(awk '{ print $14 + $15 }' /proc/$P/stat)
[ "$c2" -gt "$c1" ] || fail "after q the target does not run (CPU ticks $c1 then $c2)"
wait_for 'back at the shell' 20
[ "$(alt)" = 0 ] || fail "q: the pane is still in the alternate screen"
cmp -s "$TMP/stty.before" "$TMP/stty.after" || fail "q: terminal modes not restored"

# --- NO_COLOR: no color at all (bold and reverse video only)
run_top NO_COLOR=1
wait_for 'hot_60'
tm capture-pane -e -p -t top | python3 -c '
import re, sys
sgr = re.findall(r"\x1b\[([0-9;]*)m", sys.stdin.read())
sys.exit(1 if any(re.fullmatch(r"3[0-7]|4[0-7]|38|48|9[0-7]|10[0-7]", p) for s in sgr for p in s.split(";")) else 0)' ||
	fail "NO_COLOR=1: the screen has colors"

# --- SIGTERM (the run above), SIGHUP and Ctrl-C: the terminal given back, exit 0
for how in TERM HUP INT; do
	[ $how = TERM ] || { run_top; wait_for 'hot_60'; }
	[ "$(alt)" = 1 ] || fail "--top is not on the alternate screen before SIG$how"
	if [ $how = INT ]; then
		tm send-keys -t top C-c
	else
		shell=$(tm display-message -p -t top '#{pane_pid}')
		ct=$(pgrep -P "$shell" -x ctrace) || fail "ctrace is not running in the pane"
		kill -$how "$ct"
	fi
	wait_for 'back at the shell' 20
	[ "$(alt)" = 0 ] || fail "SIG$how: the pane is left in the alternate screen"
	grep -qx 'EXIT=0' "$TMP/exit" || fail "SIG$how: $(cat "$TMP/exit"), want EXIT=0"
	cmp -s "$TMP/stty.before" "$TMP/stty.after" ||
		fail "SIG$how: terminal modes not restored: $(cat "$TMP/stty.before") then $(cat "$TMP/stty.after")"
	assert_not_traced $P
done
tm kill-server

echo "--top: ranking, refresh, keys, resize, NO_COLOR, q and signals all right"
