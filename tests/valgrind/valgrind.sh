# make valgrind: memcheck on ctrace's own runs against fixtures (issue 8). Fails on any invalid
# access or use of uninitialised memory, and on any "definitely lost" block; prints the summary
# of each run. Run through make (it sets CTRACE, FIXTURES, TOP).
. "$TOP/tests/integration/lib.sh"
command -v valgrind >/dev/null || skip "valgrind is not installed (make deps)"
need_ptrace

# Runs under memcheck, one per line: a name, then ctrace's arguments after -p PID.
RUNS='backtraces --backtraces
backtraces-json --backtraces --format json
backtraces-libunwind --backtraces --unwinder libunwind
threads --threads --snapshots 2 --interval 50
threads-json --threads --snapshots 2 --interval 50 --format json'

start_fixture threads 3
bad=0
echo "$RUNS" > "$TMP/runs"
while read -r name args; do
	log="$TMP/vg.$name"
	# shellcheck disable=SC2086 # args is a word list on purpose
	valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
		--errors-for-leak-kinds=definite --track-origins=yes --log-file="$log" \
		"$CTRACE" -p "$FPID" --timeout 60 $args >"$TMP/out.$name" 2>"$TMP/err.$name"
	rc=$?
	errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log")
	lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log")
	inuse=$(sed -n 's/.*in use at exit: \(.*\)$/\1/p' "$log")
	total=$(sed -n 's/.*total heap usage: \(.*\)$/\1/p' "$log")
	echo "valgrind $name: exit $rc, errors ${errs:-?}, definitely lost ${lost:-0} bytes;" \
		"in use at exit ${inuse:-?}; total heap usage ${total:-?}"
	if [ $rc != 0 ] || [ "${errs:-1}" != 0 ]; then
		bad=$((bad + 1))
		grep -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall param|   (at|by) )|definitely lost' "$log" | head -40
		cat "$TMP/err.$name"
	fi
done < "$TMP/runs"
assert_not_traced "$FPID"
[ $bad = 0 ] || fail "$bad runs with memcheck errors"
echo "valgrind: no invalid access, no definite leak"
