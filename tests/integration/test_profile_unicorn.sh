# A pre-fork Ruby server for real: Debian's unicorn with 3 workers serving a Rack app
# (tests/fixtures/unicorn/config.ru) whose handler burns CPU in BurnApp#burn_cpu, under load from
# 6 concurrent clients; `ctrace -p MASTER --children --profile` (both samplers) must show the
# method under every worker (--per-pid roots), called from BurnApp#call at the line Ruby itself
# gives (__LINE__, answered by the app). Every process is killed on
# the way out (the unicorn master, its workers, the client).
. "$TOP/tests/integration/lib.sh"
need_ptrace
command -v unicorn >/dev/null || fail "unicorn is missing: make deps installs Debian's unicorn (ruby)"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
APP=$TOP/tests/fixtures/unicorn
UNICORN_LISTEN=127.0.0.1:$PORT UNICORN_PID=$TMP/unicorn.pid \
	unicorn -c "$APP/unicorn.conf.rb" "$APP/config.ru" >"$TMP/unicorn.log" 2>&1 &
M=$!
PIDS="$PIDS $M"
# on the way out, also when the test dies between here and the end: the master stops its workers
# (TERM) and reaps them; whatever is left after 5 s is killed
stop_unicorn() {
	kill -TERM $M 2>/dev/null
	i=0
	while [ $i -lt 50 ] && pgrep -P $M >/dev/null 2>&1; do i=$((i + 1)); sleep 0.1; done
	for w in $(pgrep -P $M 2>/dev/null); do kill -KILL $w 2>/dev/null; done
}
trap 'stop_unicorn; cleanup' EXIT
i=0
until [ "$(pgrep -P $M | wc -l)" -ge 3 ] && grep -q 'worker=2 ready' "$TMP/unicorn.log"; do
	i=$((i + 1))
	[ $i -gt 300 ] && fail "unicorn did not start 3 workers: $(cat "$TMP/unicorn.log")"
	kill -0 $M 2>/dev/null || fail "unicorn died: $(cat "$TMP/unicorn.log")"
	sleep 0.1
done
WORKERS=$(pgrep -P $M | sort -n)

# the load: 6 clients in a loop (more than the workers, so every worker is busy), threads of one
# python3 process (a curl per request costs more than the request)
python3 - "$PORT" "$TMP/served" <<'PY' &
import sys, threading, urllib.request
url, out = "http://127.0.0.1:%s/" % sys.argv[1], open(sys.argv[2], "a")
def client():
    while True:
        try:
            out.write(urllib.request.urlopen(url, timeout=30).read().decode())
            out.flush()
        except Exception:
            pass
for _ in range(6):
    threading.Thread(target=client, daemon=True).start()
threading.Event().wait()
PY
PIDS="$PIDS $!"
i=0
for w in $WORKERS; do
	until grep -q "^$w " "$TMP/served" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 300 ] && fail "worker $w served no request under load: $(sort "$TMP/served" | uniq -c)"
		sleep 0.1
	done
done

CALL=$(awk '{print $2; exit}' "$TMP/served")
check() {
	sampler=$1
	expect_exit 0 "$CTRACE" -p $M --children --profile --per-pid --sampler "$sampler" -d 2 -v -f folded \
		-o "$TMP/$sampler.folded"
	for w in $WORKERS; do
		n=$(grep -- "^[^;]*-$w;.*;burn_cpu (.*config.ru:[0-9]*)" "$TMP/$sampler.folded" |
			awk '{s += $NF} END {print s + 0}')
		[ "$n" -gt 0 ] || fail "$sampler: worker $w has no burn_cpu sample: $(grep -c -- "-$w;" "$TMP/$sampler.folded") stacks of it; $ERR"
		note "$sampler: worker $w: $n samples in BurnApp#burn_cpu"
	done
	grep -q ";call (.*config.ru:$CALL);burn_cpu (.*config.ru:[0-9]*)" "$TMP/$sampler.folded" ||
		fail "$sampler: burn_cpu not under BurnApp#call at line $CALL"
	printf '%s\n' "$ERR" | grep '^ctrace: Ruby 3\.1\.' | sed 's/^/# /'
}
check ptrace
[ "$(perf_probe)" = available ] && check perf || skip_case "perf sampler" "perf_event_open is $(perf_probe) here"
for w in $WORKERS; do assert_not_traced $w; done
assert_not_traced $M
kill -0 $M || fail "the unicorn master died"
echo "unicorn: BurnApp#burn_cpu under BurnApp#call in every one of its 3 workers"
