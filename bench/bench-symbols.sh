#!/bin/sh
# make bench-symbols: ctrace's symbols against gdb's on redis, nginx, memcached, postgres, python3 and
# node (Debian packages; missing ones are skipped and said), and wall time / peak RSS against eu-stack.
BUILD=${1:-build}
exec python3 "$(dirname "$0")/bench_symbols.py" "$BUILD/ctrace" ${BENCH_PROGRAMS:-}
