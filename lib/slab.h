/*
 * slab.h - slab caches (SLUB style) and kmalloc: the structures shared by
 * slab_common.c, slub.c, kmalloc.c and the interposer.
 *
 * Objects are carved from slabs: blocks of 2^order pages whose head
 * struct page carries the slab state.  Each thread has, per cache, a
 * kmem_cache_cpu: the slab it allocates from and that slab's free objects.
 *
 * States of a slab (mm/slub.c calls the first "frozen"):
 *   active         slab_owner = T, c->slab of T's kmem_cache_cpu; its free
 *                  objects are on c->freelist (what malloc pops) and,
 *                  once T frees into it past its park budget, on
 *                  slab->freelist, which becomes c->freelist when that
 *                  runs dry.  inuse counts every object not on
 *                  slab->freelist, uncarved ones included
 *   thread-partial slab_owner = T, on T's c->partial queue (FIFO), free
 *                  objects on slab->freelist.  A slab T ran dry waits
 *                  there too, with none yet ("dry", not counted against
 *                  cpu_partial_slabs): T's frees into it stay local and
 *                  other threads' gather on its remote list until T's
 *                  queue reaches it again
 *   node-partial   slab_owner = NULL, on kmem_cache_node->partial under
 *                  list_lock; any thread's free goes on slab->freelist
 *                  under that lock, and a slab that empties goes back to
 *                  the page allocator past min_partial
 *   full           slab_owner = NULL, on no list, SLAB_REMOTE_FULL set in
 *                  remote_free: a slab given up with nothing free (its
 *                  thread exited, shrank the cache, or overflowed its queue)
 * In every state but active, inuse counts the objects that are neither on
 * slab->freelist nor uncarved: T's frees parked on its c->freelist count
 * as in use (slab_free_fast).  Uncarved objects ([carved, objects)) are
 * free objects no list holds yet: a slab's freelist is built a page at a
 * time (carve_objects in slub.c), so memory the program has not used is
 * never written and its pages are never faulted in.
 * Frees by T into any slab T owns go on c->freelist (parked) or
 * slab->freelist and touch no atomic.  Frees by any other
 * thread into an owned or full slab push onto slab->remote_free with one
 * compare-and-swap; the one
 * that finds SLAB_REMOTE_FULL set adopts the slab into its own
 * thread-partial list, so a full slab that gets a free is never lost.
 * The owner collects remote frees (one exchange) when it runs dry or
 * activates the slab again; a slab given up with remote frees pending
 * goes to the node list, never to full.
 *
 * Lock order: slab_mutex (cache list), kmem_cache_node.list_lock, then the
 * page allocator's locks.
 */
#ifndef KMEM_SLAB_H
#define KMEM_SLAB_H

#include "internal.h"
#include "spinlock.h"

typedef unsigned int slab_flags_t;

/* Public flag values live in kmem.h; these are kmem's internal ones. */
#define SLAB_KMALLOC          0x80000000u

#define SLAB_REMOTE_FULL      ((uintptr_t)1)

#define KMALLOC_MIN_SIZE      8
#define KMALLOC_SHIFT_HIGH    13                      /* kmalloc-8192 is the largest cache */
#define KMALLOC_MAX_CACHE_SIZE (1UL << KMALLOC_SHIFT_HIGH)
#define SLUB_MAX_ORDER        3
/* malloc borrows for classes above this many bytes (slub.c: malloc_borrow_up) */
#define MALLOC_BORROW_MIN     512
/* A single-threaded process's thread queues at most this many pages of dry
 * slabs, over all its caches (slub.c: cpu_partial_bounded): 2 MiB */
#define SINGLE_THREAD_DRY_PAGES 512
/* Objects a slab holds at least, below SLUB_MAX_ORDER (slub.c: calculate_order) */
#define SLUB_MIN_OBJECTS      16
/* Owner frees parked on c->freelist beyond its pops: at most this many
 * objects of a cache, and KMEM_PARK_BYTES (slab_free_fast). */
#define CPU_PARK_OBJECTS      256
/* park_max with KMEM_PARK_BYTES=0: the budget pops add to stays below
 * zero, as no slab holds this many objects. */
#define CPU_PARK_OFF          (-16384)
/* A thread's remote-free batch per kmalloc cache: at most this many
 * objects, and this many bytes (slub.c: remote_batch_add). */
#define REMOTE_BATCH_MAX      32
#define REMOTE_BATCH_BYTES    (16U << 10)

struct kmem_cache_node {
	spinlock_t list_lock;
	struct list_head partial;
	unsigned long nr_partial;
	_Atomic long nr_slabs;
	_Atomic long total_objects;
};

struct kmem_cache {
	/* Read by the fast paths. */
	unsigned int size;              /* stride: object + free pointer + padding */
	unsigned int object_size;       /* what the user asked for */
	unsigned int offset;            /* free pointer offset within an object */
	unsigned int id;                /* index of kmem_cache_cpu in a thread */
	slab_flags_t flags;
	unsigned int order;             /* slab order */
	unsigned int objects;           /* objects per slab */
	unsigned int align;
	void (*ctor)(void *);
	gfp_t allocflags;               /* gfp for new slabs */
	unsigned int slab_mask;         /* slab bytes - 1: slabs are aligned buddy blocks */
	uint32_t slot_inverse;          /* of size's odd factor, mod 2^32 (slab_offset_index) */
	unsigned int slot_shift;        /* size's trailing zero bits */
	int park_max;                   /* owner frees c->freelist takes beyond its pops */
	unsigned int cpu_offset;        /* of the kmem_cache_cpu in struct kmem_thread */

	/* Slow path and bookkeeping. */
	unsigned int min_partial;       /* node-partial slabs kept when empty */
	unsigned int cpu_partial_slabs; /* thread-partial slabs kept per thread */
	unsigned int remote_batch;      /* remote frees a thread gathers per slab; 0: none */
	unsigned int remote_offset;     /* of the remote_batch in struct kmem_thread; 0: none */
	int refcount;                   /* > 1: merged caches share this one */
	char name[32];
	/* Caches merged into this one, ALIAS_NAMES_SIZE bytes from the first
	 * merge on; NULL before.  Not inline: 128 bytes in every cache made
	 * the kmalloc caches' descriptors two pages longer. */
	char *alias_names;
	struct list_head list;          /* on slab_caches */
	_Atomic unsigned long slabs_allocated;
	_Atomic unsigned long slabs_freed;
	/* One per possible node id (kmem_topology.nr_node_ids), not
	 * MAX_NUMNODES: 57 caches of 64 pointers were 29 KiB resident in
	 * every process. */
	struct kmem_cache_node *node[];
};

extern struct kmem_cache *kmalloc_caches[KMALLOC_NR_CACHES];
extern uint8_t kmalloc_size_index_table[KMALLOC_MAX_CACHE_SIZE / 8 + 1];
extern uint16_t kmalloc_cpu_slab_offset[KMALLOC_MAX_CACHE_SIZE / 8 + 1];
extern const unsigned int kmalloc_sizes[KMALLOC_NR_CACHES];
extern pthread_mutex_t slab_mutex;
extern struct list_head slab_caches;
extern struct kmem_cache *slab_cache_by_id[MAX_SLAB_CACHES];

/* slab_common.c */
int kmem_slab_init(void);
void kmem_show_slabinfo(int fd);
struct kmem_cache *__kmem_cache_create(const char *name, unsigned int size,
				       unsigned int align, slab_flags_t flags,
				       void (*ctor)(void *));

/* slub.c */
int calculate_sizes(struct kmem_cache *s);
void *slab_alloc_slowpath(struct kmem_cache *s, gfp_t gfp, int nid);
/* malloc's slow path for a kmalloc cache s that may borrow (slob.h:
 * malloc_borrows; slub.c: malloc_borrow_up); malloc_slow sends no other here */
void *malloc_alloc_slowpath(struct kmem_cache *s, gfp_t gfp);
void slab_free_slowpath(struct kmem_cache *s, struct page *slab, void *obj);
void slab_flush_thread(struct kmem_thread *t);
unsigned long slab_count_free(struct kmem_cache *s, unsigned long *partial_slabs);
unsigned long slab_thread_free(struct kmem_cache *s);
int __kmem_cache_shrink(struct kmem_cache *s);
unsigned long __kmem_cache_destroy_check(struct kmem_cache *s);
unsigned long slab_shrink_all(gfp_t gfp);
_Noreturn void slab_double_free(struct kmem_cache *s, void *obj);
/* slab_double_free for the inline fast path: not marked noreturn, so the
 * call can be a jump and the fast path needs no stack frame. */
void slab_free_fast_double(struct kmem_cache *s, void *obj) __attribute__((cold));
/* The calling thread's free emptied slab, one it owns: give it back or keep it. */
void slab_emptied(struct kmem_cache *s, struct page *slab);

/*
 * The size class of a kmalloc request of up to KMALLOC_MAX_CACHE_SIZE: one
 * load from a 1 KiB table indexed in 8-byte steps (every class size is a
 * multiple of 8), so classes above 1 KiB cost no more than small ones.
 */
static inline unsigned int kmalloc_index(size_t size)
{
	return kmalloc_size_index_table[(size + 7) >> 3];
}

/*
 * malloc's kmem_cache_cpu for a request of up to KMALLOC_MAX_CACHE_SIZE:
 * the table holds its byte offset in struct kmem_thread, so the fast path
 * adds it to t with no scaling of the class index.
 */
static inline struct kmem_cache_cpu *kmalloc_cpu_slab(struct kmem_thread *t, size_t size)
{
	return (struct kmem_cache_cpu *)((char *)t + kmalloc_cpu_slab_offset[(size + 7) >> 3]);
}

/* The kmem_cache_cpu of cache s for thread t. */
static inline struct kmem_cache_cpu *thread_cpu_slab(struct kmem_thread *t,
						     const struct kmem_cache *s)
{
	return &t->cpu_slab[s->id];
}

/*
 * --*budget < 0?  One decrement and a branch on its sign, where GCC makes
 * a 16-bit read-modify-write that a test follows a load, a subtract and
 * a store: two instructions of every free (slab_free_fast).
 */
static inline __attribute__((always_inline)) bool park_budget_take(int16_t *budget)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ goto("subw $1, %0\n\tjs %l[spent]" : "+m"(*budget) : : "cc" : spent);
	return false;
spent:
	return true;
#else
	return --*budget < 0;
#endif
}

/* ++*budget, as one instruction (malloc's pops; GCC would make it three). */
static inline __attribute__((always_inline)) void park_budget_give(int16_t *budget)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__("addw $1, %0" : "+m"(*budget) : : "cc");
#else
	++*budget;
#endif
}

/* An object was popped off c->freelist, which moves on to next: every
 * pop gives the park budget one back (slab_free_owned). */
static inline __attribute__((always_inline)) void cpu_freelist_popped(struct kmem_cache_cpu *c,
								      void *next)
{
	c->freelist = next;
	park_budget_give(&c->park_budget);
}

/*
 * c->freelist becomes list, whose objects read as zero but their free
 * pointer if fresh.  Every refill goes through here: it starts the park
 * budget afresh (slab_free_fast).
 */
static inline void cpu_freelist_refill(struct kmem_cache_cpu *c, const struct kmem_cache *s,
				       void *list, bool fresh)
{
	c->freelist = list;
	c->fresh = fresh;
	c->park_budget = (int16_t)s->park_max;
}

/*
 * Owner of slab, on its head and on the copies its tail pages keep
 * (mm_types.h): free reads ownership from the object's own page.  Every
 * change of owner goes through here, so no tail page names a thread the
 * head does not; the thread that writes is the owner or becomes it, so
 * no other thread can see its own pointer here mid-update.
 */
static inline void slab_set_owner(const struct kmem_cache *s, struct page *slab,
				  struct kmem_thread *t)
{
	unsigned int nr = 1u << s->order;

	for (unsigned int i = 0; i < nr; i++)
		slab[i].slab_owner = t;
}

static inline void *get_freepointer(const struct kmem_cache *s, void *obj)
{
	return *(void **)((char *)obj + s->offset);
}

static inline void set_freepointer(const struct kmem_cache *s, void *obj, void *fp)
{
	*(void **)((char *)obj + s->offset) = fp;
}

static inline void *slab_address(const struct page *slab)
{
	return lowmem_page_address(slab);
}

/* Free objects of slab that no freelist holds yet. */
static inline unsigned int slab_uncarved(const struct page *slab)
{
	return (unsigned int)(slab->objects - slab->carved);
}

/*
 * off / size when size divides off; otherwise a number above
 * UINT32_MAX / size, so above any slab's object count.  The divisibility
 * test of Granlund and Montgomery (Hacker's Delight, 10-17): off times
 * the inverse of size's odd factor, modulo 2^32, rotated right by size's
 * trailing zero bits, which is exactly the quotient when there is no
 * remainder.  One multiply, one rotate, no division; for any off below
 * 2^32.
 */
static inline uint32_t slab_offset_index(const struct kmem_cache *s, uint32_t off)
{
	uint32_t x = off * s->slot_inverse;
	unsigned int k = s->slot_shift;

	return (x >> k) | (x << (-k & 31));
}

/*
 * Is off (bytes from the slab's start, below its size) the start of an
 * object that was ever handed out?  One compare of slab_offset_index
 * with the carved count rejects an offset inside an object, an
 * uncarved object and the leftover after the last object alike.
 */
static inline bool slab_offset_valid(const struct kmem_cache *s, const struct page *slab,
				     uint32_t off)
{
	return slab_offset_index(s, off) < slab->carved;
}

static_assert((PAGE_SIZE << SLUB_MAX_ORDER) <= 65536,
	      "slab_offset_index: UINT32_MAX / size is above any object count");
static_assert(offsetof(struct kmem_cache, slot_inverse) < 64, "free reads one line of kmem_cache");
static_assert(offsetof(struct kmem_cache, slot_shift) < 64, "free reads one line of kmem_cache");
static_assert(offsetof(struct kmem_cache, slab_mask) < 64, "free reads one line of kmem_cache");

/* Objects [0, n) of slab are carved. */
static inline void slab_set_carved(struct page *slab, unsigned int n)
{
	slab->carved = n;
}

/* Is obj the start of an object of slab that was ever handed out? */
static inline bool slab_obj_valid(const struct kmem_cache *s, const struct page *slab,
				  const void *obj)
{
	return slab_offset_valid(s, slab, (uint32_t)((const char *)obj -
						     (const char *)slab_address(slab)));
}

/*
 * The descriptor of the slab head for page (or for arena offset pa) if it
 * is a slab's page (or of the area's head in a medium-heap area), else of
 * that page itself.  No branch: page_tail_back is zero except on the tail
 * pages of those.  Whether the result is a slab is the caller's test
 * (PG_slab).
 */
static inline __attribute__((always_inline)) struct page *slab_head_of_page(struct page *page)
{
	return (struct page *)((char *)page - page_tail_back(page));
}

static inline __attribute__((always_inline)) struct page *slab_head_of_pa(uintptr_t pa)
{
	return slab_head_of_page(__pfn_to_page(pa >> PAGE_SHIFT));
}

/* pa's offset in its slab of cache s: a slab is a buddy block, aligned
 * to its size in the arena. */
static inline uint32_t slab_offset_of_pa(const struct kmem_cache *s, uintptr_t pa)
{
	return (uint32_t)pa & s->slab_mask;
}

/* Is arena offset pa, in slab of cache s, the start of an object that was
 * ever handed out?  (slab_obj_valid for an address, from the free path.) */
static inline bool slab_pa_valid(const struct kmem_cache *s, const struct page *slab,
				 uintptr_t pa)
{
	return slab_offset_valid(s, slab, slab_offset_of_pa(s, pa));
}

/* Head page of the slab holding addr, or addr's own page (in the arena). */
static inline struct page *compound_head_of(const void *addr)
{
	return slab_head_of_pa(__pa(addr));
}

/*
 * Free fast path, for an object of any slab the thread owns (active,
 * thread-partial or dry).  It is parked: pushed onto c->freelist, the
 * list malloc pops, whatever slab it is of, and still counted in use by
 * its slab.  That is the kernel's percpu sheaves (6.18) in list form: a
 * thread that frees at random among many slabs of a class (a hash table,
 * a tree) gets its frees back at once, where sending each to its own slab
 * left c->freelist a few objects long after each refill, and each refill
 * was a branch malloc mispredicted (bench/alloc_bench threads-1: 19%
 * faster).  c->park_budget bounds it: park_max more frees than pops since
 * c->freelist was last refilled (KMEM_PARK_BYTES of a cache, at most
 * CPU_PARK_OBJECTS), past which a free goes on its slab's own freelist,
 * as mimalloc's local_free does; malloc finds the active slab's there
 * when c->freelist runs dry (cpu_slab_take_owner_frees), and a free that
 * empties a slab calls slab_emptied, which decides whether to give it
 * back.  Parked objects go back to their slabs when the thread gives up
 * its active slab (deactivate_slab: exit, shrink, malloc_trim).  The one
 * double free this sees cheaply - the object already at the head of the
 * list it joins - stops the program.  t is always kmem_current: a thread
 * past its exit hook runs on kmem_thread_dead, which owns no slab, so an
 * owner test needs no uses_lists test beside it.  slab_fresh needs no
 * clearing: it is 0 in every slab a thread owns (activation and adoption
 * clear it); c->fresh does, as a parked object is not zero.
 */
static inline __attribute__((always_inline)) void
slab_free_owned(struct kmem_thread *t, struct kmem_cache *s, struct page *slab, void *obj)
{
	struct kmem_cache_cpu *c = (struct kmem_cache_cpu *)((char *)t + s->cpu_offset);

	if (likely(!park_budget_take(&c->park_budget))) {
		if (unlikely(obj == c->freelist)) {
			slab_free_fast_double(s, obj);
			return;
		}
		/* offset 0: only caches without a constructor park (park_max) */
		*(void **)obj = c->freelist;
		c->freelist = obj;
		c->fresh = false;
		return;
	}
	park_budget_give(&c->park_budget);     /* spent: undo the take */
	if (unlikely(obj == slab->freelist)) {
		slab_free_fast_double(s, obj);
		return;
	}
	set_freepointer(s, obj, slab->freelist);
	slab->freelist = obj;
	if (unlikely(--slab->inuse == 0))
		slab_emptied(s, slab);
}

/* slab_free_owned if the thread owns slab; false if not. */
static inline bool slab_free_fast(struct kmem_thread *t, struct kmem_cache *s,
				  struct page *slab, void *obj)
{
	if (likely(slab->slab_owner == t)) {
		slab_free_owned(t, s, slab, obj);
		return true;
	}
	return false;
}

/*
 * A free into a slab another thread owns, when the calling thread's
 * remote batch for the cache (slub.c: remote_batch_add) is gathering that
 * slab's frees and has room for one more: the object joins the batch, with
 * no call, no lock and no atomic.  false for anything else, which
 * slab_free_slowpath sorts out, a double free at the batch's head
 * included.  b->slab == slab is the whole test of the slab's state: a
 * batch opens only on a slab another thread owns, by a thread with lists
 * (kmem_thread_unset and kmem_thread_dead never open one), and its
 * objects count in the slab's inuse, so the slab cannot be freed and
 * reused while it is open.  Should the slab have been given up since,
 * the object waits in the batch as those before it do.
 */
static inline __attribute__((always_inline)) bool
slab_free_remote_batched(struct kmem_thread *t, const struct kmem_cache *s,
			 const struct page *slab, void *obj)
{
	struct remote_batch *b;

	if (unlikely(!s->remote_offset))
		return false;
	b = (struct remote_batch *)((char *)t + s->remote_offset);
	if (unlikely(b->slab != slab) || unlikely(b->count + 1 >= s->remote_batch) ||
	    unlikely(obj == b->head))
		return false;
	set_freepointer(s, obj, b->head);
	b->head = obj;
	b->count++;
	return true;
}

/*
 * c->freelist ran dry: the owner's frees into the active slab become the
 * new c->freelist (returned, NULL when there are none).  No lock, no
 * atomic: only the owner touches slab->freelist of its own slabs.  Every
 * object of the active slab not on c->freelist counts in inuse again.
 */
static inline void *cpu_slab_take_owner_frees(struct kmem_cache_cpu *c)
{
	struct page *slab = c->slab;
	void *list;

	if (!slab || !(list = slab->freelist))
		return NULL;
	slab->freelist = NULL;
	slab->inuse = slab->objects;
	cpu_freelist_refill(c, slab->slab_cache, list, false);
	return list;
}

/*
 * A free object of kmalloc class c at hand, without the slow path:
 * c->freelist's first, else the owner's frees into the active slab
 * (cpu_slab_take_owner_frees).  NULL when there is neither.  kmalloc
 * caches keep the free pointer in an object's first word.
 */
static inline __attribute__((always_inline)) void *kmalloc_cpu_pop(struct kmem_cache_cpu *c)
{
	void *obj = c->freelist;

	if (unlikely(!obj) && unlikely(!(obj = cpu_slab_take_owner_frees(c))))
		return NULL;
	cpu_freelist_popped(c, *(void **)obj);
	return obj;
}

#endif /* KMEM_SLAB_H */
