/*
 * mm_types.h - struct page, the descriptor of one 4 KiB page frame, and the
 * arena geometry that turns pointers into descriptors and back.
 *
 * mem_map is one array of struct page indexed by pfn, reserved for the
 * whole arena and committed a section at a time as sections come online
 * (vmemmap style).  Conversions are plain arithmetic on three globals that
 * are written once, at kmem_init, and only read afterwards.
 *
 * Layout of struct page (32 bytes, checked by static_assert):
 *   flags        PG_* state bits (low 16), zone (3 bits), node (8 bits)
 *   order        order of the block this page heads (buddy, pcp or allocated)
 *   migratetype  the free list a free block sits on
 *   lru          link on a buddy free_area list or a pcp list
 *   private      owner-specific word (unused by the page allocator)
 * Only the head page of a block carries state; the other pages of a free or
 * allocated block have no PG_* bit set, which is how freeing an interior
 * page is detected.
 */
#ifndef KMEM_MM_TYPES_H
#define KMEM_MM_TYPES_H

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

enum pageflags {
	PG_buddy  = 1u << 0,   /* head of a free block on a zone free_area list */
	PG_pcp    = 1u << 1,   /* head of a free block on a thread's pcp list */
	PG_head   = 1u << 2,   /* head of an allocated block */
	PG_zeroed = 1u << 3,   /* free block known to read as zeroes (fresh from the OS) */
	PG_reserved = 1u << 4, /* frame outside any usable zone */
};
#define PAGE_STATE_MASK  (PG_buddy | PG_pcp | PG_head)

#define ZONES_SHIFT      16
#define ZONES_MASK       0x7u
#define NODES_SHIFT      19
#define NODES_MASK       0xffu

struct page {
	uint32_t flags;
	uint8_t order;
	uint8_t migratetype;
	uint16_t _reserved;
	struct list_head lru;
	unsigned long private;
};

static_assert(sizeof(struct page) == 32, "struct page must stay 32 bytes");

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

static inline bool arena_contains(const void *addr)
{
	return __pa(addr) < (max_pfn << PAGE_SHIFT);
}

static inline struct page *__virt_to_page(const void *addr)
{
	return __pfn_to_page(__pa(addr) >> PAGE_SHIFT);
}

static inline enum zone_type page_zonenum(const struct page *page)
{
	return (enum zone_type)((page->flags >> ZONES_SHIFT) & ZONES_MASK);
}

static inline int __page_to_nid(const struct page *page)
{
	return (int)((page->flags >> NODES_SHIFT) & NODES_MASK);
}

static inline void set_page_links(struct page *page, enum zone_type zone, int nid)
{
	page->flags = ((uint32_t)zone << ZONES_SHIFT) | ((uint32_t)nid << NODES_SHIFT);
}

#endif /* KMEM_MM_TYPES_H */
