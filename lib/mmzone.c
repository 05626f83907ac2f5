/*
 * mmzone.c - nodes and zones laid over the arena, and the numbers the
 * kernel derives from their sizes: watermarks (min_free_kbytes),
 * lowmem_reserve, zonelists and per-cpu page list sizes.
 *
 * Zones are PFN ranges, x86-64 style: DMA below 16 MiB, DMA32 below 4 GiB,
 * NORMAL above; HIGHMEM and MOVABLE exist as types and stay empty here.
 * Nodes follow each other in the arena in node-id order, so node 0 holds
 * the low zones, exactly as on a real machine.  Each zone is "present" and
 * "managed" over its whole span; its memory comes online a section at a
 * time, and pages not yet online count as free.
 * Everything here runs once, in kmem_init, before any allocation.
 */
#include <errno.h>
#include <sys/mman.h>
#include "internal.h"

pg_data_t *node_data[MAX_NUMNODES];
int min_free_kbytes;

const char *const zone_names[MAX_NR_ZONES] = {
	"DMA", "DMA32", "Normal", "HighMem", "Movable",
};

const char *const migratetype_names[MIGRATE_TYPES] = {
	"Unmovable", "Movable", "Reclaimable",
};

/* mm/page_alloc.c: sysctl_lowmem_reserve_ratio */
const int sysctl_lowmem_reserve_ratio[MAX_NR_ZONES] = {
	[ZONE_DMA] = 256, [ZONE_DMA32] = 256, [ZONE_NORMAL] = 32,
	[ZONE_HIGHMEM] = 0, [ZONE_MOVABLE] = 0,
};

static const int watermark_scale_factor = 10;  /* of 10000 */

/* Where each zone type ends, in pfns. */
static const unsigned long zone_end_limit[MAX_NR_ZONES] = {
	[ZONE_DMA] = (16UL << 20) >> PAGE_SHIFT,
	[ZONE_DMA32] = (4UL << 30) >> PAGE_SHIFT,
	[ZONE_NORMAL] = ~0UL,
	[ZONE_HIGHMEM] = ~0UL,
	[ZONE_MOVABLE] = ~0UL,
};

struct zone *kmem_zone(int nid, enum zone_type zt)
{
	if (nid < 0 || nid >= MAX_NUMNODES || !node_data[nid] || zt >= MAX_NR_ZONES)
		return NULL;
	return &node_data[nid]->node_zones[zt];
}

static void zone_init(pg_data_t *pgdat, enum zone_type zt,
		      unsigned long start, unsigned long end)
{
	struct zone *zone = &pgdat->node_zones[zt];
	pthread_mutexattr_t attr;

	zone->zone_pgdat = pgdat;
	zone->node = pgdat->node_id;
	zone->idx = zt;
	zone->name = zone_names[zt];
	zone->zone_start_pfn = start;
	zone->spanned_pages = end > start ? end - start : 0;
	zone->present_pages = zone->spanned_pages;
	zone->managed_pages = zone->spanned_pages;
	atomic_store(&zone->free_pages, (long)zone->managed_pages);
	pthread_mutexattr_init(&attr);
	pthread_mutex_init(&zone->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		for (int mt = 0; mt < MIGRATE_TYPES; mt++)
			INIT_LIST_HEAD(&zone->free_area[o].free_list[mt]);
}

/* KMEM_PCP_BATCH / KMEM_PCP_HIGH override the kernel-derived sizes. */
static void setup_pcp_sizes(void)
{
	struct zone *zone;
	int nid;

	for_each_online_node(nid) {
		for_each_populated_zone_of(NODE_DATA(nid), zone) {
			int batch = kmem_config.pcp_batch ? kmem_config.pcp_batch
							  : zone_batchsize(zone);
			int high = kmem_config.pcp_high ? kmem_config.pcp_high
							: zone_highsize(zone, batch);

			zone->pcp_batch = batch;
			zone->pcp_high = MAX(high, batch);
		}
	}
}

int free_area_init(const unsigned long *node_pages)
{
	unsigned long pfn = 0;
	int nid;

	for (nid = 0; nid < MAX_NUMNODES; nid++) {
		pg_data_t *pgdat;
		unsigned long start, end, zstart;

		if (!kmem_topology.online[nid])
			continue;
		pgdat = kmem_os.mmap(NULL, ALIGN_UP(sizeof(*pgdat), PAGE_SIZE),
				     PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (pgdat == MAP_FAILED) {
			errno = ENOMEM;
			return -1;
		}
		pgdat->node_id = nid;
		start = pfn;
		end = pfn + node_pages[nid];
		pgdat->node_start_pfn = start;
		pgdat->node_spanned_pages = end - start;
		zstart = start;
		for (enum zone_type zt = 0; zt < MAX_NR_ZONES; zt++) {
			unsigned long zend = MIN(end, zone_end_limit[zt]);

			/* HIGHMEM and MOVABLE stay empty in the default mode. */
			if (zt > ZONE_NORMAL)
				zend = zstart;
			zone_init(pgdat, zt, zstart, MAX(zstart, zend));
			if (zend > zstart) {
				pgdat->nr_zones = zt + 1;
				zstart = zend;
			}
		}
		node_data[nid] = pgdat;
		pfn = end;
	}
	setup_per_zone_wmarks();
	setup_per_zone_lowmem_reserve();
	build_all_zonelists();
	setup_pcp_sizes();
	return 0;
}

static unsigned long int_sqrt(unsigned long x)
{
	unsigned long r = 0, bit = 1UL << (sizeof(long) * 8 - 2);

	while (bit > x)
		bit >>= 2;
	while (bit) {
		if (x >= r + bit) {
			x -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	return r;
}

/*
 * mm/page_alloc.c: init_per_zone_wmark_min + __setup_per_zone_wmarks.
 * min_free_kbytes = sqrt(lowmem_kbytes * 16), clamped to [128, 262144];
 * each zone gets a share of it by managed size as its min watermark, and
 * low/high sit max(min/4, managed * 0.1%) above each other.
 */
void setup_per_zone_wmarks(void)
{
	unsigned long lowmem_pages = 0, pages_min;
	struct zone *zone;
	int nid;

	for_each_online_node(nid)
		for_each_populated_zone_of(NODE_DATA(nid), zone)
			if (zone->idx != ZONE_HIGHMEM && zone->idx != ZONE_MOVABLE)
				lowmem_pages += zone->managed_pages;

	min_free_kbytes = (int)int_sqrt(lowmem_pages * (PAGE_SIZE >> 10) * 16);
	min_free_kbytes = MAX(128, MIN(min_free_kbytes, 262144));
	pages_min = (unsigned long)min_free_kbytes >> (PAGE_SHIFT - 10);

	for_each_online_node(nid) {
		for_each_populated_zone_of(NODE_DATA(nid), zone) {
			unsigned long tmp = (unsigned long)((unsigned __int128)pages_min *
							    zone->managed_pages / lowmem_pages);

			if (zone->idx == ZONE_HIGHMEM) {
				/* highmem only needs a token reserve */
				tmp = MAX(32UL, MIN(zone->managed_pages / 1024, 128UL));
				zone->_watermark[WMARK_MIN] = tmp;
				tmp = zone->managed_pages / 1024;
			} else {
				zone->_watermark[WMARK_MIN] = tmp;
			}
			tmp = MAX(tmp >> 2, zone->managed_pages *
				  (unsigned long)watermark_scale_factor / 10000);
			zone->_watermark[WMARK_LOW] = min_wmark_pages(zone) + tmp;
			zone->_watermark[WMARK_HIGH] = low_wmark_pages(zone) + tmp;
		}
	}
}

/*
 * mm/page_alloc.c: setup_per_zone_lowmem_reserve.  A lower zone keeps
 * (managed pages of every zone above it, up to the request's highest zone)
 * / ratio pages back from requests that could have used a higher zone.
 */
void setup_per_zone_lowmem_reserve(void)
{
	int nid;

	for_each_online_node(nid) {
		pg_data_t *pgdat = NODE_DATA(nid);

		for (int i = 0; i < MAX_NR_ZONES; i++) {
			struct zone *zone = &pgdat->node_zones[i];
			int ratio = sysctl_lowmem_reserve_ratio[i];
			bool clear = !ratio || !zone->managed_pages;
			unsigned long managed = 0;

			zone->lowmem_reserve[i] = 0;
			for (int j = i + 1; j < MAX_NR_ZONES; j++) {
				managed += pgdat->node_zones[j].managed_pages;
				zone->lowmem_reserve[j] = clear ? 0 : (long)(managed / (unsigned long)ratio);
			}
		}
	}
}

/* Kernel zonelist order: nodes by distance, each node's zones highest first. */
void build_all_zonelists(void)
{
	int nid;

	for_each_online_node(nid) {
		pg_data_t *pgdat = NODE_DATA(nid);
		int order[MAX_NUMNODES], n = topology_node_order(nid, order);
		struct zoneref *z = pgdat->node_zonelists[ZONELIST_FALLBACK]._zonerefs;
		struct zoneref *own = pgdat->node_zonelists[ZONELIST_NOFALLBACK]._zonerefs;

		for (int i = 0; i < n; i++) {
			pg_data_t *other = NODE_DATA(order[i]);

			if (!other)
				continue;
			for (int zt = MAX_NR_ZONES - 1; zt >= 0; zt--) {
				struct zone *zone = &other->node_zones[zt];

				if (!populated_zone(zone))
					continue;
				*z++ = (struct zoneref){ zone, zt };
				if (other == pgdat)
					*own++ = (struct zoneref){ zone, zt };
			}
		}
		*z = (struct zoneref){ NULL, 0 };
		*own = (struct zoneref){ NULL, 0 };
	}
}

static unsigned long rounddown_pow_of_two(unsigned long n)
{
	return n ? 1UL << (63 - __builtin_clzl(n)) : 0;
}

/* mm/page_alloc.c: zone_batchsize - about 1/4 MiB worth, a 2^n - 1 value. */
int zone_batchsize(const struct zone *zone)
{
	unsigned long batch = MIN(zone->managed_pages >> 10, (1UL << 20) / PAGE_SIZE);

	batch /= 4;
	if (batch < 1)
		batch = 1;
	batch = rounddown_pow_of_two(batch + batch / 2) - 1;
	return (int)MAX(batch, 1UL);
}

/*
 * mm/page_alloc.c: zone_highsize gives a CPU's list the low watermark
 * split across the node's CPUs, at least 4 batches.  kmem's lists are per
 * thread, not per CPU, and every free page on them is resident memory the
 * program has used before: a process may run hundreds of threads, and
 * even one thread whose buffers move between sizes (alloc_bench realloc)
 * kept most of its 2 MiB list full.  So a list holds 2 batches: one
 * refilled and one freed before a batch goes back to the zone.  bench:
 * realloc 38.6 -> 27.3 MB peak RSS, gcc 73.8 -> 70.8 MB, with the same
 * instruction counts (callgrind: threads-2, prodcons, fixed-4k, python3).
 */
int zone_highsize(const struct zone *zone, int batch)
{
	return batch << 1;
}
