/*
 * kmalloc.h - the kmalloc fast paths, inline for the interposer and
 * kmalloc.c.  Everything unusual goes to an out-of-line function.
 *
 * kmalloc_fast: a size class from a table, the thread's freelist for it,
 * one pop.  kfree_fast: two range checks, the page descriptor, an exact
 * object check by reciprocal multiply, and a push when the object belongs
 * to the thread's active slab.
 */
#ifndef KMEM_KMALLOC_H
#define KMEM_KMALLOC_H

#include "slab.h"
#include "vmalloc.h"

void *kmalloc_slow(size_t size, gfp_t gfp, int nid);
void *kmalloc_large_node(size_t size, gfp_t gfp, int nid);
void *kmalloc_large_aligned(size_t size, size_t align, gfp_t gfp, int nid);
void kfree_large(struct page *page);
void *slab_alloc_zero(struct kmem_cache *s, void *obj, bool fresh);
/* Not a pointer kmem handed out (or already freed): report and stop. */
_Noreturn void kfree_bad(const void *p, const char *caller);
/* kfree for pointers that failed the fast path; caller names the entry point. */
void __kfree(const void *p, const char *caller);
size_t __ksize(const void *p, const char *caller);

static inline void *kmalloc_fast(size_t size)
{
	struct kmem_thread *t = kmem_current;

	if (likely(t != NULL && size <= KMALLOC_MAX_CACHE_SIZE)) {
		struct kmem_cache_cpu *c = &t->cpu_slab[kmalloc_index(size)];
		void *obj = c->freelist;

		if (likely(obj != NULL)) {
			c->freelist = *(void **)obj;   /* kmalloc caches keep it at offset 0 */
			return obj;
		}
	}
	return kmalloc_slow(size, GFP_KERNEL, NUMA_NO_NODE);
}

/*
 * pa is p's arena offset, already known to be inside the arena.  Returns
 * false when the object is not one of the calling thread's active slab;
 * the caller then takes __kfree, which sorts out everything else.
 */
static inline __attribute__((always_inline)) bool
kfree_arena_fast(const void *p, uintptr_t pa)
{
	struct page *page = __pfn_to_page(pa >> PAGE_SHIFT);
	struct kmem_thread *t = kmem_current;
	struct kmem_cache *s;

	if (unlikely(!section_state[pa >> (SECTION_ORDER + PAGE_SHIFT)]))
		return false;
	if (unlikely(page->flags & PG_tail))
		page = page->compound_head;
	if (unlikely(!(page->flags & PG_slab) || t == NULL))
		return false;
	s = page->slab_cache;
	return likely(slab_obj_valid(s, page, p)) && likely(slab_free_fast(t, s, page, (void *)p));
}

static inline __attribute__((always_inline)) void kfree_fast(const void *p, const char *caller)
{
	uintptr_t pa = __pa(p);

	if (likely(pa < (max_pfn << PAGE_SHIFT)) && likely(kfree_arena_fast(p, pa)))
		return;
	__kfree(p, caller);
}

#endif /* KMEM_KMALLOC_H */
