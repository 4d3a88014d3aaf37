# make rpm builds packaging/rpm/ctrace.spec with rpmbuild -bb; the RPM declares its libraries,
# and its ctrace, unpacked with rpm2archive into a temporary root, runs --version and a capture.
. "$TOP/tests/integration/lib.sh"
command -v rpmbuild >/dev/null || skip "rpmbuild is missing: make pkg-deps installs it, to test make rpm"
out="$TMP/b"
env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -C "$TOP" --no-print-directory rpm BUILD="$out" >"$TMP/rpm.log" 2>&1 ||
	fail "make rpm failed: $(tail -n 20 "$TMP/rpm.log")"
rpm=$(ls "$out"/rpm/RPMS/x86_64/ctrace-[0-9]*.rpm 2>/dev/null | head -n 1)
[ -f "$rpm" ] || fail "make rpm made no ctrace RPM: $(tail -n 5 "$TMP/rpm.log")"
note "built $(basename "$rpm")"
ver=$(sed -n 's/^VERSION := //p' "$TOP/Makefile")
[ "$(rpm -qp --qf '%{VERSION}' "$rpm")" = "$ver" ] || fail "RPM version is not the Makefile's $ver"
req=$(rpm -qp --requires "$rpm")
# libunwind by name: ctrace loads it with dlopen() (--unwinder libunwind), which rpm does not see
for lib in libdw.so.1 libunwind libjson-c.so; do
	echo "$req" | grep -q "$lib" || fail "RPM Requires lacks $lib: $req"
done
files=$(rpm -qpl "$rpm")
for f in /usr/bin/ctrace /usr/share/bash-completion/completions/ctrace; do
	echo "$files" | grep -qx "$f" || fail "RPM lacks $f: $files"
done
echo "$files" | grep -q '^/usr/share/man/man1/ctrace\.1' || fail "RPM lacks the man page: $files"
if ! command -v rpm2archive >/dev/null; then
	skip_case "the RPM's ctrace runs" "rpm2archive is missing to unpack the RPM"
	exit 0
fi
mkdir -p "$TMP/root"
rpm2archive - <"$rpm" | tar -xzf - -C "$TMP/root" || fail "cannot unpack $rpm"
bin="$TMP/root/usr/bin/ctrace"
expect_exit 0 "$bin" --version
echo "$OUT" | grep -q "^ctrace $ver (git [0-9a-f]\{7,\})" || fail "RPM's --version says: $OUT"
need_ptrace
start_fixture chain
expect_exit 0 "$bin" -p "$FPID" --backtraces
for f in f3 f2 f1 f0 main; do
	echo "$OUT" | grep -q " $f" || fail "RPM's ctrace backtrace lacks $f: $OUT"
done
assert_not_traced "$FPID"
echo "RPM builds, declares its libraries, and its ctrace captures"
