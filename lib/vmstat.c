/*
 * vmstat.c - the reports: buddyinfo, pagetypeinfo, zoneinfo and meminfo,
 * in the layouts of the kernel's /proc files (mm/vmstat.c), so the same
 * eyes and scripts can read them.  Fields the kernel has and kmem does not
 * model print as 0; kmem's own fields (online, released, backing) are
 * added after the kernel's.
 *
 * Every report is one walk over the populated zones of the online nodes
 * with a callback per zone; counters are read without locks, as /proc
 * does, except where a list must be walked.  Output goes through a
 * kmem_buf, so reporting never allocates.
 */
#include "internal.h"

typedef void (*zone_show_fn)(struct kmem_buf *b, pg_data_t *pgdat, struct zone *zone);

static void walk_zones(struct kmem_buf *b, zone_show_fn show)
{
	int nid;

	for_each_online_node(nid) {
		struct zone *zone;

		for_each_populated_zone_of(NODE_DATA(nid), zone)
			show(b, NODE_DATA(nid), zone);
	}
}

static void show_report(int fd, const char *header, zone_show_fn show)
{
	struct kmem_buf b;

	if (!kmem_ready())
		return;
	kmem_buf_init(&b, fd);
	if (header)
		kmem_bprintf(&b, "%s", header);
	walk_zones(&b, show);
	kmem_buf_flush(&b);
}

static void buddyinfo_show(struct kmem_buf *b, pg_data_t *pgdat, struct zone *zone)
{
	kmem_bprintf(b, "Node %d, zone %8s ", pgdat->node_id, zone->name);
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		kmem_bprintf(b, "%6lu ", __atomic_load_n(&zone->free_area[o].nr_free, __ATOMIC_RELAXED));
	kmem_bprintf(b, "\n");
}

void kmem_show_buddyinfo(int fd)
{
	show_report(fd, NULL, buddyinfo_show);
}

static void pagetypeinfo_free_show(struct kmem_buf *b, pg_data_t *pgdat, struct zone *zone)
{
	pthread_mutex_lock(&zone->lock);
	for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
		kmem_bprintf(b, "Node %4d, zone %8s, type %12s ", pgdat->node_id,
			     zone->name, migratetype_names[mt]);
		for (int o = 0; o < NR_PAGE_ORDERS; o++) {
			unsigned long n = 0;
			struct list_head *pos;

			list_for_each(pos, &zone->free_area[o].free_list[mt])
				n++;
			kmem_bprintf(b, "%6lu ", n);
		}
		kmem_bprintf(b, "\n");
	}
	pthread_mutex_unlock(&zone->lock);
}

static void pagetypeinfo_blocks_show(struct kmem_buf *b, pg_data_t *pgdat, struct zone *zone)
{
	unsigned long count[MIGRATE_TYPES] = { 0 };
	unsigned long end = zone->zone_start_pfn + zone->online_pages;

	for (unsigned long pfn = zone->zone_start_pfn; pfn < end; pfn += pageblock_nr_pages)
		count[get_pageblock_migratetype(pfn) % MIGRATE_TYPES]++;
	kmem_bprintf(b, "Node %d, zone %8s ", pgdat->node_id, zone->name);
	for (int mt = 0; mt < MIGRATE_TYPES; mt++)
		kmem_bprintf(b, "%12lu ", count[mt]);
	kmem_bprintf(b, "\n");
}

void kmem_show_pagetypeinfo(int fd)
{
	struct kmem_buf b;

	if (!kmem_ready())
		return;
	kmem_buf_init(&b, fd);
	kmem_bprintf(&b, "Page block order: %d\nPages per block:  %lu\n\n",
		     pageblock_order, pageblock_nr_pages);
	kmem_bprintf(&b, "%-43s ", "Free pages count per migrate type at order");
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		kmem_bprintf(&b, "%6d ", o);
	kmem_bprintf(&b, "\n");
	walk_zones(&b, pagetypeinfo_free_show);
	kmem_bprintf(&b, "\n%-23s", "Number of blocks type ");
	for (int mt = 0; mt < MIGRATE_TYPES; mt++)
		kmem_bprintf(&b, "%12s ", migratetype_names[mt]);
	kmem_bprintf(&b, "\n");
	walk_zones(&b, pagetypeinfo_blocks_show);
	kmem_buf_flush(&b);
}

static void zoneinfo_show(struct kmem_buf *b, pg_data_t *pgdat, struct zone *zone)
{
	struct kmem_thread *t;

	kmem_bprintf(b, "Node %d, zone %8s", pgdat->node_id, zone->name);
	kmem_bprintf(b, "\n  pages free     %ld", zone_page_state(zone));
	kmem_bprintf(b, "\n        boost    0");
	kmem_bprintf(b, "\n        min      %lu", min_wmark_pages(zone));
	kmem_bprintf(b, "\n        low      %lu", low_wmark_pages(zone));
	kmem_bprintf(b, "\n        high     %lu", high_wmark_pages(zone));
	kmem_bprintf(b, "\n        spanned  %lu", zone->spanned_pages);
	kmem_bprintf(b, "\n        present  %lu", zone->present_pages);
	kmem_bprintf(b, "\n        managed  %lu", zone->managed_pages);
	kmem_bprintf(b, "\n        cma      0");
	kmem_bprintf(b, "\n        protection: (%ld", zone->lowmem_reserve[0]);
	for (int i = 1; i < MAX_NR_ZONES; i++)
		kmem_bprintf(b, ", %ld", zone->lowmem_reserve[i]);
	kmem_bprintf(b, ")");

	const struct { const char *name; unsigned long value; } stats[] = {
		{ "nr_free_pages", (unsigned long)zone_page_state(zone) },
		{ "nr_online", zone->online_pages },
		{ "nr_released", zone->released_pages },
		{ "pgalloc", zone->ev.pgalloc },
		{ "pgfree", zone->ev.pgfree },
		{ "alloc_fail", zone->ev.alloc_fail },
		{ "fallback", zone->ev.fallback },
		{ "steal_pageblock", zone->ev.steal_pageblock },
		{ "sections_online", zone->ev.sections_online },
		{ "pages_released", zone->ev.pages_released },
		{ "pages_refaulted", zone->ev.pages_refaulted },
		{ "pcp_refill", zone->ev.pcp_refill },
		{ "pcp_drain", zone->ev.pcp_drain },
	};
	for (size_t i = 0; i < ARRAY_SIZE(stats); i++)
		kmem_bprintf(b, "\n      %-12s %lu", stats[i].name, stats[i].value);

	kmem_bprintf(b, "\n  pagesets");
	pthread_mutex_lock(&kmem_threads_lock);
	list_for_each_entry(t, &kmem_threads, thread_list) {
		const struct per_cpu_pages *pcp = thread_pcp(t, zone);

		kmem_bprintf(b, "\n    thread: %d"
			     "\n              count: %d"
			     "\n              high:  %d"
			     "\n              batch: %d",
			     (int)t->tid, pcp->count, pcp->high, pcp->batch);
	}
	pthread_mutex_unlock(&kmem_threads_lock);
	kmem_bprintf(b, "\n  node_unreclaimable:  0");
	kmem_bprintf(b, "\n  start_pfn:           %lu\n", zone->zone_start_pfn);
}

void kmem_show_zoneinfo(int fd)
{
	show_report(fd, NULL, zoneinfo_show);
}

struct meminfo_totals {
	unsigned long managed, online, released, free, pcp, large_cached;
};

static void meminfo_sum(struct meminfo_totals *m)
{
	struct kmem_thread *t;
	struct zone *zone;
	int nid;

	for_each_online_node(nid) {
		for_each_populated_zone_of(NODE_DATA(nid), zone) {
			m->managed += zone->managed_pages;
			m->online += zone->online_pages;
			m->released += zone->released_pages;
			m->free += (unsigned long)zone_page_state(zone);
		}
	}
	pthread_mutex_lock(&kmem_threads_lock);
	list_for_each_entry(t, &kmem_threads, thread_list) {
		for_each_online_node(nid)
			for_each_populated_zone_of(NODE_DATA(nid), zone)
				m->pcp += (unsigned long)thread_pcp(t, zone)->count;
		m->large_cached += t->large_count;
	}
	pthread_mutex_unlock(&kmem_threads_lock);
}

void kmem_show_meminfo(int fd)
{
	struct meminfo_totals m = { 0 };
	struct kmem_buf b;
	unsigned long offline, used, mbind_ok = 0, mbind_failed = 0;
	int nid;

	if (!kmem_ready())
		return;
	meminfo_sum(&m);
	for_each_online_node(nid) {
		mbind_ok += NODE_DATA(nid)->mbind_ok;
		mbind_failed += NODE_DATA(nid)->mbind_failed;
	}
	offline = m.managed - m.online;
	used = m.online - (m.free - offline) - m.pcp - m.large_cached;
	kmem_buf_init(&b, fd);
#define KB(pages) ((pages) << (PAGE_SHIFT - 10))
	kmem_bprintf(&b, "%-16s%8lu kB\n", "MemTotal:", KB(m.managed));
	kmem_bprintf(&b, "%-16s%8lu kB\n", "MemFree:", KB(m.free));
	kmem_bprintf(&b, "%-16s%8lu kB\n", "MemUsed:", KB(used));
	kmem_bprintf(&b, "%-16s%8lu kB\n", "PcpFree:", KB(m.pcp));
	kmem_bprintf(&b, "%-16s%8lu kB\n", "LargeCached:", KB(m.large_cached));
	kmem_bprintf(&b, "%-16s%8lu kB\n", "ArenaOnline:", KB(m.online));
	kmem_bprintf(&b, "%-16s%8lu kB\n", "ArenaResident:", KB(m.online - m.released));
	kmem_bprintf(&b, "%-16s%8lu kB\n", "ArenaReleased:", KB(m.released));
	kmem_bprintf(&b, "%-16s%8lu kB\n", "MemMap:", arena_stats.mem_map_bytes >> 10);
	kmem_bprintf(&b, "%-16s%8lu kB\n", "HugetlbBacked:",
		     arena_stats.sections[BACKING_HUGETLB] * (SECTION_SIZE >> 10));
	kmem_bprintf(&b, "%-16s%8lu kB\n", "ThpBacked:",
		     arena_stats.sections[BACKING_THP] * (SECTION_SIZE >> 10));
	kmem_bprintf(&b, "%-16s%8lu kB\n", "SmallBacked:",
		     arena_stats.sections[BACKING_4K] * (SECTION_SIZE >> 10));
	kmem_bprintf(&b, "%-16s%8lu\n", "HugetlbFallback:", arena_stats.hugetlb_fallbacks);
	kmem_bprintf(&b, "%-16s%8lu\n", "MbindOk:", mbind_ok);
	kmem_bprintf(&b, "%-16s%8lu\n", "MbindFailed:", mbind_failed);
#undef KB
	kmem_buf_flush(&b);
}
