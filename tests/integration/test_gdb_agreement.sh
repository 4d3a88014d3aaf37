# ctrace's frames agree with gdb's "thread apply all bt" on the same fixtures.
. "$TOP/tests/integration/lib.sh"
need_ptrace
command -v gdb >/dev/null || skip "gdb is not installed (make deps installs it)"

compare() {
	name=$1
	start_fixture "$name"
	gdb -p "$FPID" -batch -ex "thread apply all bt" >"$TMP/gdb.txt" 2>/dev/null
	"$CTRACE" -p "$FPID" --backtraces --format json >"$TMP/ct.json" || fail "ctrace failed on $name"
	python3 - "$TMP/gdb.txt" "$TMP/ct.json" "$name" <<'PY' || fail "$name: ctrace and gdb disagree"
import json, re, sys
gdb_text, ct, name = open(sys.argv[1]).read(), json.load(open(sys.argv[2])), sys.argv[3]
# gdb: "#3  0x000055… in f1 () at chain.c:8" or "#3  f1 () at chain.c:8" (inlined frames have no pc)
gdb = []
for m in re.finditer(r"^#(\d+)\s+(?:0x([0-9a-f]+) in )?([^\s(]+) \(.*?(?: at (\S+):(\d+))?$", gdb_text, re.M):
    gdb.append((m.group(3), m.group(4), m.group(5)))
frames = ct["threads"][0]["frames"]
mine = [(f["function"], f["file"], f["line"]) for f in frames]
def own(lst):  # frames of the fixture's own code: functions with a file under tests/fixtures
    return [(fn, f.split("/")[-1], int(l)) for fn, f, l in lst if f and f.endswith(name + ".c")]
g, c = own(gdb), own(mine)
print("gdb:   ", g)
print("ctrace:", c)
if not g or g != c:
    sys.exit(1)
PY
	kill -KILL "$FPID"
}
compare chain
compare omitfp
compare inlined
echo "frames agree with gdb"
