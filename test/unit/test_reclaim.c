/*
 * test_reclaim.c - giving free memory back to the OS (reclaim.c).
 *
 * A 64 MiB arena with 4 KiB backing on the one-node fake topology;
 * GFP_KERNEL order-10 requests take whole sections of ZONE_DMA32, one
 * fresh section each, so the free lists hold exactly the blocks a test
 * frees.  Expectations come from the documented rules: a release pass
 * runs when a free forms a block of pageblock size or more and
 * KMEM_DECAY_MS have passed since the last pass; with a decay, a pass
 * only marks free pageblocks idle and releases those already idle; each
 * zone keeps KMEM_RETAIN bytes of free memory resident; released memory
 * reads as zeroes; kmem_reclaim releases everything regardless.  What
 * the OS really holds is read with mincore() on the arena and RssAnon in
 * /proc/self/status.  KMEM_DEBUG_VM checks every zone operation.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <criterion/logging.h>
#include "helpers.h"

#define DMA32_PAGES 12288L
#define BLOCK_ORDER MAX_ORDER
#define BLOCK_PAGES (1L << BLOCK_ORDER)          /* 1024 pages, 4 MiB */
#define BLOCK_BYTES (BLOCK_PAGES * (long)PAGE_SIZE)
#define NBLOCKS 8                                /* 32 MiB */

static struct zone *z32;

static const char *const kmem_options[] = {
	"KMEM_LIMIT", "KMEM_HUGEPAGES", "KMEM_PCP_HIGH", "KMEM_PCP_BATCH", "KMEM_PCP_RAMP",
	"KMEM_DEBUG_VM", "KMEM_DECAY_MS", "KMEM_RETAIN", "KMEM_SYSFS_ROOT",
};

/* KMEM_LIMIT=64M, 4 KiB pages, DEBUG_VM, one node, and the given decay and
 * retain (NULL: default). */
static void reclaim_init(const char *limit, const char *decay, const char *retain)
{
	char sysfs[600];

	for (size_t i = 0; i < ARRAY_SIZE(kmem_options); i++)
		unsetenv(kmem_options[i]);
	snprintf(sysfs, sizeof(sysfs), "KMEM_SYSFS_ROOT=%s", test_sysfs("1node"));
	if (decay)
		setenv("KMEM_DECAY_MS", decay, 1);
	if (retain)
		setenv("KMEM_RETAIN", retain, 1);
	kmem_test_init(limit ? limit : "KMEM_LIMIT=64M", "KMEM_HUGEPAGES=off",
		       "KMEM_DEBUG_VM=1", "KMEM_PCP_RAMP=0", sysfs, NULL);
	z32 = kmem_zone(0, ZONE_DMA32);
	cr_assert_not_null(z32);
	cr_assert_eq(z32->online_pages, 0);
	cr_assert_eq(z32->released_pages, 0);
	cr_assert_eq(z32->ev.pages_released, 0);
}

TestSuite(reclaim, .timeout = 120);

/* ---- helpers --------------------------------------------------------- */

static long rss_anon_kb(void)
{
	char buf[4096];
	const char *p;
	FILE *f = fopen("/proc/self/status", "r");
	size_t len;

	cr_assert_not_null(f);
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	p = strstr(buf, "RssAnon:");
	cr_assert_not_null(p);
	return strtol(p + strlen("RssAnon:"), NULL, 10);
}

/* Free pages the zone keeps in memory: free, online, not released. */
static long resident_free(const struct zone *zone)
{
	long offline = (long)(zone->managed_pages - zone->online_pages);

	return zone_page_state(zone) - offline - (long)zone->released_pages;
}

static struct page *alloc_block(gfp_t gfp)
{
	struct page *p = alloc_pages(gfp, BLOCK_ORDER);

	cr_assert_not_null(p);
	cr_assert_eq(page_zone(p), z32);
	return p;
}

static void fill(struct page *p, unsigned int order, int byte)
{
	memset(page_address(p), byte, PAGE_SIZE << order);
}

static bool all_zero(const void *addr, size_t bytes)
{
	const uint64_t *w = addr;

	for (size_t i = 0; i < bytes / sizeof(*w); i++)
		if (w[i])
			return false;
	return true;
}

static bool all_byte(const void *addr, size_t bytes, int byte)
{
	const unsigned char *c = addr;

	for (size_t i = 0; i < bytes; i++)
		if (c[i] != (unsigned char)byte)
			return false;
	return true;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Steps meant to run within one decay period took longer (a badly
 * overloaded machine): the expectations do not apply. */
static void skip_if_slower_than(uint64_t since, uint64_t ms)
{
	uint64_t took = now_ms() - since;

	if (took >= ms)
		cr_skip_test("%llu ms between steps meant to be immediate",
			     (unsigned long long)took);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts))
		;
}

static void alloc_touched_blocks(struct page **blocks, int n)
{
	for (int i = 0; i < n; i++) {
		blocks[i] = alloc_block(GFP_KERNEL);
		fill(blocks[i], BLOCK_ORDER, 0x5a);
		cr_assert_eq(test_resident_pages(page_address(blocks[i]), BLOCK_PAGES), BLOCK_PAGES);
	}
	cr_assert_eq(z32->online_pages, (unsigned long)(n * BLOCK_PAGES));
	cr_assert_eq(resident_free(z32), 0);
}

/* ---- release without decay -------------------------------------------- */

Test(reclaim, free_releases_memory_to_the_os)
{
	struct page *blocks[NBLOCKS];
	long rss_before, rss_after;

	reclaim_init(NULL, "0", "0");
	alloc_touched_blocks(blocks, NBLOCKS);
	rss_before = rss_anon_kb();
	for (int i = 0; i < NBLOCKS; i++) {
		void *addr = page_address(blocks[i]);

		__free_pages(blocks[i], BLOCK_ORDER);
		/* No decay, nothing retained: each free releases its block. */
		cr_assert_eq(z32->released_pages, (unsigned long)((i + 1) * BLOCK_PAGES),
			     "after free %d: %lu released", i, z32->released_pages);
		cr_assert_eq(z32->ev.pages_released, (unsigned long)((i + 1) * BLOCK_PAGES));
		cr_assert_eq(test_resident_pages(addr, BLOCK_PAGES), 0, "block %d still resident", i);
		cr_assert_eq(resident_free(z32), 0);
		/* The free block is known to read as zeroes. */
		cr_assert_eq(blocks[i]->flags & (PG_buddy | PG_zeroed), PG_buddy | PG_zeroed);
	}
	rss_after = rss_anon_kb();
	cr_assert_geq(rss_before - rss_after, 28L * 1024,
		      "RssAnon went from %ld kB to %ld kB after freeing 32 MiB",
		      rss_before, rss_after);
	cr_assert_eq(zone_page_state(z32), DMA32_PAGES);
	cr_assert_eq(kmem_check_all(), 0);
}

Test(reclaim, released_blocks_read_zero_and_count_refaults)
{
	struct page *blocks[NBLOCKS], *again[NBLOCKS];

	reclaim_init(NULL, "0", "0");
	alloc_touched_blocks(blocks, NBLOCKS);
	for (int i = 0; i < NBLOCKS; i++)
		__free_pages(blocks[i], BLOCK_ORDER);
	cr_assert_eq(z32->released_pages, (unsigned long)(NBLOCKS * BLOCK_PAGES));
	cr_assert_eq(z32->ev.pages_refaulted, 0);

	for (int i = 0; i < NBLOCKS; i++) {
		gfp_t gfp = (i & 1) ? GFP_KERNEL | __GFP_ZERO : GFP_KERNEL;
		void *addr;
		bool known = false;

		again[i] = alloc_block(gfp);
		addr = page_address(again[i]);
		for (int j = 0; j < NBLOCKS; j++)
			known |= again[i] == blocks[j];
		cr_assert(known, "block %d is not one of the released blocks", i);
		cr_assert_eq(z32->ev.pages_refaulted, (unsigned long)((i + 1) * BLOCK_PAGES));
		cr_assert_eq(z32->released_pages, (unsigned long)((NBLOCKS - i - 1) * BLOCK_PAGES));
		/* Released memory is already zero: __GFP_ZERO must not write it
		 * (a memset would bring every page back). */
		cr_assert_eq(test_resident_pages(addr, BLOCK_PAGES), 0,
			     "block %d (%s): %ld pages faulted in by the allocation", i,
			     (gfp & __GFP_ZERO) ? "__GFP_ZERO" : "no __GFP_ZERO",
			     test_resident_pages(addr, BLOCK_PAGES));
		cr_assert(all_zero(addr, BLOCK_BYTES), "released block %d does not read zero", i);
		fill(again[i], BLOCK_ORDER, 0x33);
	}
	cr_assert_eq(z32->ev.pages_released, (unsigned long)(NBLOCKS * BLOCK_PAGES));
	for (int i = 0; i < NBLOCKS; i++)
		__free_pages(again[i], BLOCK_ORDER);
	cr_assert_eq(z32->ev.pages_released, (unsigned long)(2 * NBLOCKS * BLOCK_PAGES));
	cr_assert_eq(kmem_check_all(), 0);
}

Test(reclaim, released_pages_split_small_still_read_zero)
{
	struct page *blocks[2], *small[64];

	reclaim_init(NULL, "0", "0");
	alloc_touched_blocks(blocks, 2);
	__free_pages(blocks[0], BLOCK_ORDER);
	__free_pages(blocks[1], BLOCK_ORDER);
	cr_assert_eq(z32->released_pages, (unsigned long)(2 * BLOCK_PAGES));
	/* Small blocks carved out of released memory, through the pcp lists. */
	for (int i = 0; i < 64; i++) {
		unsigned int order = (unsigned int)(i % 4);
		gfp_t gfp = (i & 4) ? GFP_KERNEL | __GFP_ZERO : GFP_KERNEL;

		small[i] = alloc_pages(gfp, order);
		cr_assert_not_null(small[i]);
		cr_assert(all_zero(page_address(small[i]), PAGE_SIZE << order),
			  "small block %d (order %u) from released memory is dirty", i, order);
		fill(small[i], order, 0x77);
	}
	/* Allocating from a released pageblock takes it back whole. */
	cr_assert_lt(z32->released_pages, (unsigned long)(2 * BLOCK_PAGES));
	cr_assert_eq(z32->released_pages % pageblock_nr_pages, 0);
	cr_assert_eq(z32->ev.pages_refaulted + z32->released_pages,
		     (unsigned long)(2 * BLOCK_PAGES));
	for (int i = 0; i < 64; i++)
		__free_pages(small[i], (unsigned int)(i % 4));
	drain_local_pages();
	cr_assert_eq(zone_page_state(z32), DMA32_PAGES);
	cr_assert_eq(kmem_check_all(), 0);
}

/* ---- __GFP_ZERO on memory that was not released ------------------------- */

Test(reclaim, gfp_zero_clears_dirty_memory)
{
	struct page *b, *b2, *p, *p2;
	unsigned long zp;

	/* Decay and retain large enough that nothing is ever released. */
	reclaim_init(NULL, "600000", "1G");
	b = alloc_block(GFP_KERNEL);
	fill(b, BLOCK_ORDER, 0xa5);
	__free_pages(b, BLOCK_ORDER);
	cr_assert_eq(z32->ev.pages_released, 0);
	cr_assert_eq(b->flags & PG_zeroed, 0, "a dirty free block is flagged zeroed");
	b2 = alloc_block(GFP_KERNEL | __GFP_ZERO);
	cr_assert_eq(b2, b, "expected the only free block back");
	cr_assert(all_zero(page_address(b2), BLOCK_BYTES), "__GFP_ZERO block is dirty");
	/* Without __GFP_ZERO the old contents may stay: dirty it again and
	 * check that a plain allocation did not get the zeroed flag wrong. */
	fill(b2, BLOCK_ORDER, 0xa5);
	__free_pages(b2, BLOCK_ORDER);
	b = alloc_block(GFP_KERNEL);
	cr_assert(all_byte(page_address(b), BLOCK_BYTES, 0xa5));
	__free_pages(b, BLOCK_ORDER);

	/* Order 0, through this thread's list (the hot page comes back). */
	p = alloc_page(GFP_KERNEL);
	cr_assert_not_null(p);
	fill(p, 0, 0xee);
	__free_page(p);
	p2 = alloc_page(GFP_KERNEL | __GFP_ZERO);
	cr_assert_eq(p2, p);
	cr_assert(all_zero(page_address(p2), PAGE_SIZE));
	fill(p2, 0, 0xee);
	__free_page(p2);
	zp = get_zeroed_page(GFP_KERNEL);
	cr_assert_eq((void *)zp, page_address(p));
	cr_assert(all_zero((void *)zp, PAGE_SIZE));
	free_page(zp);
	cr_assert_eq(z32->ev.pages_released, 0);
	cr_assert_eq(kmem_check_all(), 0);
}

Test(reclaim, fresh_memory_is_not_written_for_gfp_zero)
{
	struct page *b;

	reclaim_init(NULL, "600000", "1G");
	/* A section straight from the OS is zero: __GFP_ZERO is free. */
	b = alloc_block(GFP_KERNEL | __GFP_ZERO);
	cr_assert_eq(test_resident_pages(page_address(b), BLOCK_PAGES), 0);
	cr_assert(all_zero(page_address(b), BLOCK_BYTES));
	__free_pages(b, BLOCK_ORDER);
	cr_assert_eq(kmem_check_all(), 0);
}

static void *free_page_and_exit(void *page)
{
	__free_page(page);      /* onto this thread's list; its exit drains it */
	return NULL;
}

/*
 * A never-used page (still zero) merging with a dirty free buddy must
 * not pass its zeroed mark on.  p0..p2 come fresh from the OS in one
 * refill; p0 is dirtied and freed by a thread that exits, so it reaches
 * the buddy lists first; draining p1 then merges the whole section.
 */
Test(reclaim, zeroed_mark_does_not_survive_merging_a_dirty_buddy)
{
	struct page *p0, *head, *b;
	pthread_t tid;
	unsigned long pfn0;

	/* Nothing is released, so only the zeroed mark can make it zero. */
	reclaim_init(NULL, "600000", "1G");
	p0 = alloc_page(GFP_KERNEL);
	cr_assert_not_null(p0);
	pfn0 = page_to_pfn(p0);
	cr_assert_eq(pfn0 & (BLOCK_PAGES - 1), 0, "expected the first page of a fresh section");
	cr_assert_eq(thread_pcp(current_thread(), z32)->count, 2);
	fill(p0, 0, 0xff);
	cr_assert_eq(pthread_create(&tid, NULL, free_page_and_exit, p0), 0);
	cr_assert_eq(pthread_join(tid, NULL), 0);
	cr_assert_eq(p0->flags & (PG_buddy | PG_zeroed), PG_buddy, "dirty page marked zeroed");
	drain_local_pages();
	head = pfn_to_page(pfn0);
	cr_assert_eq(head->flags & PG_buddy, PG_buddy);
	cr_assert_eq(head->order, BLOCK_ORDER, "section did not merge back (order %u)", head->order);
	cr_assert_eq(head->flags & PG_zeroed, 0, "merged block with a dirty page marked zeroed");
	cr_assert_eq(z32->ev.pages_released, 0);
	b = alloc_block(GFP_KERNEL | __GFP_ZERO);
	cr_assert_eq(b, head);
	cr_assert(all_zero(page_address(b), BLOCK_BYTES), "__GFP_ZERO block holds old data");
	__free_pages(b, BLOCK_ORDER);
	cr_assert_eq(kmem_check_all(), 0);
}

/* ---- fragments --------------------------------------------------------- */

#define FRAG_ORDER 4                            /* 64 KiB, RELEASE_FRAGMENT_ORDER */
#define FRAG_PAGES (1L << FRAG_ORDER)
#define NFRAGS     64                           /* 4 MiB: one section */

/* NFRAGS touched 64 KiB blocks, side by side in the zone's first section. */
static void alloc_touched_fragments(struct page **f)
{
	for (int i = 0; i < NFRAGS; i++) {
		f[i] = alloc_pages(GFP_KERNEL, FRAG_ORDER);
		cr_assert_not_null(f[i]);
		cr_assert_eq(page_zone(f[i]), z32);
		fill(f[i], FRAG_ORDER, 0x5a);
	}
	for (int i = 1; i < NFRAGS; i++)
		cr_assert_eq(page_to_pfn(f[i]), page_to_pfn(f[0]) + (unsigned long)i * FRAG_PAGES);
}

/*
 * Free blocks smaller than a pageblock go back one block at a time when
 * their buddies are in use: every other 64 KiB block freed is released
 * at once (no decay, nothing retained), counted, PG_released, and its
 * neighbours keep their memory and contents.  An allocation from a
 * released fragment uncounts only what it takes, and reads zero.
 */
Test(reclaim, free_fragments_go_back_one_block_at_a_time)
{
	struct page *f[NFRAGS], *p;
	unsigned long released = 0;

	reclaim_init(NULL, "0", "0");
	alloc_touched_fragments(f);
	for (int i = 0; i < NFRAGS; i += 2) {
		__free_pages(f[i], FRAG_ORDER);
		released += FRAG_PAGES;
		cr_assert_eq(z32->released_pages, released, "after freeing block %d", i);
		cr_assert_eq(test_resident_pages(page_address(f[i]), FRAG_PAGES), 0, "block %d", i);
		cr_assert_eq(f[i]->flags & (PG_buddy | PG_zeroed | PG_released),
			     PG_buddy | PG_zeroed | PG_released);
	}
	for (int i = 1; i < NFRAGS; i += 2) {
		cr_assert_eq(test_resident_pages(page_address(f[i]), FRAG_PAGES), FRAG_PAGES, "block %d", i);
		cr_assert(all_byte(page_address(f[i]), FRAG_PAGES * PAGE_SIZE, 0x5a), "block %d", i);
	}
	cr_assert_eq(kmem_check_all(), 0);

	/* A whole fragment handed out again. */
	p = alloc_pages(GFP_KERNEL, FRAG_ORDER);
	cr_assert_not_null(p);
	released -= FRAG_PAGES;
	cr_assert_eq(z32->released_pages, released);
	cr_assert(all_zero(page_address(p), FRAG_PAGES * PAGE_SIZE));
	__free_pages(p, FRAG_ORDER);
	released += FRAG_PAGES;
	cr_assert_eq(z32->released_pages, released, "released again when freed");
	/* Order 2 (a pcp batch) splits released fragments: what is handed
	 * out stops counting, the halves put back still count (checked
	 * exactly by kmem_check_all). */
	p = alloc_pages(GFP_KERNEL, 2);
	cr_assert_not_null(p);
	cr_assert_lt(z32->released_pages, released);
	cr_assert(all_zero(page_address(p), 4 * PAGE_SIZE));
	cr_assert_eq(kmem_check_all(), 0);
	__free_pages(p, 2);
	/* Freeing the rest merges them: merged blocks no longer count. */
	for (int i = 1; i < NFRAGS; i += 2)
		__free_pages(f[i], FRAG_ORDER);
	cr_assert_eq(kmem_check_all(), 0);
	kmem_reclaim();         /* whatever the frees left resident */
	for (int i = 0; i < NFRAGS; i++)
		cr_assert_eq(test_resident_pages(page_address(f[i]), FRAG_PAGES), 0, "block %d", i);
	cr_assert_eq(kmem_check_all(), 0);
}

/* With decay, a fragment goes only after a whole pass interval unused. */
Test(reclaim, fragments_decay_like_pageblocks)
{
	struct page *f[NFRAGS];
	uint64_t t0;

	reclaim_init(NULL, "200", "0");
	alloc_touched_fragments(f);
	sleep_ms(250);
	t0 = now_ms();
	__free_pages(f[0], FRAG_ORDER);                 /* a pass: marks it idle */
	cr_assert(f[0]->flags & PG_idle);
	cr_assert_eq(z32->released_pages, 0);
	__free_pages(f[2], FRAG_ORDER);                 /* no pass due: not marked */
	skip_if_slower_than(t0, 150);
	cr_assert_not(f[2]->flags & PG_idle);
	sleep_ms(300);
	__free_pages(f[4], FRAG_ORDER);                 /* f[0] goes, f[2] and f[4] get marked */
	cr_assert_eq(z32->released_pages, (unsigned long)FRAG_PAGES);
	cr_assert(f[0]->flags & PG_released);
	cr_assert_eq(test_resident_pages(page_address(f[0]), FRAG_PAGES), 0);
	cr_assert_eq(test_resident_pages(page_address(f[2]), FRAG_PAGES), FRAG_PAGES);
	cr_assert(f[2]->flags & PG_idle);
	cr_assert(f[4]->flags & PG_idle);
	cr_assert_eq(kmem_check_all(), 0);
}

/* ---- decay ----------------------------------------------------------- */

static bool idle(const struct page *block)
{
	unsigned long pfn = page_to_pfn(block);

	for (unsigned long pb = pfn; pb < pfn + BLOCK_PAGES; pb += pageblock_nr_pages)
		if (!(pageblock_flags[pb >> pageblock_order] & PB_IDLE))
			return false;
	return true;
}

Test(reclaim, decay_first_marks_idle_then_releases)
{
	struct page *b[NBLOCKS];

	reclaim_init(NULL, "200", "0");
	uint64_t t0;

	alloc_touched_blocks(b, 5);
	/* The first pass only marks the free block idle. */
	t0 = now_ms();
	__free_pages(b[0], BLOCK_ORDER);
	cr_assert_eq(z32->ev.pages_released, 0);
	cr_assert(idle(b[0]));
	/* Right after it no pass is due: nothing marked, nothing released. */
	__free_pages(b[1], BLOCK_ORDER);
	skip_if_slower_than(t0, 150);
	cr_assert_eq(z32->ev.pages_released, 0);
	cr_assert_not(idle(b[1]));
	cr_assert_eq(test_resident_pages(page_address(b[0]), BLOCK_PAGES), BLOCK_PAGES);
	cr_assert_eq(test_resident_pages(page_address(b[1]), BLOCK_PAGES), BLOCK_PAGES);

	sleep_ms(300);
	/* Past the decay: the block idle since the first pass goes; the two
	 * not yet seen idle are marked. */
	t0 = now_ms();
	__free_pages(b[2], BLOCK_ORDER);
	cr_assert_eq(z32->ev.pages_released, (unsigned long)BLOCK_PAGES);
	cr_assert_eq(z32->released_pages, (unsigned long)BLOCK_PAGES);
	cr_assert_eq(test_resident_pages(page_address(b[0]), BLOCK_PAGES), 0);
	cr_assert_eq(test_resident_pages(page_address(b[1]), BLOCK_PAGES), BLOCK_PAGES);
	cr_assert_eq(test_resident_pages(page_address(b[2]), BLOCK_PAGES), BLOCK_PAGES);
	cr_assert(idle(b[1]));
	cr_assert(idle(b[2]));

	/* Again immediately: not due. */
	__free_pages(b[3], BLOCK_ORDER);
	skip_if_slower_than(t0, 150);
	cr_assert_eq(z32->ev.pages_released, (unsigned long)BLOCK_PAGES);

	sleep_ms(300);
	__free_pages(b[4], BLOCK_ORDER);
	/* b[1] and b[2] were idle; b[3] and b[4] only get marked. */
	cr_assert_eq(z32->ev.pages_released, (unsigned long)(3 * BLOCK_PAGES));
	cr_assert_eq(test_resident_pages(page_address(b[1]), BLOCK_PAGES), 0);
	cr_assert_eq(test_resident_pages(page_address(b[2]), BLOCK_PAGES), 0);
	cr_assert_eq(test_resident_pages(page_address(b[3]), BLOCK_PAGES), BLOCK_PAGES);
	cr_assert_eq(test_resident_pages(page_address(b[4]), BLOCK_PAGES), BLOCK_PAGES);
	cr_assert_eq(kmem_check_all(), 0);
}

Test(reclaim, allocating_from_an_idle_block_resets_its_decay)
{
	struct page *b[3], *again;
	uint64_t t0;

	reclaim_init(NULL, "200", "0");
	alloc_touched_blocks(b, 3);
	t0 = now_ms();
	__free_pages(b[0], BLOCK_ORDER);       /* pass: b0 idle */
	cr_assert(idle(b[0]));
	again = alloc_block(GFP_KERNEL);        /* takes b0 back: no longer idle */
	cr_assert_eq(again, b[0]);
	cr_assert_not(idle(b[0]));
	__free_pages(again, BLOCK_ORDER);       /* not due */
	skip_if_slower_than(t0, 150);
	cr_assert_not(idle(b[0]));
	sleep_ms(300);
	__free_pages(b[1], BLOCK_ORDER);        /* pass: b0, b1 marked, none released */
	cr_assert_eq(z32->ev.pages_released, 0);
	sleep_ms(300);
	__free_pages(b[2], BLOCK_ORDER);        /* pass: b0, b1 released */
	cr_assert_eq(z32->ev.pages_released, (unsigned long)(2 * BLOCK_PAGES));
	cr_assert_eq(test_resident_pages(page_address(b[2]), BLOCK_PAGES), BLOCK_PAGES);
	cr_assert_eq(kmem_check_all(), 0);
}

/* Freeing the same 2 MiB block over and over must not thrash. */
Test(reclaim, churn_on_one_block_releases_nothing)
{
	reclaim_init(NULL, "1000", "0");
	uint64_t t0 = now_ms();

	for (int i = 0; i < 10000; i++) {
		struct page *p = alloc_pages(GFP_KERNEL, pageblock_order);
		char *addr;

		cr_assert_not_null(p);
		addr = page_address(p);
		for (unsigned long off = 0; off < (PAGE_SIZE << pageblock_order); off += PAGE_SIZE * 64)
			addr[off] = (char)i;
		__free_pages(p, pageblock_order);
	}
	cr_log_info("churn: 10000 alloc/free pairs in %llu ms",
		    (unsigned long long)(now_ms() - t0));
	cr_assert_eq(z32->ev.pages_released, 0);
	cr_assert_eq(z32->released_pages, 0);
	cr_assert_eq(z32->online_pages, (unsigned long)BLOCK_PAGES);
	cr_assert_eq(kmem_check_all(), 0);
}

/* The same churn without a decay does release: the test above can fail. */
Test(reclaim, churn_without_decay_releases)
{
	reclaim_init(NULL, "0", "0");
	for (int i = 0; i < 10; i++) {
		struct page *p = alloc_pages(GFP_KERNEL, pageblock_order);

		cr_assert_not_null(p);
		*(volatile char *)page_address(p) = 1;
		__free_pages(p, pageblock_order);
	}
	/* Every free merges the section back whole, and each pass releases
	 * the pageblock that was used (its buddy was released before). */
	cr_assert_eq(z32->ev.pages_released, (unsigned long)(BLOCK_PAGES + 9 * pageblock_nr_pages));
	cr_assert_eq(kmem_check_all(), 0);
}

/* ---- retain ---------------------------------------------------------- */

Test(reclaim, retain_keeps_a_floor_resident)
{
	struct page *b[NBLOCKS];
	long resident_blocks = 0;
	const long keep = (8L << 20) / PAGE_SIZE;      /* 2048 pages */

	reclaim_init(NULL, "0", "8M");
	alloc_touched_blocks(b, NBLOCKS);
	for (int i = 0; i < NBLOCKS; i++) {
		long freed = (i + 1) * BLOCK_PAGES;
		long expect_released = freed > keep ? freed - keep : 0;

		__free_pages(b[i], BLOCK_ORDER);
		cr_assert_eq(z32->released_pages, (unsigned long)expect_released,
			     "after %ld pages freed: %lu released, expected %ld", freed,
			     z32->released_pages, expect_released);
		cr_assert_eq(resident_free(z32), MIN(freed, keep));
	}
	for (int i = 0; i < NBLOCKS; i++)
		resident_blocks += test_resident_pages(page_address(b[i]), BLOCK_PAGES);
	cr_assert_eq(resident_blocks, keep, "%ld pages of the freed blocks resident",
		     resident_blocks);
	/* kmem_reclaim ignores the floor. */
	cr_assert_eq(kmem_reclaim(), (size_t)keep * PAGE_SIZE);
	cr_assert_eq(resident_free(z32), 0);
	for (int i = 0; i < NBLOCKS; i++)
		cr_assert_eq(test_resident_pages(page_address(b[i]), BLOCK_PAGES), 0);
	cr_assert_eq(kmem_check_all(), 0);
}

/*
 * The floor must hold when the free memory is not a multiple of the
 * block being released: 512 free pages beside the 4 MiB blocks.
 */
Test(reclaim, retain_floor_holds_with_mixed_block_sizes)
{
	struct page *b[4], *half;
	const long keep = (8L << 20) / PAGE_SIZE;      /* 2048 pages */

	reclaim_init(NULL, "0", "8M");
	alloc_touched_blocks(b, 4);
	/* An order-9 block from a fifth section leaves its buddy free. */
	half = alloc_pages(GFP_KERNEL, pageblock_order);
	cr_assert_not_null(half);
	cr_assert_eq(resident_free(z32), (long)pageblock_nr_pages);
	for (int i = 0; i < 4; i++) {
		long free_online = zone_page_state(z32) -
				   (long)(z32->managed_pages - z32->online_pages);

		__free_pages(b[i], BLOCK_ORDER);
		free_online += BLOCK_PAGES;
		cr_assert_geq(resident_free(z32), MIN(free_online, keep),
			      "after freeing block %d: %ld free pages resident, KMEM_RETAIN keeps %ld"
			      " (%lu released)", i, resident_free(z32), keep, z32->released_pages);
	}
	__free_pages(half, pageblock_order);
	cr_assert_geq(resident_free(z32), keep);
	cr_assert_eq(kmem_check_all(), 0);
}

/* ---- kmem_reclaim ---------------------------------------------------- */

Test(reclaim, kmem_reclaim_ignores_decay_and_retain)
{
	struct page *b[NBLOCKS], *small[10];
	size_t bytes;

	reclaim_init(NULL, "600000", "64M");
	alloc_touched_blocks(b, NBLOCKS);
	/* Order-0 pages from a ninth section, left on this thread's list. */
	for (int i = 0; i < 10; i++) {
		cr_assert_not_null(small[i] = alloc_page(GFP_KERNEL));
		fill(small[i], 0, 0x11);
	}
	cr_assert_eq(z32->online_pages, (unsigned long)((NBLOCKS + 1) * BLOCK_PAGES));
	for (int i = 0; i < 10; i++)
		__free_page(small[i]);
	for (int i = 0; i < NBLOCKS; i++)
		__free_pages(b[i], BLOCK_ORDER);
	cr_assert_eq(z32->ev.pages_released, 0);
	cr_assert_gt(thread_pcp(current_thread(), z32)->count, 0);
	/* Everything free goes, the pcp pages included (drained and merged
	 * back into the ninth section). */
	bytes = kmem_reclaim();
	cr_assert_eq(bytes, (size_t)(NBLOCKS + 1) * BLOCK_BYTES, "kmem_reclaim returned %zu", bytes);
	cr_assert_eq(z32->released_pages, (unsigned long)((NBLOCKS + 1) * BLOCK_PAGES));
	cr_assert_eq(z32->ev.pages_released, (unsigned long)((NBLOCKS + 1) * BLOCK_PAGES));
	cr_assert_eq(thread_pcp(current_thread(), z32)->count, 0);
	for (int i = 0; i < NBLOCKS; i++)
		cr_assert_eq(test_resident_pages(page_address(b[i]), BLOCK_PAGES), 0);
	cr_assert_eq(test_resident_pages(page_address(small[0]), 1), 0);
	/* Nothing is left to give back. */
	cr_assert_eq(kmem_reclaim(), 0);
	cr_assert_eq(zone_page_state(z32), DMA32_PAGES);
	cr_assert_eq(kmem_check_all(), 0);
}

Test(reclaim, kmem_reclaim_goes_past_one_release_batch)
{
	enum { N = 100 };                       /* 400 MiB: 200 pageblocks */
	static struct page *b[N];

	reclaim_init("KMEM_LIMIT=512M", "600000", "1G");
	for (int i = 0; i < N; i++)
		b[i] = alloc_block(GFP_KERNEL);
	for (int i = 0; i < N; i++)
		__free_pages(b[i], BLOCK_ORDER);
	cr_assert_eq(z32->ev.pages_released, 0);
	cr_assert_eq(kmem_reclaim(), (size_t)N * BLOCK_BYTES);
	cr_assert_eq(z32->released_pages, (unsigned long)(N * BLOCK_PAGES));
	cr_assert_eq(kmem_reclaim(), 0);
	cr_assert_eq(kmem_check_all(), 0);
}

Test(reclaim, kmem_reclaim_with_nothing_free_returns_zero)
{
	struct page *b;

	reclaim_init(NULL, NULL, NULL);
	cr_assert_eq(kmem_reclaim(), 0);
	b = alloc_block(GFP_KERNEL);
	cr_assert_eq(kmem_reclaim(), 0, "an allocated block was released");
	fill(b, BLOCK_ORDER, 0x42);
	cr_assert(all_byte(page_address(b), BLOCK_BYTES, 0x42));
	__free_pages(b, BLOCK_ORDER);
	cr_assert_eq(kmem_reclaim(), (size_t)BLOCK_BYTES);
	cr_assert_eq(kmem_check_all(), 0);
}
