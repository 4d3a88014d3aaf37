# Compares ctrace --memory --format json's "python" object with what the interpreter said of itself
# (tests/fixtures/pymem.py's SIGUSR1 lines, one read just before ctrace's and one just after).
# Usage: python3 pymemcompare.py CTRACE_JSON BEFORE AFTER WANT
#   WANT: "all" (gc and pymalloc both read) or "gc" (pymalloc left out with a note).
# Tolerance: TOL blocks and gen-0 objects. The fixture idles in signal.pause() and allocates
# nothing between the readings but what its own handler leaves behind (a frame, a file object's
# caches: measured 0 to 2 blocks between two handler runs on 3.6-3.13); exact figures (thresholds,
# collections, collected, enabled) must be equal.
import json
import sys

TOL = 16

d = json.load(open(sys.argv[1]))
before = json.loads(open(sys.argv[2]).read())
after = json.loads(open(sys.argv[3]).read())
want = sys.argv[4]
py = d.get("python")
bad = []
if not py:
    sys.exit("no python object in ctrace's JSON: %s" % json.dumps(d.get("python")))


def between(name, got, a, b):
    lo, hi = min(a, b) - TOL, max(a, b) + TOL
    if got is None or not lo <= got <= hi:
        bad.append("%s: ctrace %s, the interpreter %s before and %s after (tolerance %d)" %
                   (name, got, a, b, TOL))


gc = py.get("gc")
if not gc:
    bad.append("gc not read: %s" % py.get("gc_note"))
else:
    if gc["enabled"] != before["enabled"]:
        bad.append("gc enabled: ctrace %s, gc.isenabled() %s" % (gc["enabled"], before["enabled"]))
    for i, g in enumerate(gc["generations"]):
        if g["threshold"] != before["threshold"][i]:
            bad.append("gen %d threshold: ctrace %d, gc.get_threshold() %d" % (i, g["threshold"], before["threshold"][i]))
        for k in ("collections", "collected", "uncollectable"):
            if not before["stats"][i][k] == g[k] == after["stats"][i][k]:
                bad.append("gen %d %s: ctrace %d, gc.get_stats() %d before, %d after" %
                           (i, k, g[k], before["stats"][i][k], after["stats"][i][k]))
        between("gen %d count" % i, g["count"], before["count"][i], after["count"][i])

pm = py.get("pymalloc")
if want == "all":
    if not pm:
        bad.append("pymalloc not read: %s" % py.get("pymalloc_note"))
    else:
        between("allocated blocks", pm["allocated_blocks"], before["blocks"], after["blocks"])
        # the fixture's 70000 small objects are in pymalloc's pools, its 3000 large lists are not
        if pm["blocks_in_use"] < 70000 or pm["blocks_in_use"] > pm["allocated_blocks"]:
            bad.append("blocks in use %d: not between 70000 and the allocated blocks %d" %
                       (pm["blocks_in_use"], pm["allocated_blocks"]))
        if pm["raw_blocks"] is not None and pm["raw_blocks"] < 3000:
            bad.append("blocks passed on to malloc %d < the fixture's 3000 large lists" % pm["raw_blocks"])
        if not 0 < pm["arenas_in_use"] <= pm["arenas"] == pm["arenas_allocated"]:
            bad.append("arenas: %d in use, %d walked, %d as pymalloc counts" %
                       (pm["arenas_in_use"], pm["arenas"], pm["arenas_allocated"]))
        if pm["pools_unreadable"] or pm["truncated"]:
            bad.append("pools unreadable %d, truncated %s in an idle process" % (pm["pools_unreadable"], pm["truncated"]))
else:
    if pm or not py.get("pymalloc_note"):
        bad.append("pymalloc should be left out with a note: %s, %s" % (pm, py.get("pymalloc_note")))
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
