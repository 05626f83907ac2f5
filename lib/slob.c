/*
 * slob.c - malloc's medium heap: requests above KMEM_SLOB_MIN bytes (512)
 * up to KMALLOC_MAX_CACHE_SIZE, as blocks carved to size from shared
 * areas, in the manner of the kernel's SLOB (mm/slob.c, the allocator
 * for small machines until 6.4): size-tagged blocks on partially used
 * pages, a free block merged with its free neighbours, a page freed when
 * its last block goes.
 *
 * Why: with a slab cache per size class, every class a thread uses
 * peaks on its own.  The classes above 512 bytes hold few live objects
 * each (1/32 of bench/alloc_bench's threads-N requests, spread over 33
 * classes), yet each keeps at least an order-3 slab resident.  Here all
 * those sizes share the thread's areas and the free space in them: peak
 * RSS of threads-1 2748 -> 2308 KB, threads-4 4836 -> 3964 KB, churn
 * 3844 -> 3108 KB (5 interleaved runs), for 6% more instructions on
 * threads-1.  A class busy enough to fill slabs goes back to them
 * (slob_alloc_class), where it is faster.
 *
 * Layout.  An area is an order-4 buddy block (64 KiB): a header with a
 * bitmap of the blocks in use, then blocks.  A block is a 16-byte header
 * (the previous block's size when that one is free, and this block's
 * size with two flags) and its payload, 16-byte aligned.  Free blocks sit
 * on exact-size bins (16-byte steps up to a block for 8 KiB, one bin
 * above that); a bitmap of non-empty bins, and one of its non-zero
 * words, make the best fit two word scans.  The area's head page carries
 * PG_slob and its other pages a slab tail's marks (mm_types.h), so free's
 * lookup of a slab head lands on the area's head from any of its pages
 * (kfree_arena_not_owned: 10 instructions fewer a medium free than
 * rounding the pfn down to the area and reading that head again).
 *
 * Contracts:
 *  - free and malloc_usable_size accept exactly the payloads handed out:
 *    the in-use bitmap, not the block headers (which a buffer overrun
 *    can rewrite), decides.  Anything else stops the program, as for a
 *    slab object ("invalid pointer", "double free").
 *  - A heap per thread, its spinlock taken for every block but those
 *    of the owner's cache (below): the owner's is uncontended, and
 *    another thread's free takes the lock of the heap the block's area
 *    belongs to.  A heap outlives its thread (see
 *    slob_heaps).  Pages are taken and given back outside the lock.
 *  - An area whose last block is freed goes back to the buddy allocator
 *    at once, so a thread that goes idle keeps no empty area.  The
 *    owner's cache (below) keeps a block loop off that path.
 *  - kmalloc and kmem_cache_alloc never come here: their objects belong
 *    to the caches asked for.
 */
#include <string.h>
#include <sys/random.h>
#include <sys/mman.h>
#include "kmalloc.h"
#include "slob.h"

#define SLOB_UNIT        16
#define SLOB_HDR         16
#define SLOB_MIN_BLOCK   32     /* a header and room for the two bin links */
#define SLOB_INUSE       1ULL
#define SLOB_PREV_INUSE  2ULL
#define SLOB_SIZE_MASK   (0xffffffffULL & ~(uint64_t)(SLOB_UNIT - 1))
#define SLOB_CLASS_SHIFT 32     /* a block in use: its kmalloc class, for live[] */

/* Blocks of up to this size have a bin each; larger free blocks share one. */
#define SLOB_MAX_BLOCK   (KMALLOC_MAX_CACHE_SIZE + SLOB_HDR)
#define SLOB_BIG_BIN     (SLOB_MAX_BLOCK / SLOB_UNIT + 1)
#define SLOB_NR_BINS     (SLOB_BIG_BIN + 1)
#define SLOB_BINMAP_WORDS ((SLOB_NR_BINS + 63) / 64)

static_assert(SLOB_BINMAP_WORDS <= 64, "binsum has a bit per binmap word");

struct slob_block {
	uint64_t prev_size;             /* valid while the previous block is free */
	uint64_t head;                  /* class << 32 | size | SLOB_INUSE | SLOB_PREV_INUSE */
	struct slob_block *next, *prev; /* bin links, free blocks only */
};

struct slob_heap;

struct slob_area {
	struct slob_heap *heap;
	uint32_t used;                  /* bytes of the blocks in use */
	struct list_head list;          /* heap->areas */
	/* bit n: a block in use starts n units into the area */
	uint64_t map[SLOB_AREA_SIZE / SLOB_UNIT / 64];
};

#define SLOB_FIRST       ALIGN_UP(sizeof(struct slob_area), SLOB_UNIT)
#define SLOB_AREA_BLOCK  (SLOB_AREA_SIZE - SLOB_FIRST)     /* an empty area's one block */

struct slob_heap {
	spinlock_t lock;
	uint64_t binsum;                /* bit w: binmap[w] has a bit set */
	uint64_t binmap[SLOB_BINMAP_WORDS];
	struct slob_block *bins[SLOB_NR_BINS];
	struct list_head areas;
	unsigned long nr_areas;
	unsigned long used_bytes, nr_blocks;
	/* blocks in use per kmalloc class: past a slab's worth, malloc
	 * takes that class's slabs again (slob_alloc_class) */
	uint32_t live[KMALLOC_NR_CACHES];
	/* The owner's recently freed blocks by class, still in use as far
	 * as the bins and the bitmap know: only the owning thread touches
	 * them (see "The owner's cache" below). */
	void *cache[KMALLOC_NR_CACHES + 2];     /* two empty past the last (slob_cache_get_larger) */
	/* blocks waiting, or SLOB_CACHE_BUSY; read unlocked by slob_get_usage */
	uint8_t cache_count[KMALLOC_NR_CACHES];
	uint32_t cache_bytes;                   /* likewise */
	uintptr_t cookie;               /* slob_cookie: its value, kept with the cache */
	struct list_head list;          /* slob_heaps, under slob_heaps_lock */
	struct slob_heap *next_free;    /* slob_free_heaps: no thread uses it */
};

/*
 * Every heap, and the heaps no thread holds.  A thread takes one at its
 * first medium malloc and gives it back at exit, areas and blocks and
 * all: the next thread to start takes it over, and frees of its blocks
 * by any thread go to it meanwhile.  Threads past their exit hook use
 * their node's heap.  Heaps are never unmapped.
 */
static pthread_mutex_t slob_heaps_lock = PTHREAD_MUTEX_INITIALIZER;
static struct list_head slob_heaps = LIST_HEAD_INIT(slob_heaps);
static struct slob_heap *slob_free_heaps;
/* Made at first use: a thread past its exit hook mallocs rarely, and
 * static heaps would put 320 KB of .bss between the variables every
 * process touches. */
static struct slob_heap *slob_node_heaps[MAX_NUMNODES];
/* The cookie's secret (slob_cookie): random from the kernel, set under
 * slob_heaps_lock before the first heap is made. */
static uintptr_t slob_secret;

static unsigned long slob_cache_flush(struct slob_heap *h);
static void slob_area_free(struct slob_area *a);

static inline size_t block_size(const struct slob_block *b)
{
	return b->head & SLOB_SIZE_MASK;
}

static inline struct slob_block *block_at(struct slob_area *a, size_t off)
{
	return (struct slob_block *)((char *)a + off);
}

static inline size_t block_off(const struct slob_area *a, const struct slob_block *b)
{
	return (size_t)((const char *)b - (const char *)a);
}

static inline unsigned int bin_of(size_t size)
{
	return size <= SLOB_MAX_BLOCK ? (unsigned int)(size / SLOB_UNIT) : SLOB_BIG_BIN;
}

static inline void bin_insert(struct slob_heap *h, struct slob_block *b, size_t size)
{
	unsigned int i = bin_of(size);

	b->prev = NULL;
	b->next = h->bins[i];
	if (b->next)
		b->next->prev = b;
	h->bins[i] = b;
	h->binmap[i / 64] |= 1ULL << (i % 64);
	h->binsum |= 1ULL << (i / 64);
}

static inline void bin_remove(struct slob_heap *h, struct slob_block *b, size_t size)
{
	unsigned int i = bin_of(size);

	if (b->prev)
		b->prev->next = b->next;
	else if (!(h->bins[i] = b->next) &&
		 !(h->binmap[i / 64] &= ~(1ULL << (i % 64))))
		h->binsum &= ~(1ULL << (i / 64));
	if (b->next)
		b->next->prev = b->prev;
}

/* The smallest free block of at least need bytes (need <= SLOB_MAX_BLOCK):
 * the first non-empty bin from need's, by the two bitmaps. */
static inline struct slob_block *bin_find(struct slob_heap *h, size_t need)
{
	unsigned int i = bin_of(need), w = i / 64;
	uint64_t bits = h->binmap[w] & (~0ULL << (i % 64));

	if (!bits) {
		uint64_t sum = h->binsum & (~1ULL << w);

		if (!sum)
			return NULL;
		w = (unsigned int)__builtin_ctzll(sum);
		bits = h->binmap[w];
	}
	return h->bins[w * 64 + (unsigned int)__builtin_ctzll(bits)];
}

static inline void map_set(struct slob_area *a, size_t off)
{
	a->map[off / SLOB_UNIT / 64] |= 1ULL << (off / SLOB_UNIT % 64);
}

static inline void map_clear(struct slob_area *a, size_t off)
{
	a->map[off / SLOB_UNIT / 64] &= ~(1ULL << (off / SLOB_UNIT % 64));
}

static inline bool map_test(const struct slob_area *a, size_t off)
{
	return a->map[off / SLOB_UNIT / 64] & (1ULL << (off / SLOB_UNIT % 64));
}

static void slob_heap_init(struct slob_heap *h)
{
	spin_lock_init(&h->lock);
	h->cookie = (uintptr_t)h ^ slob_secret;         /* slob_heap_get set the secret */
	INIT_LIST_HEAD(&h->areas);
	list_add_tail(&h->list, &slob_heaps);
}

/* A new heap, on the slob_heaps list (under slob_heaps_lock); NULL: no memory. */
static struct slob_heap *slob_heap_new(void)
{
	struct slob_heap *h = kmem_os.mmap(NULL, ALIGN_UP(sizeof(*h), PAGE_SIZE),
					   PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
					   -1, 0);

	if (h == MAP_FAILED)
		return NULL;
	slob_heap_init(h);
	return h;
}

static __attribute__((noinline)) struct slob_heap *slob_heap_get(struct kmem_thread *t)
{
	struct slob_heap *h;

	pthread_mutex_lock(&slob_heaps_lock);
	if (!slob_secret) {
		if (getrandom(&slob_secret, sizeof(slob_secret), GRND_NONBLOCK) !=
		    sizeof(slob_secret))
			slob_secret = (uintptr_t)&slob_secret * 0x9e3779b97f4a7c15ULL;
		slob_secret |= 1;
	}
	if (!t->uses_lists) {
		/* past its exit hook: the node's heap */
		struct slob_heap **node = &slob_node_heaps[numa_node_id()];

		h = *node ? *node : (*node = slob_heap_new());
	} else if ((h = slob_free_heaps)) {
		slob_free_heaps = h->next_free;
		t->slob_heap = h;
	} else if ((h = slob_heap_new())) {
		t->slob_heap = h;
	}
	pthread_mutex_unlock(&slob_heaps_lock);
	return h;
}

/* t is gone (thread_release): its heap, cache emptied, waits for the next thread. */
void slob_thread_release(struct kmem_thread *t)
{
	struct slob_heap *h = t->slob_heap;

	if (!h)
		return;
	slob_cache_flush(h);
	/* busy classes are the thread's (slob_busy); the flush left no block */
	for (unsigned int cls = 0; cls < KMALLOC_NR_CACHES; cls++)
		__atomic_store_n(&h->cache_count[cls], 0, __ATOMIC_RELAXED);
	t->slob_heap = NULL;
	pthread_mutex_lock(&slob_heaps_lock);
	h->next_free = slob_free_heaps;
	slob_free_heaps = h;
	pthread_mutex_unlock(&slob_heaps_lock);
}

/* fork: lock (1), unlock (0), or reinitialise in the child (-1) every heap. */
void slob_fork_lock(int lock)
{
	struct slob_heap *h;

	if (lock > 0)
		pthread_mutex_lock(&slob_heaps_lock);
	list_for_each_entry(h, &slob_heaps, list) {
		if (lock > 0)
			spin_lock(&h->lock);
		else if (lock == 0)
			spin_unlock(&h->lock);
		else
			spin_lock_init(&h->lock);
	}
	if (lock == 0)
		pthread_mutex_unlock(&slob_heaps_lock);
	else if (lock < 0)
		pthread_mutex_init(&slob_heaps_lock, NULL);
}

/* A new area, one free block, not yet on the heap's lists. */
static struct slob_area *slob_area_new(struct slob_heap *h)
{
	struct page *page = alloc_pages(GFP_KERNEL | __GFP_NOWARN, SLOB_AREA_ORDER);
	struct slob_area *a;
	struct slob_block *b;

	if (!page)
		return NULL;
	page->flags |= PG_slob;
	/* as on a slab's tail pages: free finds the head, and PG_slob, from
	 * any page of the area (kfree_arena_not_owned) */
	for (unsigned long i = 1; i < SLOB_AREA_PAGES; i++)
		page[i].flags |= page_tail_flags(i);
	a = lowmem_page_address(page);
	a->heap = h;
	a->used = 0;
	memset(a->map, 0, sizeof(a->map));
	b = block_at(a, SLOB_FIRST);
	b->head = SLOB_AREA_BLOCK | SLOB_PREV_INUSE;
	return a;
}

static void slob_area_free(struct slob_area *a)
{
	struct page *page = __virt_to_page(a);

	for (unsigned long i = 1; i < SLOB_AREA_PAGES; i++)
		page[i].flags &= ~page_tail_flags(i);
	page->flags &= ~PG_slob;
	__free_pages(page, SLOB_AREA_ORDER);
}

static __attribute__((noinline)) void *slob_alloc(struct slob_heap *h, size_t size,
						  unsigned int cls)
{
	size_t need = ALIGN_UP(size + SLOB_HDR, SLOB_UNIT), bsize, rest, off;
	struct slob_block *b;
	struct slob_area *a;

	spin_lock(&h->lock);
	b = bin_find(h, need);
	if (unlikely(!b) && h->cache_bytes) {
		/* the owner's cached blocks, merged back, before a new area */
		spin_unlock(&h->lock);
		slob_cache_flush(h);
		spin_lock(&h->lock);
		b = bin_find(h, need);
	}
	if (unlikely(!b)) {
		spin_unlock(&h->lock);
		a = slob_area_new(h);
		if (!a)
			return NULL;
		spin_lock(&h->lock);
		list_add(&a->list, &h->areas);
		h->nr_areas++;
		b = block_at(a, SLOB_FIRST);
		bin_insert(h, b, SLOB_AREA_BLOCK);
		b = bin_find(h, need);
	}
	bsize = block_size(b);
	bin_remove(h, b, bsize);
	a = slob_area_of(b);
	off = block_off(a, b);
	rest = bsize - need;
	if (rest >= SLOB_MIN_BLOCK) {
		struct slob_block *r = block_at(a, off + need);

		r->head = rest | SLOB_PREV_INUSE;
		if (off + bsize < SLOB_AREA_SIZE)
			block_at(a, off + bsize)->prev_size = rest;
		bin_insert(h, r, rest);
		bsize = need;
	} else if (off + bsize < SLOB_AREA_SIZE) {
		block_at(a, off + bsize)->head |= SLOB_PREV_INUSE;
	}
	b->head = (uint64_t)cls << SLOB_CLASS_SHIFT | bsize | SLOB_INUSE |
		  (b->head & SLOB_PREV_INUSE);
	map_set(a, off);
	h->live[cls]++;
	a->used += (uint32_t)bsize;
	h->used_bytes += bsize;
	h->nr_blocks++;
	spin_unlock(&h->lock);
	return (char *)b + SLOB_HDR;
}

/* Offset of p's block in a, if p is the payload of a block in use; else 0. */
static size_t slob_block_of(const struct slob_area *a, const void *p)
{
	size_t off = (size_t)((const char *)p - (const char *)a) - SLOB_HDR;

	if (((uintptr_t)p & (SLOB_UNIT - 1)) || off < SLOB_FIRST || off >= SLOB_AREA_SIZE ||
	    !map_test(a, off))
		return 0;
	return off;
}

static _Noreturn void slob_bad(const void *p, const char *caller)
{
	kmem_panic("%s(): double free or invalid pointer %p: no block in use starts there",
		   caller, p);
}

/* Returns the pages given back: p's area, when p was its last block. */
static __attribute__((noinline)) unsigned long __slob_free(struct slob_area *a, const void *p,
							   const char *caller)
{
	struct slob_heap *h = a->heap;
	struct slob_block *b;
	size_t off, size, next;

	spin_lock(&h->lock);
	off = slob_block_of(a, p);
	if (unlikely(!off)) {
		spin_unlock(&h->lock);
		slob_bad(p, caller);
	}
	b = block_at(a, off);
	size = block_size(b);
	h->live[b->head >> SLOB_CLASS_SHIFT]--;
	map_clear(a, off);
	a->used -= (uint32_t)size;
	h->used_bytes -= size;
	h->nr_blocks--;
	next = off + size;
	if (!(b->head & SLOB_PREV_INUSE)) {
		size_t psize = b->prev_size;

		off -= psize;
		b = block_at(a, off);
		bin_remove(h, b, psize);
		size += psize;
	}
	if (next < SLOB_AREA_SIZE && !(block_at(a, next)->head & SLOB_INUSE)) {
		struct slob_block *n = block_at(a, next);
		size_t nsize = block_size(n);

		bin_remove(h, n, nsize);
		size += nsize;
	}
	/* a free block's predecessor is in use: free neighbours merge */
	b->head = size | SLOB_PREV_INUSE;
	if (off + size < SLOB_AREA_SIZE) {
		struct slob_block *n = block_at(a, off + size);

		n->prev_size = size;
		n->head &= ~SLOB_PREV_INUSE;
	}
	if (!a->used) {
		list_del(&a->list);
		h->nr_areas--;
		spin_unlock(&h->lock);
		slob_area_free(a);
		return SLOB_AREA_PAGES;
	}
	bin_insert(h, b, size);
	spin_unlock(&h->lock);
	return 0;
}

/*
 * The owner's cache: a thread's free of its own block puts it on its
 * heap's list for the block's class, without the lock, the bins or
 * merging, and its next malloc of that class takes it back, as glibc's
 * tcache does.  Blocks are cut to their class's size (slob_alloc_class),
 * so any cached block of a class serves any request of it, and of the
 * two classes below when it is at most a quarter bigger
 * (slob_cache_get_larger).  At most
 * SLOB_CACHE_DEPTH blocks a class and SLOB_CACHE_BYTES in all wait so:
 * the bytes bound what the cache keeps from merging, and a request the
 * bins cannot serve empties the cache into them before a new area is
 * taken (slob_alloc).  The cache empties too at thread exit and at the
 * owner's malloc_trim, and no block of a class gone busy (to its slabs)
 * waits, as no request of the class comes here any more.
 *
 * A cached block is still in use for the bitmap, so a second free has
 * to be told apart otherwise: its payload's second word holds the heap's
 * cookie (the heap's address xor a random secret, as glibc's tcache
 * key).  The owner confirms a block carrying it on its class's list (at
 * most SLOB_CACHE_DEPTH long) before the program is stopped; another
 * thread cannot read the owner's lists, and takes the cookie as proof
 * (user data equal to it by chance: one in 2^64).
 */
/* SLOB_CACHE_DEPTH and SLOB_CACHE_BYTES: slob.h */

/*
 * A class gone busy has this for its count, and no block: free's depth
 * test then turns its blocks away with no test of its own.
 */
#define SLOB_CACHE_BUSY 0x80
static_assert(SLOB_CACHE_DEPTH < SLOB_CACHE_BUSY, "a busy count fails the depth test");

/* The heap's address mixed with the secret; computed once, at the heap's
 * making (a load from the heap's line beats the secret's load and the xor
 * on every free into the cache). */
static inline uintptr_t slob_cookie(const struct slob_heap *h)
{
	return h->cookie;
}

/* The owner reads a header other threads' frees may rewrite the flags
 * of (SLOB_PREV_INUSE), unlocked: class and size stay while in use. */
static inline uint64_t block_head_unlocked(const struct slob_block *b)
{
	return __atomic_load_n(&b->head, __ATOMIC_RELAXED);
}

static inline size_t block_size_unlocked(const struct slob_block *b)
{
	return block_head_unlocked(b) & SLOB_SIZE_MASK;
}

static inline unsigned int block_class(const struct slob_block *b)
{
	return (unsigned int)(block_head_unlocked(b) >> SLOB_CLASS_SHIFT);
}

/* Is p on one of h's cache lists?  Only asked of a p carrying the cookie. */
static bool slob_cache_holds(const struct slob_heap *h, const void *p)
{
	unsigned int cls = block_class((const struct slob_block *)((const char *)p - SLOB_HDR));

	if (cls >= KMALLOC_NR_CACHES)
		return false;
	for (void **q = h->cache[cls]; q; q = q[0])
		if (q == p)
			return true;
	return false;
}

/* A cached block's payload: the list link and the cookie (its size is
 * in its header, which stays while the block is in use). */
enum { CACHE_NEXT, CACHE_COOKIE };

/* The cookie word of p, a block in use (so its payload is there to read). */
static inline uintptr_t slob_cookie_of(const void *p)
{
	return (uintptr_t)((void *const *)p)[CACHE_COOKIE];
}

static inline bool slob_cache_put(struct slob_heap *h, struct slob_area *a, void *p,
				  const char *caller)
{
	void **w = p;
	uint64_t head;
	unsigned int cls, n;
	size_t off, size;

	off = slob_block_of(a, p);
	if (unlikely(!off) ||
	    (unlikely(slob_cookie_of(p) == slob_cookie(h)) && slob_cache_holds(h, p)))
		slob_bad(p, caller);
	head = block_head_unlocked(block_at(a, off));
	cls = (unsigned int)(head >> SLOB_CLASS_SHIFT);
	size = head & SLOB_SIZE_MASK;
	n = h->cache_count[cls];
	if (n >= SLOB_CACHE_DEPTH || h->cache_bytes + size > SLOB_CACHE_BYTES)
		return false;
	w[CACHE_NEXT] = h->cache[cls];
	w[CACHE_COOKIE] = (void *)slob_cookie(h);
	h->cache[cls] = p;
	__atomic_store_n(&h->cache_count[cls], (uint8_t)(n + 1), __ATOMIC_RELAXED);
	__atomic_store_n(&h->cache_bytes, (uint32_t)(h->cache_bytes + size), __ATOMIC_RELAXED);
	return true;
}

static inline void *slob_cache_get(struct slob_heap *h, unsigned int cls)
{
	void **w = h->cache[cls];

	if (!w)
		return NULL;
	h->cache[cls] = w[CACHE_NEXT];
	__atomic_store_n(&h->cache_count[cls], (uint8_t)(h->cache_count[cls] - 1), __ATOMIC_RELAXED);
	__atomic_store_n(&h->cache_bytes,
			 (uint32_t)(h->cache_bytes -
				    block_size_unlocked((struct slob_block *)((char *)w - SLOB_HDR))),
			 __ATOMIC_RELAXED);
	w[CACHE_COOKIE] = NULL;
	return w;
}

/*
 * No cached block of class s: one of the next two classes up, if that
 * class is at most SLOB_CACHE_STRETCH of s's size bigger.  The block
 * keeps its class (its header says which), so its free caches it there
 * again.  Why: a thread whose medium sizes spread over many classes finds
 * few blocks of the exact class waiting (bench/alloc_bench threads: about
 * a quarter of its medium requests, half with this), and a block a class
 * or two up wastes no more than the class spacing above 512 bytes does.
 */
#define SLOB_CACHE_STRETCH(size) ((size) / 4)

static inline void *slob_cache_get_larger(struct slob_heap *h, const struct kmem_cache *s)
{
	unsigned int up = s->id + 1;    /* cache[] has room past the last class */
	size_t most = s->size + SLOB_CACHE_STRETCH(s->size);

	if (h->cache[up] && kmalloc_sizes[up] <= most)
		return slob_cache_get(h, up);
	if (h->cache[up + 1] && kmalloc_sizes[up + 1] <= most)
		return slob_cache_get(h, up + 1);
	return NULL;
}

/* The owner's cached blocks freed for real: the pages given back. */
static unsigned long slob_cache_flush(struct slob_heap *h)
{
	unsigned long pages = 0;
	void *p;

	for (unsigned int cls = 0; cls < KMALLOC_NR_CACHES && h->cache_bytes; cls++)
		while ((p = slob_cache_get(h, cls)))
			pages += __slob_free(slob_area_of(p), p, "free");
	return pages;
}

unsigned long slob_cache_flush_current(void)
{
	struct slob_heap *h = kmem_current->slob_heap;

	return h ? slob_cache_flush(h) : 0;
}

/* Free p, a block of a: into the owner's cache when there is room. */
void slob_free(struct slob_area *a, const void *p, const char *caller)
{
	struct slob_heap *h = a->heap;

	if (h == kmem_current->slob_heap) {
		if (slob_cache_put(h, a, (void *)p, caller))
			return;
	} else if (unlikely(slob_block_of(a, p) && slob_cookie_of(p) == slob_cookie(h))) {
		slob_bad(p, caller);    /* waiting in its owner's cache: freed */
	}
	__slob_free(a, p, caller);
}

size_t slob_usable_size(struct slob_area *a, const void *p, const char *caller)
{
	struct slob_heap *h = a->heap;
	size_t off, size;

	spin_lock(&h->lock);
	off = slob_block_of(a, p);
	size = off ? block_size(block_at(a, off)) - SLOB_HDR : 0;
	spin_unlock(&h->lock);
	/* a block in its owner's cache is freed, for all the bitmap says */
	if (!off || (unlikely(slob_cookie_of(p) == slob_cookie(h)) &&
		     (h != kmem_current->slob_heap || slob_cache_holds(h, p))))
		slob_bad(p, caller);
	return size;
}

void *slob_cache_alloc(struct kmem_thread *t, unsigned int cls)
{
	struct slob_heap *h = t->slob_heap;

	return h ? slob_cache_get(h, cls) : NULL;
}

/*
 * malloc's request of size bytes, kmalloc class s: a block, or NULL for
 * the class's slabs.  A class goes to its slabs for good, in this
 * thread, once the thread holds a slab's worth of its blocks here
 * (c->slob_busy): busy enough that a slab of it fills, where the slab
 * path is faster.  Fixed-size batches so stay on slabs, and classes
 * with a few live objects each stay here.
 */
#define SLOB_BUSY_MIN 16

void *slob_alloc_class(const struct kmem_cache *s)
{
	struct kmem_thread *t = current_thread();
	struct slob_heap *h = t->slob_heap;
	void *p;

	if (unlikely(!h) && !(h = slob_heap_get(t)))
		return NULL;
	if ((p = slob_cache_get(h, s->id)) || (h->cache_bytes && (p = slob_cache_get_larger(h, s))))
		return p;
	if (unlikely(h->live[s->id] >= MAX(2 * s->objects, SLOB_BUSY_MIN))) {
		if (t->uses_lists) {
			thread_cpu_slab(t, s)->slob_busy = true;
			/* its blocks here are not asked for again: none waits
			 * (its list is empty: slob_cache_get found none) */
			__atomic_store_n(&h->cache_count[s->id], SLOB_CACHE_BUSY, __ATOMIC_RELAXED);
		}
		return NULL;
	}
	/* cut to the class's size, so that any block of the class cached
	 * later serves any request of it */
	return slob_alloc(h, s->size, s->id);
}

/*
 * malloc_trim and the shrinker: the calling thread's cached blocks freed
 * for real, the areas they leave empty given back (an area goes back to
 * the buddy allocator when its last block does).  Other threads' caches
 * are theirs to empty: at most SLOB_CACHE_BYTES each.  Returns the pages
 * freed.
 */
unsigned long slob_shrink(gfp_t gfp)
{
	(void)gfp;
	return slob_cache_flush_current();
}

void slob_get_usage(struct slob_usage *u)
{
	struct slob_heap *h;

	memset(u, 0, sizeof(*u));
	pthread_mutex_lock(&slob_heaps_lock);
	list_for_each_entry(h, &slob_heaps, list) {
		unsigned long cached;

		spin_lock(&h->lock);
		u->heaps++;
		u->area_bytes += h->nr_areas * SLOB_AREA_SIZE;
		/* the owners' cached blocks count as free, as a slab's free objects */
		cached = __atomic_load_n(&h->cache_bytes, __ATOMIC_RELAXED);
		u->cached_bytes += cached;
		u->used_bytes += h->used_bytes - cached;
		u->blocks += h->nr_blocks;
		for (unsigned int cls = 0; cls < KMALLOC_NR_CACHES; cls++)
			u->blocks -= __atomic_load_n(&h->cache_count[cls], __ATOMIC_RELAXED) &
				     (SLOB_CACHE_BUSY - 1);
		spin_unlock(&h->lock);
	}
	pthread_mutex_unlock(&slob_heaps_lock);
}

/* calloc's: the same, zeroed over its whole usable size, as kzalloc zeroes. */
void *slob_calloc_class(const struct kmem_cache *s)
{
	void *p = slob_alloc_class(s);

	if (p)
		memset(p, 0, block_size((struct slob_block *)((char *)p - SLOB_HDR)) - SLOB_HDR);
	return p;
}
