# pyshares.py FOLDED LINES EXPECTED TOLERANCE [SIGMAS]: checks the CPU split of the pysplit.py
# fixture (or rbsplit.rb's) in a folded profile. LINES is the fixture's "line work_X N" output; EXPECTED
# "work_a=60,work_b=30,..."; TOLERANCE in points, widened to SIGMAS (default 4) standard deviations
# of the sampling error where that is wider (below). Each function's share is the samples of the
# stacks holding its frame over every sample; each of its frames must name the line of its spin()
# call, except for a fraction PYSHARES_MAX_BAD (environment, default 0) of the samples: the perf
# sampler reads a Ruby frame's pc after the sample, and a caller whose callee returned since can
# show its next line (test_profile_ruby allows 1 % there, and says how many). PYSHARES_NATIVE_ONLY
# (environment, unset by default): the samples the profiler kept native only (a VM entry frame,
# rb_vm_exec or _PyEval_EvalFrameDefault, and no interpreted frame: the perf sampler could not
# vouch for the frames it read after the sample, and counts them under -v) leave the denominator,
# so the shares are those of the samples with interpreted frames; they must stay under that
# fraction of all samples. Prints the shares; exit 1 when one is off.
import os
import re
import sys

folded, lines_file, expected, tol = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
SIGMAS = float(sys.argv[5]) if len(sys.argv) > 5 else 4.0
want = dict((k, float(v)) for k, v in (kv.split("=") for kv in expected.split(",")))
lines = {}
fixture = "pysplit.py"  # or the fixture's "file NAME" line (rbsplit.rb)
for line in open(lines_file):
    parts = line.split()
    if len(parts) == 3 and parts[0] == "line":
        lines[parts[1]] = int(parts[2])
    elif len(parts) == 2 and parts[0] == "file":
        fixture = parts[1]
VM_ENTRY = re.compile(r"(?:^|;)(?:rb_vm_exec|_PyEval_EvalFrameDefault)(?:;|$)")
INTERPRETED = re.compile(r" \([^;]*:[0-9]+\)(?:;|$)")
native_max = os.environ.get("PYSHARES_NATIVE_ONLY")
native = 0
total = 0
got = dict((k, 0) for k in want)
bad = []
nbad = 0
for line in open(folded):
    stack, _, count = line.rstrip("\n").rpartition(" ")
    n = int(count)
    if native_max is not None and VM_ENTRY.search(stack) and not INTERPRETED.search(stack):
        native += n
        continue
    total += n
    for k in want:
        m = re.findall(r"(?:^|;)%s \(([^;]*)\)(?:;|$)" % k, stack)
        if not m:
            continue
        got[k] += n
        # a Python frame sampled on entry, at its RESUME instruction before the first line runs,
        # names its def line (3.11+ give RESUME the def's line): pysplit.py's work_X are "def",
        # then the spin() call on the next line (0.17% of one run's samples, Python 3.12)
        ok_lines = (lines[k], lines[k] - 1) if fixture.endswith(".py") else (lines[k],)
        wrong = [w for w in m if not any(w.endswith("%s:%d" % (fixture, l)) for l in ok_lines)]
        for where in wrong:
            bad.append("%s at %s (its spin() call is line %d)" % (k, where, lines[k]))
        if wrong:
            nbad += n
if total == 0:
    print("no samples")
    sys.exit(1)
# Tolerance: the given points (the accuracy goal), or SIGMAS standard deviations of the sampling
# error of a share p over n samples (100 * sqrt(p (1 - p) / n)) where that is wider: with 18 runs of
# 3 shares each, a bound of 2.5 deviations (3 points at 1500 samples) fails one run in two by chance
# alone. The caller checks the bias on all runs pooled, where n is large and the bound is the goal.
max_bad = float(os.environ.get("PYSHARES_MAX_BAD", "0"))
ok = nbad <= max_bad * total
native_note = ""
if native_max is not None:
    frac = float(native) / (native + total)
    ok &= frac <= float(native_max)
    native_note = " (%d native only, %.1f%%, left out; at most %.0f%%)" % (
        native, 100.0 * frac, 100.0 * float(native_max))
out = []
for k in sorted(want):
    share = 100.0 * got[k] / total
    p = want[k] / 100.0
    t = max(tol, SIGMAS * 100.0 * (p * (1 - p) / total) ** 0.5)
    out.append("%s %.1f%% (want %.0f, +-%.1f)" % (k, share, want[k], t))
    ok &= abs(share - want[k]) <= t
print("%d samples%s: %s%s" % (total, native_note, ", ".join(out),
                            "; %d at a later line (%.2f%%)" % (nbad, 100.0 * nbad / total) if nbad else ""))
for b in sorted(set(bad))[:5]:
    print("wrong line: " + b)
sys.exit(0 if ok else 1)
