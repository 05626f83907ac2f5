/*
 * kmem.h - kmem's public API: the Linux kernel's page allocator interface,
 * in user space.
 *
 * "Physical memory" is an arena of reserved virtual memory per NUMA node;
 * a page frame number (pfn) is a 4 KiB page's offset in it.  struct page is
 * opaque here: convert with page_address / virt_to_page / page_to_pfn /
 * pfn_to_page, which are O(1) arithmetic.
 *
 * Every function initialises kmem on first use (kmem_init).  Failures
 * return NULL with errno set to ENOMEM; misuse that would corrupt the heap
 * (freeing a free page, a page that is not the head of its block, or memory
 * kmem does not own) stops the program with a "kmem: BUG: Bad page state"
 * message.
 */
#ifndef KMEM_H
#define KMEM_H

#include <stddef.h>
#include <kmem/gfp.h>
#include <kmem/slab.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KMEM_EXPORT __attribute__((visibility("default")))

#define KMEM_PAGE_SHIFT  12
#define KMEM_PAGE_SIZE   (1UL << KMEM_PAGE_SHIFT)
#define KMEM_MAX_ORDER   10               /* orders 0..KMEM_MAX_ORDER: 4 KiB .. 4 MiB */
#define NUMA_NO_NODE     (-1)

struct page;
struct zone;

/* Zone types, in the kernel's order (lowest first). */
enum zone_type {
	ZONE_DMA,
	ZONE_DMA32,
	ZONE_NORMAL,
	ZONE_HIGHMEM,
	ZONE_MOVABLE,
	MAX_NR_ZONES
};

/* Bring kmem up now (reads KMEM_* options, sysfs topology).  Idempotent;
 * returns 0, or -1 with errno set when the arena cannot be reserved. */
KMEM_EXPORT int kmem_init(void);

/* Page allocator. */
KMEM_EXPORT struct page *alloc_pages(gfp_t gfp, unsigned int order);
KMEM_EXPORT struct page *alloc_pages_node(int nid, gfp_t gfp, unsigned int order);
KMEM_EXPORT void __free_pages(struct page *page, unsigned int order);
KMEM_EXPORT unsigned long __get_free_pages(gfp_t gfp, unsigned int order);
KMEM_EXPORT unsigned long get_zeroed_page(gfp_t gfp);
KMEM_EXPORT void free_pages(unsigned long addr, unsigned int order);
KMEM_EXPORT void *alloc_pages_exact(size_t size, gfp_t gfp);
KMEM_EXPORT void *alloc_pages_exact_nid(int nid, size_t size, gfp_t gfp);
KMEM_EXPORT void free_pages_exact(void *virt, size_t size);

#define alloc_page(gfp)         alloc_pages(gfp, 0)
#define __get_free_page(gfp)    __get_free_pages(gfp, 0)
#define __free_page(page)       __free_pages(page, 0)
#define free_page(addr)         free_pages(addr, 0)

/* Conversions (O(1)). */
KMEM_EXPORT void *page_address(const struct page *page);
KMEM_EXPORT struct page *virt_to_page(const void *addr);
KMEM_EXPORT unsigned long page_to_pfn(const struct page *page);
KMEM_EXPORT struct page *pfn_to_page(unsigned long pfn);
KMEM_EXPORT int pfn_valid(unsigned long pfn);
KMEM_EXPORT struct zone *page_zone(const struct page *page);
KMEM_EXPORT int page_to_nid(const struct page *page);
KMEM_EXPORT enum zone_type zone_idx(const struct zone *zone);
KMEM_EXPORT const char *zone_name(const struct zone *zone);
KMEM_EXPORT int zone_to_nid(const struct zone *zone);

/* Topology. */
KMEM_EXPORT int kmem_nr_nodes(void);
KMEM_EXPORT int numa_node_id(void);            /* node of the CPU the caller runs on */
KMEM_EXPORT int cpu_to_node(int cpu);
KMEM_EXPORT int node_distance(int from, int to);

/* Reclaim: drain this thread's / every thread's per-cpu page lists into
 * the buddy lists, and give idle free memory back to the OS. */
KMEM_EXPORT void drain_local_pages(void);
KMEM_EXPORT void drain_all_pages(void);
KMEM_EXPORT size_t kmem_reclaim(void);         /* returns bytes given back to the OS */

/* Reports in the kernel's /proc formats, written to fd. */
KMEM_EXPORT void kmem_show_buddyinfo(int fd);
KMEM_EXPORT void kmem_show_pagetypeinfo(int fd);
KMEM_EXPORT void kmem_show_zoneinfo(int fd);
KMEM_EXPORT void kmem_show_meminfo(int fd);

#ifdef __cplusplus
}
#endif

#endif /* KMEM_H */
