#!/usr/bin/env python3
"""make bench-symbols: ctrace's symbols against gdb's on real programs from Debian, and ctrace's wall
time and peak RSS against eu-stack's on the same processes, measured in the same run.

For each program: capture every thread with `ctrace --backtraces --format json` and with
`gdb -p PID -batch -ex "thread apply all bt"`, then per thread:
  named   share of frames gdb names for which ctrace names the same function, in the same order
          (longest common subsequence of the two name lists; C++ parameter lists and return types
          are compared without, "<signal handler called>" is __restore_rt)
  only    frames ctrace names where gdb prints "??" (matched by pc)
  pc      share of gdb's frame addresses that are among ctrace's
Programs are left idle (servers waiting for clients, loops sleeping) so both tools see the same stacks.
Usage: bench_symbols.py CTRACE [PROGRAM...]   (programs: redis nginx memcached postgres python node)
"""
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

CTRACE = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/ctrace")
WANT = sys.argv[2:] or ["redis", "nginx", "memcached", "postgres", "python", "node"]
RUNS = 5
TMP = None  # made by main()
started = []  # Popen objects to stop at the end


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def spawn(argv, **kw):
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True, **kw)
    started.append(p)
    return p


def wait_for(pred, what, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        r = pred()
        if r:
            return r
        time.sleep(0.1)
    raise RuntimeError("%s did not start" % what)


def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def as_user(user):
    import pwd
    pw = pwd.getpwnam(user)

    def f():
        os.setgid(pw.pw_gid)
        os.setgroups([])
        os.setuid(pw.pw_uid)
    return f


# ---- programs: each returns [(label, pid)] -------------------------------------------------------

def start_redis():
    sock = os.path.join(TMP, "redis.sock")
    p = spawn(["redis-server", "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no",
               "--dir", TMP])
    wait_for(lambda: os.path.exists(sock), "redis-server")
    time.sleep(0.5)
    return [("redis-server", p.pid)]


def start_nginx():
    d = os.path.join(TMP, "nginx")
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write("daemon off; master_process on; worker_processes 2; pid %s/nginx.pid;\n"
                "error_log %s/error.log;\nevents { worker_connections 64; }\n"
                "http { access_log off; client_body_temp_path %s; proxy_temp_path %s;\n"
                " fastcgi_temp_path %s; uwsgi_temp_path %s; scgi_temp_path %s;\n"
                " server { listen 127.0.0.1:%d; } }\n" % ((d,) * 7 + (free_port(),)))
    p = spawn(["nginx", "-c", conf, "-p", d])
    kids = wait_for(lambda: len(children(p.pid)) >= 2 and children(p.pid), "nginx workers")
    time.sleep(0.5)
    return [("nginx master", p.pid), ("nginx worker", kids[0])]


def start_memcached():
    port = free_port()
    p = spawn(["memcached", "-u", "nobody", "-l", "127.0.0.1", "-p", str(port), "-t", "4"])

    def up():
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            return False
    wait_for(up, "memcached")
    time.sleep(0.3)
    return [("memcached", p.pid)]


def start_postgres():
    bindir = "/usr/lib/postgresql/%s/bin" % sorted(os.listdir("/usr/lib/postgresql"))[-1]
    data = os.path.join(TMP, "pg")
    os.makedirs(data)
    shutil.chown(data, "postgres", "postgres")
    subprocess.run([bindir + "/initdb", "-D", data, "-A", "trust", "--no-sync"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=as_user("postgres"))
    port = free_port()
    p = spawn([bindir + "/postgres", "-D", data, "-k", data, "-p", str(port), "-c", "listen_addresses="],
              preexec_fn=as_user("postgres"))
    wait_for(lambda: os.path.exists(os.path.join(data, ".s.PGSQL.%d" % port)), "postgres")
    time.sleep(0.5)
    spawn(["psql", "-h", data, "-p", str(port), "-U", "postgres", "-c", "select pg_sleep(600)"],
          preexec_fn=as_user("postgres"))
    backend = wait_for(lambda: [c for c in children(p.pid) if "SELECT" in cmdline(c)], "postgres backend")
    time.sleep(0.3)
    return [("postgres backend", backend[0])]


def start_python():
    code = ("import time\n"
            "def work(n):\n    return sum(i * i for i in range(n))\n"
            "def loop():\n    while True:\n        work(1000)\n        time.sleep(0.5)\n"
            "loop()\n")
    p = spawn([shutil.which("python3", path="/usr/bin") or "python3", "-c", code])
    time.sleep(1.0)
    return [("python3 loop", p.pid)]


def start_node():
    p = spawn(["node", "-e", "setInterval(() => { let s = 0; for (let i = 0; i < 1e5; i++) s += i; }, 500)"])
    time.sleep(1.5)
    return [("node loop", p.pid)]


PROGRAMS = {"redis": ("redis-server", start_redis), "nginx": ("nginx", start_nginx),
            "memcached": ("memcached", start_memcached), "postgres": ("psql", start_postgres),
            "python": ("python3", start_python), "node": ("node", start_node)}

# ---- capture and compare --------------------------------------------------------------------------

def run_measured(argv):
    """Runs argv; returns (stdout, wall seconds, peak RSS KiB of that child)."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return out.decode(errors="replace"), time.monotonic() - t0, ru.ru_maxrss


# threads ctrace saw running: their innermost pc moves between ctrace's capture and gdb's
RUNNING = set()


def ctrace_threads(pid):
    out, _, _ = run_measured([CTRACE, "-p", str(pid), "--backtraces", "--format", "json"])
    d = json.loads(out)
    RUNNING.update(t["tid"] for t in d["threads"] if t["state"] == "R")
    return {t["tid"]: [(int(f["pc"], 16), f["function"], f["inlined"]) for f in t["frames"]]
            for t in d["threads"]}


THREAD_RE = re.compile(r"^Thread \d+ \(.*LWP (\d+)")
FRAME_RE = re.compile(r"^#(\d+)\s+(?:(0x[0-9a-f]+) in )?(.+?) \(")


def gdb_threads(pid):
    out = subprocess.run(["gdb", "-p", str(pid), "-batch", "-nx", "-ex", "set pagination off",
                          "-ex", "thread apply all bt"], capture_output=True, text=True,
                         timeout=300).stdout
    threads, cur = {}, None
    for line in out.splitlines():
        m = THREAD_RE.match(line)
        if m:
            cur = threads.setdefault(int(m.group(1)), [])
            continue
        if cur is None or not line.startswith("#"):
            continue
        if "<signal handler called>" in line:
            pc = re.match(r"^#\d+\s+(0x[0-9a-f]+)?", line).group(1)
            cur.append((int(pc, 16) if pc else None, "__restore_rt"))
            continue
        m = FRAME_RE.match(line)
        if m:
            name = m.group(3)
            cur.append((int(m.group(2), 16) if m.group(2) else None, None if name == "??" else name))
    return threads


def strip_params(name):
    """'void ns::f<T>(int) const' -> 'ns::f<T>'; plain C names unchanged."""
    n = name.strip()
    if n.endswith(" const"):
        n = n[:-6]
    if n.endswith(")"):
        depth = 0
        for i in range(len(n) - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(n[i], 0)
            if depth == 0:
                if i > 0:
                    n = n[:i]
                break
    depth, cut = 0, 0  # a return type ends at the last top-level space
    for i, c in enumerate(n):
        if c in "<(":
            depth += 1
        elif c in ">)":
            depth -= 1
        elif c == " " and depth == 0:
            cut = i + 1
    return n[cut:]


def lcs_pairs(a, b):
    """Indices (i, j) of a longest common subsequence of equal non-None names."""
    n, m = len(a), len(b)
    L = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            L[i][j] = L[i + 1][j + 1] + 1 if a[i] is not None and a[i] == b[j] else max(L[i + 1][j], L[i][j + 1])
    i = j = 0
    pairs = []
    while i < n and j < m:
        if a[i] is not None and a[i] == b[j]:
            pairs.append((i, j))
            i += 1
            j += 1
        elif L[i + 1][j] >= L[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def compare(ct, gd, diffs):
    s = {"gdb_named": 0, "same": 0, "only_ctrace": 0, "gdb_pcs": 0, "pc_same": 0, "threads": 0}
    for tid, gframes in gd.items():
        cframes = ct.get(tid)
        if cframes is None:
            continue
        s["threads"] += 1
        gnames = [strip_params(n) if n else None for _, n in gframes]
        cnames = [strip_params(n) if n else None for _, n, _ in cframes]
        pairs = lcs_pairs(gnames, cnames)
        matched = {i for i, _ in pairs}
        s["gdb_named"] += sum(1 for n in gnames if n)
        s["same"] += len(pairs)
        cpcs = {pc: n for pc, n, _ in cframes}
        for i, (pc, n) in enumerate(gframes):
            if pc is not None and not (i == 0 and tid in RUNNING):
                s["gdb_pcs"] += 1
                s["pc_same"] += pc in cpcs
            if n is None and pc is not None and cpcs.get(pc):
                s["only_ctrace"] += 1
            if n and i not in matched and len(diffs) < 12:
                near = [cn for cpc, cn, _ in cframes if pc is not None and cpc == pc]
                diffs.append("tid %d #%d gdb %s, ctrace %s" % (tid, i, n, near[0] if near else "(no frame at that pc)"))
    return s


def timing(argv):
    walls, rss = [], []
    for _ in range(RUNS):
        _, w, r = run_measured(argv)
        walls.append(w)
        rss.append(r)
    return statistics.median(walls), max(rss)


def pct(a, b):
    return "%.1f%%" % (100.0 * a / b) if b else "-"


def main():
    global TMP
    if os.geteuid() != 0:
        print("bench-symbols: run as root (gdb and ctrace attach to servers started as other users)")
        return 1
    TMP = tempfile.mkdtemp(prefix="ctrace-bench-symbols.")
    os.chmod(TMP, 0o755)
    rows, notes = [], []
    for key in WANT:
        tool, start = PROGRAMS[key]
        if not shutil.which(tool):
            notes.append("%s: %s not installed, skipped (apt-get install it)" % (key, tool))
            continue
        try:
            targets = start()
        except Exception as e:  # noqa: BLE001 - the bench goes on with the other programs
            notes.append("%s: could not start: %s" % (key, e))
            continue
        for label, pid in targets:
            ct = ctrace_threads(pid)
            gd = gdb_threads(pid)
            diffs = []
            s = compare(ct, gd, diffs)
            ct_wall, ct_rss = timing([CTRACE, "-p", str(pid), "--backtraces"])
            eu_wall, eu_rss = timing(["eu-stack", "-i", "-s", "-p", str(pid)])
            rows.append((label, s, ct_wall, eu_wall, ct_rss, eu_rss))
            for d in diffs:
                notes.append("%s: %s" % (label, d))
    print("%-18s %4s %7s %9s %6s %9s %9s %9s %7s %8s %8s" % (
        "program", "thr", "gdbnam", "same", "only", "pc", "ctrace", "eu-stack", "ratio", "ct-RSS", "eu-RSS"))
    tot = {"gdb_named": 0, "same": 0}
    for label, s, cw, ew, cr, er in rows:
        tot["gdb_named"] += s["gdb_named"]
        tot["same"] += s["same"]
        print("%-18s %4d %7d %9s %6d %9s %8.1fms %8.1fms %7.2f %6.1fMB %6.1fMB" % (
            label, s["threads"], s["gdb_named"], pct(s["same"], s["gdb_named"]), s["only_ctrace"],
            pct(s["pc_same"], s["gdb_pcs"]), cw * 1e3, ew * 1e3, cw / ew if ew else 0, cr / 1024, er / 1024))
    print("all: ctrace names %s of the frames gdb names the same way" % pct(tot["same"], tot["gdb_named"]))
    print("(gdbnam: frames gdb names; same: share ctrace names the same; only: frames only ctrace names;"
          " pc: gdb addresses ctrace has; times: median of %d runs; ratio: ctrace/eu-stack wall)" % RUNS)
    for n in notes:
        print("note: " + n)
    return 0


if __name__ == "__main__":
    try:
        rc = main()
    finally:
        for p in started:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except OSError:
                pass
        for p in started:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        if TMP:
            shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(rc)
