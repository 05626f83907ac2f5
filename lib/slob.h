/*
 * slob.h - malloc's medium heap (slob.c): the interface malloc.c and
 * kmalloc.c use, and how a pointer is recognised as one of its blocks.
 */
#ifndef KMEM_SLOB_H
#define KMEM_SLOB_H

#include "slab.h"

#define SLOB_AREA_ORDER  4
#define SLOB_AREA_PAGES  (1UL << SLOB_AREA_ORDER)
#define SLOB_AREA_SIZE   (PAGE_SIZE << SLOB_AREA_ORDER)

struct slob_area;

/* The area arena offset pa lies in, if it lies in one: an area is an
 * aligned order-4 block. */
static inline struct slob_area *slob_area_at_pa(uintptr_t pa)
{
	return (struct slob_area *)(arena_base + (pa & ~(SLOB_AREA_SIZE - 1)));
}

/*
 * The area holding arena address p, if it lies in one: an area's head
 * page carries PG_slob.  The caller has checked that p is in the arena;
 * in a section not online the descriptor reads as zero (arena.c), so the
 * answer there is NULL.
 */
static inline struct slob_area *slob_area_of_pa(uintptr_t pa)
{
	const struct page *head = __pfn_to_page((pa >> PAGE_SHIFT) & ~(SLOB_AREA_PAGES - 1));

	if (!(head->flags & PG_slob))
		return NULL;
	return slob_area_at_pa(pa);
}

static inline struct slob_area *slob_area_of(const void *p)
{
	return slob_area_of_pa(__pa(p));
}

/* Is a request of size bytes above KMEM_SLOB_MIN (0: the heap is off)? */
static inline bool slob_size_wanted(size_t size)
{
	return size > kmem_config.slob_min && kmem_config.slob_min;
}

/* Does malloc's request of size bytes, of the class whose thread state
 * is c, go to the medium heap?  Above KMEM_SLOB_MIN, and not while the
 * class is busy in this thread (slob_alloc_class). */
static inline bool slob_wanted_class(const struct kmem_cache_cpu *c, size_t size)
{
	return slob_size_wanted(size) && !c->slob_busy;
}

/* The same for any size (malloc_slow, calloc): up to the largest kmalloc
 * class. */
static inline bool slob_wanted(size_t size)
{
	return size <= KMALLOC_MAX_CACHE_SIZE &&
	       slob_wanted_class(kmalloc_cpu_slab(kmem_current, size), size);
}

/* The owner's cache (slob.c): blocks a class, and bytes in all. */
#define SLOB_CACHE_DEPTH 4
/*
 * 128 KiB, not 32: alloc_bench threads-N's medium requests (1/32 of them,
 * 512 B..8 KiB, 4.3 KiB on average) found a cached block half the time
 * with 32 KiB, too few to hold one block of each class they spread over;
 * with 128 KiB threads-1 ran 2.6% fewer instructions and threads-1/2/4/8
 * 4-7% faster (13 interleaved runs, medians), with the same peak RSS on
 * every alloc_bench row, python3, perl, gcc and sqlite3 (ASLR off) and
 * the same idle pool (its classes go busy, and busy classes cache nothing).
 * An idle thread may keep that much more here, as glibc's tcache keeps
 * up to 7 blocks of each of its 64 sizes.
 */
#define SLOB_CACHE_BYTES (128 * 1024)

/*
 * Does malloc's slow path borrow for a request of size bytes (slub.c:
 * malloc_borrow_up)?  Above MALLOC_BORROW_MIN, in the classes the medium
 * heap does not serve.  A class it serves reaches its slabs only when
 * busy (slob_alloc_class), and a busy class that borrowed from the next
 * ones kept its own freelist empty, so its mallocs kept taking the slow
 * path: bench/alloc_bench larson (a random live set of 16 B..1 KiB) made
 * 642K slow-path calls in 4.0M mallocs, took 0.159 s against 0.138
 * without, with a 3% higher peak; no other row changed.
 * With the medium heap off, borrowing is what keeps the classes above
 * MALLOC_BORROW_MIN from peaking on their own (threads-4: 4.3 MB, 5.6
 * without).
 */
static inline bool malloc_borrows(size_t size)
{
	return size > MALLOC_BORROW_MIN && !slob_size_wanted(size);
}

/* malloc's block for a request of kmalloc class s (above KMEM_SLOB_MIN,
 * up to KMALLOC_MAX_CACHE_SIZE), s->size bytes usable; NULL: use the
 * class's slabs. */
void *slob_alloc_class(const struct kmem_cache *s);
/* The same, zeroed over the whole usable size (calloc). */
void *slob_calloc_class(const struct kmem_cache *s);
/* The block t's owner cache holds for kmalloc class cls, or NULL:
 * malloc's first try for a medium request (malloc.c: malloc_medium). */
void *slob_cache_alloc(struct kmem_thread *t, unsigned int cls);
/* Free p, a block of a; anything else stops the program. */
void slob_free(struct slob_area *a, const void *p, const char *caller);
size_t slob_usable_size(struct slob_area *a, const void *p, const char *caller);
/* The calling thread's cached blocks (slob_free) freed for real: the
 * pages of the areas that so became empty, given back. */
unsigned long slob_cache_flush_current(void);
/* Thread exit (thread_release): t's heap goes to the next thread. */
void slob_thread_release(struct kmem_thread *t);
struct slob_usage {
	unsigned long heaps;            /* heaps ever made: threads' and nodes' */
	unsigned long area_bytes;       /* bytes of the areas */
	unsigned long used_bytes;       /* bytes of the blocks in use, headers included */
	unsigned long blocks;           /* blocks in use */
	unsigned long cached_bytes;     /* freed blocks in their owners' caches (free) */
};
void slob_get_usage(struct slob_usage *u);
/* malloc_trim, shrinker: slob_cache_flush_current. */
unsigned long slob_shrink(gfp_t gfp);
/* fork: take (1), drop (0), reinitialise in the child (-1) every heap lock. */
void slob_fork_lock(int lock);

#endif /* KMEM_SLOB_H */
