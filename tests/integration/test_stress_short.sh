# Short form of `make stress` (issue 8), for every mode (--backtraces, --threads, --memory,
# --profile with both samplers): ctrace SIGKILLed and SIGTERMed mid-run (no thread left traced, the
# target progresses, no real-time signal lost but for the kernel's documented case) and the target
# dying mid-run (SIGKILL, exit, exec, fork-and-exit: ctrace exits 0, 1 with a message, or 2, never
# hangs).
STRESS_PARTS="kill die" STRESS_KILL_N=4 STRESS_TERM_N=2 STRESS_DIE_N=1 STRESS_PROFILE_SECS=0.3 \
	exec sh "$TOP/tests/stress/stress.sh"
