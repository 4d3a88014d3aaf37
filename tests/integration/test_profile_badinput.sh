#!/bin/sh
# ctrace --profile refuses bad input with one clear line and exit 64 (usage) or 1 (target).
. "$TOP/tests/integration/lib.sh"

start_fixture cpusplit 1
P=$FPID

expect_usage "-r wants a number from 1 to 10000 .*got '0'" "$CTRACE" -p $P --profile -r 0
expect_usage "-r wants a number from 1 to 10000 .*got '100000'" "$CTRACE" -p $P --profile -r 100000
expect_usage "-r wants a number from 1 to 10000 .*got 'fast'" "$CTRACE" -p $P --profile -r fast
expect_usage "-d wants seconds from 0.001 .*got '-1'" "$CTRACE" -p $P --profile -d -1
expect_usage "-d wants seconds from 0.001 .*got '0'" "$CTRACE" -p $P --profile -d 0
expect_usage "unknown sampler 'magic' \(perf or ptrace\)" "$CTRACE" -p $P --profile --sampler magic
expect_usage "unknown mode 'idle' \(cpu or wall\)" "$CTRACE" -p $P --profile --mode idle
expect_usage "--mode wall needs --sampler ptrace" "$CTRACE" -p $P --profile --mode wall --sampler perf
expect_usage "unknown format 'text-ish'" "$CTRACE" -p $P --profile -f text-ish

# an unwritable -o fails at once, before any sampling, and leaves nothing behind
expect_usage "cannot write to '$TMP/no/such/dir/out.folded': No such file or directory" \
	"$CTRACE" -p $P --profile -d 30 -o "$TMP/no/such/dir/out.folded"
expect_usage "cannot write to '$TMP': it is a directory" "$CTRACE" -p $P --profile -d 30 -o "$TMP"
ls "$TMP" | grep -q ctrace-tmp && fail "a temporary file was left in $TMP"

# a PID that has exited
sh -c 'exit 0' &
gone=$!
wait $gone
expect_exit 1 "$CTRACE" -p $gone --profile -d 1
echo "$ERR" | grep -q "no process $gone" || fail "exited PID: $ERR"
exit 0
