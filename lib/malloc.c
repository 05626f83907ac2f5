/*
 * malloc.c - the interposer: every allocation entry point glibc exports,
 * mapped onto kmalloc.  This file and the kernel-style API are all that
 * libkmem exports.
 *
 * Contracts:
 *  - glibc's semantics where programs depend on them: 16-byte alignment
 *    for blocks of 16 bytes or more (8 below: no type smaller than 16
 *    bytes needs more, as C requires),
 *    malloc(0) a unique pointer, realloc(p, 0) frees and returns NULL,
 *    realloc never moves a block its usable size still holds unless it
 *    shrinks to half of it or less (see realloc), free(NULL)
 *    and malloc_usable_size(NULL) are no-ops, errno ENOMEM from every entry
 *    point that fails for size, EINVAL for impossible alignments.
 *  - malloc and calloc above KMEM_SLOB_MIN bytes, up to 8 KiB, take a
 *    block of the thread's medium heap (slob.c) unless their class is
 *    busy in the thread; every other size, and kmalloc, takes slabs.
 *  - Ownership is two range checks (arena, vmalloc area).  Anything else
 *    is foreign: memory from the bootstrap buffer is ignored, memory from
 *    the next allocator in the chain (handed out before kmem took over)
 *    goes back to it, and anything else stops the program with
 *    "kmem: free(): invalid pointer".
 *  - Bootstrap: calls made while kmem itself is starting up (re-entry from
 *    inside kmem_init) are served from a static buffer, never freed.
 *  - The symbols glibc's malloc.o defines and libc.a references are all
 *    defined here, so a static link never pulls glibc's allocator in.
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "kmalloc.h"
#include "slob.h"

/* mallinfo is deprecated but still exported; aliases of the public names
 * need not repeat glibc's attributes. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#pragma GCC diagnostic ignored "-Wmissing-attributes"

#define MALLOC_ALIGNMENT 16
/*
 * realloc moves a block growing past this to the vmalloc area (see
 * realloc_slow): glibc's mmap threshold, past which its realloc grows a
 * block with mremap too.  (At 1 MiB, perl's workload copied 7 MB in 51
 * moves of buffers between 128 KiB and 1 MiB.)
 */
#define REALLOC_VMALLOC_MIN (128UL << 10)

#ifdef KMEM_MALLOC_TEST
/* The unit tests link this file under kmem_-prefixed names, so that the
 * test runner itself keeps glibc's allocator. */
#define SYM(name) kmem_##name
#define EXPORT
#else
#define SYM(name) name
#define EXPORT __attribute__((visibility("default")))
#endif

EXPORT void SYM(free)(void *p);

/* ---- bootstrap ---------------------------------------------------------- */

#define BOOTSTRAP_SIZE (256UL << 10)

static char bootstrap_heap[BOOTSTRAP_SIZE] __large_bss __attribute__((aligned(4096)));
static size_t bootstrap_used;

static bool bootstrap_contains(const void *p)
{
	return (uintptr_t)p - (uintptr_t)bootstrap_heap < BOOTSTRAP_SIZE;
}

/* 16-byte header holding the size, so realloc can copy. */
static void *bootstrap_alloc(size_t size, size_t align)
{
	size_t used, start;

	align = MAX(align, (size_t)MALLOC_ALIGNMENT);
	if (size > BOOTSTRAP_SIZE)
		goto nomem;
	used = __atomic_load_n(&bootstrap_used, __ATOMIC_RELAXED);
	do {
		start = ALIGN_UP(used + 16, align);
		if (start + size > BOOTSTRAP_SIZE)
			goto nomem;
	} while (!__atomic_compare_exchange_n(&bootstrap_used, &used, start + size, false,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	((size_t *)(bootstrap_heap + start))[-1] = size;
	return bootstrap_heap + start;
nomem:
	errno = ENOMEM;
	return NULL;
}

static size_t bootstrap_size(const void *p)
{
	return ((const size_t *)p)[-1];
}

/* ---- the next allocator ----------------------------------------------- */

static void (*next_free)(void *);
static size_t (*next_usable_size)(void *);
static uintptr_t initial_brk;

__attribute__((constructor(101))) static void remember_brk(void)
{
	if (!initial_brk)
		initial_brk = (uintptr_t)sbrk(0);
}

/*
 * Does p look like a chunk of glibc's malloc?  A heap chunk lies in the
 * brk heap, which only glibc's malloc grows once kmem is in place; a
 * mmapped chunk starts 16 bytes into a mapped page and says so in its
 * header.  Nothing else is handed to the next allocator.
 */
static bool from_next_allocator(const void *p)
{
	uintptr_t a = (uintptr_t)p;
	unsigned char vec;

	if (a & (MALLOC_ALIGNMENT - 1))
		return false;
	if (initial_brk && a > initial_brk && a < (uintptr_t)sbrk(0))
		return true;
	if (((a - 16) & (PAGE_SIZE - 1)) == 0 && a > PAGE_SIZE &&
	    mincore((void *)(a - 16), PAGE_SIZE, &vec) == 0)
		return (((const size_t *)p)[-1] & 2) != 0;    /* IS_MMAPPED */
	return false;
}

static bool resolve_next(void)
{
	if (!next_free) {
		next_usable_size = (size_t (*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
		next_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	}
	return next_free && next_free != (void (*)(void *))SYM(free);
}

static void foreign_free(void *p, const char *caller)
{
	if (bootstrap_contains(p))
		return;
	if (from_next_allocator(p) && resolve_next()) {
		next_free(p);
		return;
	}
	kmem_panic("%s(): invalid pointer %p", caller, p);
}

static size_t foreign_usable_size(void *p, const char *caller)
{
	if (bootstrap_contains(p))
		return bootstrap_size(p);
	if (from_next_allocator(p) && resolve_next() && next_usable_size)
		return next_usable_size(p);
	kmem_panic("%s(): invalid pointer %p", caller, p);
}

static inline bool kmem_owns(const void *p)
{
	return arena_contains(p) || vmalloc_contains(p);
}

/* ---- malloc ------------------------------------------------------------ */

static __attribute__((noinline)) void *malloc_slow(size_t size, gfp_t gfp)
{
	void *p;

	if (unlikely(!kmem_ready()))
		return bootstrap_alloc(size, MALLOC_ALIGNMENT);
	if (unlikely(size > PTRDIFF_MAX)) {
		errno = ENOMEM;
		return NULL;
	}
	/* The thread's freelist for this class ran dry (or malloc's fast
	 * path found kmem_thread_unset): straight to the slab slow path,
	 * the one that may borrow for the classes that do (malloc_borrows),
	 * kmalloc's for the others. */
	if (likely(size <= KMALLOC_MAX_CACHE_SIZE)) {
		struct kmem_cache *s = kmalloc_caches[kmalloc_index(size)];

		if (slob_wanted(size) && (p = slob_alloc_class(s)))
			return p;
		p = malloc_borrows(size) ? malloc_alloc_slowpath(s, gfp)
					 : slab_alloc_slowpath(s, gfp, NUMA_NO_NODE);
	} else {
		p = kmalloc_large_aligned(size, PAGE_SIZE, gfp, NUMA_NO_NODE);
	}
	if (unlikely(!p))
		errno = ENOMEM;
	return p;
}

/*
 * A medium request (slob.h): the block the owner's cache holds for its
 * class, else malloc_slow, which tries the medium heap in full.  Out of
 * malloc, which calls it last, so that malloc saves no register: a 4 KiB
 * malloc+free pair (bench/malloc-costs) took 185 instructions through
 * malloc_slow and slob_alloc_class.
 */
static __attribute__((noinline)) void *malloc_medium(size_t size)
{
	void *p = slob_cache_alloc(kmem_current, kmalloc_index(size));

	return p ? p : malloc_slow(size, GFP_KERNEL | __GFP_MOVABLE);
}

EXPORT void *SYM(malloc)(size_t size)
{
	if (likely(size <= KMALLOC_MAX_CACHE_SIZE)) {
		/* A thread's first call finds kmem_thread_unset's empty lists;
		 * kmalloc caches have ids equal to their size-class index. */
		struct kmem_cache_cpu *c = kmalloc_cpu_slab(kmem_current, size);
		/* Most misses of c->freelist: the thread's frees into its
		 * active slab wait there.  Taken here, with c at hand: a
		 * malloc/free loop whose working set is one object (a class
		 * with one object per page, carved a page at a time) misses on
		 * every call. */
		void *obj = kmalloc_cpu_pop(c);

		if (likely(obj != NULL))
			return obj;
		if (slob_wanted_class(c, size))
			return malloc_medium(size);
	}
	return malloc_slow(size, GFP_KERNEL | __GFP_MOVABLE);
}

EXPORT void SYM(free)(void *p)
{
	uintptr_t pa = __pa(p);

	if (likely((pa >> PAGE_SHIFT) < max_pfn)) {
		kfree_arena(p, pa, "free");
		return;
	}
	if (!p)
		return;
	if (vmalloc_contains(p))
		__kfree(p, "free");
	else
		foreign_free(p, "free");
}

static __attribute__((noinline)) void *calloc_slow(size_t n, size_t size)
{
	size_t bytes;

	if (unlikely(__builtin_mul_overflow(n, size, &bytes) || bytes > PTRDIFF_MAX)) {
		errno = ENOMEM;
		return NULL;
	}
	if (unlikely(kmem_init() != 0)) {
		void *p = bootstrap_alloc(bytes, MALLOC_ALIGNMENT);

		return p ? memset(p, 0, bytes) : NULL;
	}
	void *p;

	if (slob_wanted(bytes) &&
	    (p = slob_calloc_class(kmalloc_caches[kmalloc_index(bytes)])))
		return p;
	p = kmalloc_node(bytes, GFP_KERNEL | __GFP_MOVABLE | __GFP_ZERO, NUMA_NO_NODE);
	if (unlikely(!p))
		errno = ENOMEM;
	return p;
}

/*
 * malloc's fast path, then the whole object zeroed as kzalloc zeroes it
 * (slab_alloc_zero): objects carved from a fresh slab read as zero but
 * their free pointer.  Through kmalloc_node, a calloc cost 90
 * instructions in bench/program-costs' perl run (82K callocs).
 */
EXPORT void *SYM(calloc)(size_t n, size_t size)
{
	size_t bytes;

	if (likely(!__builtin_mul_overflow(n, size, &bytes) && bytes <= KMALLOC_MAX_CACHE_SIZE)) {
		struct kmem_cache_cpu *c = kmalloc_cpu_slab(kmem_current, bytes);
		void *obj = c->freelist;

		if (likely(obj != NULL)) {
			cpu_freelist_popped(c, *(void **)obj);
			if (c->fresh)
				*(void **)obj = NULL;
			else
				memset(obj, 0, kmalloc_sizes[kmalloc_index(bytes)]);
			return obj;
		}
	}
	return calloc_slow(n, size);
}

/*
 * The slab holding p when p is a slab object kmem handed out, as free's
 * fast path checks it; NULL for anything else (NULL, a large block, a bad
 * pointer), which the caller's slow path sorts out.  Used where that is
 * most of the traffic: realloc, and malloc_usable_size, which some
 * programs call on every malloc and free (redis counts its memory so).
 */
static inline struct page *slab_of_object(const void *p)
{
	uintptr_t pa = __pa(p);
	struct page *page;

	/* NULL and kmem not yet up fail the range test */
	if (unlikely((pa >> PAGE_SHIFT) >= max_pfn))
		return NULL;
	page = slab_head_of_pa(pa);
	if (unlikely(!(page->flags & PG_slab)) ||
	    unlikely(!slab_pa_valid(page->slab_cache, page, pa)))
		return NULL;
	return page;
}

static __attribute__((noinline)) size_t malloc_usable_size_slow(void *p)
{
	if (!p)
		return 0;
	if (kmem_owns(p))
		return __ksize(p, "malloc_usable_size");
	return foreign_usable_size(p, "malloc_usable_size");
}

EXPORT size_t SYM(malloc_usable_size)(void *p)
{
	struct page *page = slab_of_object(p);

	if (likely(page))
		return page->slab_cache->object_size;
	return malloc_usable_size_slow(p);
}

/*
 * realloc's two size rules, shared by realloc_slow, which explains them,
 * and realloc's fast path: a block shrinking to more than half its
 * usable size stays where it is, and a block that grows gets half as
 * much again of room.
 */
static inline bool realloc_shrink_stays(size_t old, size_t size)
{
	return size > old / 2;
}

static inline size_t realloc_room(size_t old, size_t size)
{
	return MAX(size, old + old / 2);
}

static __attribute__((noinline)) void *realloc_slow(void *p, size_t size)
{
	size_t old;
	void *q;

	if (!p)
		return SYM(malloc)(size);
	if (size == 0) {
		SYM(free)(p);
		return NULL;
	}
	if (unlikely(size > PTRDIFF_MAX)) {
		errno = ENOMEM;
		return NULL;
	}
	if (unlikely(!kmem_owns(p))) {
		old = foreign_usable_size(p, "realloc");
		q = SYM(malloc)(size);
		if (q) {
			memcpy(q, p, MIN(old, size));
			foreign_free(p, "realloc");
		}
		return q;
	}
	old = __ksize(p, "realloc");
	/*
	 * Shrinking to half or less moves an arena block to one that fits,
	 * as glibc gives the tail back and mimalloc moves: programs build a
	 * string or array in an over-sized buffer and trim it (python's
	 * str formatting does, for every result), and kept in place each
	 * trimmed object would pin its larger class - 7 MiB of python3's
	 * 30 MiB peak.  If no smaller block can be had, the old one stays.
	 */
	if (size <= old) {
		if (likely(realloc_shrink_stays(old, size)) || vmalloc_contains(p) ||
		    !(q = SYM(malloc)(size)))
			return p;
		memcpy(q, p, size);
		SYM(free)(p);
		return q;
	}
	/* A vmalloc-area block grows in place or moves its pages (mremap). */
	if (vmalloc_contains(p)) {
		q = vmalloc_area_realloc(p, size);
		if (!q)
			errno = ENOMEM;
		return q;
	}
	/*
	 * Growing: leave half as much again of room, so that a buffer grown a
	 * little at a time is copied O(log n) times rather than once per size
	 * class (four or eight per doubling) or per page.  The room shows in
	 * malloc_usable_size.  Beyond REALLOC_VMALLOC_MIN the block moves to
	 * the vmalloc area, where every later growth is copy-free and a freed
	 * block goes back to the OS: growing through the buddy allocator would
	 * copy each step and leave the old blocks' pages resident.
	 */
	size_t room = realloc_room(old, size);

	if (room <= KMALLOC_MAX_CACHE_SIZE)
		q = SYM(malloc)(room);
	else if (room <= REALLOC_VMALLOC_MIN)
		q = kmalloc_large_node(room, GFP_KERNEL | __GFP_MOVABLE, NUMA_NO_NODE);
	else
		q = vmalloc_area_alloc_growing(room);
	if (unlikely(!q) && room > size)
		q = size <= REALLOC_VMALLOC_MIN ? SYM(malloc)(size)
			: vmalloc_area_alloc_growing(size);
	if (unlikely(!q)) {
		errno = ENOMEM;
		return NULL;    /* p stays valid */
	}
	memcpy(q, p, old);
	SYM(free)(p);
	return q;
}

/*
 * The common realloc: a slab object, to a size a kmalloc cache serves.
 * It is checked once, as free checks it, and freed after the copy
 * without a second check: a realloc that moved cost 159 instructions, 48
 * of them in __ksize, in bench/program-costs' python3 run (130K
 * reallocs).  Everything else, and every failure, goes to realloc_slow,
 * which decides the same way.
 */
EXPORT void *SYM(realloc)(void *p, size_t size)
{
	struct page *page;
	struct kmem_cache *s;
	size_t old, want;
	void *q;

	if (unlikely(size - 1 >= KMALLOC_MAX_CACHE_SIZE))  /* size 0 too */
		return realloc_slow(p, size);
	page = slab_of_object(p);
	if (unlikely(!page)) {
		/* realloc(NULL, n), the way many programs start a buffer
		 * (python3: 26K of its 130K reallocs): straight to malloc */
		if (!p)
			return SYM(malloc)(size);
		return realloc_slow(p, size);
	}
	s = page->slab_cache;
	old = s->object_size;
	if (size <= old) {
		if (likely(realloc_shrink_stays(old, size)))
			return p;
		want = size;
	} else {
		want = realloc_room(old, size);
		if (want > KMALLOC_MAX_CACHE_SIZE)
			return realloc_slow(p, size);
	}
	q = SYM(malloc)(want);
	if (unlikely(!q))
		return realloc_slow(p, size);
	memcpy(q, p, MIN(old, size));
	if (unlikely(!slab_free_fast(kmem_current, s, page, p)))
		slab_free_slowpath(s, page, p);
	return q;
}

EXPORT void *SYM(reallocarray)(void *p, size_t n, size_t size)
{
	size_t bytes;

	if (unlikely(__builtin_mul_overflow(n, size, &bytes))) {
		errno = ENOMEM;
		return NULL;
	}
	return SYM(realloc)(p, bytes);
}

/* ---- aligned ------------------------------------------------------------ */

/* The smallest kmalloc class that holds size and whose objects all sit on
 * an align boundary (its stride is a multiple of align). */
static int aligned_class(size_t size, size_t align)
{
	for (unsigned int i = kmalloc_index(MAX(size, align)); i < KMALLOC_NR_CACHES; i++)
		if (kmalloc_sizes[i] % align == 0)
			return (int)i;
	return -1;
}

static void *aligned_malloc(size_t align, size_t size)
{
	void *p;
	int idx;

	/* kmalloc-8 objects are only 8-byte aligned: ask for at least align */
	if (align <= MALLOC_ALIGNMENT)
		return SYM(malloc)(MAX(size, align));
	if (unlikely(size > PTRDIFF_MAX || align > PTRDIFF_MAX / 2 + 1)) {
		errno = ENOMEM;
		return NULL;
	}
	if (unlikely(kmem_init() != 0))
		return bootstrap_alloc(size, align);
	if (align <= PAGE_SIZE && size <= KMALLOC_MAX_CACHE_SIZE &&
	    (idx = aligned_class(size, align)) >= 0)
		p = kmalloc(kmalloc_sizes[idx], GFP_KERNEL | __GFP_MOVABLE);
	else
		p = kmalloc_large_aligned(size, align, GFP_KERNEL | __GFP_MOVABLE, NUMA_NO_NODE);
	if (!p)
		errno = ENOMEM;
	return p;
}

static bool power_of_two(size_t x)
{
	return x && !(x & (x - 1));
}

EXPORT void *SYM(memalign)(size_t align, size_t size)
{
	/* glibc: a non-power-of-two alignment is rounded up. */
	if (unlikely(align > PTRDIFF_MAX / 2 + 1)) {
		errno = EINVAL;
		return NULL;
	}
	if (!power_of_two(align))
		align = align ? 1UL << (64 - __builtin_clzl(align)) : 1;
	return aligned_malloc(align, size);
}

EXPORT void *SYM(aligned_alloc)(size_t align, size_t size)
{
	if (unlikely(!power_of_two(align) || align > PTRDIFF_MAX / 2 + 1)) {
		errno = EINVAL;
		return NULL;
	}
	return aligned_malloc(align, size);
}

EXPORT int SYM(posix_memalign)(void **out, size_t align, size_t size)
{
	void *p;
	int saved = errno;

	if (unlikely(!power_of_two(align) || align % sizeof(void *) ||
		     align > PTRDIFF_MAX / 2 + 1))
		return EINVAL;
	p = aligned_malloc(align, size);
	if (!p) {
		errno = saved;
		return ENOMEM;
	}
	*out = p;
	return 0;
}

EXPORT void *SYM(valloc)(size_t size)
{
	return aligned_malloc(PAGE_SIZE, size);
}

EXPORT void *SYM(pvalloc)(size_t size)
{
	size_t rounded;

	if (unlikely(__builtin_add_overflow(size, PAGE_SIZE - 1, &rounded))) {
		errno = ENOMEM;
		return NULL;
	}
	rounded &= PAGE_MASK;
	return aligned_malloc(PAGE_SIZE, rounded ? rounded : PAGE_SIZE);
}

EXPORT void SYM(free_sized)(void *p, size_t size)
{
	(void)size;
	SYM(free)(p);
}

EXPORT void SYM(free_aligned_sized)(void *p, size_t align, size_t size)
{
	(void)align;
	(void)size;
	SYM(free)(p);
}

/* ---- statistics and tuning ---------------------------------------------- */

EXPORT struct mallinfo2 SYM(mallinfo2)(void)
{
	struct kmem_usage u;
	struct mallinfo2 mi;

	memset(&mi, 0, sizeof(mi));
	if (kmem_init() != 0)
		return mi;
	kmem_get_usage(&u);
	mi.arena = u.arena_bytes;
	mi.ordblks = u.free_blocks;
	mi.hblks = u.vmalloc_allocs;
	mi.hblkhd = u.vmalloc_bytes;
	mi.uordblks = u.used_bytes;
	mi.fordblks = u.free_bytes;
	mi.keepcost = 0;
	return mi;
}

static int clamp_int(size_t v)
{
	return v > INT32_MAX ? INT32_MAX : (int)v;
}

EXPORT struct mallinfo SYM(mallinfo)(void)
{
	struct mallinfo2 m2 = SYM(mallinfo2)();
	struct mallinfo mi;

	mi.arena = clamp_int(m2.arena);
	mi.ordblks = clamp_int(m2.ordblks);
	mi.smblks = clamp_int(m2.smblks);
	mi.hblks = clamp_int(m2.hblks);
	mi.hblkhd = clamp_int(m2.hblkhd);
	mi.usmblks = clamp_int(m2.usmblks);
	mi.fsmblks = clamp_int(m2.fsmblks);
	mi.uordblks = clamp_int(m2.uordblks);
	mi.fordblks = clamp_int(m2.fordblks);
	mi.keepcost = clamp_int(m2.keepcost);
	return mi;
}

EXPORT int SYM(malloc_trim)(size_t pad)
{
	(void)pad;
	if (kmem_init() != 0)
		return 0;
	/* this thread's cached large blocks now, every other thread's at
	 * its next large request or free */
	kmalloc_large_shrink(GFP_KERNEL);
	slab_shrink_all(GFP_KERNEL);
	return (slob_shrink(GFP_KERNEL) + vmalloc_cache_flush() + kmem_reclaim()) > 0;
}

EXPORT void SYM(malloc_stats)(void)
{
	kmem_show_stats(2);
}

EXPORT int SYM(malloc_info)(int options, FILE *fp)
{
	struct kmem_usage u;

	if (options != 0) {
		errno = EINVAL;
		return -1;
	}
	if (kmem_init() != 0)
		return -1;
	kmem_get_usage(&u);
	fprintf(fp, "<malloc version=\"1\" allocator=\"kmem\">\n"
		"<total type=\"arena\" size=\"%zu\"/>\n"
		"<total type=\"used\" size=\"%zu\"/>\n"
		"<total type=\"free\" size=\"%zu\"/>\n"
		"<total type=\"vmalloc\" count=\"%zu\" size=\"%zu\"/>\n"
		"<system type=\"current\" size=\"%zu\"/>\n"
		"</malloc>\n",
		u.arena_bytes, u.used_bytes, u.free_bytes, u.vmalloc_allocs,
		u.vmalloc_bytes, u.resident_bytes);
	return 0;
}

EXPORT int SYM(mallopt)(int param, int value)
{
	(void)value;
	switch (param) {
	case M_MXFAST: case M_TRIM_THRESHOLD: case M_TOP_PAD: case M_MMAP_THRESHOLD:
	case M_MMAP_MAX: case M_CHECK_ACTION: case M_PERTURB: case M_ARENA_TEST:
	case M_ARENA_MAX:
		return 1;       /* accepted; kmem tunes itself (KMEM_* options) */
	default:
		return 0;
	}
}

#ifndef KMEM_MALLOC_TEST
/* ---- glibc's internal names, for static links -------------------------- */

#define ALIAS(name, target) \
	EXPORT __typeof__(target) name __attribute__((alias(#target)))

ALIAS(__libc_malloc, malloc);
ALIAS(__libc_free, free);
ALIAS(__libc_calloc, calloc);
ALIAS(__libc_realloc, realloc);
ALIAS(__libc_memalign, memalign);
ALIAS(__libc_valloc, valloc);
ALIAS(__libc_pvalloc, pvalloc);
ALIAS(__libc_mallinfo, mallinfo);
ALIAS(__libc_mallinfo2, mallinfo2);
ALIAS(__libc_mallopt, mallopt);
ALIAS(__malloc, malloc);
ALIAS(__free, free);
ALIAS(__calloc, calloc);
ALIAS(__realloc, realloc);
ALIAS(__memalign, memalign);
ALIAS(__valloc, valloc);
ALIAS(__pvalloc, pvalloc);
ALIAS(__posix_memalign, posix_memalign);
ALIAS(__malloc_usable_size, malloc_usable_size);
ALIAS(__malloc_trim, malloc_trim);
ALIAS(__malloc_stats, malloc_stats);
ALIAS(__malloc_info, malloc_info);
ALIAS(__mallopt, mallopt);
ALIAS(__mallinfo, mallinfo);
ALIAS(__mallinfo2, mallinfo2);

/* libc.a's fork and thread exit call into its allocator by these names;
 * kmem's own fork and thread-exit handling is registered at kmem_init. */
EXPORT void __malloc_fork_lock_parent(void) {}
EXPORT void __malloc_fork_unlock_parent(void) {}
EXPORT void __malloc_fork_unlock_child(void) {}
EXPORT void __malloc_arena_thread_freeres(void) {}
EXPORT void *(*__glibc_morecore)(ptrdiff_t) = NULL;
#endif /* KMEM_MALLOC_TEST */
