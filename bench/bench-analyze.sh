#!/bin/sh
# make bench-analyze: how fast `ctrace analyze` reads a ~100 MB gdb dump. The dump is built from a
# real "thread apply all bt" of build/fixtures/threads (gdb run here), its threads repeated under
# new LWP numbers until the file is SIZE_MB large. Prints MB/s, and the ratio to `grep -c` reading
# the same file in the same run (the floor any reader pays). Goal: >= 50 MB/s.
set -u
BUILD=${1:-build}
SIZE_MB=${SIZE_MB:-100}
CTRACE="$BUILD/ctrace"
TMP=$(mktemp -d /tmp/ctrace-bench.XXXXXX)
trap 'kill -KILL $FPID 2>/dev/null; rm -rf "$TMP"' EXIT
# a signal (Ctrl-C, timeout, a closed pipe: make demo | head) ends the script through EXIT
trap 'exit 1' INT TERM HUP PIPE
FPID=

"$BUILD/fixtures/threads" 3 >"$TMP/fx.out" 2>&1 &
FPID=$!
i=0
while ! grep -q '^ready' "$TMP/fx.out"; do
	i=$((i + 1)); [ $i -gt 100 ] && { echo "bench-analyze: fixture did not start"; exit 1; }
	sleep 0.05
done
if ! gdb -p "$FPID" -batch -ex "thread apply all bt" >"$TMP/one.txt" 2>/dev/null || ! grep -q '^Thread ' "$TMP/one.txt"; then
	echo "bench-analyze: gdb cannot attach here (ptrace); nothing measured"
	exit 0
fi
kill -KILL $FPID 2>/dev/null

python3 - "$TMP/one.txt" "$TMP/big.txt" "$SIZE_MB" <<'PY'
import re, sys
src, dst, mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
threads, cur = [], None
for line in open(src, errors="replace"):
    m = re.match(r'Thread \d+ \(Thread (0x[0-9a-f]+) \(LWP (\d+)\) "(.*)"\):', line)
    if m:
        cur = [m.group(3), []]
        threads.append(cur)
    elif cur and line.startswith("#"):
        cur[1].append(line)
target = mb << 20
with open(dst, "w") as out:
    n, size, lwp = 0, 0, 100000
    while size < target:
        for name, frames in threads:
            lwp += 1
            n += 1
            block = 'Thread %d (Thread 0x7f%010x (LWP %d) "%s-%d"):\n%s\n' % (n, lwp, lwp, name, n, "".join(frames))
            out.write(block)
            size += len(block)
    out.write("[Inferior 1 (process 99999) detached]\n")
print("bench-analyze: %d threads, %.1f MB" % (n, size / 1e6))
PY

cat "$TMP/big.txt" >/dev/null # warm the page cache
# Times from wait4(): wall clock, and user+system CPU time, which does not depend on how busy the
# machine is (the MB/s goal is judged on CPU time; wall clock is printed too).
python3 - "$TMP/big.txt" "$CTRACE" <<'PY'
import os, sys, time
path, ctrace = sys.argv[1], sys.argv[2]
mb = os.path.getsize(path) / 1e6
def run(argv, errfile=os.devnull):
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, 1)
        err = os.open(errfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(err, 2)
        os.execvp(argv[0], argv)
    _, status, ru = os.wait4(pid, 0)
    wall = time.monotonic() - t0
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        sys.exit("bench-analyze: %s failed" % " ".join(argv))
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024
print("bench-analyze: %.1f MB gdb dump" % mb)
g = run(["grep", "-c", "^#", path])
rows = [("grep -c (floor)", g), ("ctrace analyze", run([ctrace, "analyze", "-v", path], path + ".err")),
        ("ctrace analyze -f json", run([ctrace, "analyze", "-f", "json", path]))]
for name, (wall, cpu, rss) in rows:
    print("  %-24s cpu %6.2f s %7.1f MB/s   wall %6.2f s %7.1f MB/s   max rss %5.0f MB   %5.1fx grep cpu"
          % (name, cpu, mb / cpu, wall, mb / wall, rss, cpu / max(g[1], 1e-3)))
import re
m = re.search(r"read in (\d+) ms of CPU \((\d+) MB/s\)", open(path + ".err").read())
if m:
    print("  of which reading the dump  cpu %6.2f s %7s MB/s   (the rest: thread analysis and report)"
          % (int(m.group(1)) / 1e3, m.group(2)))
cpu = rows[1][1][1]
print("  goal: ctrace analyze >= 50 MB/s of CPU time: %s (%.1f MB/s)" % ("met" if mb / cpu >= 50 else "NOT met", mb / cpu))
PY
