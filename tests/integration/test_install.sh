# make install / make uninstall into a temporary DESTDIR; the installed binary runs and captures.
. "$TOP/tests/integration/lib.sh"
command -v make >/dev/null || skip "make is not installed"
dest="$TMP/root"
make -s -C "$TOP" BUILD="$BUILD" install PREFIX=/usr/local DESTDIR="$dest" >"$TMP/install.log" 2>&1 ||
	fail "make install failed: $(tail -n 5 "$TMP/install.log")"
bin="$dest/usr/local/bin/ctrace"
for f in bin/ctrace share/man/man1/ctrace.1 share/bash-completion/completions/ctrace; do
	[ -f "$dest/usr/local/$f" ] || fail "make install did not install /usr/local/$f"
done
[ -x "$bin" ] || fail "installed ctrace is not executable"
mode=$(stat -c %a "$bin")
[ "$mode" = 755 ] || fail "installed ctrace has mode $mode, want 755 (never set-uid)"
cmp -s "$TOP/man/ctrace.1" "$dest/usr/local/share/man/man1/ctrace.1" || fail "installed man page differs"

expect_exit 0 "$bin" --version
echo "$OUT" | grep -q "^ctrace [0-9][0-9.]* (git [0-9a-z]*)" || fail "installed --version says: $OUT"

need_ptrace
start_fixture chain
expect_exit 0 "$bin" -p "$FPID" --backtraces
for f in f3 f2 f1 f0 main; do
	echo "$OUT" | grep -q " $f" || fail "installed ctrace's backtrace lacks $f: $OUT"
done
assert_not_traced "$FPID"

if command -v man >/dev/null && man --help 2>&1 | grep -q -- --local-file; then
	MANWIDTH=80 man -l "$dest/usr/local/share/man/man1/ctrace.1" 2>/dev/null | grep -q "ctrace" ||
		fail "man -l cannot render the installed page"
else
	skip_case "man -l renders the installed page" "no man(1) with --local-file here"
fi

make -s -C "$TOP" BUILD="$BUILD" uninstall PREFIX=/usr/local DESTDIR="$dest" >"$TMP/uninstall.log" 2>&1 ||
	fail "make uninstall failed: $(tail -n 5 "$TMP/uninstall.log")"
left=$(find "$dest" -type f)
[ -z "$left" ] || fail "make uninstall left: $left"
echo "installed, ran --version and --backtraces, uninstalled"
