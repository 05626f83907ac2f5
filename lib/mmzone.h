/*
 * mmzone.h - nodes (pglist_data), zones, free areas, zonelists, and the
 * per-thread page lists (per_cpu_pages), as in include/linux/mmzone.h.
 *
 * Lock order (outermost first):
 *   kmem_threads_lock      list of thread states (thread start/exit, drains, fork)
 *   per_cpu_pages.lock     one thread's pcp lists for one zone
 *   zone->lock             a zone's free_area, counters and section cursor
 * A zone's free-page count is written under zone->lock and read without it
 * (watermark checks tolerate a stale value, as in the kernel).
 *
 * States of a page block (head page flags):
 *   PG_buddy   free, on zone->free_area[order].free_list[migratetype]
 *   PG_pcp     free, on some thread's pcp list (not counted as zone free)
 *   PG_head    allocated, order = allocation order
 *   none       interior page of a block, or page of an offline section
 */
#ifndef KMEM_MMZONE_H
#define KMEM_MMZONE_H

#include <pthread.h>
#include <stdatomic.h>
#include "mm_types.h"

#define MAX_NUMNODES   64
#define MAX_CPUS       1024

enum migratetype {
	MIGRATE_UNMOVABLE,
	MIGRATE_MOVABLE,
	MIGRATE_RECLAIMABLE,
	MIGRATE_PCPTYPES,
	MIGRATE_TYPES = MIGRATE_PCPTYPES
};

enum zone_watermarks {
	WMARK_MIN,
	WMARK_LOW,
	WMARK_HIGH,
	NR_WMARK
};

/* Allocation flags derived from gfp (mm/internal.h). */
#define ALLOC_WMARK_MIN       WMARK_MIN
#define ALLOC_WMARK_LOW       WMARK_LOW
#define ALLOC_WMARK_HIGH      WMARK_HIGH
#define ALLOC_NO_WATERMARKS   0x04
#define ALLOC_WMARK_MASK      (ALLOC_NO_WATERMARKS - 1)
#define ALLOC_OOM             0x08
#define ALLOC_NON_BLOCK       0x10   /* caller cannot reclaim: deeper reserve access */
#define ALLOC_MIN_RESERVE     0x20   /* __GFP_HIGH: half of the min reserve */
#define ALLOC_RESERVES        (ALLOC_NON_BLOCK | ALLOC_MIN_RESERVE | ALLOC_OOM)

struct free_area {
	struct list_head free_list[MIGRATE_TYPES];
	unsigned long nr_free;
};

/* Event counters of a zone, written under zone->lock. */
struct zone_events {
	unsigned long pgalloc;          /* pages taken from the buddy lists */
	unsigned long pgfree;           /* pages returned to the buddy lists */
	unsigned long alloc_fail;       /* requests this zone could not serve */
	unsigned long wmark_refused;    /* zone skipped by the watermark check */
	unsigned long fallback;         /* allocations served from another migrate type */
	unsigned long steal_pageblock;  /* pageblocks whose migrate type was taken over */
	unsigned long sections_online;
	unsigned long pages_released;   /* pages given back to the OS (cumulative) */
	unsigned long pages_refaulted;  /* released pages handed out again */
	unsigned long pcp_refill;       /* rmqueue_bulk batches */
	unsigned long pcp_drain;        /* free_pcppages_bulk batches */
};

struct pglist_data;

struct zone {
	/* Read-mostly: the allocation path reads these without the lock. */
	unsigned long _watermark[NR_WMARK];
	long lowmem_reserve[MAX_NR_ZONES];
	_Atomic long free_pages;        /* NR_FREE_PAGES: buddy free + not yet online */
	struct pglist_data *zone_pgdat;
	int node;
	enum zone_type idx;
	const char *name;
	unsigned long zone_start_pfn;
	unsigned long spanned_pages;
	unsigned long present_pages;
	unsigned long managed_pages;
	int pcp_high;
	int pcp_batch;

	/* Written under lock. */
	pthread_mutex_t lock __attribute__((aligned(64)));
	struct free_area free_area[NR_PAGE_ORDERS];
	unsigned long online_pages;     /* pages of sections brought online */
	unsigned long released_pages;   /* free pages currently given back to the OS */
	unsigned long last_release_ns;  /* time of the last release pass (decay) */
	unsigned long debug_ops;        /* operations since the last full check */
	struct zone_events ev;
} __attribute__((aligned(64)));

static inline bool populated_zone(const struct zone *zone)
{
	return zone->present_pages != 0;
}

static inline unsigned long zone_end_pfn(const struct zone *zone)
{
	return zone->zone_start_pfn + zone->spanned_pages;
}

static inline unsigned long wmark_pages(const struct zone *zone, int w)
{
	return zone->_watermark[w];
}
#define min_wmark_pages(z)  wmark_pages(z, WMARK_MIN)
#define low_wmark_pages(z)  wmark_pages(z, WMARK_LOW)
#define high_wmark_pages(z) wmark_pages(z, WMARK_HIGH)

static inline long zone_page_state(const struct zone *zone)
{
	return atomic_load_explicit(&zone->free_pages, memory_order_relaxed);
}

struct zoneref {
	struct zone *zone;
	int zone_idx;
};

enum { ZONELIST_FALLBACK, ZONELIST_NOFALLBACK, MAX_ZONELISTS };

struct zonelist {
	struct zoneref _zonerefs[MAX_NUMNODES * MAX_NR_ZONES + 1];
};

typedef struct pglist_data {
	struct zone node_zones[MAX_NR_ZONES];
	int nr_zones;
	int node_id;
	unsigned long node_start_pfn;
	unsigned long node_spanned_pages;
	unsigned long mbind_ok;         /* sections bound to this node with mbind */
	unsigned long mbind_failed;     /* sections whose mbind the OS refused */
	/* Last: each list is used only up to its terminator, and what
	 * follows it would keep one more page of the struct resident. */
	struct zonelist node_zonelists[MAX_ZONELISTS];
} pg_data_t;

extern pg_data_t *node_data[MAX_NUMNODES];
#define NODE_DATA(nid) (node_data[nid])

static inline struct zone *__page_zone(const struct page *page)
{
	return &NODE_DATA(__page_to_nid(page))->node_zones[page_zonenum(page)];
}

/*
 * Per-thread page lists for one zone (the kernel's per-cpu pageset).
 * lists[] are indexed by order_to_pindex(); count is in pages.  lock is
 * taken by the owning thread around each operation, and by another thread
 * that drains the lists (reclaim, fork); the owner only ever trylocks and
 * falls back to the zone when it loses.
 */
#define NR_PCP_ORDERS  (PAGE_ALLOC_COSTLY_ORDER + 1)
#define NR_PCP_LISTS   (MIGRATE_PCPTYPES * NR_PCP_ORDERS)
/* KMEM_PCP_RAMP's bound: a new thread's lists start at the zone's sizes
 * >> kmem_config.pcp_ramp (pcp.c). */
#define PCP_RAMP_MAX 8

struct per_cpu_pages {
	atomic_int lock;
	int count;
	int high;                       /* the zone's pcp_high >> ramp */
	int batch;                      /* the zone's pcp_batch >> ramp */
	int ramp;                       /* halvings left until the zone's sizes (pcp.c) */
	unsigned long alloc;            /* pages handed out from these lists */
	unsigned long free;             /* pages freed into these lists */
	struct list_head lists[NR_PCP_LISTS];
};

static inline unsigned int order_to_pindex(int migratetype, unsigned int order)
{
	return order * MIGRATE_PCPTYPES + (unsigned int)migratetype;
}

static inline bool pcp_allowed_order(unsigned int order)
{
	return order <= PAGE_ALLOC_COSTLY_ORDER;
}

#define MAX_SLAB_CACHES  1024   /* kmalloc and user caches together */
#define KMALLOC_NR_CACHES  50   /* kmalloc-8 .. kmalloc-8192: ids 0..49 */

/*
 * Empty slabs a thread keeps, over all its caches: at most
 * KEPT_EMPTY_SLOTS slabs of KEPT_EMPTY_PAGES pages in all (slub.c).
 */
#define KEPT_EMPTY_SLOTS        4
#define KEPT_EMPTY_PAGES        8

/*
 * A thread's frees into one slab that another thread owns, waiting to go
 * onto its remote list together (slub.c: remote_batch_add).  head is the
 * last object freed, tail the first; the chain is linked through the
 * objects' free pointers and ends at tail.
 */
struct remote_batch {
	struct page *slab;
	void *head, *tail;
	unsigned int count;
};

/*
 * A thread's cache of kmalloc_large blocks (kmalloc.c): blocks of up to
 * LARGE_CACHE_PAGES pages, large_count pages in all, at most large_high,
 * which moves between LARGE_CACHE_HIGH_MIN and LARGE_CACHE_HIGH_MAX the way
 * pcp->high auto-tunes; blocks go to and from the zones LARGE_CACHE_BATCH
 * pages at a time.
 */
#define LARGE_CACHE_PAGES    16     /* blocks of up to 64 KiB are cached */
#define LARGE_CACHE_HIGH_MIN 64     /* pages a thread may always cache (256 KiB) */
#define LARGE_CACHE_HIGH_MAX 4096   /* pages the limit may grow to (16 MiB) */
#define LARGE_CACHE_BATCH    64     /* pages per refill or spill */

/*
 * Per-thread state, reached through one initial-exec TLS pointer.
 * cpu_slab[] is indexed by kmem_cache.id, pcp[] by nid * MAX_NR_ZONES +
 * zone_idx.  It comes from its own mapping, so the cpu_slab entries of
 * caches a thread never uses are never committed.
 */
struct slob_heap;

struct kmem_thread {
	struct kmem_cache_cpu cpu_slab[MAX_SLAB_CACHES];
	struct list_head thread_list;   /* on kmem_threads, under kmem_threads_lock */
	/* false: bypass the per-thread lists.  So in the two list-less
	 * states, zero in .bss (thread.c), and in a thread once its exit
	 * hook has drained them for good. */
	bool uses_lists;
	pid_t tid;
	size_t mapped;                  /* bytes of this state's mapping */
	/*
	 * kmalloc_large blocks freed by this thread, by page count, and its
	 * share of the kmalloc_large byte count (kmalloc.c).  Only the owner
	 * touches them while it runs; others may only set large_drain.
	 */
	unsigned int large_count;       /* pages in large_cache */
	unsigned int large_high;        /* limit on large_count; 0: not set yet */
	unsigned int large_spilled;     /* pages given back past high, not yet asked for again */
	atomic_bool large_drain;        /* the shrinker asks the owner to empty the cache */
	uint64_t large_decay_ns;        /* when large_high last decayed */
	long large_bytes;               /* kmalloc_large bytes it allocated minus freed */
	void *large_cache[LARGE_CACHE_PAGES + 1];
	/* Remote frees waiting, per kmalloc cache (slub.c).  Only the
	 * thread itself touches them while it runs. */
	struct remote_batch remote[KMALLOC_NR_CACHES];
	/* Empty slabs the thread keeps queued, oldest first from
	 * kept_empty_next (slub.c); NULL slots are free. */
	struct page *kept_empty[KEPT_EMPTY_SLOTS];
	unsigned int kept_empty_next;
	unsigned int kept_empty_pages;  /* pages of the slabs in kept_empty */
	unsigned long dry_pages;        /* pages of the dry slabs queued, all caches (slub.c) */
	struct slob_heap *slob_heap;    /* malloc's medium heap (slob.c); NULL until used */
	struct per_cpu_pages pcp[];
};

extern __thread struct kmem_thread *kmem_current
	__attribute__((tls_model("initial-exec")));

#define for_each_online_node(nid) \
	for (nid = 0; nid < MAX_NUMNODES; nid++) if (node_data[nid])

#define for_each_populated_zone_of(pgdat, zone)					\
	for (zone = (pgdat)->node_zones;					\
	     zone < (pgdat)->node_zones + MAX_NR_ZONES; zone++)		\
		if (populated_zone(zone))

#endif /* KMEM_MMZONE_H */
