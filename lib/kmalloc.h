/*
 * kmalloc.h - the kfree fast path, inline for the interposer and
 * kmalloc.c, and the out-of-line functions everything unusual goes to.
 * (The allocation fast path is slab_alloc_node in kmalloc.c, and its
 * copy for size classes in malloc().)
 *
 * kfree_fast: a range check, the slab head's descriptor (one subtraction
 * away for an object in a tail page), an exact object check by one
 * multiply (slab_pa_valid), and a push when the object belongs to one
 * of the thread's own slabs.
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

/*
 * pa is p's arena offset, already known to be inside the arena.  Returns
 * false when p is neither the start of a slab object that was handed
 * out nor a kmalloc_large block; the caller then takes __kfree, which
 * frees vmalloc areas and reports everything else.  A slab object the
 * thread does not own goes straight to slab_free_slowpath, so a remote
 * free checks the pointer once.
 *
 * An offline section's descriptors read as zero (mem_map is mapped
 * readable from the start), so they fail the PG_slab test like any page
 * that is not a slab.  An object in a slab's tail page takes the same
 * path as one in its head page, with one more descriptor line read.
 */
static inline __attribute__((always_inline)) bool
kfree_arena_fast(const void *p, uintptr_t pa)
{
	struct kmem_thread *t = kmem_current;
	struct page *page = slab_head_of_pa(pa);
	struct kmem_cache *s;

	/* PG_slab is set on a slab's head page only */
	if (unlikely(!(page->flags & PG_slab))) {
		/* A kmalloc_large block: PG_large is on its head page only.
		 * Read again: keeps the fast path's test a single instruction. */
		if ((__atomic_load_n(&page->flags, __ATOMIC_RELAXED) & PG_large) &&
		    !(pa & (PAGE_SIZE - 1))) {
			kfree_large(page);
			return true;
		}
		return false;
	}
	s = page->slab_cache;
	if (unlikely(!slab_pa_valid(s, page, pa)))
		return false;
	if (unlikely(!slab_free_fast(t, s, page, (void *)p)))
		slab_free_slowpath(s, page, (void *)p);
	return true;
}

static inline __attribute__((always_inline)) void kfree_fast(const void *p, const char *caller)
{
	uintptr_t pa = __pa(p);

	if (likely((pa >> PAGE_SHIFT) < max_pfn) && likely(kfree_arena_fast(p, pa)))
		return;
	__kfree(p, caller);
}

#endif /* KMEM_KMALLOC_H */
