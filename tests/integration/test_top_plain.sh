#!/bin/sh
# ctrace --top when stdout is not a terminal: a plain table each second until -d, against cpusplit
# (two threads splitting their CPU 60/30/10 among hot_60, warm_30, cool_10: hot_60 ranked first);
# --tid, several -p and --children; a Python program's functions ranked by line, and --no-interp;
# the usage errors. The terminal (keys, refresh, the shares within 4 s): test_top.sh (run alone).
. "$TOP/tests/integration/lib.sh"
need_ptrace

start_fixture cpusplit 2
P=$FPID

# --- stdout not a terminal: a plain table each second until -d
expect_exit 0 sh -c "\"$CTRACE\" -p $P --top -d 3 | cat"
n=$(printf '%s\n' "$OUT" | grep -c '^  SELF%  TOTAL%    SELF   TOTAL  FUNCTION$')
[ "$n" -ge 3 ] && [ "$n" -le 4 ] || fail "-d 3 | cat: $n tables, want 3 (or 4): $OUT"
printf '%s\n' "$OUT" | grep -A1 'FUNCTION$' | grep -Ev 'FUNCTION$|^--$' | awk '{ print $5 }' | sort | uniq -c |
	sort -rn | head -n 1 | grep -q ' hot_60$' || fail "-d 3 | cat: hot_60 is not mostly first: $OUT"
printf '%s\n' "$OUT" | grep -q "$(printf '\033')" && fail "plain tables carry escape sequences"
[ -z "$ERR" ] || fail "-d 3 | cat: stderr: $ERR"
assert_not_traced $P

# --- --tid, several -p, --children
tid=$(ls /proc/$P/task | sed -n 2p)
expect_exit 0 sh -c "\"$CTRACE\" -p $P --tid $tid --top -d 1.5 | cat"
printf '%s\n' "$OUT" | grep -q "^cpusplit ($P)  1 thread  " || fail "--tid: header: $OUT"
start_fixture cpusplit 1
expect_exit 0 sh -c "\"$CTRACE\" -p $P -p $FPID --top -d 1.5 | cat"
printf '%s\n' "$OUT" | grep -q "^cpusplit ($P) +1  5 threads  " || fail "two -p: header: $OUT"
printf '%s\n' "$OUT" | grep -q ' hot_60 ' || fail "two -p: no hot_60: $OUT"
start_fixture prefork 2
expect_exit 0 sh -c "\"$CTRACE\" -p $FPID --children --top -d 1.5 | cat"
printf '%s\n' "$OUT" | grep -Eq "^prefork \($FPID\) \+[0-9]+  " || fail "--children: the workers are not followed: $OUT"
# --- Python (tests/fixtures/pysplit.py): its functions ranked, by line; --no-interp native only
py=/usr/bin/python3.11
[ -x $py ] || fail "$py is missing: make deps installs it"
$py "$TOP/tests/fixtures/pysplit.py" >"$TMP/pysplit.out" 2>&1 &
PY=$!
PIDS="$PIDS $PY"
until grep -q '^ready' "$TMP/pysplit.out" 2>/dev/null; do kill -0 $PY || fail "pysplit died"; sleep 0.05; done
expect_exit 0 sh -c "\"$CTRACE\" -p $PY --top -d 2 | cat"
printf '%s\n' "$OUT" | grep -q ' spin (.*pysplit.py:[0-9]*)' || fail "Python: no spin frame with its line: $OUT"
expect_exit 0 sh -c "\"$CTRACE\" -p $PY --top --no-interp -d 1.5 | cat"
printf '%s\n' "$OUT" | grep -q 'pysplit.py' && fail "--no-interp: Python frames: $OUT"
printf '%s\n' "$OUT" | grep -q '_PyEval_EvalFrameDefault' || fail "--no-interp: no eval loop: $OUT"
kill -KILL $PY
expect_usage "--tid profiles one thread" "$CTRACE" -p $P --tid $tid --children --top
expect_usage "-f is for .*--top would ignore it" "$CTRACE" -p $P --top -f json
echo "--top: plain tables, --tid, several -p, --children, Python all right"
