/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "core/core.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/inflate.h"
#include "lib/util.h"
#include "lib/banned.h"

struct ct_core {
	const uint8_t *image;
	size_t size;
	void *map;               /* what to munmap (NULL: the caller's buffer) */
	size_t map_len;
	const char *compression;
	pid_t pid;
	char comm[17];
	char *exe;
	int signal;
	pid_t signal_tid;
	uint64_t entry;          /* AT_ENTRY */
	struct ct_core_thread *threads;
	size_t nthreads, cap_threads;
	struct ct_core_segment *segs;
	size_t nsegs;
	struct ct_proc_map *files; /* NT_FILE: start, end, offset, path (owned) */
	size_t nfiles;
	uint64_t missing;
	size_t missing_segs;
	size_t last_seg;         /* the segment the last read hit (reads come in runs) */
};

/* x86_64 struct user_regs_struct index of each DWARF register (rax rdx rcx rbx rsi rdi rbp rsp
 * r8-r15 rip). */
static const uint8_t user_reg_of_dwarf[CT_NREGS] = { 10, 12, 11, 5, 13, 14, 4, 19, 9, 8, 7, 6, 3, 2, 1, 0, 16 };
enum { USER_REGS = 27, USER_ORIG_RAX = 15, USER_RDI = 14, USER_RSI = 13, USER_RDX = 12, USER_R10 = 7,
       USER_R8 = 9, USER_R9 = 8, USER_FS_BASE = 21 };
/* struct elf_prstatus on x86_64: pr_cursig at 12, pr_pid at 32, pr_reg at 112 */
enum { PRSTATUS_CURSIG = 12, PRSTATUS_PID = 32, PRSTATUS_REG = 112, PRSTATUS_SIZE = 336 };
/* struct elf_prpsinfo on x86_64: pr_pid at 24, pr_fname[16] at 40 */
enum { PRPSINFO_PID = 24, PRPSINFO_FNAME = 40, PRPSINFO_SIZE = 136 };

static int fail(char **ret_why, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char **ret_why, int err, const char *fmt, ...)
{
	struct ct_buf b = CT_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	ct_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	*ret_why = ct_buf_steal(&b);
	return err;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static int add_thread(struct ct_core *c, const uint8_t *d, size_t n)
{
	if (n < PRSTATUS_SIZE)
		return -EINVAL;
	if (c->nthreads >= CT_CORE_MAX_THREADS)
		return -E2BIG;
	if (ct_grow(&c->threads, &c->cap_threads, c->nthreads + 1, sizeof(*c->threads)) < 0)
		return -ENOMEM;
	struct ct_core_thread *t = &c->threads[c->nthreads++];
	memset(t, 0, sizeof(*t));
	int16_t sig;
	memcpy(&sig, d + PRSTATUS_CURSIG, sizeof(sig));
	t->signal = sig;
	t->tid = (pid_t)rd32(d + PRSTATUS_PID);
	const uint8_t *r = d + PRSTATUS_REG;
	for (int i = 0; i < CT_NREGS; i++)
		t->regs[i] = rd64(r + 8 * user_reg_of_dwarf[i]);
	t->orig_rax = (long)rd64(r + 8 * USER_ORIG_RAX);
	t->fs_base = rd64(r + 8 * USER_FS_BASE);
	static const uint8_t argreg[6] = { USER_RDI, USER_RSI, USER_RDX, USER_R10, USER_R8, USER_R9 };
	for (int i = 0; i < 6; i++)
		t->args[i] = rd64(r + 8 * argreg[i]);
	return 0;
}

/* NT_FILE: count, page size, count (start, end, offset in pages), then count NUL-terminated names.
 * Each entry is one file mapping; a kernel's core has a PT_LOAD for each (filesz 0 when not dumped),
 * gdb's gcore only for those it dumped. */
static int parse_nt_file(struct ct_core *c, const uint8_t *d, size_t n)
{
	if (n < 16 || c->files)
		return 0; /* malformed or a second one: the mappings stay anonymous */
	uint64_t count = rd64(d), page = rd64(d + 8);
	if (count > CT_CORE_MAX_SEGMENTS || count > (n - 16) / 24 || page == 0 || page > (1u << 30))
		return 0;
	const uint8_t *names = d + 16 + count * 24, *end = d + n;
	c->files = calloc(count ? count : 1, sizeof(*c->files));
	if (!c->files)
		return -ENOMEM;
	for (uint64_t i = 0; i < count; i++) {
		const uint8_t *z = names < end ? memchr(names, 0, (size_t)(end - names)) : NULL;
		if (!z)
			break;
		struct ct_proc_map *f = &c->files[c->nfiles];
		f->start = rd64(d + 16 + i * 24);
		f->end = rd64(d + 24 + i * 24);
		uint64_t pgoff = rd64(d + 32 + i * 24);
		const char *name = (const char *)names;
		names = z + 1;
		if (f->end <= f->start || pgoff > UINT64_MAX / page)
			continue;
		f->offset = pgoff * page;
		if (!(f->path = strndup(name, (size_t)(z - (const uint8_t *)name))))
			return -ENOMEM;
		c->nfiles++;
	}
	return 0;
}

static int map_cmp(const void *a, const void *b)
{
	const struct ct_proc_map *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Names each segment after the file mapped there. */
static void name_segments(struct ct_core *c)
{
	qsort(c->files, c->nfiles, sizeof(*c->files), map_cmp);
	for (size_t i = 0; i < c->nsegs; i++) {
		struct ct_core_segment *s = &c->segs[i];
		size_t lo = 0, hi = c->nfiles;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (c->files[mid].end <= s->vaddr)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < c->nfiles && c->files[lo].start <= s->vaddr && s->vaddr - c->files[lo].start <= UINT64_MAX - c->files[lo].offset) {
			s->path = c->files[lo].path;
			s->file_offset = c->files[lo].offset + (s->vaddr - c->files[lo].start);
		}
	}
}

static void parse_auxv(struct ct_core *c, const uint8_t *d, size_t n)
{
	for (size_t i = 0; i + 16 <= n; i += 16)
		if (rd64(d + i) == AT_ENTRY)
			c->entry = rd64(d + i + 8);
}

static int parse_notes(struct ct_core *c, const uint8_t *d, size_t n)
{
	size_t off = 0;
	int r;
	while (off + 12 <= n) {
		uint32_t namesz = rd32(d + off), descsz = rd32(d + off + 4), type = rd32(d + off + 8);
		size_t name_off = off + 12;
		size_t desc_off = name_off + ((namesz + 3ull) & ~3ull);
		if (desc_off > n || descsz > n - desc_off)
			return -EINVAL;
		const uint8_t *desc = d + desc_off;
		bool core_note = namesz == 5 && memcmp(d + name_off, "CORE", 5) == 0;
		if (core_note && type == NT_PRSTATUS) {
			if ((r = add_thread(c, desc, descsz)) < 0)
				return r;
		} else if (core_note && type == NT_PRPSINFO && descsz >= PRPSINFO_SIZE) {
			c->pid = (pid_t)rd32(desc + PRPSINFO_PID);
			memcpy(c->comm, desc + PRPSINFO_FNAME, 16);
			c->comm[16] = 0;
		} else if (core_note && type == NT_SIGINFO && descsz >= 12) {
			c->signal = (int)rd32(desc);
		} else if (core_note && type == NT_FILE) {
			if ((r = parse_nt_file(c, desc, descsz)) < 0)
				return r;
		} else if (core_note && type == NT_AUXV) {
			parse_auxv(c, desc, descsz);
		}
		off = desc_off + ((descsz + 3ull) & ~3ull);
	}
	return 0;
}

/* The signals whose default action dumps core (signal(7)): only these can have ended a process
 * that left a core. */
static bool dumps_core(int sig)
{
	switch (sig) {
	case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE: case SIGSEGV:
	case SIGXCPU: case SIGXFSZ: case SIGSYS:
		return true;
	default:
		return false;
	}
}

static int seg_cmp(const void *a, const void *b)
{
	const struct ct_core_segment *x = a, *y = b;
	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

static int parse(struct ct_core *c, char **ret_why)
{
	const uint8_t *im = c->image;
	if (c->size < sizeof(Elf64_Ehdr) || memcmp(im, ELFMAG, SELFMAG) != 0)
		return fail(ret_why, -ENOEXEC, "not an ELF file, nor a zstd, lz4 or apport core");
	Elf64_Ehdr eh;
	memcpy(&eh, im, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64)
		return fail(ret_why, -ENOEXEC, "not an x86-64 core (this ctrace reads x86-64 cores)");
	if (eh.e_type != ET_CORE)
		return fail(ret_why, -ENOEXEC, "an ELF %s, not a core file (give the executable with --exe)",
			    eh.e_type == ET_EXEC || eh.e_type == ET_DYN ? "program or library" : "file");
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > c->size ||
	    eh.e_phnum > (c->size - eh.e_phoff) / sizeof(Elf64_Phdr))
		return fail(ret_why, -EINVAL, "corrupt core: its program headers lie outside the file");
	size_t nph = eh.e_phnum;
	if (nph == PN_XNUM)
		return fail(ret_why, -EINVAL, "corrupt core: more program headers than this reader takes");
	c->segs = calloc(nph ? nph : 1, sizeof(*c->segs));
	if (!c->segs)
		return -ENOMEM;
	for (size_t i = 0; i < nph; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, im + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_filesz > ph.p_memsz || ph.p_memsz > UINT64_MAX - ph.p_vaddr || ph.p_filesz > UINT64_MAX - ph.p_offset)
			return fail(ret_why, -EINVAL, "corrupt core: a memory segment with impossible sizes");
		struct ct_core_segment *s = &c->segs[c->nsegs++];
		s->vaddr = ph.p_vaddr;
		s->memsz = ph.p_memsz;
		s->offset = ph.p_offset;
		s->filesz = ph.p_filesz;
		s->flags = ph.p_flags;
		s->avail = ph.p_offset >= c->size ? 0 : CT_MIN(ph.p_filesz, c->size - ph.p_offset);
		if (s->avail < s->filesz) {
			c->missing += s->filesz - s->avail;
			c->missing_segs++;
		}
	}
	qsort(c->segs, c->nsegs, sizeof(*c->segs), seg_cmp);
	for (size_t i = 1; i < c->nsegs; i++)
		if (c->segs[i].vaddr < c->segs[i - 1].vaddr + c->segs[i - 1].memsz)
			return fail(ret_why, -EINVAL, "corrupt core: memory segments overlap");
	bool notes = false;
	for (size_t i = 0; i < nph; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, im + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_NOTE)
			continue;
		notes = true;
		if (ph.p_offset > c->size || ph.p_filesz > c->size - ph.p_offset)
			return fail(ret_why, -EINVAL, "truncated core: it ends before its notes (threads and "
				    "registers); nothing can be read");
		int r = parse_notes(c, im + ph.p_offset, ph.p_filesz);
		if (r == -ENOMEM)
			return r;
		if (r == -E2BIG)
			return fail(ret_why, -EINVAL, "corrupt core: more than %d threads", CT_CORE_MAX_THREADS);
		if (r < 0)
			return fail(ret_why, -EINVAL, "corrupt core: a note runs past its segment");
	}
	if (!notes || c->nthreads == 0)
		return fail(ret_why, -EINVAL, "corrupt core: no thread status notes (NT_PRSTATUS)");
	if (!c->signal && c->threads[0].signal)
		c->signal = c->threads[0].signal;
	if (!dumps_core(c->signal))
		c->signal = 0; /* gdb's gcore records the SIGSTOP it stopped the threads with */
	if (c->signal) /* the kernel writes the thread that took the signal first */
		c->signal_tid = c->threads[0].tid;
	if (!c->pid)
		c->pid = c->threads[0].tid;
	name_segments(c);
	for (size_t i = 0; i < c->nfiles && c->entry && !c->exe; i++)
		if (c->entry >= c->files[i].start && c->entry < c->files[i].end && !(c->exe = strdup(c->files[i].path)))
			return -ENOMEM;
	return 0;
}

static int open_image(struct ct_core *c, char **ret_why)
{
	int r = parse(c, ret_why);
	if (r == -ENOMEM && !*ret_why)
		*ret_why = ct_strdup("out of memory");
	return r;
}

int ct_core_open_mem(const void *data, size_t size, const struct ct_core_opts *o, struct ct_core **ret,
		     char **ret_why)
{
	*ret_why = NULL;
	struct ct_core *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->image = data;
	c->size = size;
	const char *kind = ct_inflate_kind(data, size);
	int r = 0;
	if (kind) {
		int fd = -1;
		r = ct_inflate_mem(kind, data, size, o ? o->max_bytes : 0, o ? o->tmpdir : NULL, &fd, ret_why);
		if (r == 0) {
			r = ct_map_fd(fd, &c->map, &c->map_len);
			close(fd);
			c->image = c->map;
			c->size = c->map_len;
			c->compression = kind;
			if (r < 0)
				*ret_why = ct_strf("cannot map the inflated core: %s", strerror(-r));
		}
	}
	if (r == 0)
		r = open_image(c, ret_why);
	if (r < 0) {
		ct_core_close(c);
		return r;
	}
	*ret = c;
	return 0;
}

int ct_core_open(const char *path, const struct ct_core_opts *o, struct ct_core **ret, char **ret_why)
{
	*ret_why = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		*ret_why = ct_strf("cannot open %s: %s", path, strerror(e));
		return -e;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		*ret_why = ct_strf("%s is not a regular file", path);
		return -EINVAL;
	}
	void *map = NULL;
	size_t len = 0;
	int r = ct_map_fd(fd, &map, &len);
	if (r < 0) {
		close(fd);
		*ret_why = ct_strf("cannot read %s: %s", path, strerror(-r));
		return r;
	}
	const char *kind = ct_inflate_kind(map, len);
	if (kind) {
		int out = -1;
		r = ct_inflate_mem(kind, map, len, o ? o->max_bytes : 0, o ? o->tmpdir : NULL, &out, ret_why);
		munmap(map, len);
		map = NULL;
		if (r == 0) {
			r = ct_map_fd(out, &map, &len);
			close(out);
			if (r < 0)
				*ret_why = ct_strf("cannot map the inflated core: %s", strerror(-r));
		}
	}
	close(fd);
	if (r < 0)
		return r;
	struct ct_core *c = calloc(1, sizeof(*c));
	if (!c) {
		munmap(map, len);
		return -ENOMEM;
	}
	c->map = map;
	c->map_len = len;
	c->image = map;
	c->size = len;
	c->compression = kind;
	r = open_image(c, ret_why);
	if (r < 0) {
		ct_core_close(c);
		return r;
	}
	*ret = c;
	return 0;
}

void ct_core_close(struct ct_core *c)
{
	if (!c)
		return;
	if (c->map)
		munmap(c->map, c->map_len);
	ct_proc_maps_free(c->files, c->nfiles);
	free(c->segs);
	free(c->threads);
	free(c->exe);
	free(c);
}

pid_t ct_core_pid(const struct ct_core *c) { return c->pid; }
const char *ct_core_comm(const struct ct_core *c) { return c->comm[0] ? c->comm : NULL; }
const char *ct_core_exe(const struct ct_core *c) { return c->exe; }
const char *ct_core_compression(const struct ct_core *c) { return c->compression; }

int ct_core_signal(const struct ct_core *c, pid_t *ret_tid)
{
	if (ret_tid)
		*ret_tid = c->signal_tid;
	return c->signal;
}

const struct ct_core_thread *ct_core_threads(const struct ct_core *c, size_t *ret_n)
{
	*ret_n = c->nthreads;
	return c->threads;
}

const struct ct_core_segment *ct_core_segments(const struct ct_core *c, size_t *ret_n)
{
	*ret_n = c->nsegs;
	return c->segs;
}

const void *ct_core_image(const struct ct_core *c, size_t *ret_size)
{
	*ret_size = c->size;
	return c->image;
}

uint64_t ct_core_missing(const struct ct_core *c, size_t *ret_segments)
{
	if (ret_segments)
		*ret_segments = c->missing_segs;
	return c->missing;
}

static const struct ct_core_segment *seg_at(struct ct_core *c, uint64_t addr)
{
	if (c->last_seg < c->nsegs) {
		const struct ct_core_segment *s = &c->segs[c->last_seg];
		if (addr >= s->vaddr && addr - s->vaddr < s->memsz)
			return s;
	}
	size_t lo = 0, hi = c->nsegs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->segs[mid].vaddr + c->segs[mid].memsz <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->nsegs && addr >= c->segs[lo].vaddr) {
		c->last_seg = lo;
		return &c->segs[lo];
	}
	return NULL;
}

ssize_t ct_core_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	struct ct_core *c = arg;
	size_t done = 0;
	while (done < len) {
		uint64_t a = addr + done;
		if (a < addr)
			break;
		const struct ct_core_segment *s = seg_at(c, a);
		if (!s)
			break;
		uint64_t in = a - s->vaddr;
		if (in >= s->avail)
			break; /* not dumped (file-backed text) or cut off */
		size_t n = (size_t)CT_MIN((uint64_t)(len - done), s->avail - in);
		memcpy((uint8_t *)buf + done, c->image + s->offset + in, n);
		done += n;
	}
	return done ? (ssize_t)done : -EFAULT;
}

struct ct_memsrc ct_core_memsrc(struct ct_core *c)
{
	return (struct ct_memsrc){ .pid = c->pid, .read = ct_core_read, .arg = c };
}

int ct_core_maps(const struct ct_core *c, struct ct_proc_map **ret, size_t *ret_n)
{
	/* the segments, then the file mappings no segment covers (gdb's cores leave out what was not
	 * dumped), with permissions unknown ("---p") */
	size_t cap = c->nsegs + c->nfiles, n = 0;
	struct ct_proc_map *m = calloc(cap ? cap : 1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < c->nsegs; i++) {
		const struct ct_core_segment *s = &c->segs[i];
		m[n].start = s->vaddr;
		m[n].end = s->vaddr + s->memsz;
		m[n].offset = s->file_offset;
		m[n].perms[0] = s->flags & PF_R ? 'r' : '-';
		m[n].perms[1] = s->flags & PF_W ? 'w' : '-';
		m[n].perms[2] = s->flags & PF_X ? 'x' : '-';
		m[n].perms[3] = 'p';
		if (s->path && !(m[n].path = strdup(s->path)))
			goto oom;
		n++;
	}
	for (size_t i = 0; i < c->nfiles; i++) {
		const struct ct_proc_map *f = &c->files[i];
		size_t lo = 0, hi = c->nsegs; /* the first segment that ends after f starts */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (m[mid].end <= f->start)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < c->nsegs && m[lo].start < f->end)
			continue;
		m[n] = *f;
		memcpy(m[n].perms, "---p", 5);
		if (!(m[n].path = strdup(f->path)))
			goto oom;
		n++;
	}
	qsort(m, n, sizeof(*m), map_cmp);
	/* A file's identity for the frame cache (symbolize/framecache.h shares frames by device and
	 * inode): a core has neither, so a sentinel device and a hash of the path stand for them. */
	for (size_t i = 0; i < n; i++) {
		if (!m[i].path)
			continue;
		uint64_t h = 1469598103934665603ull;
		for (const char *p = m[i].path; *p; p++)
			h = (h ^ (uint8_t)*p) * 1099511628211ull;
		m[i].dev = CT_CORE_DEV;
		m[i].inode = (unsigned long)(h | 1);
	}
	*ret = m;
	*ret_n = n;
	return 0;
oom:
	ct_proc_maps_free(m, n);
	return -ENOMEM;
}
