/*
 * kmalloc.c - the kmalloc family and the kmem_cache_* object API: size
 * classes to slab caches, larger requests to whole buddy blocks, huge
 * ones to the vmalloc area.
 *
 * Contracts:
 *  - kmalloc(n) for n <= 8 KiB returns an object of class kmalloc_index(n),
 *    16-byte aligned; larger requests return page-aligned memory.
 *  - ksize(p) is the usable size: the class size, the buddy block's
 *    2^order pages, or the mapped bytes.  krealloc never moves a block
 *    whose usable size holds the new size.
 *  - __GFP_ZERO clears only what is not known to be zero already: fresh
 *    slab objects need their free pointer cleared, fresh pages nothing.
 *  - kmalloc_large blocks of up to LARGE_CACHE_PAGES pages freed by a
 *    thread stay on its large cache for its next request of the same page
 *    count: every 64 KiB malloc/free would otherwise take the zone lock
 *    and split and merge a buddy block, as the kernel's pcp lists avoid
 *    for orders 0..3.  The cache's limit auto-tunes, as pcp->high does,
 *    from 256 KiB to 16 MiB (see "The large cache" below).  A cached
 *    block's large_size is 0, so freeing it again is caught.  The
 *    shrinker, malloc_trim, thread exit and fork give the blocks back.
 *    No lock and no atomic on the way: only the owner touches its cache.
 *  - A pointer that is not the start of a live object stops the program
 *    with "kmem: <caller>(): invalid pointer", a freed one with a
 *    "double free" message; NULL is always a no-op.
 */
#include <errno.h>
#include <string.h>
#include "kmalloc.h"
#include "slob.h"

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
			cpu_freelist_popped(c, get_freepointer(s, obj));
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
		fresh = t->uses_lists && thread_cpu_slab(t, s)->fresh;
		slab_alloc_zero(s, obj, fresh);
	}
	return obj;
}

/* ---- large: whole pages from the buddy allocator ----------------------- */

/*
 * Bytes in kmalloc_large blocks: each thread counts its own allocations
 * and frees in t->large_bytes, without atomics; kmalloc_large_bytes holds
 * what threads without a state did and what exited threads counted.
 */
static inline void large_account(struct kmem_thread *t, long bytes)
{
	if (likely(t->uses_lists))
		t->large_bytes += bytes;
	else
		atomic_fetch_add_explicit(&kmalloc_large_bytes, (size_t)bytes,
					  memory_order_relaxed);
}

/*
 * Pages a kmalloc_large block of size bytes keeps: its whole buddy block,
 * as the kernel's kmalloc_large takes alloc_pages(order).  Giving the
 * unused tail back (alloc_pages_exact) freed memory on paper and
 * fragmented the zone in practice: a 20-page block left a 4- and an
 * 8-page piece that smaller requests then took, so the block, once
 * freed, could not merge back into the 32 pages the next 20-page request
 * needed, and that request faulted fresh memory in.  The realloc
 * benchmark (buffers of 3 to 24 pages) reached 24.6 MB of peak RSS so,
 * 20.1 MB with whole blocks; gcc 69.3 MB, 66.9 MB; perl rose 46.5 to
 * 46.9 MB (7 interleaved runs each).  The tail costs no RSS until used:
 * it is only mapped, and ksize lets realloc grow into it without a move.
 */
static inline unsigned long large_nr_pages(size_t size)
{
	return 1UL << get_order(size);
}

/*
 * A block of 2^order pages, aligned to its size.  align (a power of two)
 * may ask for a larger block than size needs: the pages past
 * large_nr_pages(size) go back at once.
 */
static struct page *large_alloc_pages(struct kmem_thread *t, size_t size, size_t align,
				      gfp_t gfp, int nid)
{
	unsigned long nr = large_nr_pages(size);
	unsigned int order = get_order(MAX(size, align));
	struct page *page;
	bool zeroed;

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
	large_account(t, (long)(nr << PAGE_SHIFT));
	if ((gfp & __GFP_ZERO) && !zeroed)
		memset(lowmem_page_address(page), 0, nr << PAGE_SHIFT);
	return page;
}

/* A large block becomes a plain allocated block again, for the zone. */
static inline void large_block_unset(struct page *page)
{
	page->flags &= ~(PG_large | PG_zeroed);
	page->large_pages = 0;
	page->large_size = 0;
}

static void __kfree_large(struct page *page)
{
	unsigned long nr = page->large_pages;

	large_block_unset(page);
	free_pages_range(page, 0, nr);
}

/*
 * The large cache, the kernel's pcp lists one level up, in front of them
 * for orders 0..3 and for order 4, which they do not cover: a thread's
 * freed blocks of up to LARGE_CACHE_PAGES pages wait on
 * t->large_cache[pages] for its next request of that page count.  They
 * stay allocated as far as the zones know: PG_large head, large_size 0
 * (so a second free is caught), linked through their first word.  A
 * block fetched in a batch and not yet handed out keeps PG_zeroed when it
 * came zeroed: all of it but that word reads as zero.
 *
 *  - t->large_count pages are cached, at most t->large_high.  A free past
 *    high gives a batch back (spill: one zone lock); a miss of order > 3
 *    fetches a batch (orders 0..3 come through the pcp lists, which
 *    batch already).
 *  - high auto-tunes as pcp->high does since Linux 6.7 (between high_min
 *    and high_max): a miss after spills, with the cache run nearly dry,
 *    means the thread allocates back what it gave away and raises high by
 *    a batch, up to large_high_max().  (A miss with the cache full of
 *    other sizes does not: more room would not have helped; the spills
 *    take the other sizes first.)  high decays by 1/8 each KMEM_DECAY_MS (checked on
 *    the thread's large slow paths, the excess spilled at once), and
 *    falls to the minimum while the zone is under its high watermark.
 *  - Thread exit empties the thread's own cache, fork the other
 *    threads' in the child.  The shrinker and malloc_trim empty the
 *    caller's and ask every other thread (t->large_drain) to empty its
 *    own at its next large request or free.
 * So a thread that stops making large requests keeps what it had cached
 * (at most its high, LARGE_CACHE_HIGH_MAX pages) until its exit or its
 * own malloc_trim; one that keeps making them without freeing them back
 * comes down to LARGE_CACHE_HIGH_MIN pages.
 *
 * Only the owner touches the cache while it runs: no lock and no atomic
 * on the way in or out (a locked instruction here waits for the caller's
 * pending stores to the block, and cost more than the rest together).
 */

/* mm/page_alloc.c: zone_highsize with MIN_PERCPU_PAGELIST_HIGH_FRACTION,
 * an eighth of the zone split across its node's CPUs, within bounds. */
static unsigned int large_high_max(const struct zone *zone)
{
	int cpus = kmem_topology.node_nr_cpus[zone->node];
	unsigned long high = zone->managed_pages / 8 / (unsigned long)MAX(cpus, 1);

	return (unsigned int)MAX(MIN(high, LARGE_CACHE_HIGH_MAX), LARGE_CACHE_HIGH_MIN);
}

static inline bool zone_below_high(const struct zone *zone)
{
	return zone_page_state(zone) < (long)high_wmark_pages(zone);
}

static inline bool large_drain_asked(struct kmem_thread *t)
{
	return atomic_load_explicit(&t->large_drain, memory_order_relaxed);
}

/*
 * On a slow path: set high the first time, decay it once per
 * KMEM_DECAY_MS (mm/page_alloc.c: decay_pcp_high).  Spills that old no
 * longer justify growth.
 */
static void large_cache_decay(struct kmem_thread *t)
{
	uint64_t now = os_now_ns();

	if (unlikely(!t->large_high)) {
		t->large_high = LARGE_CACHE_HIGH_MIN;
		t->large_decay_ns = now;
		return;
	}
	if (now - t->large_decay_ns < kmem_config.decay_ms * 1000000ULL)
		return;
	t->large_decay_ns = now;
	t->large_high = MAX(t->large_high - t->large_high / 8, LARGE_CACHE_HIGH_MIN);
	t->large_spilled = 0;
}

/*
 * Give cached blocks back until at most target pages remain, taking the
 * lists round robin from start (free_pcppages_bulk: callers start after
 * the list in use), a batch per zone lock (blocks of up to 8 pages go
 * through the pcp lists, as the zone path frees them: spilling them past
 * the pcp lists changed the layout enough to cost the realloc benchmark
 * a section more of peak RSS).  The lists, not large_count, say when it is empty: a fork child
 * may inherit a count a pop had not updated yet.  Returns the pages given
 * back.
 */
static unsigned long large_cache_spill(struct kmem_thread *t, unsigned long start,
				       unsigned int target)
{
	struct page *pages[LARGE_CACHE_BATCH];
	unsigned long nrs[LARGE_CACHE_BATCH], nr = start, spilled = 0;
	int n = 0, empty = 0;

	while (t->large_count > target && empty < LARGE_CACHE_PAGES) {
		void *block = t->large_cache[nr];

		if (!block) {
			nr = nr % LARGE_CACHE_PAGES + 1;
			empty++;
			continue;
		}
		empty = 0;
		t->large_cache[nr] = *(void **)block;
		t->large_count -= (unsigned int)MIN(nr, t->large_count);
		spilled += nr;
		if (nr <= (1UL << PAGE_ALLOC_COSTLY_ORDER)) {
			/* the pcp lists take these, and batch already */
			__kfree_large(__virt_to_page(block));
			continue;
		}
		pages[n] = __virt_to_page(block);
		large_block_unset(pages[n]);
		nrs[n++] = nr;
		if (n == LARGE_CACHE_BATCH) {
			free_pages_bulk_exact(pages, nrs, n);
			n = 0;
		}
	}
	if (n)
		free_pages_bulk_exact(pages, nrs, n);
	if (empty == LARGE_CACHE_PAGES)
		t->large_count = 0;
	return spilled;
}

/* Empty t's cache and forget its tuning. */
static unsigned long large_cache_empty(struct kmem_thread *t)
{
	unsigned long pages;

	atomic_store_explicit(&t->large_drain, false, memory_order_relaxed);
	pages = large_cache_spill(t, 1, 0);
	t->large_high = 0;
	t->large_spilled = 0;
	return pages;
}

/*
 * A free took t past its high, or the shrinker asked for the cache: spill
 * at least a batch, and down to high (mm/page_alloc.c: nr_pcp_free).
 */
static void large_cache_overflow(struct kmem_thread *t, unsigned long nr)
{
	unsigned int target;

	if (unlikely(large_drain_asked(t))) {
		large_cache_empty(t);
		return;
	}
	large_cache_decay(t);
	if (t->large_count <= t->large_high)
		return;
	target = t->large_count > LARGE_CACHE_BATCH ? t->large_count - LARGE_CACHE_BATCH : 0;
	t->large_spilled += (unsigned int)large_cache_spill(t, nr % LARGE_CACHE_PAGES + 1,
							    MIN(target, t->large_high));
}

/*
 * After a miss for nr pages was served from zone: tune high
 * (mm/page_alloc.c: nr_pcp_alloc) and say how many more blocks to fetch
 * with it.
 */
static int large_cache_miss(struct kmem_thread *t, struct zone *zone, unsigned long nr)
{
	unsigned int room;

	if (unlikely(large_drain_asked(t)))
		large_cache_empty(t);
	large_cache_decay(t);
	if (zone_below_high(zone)) {
		t->large_high = LARGE_CACHE_HIGH_MIN;
		t->large_spilled = 0;
	} else if (t->large_spilled && t->large_count < t->large_high / 4) {
		t->large_high = MIN(t->large_high + LARGE_CACHE_BATCH, large_high_max(zone));
		t->large_spilled -= MIN(t->large_spilled, LARGE_CACHE_BATCH);
	}
	if (t->large_count > t->large_high) {
		large_cache_spill(t, nr % LARGE_CACHE_PAGES + 1, t->large_high);
		return 0;
	}
	if (get_order(nr << PAGE_SHIFT) <= PAGE_ALLOC_COSTLY_ORDER)
		return 0;
	room = MIN(t->large_high - t->large_count, LARGE_CACHE_BATCH);
	return (int)(room / nr);
}

/*
 * Before a request of a pageblock or more, the caller's cached blocks and
 * pcp pages go back: they may be all that keeps a free block of that size
 * from forming, and a new section would come online instead (the kernel
 * drains the pcp lists before it gives up on a high order).  Such a
 * request costs far more than the drain; high is kept.  Measured on the
 * realloc benchmark, whose buffers double through 2 and 4 MiB: peak RSS
 * 39 MiB without, 31 MiB with.
 */
static void large_make_room(struct kmem_thread *t)
{
	if (!t->uses_lists)
		return;
	if (t->large_count)
		large_cache_spill(t, 1, 0);
	drain_local_pages();
}

/* The cache had no block of nr pages: take one from the zone, with a batch more. */
static struct page *large_cache_refill(struct kmem_thread *t, unsigned long nr,
				       size_t size, gfp_t gfp)
{
	struct page *page = large_alloc_pages(t, size, PAGE_SIZE, gfp, NUMA_NO_NODE);
	struct page *more[LARGE_CACHE_BATCH >> (PAGE_ALLOC_COSTLY_ORDER + 1)];
	int want, n;

	if (unlikely(!page))
		return NULL;
	want = MIN(large_cache_miss(t, __page_zone(page), nr), (int)ARRAY_SIZE(more));
	n = rmqueue_bulk_exact(__page_zone(page), nr, gfp_migratetype(gfp), want, more);
	for (int i = 0; i < n; i++) {
		void *block = lowmem_page_address(more[i]);

		more[i]->flags |= PG_large;
		more[i]->large_pages = nr;
		more[i]->large_size = 0;
		*(void **)block = t->large_cache[nr];
		t->large_cache[nr] = block;
	}
	t->large_count += (unsigned int)(n * nr);
	return page;
}

/*
 * A hit in the thread's large cache: no frame and no call, unless the
 * block must be zeroed.  NULL when the cache has no block of nr pages,
 * or the shrinker asked the thread to empty it.
 */
static inline __attribute__((always_inline)) void *
large_cache_pop(struct kmem_thread *t, unsigned long nr, size_t size, gfp_t gfp)
{
	void *block = t->large_cache[nr];
	struct page *page;

	if (unlikely(!block) || unlikely(large_drain_asked(t)))
		return NULL;
	page = __virt_to_page(block);
	t->large_cache[nr] = *(void **)block;
	t->large_count -= (unsigned int)nr;
	t->large_bytes += (long)(nr << PAGE_SHIFT);
	page->large_size = size;
	if (unlikely(page->flags & PG_zeroed)) {
		page->flags &= ~PG_zeroed;
		*(void **)block = NULL;
	} else if (unlikely(gfp & __GFP_ZERO)) {
		memset(block, 0, nr << PAGE_SHIFT);
	}
	return block;
}

/* Can t's large cache serve a block of nr pages with this alignment and node? */
static inline bool large_cache_serves(const struct kmem_thread *t, unsigned long nr,
				      size_t align, int nid)
{
	return likely(nr <= LARGE_CACHE_PAGES) && likely(align <= PAGE_SIZE) &&
	       likely(nid == NUMA_NO_NODE) && likely(t->uses_lists);
}

static __attribute__((noinline)) void *
kmalloc_large_slow(size_t size, size_t align, gfp_t gfp, int nid)
{
	struct kmem_thread *t = current_thread();
	unsigned long nr = large_nr_pages(size);
	struct page *page;

	if (MAX(size, align) > (PAGE_SIZE << MAX_ORDER))
		return vmalloc_area_alloc(size, align, gfp & __GFP_ZERO);
	if (large_cache_serves(t, nr, align, nid)) {
		/* the fast path's pop, again: an unset thread has just been set up */
		void *block = large_cache_pop(t, nr, size, gfp);

		if (block)
			return block;
		page = large_cache_refill(t, nr, size, gfp);
		return page ? lowmem_page_address(page) : NULL;
	}
	if (get_order(MAX(size, align)) >= pageblock_order)
		large_make_room(t);
	page = large_alloc_pages(t, size, align, gfp, nid);
	return page ? lowmem_page_address(page) : NULL;
}

void *kmalloc_large_aligned(size_t size, size_t align, gfp_t gfp, int nid)
{
	/* an unset thread uses no lists and takes the slow path, which sets it up */
	struct kmem_thread *t = kmem_current;
	unsigned long nr = large_nr_pages(size);

	if (large_cache_serves(t, nr, align, nid)) {
		void *block = large_cache_pop(t, nr, size, gfp);

		if (likely(block))
			return block;
	}
	return kmalloc_large_slow(size, align, gfp, nid);
}

void kfree_large(struct page *page)
{
	unsigned long nr = page->large_pages;
	struct kmem_thread *t = current_thread();

	if (unlikely(!page->large_size))
		kmem_panic("kfree(): double free of a %lu-page block at %p",
			   nr, lowmem_page_address(page));
	large_account(t, -(long)(nr << PAGE_SHIFT));
	if (nr <= LARGE_CACHE_PAGES && likely(t->uses_lists)) {
		void *block = lowmem_page_address(page);

		page->large_size = 0;
		*(void **)block = t->large_cache[nr];
		t->large_cache[nr] = block;
		t->large_count += (unsigned int)nr;
		if (unlikely(t->large_count > t->large_high) || unlikely(large_drain_asked(t)))
			large_cache_overflow(t, nr);
		return;
	}
	__kfree_large(page);
}

/* t is the caller, or not running (exited; another thread in a fork child). */
void kmalloc_large_drain(struct kmem_thread *t)
{
	long bytes = t->large_bytes;

	large_cache_empty(t);
	/* the thread's byte count outlives its state */
	pthread_mutex_lock(&kmem_threads_lock);
	atomic_fetch_add_explicit(&kmalloc_large_bytes, (size_t)bytes, memory_order_relaxed);
	t->large_bytes = 0;
	pthread_mutex_unlock(&kmem_threads_lock);
}

void kmalloc_large_drain_local(void)
{
	struct kmem_thread *t = kmem_current;

	if (t->uses_lists)
		large_cache_empty(t);
}

/*
 * Shrinker: under memory pressure the caller's cache goes back at once;
 * every other thread is asked to empty its own at its next large request
 * or free (only a thread's owner touches its cache).
 */
unsigned long kmalloc_large_shrink(gfp_t gfp)
{
	struct kmem_thread *t, *self = kmem_current;
	unsigned long pages = 0;

	(void)gfp;
	pthread_mutex_lock(&kmem_threads_lock);
	list_for_each_entry(t, &kmem_threads, thread_list)
		if (t != self && t->large_count)
			atomic_store_explicit(&t->large_drain, true, memory_order_relaxed);
	pthread_mutex_unlock(&kmem_threads_lock);
	if (self->uses_lists)
		pages = large_cache_empty(self);
	return pages;
}

/* Bytes in kmalloc_large blocks, for the statistics; kmem_threads_lock held. */
size_t kmalloc_large_sum_bytes(void)
{
	size_t bytes = atomic_load_explicit(&kmalloc_large_bytes, memory_order_relaxed);
	struct kmem_thread *t;

	list_for_each_entry(t, &kmem_threads, thread_list)
		bytes += (size_t)t->large_bytes;
	return bytes;
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
		if (page->flags & PG_slab) {
			struct kmem_cache *s = page->slab_cache;
			uint32_t off = (uint32_t)((const char *)p - (const char *)slab_address(page));

			if (slab_offset_index(s, off) < page->objects)
				kmem_panic("%s(): invalid pointer %p: object of cache %s never allocated",
					   caller, p, s->name);
			kmem_panic("%s(): invalid pointer %p: not the start of an object of cache %s",
				   caller, p, s->name);
		}
		if (!((uintptr_t)p & (PAGE_SIZE - 1)) && !(page->flags & PAGE_STATE_MASK))
			kmem_panic("%s(): double free or invalid pointer %p: no block starts there",
				   caller, p);
	}
	kmem_panic("%s(): invalid pointer %p", caller, p);
}

void kfree_arena_not_owned(const void *p, uintptr_t pa, struct page *page, const char *caller)
{
	struct kmem_cache *s;

	/* PG_slab is set on a slab's head page only */
	if (page->flags & PG_slab) {
		s = page->slab_cache;
		if (likely(slab_pa_valid(s, page, pa))) {
			if (!slab_free_remote_batched(kmem_current, s, page, (void *)p))
				slab_free_slowpath(s, page, (void *)p);
			return;
		}
	} else if (page->flags & PG_slob) {
		/* a medium block (or a bad pointer into an area: slob_free
		 * checks): page is the area's head, as its tail pages carry
		 * a slab tail's marks */
		slob_free(slob_area_at_pa(pa), p, caller);
		return;
	} else if ((page->flags & PG_large) && !(pa & (PAGE_SIZE - 1))) {
		/* a kmalloc_large block: PG_large is on its head page only */
		kfree_large(page);
		return;
	}
	__kfree(p, caller);
}

/* __kfree for everything but a medium block. */
static __attribute__((noinline)) void kfree_slow(const void *p, const char *caller)
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
			if (slab_free_fast(t, s, page, (void *)p))
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

/*
 * Medium blocks first, in a frame of their own: the arena pointers the
 * free fast path sends here are medium blocks, but for bad ones (11
 * instructions fewer a medium malloc+free pair than with the test inside
 * kfree_slow's checks, measured at e44f880).
 */
void __kfree(const void *p, const char *caller)
{
	struct slob_area *area;

	if (likely(arena_contains(p)) && (area = slob_area_of(p))) {
		slob_free(area, p, caller);
		return;
	}
	kfree_slow(p, caller);
}

void kfree(const void *p)
{
	if (likely(p))
		kfree_fast(p, "kfree");
}

size_t __ksize(const void *p, const char *caller)
{
	struct slob_area *area;
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
		if ((area = slob_area_of(p)))
			return slob_usable_size(area, p, caller);
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
	if (slab_free_fast(t, s, page, obj))
		return;
	slab_free_slowpath(s, page, obj);
}
