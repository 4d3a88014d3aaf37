/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdint.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/banned.h"

const char ct_usage_text[] =
	"Usage: ctrace -p PID --backtraces [OPTIONS]\n"
	"       ctrace -p PID --threads [--snapshots N] [--interval MS] [--fail-on WHAT] [--idle FUNC]\n"
	"              [OPTIONS]\n"
	"       ctrace -p PID --memory [--watch SECS [-d SECS]] [OPTIONS]\n"
	"       ctrace --core CORE [--exe PATH] [--sysroot DIR] --backtraces | --threads | --memory\n"
	"              [OPTIONS]\n"
	"       ctrace -p PID --memory --sites [-d SECS] [-r N] [OPTIONS]\n"
	"       ctrace analyze [--format FORMAT] [--fail-on WHAT] [--idle FUNC] [-o FILE] FILE... | -\n"
	"       ctrace -p PID [-p PID…] [--children] --profile [-d SECS] [-r HZ] [--tid TID]\n"
	"              [--per-thread] [OPTIONS]\n"
	"       ctrace -p PID [-p PID…] [--children] --top [-d SECS] [-r HZ] [--tid TID] [OPTIONS]\n"
	"       ctrace merge [--format FORMAT] [-o FILE] FILE... | -\n"
	"       ctrace [MODE] --help | --version\n"
	"\n"
	"Inspect a live process without stopping it for more than a register and stack copy.\n"
	"\n"
	"Modes:\n"
	"  --backtraces           every thread's stack, symbolized, once\n"
	"  --threads              stuck threads: groups of stacks, blocked on what, spinning, deadlocks\n"
	"  --memory               where the memory is, and what malloc holds (no thread is stopped)\n"
	"  analyze FILE... | -    the --threads analysis of saved dumps: gdb, eu-stack, pstack, jstack,\n"
	"                         py-spy or ctrace output (- reads standard input)\n"
	"  --profile              sample stacks until Ctrl-C or -d; flame graph output\n"
	"  --top                  a live view of the functions on the CPU, refreshed every second (keys:\n"
	"                         ? lists them); a plain table each second when stdout is not a terminal\n"
	"  merge FILE... | -      sum profiles of several processes or hosts into one: folded, pprof\n"
	"                         or speedscope files (told by content), written in their format or\n"
	"                         in --format folded, pprof or speedscope\n"
	"\n"
	"Options:\n"
	"  -p, --pid PID          the process to inspect\n"
	"      --core CORE        a core file instead of a process (post-mortem; also zstd, lz4 and\n"
	"                         apport cores): --backtraces, --threads or --memory\n"
	"      --exe PATH         --core: the program that dumped it (default: the path in the core)\n"
	"      --sysroot DIR      --core: find the core's modules under DIR (another machine's files)\n"
	"      --tid TID          only this thread of the process\n"
	"  -f, --format FORMAT    text (default) or json (--sites and merge: see there)\n"
	"  -o, --output FILE      write the report to FILE (replaced atomically) instead of stdout\n"
	"      --timeout SECS     give up and release the target after SECS (default 5)\n"
	"      --stack-bytes N    bytes of stack copied per thread (default 65536)\n"
	"      --unwinder NAME    libdw (default), libunwind or fp\n"
	"      --max-frames N     frames per thread at most (default 256)\n"
	"      --debug-dir DIR    also look for separate debug files in DIR\n"
	"      --no-inlines       do not expand inlined calls into frames\n"
	"      --no-demangle      show C++ and Rust names as the linker sees them\n"
	"      --no-interp        native frames only: no Python or Ruby frames (PYTHON, RUBY in ctrace(1))\n"
	"      --debuginfod       download missing debug files from DEBUGINFOD_URLS (off by default)\n"
	"      --always-stop      stop every thread: none read without a stop (see SAFETY in ctrace(1))\n"
	"      --no-bpf           load no BPF program: threads off a CPU are stopped, not read from the\n"
	"                         registers the kernel saved (see SAFETY in ctrace(1))\n"
	"      --snapshots N      --threads: snapshots to compare (default 3)\n"
	"      --interval MS      --threads: milliseconds between snapshots (default 500)\n"
	"      --fail-on WHAT     --threads, analyze: exit 3 when a deadlock (WHAT=deadlock) or a\n"
	"                         stuck or spinning thread (WHAT=stuck) is found\n"
	"      --idle FUNC        --threads, analyze: a thread waiting under a function matching FUNC (a glob,\n"
	"                         repeatable) is idle, not blocked\n"
	"      --top N            --memory: mapping groups (--sites: sites) listed (default 15)\n"
	"      --no-arenas        --memory: skip reading malloc's arenas and Python's (level 1 only)\n"
	"      --watch SECS       --memory: a row every SECS until Ctrl-C or -d, then what grew\n"
	"      --inject           --memory: call jemalloc's or tcmalloc's statistics function inside\n"
	"                         the process (stops one thread for milliseconds; see ctrace(1))\n"
	"  -d, --duration SECS    --watch, --sites: stop after SECS\n"
	"      --sites            --memory: who allocates: call stacks of malloc, calloc, realloc …\n"
	"                         by uprobes (root or CAP_PERFMON), weighted by bytes requested;\n"
	"                         until Ctrl-C or -d; text (top sites), folded (default when stdout\n"
	"                         is not a terminal), svg, speedscope, pprof or json\n"
	"  -r, --rate N           --sites: sample 1 call in N per thread and function (default 1)\n"
	"\n"
	"Profile options (--profile, --top):\n"
	"  -d, --duration SECS    stop after SECS (default: until Ctrl-C, SIGTERM or the target exits)\n"
	"  -r, --rate HZ          samples per second per thread, 1 to 10000 (default 99)\n"
	"      --sampler NAME     perf (default; falls back to ptrace when refused) or ptrace\n"
	"      --mode MODE        cpu (default: threads on CPU) or wall (every thread; ptrace sampler)\n"
	"      --per-pid          root frame NAME-PID, to tell processes with one name apart\n"
	"      --children         also every descendant process, followed as it is forked\n"
	"      --per-thread       a frame THREADNAME-TID under the process frame\n"
	"      --no-lines         Python and Ruby frames by function (name (file)), not by line\n"
	"      --tid TID          profile only this thread of the process\n"
	"  -f, --format FORMAT    folded (default when stdout is not a terminal), svg, speedscope,\n"
	"                         pprof, json or text (top functions)\n"
	"      --stack-bytes N    user stack copied per sample (default 16384)\n"
	"\n"
	"  -v, --verbose          say more on stderr\n"
	"  -h, --help             show this help\n"
	"  -V, --version          show version and enabled backends\n"
	"\n"
	"An option given to a mode that would ignore it is a usage error (see OPTIONS in ctrace(1));\n"
	"ctrace MODE --help (e.g. ctrace --threads --help) lists only that mode's options.\n"
	"\n"
	"Exit status: 0 success, 1 target-side failure, 2 partial result, 3 --fail-on condition found,\n"
	"64 usage error.\n";

enum {
	OPT_BACKTRACES = 256, OPT_TID, OPT_TIMEOUT, OPT_STACK_BYTES, OPT_UNWINDER, OPT_MAX_FRAMES,
	OPT_DEBUG_DIR, OPT_NO_INLINES, OPT_ALWAYS_STOP, OPT_NO_BPF, OPT_NO_INTERP, OPT_NO_LINES,
	OPT_THREADS = 400, OPT_SNAPSHOTS, OPT_INTERVAL, OPT_FAIL_ON, OPT_IDLE,
	OPT_MEMORY, OPT_WATCH, OPT_TOP, OPT_NO_ARENAS, OPT_INJECT = 450,
	OPT_NO_DEMANGLE = 500, OPT_DEBUGINFOD,
	OPT_PROFILE, OPT_SAMPLER, OPT_MODE, OPT_PER_PID, OPT_CHILDREN, OPT_PER_THREAD,
	OPT_SITES = 600, OPT_TOP_MODE,
	OPT_CORE = 700, OPT_EXE, OPT_SYSROOT,
};

static const struct option long_options[] = {
	{ "backtraces", no_argument, NULL, OPT_BACKTRACES },
	{ "pid", required_argument, NULL, 'p' },
	{ "tid", required_argument, NULL, OPT_TID },
	{ "format", required_argument, NULL, 'f' },
	{ "output", required_argument, NULL, 'o' },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "stack-bytes", required_argument, NULL, OPT_STACK_BYTES },
	{ "unwinder", required_argument, NULL, OPT_UNWINDER },
	{ "max-frames", required_argument, NULL, OPT_MAX_FRAMES },
	{ "debug-dir", required_argument, NULL, OPT_DEBUG_DIR },
	{ "no-inlines", no_argument, NULL, OPT_NO_INLINES },
	{ "no-interp", no_argument, NULL, OPT_NO_INTERP },
	{ "no-lines", no_argument, NULL, OPT_NO_LINES },
	{ "always-stop", no_argument, NULL, OPT_ALWAYS_STOP },
	{ "no-bpf", no_argument, NULL, OPT_NO_BPF },
	{ "threads", no_argument, NULL, OPT_THREADS },
	{ "snapshots", required_argument, NULL, OPT_SNAPSHOTS },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
	{ "idle", required_argument, NULL, OPT_IDLE },
	{ "memory", no_argument, NULL, OPT_MEMORY },
	{ "watch", required_argument, NULL, OPT_WATCH },
	{ "top", optional_argument, NULL, OPT_TOP },
	{ "no-arenas", no_argument, NULL, OPT_NO_ARENAS },
	{ "inject", no_argument, NULL, OPT_INJECT },
	{ "duration", required_argument, NULL, 'd' },
	{ "no-demangle", no_argument, NULL, OPT_NO_DEMANGLE },
	{ "debuginfod", no_argument, NULL, OPT_DEBUGINFOD },
	{ "profile", no_argument, NULL, OPT_PROFILE },
	{ "rate", required_argument, NULL, 'r' },
	{ "sampler", required_argument, NULL, OPT_SAMPLER },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "per-pid", no_argument, NULL, OPT_PER_PID },
	{ "children", no_argument, NULL, OPT_CHILDREN },
	{ "per-thread", no_argument, NULL, OPT_PER_THREAD },
	{ "sites", no_argument, NULL, OPT_SITES },
	{ "core", required_argument, NULL, OPT_CORE },
	{ "exe", required_argument, NULL, OPT_EXE },
	{ "sysroot", required_argument, NULL, OPT_SYSROOT },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* Which modes each option means something in. An option given to a mode that would ignore it is a
 * usage error, not silence: `--backtraces --snapshots 2` or `--threads -r 99` says what the user
 * thinks will happen and it would not. Options every mode takes (-p is checked per mode, -f, -o,
 * -v) are not listed. --memory --sites counts as a mode of its own. */
enum {
	M_BT = 1 << 0, M_TH = 1 << 1, M_MEM = 1 << 2, M_SITES = 1 << 3, M_PROF = 1 << 4, M_AN = 1 << 5,
	M_MERGE = 1 << 6, M_TOP = 1 << 7,
	M_STACKS = M_BT | M_TH | M_PROF | M_SITES | M_TOP, /* modes that unwind and symbolize stacks */
	M_ALL = M_BT | M_TH | M_MEM | M_SITES | M_PROF | M_AN | M_MERGE | M_TOP,
};

static const struct {
	int code;
	const char *name;
	unsigned modes;
} option_modes[] = {
	/* analyze, --threads and --memory --sites refuse --tid with their own reason */
	{ OPT_TID, "--tid", M_BT | M_PROF | M_MEM | M_TH | M_SITES | M_AN | M_TOP },
	{ OPT_TIMEOUT, "--timeout", M_BT | M_TH | M_PROF | M_MEM | M_TOP },
	{ OPT_STACK_BYTES, "--stack-bytes", M_STACKS },
	{ OPT_UNWINDER, "--unwinder", M_STACKS },
	{ OPT_MAX_FRAMES, "--max-frames", M_STACKS },
	{ OPT_DEBUG_DIR, "--debug-dir", M_STACKS | M_MEM },
	{ OPT_NO_INLINES, "--no-inlines", M_STACKS },
	{ OPT_NO_INTERP, "--no-interp", M_BT | M_TH | M_PROF | M_TOP },
	{ OPT_NO_LINES, "--no-lines", M_PROF | M_TOP },
	{ OPT_NO_DEMANGLE, "--no-demangle", M_STACKS },
	{ OPT_DEBUGINFOD, "--debuginfod", M_STACKS },
	{ OPT_ALWAYS_STOP, "--always-stop", M_BT | M_TH | M_PROF | M_TOP },
	{ OPT_NO_BPF, "--no-bpf", M_BT | M_TH },
	{ OPT_SNAPSHOTS, "--snapshots", M_TH },
	{ OPT_INTERVAL, "--interval", M_TH },
	{ OPT_FAIL_ON, "--fail-on", M_TH | M_AN },
	{ OPT_IDLE, "--idle", M_TH | M_AN },
	{ OPT_WATCH, "--watch", M_MEM },
	{ OPT_TOP, "--top", M_MEM | M_SITES },
	{ OPT_NO_ARENAS, "--no-arenas", M_MEM },
	{ OPT_INJECT, "--inject", M_MEM },
	{ OPT_SITES, "--sites", M_SITES },
	{ 'd', "-d", M_PROF | M_SITES | M_MEM | M_TOP },
	{ 'r', "-r", M_PROF | M_SITES | M_TOP },
	{ OPT_SAMPLER, "--sampler", M_PROF | M_TOP },
	{ OPT_MODE, "--mode", M_PROF | M_TOP },
	{ OPT_PER_PID, "--per-pid", M_PROF },
	{ OPT_CHILDREN, "--children", M_PROF | M_TOP },
	/* --top always has a thread frame under the process' (its thread filter needs it) */
	{ OPT_PER_THREAD, "--per-thread", M_PROF },
	/* --top writes no report: it shows a live view, or a plain table on stdout */
	{ 'f', "-f", M_ALL & ~(unsigned)M_TOP },
	{ 'o', "-o", M_ALL & ~(unsigned)M_TOP },
	{ OPT_CORE, "--core", M_BT | M_TH | M_MEM },
	{ OPT_EXE, "--exe", M_BT | M_TH | M_MEM },
	{ OPT_SYSROOT, "--sysroot", M_BT | M_TH | M_MEM },
};

/* Options about stopping or watching a live process: a core has nothing to stop and is one
 * snapshot, so they are usage errors with --core. */
static const int live_only[] = { OPT_TIMEOUT, OPT_ALWAYS_STOP, OPT_STACK_BYTES, OPT_SNAPSHOTS, OPT_INTERVAL,
				 OPT_WATCH, OPT_INJECT, 'd' };

static const char *const mode_names[] = { "--backtraces", "--threads", "--memory", "--memory --sites",
					  "--profile", "analyze", "merge", "--top" };

static unsigned mode_bit(const struct ct_env *env)
{
	switch (env->mode) {
	case CT_MODE_BACKTRACES: return M_BT;
	case CT_MODE_THREADS: return M_TH;
	case CT_MODE_MEMORY: return env->sites ? M_SITES : M_MEM;
	case CT_MODE_PROFILE: return M_PROF;
	case CT_MODE_ANALYZE: return M_AN;
	case CT_MODE_MERGE: return M_MERGE;
	case CT_MODE_TOP: return M_TOP;
	default: return 0;
	}
}

bool ct_cli_names_frames(const struct ct_env *env)
{
	return (mode_bit(env) & M_STACKS) != 0;
}

static const char sites_hint[] = "--sites goes with --memory: ctrace -p PID --memory --sites";

/* The first given option (bit i of given: option_modes[i]) that the mode ignores, as a usage
 * error naming the modes it is for and pointing at the chosen mode's --help. */
static int check_option_modes(const struct ct_env *env, uint64_t given, struct ct_buf *err)
{
	unsigned m = mode_bit(env);
	for (size_t i = 0; i < CT_ARRAY_SIZE(option_modes); i++) {
		if (!(given & (1ull << i)) || (option_modes[i].modes & m))
			continue;
		if (option_modes[i].code == OPT_SITES) {
			ct_buf_puts(err, sites_hint);
			return CT_EXIT_USAGE;
		}
		ct_buf_printf(err, "%s is for ", option_modes[i].name);
		unsigned allowed = option_modes[i].modes, n = (unsigned)__builtin_popcount(allowed), k = 0;
		for (size_t b = 0; b < CT_ARRAY_SIZE(mode_names); b++) {
			if (!(allowed & (1u << b)))
				continue;
			k++;
			ct_buf_printf(err, "%s%s", k == 1 ? "" : k == n ? " or " : ", ", mode_names[b]);
		}
		/* the chosen mode's own help lists what it does take */
		const char *mode = mode_names[__builtin_ctz(m)];
		ct_buf_printf(err, "; %s would ignore it: drop it (see ctrace %s --help)", mode, mode);
		return CT_EXIT_USAGE;
	}
	return 0;
}

/* --core against -p, the live-only options and --unwinder libunwind; --exe and --sysroot want --core. */
static int check_core_options(const struct ct_env *env, uint64_t given, struct ct_buf *err)
{
	if (!env->core) {
		if (env->exe || env->sysroot) {
			ct_buf_printf(err, "%s goes with --core CORE (a live process's files are found through /proc)",
				      env->exe ? "--exe" : "--sysroot");
			return CT_EXIT_USAGE;
		}
		return 0;
	}
	if (env->npids) {
		ct_buf_puts(err, "give a process (-p PID) or a core file (--core CORE), not both");
		return CT_EXIT_USAGE;
	}
	if (env->sites) {
		ct_buf_puts(err, "--sites probes a running process; a core has no calls to count");
		return CT_EXIT_USAGE;
	}
	for (size_t i = 0; i < CT_ARRAY_SIZE(option_modes); i++) {
		if (!(given & (1ull << i)))
			continue;
		for (size_t k = 0; k < CT_ARRAY_SIZE(live_only); k++)
			if (live_only[k] == option_modes[i].code) {
				ct_buf_printf(err, "%s is for a live process; a core is one snapshot with nothing "
					      "to stop or wait for: drop it", option_modes[i].name);
				return CT_EXIT_USAGE;
			}
	}
	if (env->unwinder == CT_UNWIND_LIBUNWIND) {
		ct_buf_puts(err, "--unwinder libunwind needs a live process (it reads /proc/PID/maps); a core "
			    "unwinds with libdw (default) or fp");
		return CT_EXIT_USAGE;
	}
	return 0;
}

static void mark_given(uint64_t *given, int code)
{
	for (size_t i = 0; i < CT_ARRAY_SIZE(option_modes); i++)
		if (option_modes[i].code == code)
			*given |= 1ull << i;
}

/* Whether arg is the N of --memory's --top N: a number (the live view, --top, takes none). */
static bool top_count(const char *arg)
{
	return arg[0] >= '0' && arg[0] <= '9';
}

/* --help's mode: the one named anywhere on the command line (before or after --help, which ends
 * parsing), or 0 when none or several are. analyze and merge were recognized before getopt. */
static unsigned help_mode(const struct ct_env *env, int argc, char **argv)
{
	if (env->mode == CT_MODE_ANALYZE)
		return M_AN;
	if (env->mode == CT_MODE_MERGE)
		return M_MERGE;
	unsigned m = 0;
	bool sites = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		sites |= strcmp(argv[i], "--sites") == 0;
		if (strcmp(argv[i], "--top") == 0 && i + 1 < argc && top_count(argv[i + 1]))
			continue; /* --memory's --top N */
		/* the option-named modes (one word: "--memory --sites" is told by sites) */
		for (size_t b = 0; b < CT_ARRAY_SIZE(mode_names); b++)
			if (mode_names[b][0] == '-' && strcmp(argv[i], mode_names[b]) == 0)
				m |= 1u << b;
	}
	if (m == M_MEM && sites)
		return M_SITES;
	return __builtin_popcount(m) == 1 ? m : 0;
}

/* The modes an entry of the help text is for. An entry is a line and the lines indented under it;
 * its section is the heading above it. Options not in option_modes are for every mode but -p,
 * which analyze and merge do not take. */
enum help_section { H_USAGE, H_PLAIN, H_MODES, H_OPTIONS, H_PROFILE };

/* The modes of the option named name in option_modes ("-d" and "-r" by their short name). */
static bool option_modes_of(const char *name, unsigned *ret)
{
	for (size_t i = 0; i < CT_ARRAY_SIZE(option_modes); i++)
		if (strcmp(option_modes[i].name, name) == 0) {
			*ret = option_modes[i].modes;
			return true;
		}
	return false;
}

static unsigned help_entry_modes(enum help_section sec, const char *line, size_t len)
{
	/* first match wins: "--memory --sites" before "--memory" */
	static const struct {
		const char *word;
		unsigned mode;
	} usage_words[] = { { "--memory --sites", M_SITES }, { "--memory", M_MEM }, { "--backtraces", M_BT },
			    { "--threads", M_TH }, { "--profile", M_PROF }, { "ctrace analyze", M_AN },
			    { "ctrace merge", M_MERGE }, { "--top", M_TOP } };
	const unsigned all = M_ALL;
	char name[32] = "";
	unsigned modes;
	const char *p;
	switch (sec) {
	case H_USAGE:
		for (size_t w = 0; w < CT_ARRAY_SIZE(usage_words); w++)
			if (memmem(line, len, usage_words[w].word, strlen(usage_words[w].word)))
				return usage_words[w].mode;
		return 0; /* ctrace --help | --version */
	case H_MODES:
		p = line + strspn(line, " ");
		if (strncmp(p, "--memory", 8) == 0)
			return M_MEM | M_SITES;
		for (size_t b = 0; b < CT_ARRAY_SIZE(mode_names); b++)
			if (strncmp(p, mode_names[b], strlen(mode_names[b])) == 0 &&
			    (p[strlen(mode_names[b])] == ' '))
				return 1u << b;
		return 0;
	case H_OPTIONS:
	case H_PROFILE:
		p = line + strspn(line, " ");
		size_t n = strcspn(p, ", \n");
		if (p[0] == '-' && p[1] != '-' && n == 2) {
			memcpy(name, p, 2); /* "-d, --duration": the table knows -d and -r by their short name */
			name[2] = '\0';
			if (option_modes_of(name, &modes))
				return modes;
			p += strspn(p + n, ", ") + n;
			n = strcspn(p, " \n");
		}
		if (n >= sizeof(name))
			return all;
		memcpy(name, p, n);
		name[n] = '\0';
		if (strcmp(name, "--pid") == 0)
			return all & ~(unsigned)(M_AN | M_MERGE);
		if (strcmp(name, "--tid") == 0) /* the others refuse it, with a reason of their own */
			return M_BT | M_PROF | M_MEM | M_TOP;
		return option_modes_of(name, &modes) ? modes : all;
	default:
		return all;
	}
}

/* Whether the "Profile options:" section has an entry for the long option at line (an option
 * --profile takes with a text of its own, so the general entry is left out of --profile --help). */
static bool help_profile_has(const char *text, const char *line)
{
	const char *sec = strstr(text, "\nProfile options"), *end, *opt = strstr(line, "--");
	char word[40];
	if (!sec || !opt)
		return false;
	end = strstr(sec + 1, "\n\n");
	size_t n = strcspn(opt, " \n");
	if (!end || n + 3 > sizeof(word))
		return false;
	snprintf(word, sizeof(word), " %.*s ", (int)n, opt);
	const char *q = strstr(sec, word);
	return q && q < end;
}

void ct_cli_help(const struct ct_env *env, struct ct_buf *out)
{
	const char *text = ct_usage_text;
	unsigned want = env->help_for;
	if (!want) {
		ct_buf_puts(out, text);
		return;
	}
	enum help_section sec = H_USAGE;
	bool keep = false, usage_started = false, last_blank = true;
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) + 1 : strlen(line);
		bool blank = len == 1 && line[0] == '\n';
		bool indented = strncmp(line, "        ", 8) == 0; /* a continuation of the entry above */
		if (blank) {
			if (sec == H_USAGE || sec == H_PROFILE)
				sec = H_PLAIN; /* the options after Profile options are for every mode */
			keep = !last_blank;
		} else if (strncmp(line, "Modes:", 6) == 0) {
			sec = H_MODES;
			keep = true;
		} else if (strncmp(line, "Options:", 8) == 0) {
			sec = H_OPTIONS;
			keep = true;
		} else if (strncmp(line, "Profile options", 15) == 0) {
			sec = H_PROFILE;
			keep = want == M_PROF || want == M_TOP;
		} else if (!indented) { /* an indented line keeps its entry's choice */
			if (sec == H_PLAIN) {
				keep = true;
			} else if (sec == H_PROFILE) {
				/* --top takes the profile options but --per-pid, --per-thread, -f */
				keep = want == M_PROF || (want == M_TOP && (help_entry_modes(sec, line, len) & M_TOP));
			} else {
				keep = (help_entry_modes(sec, line, len) & want) != 0;
				if (keep && sec == H_OPTIONS && (want == M_PROF || want == M_TOP))
					keep = !help_profile_has(text, line);
			}
		}
		if (keep) {
			if (sec == H_USAGE && strncmp(line, "       ctrace", 13) == 0 && !usage_started) {
				ct_buf_puts(out, "Usage:");
				ct_buf_append(out, line + 6, len - 6);
			} else {
				ct_buf_append(out, line, len);
			}
			if (sec == H_USAGE)
				usage_started = true;
			last_blank = blank;
		}
		line += len;
	}
	ct_buf_puts(out, "\nEvery mode and option: ctrace --help\n");
}

void ct_env_init(struct ct_env *env)
{
	memset(env, 0, sizeof(*env));
	env->format = CT_FMT_DEFAULT;
	env->timeout_s = 5.0;
	env->stack_bytes = 64 * 1024;
	env->unwinder = CT_UNWIND_LIBDW;
	env->max_frames = 256;
	env->snapshots = 3;
	env->interval_ms = 500;
	env->mem_top = 15;
	env->rate_hz = 99;
}

static int set_mode(struct ct_env *env, enum ct_mode m, struct ct_buf *err)
{
	if ((env->mode == CT_MODE_MEMORY && m == CT_MODE_TOP) || (env->mode == CT_MODE_TOP && m == CT_MODE_MEMORY)) {
		ct_buf_puts(err, "--top wants a number with --memory (--top N: the groups listed); --top alone is "
			    "the live view of the CPU");
		return CT_EXIT_USAGE;
	}
	if (env->mode != CT_MODE_NONE && env->mode != m && env->mode != CT_MODE_HELP &&
	    env->mode != CT_MODE_VERSION) {
		ct_buf_puts(err, "choose one mode: --backtraces, --profile, --top, --memory or --threads");
		return CT_EXIT_USAGE;
	}
	if (env->mode != CT_MODE_HELP && env->mode != CT_MODE_VERSION)
		env->mode = m;
	return 0;
}

static int parse_pid(const char *opt, const char *arg, pid_t *ret, struct ct_buf *err)
{
	long v;
	int r = ct_parse_long(arg, 1, 0x3fffffff, &v);
	if (r == -EINVAL) {
		ct_buf_printf(err, "%s wants a process ID (a positive number), got '%s'", opt, arg);
		return CT_EXIT_USAGE;
	}
	if (r < 0) {
		ct_buf_printf(err, "%s: '%s' is not a valid process ID (1 to 1073741823)", opt, arg);
		return CT_EXIT_USAGE;
	}
	*ret = (pid_t)v;
	return 0;
}

static int parse_num(const char *opt, const char *arg, long min, long max, long *ret, struct ct_buf *err)
{
	int r = ct_parse_long(arg, min, max, ret);
	if (r < 0) {
		ct_buf_printf(err, "%s wants a whole number from %ld to %ld, got '%s'", opt, min, max, arg);
		return CT_EXIT_USAGE;
	}
	return 0;
}

int ct_cli_parse(int argc, char **argv, struct ct_env *env, struct ct_buf *err)
{
	int c, r = 0;
	uint64_t given = 0;
	long v;
	double d;
	optind = 0; /* full re-initialization, so tests can parse repeatedly */
	opterr = 0;
	if (argc > 1 && strcmp(argv[1], "analyze") == 0) {
		/* "ctrace analyze FILE…": parse what follows as if "analyze" were the program name */
		env->mode = CT_MODE_ANALYZE;
		argc--;
		argv++;
	} else if (argc > 1 && strcmp(argv[1], "merge") == 0) {
		env->mode = CT_MODE_MERGE;
		argc--;
		argv++;
	}
	while ((c = getopt_long(argc, argv, ":p:f:o:d:r:vhV", long_options, NULL)) != -1) {
		const char *opt = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
		switch (c) {
		case OPT_BACKTRACES:
			r = set_mode(env, CT_MODE_BACKTRACES, err);
			break;
		case 'p':
			if (env->npids >= CT_MAX_PIDS) {
				ct_buf_printf(err, "at most %d -p options", CT_MAX_PIDS);
				return CT_EXIT_USAGE;
			}
			r = parse_pid("-p", optarg, &env->pids[env->npids], err);
			if (!r)
				env->npids++;
			break;
		case OPT_TID:
			r = parse_pid("--tid", optarg, &env->tid, err);
			break;
		case 'f':
			if (ct_format_parse(optarg, &env->format) < 0) {
				ct_buf_printf(err, "unknown format '%s' (text, json, folded, svg, speedscope, pprof)",
					      optarg);
				return CT_EXIT_USAGE;
			}
			break;
		case 'o':
			if (!*optarg) {
				ct_buf_puts(err, "-o wants a file name");
				return CT_EXIT_USAGE;
			}
			env->output = optarg;
			break;
		case OPT_TIMEOUT:
			if (ct_parse_double(optarg, 0.001, 86400, &d) < 0) {
				ct_buf_printf(err, "--timeout wants seconds from 0.001 to 86400, got '%s'", optarg);
				return CT_EXIT_USAGE;
			}
			env->timeout_s = d;
			break;
		case OPT_STACK_BYTES:
			r = parse_num("--stack-bytes", optarg, 0, 64L << 20, &v, err);
			env->stack_bytes = (size_t)v;
			env->stack_bytes_given = true;
			break;
		case OPT_UNWINDER:
			if (ct_unwinder_parse(optarg, &env->unwinder) < 0) {
				ct_buf_printf(err, "unknown unwinder '%s' (libdw, libunwind or fp)", optarg);
				return CT_EXIT_USAGE;
			}
			break;
		case OPT_MAX_FRAMES:
			r = parse_num("--max-frames", optarg, 1, 65536, &v, err);
			env->max_frames = (size_t)v;
			break;
		case OPT_DEBUG_DIR:
			env->debug_dirs = optarg;
			break;
		case OPT_NO_INLINES:
			env->no_inlines = true;
			break;
		case OPT_NO_LINES:
			env->no_lines = true;
			break;
		case OPT_NO_INTERP:
			env->no_interp = true;
			break;
		case OPT_ALWAYS_STOP:
			env->always_stop = true;
			break;
		case OPT_NO_BPF:
			env->no_bpf = true;
			break;
		case OPT_THREADS:
			r = set_mode(env, CT_MODE_THREADS, err);
			break;
		case OPT_SNAPSHOTS:
			r = parse_num("--snapshots", optarg, 1, 100, &env->snapshots, err);
			break;
		case OPT_INTERVAL:
			r = parse_num("--interval", optarg, 0, 3600 * 1000, &env->interval_ms, err);
			break;
		case OPT_FAIL_ON:
			if (strcmp(optarg, "deadlock") == 0) {
				env->fail_on = CT_FAIL_DEADLOCK;
			} else if (strcmp(optarg, "stuck") == 0) {
				env->fail_on = CT_FAIL_STUCK;
			} else {
				ct_buf_printf(err, "--fail-on wants 'deadlock' or 'stuck', got '%s'", optarg);
				return CT_EXIT_USAGE;
			}
			break;
		case OPT_IDLE:
			if (env->nidle_patterns >= CT_MAX_IDLE || !*optarg) {
				ct_buf_printf(err, "--idle wants a function name or glob, at most %d of them", CT_MAX_IDLE);
				return CT_EXIT_USAGE;
			}
			env->idle_patterns[env->nidle_patterns++] = optarg;
			break;
		case OPT_MEMORY:
			r = set_mode(env, CT_MODE_MEMORY, err);
			break;
		case OPT_WATCH:
			if (ct_parse_double(optarg, 0.1, 86400, &d) < 0) {
				ct_buf_printf(err, "--watch wants seconds from 0.1 to 86400, got '%s'", optarg);
				return CT_EXIT_USAGE;
			}
			env->watch_s = d;
			break;
		case 'd':
			if (ct_parse_double(optarg, 0.001, 31536000, &d) < 0) {
				ct_buf_printf(err, "-d wants seconds from 0.001 to 31536000, got '%s'", optarg);
				return CT_EXIT_USAGE;
			}
			env->duration_s = d;
			break;
		case OPT_PROFILE:
			r = set_mode(env, CT_MODE_PROFILE, err);
			break;
		case 'r':
			if (ct_parse_long(optarg, 1, 10000, &v) < 0) {
				ct_buf_printf(err, "-r wants a number from 1 to 10000 (Hz for --profile, 1 call in N "
					      "for --sites), got '%s'", optarg);
				return CT_EXIT_USAGE;
			}
			env->rate_hz = v;
			env->rate_given = true;
			break;
		case OPT_SAMPLER:
			if (strcmp(optarg, "perf") == 0)
				env->sampler = CT_SAMPLER_PERF;
			else if (strcmp(optarg, "ptrace") == 0)
				env->sampler = CT_SAMPLER_PTRACE;
			else {
				ct_buf_printf(err, "unknown sampler '%s' (perf or ptrace)", optarg);
				return CT_EXIT_USAGE;
			}
			break;
		case OPT_MODE:
			if (strcmp(optarg, "cpu") == 0)
				env->mode_wall = false;
			else if (strcmp(optarg, "wall") == 0)
				env->mode_wall = true;
			else {
				ct_buf_printf(err, "unknown mode '%s' (cpu or wall)", optarg);
				return CT_EXIT_USAGE;
			}
			break;
		case OPT_PER_PID:
			env->per_pid = true;
			break;
		case OPT_CHILDREN:
			env->children = true;
			break;
		case OPT_PER_THREAD:
			env->per_thread = true;
			break;
		case OPT_SITES:
			env->sites = true;
			break;
		case OPT_TOP:
			/* --top alone is the live view; --top N (or --top=N) --memory's count */
			if (!optarg && optind < argc && top_count(argv[optind]))
				optarg = argv[optind++];
			if (!optarg) {
				r = set_mode(env, CT_MODE_TOP, err);
				c = OPT_TOP_MODE; /* not the option of option_modes */
				break;
			}
			r = parse_num("--top", optarg, 1, 1000000, &v, err);
			env->mem_top = (size_t)v;
			break;
		case OPT_NO_ARENAS:
			env->no_arenas = true;
			break;
		case OPT_INJECT:
			env->inject = true;
			break;
		case OPT_NO_DEMANGLE:
			env->no_demangle = true;
			break;
		case OPT_CORE:
		case OPT_EXE:
		case OPT_SYSROOT:
			if (!*optarg) {
				ct_buf_printf(err, "%s wants a path", opt);
				return CT_EXIT_USAGE;
			}
			*(c == OPT_CORE ? &env->core : c == OPT_EXE ? &env->exe : &env->sysroot) = optarg;
			break;
		case OPT_DEBUGINFOD:
			env->debuginfod = true;
			break;
		case 'v':
			env->verbose++;
			break;
		case 'h':
			env->help_for = help_mode(env, argc, argv);
			env->mode = CT_MODE_HELP;
			return 0;
		case 'V':
			env->mode = CT_MODE_VERSION;
			return 0;
		case ':':
			ct_buf_printf(err, "option '%s' wants a value (see ctrace --help)", opt);
			return CT_EXIT_USAGE;
		case '?':
		default:
			if (optopt && optopt < 256)
				ct_buf_printf(err, "unknown option '-%c' (see ctrace --help)", optopt);
			else
				ct_buf_printf(err, "unknown option '%s' (see ctrace --help)", opt);
			return CT_EXIT_USAGE;
		}
		if (r)
			return r;
		mark_given(&given, c);
	}
	env->args = argv + optind;
	env->nargs = (size_t)(argc - optind);
	if (env->mode == CT_MODE_HELP || env->mode == CT_MODE_VERSION)
		return 0;
	if (env->mode == CT_MODE_NONE && env->sites) {
		ct_buf_puts(err, sites_hint);
		return CT_EXIT_USAGE;
	}
	if (env->mode == CT_MODE_NONE) {
		ct_buf_puts(err, "say what to do: --backtraces, --threads, --memory, --profile or --top (see ctrace "
			    "--help)");
		return CT_EXIT_USAGE;
	}
	r = check_option_modes(env, given, err);
	if (r)
		return r;
	if ((r = check_core_options(env, given, err)))
		return r;
	if (env->core) {
		if (env->nargs) {
			ct_buf_printf(err, "unexpected argument '%s' (the core is given with --core CORE)", env->args[0]);
			return CT_EXIT_USAGE;
		}
		return 0;
	}
	if (env->mode != CT_MODE_ANALYZE && env->mode != CT_MODE_MERGE) {
		if (env->nargs) {
			ct_buf_printf(err, "unexpected argument '%s' (the process is given with -p PID)",
				      env->args[0]);
			return CT_EXIT_USAGE;
		}
		if (env->npids == 0) {
			ct_buf_puts(err, "which process? give -p PID (find it with pgrep NAME)");
			return CT_EXIT_USAGE;
		}
		if (env->npids > 1 && env->mode != CT_MODE_PROFILE && env->mode != CT_MODE_TOP) {
			ct_buf_puts(err, "only --profile and --top take several -p; give one PID");
			return CT_EXIT_USAGE;
		}
	}
	return 0;
}
