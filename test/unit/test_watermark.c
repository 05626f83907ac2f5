/*
 * test_watermark.c - watermarks and lowmem_reserve refuse exactly where
 * the kernel's rules say.
 *
 * A 64 MiB arena on one node: DMA is pfns [0, 4096), DMA32 [4096, 16384),
 * no NORMAL zone.  Independently of kmem's code, the kernel's formulas give:
 *   min_free_kbytes = sqrt(16384 pages * 4 KiB * 16) = 1024 -> 256 pages
 *   DMA:   min 256*4096/16384 = 64,  low 64 + max(64/4, 4) = 80,  high 96
 *   DMA32: min 256*12288/16384 = 192, low 192 + 48 = 240,     high 288
 *   DMA lowmem_reserve for DMA32/NORMAL requests: 12288 / 256 = 48
 * Order-4 requests are used end to end: they bypass the per-thread lists,
 * so every page of the zone is accounted for.
 */
#include <errno.h>
#include "helpers.h"

static struct zone *dma, *dma32;

static void setup(void)
{
	kmem_test_init("KMEM_LIMIT=64M", "KMEM_HUGEPAGES=off", "KMEM_DEBUG_VM=1", NULL);
	dma = kmem_zone(0, ZONE_DMA);
	dma32 = kmem_zone(0, ZONE_DMA32);
}

TestSuite(watermark, .init = setup);

Test(watermark, derived_like_the_kernel)
{
	cr_assert_eq(min_free_kbytes, 1024);
	cr_assert_eq(min_wmark_pages(dma), 64);
	cr_assert_eq(low_wmark_pages(dma), 80);
	cr_assert_eq(high_wmark_pages(dma), 96);
	cr_assert_eq(min_wmark_pages(dma32), 192);
	cr_assert_eq(low_wmark_pages(dma32), 240);
	cr_assert_eq(high_wmark_pages(dma32), 288);
	cr_assert_eq(dma->lowmem_reserve[ZONE_DMA], 0);
	cr_assert_eq(dma->lowmem_reserve[ZONE_DMA32], 48);
	cr_assert_eq(dma->lowmem_reserve[ZONE_NORMAL], 48);
	cr_assert_eq(dma32->lowmem_reserve[ZONE_NORMAL], 0);
	cr_assert_not(populated_zone(kmem_zone(0, ZONE_NORMAL)));
}

/* Take pages with no watermark until the zone has exactly `left` free. */
static void drain_zone_to(struct zone *zone, long left)
{
	while (zone_page_state(zone) > left) {
		long excess = zone_page_state(zone) - left;
		unsigned int order = 0;

		while (order < MAX_ORDER && (2L << order) <= excess)
			order++;
		cr_assert_not_null(alloc_pages_zone(zone, order, MIGRATE_UNMOVABLE,
						    ALLOC_NO_WATERMARKS));
	}
	cr_assert_eq(zone_page_state(zone), left);
}

Test(watermark, zone_watermark_ok_boundaries)
{
	/* min 64, reserve 48 against requests that could use DMA32 or NORMAL */
	drain_zone_to(dma, 64 + 48 + 1);
	cr_assert(zone_watermark_ok(dma, 0, 64, ZONE_NORMAL, ALLOC_WMARK_MIN));
	drain_zone_to(dma, 64 + 48);
	cr_assert_not(zone_watermark_ok(dma, 0, 64, ZONE_NORMAL, ALLOC_WMARK_MIN));
	cr_assert_not(zone_watermark_ok(dma, 0, 64, ZONE_DMA32, ALLOC_WMARK_MIN));
	/* a DMA request has no reserve to respect */
	cr_assert(zone_watermark_ok(dma, 0, 64, ZONE_DMA, ALLOC_WMARK_MIN));
	drain_zone_to(dma, 65);
	cr_assert(zone_watermark_ok(dma, 0, 64, ZONE_DMA, ALLOC_WMARK_MIN));
	drain_zone_to(dma, 64);
	cr_assert_not(zone_watermark_ok(dma, 0, 64, ZONE_DMA, ALLOC_WMARK_MIN));
	/* __GFP_HIGH: half the min reserve (64 - 32 = 32) */
	cr_assert(zone_watermark_ok(dma, 0, 64, ZONE_DMA, ALLOC_WMARK_MIN | ALLOC_MIN_RESERVE));
	drain_zone_to(dma, 33);
	cr_assert(zone_watermark_ok(dma, 0, 64, ZONE_DMA, ALLOC_WMARK_MIN | ALLOC_MIN_RESERVE));
	drain_zone_to(dma, 32);
	cr_assert_not(zone_watermark_ok(dma, 0, 64, ZONE_DMA, ALLOC_WMARK_MIN | ALLOC_MIN_RESERVE));
	/* GFP_ATOMIC (cannot reclaim): a quarter less again (32 - 8 = 24) */
	cr_assert(zone_watermark_ok(dma, 0, 64, ZONE_DMA,
				    ALLOC_WMARK_MIN | ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK));
	drain_zone_to(dma, 24);
	cr_assert_not(zone_watermark_ok(dma, 0, 64, ZONE_DMA,
					ALLOC_WMARK_MIN | ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK));
	/* not blocking without __GFP_HIGH (GFP_NOWAIT) gets no extra reserve */
	drain_zone_to(dma, 20);
	cr_assert(zone_watermark_ok(dma, 0, 19, ZONE_DMA, ALLOC_WMARK_MIN | ALLOC_NON_BLOCK));
	cr_assert_not(zone_watermark_ok(dma, 0, 20, ZONE_DMA, ALLOC_WMARK_MIN | ALLOC_NON_BLOCK));
}

Test(watermark, higher_orders_subtract_the_block_and_need_a_free_block)
{
	zone_online_all(dma);
	/* order 4: free_pages - 15 must exceed the mark */
	drain_zone_to(dma, 64 + 16);
	cr_assert(zone_watermark_ok(dma, 4, 64, ZONE_DMA, ALLOC_WMARK_MIN));
	cr_assert_not(zone_watermark_ok(dma, 5, 64, ZONE_DMA, ALLOC_WMARK_MIN));
}

Test(watermark, end_to_end_gfp_dma)
{
	struct page *p;

	zone_online_all(dma);
	drain_zone_to(dma, 80);
	/* fast path needs 80 - 15 > low (80): no; slow path at min: 65 > 64 */
	p = alloc_pages(GFP_DMA | GFP_KERNEL, 4);
	cr_assert_not_null(p);
	cr_assert_eq(page_zone(p), dma);
	cr_assert_eq(zone_page_state(dma), 64);
	errno = 0;
	cr_assert_null(alloc_pages(GFP_DMA | GFP_KERNEL | __GFP_NOWARN, 4));
	cr_assert_eq(errno, ENOMEM);
	/* __GFP_HIGH reaches down to 32: 64 - 15 = 49 > 32 */
	cr_assert_not_null(alloc_pages(GFP_DMA | GFP_KERNEL | __GFP_HIGH, 4));
	cr_assert_eq(zone_page_state(dma), 48);
	drain_zone_to(dma, 44);
	/* 44 - 15 = 29 is not above 32 ... */
	cr_assert_null(alloc_pages(GFP_DMA | GFP_KERNEL | __GFP_HIGH | __GFP_NOWARN, 4));
	/* ... but GFP_ATOMIC reaches 24: 29 > 24, then 28 - 15 = 13 is not */
	cr_assert_not_null(alloc_pages(GFP_DMA | GFP_ATOMIC, 4));
	cr_assert_eq(zone_page_state(dma), 28);
	cr_assert_null(alloc_pages(GFP_DMA | GFP_ATOMIC | __GFP_NOWARN, 4));
	/* __GFP_MEMALLOC ignores watermarks */
	cr_assert_not_null(alloc_pages(GFP_DMA | GFP_KERNEL | __GFP_MEMALLOC, 4));
	cr_assert_eq(zone_page_state(dma), 12);
	cr_assert_eq(kmem_check_all(), 0);
}

Test(watermark, lowmem_reserve_protects_dma_from_kernel_requests)
{
	unsigned long n = 0;
	struct page *p;

	zone_online_all(dma);
	drain_zone_to(dma32, 0);
	/* GFP_KERNEL may use DMA only above min 64 + reserve 48: free - 15 > 112 */
	while ((p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, 4))) {
		cr_assert_eq(page_zone(p), dma);
		n++;
	}
	cr_assert_eq(n, (4096 - 128) / 16 + 1);
	cr_assert_eq(zone_page_state(dma), 112);
	/* what is left is for requests that can only use DMA */
	cr_assert_not_null(alloc_pages(GFP_DMA, 4));
	cr_assert_eq(kmem_check_all(), 0);
}

Test(watermark, zonelist_prefers_highest_zone_then_falls_back)
{
	struct page *p = alloc_pages(GFP_KERNEL, 4);

	cr_assert_eq(page_zone(p), dma32);
	p = alloc_pages(GFP_DMA32, 4);
	cr_assert_eq(page_zone(p), dma32);
	p = alloc_pages(GFP_DMA, 4);
	cr_assert_eq(page_zone(p), dma);
}
