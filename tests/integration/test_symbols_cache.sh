#!/bin/sh
# The frames kept on disk between runs (CACHE/frames, symbolize/framestore.h): a run with a cold
# cache and one with a warm cache print the same frames as a run with the cache off, and the warm
# one says it used the cache. A store goes stale when the file's debug file appears, changes or goes
# (build-id layout under --debug-dir); damaged stores, and stores others could write, are not used
# and cost nothing but the time; CTRACE_CACHE_DIR=off writes nothing.
. "$TOP/tests/integration/lib.sh"
for t in objcopy strip readelf; do command -v $t >/dev/null || skip "needs $t (binutils)"; done
need_ptrace

C=$TMP/cache
frames() { printf '%s\n' "$OUT" | grep '^  #'; }
from_cache() { printf '%s\n' "$ERR" | sed -n "s/.* \([0-9]*\) files' frames from the cache.*/\1/p"; }
ct() { _c=$1; shift; expect_exit 0 env CTRACE_CACHE_DIR="$_c" "$CTRACE" -p "$FPID" --backtraces -v "$@"; }

# --- 1. cold, warm, off: the same frames (the fixture's own DWARF: f3 at chain.c:6)
start_fixture chain
ct off
BASE=$(frames)
printf '%s\n' "$BASE" | grep -Eq ' in f3\+0x[0-9a-f]+ \(chain\) chain\.c:6' || fail "harness: no f3 at chain.c:6: $OUT"
[ -e "$C" ] && fail "CTRACE_CACHE_DIR=off made $C"
ct "$C"
[ "$(frames)" = "$BASE" ] || fail "cold cache: frames differ from the cache off: $(frames)"
[ "$(from_cache)" = 0 ] || fail "cold cache: frames said to come from it: $ERR"
n=$(ls "$C/frames" 2>/dev/null | wc -l)
[ "$n" -ge 2 ] || fail "cold cache: $n stores written (want chain's and libc's): $(ls -la "$C/frames" 2>&1)"
[ "$(stat -c %a "$C/frames")" = 700 ] || fail "the stores' directory is not 0700"
for f in "$C"/frames/*; do [ "$(stat -c %a "$f")" = 600 ] || fail "store $f is not 0600"; done
ct "$C"
[ "$(frames)" = "$BASE" ] || fail "warm cache: frames differ from the cache off: $(frames)"
[ "$(from_cache)" -ge 2 ] || fail "warm cache: not used: $ERR"

# --- 2. damaged stores (cut short, bytes flipped) and stores others may write: not used, no warning
for f in "$C"/frames/*; do sz=$(stat -c %s "$f"); truncate -s $((sz / 2)) "$f"; done
ct "$C"
[ "$(frames)" = "$BASE" ] || fail "cut stores: frames differ: $(frames)"
[ "$(from_cache)" = 0 ] || fail "cut stores were used: $ERR"
printf '%s\n' "$ERR" | grep -Ev "^ctrace: (captured |ctrace's priority|threads off a CPU: |time: |modules: )" | grep . &&
	fail "cut stores: something said about them: $ERR"
for f in "$C"/frames/*; do
	python3 -c 'import sys; p=sys.argv[1]; d=bytearray(open(p,"rb").read()); d[len(d)//3]^=0x5a; open(p,"wb").write(d)' "$f"
done
ct "$C"
[ "$(frames)" = "$BASE" ] || fail "flipped stores: frames differ: $(frames)"
[ "$(from_cache)" = 0 ] || fail "flipped stores were used: $ERR"
ct "$C" # written again whole by the run before
[ "$(from_cache)" -ge 2 ] || fail "stores not written again after damage: $ERR"
chmod 0666 "$C"/frames/*
ct "$C"
[ "$(from_cache)" = 0 ] || fail "stores writable by others were used: $ERR"
[ "$(frames)" = "$BASE" ] || fail "stores writable by others: frames differ: $(frames)"
kill "$FPID"

# --- 3. a stripped copy, its debug file by build-id under --debug-dir: absent, then installed,
# changed, removed; each run's frames as the cache off would give them
B=$TMP/bin
mkdir -p "$B" "$TMP/dbg"
cp "$FIXTURES/chain" "$B/chain"
objcopy --only-keep-debug "$B/chain" "$TMP/chain.debug"
strip --strip-all "$B/chain"
BID=$(readelf -n "$B/chain" | awk '/Build ID/ {print $3}')
[ -n "$BID" ] || skip "the toolchain adds no build-id"
DBG=$TMP/dbg/.build-id/$(echo "$BID" | cut -c1-2)/$(echo "$BID" | cut -c3-).debug
FIXTURES=$B start_fixture chain
same_as_off() { # $1 label: this cache's frames are the cache off's
	_got=$(frames)
	ct off --debug-dir "$TMP/dbg"
	[ "$_got" = "$(frames)" ] || fail "$1: frames differ from the cache off: $_got / $(frames)"
}
ct "$C" --debug-dir "$TMP/dbg"
printf '%s\n' "$OUT" | grep -Eq ' in f3\+' && fail "stripped, no debug file: f3 named: $OUT"
ct "$C" --debug-dir "$TMP/dbg"
[ "$(from_cache)" -ge 1 ] || fail "stripped, no debug file: the warm run did not use the cache: $ERR"
same_as_off "no debug file"
mkdir -p "$(dirname "$DBG")"
cp "$TMP/chain.debug" "$DBG"
ct "$C" --debug-dir "$TMP/dbg"
printf '%s\n' "$OUT" | grep -Eq ' in f3\+0x[0-9a-f]+ \(chain\) chain\.c:6' ||
	fail "debug file installed after a run: the cache hid it: $OUT"
same_as_off "debug file installed"
ct "$C" --debug-dir "$TMP/dbg"
[ "$(from_cache)" -ge 1 ] || fail "debug file installed: the warm run did not use the cache: $ERR"
same_as_off "debug file installed, warm"
# the debug file changed (cut short): its warning is said again, every run, and nothing is kept
sz=$(stat -c %s "$DBG")
truncate -s $((sz / 2)) "$DBG"
for i in 1 2; do
	ct "$C" --debug-dir "$TMP/dbg"
	printf '%s\n' "$OUT" | grep -Eq ' in f3\+' && fail "debug file cut short (run $i): f3 named from the cache: $OUT"
	printf '%s\n' "$ERR" | grep -q "$B/chain: debug" || fail "debug file cut short (run $i): no warning: $ERR"
done
rm -f "$DBG"
ct "$C" --debug-dir "$TMP/dbg"
printf '%s\n' "$OUT" | grep -Eq ' in f3\+' && fail "debug file removed: f3 still named: $OUT"
same_as_off "debug file removed"
echo "frames on disk: cold, warm and off alike; stale, damaged and unsafe stores not used"
