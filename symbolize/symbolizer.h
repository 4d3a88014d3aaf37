/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PC -> module, function+offset, file:line and inline chain, with libdw/libelf.
 * One symbolizer per target process; each module is opened and parsed once and serves every thread
 * and every sample. Never used while a target thread is stopped. */
#ifndef CT_SYMBOLIZER_H
#define CT_SYMBOLIZER_H

#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/model.h"
#include "lib/procfs.h"

struct ct_sym_opts {
	const char *debug_dirs; /* extra debug directories, ':'-separated, searched before the defaults */
	bool no_inlines;
	bool no_demangle;  /* keep C++/Rust names as the linker sees them */
	bool debuginfod;   /* ask DEBUGINFOD_URLS servers for missing debug files (off by default) */
	unsigned debuginfod_timeout_ms; /* all downloads of one symbolizer together; 0: 10 s */
};

struct ct_symbolizer;

/* Reads the target's module list from /proc/PID/maps (nothing is stopped; ELF files open lazily). */
int ct_sym_open(pid_t pid, const struct ct_sym_opts *o, struct ct_symbolizer **ret);
void ct_sym_close(struct ct_symbolizer *s);
/* A symbolizer over one ELF file open at fd (not taken: the caller closes it), loaded at base as
 * module name, with no process behind it: for tests and fuzzing of ctrace's use of libdw on a file it
 * does not trust. Separate debug files come only from o->debug_dirs. 0, -ENOEXEC, -ENOMEM. */
int ct_sym_open_elf(int fd, const char *name, uint64_t base, const struct ct_sym_opts *o,
		    struct ct_symbolizer **ret);
/* A symbolizer over a core file (core/): libdwfl reports its modules from the core's notes and
 * link_map (dwfl_core_file_report), with build-ids from its memory. A module's file is opened from
 * sysroot (NULL: "/") at the path the core names, or exe for the executable (the core's exe_path),
 * or by build-id under the debug directories; a file whose build-id differs from the core's is
 * refused and said once. Separate debug files are found as for a live process (and under
 * SYSROOT/usr/lib/debug). maps: the core's mappings (taken over, freed on close); elf: the core,
 * kept open by the caller until ct_sym_close. 0, -ENOEXEC (libdwfl cannot read the core), -ENOMEM. */
int ct_sym_open_core(Elf *elf, pid_t pid, struct ct_proc_map *maps, size_t nmaps, const char *exe,
		     const char *exe_path, const char *sysroot, const struct ct_sym_opts *o,
		     struct ct_symbolizer **ret);
/* The core a symbolizer was opened on (for libdw's unwinder), or NULL for a live process. */
Elf *ct_sym_core(struct ct_symbolizer *s);
/* For a core with --exe: whether the executable's build-id matches the core's main module; 1 yes,
 * 0 it differs (*ret_why says how), -ENOENT when it cannot be told (no build-id). */
int ct_sym_check_exe(struct ct_symbolizer *s, char **ret_why);
Dwfl *ct_sym_dwfl(struct ct_symbolizer *s);
pid_t ct_sym_pid(struct ct_symbolizer *s);
/* The module mapped from path (as /proc/PID/maps names it), or NULL. */
Dwfl_Module *ct_sym_module(struct ct_symbolizer *s, const char *path);
/* True when addr lies in an executable mapping of the target (as mapped when opened). */
bool ct_sym_is_exec(struct ct_symbolizer *s, uint64_t addr);
/* True when addr lies in a readable, writable mapping; *ret_end is that mapping's end. */
bool ct_sym_is_stack(struct ct_symbolizer *s, uint64_t addr, uint64_t *ret_end);
/* The process's mappings as read when the symbolizer was opened (sorted by address; NULL for an ELF
 * file's symbolizer). */
const struct ct_proc_map *ct_sym_maps(struct ct_symbolizer *s, size_t *ret_n);

/* Appends the frames for pc to t: the inline chain innermost first, then the function that holds it.
 * File-backed code is looked up once per run: every symbolizer open at the same time shares the
 * frames by (device, inode, file offset), so threads, samples and processes mapping the same file
 * (pre-fork workers) do not open and parse its debug info again.
 * activation: pc is exact (frame 0, or interrupted by a signal); otherwise it is a return address and
 * pc-1 is looked up. Returns the number of frames appended or -ENOMEM. */
int ct_sym_frames(struct ct_symbolizer *s, uint64_t pc, bool activation, struct ct_thread *t);

struct ct_sym_stats {
	uint64_t lookups;     /* ct_sym_frames calls */
	uint64_t shared_hits; /* answered from frames another thread, sample or process already had named */
	uint64_t modules;     /* modules listed (the target's mapped files, vdso) */
	uint64_t elf_opened;  /* of those, whose ELF file was looked for (a pc, CFI or symbol needed it) */
	uint64_t debug_looked;/* separate debug files looked for */
	uint64_t open_ns;     /* time spent finding and opening those files */
	uint64_t store_files; /* files whose frames came from the on-disk cache (framestore.h), all
			       * symbolizers of the run */
	uint64_t store_entries; /* and the looked-up pcs loaded from it */
};
void ct_sym_get_stats(struct ct_symbolizer *s, struct ct_sym_stats *ret);

/* Frames for functions that tail-called their way from the caller's call to the callee, inferred,
 * as gdb does, from DWARF call-site records (only when the chain is unique). Call between the frames
 * of callee_pc and caller_pc (a return address). Returns the number of frames appended, or -ENOMEM. */
int ct_sym_tailcalls(struct ct_symbolizer *s, uint64_t callee_pc, bool callee_activation, uint64_t caller_pc,
		     struct ct_thread *t);

/* One line per module whose symbols could not be read ("libfoo.so: no ELF: …"), each said once.
 * Returns the next warning not yet taken, or NULL. */
const char *ct_sym_next_warning(struct ct_symbolizer *s);

/* The name shown for a raw symbol or DWARF linkage name: without "@VERSION", demangled (C++, Rust)
 * when demangle is set. Returns a malloc'd string, or NULL (raw NULL or empty, or ENOMEM). */
char *ct_sym_display_name(const char *raw, bool demangle);

#endif
