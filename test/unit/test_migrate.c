/*
 * test_migrate.c - grouping by mobility and the fallback order when a
 * migrate type has no free block (mm/page_alloc.c: __rmqueue,
 * __rmqueue_claim, try_to_claim_block, __rmqueue_steal): claim a free or
 * half-free pageblock of another type, else bring a section online, else
 * lend a single block.
 *
 * The DMA zone of a 64 MiB arena has 4 sections = 8 pageblocks of 512
 * pages.  Requests go straight to the zone (alloc_pages_zone), so what
 * each test sees is the buddy allocator's own choice.
 */
#include "helpers.h"

static struct zone *dma;

static void setup(void)
{
	kmem_test_init("KMEM_LIMIT=64M", "KMEM_HUGEPAGES=off", "KMEM_DEBUG_VM=1", NULL);
	dma = kmem_zone(0, ZONE_DMA);
}

TestSuite(migrate, .init = setup);

static struct page *take(unsigned int order, int mt)
{
	struct page *p = alloc_pages_zone(dma, order, mt, ALLOC_NO_WATERMARKS);

	cr_assert_not_null(p);
	return p;
}

static int block_type(const struct page *p)
{
	return get_pageblock_migratetype(page_to_pfn(p));
}

static unsigned long blocks_of_type(int mt)
{
	unsigned long n = 0;

	for (unsigned long pfn = dma->zone_start_pfn; pfn < dma->zone_start_pfn + dma->online_pages;
	     pfn += pageblock_nr_pages)
		n += get_pageblock_migratetype(pfn) == mt;
	return n;
}

/*
 * Each type takes a free pageblock of another type before a section
 * comes online, and a section before it would share a pageblock that is
 * mostly in use: 300 unmovable pages bring section 0 online and use 300
 * of pageblock 0; movable pages claim the free pageblock 1 and fill it;
 * a reclaimable page then finds pageblock 0 less than half free and gets
 * section 1.
 */
Test(migrate, free_pageblock_is_claimed_before_a_section_comes_online)
{
	struct page *p;

	for (int i = 0; i < 300; i++)
		cr_assert_eq(block_type(take(0, MIGRATE_UNMOVABLE)), MIGRATE_UNMOVABLE);
	cr_assert_eq(dma->ev.sections_online, 1);
	for (int i = 0; i < 512; i++)
		cr_assert_eq(block_type(take(0, MIGRATE_MOVABLE)), MIGRATE_MOVABLE);
	cr_assert_eq(dma->ev.sections_online, 1, "movable claimed the free pageblock");
	cr_assert_eq(dma->ev.fallback, 1);
	cr_assert_eq(dma->ev.steal_pageblock, 1);
	p = take(0, MIGRATE_RECLAIMABLE);
	cr_assert_eq(block_type(p), MIGRATE_RECLAIMABLE);
	cr_assert_geq(page_to_pfn(p), dma->zone_start_pfn + PAGES_PER_SECTION);
	cr_assert_eq(dma->ev.sections_online, 2);
	cr_assert_eq(dma->ev.fallback, 1, "no pageblock was shared");
	cr_assert_eq(blocks_of_type(MIGRATE_UNMOVABLE), 1);
	cr_assert_eq(blocks_of_type(MIGRATE_MOVABLE), 1);
	cr_assert_eq(blocks_of_type(MIGRATE_RECLAIMABLE), 2);
	cr_assert_eq(kmem_check_zone(dma), 0);
}

/*
 * Memory freed as movable serves unmovable requests before the zone
 * grows: two sections' worth of movable pages come and go, then as many
 * unmovable pages fit in the same two sections, each MAX_ORDER block
 * claimed whole.
 */
Test(migrate, memory_freed_as_movable_is_reused_for_unmovable)
{
	static struct page *pages[2 * PAGES_PER_SECTION];

	for (size_t i = 0; i < ARRAY_SIZE(pages); i++)
		pages[i] = take(0, MIGRATE_MOVABLE);
	cr_assert_eq(dma->online_pages, 2 * PAGES_PER_SECTION);
	cr_assert_eq(blocks_of_type(MIGRATE_MOVABLE), 4);
	for (size_t i = 0; i < ARRAY_SIZE(pages); i++)
		__free_pages(pages[i], 0);
	drain_local_pages();
	cr_assert_eq(dma->free_area[MAX_ORDER].nr_free, 2);
	for (size_t i = 0; i < ARRAY_SIZE(pages); i++)
		cr_assert_eq(block_type(take(0, MIGRATE_UNMOVABLE)), MIGRATE_UNMOVABLE);
	cr_assert_eq(dma->online_pages, 2 * PAGES_PER_SECTION, "no section came online");
	cr_assert_eq(dma->ev.sections_online, 2);
	cr_assert_eq(dma->ev.fallback, 2);
	cr_assert_eq(dma->ev.steal_pageblock, 4);
	cr_assert_eq(blocks_of_type(MIGRATE_UNMOVABLE), 4);
	cr_assert_eq(kmem_check_zone(dma), 0);
}

Test(migrate, unmovable_steals_whole_free_max_order_block)
{
	struct page *p;

	zone_online_all(dma);     /* all 8 pageblocks MOVABLE, like a booted kernel */
	cr_assert_eq(blocks_of_type(MIGRATE_MOVABLE), 8);
	p = take(0, MIGRATE_UNMOVABLE);
	/* The largest fallback block is order 10 >= pageblock_order: both of
	 * its pageblocks change hands. */
	cr_assert_eq(dma->ev.fallback, 1);
	cr_assert_eq(dma->ev.steal_pageblock, 2);
	cr_assert_eq(block_type(p), MIGRATE_UNMOVABLE);
	cr_assert_eq(blocks_of_type(MIGRATE_UNMOVABLE), 2);
	cr_assert_eq(blocks_of_type(MIGRATE_MOVABLE), 6);
	/* Later unmovable requests are served from the stolen blocks. */
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(block_type(take(0, MIGRATE_UNMOVABLE)), MIGRATE_UNMOVABLE);
	cr_assert_eq(dma->ev.fallback, 1);
	cr_assert_eq(kmem_check_zone(dma), 0);
}

/*
 * Fill the zone's pageblocks with movable order-0 pages (every section,
 * or only section 0 with the others left offline), then free a share of
 * one pageblock's pages: with at least half of it free, an unmovable
 * request claims that pageblock.  With less, a section left offline
 * comes online for it; with none left, it takes one block and the
 * pageblock stays movable.
 */
static void fragment_and_steal(unsigned int free_per_4, bool all_online, bool expect_claim)
{
	static struct page *pages[4096];
	size_t n = 0, want = all_online ? 4096 : PAGES_PER_SECTION;
	struct page *p, *victim_block = NULL;
	unsigned long victim_pfn;

	if (all_online)
		zone_online_all(dma);
	while (n < want && (p = alloc_pages_zone(dma, 0, MIGRATE_MOVABLE, ALLOC_NO_WATERMARKS)))
		pages[n++] = p;
	cr_assert_eq(n, want);
	cr_assert_eq(dma->online_pages, want);
	victim_pfn = ALIGN_DOWN(page_to_pfn(pages[0]), pageblock_nr_pages);
	/* free free_per_4 of every 4 pages of the victim pageblock, unmergeable */
	for (size_t i = 0; i < n; i++) {
		unsigned long pfn = page_to_pfn(pages[i]);

		if (pfn - victim_pfn < pageblock_nr_pages && (pfn & 3) < free_per_4 &&
		    ((pfn & 3) == 0 || (pfn & 3) == 2)) {
			__free_pages(pages[i], 0);
			victim_block = pages[i];
		}
	}
	drain_local_pages();
	cr_assert_not_null(victim_block);
	p = take(0, MIGRATE_UNMOVABLE);
	cr_assert_eq(get_pageblock_migratetype(victim_pfn),
		     expect_claim ? MIGRATE_UNMOVABLE : MIGRATE_MOVABLE);
	cr_assert_eq(dma->ev.steal_pageblock, expect_claim ? 1 : 0);
	if (expect_claim || all_online) {
		cr_assert_eq(ALIGN_DOWN(page_to_pfn(p), pageblock_nr_pages), victim_pfn);
		cr_assert_eq(dma->ev.fallback, 1);
		cr_assert_eq(dma->online_pages, want);
	} else {
		/* a fresh section rather than a movable pageblock's page */
		cr_assert_eq(dma->ev.fallback, 0);
		cr_assert_eq(dma->online_pages, 2 * PAGES_PER_SECTION);
		cr_assert_eq(block_type(p), MIGRATE_UNMOVABLE);
	}
	cr_assert_eq(kmem_check_zone(dma), 0);
}

Test(migrate, claims_pageblock_when_half_is_free)
{
	/* pfn & 3 in {0, 2}: 2 of every 4 pages free = 256 of 512 */
	fragment_and_steal(4, true, true);
}

Test(migrate, claims_half_free_pageblock_before_a_section_comes_online)
{
	fragment_and_steal(4, false, true);
}

Test(migrate, steals_single_block_when_little_is_free)
{
	/* pfn & 3 == 0 only: 128 of 512 free */
	fragment_and_steal(1, true, false);
}

Test(migrate, section_comes_online_before_a_single_block_is_stolen)
{
	fragment_and_steal(1, false, false);
}

Test(migrate, movable_fallback_takes_smallest_block_without_claiming)
{
	struct page *u[1024];
	struct page *p;

	/* Section 0 becomes unmovable; free most of it again in small pieces. */
	for (int i = 0; i < 1024; i++)
		u[i] = take(0, MIGRATE_UNMOVABLE);
	for (int i = 0; i < 1024; i += 2)
		__free_pages(u[i], 0);
	drain_local_pages();
	/* No more sections: limit the zone to the one online section. */
	dma->managed_pages = dma->online_pages;
	atomic_store(&dma->free_pages, 512);
	p = take(0, MIGRATE_MOVABLE);
	cr_assert_eq(dma->ev.fallback, 1);
	cr_assert_eq(dma->ev.steal_pageblock, 0);
	/* an order-0 fallback block: the pageblock keeps its type */
	cr_assert_eq(block_type(p), MIGRATE_UNMOVABLE);
	cr_assert_eq(dma->free_area[0].nr_free, 511);
}

Test(migrate, freeing_into_a_stolen_block_uses_its_new_type)
{
	struct page *p;

	zone_online_all(dma);
	p = take(0, MIGRATE_MOVABLE);
	(void)take(0, MIGRATE_UNMOVABLE);       /* steals a free MAX_ORDER block */
	__free_pages(p, 0);
	drain_local_pages();
	cr_assert_eq(block_type(p), MIGRATE_MOVABLE);
	cr_assert_eq(kmem_check_zone(dma), 0);
}
