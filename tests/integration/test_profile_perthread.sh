#!/bin/sh
# ctrace --profile --per-thread (a frame NAME-TID per thread under the process, with either sampler,
# and in json) and --tid (one thread only, with either sampler; refused for a thread of another
# process and with several -p), against cpusplit's two busy threads. 150 busy threads:
# test_profile_threads.sh (run alone).
. "$TOP/tests/integration/lib.sh"
need_ptrace

# --per-thread: a frame NAME-TID per thread under the process frame, with either sampler
start_fixture cpusplit 2
P=$FPID
for t in /proc/$P/task/*; do
	case $(cat "$t/comm") in
	split-0) T0=${t##*/} ;;
	split-1) T1=${t##*/} ;;
	esac
done
for sampler in perf ptrace; do
	expect_exit 0 "$CTRACE" -p $P --profile --per-thread --sampler $sampler -d 2 -o "$TMP/pt.folded"
	for t in "split-0-$T0" "split-1-$T1"; do
		grep -q "^cpusplit;$t;.*;split_loop;hot_60 [0-9]*$" "$TMP/pt.folded" ||
			fail "$sampler --per-thread: no $t frame over hot_60: $(cat "$TMP/pt.folded")"
	done
	bad=$(grep -v '^cpusplit;[^;]*-[0-9][0-9]*;' "$TMP/pt.folded" | head -n 3)
	[ -z "$bad" ] || fail "$sampler --per-thread: stacks without a thread frame: $bad"
done
expect_exit 0 "$CTRACE" -p $P --profile --per-thread -d 1 -f json -o "$TMP/pt.json"
python3 - "$TMP/pt.json" "split-0-$T0" <<'PY' || fail "--per-thread json: no thread frame"
import sys, json
d = json.load(open(sys.argv[1]))
assert any(f['name'] == sys.argv[2] and f['kind'] == 'thread' for f in d['frames'])
PY

# --tid: only that thread, with either sampler
for sampler in perf ptrace; do
	expect_exit 0 "$CTRACE" -p $P --tid $T1 --profile --per-thread --sampler $sampler -d 2 -o "$TMP/tid.folded"
	grep -q "^cpusplit;split-1-$T1;.*;hot_60 [0-9]*$" "$TMP/tid.folded" || fail "$sampler --tid: no samples of $T1: $(cat "$TMP/tid.folded")"
	bad=$(grep -v "^cpusplit;split-1-$T1;" "$TMP/tid.folded" | head -n 3)
	[ -z "$bad" ] || fail "$sampler --tid $T1: other threads sampled: $bad"
done
assert_not_traced $P

# --tid refused: a thread of another process, and with several -p
expect_exit 1 "$CTRACE" -p $P --tid 1 --profile -d 1
echo "$ERR" | grep -q "has no thread 1" || fail "--tid of another process: $ERR"
expect_usage "--tid profiles one thread of one process" "$CTRACE" -p $P -p $P --tid $T1 --profile -d 1
exit 0
