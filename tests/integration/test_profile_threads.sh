#!/bin/sh
# ctrace --profile on a process with many busy threads (150: the perf sampler's events of every
# thread write into one ring per CPU, so neither perf_event_mlock_kb nor RLIMIT_MEMLOCK runs out,
# as root or not). --per-thread and --tid: test_profile_perthread.sh (in a lane).
# check: alone (150 busy threads load the machine themselves: run without other tests)
. "$TOP/tests/integration/lib.sh"
need_ptrace

# fixture_nice NAME ARGS…: start_fixture at nice 10 (150 spinning threads must not starve the
# machine, nor ctrace), as the user given in $AS (a command prefix, or empty).
fixture_nice() {
	FIXTURE_WRAP="${AS:-} nice -n 10" FIXTURE_WAIT=600
	start_fixture "$@"
	FIXTURE_WRAP= FIXTURE_WAIT=
}

# check_many FOLDED ERR: samples, the fixture's functions named, every thread followed
check_many() {
	[ -s "$1" ] || fail "no samples from 150 busy threads: $(cat "$2")"
	for fn in hot_60 warm_30 cool_10; do
		grep -q "^cpusplit;.*split_loop;$fn[ ;]" "$1" || fail "$fn missing from the 150-thread profile: $(cat "$1")"
	done
	grep -q "perf: 151 threads" "$2" || fail "not every thread followed: $(cat "$2")"
	grep -q "were not sampled" "$2" && fail "threads left out: $(cat "$2")"
	awk '{ n += $NF } END { exit !(n > 0) }' "$1" || fail "no samples counted in $1"
}

# 150 busy threads, as root: perf sampler (-r 999: each thread gets a few ms of CPU here)
AS=
fixture_nice cpusplit 150
[ "$(ls /proc/$FPID/task | wc -l)" -eq 151 ] || fail "cpusplit did not start 150 threads"
expect_exit 0 "$CTRACE" -p $FPID --profile --sampler perf -r 999 --stack-bytes 8192 -d 3 -v -o "$TMP/many.folded"
echo "$ERR" >"$TMP/many.err"
check_many "$TMP/many.folded" "$TMP/many.err"
kill $FPID

# … and as an unprivileged user profiling its own process, where per-thread rings ran out of
# locked memory past some 70 threads (perf_event_mlock_kb, then RLIMIT_MEMLOCK)
if command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null &&
   [ "$(cat /proc/sys/kernel/perf_event_paranoid)" -le 2 ]; then
	mkdir "$TMP/nobody" && cp "$CTRACE" "$FIXTURES/cpusplit" "$TMP/nobody/" && chmod 755 "$TMP" &&
		chmod 777 "$TMP/nobody" || fail "cannot prepare $TMP/nobody"
	AS="setpriv --reuid=65534 --regid=65534 --clear-groups"
	FIXTURES_SAVED=$FIXTURES
	FIXTURES=$TMP/nobody
	fixture_nice cpusplit 150
	FIXTURES=$FIXTURES_SAVED
	if $AS "$TMP/nobody/ctrace" -p $FPID --profile --sampler perf -r 999 --stack-bytes 8192 -d 3 -v \
		-o "$TMP/nobody/out.folded" 2>"$TMP/nobody.err"; then
		check_many "$TMP/nobody/out.folded" "$TMP/nobody.err"
	else
		grep -q "perf_event_open" "$TMP/nobody.err" || fail "as uid 65534: $(cat "$TMP/nobody.err")"
		# a refusal is right only when the kernel refuses uid 65534 perf_event_open itself: running
		# out of locked memory (the bug this case is for) also reads "perf_event_open"
		[ "$(perf_probe $AS)" != available ] ||
			fail "perf_event_open works for uid 65534, yet ctrace failed: $(cat "$TMP/nobody.err")"
		skip_case "150 threads as uid 65534 (locked memory)" "perf_event_open is refused to uid 65534 here: $(cat "$TMP/nobody.err")"
	fi
	kill $FPID
	AS=
else
	skip_case "150 threads as uid 65534 (locked memory)" "cannot run setpriv as uid 65534, or" \
		"kernel.perf_event_paranoid is above 2 (it is $(cat /proc/sys/kernel/perf_event_paranoid))"
fi

exit 0
