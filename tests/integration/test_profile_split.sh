#!/bin/sh
# ctrace --profile's CPU split of cpusplit (threads splitting CPU 60/30/10 among hot_60, warm_30,
# cool_10) as each sampler measures it: the perf sampler (the default), the ptrace sampler in CPU
# mode (only running threads: main, asleep but for microseconds every 10 ms, holds a negligible
# share) and the ptrace fallback when perf_event_open is refused. The rest of --profile (formats,
# signals, threads born late, exec, exit): test_profile.sh, in a lane.
# check: alone (measures the CPU split of its target: run without other tests)
. "$TOP/tests/integration/lib.sh"
need_ptrace

# check_folded FILE: every line is "frame;frame;… count", rooted at the process name, and the
# function doing 60 % of the work has the most samples (a loose band: no timing-exact assertion).
check_folded() {
	[ -s "$1" ] || fail "empty profile $1"
	bad=$(grep -Ev '^cpusplit(;[^;]+)* [0-9]+$' "$1" | head -n 3)
	[ -z "$bad" ] || fail "lines not in folded format in $1: $bad"
	for fn in hot_60 warm_30 cool_10; do
		grep -q "split_loop;$fn\( \|;\)" "$1" || fail "$fn missing under split_loop in $1: $(cat "$1")"
	done
	awk '{ n = $NF; if ($0 ~ /;hot_60( |;)/) h += n; else if ($0 ~ /;warm_30( |;)/) w += n;
	       else if ($0 ~ /;cool_10( |;)/) k += n; t += n }
	     END { printf "# hot_60 %d warm_30 %d cool_10 %d of %d samples\n", h, w, k, t;
		   exit !(h > w && h > k && w + k + h > 0.5 * t) }' "$1" || fail "hot_60 is not the hottest: $(cat "$1")"
}

start_fixture cpusplit 2
P=$FPID

# perf sampler (or the ptrace fallback where perf_event_open is refused: then said on stderr)
expect_exit 0 "$CTRACE" -p $P --profile -d 3 -o "$TMP/perf.folded"
check_folded "$TMP/perf.folded"
# the fallback is right only where perf_event_open is refused: where it works, falling back hides a
# broken perf sampler behind the ptrace one
if echo "$ERR" | grep -q "using the ptrace sampler"; then
	[ "$(perf_probe)" != available ] ||
		fail "perf_event_open works here, yet the default run fell back to ptrace: $ERR"
	skip_case "the perf sampler (default run)" "perf_event_open is refused here: the default run used the ptrace sampler"
fi
assert_not_traced $P

# ptrace sampler, CPU mode: only running threads, so main (asleep but for microseconds every
# 10 ms) holds a negligible share
expect_exit 0 "$CTRACE" -p $P --profile -d 3 --sampler ptrace -o "$TMP/ptrace.folded"
check_folded "$TMP/ptrace.folded"
awk '/;main;/ { m += $NF } { t += $NF } END { exit !(m * 20 <= t) }' "$TMP/ptrace.folded" ||
	fail "--mode cpu sampled the sleeping main thread as if it ran: $(cat "$TMP/ptrace.folded")"
assert_not_traced $P

# perf_event_open refused (a seccomp filter, as in a container): ptrace fallback, said on stderr
expect_exit 0 "$FIXTURES/noperf" "$CTRACE" -p $P --profile -d 3 -o "$TMP/noperf.folded"
echo "$ERR" | grep -q "perf_event_open was refused.*using the ptrace sampler" || fail "fallback not said: $ERR"
check_folded "$TMP/noperf.folded"
# … and an explicit --sampler perf is refused with the way out
expect_exit 1 "$FIXTURES/noperf" "$CTRACE" -p $P --profile -d 1 --sampler perf
echo "$ERR" | grep -q "sampler ptrace" || fail "refusal does not name --sampler ptrace: $ERR"

exit 0
