#!/bin/sh
# --profile with Python frames (tests/fixtures/pysplit.py under Debian's python3.11): --no-lines
# (by function), --no-interp (native frames only, the eval loop among them) and json (the Python
# frames' file and line). The CPU split both samplers measure: test_profile_python.sh (run alone).
. "$TOP/tests/integration/lib.sh"
need_ptrace
[ -x /usr/bin/python3.11 ] || fail "/usr/bin/python3.11 is missing: make deps installs it"

# start_split NAME PYTHON [MODE]: the fixture under PYTHON, its pid in P, its lines in $TMP/lines-NAME
start_split() {
	start_cmd "$1" "$2" "$TOP/tests/fixtures/pysplit.py" ${3:-}
	P=$FPID
	ln -sf "$FOUT" "$TMP/lines-$1"
}

# --no-lines: by function; --no-interp: native only; json: file and line of the Python frames
start_split nl /usr/bin/python3.11
L=$(awk '$2 == "work_a" {print $3}' "$TMP/lines-nl")
expect_exit 0 "$CTRACE" -p $P --profile -d 1 -f folded --no-lines
printf '%s\n' "$OUT" | grep -q ';work_a (.*pysplit.py);spin (.*pysplit.py) [0-9]*$' || fail "--no-lines: $OUT"
printf '%s\n' "$OUT" | grep -q 'pysplit.py:[0-9]' && fail "--no-lines left a line: $OUT"
expect_exit 0 "$CTRACE" -p $P --profile -d 1 -f folded --no-interp
printf '%s\n' "$OUT" | grep -q 'work_a' && fail "--no-interp: Python frames: $OUT"
printf '%s\n' "$OUT" | grep -q '_PyEval_EvalFrameDefault' || fail "--no-interp: no eval loop: $OUT"
expect_exit 0 "$CTRACE" -p $P --profile -d 1 -f json -o "$TMP/p.json"
json_check "$TMP/p.json" \
	"any(f['name'].startswith('work_a (') and f['file'].endswith('pysplit.py') and f['line'] == $L for f in d['frames'])" ||
	fail "json: no work_a frame with its file and line $L: $(head -c 2000 "$TMP/p.json")"
kill -KILL $P

echo "Python frames in profiles: --no-lines, --no-interp, json"
