/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel-saved user registers of a process's threads, read by a BPF task iterator (attach/kregs.h).
 *
 * The program is assembled here rather than compiled from C: it is some 60 instructions, and
 * libbpf's object loader would parse the kernel's 5 MB BTF on every run for its CO-RE relocations
 * and the iterator's attach point (35-45 ms measured here, more than the whole capture of 200
 * threads it replaces). The same BTF is parsed with libbpf's btf API once per kernel; the handful
 * of offsets it yields are kept in the cache directory, and later runs load the program with
 * libbpf's low-level calls only (about 1 ms). */
#include "attach/kregs.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "lib/banned.h"
#include "lib/cache.h"
#include "lib/util.h"

#define LAYOUT_MAGIC "ctrace-kregs-layout 2"
#define REC_SIZE ((int)sizeof(struct ct_kregs_rec))
#define MAX_INSNS 192

struct ct_kregs {
	pid_t pid;
	int prog_fd;
	int link_fd;
	size_t last_n; /* records of the last pass, to size the next read */
};

_Static_assert(sizeof(struct ct_kregs_rec) == 272, "the program writes 272-byte records");

/* ---- the kernel's identity and the layout cache ---- */

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

/* release, a hash of the version string (build number and date) and the BTF's size */
static int kernel_key(char *buf, size_t n)
{
	struct utsname u;
	struct stat st;
	if (uname(&u) < 0)
		return -errno;
	if (stat("/sys/kernel/btf/vmlinux", &st) < 0)
		return errno == ENOENT ? -EOPNOTSUPP : -errno;
	for (char *p = u.release; *p; p++)
		if (*p == ' ' || *p == '\n')
			*p = '_';
	snprintf(buf, n, "%s/%016" PRIx64 "/%lld", u.release, fnv1a(u.version), (long long)st.st_size);
	return 0;
}

/* the layout's numbers in the cache file's order, after the key */
#define LAYOUT_FIELDS(l) { &(l)->task_size, &(l)->pid, &(l)->tgid, &(l)->on_cpu, &(l)->state, &(l)->state_size, \
			   &(l)->nvcsw, &(l)->nivcsw, &(l)->pcount, &(l)->fsbase, &(l)->comm, &(l)->exit_state, \
			   &(l)->utime, &(l)->stime, &(l)->runtime }

int ct_kregs_layout_parse(const char *text, const char *key, struct ct_kregs_layout *l)
{
	char k[256];
	int used = 0;
	if (strncmp(text, LAYOUT_MAGIC " ", sizeof(LAYOUT_MAGIC)) != 0)
		return -EINVAL;
	text += sizeof(LAYOUT_MAGIC);
	if (sscanf(text, "%255s%n", k, &used) != 1 || strcmp(k, key) != 0)
		return -EINVAL;
	text += used;
	struct ct_kregs_layout v;
	memset(&v, 0, sizeof(v));
	uint32_t *f[] = LAYOUT_FIELDS(&v);
	/* each number after one space: what this function writes, nothing looser */
	for (size_t i = 0; i <= CT_ARRAY_SIZE(f); i++) {
		if (text[0] != ' ' || !isdigit((unsigned char)text[1]))
			return -EINVAL;
		char *end;
		errno = 0;
		unsigned long u = strtoul(text + 1, &end, 10);
		if (errno || u > (i < CT_ARRAY_SIZE(f) ? UINT32_MAX : INT32_MAX))
			return -EINVAL;
		if (i < CT_ARRAY_SIZE(f))
			*f[i] = (uint32_t)u;
		else
			v.iter_btf_id = (int32_t)u;
		text = end;
	}
	if (*text != '\n' && *text != '\0')
		return -EINVAL;
	/* every field inside the task, of the size the program reads */
	if (v.task_size < 256 || v.task_size > (1u << 20) || v.iter_btf_id <= 0 ||
	    (v.state_size != 4 && v.state_size != 8))
		return -EINVAL;
	const uint32_t in[][2] = { { v.pid, 4 },   { v.tgid, 4 },   { v.on_cpu, 4 },   { v.state, v.state_size },
				   { v.nvcsw, 8 }, { v.nivcsw, 8 }, { v.pcount, 8 },   { v.fsbase, 8 },
				   { v.comm, 16 }, { v.exit_state, 4 }, { v.utime, 8 }, { v.stime, 8 },
				   { v.runtime, 8 } };
	for (size_t i = 0; i < CT_ARRAY_SIZE(in); i++)
		if (in[i][0] > v.task_size - in[i][1])
			return -EINVAL;
	*l = v;
	return 0;
}

static const struct btf_member *member(const struct btf *b, const struct btf_type *t, const char *name,
				       uint32_t *ret_off)
{
	if (!t || !btf_is_composite(t))
		return NULL;
	const struct btf_member *m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++) {
		const char *s = btf__name_by_offset(b, m->name_off);
		uint32_t bits = btf_member_bit_offset(t, (uint32_t)i);
		if (s && strcmp(s, name) == 0 && bits % 8 == 0 && btf_member_bitfield_size(t, (uint32_t)i) == 0) {
			*ret_off = bits / 8;
			return m;
		}
	}
	return NULL;
}

/* offset of the field outer.inner (inner NULL: outer itself); its size in *ret_size */
static int field(const struct btf *b, const struct btf_type *task, const char *outer, const char *inner,
		 uint32_t *ret_off, uint32_t *ret_size)
{
	uint32_t off, off2 = 0;
	const struct btf_member *m = member(b, task, outer, &off);
	if (!m)
		return -ENOENT;
	if (inner) {
		int id = btf__resolve_type(b, m->type);
		if (id < 0)
			return -ENOENT;
		m = member(b, btf__type_by_id(b, (uint32_t)id), inner, &off2);
		if (!m)
			return -ENOENT;
	}
	long long size = btf__resolve_size(b, m->type);
	if (size <= 0)
		return -ENOENT;
	*ret_off = off + off2;
	*ret_size = (uint32_t)size;
	return 0;
}

static int layout_from_btf(struct ct_kregs_layout *l)
{
	struct btf *b = btf__load_vmlinux_btf();
	if (!b)
		return errno ? -errno : -EOPNOTSUPP;
	int r = -ENOENT;
	uint32_t sz;
	int tid = btf__find_by_name_kind(b, "task_struct", BTF_KIND_STRUCT);
	const struct btf_type *task = tid > 0 ? btf__type_by_id(b, (uint32_t)tid) : NULL;
	int iter = btf__find_by_name_kind(b, "bpf_iter_task", BTF_KIND_FUNC);
	if (!task || iter <= 0)
		goto out;
	memset(l, 0, sizeof(*l));
	l->task_size = task->size;
	l->iter_btf_id = iter;
	if (field(b, task, "pid", NULL, &l->pid, &sz) < 0 || sz != 4 ||
	    field(b, task, "tgid", NULL, &l->tgid, &sz) < 0 || sz != 4 ||
	    field(b, task, "on_cpu", NULL, &l->on_cpu, &sz) < 0 || sz != 4 ||
	    field(b, task, "nvcsw", NULL, &l->nvcsw, &sz) < 0 || sz != 8 ||
	    field(b, task, "nivcsw", NULL, &l->nivcsw, &sz) < 0 || sz != 8 ||
	    field(b, task, "sched_info", "pcount", &l->pcount, &sz) < 0 || sz != 8 ||
	    field(b, task, "thread", "fsbase", &l->fsbase, &sz) < 0 || sz != 8 ||
	    field(b, task, "comm", NULL, &l->comm, &sz) < 0 || sz != 16 ||
	    field(b, task, "exit_state", NULL, &l->exit_state, &sz) < 0 || sz != 4 ||
	    field(b, task, "utime", NULL, &l->utime, &sz) < 0 || sz != 8 ||
	    field(b, task, "stime", NULL, &l->stime, &sz) < 0 || sz != 8 ||
	    field(b, task, "se", "sum_exec_runtime", &l->runtime, &sz) < 0 || sz != 8)
		goto out;
	/* __state since 5.14, state before */
	if (field(b, task, "__state", NULL, &l->state, &l->state_size) < 0 &&
	    field(b, task, "state", NULL, &l->state, &l->state_size) < 0)
		goto out;
	r = 0;
out:
	btf__free(b);
	return r;
}

static void layout_format(const struct ct_kregs_layout *l, const char *key, char *buf, size_t n)
{
	struct ct_kregs_layout v = *l;
	uint32_t *f[] = LAYOUT_FIELDS(&v);
	size_t at = (size_t)snprintf(buf, n, LAYOUT_MAGIC " %s", key);
	for (size_t i = 0; i < CT_ARRAY_SIZE(f) && at < n; i++)
		at += (size_t)snprintf(buf + at, n - at, " %u", *f[i]);
	if (at < n)
		snprintf(buf + at, n - at, " %d\n", l->iter_btf_id);
}

static int layout_get(struct ct_kregs_layout *l)
{
	char key[200], path[4200], text[512];
	int r = kernel_key(key, sizeof(key));
	if (r < 0)
		return r;
	const char *dir = ct_cache_dir();
	if (dir) {
		snprintf(path, sizeof(path), "%s/kregs-layout", dir);
		int fd = ct_cache_open(path, sizeof(text) - 1);
		if (fd >= 0) {
			ssize_t n = read(fd, text, sizeof(text) - 1);
			close(fd);
			if (n > 0) {
				text[n] = '\0';
				if (ct_kregs_layout_parse(text, key, l) == 0)
					return 0;
			}
		}
	}
	r = layout_from_btf(l);
	if (r < 0)
		return r;
	layout_format(l, key, text, sizeof(text));
	struct ct_kregs_layout check;
	if (ct_kregs_layout_parse(text, key, &check) < 0)
		return -EOPNOTSUPP; /* a task_struct this program cannot read */
	if (dir && ct_cache_dir_ensure(dir) == 0)
		(void)ct_cache_write(path, text, strlen(text));
	return 0;
}

/* ---- the program ---- */

struct prog {
	struct bpf_insn in[MAX_INSNS];
	int n;
	int to_out[16]; /* jumps to the end, patched once it is placed */
	int nout;
};

static void emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	if (p->n < MAX_INSNS)
		p->in[p->n] = (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
	p->n++;
}

static void jump_out(struct prog *p, uint8_t op, uint8_t dst, int32_t imm)
{
	if (p->nout < (int)CT_ARRAY_SIZE(p->to_out))
		p->to_out[p->nout++] = p->n;
	emit(p, BPF_JMP | op | BPF_K, dst, 0, 0, imm);
}

/* rec.at = size bytes of the task at off: bpf_probe_read_kernel(r10 - REC + at, size, r7 + off) */
static void read_task(struct prog *p, int at, uint32_t off, uint32_t size)
{
	emit(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_10, 0, 0);
	emit(p, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, -REC_SIZE + at);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, (int32_t)size);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_7, 0, 0);
	emit(p, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_3, 0, 0, (int32_t)off);
	emit(p, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_probe_read_kernel);
}

#define AT(f) ((int)offsetof(struct ct_kregs_rec, f))

static int build(const struct ct_kregs_layout *l, pid_t pid, struct prog *p)
{
	memset(p, 0, sizeof(*p));
	/* r6 = ctx->meta, r7 = ctx->task; no task: the end of the iteration */
	emit(p, BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_6, BPF_REG_1, 0, 0);
	emit(p, BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_7, BPF_REG_1, 8, 0);
	jump_out(p, BPF_JEQ, BPF_REG_7, 0);
	for (int at = 0; at < REC_SIZE; at += 8)
		emit(p, BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, (int16_t)(-REC_SIZE + at), 0);
	read_task(p, AT(tgid), l->tgid, 4);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_0, BPF_REG_10, (int16_t)(-REC_SIZE + AT(tgid)), 0);
	jump_out(p, BPF_JNE, BPF_REG_0, (int32_t)pid);
	read_task(p, AT(tid), l->pid, 4);
	read_task(p, AT(on_cpu), l->on_cpu, 4);
	read_task(p, AT(state), l->state, l->state_size);
	read_task(p, AT(nvcsw), l->nvcsw, 8);
	read_task(p, AT(nivcsw), l->nivcsw, 8);
	read_task(p, AT(pcount), l->pcount, 8);
	read_task(p, AT(fsbase), l->fsbase, 8);
	read_task(p, AT(comm), l->comm, 16);
	read_task(p, AT(exit_state), l->exit_state, 4);
	read_task(p, AT(utime), l->utime, 8);
	read_task(p, AT(stime), l->stime, 8);
	read_task(p, AT(runtime), l->runtime, 8);
	/* the user registers: bpf_probe_read_kernel(rec.regs, 168, bpf_task_pt_regs(task)) */
	emit(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_7, 0, 0);
	emit(p, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_task_pt_regs);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_0, 0, 0);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_10, 0, 0);
	emit(p, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, -REC_SIZE + AT(regs));
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, (int32_t)sizeof(((struct ct_kregs_rec *)0)->regs));
	emit(p, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_probe_read_kernel);
	/* bpf_seq_write(ctx->meta->seq, rec, sizeof(rec)) */
	emit(p, BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_6, 0, 0);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0);
	emit(p, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -REC_SIZE);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, REC_SIZE);
	emit(p, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_seq_write);
	int out = p->n;
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	if (p->n > MAX_INSNS)
		return -E2BIG;
	for (int i = 0; i < p->nout; i++)
		p->in[p->to_out[i]].off = (int16_t)(out - p->to_out[i] - 1);
	return 0;
}

/* ---- loading and reading ---- */

int ct_kregs_open(pid_t pid, struct ct_kregs **ret, const char **ret_why)
{
	const char *why_unused;
	if (!ret_why)
		ret_why = &why_unused;
	/* The program reads the kernel's own (initial namespace) thread and process IDs, which are
	 * those /proc shows only to a ctrace in the initial PID namespace; in a container's the
	 * tids would not match (and, where the kernel cannot filter by process, another process's
	 * could). */
	char ns[64];
	ssize_t nl = readlink("/proc/self/ns/pid", ns, sizeof(ns) - 1);
	if (nl <= 0 || (ns[nl] = '\0', strcmp(ns, "pid:[4026531836]") != 0)) {
		*ret_why = "ctrace runs in a PID namespace of its own";
		return -EOPNOTSUPP;
	}
	struct ct_kregs_layout l;
	int r = layout_get(&l);
	if (r < 0) {
		*ret_why = "no kernel BTF with the task fields it reads";
		return r;
	}
	struct prog *p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	r = build(&l, pid, p);
	if (r < 0) {
		free(p);
		*ret_why = "program too long";
		return r;
	}
	/* bpf(BPF_PROG_LOAD) itself: libbpf's bpf_prog_load first probes the kernel with two loads of
	 * its own (whether programs may be named, how their memory is charged), 0.37 ms measured,
	 * for answers every kernel with BTF iterators has */
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_TRACING;
	attr.expected_attach_type = BPF_TRACE_ITER;
	attr.attach_btf_id = (uint32_t)l.iter_btf_id;
	attr.insns = (uint64_t)(uintptr_t)p->in;
	attr.insn_cnt = (uint32_t)p->n;
	attr.license = (uint64_t)(uintptr_t)"GPL";
	memcpy(attr.prog_name, "ctrace_kregs", sizeof("ctrace_kregs"));
	int prog, attempts = 0;
	do /* the verifier asks again (a signal pending): as libbpf, 5 attempts */
		prog = (int)syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	while (prog < 0 && errno == EAGAIN && ++attempts < 5);
	r = prog < 0 ? -errno : 0;
	free(p);
	if (prog < 0) {
		*ret_why = r == -EPERM || r == -EACCES ? "bpf() not permitted (needs CAP_BPF and CAP_PERFMON)"
					 : "the kernel refused the iterator program";
		return r ? r : -EPERM;
	}
	/* only pid's threads where the kernel can (6.1+), else every task, the program keeping pid's */
	union bpf_iter_link_info li;
	memset(&li, 0, sizeof(li));
	li.task.pid = (uint32_t)pid;
	LIBBPF_OPTS(bpf_link_create_opts, lo, .iter_info = &li, .iter_info_len = sizeof(li));
	int link = bpf_link_create(prog, 0, BPF_TRACE_ITER, &lo);
	if (link < 0)
		link = bpf_link_create(prog, 0, BPF_TRACE_ITER, NULL);
	if (link < 0) {
		r = -errno;
		close(prog);
		*ret_why = "the iterator could not be attached";
		return r ? r : -EPERM;
	}
	struct ct_kregs *k = calloc(1, sizeof(*k));
	if (!k) {
		close(link);
		close(prog);
		return -ENOMEM;
	}
	*k = (struct ct_kregs){ pid, prog, link, 0 };
	*ret = k;
	return 0;
}

void ct_kregs_close(struct ct_kregs *k)
{
	if (!k)
		return;
	close(k->link_fd);
	close(k->prog_fd);
	free(k);
}

static int by_tid(const void *a, const void *b)
{
	const struct ct_kregs_rec *x = a, *y = b;
	return (x->tid > y->tid) - (x->tid < y->tid);
}

int ct_kregs_read(struct ct_kregs *k, struct ct_kregs_rec **ret, size_t *ret_n)
{
	int fd = bpf_iter_create(k->link_fd);
	if (fd < 0)
		return -errno;
	size_t cap = CT_MAX(k->last_n + 16, (size_t)64), len = 0;
	uint8_t *buf = malloc(cap * sizeof(struct ct_kregs_rec));
	int r = buf ? 0 : -ENOMEM;
	while (r == 0) {
		size_t room = cap * sizeof(struct ct_kregs_rec) - len;
		if (room < 4096) {
			uint8_t *more = realloc(buf, cap * 2 * sizeof(struct ct_kregs_rec));
			if (!more) {
				r = -ENOMEM;
				break;
			}
			buf = more;
			cap *= 2;
			continue;
		}
		ssize_t n = read(fd, buf + len, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = -errno;
		else if (n == 0)
			break;
		else
			len += (size_t)n;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	/* keep whole records of the process's own threads (the program filters them; a record is
	 * checked anyway) */
	struct ct_kregs_rec *recs = (struct ct_kregs_rec *)buf;
	size_t n = len / sizeof(*recs), kept = 0;
	for (size_t i = 0; i < n; i++)
		if (recs[i].tgid == k->pid && recs[i].tid > 0)
			recs[kept++] = recs[i];
	qsort(recs, kept, sizeof(*recs), by_tid);
	k->last_n = kept;
	*ret = recs;
	*ret_n = kept;
	return 0;
}

const struct ct_kregs_rec *ct_kregs_find(const struct ct_kregs_rec *recs, size_t n, pid_t tid)
{
	struct ct_kregs_rec key = { .tid = tid };
	return recs ? bsearch(&key, recs, n, sizeof(*recs), by_tid) : NULL;
}

bool ct_kregs_unchanged(const struct ct_kregs_rec *a, const struct ct_kregs_rec *b)
{
	return a->on_cpu == 0 && b->on_cpu == 0 && a->pcount == b->pcount && a->nvcsw == b->nvcsw &&
	       a->nivcsw == b->nivcsw && memcmp(a->regs, b->regs, sizeof(a->regs)) == 0 && a->fsbase == b->fsbase;
}

bool ct_kregs_in_syscall(const struct ct_kregs_rec *r)
{
	return r->regs[CT_PTREGS_ORIG_AX] < 1024 && r->regs[CT_PTREGS_AX] == (uint64_t)-ENOSYS;
}

char ct_kregs_state_letter(const struct ct_kregs_rec *r)
{
	/* include/linux/sched.h: TASK_REPORT is the bits up to TASK_PARKED; TASK_IDLE is
	 * TASK_UNINTERRUPTIBLE | TASK_NOLOAD, reported apart; a task in TASK_RTLOCK_WAIT or frozen
	 * is reported uninterruptible; the letter is "RSDTtXZPI"[fls(state)] */
	enum { REPORT = 0x7f, IDLE = 0x402, RTLOCK_WAIT = 0x1000, FROZEN = 0x8000, REPORT_IDLE = 0x80 };
	uint32_t st = (uint32_t)r->state;
	uint32_t s = (st | r->exit_state) & REPORT;
	if ((st & IDLE) == IDLE)
		s = REPORT_IDLE;
	if (st & (RTLOCK_WAIT | FROZEN))
		s = 0x2;
	int i = 0;
	while (s) {
		i++;
		s >>= 1;
	}
	return "RSDTtXZPI"[i];
}

void ct_kregs_cpu_ticks(const struct ct_kregs_rec *r, long ticks_per_s, uint64_t *ret_utime, uint64_t *ret_stime)
{
	/* kernel/sched/cputime.c cputime_adjust(): the precise time on a CPU, split as the ticks were */
	uint64_t rtime = r->runtime, ut = r->utime, st = r->stime;
	if (st == 0)
		ut = rtime;
	else if (ut == 0)
		st = rtime;
	else {
		st = (uint64_t)((unsigned __int128)st * rtime / ((unsigned __int128)st + ut));
		ut = rtime - CT_MIN(st, rtime);
	}
	uint64_t ns_per_tick = ticks_per_s > 0 ? 1000000000ull / (uint64_t)ticks_per_s : 10000000ull;
	*ret_utime = ut / ns_per_tick;
	*ret_stime = st / ns_per_tick;
}
