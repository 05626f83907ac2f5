/*
 * page_alloc.c - the buddy allocator: zone free lists, splitting and
 * merging, migrate-type fallback, the zonelist walk with watermarks, and
 * the public page-allocation API.
 *
 * Contracts (mm/page_alloc.c):
 *  - A free block of order n sits on zone->free_area[n].free_list[mt],
 *    its head flagged PG_buddy, aligned to 2^n pages, and every pageblock
 *    it covers has migrate type mt.  Two free buddies of the same order
 *    never coexist below MAX_ORDER: freeing merges them.
 *  - zone->free_pages == sum of free blocks + pages not yet online; it is
 *    written under zone->lock and read without it by watermark checks.
 *  - A request whose migrate type has no free block claims a free or
 *    mostly free pageblock of another type, largest block first; failing
 *    that, a new section comes online; only a zone with every section
 *    online lends a single block of another type without claiming it.
 *  - Requests walk the zonelist (local node first, then by distance; each
 *    node's zones highest first), skip zones above gfp_zone(gfp) and zones
 *    that fail zone_watermark_ok with their lowmem_reserve, and take order
 *    <= PAGE_ALLOC_COSTLY_ORDER blocks through the thread's pcp lists.
 *  - Misuse at free (a free page, an interior page, a wrong order, memory
 *    outside the arena) stops the program via bad_page/bad_address.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include "internal.h"

static const int fallbacks[MIGRATE_TYPES][MIGRATE_TYPES - 1] = {
	[MIGRATE_UNMOVABLE]   = { MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE },
	[MIGRATE_MOVABLE]     = { MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE },
	[MIGRATE_RECLAIMABLE] = { MIGRATE_UNMOVABLE, MIGRATE_MOVABLE },
};

static inline void zone_mod_free(struct zone *zone, long nr)
{
	/* Only zone->lock holders write: a load and a store, no RMW. */
	atomic_store_explicit(&zone->free_pages, zone_page_state(zone) + nr,
			      memory_order_relaxed);
}

static inline void add_to_free_list(struct page *page, struct zone *zone,
				    unsigned int order, int mt)
{
	page->flags |= PG_buddy;
	page->order = (uint8_t)order;
	page->migratetype = (uint8_t)mt;
	list_add(&page->lru, &zone->free_area[order].free_list[mt]);
	zone->free_area[order].nr_free++;
	zone_mod_free(zone, 1L << order);
}

/*
 * Leaves PG_zeroed for the caller to pass on or drop.  A released
 * fragment stops counting as released: expand() counts again what it
 * puts back, so an allocation from it uncounts only what it takes.
 */
static inline void del_page_from_free_list(struct page *page, struct zone *zone,
					   unsigned int order)
{
	list_del(&page->lru);
	if (unlikely(page->flags & PG_released))
		zone->released_pages -= 1UL << order;
	page->flags &= ~(PG_buddy | PG_idle | PG_released);
	zone->free_area[order].nr_free--;
	zone_mod_free(zone, -(1L << order));
}

static inline bool page_is_buddy(const struct page *buddy, unsigned int order)
{
	return (buddy->flags & PG_buddy) && buddy->order == order;
}

/*
 * Split a block of order high down to order low, putting the upper half
 * back on the free lists at each step; sub-blocks inherit PG_zeroed, and
 * the halves of a released fragment stay released (released is the flag
 * the caller's del_page_from_free_list cleared).
 */
static inline void expand(struct zone *zone, struct page *page, unsigned int low,
			  unsigned int high, int mt, bool released)
{
	unsigned long size = 1UL << high;
	uint32_t zeroed = page->flags & PG_zeroed;

	while (high > low) {
		high--;
		size >>= 1;
		page[size].flags |= zeroed;
		if (unlikely(released)) {
			page[size].flags |= PG_released;
			zone->released_pages += size;
		}
		add_to_free_list(&page[size], zone, high, mt);
	}
	if (unlikely(released))
		zone->ev.pages_refaulted += size;
}

/* A block leaves the buddy lists: its pageblocks are in use again. */
static void mark_pageblocks_used(struct zone *zone, unsigned long pfn,
				 unsigned int order)
{
	unsigned long nr = order >= pageblock_order ? 1UL << (order - pageblock_order) : 1;
	uint8_t *pb = &pageblock_flags[pfn >> pageblock_order];

	for (unsigned long i = 0; i < nr; i++) {
		if (unlikely(pb[i] & PB_RELEASED)) {
			zone->released_pages -= pageblock_nr_pages;
			zone->ev.pages_refaulted += pageblock_nr_pages;
		}
		pb[i] &= (uint8_t)~(PB_RELEASED | PB_IDLE);
	}
}

struct page *__rmqueue_smallest(struct zone *zone, unsigned int order, int mt)
{
	for (unsigned int current_order = order; current_order < NR_PAGE_ORDERS;
	     current_order++) {
		struct list_head *list = &zone->free_area[current_order].free_list[mt];
		struct page *page;

		if (list_empty(list))
			continue;
		page = list_first_entry(list, struct page, lru);
		bool released = page->flags & PG_released;

		del_page_from_free_list(page, zone, current_order);
		expand(zone, page, order, current_order, mt, released);
		return page;
	}
	return NULL;
}

/*
 * mm/page_alloc.c: should_try_claim_block.  Large blocks are likely to sit
 * in mostly free pageblocks; unmovable and reclaimable requests try to
 * claim whatever they fall back to, since polluting a movable pageblock
 * with them is what fragments memory for good.  A small movable request
 * only borrows.
 */
static bool should_try_claim_block(unsigned int order, int start_mt)
{
	if (order >= pageblock_order / 2)
		return true;
	return start_mt == MIGRATE_RECLAIMABLE || start_mt == MIGRATE_UNMOVABLE;
}

/*
 * The first fallback type with a free block of this order; -1 if none,
 * -2 if claimable is asked for and blocks of this order are too small to
 * claim (mm/page_alloc.c: find_suitable_fallback).
 */
static int find_suitable_fallback(struct free_area *area, unsigned int order,
				  int start_mt, bool claimable)
{
	if (area->nr_free == 0)
		return -1;
	if (claimable && !should_try_claim_block(order, start_mt))
		return -2;
	for (int i = 0; i < MIGRATE_TYPES - 1; i++) {
		int fallback_mt = fallbacks[start_mt][i];

		if (!list_empty(&area->free_list[fallback_mt]))
			return fallback_mt;
	}
	return -1;
}

/*
 * Claim the pageblock(s) holding a fallback block for start_mt when at
 * least half of it is free (mm/page_alloc.c: try_to_claim_block).  A
 * block of pageblock size or more is taken whole.  Free blocks of a
 * claimed pageblock move to start_mt's lists.  The kernel also counts
 * used pages "alike" to the request (movable pages for a movable one,
 * non-movable pages of a movable block otherwise); kmem cannot tell a
 * used page's mobility, so it counts none, as the kernel does between
 * unmovable and reclaimable blocks.
 */
static bool try_to_claim_block(struct zone *zone, struct page *page,
			       unsigned int current_order, int start_mt)
{
	unsigned long pfn = __page_to_pfn(page);
	unsigned long start_pfn, end_pfn, free = 0;

	if (current_order >= pageblock_order) {
		unsigned long nr = 1UL << (current_order - pageblock_order);

		del_page_from_free_list(page, zone, current_order);
		for (unsigned long i = 0; i < nr; i++)
			set_pageblock_migratetype(pfn + i * pageblock_nr_pages, start_mt);
		add_to_free_list(page, zone, current_order, start_mt);
		zone->ev.steal_pageblock += nr;
		return true;
	}

	start_pfn = ALIGN_DOWN(pfn, pageblock_nr_pages);
	end_pfn = start_pfn + pageblock_nr_pages;
	for (unsigned long p = start_pfn; p < end_pfn;) {
		struct page *pg = __pfn_to_page(p);

		if (pg->flags & PG_buddy)
			free += 1UL << pg->order;
		p += (pg->flags & PAGE_STATE_MASK) ? 1UL << pg->order : 1;
	}
	if (free < pageblock_nr_pages / 2)
		return false;

	for (unsigned long p = start_pfn; p < end_pfn;) {
		struct page *pg = __pfn_to_page(p);

		if (pg->flags & PG_buddy) {
			list_move(&pg->lru, &zone->free_area[pg->order].free_list[start_mt]);
			pg->migratetype = (uint8_t)start_mt;
		}
		p += (pg->flags & PAGE_STATE_MASK) ? 1UL << pg->order : 1;
	}
	set_pageblock_migratetype(start_pfn, start_mt);
	zone->ev.steal_pageblock++;
	return true;
}

/*
 * Claim a pageblock of another migrate type for start_mt, trying the
 * largest free block first: that roughly finds the pageblock with the
 * most free pages (mm/page_alloc.c: __rmqueue_claim).
 */
static struct page *__rmqueue_claim(struct zone *zone, unsigned int order, int start_mt)
{
	for (int current_order = MAX_ORDER; current_order >= (int)order; current_order--) {
		struct free_area *area = &zone->free_area[current_order];
		int fallback_mt = find_suitable_fallback(area, (unsigned int)current_order,
							 start_mt, true);
		struct page *page;

		if (fallback_mt == -1)
			continue;
		if (fallback_mt == -2)
			break;
		page = list_first_entry(&area->free_list[fallback_mt], struct page, lru);
		if (try_to_claim_block(zone, page, (unsigned int)current_order, start_mt)) {
			zone->ev.fallback++;
			return __rmqueue_smallest(zone, order, start_mt);
		}
	}
	return NULL;
}

/*
 * Last resort: borrow the smallest fallback block without claiming its
 * pageblock, which then holds pages of two types (mm/page_alloc.c:
 * __rmqueue_steal).
 */
static struct page *__rmqueue_steal(struct zone *zone, unsigned int order, int start_mt)
{
	for (unsigned int current_order = order; current_order < NR_PAGE_ORDERS; current_order++) {
		struct free_area *area = &zone->free_area[current_order];
		int fallback_mt = find_suitable_fallback(area, current_order, start_mt, false);
		struct page *page;

		if (fallback_mt == -1)
			continue;
		page = list_first_entry(&area->free_list[fallback_mt], struct page, lru);
		bool released = page->flags & PG_released;

		del_page_from_free_list(page, zone, current_order);
		expand(zone, page, order, current_order, fallback_mt, released);
		zone->ev.fallback++;
		return page;
	}
	return NULL;
}

/*
 * Memory hot-add, in effect: the zone's next offline section comes online
 * as one MAX_ORDER block of migratetype mt.  Its pages already counted as
 * free, so the free count does not change.
 */
void (*arena_grow_notifier)(void);

bool zone_online_section(struct zone *zone, int mt)
{
	unsigned long pfn = zone->zone_start_pfn + zone->online_pages;
	struct page *page;

	if (zone->online_pages >= zone->managed_pages)
		return false;
	if (arena_grow_notifier)
		arena_grow_notifier();
	if (arena_online_section(pfn, zone->node, zone->idx) == BACKING_NONE)
		return false;
	for (unsigned long i = 0; i < PAGES_PER_SECTION; i += pageblock_nr_pages)
		set_pageblock_migratetype(pfn + i, mt);
	zone->online_pages += PAGES_PER_SECTION;
	zone->ev.sections_online++;
	zone_mod_free(zone, -(long)PAGES_PER_SECTION);
	page = __pfn_to_page(pfn);
	page->flags |= PG_zeroed;
	add_to_free_list(page, zone, MAX_ORDER, mt);
	return true;
}

void zone_online_all(struct zone *zone)
{
	pthread_mutex_lock(&zone->lock);
	while (zone_online_section(zone, MIGRATE_MOVABLE))
		;
	pthread_mutex_unlock(&zone->lock);
}

/*
 * The preferred migrate type has no free block.  As mm/page_alloc.c:
 * __rmqueue does, first claim a pageblock of another type that is free
 * or at least half free, largest block first, and only then lend single
 * blocks of another type.  kmem has one more source the kernel lacks,
 * offline sections, and brings one online between the two steps, as the
 * kernel's ALLOC_NOFRAGMENT tries whole free pageblocks elsewhere before
 * it mixes types in one.  Claiming first reuses memory the program has
 * already touched instead of growing its RSS; onlining before lending
 * keeps slab pages out of movable pageblocks, which could then never
 * become free whole (bench figures in the commit that made this order).
 */
static __attribute__((noinline)) struct page *__rmqueue_fallback(struct zone *zone,
								unsigned int order, int mt)
{
	struct page *page = __rmqueue_claim(zone, order, mt);

	if (page)
		return page;
	if (zone_online_section(zone, mt))
		return __rmqueue_smallest(zone, order, mt);
	return __rmqueue_steal(zone, order, mt);
}

struct page *__rmqueue(struct zone *zone, unsigned int order, int mt)
{
	struct page *page = __rmqueue_smallest(zone, order, mt);

	if (unlikely(!page))
		page = __rmqueue_fallback(zone, order, mt);
	if (likely(page)) {
		mark_pageblocks_used(zone, __page_to_pfn(page), order);
		zone->ev.pgalloc += 1UL << order;
	}
	return page;
}

/*
 * Free a block into the buddy lists, merging it with its buddy at
 * pfn ^ (1 << order) for as long as that buddy is a free block of the same
 * order.  Buddies below MAX_ORDER share a section, hence a zone, so no
 * zone check is needed.  Merging across pageblocks makes the buddy's
 * pageblock take the freed block's migrate type, keeping every free list
 * in agreement with its pageblocks.
 */
unsigned int __free_one_page(struct page *page, unsigned long pfn, struct zone *zone,
			     unsigned int order, int mt)
{
	uint32_t zeroed = page->flags & PG_zeroed;

	zone->ev.pgfree += 1UL << order;
	page->flags &= ~PG_zeroed;
	while (order < MAX_ORDER) {
		unsigned long buddy_pfn = pfn ^ (1UL << order);
		struct page *buddy = page + ((long)buddy_pfn - (long)pfn);
		unsigned long combined_pfn;

		if (!page_is_buddy(buddy, order))
			break;
		del_page_from_free_list(buddy, zone, order);
		zeroed &= buddy->flags;
		buddy->flags &= ~PG_zeroed;
		if (order >= pageblock_order && get_pageblock_migratetype(buddy_pfn) != mt) {
			for (unsigned long i = 0; i < (1UL << (order - pageblock_order)); i++)
				set_pageblock_migratetype(buddy_pfn + i * pageblock_nr_pages, mt);
		}
		combined_pfn = buddy_pfn & pfn;
		page = page + ((long)combined_pfn - (long)pfn);
		pfn = combined_pfn;
		order++;
	}
	page->flags |= zeroed;
	add_to_free_list(page, zone, order, mt);
	return order;
}

void free_one_page(struct zone *zone, struct page *page, unsigned long pfn,
		   unsigned int order)
{
	pthread_mutex_lock(&zone->lock);
	/* The pageblock's type is read under the lock: stealing changes it. */
	order = __free_one_page(page, pfn, zone, order, get_pageblock_migratetype(pfn));
	if (zone_release_due(zone))
		zone_release_free(zone, false);
	debug_vm_zone_op(zone);
	pthread_mutex_unlock(&zone->lock);
}

/* ---- watermarks -------------------------------------------------------- */

/*
 * mm/page_alloc.c: __zone_watermark_ok.  free_pages must stay above the
 * mark plus the lowmem_reserve this zone keeps from requests that could
 * have used a higher zone; __GFP_HIGH may use half the min reserve, and a
 * request that cannot reclaim a quarter of what is left.  For order > 0 a
 * free block of that order must exist (an offline section counts).
 */
static bool __zone_watermark_ok(struct zone *z, unsigned int order, unsigned long mark,
				int highest_zoneidx, unsigned int alloc_flags,
				long free_pages)
{
	long min = (long)mark;

	free_pages -= (1L << order) - 1;
	if (alloc_flags & ALLOC_RESERVES) {
		if (alloc_flags & ALLOC_MIN_RESERVE) {
			min -= min / 2;
			if (alloc_flags & ALLOC_NON_BLOCK)
				min -= min / 4;
		}
		if (alloc_flags & ALLOC_OOM)
			min -= min / 2;
	}
	if (free_pages <= min + z->lowmem_reserve[highest_zoneidx])
		return false;
	if (!order)
		return true;
	if (z->online_pages < z->managed_pages)
		return true;
	for (unsigned int o = order; o < NR_PAGE_ORDERS; o++) {
		struct free_area *area = &z->free_area[o];

		if (!__atomic_load_n(&area->nr_free, __ATOMIC_RELAXED))
			continue;
		for (int mt = 0; mt < MIGRATE_PCPTYPES; mt++)
			if (!list_empty(&area->free_list[mt]))
				return true;
	}
	return false;
}

bool zone_watermark_ok(struct zone *z, unsigned int order, unsigned long mark,
		       int highest_zoneidx, unsigned int alloc_flags)
{
	return __zone_watermark_ok(z, order, mark, highest_zoneidx, alloc_flags,
				   zone_page_state(z));
}

static inline bool zone_watermark_fast(struct zone *z, unsigned int order,
				       unsigned long mark, int highest_zoneidx,
				       unsigned int alloc_flags)
{
	long free_pages = zone_page_state(z);

	/* The common order-0 case needs one comparison. */
	if (likely(!order && !(alloc_flags & ALLOC_RESERVES) &&
		   free_pages > (long)mark + z->lowmem_reserve[highest_zoneidx]))
		return true;
	return __zone_watermark_ok(z, order, mark, highest_zoneidx, alloc_flags,
				   free_pages);
}

/* ---- allocation -------------------------------------------------------- */

int gfp_migratetype(gfp_t gfp)
{
	switch (gfp & GFP_MOVABLE_MASK) {
	case __GFP_MOVABLE:
		return MIGRATE_MOVABLE;
	case __GFP_RECLAIMABLE:
		return MIGRATE_RECLAIMABLE;
	case 0:
		return MIGRATE_UNMOVABLE;
	default:
		return MIGRATE_MOVABLE;   /* both bits: the kernel warns; keep it usable */
	}
}

/*
 * include/linux/gfp.h: gfp_zone.  Without highmem (kmem's default mode)
 * __GFP_HIGHMEM means NORMAL, and HIGHMEM|MOVABLE means ZONE_MOVABLE only
 * where such a zone exists.
 */
enum zone_type gfp_zone(gfp_t gfp)
{
	if (gfp & __GFP_DMA)
		return ZONE_DMA;
	if (gfp & __GFP_DMA32)
		return ZONE_DMA32;
	return ZONE_NORMAL;
}

/*
 * An allocated block's head keeps PG_zeroed while its contents are known
 * to be zero (fresh from the OS, or cleared here), so that callers such
 * as the slab allocator can skip clearing it again; freeing drops it.
 */
void prep_new_page(struct page *page, unsigned int order, gfp_t gfp)
{
	bool zeroed = page->flags & PG_zeroed;

	set_page_head(page, order, 0);
	page->private = 0;
	if ((gfp & __GFP_ZERO) && !zeroed) {
		memset(lowmem_page_address(page), 0, PAGE_SIZE << order);
		page->flags |= PG_zeroed;
	}
}

/* Lock, __rmqueue, unlock: the zone half of rmqueue. */
static struct page *rmqueue_buddy(struct zone *zone, unsigned int order, int mt)
{
	struct page *page;

	pthread_mutex_lock(&zone->lock);
	page = __rmqueue(zone, order, mt);
	if (unlikely(!page))
		zone->ev.alloc_fail++;
	debug_vm_zone_op(zone);
	pthread_mutex_unlock(&zone->lock);
	return page;
}

static inline struct page *rmqueue(struct zone *zone, unsigned int order, int mt)
{
	if (likely(pcp_allowed_order(order))) {
		struct page *page = rmqueue_pcplist(zone, order, mt);

		if (likely(page))
			return page;
	}
	return rmqueue_buddy(zone, order, mt);
}

struct page *alloc_pages_zone(struct zone *zone, unsigned int order, int mt,
			      unsigned int alloc_flags)
{
	struct page *page;

	if (!(alloc_flags & ALLOC_NO_WATERMARKS) &&
	    !zone_watermark_ok(zone, order, wmark_pages(zone, alloc_flags & ALLOC_WMARK_MASK),
			       zone->idx, alloc_flags))
		return NULL;
	page = rmqueue_buddy(zone, order, mt);
	if (page)
		prep_new_page(page, order, 0);
	return page;
}

static struct page *get_page_from_freelist(gfp_t gfp, unsigned int order,
					   unsigned int alloc_flags,
					   const struct alloc_context *ac)
{
	for (struct zoneref *z = ac->zonelist; z->zone; z++) {
		struct zone *zone = z->zone;
		struct page *page;

		if (z->zone_idx > ac->highest_zoneidx)
			continue;
		if (!zone_watermark_fast(zone, order,
					 wmark_pages(zone, alloc_flags & ALLOC_WMARK_MASK),
					 ac->highest_zoneidx, alloc_flags) &&
		    !(alloc_flags & ALLOC_NO_WATERMARKS))
			continue;
		page = rmqueue(zone, order, ac->migratetype);
		if (likely(page)) {
			prep_new_page(page, order, gfp);
			return page;
		}
	}
	return NULL;
}

/* mm/page_alloc.c: gfp_to_alloc_flags */
static unsigned int gfp_to_alloc_flags(gfp_t gfp)
{
	unsigned int alloc_flags = ALLOC_WMARK_MIN;

	if (gfp & __GFP_HIGH)
		alloc_flags |= ALLOC_MIN_RESERVE;
	if (!(gfp & __GFP_DIRECT_RECLAIM) && !(gfp & __GFP_NOMEMALLOC))
		alloc_flags |= ALLOC_NON_BLOCK;
	return alloc_flags;
}

static void warn_alloc(gfp_t gfp, unsigned int order, const char *why)
{
	if (gfp & __GFP_NOWARN)
		return;
	kmem_warn("page allocation failure: order:%u, mode:%#x: %s", order, gfp, why);
}

#define MAX_RECLAIM_RETRIES 16

static struct page *__alloc_pages_slowpath(gfp_t gfp, unsigned int order,
					   const struct alloc_context *ac)
{
	unsigned int alloc_flags = gfp_to_alloc_flags(gfp);
	struct page *page;

	/* The zones are below their low watermark: what kswapd would do,
	 * done here, since there is no kswapd. */
	if (gfp & __GFP_KSWAPD_RECLAIM)
		try_to_free_pages(gfp, order);
	page = get_page_from_freelist(gfp, order, alloc_flags, ac);
	if (page)
		return page;
	if ((gfp & __GFP_MEMALLOC) && !(gfp & __GFP_NOMEMALLOC)) {
		page = get_page_from_freelist(gfp, order, ALLOC_NO_WATERMARKS, ac);
		if (page)
			return page;
	}
	if (!(gfp & __GFP_DIRECT_RECLAIM))
		goto nopage;
	for (int retries = 0;; retries++) {
		unsigned long progress = try_to_free_pages(gfp, order);

		page = get_page_from_freelist(gfp, order, alloc_flags, ac);
		if (page)
			return page;
		if (gfp & __GFP_NORETRY)
			break;
		if (gfp & __GFP_NOFAIL) {
			sched_yield();
			continue;
		}
		if (!progress || retries >= MAX_RECLAIM_RETRIES)
			break;
	}
nopage:
	warn_alloc(gfp, order, "out of memory");
	return NULL;
}

struct page *__alloc_pages(gfp_t gfp, unsigned int order, int preferred_nid)
{
	struct alloc_context ac;
	struct page *page;

	if (unlikely(order > MAX_ORDER)) {
		if (!(gfp & __GFP_NOWARN))
			kmem_warn("alloc_pages: order %u is above MAX_ORDER %d", order, MAX_ORDER);
		errno = ENOMEM;
		return NULL;
	}
	if (unlikely(!kmem_ready())) {
		errno = ENOMEM;
		return NULL;
	}
	if (preferred_nid == NUMA_NO_NODE)
		preferred_nid = numa_node_id();
	if (unlikely(preferred_nid < 0 || preferred_nid >= MAX_NUMNODES ||
		     !NODE_DATA(preferred_nid))) {
		if (!(gfp & __GFP_NOWARN))
			kmem_warn("alloc_pages_node: node %d is not online", preferred_nid);
		errno = EINVAL;
		return NULL;
	}
	ac.zonelist = NODE_DATA(preferred_nid)->node_zonelists[
		(gfp & __GFP_THISNODE) ? ZONELIST_NOFALLBACK : ZONELIST_FALLBACK]._zonerefs;
	ac.highest_zoneidx = gfp_zone(gfp);
	ac.migratetype = gfp_migratetype(gfp);
	ac.preferred_nid = preferred_nid;

	page = get_page_from_freelist(gfp, order, ALLOC_WMARK_LOW, &ac);
	if (unlikely(!page)) {
		page = __alloc_pages_slowpath(gfp, order, &ac);
		if (!page)
			errno = ENOMEM;
	}
	return page;
}

/* ---- freeing ----------------------------------------------------------- */

void free_pages_prepare(struct page *page, unsigned int order)
{
	uint32_t state = page->flags & PAGE_STATE_MASK;

	if (unlikely(state != PG_head || page->order != order)) {
		if (state & PG_buddy)
			bad_page(page, order, "page already free (on a zone free list)");
		if (state & PG_pcp)
			bad_page(page, order, "page already free (on a per-thread list)");
		if (!(state & PG_head))
			bad_page(page, order, "not the head of an allocated block");
		bad_page(page, order, "freed with a different order than allocated");
	}
	page->flags &= ~(PG_head | PG_zeroed);
}

static inline void free_the_page(struct page *page, unsigned int order)
{
	unsigned long pfn = __page_to_pfn(page);
	struct zone *zone = __page_zone(page);
	int mt = get_pageblock_migratetype(pfn);

	free_pages_prepare(page, order);
	if (likely(pcp_allowed_order(order)) && likely(free_unref_page(zone, page, order, mt)))
		return;
	free_one_page(zone, page, pfn, order);
}

/* ---- public API -------------------------------------------------------- */

static void check_page_pointer(const struct page *page, const char *what)
{
	uintptr_t off = (uintptr_t)page - (uintptr_t)mem_map;

	if (unlikely(!mem_map || (uintptr_t)page < (uintptr_t)mem_map ||
		     off % sizeof(struct page) ||
		     !pfn_section_online(off / sizeof(struct page))))
		bad_address(page, what);
}

struct page *alloc_pages(gfp_t gfp, unsigned int order)
{
	return __alloc_pages(gfp, order, NUMA_NO_NODE);
}

struct page *alloc_pages_node(int nid, gfp_t gfp, unsigned int order)
{
	return __alloc_pages(gfp, order, nid);
}

void __free_pages(struct page *page, unsigned int order)
{
	if (unlikely(!page))
		return;
	check_page_pointer(page, "__free_pages");
	if (unlikely(order > MAX_ORDER))
		bad_page(page, order, "freed with an order above MAX_ORDER");
	free_the_page(page, order);
}

unsigned long __get_free_pages(gfp_t gfp, unsigned int order)
{
	struct page *page = alloc_pages(gfp & ~__GFP_HIGHMEM, order);

	return page ? (unsigned long)lowmem_page_address(page) : 0;
}

unsigned long get_zeroed_page(gfp_t gfp)
{
	return __get_free_pages(gfp | __GFP_ZERO, 0);
}

static struct page *addr_to_page_checked(const void *addr, const char *what)
{
	if (unlikely(!arena_base || !arena_contains(addr) ||
		     ((uintptr_t)addr & (PAGE_SIZE - 1)) ||
		     !pfn_section_online(__pa(addr) >> PAGE_SHIFT)))
		bad_address(addr, what);
	return __virt_to_page(addr);
}

void free_pages(unsigned long addr, unsigned int order)
{
	if (addr == 0)
		return;
	__free_pages(addr_to_page_checked((void *)addr, "free_pages"), order);
}

/*
 * Turn an allocated block of 2^order pages into independently freeable
 * blocks: the first nr_pages as order-0 pages, the tail freed at once in
 * the largest aligned pieces (the kernel frees it page by page).
 */
void free_pages_range(struct page *page, unsigned long first, unsigned long end)
{
	for (unsigned long i = first; i < end;) {
		unsigned int o = i ? (unsigned int)__builtin_ctzl(i) : MAX_ORDER;

		while (i + (1UL << o) > end)
			o--;
		page[i].flags &= ~PG_zeroed;
		set_page_head(&page[i], o, 0);
		free_the_page(&page[i], o);
		i += 1UL << o;
	}
}

static void *make_alloc_exact(struct page *page, unsigned int order, size_t size)
{
	unsigned long nr = (size + PAGE_SIZE - 1) >> PAGE_SHIFT;

	for (unsigned long i = 0; i < nr; i++) {
		set_page_head(&page[i], 0, 0);
	}
	free_pages_range(page, nr, 1UL << order);
	return lowmem_page_address(page);
}

void *alloc_pages_exact_nid(int nid, size_t size, gfp_t gfp)
{
	unsigned int order;
	struct page *page;

	if (unlikely(size == 0 || size > (PAGE_SIZE << MAX_ORDER))) {
		if (size && !(gfp & __GFP_NOWARN))
			kmem_warn("alloc_pages_exact: %zu bytes is above the largest block (%lu)",
				  size, PAGE_SIZE << MAX_ORDER);
		errno = size ? ENOMEM : EINVAL;
		return NULL;
	}
	order = get_order(size);
	page = __alloc_pages(gfp & ~__GFP_COMP, order, nid);
	return page ? make_alloc_exact(page, order, size) : NULL;
}

void *alloc_pages_exact(size_t size, gfp_t gfp)
{
	return alloc_pages_exact_nid(NUMA_NO_NODE, size, gfp);
}

void free_pages_exact(void *virt, size_t size)
{
	char *addr = virt;
	char *end = addr + ((size + PAGE_SIZE - 1) & PAGE_MASK);

	if (!virt)
		return;
	for (; addr < end; addr += PAGE_SIZE)
		__free_pages(addr_to_page_checked(addr, "free_pages_exact"), 0);
}

void *page_address(const struct page *page)
{
	return lowmem_page_address(page);
}

struct page *virt_to_page(const void *addr)
{
	return __virt_to_page(addr);
}

unsigned long page_to_pfn(const struct page *page)
{
	return __page_to_pfn(page);
}

struct page *pfn_to_page(unsigned long pfn)
{
	return __pfn_to_page(pfn);
}

int pfn_valid(unsigned long pfn)
{
	return mem_map && pfn_section_online(pfn);
}

struct zone *page_zone(const struct page *page)
{
	return __page_zone(page);
}

int page_to_nid(const struct page *page)
{
	return __page_to_nid(page);
}

enum zone_type zone_idx(const struct zone *zone)
{
	return zone->idx;
}

const char *zone_name(const struct zone *zone)
{
	return zone->name;
}

int zone_to_nid(const struct zone *zone)
{
	return zone->node;
}
