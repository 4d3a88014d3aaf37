# Short form of `make stress` (issue 8): ctrace SIGKILLed mid-capture 10 times per mode (no thread
# left traced, the target progresses, no real-time signal lost) and the target dying mid-capture
# (SIGKILL, exit, exec, fork-and-exit: ctrace exits 0, 1 with a message, or 2, never hangs).
STRESS_PARTS="kill die" STRESS_KILL_N=10 STRESS_DIE_N=2 exec sh "$TOP/tests/stress/stress.sh"
