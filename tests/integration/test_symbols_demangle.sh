# C++ and Rust frames are demangled (libiberty); --no-demangle keeps linker names.
. "$TOP/tests/integration/lib.sh"
need_ptrace

start_fixture cxx
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces
for want in 'shop::Cart<int>::wait(int)' 'void shop::detail::visit<shop::Cart<int> >(shop::Cart<int>&)' \
	'shop::run(std::vector<int, std::allocator<int> > const&)'; do
	printf '%s\n' "$OUT" | grep -qF " in $want+0x" || fail "no frame '$want' in: $OUT"
done
# the order is the call chain, innermost first
printf '%s\n' "$OUT" | grep -o 'shop::[a-zA-Z:]*' | tr '\n' ' ' |
	grep -q 'shop::Cart.*shop::detail::visit.*shop::run' || fail "C++ frames out of order: $OUT"

expect_exit 0 "$CTRACE" -p "$FPID" --backtraces --no-demangle
printf '%s\n' "$OUT" | grep -qF ' in _ZN4shop4CartIiE4waitEi+0x' || fail "--no-demangle shows: $OUT"
printf '%s\n' "$OUT" | grep -qF 'shop::Cart' && fail "--no-demangle still demangles: $OUT"

expect_exit 0 "$CTRACE" -p "$FPID" --backtraces --format json
printf '%s\n' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
names = [f["function"] for t in d["threads"] for f in t["frames"]]
assert "shop::Cart<int>::wait(int)" in names, names
' || fail "JSON lacks the demangled name"
assert_not_traced "$FPID"

if [ ! -x "$FIXTURES/rusty" ]; then
	skip_case "Rust names" "no Rust fixture (rustc not installed: make deps)"
	exit 0
fi
start_fixture rusty
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces
for want in 'rusty::warehouse::Shelf<T>::wait' 'rusty::warehouse::visit' 'rusty::main'; do
	printf '%s\n' "$OUT" | grep -qF " in $want+0x" || fail "no Rust frame '$want' in: $OUT"
done
printf '%s\n' "$OUT" | grep -q ' in _ZN5rusty' && fail "a Rust name is still mangled: $OUT"
assert_not_traced "$FPID"
exit 0
