/*
 * stats.c - the whole-heap view: usage totals for mallinfo2 and
 * malloc_info, and the reports KMEM_STATS prints at exit and
 * malloc_stats() prints on demand.
 *
 * Totals are summed from counters the layers keep anyway (zone counters,
 * slab counts per node, the medium heaps', the vmalloc area's); objects cached on
 * other threads' lists count as in use, as SLUB's slabinfo counts them;
 * blocks on the threads' large caches count as free.
 * Nothing here runs unless asked for.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "slab.h"
#include "vmalloc.h"
#include "slob.h"

/* kmalloc_large bytes counted outside the threads' own counters (kmalloc.c) */
_Atomic size_t kmalloc_large_bytes;

void kmem_get_usage(struct kmem_usage *u)
{
	unsigned long online = 0, released = 0, free_pages = 0, offline = 0;
	size_t obj_bytes = 0, obj_free_bytes = 0;
	struct kmem_thread *t;
	struct kmem_cache *s;
	struct zone *zone;
	int nid;

	memset(u, 0, sizeof(*u));
	for_each_online_node(nid) {
		for_each_populated_zone_of(NODE_DATA(nid), zone) {
			online += zone->online_pages;
			released += zone->released_pages;
			free_pages += (unsigned long)zone_page_state(zone);
			offline += zone->managed_pages - zone->online_pages;
			for (int o = 0; o < NR_PAGE_ORDERS; o++)
				u->free_blocks += zone->free_area[o].nr_free;
		}
	}
	pthread_mutex_lock(&slab_mutex);
	list_for_each_entry(s, &slab_caches, list) {
		unsigned long total = 0, slabs = 0, free;

		for_each_online_node(nid) {
			total += (unsigned long)atomic_load(&s->node[nid]->total_objects);
			slabs += (unsigned long)atomic_load(&s->node[nid]->nr_slabs);
		}
		free = slab_count_free(s, NULL) + slab_thread_free(s);
		free = MIN(free, total);
		obj_bytes += (total - free) * s->size;
		obj_free_bytes += free * s->size;
		u->slab_bytes += (slabs << s->order) << PAGE_SHIFT;
	}
	pthread_mutex_unlock(&slab_mutex);
	pthread_mutex_lock(&kmem_threads_lock);
	list_for_each_entry(t, &kmem_threads, thread_list)
		u->large_cached_bytes += (size_t)t->large_count << PAGE_SHIFT;
	u->large_bytes = kmalloc_large_sum_bytes();
	pthread_mutex_unlock(&kmem_threads_lock);
	{
		struct slob_usage su;

		slob_get_usage(&su);
		u->slob_area_bytes = su.area_bytes;
		u->slob_used_bytes = su.used_bytes;
		u->slob_cached_bytes = su.cached_bytes;
	}
	u->arena_bytes = online << PAGE_SHIFT;
	u->resident_bytes = (online - released) << PAGE_SHIFT;
	u->vmalloc_allocs = vmalloc_stats.nr_allocs - vmalloc_stats.nr_frees;
	u->vmalloc_bytes = vmalloc_stats.bytes_mapped;
	u->used_bytes = obj_bytes + u->large_bytes + u->vmalloc_bytes + u->slob_used_bytes;
	u->free_bytes = ((free_pages - offline) << PAGE_SHIFT) + obj_free_bytes +
			u->large_cached_bytes + (u->slob_area_bytes - u->slob_used_bytes);
}

static void show_usage(int fd)
{
	struct kmem_usage u;
	struct kmem_buf b;

	kmem_get_usage(&u);
	kmem_buf_init(&b, fd);
	kmem_bprintf(&b, "%-16s%8zu kB\n", "Slab:", u.slab_bytes >> 10);
	kmem_bprintf(&b, "%-16s%8zu kB\n", "SlobAreas:", u.slob_area_bytes >> 10);
	kmem_bprintf(&b, "%-16s%8zu kB\n", "SlobInUse:", u.slob_used_bytes >> 10);
	kmem_bprintf(&b, "%-16s%8zu kB\n", "SlobCached:", u.slob_cached_bytes >> 10);
	kmem_bprintf(&b, "%-16s%8zu kB\n", "KmallocLarge:", u.large_bytes >> 10);
	kmem_bprintf(&b, "%-16s%8zu kB\n", "LargeCached:", u.large_cached_bytes >> 10);
	kmem_bprintf(&b, "%-16s%8zu kB\n", "VmallocUsed:", u.vmalloc_bytes >> 10);
	kmem_bprintf(&b, "%-16s%8zu\n", "VmallocChunks:", u.vmalloc_allocs);
	kmem_bprintf(&b, "%-16s%8zu kB\n", "HeapInUse:", u.used_bytes >> 10);
	kmem_buf_flush(&b);
}

static void heading(int fd, const char *title)
{
	struct kmem_buf b;

	kmem_buf_init(&b, fd);
	kmem_bprintf(&b, "\n== %s ==\n", title);
	kmem_buf_flush(&b);
}

void kmem_show_stats(int fd)
{
	if (kmem_init() != 0)
		return;
	heading(fd, "kmem: buddyinfo");
	kmem_show_buddyinfo(fd);
	heading(fd, "kmem: pagetypeinfo");
	kmem_show_pagetypeinfo(fd);
	heading(fd, "kmem: slabinfo");
	kmem_show_slabinfo(fd);
	heading(fd, "kmem: zoneinfo");
	kmem_show_zoneinfo(fd);
	heading(fd, "kmem: meminfo");
	kmem_show_meminfo(fd);
	show_usage(fd);
}

/* KMEM_STATS=1 writes to a copy of stderr taken at start-up: programs
 * such as coreutils close stderr in their own exit handlers. */
static int stats_fd = -1;

void kmem_stats_init(void)
{
	if (kmem_config.stats[0] == '-')
		stats_fd = fcntl(2, F_DUPFD_CLOEXEC, 100);
}

/* KMEM_STATS: the reports, once, when the program exits. */
__attribute__((destructor)) static void kmem_stats_at_exit(void)
{
	int fd = stats_fd >= 0 ? stats_fd : 2;

	if (!kmem_config.stats[0] || atomic_load(&kmem_initialized) != 2)
		return;
	if (kmem_config.stats[0] != '-') {
		fd = open(kmem_config.stats, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			kmem_warn("KMEM_STATS: cannot open %s", kmem_config.stats);
			return;
		}
	}
	kmem_show_stats(fd);
	if (fd != 2 && fd != stats_fd)
		close(fd);
}
