/*
 * kmalloc.h - the kfree fast path, inline for the interposer and
 * kmalloc.c, and the out-of-line functions everything unusual goes to.
 * (The allocation fast path is slab_alloc_node in kmalloc.c, and its
 * copy for size classes in malloc().)
 *
 * kfree_fast: a range check, the owner test on the pointer's own page
 * descriptor, an exact object check by one multiply and one rotate
 * (slab_pa_valid) against the slab head's carved count (one subtraction
 * away for an object in a tail page), and a push: 33 instructions for an
 * object of one of the thread's own slabs.
 */
#ifndef KMEM_KMALLOC_H
#define KMEM_KMALLOC_H

#include "slab.h"
#include "vmalloc.h"

void *kmalloc_slow(size_t size, gfp_t gfp, int nid);
void *kmalloc_large_node(size_t size, gfp_t gfp, int nid);
void *kmalloc_large_aligned(size_t size, size_t align, gfp_t gfp, int nid);
void kfree_large(struct page *page);
/* Give a thread's cached large blocks back to the page allocator. */
void kmalloc_large_drain(struct kmem_thread *t);
void kmalloc_large_drain_local(void);
unsigned long kmalloc_large_shrink(gfp_t gfp);
void *slab_alloc_zero(struct kmem_cache *s, void *obj, bool fresh);
/* Not a pointer kmem handed out (or already freed): report and stop. */
_Noreturn void kfree_bad(const void *p, const char *caller);
/* kfree for pointers that failed the fast path; caller names the entry point. */
void __kfree(const void *p, const char *caller);
size_t __ksize(const void *p, const char *caller);

/* kfree_arena's case of any pointer but an object of one of the
 * thread's own slabs (kmalloc.c). */
void kfree_arena_not_owned(const void *p, uintptr_t pa, struct page *page, const char *caller);

/*
 * Free p, whose arena offset pa is known to be inside the arena: a slab
 * object that was handed out or a kmalloc_large block; anything else
 * goes to __kfree, which frees vmalloc areas and reports the rest.
 *
 * The owner test comes first, before PG_slab: slab_owner is non-NULL
 * only on the pages of a live slab (mm_types.h), and kmem_current is
 * never NULL, so a page whose slab_owner is this thread is one of its
 * slabs (the PG_slab test left free's fast path).  It reads the
 * pointer's own page, whose tail copies of slab_owner and slab_cache
 * spare the owner test and the cache's loads a wait for the head's
 * address: bench/run's fixed-64 and threads-1 took 2-3% less time
 * (median of 15-21 interleaved runs) for one instruction more.  Anything
 * else, a remote free included, goes to kfree_arena_not_owned, which
 * checks the pointer once.  Every call out is a tail call: nothing is
 * kept across one, so the fast path saves no register.  An offline
 * section's descriptors read as zero (mem_map is mapped readable from
 * the start).  An object in a slab's tail page takes the same path as
 * one in its head page, with one more descriptor line read.
 */
static inline __attribute__((always_inline)) void
kfree_arena(const void *p, uintptr_t pa, const char *caller)
{
	struct kmem_thread *t = kmem_current;
	struct page *page = __pfn_to_page(pa >> PAGE_SHIFT);
	struct kmem_cache *s;
	struct page *slab;

	if (unlikely(page->slab_owner != t)) {
		kfree_arena_not_owned(p, pa, slab_head_of_page(page), caller);
		return;
	}
	s = page->slab_cache;
	slab = slab_head_of_page(page);
	if (unlikely(!slab_pa_valid(s, slab, pa))) {
		__kfree(p, caller);
		return;
	}
	slab_free_owned(t, s, slab, (void *)p);
}

static inline __attribute__((always_inline)) void kfree_fast(const void *p, const char *caller)
{
	uintptr_t pa = __pa(p);

	if (likely((pa >> PAGE_SHIFT) < max_pfn))
		kfree_arena(p, pa, caller);
	else
		__kfree(p, caller);
}

#endif /* KMEM_KMALLOC_H */
