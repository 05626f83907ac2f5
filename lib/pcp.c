/*
 * pcp.c - per-thread page lists (the kernel's per-cpu pagesets) and the
 * per-thread state they live in.
 *
 * Each thread has, for every zone of every node, lists of free blocks of
 * orders 0..PAGE_ALLOC_COSTLY_ORDER per migrate type.  Allocation and free
 * of those orders touch only these lists; the zone lock is taken once per
 * batch (rmqueue_bulk to refill, free_pcppages_bulk past pcp->high).
 *
 * Locking: a list set's lock is a flag the owner takes with one exchange
 * and never waits on: if another thread holds it (a drain by reclaim or
 * fork), the owner goes to the zone instead.  Drainers wait for it.  Lock
 * order: kmem_threads_lock, then pcp locks, then zone locks.
 *
 * Thread lifetime: a thread's state is created on its first page
 * operation and recycled at thread exit, after its lists are drained;
 * from then on (other TLS destructors may still free) the thread uses
 * kmem_thread_dead, whose lists are never used.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include "internal.h"

__thread struct kmem_thread *kmem_current __attribute__((tls_model("initial-exec")));

pthread_mutex_t kmem_threads_lock = PTHREAD_MUTEX_INITIALIZER;
struct list_head kmem_threads = LIST_HEAD_INIT(kmem_threads);
pthread_key_t kmem_thread_key;

static struct kmem_thread kmem_thread_dead = { .exiting = true };

/* Recycled thread states and the chunk new ones are carved from, under
 * kmem_threads_lock.  They are metadata, so they come from the OS
 * directly rather than from the arena they describe. */
static struct list_head free_threads = LIST_HEAD_INIT(free_threads);
static char *chunk_next, *chunk_end;
#define THREAD_CHUNK (64UL << 10)

static size_t thread_size(void)
{
	return ALIGN_UP(sizeof(struct kmem_thread) +
			(size_t)kmem_topology.nr_node_ids * MAX_NR_ZONES *
			sizeof(struct per_cpu_pages), 64);
}

static struct kmem_thread *thread_state_alloc(void)
{
	size_t size = thread_size();
	struct kmem_thread *t;

	if (!list_empty(&free_threads)) {
		t = list_first_entry(&free_threads, struct kmem_thread, thread_list);
		list_del(&t->thread_list);
		return t;
	}
	if (!chunk_next || chunk_next + size > chunk_end) {
		size_t len = MAX(THREAD_CHUNK, ALIGN_UP(size, PAGE_SIZE));
		char *p = kmem_os.mmap(NULL, len, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			return NULL;
		chunk_next = p;
		chunk_end = p + len;
	}
	t = (struct kmem_thread *)chunk_next;
	chunk_next += size;
	return t;
}

static void pcp_init(struct per_cpu_pages *pcp, const struct zone *zone)
{
	atomic_store_explicit(&pcp->lock, 0, memory_order_relaxed);
	pcp->count = 0;
	pcp->high = zone->pcp_high;
	pcp->batch = zone->pcp_batch;
	pcp->alloc = 0;
	pcp->free = 0;
	for (int i = 0; i < NR_PCP_LISTS; i++)
		INIT_LIST_HEAD(&pcp->lists[i]);
}

struct kmem_thread *kmem_thread_init(void)
{
	struct kmem_thread *t;
	int nid;

	pthread_mutex_lock(&kmem_threads_lock);
	t = thread_state_alloc();
	if (!t) {
		pthread_mutex_unlock(&kmem_threads_lock);
		/* No memory for lists: run without them. */
		kmem_current = &kmem_thread_dead;
		return kmem_current;
	}
	t->exiting = false;
	t->tid = os_gettid();
	for_each_online_node(nid) {
		struct zone *zone;

		for_each_populated_zone_of(NODE_DATA(nid), zone)
			pcp_init(thread_pcp(t, zone), zone);
	}
	list_add(&t->thread_list, &kmem_threads);
	pthread_mutex_unlock(&kmem_threads_lock);
	kmem_current = t;
	pthread_setspecific(kmem_thread_key, t);
	return t;
}

static inline bool pcp_trylock(struct per_cpu_pages *pcp)
{
	return !atomic_exchange_explicit(&pcp->lock, 1, memory_order_acquire);
}

static void pcp_lock(struct per_cpu_pages *pcp)
{
	while (!pcp_trylock(pcp))
		sched_yield();
}

static inline void pcp_unlock(struct per_cpu_pages *pcp)
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

/*
 * Return count pages from the lists to the zone, round robin over the
 * lists starting after pindex, coldest (tail) blocks first.
 */
static void free_pcppages_bulk(struct zone *zone, int count,
			       struct per_cpu_pages *pcp, unsigned int pindex)
{
	bool release = false;

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
			if (__free_one_page(page, pfn, zone, order,
					    get_pageblock_migratetype(pfn)) >= pageblock_order)
				release = true;
		} while (count > 0 && !list_empty(list));
	}
	zone->ev.pcp_drain++;
	if (release && zone_release_due(zone))
		zone_release_free(zone, false);
	debug_vm_zone_op(zone);
	pthread_mutex_unlock(&zone->lock);
}

struct page *rmqueue_pcplist(struct zone *zone, unsigned int order, int mt)
{
	struct kmem_thread *t = current_thread();
	struct per_cpu_pages *pcp;
	struct list_head *list;
	struct page *page;

	if (unlikely(t->exiting))
		return NULL;
	pcp = thread_pcp(t, zone);
	if (unlikely(!pcp_trylock(pcp)))
		return NULL;
	list = &pcp->lists[order_to_pindex(mt, order)];
	if (unlikely(list_empty(list))) {
		int batch = MAX(pcp->batch >> order, 2);
		int n = rmqueue_bulk(zone, order, batch, list, mt);

		pcp->count += n << order;
		if (unlikely(!n)) {
			pcp_unlock(pcp);
			return NULL;
		}
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

	if (unlikely(t->exiting))
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
	if (unlikely(pcp->count >= pcp->high))
		free_pcppages_bulk(zone, pcp->batch, pcp, pindex);
	pcp_unlock(pcp);
	return true;
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

	if (t && !t->exiting)
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

/* pthread key destructor: runs at thread exit with the thread's state. */
void kmem_thread_exit(void *arg)
{
	struct kmem_thread *t = arg;

	if (!t || t == &kmem_thread_dead)
		return;
	/* Frees from later destructors go straight to the zones. */
	kmem_current = &kmem_thread_dead;
	pthread_mutex_lock(&kmem_threads_lock);
	drain_pages(t, NULL);
	list_del(&t->thread_list);
	t->exiting = true;
	list_add(&t->thread_list, &free_threads);
	pthread_mutex_unlock(&kmem_threads_lock);
}

/* ---- fork ------------------------------------------------------------- */

static void for_each_pcp(void (*fn)(struct per_cpu_pages *))
{
	struct kmem_thread *t;
	int nid;

	list_for_each_entry(t, &kmem_threads, thread_list) {
		for_each_online_node(nid) {
			struct zone *zone;

			for_each_populated_zone_of(NODE_DATA(nid), zone)
				fn(thread_pcp(t, zone));
		}
	}
}

static void for_each_zone_lock(int (*fn)(pthread_mutex_t *))
{
	int nid;

	for_each_online_node(nid) {
		struct zone *zone;

		for_each_populated_zone_of(NODE_DATA(nid), zone)
			fn(&zone->lock);
	}
}

static int zone_lock_reinit(pthread_mutex_t *lock)
{
	return pthread_mutex_init(lock, NULL);
}

/* Take every lock in order, so the child inherits no half-done update. */
void pcp_fork_prepare(void)
{
	pthread_mutex_lock(&kmem_threads_lock);
	for_each_pcp(pcp_lock);
	for_each_zone_lock(pthread_mutex_lock);
}

void pcp_fork_parent(void)
{
	for_each_zone_lock(pthread_mutex_unlock);
	for_each_pcp(pcp_unlock);
	pthread_mutex_unlock(&kmem_threads_lock);
}

/*
 * In the child only the forking thread exists: the other threads' lists
 * hold pages nobody will use, so they go back to the zones and their
 * states are recycled.
 */
void pcp_fork_child(void)
{
	struct kmem_thread *t, *n;

	for_each_zone_lock(zone_lock_reinit);
	for_each_pcp(pcp_unlock);
	pthread_mutex_init(&kmem_threads_lock, NULL);
	list_for_each_entry_safe(t, n, &kmem_threads, thread_list) {
		if (t == kmem_current)
			continue;
		drain_pages(t, NULL);
		list_del(&t->thread_list);
		t->exiting = true;
		list_add(&t->thread_list, &free_threads);
	}
}
