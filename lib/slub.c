/*
 * slub.c - slab caches in the SLUB manner: per-thread active slabs with a
 * local freelist, thread-partial and node-partial lists, lock-free frees
 * from other threads, and slabs going back to the buddy allocator.
 *
 * The slab states and the ownership rules are in slab.h.  What this file
 * keeps:
 *  - A thread changes the freelist and inuse of a slab only while it owns
 *    the slab; every other thread only pushes onto remote_free (CAS).
 *  - slab->inuse counts objects allocated or on another thread's remote
 *    list, or parked on its owner's c->freelist; for the active slab it
 *    counts c->freelist's objects as well (they are the thread's), and is
 *    settled when the slab is deactivated, which sends every parked
 *    object back to its own slab.
 *  - A slab a thread ran dry stays the thread's, queued on its partial
 *    list, until the thread exits or shrinks the cache or the queue
 *    overflows; only then can it become full.
 *  - An empty slab goes back to the page allocator unless it is the last
 *    partial slab of its thread, or the node keeps fewer than min_partial.
 *  - Debug checks and statistics live in the slow paths only.
 *  - An object is always its own slab's cache's; only malloc may hand out
 *    one of a bigger class than asked (malloc_borrow_up).
 * Lock order: kmem_cache_node.list_lock, then page-allocator locks.
 */
#include <errno.h>
#include <string.h>
#include "slab.h"

/* ---- object layout ------------------------------------------------------ */

static unsigned int order_objects(unsigned int order, unsigned int size)
{
	return (unsigned int)((PAGE_SIZE << order) / size);
}

/*
 * mm/slub.c: calculate_order.  The smallest order whose leftover is at
 * most 1/16 of the slab, holding enough objects to make the per-thread
 * lists worth it; capped at SLUB_MAX_ORDER.
 *
 * At least SLUB_MIN_OBJECTS (16) objects: the kernel asks for
 * 4 * (fls(nr_cpu_ids) + 1), 12 on 2 CPUs and 24 on 32, but kmem's slabs
 * belong to threads, not CPUs.  16 measured best on alloc_bench threads
 * (random 16..512 B over a 512-object window, 11 interleaved runs):
 * against 8, threads-1 took 0.220 s instead of 0.288 s and threads-4
 * 0.234 s instead of 0.278 s; 12 was between, and 24 no faster for
 * 400-900 KB more RSS.  Fewer, fuller slabs mean fewer rotations to the
 * next slab, whose free objects have gone cold.  Multi-page slabs no
 * longer slow free down: an object in a tail page takes the same path as
 * one in the head page (slab_head_of_pa).  Nor do they cost much memory:
 * a slab's objects are carved, and its pages touched, only as needed.
 */
static unsigned int calculate_order(unsigned int size)
{
	unsigned int min_objects = SLUB_MIN_OBJECTS;

	for (unsigned int fraction = 16; fraction >= 4; fraction /= 2) {
		for (unsigned int order = 0; order <= SLUB_MAX_ORDER; order++) {
			unsigned long slab_size = PAGE_SIZE << order;
			unsigned int objects = order_objects(order, size);
			unsigned long rem = slab_size - (unsigned long)objects * size;

			if (objects == 0)
				continue;
			if (objects < min_objects && order < SLUB_MAX_ORDER &&
			    (PAGE_SIZE << (order + 1)) / size <= 65535)
				continue;
			if (rem <= slab_size / fraction)
				return order;
		}
	}
	for (unsigned int order = 0; order <= SLUB_MAX_ORDER; order++)
		if (order_objects(order, size))
			return order;
	return SLUB_MAX_ORDER;
}

/*
 * Bytes of frees a thread parks for a cache of size-byte objects
 * (slab_free_fast): KMEM_PARK_BYTES, a quarter of it above 512 bytes.
 * Those classes have few objects per thread (malloc's go to the medium
 * heap until they are busy) in slabs of 4 or 8 pages, and what is parked
 * stays with a thread that goes idle: an idle pool of 32 threads that
 * had freed 512 blocks of 1000 bytes each kept 13.3 MiB with 64 KiB
 * parked, 10.9 with 16 KiB, 10.7 with none (alloc_bench pool 32 1000,
 * medians of 5).
 */
static unsigned long park_bytes(unsigned int size)
{
	unsigned long bytes = kmem_config.park_bytes;

	return (size > 512 ? bytes / 4 : bytes) / size;
}

/*
 * mm/slub.c: calculate_sizes - the one place an object's layout is
 * decided.  The free pointer lives in the first word of a free object,
 * except for caches with a constructor, whose objects keep their state
 * while free: there it goes after the object.
 */
int calculate_sizes(struct kmem_cache *s)
{
	unsigned int size = ALIGN_UP(MAX(s->object_size, (unsigned int)sizeof(void *)),
				     (unsigned int)sizeof(void *));

	if (s->ctor) {
		s->offset = size;
		size += sizeof(void *);
	} else {
		s->offset = 0;
	}
	size = ALIGN_UP(size, s->align);
	if (size > (PAGE_SIZE << SLUB_MAX_ORDER))
		return -1;
	s->size = size;
	s->slot_shift = (unsigned int)__builtin_ctz(size);
	s->slot_inverse = size >> s->slot_shift;
	/* Newton's iteration: each step doubles the low bits that are right,
	 * from the 3 of an odd number's own square */
	for (int i = 0; i < 4; i++)
		s->slot_inverse *= 2 - (size >> s->slot_shift) * s->slot_inverse;
	/* A cache with a constructor parks nothing: the park path links
	 * through an object's first word (slab_free_owned), theirs must
	 * keep its state. */
	s->park_max = kmem_config.park_bytes && !s->ctor
			      ? (int)MIN(CPU_PARK_OBJECTS, MAX(1UL, park_bytes(size)))
			      : CPU_PARK_OFF;
	s->order = calculate_order(size);
	s->slab_mask = (PAGE_SIZE << s->order) - 1;
	s->objects = order_objects(s->order, size);
	if (s->objects > 65535)
		s->objects = 65535;
	/* mm/slub.c: set_min_partial and set_cpu_partial */
	s->min_partial = MIN(10u, MAX(5u, (unsigned int)(__builtin_ctz(size | 1024) / 2)));
	s->cpu_partial_slabs = size >= PAGE_SIZE ? 2 : size >= 1024 ? 6 : size >= 256 ? 13 : 30;
	s->cpu_partial_slabs = MAX(1u, s->cpu_partial_slabs * 2 / MAX(1u, s->objects / 4 + 1) + 1);
	return 0;
}

/* ---- slabs ----------------------------------------------------------------- */

/* NULL for a node id no node can have (s->node[] has nr_node_ids entries). */
static inline struct kmem_cache_node *get_node(struct kmem_cache *s, int nid)
{
	return (unsigned int)nid < (unsigned int)kmem_topology.nr_node_ids ? s->node[nid] : NULL;
}

static inline int slab_nid(const struct page *slab)
{
	return __page_to_nid(slab);
}

/*
 * Link the next uncarved objects of slab into a list and return it (NULL
 * when none are left): those that start in the page holding the first of
 * them, at least one.  A new slab's freelist is built this way, a page at
 * a time, as mimalloc extends a page's free list: writing free pointers
 * into a whole order-3 slab up front would fault in 32 KiB for a class
 * the program may use a few objects of, in every thread.  Caches with a
 * constructor carve the whole slab at once, as the kernel constructs every
 * object of a new slab.  The slab head keeps PG_zeroed while the uncarved
 * objects read as zero.
 */
static __attribute__((noinline)) void *carve_objects(struct kmem_cache *s, struct page *slab)
{
	unsigned int first = slab->carved, last = slab->objects;
	char *start = slab_address(slab), *p;

	if (first >= last)
		return NULL;
	if (!s->ctor) {
		size_t end = ALIGN_UP((size_t)first * s->size + 1, PAGE_SIZE);

		last = MIN(last, (unsigned int)((end + s->size - 1) / s->size));
	}
	if (s->ctor)
		for (unsigned int i = first; i < last; i++)
			s->ctor(start + (size_t)i * s->size);
	/* locals: the stores through p could alias s as far as the compiler knows */
	size_t size = s->size;
	unsigned int offset = s->offset;
	char *tail = start + (size_t)(last - 1) * size;

	/* Four links a round: the compare and branch were two of the five
	 * instructions per object (bench/program-costs: python3 and perl
	 * carve 2.6 and 4.6 M instructions' worth). */
	p = start + (size_t)first * size;
	if ((size_t)(tail - p) >= 4 * size) {
		char *last_round = tail - 4 * size;

		do {
			/* the empty asm keeps each address one add from the last:
			 * GCC's rewrite as p + k * size took more registers
			 * and moves than it saved */
#pragma GCC unroll 4
			for (int k = 0; k < 4; k++) {
				char *next = p + size;

				__asm__("" : "+r"(next));
				*(void **)(p + offset) = next;
				p = next;
			}
		} while (p <= last_round);
	}
	for (; p < tail; p += size)
		*(void **)(p + offset) = p + size;
	*(void **)(tail + offset) = NULL;
	slab_set_carved(slab, last);
	return start + (size_t)first * size;
}

/* Do the objects carve_objects hands out read as zero but their free pointer? */
static inline bool slab_carves_zeroed(const struct kmem_cache *s, const struct page *slab)
{
	return !s->ctor && (slab->flags & PG_zeroed);
}

static struct page *allocate_slab(struct kmem_cache *s, gfp_t gfp, int nid)
{
	gfp_t flags = s->allocflags | (gfp & (__GFP_HIGH | __GFP_NOWARN | __GFP_NORETRY |
					      __GFP_THISNODE | __GFP_NOFAIL)) |
		      (gfp & __GFP_RECLAIM) | (gfp & __GFP_IO) | (gfp & __GFP_FS);
	struct page *slab = __alloc_pages(flags, s->order, nid);
	unsigned int nr = 1u << s->order;

	if (unlikely(!slab))
		return NULL;
	slab->flags |= PG_slab;         /* PG_zeroed stays: see carve_objects */
	slab->slab_fresh = slab_carves_zeroed(s, slab);
	for (unsigned int i = 1; i < nr; i++) {
		slab[i].flags |= page_tail_flags(i);
		slab[i].slab_cache = s;
	}
	slab->slab_cache = s;
	slab->objects = (uint16_t)s->objects;
	slab->inuse = 0;
	slab_set_owner(s, slab, NULL);
	slab->slab_state = 0;
	atomic_store_explicit(&slab->remote_free, 0, memory_order_relaxed);
	INIT_LIST_HEAD(&slab->slab_list);
	slab_set_carved(slab, 0);
	slab->freelist = carve_objects(s, slab);
	atomic_fetch_add_explicit(&get_node(s, slab_nid(slab))->nr_slabs, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&get_node(s, slab_nid(slab))->total_objects, s->objects,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&s->slabs_allocated, 1, memory_order_relaxed);
	return slab;
}

static void free_slab(struct kmem_cache *s, struct page *slab)
{
	unsigned int nr = 1u << s->order;

	atomic_fetch_sub_explicit(&get_node(s, slab_nid(slab))->nr_slabs, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&get_node(s, slab_nid(slab))->total_objects, s->objects,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&s->slabs_freed, 1, memory_order_relaxed);
	for (unsigned int i = 1; i < nr; i++) {
		slab[i].flags &= ~page_tail_flags(i);
		slab[i].slab_cache = NULL;
		slab[i].slab_owner = NULL;
	}
	slab->flags &= ~(PG_slab | PG_zeroed);
	memset(&slab->slab_list, 0, sizeof(*slab) - offsetof(struct page, slab_list));
	__free_pages(slab, s->order);
}

/* Take every object other threads freed; the owner calls this. */
static void *collect_remote(struct kmem_cache *s, struct page *slab, unsigned int *count)
{
	uintptr_t list;
	unsigned int n = 0;

	if (!atomic_load_explicit(&slab->remote_free, memory_order_relaxed))
		return NULL;
	list = atomic_exchange_explicit(&slab->remote_free, 0, memory_order_acquire);
	for (void *p = (void *)list; p; p = get_freepointer(s, p))
		n++;
	*count = n;
	return (void *)list;
}

static void *freelist_tail(struct kmem_cache *s, void *list)
{
	while (get_freepointer(s, list))
		list = get_freepointer(s, list);
	return list;
}

/*
 * Put other threads' frees on slab->freelist, for a slab no thread
 * allocates from (being activated, taken unowned, or shrunk).  Returns
 * how many there were.
 */
static unsigned int slab_take_remote(struct kmem_cache *s, struct page *slab)
{
	unsigned int remote = 0;
	void *rlist = collect_remote(s, slab, &remote);

	if (rlist) {
		if (slab->freelist)
			set_freepointer(s, freelist_tail(s, rlist), slab->freelist);
		slab->freelist = rlist;
		slab->inuse = (uint16_t)(slab->inuse - remote);
	}
	return remote;
}

/*
 * The active slab's next uncarved objects become c->freelist (false when
 * it has none).  inuse needs no change: while a slab is active it counts
 * its uncarved objects.
 */
static inline bool cpu_slab_carve(struct kmem_cache *s, struct kmem_cache_cpu *c)
{
	if (likely(!slab_uncarved(c->slab)))
		return false;
	cpu_freelist_refill(c, s, carve_objects(s, c->slab), slab_carves_zeroed(s, c->slab));
	return c->freelist != NULL;
}

/*
 * Make slab the thread's active slab: its free objects go to c->freelist.
 * inuse becomes objects, so remote frees need no counting here; the
 * remote list is appended to the owner's own frees, whose walk touches
 * only lines this thread wrote (the remote objects are likely in the
 * freeing thread's cache).
 */
static void activate_slab(struct kmem_cache *s, struct kmem_cache_cpu *c,
			  struct page *slab, struct kmem_thread *t)
{
	void *rlist = NULL;

	if (atomic_load_explicit(&slab->remote_free, memory_order_relaxed))
		rlist = (void *)atomic_exchange_explicit(&slab->remote_free, 0,
							 memory_order_acquire);
	if (!slab->freelist)
		slab->freelist = rlist;
	else if (rlist)
		set_freepointer(s, freelist_tail(s, slab->freelist), rlist);
	slab_set_owner(s, slab, t);
	slab->slab_state = 0;
	slab->inuse = slab->objects;
	cpu_freelist_refill(c, s, slab->freelist, slab->slab_fresh && !rlist);
	slab->slab_fresh = 0;
	slab->freelist = NULL;
	c->slab = slab;
	if (!c->freelist)
		cpu_slab_carve(s, c);
}

/*
 * slab_state of a slab on its node's partial list; set and cleared under
 * list_lock, so a free that finds it set under the lock may work on the
 * slab's freelist directly (free_to_node_partial).
 */
#define SLAB_STATE_NODE_PARTIAL 0x2

static void add_node_partial(struct kmem_cache *s, struct page *slab)
{
	struct kmem_cache_node *n = get_node(s, slab_nid(slab));

	spin_lock(&n->list_lock);
	slab->slab_state = SLAB_STATE_NODE_PARTIAL;
	list_add_tail(&slab->slab_list, &n->partial);
	n->nr_partial++;
	spin_unlock(&n->list_lock);
}

/* Caller holds n->list_lock. */
static void del_node_partial(struct kmem_cache_node *n, struct page *slab)
{
	list_del(&slab->slab_list);
	n->nr_partial--;
	slab->slab_state = 0;
}

/*
 * Give up ownership of a slab the thread no longer allocates from: it
 * becomes full (no list), node-partial, or is freed when nothing in it is
 * in use.
 */
static void unfreeze_slab(struct kmem_cache *s, struct page *slab)
{
	struct kmem_cache_node *n = get_node(s, slab_nid(slab));

	slab_set_owner(s, slab, NULL);
	if (!slab->freelist && !slab_uncarved(slab)) {
		uintptr_t expected = 0;

		/* Nothing free: mark it full, unless a remote free just came. */
		if (atomic_compare_exchange_strong_explicit(&slab->remote_free, &expected,
							    SLAB_REMOTE_FULL,
							    memory_order_acq_rel,
							    memory_order_relaxed))
			return;
	}
	if (slab->inuse == 0 && n->nr_partial >= s->min_partial) {
		free_slab(s, slab);
		return;
	}
	add_node_partial(s, slab);
}

static void free_chain(struct kmem_cache *s, struct page *slab, void *head, void *tail,
		       unsigned int cnt, struct kmem_thread *t);

/*
 * Thread t gives up its active slab of s: c->freelist's objects go back to
 * their slabs.  Those of the active slab join its owner frees; the owner
 * frees parked among them (slab_free_fast) may be of any slab t owned,
 * and go back, a run of one slab at a time, as a free of them would.
 */
static void deactivate_slab(struct kmem_cache *s, struct kmem_cache_cpu *c,
			    struct kmem_thread *t)
{
	struct page *slab = c->slab;
	void *list = c->freelist;

	cpu_freelist_refill(c, s, NULL, false);
	/* uncarved objects stay uncarved, free and out of inuse */
	if (slab)
		slab->inuse = (uint16_t)(slab->inuse - slab_uncarved(slab));
	while (list) {
		struct page *run = compound_head_of(list);
		void *head = list, *tail = list, *next;
		unsigned int cnt = 1;

		while ((next = get_freepointer(s, tail)) && compound_head_of(next) == run) {
			tail = next;
			cnt++;
		}
		list = next;
		if (run == slab) {
			slab->inuse = (uint16_t)(slab->inuse - cnt);
			set_freepointer(s, tail, slab->freelist);
			slab->freelist = head;
		} else {
			free_chain(s, run, head, tail, cnt, t);
		}
	}
	if (!slab)
		return;
	c->slab = NULL;
	unfreeze_slab(s, slab);
}

static inline void cpu_partial_init(struct kmem_cache_cpu *c)
{
	if (unlikely(!c->partial.next))
		INIT_LIST_HEAD(&c->partial);
}

/*
 * The thread-partial queue.  c->partial is FIFO: a slab joins at the tail
 * and is activated from the head, so it has been away longest, and
 * gathered the most frees, when its turn comes.  Two kinds of slab wait
 * there, told apart by slab_state:
 *   counted  it had free objects when queued (adopted, or taken back from
 *            the active slot); c->nr_partial counts these, and past
 *            cpu_partial_slabs the oldest is given up, as in the kernel
 *   dry      a retired active slab that had none (SLAB_STATE_DRY): it
 *            holds no free memory, so it is not counted, and it waits for
 *            its objects to come back, by the owner's fast-path frees or
 *            on its remote list.
 * c->nr_partial keeps both counts: counted slabs in the low half, dry
 * ones in the high half.  Past cpu_partial_dry_max dry slabs the oldest is
 * given up (full, or node-partial if frees came): a thread that stops
 * allocating from a cache strands at most that many slabs' worth of
 * other threads' frees until it allocates again or exits.  Both bounds
 * hold only while the process has other threads (cpu_partial_bounded).
 */
#define SLAB_STATE_DRY          0x1
#define CPU_PARTIAL_DRY_SLABS   8       /* at least this many dry slabs, */
#define CPU_PARTIAL_DRY_BYTES   (512UL << 10)   /* or this much memory */
#define CPU_PARTIAL_DRY_ONE     (1u << 16)
#define CPU_PARTIAL_COUNTED     (CPU_PARTIAL_DRY_ONE - 1)

static inline bool slab_counted(const struct page *slab)
{
	return !(slab->slab_state & SLAB_STATE_DRY);
}

static inline unsigned int cpu_partial_counted(const struct kmem_cache_cpu *c)
{
	return c->nr_partial & CPU_PARTIAL_COUNTED;
}

static inline unsigned int cpu_partial_dry(const struct kmem_cache_cpu *c)
{
	return c->nr_partial / CPU_PARTIAL_DRY_ONE;
}

/*
 * Both bounds on the queue are there for other threads: a slab given up
 * goes where any thread can allocate from it, and a dry slab given up no
 * longer strands their frees.  While the process has one thread there is
 * no other to serve, and the bounds would only cost: a program that frees
 * most of what it built (python3, perl) would push thousands of slabs it
 * keeps freeing into to the node list, each free then taking list_lock
 * (256K such frees in bench/program-costs' python3 run).  So the queue
 * then grows to what its 16-bit halves hold; the first bounded put or
 * retire after a second thread appears trims it.  Except that a thread
 * may never retire again: one that built a heap alone and then waits for
 * the threads it made (larson: pthread_join) would strand all of its dry
 * slabs while they free into them.  So a single thread queues at most
 * SINGLE_THREAD_DRY_PAGES of dry slabs over all its caches, and past that
 * a slab that runs dry becomes full at once (retire_slab), for the first
 * thread that frees into it to adopt.
 */
static inline bool cpu_partial_bounded(void)
{
	return atomic_load_explicit(&kmem_nr_threads, memory_order_relaxed) > 1;
}

static inline unsigned int cpu_partial_max(const struct kmem_cache *s)
{
	return cpu_partial_bounded() ? s->cpu_partial_slabs : CPU_PARTIAL_COUNTED - 1;
}

static inline unsigned int cpu_partial_dry_max(const struct kmem_cache *s)
{
	if (!cpu_partial_bounded())
		return CPU_PARTIAL_COUNTED - 1;
	return MAX(CPU_PARTIAL_DRY_SLABS,
		   (unsigned int)(CPU_PARTIAL_DRY_BYTES >> (PAGE_SHIFT + s->order)));
}

/* Has slab nothing to give: no owner frees and no remote frees? */
static inline bool slab_dry(const struct page *slab)
{
	return !slab->freelist && !slab_uncarved(slab) &&
	       !atomic_load_explicit(&slab->remote_free, memory_order_relaxed);
}

/*
 * Empty slabs kept queued, over all of a thread's caches.  An owned slab
 * that empties while the thread has no other counted partial slab of its
 * cache stays queued, so that a cache whose use swings across a slab
 * boundary does not allocate, carve and free a slab each swing (9 objects
 * of 4 KiB allocated and freed in a loop: 3x the instructions without).
 * But one per cache is a slab for every size class the thread used, 8
 * pages each for the classes from 2304 bytes up: at one moment of
 * bench/alloc_bench's threads-1, 9 such slabs held 72 of its 272
 * resident arena pages, for one live object per class on average.  So a
 * thread keeps at most KEPT_EMPTY_SLOTS of them, KEPT_EMPTY_PAGES pages
 * in all, and the oldest go first.  kept_empty[] lists them in the order
 * kept, from kept_empty_next round; a slot is cleared when its slab
 * leaves the queue (cpu_partial_del), whatever takes it.
 */
#define SLAB_STATE_KEPT_EMPTY   0x4

static void kept_empty_forget(struct kmem_thread *t, struct page *slab)
{
	slab->slab_state &= (uint8_t)~SLAB_STATE_KEPT_EMPTY;
	t->kept_empty_pages -= 1u << slab->slab_cache->order;
	for (unsigned int i = 0; i < KEPT_EMPTY_SLOTS; i++)
		if (t->kept_empty[i] == slab) {
			t->kept_empty[i] = NULL;
			return;
		}
}

static void cpu_partial_del(struct kmem_cache_cpu *c, struct page *slab)
{
	list_del(&slab->slab_list);
	if (slab_counted(slab)) {
		c->nr_partial -= 1;
	} else {
		c->nr_partial -= CPU_PARTIAL_DRY_ONE;
		slab->slab_owner->dry_pages -= 1UL << slab->order;
	}
	/* a queued slab is owned: slab_owner is the thread whose queue it is */
	if (unlikely(slab->slab_state & SLAB_STATE_KEPT_EMPTY))
		kept_empty_forget(slab->slab_owner, slab);
}

/*
 * Has the thread partial slabs besides slab, an owned slab that just
 * emptied?  Counted ones, as a rule.  While the queue is unbounded its
 * dry slabs count too: the thread's frees go into them and nothing
 * drains them to the node list, so an empty slab kept because the
 * counted half was short would stay for good.
 */
static inline bool cpu_partial_has_other(const struct kmem_cache_cpu *c,
					 const struct page *slab)
{
	if (cpu_partial_bounded())
		return cpu_partial_counted(c) > 1;
	return c->nr_partial != (slab_counted(slab) ? 1 : CPU_PARTIAL_DRY_ONE);
}

/* Past cpu_partial_max counted slabs, give up the oldest. */
static void cpu_partial_trim(struct kmem_cache *s, struct kmem_cache_cpu *c)
{
	unsigned int max = cpu_partial_max(s);

	while (cpu_partial_counted(c) > max) {
		struct page *old = list_first_entry(&c->partial, struct page, slab_list);

		cpu_partial_del(c, old);
		unfreeze_slab(s, old);
	}
}

/* A slab with free objects joins the thread's partial queue. */
static void put_cpu_partial(struct kmem_cache *s, struct kmem_cache_cpu *c,
			    struct page *slab)
{
	cpu_partial_init(c);
	slab->slab_state = 0;
	list_add_tail(&slab->slab_list, &c->partial);
	c->nr_partial++;
	cpu_partial_trim(s, c);
}

/*
 * The active slab ran dry: it stays the thread's and waits in the queue,
 * so that the owner's frees into it keep taking the fast path (no atomic,
 * no adoption) and other threads' frees gather on its remote list.
 */
static void retire_slab(struct kmem_cache *s, struct kmem_cache_cpu *c)
{
	struct page *slab = c->slab, *old, *next;
	struct kmem_thread *t = slab->slab_owner;
	unsigned int max = cpu_partial_dry_max(s);

	slab->freelist = NULL;          /* no owner frees: inuse == objects */
	c->slab = NULL;
	if (unlikely(t->dry_pages >= SINGLE_THREAD_DRY_PAGES) && !cpu_partial_bounded()) {
		/* Nothing free in it and no other thread: it becomes full.  Its
		 * owner's next free into it adopts it back (one slow free per
		 * slab: +0.06% instructions on python3 in bench/program-costs);
		 * larson's peak RSS went from 17.1 to 13.5 MB. */
		unfreeze_slab(s, slab);
		return;
	}
	slab->slab_state = SLAB_STATE_DRY;
	list_add_tail(&slab->slab_list, &c->partial);
	c->nr_partial += CPU_PARTIAL_DRY_ONE;
	t->dry_pages += 1UL << slab->order;
	if (cpu_partial_dry(c) <= max)
		return;
	/* the oldest dry slabs, down to the bound, in one pass */
	list_for_each_entry_safe(old, next, &c->partial, slab_list) {
		if (!slab_counted(old)) {
			cpu_partial_del(c, old);
			unfreeze_slab(s, old);
			if (cpu_partial_dry(c) <= max)
				return;
		}
	}
}

/* Dry slabs get_cpu_partial sends round again before it looks elsewhere. */
#define CPU_PARTIAL_DRY_SCAN    4

/*
 * The first slab of the thread's partial queue (on node nid, if asked)
 * that has free objects.  Dry slabs at the head go to the tail, at most
 * CPU_PARTIAL_DRY_SCAN of them, so the walk is O(1).
 */
static struct page *get_cpu_partial(struct kmem_cache_cpu *c, int nid)
{
	struct page *slab, *next;
	unsigned int dry = 0;

	list_for_each_entry_safe(slab, next, &c->partial, slab_list) {
		if (nid != NUMA_NO_NODE && slab_nid(slab) != nid)
			continue;
		if (!slab_dry(slab)) {
			cpu_partial_del(c, slab);
			return slab;
		}
		if (++dry > CPU_PARTIAL_DRY_SCAN)
			break;
		list_move_tail(&slab->slab_list, &c->partial);
	}
	return NULL;
}

/* Take a slab from a node's partial list and make it the thread's. */
static struct page *get_partial_node(struct kmem_cache *s, int nid)
{
	struct kmem_cache_node *n = get_node(s, nid);
	struct page *slab = NULL;

	if (!n || !n->nr_partial)
		return NULL;
	spin_lock(&n->list_lock);
	if (!list_empty(&n->partial)) {
		slab = list_first_entry(&n->partial, struct page, slab_list);
		del_node_partial(n, slab);
	}
	spin_unlock(&n->list_lock);
	return slab;
}

static struct page *get_partial(struct kmem_cache *s, int nid)
{
	struct page *slab;
	int order[MAX_NUMNODES], nr;

	if (nid != NUMA_NO_NODE)
		return get_partial_node(s, nid);
	nid = numa_node_id();
	slab = get_partial_node(s, nid);
	if (slab || kmem_topology.nr_nodes == 1)
		return slab;
	nr = topology_node_order(nid, order);
	for (int i = 1; i < nr && !slab; i++)
		slab = get_partial_node(s, order[i]);
	return slab;
}

/* Allocation without per-thread state: a thread past its exit hook. */
static void *slab_alloc_unowned(struct kmem_cache *s, gfp_t gfp, int nid)
{
	struct page *slab = get_partial(s, nid);
	void *obj;

	if (!slab) {
		slab = allocate_slab(s, gfp, nid);
		if (!slab)
			return NULL;
	}
	slab_take_remote(s, slab);
	if (!slab->freelist)
		slab->freelist = carve_objects(s, slab);
	obj = slab->freelist;
	if (obj) {
		slab->freelist = get_freepointer(s, obj);
		slab->inuse++;
	}
	unfreeze_slab(s, slab);
	return obj;
}

/*
 * malloc's borrowing.  malloc, unlike kmalloc, may hand out an object of
 * a bigger class than the size asks for: the caller sees its size through
 * malloc_usable_size, and free finds its cache from its slab as for any
 * object.  So before a class above MALLOC_BORROW_MIN grows in a thread,
 * carving objects it never used or taking a new slab, malloc takes a free
 * object from the thread's active slab of one of the next
 * kmem_config.malloc_borrow classes, the nearest first: memory the thread
 * has already touched, in a slot at most 2^(6/8) = 1.68 times the class
 * with the default 6.
 *
 * Without it each class peaks on its own in every thread: in
 * bench/alloc_bench's threads-N (random sizes, 1/32 of them up to 8 KiB,
 * spread over the 32 classes above 512 bytes, one or two live objects
 * each) the sum of those peaks is most of the heap.  Against
 * KMEM_MALLOC_BORROW=0, 7 interleaved runs: peak RSS -16% on threads-4,
 * -18% on threads-8, -11% on prodcons, -6% on threads-2, +0.7% on
 * python3, the rest within noise; callgrind: +1.0% instructions on
 * threads-1, +0.1% on the real programs of bench/program-costs, +0.2% on
 * fixed-256 (a class that never borrows, in the slow path both share).  8
 * classes up saved less than 6 (5240 against 4724 KB on threads-4), and
 * borrowing from 256 bytes up cost 19% more instructions on threads-1:
 * the small classes are the busy ones.
 * kmalloc and kmem_cache_alloc never borrow: their object belongs to the
 * cache asked for, and kzalloc's zeroing goes by that cache's freshness.
 * (Those figures are from before the medium heap, slob.c, which now
 * serves the cold classes above 512 bytes; malloc borrows only for the
 * classes it does not serve: slob.h, malloc_borrows.)
 */
static void *malloc_borrow_up(struct kmem_thread *t, const struct kmem_cache *s)
{
	unsigned int last = MIN(s->id + (unsigned int)kmem_config.malloc_borrow,
				KMALLOC_NR_CACHES - 1u);

	for (unsigned int id = s->id + 1; id <= last; id++) {
		void *obj = kmalloc_cpu_pop(&t->cpu_slab[id]);

		if (obj)
			return obj;
	}
	return NULL;
}

/* borrow: a malloc of a kmalloc cache (malloc_borrow_up).  One copy for
 * both callers: two let the compiler stop inlining the helpers below,
 * which cost more than the tests of borrow. */
static void *__slab_alloc_slowpath(struct kmem_cache *s, gfp_t gfp, int nid, bool borrow)
{
	struct kmem_thread *t = current_thread();
	struct kmem_cache_cpu *c;
	struct page *slab;
	void *obj;

	if (unlikely(!t->uses_lists))
		return slab_alloc_unowned(s, gfp, nid);
	c = thread_cpu_slab(t, s);
	cpu_partial_init(c);
	slab = c->slab;
	if (nid != NUMA_NO_NODE &&
	    ((slab && slab_nid(slab) != nid) ||
	     /* parked frees may be of any node's slab */
	     (c->freelist && slab_nid(compound_head_of(c->freelist)) != nid))) {
		deactivate_slab(s, c, t);
	} else if (slab && !c->freelist) {
		unsigned int remote = 0;
		void *rlist;

		if (cpu_slab_take_owner_frees(c))
			goto pop;
		rlist = collect_remote(s, slab, &remote);

		if (rlist) {
			cpu_freelist_refill(c, s, rlist, false);
			goto pop;
		}
		/* frees first: carving faults in memory not used before */
		if (borrow && slab_uncarved(slab) && (obj = malloc_borrow_up(t, s)))
			return obj;
		if (cpu_slab_carve(s, c))
			goto pop;
		retire_slab(s, c);
	}
	if (c->freelist)
		goto pop;

	/* The thread's own partial slabs first, then the node's, then new. */
	slab = get_cpu_partial(c, nid);
	if (slab)
		goto activate;
	slab = get_partial(s, nid);
	if (!slab) {
		if (borrow && (obj = malloc_borrow_up(t, s)))
			return obj;
		slab = allocate_slab(s, gfp, nid);
		if (unlikely(!slab))
			return NULL;
	}
activate:
	activate_slab(s, c, slab, t);
	if (unlikely(!c->freelist)) {
		/* Everything in it was in use after all: try again. */
		deactivate_slab(s, c, t);
		return __slab_alloc_slowpath(s, gfp, nid, borrow);
	}
pop:
	obj = c->freelist;
	cpu_freelist_popped(c, get_freepointer(s, obj));
	return obj;
}

void *slab_alloc_slowpath(struct kmem_cache *s, gfp_t gfp, int nid)
{
	return __slab_alloc_slowpath(s, gfp, nid, false);
}

void *malloc_alloc_slowpath(struct kmem_cache *s, gfp_t gfp)
{
	return __slab_alloc_slowpath(s, gfp, NUMA_NO_NODE, true);
}

/* ---- freeing ------------------------------------------------------------ */

_Noreturn void slab_double_free(struct kmem_cache *s, void *obj)
{
	kmem_panic("double free or corruption: object %p of cache %s freed twice",
		   obj, s->name);
}

/* An empty slab on c's queue goes back to the page allocator. */
static void discard_queued_slab(struct kmem_cache *s, struct kmem_cache_cpu *c,
				struct page *slab)
{
	cpu_partial_del(c, slab);
	slab_set_owner(s, slab, NULL);
	free_slab(s, slab);
}

static void discard_kept_slab(struct kmem_thread *t, struct page *slab)
{
	struct kmem_cache *s = slab->slab_cache;

	discard_queued_slab(s, thread_cpu_slab(t, s), slab);
}

/* slab, queued and empty, is kept: the oldest kept slabs go past the bounds. */
static void keep_empty_slab(struct kmem_thread *t, struct page *slab)
{
	unsigned int i = t->kept_empty_next;

	if (t->kept_empty[i])
		discard_kept_slab(t, t->kept_empty[i]);
	slab->slab_state |= SLAB_STATE_KEPT_EMPTY;
	t->kept_empty[i] = slab;
	t->kept_empty_next = (i + 1) % KEPT_EMPTY_SLOTS;
	t->kept_empty_pages += 1u << slab->slab_cache->order;
	for (unsigned int k = 1; t->kept_empty_pages > KEPT_EMPTY_PAGES && k < KEPT_EMPTY_SLOTS; k++) {
		struct page *old = t->kept_empty[(i + k) % KEPT_EMPTY_SLOTS];

		if (old)
			discard_kept_slab(t, old);
	}
}

/*
 * An owned slab emptied (inuse counts remote frees too, so none are
 * pending).  Not the active slab: give it back if the thread has other
 * partial slabs of the cache, or else keep it within the thread's bounds.
 */
static void slab_emptied_cpu(struct kmem_cache *s, struct kmem_cache_cpu *c, struct page *slab)
{
	if (slab == c->slab || (slab->slab_state & SLAB_STATE_KEPT_EMPTY))
		return;
	if (cpu_partial_has_other(c, slab))
		discard_queued_slab(s, c, slab);
	else
		keep_empty_slab(slab->slab_owner, slab);
}

void slab_emptied(struct kmem_cache *s, struct page *slab)
{
	slab_emptied_cpu(s, thread_cpu_slab(kmem_current, s), slab);
}

/*
 * The freeing functions below take a chain: head .. tail, cnt objects of
 * slab linked through their free pointers (tail's is overwritten), so
 * that a remote batch goes where a single free would, in one step.  A
 * single free is the chain obj .. obj, cnt = 1.  The double-free check
 * compares head with the list it joins, the one such check that costs
 * nothing.
 */

static void free_to_owned_slab(struct kmem_cache *s, struct kmem_cache_cpu *c,
			       struct page *slab, void *head, void *tail, unsigned int cnt)
{
	if (unlikely(head == slab->freelist))
		slab_double_free(s, head);
	set_freepointer(s, tail, slab->freelist);
	slab->freelist = head;
	slab->inuse = (uint16_t)(slab->inuse - cnt);
	if (slab->inuse == 0)
		slab_emptied_cpu(s, c, slab);
}

/*
 * Free by a thread that does not own the slab: one CAS onto remote_free.
 * The thread that finds the slab full adopts it instead, so that its free
 * objects are seen again.
 */
static void free_remote(struct kmem_cache *s, struct page *slab, void *head, void *tail,
			unsigned int cnt, struct kmem_thread *t)
{
	uintptr_t old = atomic_load_explicit(&slab->remote_free, memory_order_relaxed);

	for (;;) {
		if (old == SLAB_REMOTE_FULL) {
			if (atomic_compare_exchange_weak_explicit(&slab->remote_free, &old, 0,
								  memory_order_acq_rel,
								  memory_order_relaxed))
				break;
			continue;
		}
		if (unlikely((void *)old == head))
			slab_double_free(s, head);
		set_freepointer(s, tail, (void *)old);
		if (atomic_compare_exchange_weak_explicit(&slab->remote_free, &old, (uintptr_t)head,
							  memory_order_release,
							  memory_order_relaxed))
			return;
	}
	/* Adopted: the slab is ours now, with the chain its free objects. */
	set_freepointer(s, tail, NULL);
	slab->freelist = head;
	slab->inuse = (uint16_t)(slab->objects - cnt);
	slab->slab_fresh = 0;
	if (unlikely(!t->uses_lists)) {
		unfreeze_slab(s, slab);
		return;
	}
	slab_set_owner(s, slab, t);
	put_cpu_partial(s, thread_cpu_slab(t, s), slab);
}

/*
 * Free into a slab on its node's partial list, under list_lock, as
 * mm/slub.c's __slab_free does for a slab no CPU has frozen: the objects
 * go on slab->freelist and inuse drops, so a slab that empties is seen
 * at once and, past min_partial, goes back to the page allocator, where
 * any cache or large block can use its pages.  A remote push would leave
 * it looking in use until some thread took the slab again: a program that
 * frees most of what it built would keep every class's slabs.  Returns
 * false, having done nothing, when the slab has left the list meanwhile.
 */
static bool free_to_node_partial(struct kmem_cache *s, struct page *slab, void *head,
				 void *tail, unsigned int cnt)
{
	struct kmem_cache_node *n = get_node(s, slab_nid(slab));
	bool discard = false;

	spin_lock(&n->list_lock);
	if (!(slab->slab_state & SLAB_STATE_NODE_PARTIAL)) {
		spin_unlock(&n->list_lock);
		return false;
	}
	if (unlikely(head == slab->freelist)) {
		spin_unlock(&n->list_lock);
		slab_double_free(s, head);
	}
	set_freepointer(s, tail, slab->freelist);
	slab->freelist = head;
	slab->slab_fresh = 0;
	slab->inuse = (uint16_t)(slab->inuse - cnt);
	/* inuse counts pending remote frees too: 0 means empty */
	if (slab->inuse == 0 && n->nr_partial >= s->min_partial) {
		del_node_partial(n, slab);
		discard = true;
	}
	spin_unlock(&n->list_lock);
	if (discard)
		free_slab(s, slab);
	return true;
}

/* Free a chain into slab, wherever the slab's state sends it. */
static void free_chain(struct kmem_cache *s, struct page *slab, void *head, void *tail,
		       unsigned int cnt, struct kmem_thread *t)
{
	struct kmem_thread *owner = slab->slab_owner;

	if (owner == t && t->uses_lists)
		free_to_owned_slab(s, thread_cpu_slab(t, s), slab, head, tail, cnt);
	else if (owner)
		free_remote(s, slab, head, tail, cnt, t);
	else if (atomic_load_explicit(&slab->remote_free, memory_order_relaxed) == SLAB_REMOTE_FULL ||
		 !free_to_node_partial(s, slab, head, tail, cnt))
		free_remote(s, slab, head, tail, cnt, t); /* full, or just left the node list */
}

/*
 * Remote-free batches (t->remote[], one per kmalloc cache).  Frees into a
 * slab another thread owns gather in the freeing thread while they hit
 * the same slab, and go onto its remote list with one CAS when the batch
 * holds s->remote_batch objects, when a free of the same cache hits
 * another slab, or when the thread flushes (exit, fork, shrink,
 * malloc_trim).  A consumer freeing what one producer allocated, one slab
 * after another, then pays one atomic per batch instead of per object,
 * and the slab descriptor's line moves between the two caches once per
 * batch, as with tcmalloc's and snmalloc's remote caches.  A free that
 * joins an open batch with room never comes here: kfree_arena_not_owned
 * adds it inline (slab.h: slab_free_remote_batched).
 *
 * The cost is a delay: up to s->remote_batch objects per cache (at most
 * REMOTE_BATCH_BYTES) wait in a thread that stops freeing, until its next
 * free of that cache, its exit, or its malloc_trim.  They count in their
 * slab's inuse meanwhile, so the slab is never freed under them, and they
 * show as in use in slabinfo.  Only kmalloc caches batch: they are never
 * destroyed, so kmem_cache_destroy never finds objects waiting in some
 * other thread.
 */
static void remote_batch_flush(struct kmem_cache *s, struct kmem_thread *t,
			       struct remote_batch *b)
{
	struct page *slab = b->slab;
	void *head = b->head, *tail = b->tail;
	unsigned int cnt = b->count;

	*b = (struct remote_batch){ 0 };
	free_chain(s, slab, head, tail, cnt, t);
}

static void remote_batch_add(struct kmem_cache *s, struct page *slab, void *obj,
			     struct kmem_thread *t)
{
	struct remote_batch *b = &t->remote[s->id];

	if (likely(b->slab == slab)) {
		if (unlikely(obj == b->head))
			slab_double_free(s, obj);
		set_freepointer(s, obj, b->head);
		b->head = obj;
		if (++b->count >= s->remote_batch)
			remote_batch_flush(s, t, b);
		return;
	}
	/* The new batch first, then the old one's push: a tail call, so that
	 * nothing lives across it and the slow path saves no register (the
	 * two touch different slabs).  larson's remote frees hit a new slab
	 * almost every time. */
	struct remote_batch old = *b;

	*b = (struct remote_batch){ .slab = slab, .head = obj, .tail = obj, .count = 1 };
	if (old.slab)
		free_chain(s, old.slab, old.head, old.tail, old.count, t);
}

/*
 * Every free the fast path could not take: into another thread's slab (a
 * kmalloc cache's goes into the remote batch), a slab no thread owns, or
 * by a thread past its exit hook.
 */
void slab_free_slowpath(struct kmem_cache *s, struct page *slab, void *obj)
{
	struct kmem_thread *t = current_thread();
	struct kmem_thread *owner = slab->slab_owner;

	if (owner && owner != t && s->remote_batch && t->uses_lists)
		remote_batch_add(s, slab, obj, t);
	else
		free_chain(s, slab, obj, obj, 1, t);
}

/* ---- thread exit, shrink, destroy --------------------------------------- */

/* A thread is going away: every slab it owns becomes full, node-partial or free. */
void slab_flush_thread(struct kmem_thread *t)
{
	pthread_mutex_lock(&slab_mutex);
	for (unsigned int id = 0; id < MAX_SLAB_CACHES; id++) {
		struct kmem_cache *s = slab_cache_by_id[id];
		struct kmem_cache_cpu *c = &t->cpu_slab[id];
		struct page *slab, *next;

		if (!s)
			continue;
		/* first: a batch may make a full slab ours, queued below */
		if (id < KMALLOC_NR_CACHES && t->remote[id].slab)
			remote_batch_flush(s, t, &t->remote[id]);
		deactivate_slab(s, c, t);
		if (c->partial.next) {
			list_for_each_entry_safe(slab, next, &c->partial, slab_list) {
				cpu_partial_del(c, slab);
				unfreeze_slab(s, slab);
			}
		}
		memset(c, 0, sizeof(*c));
	}
	/* every kept slab left the queues above; a reused state starts empty */
	memset(t->kept_empty, 0, sizeof(t->kept_empty));
	t->kept_empty_next = 0;
	t->kept_empty_pages = 0;
	t->dry_pages = 0;
	pthread_mutex_unlock(&slab_mutex);
}

/* Free objects on the calling thread's own lists for cache s. */
unsigned long slab_thread_free(struct kmem_cache *s)
{
	struct kmem_thread *t = kmem_current;
	struct kmem_cache_cpu *c;
	unsigned long n = 0;
	struct page *slab;

	if (!t->uses_lists)
		return 0;
	c = thread_cpu_slab(t, s);
	for (void *p = c->freelist; p; p = get_freepointer(s, p))
		n++;
	if (c->slab)
		n += (unsigned long)(c->slab->objects - c->slab->inuse) +
		     slab_uncarved(c->slab);
	if (c->partial.next)
		list_for_each_entry(slab, &c->partial, slab_list)
			n += (unsigned long)(slab->objects - slab->inuse);
	return n;
}

/* Free objects in node-partial slabs (remote ones included). */
unsigned long slab_count_free(struct kmem_cache *s, unsigned long *partial_slabs)
{
	unsigned long free = 0, slabs = 0;
	int nid;

	for_each_online_node(nid) {
		struct kmem_cache_node *n = get_node(s, nid);
		struct page *slab;

		spin_lock(&n->list_lock);
		list_for_each_entry(slab, &n->partial, slab_list) {
			free += (unsigned long)(slab->objects - slab->inuse);
			slabs++;
		}
		spin_unlock(&n->list_lock);
	}
	if (partial_slabs)
		*partial_slabs = slabs;
	return free;
}

/*
 * mm/slub.c: __kmem_cache_shrink - collect remote frees on the node
 * partial lists and give every empty slab back.  This thread's own slabs
 * are flushed first.  Returns the number of slabs freed.
 */
int __kmem_cache_shrink(struct kmem_cache *s)
{
	struct kmem_thread *t = kmem_current;
	int freed = 0, nid;

	if (t->uses_lists) {
		struct kmem_cache_cpu *c = thread_cpu_slab(t, s);
		struct page *slab, *next;

		if (s->remote_batch && t->remote[s->id].slab)
			remote_batch_flush(s, t, &t->remote[s->id]);
		deactivate_slab(s, c, t);
		if (c->partial.next) {
			list_for_each_entry_safe(slab, next, &c->partial, slab_list) {
				cpu_partial_del(c, slab);
				unfreeze_slab(s, slab);
			}
		}
	}
	for_each_online_node(nid) {
		struct kmem_cache_node *n = get_node(s, nid);
		struct page *slab, *next;
		struct list_head discard = LIST_HEAD_INIT(discard);

		spin_lock(&n->list_lock);
		list_for_each_entry_safe(slab, next, &n->partial, slab_list) {
			slab_take_remote(s, slab);
			if (slab->inuse == 0) {
				del_node_partial(n, slab);
				list_add(&slab->slab_list, &discard);
			}
		}
		spin_unlock(&n->list_lock);
		list_for_each_entry_safe(slab, next, &discard, slab_list) {
			list_del(&slab->slab_list);
			free_slab(s, slab);
			freed++;
		}
	}
	return freed;
}

/* Objects still allocated when a cache is destroyed (after a shrink). */
unsigned long __kmem_cache_destroy_check(struct kmem_cache *s)
{
	unsigned long leaked = 0;
	int nid;

	__kmem_cache_shrink(s);
	for_each_online_node(nid) {
		struct kmem_cache_node *n = get_node(s, nid);
		long total = atomic_load(&n->total_objects);
		unsigned long free = 0;
		struct page *slab;

		spin_lock(&n->list_lock);
		list_for_each_entry(slab, &n->partial, slab_list)
			free += (unsigned long)(slab->objects - slab->inuse);
		spin_unlock(&n->list_lock);
		leaked += (unsigned long)total - free;
	}
	return leaked;
}

/* Shrinker for the page allocator: every cache gives back empty slabs. */
unsigned long slab_shrink_all(gfp_t gfp)
{
	struct kmem_cache *s;
	unsigned long freed = 0;

	if (pthread_mutex_trylock(&slab_mutex))
		return 0;       /* someone is creating or destroying caches */
	list_for_each_entry(s, &slab_caches, list)
		freed += (unsigned long)__kmem_cache_shrink(s);
	pthread_mutex_unlock(&slab_mutex);
	return freed;
}
