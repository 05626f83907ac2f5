/*
 * test_limit.c - KMEM_LIMIT caps the arena: exhaustion fails cleanly with
 * NULL and ENOMEM, everything allocated stays intact, and freeing makes
 * allocation work again.  KMEM_DEBUG_VM checks every zone operation.
 */
#include <errno.h>
#include <unistd.h>
#include "helpers.h"

#define MAX_BLOCKS 16384

static struct page *blocks[MAX_BLOCKS];
static unsigned int orders[MAX_BLOCKS];

static void setup(void)
{
	kmem_test_init("KMEM_LIMIT=32M", "KMEM_HUGEPAGES=off", "KMEM_DEBUG_VM=1", NULL);
}

TestSuite(limit, .init = setup);

static void fill(struct page *p, unsigned int order, size_t tag)
{
	unsigned long *w = page_address(p);

	for (size_t i = 0; i < (PAGE_SIZE << order) / sizeof(*w); i += 512)
		w[i] = tag * 0x9e3779b97f4a7c15ULL + i;
}

static void check(struct page *p, unsigned int order, size_t tag)
{
	unsigned long *w = page_address(p);

	for (size_t i = 0; i < (PAGE_SIZE << order) / sizeof(*w); i += 512)
		cr_assert_eq(w[i], tag * 0x9e3779b97f4a7c15ULL + i, "block %zu corrupted", tag);
}

/* Allocate until refused; returns blocks and fills pages_out. */
static size_t exhaust(gfp_t gfp, uint64_t *rng, unsigned long *pages_out)
{
	size_t n = 0;
	unsigned long pages = 0;

	for (;;) {
		unsigned int order = rng ? (unsigned int)(test_rand(rng) % 4) : 0;
		struct page *p;

		errno = 0;
		p = alloc_pages(gfp | __GFP_NOWARN, order);
		if (!p) {
			cr_assert_eq(errno, ENOMEM);
			if (order == 0)
				break;
			continue;
		}
		cr_assert_lt(n, MAX_BLOCKS);
		fill(p, order, n);
		orders[n] = order;
		blocks[n++] = p;
		pages += 1UL << order;
	}
	*pages_out = pages;
	return n;
}

static unsigned long total_managed(void)
{
	return kmem_zone(0, ZONE_DMA)->managed_pages + kmem_zone(0, ZONE_DMA32)->managed_pages;
}

Test(limit, arena_is_sized_by_the_limit)
{
	cr_assert_eq(total_managed(), (32UL << 20) >> PAGE_SHIFT);
	cr_assert_eq(max_pfn, (32UL << 20) >> PAGE_SHIFT);
}

Test(limit, exhaustion_returns_enomem_then_freeing_recovers)
{
	unsigned long pages, pages2;
	size_t n = exhaust(GFP_KERNEL, NULL, &pages);

	/* Everything but the reserves the watermarks keep was handed out. */
	cr_assert_gt(pages, total_managed() - 256);
	cr_assert_lt(pages, total_managed());
	for (size_t i = 0; i < n; i++)
		check(blocks[i], orders[i], i);
	cr_assert_eq(kmem_check_all(), 0);

	/* One page back: one page can be had again. */
	__free_pages(blocks[--n], 0);
	cr_assert_not_null(blocks[n] = alloc_pages(GFP_KERNEL, 0));
	fill(blocks[n], 0, n);
	n++;

	for (size_t i = 0; i < n; i++) {
		check(blocks[i], orders[i], i);
		__free_pages(blocks[i], orders[i]);
	}
	n = exhaust(GFP_KERNEL, NULL, &pages2);
	cr_assert_eq(pages2, pages, "second fill got %lu pages, first %lu", pages2, pages);
	for (size_t i = 0; i < n; i++)
		__free_pages(blocks[i], orders[i]);
	drain_all_pages();
	cr_assert_eq(kmem_check_all(), 0);
}

Test(limit, atomic_requests_dig_into_the_reserve)
{
	unsigned long pages;
	size_t n = exhaust(GFP_KERNEL, NULL, &pages);
	size_t extra = 0;
	struct page *p;

	while ((p = alloc_pages(GFP_ATOMIC | __GFP_NOWARN, 0))) {
		blocks[n++] = p;
		orders[n - 1] = 0;
		extra++;
	}
	cr_assert_gt(extra, 0, "GFP_ATOMIC found nothing below the min watermark");
	cr_assert_eq(kmem_check_all(), 0);
}

Test(limit, mixed_orders_exhaust_and_recover)
{
	uint64_t rng = 42;
	unsigned long pages;
	size_t n = exhaust(GFP_KERNEL, &rng, &pages);

	for (size_t i = 0; i < n; i++)
		check(blocks[i], orders[i], i);
	for (size_t i = 0; i < n; i += 2)
		__free_pages(blocks[i], orders[i]);
	/* Half given back: order-0 requests succeed again. */
	for (int i = 0; i < 100; i++) {
		struct page *p = alloc_pages(GFP_KERNEL, 0);

		cr_assert_not_null(p);
		__free_pages(p, 0);
	}
	for (size_t i = 1; i < n; i += 2) {
		check(blocks[i], orders[i], i);
		__free_pages(blocks[i], orders[i]);
	}
	drain_all_pages();
	cr_assert_eq(kmem_check_all(), 0);
	for (int z = ZONE_DMA; z <= ZONE_DMA32; z++) {
		struct zone *zone = kmem_zone(0, z);

		cr_assert_eq(zone_page_state(zone), (long)zone->managed_pages);
	}
}

/* No suite init here: this test brings kmem up itself, with stderr captured. */
Test(limit_small, too_small_a_limit_is_raised_with_a_warning)
{
	struct stderr_capture cap;
	char out[1024];

	stderr_capture_begin(&cap);
	setenv("KMEM_LIMIT", "1M", 1);
	setenv("KMEM_HUGEPAGES", "off", 1);
	cr_assert_eq(kmem_init(), 0);
	stderr_capture_end(&cap, out, sizeof(out));
	cr_assert(strstr(out, "KMEM_LIMIT=1048576 is below 8388608 bytes"), "got: %s", out);
	/* two sections on the one node */
	cr_assert_eq(max_pfn, 2 * PAGES_PER_SECTION);
	cr_assert_not_null(alloc_pages(GFP_KERNEL, 0));
}
