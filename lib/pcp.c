/*
 * pcp.c - per-thread page lists (the kernel's per-cpu pagesets) and the
 * per-thread state they live in.
 *
 * Each thread has, for every zone of every node, lists of free blocks of
 * orders 0..PAGE_ALLOC_COSTLY_ORDER per migrate type.  Allocation and free
 * of those orders touch only these lists; the zone lock is taken once per
 * batch (rmqueue_bulk to refill, free_pcppages_bulk past pcp->high).
 *
 * Bulk moves of exact blocks (rmqueue_bulk_exact, free_pages_bulk_exact)
 * serve the kmalloc_large cache, whose blocks are above the pcp orders or
 * not a power of two pages: one zone lock per batch there too.
 *
 * Locking: a list set's lock is a flag the owner takes with one exchange
 * and never waits on: if another thread holds it (a drain by reclaim or
 * fork), the owner goes to the zone instead.  Drainers wait for it.  Lock
 * order: kmem_threads_lock, then pcp locks, then zone locks.
 *
 * Sizes ramp up (kmem's own rule; the kernel has one pageset per CPU,
 * kmem one per thread): a thread's lists start at the zone's batch and
 * high shifted right by KMEM_PCP_RAMP (4), and each refill or free past
 * high doubles them until they reach the zone's.  A short-lived thread that
 * needs a dozen pages then holds a few, not a batch of 63 recycled,
 * resident pages (alloc_bench churn, 8 threads alive: the arena's resident
 * peak fell from about 2.6 to 2.1 MiB).  A thread that keeps
 * allocating reaches the full batch after 4 refills (56 pages), as the
 * kernel's alloc_factor grows a CPU's batch while it allocates without
 * freeing; one that keeps freeing, after as many bulk frees, as the kernel
 * raises a pageset's high when frees fill it.  KMEM_PCP_RAMP=0 gives a
 * thread the zone's sizes from the start.
 *
 * Past PCP_THREADS_PER_CPU threads per CPU, the threads share out the
 * zone's sizes (pcp_set_sizes), as the kernel's lists are bounded per CPU.
 *
 * The thread state these lists live in is thread.c's.
 */
#include <pthread.h>
#include <sched.h>
#include "internal.h"

/*
 * The zone's sizes, shared out when threads outnumber the CPUs four to one,
 * then halved pcp->ramp times.  While ramping, a batch is at least one
 * page and high at least two batches (the zone's own ratio), so a freed
 * page still waits on the list.
 *
 * The sharing is the kernel's bound on pagesets carried over to threads:
 * the kernel's lists hold at most a high per CPU, kmem's a high per
 * thread, and every page on them is resident memory no one uses.  An idle
 * pool of 32 threads that had each allocated and freed 1000-byte objects
 * kept 11 MB of free pages on its lists: `alloc_bench pool 32 1000`, VmRSS
 * 14.8 MB, 10.1 MB shared out, glibc 4.7 MB; with 64 threads 27.5, 14.7
 * and 7.2 MB (medians of 5).  Up to four threads per CPU keep the zone's
 * sizes: alloc_bench threads-2/4/8 peaked 3-6% higher with lists a half
 * to a quarter as long.  Sizes the user set (KMEM_PCP_BATCH,
 * KMEM_PCP_HIGH) are taken as they are.
 */
#define PCP_THREADS_PER_CPU 4

static void pcp_set_sizes(struct per_cpu_pages *pcp, const struct zone *zone)
{
	int batch = zone->pcp_batch, high = zone->pcp_high;
	int threads = atomic_load_explicit(&kmem_nr_threads, memory_order_relaxed);
	int room = PCP_THREADS_PER_CPU * MAX(kmem_topology.node_nr_cpus[zone->node], 1);

	if (unlikely(threads > room) && !kmem_config.pcp_batch && !kmem_config.pcp_high) {
		batch = MAX(batch * room / threads, 1);
		high = MAX(high * room / threads, 2 * batch);
	}
	if (pcp->ramp) {
		batch = MAX(batch >> pcp->ramp, 1);
		high = MAX(high >> pcp->ramp, 2 * batch);
	}
	pcp->batch = batch;
	pcp->high = high;
}

/* A refill, or a free past high: the thread has shown it moves pages, and
 * the number of threads may have changed since the sizes were set. */
static inline void pcp_update_sizes(struct per_cpu_pages *pcp, const struct zone *zone)
{
	if (pcp->ramp)
		pcp->ramp--;
	pcp_set_sizes(pcp, zone);
}

static void pcp_init(struct per_cpu_pages *pcp, const struct zone *zone)
{
	atomic_store_explicit(&pcp->lock, 0, memory_order_relaxed);
	pcp->count = 0;
	pcp->ramp = kmem_config.pcp_ramp;
	pcp_set_sizes(pcp, zone);
	pcp->alloc = 0;
	pcp->free = 0;
	for (int i = 0; i < NR_PCP_LISTS; i++)
		INIT_LIST_HEAD(&pcp->lists[i]);
}

void pcp_init_thread(struct kmem_thread *t)
{
	int nid;

	for_each_online_node(nid) {
		struct zone *zone;

		for_each_populated_zone_of(NODE_DATA(nid), zone)
			pcp_init(thread_pcp(t, zone), zone);
	}
}

static inline bool pcp_trylock(struct per_cpu_pages *pcp)
{
	return !atomic_exchange_explicit(&pcp->lock, 1, memory_order_acquire);
}

void pcp_lock(struct per_cpu_pages *pcp)
{
	while (!pcp_trylock(pcp))
		sched_yield();
}

void pcp_unlock(struct per_cpu_pages *pcp)
{
	atomic_store_explicit(&pcp->lock, 0, memory_order_release);
}

static inline unsigned int pindex_to_order(unsigned int pindex)
{
	return pindex / MIGRATE_PCPTYPES;
}

/* Move up to count blocks of one order from the zone onto a pcp list. */
static int rmqueue_bulk(struct zone *zone, unsigned int order, int count,
			struct list_head *list, int mt)
{
	int i;

	pthread_mutex_lock(&zone->lock);
	for (i = 0; i < count; i++) {
		struct page *page = __rmqueue(zone, order, mt);

		if (unlikely(!page))
			break;
		page->flags |= PG_pcp;
		page->order = (uint8_t)order;
		page->migratetype = (uint8_t)mt;
		list_add_tail(&page->lru, list);
	}
	zone->ev.pcp_refill++;
	debug_vm_zone_op(zone);
	pthread_mutex_unlock(&zone->lock);
	return i;
}

/* End of a bulk free: a release pass if one is due. */
static void free_bulk_unlock(struct zone *zone)
{
	if (zone_release_due(zone))
		zone_release_free(zone, false);
	debug_vm_zone_op(zone);
	pthread_mutex_unlock(&zone->lock);
}

/*
 * Return count pages from the lists to the zone, round robin over the
 * lists starting after pindex, coldest (tail) blocks first.
 */
static void free_pcppages_bulk(struct zone *zone, int count,
			       struct per_cpu_pages *pcp, unsigned int pindex)
{
	count = MIN(count, pcp->count);
	if (count <= 0)
		return;
	pthread_mutex_lock(&zone->lock);
	while (count > 0) {
		struct list_head *list;
		unsigned int order;

		do {
			if (++pindex >= NR_PCP_LISTS)
				pindex = 0;
			list = &pcp->lists[pindex];
		} while (list_empty(list));
		order = pindex_to_order(pindex);
		do {
			struct page *page = list_last_entry(list, struct page, lru);
			unsigned long pfn = __page_to_pfn(page);

			list_del(&page->lru);
			page->flags &= ~PG_pcp;
			count -= 1 << order;
			pcp->count -= 1 << order;
			__free_one_page(page, pfn, zone, order, get_pageblock_migratetype(pfn));
		} while (count > 0 && !list_empty(list));
	}
	zone->ev.pcp_drain++;
	free_bulk_unlock(zone);
}

struct page *rmqueue_pcplist(struct zone *zone, unsigned int order, int mt)
{
	struct kmem_thread *t = current_thread();
	struct per_cpu_pages *pcp;
	struct list_head *list;
	struct page *page;

	if (unlikely(!t->uses_lists))
		return NULL;
	pcp = thread_pcp(t, zone);
	if (unlikely(!pcp_trylock(pcp)))
		return NULL;
	list = &pcp->lists[order_to_pindex(mt, order)];
	if (unlikely(list_empty(list))) {
		/* The kernel's floor of 2 blocks waits for the full sizes:
		 * a ramping thread's first order-3 refill is one slab's pages. */
		int batch = MAX(pcp->batch >> order, pcp->ramp ? 1 : 2);
		int n = rmqueue_bulk(zone, order, batch, list, mt);

		pcp->count += n << order;
		if (unlikely(!n)) {
			pcp_unlock(pcp);
			return NULL;
		}
		pcp_update_sizes(pcp, zone);
	}
	page = list_first_entry(list, struct page, lru);
	list_del(&page->lru);
	pcp->count -= 1 << order;
	pcp->alloc += 1UL << order;
	pcp_unlock(pcp);
	return page;
}

bool free_unref_page(struct zone *zone, struct page *page, unsigned int order,
		     int mt)
{
	struct kmem_thread *t = current_thread();
	struct per_cpu_pages *pcp;
	unsigned int pindex;

	if (unlikely(!t->uses_lists))
		return false;
	pcp = thread_pcp(t, zone);
	if (unlikely(!pcp_trylock(pcp)))
		return false;
	pindex = order_to_pindex(mt, order);
	page->flags |= PG_pcp;
	page->order = (uint8_t)order;
	page->migratetype = (uint8_t)mt;
	list_add(&page->lru, &pcp->lists[pindex]);
	pcp->count += 1 << order;
	pcp->free += 1UL << order;
	if (unlikely(pcp->count >= pcp->high)) {
		free_pcppages_bulk(zone, pcp->batch, pcp, pindex);
		pcp_update_sizes(pcp, zone);
	}
	pcp_unlock(pcp);
	return true;
}

/* ---- exact blocks in bulk, for the kmalloc_large cache ------------------ */

/*
 * Free pages [first, end) of a block under zone->lock, in the largest
 * aligned pieces (free_pages_range without the pcp lists).  Returns the
 * largest order a piece merged up to.
 */
static unsigned int __free_range_locked(struct zone *zone, struct page *page,
					unsigned long first, unsigned long end)
{
	unsigned int merged = 0;

	for (unsigned long i = first; i < end;) {
		unsigned int o = i ? (unsigned int)__builtin_ctzl(i) : MAX_ORDER;
		unsigned long pfn = __page_to_pfn(&page[i]);
		unsigned int m;

		while (i + (1UL << o) > end)
			o--;
		page[i].flags &= ~(PAGE_STATE_MASK | PG_zeroed);
		m = __free_one_page(&page[i], pfn, zone, o, get_pageblock_migratetype(pfn));
		merged = MAX(merged, m);
		i += 1UL << o;
	}
	return merged;
}

int rmqueue_bulk_exact(struct zone *zone, unsigned long nr, int mt, int count,
		       struct page **pages)
{
	unsigned int order = get_order(nr << PAGE_SHIFT);
	unsigned long mark = high_wmark_pages(zone) + ((unsigned long)count << order);
	int i;

	if (count <= 0 || !zone_watermark_ok(zone, order, mark, zone->idx, 0))
		return 0;
	pthread_mutex_lock(&zone->lock);
	for (i = 0; i < count; i++) {
		struct page *page = __rmqueue(zone, order, mt);

		if (unlikely(!page))
			break;
		/* PG_zeroed stays: the caller decides what it is worth */
		set_page_head(page, 0, 0);
		page->private = 0;
		__free_range_locked(zone, page, nr, 1UL << order);
		pages[i] = page;
	}
	debug_vm_zone_op(zone);
	pthread_mutex_unlock(&zone->lock);
	return i;
}

void free_pages_bulk_exact(struct page **pages, const unsigned long *nr, int count)
{
	struct zone *zone = NULL;

	for (int i = 0; i < count; i++) {
		struct zone *z = __page_zone(pages[i]);

		if (z != zone) {
			if (zone)
				free_bulk_unlock(zone);
			zone = z;
			pthread_mutex_lock(&zone->lock);
		}
		if (unlikely((pages[i]->flags & PAGE_STATE_MASK) != PG_head))
			bad_page(pages[i], 0, "not the head of an allocated block");
		__free_range_locked(zone, pages[i], 0, nr[i]);
	}
	if (zone)
		free_bulk_unlock(zone);
}

/* Caller holds the pcp lock of t for zone, or is t with it free. */
static void __drain_pages_zone(struct kmem_thread *t, struct zone *zone)
{
	struct per_cpu_pages *pcp = thread_pcp(t, zone);

	if (pcp->count)
		free_pcppages_bulk(zone, pcp->count, pcp, 0);
}

void drain_pages(struct kmem_thread *t, struct zone *only)
{
	int nid;

	for_each_online_node(nid) {
		struct zone *zone;

		for_each_populated_zone_of(NODE_DATA(nid), zone) {
			struct per_cpu_pages *pcp;

			if (only && zone != only)
				continue;
			pcp = thread_pcp(t, zone);
			pcp_lock(pcp);
			__drain_pages_zone(t, zone);
			pcp_unlock(pcp);
		}
	}
}

void drain_local_pages(void)
{
	struct kmem_thread *t = kmem_current;

	if (t->uses_lists)
		drain_pages(t, NULL);
}

void drain_all_pages(void)
{
	struct kmem_thread *t;

	if (atomic_load(&kmem_initialized) != 2)
		return;
	pthread_mutex_lock(&kmem_threads_lock);
	list_for_each_entry(t, &kmem_threads, thread_list)
		drain_pages(t, NULL);
	pthread_mutex_unlock(&kmem_threads_lock);
}


/* ---- whole-thread and whole-zone locking, for fork ----------------------- */

void pcp_lock_thread(struct kmem_thread *t, bool lock)
{
	int nid;

	for_each_online_node(nid) {
		struct zone *zone;

		for_each_populated_zone_of(NODE_DATA(nid), zone) {
			if (lock)
				pcp_lock(thread_pcp(t, zone));
			else
				pcp_unlock(thread_pcp(t, zone));
		}
	}
}

/* lock: 1 take, 0 release, -1 reinitialise (in a fork child). */
void zone_locks(int lock)
{
	int nid;

	for_each_online_node(nid) {
		struct zone *zone;

		for_each_populated_zone_of(NODE_DATA(nid), zone) {
			if (lock > 0)
				pthread_mutex_lock(&zone->lock);
			else if (lock == 0)
				pthread_mutex_unlock(&zone->lock);
			else
				pthread_mutex_init(&zone->lock, NULL);
		}
	}
}
