/*
 * kmalloc.c - the kmalloc family and the kmem_cache_* object API: size
 * classes to slab caches, larger requests to the buddy allocator with the
 * unused tail given back, huge ones to the vmalloc area.
 *
 * Contracts:
 *  - kmalloc(n) for n <= 8 KiB returns an object of class kmalloc_index(n),
 *    16-byte aligned; larger requests return page-aligned memory.
 *  - ksize(p) is the usable size: the class size, the pages kept, or the
 *    mapped bytes.  krealloc never moves a block whose usable size holds
 *    the new size.
 *  - __GFP_ZERO clears only what is not known to be zero already: fresh
 *    slab objects need their free pointer cleared, fresh pages nothing.
 *  - kmalloc_large blocks of up to LARGE_CACHE_PAGES pages freed by a
 *    thread stay on its large_cache (LARGE_CACHE_LIMIT pages at most) for
 *    its next request of the same page count: every 64 KiB malloc/free
 *    would otherwise take the zone lock and split and merge a buddy block,
 *    as the kernel's pcp lists avoid for orders 0..3.  A cached block's
 *    large_size is 0, so freeing it again is caught.  Thread exit, fork
 *    and reclaim give the blocks back (kmalloc_large_drain).
 *  - A pointer that is not the start of a live object stops the program
 *    with "kmem: <caller>(): invalid pointer", a freed one with a
 *    "double free" message; NULL is always a no-op.
 */
#include <errno.h>
#include <string.h>
#include "kmalloc.h"

/*
 * Zeroing covers the whole object, not just what was asked for: ksize()
 * promises all of it, and krealloc(__GFP_ZERO) relies on that, as in the
 * kernel.
 */
void *slab_alloc_zero(struct kmem_cache *s, void *obj, bool fresh)
{
	if (fresh && s->offset == 0)
		*(void **)obj = NULL;
	else
		memset(obj, 0, s->object_size);
	return obj;
}

static void *slab_alloc_node(struct kmem_cache *s, gfp_t gfp, int nid)
{
	struct kmem_thread *t = kmem_current;
	struct kmem_cache_cpu *c;
	void *obj;
	bool fresh;

	if (likely(nid == NUMA_NO_NODE)) {
		c = thread_cpu_slab(t, s);
		obj = c->freelist;
		if (likely(obj != NULL)) {
			c->freelist = get_freepointer(s, obj);
			if (unlikely(gfp & __GFP_ZERO))
				slab_alloc_zero(s, obj, c->fresh);
			return obj;
		}
	}
	if (unlikely(!kmem_ready())) {
		errno = ENOMEM;
		return NULL;
	}
	obj = slab_alloc_slowpath(s, gfp, nid);
	if (unlikely(!obj)) {
		errno = ENOMEM;
		return NULL;
	}
	if (gfp & __GFP_ZERO) {
		t = kmem_current;
		fresh = t && !t->exiting && thread_cpu_slab(t, s)->fresh;
		slab_alloc_zero(s, obj, fresh);
	}
	return obj;
}

/* ---- large: whole pages from the buddy allocator ----------------------- */

/*
 * A block of 2^order pages, aligned to its size, keeping only the pages
 * that hold size bytes: the tail goes back at once.  align (a power of
 * two) may ask for a larger block than size needs.
 */
void *kmalloc_large_aligned(size_t size, size_t align, gfp_t gfp, int nid)
{
	unsigned long nr;
	unsigned int order;
	struct page *page;
	bool zeroed;

	if (MAX(size, align) > (PAGE_SIZE << MAX_ORDER))
		return vmalloc_area_alloc(size, align, gfp & __GFP_ZERO);
	nr = (size + PAGE_SIZE - 1) >> PAGE_SHIFT;
	if (nr <= LARGE_CACHE_PAGES && align <= PAGE_SIZE && nid == NUMA_NO_NODE) {
		struct kmem_thread *t = kmem_current;
		void *block = t ? t->large_cache[nr] : NULL;

		if (block) {
			page = __virt_to_page(block);
			t->large_cache[nr] = *(void **)block;
			t->large_cached -= (unsigned int)nr;
			page->large_size = size;
			atomic_fetch_add_explicit(&kmalloc_large_bytes, nr << PAGE_SHIFT,
						  memory_order_relaxed);
			if (gfp & __GFP_ZERO)
				memset(block, 0, nr << PAGE_SHIFT);
			return block;
		}
	}
	order = get_order(MAX(size, align));
	page = __alloc_pages((gfp & ~__GFP_ZERO) | __GFP_NOWARN, order, nid);
	if (unlikely(!page)) {
		errno = ENOMEM;
		return NULL;
	}
	zeroed = page->flags & PG_zeroed;
	/* the head's block shrinks to one page before its tail goes back */
	set_page_head(page, 0, PG_large);
	page->flags &= ~PG_zeroed;
	if (nr < (1UL << order))
		free_pages_range(page, nr, 1UL << order);
	page->large_pages = nr;
	page->large_size = size;
	atomic_fetch_add_explicit(&kmalloc_large_bytes, nr << PAGE_SHIFT, memory_order_relaxed);
	if ((gfp & __GFP_ZERO) && !zeroed)
		memset(lowmem_page_address(page), 0, nr << PAGE_SHIFT);
	return lowmem_page_address(page);
}

static void __kfree_large(struct page *page)
{
	unsigned long nr = page->large_pages;

	page->flags &= ~PG_large;
	page->large_pages = 0;
	page->large_size = 0;
	free_pages_range(page, 0, nr);
}

void kfree_large(struct page *page)
{
	unsigned long nr = page->large_pages;
	struct kmem_thread *t = current_thread();

	if (unlikely(!page->large_size))
		kmem_panic("kfree(): double free of a %lu-page block at %p",
			   nr, lowmem_page_address(page));
	atomic_fetch_sub_explicit(&kmalloc_large_bytes, nr << PAGE_SHIFT, memory_order_relaxed);
	if (nr <= LARGE_CACHE_PAGES && t && !t->exiting &&
	    t->large_cached + nr <= LARGE_CACHE_LIMIT) {
		void *block = lowmem_page_address(page);

		page->large_size = 0;
		*(void **)block = t->large_cache[nr];
		t->large_cache[nr] = block;
		t->large_cached += (unsigned int)nr;
		return;
	}
	__kfree_large(page);
}

void kmalloc_large_drain(struct kmem_thread *t)
{
	for (unsigned long nr = 1; nr <= LARGE_CACHE_PAGES; nr++) {
		while (t->large_cache[nr]) {
			void *block = t->large_cache[nr];

			t->large_cache[nr] = *(void **)block;
			__kfree_large(__virt_to_page(block));
		}
	}
	t->large_cached = 0;
}

void kmalloc_large_drain_local(void)
{
	struct kmem_thread *t = kmem_current;

	if (t && !t->exiting)
		kmalloc_large_drain(t);
}

/* Shrinker: under memory pressure the calling thread's cache goes back
 * (other threads' caches are theirs alone; each holds 256 KiB at most). */
unsigned long kmalloc_large_shrink(gfp_t gfp)
{
	struct kmem_thread *t = kmem_current;
	unsigned long pages = t && !t->exiting ? t->large_cached : 0;

	kmalloc_large_drain_local();
	return pages;
}

void *kmalloc_large_node(size_t size, gfp_t gfp, int nid)
{
	return kmalloc_large_aligned(size, PAGE_SIZE, gfp, nid);
}


/* ---- kmalloc ----------------------------------------------------------- */

void slab_free_fast_double(struct kmem_cache *s, void *obj)
{
	slab_double_free(s, obj);
}

void *kmalloc_slow(size_t size, gfp_t gfp, int nid)
{
	if (unlikely(!kmem_ready())) {
		errno = ENOMEM;
		return NULL;
	}
	if (likely(size <= KMALLOC_MAX_CACHE_SIZE))
		return slab_alloc_node(kmalloc_caches[kmalloc_index(size)], gfp, nid);
	return kmalloc_large_node(size, gfp, nid);
}

void *kmalloc_node(size_t size, gfp_t gfp, int nid)
{
	if (likely(size <= KMALLOC_MAX_CACHE_SIZE) && likely(kmem_ready()))
		return slab_alloc_node(kmalloc_caches[kmalloc_index(size)], gfp, nid);
	return kmalloc_slow(size, gfp, nid);
}

void *kmalloc(size_t size, gfp_t gfp)
{
	return kmalloc_node(size, gfp, NUMA_NO_NODE);
}

void *kzalloc(size_t size, gfp_t gfp)
{
	return kmalloc_node(size, gfp | __GFP_ZERO, NUMA_NO_NODE);
}

void *kmalloc_array(size_t n, size_t size, gfp_t gfp)
{
	size_t bytes;

	if (unlikely(__builtin_mul_overflow(n, size, &bytes))) {
		errno = ENOMEM;
		return NULL;
	}
	return kmalloc(bytes, gfp);
}

void *kcalloc(size_t n, size_t size, gfp_t gfp)
{
	return kmalloc_array(n, size, gfp | __GFP_ZERO);
}

_Noreturn void kfree_bad(const void *p, const char *caller)
{
	if (arena_contains(p) && pfn_section_online(__pa(p) >> PAGE_SHIFT)) {
		struct page *page = compound_head_of(p);

		if (page->flags & (PG_buddy | PG_pcp))
			kmem_panic("%s(): double free or invalid pointer %p: its page is free",
				   caller, p);
		if (page->flags & PG_slab)
			kmem_panic("%s(): invalid pointer %p: not the start of an object of cache %s",
				   caller, p, page->slab_cache->name);
		if (!((uintptr_t)p & (PAGE_SIZE - 1)) && !(page->flags & PAGE_STATE_MASK))
			kmem_panic("%s(): double free or invalid pointer %p: no block starts there",
				   caller, p);
	}
	kmem_panic("%s(): invalid pointer %p", caller, p);
}

void __kfree(const void *p, const char *caller)
{
	if (unlikely(!p))
		return;
	if (arena_contains(p)) {
		unsigned long pfn = __pa(p) >> PAGE_SHIFT;
		struct page *page;

		if (!pfn_section_online(pfn))
			kfree_bad(p, caller);
		page = compound_head_of(p);
		if (page->flags & PG_slab) {
			struct kmem_cache *s = page->slab_cache;
			struct kmem_thread *t = kmem_current;

			if (!slab_obj_valid(s, page, p))
				kfree_bad(p, caller);
			if (t && slab_free_fast(t, s, page, (void *)p))
				return;
			slab_free_slowpath(s, page, (void *)p);
			return;
		}
		if ((page->flags & PG_large) && lowmem_page_address(page) == p) {
			kfree_large(page);
			return;
		}
		kfree_bad(p, caller);
	}
	if (vmalloc_contains(p) && vmalloc_area_owns(p)) {
		vmalloc_area_free(p);
		return;
	}
	kfree_bad(p, caller);
}

void kfree(const void *p)
{
	if (likely(p))
		kfree_fast(p, "kfree");
}

size_t __ksize(const void *p, const char *caller)
{
	struct page *page;

	if (!p)
		return 0;
	if (arena_contains(p)) {
		if (!pfn_section_online(__pa(p) >> PAGE_SHIFT))
			kfree_bad(p, caller);
		page = compound_head_of(p);
		if ((page->flags & PG_slab) && slab_obj_valid(page->slab_cache, page, p))
			return page->slab_cache->object_size;
		if ((page->flags & PG_large) && lowmem_page_address(page) == p && page->large_size)
			return page->large_pages << PAGE_SHIFT;
		kfree_bad(p, caller);
	}
	if (vmalloc_contains(p) && vmalloc_area_owns(p))
		return vmalloc_area_size(p);
	kfree_bad(p, caller);
}

size_t ksize(const void *p)
{
	return __ksize(p, "ksize");
}

void *krealloc(const void *p, size_t new_size, gfp_t gfp)
{
	size_t old;
	void *q;

	if (!p)
		return kmalloc(new_size, gfp);
	if (new_size == 0) {
		kfree(p);
		return NULL;
	}
	old = __ksize(p, "krealloc");
	if (new_size <= old)
		return (void *)p;
	if (vmalloc_contains(p) && new_size > (PAGE_SIZE << MAX_ORDER))
		return vmalloc_area_realloc((void *)p, new_size);
	q = kmalloc(new_size, gfp & ~__GFP_ZERO);
	if (!q)
		return NULL;
	memcpy(q, p, old);
	if (gfp & __GFP_ZERO)
		memset((char *)q + old, 0, new_size - old);
	kfree(p);
	return q;
}

void *kvmalloc(size_t size, gfp_t gfp)
{
	return kmalloc(size, gfp);
}

void *kvzalloc(size_t size, gfp_t gfp)
{
	return kmalloc(size, gfp | __GFP_ZERO);
}

void kvfree(const void *p)
{
	kfree(p);
}

void *vmalloc(size_t size)
{
	if (!kmem_ready()) {
		errno = ENOMEM;
		return NULL;
	}
	return vmalloc_area_alloc(size, PAGE_SIZE, false);
}

void *vzalloc(size_t size)
{
	if (!kmem_ready()) {
		errno = ENOMEM;
		return NULL;
	}
	return vmalloc_area_alloc(size, PAGE_SIZE, true);
}

void vfree(const void *p)
{
	if (p)
		vmalloc_area_free(p);
}

/* ---- kmem_cache objects ------------------------------------------------- */

void *kmem_cache_alloc_node(struct kmem_cache *s, gfp_t gfp, int nid)
{
	return slab_alloc_node(s, gfp, nid);
}

void *kmem_cache_alloc(struct kmem_cache *s, gfp_t gfp)
{
	return slab_alloc_node(s, gfp, NUMA_NO_NODE);
}

void *kmem_cache_zalloc(struct kmem_cache *s, gfp_t gfp)
{
	return slab_alloc_node(s, gfp | __GFP_ZERO, NUMA_NO_NODE);
}

void kmem_cache_free(struct kmem_cache *s, void *obj)
{
	struct page *page;

	if (unlikely(!obj))
		return;
	if (unlikely(!arena_contains(obj) || !pfn_section_online(__pa(obj) >> PAGE_SHIFT)))
		kfree_bad(obj, "kmem_cache_free");
	page = compound_head_of(obj);
	if (unlikely(!(page->flags & PG_slab) || !slab_obj_valid(page->slab_cache, page, obj)))
		kfree_bad(obj, "kmem_cache_free");
	if (unlikely(page->slab_cache != s))
		kmem_panic("kmem_cache_free: wrong slab cache: %s but object %p is from %s",
			   s->name, obj, page->slab_cache->name);
	struct kmem_thread *t = kmem_current;
	if (t && slab_free_fast(t, s, page, obj))
		return;
	slab_free_slowpath(s, page, obj);
}
