/*
 * test_pcp.c - per-thread page lists (pcp.c).
 *
 * A 64 MiB arena on the one-node fake topology (CPUs 0-1): ZONE_DMA is
 * pfns [0, 4096), ZONE_DMA32 [4096, 16384); GFP_KERNEL requests are
 * served by DMA32.  The "pcp" suite sets KMEM_PCP_BATCH=15,
 * KMEM_PCP_HIGH=60 and KMEM_PCP_RAMP=0 and compares every step with a
 * model written from the kernel's rules: an empty list is refilled with max(batch >> order, 2)
 * blocks in one rmqueue_bulk; a free that brings the list set to high
 * pages or more returns at least batch pages, coldest blocks first, in
 * one free_pcppages_bulk; orders above PAGE_ALLOC_COSTLY_ORDER never
 * touch the lists.  The "pcp_sizes" suite recomputes zone_batchsize and
 * zone_highsize from the kernel's formulas for several arena sizes.  The
 * threaded tests check thread exit, remote drains and cross-thread frees.
 * The "pcp_ramp" suite follows a new thread's lists from a sixteenth of
 * the zone's sizes up to them, through refills and through frees.
 * KMEM_DEBUG_VM checks every zone operation throughout.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "helpers.h"

#define BATCH 15
#define HIGH 60
#define DMA_PAGES 4096L
#define DMA32_PAGES 12288L      /* 64 MiB - 16 MiB */

static struct zone *z32, *zdma;

static const char *const kmem_options[] = {
	"KMEM_LIMIT", "KMEM_HUGEPAGES", "KMEM_PCP_HIGH", "KMEM_PCP_BATCH", "KMEM_PCP_RAMP",
	"KMEM_DEBUG_VM", "KMEM_DECAY_MS", "KMEM_RETAIN", "KMEM_SYSFS_ROOT",
};

static void clear_kmem_env(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(kmem_options); i++)
		unsetenv(kmem_options[i]);
}

static const char *sysfs_1node(void)
{
	static char opt[600];

	snprintf(opt, sizeof(opt), "KMEM_SYSFS_ROOT=%s", test_sysfs("1node"));
	return opt;
}

static void lookup_zones(void)
{
	zdma = kmem_zone(0, ZONE_DMA);
	z32 = kmem_zone(0, ZONE_DMA32);
	cr_assert_not_null(zdma);
	cr_assert_not_null(z32);
	cr_assert_eq(kmem_nr_nodes(), 1);
}

static void setup_pcp(void)
{
	clear_kmem_env();
	kmem_test_init("KMEM_LIMIT=64M", "KMEM_HUGEPAGES=off", "KMEM_DEBUG_VM=1",
		       "KMEM_PCP_BATCH=15", "KMEM_PCP_HIGH=60", "KMEM_PCP_RAMP=0", sysfs_1node(),
		       NULL);
	lookup_zones();
	cr_assert_eq(zdma->managed_pages, (unsigned long)DMA_PAGES);
	cr_assert_eq(z32->managed_pages, (unsigned long)DMA32_PAGES);
	cr_assert_eq(zone_page_state(z32), DMA32_PAGES);
	cr_assert_eq(zone_page_state(zdma), DMA_PAGES);
}

TestSuite(pcp, .init = setup_pcp, .timeout = 30);

/* ---- helpers --------------------------------------------------------- */

static struct per_cpu_pages *my_pcp(struct zone *zone)
{
	return thread_pcp(current_thread(), zone);
}

static long list_len(const struct list_head *head)
{
	long n = 0;
	const struct list_head *pos;

	list_for_each(pos, head)
		n++;
	return n;
}

static bool on_list(const struct list_head *head, const struct page *page)
{
	const struct page *p;

	list_for_each_entry(p, head, lru)
		if (p == page)
			return true;
	return false;
}

static long pcp_pages_on_lists(const struct per_cpu_pages *pcp)
{
	long pages = 0;

	for (unsigned int i = 0; i < NR_PCP_LISTS; i++)
		pages += list_len(&pcp->lists[i]) << (i / MIGRATE_PCPTYPES);
	return pages;
}

static void fill_block(struct page *page, unsigned int order, uint64_t tag)
{
	uint64_t *w = page_address(page);
	size_t n = (PAGE_SIZE << order) / sizeof(*w);

	for (size_t i = 0; i < n; i += 64)
		w[i] = tag ^ (i * 0x9e3779b97f4a7c15ULL);
}

static bool block_intact(struct page *page, unsigned int order, uint64_t tag)
{
	uint64_t *w = page_address(page);
	size_t n = (PAGE_SIZE << order) / sizeof(*w);

	for (size_t i = 0; i < n; i += 64)
		if (w[i] != (tag ^ (i * 0x9e3779b97f4a7c15ULL)))
			return false;
	return true;
}

/* Failures seen by threads other than the test's own (Criterion asserts
 * belong to the main thread): recorded here, asserted after join. */
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int thread_failures;
static char first_failure[512];

#define CHECK(cond, fmt, ...) do {						\
	if (!(cond)) {								\
		pthread_mutex_lock(&fail_lock);					\
		if (!atomic_fetch_add(&thread_failures, 1))			\
			snprintf(first_failure, sizeof(first_failure),		\
				 "line %d: %s: " fmt, __LINE__, #cond, ##__VA_ARGS__); \
		pthread_mutex_unlock(&fail_lock);				\
	}									\
} while (0)

static void assert_no_thread_failures(void)
{
	cr_assert_eq(atomic_load(&thread_failures), 0, "%d failure(s) in threads; first: %s",
		     atomic_load(&thread_failures), first_failure);
}

static long nr_thread_states(void)
{
	long n;

	pthread_mutex_lock(&kmem_threads_lock);
	n = list_len(&kmem_threads);
	pthread_mutex_unlock(&kmem_threads_lock);
	return n;
}

/* ---- sizes reach the zones and the threads ---------------------------- */

Test(pcp, overrides_reach_zones_and_thread_lists)
{
	struct per_cpu_pages *pcp32 = my_pcp(z32), *pcpdma = my_pcp(zdma);

	cr_assert_eq(z32->pcp_batch, BATCH);
	cr_assert_eq(z32->pcp_high, HIGH);
	cr_assert_eq(zdma->pcp_batch, BATCH);
	cr_assert_eq(zdma->pcp_high, HIGH);
	cr_assert_eq(pcp32->batch, BATCH);
	cr_assert_eq(pcp32->high, HIGH);
	cr_assert_eq(pcpdma->batch, BATCH);
	cr_assert_eq(pcpdma->high, HIGH);
	cr_assert_eq(pcp32->count, 0);
	cr_assert_eq(pcp_pages_on_lists(pcp32), 0);
	cr_assert_eq(kmem_check_all(), 0);
}

/* ---- refill ------------------------------------------------------------ */

Test(pcp, first_order0_alloc_refills_exactly_one_batch)
{
	struct per_cpu_pages *pcp = my_pcp(z32);
	struct list_head *list = &pcp->lists[order_to_pindex(MIGRATE_UNMOVABLE, 0)];
	struct page *pages[BATCH + 1];

	cr_assert_eq(z32->ev.pcp_refill, 0);
	cr_assert_eq(z32->ev.pgalloc, 0);
	pages[0] = alloc_page(GFP_KERNEL);
	cr_assert_not_null(pages[0]);
	cr_assert_eq(page_zone(pages[0]), z32);
	cr_assert_eq(pages[0]->flags & PAGE_STATE_MASK, PG_head);
	/* 15 pages left the zone, one was handed out, 14 wait on the list. */
	cr_assert_eq(z32->ev.pcp_refill, 1);
	cr_assert_eq(z32->ev.pgalloc, BATCH);
	cr_assert_eq(zone_page_state(z32), DMA32_PAGES - BATCH);
	cr_assert_eq(pcp->count, BATCH - 1);
	cr_assert_eq(list_len(list), BATCH - 1);
	cr_assert_eq(pcp->alloc, 1);
	cr_assert_eq(zone_page_state(zdma), DMA_PAGES, "DMA zone must not be touched");
	{
		struct page *p;

		list_for_each_entry(p, list, lru) {
			cr_assert_eq(p->flags & PAGE_STATE_MASK, PG_pcp);
			cr_assert_eq(p->order, 0);
			cr_assert_eq(p->migratetype, MIGRATE_UNMOVABLE);
		}
	}
	/* The other 14 come from the list, without touching the zone. */
	for (int i = 1; i < BATCH; i++) {
		pages[i] = alloc_page(GFP_KERNEL);
		cr_assert_not_null(pages[i]);
		for (int j = 0; j < i; j++)
			cr_assert_neq(pages[i], pages[j]);
		cr_assert_eq(pcp->count, BATCH - 1 - i);
		cr_assert_eq(z32->ev.pcp_refill, 1);
		cr_assert_eq(zone_page_state(z32), DMA32_PAGES - BATCH);
	}
	cr_assert(list_empty(list));
	/* The 16th empties nothing: it refills a second batch. */
	pages[BATCH] = alloc_page(GFP_KERNEL);
	cr_assert_not_null(pages[BATCH]);
	cr_assert_eq(z32->ev.pcp_refill, 2);
	cr_assert_eq(pcp->count, BATCH - 1);
	cr_assert_eq(zone_page_state(z32), DMA32_PAGES - 2 * BATCH);
	cr_assert_eq(pcp->alloc, BATCH + 1);

	for (int i = 0; i <= BATCH; i++)
		__free_page(pages[i]);
	drain_local_pages();
	cr_assert_eq(pcp->count, 0);
	cr_assert_eq(zone_page_state(z32), DMA32_PAGES);
	cr_assert_eq(kmem_check_all(), 0);
}

/*
 * Allocate n blocks of one order, then free them newest first, comparing
 * the list, the zone's free count and the refill/drain counters with the
 * model after every call.  Returns the pages on the list at the end.
 */
static long run_order_model(unsigned int order, int n, gfp_t gfp, int mt)
{
	struct per_cpu_pages *pcp = my_pcp(z32);
	struct list_head *list = &pcp->lists[order_to_pindex(mt, order)];
	const long bsz = 1L << order;
	const long refill = MAX(BATCH >> order, 2);
	long blocks = 0, zfree = zone_page_state(z32);
	unsigned long refills = z32->ev.pcp_refill, drains = z32->ev.pcp_drain;
	static struct page *held[512];

	cr_assert_leq(n, 512);
	cr_assert_eq(pcp->count, 0);
	for (int i = 0; i < n; i++) {
		if (blocks == 0) {
			blocks = refill;
			zfree -= refill * bsz;
			refills++;
		}
		blocks--;
		held[i] = alloc_pages(gfp, order);
		cr_assert_not_null(held[i], "order %u alloc %d", order, i);
		cr_assert_eq(page_zone(held[i]), z32);
		cr_assert_eq(page_to_pfn(held[i]) & (bsz - 1), 0);
		cr_assert_eq(held[i]->order, order);
		fill_block(held[i], order, (uint64_t)i << 8 | order);
		cr_assert_eq(pcp->count, blocks * bsz, "order %u alloc %d: count %d, model %ld",
			     order, i, pcp->count, blocks * bsz);
		cr_assert_eq(list_len(list), blocks);
		cr_assert_eq(pcp_pages_on_lists(pcp), blocks * bsz, "other lists touched");
		cr_assert_eq(zone_page_state(z32), zfree, "order %u alloc %d: zone %ld, model %ld",
			     order, i, zone_page_state(z32), zfree);
		cr_assert_eq(z32->ev.pcp_refill, refills);
		cr_assert_eq(z32->ev.pcp_drain, drains);
	}
	for (int i = n - 1; i >= 0; i--) {
		cr_assert(block_intact(held[i], order, (uint64_t)i << 8 | order),
			  "order %u block %d overwritten", order, i);
		__free_pages(held[i], order);
		blocks++;
		if (blocks * bsz >= HIGH) {
			long freed = 0;

			while (freed < BATCH && blocks > 0) {
				blocks--;
				freed += bsz;
			}
			zfree += freed;
			drains++;
		}
		cr_assert_eq(pcp->count, blocks * bsz, "order %u free %d: count %d, model %ld",
			     order, i, pcp->count, blocks * bsz);
		cr_assert_eq(list_len(list), blocks);
		cr_assert_eq(zone_page_state(z32), zfree, "order %u free %d: zone %ld, model %ld",
			     order, i, zone_page_state(z32), zfree);
		cr_assert_eq(z32->ev.pcp_refill, refills);
		cr_assert_eq(z32->ev.pcp_drain, drains);
		/* The block just freed is the hot one, at the head: the bulk
		 * free took the coldest blocks from the tail. */
		cr_assert_eq(list_first_entry(list, struct page, lru), held[i]);
		cr_assert_eq(held[i]->flags & PAGE_STATE_MASK, PG_pcp);
	}
	return blocks * bsz;
}

Test(pcp, order0_frees_accumulate_until_high_then_one_batch_goes_back)
{
	struct per_cpu_pages *pcp = my_pcp(z32);
	long left;

	/* 100 allocations: 7 refills of 15, 5 pages left on the list.  The
	 * frees climb to 60 four times, each time dropping to 45. */
	left = run_order_model(0, 100, GFP_KERNEL, MIGRATE_UNMOVABLE);
	cr_assert_eq(left, HIGH - BATCH);
	cr_assert_eq(z32->ev.pcp_refill, 7);
	cr_assert_eq(z32->ev.pcp_drain, 4);
	cr_assert_eq(zone_page_state(z32), DMA32_PAGES - (HIGH - BATCH));
	cr_assert_eq(pcp->free, 100);
	cr_assert_eq(pcp->alloc, 100);
	cr_assert_eq(kmem_check_all(), 0);
}

Test(pcp, order0_count_never_reaches_high)
{
	struct per_cpu_pages *pcp = my_pcp(z32);
	static struct page *held[200];

	for (int i = 0; i < 200; i++)
		cr_assert_not_null(held[i] = alloc_page(GFP_KERNEL));
	for (int i = 0; i < 200; i++) {
		__free_page(held[i]);
		cr_assert_lt(pcp->count, HIGH);
		cr_assert_geq(pcp->count, 0);
	}
	cr_assert_eq(pcp->count, pcp_pages_on_lists(pcp));
	cr_assert_eq(kmem_check_all(), 0);
}

Test(pcp, order1_uses_its_own_list_with_batch_shifted)
{
	/* Refills of 7 order-1 blocks (14 pages); a bulk free returns 8
	 * blocks (16 pages), the first count of pages >= 15. */
	run_order_model(1, 60, GFP_KERNEL, MIGRATE_UNMOVABLE);
	cr_assert(list_empty(&my_pcp(z32)->lists[order_to_pindex(MIGRATE_UNMOVABLE, 0)]));
	cr_assert_eq(kmem_check_all(), 0);
}

Test(pcp, order2_uses_its_own_list_with_batch_shifted)
{
	run_order_model(2, 40, GFP_KERNEL, MIGRATE_UNMOVABLE);
	cr_assert_eq(kmem_check_all(), 0);
}

Test(pcp, order3_refills_at_least_two_blocks)
{
	/* 15 >> 3 = 1, raised to 2 blocks. */
	run_order_model(3, 30, GFP_KERNEL, MIGRATE_UNMOVABLE);
	cr_assert_eq(kmem_check_all(), 0);
}

Test(pcp, movable_and_reclaimable_use_their_own_lists)
{
	run_order_model(0, 80, GFP_HIGHUSER_MOVABLE, MIGRATE_MOVABLE);
	drain_local_pages();
	run_order_model(2, 20, GFP_KERNEL | __GFP_RECLAIMABLE, MIGRATE_RECLAIMABLE);
	drain_local_pages();
	cr_assert_eq(zone_page_state(z32), DMA32_PAGES);
	cr_assert_eq(kmem_check_all(), 0);
}

Test(pcp, orders_keep_separate_lists_at_once)
{
	struct per_cpu_pages *pcp = my_pcp(z32);
	struct page *p[4];

	for (unsigned int o = 0; o <= PAGE_ALLOC_COSTLY_ORDER; o++)
		cr_assert_not_null(p[o] = alloc_pages(GFP_KERNEL, o));
	/* refills of 15, 7, 3 and 2 blocks, one block of each taken */
	cr_assert_eq(list_len(&pcp->lists[order_to_pindex(MIGRATE_UNMOVABLE, 0)]), 14);
	cr_assert_eq(list_len(&pcp->lists[order_to_pindex(MIGRATE_UNMOVABLE, 1)]), 6);
	cr_assert_eq(list_len(&pcp->lists[order_to_pindex(MIGRATE_UNMOVABLE, 2)]), 2);
	cr_assert_eq(list_len(&pcp->lists[order_to_pindex(MIGRATE_UNMOVABLE, 3)]), 1);
	cr_assert_eq(pcp->count, 14 + 12 + 8 + 8);
	cr_assert_eq(z32->ev.pcp_refill, 4);
	cr_assert_eq(zone_page_state(z32), DMA32_PAGES - (15 + 14 + 12 + 16));
	for (unsigned int o = 0; o <= PAGE_ALLOC_COSTLY_ORDER; o++)
		__free_pages(p[o], o);
	cr_assert_eq(pcp->count, 42 + 1 + 2 + 4 + 8);
	drain_local_pages();
	cr_assert_eq(zone_page_state(z32), DMA32_PAGES);
	cr_assert_eq(kmem_check_all(), 0);
}

Test(pcp, freed_page_is_the_next_one_handed_out)
{
	struct page *a = alloc_page(GFP_KERNEL), *b;

	cr_assert_not_null(a);
	__free_page(a);
	b = alloc_page(GFP_KERNEL);
	cr_assert_eq(a, b, "the hot page should be reused first");
	__free_page(b);
	cr_assert_eq(kmem_check_all(), 0);
}

Test(pcp, order4_bypasses_the_lists)
{
	struct per_cpu_pages *pcp = my_pcp(z32);
	struct page *p;

	p = alloc_pages(GFP_KERNEL, 4);
	cr_assert_not_null(p);
	cr_assert_eq(page_zone(p), z32);
	cr_assert_eq(zone_page_state(z32), DMA32_PAGES - 16);
	cr_assert_eq(z32->ev.pgalloc, 16);
	cr_assert_eq(z32->ev.pcp_refill, 0);
	cr_assert_eq(pcp->count, 0);
	cr_assert_eq(pcp->alloc, 0);
	cr_assert_eq(pcp_pages_on_lists(pcp), 0);
	fill_block(p, 4, 4);
	__free_pages(p, 4);
	cr_assert_eq(zone_page_state(z32), DMA32_PAGES);
	cr_assert_eq(z32->ev.pgfree, 16);
	cr_assert_eq(z32->ev.pcp_drain, 0);
	cr_assert_eq(pcp->count, 0);
	cr_assert_eq(pcp->free, 0);
	cr_assert_eq(pcp_pages_on_lists(pcp), 0);
	cr_assert_eq(kmem_check_all(), 0);
}

Test(pcp, drain_local_pages_empties_every_list)
{
	struct per_cpu_pages *pcp = my_pcp(z32);
	struct page *p[4][3];
	long held_on_lists;

	for (unsigned int o = 0; o <= 3; o++)
		for (int i = 0; i < 3; i++)
			cr_assert_not_null(p[o][i] = alloc_pages(GFP_KERNEL, o));
	for (unsigned int o = 0; o <= 3; o++)
		for (int i = 0; i < 3; i++)
			__free_pages(p[o][i], o);
	held_on_lists = pcp_pages_on_lists(pcp);
	cr_assert_eq(pcp->count, held_on_lists);
	cr_assert_gt(held_on_lists, 0);
	/* Every page the zone lost sits on one of this thread's lists. */
	cr_assert_eq(zone_page_state(z32), DMA32_PAGES - held_on_lists);
	drain_local_pages();
	cr_assert_eq(pcp->count, 0);
	cr_assert_eq(pcp_pages_on_lists(pcp), 0);
	cr_assert_eq(zone_page_state(z32), DMA32_PAGES);
	/* Draining empty lists is a no-op. */
	drain_local_pages();
	cr_assert_eq(zone_page_state(z32), DMA32_PAGES);
	cr_assert_eq(kmem_check_all(), 0);
}

/* ---- thread exit --------------------------------------------------------- */

#define CHURN_THREADS 200
#define CHURN_WAVE 25

struct churn_arg {
	int idx;
	int count_at_exit;
};

static void *churn_thread(void *argp)
{
	struct churn_arg *arg = argp;
	struct page *pages[40];
	unsigned int orders[40];

	for (int round = 0; round < 3; round++) {
		int n = 0;

		for (int i = 0; i < 40; i++) {
			unsigned int order = (unsigned int)((i + arg->idx) % 6);  /* 4, 5 bypass */
			gfp_t gfp = (i & 1) ? GFP_KERNEL : GFP_HIGHUSER_MOVABLE;
			struct page *p = alloc_pages(gfp, order);

			CHECK(p != NULL, "thread %d order %u", arg->idx, order);
			if (!p)
				continue;
			fill_block(p, order, (uint64_t)arg->idx << 16 | (uint64_t)round << 8 | (uint64_t)n);
			pages[n] = p;
			orders[n++] = order;
		}
		for (int i = 0; i < n; i++) {
			CHECK(block_intact(pages[i], orders[i],
					   (uint64_t)arg->idx << 16 | (uint64_t)round << 8 | (uint64_t)i),
			      "thread %d round %d block %d overwritten", arg->idx, round, i);
			__free_pages(pages[i], orders[i]);
		}
	}
	arg->count_at_exit = thread_pcp(kmem_current, z32)->count;
	return NULL;
}

Test(pcp, thread_exit_returns_lists_and_recycles_state)
{
	static struct churn_arg args[CHURN_THREADS];
	struct page *mine[5];
	long start32, startdma;
	struct kmem_thread *me;

	/* The main thread holds pages and has some on its own list. */
	for (int i = 0; i < 5; i++)
		cr_assert_not_null(mine[i] = alloc_page(GFP_KERNEL));
	__free_page(mine[4]);
	me = kmem_current;
	cr_assert_not_null(me);
	cr_assert_gt(thread_pcp(me, z32)->count, 0);
	cr_assert_eq(nr_thread_states(), 1);
	start32 = zone_page_state(z32);
	startdma = zone_page_state(zdma);

	for (int w = 0; w < CHURN_THREADS / CHURN_WAVE; w++) {
		pthread_t tids[CHURN_WAVE];

		for (int i = 0; i < CHURN_WAVE; i++) {
			args[w * CHURN_WAVE + i].idx = w * CHURN_WAVE + i;
			cr_assert_eq(pthread_create(&tids[i], NULL, churn_thread,
						    &args[w * CHURN_WAVE + i]), 0);
		}
		for (int i = 0; i < CHURN_WAVE; i++)
			cr_assert_eq(pthread_join(tids[i], NULL), 0);
		/* Only the main thread's state is left. */
		pthread_mutex_lock(&kmem_threads_lock);
		cr_assert_eq(list_len(&kmem_threads), 1, "wave %d: %ld states", w,
			     list_len(&kmem_threads));
		cr_assert_eq(list_first_entry(&kmem_threads, struct kmem_thread, thread_list), me);
		pthread_mutex_unlock(&kmem_threads_lock);
		cr_assert_eq(zone_page_state(z32), start32, "wave %d: %ld pages missing", w,
			     start32 - zone_page_state(z32));
		cr_assert_eq(zone_page_state(zdma), startdma);
	}
	assert_no_thread_failures();
	/* The exiting threads did leave pages on their lists. */
	for (int i = 0; i < CHURN_THREADS; i++)
		cr_assert_gt(args[i].count_at_exit, 0, "thread %d exited with empty lists", i);
	cr_assert_eq(me->tid, (pid_t)os_gettid());
	for (int i = 0; i < 4; i++)
		__free_page(mine[i]);
	drain_local_pages();
	cr_assert_eq(zone_page_state(z32), DMA32_PAGES);
	cr_assert_eq(kmem_check_all(), 0);
}

/* ---- remote drain while the owner waits ------------------------------------ */

static pthread_barrier_t barrier;

struct owner_state {
	struct kmem_thread *t;
	int count_before_drain;
	int count_after_drain;
	unsigned long refill_before;
	unsigned long refill_after_first_alloc;
	int count_after_first_alloc;
};

static void *blocked_owner(void *argp)
{
	struct owner_state *st = argp;
	struct page *held[40], *more[20];
	struct per_cpu_pages *pcp;

	for (int i = 0; i < 40; i++) {
		held[i] = alloc_page(GFP_KERNEL);
		CHECK(held[i] != NULL, "alloc %d", i);
		fill_block(held[i], 0, (uint64_t)i);
	}
	for (int i = 10; i < 40; i++)
		__free_page(held[i]);
	st->t = kmem_current;
	pcp = thread_pcp(st->t, z32);
	st->count_before_drain = pcp->count;
	pthread_barrier_wait(&barrier);         /* main drains us now */
	pthread_barrier_wait(&barrier);
	st->count_after_drain = pcp->count;
	st->refill_before = z32->ev.pcp_refill;
	more[0] = alloc_page(GFP_KERNEL);
	st->refill_after_first_alloc = z32->ev.pcp_refill;
	st->count_after_first_alloc = pcp->count;
	CHECK(more[0] != NULL, "%s", "alloc after drain");
	for (int i = 1; i < 20; i++)
		CHECK((more[i] = alloc_page(GFP_KERNEL)) != NULL, "alloc %d after drain", i);
	for (int i = 0; i < 20; i++) {
		for (int j = 0; j < 10; j++)
			CHECK(more[i] != held[j], "page %d handed out while still held", i);
		for (int j = 0; j < i; j++)
			CHECK(more[i] != more[j], "page %d handed out twice", i);
		fill_block(more[i], 0, 1000 + (uint64_t)i);
	}
	for (int i = 0; i < 10; i++)
		CHECK(block_intact(held[i], 0, (uint64_t)i), "held page %d overwritten", i);
	for (int i = 0; i < 20; i++) {
		CHECK(block_intact(more[i], 0, 1000 + (uint64_t)i), "new page %d overwritten", i);
		__free_page(more[i]);
	}
	for (int i = 0; i < 10; i++)
		__free_page(held[i]);
	return NULL;
}

Test(pcp, remote_drain_of_a_blocked_owner)
{
	struct owner_state st = { 0 };
	pthread_t tid;
	long before;

	cr_assert_eq(pthread_barrier_init(&barrier, NULL, 2), 0);
	cr_assert_eq(pthread_create(&tid, NULL, blocked_owner, &st), 0);
	pthread_barrier_wait(&barrier);
	/* 40 allocations: 3 refills of 15 leave 5, 30 frees bring 35 (< 60). */
	cr_assert_eq(st.count_before_drain, 35);
	cr_assert_eq(thread_pcp(st.t, z32)->count, 35);
	before = zone_page_state(z32);
	cr_assert_eq(before, DMA32_PAGES - 45);
	drain_all_pages();
	cr_assert_eq(thread_pcp(st.t, z32)->count, 0);
	cr_assert_eq(pcp_pages_on_lists(thread_pcp(st.t, z32)), 0);
	cr_assert_eq(zone_page_state(z32), before + 35);
	cr_assert_eq(kmem_check_all(), 0);
	pthread_barrier_wait(&barrier);
	cr_assert_eq(pthread_join(tid, NULL), 0);
	assert_no_thread_failures();
	cr_assert_eq(st.count_after_drain, 0);
	/* The owner's next allocation refilled its empty list. */
	cr_assert_eq(st.refill_after_first_alloc, st.refill_before + 1);
	cr_assert_eq(st.count_after_first_alloc, BATCH - 1);
	drain_all_pages();
	cr_assert_eq(zone_page_state(z32), DMA32_PAGES);
	cr_assert_eq(nr_thread_states(), 0);
	cr_assert_eq(kmem_check_all(), 0);
}

/* ---- cross-thread free ------------------------------------------------------- */

struct cross_state {
	struct kmem_thread *t;
	struct page *from_worker[10];
	struct page *from_main[10];
	int count_after_alloc;
	int count_after_main_freed;
	int count_after_own_free;
	bool on_own_list;
};

static void *cross_worker(void *argp)
{
	struct cross_state *st = argp;
	struct per_cpu_pages *pcp;

	for (int i = 0; i < 10; i++)
		CHECK((st->from_worker[i] = alloc_page(GFP_KERNEL)) != NULL, "alloc %d", i);
	st->t = kmem_current;
	pcp = thread_pcp(st->t, z32);
	st->count_after_alloc = pcp->count;
	pthread_barrier_wait(&barrier);         /* main frees our pages */
	pthread_barrier_wait(&barrier);
	st->count_after_main_freed = pcp->count;
	/* Now free the pages the main thread allocated. */
	for (int i = 0; i < 10; i++)
		__free_page(st->from_main[i]);
	st->count_after_own_free = pcp->count;
	st->on_own_list = true;
	for (int i = 0; i < 10; i++)
		st->on_own_list &= on_list(&pcp->lists[order_to_pindex(MIGRATE_UNMOVABLE, 0)],
					   st->from_main[i]);
	pthread_barrier_wait(&barrier);         /* main checks, we exit */
	return NULL;
}

Test(pcp, cross_thread_free_goes_to_the_freeing_threads_list)
{
	struct cross_state st = { 0 };
	struct per_cpu_pages *mine;
	pthread_t tid;
	long z;

	mine = my_pcp(z32);
	cr_assert_eq(pthread_barrier_init(&barrier, NULL, 2), 0);
	cr_assert_eq(pthread_create(&tid, NULL, cross_worker, &st), 0);
	pthread_barrier_wait(&barrier);
	cr_assert_eq(st.count_after_alloc, BATCH - 10);
	cr_assert_eq(mine->count, 0);
	z = zone_page_state(z32);
	for (int i = 0; i < 10; i++) {
		__free_page(st.from_worker[i]);
		cr_assert_eq(st.from_worker[i]->flags & PAGE_STATE_MASK, PG_pcp);
		cr_assert(on_list(&mine->lists[order_to_pindex(MIGRATE_UNMOVABLE, 0)],
				  st.from_worker[i]));
	}
	cr_assert_eq(mine->count, 10);
	cr_assert_eq(thread_pcp(st.t, z32)->count, BATCH - 10, "owner's list changed");
	cr_assert_eq(zone_page_state(z32), z, "frees to a list must not reach the zone");
	/* Main's list now holds exactly the worker's pages: hand them back out. */
	for (int i = 0; i < 10; i++)
		cr_assert_not_null(st.from_main[i] = alloc_page(GFP_KERNEL));
	cr_assert_eq(mine->count, 0);
	pthread_barrier_wait(&barrier);
	pthread_barrier_wait(&barrier);
	cr_assert_eq(st.count_after_main_freed, BATCH - 10);
	cr_assert_eq(st.count_after_own_free, BATCH);
	cr_assert(st.on_own_list);
	cr_assert_eq(mine->count, 0);
	cr_assert_eq(pthread_join(tid, NULL), 0);
	assert_no_thread_failures();
	/* The worker's exit drained its 15 pages. */
	cr_assert_eq(zone_page_state(z32), DMA32_PAGES);
	cr_assert_eq(kmem_check_all(), 0);
}

/* ---- remote drain racing the owner ------------------------------------------- */

#define RACE_OPS 300000
#define RACE_SLOTS 64
#define RACE_MAX_DRAINS 1000000

static atomic_bool owner_done;
static atomic_long drains_during_owner;

struct race_owner {
	unsigned long pages_allocated;   /* orders 0..3 */
	unsigned long from_lists;        /* of those, handed out by the lists */
};

static void *race_owner(void *argp)
{
	struct race_owner *ro = argp;
	struct page *slot[RACE_SLOTS] = { 0 };
	unsigned int order[RACE_SLOTS];
	uint64_t tag[RACE_SLOTS];
	uint64_t rng = 0x1234567887654321ULL;

	pthread_barrier_wait(&barrier);
	for (long i = 0; i < RACE_OPS; i++) {
		unsigned int s = (unsigned int)(test_rand(&rng) % RACE_SLOTS);

		if (slot[s]) {
			CHECK(block_intact(slot[s], order[s], tag[s]), "op %ld slot %u", i, s);
			__free_pages(slot[s], order[s]);
			slot[s] = NULL;
			continue;
		}
		order[s] = (unsigned int)(test_rand(&rng) % 4);
		tag[s] = test_rand(&rng);
		slot[s] = alloc_pages((test_rand(&rng) & 1) ? GFP_KERNEL : GFP_HIGHUSER_MOVABLE,
				      order[s]);
		CHECK(slot[s] != NULL, "op %ld order %u", i, order[s]);
		if (!slot[s])
			continue;
		CHECK((slot[s]->flags & PAGE_STATE_MASK) == PG_head, "op %ld flags %#x", i,
		      slot[s]->flags);
		ro->pages_allocated += 1UL << order[s];
		fill_block(slot[s], order[s], tag[s]);
	}
	for (unsigned int s = 0; s < RACE_SLOTS; s++) {
		if (!slot[s])
			continue;
		CHECK(block_intact(slot[s], order[s], tag[s]), "final slot %u", s);
		__free_pages(slot[s], order[s]);
	}
	ro->from_lists = thread_pcp(kmem_current, z32)->alloc;
	atomic_store(&owner_done, true);
	return NULL;
}

static void *race_drainer(void *argp)
{
	pthread_barrier_wait(&barrier);
	for (long i = 0; i < RACE_MAX_DRAINS && !atomic_load(&owner_done); i++) {
		drain_all_pages();
		atomic_fetch_add(&drains_during_owner, 1);
	}
	return NULL;
}

Test(pcp, remote_drain_racing_the_owner_loses_nothing)
{
	struct race_owner ro = { 0 };
	pthread_t owner, drainer;

	cr_assert_eq(pthread_barrier_init(&barrier, NULL, 2), 0);
	cr_assert_eq(pthread_create(&owner, NULL, race_owner, &ro), 0);
	cr_assert_eq(pthread_create(&drainer, NULL, race_drainer, NULL), 0);
	cr_assert_eq(pthread_join(owner, NULL), 0);
	cr_assert_eq(pthread_join(drainer, NULL), 0);
	assert_no_thread_failures();
	cr_assert_gt(atomic_load(&drains_during_owner), 0);
	cr_assert_gt(ro.pages_allocated, 0);
	cr_assert_leq(ro.from_lists, ro.pages_allocated);
	cr_assert_eq(kmem_check_all(), 0);
	drain_all_pages();
	cr_assert_eq(zone_page_state(z32), DMA32_PAGES, "%ld pages lost",
		     DMA32_PAGES - zone_page_state(z32));
	cr_assert_eq(zone_page_state(zdma), DMA_PAGES);
	cr_assert_eq(nr_thread_states(), 0);
	cr_assert_eq(kmem_check_all(), 0);
}

/* ---- kernel-derived sizes ------------------------------------------------------- */

static unsigned long test_isqrt(unsigned long x)
{
	unsigned long r = 0;

	while ((r + 1) * (r + 1) <= x)
		r++;
	return r;
}

static unsigned long test_rounddown_pow2(unsigned long n)
{
	unsigned long p = 1;

	while (p * 2 <= n)
		p *= 2;
	return p;
}

struct expect_pcp {
	unsigned long managed;
	int batch;
	int high;
};

/*
 * The kernel's rules, written out again: min_free_kbytes =
 * int_sqrt(lowmem_kbytes * 16) clamped to [128, 262144]; a zone's min
 * watermark is its managed share of it, low = min + max(min / 4,
 * managed * 10 / 10000); zone_batchsize = rounddown_pow_of_two(b + b / 2)
 * - 1 with b = min(managed >> 10, 1 MiB / 4 KiB) / 4 (at least 1), and
 * never below 1 when used.  high is kmem's: 2 batches (the kernel's
 * zone_highsize, max(low / node_cpus, 4 * batch), is per CPU).
 */
static struct expect_pcp expected_pcp(unsigned long managed, unsigned long lowmem,
				      int cpus, int batch_override)
{
	struct expect_pcp e = { .managed = managed };
	unsigned long mfk = test_isqrt(lowmem * 4 * 16);
	unsigned long pages_min, min, low, b, h;

	if (mfk < 128)
		mfk = 128;
	if (mfk > 262144)
		mfk = 262144;
	pages_min = mfk / 4;
	min = pages_min * managed / lowmem;
	low = min + MAX(min / 4, managed * 10 / 10000);
	b = MIN(managed >> 10, 256UL) / 4;
	if (b < 1)
		b = 1;
	b = test_rounddown_pow2(b + b / 2) - 1;
	if (b < 1)
		b = 1;
	if (batch_override)
		b = (unsigned long)batch_override;
	(void)low;
	(void)cpus;
	h = b * 2;
	e.batch = (int)b;
	e.high = (int)h;
	return e;
}

static void check_derived_sizes(unsigned long total_pages, int batch_override)
{
	unsigned long sizes[3];
	int nid = 0;

	/* x86-64 zone boundaries: DMA below 16 MiB, DMA32 below 4 GiB. */
	sizes[ZONE_DMA] = MIN(total_pages, 4096UL);
	sizes[ZONE_DMA32] = MIN(total_pages, 1UL << 20) - sizes[ZONE_DMA];
	sizes[ZONE_NORMAL] = total_pages > (1UL << 20) ? total_pages - (1UL << 20) : 0;
	for (int zt = ZONE_DMA; zt <= ZONE_NORMAL; zt++) {
		struct zone *zone = kmem_zone(nid, (enum zone_type)zt);
		struct expect_pcp e;

		cr_assert_not_null(zone);
		cr_assert_eq(zone->managed_pages, sizes[zt], "zone %d: %lu pages, expected %lu",
			     zt, zone->managed_pages, sizes[zt]);
		if (!sizes[zt])
			continue;
		e = expected_pcp(sizes[zt], total_pages, 2, batch_override);
		cr_assert_eq(zone->pcp_batch, e.batch, "zone %s: batch %d, kernel rule %d",
			     zone->name, zone->pcp_batch, e.batch);
		cr_assert_eq(zone->pcp_high, e.high, "zone %s: high %d, kernel rule %d",
			     zone->name, zone->pcp_high, e.high);
		cr_assert_eq(my_pcp(zone)->batch, e.batch);
		cr_assert_eq(my_pcp(zone)->high, e.high);
	}
	cr_assert_eq(kmem_check_all(), 0);
}

/* extra1 / extra2: further "NAME=value" options, or NULL. */
static void init_sizes(const char *limit, const char *extra1, const char *extra2)
{
	clear_kmem_env();
	kmem_test_init(limit, "KMEM_HUGEPAGES=off", "KMEM_PCP_RAMP=0", sysfs_1node(), extra1,
		       extra2, NULL);
}

TestSuite(pcp_sizes, .timeout = 60);

Test(pcp_sizes, default_64M_matches_kernel_rule)
{
	init_sizes("KMEM_LIMIT=64M", NULL, NULL);
	/* By hand: DMA32 has 12288 pages: b = 12 / 4 = 3, 3 + 1 = 4, 4 - 1 = 3;
	 * min_free_kbytes = sqrt(65536 * 16) = 1024, min = 256 * 3/4 = 192,
	 * high 2 * 3 = 6.
	 * DMA: b = 4 / 4 = 1, 2^0 - 1 = 0, raised to 1; high 2 * 1. */
	cr_assert_eq(kmem_zone(0, ZONE_DMA32)->pcp_batch, 3);
	cr_assert_eq(kmem_zone(0, ZONE_DMA32)->pcp_high, 6);
	cr_assert_eq(kmem_zone(0, ZONE_DMA)->pcp_batch, 1);
	cr_assert_eq(kmem_zone(0, ZONE_DMA)->pcp_high, 2);
	check_derived_sizes(16384, 0);
}

Test(pcp_sizes, default_1G_matches_kernel_rule)
{
	init_sizes("KMEM_LIMIT=1G", NULL, NULL);
	/* DMA32: 258048 pages, b = 252 / 4 = 63, 63 + 31 = 94 -> 64 - 1 = 63. */
	cr_assert_eq(kmem_zone(0, ZONE_DMA32)->pcp_batch, 63);
	cr_assert_eq(kmem_zone(0, ZONE_DMA32)->pcp_high, 126);
	check_derived_sizes(262144, 0);
}

Test(pcp_sizes, default_8G_matches_kernel_rule)
{
	init_sizes("KMEM_LIMIT=8G", NULL, NULL);
	cr_assert_eq(kmem_zone(0, ZONE_DMA)->pcp_high, 2);
	cr_assert_eq(kmem_zone(0, ZONE_NORMAL)->pcp_batch, 63);
	cr_assert_eq(kmem_zone(0, ZONE_NORMAL)->pcp_high, 126);
	check_derived_sizes(2097152, 0);
}

Test(pcp_sizes, batch_override_alone_derives_high_from_it)
{
	init_sizes("KMEM_LIMIT=64M", "KMEM_PCP_BATCH=7", NULL);
	cr_assert_eq(kmem_zone(0, ZONE_DMA32)->pcp_high, 14);
	cr_assert_eq(kmem_zone(0, ZONE_DMA)->pcp_high, 14);
	check_derived_sizes(16384, 7);
}

Test(pcp_sizes, high_override_alone_never_below_batch)
{
	init_sizes("KMEM_LIMIT=64M", "KMEM_PCP_HIGH=2", NULL);
	cr_assert_eq(kmem_zone(0, ZONE_DMA32)->pcp_batch, 3);
	cr_assert_eq(kmem_zone(0, ZONE_DMA32)->pcp_high, 3);
	cr_assert_eq(kmem_zone(0, ZONE_DMA)->pcp_batch, 1);
	cr_assert_eq(kmem_zone(0, ZONE_DMA)->pcp_high, 2);
	cr_assert_eq(kmem_check_all(), 0);
}

Test(pcp_sizes, high_equal_to_batch_is_accepted)
{
	init_sizes("KMEM_LIMIT=64M", "KMEM_PCP_HIGH=9", "KMEM_PCP_BATCH=9");
	cr_assert_eq(kmem_config.pcp_high, 9);
	cr_assert_eq(kmem_config.pcp_batch, 9);
	cr_assert_eq(kmem_zone(0, ZONE_DMA32)->pcp_batch, 9);
	cr_assert_eq(kmem_zone(0, ZONE_DMA32)->pcp_high, 9);
	cr_assert_eq(kmem_check_all(), 0);
}

Test(pcp_sizes, high_below_batch_is_rejected_for_the_defaults)
{
	init_sizes("KMEM_LIMIT=64M", "KMEM_PCP_HIGH=10", "KMEM_PCP_BATCH=15");
	cr_assert_eq(kmem_config.pcp_high, 0);
	cr_assert_eq(kmem_config.pcp_batch, 0);
	check_derived_sizes(16384, 0);
	cr_assert_eq(kmem_zone(0, ZONE_DMA32)->pcp_batch, 3);
	cr_assert_eq(kmem_zone(0, ZONE_DMA32)->pcp_high, 6);
	/* Both options count as rejected. */
	cr_assert_eq(kmem_config_init(), 2);
	cr_assert_eq(kmem_config.pcp_high, 0);
	cr_assert_eq(kmem_config.pcp_batch, 0);
	cr_assert_eq(kmem_check_all(), 0);
}

Test(pcp_sizes, default_sizes_drive_refill_and_drain)
{
	struct zone *zone;
	struct per_cpu_pages *pcp;
	static struct page *held[64];

	init_sizes("KMEM_LIMIT=64M", NULL, NULL);
	zone = kmem_zone(0, ZONE_DMA32);
	pcp = my_pcp(zone);
	/* batch 3, high 6: the first alloc takes 3 pages. */
	cr_assert_not_null(held[0] = alloc_page(GFP_KERNEL));
	cr_assert_eq(pcp->count, 2);
	cr_assert_eq(zone_page_state(zone), DMA32_PAGES - 3);
	for (int i = 1; i < 64; i++)
		cr_assert_not_null(held[i] = alloc_page(GFP_KERNEL));
	/* 64 = 21 refills of 3 + 1: 22 refills, 2 left. */
	cr_assert_eq(zone->ev.pcp_refill, 22);
	cr_assert_eq(pcp->count, 2);
	for (int i = 0; i < 64; i++) {
		__free_page(held[i]);
		cr_assert_lt(pcp->count, 6);
	}
	/* 2 + 64 = 66 frees' worth: climbs to 6, drops to 3, ... */
	{
		long c = 2;
		for (int i = 0; i < 64; i++) {
			c++;
			if (c >= 6)
				c -= 3;
		}
		cr_assert_eq(pcp->count, c);
	}
	drain_local_pages();
	cr_assert_eq(zone_page_state(zone), DMA32_PAGES);
	cr_assert_eq(kmem_check_all(), 0);
}

Test(pcp_sizes, batch_of_one_still_refills_two)
{
	struct zone *dma;
	struct page *a, *b, *c;

	init_sizes("KMEM_LIMIT=64M", NULL, NULL);
	dma = kmem_zone(0, ZONE_DMA);
	cr_assert_eq(dma->pcp_batch, 1);
	/* max(1 >> 0, 2) = 2 pages per refill. */
	cr_assert_not_null(a = alloc_page(GFP_DMA));
	cr_assert_eq(page_zone(a), dma);
	cr_assert_eq(dma->ev.pcp_refill, 1);
	cr_assert_eq(my_pcp(dma)->count, 1);
	cr_assert_eq(zone_page_state(dma), DMA_PAGES - 2);
	cr_assert_not_null(b = alloc_page(GFP_DMA));
	cr_assert_eq(dma->ev.pcp_refill, 1);
	cr_assert_eq(my_pcp(dma)->count, 0);
	cr_assert_not_null(c = alloc_page(GFP_DMA));
	cr_assert_eq(dma->ev.pcp_refill, 2);
	cr_assert_eq(zone_page_state(dma), DMA_PAGES - 4);
	__free_page(a);
	__free_page(b);
	__free_page(c);
	drain_local_pages();
	cr_assert_eq(zone_page_state(dma), DMA_PAGES);
	cr_assert_eq(kmem_check_all(), 0);
}

/* ---- the ramp: a new thread's lists start small and grow with use ------ */

/*
 * A 1 GiB arena: DMA32's lists are 63 pages of batch and 126 of high.  A
 * new thread's start at 3 and 7 (the zone's >> 4, high at least two
 * batches); each refill, and each free that reaches high, doubles them.
 * The test threads run on fresh thread states, so their ramps start at 4.
 */
static void init_ramp(const char *ramp)
{
	clear_kmem_env();
	kmem_test_init("KMEM_LIMIT=1G", "KMEM_HUGEPAGES=off", "KMEM_DEBUG_VM=1", sysfs_1node(),
		       ramp, NULL);
	z32 = kmem_zone(0, ZONE_DMA32);
	cr_assert_not_null(z32);
	cr_assert_eq(z32->pcp_batch, 63);
	cr_assert_eq(z32->pcp_high, 126);
}

/* pcp.c's rule, written out again: the zone's sizes, ramp halvings short. */
static void ramp_sizes(const struct zone *zone, int ramp, int *batch, int *high)
{
	if (!ramp) {
		*batch = zone->pcp_batch;
		*high = zone->pcp_high;
		return;
	}
	*batch = MAX(zone->pcp_batch >> ramp, 1);
	*high = MAX(zone->pcp_high >> ramp, 2 * *batch);
}

static void run_in_new_thread(void *(*fn)(void *), void *arg)
{
	pthread_t th;

	cr_assert_eq(pthread_create(&th, NULL, fn, arg), 0);
	cr_assert_eq(pthread_join(th, NULL), 0);
	assert_no_thread_failures();
}

/* fn on a new thread of a fresh kmem; the thread's exit gives its pages back. */
static void run_ramp_case(const char *ramp, void *(*fn)(void *))
{
	long zfree;

	init_ramp(ramp);
	zfree = zone_page_state(z32);
	run_in_new_thread(fn, NULL);
	cr_assert_eq(zone_page_state(z32), zfree);
	cr_assert_eq(kmem_check_all(), 0);
}

TestSuite(pcp_ramp, .timeout = 30);

static void *refill_through_the_ramp(void *arg)
{
	static const int refill[] = { 3, 7, 15, 31, 63, 63 };
	static struct page *held[3 + 7 + 15 + 31 + 63 + 63];
	struct per_cpu_pages *pcp = my_pcp(z32);
	long zfree = zone_page_state(z32);
	int n = 0, batch, high;

	(void)arg;
	CHECK(pcp->ramp == 4, "a new thread's ramp is %d", pcp->ramp);
	CHECK(pcp->batch == 3 && pcp->high == 7, "batch %d, high %d", pcp->batch, pcp->high);
	for (int r = 0; r < (int)ARRAY_SIZE(refill); r++) {
		int ramp = MAX(3 - r, 0);

		CHECK(pcp->count == 0, "refill %d: %d pages still listed", r, pcp->count);
		held[n++] = alloc_page(GFP_KERNEL);
		CHECK(held[n - 1] != NULL, "refill %d", r);
		CHECK(zfree - zone_page_state(z32) == refill[r], "refill %d took %ld pages, want %d",
		      r, zfree - zone_page_state(z32), refill[r]);
		zfree = zone_page_state(z32);
		ramp_sizes(z32, ramp, &batch, &high);
		CHECK(pcp->ramp == ramp, "refill %d: ramp %d, want %d", r, pcp->ramp, ramp);
		CHECK(pcp->batch == batch && pcp->high == high, "refill %d: batch %d high %d, want %d %d",
		      r, pcp->batch, pcp->high, batch, high);
		CHECK(pcp->count == refill[r] - 1, "refill %d: %d listed", r, pcp->count);
		for (int i = 1; i < refill[r]; i++) {
			held[n++] = alloc_page(GFP_KERNEL);
			CHECK(held[n - 1] != NULL, "refill %d, page %d", r, i);
		}
	}
	CHECK(z32->ev.pcp_refill >= ARRAY_SIZE(refill), "%lu refills", z32->ev.pcp_refill);
	for (int i = 0; i < n; i++)
		__free_page(held[i]);
	return NULL;
}

Test(pcp_ramp, refills_double_the_batch_until_the_zones)
{
	run_ramp_case(NULL, refill_through_the_ramp);
}

#define RAMP_FREES 120

static void *free_through_the_ramp(void *arg)
{
	struct page **pages = arg;
	struct per_cpu_pages *pcp = my_pcp(z32);
	int ramp = 4, count = 0, drains = 0, batch, high;

	for (int i = 0; i < RAMP_FREES; i++) {
		ramp_sizes(z32, ramp, &batch, &high);
		__free_page(pages[i]);
		if (++count >= high) {
			count -= batch;
			drains++;
			ramp = MAX(ramp - 1, 0);
		}
		CHECK(pcp->count == count, "free %d: %d listed, model %d", i, pcp->count, count);
		CHECK(pcp->ramp == ramp, "free %d: ramp %d, model %d", i, pcp->ramp, ramp);
	}
	/* Drains at 7, 15, 31 and 63 listed pages; the 5th would be at 126. */
	CHECK(drains == 4 && ramp == 0, "%d drains, ramp %d", drains, ramp);
	CHECK(pcp->batch == 63 && pcp->high == 126, "batch %d, high %d", pcp->batch, pcp->high);
	CHECK(pcp->alloc == 0, "the freeing thread allocated %lu pages", pcp->alloc);
	return NULL;
}

Test(pcp_ramp, frees_past_high_ramp_up_too)
{
	static struct page *pages[RAMP_FREES];
	long zfree;

	init_ramp(NULL);
	zfree = zone_page_state(z32);
	for (int i = 0; i < RAMP_FREES; i++)
		cr_assert_not_null(pages[i] = alloc_page(GFP_KERNEL));
	run_in_new_thread(free_through_the_ramp, pages);
	drain_local_pages();
	cr_assert_eq(zone_page_state(z32), zfree);
	cr_assert_eq(kmem_check_all(), 0);
}

static void *order3_through_the_ramp(void *arg)
{
	struct per_cpu_pages *pcp = my_pcp(z32);
	static struct page *held[3 + 7 + 15 + 31];
	struct page *a, *b;
	long zfree = zone_page_state(z32);
	int n = 0;

	(void)arg;
	/* max(3 >> 3, 1): one slab's 8 pages, not the kernel's floor of 2 blocks. */
	a = alloc_pages(GFP_KERNEL, 3);
	CHECK(a != NULL, "order 3");
	CHECK(zfree - zone_page_state(z32) == 8, "first order-3 refill took %ld pages",
	      zfree - zone_page_state(z32));
	CHECK(pcp->count == 0 && pcp->ramp == 3, "count %d, ramp %d", pcp->count, pcp->ramp);
	/* Three order-0 refills finish the ramp. */
	while (pcp->ramp && n < (int)ARRAY_SIZE(held))
		held[n++] = alloc_page(GFP_KERNEL);
	CHECK(pcp->ramp == 0, "ramp %d after %d pages", pcp->ramp, n);
	zfree = zone_page_state(z32);
	b = alloc_pages(GFP_KERNEL, 3);
	CHECK(b != NULL, "order 3 again");
	CHECK(zfree - zone_page_state(z32) == 7 * 8, "order-3 refill at full size took %ld pages",
	      zfree - zone_page_state(z32));
	__free_pages(a, 3);
	__free_pages(b, 3);
	for (int i = 0; i < n; i++)
		__free_page(held[i]);
	return NULL;
}

Test(pcp_ramp, order3_refills_one_block_until_the_ramp_ends)
{
	run_ramp_case(NULL, order3_through_the_ramp);
}

static void *first_refill_of_a_full_batch(void *arg)
{
	struct per_cpu_pages *pcp = my_pcp(z32);
	long zfree = zone_page_state(z32);
	struct page *p;

	(void)arg;
	CHECK(pcp->ramp == 0 && pcp->batch == 63 && pcp->high == 126,
	      "ramp %d, batch %d, high %d", pcp->ramp, pcp->batch, pcp->high);
	p = alloc_page(GFP_KERNEL);
	CHECK(p != NULL, "order 0");
	CHECK(zfree - zone_page_state(z32) == 63, "first refill took %ld pages",
	      zfree - zone_page_state(z32));
	__free_page(p);
	return NULL;
}

Test(pcp_ramp, ramp_0_gives_the_zone_sizes_at_once)
{
	run_ramp_case("KMEM_PCP_RAMP=0", first_refill_of_a_full_batch);
}

/* ---- many threads: the lists share out the zone's sizes --------------- */

/*
 * The fake topology has 2 CPUs, so up to 8 threads keep the zone's sizes
 * (63 and 126 pages in a 1 GiB arena); with n threads past that, each
 * thread's batch and high are the zone's times 8 / n, taken at the
 * thread's next refill or free past high.
 */
#define SHARE_THREADS 11

static pthread_barrier_t share_started, share_done;

static void *hold_a_page_until_released(void *arg)
{
	struct page *p = alloc_page(GFP_KERNEL);

	(void)arg;
	CHECK(p != NULL, "order 0");
	pthread_barrier_wait(&share_started);
	pthread_barrier_wait(&share_done);
	__free_page(p);
	return NULL;
}

/* Empty the lists, refill once, and report the sizes the refill set. */
static void refill_sizes(int *batch, int *high)
{
	struct page *p;

	drain_local_pages();
	cr_assert_not_null(p = alloc_page(GFP_KERNEL));
	*batch = my_pcp(z32)->batch;
	*high = my_pcp(z32)->high;
	__free_page(p);
}

static void share_case(const char *sizes, bool shared)
{
	pthread_t th[SHARE_THREADS];
	int threads, batch, high;

	clear_kmem_env();
	kmem_test_init("KMEM_LIMIT=1G", "KMEM_HUGEPAGES=off", "KMEM_DEBUG_VM=1", "KMEM_PCP_RAMP=0",
		       sysfs_1node(), sizes, NULL);
	z32 = kmem_zone(0, ZONE_DMA32);
	cr_assert_not_null(z32);
	refill_sizes(&batch, &high);
	cr_assert_eq(batch, z32->pcp_batch);
	cr_assert_eq(high, z32->pcp_high);
	pthread_barrier_init(&share_started, NULL, SHARE_THREADS + 1);
	pthread_barrier_init(&share_done, NULL, SHARE_THREADS + 1);
	for (int i = 0; i < SHARE_THREADS; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, hold_a_page_until_released, NULL), 0);
	pthread_barrier_wait(&share_started);
	threads = atomic_load(&kmem_nr_threads);
	cr_assert_geq(threads, SHARE_THREADS + 1);
	refill_sizes(&batch, &high);
	if (shared) {
		cr_assert_eq(batch, z32->pcp_batch * 8 / threads, "%d threads: batch %d", threads, batch);
		cr_assert_eq(high, z32->pcp_high * 8 / threads, "%d threads: high %d", threads, high);
	} else {
		cr_assert_eq(batch, z32->pcp_batch);
		cr_assert_eq(high, z32->pcp_high);
	}
	pthread_barrier_wait(&share_done);
	for (int i = 0; i < SHARE_THREADS; i++)
		cr_assert_eq(pthread_join(th[i], NULL), 0);
	assert_no_thread_failures();
	/* The threads are gone: the next refill takes the zone's sizes again. */
	refill_sizes(&batch, &high);
	cr_assert_eq(batch, z32->pcp_batch);
	cr_assert_eq(high, z32->pcp_high);
	drain_local_pages();
	cr_assert_eq(kmem_check_all(), 0);
}

TestSuite(pcp_share, .timeout = 30);

Test(pcp_share, past_four_threads_per_cpu_the_lists_share_the_zone_sizes)
{
	share_case(NULL, true);
}

Test(pcp_share, sizes_the_user_set_are_not_shared_out)
{
	share_case("KMEM_PCP_BATCH=15", false);
}
