/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "interp/python.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "interp/interp.h"
#include "interp/pthreadtid.h"
#include "interp/pyinternal.h"
#include "interp/pylayout.h"
#include "interp/pyscan.h"
#include "lib/procfs.h"
#include "lib/util.h"
#include "unwind/unwind.h"
#include "lib/banned.h"

#define MAX_INTERPRETERS 16
#define MAX_STR 1024            /* characters of a name or file name */
#define MAX_TABLE (1 << 20)     /* bytes of a line table */
#define DEBUG_OFFSETS_LEN (73 * 8)

/* ---- finding the interpreter ---- */

struct py_syms {
	uint64_t runtime, version, code, unicode, bytes, eval, eval_size, interp_head, tstate_current;
	uint64_t version_buf; /* Py_GetVersion()'s static buffer ("version.0", .symtab only) */
};

static void module_syms(Dwfl_Module *mod, struct py_syms *s)
{
	int n = dwfl_module_getsymtab(mod);
	for (int i = 1; i < n && i < (1 << 22); i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
		if (!name || name[0] == '\0' || sym.st_shndx == SHN_UNDEF)
			continue;
		if (strcmp(name, "_PyRuntime") == 0)
			s->runtime = addr;
		else if (strcmp(name, "Py_Version") == 0)
			s->version = addr;
		else if (strcmp(name, "PyCode_Type") == 0)
			s->code = addr;
		else if (strcmp(name, "PyUnicode_Type") == 0)
			s->unicode = addr;
		else if (strcmp(name, "PyBytes_Type") == 0)
			s->bytes = addr;
		else if (strcmp(name, "_PyEval_EvalFrameDefault") == 0 && GELF_ST_TYPE(sym.st_info) == STT_FUNC) {
			s->eval = addr;
			s->eval_size = sym.st_size;
		} else if (strcmp(name, "interp_head") == 0)
			s->interp_head = addr;
		else if (strcmp(name, "_PyThreadState_Current") == 0)
			s->tstate_current = addr;
		else if ((strcmp(name, "version") == 0 || ct_startswith(name, "version.")) &&
			 GELF_ST_TYPE(sym.st_info) == STT_OBJECT && sym.st_size >= 32)
			s->version_buf = addr;
	}
}

static int pick_module(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start, void *arg)
{
	struct ct_py_modules *p = arg;
	(void)userdata;
	(void)start;
	if (!name)
		return DWARF_CB_OK;
	const char *base = ct_basename(name);
	if (!p->lib && ct_startswith(base, "libpython3.")) {
		p->lib = mod;
		p->lib_name = name;
	} else if (!p->exe && p->exe_path &&
		   (strcmp(name, p->exe_path) == 0 || strcmp(base, ct_basename(p->exe_path)) == 0)) {
		p->exe = mod;
		p->exe_name = name;
	}
	return DWARF_CB_OK;
}

void ct_py_find_modules(Dwfl *dwfl, const char *exe, struct ct_py_modules *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->exe_path = exe;
	dwfl_getmodules(dwfl, pick_module, ret, 0);
}

uint32_t ct_py_hex_from_name(const char *base)
{
	const char *p = strstr(base, "python3.");
	if (!p)
		return 0;
	p += strlen("python3.");
	unsigned minor = 0;
	int digits = 0;
	while (*p >= '0' && *p <= '9' && digits < 3) {
		minor = minor * 10 + (unsigned)(*p++ - '0');
		digits++;
	}
	return digits ? 0x03000000u | minor << 16 : 0;
}

/* The exact version before Py_Version (3.11): sys.version as Py_GetVersion() keeps it in a static
 * buffer ("3.9.18 (main, …"), filled at start-up. Writes "3.M.N" when it names major.minor. */
static void version_from_buffer(const struct ct_memsrc *mem, uint64_t addr, uint32_t hex, char *ret, size_t size)
{
	char buf[32];
	if (!addr || ct_interp_read(mem, addr, buf, sizeof(buf)) < 0)
		return;
	buf[sizeof(buf) - 1] = '\0';
	unsigned major, minor, micro;
	char end;
	if (sscanf(buf, "%u.%u.%u%c", &major, &minor, &micro, &end) == 4 && major == 3 &&
	    minor == ((hex >> 16) & 0xff) && micro < 100 && (end == ' ' || end == '+'))
		snprintf(ret, size, "%u.%u.%u", major, minor, micro);
}

/* 3.13+: the _Py_DebugOffsets at the start of _PyRuntime. Checks the cookie and version, and takes
 * the offsets it gives over the table's (they are the target's own). -EPROTO when it is not
 * there or names another version. */
static int apply_debug_offsets(struct ct_py *py)
{
	uint64_t d[DEBUG_OFFSETS_LEN / 8];
	if (ct_interp_read(&py->mem, py->runtime, d, sizeof(d)) < 0)
		return -EFAULT;
	if (memcmp(d, "xdebugpy", 8) != 0 || (d[1] >> 16) != (py->hex >> 16) || d[2] != 0)
		return -EPROTO; /* d[2]: a free-threaded build, whose objects have another header */
	static const struct {
		size_t idx;
		size_t field;
	} map[] = {
		{ 5, offsetof(struct ct_py_layout, runtime_interpreters_head) },
		{ 8, offsetof(struct ct_py_layout, interp_next) },
		{ 9, offsetof(struct ct_py_layout, interp_threads_head) },
		{ 14, offsetof(struct ct_py_layout, interp_gil_ptr) },
		{ 17, offsetof(struct ct_py_layout, gil_locked) },
		{ 18, offsetof(struct ct_py_layout, gil_last_holder) },
		{ 21, offsetof(struct ct_py_layout, tstate_next) },
		{ 22, offsetof(struct ct_py_layout, tstate_interp) },
		{ 23, offsetof(struct ct_py_layout, tstate_current_frame) },
		{ 24, offsetof(struct ct_py_layout, tstate_thread_id) },
		{ 25, offsetof(struct ct_py_layout, tstate_native_thread_id) },
		{ 26, offsetof(struct ct_py_layout, tstate_datastack_chunk) },
		{ 29, offsetof(struct ct_py_layout, frame_previous) },
		{ 30, offsetof(struct ct_py_layout, frame_code) },
		{ 31, offsetof(struct ct_py_layout, frame_instr) },
		{ 32, offsetof(struct ct_py_layout, frame_size) },
		{ 33, offsetof(struct ct_py_layout, frame_owner) },
		{ 35, offsetof(struct ct_py_layout, code_filename) },
		{ 36, offsetof(struct ct_py_layout, code_name) },
		{ 37, offsetof(struct ct_py_layout, code_qualname) },
		{ 38, offsetof(struct ct_py_layout, code_linetable) },
		{ 39, offsetof(struct ct_py_layout, code_firstlineno) },
		{ 43, offsetof(struct ct_py_layout, code_code_adaptive) },
		{ 45, offsetof(struct ct_py_layout, object_type) },
		{ 65, offsetof(struct ct_py_layout, bytes_size) },
		{ 66, offsetof(struct ct_py_layout, bytes_data) },
		{ 68, offsetof(struct ct_py_layout, unicode_state) },
		{ 69, offsetof(struct ct_py_layout, unicode_length) },
		{ 70, offsetof(struct ct_py_layout, unicode_ascii_size) },
	};
	for (size_t i = 0; i < CT_ARRAY_SIZE(map); i++) {
		if (d[map[i].idx] >= CT_PY_NONE)
			return -EPROTO;
		uint16_t v = (uint16_t)d[map[i].idx];
		memcpy((char *)&py->L + map[i].field, &v, sizeof(v));
	}
	/* datastack_top follows datastack_chunk in every 3.1x PyThreadState */
	py->L.tstate_datastack_top = (uint16_t)(py->L.tstate_datastack_chunk + 8);
	return 0;
}

int ct_py_open(struct ct_symbolizer *sym, struct ct_py **ret, char **ret_note)
{
	pid_t pid = ct_sym_pid(sym);
	char exe[4096];
	ssize_t n = ct_proc_exe(pid, exe, sizeof(exe));
	struct ct_memsrc live = ct_memsrc_live(pid);
	return ct_py_open_mem(sym, &live, n > 0 ? exe : NULL, ret, ret_note);
}

int ct_py_open_mem(struct ct_symbolizer *sym, const struct ct_memsrc *mem, const char *exe, struct ct_py **ret,
		   char **ret_note)
{
	*ret = NULL;
	*ret_note = NULL;
	struct ct_py_modules pick;
	ct_py_find_modules(ct_sym_dwfl(sym), exe, &pick);

	struct py_syms s;
	Dwfl_Module *mod = NULL;
	const char *name = NULL;
	if (pick.lib) {
		memset(&s, 0, sizeof(s));
		module_syms(pick.lib, &s);
		mod = pick.lib;
		name = ct_basename(pick.lib_name);
	}
	if ((!mod || !s.code) && pick.exe) {
		memset(&s, 0, sizeof(s));
		module_syms(pick.exe, &s);
		mod = pick.exe;
		name = ct_basename(pick.exe_name);
	}
	/* not Python: no interpreter's code type in the executable or a libpython */
	if (!mod || !s.code || !s.unicode || !s.bytes)
		return 0;

	uint32_t hex = 0;
	if (s.version) {
		uint32_t v;
		if (ct_interp_read(mem, s.version, &v, sizeof(v)) == 0 && (v >> 24) == 3)
			hex = v;
	}
	char version[32] = "";
	if (hex)
		snprintf(version, sizeof(version), "%u.%u.%u", hex >> 24, (hex >> 16) & 0xff, (hex >> 8) & 0xff);
	else if ((hex = ct_py_hex_from_name(name)) == 0 && mod == pick.exe)
		hex = s.runtime ? 0 : 0x03060000; /* a static 3.6 has no _PyRuntime; else unknown */
	if (!hex) {
		*ret_note = strdup("Python found, but not its version (no Py_Version, no python3.X in the file "
				   "name): native frames only");
		return *ret_note ? 0 : -ENOMEM;
	}
	if (!version[0]) {
		snprintf(version, sizeof(version), "%u.%u", hex >> 24, (hex >> 16) & 0xff);
		version_from_buffer(mem, s.version_buf, hex, version, sizeof(version));
	}
	const struct ct_py_layout *L = ct_py_layout_find(hex);
	if (!L) {
		char note[160];
		snprintf(note, sizeof(note), "Python %s: ctrace has no layout table for this version "
			 "(3.6 to 3.13): native frames only", version);
		*ret_note = strdup(note);
		return *ret_note ? 0 : -ENOMEM;
	}
	if (!s.eval) {
		*ret_note = strdup("Python found, but not _PyEval_EvalFrameDefault in its symbols: native frames only");
		return *ret_note ? 0 : -ENOMEM;
	}
	if (has(L->runtime_interpreters_head) && !s.runtime) /* stripped: a scan that validates */
		s.runtime = ct_py_scan_runtime(mem, mod, hex, L);
	if (has(L->runtime_interpreters_head) ? !s.runtime : !(s.interp_head || s.tstate_current)) {
		*ret_note = ct_strf("Python %s: its runtime state (_PyRuntime) is neither in the symbols nor "
				    "found by a scan that validates: native frames only", version);
		return *ret_note ? 0 : -ENOMEM;
	}

	struct ct_py *py = calloc(1, sizeof(*py));
	if (!py || !(py->codes = calloc(CODE_CACHE, sizeof(*py->codes))) ||
	    (has(L->cframe_previous) && !(py->cframes = calloc(2 * CT_PY_MAX_FRAMES, sizeof(*py->cframes))))) {
		ct_py_close(py);
		return -ENOMEM;
	}
	py->mem = *mem;
	py->L = *L;
	py->hex = hex;
	snprintf(py->version, sizeof(py->version), "%s", version);
	py->runtime = s.runtime;
	py->interp_head = s.interp_head;
	py->tstate_current = s.tstate_current;
	py->type_code = s.code;
	py->type_unicode = s.unicode;
	py->type_bytes = s.bytes;
	py->eval_lo = s.eval;
	py->eval_hi = s.eval + (s.eval_size ? s.eval_size : 1);
	if (hex >= 0x030d0000) {
		int r = apply_debug_offsets(py);
		if (r < 0) {
			char note[200];
			snprintf(note, sizeof(note), "Python %s: _Py_DebugOffsets at _PyRuntime %s: native frames "
				 "only", version, r == -EPROTO ? "has a bad cookie, another version or a "
				 "free-threaded build" : "cannot be read");
			ct_py_close(py);
			*ret_note = strdup(note);
			return *ret_note ? 0 : -ENOMEM;
		}
	}
	/* before 3.11 a thread state names its thread by pthread_t only (the thread pointer); a perf
	 * sample has none, so its thread is matched by the TID glibc keeps in struct pthread, when
	 * libc's DWARF or a checked glibc version says where (else those samples stay native) */
	if (!has(L->tstate_native_thread_id) && !mem->read && ct_pthread_tid_offset(ct_sym_dwfl(sym), &py->pthread_tid_off, NULL) < 0)
		py->pthread_tid_off = 0;
	*ret = py;
	return 0;
}

void ct_py_close(struct ct_py *py)
{
	if (!py)
		return;
	for (size_t i = 0; py->codes && i < CODE_CACHE; i++) {
		free(py->codes[i].name);
		free(py->codes[i].file);
		free(py->codes[i].table);
	}
	free(py->codes);
	free(py->cframes);
	free(py->threads);
	free(py);
}

const char *ct_py_version(const struct ct_py *py)
{
	return py->version;
}

bool ct_py_needs_thread_pointer(const struct ct_py *py)
{
	return !has(py->L.tstate_native_thread_id);
}

void ct_py_get_stats(const struct ct_py *py, struct ct_py_stats *ret)
{
	*ret = py->stats;
}

/* ---- thread states (the target runs) ---- */

static int first_interp(struct ct_py *py, uint64_t *ret)
{
	if (py->runtime)
		return ct_interp_read_u64(&py->mem, py->runtime + py->L.runtime_interpreters_head, ret);
	if (py->interp_head)
		return ct_interp_read_u64(&py->mem, py->interp_head, ret);
	uint64_t ts;
	int r = ct_interp_read_u64(&py->mem, py->tstate_current, &ts);
	if (r < 0)
		return r;
	return ts ? ct_interp_read_u64(&py->mem, ts + py->L.tstate_interp, ret) : -EAGAIN;
}

int ct_py_threads_refresh(struct ct_py *py)
{
	const struct ct_py_layout *L = &py->L;
	size_t len = py_tstate_len(L);
	uint8_t buf[1024];
	if (len > sizeof(buf))
		return -EPROTO;
	py->nthreads = 0;
	uint64_t interp;
	int r = first_interp(py, &interp);
	if (r < 0)
		return r;
	for (int k = 0; interp && k < MAX_INTERPRETERS; k++) {
		uint64_t ts;
		if ((r = ct_interp_read_u64(&py->mem, interp + L->interp_threads_head, &ts)) < 0)
			return r;
		while (ts && py->nthreads < CT_PY_MAX_THREADS) {
			if ((r = ct_interp_read(&py->mem, ts, buf, len)) < 0)
				return r;
			if (ct_interp_u64(buf, L->tstate_interp) != interp)
				return -EPROTO; /* not a thread state of this interpreter */
			if (ct_grow(&py->threads, &py->cap_threads, py->nthreads + 1, sizeof(*py->threads)) < 0)
				return -ENOMEM;
			struct py_thread *t = &py->threads[py->nthreads++];
			t->tstate = ts;
			t->thread_id = ct_interp_u64(buf, L->tstate_thread_id);
			t->native_tid = has(L->tstate_native_thread_id) ? ct_interp_u64(buf, L->tstate_native_thread_id)
									 : ct_pthread_tid_read(py->mem.pid, py->pthread_tid_off, t->thread_id);
			uint64_t next = ct_interp_u64(buf, L->tstate_next);
			if (next == ts)
				break;
			ts = next;
		}
		if ((r = ct_interp_read_u64(&py->mem, interp + L->interp_next, &interp)) < 0)
			return r;
	}
	return 0;
}

void ct_py_gil_refresh(struct ct_py *py)
{
	const struct ct_py_layout *L = &py->L;
	uint64_t gil = 0, holder = 0;
	int32_t locked = 0;
	py->gil_holder = 0;
	if (has(L->runtime_gil)) {
		gil = py->runtime + L->runtime_gil;
	} else if (has(L->interp_gil_ptr)) {
		uint64_t interp;
		if (first_interp(py, &interp) < 0 || ct_interp_read_u64(&py->mem, interp + L->interp_gil_ptr, &gil) < 0)
			return;
	} else {
		/* 3.6: the running thread state is the GIL's holder */
		if (ct_interp_read_u64(&py->mem, py->tstate_current, &holder) == 0)
			py->gil_holder = holder;
		return;
	}
	if (ct_interp_read(&py->mem, gil + L->gil_locked, &locked, sizeof(locked)) < 0 || locked != 1 ||
	    ct_interp_read_u64(&py->mem, gil + L->gil_last_holder, &holder) < 0)
		return;
	py->gil_holder = holder;
}

/* ---- after the thread resumed: code objects and strings ---- */

/* A str object as UTF-8 (compact strings only: every name and file name CPython makes). */
static char *read_str(struct ct_py *py, uint64_t addr)
{
	const struct ct_py_layout *L = &py->L;
	uint8_t h[128];
	size_t hlen = (size_t)L->unicode_compact_size;
	if (hlen > sizeof(h) || ct_interp_read(&py->mem, addr, h, hlen) < 0 ||
	    ct_interp_u64(h, L->object_type) != py->type_unicode)
		return NULL;
	uint64_t length = ct_interp_u64(h, L->unicode_length);
	uint32_t state;
	memcpy(&state, h + L->unicode_state, sizeof(state));
	unsigned kind = (state >> 2) & 7, compact = (state >> 5) & 1, ascii = (state >> 6) & 1;
	if (!compact || length > MAX_STR || (kind != 1 && kind != 2 && kind != 4))
		return NULL;
	size_t data = ascii ? L->unicode_ascii_size : L->unicode_compact_size;
	size_t bytes = (size_t)length * kind;
	uint8_t *raw = malloc(bytes + 1);
	char *out = raw ? malloc((size_t)length * 4 + 1) : NULL;
	if (!out || ct_interp_read(&py->mem, addr + data, raw, bytes) < 0) {
		free(raw);
		free(out);
		return NULL;
	}
	size_t o = 0;
	for (size_t i = 0; i < length; i++) {
		uint32_t ch = kind == 1 ? raw[i] : kind == 2 ? (uint32_t)raw[2 * i] | (uint32_t)raw[2 * i + 1] << 8
			: (uint32_t)raw[4 * i] | (uint32_t)raw[4 * i + 1] << 8 | (uint32_t)raw[4 * i + 2] << 16 |
			  (uint32_t)raw[4 * i + 3] << 24;
		if (ch == 0 || ch > 0x10ffff || (ascii && ch > 0x7f)) {
			free(raw);
			free(out);
			return NULL;
		}
		if (ch < 0x80) {
			out[o++] = (char)ch;
		} else if (ch < 0x800) {
			out[o++] = (char)(0xc0 | ch >> 6);
			out[o++] = (char)(0x80 | (ch & 0x3f));
		} else if (ch < 0x10000) {
			out[o++] = (char)(0xe0 | ch >> 12);
			out[o++] = (char)(0x80 | ((ch >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (ch & 0x3f));
		} else {
			out[o++] = (char)(0xf0 | ch >> 18);
			out[o++] = (char)(0x80 | ((ch >> 12) & 0x3f));
			out[o++] = (char)(0x80 | ((ch >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (ch & 0x3f));
		}
	}
	out[o] = '\0';
	free(raw);
	return out;
}

static int read_bytes(struct ct_py *py, uint64_t addr, uint8_t **ret, size_t *ret_len)
{
	const struct ct_py_layout *L = &py->L;
	uint8_t h[64];
	if ((size_t)L->bytes_data > sizeof(h) || ct_interp_read(&py->mem, addr, h, L->bytes_data) < 0 ||
	    ct_interp_u64(h, L->object_type) != py->type_bytes)
		return -EPROTO;
	uint64_t size = ct_interp_u64(h, L->bytes_size);
	if (size > MAX_TABLE)
		return -E2BIG;
	uint8_t *b = malloc(size ? size : 1);
	if (!b)
		return -ENOMEM;
	if (ct_interp_read(&py->mem, addr + L->bytes_data, b, size) < 0 && size) {
		free(b);
		return -EFAULT;
	}
	*ret = b;
	*ret_len = size;
	return 0;
}

static size_t code_len(const struct ct_py_layout *L)
{
	uint16_t m = maxu16(L->code_name, L->code_qualname);
	m = maxu16(m, L->code_filename);
	m = maxu16(m, L->code_firstlineno);
	m = maxu16(m, L->code_linetable);
	m = maxu16(m, L->code_firsttraceable);
	m = maxu16(m, L->object_type);
	return (size_t)m + 8;
}

static void code_clear(struct py_code *pc)
{
	free(pc->name);
	free(pc->file);
	free(pc->table);
	memset(pc, 0, sizeof(*pc));
}

/* The code object at addr, from the cache when its fields still point where they did. NULL when
 * it is not a code object or a part of it cannot be read. */
static const struct py_code *code_get(struct ct_py *py, uint64_t addr)
{
	const struct ct_py_layout *L = &py->L;
	uint8_t b[512];
	size_t len = code_len(L);
	if (len > sizeof(b) || ct_interp_read(&py->mem, addr, b, len) < 0 || ct_interp_u64(b, L->object_type) != py->type_code)
		return NULL;
	uint64_t key[4] = { ct_interp_u64(b, L->code_name), has(L->code_qualname) ? ct_interp_u64(b, L->code_qualname) : 0,
			    ct_interp_u64(b, L->code_filename), ct_interp_u64(b, L->code_linetable) };
	struct py_code *pc = &py->codes[(addr >> 4) % CODE_CACHE];
	if (pc->addr == addr && memcmp(pc->key, key, sizeof(key)) == 0 &&
	    pc->firstlineno == get_i32(b, L->code_firstlineno)) {
		py->stats.code_cache_hits++;
		return pc;
	}
	code_clear(pc);
	pc->name = read_str(py, key[1] ? key[1] : key[0]);
	pc->file = read_str(py, key[2]);
	if (!pc->name || !pc->file || read_bytes(py, key[3], &pc->table, &pc->table_len) < 0) {
		code_clear(pc);
		return NULL;
	}
	pc->addr = addr;
	memcpy(pc->key, key, sizeof(key));
	pc->firstlineno = get_i32(b, L->code_firstlineno);
	pc->firsttraceable = has(L->code_firsttraceable) ? get_i32(b, L->code_firsttraceable) : 0;
	return pc;
}

/* ---- merging ---- */


static bool is_eval(const struct ct_py *py, const struct ct_frame *f)
{
	return !f->python && !f->ruby && !f->inlined && f->pc >= py->eval_lo && f->pc <= py->eval_hi;
}

static bool is_eval_cb(const void *arg, const struct ct_frame *f)
{
	return is_eval(arg, f);
}

/* One Python frame named from its code object. Only an allocation failure is an error: a frame
 * that fails validation is kept, unnamed. */
static int frame_name(struct ct_py *py, const struct ct_py_raw_frame *r, struct ct_interp_frame *out)
{
	memset(out, 0, sizeof(*out));
	out->f.python = true;
	const struct py_code *pc = code_get(py, r->code);
	if (!pc) {
		py->stats.unreadable++;
		return 0;
	}
	int lasti = r->lasti;
	if (has(py->L.code_code_adaptive)) {
		uint64_t start = r->code + py->L.code_code_adaptive;
		int64_t d = (int64_t)(r->instr - start);
		lasti = d < -2 || d > (int64_t)MAX_TABLE * 8 ? -2 : (int)(d / 2);
		if (lasti == -2) {
			py->stats.unreadable++;
			return 0; /* the instruction pointer is not in this code: not this code's frame */
		}
		if (r->owner != CT_PY_OWNED_BY_GENERATOR && lasti < pc->firsttraceable)
			out->skip = true;
	}
	out->f.function = strdup(pc->name);
	out->f.file = strdup(pc->file);
	if (!out->f.function || !out->f.file)
		return -ENOMEM;
	int line = ct_py_line(py->hex, pc->table, pc->table_len, pc->firstlineno, lasti);
	out->f.line = line > 0 ? line : 0;
	return 0;
}

/* The frames of raw, innermost first, each with the index of the eval-loop call that runs it:
 * before 3.11 one call per frame; 3.11 a call ends at a frame marked is_entry; 3.12+ at the entry
 * frame (owned by the C stack) the call keeps on its own stack. *ret_groups: the calls counted.
 * entries (raw->n + 1 slots, or NULL): an address each call keeps on its own native stack frame
 * (3.11: its _PyCFrame, tied by pychain.c; 3.12+: its entry frame), 0 where none is known. */
static int raw_frames(struct ct_py *py, const struct py_raw *raw, struct ct_interp_frame **ret, size_t *ret_n,
		      size_t *ret_groups, uint64_t *entries)
{
	struct ct_interp_frame *pf = calloc(raw->n ? raw->n : 1, sizeof(*pf));
	if (!pf)
		return -ENOMEM;
	size_t n = 0, group = 0;
	bool open = false;
	for (uint32_t i = 0; i < raw->n; i++) {
		const struct ct_py_raw_frame *r = &raw->f[i];
		if (py->hex >= 0x030c0000 && r->owner == CT_PY_OWNED_BY_CSTACK) {
			if (entries)
				entries[group] = r->addr;
			group++;
			open = false;
			continue;
		}
		if (entries && !open)
			entries[group] = py->hex < 0x030c0000 ? r->anchor : 0;
		if (frame_name(py, r, &pf[n]) < 0) {
			ct_interp_frames_free(pf, n + 1);
			return -ENOMEM;
		}
		pf[n++].group = group;
		py->stats.frames++;
		open = true;
		if (py->hex < 0x030b0000 || (py->hex < 0x030c0000 && r->entry)) {
			group++;
			open = false;
		}
	}
	*ret = pf;
	*ret_n = n;
	if (open && entries && py->hex >= 0x030c0000)
		entries[group] = 0;
	*ret_groups = group + (open ? 1 : 0);
	return 0;
}

static bool waits_for_gil(const struct ct_thread *t)
{
	for (size_t i = 0; i < t->nframes; i++) {
		const char *fn = t->frames[i].function; /* "take_gil", or "take_gil.lto_priv.0" */
		if (fn && !t->frames[i].python && ct_startswith(fn, "take_gil") && (fn[8] == '\0' || fn[8] == '.'))
			return true;
	}
	return false;
}

/* Whether the groups of raw can be matched exactly: 3.11+, a chain not cut at its bound, with an
 * address on the native stack for every group (3.11: the _PyCFrame chain agreed). */
static bool exact_possible(const struct ct_py *py, const struct py_raw *raw, size_t groups, const uint64_t *entries)
{
	if (py->hex < 0x030b0000 || raw->truncated || raw->cf_err || groups == 0)
		return false;
	for (size_t g = 0; g < groups; g++)
		if (entries[g] == 0)
			return false;
	return true;
}

/* 3.11+: each group merged at the eval-loop frame whose native stack frame holds its address.
 * 0, -ENOMEM, or -ESRCH when that cannot be done (older versions, a chain cut at its bound, a
 * group with no address, or in no eval-loop frame or two): match by counting then. */
static int merge_exact(struct ct_py *py, struct ct_thread *t, const struct ct_interp_frame *pf, size_t n, size_t groups,
		       const uint64_t *entries, const struct py_raw *raw)
{
	if (!exact_possible(py, raw, groups, entries))
		return -ESRCH;
	long *group_of = malloc((t->nframes ? t->nframes : 1) * sizeof(*group_of));
	if (!group_of)
		return -ENOMEM;
	int r = ct_interp_match_stack(t, is_eval_cb, py, entries, groups, group_of);
	if (r == 0)
		r = ct_interp_merge_groups(t, pf, n, group_of);
	free(group_of);
	return r;
}

int ct_py_thread_frames(struct ct_py *py, const struct ct_capture *c, struct ct_thread *t)
{
	size_t evals = 0;
	for (size_t i = 0; i < t->nframes; i++)
		evals += is_eval(py, &t->frames[i]);
	const struct py_raw *raw = c->interp;
	if (raw && ct_py_raw_decode(c->interp, c->interp_len, &(const struct ct_py_raw_frame *){ NULL }) < 0)
		raw = NULL;
	if (waits_for_gil(t))
		t->flags |= CT_THREAD_GIL_WAITING;
	else if (raw && py->gil_holder == raw->tstate)
		t->flags |= CT_THREAD_GIL_HOLDER;
	if (raw) {
		py->stats.reads_while_stopped += raw->reads;
		py->stats.copies++;
		py->stats.copy_ns_total += raw->ns;
		py->stats.copy_ns_max = CT_MAX(py->stats.copy_ns_max, raw->ns);
	}
	char why[200];
	if (!raw) {
		if (evals == 0)
			return 0;
		snprintf(why, sizeof(why), "Python frames not shown: no thread state of Python %s is this "
			 "thread's%s", py->version, c->fs_base || !ct_py_needs_thread_pointer(py) ? ""
			 : " (read without stopping: no thread pointer to match)");
		t->interp_note = strdup(why);
		return t->interp_note ? 0 : -ENOMEM;
	}
	if (raw->err) {
		snprintf(why, sizeof(why), "Python frames not shown: %s",
			 raw->err == -ESTALE ? "the thread state changed hands (thread starting or ending)"
			 : raw->err == -ELOOP ? "the frame chain loops (corrupt)"
			 : raw->err == -EPROTO ? "the layout table does not fit this interpreter"
			 : "the frame chain could not be read (interpreter starting, finalizing or corrupt)");
		t->interp_note = strdup(why);
		return t->interp_note ? 0 : -ENOMEM;
	}
	struct ct_interp_frame *pf;
	size_t n, groups;
	uint64_t *entries = malloc((raw->n + 1) * sizeof(*entries));
	int r = entries ? raw_frames(py, raw, &pf, &n, &groups, entries) : -ENOMEM;
	if (r < 0) {
		free(entries);
		return r;
	}
	r = merge_exact(py, t, pf, n, groups, entries, raw);
	free(entries);
	if (r == 0) {
		py->stats.threads_exact++;
	} else if (r == -ESRCH && raw->cf_err) {
		py->stats.threads_apart++;
		snprintf(why, sizeof(why), "Python frames not merged: the eval-loop calls' _PyCFrame chain on the "
			 "native stack disagrees with the interpreter's frame chain");
		r = ct_interp_keep_apart(t, pf, n, why);
	} else if (r == -ESRCH) {
		static const struct ct_interp_words words = { "Python", "eval-loop frame", "Python call",
							      "Python calls", "the interpreter's chain",
							      "chain cut at its bound" };
		r = ct_interp_merge_counted(t, pf, n, groups, raw->truncated, is_eval_cb, py, &words);
		if (r == 0)
			py->stats.threads_apart++;
		else if (r == 1 && groups)
			py->stats.threads_counted++;
		r = r < 0 ? r : 0;
	}
	ct_interp_frames_free(pf, n);
	return r;
}

bool ct_py_is_eval_pc(const struct ct_py *py, uint64_t pc)
{
	return pc >= py->eval_lo && pc <= py->eval_hi;
}

int ct_py_capture_frames(struct ct_py *py, const struct ct_capture *c, const struct ct_upc *pcs, size_t npcs,
			 struct ct_interp_frame **ret, size_t *ret_n, long *group_of, bool *ret_exact)
{
	*ret = NULL;
	*ret_n = 0;
	*ret_exact = false;
	const struct py_raw *raw = c->interp;
	if (!raw || ct_py_raw_decode(c->interp, c->interp_len, &(const struct ct_py_raw_frame *){ NULL }) < 0)
		return -ENODATA;
	if (raw->err)
		return raw->err;
	py->stats.reads_while_stopped += raw->reads;
	struct ct_interp_frame *pf;
	size_t n, groups, evals = 0;
	uint64_t *entries = malloc((raw->n + 1) * sizeof(*entries));
	struct ct_interp_span *span = malloc((npcs ? npcs : 1) * sizeof(*span));
	int r = entries && span ? raw_frames(py, raw, &pf, &n, &groups, entries) : -ENOMEM;
	if (r < 0) {
		free(entries);
		free(span);
		return r;
	}
	for (size_t i = 0; i < npcs; i++) {
		span[i] = (struct ct_interp_span){ pcs[i].sp, ct_py_is_eval_pc(py, pcs[i].pc) };
		evals += span[i].loop;
	}
	/* exact: by the addresses each call keeps on its native stack frame; after a perf sample every
	 * eval-loop frame must get its call (one left over was entered after the chain moved on) */
	r = exact_possible(py, raw, groups, entries) ? ct_interp_match_spans(span, npcs, entries, groups, group_of)
						     : -ESRCH;
	if (r == 0 && raw->sampled && groups != evals)
		r = -EAGAIN;
	else if (r == 0)
		*ret_exact = true;
	else if (r == -ESRCH && (raw->cf_err || groups != evals || raw->truncated))
		r = raw->sampled ? -EAGAIN : -EXDEV;
	else if (r == -ESRCH) /* by counting */
		for (size_t i = 0, g = 0; i < npcs; i++)
			group_of[i] = span[i].loop ? (long)g++ : -1;
	if (r == -ESRCH)
		r = 0;
	free(entries);
	free(span);
	if (r < 0) {
		ct_interp_frames_free(pf, n);
		return r;
	}
	*ret = pf;
	*ret_n = n;
	return 0;
}
