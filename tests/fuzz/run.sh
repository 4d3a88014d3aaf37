#!/bin/sh
# run.sh TARGET: one libFuzzer run of TARGET (a binary of BUILD/fuzz/) for FUZZ_SECONDS (or FUZZ_RUNS
# inputs) from its seed corpus (tests/fuzz/corpus/NAME, if any) and its working corpus in FUZZ_WORK;
# a crash exits 1 and leaves its input in FUZZ_WORK. Its report comes out in one piece, so that
# make fuzz can run several at once (FUZZ_JOBS).
f=$1
name=$(basename "$f")
work=$FUZZ_WORK/$name.corpus
mkdir -p "$work"
seeds=tests/fuzz/corpus/$name
[ -d "$seeds" ] || seeds=
ASAN_OPTIONS=$FUZZ_ASAN_OPTIONS LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0 \
	"$f" -max_total_time="$FUZZ_SECONDS" -runs="$FUZZ_RUNS" \
	-max_len=65536 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$FUZZ_WORK/$name-" \
	-print_final_stats=1 "$work" $seeds 2>"$FUZZ_WORK/$name.log" || {
	{ tail -n 60 "$FUZZ_WORK/$name.log"; echo "fuzz: $name FAILED (see $FUZZ_WORK/$name.log)"; } | cat
	exit 1
}
printf 'fuzz: %s for %s s: %s\n' "$name" "$FUZZ_SECONDS" \
	"$(grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$FUZZ_WORK/$name.log" | tr '\n' ' ')"
