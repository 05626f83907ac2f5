/*
 * init.c - bringing kmem up: options, topology, the arena and its nodes
 * and zones, the thread-exit key and the fork handlers.
 *
 * kmem_init runs once, on the first call that needs it, from whichever
 * thread gets there first; others wait.  Nothing here allocates through
 * malloc, so it is safe before libc is initialised and inside malloc.
 *
 * Sizing: the arena spans KMEM_LIMIT if set, else the machine's memory,
 * shared between nodes in proportion to their sysfs MemTotal (equally
 * where unknown), each node rounded down to whole 4 MiB sections.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#include <sys/sysinfo.h>
#include "slab.h"
#include "vmalloc.h"

atomic_int kmem_initialized;
/* Set while this thread runs kmem_do_init: a re-entry (an allocation from
 * inside it) must not wait for itself. */
static __thread bool kmem_initializing __attribute__((tls_model("initial-exec")));

/* Each node needs at least a few sections for zones to be meaningful. */
#define MIN_NODE_PAGES (2 * PAGES_PER_SECTION)

static void size_nodes(unsigned long total_pages, unsigned long *node_pages)
{
	unsigned long weight_sum = 0;
	int nid;

	for (nid = 0; nid < MAX_NUMNODES; nid++)
		if (kmem_topology.online[nid])
			weight_sum += kmem_topology.node_mem_kb[nid];
	for (nid = 0; nid < MAX_NUMNODES; nid++) {
		unsigned long pages;

		node_pages[nid] = 0;
		if (!kmem_topology.online[nid])
			continue;
		if (weight_sum && kmem_topology.node_mem_kb[nid])
			pages = (unsigned long)((unsigned __int128)total_pages *
						kmem_topology.node_mem_kb[nid] / weight_sum);
		else
			pages = total_pages / (unsigned long)kmem_topology.nr_nodes;
		pages = ALIGN_DOWN(pages, PAGES_PER_SECTION);
		node_pages[nid] = MAX(pages, MIN_NODE_PAGES);
	}
}

static int kmem_do_init(void)
{
	unsigned long node_pages[MAX_NUMNODES];
	unsigned long total_pages = 0;
	int nid;

	kmem_config_init();
	if (topology_init(kmem_config.sysfs_root) != 0) {
		kmem_warn("using one node: the NUMA topology under %s is unusable",
			  kmem_config.sysfs_root);
		topology_init("/nonexistent");
	}
	if (kmem_config.limit) {
		total_pages = kmem_config.limit >> PAGE_SHIFT;
		if (total_pages < (unsigned long)kmem_topology.nr_nodes * MIN_NODE_PAGES)
			kmem_warn("KMEM_LIMIT=%lu is below %lu bytes (two 4 MiB sections per node): using that",
				  kmem_config.limit,
				  (unsigned long)kmem_topology.nr_nodes * MIN_NODE_PAGES << PAGE_SHIFT);
	} else {
		/* sysinfo, which sysconf(_SC_PHYS_PAGES) asks too, without
		 * sysconf's jump table: a page of libc's read-only data a
		 * malloc-only program never reads, around which the kernel's
		 * fault-around maps 64 KiB (up to 64 KB more resident in
		 * fixed-16's loop; at its peak, within the runs' spread). */
		struct sysinfo si;

		if (sysinfo(&si) == 0)
			total_pages = (unsigned long)si.totalram * si.mem_unit >> PAGE_SHIFT;
	}
	/* Where the address space is short (valgrind, sanitizers, ulimit -v),
	 * take what can be had, down to one section per node and zone. */
	for (;;) {
		unsigned long want = total_pages;

		size_nodes(want, node_pages);
		total_pages = 0;
		for (nid = 0; nid < MAX_NUMNODES; nid++)
			total_pages += node_pages[nid];
		if (arena_init(total_pages) == 0)
			break;
		if (want <= (64UL << 20) >> PAGE_SHIFT)
			return -1;
		total_pages = want / 2;
	}
	if (kmem_config.limit && (total_pages << PAGE_SHIFT) < kmem_config.limit)
		kmem_warn("KMEM_LIMIT: only %lu MiB of address space could be reserved",
			  total_pages >> (20 - PAGE_SHIFT));
	arena_init_hugetlb_policy();
	if (free_area_init(node_pages) || kmem_slab_init())
		return -1;
	vmalloc_init();         /* without it, only requests above 4 MiB fail */
	kmem_stats_init();
	return kmem_thread_setup();
}

int kmem_init(void)
{
	int state = atomic_load_explicit(&kmem_initialized, memory_order_acquire);

	if (likely(state == 2))
		return 0;
	if (kmem_initializing) {
		errno = ENOMEM;
		return -1;
	}
	if (state == 0 && atomic_compare_exchange_strong(&kmem_initialized, &state, 1)) {
		kmem_initializing = true;
		state = kmem_do_init() == 0 ? 2 : -1;
		kmem_initializing = false;
		atomic_store_explicit(&kmem_initialized, state, memory_order_release);
	}
	while ((state = atomic_load_explicit(&kmem_initialized, memory_order_acquire)) == 1)
		sched_yield();
	if (state != 2) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}
