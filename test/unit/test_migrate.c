/*
 * test_migrate.c - grouping by mobility and fallback with pageblock
 * stealing (mm/page_alloc.c: __rmqueue_fallback, try_to_claim_block).
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

Test(migrate, new_memory_is_grouped_by_type)
{
	/* Interleaved requests of three types land in pageblocks of their own. */
	for (int i = 0; i < 300; i++) {
		for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
			struct page *p = take(0, mt);

			cr_assert_eq(block_type(p), mt, "request %d of type %d in a %d block",
				     i, mt, block_type(p));
		}
	}
	cr_assert_eq(dma->ev.fallback, 0);
	cr_assert_eq(dma->online_pages, 3 * PAGES_PER_SECTION);
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
 * Fill every pageblock with movable order-0 pages, then free a share of
 * one pageblock's pages: with at least half of it free, an unmovable
 * request claims that pageblock; with less, it takes one block and the
 * pageblock stays movable.
 */
static void fragment_and_steal(unsigned int free_per_4, bool expect_claim)
{
	static struct page *pages[4096];
	size_t n = 0;
	struct page *p, *victim_block = NULL;
	unsigned long victim_pfn;

	zone_online_all(dma);
	while ((p = alloc_pages_zone(dma, 0, MIGRATE_MOVABLE, ALLOC_NO_WATERMARKS)))
		pages[n++] = p;
	cr_assert_eq(n, 4096);
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
	cr_assert_eq(ALIGN_DOWN(page_to_pfn(p), pageblock_nr_pages), victim_pfn);
	cr_assert_eq(dma->ev.fallback, 1);
	cr_assert_eq(get_pageblock_migratetype(victim_pfn),
		     expect_claim ? MIGRATE_UNMOVABLE : MIGRATE_MOVABLE);
	cr_assert_eq(dma->ev.steal_pageblock, expect_claim ? 1 : 0);
	cr_assert_eq(kmem_check_zone(dma), 0);
}

Test(migrate, claims_pageblock_when_half_is_free)
{
	/* pfn & 3 in {0, 2}: 2 of every 4 pages free = 256 of 512 */
	fragment_and_steal(4, true);
}

Test(migrate, steals_single_block_when_little_is_free)
{
	/* pfn & 3 == 0 only: 128 of 512 free */
	fragment_and_steal(1, false);
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
