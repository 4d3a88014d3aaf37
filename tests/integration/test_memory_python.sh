# --memory's Python figures (the collector and pymalloc), read from outside with no stop, against
# what the interpreter says of itself from inside (tests/fixtures/pymem.py prints gc.get_count(),
# gc.get_threshold(), gc.get_stats(), gc.isenabled() and sys.getallocatedblocks() on SIGUSR1, just
# before and just after ctrace's reading; tolerance in pymemcompare.py): Debian's python3.11
# (pymalloc through python3.11-dbg's symbol table, which make deps installs), every pyenv CPython
# 3.6-3.13 found (each one missing is a skipped case), a copy of Debian's python3.11 that no debug
# file matches (pymalloc left out with one line, the collector still read), a gcore of the fixture
# (--core), copies whose _PyRuntime no symbol names (found by the validated scan: the collector read,
# and the Python frames of --backtraces where the interpreter says it is), and a process that is
# not Python (no Python part at all).
. "$TOP/tests/integration/lib.sh"
# the helpers run by Debian's python3 when there is one (a pyenv shim on PATH costs a second a call)
PY3=python3
[ -x /usr/bin/python3 ] && PY3=/usr/bin/python3

# start_pymem NAME PYTHON: the fixture under PYTHON, in $p, ready
start_pymem() {
	name=$1 py=$2
	res=$TMP/res-$name log=$TMP/log-$name
	env ${FIX_LD:+LD_LIBRARY_PATH=$FIX_LD} "$py" "$TOP/tests/fixtures/pymem.py" "$res" >"$log" 2>&1 &
	p=$!
	PIDS="$PIDS $p"
	i=0
	until grep -q '^ready' "$log" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 400 ] && fail "$name: the fixture did not get ready: $(cat "$log")"
		kill -0 $p 2>/dev/null || fail "$name: the fixture died: $(cat "$log")"
		sleep 0.05
	done
}

# inside NAME FILE: SIGUSR1, and the fixture's answer in FILE
inside() {
	rm -f "$res"
	kill -USR1 $p
	i=0
	until [ -s "$res" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && fail "$1: the fixture did not answer SIGUSR1: $(cat "$log")"
		sleep 0.05
	done
	mv "$res" "$2"
}

# check_python NAME PYTHON MODE [CTRACE ARGS…]: ctrace's reading between two from inside
check_python() {
	name=$1 py=$2 mode=$3
	shift 3
	start_pymem "$name" "$py"
	inside "$name" "$TMP/warm-$name" # the handler's first run fills caches it keeps
	inside "$name" "$TMP/before-$name"
	expect_exit 0 "$CTRACE" -p $p --memory --format json "$@"
	echo "$OUT" >"$TMP/$name.json"
	inside "$name" "$TMP/after-$name"
	"$PY3" "$TOP/tests/integration/pymemcompare.py" "$TMP/$name.json" "$TMP/before-$name" \
		"$TMP/after-$name" "$mode" || fail "$name: ctrace's Python figures differ from the interpreter's (above)"
	assert_not_traced $p
	if [ -z "${TEXT_DONE:-}" ]; then # the text report, once
		expect_exit 0 "$CTRACE" -p $p --memory "$@"
		echo "$OUT" | grep -Eq '^Python 3\.[0-9]+.*read without stopping the process:$' &&
			echo "$OUT" | grep -Eq '^    0 +[0-9]+ +5000 ' || fail "$name: text report: $OUT"
		TEXT_DONE=1
	fi
	note "$name: $("$PY3" -c 'import json,sys; p=json.load(open(sys.argv[1]))["python"]; m=p["pymalloc"];
print("gc gen0 %d; " % p["gc"]["generations"][0]["count"] + ("allocated blocks %d, %d arenas, %.1f ms" %
(m["allocated_blocks"], m["arenas"], m["walk_ms"]) if m else "pymalloc: " + p["pymalloc_note"]))' "$TMP/$name.json")"
}

# Debian's python3.11: its statics named by the debug file's symbol table
[ -x /usr/bin/python3.11 ] || fail "/usr/bin/python3.11 is missing: make deps installs it"
if [ -n "$(find /usr/lib/debug/.build-id -name "$(readelf -n /usr/bin/python3.11 |
	awk '/Build ID/ {print substr($3, 3)}').debug" 2>/dev/null)" ]; then
	check_python debian-3.11 /usr/bin/python3.11 all
	kill -KILL $p

	# the same from a core (gdb's gcore: the fixture idles, so the core holds the same figures)
	if command -v gdb >/dev/null; then
		start_pymem debian-core /usr/bin/python3.11
		inside debian-core "$TMP/before-core"
		gdb -batch -ex "gcore $TMP/py.core" -p $p >"$TMP/gcore.log" 2>&1 ||
			fail "gcore failed: $(tail -3 "$TMP/gcore.log")"
		inside debian-core "$TMP/after-core"
		kill -KILL $p
		expect_exit 0 "$CTRACE" --core "$TMP/py.core" --memory --format json
		echo "$OUT" >"$TMP/core.json"
		"$PY3" "$TOP/tests/integration/pymemcompare.py" "$TMP/core.json" "$TMP/before-core" \
			"$TMP/after-core" all || fail "--core: ctrace's Python figures differ from the interpreter's (above)"
		note "--core: the Python figures of a gcore agree"
	else
		skip_case core "gdb is not installed (make deps installs it): no gcore to read"
	fi
else
	skip_case debian-3.11 "python3.11-dbg is not installed (make deps installs it): no symbol table names pymalloc's statics"
fi

# a copy no debug file matches (its build ID note removed) and with no .symtab: the collector
# (found from _PyRuntime, exported) is read, pymalloc is left out with one line
cp /usr/bin/python3.11 "$TMP/python3.11"
objcopy --remove-section .note.gnu.build-id --strip-debug --strip-unneeded "$TMP/python3.11" 2>"$TMP/objcopy.log" ||
	fail "objcopy failed: $(cat "$TMP/objcopy.log")"
check_python nodebug-3.11 "$TMP/python3.11" gc
grep -q "\"pymalloc_note\":\"pymalloc's state is static in obmalloc.c" "$TMP/nodebug-3.11.json" ||
	fail "nodebug: no note for pymalloc: $(cat "$TMP/nodebug-3.11.json")"
kill -KILL $p

for v in 3.6 3.7 3.8 3.9 3.10 3.11 3.12 3.13; do
	py=$(ls "$HOME"/.pyenv/versions/$v.*/bin/python$v 2>/dev/null | head -n 1)
	if [ -z "$py" ]; then
		skip_case "pyenv-$v" "no pyenv CPython $v here (~/.pyenv/versions/$v.*)"
		continue
	fi
	check_python "pyenv-$v" "$py" all
	kill -KILL $p
done

# _PyRuntime hidden: no symbol table, no build ID (no debug file), its .dynsym name changed.
# hide_runtime IN OUT
hide_runtime() {
	cp "$1" "$2" && objcopy --remove-section .note.gnu.build-id --strip-all "$2" 2>"$TMP/objcopy.log" &&
		"$PY3" "$TOP/tests/integration/hidesym.py" "$2" _PyRuntime || fail "cannot hide _PyRuntime in $1: $(cat "$TMP/objcopy.log")"
}
# check_scan NAME PYTHON MODE: as check_python, then the frame the interpreter says it was in
check_scan() {
	check_python "$1" "$2" "$3"
	[ -z "$FIX_LD" ] || grep -q "$FIX_LD/" /proc/$p/maps || fail "$1: the copy in $FIX_LD was not loaded"
	where=$("$PY3" -c 'import json,sys; w=json.load(open(sys.argv[1]))["where"]; print("%s %d" % tuple(w))' "$TMP/after-$1")
	expect_exit 0 "$CTRACE" -p $p --backtraces
	echo "$OUT" | grep -Eq "^  #[0-9]+ +\[python\] +in ${where% *} \(.*pymem.py:${where#* }\)\$" ||
		fail "$1: no Python frame '${where% *}' at pymem.py:${where#* } (the interpreter's view): $OUT"
	kill -KILL $p
}
FIX_LD=
mkdir -p "$TMP/norun"
hide_runtime /usr/bin/python3.11 "$TMP/norun/python3.11"
check_scan norun-debian-3.11 "$TMP/norun/python3.11" gc
for v in 3.7 3.8 3.9 3.10 3.11 3.12 3.13; do
	py=$(ls "$HOME"/.pyenv/versions/$v.*/bin/python$v 2>/dev/null | head -n 1)
	lib=$(ls "$HOME"/.pyenv/versions/$v.*/lib/libpython$v*.so.1.0 2>/dev/null | head -n 1)
	if [ -z "$py" ] || [ -z "$lib" ]; then
		skip_case "norun-pyenv-$v" "no pyenv CPython $v with a libpython here (~/.pyenv/versions/$v.*)"
		continue
	fi
	mkdir -p "$TMP/norun-$v"
	hide_runtime "$lib" "$TMP/norun-$v/$(basename "$lib")"
	mode=gc
	[ "${v#3.}" -ge 12 ] && mode=all # pymalloc's state is in the interpreter, found from _PyRuntime
	FIX_LD=$TMP/norun-$v
	check_scan "norun-pyenv-$v" "$py" $mode
	FIX_LD=
done

# not Python: no Python part, no warning
start_fixture chain
expect_exit 0 "$CTRACE" -p "$FPID" --memory --format json
echo "$OUT" >"$TMP/chain.json"
json_check "$TMP/chain.json" "d['python'] is None" || fail "a non-Python process got a Python part: $OUT"
[ -z "$ERR" ] || fail "a non-Python process got a warning: $ERR"
echo "--memory's Python figures agree with the interpreters' own"
