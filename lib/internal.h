/*
 * internal.h - kmem's private interface, grouped by the file that defines
 * each part (the role of mm/internal.h).  Unit tests include this header
 * and link the convenience library, so everything here is testable.
 */
#ifndef KMEM_INTERNAL_H
#define KMEM_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <pthread.h>
#include "kmem.h"

/* Everything declared from here on is private to the library: hidden
 * declarations let the fast paths reach globals without the GOT. */
#pragma GCC visibility push(hidden)
#include "mmzone.h"

#define KMEM_HIDDEN __attribute__((visibility("hidden")))
#define ALIGN_UP(x, a)   (((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define ARRAY_SIZE(a)    (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)        ((a) < (b) ? (a) : (b))
#define MAX(a, b)        ((a) > (b) ? (a) : (b))
/*
 * For large zero-initialised buffers that a process leaves untouched but
 * for a page or two: .lbss, which x86-64 linkers place after .bss.  Among
 * the small variables every process writes, they spread those over more
 * pages (7 of .bss resident instead of 3, in every process).
 */
#define __large_bss __attribute__((section(".lbss")))

/* ---- config.c: KMEM_* options, read from the environment once -------- */
enum hugepage_policy {
	HUGEPAGES_AUTO,      /* hugetlb if the system has free hugepages, else THP past 128 MiB */
	HUGEPAGES_HUGETLB,   /* MAP_HUGETLB, THP where none are left */
	HUGEPAGES_THP,       /* madvise(MADV_HUGEPAGE) */
	HUGEPAGES_OFF,       /* 4 KiB pages, madvise(MADV_NOHUGEPAGE) */
};

/* KMEM_MALLOC_BORROW's bound: 8 classes up is twice the size */
#define MALLOC_BORROW_MAX 8

struct kmem_config {
	unsigned long limit;          /* KMEM_LIMIT in bytes; 0: no limit */
	enum hugepage_policy hugepages; /* KMEM_HUGEPAGES */
	int pcp_high;                 /* KMEM_PCP_HIGH; 0: kernel-derived */
	int pcp_batch;                /* KMEM_PCP_BATCH; 0: kernel-derived */
	int pcp_ramp;                 /* KMEM_PCP_RAMP: a new thread's halvings of both */
	int malloc_borrow;            /* KMEM_MALLOC_BORROW: classes up malloc may borrow from */
	unsigned long slob_min;       /* KMEM_SLOB_MIN: malloc above it to the medium heap; 0: off */
	unsigned long park_bytes;     /* KMEM_PARK_BYTES: owner frees parked per cache; 0: off */
	bool debug_vm;                /* KMEM_DEBUG_VM */
	unsigned long decay_ms;       /* KMEM_DECAY_MS: idle time before free memory goes back */
	unsigned long retain;         /* KMEM_RETAIN: free bytes a zone keeps resident */
	char sysfs_root[256];         /* KMEM_SYSFS_ROOT; default "/sys" */
	char stats[256];              /* KMEM_STATS: "" off, "-" stderr, else a path */
};

extern struct kmem_config kmem_config;

/* Fill kmem_config from the environment; bad values are reported and the
 * default kept.  Returns the number of rejected options. */
int kmem_config_init(void);
/* "64M", "1G", "4096", "2k" -> bytes.  Returns 0, or -1 for anything else
 * (empty, junk, overflow). */
int kmem_parse_size(const char *s, unsigned long *bytes);
/* getenv that does not allocate and works before libc is fully up. */
const char *kmem_getenv(const char *name);

/* ---- printk.c: messages and reports without allocating -------------- */
struct kmem_buf {
	int fd;
	size_t len;
	char data[4096];
};

int kmem_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int kmem_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void kmem_buf_init(struct kmem_buf *b, int fd);
void kmem_bprintf(struct kmem_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void kmem_buf_flush(struct kmem_buf *b);
/* "kmem: " + message + newline on stderr. */
void kmem_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* kmem_warn, then abort(). */
_Noreturn void kmem_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- os.c: every call into the OS, swappable for tests ------------- */
struct kmem_os_ops {
	void *(*mmap)(void *addr, size_t len, int prot, int flags, int fd, off_t off);
	int (*munmap)(void *addr, size_t len);
	int (*mprotect)(void *addr, size_t len, int prot);
	int (*madvise)(void *addr, size_t len, int advice);
	long (*mbind)(void *addr, unsigned long len, int mode,
		      const unsigned long *nodemask, unsigned long maxnode,
		      unsigned int flags);
	int (*getcpu)(void);
	void *(*mremap)(void *old, size_t old_len, size_t new_len, int flags, void *new_addr);
};

extern struct kmem_os_ops kmem_os;

/* Read a whole small file into buf (NUL-terminated); returns the length
 * or -1.  open/read/close only: no stdio, no allocation. */
ssize_t os_read_file(const char *path, char *buf, size_t size);
uint64_t os_now_ns(void);
/* Free hugetlb pages of the default size, from /proc/meminfo. */
long os_free_hugetlb_pages(void);
pid_t os_gettid(void);

/* ---- topology.c: NUMA nodes, CPUs and distances from sysfs ---------- */
struct kmem_topology {
	int nr_nodes;                       /* online nodes */
	int nr_node_ids;                    /* highest online node id + 1 */
	bool online[MAX_NUMNODES];
	uint8_t distance[MAX_NUMNODES][MAX_NUMNODES];
	unsigned long node_mem_kb[MAX_NUMNODES];  /* MemTotal, 0 if unknown */
	int node_nr_cpus[MAX_NUMNODES];
	int nr_cpu_ids;                     /* highest cpu listed + 1 */
	int16_t cpu_node[MAX_CPUS];         /* -1: not in any node */
	bool from_sysfs;                    /* false: no node directory, one node assumed */
	int first_node;                     /* lowest online node id */
};

extern struct kmem_topology kmem_topology;

/* Read <root>/devices/system/node/{online,nodeN/cpulist,nodeN/distance,
 * nodeN/meminfo}.  Without a node directory: one node 0 with every CPU.
 * Returns 0, or -1 (with a warning) when the tree is malformed. */
int topology_init(const char *sysfs_root);
/* Parse "0-3,8,10-11" into set[] (size n); returns cpus set or -1. */
int parse_cpulist(const char *s, bool *set, int n);
/* Online nodes ordered by distance from nid (itself first, ties by id). */
int topology_node_order(int nid, int *order);

/* ---- arena.c: the reserved "physical memory", sections, mem_map ----- */
/* auto: sections come online on 4 KiB pages until this many are online
 * (128 MiB), THP after that: below that, 2 MiB pages in partly used
 * pageblocks cost more RSS (python3: 2-4 MB at a 60 MB peak) than their
 * TLB reach buys. */
#define AUTO_THP_MIN_SECTIONS 32

enum section_backing {
	BACKING_NONE,          /* offline */
	BACKING_HUGETLB,
	BACKING_THP,
	BACKING_4K,
	NR_BACKINGS
};

struct arena_stats {
	unsigned long sections[NR_BACKINGS];   /* sections online by backing */
	unsigned long hugetlb_fallbacks;       /* hugetlb wanted, OS had none */
	unsigned long mem_map_bytes;           /* descriptor memory of online sections */
};

extern struct arena_stats arena_stats;
extern uint8_t *section_state;             /* enum section_backing, per section */
extern uint8_t *pageblock_flags;           /* per pageblock: migratetype | PB_* */

#define PB_MIGRATE_MASK   0x03u
#define PB_RELEASED       0x04u   /* given back to the OS while free */
#define PB_IDLE           0x08u   /* free and unused since the last release pass */

/* Reserve the arena for nr_pages "physical" pages, plus mem_map and the
 * side tables. */
int arena_init(unsigned long nr_pages);
/* Map the section that starts at pfn, open its descriptors (zero: no
 * state) and record its node and zone.  Returns the backing, or
 * BACKING_NONE when the OS refused. */
enum section_backing arena_online_section(unsigned long pfn, int nid,
					  enum zone_type zt);
/* Give [pfn, pfn + nr) back to the OS; the range reads as zeroes after. */
void arena_release(unsigned long pfn, unsigned long nr);
/* auto policy: skip hugetlb when the system has no free hugepages. */
void arena_init_hugetlb_policy(void);

static inline bool pfn_section_online(unsigned long pfn)
{
	return pfn < max_pfn && section_state[pfn >> SECTION_ORDER] != BACKING_NONE;
}

static inline int get_pageblock_migratetype(unsigned long pfn)
{
	return pageblock_flags[pfn >> pageblock_order] & PB_MIGRATE_MASK;
}

static inline void set_pageblock_migratetype(unsigned long pfn, int mt)
{
	uint8_t *pb = &pageblock_flags[pfn >> pageblock_order];
	*pb = (uint8_t)((*pb & ~PB_MIGRATE_MASK) | (unsigned)mt);
}

/* ---- mmzone.c: nodes, zones, watermarks, zonelists ------------------ */
extern int min_free_kbytes;
extern const char *const zone_names[MAX_NR_ZONES];
extern const char *const migratetype_names[MIGRATE_TYPES];
extern const int sysctl_lowmem_reserve_ratio[MAX_NR_ZONES];

/* Lay nodes and zones over the arena; set watermarks, lowmem_reserve,
 * zonelists and pcp sizes.  node_pages[nid] is each online node's size. */
int free_area_init(const unsigned long *node_pages);
void setup_per_zone_wmarks(void);
void setup_per_zone_lowmem_reserve(void);
void build_all_zonelists(void);
int zone_batchsize(const struct zone *zone);
int zone_highsize(const struct zone *zone, int batch);
struct zone *kmem_zone(int nid, enum zone_type zt);

/* ---- page_alloc.c: the buddy allocator ------------------------------ */
struct alloc_context {
	struct zoneref *zonelist;
	int highest_zoneidx;
	int migratetype;
	int preferred_nid;
};

int gfp_migratetype(gfp_t gfp);
enum zone_type gfp_zone(gfp_t gfp);
struct page *__alloc_pages(gfp_t gfp, unsigned int order, int preferred_nid);
bool zone_watermark_ok(struct zone *z, unsigned int order, unsigned long mark,
		       int highest_zoneidx, unsigned int alloc_flags);
/* Buddy-level operations; the caller holds zone->lock.  A block freed
 * with PG_zeroed set keeps it only while merged with zeroed buddies. */
struct page *__rmqueue(struct zone *zone, unsigned int order, int migratetype);
struct page *__rmqueue_smallest(struct zone *zone, unsigned int order, int migratetype);
/* Returns the order of the block after merging. */
unsigned int __free_one_page(struct page *page, unsigned long pfn, struct zone *zone,
			     unsigned int order, int migratetype);
bool zone_online_section(struct zone *zone, int migratetype);
/* Take a block from one zone's buddy lists, bypassing pcp, after the
 * watermark check alloc_flags ask for (ALLOC_NO_WATERMARKS: none).
 * Returns an allocated block, or NULL with the zone unchanged. */
struct page *alloc_pages_zone(struct zone *zone, unsigned int order,
			      int migratetype, unsigned int alloc_flags);
/* Return a block to its zone's buddy lists (takes zone->lock). */
void free_one_page(struct zone *zone, struct page *page, unsigned long pfn,
		   unsigned int order);
/* Check an allocated block at free; stops the program on misuse. */
void free_pages_prepare(struct page *page, unsigned int order);
void prep_new_page(struct page *page, unsigned int order, gfp_t gfp);
/* Free pages [first, end) of an allocated block (block-aligned page)
 * in the largest aligned pieces, each becoming a block of its own. */
void free_pages_range(struct page *page, unsigned long first, unsigned long end);
/* Bring every section of the zone online (tests, KMEM_LIMIT prefaulting). */
void zone_online_all(struct zone *zone);
/* Invariant failures found so far (KMEM_DEBUG_VM and kmem_check_zone). */
extern unsigned long kmem_vm_bugs;

/* ---- pcp.c: per-thread page lists ----------------------------------- */
extern pthread_mutex_t kmem_threads_lock;
extern struct list_head kmem_threads;
extern pthread_key_t kmem_thread_key;

/* thread.c */
/*
 * A thread's kmem_current starts at kmem_thread_unset, never NULL: an
 * empty state that uses no lists, so the fast paths miss without a NULL test
 * of their own and every list-using path already bypasses it.
 */
extern struct kmem_thread kmem_thread_unset;
/* Threads with a state of their own (on kmem_threads). */
extern atomic_int kmem_nr_threads;
struct kmem_thread *kmem_thread_init(void);
int kmem_thread_setup(void);
void kmem_thread_exit(void *arg);
static inline bool thread_unset(const struct kmem_thread *t)
{
	return t == &kmem_thread_unset;
}
static inline struct kmem_thread *current_thread(void)
{
	struct kmem_thread *t = kmem_current;
	if (unlikely(thread_unset(t)))
		t = kmem_thread_init();
	return t;
}
static inline struct per_cpu_pages *thread_pcp(struct kmem_thread *t,
					       const struct zone *zone)
{
	return &t->pcp[zone->node * MAX_NR_ZONES + zone->idx];
}
struct page *rmqueue_pcplist(struct zone *zone, unsigned int order,
			     int migratetype);
/* false: the block could not go on a pcp list; free it to the zone. */
bool free_unref_page(struct zone *zone, struct page *page, unsigned int order,
		     int migratetype);
/* Up to count blocks of nr pages (2^get_order blocks with the tail given
 * back) from zone under one lock, while it stays above its high
 * watermark; heads allocated with order 0, PG_zeroed kept.  Returns how
 * many. */
int rmqueue_bulk_exact(struct zone *zone, unsigned long nr, int mt, int count,
		       struct page **pages);
/* Free count allocated blocks of nr[i] pages (heads as rmqueue_bulk_exact
 * leaves them), one zone lock per run of blocks of one zone. */
void free_pages_bulk_exact(struct page **pages, const unsigned long *nr, int count);
/* Empty one thread's lists for one zone (or every zone with zone NULL). */
void drain_pages(struct kmem_thread *t, struct zone *zone);
void pcp_init_thread(struct kmem_thread *t);
void pcp_lock(struct per_cpu_pages *pcp);
void pcp_unlock(struct per_cpu_pages *pcp);
/* Take (lock) or release every pcp lock of t. */
void pcp_lock_thread(struct kmem_thread *t, bool lock);
/* Every zone lock: 1 take, 0 release, -1 reinitialise (fork child). */
void zone_locks(int lock);

/* ---- reclaim.c: watermark reclaim and giving memory back ------------ */
/* A cache that can give pages back under pressure (slab caches, later).
 * scan frees what it can and returns the pages it freed. */
typedef unsigned long (*shrinker_fn)(gfp_t gfp);
int register_shrinker(shrinker_fn fn);
/* Run before a section comes online, under its zone's lock: a layer above
 * (the vmalloc cache) gives back idle memory before the footprint grows.
 * Takes no zone lock and allocates nothing.  Set once, at init. */
extern void (*arena_grow_notifier)(void);
/* Free pages of every zone (mm: global_zone_page_state(NR_FREE_PAGES)). */
long global_free_pages(void);
/* Called when the allocator is short: drain pcp lists, run shrinkers. */
unsigned long try_to_free_pages(gfp_t gfp, unsigned int order);
/* Give free pageblocks idle for KMEM_DECAY_MS back to the OS (force:
 * ignore decay and the retained amount).  Returns pages released. */
unsigned long zone_release_free(struct zone *zone, bool force);
/* Called whenever pages go back to a zone, under zone->lock: decides
 * whether a release pass is due (KMEM_DECAY_MS since the last). */
bool zone_release_due(struct zone *zone);

/* ---- debug_vm.c: misuse reports and invariant checks ---------------- */
_Noreturn void bad_page(struct page *page, unsigned int order, const char *reason);
_Noreturn void bad_address(const void *addr, const char *what);
/* Full consistency check of a zone: free lists, orders, buddies,
 * counters, pageblock types.  Takes zone->lock.  Returns problems found
 * (each reported with kmem_warn). */
unsigned long kmem_check_zone(struct zone *zone);
unsigned long kmem_check_all(void);
/* Under zone->lock, when kmem_config.debug_vm: cheap local checks every
 * operation, a full check every 1024. */
void debug_vm_zone_op(struct zone *zone);

/* ---- stats.c: what tools and malloc_stats show ---------------------- */
struct kmem_usage {
	size_t arena_bytes;       /* online arena */
	size_t resident_bytes;    /* online minus released */
	size_t used_bytes;        /* live objects, medium blocks, large blocks, vmalloc blocks */
	size_t free_bytes;        /* online memory not in use */
	size_t free_blocks;
	size_t slab_bytes;        /* pages held by slabs */
	size_t large_bytes;       /* pages held by kmalloc_large blocks */
	size_t large_cached_bytes; /* free blocks on the threads' large caches */
	size_t slob_area_bytes;   /* pages held by malloc's medium heaps (slob.c) */
	size_t slob_used_bytes;   /* their blocks in use, headers included */
	size_t slob_cached_bytes; /* freed blocks waiting in their threads' caches (free) */
	size_t vmalloc_allocs;
	size_t vmalloc_bytes;
};

extern _Atomic size_t kmalloc_large_bytes;
/* kmalloc_large_bytes plus every thread's share (kmalloc.c); takes the
 * caller's word that kmem_threads_lock is held. */
size_t kmalloc_large_sum_bytes(void);
void kmem_get_usage(struct kmem_usage *u);
/* All reports (buddyinfo, pagetypeinfo, slabinfo, zoneinfo, meminfo). */
void kmem_show_stats(int fd);
void kmem_stats_init(void);

/* ---- init.c --------------------------------------------------------- */
extern atomic_int kmem_initialized;     /* 0 no, 1 running, 2 done, -1 failed */
static inline bool kmem_ready(void)
{
	return likely(atomic_load_explicit(&kmem_initialized, memory_order_acquire) == 2)
		|| kmem_init() == 0;
}

#pragma GCC visibility pop

#endif /* KMEM_INTERNAL_H */
