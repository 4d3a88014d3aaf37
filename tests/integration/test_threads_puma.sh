# --threads on a Puma server (Debian's puma, single mode, a pool of 4 threads) serving a small Rack
# app: every pool thread is named as waiting in ConditionVariable#wait, on the line of Puma's
# thread_pool.rb that calls it (checked against that file's own text), and the server still answers.
. "$TOP/tests/integration/lib.sh"
need_ptrace
command -v puma >/dev/null || fail "puma is missing: make deps installs it (Debian's puma)"
command -v curl >/dev/null || skip "curl not installed"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '%s\n' 'run ->(env) { [200, { "Content-Type" => "text/plain" }, ["hello\n"]] }' >"$TMP/config.ru"
puma -t 4:4 -w 0 -b "tcp://127.0.0.1:$port" "$TMP/config.ru" >"$TMP/puma.log" 2>&1 &
p=$!
PIDS="$PIDS $p"
i=0
until curl -s "http://127.0.0.1:$port/" 2>/dev/null | grep -q hello; do
	i=$((i + 1))
	[ $i -gt 300 ] && fail "puma did not start: $(cat "$TMP/puma.log")"
	kill -0 $p 2>/dev/null || fail "puma died: $(cat "$TMP/puma.log")"
	sleep 0.05
done
sleep 0.3 # the pool's threads back in their wait after the request

expect_exit 0 "$CTRACE" -p $p --threads --format json
echo "$OUT" >"$TMP/t.json"
python3 - "$TMP/t.json" <<'PY' || fail "the pool's waits are not named (above)"
import json, re, sys
d = json.load(open(sys.argv[1]))
pool = [t for t in d['threads'] if re.fullmatch(r'puma .*tp 00[1-4]', t['name'] or '')]
errors = [] if len(pool) == 4 else [f"{len(pool)} pool threads: {[t['name'] for t in d['threads']]}"]
for t in pool:
    m = re.fullmatch(r'Thread::ConditionVariable#wait in (.+) \((thread_pool\.rb):(\d+)\)', t['why'] or '')
    if not m or t['wait'] != 'condvar':
        errors.append(f"{t['name']}: {t['wait']}: {t['why']}")
        continue
    # the line is Puma's own call of ConditionVariable#wait, in the file the thread runs
    files = {f['file'] for g in d['groups'] if t['tid'] in g['tids'] for f in g['frames']
             if f.get('lang') == 'ruby' and (f.get('file') or '').endswith('/thread_pool.rb')}
    if len(files) != 1:
        errors.append(f"{t['name']}: thread_pool.rb frames: {files}")
        continue
    src = open(files.pop()).read().splitlines()[int(m.group(3)) - 1]
    if not re.search(r'\bnot_empty\.wait\b', src):
        errors.append(f"{t['name']}: line {m.group(3)} of thread_pool.rb is {src!r}")
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
PY
assert_not_traced $p
curl -s "http://127.0.0.1:$port/" | grep -q hello || fail "puma stopped answering"
echo "Puma's pool threads are named as waiting in ConditionVariable#wait"
