/*
 * mm_types.h - struct page, the descriptor of one 4 KiB page frame, and the
 * arena geometry that turns pointers into descriptors and back.
 *
 * mem_map is one array of struct page indexed by pfn, reserved for the
 * whole arena and committed a section at a time as sections come online
 * (vmemmap style).  Conversions are plain arithmetic on three globals that
 * are written once, at kmem_init, and only read afterwards.
 *
 * Layout of struct page (64 bytes, one cache line, checked by
 * static_assert), a union per owner as in the kernel:
 *   flags        PG_* state bits (16-31); on a tail page of a slab or of a
 *                medium-heap area, bits 0-15 hold the distance back to
 *                the head's descriptor
 *   order        order of the block this page heads (buddy, pcp, allocated, slab)
 *   migratetype  the free list a free block sits on
 *   buddy/pcp:   lru (free list link), private
 *   slab:        slab_list, slab_cache, freelist, remote_free, slab_owner,
 *                inuse, objects, carved (see slub.c)
 *   tail pages of a slab: PG_tail and the distance in flags, and copies
 *                of the head's slab_cache and slab_owner
 *   tail pages of a medium-heap area (slob.c): PG_tail and the distance
 *                in flags, nothing else
 * A page's zone and node are not stored in it: they are a property of its
 * section (section_links), so bringing a section online writes no
 * descriptor and mem_map is committed only where pages are used.
 * Only the head page of a block carries state; the other pages of a free
 * or allocated block have no PG_* bit set, which is how freeing an
 * interior page is detected.  slab_owner is non-NULL only on the pages
 * of a live slab: no other layout reaches its bytes (checked below), a
 * new slab starts with NULL, slab_set_owner writes it on every page of
 * the slab at once and free_slab clears it, which lets the free path
 * test ownership before PG_slab (kmalloc.h).  The exceptions to state on
 * the head only: the tail pages of a slab or of a medium-heap area have
 * PG_tail and their distance to the head, set and cleared together
 * (allocate_slab and free_slab, slob_area_new and slob_area_free), so
 * the free path finds a slab's or an area's head with arithmetic and no
 * branch; and a slab's tail pages carry copies of slab_cache and
 * slab_owner, so the free path reads both from the pointer's own page
 * while the head's address is still being computed.
 */
#ifndef KMEM_MM_TYPES_H
#define KMEM_MM_TYPES_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <assert.h>
#include "kmem.h"
#include "list.h"

#define PAGE_SHIFT          KMEM_PAGE_SHIFT
#define PAGE_SIZE           KMEM_PAGE_SIZE
#define PAGE_MASK           (~(PAGE_SIZE - 1))
#define MAX_ORDER           KMEM_MAX_ORDER
#define NR_PAGE_ORDERS      (MAX_ORDER + 1)
#define MAX_ORDER_NR_PAGES  (1UL << MAX_ORDER)

/* A pageblock (2 MiB) is the unit that carries a migrate type. */
#define pageblock_order     9
#define pageblock_nr_pages  (1UL << pageblock_order)

/* A section (4 MiB, one MAX_ORDER block) is the unit memory comes online in. */
#define SECTION_ORDER       MAX_ORDER
#define PAGES_PER_SECTION   (1UL << SECTION_ORDER)
#define SECTION_SIZE        (PAGES_PER_SECTION << PAGE_SHIFT)

#define PAGE_ALLOC_COSTLY_ORDER 3

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Bits 0-15 of flags are a slab tail page's distance (page_tail_back). */
enum pageflags {
	PG_buddy  = 1u << 16,  /* head of a free block on a zone free_area list */
	PG_pcp    = 1u << 17,  /* head of a free block on a thread's pcp list */
	PG_head   = 1u << 18,  /* head of an allocated block */
	PG_zeroed = 1u << 19,  /* free block known to read as zeroes (fresh from the OS) */
	PG_reserved = 1u << 20, /* frame outside any usable zone */
	PG_slab   = 1u << 21,  /* with PG_head: the block is a slab */
	PG_large  = 1u << 22,  /* with PG_head: a kmalloc_large allocation */
	PG_tail   = 1u << 23,  /* a slab's or an area's page but its head: page_tail_back */
	PG_idle   = 1u << 24,  /* free block below pageblock size, unused since the last release pass */
	PG_released = 1u << 25, /* free block below pageblock size whose memory went back to the OS */
	PG_slob   = 1u << 26,  /* with PG_head: an area of malloc's medium heap (slob.c) */
};
#define PAGE_STATE_MASK  (PG_buddy | PG_pcp | PG_head)

struct kmem_cache;
struct kmem_thread;

struct page {
	uint32_t flags;
	uint8_t order;
	uint8_t migratetype;
	/* A slab's head page (below), outside the union for want of room
	 * there: bytes no other layout uses. */
	uint8_t slab_state;
	uint8_t slab_fresh;             /* free objects read as zero but their free pointer */
	union {
		struct {                        /* buddy and pcp lists */
			struct list_head lru;
			unsigned long private;
		};
		struct {                        /* head page of a slab */
			struct list_head slab_list;
			struct kmem_cache *slab_cache;
			void *freelist;                 /* frees by the owner */
			_Atomic uintptr_t remote_free;  /* frees by other threads */
			struct kmem_thread *slab_owner;
			uint16_t inuse;
			uint16_t objects;
			/* objects [carved, objects) never linked: free, untouched.
			 * 32 bits, though it never passes 65535, so that free's
			 * check compares with it in memory (slab_offset_valid). */
			uint32_t carved;
		};
		struct {                        /* head page of a kmalloc_large block */
			unsigned long large_pages;      /* pages of the block: 2^get_order(large_size) */
			size_t large_size;              /* bytes requested */
		};
	};
};

static_assert(offsetof(struct page, slab_owner) >= offsetof(struct page, private) +
	      sizeof(unsigned long) && offsetof(struct page, slab_owner) >=
	      offsetof(struct page, large_size) + sizeof(size_t),
	      "slab_owner shares its bytes with no other layout");

#define STRUCT_PAGE_SHIFT 6
static_assert(sizeof(struct page) == 1u << STRUCT_PAGE_SHIFT, "struct page must stay one cache line");

/* flags' bits 0-15 hold a slab tail page's distance to its head, in bytes
 * of mem_map: subtracting it needs no multiply, and reading it no shift. */
#define PG_TAIL_BACK_MASK 0xffffu
static_assert((1u << (KMEM_MAX_ORDER + STRUCT_PAGE_SHIFT)) <= PG_TAIL_BACK_MASK + 1,
	      "a block's distances fit in flags' low bits");
static_assert(!(PG_buddy & PG_TAIL_BACK_MASK), "PG_* bits above the distance");

/* flags for the tail page i pages into a slab */
static inline uint32_t page_tail_flags(unsigned long i)
{
	return PG_tail | (uint32_t)(i << STRUCT_PAGE_SHIFT);
}

/* Bytes of mem_map from page back to its slab's (or area's) head: 0 unless
 * a tail page. */
static inline uint32_t page_tail_back(const struct page *page)
{
	return page->flags & PG_TAIL_BACK_MASK;
}

/*
 * A thread's state for one slab cache (mm/slub.c: struct kmem_cache_cpu).
 * Laid out for the fast paths: freelist, then the active slab.  All zero
 * is a valid empty state, so a thread's array of them costs memory only
 * for the caches the thread uses.
 */
struct kmem_cache_cpu {
	void *freelist;                 /* free objects of slab */
	struct page *slab;              /* active slab, owned by this thread */
	struct list_head partial;       /* thread-partial slabs; {NULL, NULL} until used */
	unsigned int nr_partial;
	bool fresh;                     /* freelist objects are zero but their free pointer */
	bool slob_busy;                 /* malloc: this class uses its slabs (slob.c) */
	int16_t park_budget;            /* owner frees freelist still takes (slab_free_fast) */
};

/* Smallest order whose block holds size bytes. */
static inline unsigned int get_order(size_t size)
{
	if (size <= PAGE_SIZE)
		return 0;
	return (unsigned int)(64 - __builtin_clzl((size - 1) >> PAGE_SHIFT));
}

/* Arena geometry: written once by arena_init. */
extern char *arena_base;            /* address of pfn 0 */
extern struct page *mem_map;        /* descriptor of pfn 0 */
extern unsigned long max_pfn;       /* pfns [0, max_pfn) are in the arena */

static inline unsigned long __page_to_pfn(const struct page *page)
{
	return (unsigned long)(page - mem_map);
}

static inline struct page *__pfn_to_page(unsigned long pfn)
{
	return mem_map + pfn;
}

static inline void *lowmem_page_address(const struct page *page)
{
	return arena_base + (__page_to_pfn(page) << PAGE_SHIFT);
}

/* Arena offset of an address: the emulated physical address. */
static inline unsigned long __pa(const void *addr)
{
	return (unsigned long)((const char *)addr - arena_base);
}

/* By pfn: free needs the pfn anyway, and max_pfn is compared as it is. */
static inline bool arena_contains(const void *addr)
{
	return (__pa(addr) >> PAGE_SHIFT) < max_pfn;
}

static inline struct page *__virt_to_page(const void *addr)
{
	return __pfn_to_page(__pa(addr) >> PAGE_SHIFT);
}

/*
 * Make page the head of an allocated block of 2^order pages.  The order is
 * stored before the state bit: a KMEM_DEBUG_VM walk that sees PG_head
 * must also see the block's real order, not a stale one.
 */
static inline void set_page_head(struct page *page, unsigned int order, uint32_t extra)
{
	page->order = (uint8_t)order;
	__atomic_signal_fence(__ATOMIC_RELEASE);
	page->flags = (page->flags & ~(uint32_t)PAGE_STATE_MASK) | PG_head | extra;
}

/* Per section: node << 3 | zone, written when the section comes online. */
extern uint16_t *section_links;

static inline unsigned int page_section_links(const struct page *page)
{
	return section_links[__page_to_pfn(page) >> SECTION_ORDER];
}

static inline enum zone_type page_zonenum(const struct page *page)
{
	return (enum zone_type)(page_section_links(page) & 7u);
}

static inline int __page_to_nid(const struct page *page)
{
	return (int)(page_section_links(page) >> 3);
}

#endif /* KMEM_MM_TYPES_H */
