# Backtraces of fixtures with known stacks, through every unwinder.
. "$TOP/tests/integration/lib.sh"
need_ptrace

start_fixture chain
for u in libdw libunwind; do
	expect_exit 0 "$CTRACE" -p "$FPID" --backtraces --format json --unwinder $u
	echo "$OUT" >"$TMP/chain.json"
	json_check "$TMP/chain.json" "len(d['threads']) == 1" \
		"has_seq(funcs(thread('chain')), ['f3', 'f2', 'f1', 'f0', 'main'])" \
		"thread('chain')['frames'][1]['file'].endswith('chain.c')" \
		"thread('chain')['frames'][1]['line'] == 6" \
		"thread('chain')['syscall']['name'] == 'pause'" \
		"(d['stats']['max_stop_us'] > 0) != thread('chain')['kernel_regs']" || fail "chain with $u: $OUT"
done
# frame pointers skip the caller of a frame-0 function that keeps no frame (pause in libc)
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces --format json --unwinder fp
echo "$OUT" >"$TMP/chain-fp.json"
json_check "$TMP/chain-fp.json" "has_seq(funcs(thread('chain')), ['f2', 'f1', 'f0', 'main'])" || fail "fp: $OUT"
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces
echo "$OUT" | grep -q "^Thread $FPID \"chain\" S (sleeping), in pause()" || fail "text header: $OUT"
echo "$OUT" | grep -Eq '#[0-9]+ +0x[0-9a-f]{16} in f1\+0x[0-9a-f]+ \(chain\) chain.c:8' || fail "text frame: $OUT"
assert_not_traced "$FPID"

start_fixture threads 3
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces --format json
echo "$OUT" >"$TMP/threads.json"
json_check "$TMP/threads.json" "len(d['threads']) == 10" \
	"set(t['name'] for t in d['threads']) >= {'sleeper-0','sleeper-1','sleeper-2','reader','poller','sigwaiter','condwait','spinner','lock-b'}" \
	"'sleeper_loop' in funcs(thread('sleeper-1'))" \
	"thread('reader')['syscall']['name'] == 'read' and 'pipe:' in thread('reader')['waiting_on']" \
	"'reader_loop' in funcs(thread('reader'))" \
	"thread('poller')['syscall']['name'] == 'epoll_wait' and thread('poller')['passive']" \
	"has_seq(funcs(thread('poller'))[1:], ['poller_loop', 'start_thread'])" \
	"thread('sigwaiter')['syscall']['name'] == 'rt_sigtimedwait' and thread('sigwaiter')['passive']" \
	"'sigwaiter_loop' in funcs(thread('sigwaiter'))" \
	"thread('lock-b')['syscall']['name'] == 'futex' and 'lock_waiter' in funcs(thread('lock-b'))" \
	"'condwait_loop' in funcs(thread('condwait'))" \
	"'spin_loop' in funcs(thread('spinner')) and thread('spinner')['syscall'] is None" \
	"'main_wait' in funcs(thread('threads'))" \
	"all(t['error'] is None for t in d['threads'])" || fail "threads: $OUT"
# --tid captures one thread
tid=$(python3 -c "import json,sys; d=json.load(open('$TMP/threads.json')); print([t['tid'] for t in d['threads'] if t['name']=='reader'][0])")
expect_exit 0 "$CTRACE" -p "$FPID" --tid "$tid" --backtraces --format json
echo "$OUT" >"$TMP/one.json"
json_check "$TMP/one.json" "len(d['threads']) == 1 and d['threads'][0]['name'] == 'reader'" || fail "--tid: $OUT"
assert_not_traced "$FPID"

start_fixture sighandler
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces --format json
echo "$OUT" >"$TMP/sig.json"
json_check "$TMP/sig.json" "has_seq(funcs(thread('sighandler')), ['in_handler', 'handler', '__restore_rt'])" \
	"'main' in funcs(thread('sighandler'))" || fail "signal handler: $OUT"

start_fixture omitfp
for u in libdw libunwind; do
	expect_exit 0 "$CTRACE" -p "$FPID" --backtraces --format json --unwinder $u
	echo "$OUT" >"$TMP/omitfp.json"
	json_check "$TMP/omitfp.json" "has_seq(funcs(thread('omitfp')), ['leaf_wait', 'mid_b', 'mid_a', 'outer', 'main'])" ||
		fail "omit-frame-pointer with $u: $OUT"
done

start_fixture inlined
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces --format json
echo "$OUT" >"$TMP/inl.json"
json_check "$TMP/inl.json" "has_seq(funcs(thread('inlined')), ['inner_inl', 'middle_inl', 'host', 'main'])" \
	"[f['inlined'] for f in thread('inlined')['frames'] if f['function'] in ('inner_inl','middle_inl','host')] == [True, True, False]" ||
	fail "inlined: $OUT"
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces --format json --no-inlines
echo "$OUT" >"$TMP/noinl.json"
json_check "$TMP/noinl.json" "'inner_inl' not in funcs(thread('inlined')) and has_seq(funcs(thread('inlined')), ['host', 'main'])" ||
	fail "--no-inlines: $OUT"
echo "all fixtures unwound as documented"
