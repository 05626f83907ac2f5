/*
 * test_buddy.c - splitting and merging are exact, and blocks are aligned.
 *
 * The DMA zone of a 64 MiB arena (16 MiB, four MAX_ORDER blocks) is taken
 * page by page or block by block, then given back in a random order; the
 * free lists must end exactly as they began.  KMEM_DEBUG_VM checks every
 * zone operation along the way.
 */
#include "helpers.h"

#define ZONE_PAGES 4096UL   /* DMA: 16 MiB */

static struct zone *dma;
static struct free_area_snapshot start;

static void setup(void)
{
	kmem_test_init("KMEM_LIMIT=64M", "KMEM_HUGEPAGES=off", "KMEM_DEBUG_VM=1", NULL);
	dma = kmem_zone(0, ZONE_DMA);
	cr_assert_not_null(dma);
	cr_assert_eq(dma->managed_pages, ZONE_PAGES);
	zone_online_all(dma);
	snapshot_free_area(dma, &start);
}

TestSuite(buddy, .init = setup);

static void assert_only_max_order_blocks(const struct free_area_snapshot *s)
{
	for (int o = 0; o < MAX_ORDER; o++)
		cr_assert_eq(s->nr_free[o], 0, "order %d has %lu free blocks", o, s->nr_free[o]);
	cr_assert_eq(s->nr_free[MAX_ORDER], ZONE_PAGES >> MAX_ORDER);
	cr_assert_eq(s->free_pages, (long)ZONE_PAGES);
}

static void assert_same_free_area(const struct free_area_snapshot *a,
				  const struct free_area_snapshot *b, bool per_type)
{
	for (int o = 0; o < NR_PAGE_ORDERS; o++) {
		cr_assert_eq(a->nr_free[o], b->nr_free[o], "order %d: %lu vs %lu", o,
			     a->nr_free[o], b->nr_free[o]);
		for (int mt = 0; per_type && mt < MIGRATE_TYPES; mt++)
			cr_assert_eq(a->per_type[o][mt], b->per_type[o][mt]);
	}
	cr_assert_eq(a->free_pages, b->free_pages);
}

/* Take every page of the zone at one order; check alignment and tiling. */
static size_t take_all(unsigned int order, int mt, struct page **blocks)
{
	size_t n = 0;
	struct page *page;
	static unsigned char seen[ZONE_PAGES];

	memset(seen, 0, sizeof(seen));
	while ((page = alloc_pages_zone(dma, order, mt, ALLOC_NO_WATERMARKS))) {
		unsigned long pfn = page_to_pfn(page) - dma->zone_start_pfn;

		cr_assert_eq(pfn & ((1UL << order) - 1), 0, "order %u block at pfn %lu", order, pfn);
		cr_assert_eq((uintptr_t)page_address(page) & ((PAGE_SIZE << order) - 1), 0);
		cr_assert_eq(page_zone(page), dma);
		for (unsigned long i = 0; i < (1UL << order); i++) {
			cr_assert_not(seen[pfn + i], "pfn %lu handed out twice", pfn + i);
			seen[pfn + i] = 1;
		}
		blocks[n++] = page;
	}
	cr_assert_eq(n, ZONE_PAGES >> order, "order %u: %zu blocks", order, n);
	cr_assert_eq(zone_page_state(dma), 0);
	return n;
}

static void free_all(struct page **blocks, size_t n, unsigned int order, uint64_t *rng)
{
	test_shuffle((void **)blocks, n, rng);
	for (size_t i = 0; i < n; i++)
		__free_pages(blocks[i], order);
	drain_local_pages();
}

Test(buddy, starts_with_max_order_blocks)
{
	assert_only_max_order_blocks(&start);
	cr_assert_eq(kmem_check_zone(dma), 0);
}

Test(buddy, order0_every_page_random_free_merges_back)
{
	static struct page *blocks[ZONE_PAGES];
	struct free_area_snapshot end;
	uint64_t rng = 0x9e3779b97f4a7c15ULL;
	size_t n = take_all(0, MIGRATE_MOVABLE, blocks);

	free_all(blocks, n, 0, &rng);
	snapshot_free_area(dma, &end);
	assert_same_free_area(&start, &end, true);
	assert_only_max_order_blocks(&end);
	cr_assert_eq(kmem_check_zone(dma), 0);
}

Test(buddy, every_order_every_block_random_free_merges_back)
{
	static struct page *blocks[ZONE_PAGES];
	uint64_t rng = 12345;

	for (unsigned int order = 0; order <= MAX_ORDER; order++) {
		struct free_area_snapshot end;
		size_t n = take_all(order, MIGRATE_MOVABLE, blocks);

		free_all(blocks, n, order, &rng);
		snapshot_free_area(dma, &end);
		assert_same_free_area(&start, &end, true);
	}
	cr_assert_eq(kmem_check_zone(dma), 0);
}

/* Random orders and migrate types, taken until the zone is empty. */
Test(buddy, mixed_orders_and_types_merge_back)
{
	static struct page *blocks[ZONE_PAGES];
	static unsigned int orders[ZONE_PAGES];
	struct free_area_snapshot end;
	uint64_t rng = 777;
	size_t n = 0;
	unsigned long pages = 0;

	for (int misses = 0; misses < 64;) {
		unsigned int order = (unsigned int)(test_rand(&rng) % 6);
		int mt = (int)(test_rand(&rng) % MIGRATE_TYPES);
		struct page *page = alloc_pages_zone(dma, order, mt, ALLOC_NO_WATERMARKS);

		if (!page) {
			misses++;
			continue;
		}
		cr_assert_eq(page_to_pfn(page) & ((1UL << order) - 1), 0);
		orders[n] = order;
		blocks[n++] = page;
		pages += 1UL << order;
	}
	cr_assert_eq((long)pages + zone_page_state(dma), (long)ZONE_PAGES);
	/* Free in random order, keeping each block's order. */
	for (size_t i = n; i > 1; i--) {
		size_t j = test_rand(&rng) % i;
		struct page *tp = blocks[i - 1];
		unsigned int to = orders[i - 1];

		blocks[i - 1] = blocks[j];
		orders[i - 1] = orders[j];
		blocks[j] = tp;
		orders[j] = to;
	}
	for (size_t i = 0; i < n; i++)
		__free_pages(blocks[i], orders[i]);
	drain_local_pages();
	snapshot_free_area(dma, &end);
	assert_only_max_order_blocks(&end);
	cr_assert_eq(kmem_check_zone(dma), 0);
}

Test(buddy, split_leaves_one_block_per_lower_order)
{
	struct page *page = alloc_pages_zone(dma, 0, MIGRATE_MOVABLE, ALLOC_NO_WATERMARKS);
	struct free_area_snapshot s;

	snapshot_free_area(dma, &s);
	/* One MAX_ORDER block split down to order 0: one free buddy per order. */
	for (int o = 0; o < MAX_ORDER; o++)
		cr_assert_eq(s.nr_free[o], 1, "order %d", o);
	cr_assert_eq(s.nr_free[MAX_ORDER], 3);
	cr_assert_eq(s.free_pages, (long)ZONE_PAGES - 1);
	__free_pages(page, 0);
	drain_local_pages();
	snapshot_free_area(dma, &s);
	assert_only_max_order_blocks(&s);
}

/*
 * The zone walk reports slab tail marks (mm_types.h) where free would
 * follow them into the wrong block: on a block's head page, or on any page
 * of a free block.
 */
Test(buddy, walk_reports_tail_marks_on_free_pages)
{
	struct page *head = pfn_to_page(dma->zone_start_pfn);
	uint32_t saved;

	cr_assert(head->flags & PG_buddy, "the zone starts with a free block");
	cr_assert_eq(head->order, MAX_ORDER);
	cr_assert_eq(kmem_check_zone(dma), 0);

	saved = head[5].flags;
	head[5].flags |= page_tail_flags(5);
	cr_assert_eq(kmem_check_zone(dma), 1, "stale marks inside a free block");
	head[5].flags = saved;

	saved = head->flags;
	head->flags |= page_tail_flags(3);
	cr_assert_eq(kmem_check_zone(dma), 1, "marks on a block's head");
	head->flags = saved;
	cr_assert_eq(kmem_check_zone(dma), 0);
}
