/*
 * debug_vm.c - what kmem does when the page allocator is misused or its
 * own invariants break.
 *
 * Misuse (freeing a free page, an interior page, a block with the wrong
 * order, or an address outside the arena) is always fatal: the kernel's
 * "BUG: Bad page state" report, then abort(), before anything is
 * corrupted.  With KMEM_DEBUG_VM=1 every zone operation also checks the
 * zone's counters, and every 256th one walks the whole zone
 * (kmem_check_zone); a broken invariant is fatal too.  None of this costs
 * anything when KMEM_DEBUG_VM is off but one predicted branch.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

unsigned long kmem_vm_bugs;

#define FULL_CHECK_INTERVAL 256

static const char *process_name(char *buf, size_t size)
{
	ssize_t n = os_read_file("/proc/self/comm", buf, size);

	if (n <= 0)
		return "?";
	if (buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return buf;
}

static void format_flags(uint32_t flags, char *buf, size_t size)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		{ PG_buddy, "buddy" }, { PG_pcp, "pcp" }, { PG_head, "head" },
		{ PG_zeroed, "zeroed" }, { PG_reserved, "reserved" },
		{ PG_idle, "idle" }, { PG_released, "released" },
	};
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!(flags & names[i].bit))
			continue;
		len += (size_t)kmem_snprintf(buf + len, size - MIN(len, size), "%s%s",
					     len ? "|" : "", names[i].name);
	}
}

_Noreturn void bad_page(struct page *page, unsigned int order, const char *reason)
{
	char comm[64], flags[96];
	unsigned long pfn = __page_to_pfn(page);

	format_flags(page->flags, flags, sizeof(flags));
	kmem_warn("BUG: Bad page state in process %s  pfn:%#lx",
		  process_name(comm, sizeof(comm)), pfn);
	kmem_warn("page:%p pfn:%#lx order:%u (freed as order %u) zone:%s node:%d",
		  (void *)page, pfn, page->order, order,
		  zone_names[page_zonenum(page)], __page_to_nid(page));
	kmem_warn("flags: %#x(%s) pageblock:%s", page->flags, flags,
		  migratetype_names[get_pageblock_migratetype(pfn) % MIGRATE_TYPES]);
	kmem_panic("page dumped because: %s", reason);
}

_Noreturn void bad_address(const void *addr, const char *what)
{
	char comm[64];

	kmem_warn("BUG: Bad page state in process %s  addr:%p",
		  process_name(comm, sizeof(comm)), addr);
	kmem_panic("page dumped because: %s() of an address that is not a page kmem handed out",
		   what);
}

#define VM_BUG(zone, ...) do {						\
	kmem_warn("VM_BUG: node %d zone %s: ", (zone)->node, (zone)->name);	\
	kmem_warn(__VA_ARGS__);						\
	bugs++;								\
} while (0)

/* Counters only: O(MAX_ORDER). */
static unsigned long check_zone_counters(struct zone *zone)
{
	unsigned long bugs = 0;
	long sum = (long)(zone->managed_pages - zone->online_pages);

	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		sum += (long)(zone->free_area[o].nr_free << o);
	if (sum != zone_page_state(zone))
		VM_BUG(zone, "free_pages %ld but free lists and offline pages hold %ld",
		       zone_page_state(zone), sum);
	if (zone->released_pages > zone->online_pages)
		VM_BUG(zone, "released %lu > online %lu", zone->released_pages,
		       zone->online_pages);
	return bugs;
}

static unsigned long check_free_lists(struct zone *zone)
{
	unsigned long bugs = 0;

	for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++) {
		unsigned long count = 0;

		for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
			struct page *page;

			list_for_each_entry(page, &zone->free_area[o].free_list[mt], lru) {
				unsigned long pfn = __page_to_pfn(page);
				unsigned long nr_pb = o >= pageblock_order ? 1UL << (o - pageblock_order) : 1;

				count++;
				if (pfn < zone->zone_start_pfn || pfn >= zone_end_pfn(zone) ||
				    !pfn_section_online(pfn)) {
					VM_BUG(zone, "free block pfn %#lx outside the zone's online memory", pfn);
					continue;
				}
				if ((page->flags & PAGE_STATE_MASK) != PG_buddy)
					VM_BUG(zone, "pfn %#lx on free list without only PG_buddy (flags %#x)",
					       pfn, page->flags);
				if (page->order != o || page->migratetype != mt)
					VM_BUG(zone, "pfn %#lx on list [%u][%d] says order %u type %u",
					       pfn, o, mt, page->order, page->migratetype);
				if (pfn & ((1UL << o) - 1))
					VM_BUG(zone, "pfn %#lx misaligned for order %u", pfn, o);
				for (unsigned long i = 0; i < nr_pb; i++)
					if (get_pageblock_migratetype(pfn + i * pageblock_nr_pages) != mt)
						VM_BUG(zone, "pfn %#lx on %s list in a %s pageblock", pfn,
						       migratetype_names[mt],
						       migratetype_names[get_pageblock_migratetype(pfn + i * pageblock_nr_pages) % MIGRATE_TYPES]);
				if (o < MAX_ORDER) {
					struct page *buddy = __pfn_to_page(pfn ^ (1UL << o));

					if ((buddy->flags & PG_buddy) && buddy->order == o)
						VM_BUG(zone, "pfn %#lx and its buddy are both free at order %u",
						       pfn, o);
				}
			}
		}
		if (count != zone->free_area[o].nr_free)
			VM_BUG(zone, "order %u: nr_free %lu but %lu blocks listed", o,
			       zone->free_area[o].nr_free, count);
	}
	return bugs;
}

/* PG_tail and a distance to the head: on the tail pages of a slab or of
 * a medium-heap area only. */
static inline uint32_t tail_marks(const struct page *page)
{
	return page->flags & (PG_tail | PG_TAIL_BACK_MASK);
}

/*
 * Every online page: blocks tile the zone, interiors carry no state, and
 * no block's head, nor any page of a free block on the zone's lists,
 * carries a slab tail's marks, which free would follow without a check
 * (mm_types.h).  The pages of allocated blocks belong to their owners,
 * who mark and unmark them without the zone lock.
 */
static unsigned long check_page_tiling(struct zone *zone)
{
	unsigned long bugs = 0, released = 0;
	unsigned long end = zone->zone_start_pfn + zone->online_pages;

	for (unsigned long pfn = zone->zone_start_pfn; pfn < end;) {
		struct page *page = __pfn_to_page(pfn);
		unsigned long nr = 1;

		if (page->flags & PAGE_STATE_MASK) {
			nr = 1UL << page->order;
			if (page->flags & PG_released) {
				if (!(page->flags & PG_buddy) || page->order >= pageblock_order)
					VM_BUG(zone, "pfn %#lx: PG_released on a block that is not a free fragment",
					       pfn);
				released += nr;
			}
			if (pfn & (nr - 1))
				VM_BUG(zone, "block at pfn %#lx misaligned for order %u", pfn, page->order);
			if (tail_marks(page))
				VM_BUG(zone, "pfn %#lx heads a block but has slab tail marks %#x",
				       pfn, tail_marks(page));
			for (unsigned long i = 1; i < nr && pfn + i < end; i++) {
				if (page[i].flags & PAGE_STATE_MASK) {
					VM_BUG(zone, "pfn %#lx has state inside the block at %#lx",
					       pfn + i, pfn);
					break;
				}
				if ((page->flags & PG_buddy) && tail_marks(&page[i])) {
					VM_BUG(zone, "pfn %#lx, free, has slab tail marks %#x",
					       pfn + i, tail_marks(&page[i]));
					break;
				}
			}
		}
		pfn += nr;
	}
	for (unsigned long pfn = zone->zone_start_pfn; pfn < end; pfn += pageblock_nr_pages)
		if (pageblock_flags[pfn >> pageblock_order] & PB_RELEASED)
			released += pageblock_nr_pages;
	if (released != zone->released_pages)
		VM_BUG(zone, "released_pages %lu but %lu pages are marked released",
		       zone->released_pages, released);
	return bugs;
}

static unsigned long __kmem_check_zone(struct zone *zone)
{
	unsigned long bugs = check_zone_counters(zone) + check_free_lists(zone) +
			     check_page_tiling(zone);

	kmem_vm_bugs += bugs;
	return bugs;
}

unsigned long kmem_check_zone(struct zone *zone)
{
	unsigned long bugs;

	pthread_mutex_lock(&zone->lock);
	bugs = __kmem_check_zone(zone);
	pthread_mutex_unlock(&zone->lock);
	return bugs;
}

unsigned long kmem_check_all(void)
{
	unsigned long bugs = 0;
	struct zone *zone;
	int nid;

	for_each_online_node(nid)
		for_each_populated_zone_of(NODE_DATA(nid), zone)
			bugs += kmem_check_zone(zone);
	return bugs;
}

void debug_vm_zone_op(struct zone *zone)
{
	unsigned long bugs;

	if (likely(!kmem_config.debug_vm))
		return;
	bugs = check_zone_counters(zone);
	if (++zone->debug_ops % FULL_CHECK_INTERVAL == 0)
		bugs += check_free_lists(zone) + check_page_tiling(zone);
	if (bugs) {
		kmem_vm_bugs += bugs;
		kmem_panic("VM_BUG: %lu broken invariants in node %d zone %s (KMEM_DEBUG_VM)",
			   bugs, zone->node, zone->name);
	}
}
