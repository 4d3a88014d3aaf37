# ctrace names the frames of the fixtures as gdb does (DWARF subprogram names, inline chains behind
# lexical blocks, tail calls inferred from call-site records, demangled C++, the alias gdb picks),
# compared frame by frame with the same code as make bench-symbols.
. "$TOP/tests/integration/lib.sh"
command -v gdb >/dev/null || skip "gdb is not installed (make deps)"
need_ptrace

for fx in threads cxx sighandler inlined chain; do
	start_fixture $fx
	python3 - "$CTRACE" "$FPID" "$fx" <<'PY' || fail "$fx: names differ from gdb's"
import os, sys
sys.path.insert(0, os.environ["TOP"] + "/bench")
import bench_symbols as b
b.CTRACE = sys.argv[1]
pid, fx = int(sys.argv[2]), sys.argv[3]
ct, gd = b.ctrace_threads(pid), b.gdb_threads(pid)
diffs = []
s = b.compare(ct, gd, diffs)
print("%s: %d threads, gdb names %d frames, ctrace the same %d, pc %d/%d" % (
    fx, s["threads"], s["gdb_named"], s["same"], s["pc_same"], s["gdb_pcs"]))
for d in diffs:
    print("  " + d)
assert s["threads"] == len(gd) and s["gdb_named"] > 0, "no threads compared"
# every frame gdb names, ctrace names the same way, tail-call frames gdb infers from DWARF
# call-site records included, at the same addresses
assert s["same"] == s["gdb_named"], "frames not named as gdb names them"
assert s["pc_same"] == s["gdb_pcs"], "frame addresses differ from gdb's"
PY
	assert_not_traced "$FPID"
	kill -KILL "$FPID"
done
exit 0
