# --memory of a Ruby process: GC.stat's figures read from outside (no stop), against GC.stat taken
# inside by the fixture (tests/fixtures/rbgc.rb) once it is idle; Debian's ruby 3.1 (make deps
# installs it: without it the test fails loudly). The counts that only a GC changes must be equal;
# allocated and live objects may be ahead by what the fixture allocated after its reading. Then a
# core of it (gcore) read with --core --memory: the figures of the live process.
. "$TOP/tests/integration/lib.sh"

RUBY=${RUBY:-/usr/bin/ruby}
[ -x "$RUBY" ] || fail "$RUBY is missing: make deps installs ruby (Debian's ruby 3.1)"

stat=$TMP/stat.json
start_cmd rbgc "$RUBY" "$TOP/tests/fixtures/rbgc.rb" "$stat"
p=$FPID

expect_exit 0 "$CTRACE" -p $p --memory --format json
echo "$OUT" >"$TMP/mem.json"
python3 - "$TMP/mem.json" "$stat" <<'PY' || fail "Ruby's GC figures differ from GC.stat (above)"
import json, sys
d = json.load(open(sys.argv[1]))
s = json.load(open(sys.argv[2]))
r = d.get('ruby')
if not r or r.get('note') or not r.get('gc'):
    sys.exit(f"no GC figures: {r}")
g = r['gc']
if not r['version'].startswith('3.1.'):
    sys.exit(f"version {r['version']}")
bad = []
for k in ('count', 'minor_gc_count', 'major_gc_count', 'heap_allocated_pages', 'heap_available_slots',
          'heap_final_slots', 'total_freed_objects'):
    if g[k] != s[k]:
        bad.append(f"{k}: ctrace {g[k]}, GC.stat {s[k]}")
# objects allocated after the reading (the JSON, the print): a few hundred at most
for k in ('total_allocated_objects', 'heap_live_slots'):
    if not 0 <= g[k] - s[k] <= 1000:
        bad.append(f"{k}: ctrace {g[k]}, GC.stat {s[k]}")
if not 0 <= s['heap_free_slots'] - g['heap_free_slots'] <= 1000:
    bad.append(f"heap_free_slots: ctrace {g['heap_free_slots']}, GC.stat {s['heap_free_slots']}")
if g['heap_live_slots'] + g['heap_free_slots'] + g['heap_final_slots'] != g['heap_available_slots']:
    bad.append("live + free + final != available")
if s['count'] < 1 or s['total_freed_objects'] < 100000:
    bad.append(f"the fixture's GC did not run: {s}")
for b in bad:
    print(b)
print(f"# ctrace {g}")
sys.exit(1 if bad else 0)
PY
assert_not_traced $p

# text: the figures under GC.stat's names
expect_exit 0 "$CTRACE" -p $p --memory
echo "$OUT" | grep -q '^Ruby 3\.1\.[0-9]* GC (GC.stat' || fail "text: $OUT"
echo "$OUT" | grep -Eq '^  heap_live_slots +[0-9]+$' || fail "text: $OUT"

# a core of the idle fixture (gcore): the same figures as the live process's just before
if command -v gcore >/dev/null; then
	expect_exit 0 "$CTRACE" -p $p --memory --format json
	echo "$OUT" >"$TMP/live.json"
	gcore -o "$TMP/rb" $p >"$TMP/gcore.log" 2>&1 || fail "gcore failed: $(tail -n 3 "$TMP/gcore.log")"
	expect_exit 0 "$CTRACE" --core "$TMP/rb.$p" --memory --format json
	echo "$OUT" >"$TMP/core.json"
	rm -f "$TMP/rb.$p"
	python3 - "$TMP/live.json" "$TMP/core.json" <<'PY' || fail "the core's GC figures differ from the live ones (above)"
import json, sys
live, core = (json.load(open(f))['ruby'] for f in sys.argv[1:3])
if not core or core.get('note') or not core.get('gc'):
    sys.exit(f"no GC figures from the core: {core}")
bad = [f"{k}: core {core['gc'][k]}, live {v}" for k, v in live['gc'].items()
       if k not in ('total_allocated_objects', 'heap_live_slots', 'heap_free_slots') and core['gc'][k] != v]
# what the fixture allocated between the two readings (its sleep loop): a few objects at most
bad += [f"{k}: core {core['gc'][k]}, live {live['gc'][k]}" for k in ('total_allocated_objects', 'heap_live_slots')
        if not 0 <= core['gc'][k] - live['gc'][k] <= 1000]
if core['version'] != live['version']:
    bad.append(f"version: core {core['version']}, live {live['version']}")
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
else
	skip_case "core" "gdb's gcore is missing (make deps installs gdb): no core to read the GC figures from"
fi

# not Ruby: no Ruby block
start_fixture chain
expect_exit 0 "$CTRACE" -p "$FPID" --memory --format json
echo "$OUT" >"$TMP/c.json"
json_check "$TMP/c.json" "d['ruby'] is None" || fail "a non-Ruby process got a Ruby block: $OUT"
echo "Ruby's GC figures agree with GC.stat"
