/*
 * reclaim.c - getting free pages back: draining the per-thread lists and
 * running shrinkers when a zone is short (the work of kswapd and direct
 * reclaim), and giving idle free memory back to the OS.
 *
 * Giving back works with MADV_DONTNEED under zone->lock, so no block can
 * be handed out while its memory is being dropped: a whole pageblock at a
 * time for free blocks of pageblock size or more, and free fragments (free
 * blocks of RELEASE_FRAGMENT_ORDER up to pageblock size) one block at a
 * time, PG_released on their head.  Fragments matter as much: a program
 * whose free memory lies between live slabs and large blocks has few
 * whole free pageblocks (gcc's cc1 kept 7 MiB so).  Decay keeps churn
 * from thrashing: a pass marks free pageblocks (PB_IDLE) and fragments
 * (PG_idle) idle, and only those still idle at a pass KMEM_DECAY_MS or
 * more later are released; allocating from them clears the marks.  A pass
 * is due at most every KMEM_DECAY_MS, looked for whenever pages go back to
 * a zone.  Each zone keeps KMEM_RETAIN bytes of free memory resident.
 * Memory of hugetlb-backed sections is never given back (see
 * release_block), nor are fragments of THP-backed ones, whose huge pages
 * dropping a fragment would split.  Released pages still count as free:
 * they are the zone's to hand out again, and read as zeroes when they are.
 */
#include "internal.h"

#define MAX_SHRINKERS 16
#define RELEASE_BATCH_PAGEBLOCKS 64
/* 64 KiB: smaller holes are the first to be reused, and each costs a
 * system call */
#define RELEASE_FRAGMENT_ORDER   4

static shrinker_fn shrinkers[MAX_SHRINKERS];
static atomic_int nr_shrinkers;

int register_shrinker(shrinker_fn fn)
{
	int i = atomic_fetch_add(&nr_shrinkers, 1);

	if (i >= MAX_SHRINKERS) {
		atomic_fetch_sub(&nr_shrinkers, 1);
		return -1;
	}
	shrinkers[i] = fn;
	return 0;
}

long global_free_pages(void)
{
	long sum = 0;
	struct zone *zone;
	int nid;

	for_each_online_node(nid)
		for_each_populated_zone_of(NODE_DATA(nid), zone)
			sum += zone_page_state(zone);
	return sum;
}

unsigned long try_to_free_pages(gfp_t gfp, unsigned int order)
{
	long before = global_free_pages(), after;
	int n = MIN(atomic_load(&nr_shrinkers), MAX_SHRINKERS);

	drain_all_pages();
	for (int i = 0; i < n; i++)
		if (shrinkers[i])
			shrinkers[i](gfp);
	after = global_free_pages();
	return after > before ? (unsigned long)(after - before) : 0;
}

bool zone_release_due(struct zone *zone)
{
	uint64_t now = os_now_ns();

	return now - zone->last_release_ns >= kmem_config.decay_ms * 1000000ULL;
}

static unsigned long zone_resident_free(const struct zone *zone)
{
	long offline = (long)(zone->managed_pages - zone->online_pages);

	return (unsigned long)(zone_page_state(zone) - offline) - zone->released_pages;
}

/*
 * Release one free block of order >= pageblock_order if it is due and
 * giving it back leaves at least keep resident free pages; budget is how
 * many resident free pages there are above keep.
 */
static unsigned long release_block(struct zone *zone, struct page *page,
				   unsigned int order, bool need_idle, unsigned long budget)
{
	unsigned long pfn = __page_to_pfn(page);
	unsigned long nr = 1UL << (order - pageblock_order), released = 0;
	uint8_t *pb = &pageblock_flags[pfn >> pageblock_order];
	bool all_idle = true;

	/*
	 * hugetlb memory stays: after MADV_DONTNEED a private hugetlb page
	 * goes back to the system pool, and the refault needs a pool page
	 * with no reservation behind it; if another process (or a lowered
	 * nr_hugepages) took it meanwhile, the refault is SIGBUS.
	 */
	if (section_state[pfn >> SECTION_ORDER] == BACKING_HUGETLB)
		return 0;
	for (unsigned long i = 0; i < nr; i++)
		if (!(pb[i] & (PB_IDLE | PB_RELEASED)))
			all_idle = false;
	if (need_idle && !all_idle) {
		for (unsigned long i = 0; i < nr; i++)
			pb[i] |= PB_IDLE;
		return 0;
	}
	for (unsigned long i = 0; i < nr; i++)
		if (!(pb[i] & PB_RELEASED))
			released += pageblock_nr_pages;
	if (released > budget)
		return 0;
	released = 0;
	for (unsigned long i = 0; i < nr; i++) {
		if (pb[i] & PB_RELEASED)
			continue;
		arena_release(pfn + i * pageblock_nr_pages, pageblock_nr_pages);
		pb[i] |= PB_RELEASED;
		released += pageblock_nr_pages;
	}
	page->flags |= PG_zeroed;
	return released;
}

/*
 * Free fragments of 4 KiB-backed sections whose memory may be resident
 * (no PG_zeroed): released if idle since the last pass (or need_idle is
 * false), else marked idle, within budget pages.
 */
static unsigned long release_fragments(struct zone *zone, bool need_idle,
				       unsigned long budget)
{
	unsigned long released = 0;

	for (int order = pageblock_order - 1; order >= RELEASE_FRAGMENT_ORDER; order--) {
		unsigned long nr = 1UL << order;

		for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
			struct page *page;

			list_for_each_entry(page, &zone->free_area[order].free_list[mt], lru) {
				unsigned long pfn = __page_to_pfn(page);

				if ((page->flags & (PG_zeroed | PG_released)) ||
				    section_state[pfn >> SECTION_ORDER] != BACKING_4K)
					continue;
				if (need_idle && !(page->flags & PG_idle)) {
					page->flags |= PG_idle;
					continue;
				}
				if (released + nr > budget)
					return released;
				arena_release(pfn, nr);
				page->flags = (page->flags & ~PG_idle) | PG_zeroed | PG_released;
				released += nr;
			}
		}
	}
	return released;
}

unsigned long zone_release_free(struct zone *zone, bool force)
{
	unsigned long keep = force ? 0 : kmem_config.retain >> PAGE_SHIFT;
	unsigned long resident = zone_resident_free(zone), released = 0;
	bool need_idle = !force && kmem_config.decay_ms > 0;

	zone->last_release_ns = os_now_ns();
	for (int order = MAX_ORDER; order >= pageblock_order; order--) {
		for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
			struct page *page;

			list_for_each_entry(page, &zone->free_area[order].free_list[mt], lru) {
				unsigned long budget = resident > keep + released
						       ? resident - keep - released : 0;

				if (released >= RELEASE_BATCH_PAGEBLOCKS * pageblock_nr_pages)
					budget = 0;
				released += release_block(zone, page, order, need_idle, budget);
			}
		}
	}
	if (released < RELEASE_BATCH_PAGEBLOCKS * pageblock_nr_pages && resident > keep + released)
		released += release_fragments(zone, need_idle,
					      MIN(resident - keep - released,
						  RELEASE_BATCH_PAGEBLOCKS * pageblock_nr_pages - released));
	zone->released_pages += released;
	zone->ev.pages_released += released;
	return released;
}

size_t kmem_reclaim(void)
{
	unsigned long pages = 0;
	struct zone *zone;
	int nid;

	if (!kmem_ready())
		return 0;
	drain_all_pages();
	for_each_online_node(nid) {
		for_each_populated_zone_of(NODE_DATA(nid), zone) {
			unsigned long n;

			pthread_mutex_lock(&zone->lock);
			do {
				n = zone_release_free(zone, true);
				pages += n;
			} while (n);
			pthread_mutex_unlock(&zone->lock);
		}
	}
	return pages << PAGE_SHIFT;
}
