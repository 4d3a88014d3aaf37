# ctrace --memory --inject on redis-server (Debian links it with libjemalloc2): its jemalloc numbers
# must agree within 2 % with what redis itself reports in INFO memory (allocator_allocated,
# allocator_active, allocator_resident, refreshed by redis from the same mallctl every 100 ms),
# taken right before and right after ctrace; redis keeps serving and its keys are all there.
. "$TOP/tests/integration/lib.sh"
need_ptrace
command -v redis-server >/dev/null && command -v redis-cli >/dev/null || skip "redis-server/redis-cli not installed"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP" >"$TMP/redis.log" 2>&1 &
RP=$!
PIDS="$PIDS $RP"
i=0
until redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; do
	i=$((i + 1)); [ $i -gt 200 ] && fail "redis-server did not start: $(cat "$TMP/redis.log")"
	sleep 0.05
done
grep -q jemalloc "/proc/$RP/maps" || skip "this redis-server does not use a shared libjemalloc"
# 20000 keys of 300 bytes: some 10 MiB, so INFO's own buffers are noise
python3 -c '
import sys
v = "v" * 300
sys.stdout.write("".join("SET key:%d %s\r\n" % (i, v) for i in range(20000)))' |
	redis-cli -p "$port" --pipe >"$TMP/pipe.log" 2>&1 || fail "filling redis failed: $(cat "$TMP/pipe.log")"
[ "$(redis-cli -p "$port" dbsize)" = 20000 ] || fail "redis holds $(redis-cli -p "$port" dbsize) keys, not 20000"
sleep 0.3 # redis refreshes its allocator numbers every 100 ms

info() { redis-cli -p "$port" info memory | tr -d '\r' | grep '^allocator_' >"$TMP/$1"; }
info before
"$CTRACE" -p "$RP" --memory --inject -f json >"$TMP/out" 2>"$TMP/err"
rc=$?
sleep 0.3
info after
[ $rc = 0 ] || fail "ctrace --inject on redis exited $rc: $(cat "$TMP/err")"
assert_not_traced "$RP"
python3 - "$TMP/out" "$TMP/before" "$TMP/after" <<'PY' || fail "ctrace and redis disagree (see above)"
import json, sys
d = json.load(open(sys.argv[1]))["injected"]
def info(path):
    return dict(l.strip().split(":", 1) for l in open(path) if ":" in l)
b, a = info(sys.argv[2]), info(sys.argv[3])
bad = 0
for mine, theirs in (("stats.allocated", "allocator_allocated"), ("stats.active", "allocator_active"),
                     ("stats.resident", "allocator_resident")):
    v = d["values"][mine]
    lo, hi = sorted((int(b[theirs]), int(a[theirs])))
    ok = lo * 0.98 <= v <= hi * 1.02
    print("# %-16s ctrace %10d   redis %10d .. %10d  %s" % (mine, v, lo, hi, "ok" if ok else "OUT OF RANGE"))
    bad += not ok
print("# thread %d stopped %.3f ms for %d calls" % (d["tid"], d["stop_ms"], d["calls"]))
sys.exit(1 if bad else 0)
PY
[ "$(redis-cli -p "$port" dbsize)" = 20000 ] || fail "redis lost keys: $(redis-cli -p "$port" dbsize)"
[ "$(redis-cli -p "$port" ping)" = PONG ] || fail "redis stopped answering"
grep -q "signal" "$TMP/redis.log" && fail "redis logged a signal: $(cat "$TMP/redis.log")"
# the text report names the source
expect_exit 0 "$CTRACE" -p "$RP" --memory --inject
echo "$OUT" | grep -q "jemalloc statistics, from mallctl() called in thread" || fail "text report: $OUT"
redis-cli -p "$port" shutdown nosave >/dev/null 2>&1
exit 0
