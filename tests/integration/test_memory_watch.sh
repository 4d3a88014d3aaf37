#!/bin/sh
# ctrace --memory --watch: rows while a fixture's heap grows, a summary naming what grew, JSON lines,
# and an end when the process exits.
. "$TOP/tests/integration/lib.sh"
need_ptrace
XDG_CACHE_HOME="$TMP/cache"
export XDG_CACHE_HOME

start_fixture heapmix "$TMP/mi.txt" grow
expect_exit 0 "$CTRACE" -p "$FPID" --memory --watch 0.2 -d 1.2 -f json
echo "$OUT" >"$TMP/w.jsonl"
python3 - "$TMP/w.jsonl" <<'PY' || fail "watch JSON lines: $OUT"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
samples = [r for r in rows if r["type"] == "sample"]
summary = rows[-1]
assert all(r["version"] == 1 for r in rows)
assert len(samples) >= 2, len(samples)
assert summary["type"] == "summary" and summary["ended"] == "duration reached", summary
assert summary["samples"] == len(samples)
assert summary["heap_in_use_delta"] > 0, summary
assert summary["rss_delta"] > 0, summary
assert summary["grew"][0]["name"] == "[heap]", summary["grew"]
assert [r["t"] for r in samples] == sorted(r["t"] for r in samples)
PY
assert_not_traced "$FPID"

expect_exit 0 "$CTRACE" -p "$FPID" --memory --watch 0.2 -d 0.7
echo "$OUT" | head -1 | grep -q 'heap used' || fail "no header: $OUT"
echo "$OUT" | grep -q '^what grew' || fail "no summary of what grew: $OUT"

# the target exits: the watch ends with a summary saying so
start_fixture noheap
( sleep 0.5; kill -KILL "$FPID" ) &
expect_exit 0 "$CTRACE" -p "$FPID" --memory --watch 0.2 -d 30 -f json
echo "$OUT" | tail -n 1 | grep -q '"ended":"the process exited"' || fail "exit not reported: $OUT"

# usage errors
expect_usage "-d goes with --watch" "$CTRACE" -p "$FPID" --memory -d 1
expect_usage "--watch wants seconds from 0.1 to 86400, got '0'" "$CTRACE" -p 1 --memory --watch 0
exit 0
