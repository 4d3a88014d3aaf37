#!/bin/sh
# A gunicorn server (Debian's, on python3.11) with 3 sync workers serving tests/fixtures/wsgiapp.py
# under load: `ctrace -p MASTER --children --profile` shows every worker, and in each worker's
# stacks the view function at the file and line the worker itself recorded from inside
# (sys._getframe() at the call, wsgiapp's burn-PID files), with both samplers. Then a worker parked
# in a view: --backtraces on it gives the Python frames its faulthandler dump gives (the
# interpreter's own view). Every gunicorn process and the load are ended on exit.
. "$TOP/tests/integration/lib.sh"
need_ptrace

GUNICORN=/usr/bin/gunicorn
[ -x $GUNICORN ] || fail "$GUNICORN is missing: make deps installs Debian's gunicorn"
NWORKERS=3
APPDIR=$TMP/app
mkdir "$APPDIR"
M= W= LOAD= PARK= P=

# Ends the load and the parked worker (asleep in its view, it would not stop on TERM), then
# gunicorn (TERM: the master stops its workers), then any worker left (they are in PIDS too, so
# lib.sh's cleanup KILLs what survived and reaps what it started).
stop_all() {
	for p in $LOAD $PARK $P; do kill -KILL $p 2>/dev/null; done
	if [ -n "$M" ] && kill -0 $M 2>/dev/null; then
		kill -TERM $M
		i=0
		while kill -0 $M 2>/dev/null && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.05; done
	fi
	for w in $W; do kill -KILL $w 2>/dev/null; done
	cleanup
}
trap stop_all EXIT

WSGIAPP_DIR=$APPDIR $GUNICORN -w $NWORKERS -k sync --timeout 300 -b "unix:$TMP/sock" \
	--pythonpath "$TOP/tests/fixtures" wsgiapp:application >"$TMP/gunicorn.log" 2>&1 &
M=$!
PIDS="$PIDS $M"
i=0
until [ -S "$TMP/sock" ] && [ "$(pgrep -P $M | wc -l)" = $NWORKERS ]; do
	i=$((i + 1))
	[ $i -gt 400 ] && fail "gunicorn did not start $NWORKERS workers: $(cat "$TMP/gunicorn.log")"
	kill -0 $M 2>/dev/null || fail "gunicorn died: $(cat "$TMP/gunicorn.log")"
	sleep 0.05
done
W=$(pgrep -P $M | sort -n)
PIDS="$PIDS $W"
comm=$(cat /proc/$M/comm)

# The load: 2 client threads per worker, each GETting PATH in a loop over the unix socket
cat >"$TMP/load.py" <<'PY'
import http.client, socket, sys, threading
class Conn(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(sys.argv[1])
def loop():
    while True:
        c = Conn("localhost", timeout=300)
        c.request("GET", sys.argv[2])
        c.getresponse().read()
        c.close()
for _ in range(int(sys.argv[3])):
    threading.Thread(target=loop, daemon=True).start()
threading.Event().wait()
PY
python3 "$TMP/load.py" "$TMP/sock" /burn $((2 * NWORKERS)) >"$TMP/load.log" 2>&1 &
LOAD=$!
PIDS="$PIDS $LOAD"
# every worker has served /burn (and said where its view runs)
i=0
for w in $W; do
	until [ -s "$APPDIR/burn-$w" ]; do
		i=$((i + 1))
		[ $i -gt 600 ] && fail "worker $w served no /burn: $(ls "$APPDIR"; cat "$TMP/load.log" "$TMP/gunicorn.log")"
		kill -0 $LOAD 2>/dev/null || fail "the load died: $(cat "$TMP/load.log")"
		sleep 0.05
	done
done

for sampler in perf ptrace; do
	expect_exit 0 "$CTRACE" -p $M --children --per-pid --profile -d 2 --sampler $sampler -f folded \
		-o "$TMP/$sampler.folded"
	for w in $W; do
		set -- $(cat "$APPDIR/burn-$w")
		[ "$1" = "$w" ] || fail "burn-$w says pid $1"
		# the frame as the folded format names it: the function, then (file:line)
		grep -Fq "burn_view ($2:$3);" "$TMP/$sampler.folded" ||
			grep -q "burn_view ([^)]*$(basename "$2"):$3);" "$TMP/$sampler.folded" ||
			fail "$sampler: no 'burn_view ($2:$3)' at all: $(head -n 20 "$TMP/$sampler.folded"; echo "$ERR")"
		grep "^$comm-$w;" "$TMP/$sampler.folded" | grep -q "burn_view ([^)]*$(basename "$2"):$3);spin (" ||
			fail "$sampler: worker $w has no stack with burn_view ($2:$3) calling spin: $(grep "^$comm-$w;" "$TMP/$sampler.folded" | head -n 5; echo "$ERR")"
	done
	# the master is followed too, and only gunicorn's processes are in the profile
	bad=$(cut -d';' -f1 "$TMP/$sampler.folded" | sort -u | grep -v "^$comm-[0-9]*$")
	[ -z "$bad" ] || fail "$sampler: other root frames: $bad"
	assert_not_traced $M
	for w in $W; do assert_not_traced $w; done
	note "$sampler: burn_view at its own file:line in each of the $NWORKERS workers"
done

# a worker parked in /park: its stack is still, and faulthandler's dump is its own view
python3 - "$TMP/sock" <<'PY' >"$TMP/park.log" 2>&1 &
import http.client, socket, sys
class Conn(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(sys.argv[1])
c = Conn("localhost", timeout=900)
c.request("GET", "/park")
c.getresponse().read()
PY
PARK=$!
PIDS="$PIDS $PARK"
i=0
until [ -s "$APPDIR/parked" ]; do
	i=$((i + 1))
	[ $i -gt 600 ] && fail "no worker took /park: $(cat "$TMP/park.log")"
	sleep 0.05
done
P=$(cat "$APPDIR/parked")
if ! echo "$W" | grep -qx "$P"; then
	bad=$P P= # not to be killed on exit
	fail "parked in $bad, not one of the workers $W"
fi
sleep 0.2 # from writing the file to sleeping in park_wait
kill -"$(python3 -c 'import signal; print(int(signal.SIGRTMIN) + 3)')" $P
i=0
until grep -q 'park_wait' "$APPDIR/dump-$P" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 200 ] && fail "worker $P wrote no faulthandler dump: $(cat "$APPDIR/dump-$P" 2>/dev/null)"
	sleep 0.05
done
sleep 0.1 # the rest of the dump
expect_exit 0 "$CTRACE" -p $P --backtraces --format json
echo "$OUT" >"$TMP/parked.json"
[ -z "$ERR" ] || fail "--backtraces on worker $P said on stderr: $ERR"
python3 - "$TMP/parked.json" "$APPDIR/dump-$P" $P <<'PY' || fail "worker $P: ctrace's Python frames differ from faulthandler's"
import json, re, sys
ct = json.load(open(sys.argv[1]))
want = []
for line in open(sys.argv[2]):
    m = re.match(r'\s+File "(.*)", line (\d+) in (.*)', line)
    if m:
        want.append((m.group(3), m.group(1), int(m.group(2))))
main = [t for t in ct['threads'] if t['tid'] == int(sys.argv[3])]
if not main:
    sys.exit(print('no main thread in ctrace output') or 1)
t = main[0]
got = [((f['function'] or '??').split('.')[-1], f['file'], f['line']) for f in t['frames'] if f['lang'] == 'python']
if t['interp_note'] or got != want or not got or got[0][0] != 'park_wait' or got[1][0] != 'park_view':
    print('note: %s\nctrace:       %s\nfaulthandler: %s' % (t['interp_note'], got, want))
    sys.exit(1)
PY
expect_exit 0 "$CTRACE" -p $P --backtraces
echo "$OUT" | grep -Eq '^  #[0-9]+ +\[python\] +in park_view \(.*wsgiapp.py:[0-9]+\)$' ||
	fail "--backtraces text on worker $P: no park_view frame: $OUT"
assert_not_traced $P
note "parked worker $P: --backtraces agrees with its faulthandler dump"
echo "gunicorn: every worker's view function in --children --profile, and --backtraces on a worker"
