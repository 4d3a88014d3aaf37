# Separate debug info: build-id directories and .gnu_debuglink (CRC-checked) under --debug-dir,
# MiniDebugInfo (.gnu_debugdata), dwz files (.gnu_debugaltlink), and bad input: a truncated or corrupted debug file, a debuglink whose
# CRC does not match, a module gone from disk. Bad input costs that module its names, with one
# warning, and every frame is still printed.
. "$TOP/tests/integration/lib.sh"
for t in objcopy strip nm xz readelf; do command -v $t >/dev/null || skip "needs $t (binutils, xz-utils)"; done
need_ptrace

nframes() { printf '%s\n' "$OUT" | grep -c '^  #'; }
named() { # $1 label, $2 "lines" when file:line is expected too
	for f in f3 f2 f1 f0 main; do
		printf '%s\n' "$OUT" | grep -Eq " in $f\+0x[0-9a-f]+ \(chain\)" || fail "$1: $f not named: $OUT"
	done
	if [ "${2:-}" = lines ]; then
		printf '%s\n' "$OUT" | grep -Eq " in f3\+0x[0-9a-f]+ \(chain\) chain\.c:6" || fail "$1: no chain.c:6: $OUT"
	fi
}
unnamed_but_whole() { # $1 label, $2 baseline frame count
	printf '%s\n' "$OUT" | grep -Eq ' in f3\+' && fail "$1: named from untrusted debug info: $OUT"
	printf '%s\n' "$OUT" | grep -Eq ' in __libc_pause\+0x[0-9a-f]+ \(libc\.so\.6\)' || fail "$1: libc frame lost: $OUT"
	[ "$(nframes)" = "$2" ] || fail "$1: $(nframes) frames printed, want $2: $OUT"
}
one_warning() { # $1 label, $2 pattern
	n=$(printf '%s\n' "$ERR" | grep -c "$2")
	[ "$n" = 1 ] || fail "$1: want one warning matching '$2', got $n: $ERR"
}

B=$TMP/bin
mkdir -p "$B" "$TMP/dbg" "$TMP/dbg2"

# 1. build-id layout: DIR/.build-id/xx/rest.debug
cp "$FIXTURES/chain" "$B/chain"
objcopy --only-keep-debug "$B/chain" "$TMP/chain.debug"
strip --strip-all "$B/chain"
BID=$(readelf -n "$B/chain" | awk '/Build ID/ {print $3}')
[ -n "$BID" ] || skip "the toolchain adds no build-id"
DBG=$TMP/dbg/.build-id/$(echo "$BID" | cut -c1-2)/$(echo "$BID" | cut -c3-).debug
mkdir -p "$(dirname "$DBG")"
cp "$TMP/chain.debug" "$DBG"
FIXTURES=$B start_fixture chain
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces
printf '%s\n' "$OUT" | grep -Eq ' in f3\+' && fail "stripped fixture named without its debug file: $OUT"
BASE=$(nframes)
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces --debug-dir "$TMP/dbg"
named build-id lines
[ -z "$ERR" ] || fail "build-id: unexpected warnings: $ERR"

# 2. truncated debug file: one warning, every frame still printed
sz=$(stat -c %s "$DBG")
truncate -s $((sz / 2)) "$DBG"
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces --debug-dir "$TMP/dbg"
unnamed_but_whole truncated "$BASE"
one_warning truncated "$B/chain: debug"

# 3. bytes flipped all over the DWARF sections: no crash, every frame printed
cp "$TMP/chain.debug" "$DBG"
python3 - "$DBG" <<'PY' || fail "harness: cannot corrupt the debug file"
import subprocess, sys
path = sys.argv[1]
d = bytearray(open(path, "rb").read())
for l in subprocess.check_output(["readelf", "-SW", path]).decode().splitlines():
    if "] .debug_" in l:
        f = l.split("]")[1].split()
        off, size = int(f[3], 16), int(f[4], 16)
        for i in range(off, off + size, 5):
            d[i] ^= 0xA5
open(path, "wb").write(d)
PY
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces --debug-dir "$TMP/dbg"
[ "$(nframes)" = "$BASE" ] || fail "corrupted DWARF: $(nframes) frames, want $BASE: $OUT"
printf '%s\n' "$ERR" | grep -c 'warning' | grep -qx '[01]' || fail "corrupted DWARF: more than one warning: $ERR"
assert_not_traced "$FPID"
kill -KILL "$FPID"; wait "$FPID" 2>/dev/null

# 4. .gnu_debuglink without build-id, CRC-checked, in DIR/<module's directory>/NAME
objcopy --remove-section .note.gnu.build-id "$FIXTURES/chain" "$B/chain"
objcopy --only-keep-debug "$B/chain" "$TMP/chain.debug"
strip --strip-all "$B/chain"
objcopy --add-gnu-debuglink="$TMP/chain.debug" "$B/chain"
mkdir -p "$TMP/dbg2$B"
cp "$TMP/chain.debug" "$TMP/dbg2$B/chain.debug"
FIXTURES=$B start_fixture chain
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces --debug-dir "$TMP/dbg2"
named debuglink lines
[ -z "$ERR" ] || fail "debuglink: unexpected warnings: $ERR"
# a debug file that changed since (its CRC differs) is not trusted
objcopy --remove-section .comment "$TMP/dbg2$B/chain.debug" 2>/dev/null
cmp -s "$TMP/chain.debug" "$TMP/dbg2$B/chain.debug" && fail "harness: debug file unchanged"
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces --debug-dir "$TMP/dbg2"
unnamed_but_whole "CRC mismatch" "$BASE"
one_warning "CRC mismatch" "$B/chain: debug file .* does not match it (CRC)"
assert_not_traced "$FPID"
kill -KILL "$FPID"; wait "$FPID" 2>/dev/null

# 5. MiniDebugInfo, made as Fedora's find-debuginfo does
cp "$FIXTURES/chain" "$B/chain"
nm -D "$B/chain" --format=posix --defined-only | awk '{ print $1 }' | sort >"$TMP/dynsyms"
nm "$B/chain" --format=posix --defined-only | awk '$2 == "T" || $2 == "t" || $2 == "D" { print $1 }' |
	sort >"$TMP/funcsyms"
comm -13 "$TMP/dynsyms" "$TMP/funcsyms" >"$TMP/keep"
objcopy --only-keep-debug "$B/chain" "$TMP/full.debug"
objcopy -S --remove-section .gdb_index --remove-section .comment --keep-symbols="$TMP/keep" \
	"$TMP/full.debug" "$TMP/mini"
strip --strip-all -R .comment "$B/chain"
xz -f "$TMP/mini"
objcopy --add-section .gnu_debugdata="$TMP/mini.xz" "$B/chain"
FIXTURES=$B start_fixture chain
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces
named minidebuginfo
assert_not_traced "$FPID"
kill -KILL "$FPID"; wait "$FPID" 2>/dev/null

# 7. a FIFO or a directory planted where the module's .gnu_debuglink points, beside it (the user
# who owns the module's directory can do that): libdwfl would open() it and block on the FIFO for
# good, or "open" the directory. ctrace does not search beside the module then, says so once,
# and still finds the debug file by build-id.
cp "$FIXTURES/chain" "$B/chain"
objcopy --only-keep-debug "$B/chain" "$TMP/chain.debug"
strip --strip-all "$B/chain"
objcopy --add-gnu-debuglink="$TMP/chain.debug" "$B/chain"
cp "$TMP/chain.debug" "$DBG"
rm -rf "$B/chain.debug"
mkfifo "$B/chain.debug"
FIXTURES=$B start_fixture chain
expect_exit 0 timeout 30 "$CTRACE" -p "$FPID" --backtraces
unnamed_but_whole "FIFO debuglink" "$BASE"
one_warning "FIFO debuglink" "$B/chain.debug is not a regular file"
expect_exit 0 timeout 30 "$CTRACE" -p "$FPID" --backtraces --debug-dir "$TMP/dbg"
named "FIFO debuglink, build-id" lines
rm "$B/chain.debug"
mkdir "$B/chain.debug"
expect_exit 0 timeout 30 "$CTRACE" -p "$FPID" --backtraces
one_warning "directory debuglink" "$B/chain.debug is not a regular file"
assert_not_traced "$FPID"
kill -KILL "$FPID"; wait "$FPID" 2>/dev/null
rmdir "$B/chain.debug"

# 8. a dwz file (.gnu_debugaltlink in the debug file, here with the names of inlined functions):
# found by its absolute name, or in .dwz/ beside the debug file, and used only with the build-id
# the link gives. The debug file beside the module is the target's, so is the dwz name in it: a
# FIFO there must not block ctrace (libdwfl's own search opened "DIR/.dwz/NAME" blocking).
if command -v dwz >/dev/null; then
	D=$TMP/dwz
	mkdir -p "$D/.dwz"
	cp "$FIXTURES/inlined" "$D/inl"
	cp "$FIXTURES/inlined" "$D/inl2"
	objcopy --only-keep-debug "$D/inl" "$D/inl.debug"
	objcopy --only-keep-debug "$D/inl2" "$D/inl2.debug"
	dwz -m "$D/common.dwz" -M "$D/common.dwz" "$D/inl.debug" "$D/inl2.debug" ||
		fail "harness: dwz could not make a common file"
	readelf -S "$D/inl.debug" 2>/dev/null | grep -q gnu_debugaltlink || fail "harness: dwz wrote no altlink"
	strip --strip-all "$D/inl"
	objcopy --add-gnu-debuglink="$D/inl.debug" "$D/inl"
	inlined_named() { # $1 label
		for f in inner_inl middle_inl; do
			printf '%s\n' "$OUT" | grep -Eq " in $f \[inlined\] \(inl\)" || fail "$1: $f not named: $OUT"
		done
	}
	inlined_unnamed() { # $1 label: without the dwz file, the symbols name the frame
		printf '%s\n' "$OUT" | grep -Eq ' in (inner|middle)_inl' && fail "$1: named from a dwz file not used: $OUT"
		printf '%s\n' "$OUT" | grep -Eq ' in host\+0x[0-9a-f]+ \(inl\)' || fail "$1: host lost: $OUT"
		printf '%s\n' "$OUT" | grep -Eq ' in main\+0x[0-9a-f]+ \(inl\)' || fail "$1: main lost: $OUT"
	}
	FIXTURES=$D start_fixture inl
	expect_exit 0 timeout 30 "$CTRACE" -p "$FPID" --backtraces
	inlined_named "dwz by absolute name"
	[ -z "$ERR" ] || fail "dwz: unexpected warnings: $ERR"
	mv "$D/common.dwz" "$D/.dwz/common.dwz"
	expect_exit 0 timeout 30 "$CTRACE" -p "$FPID" --backtraces
	inlined_named "dwz in .dwz/"
	[ -z "$ERR" ] || fail "dwz in .dwz/: unexpected warnings: $ERR"
	# another file by that name: not used (its build-id differs), said once
	mv "$D/.dwz/common.dwz" "$D/common.dwz.good"
	cp "$D/inl2.debug" "$D/common.dwz"
	expect_exit 0 timeout 30 "$CTRACE" -p "$FPID" --backtraces
	inlined_unnamed "dwz mismatch"
	one_warning "dwz mismatch" "dwz file $D/common.dwz .*does not match it (build-id)"
	# FIFOs wherever the dwz file is looked for near the debug file
	rm "$D/common.dwz"
	mkfifo "$D/common.dwz" "$D/.dwz/common.dwz"
	expect_exit 0 timeout 30 "$CTRACE" -p "$FPID" --backtraces
	inlined_unnamed "dwz FIFO"
	one_warning "dwz FIFO" "$D/common.dwz is not a regular file"
	assert_not_traced "$FPID"
	kill -KILL "$FPID"; wait "$FPID" 2>/dev/null
else
	skip_case "8. a dwz file" "dwz is not installed (make deps installs it)"
fi

# 6. a module gone from disk that cannot be reopened (no CAP_SYS_ADMIN for map_files)
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod 755 "$TMP" "$B"
	cp "$FIXTURES/chain" "$B/chain"
	FIXTURES=$B FIXTURE_WRAP="setpriv --reuid=65534 --regid=65534 --clear-groups" start_fixture chain
	GPID=$FPID
	rm "$B/chain"
	expect_exit 0 setpriv --reuid=65534 --regid=65534 --clear-groups "$CTRACE" -p "$GPID" --backtraces
	printf '%s\n' "$OUT" | grep -Eq ' in __libc_pause\+0x[0-9a-f]+ \(libc\.so\.6\)' || fail "vanished: libc frame lost: $OUT"
	printf '%s\n' "$OUT" | grep -q '(chain (deleted))' || fail "vanished: module not marked deleted: $OUT"
	one_warning vanished "$B/chain: deleted from disk"
	assert_not_traced "$GPID"
else
	skip_case "6. a module gone from disk" "it needs root and setpriv(1) to inspect as another user"
fi
exit 0
