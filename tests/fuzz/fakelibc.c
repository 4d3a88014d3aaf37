/* Seed source for fuzz_elf (not built by make): a small shared object shaped like glibc's malloc
 * where memory/glibc.c looks (main_arena, mp_, __libc_malloc and their types in one CU), with an
 * inlined call and a tail call for the symbolizer. The seeds in tests/fuzz/corpus/fuzz_elf:
 *   gcc -g -O2 -shared -fPIC -o fakelibc.so tests/fuzz/fakelibc.c
 *   objcopy --compress-debug-sections=zlib fakelibc.so fakelibc-z.so */
#include <stddef.h>

typedef struct malloc_chunk *mchunkptr;
struct malloc_chunk {
	size_t mchunk_prev_size, mchunk_size;
	struct malloc_chunk *fd, *bk, *fd_nextsize, *bk_nextsize;
};
struct malloc_state {
	int mutex, flags, have_fastchunks;
	mchunkptr fastbinsY[10];
	mchunkptr top, last_remainder;
	mchunkptr bins[254];
	unsigned int binmap[4];
	struct malloc_state *next, *next_free;
	size_t attached_threads, system_mem, max_system_mem;
};
typedef struct _heap_info {
	struct malloc_state *ar_ptr;
	struct _heap_info *prev;
	size_t size, mprotect_size, pagesize;
} heap_info;
struct malloc_par {
	unsigned long trim_threshold;
	size_t top_pad, mmap_threshold, arena_test, arena_max;
	int n_mmaps, n_mmaps_max, max_n_mmaps, no_dyn_threshold;
	size_t mmapped_mem, max_mmapped_mem;
};

struct malloc_state main_arena;
struct malloc_par mp_;
heap_info *last_heap;

static inline __attribute__((always_inline)) size_t chunk_size(mchunkptr p)
{
	return p->mchunk_size & ~(size_t)7;
}

__attribute__((noinline)) size_t helper(mchunkptr p)
{
	return p ? chunk_size(p) + mp_.mmapped_mem : 0;
}

void *__libc_malloc(size_t n)
{
	if (n > (size_t)main_arena.system_mem)
		return (void *)helper(main_arena.top); /* a tail call */
	return last_heap ? last_heap->ar_ptr : NULL;
}
