# The vdso and the signal trampoline are named ([vdso], __restore_rt) and unwinding continues through
# them; code with neither CFI nor a frame pointer ends the stack with a marker, never a loop.
. "$TOP/tests/integration/lib.sh"
need_ptrace

# vdso: a thread in clock_gettime is caught in the vdso in some captures; retry a bounded number
# (inside or not is told by frame 0's pc against the [vdso] mapping, not by ctrace's own label)
start_fixture vdsospin
vdso=$(awk '$6 == "[vdso]" { print $1 }' /proc/$FPID/maps)
[ -n "$vdso" ] || fail "vdsospin has no [vdso] mapping"
found=""
for try in $(seq 1 40); do
	expect_exit 0 "$CTRACE" -p "$FPID" --backtraces
	pc=$(printf '%s\n' "$OUT" | sed -n '4s/^ *#0 *\(0x[0-9a-f]*\) .*/\1/p')
	[ -n "$pc" ] || fail "no frame #0 on line 4: $OUT"
	if [ $((pc >= 0x${vdso%-*} && pc < 0x${vdso#*-})) = 1 ]; then found=1; break; fi
done
if [ -n "$found" ]; then
	printf '%s\n' "$OUT" | sed -n '4p' | grep -q '(\[vdso\])' || fail "frame 0 at $pc is in the vdso ($vdso), not labelled [vdso]: $OUT"
	# named as gdb names it: of the aliases clock_gettime and __vdso_clock_gettime, the one gdb picks
	printf '%s\n' "$OUT" | grep -Eq ' in clock_gettime\+0x[0-9a-f]+ \(\[vdso\]\)' || fail "vdso frame not named clock_gettime: $OUT"
	for f in spin_clock main; do
		printf '%s\n' "$OUT" | grep -Eq " in $f\+0x[0-9a-f]+ \(vdsospin\)" || fail "unwinding stopped in the vdso (no $f): $OUT"
	done
	expect_exit 0 "$CTRACE" -p "$FPID" --backtraces --format json
	printf '%s\n' "$OUT" | python3 -c '
import json, sys
fr = json.load(sys.stdin)["threads"][0]["frames"]
mods = [f["module"] for f in fr]
assert not any(m and m.startswith("[vdso:") for m in mods), mods
	' || fail "JSON module of the vdso is not \"[vdso]\": $OUT"
else
	skip_case "the vdso" "the thread was never caught inside the vdso in 40 captures"
fi
assert_not_traced "$FPID"

# signal trampoline: handler -> __restore_rt -> the interrupted code -> main
start_fixture sighandler
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces
printf '%s\n' "$OUT" | grep -o ' in [A-Za-z_0-9]*' | tr '\n' ' ' |
	grep -q 'in_handler.* handler.* __restore_rt.* main' || fail "no unwinding through __restore_rt: $OUT"
assert_not_traced "$FPID"

# no CFI, garbage frame pointer: frame 0 named, then a marker; the other thread is whole
start_fixture nocfi
for u in libdw fp; do
	expect_exit 0 "$CTRACE" -p "$FPID" --backtraces --unwinder $u
	block=$(printf '%s\n' "$OUT" | awk '/R \(running\)/ {p=1} p && /^$/ {exit} p')
	printf '%s\n' "$block" | grep -Eq '#0 .* in asm_spin_nocfi\+0x[0-9a-f]+ \(nocfi\)' || fail "$u: frame 0 not asm_spin_nocfi: $OUT"
	n=$(printf '%s\n' "$block" | grep -c '^  #')
	[ "$n" -le 3 ] || fail "$u: $n frames past code without CFI (garbage?): $block"
	printf '%s\n' "$block" | grep -q '(backtrace stopped: ' || fail "$u: no marker where unwinding stopped: $block"
done
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces
printf '%s\n' "$OUT" | grep -Eq ' in main\+0x[0-9a-f]+ \(nocfi\) nocfi\.c' || fail "the main thread is not whole: $OUT"
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces --format json
printf '%s\n' "$OUT" | python3 -c '
import json, sys
for t in json.load(sys.stdin)["threads"]:
    if t["frames"] and t["frames"][0]["function"] == "asm_spin_nocfi":
        assert t["truncated"], t
        break
else:
    raise SystemExit("no asm_spin_nocfi thread")
' || fail "JSON: the thread in code without CFI is not marked truncated: $OUT"
assert_not_traced "$FPID"
exit 0
