/*
 * arena.c - the emulated physical memory: one reserved, aligned range of
 * virtual memory for all nodes, its mem_map, and the side tables indexed
 * by section and by pageblock.
 *
 * Contracts:
 *  - Everything is reserved at kmem_init and costs nothing until a section
 *    comes online; memory is taken from the OS only in whole
 *    4 MiB sections, each backed by hugetlb pages, THP or 4 KiB pages per
 *    KMEM_HUGEPAGES, and the backing is recorded per section.
 *  - A section's 1024 descriptors (64 KiB of mem_map) become writable
 *    when it comes online, zero (no state) until first written, so the OS
 *    commits only the descriptor pages of pages in use.  mem_map is
 *    readable from the start (the arena itself is PROT_NONE): the free
 *    fast path reads the descriptor of any arena address without asking
 *    whether its section is online, and an offline one reads as zero, no
 *    state, which sends the pointer to the checked slow path.
 *  - Sections never go offline: free memory goes back to the OS with
 *    MADV_DONTNEED (arena_release), which keeps the mapping.
 * Callers hold the owning zone's lock; the tables are written only there.
 */
#include <errno.h>
#include <linux/mempolicy.h>
#include <sys/mman.h>
#include "internal.h"

char *arena_base;
struct page *mem_map;
unsigned long max_pfn;
uint8_t *section_state;
uint16_t *section_links;
uint8_t *pageblock_flags;
struct arena_stats arena_stats;

/* auto mode stops asking for hugetlb pages once the OS had none. */
static bool hugetlb_exhausted;

static void *reserve(size_t len, size_t align, int prot)
{
	char *p = kmem_os.mmap(NULL, len + align, prot,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *aligned;

	if (p == MAP_FAILED)
		return NULL;
	aligned = (char *)ALIGN_UP((uintptr_t)p, align);
	if (aligned > p)
		kmem_os.munmap(p, (size_t)(aligned - p));
	if (aligned + len < p + len + align)
		kmem_os.munmap(aligned + len, (size_t)(p + len + align - (aligned + len)));
	return aligned;
}

static void *zeroed_table(size_t len)
{
	void *p = kmem_os.mmap(NULL, ALIGN_UP(len, PAGE_SIZE), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int arena_init(unsigned long nr_pages)
{
	unsigned long nr_sections = nr_pages >> SECTION_ORDER;

	nr_pages = nr_sections << SECTION_ORDER;
	arena_base = reserve(nr_pages << PAGE_SHIFT, SECTION_SIZE, PROT_NONE);
	mem_map = reserve(nr_pages * sizeof(struct page), PAGE_SIZE, PROT_READ);
	section_state = zeroed_table(nr_sections);
	section_links = zeroed_table(nr_sections * sizeof(*section_links));
	pageblock_flags = zeroed_table(nr_pages >> pageblock_order);
	if (!arena_base || !mem_map || !section_state || !section_links || !pageblock_flags) {
		/* Undo, so that the caller can try a smaller arena. */
		if (arena_base)
			kmem_os.munmap(arena_base, nr_pages << PAGE_SHIFT);
		if (mem_map)
			kmem_os.munmap(mem_map, nr_pages * sizeof(struct page));
		if (section_state)
			kmem_os.munmap(section_state, ALIGN_UP(nr_sections, PAGE_SIZE));
		if (section_links)
			kmem_os.munmap(section_links, ALIGN_UP(nr_sections * sizeof(*section_links), PAGE_SIZE));
		if (pageblock_flags)
			kmem_os.munmap(pageblock_flags, ALIGN_UP(nr_pages >> pageblock_order, PAGE_SIZE));
		arena_base = NULL;
		mem_map = NULL;
		section_state = NULL;
		section_links = NULL;
		pageblock_flags = NULL;
		errno = ENOMEM;
		return -1;
	}
	max_pfn = nr_pages;
	return 0;
}

/* Put PROT_NONE back over a range whose MAP_FIXED replacement failed:
 * older kernels unmap the old range before the new mapping can fail. */
static void rereserve(char *addr, size_t len)
{
	kmem_os.mmap(addr, len, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
}

static unsigned long sections_online(void)
{
	return arena_stats.sections[BACKING_HUGETLB] + arena_stats.sections[BACKING_THP] +
	       arena_stats.sections[BACKING_4K];
}

static enum section_backing map_section(char *addr)
{
	enum hugepage_policy policy = kmem_config.hugepages;

	if (policy == HUGEPAGES_HUGETLB ||
	    (policy == HUGEPAGES_AUTO && !hugetlb_exhausted)) {
		void *p = kmem_os.mmap(addr, SECTION_SIZE, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
				       MAP_HUGETLB, -1, 0);
		if (p == addr)
			return BACKING_HUGETLB;
		rereserve(addr, SECTION_SIZE);
		arena_stats.hugetlb_fallbacks++;
		if (policy == HUGEPAGES_AUTO)
			hugetlb_exhausted = true;
	}
	if (kmem_os.mprotect(addr, SECTION_SIZE, PROT_READ | PROT_WRITE))
		return BACKING_NONE;
	/*
	 * auto: a small heap stays on 4 KiB pages, where a 2 MiB page would
	 * be mostly empty memory (it doubled the RSS of small programs);
	 * THP starts once the heap has grown past AUTO_THP_MIN_SECTIONS.
	 */
	if (policy == HUGEPAGES_OFF ||
	    (policy == HUGEPAGES_AUTO && sections_online() < AUTO_THP_MIN_SECTIONS)) {
		kmem_os.madvise(addr, SECTION_SIZE, MADV_NOHUGEPAGE);
		return BACKING_4K;
	}
	if (kmem_os.madvise(addr, SECTION_SIZE, MADV_HUGEPAGE) == 0)
		return BACKING_THP;
	return BACKING_4K;
}

/* Prefer the section's node; where the node does not exist (a fake
 * topology, or a kernel without NUMA) the OS says no and we count it. */
static void bind_section(char *addr, int nid)
{
	unsigned long mask[MAX_NUMNODES / (8 * sizeof(unsigned long)) + 1] = { 0 };

	mask[nid / (8 * sizeof(unsigned long))] |= 1UL << (nid % (8 * sizeof(unsigned long)));
	if (kmem_os.mbind(addr, SECTION_SIZE, MPOL_PREFERRED, mask,
			  MAX_NUMNODES + 1, 0) == 0)
		NODE_DATA(nid)->mbind_ok++;
	else
		NODE_DATA(nid)->mbind_failed++;
}

void arena_init_hugetlb_policy(void)
{
	if (kmem_config.hugepages == HUGEPAGES_AUTO && os_free_hugetlb_pages() <= 0)
		hugetlb_exhausted = true;
}

enum section_backing arena_online_section(unsigned long pfn, int nid,
					  enum zone_type zt)
{
	char *addr = arena_base + (pfn << PAGE_SHIFT);
	struct page *map = __pfn_to_page(pfn);
	size_t map_bytes = PAGES_PER_SECTION * sizeof(struct page);
	enum section_backing backing;

	if (kmem_os.mprotect(map, map_bytes, PROT_READ | PROT_WRITE))
		return BACKING_NONE;
	backing = map_section(addr);
	if (backing == BACKING_NONE) {
		kmem_os.mprotect(map, map_bytes, PROT_READ);
		return BACKING_NONE;
	}
	bind_section(addr, nid);
	section_links[pfn >> SECTION_ORDER] = (uint16_t)((unsigned)nid << 3 | zt);
	arena_stats.mem_map_bytes += map_bytes;
	arena_stats.sections[backing]++;
	section_state[pfn >> SECTION_ORDER] = (uint8_t)backing;
	return backing;
}

void arena_release(unsigned long pfn, unsigned long nr)
{
	kmem_os.madvise(arena_base + (pfn << PAGE_SHIFT), nr << PAGE_SHIFT,
			MADV_DONTNEED);
}
