#!/bin/sh
# ctrace --profile refuses bad input with one clear line and exit 64 (usage) or 1 (target).
. "$TOP/tests/integration/lib.sh"

start_fixture cpusplit 1
P=$FPID

expect_exit 64 "$CTRACE" -p $P --profile -r 0
echo "$ERR" | grep -q "from 1 to 10000" || fail "-r 0: no allowed range: $ERR"
expect_exit 64 "$CTRACE" -p $P --profile -r 100000
echo "$ERR" | grep -q "from 1 to 10000" || fail "-r 100000: no allowed range: $ERR"
expect_exit 64 "$CTRACE" -p $P --profile -r fast
expect_exit 64 "$CTRACE" -p $P --profile -d -1
echo "$ERR" | grep -q "seconds from 0.001" || fail "-d -1: $ERR"
expect_exit 64 "$CTRACE" -p $P --profile -d 0
expect_exit 64 "$CTRACE" -p $P --profile --sampler magic
expect_exit 64 "$CTRACE" -p $P --profile --mode idle
expect_exit 64 "$CTRACE" -p $P --profile --mode wall --sampler perf
echo "$ERR" | grep -q "sampler ptrace" || fail "wall+perf: $ERR"
expect_exit 64 "$CTRACE" -p $P --profile -f text-ish

# an unwritable -o fails at once, before any sampling, and leaves nothing behind
expect_exit 64 "$CTRACE" -p $P --profile -d 30 -o "$TMP/no/such/dir/out.folded"
echo "$ERR" | grep -q "cannot write to" || fail "unwritable -o: $ERR"
expect_exit 64 "$CTRACE" -p $P --profile -d 30 -o "$TMP"
echo "$ERR" | grep -q "is a directory" || fail "-o DIR: $ERR"
ls "$TMP" | grep -q ctrace-tmp && fail "a temporary file was left in $TMP"

# a PID that has exited
sh -c 'exit 0' &
gone=$!
wait $gone
expect_exit 1 "$CTRACE" -p $gone --profile -d 1
echo "$ERR" | grep -q "no process $gone" || fail "exited PID: $ERR"
exit 0
