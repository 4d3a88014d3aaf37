# pyshares.py FOLDED LINES EXPECTED TOLERANCE: checks the CPU split of the pysplit.py fixture in a
# folded profile. LINES is the fixture's "line work_X N" output; EXPECTED "work_a=60,work_b=30,...".
# (widened when the machine was loaded: below). Each function's share is the samples of the stacks holding its frame over every sample; each of
# its frames must name the line of its spin() call. Prints the shares; exit 1 when one is off.
import re
import sys

folded, lines_file, expected, tol = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
want = dict((k, float(v)) for k, v in (kv.split("=") for kv in expected.split(",")))
lines = {}
for line in open(lines_file):
    parts = line.split()
    if len(parts) == 3 and parts[0] == "line":
        lines[parts[1]] = int(parts[2])
total = 0
got = dict((k, 0) for k in want)
bad = []
for line in open(folded):
    stack, _, count = line.rstrip("\n").rpartition(" ")
    n = int(count)
    total += n
    for k in want:
        m = re.findall(r"(?:^|;)%s \(([^;]*)\)(?:;|$)" % k, stack)
        if not m:
            continue
        got[k] += n
        for where in m:
            if not where.endswith("pysplit.py:%d" % lines[k]):
                bad.append("%s at %s (its spin() call is line %d)" % (k, where, lines[k]))
if total == 0:
    print("no samples")
    sys.exit(1)
# Tolerance: as given for FULL samples or more (the fixture had a CPU of its own for the whole
# profile); fewer mean the machine was loaded and the target got less CPU, so the sampling error
# grows as 1/sqrt(samples): the tolerance with it, and said.
FULL = 1500
if total < FULL:
    wide = tol * (FULL / float(total)) ** 0.5
    print("loaded machine: %d samples (%d expected unloaded): tolerance %.1f points, not %.1f"
          % (total, FULL, wide, tol))
    tol = wide
ok = not bad
out = []
for k in sorted(want):
    share = 100.0 * got[k] / total
    out.append("%s %.1f%% (want %.0f)" % (k, share, want[k]))
    ok &= abs(share - want[k]) <= tol
print("%d samples: %s" % (total, ", ".join(out)))
for b in sorted(set(bad))[:5]:
    print("wrong line: " + b)
sys.exit(0 if ok else 1)
