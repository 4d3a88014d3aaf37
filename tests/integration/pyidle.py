"""Checks the waiting threads of tests/fixtures/pysplit.py run with "idle" in a folded profile.
Usage: pyidle.py FOLDED cpu|wall [HZ SECS]. cpu: idle_sleep, idle_select and idle_lock have no
sample (they never run), idle_gil at most the samples of 2 % of one CPU over the run (HZ x SECS x
0.02): its wake-ups every 0.5 ms are real CPU time, 0.5-0.7 % of a CPU measured (the kernel's entry
and exit of its waits), bounded by the CPU it uses, not by the share of a busy thread that a loaded
machine slows down; wall: every one of them has samples (the profile sees them: the cpu check is
not blind). Prints the counts; exit 1 when one is off."""
import re
import sys

names = ("idle_sleep", "idle_select", "idle_lock", "idle_gil")
total = 0
got = dict((k, 0) for k in names)
for line in open(sys.argv[1]):
    stack, _, count = line.rstrip("\n").rpartition(" ")
    total += int(count)
    for k in names:
        if re.search(r"(?:^|;)%s \(" % k, stack):
            got[k] += int(count)
print("%d samples: %s" % (total, ", ".join("%s %d" % (k, got[k]) for k in names)))
if sys.argv[2] == "wall":
    ok = all(got[k] > 0 for k in names)
else:
    ok = total > 0 and not (got["idle_sleep"] or got["idle_select"] or got["idle_lock"]) and \
        got["idle_gil"] <= 0.02 * float(sys.argv[3]) * float(sys.argv[4])
sys.exit(0 if ok else 1)
