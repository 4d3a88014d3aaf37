# make deb builds a Debian package; lintian finds no error in it; unpacked with dpkg -x into a
# temporary root (the system is not touched), its ctrace runs --version and a real capture.
. "$TOP/tests/integration/lib.sh"
command -v dpkg-buildpackage >/dev/null || skip "dpkg-buildpackage is missing: make pkg-deps installs it, to test make deb"
command -v dh >/dev/null || skip "debhelper is missing: make pkg-deps installs it, to test make deb"
out="$TMP/b"
env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -C "$TOP" --no-print-directory deb BUILD="$out" \
	DEB_BUILD_OPTS="nocheck parallel=2 noautodbgsym" >"$TMP/deb.log" 2>&1 ||
	fail "make deb failed: $(tail -n 20 "$TMP/deb.log")"
deb=$(ls "$out"/deb/ctrace_*_amd64.deb 2>/dev/null | head -n 1)
[ -f "$deb" ] || fail "make deb made no ctrace_*.deb: $(tail -n 5 "$TMP/deb.log")"
note "built $(basename "$deb")"

ver=$(sed -n 's/^VERSION := //p' "$TOP/Makefile")
dver=$(dpkg-deb -f "$deb" Version)
[ "${dver%-*}" = "$ver" ] || fail "package version $dver does not match the Makefile's VERSION $ver"
deps=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libdw1 libunwind8 libjson-c; do
	echo "$deps" | grep -q "$lib" || fail "Depends lacks $lib: $deps"
done
[ "$(dpkg-deb -f "$deb" Recommends)" = libc6-dbg ] || fail "Recommends: $(dpkg-deb -f "$deb" Recommends)"
dpkg-deb -c "$deb" | grep -q '^-rws' && fail "the package ships a set-uid file"

if command -v lintian >/dev/null; then
	lintian "$deb" >"$TMP/lintian" 2>&1
	grep '^E:' "$TMP/lintian" && fail "lintian reports errors: $(cat "$TMP/lintian")"
	note "lintian: $(grep -c '^[EW]:' "$TMP/lintian") warnings or errors, none E:"
else
	skip_case "lintian" "lintian is not installed: the package is not linted (make pkg-deps)"
fi

root="$TMP/root"
dpkg -x "$deb" "$root" || fail "dpkg -x failed"
for f in usr/bin/ctrace usr/share/man/man1/ctrace.1.gz usr/share/bash-completion/completions/ctrace \
	usr/share/doc/ctrace/copyright; do
	[ -f "$root/$f" ] || fail "the package lacks /$f"
done
bin="$root/usr/bin/ctrace"
expect_exit 0 "$bin" --version
echo "$OUT" | grep -q "^ctrace $ver (git [0-9a-f]\{7,\})" || fail "packaged --version says: $OUT"
need_ptrace
start_fixture chain
expect_exit 0 "$bin" -p "$FPID" --backtraces
for f in f3 f2 f1 f0 main; do
	echo "$OUT" | grep -q " $f" || fail "packaged ctrace's backtrace lacks $f: $OUT"
done
assert_not_traced "$FPID"
echo "package builds, lints, installs into a root and captures"
