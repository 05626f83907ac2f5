/*
 * test_numa.c - nodes and zones laid over the arena from the fake sysfs
 * trees of test/sysfs (see test/sysfs/README.md), the zonelists built
 * from their distance tables, and allocations that honour them: local
 * node for a pinned thread, alloc_pages_node, __GFP_THISNODE, fallback
 * to the nearest node, and mbind accounting.
 *
 * Every expected number below is worked out by hand from the trees'
 * MemTotal values, KMEM_LIMIT and the x86-64 zone boundaries (DMA below
 * 16 MiB = pfn 4096, DMA32 below 4 GiB = pfn 1048576); the zonelist
 * orders are the README's nearest-node orders.  Nothing is derived from
 * kmem_topology or from the code under test.
 */
#include <errno.h>
#include <linux/mempolicy.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "helpers.h"
#include "slab.h"

#define SEC 1024UL                      /* pages per 4 MiB section */
#define DMA_END 4096UL                  /* 16 MiB */
#define DMA32_END 1048576UL             /* 4 GiB */

/* ---- expected layouts ----------------------------------------------- */

struct node_exp {
	int nid;
	unsigned long start, pages;
};

struct layout {
	const char *tree, *limit;
	int nr_nodes;
	struct node_exp node[4];
	int order[4][4];                /* nearest-node order from node[i] */
};

/*
 * Node pages = total * MemTotal / sum(MemTotal), rounded down to whole
 * sections, at least two sections; nodes follow each other from pfn 0.
 */
static const struct layout L_1node_64M = {
	"1node", "64M", 1,
	{ { 0, 0, 16384 } },
	{ { 0 } },
};

/* 16384 pages, 512:512 MiB -> 8192 each. */
static const struct layout L_2node_64M = {
	"2node", "64M", 2,
	{ { 0, 0, 8192 }, { 1, 8192, 8192 } },
	{ { 0, 1 }, { 1, 0 } },
};

/* 2097152 pages -> 1048576 each: node 0 ends exactly at 4 GiB. */
static const struct layout L_2node_8G = {
	"2node", "8G", 2,
	{ { 0, 0, 1048576 }, { 1, 1048576, 1048576 } },
	{ { 0, 1 }, { 1, 0 } },
};

/*
 * 32768 pages, 256:256:512:512 MiB: 32768/6 = 5461.3 -> 5120,
 * 32768/3 = 10922.7 -> 10240.
 */
static const struct layout L_4node_128M = {
	"4node", "128M", 4,
	{ { 0, 0, 5120 }, { 1, 5120, 5120 }, { 2, 10240, 10240 }, { 3, 20480, 10240 } },
	{ { 0, 2, 1, 3 }, { 1, 3, 0, 2 }, { 2, 0, 3, 1 }, { 3, 1, 0, 2 } },
};

/*
 * 2097152 pages: /6 = 349525.3 -> 349184 (341 sections), /3 = 699050.7
 * -> 698368 (682 sections).  Node 2 straddles 4 GiB: DMA32 and Normal.
 */
static const struct layout L_4node_8G = {
	"4node", "8G", 4,
	{ { 0, 0, 349184 }, { 1, 349184, 349184 }, { 2, 698368, 698368 },
	  { 3, 1396736, 698368 } },
	{ { 0, 2, 1, 3 }, { 1, 3, 0, 2 }, { 2, 0, 3, 1 }, { 3, 1, 0, 2 } },
};

/*
 * Below two sections per node: 8192/6 = 1365 -> 1024 and 8192/3 = 2730
 * -> 2048, every node raised to the 2048-page minimum.  Node 1 then lies
 * entirely below 16 MiB and has a DMA zone of its own.
 */
static const struct layout L_4node_32M = {
	"4node", "32M", 4,
	{ { 0, 0, 2048 }, { 1, 2048, 2048 }, { 2, 4096, 2048 }, { 3, 6144, 2048 } },
	{ { 0, 2, 1, 3 }, { 1, 3, 0, 2 }, { 2, 0, 3, 1 }, { 3, 1, 0, 2 } },
};

/* Nodes 0 and 2, 512:256 MiB: 16384*2/3 = 10922.7 -> 10240, /3 -> 5120. */
static const struct layout L_sparse_64M = {
	"sparse", "64M", 2,
	{ { 0, 0, 10240 }, { 2, 10240, 5120 } },
	{ { 0, 2 }, { 2, 0 } },
};

/* 2097152*2/3 = 1398101.3 -> 1397760 (1365 sections), /3 -> 698368. */
static const struct layout L_sparse_8G = {
	"sparse", "8G", 2,
	{ { 0, 0, 1397760 }, { 2, 1397760, 698368 } },
	{ { 0, 2 }, { 2, 0 } },
};

/* Distances of the trees, row = from (README). */
static const int dist_4node[4][4] = {
	{ 10, 20, 16, 30 }, { 22, 10, 30, 16 }, { 16, 28, 10, 20 }, { 20, 16, 20, 10 },
};

static void numa_init(const char *tree, const char *limit)
{
	char root[600], lim[64];

	snprintf(root, sizeof(root), "KMEM_SYSFS_ROOT=%s", test_sysfs(tree));
	snprintf(lim, sizeof(lim), "KMEM_LIMIT=%s", limit);
	kmem_test_init(root, lim, "KMEM_HUGEPAGES=off", NULL);
}

/* The x86-64 span of zone type zt inside [start, end); false if empty. */
static bool zone_span(unsigned long start, unsigned long end, int zt,
		      unsigned long *zs, unsigned long *ze)
{
	static const unsigned long lo[] = { 0, DMA_END, DMA32_END };
	static const unsigned long hi[] = { DMA_END, DMA32_END, ~0UL };

	if (zt > ZONE_NORMAL)
		return false;
	*zs = MAX(start, lo[zt]);
	*ze = MIN(end, hi[zt]);
	return *ze > *zs;
}

static const struct node_exp *find_node(const struct layout *L, int nid)
{
	for (int i = 0; i < L->nr_nodes; i++)
		if (L->node[i].nid == nid)
			return &L->node[i];
	return NULL;
}

static void check_layout(const struct layout *L)
{
	unsigned long total = 0;

	cr_assert_eq(kmem_nr_nodes(), L->nr_nodes, "%s: kmem_nr_nodes", L->tree);
	for (int nid = 0; nid < MAX_NUMNODES; nid++)
		cr_assert_eq(NODE_DATA(nid) != NULL, find_node(L, nid) != NULL,
			     "%s: NODE_DATA(%d) online", L->tree, nid);

	for (int i = 0; i < L->nr_nodes; i++) {
		const struct node_exp *e = &L->node[i];
		pg_data_t *pg = NODE_DATA(e->nid);
		int nr_zones = 0;

		cr_assert_eq(e->pages % SEC, 0);
		cr_assert_eq(pg->node_id, e->nid);
		cr_assert_eq(pg->node_start_pfn, e->start, "%s %s: node %d start %lu, want %lu",
			     L->tree, L->limit, e->nid, pg->node_start_pfn, e->start);
		cr_assert_eq(pg->node_spanned_pages, e->pages,
			     "%s %s: node %d spans %lu pages, want %lu",
			     L->tree, L->limit, e->nid, pg->node_spanned_pages, e->pages);
		total += e->pages;

		for (int zt = 0; zt < MAX_NR_ZONES; zt++) {
			struct zone *z = &pg->node_zones[zt];
			unsigned long zs = 0, ze = 0;
			bool want = zone_span(e->start, e->start + e->pages, zt, &zs, &ze);

			cr_assert_eq(populated_zone(z), want, "%s %s: node %d zone %s populated",
				     L->tree, L->limit, e->nid, zone_names[zt]);
			cr_assert_eq(kmem_zone(e->nid, zt), z);
			cr_assert_eq(zone_to_nid(z), e->nid);
			cr_assert_eq(zone_idx(z), zt);
			cr_assert_str_eq(zone_name(z), zone_names[zt]);
			cr_assert_eq(z->zone_pgdat, pg);
			if (!want) {
				cr_assert_eq(z->spanned_pages, 0);
				cr_assert_eq(z->present_pages, 0);
				cr_assert_eq(z->managed_pages, 0);
				continue;
			}
			nr_zones = zt + 1;
			cr_assert_eq(z->zone_start_pfn, zs, "%s %s: node %d %s starts at %lu, want %lu",
				     L->tree, L->limit, e->nid, zone_names[zt], z->zone_start_pfn, zs);
			cr_assert_eq(z->spanned_pages, ze - zs, "%s %s: node %d %s spans %lu, want %lu",
				     L->tree, L->limit, e->nid, zone_names[zt], z->spanned_pages, ze - zs);
			cr_assert_eq(z->present_pages, ze - zs);
			cr_assert_eq(z->managed_pages, ze - zs);
			cr_assert_eq(zone_page_state(z), (long)(ze - zs), "nothing online yet: all free");
			cr_assert_eq(z->online_pages, 0);
		}
		cr_assert_eq(pg->nr_zones, nr_zones, "%s %s: node %d nr_zones", L->tree, L->limit, e->nid);
	}
	cr_assert_eq(max_pfn, total, "%s %s: arena of %lu pages, want %lu",
		     L->tree, L->limit, max_pfn, total);
}

/* "N0:Normal N0:DMA32 ..." for messages. */
static void describe(const struct zoneref *z, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; z[i].zone && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "N%d:%s ",
					z[i].zone->node, z[i].zone->name);
}

static void check_zonelist(const struct layout *L, int nid, int list, const int *order, int n)
{
	const struct zoneref *z = NODE_DATA(nid)->node_zonelists[list]._zonerefs;
	char got[1024], want[1024];
	size_t wlen = 0;
	int k = 0;

	describe(z, got, sizeof(got));
	want[0] = '\0';
	for (int i = 0; i < n; i++) {
		const struct node_exp *e = find_node(L, order[i]);

		for (int zt = MAX_NR_ZONES - 1; zt >= 0; zt--) {
			unsigned long zs = 0, ze = 0;

			if (zone_span(e->start, e->start + e->pages, zt, &zs, &ze))
				wlen += (size_t)snprintf(want + wlen, sizeof(want) - wlen, "N%d:%s ",
							 e->nid, zone_names[zt]);
		}
	}
	for (int i = 0; i < n; i++) {
		const struct node_exp *e = find_node(L, order[i]);

		for (int zt = MAX_NR_ZONES - 1; zt >= 0; zt--) {
			unsigned long zs = 0, ze = 0;

			if (!zone_span(e->start, e->start + e->pages, zt, &zs, &ze))
				continue;
			cr_assert_eq(z[k].zone, &NODE_DATA(e->nid)->node_zones[zt],
				     "%s %s: node %d %s zonelist entry %d:\n got  %s\n want %s",
				     L->tree, L->limit, nid, list ? "NOFALLBACK" : "FALLBACK", k, got, want);
			cr_assert_eq(z[k].zone_idx, zt);
			k++;
		}
	}
	cr_assert_null(z[k].zone, "%s %s: node %d %s zonelist too long:\n got  %s\n want %s",
		       L->tree, L->limit, nid, list ? "NOFALLBACK" : "FALLBACK", got, want);
}

static void check_zonelists(const struct layout *L)
{
	for (int i = 0; i < L->nr_nodes; i++) {
		int nid = L->node[i].nid;

		cr_assert_eq(L->order[i][0], nid);
		check_zonelist(L, nid, ZONELIST_FALLBACK, L->order[i], L->nr_nodes);
		check_zonelist(L, nid, ZONELIST_NOFALLBACK, &nid, 1);
	}
}

static void run_layout(const struct layout *L)
{
	numa_init(L->tree, L->limit);
	check_layout(L);
	check_zonelists(L);
}

/* ---- layout and zonelists -------------------------------------------- */

Test(numa_layout, one_node_64M)
{
	run_layout(&L_1node_64M);
	/* Node 0 holds DMA [0, 4096) and DMA32 [4096, 16384), no Normal. */
	cr_assert_eq(NODE_DATA(0)->nr_zones, 2);
	cr_assert_eq(node_distance(0, 0), 10);
}

Test(numa_layout, two_nodes_64M)
{
	run_layout(&L_2node_64M);
	/* Node 0: DMA + DMA32; node 1 (above 32 MiB, below 4 GiB): DMA32 only. */
	cr_assert(populated_zone(kmem_zone(0, ZONE_DMA)));
	cr_assert(populated_zone(kmem_zone(0, ZONE_DMA32)));
	cr_assert_not(populated_zone(kmem_zone(1, ZONE_DMA)));
	cr_assert(populated_zone(kmem_zone(1, ZONE_DMA32)));
	cr_assert_eq(node_distance(0, 1), 21);
	cr_assert_eq(node_distance(1, 0), 21);
}

Test(numa_layout, two_nodes_8G)
{
	run_layout(&L_2node_8G);
	/* Node 0 ends at 4 GiB: no Normal; node 1 is all Normal. */
	cr_assert_not(populated_zone(kmem_zone(0, ZONE_NORMAL)));
	cr_assert_eq(kmem_zone(1, ZONE_NORMAL)->managed_pages, 1048576);
	cr_assert_not(populated_zone(kmem_zone(1, ZONE_DMA32)));
}

Test(numa_layout, four_nodes_128M)
{
	run_layout(&L_4node_128M);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			cr_assert_eq(node_distance(i, j), dist_4node[i][j], "distance %d->%d", i, j);
}

Test(numa_layout, four_nodes_8G)
{
	run_layout(&L_4node_8G);
	/* Node 2: DMA32 [698368, 1048576) and Normal [1048576, 1396736). */
	cr_assert_eq(kmem_zone(2, ZONE_DMA32)->managed_pages, 1048576 - 698368);
	cr_assert_eq(kmem_zone(2, ZONE_NORMAL)->managed_pages, 1396736 - 1048576);
	/* Node 2's fallback list: N2 Normal, N2 DMA32, N0 DMA32, N0 DMA,
	 * N3 Normal, N1 DMA32. */
	const struct zoneref *z = NODE_DATA(2)->node_zonelists[ZONELIST_FALLBACK]._zonerefs;
	cr_assert_eq(z[0].zone, kmem_zone(2, ZONE_NORMAL));
	cr_assert_eq(z[1].zone, kmem_zone(2, ZONE_DMA32));
	cr_assert_eq(z[2].zone, kmem_zone(0, ZONE_DMA32));
	cr_assert_eq(z[3].zone, kmem_zone(0, ZONE_DMA));
	cr_assert_eq(z[4].zone, kmem_zone(3, ZONE_NORMAL));
	cr_assert_eq(z[5].zone, kmem_zone(1, ZONE_DMA32));
	cr_assert_null(z[6].zone);
}

Test(numa_layout, four_nodes_below_two_sections_each)
{
	run_layout(&L_4node_32M);
	cr_assert(populated_zone(kmem_zone(1, ZONE_DMA)), "node 1 lies below 16 MiB");
	cr_assert_not(populated_zone(kmem_zone(0, ZONE_DMA32)));
}

Test(numa_layout, sparse_ids_64M)
{
	run_layout(&L_sparse_64M);
	cr_assert_null(NODE_DATA(1));
	cr_assert_eq(node_distance(0, 2), 20);
	cr_assert_eq(node_distance(2, 0), 20);
}

Test(numa_layout, sparse_ids_8G)
{
	run_layout(&L_sparse_8G);
	/* Node 0 has all three zones; node 2 is all Normal. */
	cr_assert_eq(NODE_DATA(0)->nr_zones, 3);
	cr_assert_eq(kmem_zone(0, ZONE_NORMAL)->managed_pages, 1397760 - 1048576);
	cr_assert_eq(NODE_DATA(2)->nr_zones, 3);
	cr_assert_not(populated_zone(kmem_zone(2, ZONE_DMA32)));
}

/* ---- local allocation from pinned threads --------------------------- */

#define PIN_PAGES 200

struct pinned {
	int cpu;
	int setaff_rc;
	int ran_on;
	int numa_id;
	struct page *pages[PIN_PAGES];
	struct page *big;               /* one order-3 block */
};

static void *pinned_worker(void *arg)
{
	struct pinned *p = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(p->cpu, &set);
	p->setaff_rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (p->setaff_rc)
		return NULL;
	p->ran_on = sched_getcpu();
	p->numa_id = numa_node_id();
	for (int i = 0; i < PIN_PAGES; i++)
		p->pages[i] = alloc_pages(GFP_KERNEL, 0);
	p->big = alloc_pages(GFP_KERNEL, 3);
	return NULL;
}

static void check_pinned(int cpu, int want_nid)
{
	struct pinned *p = calloc(1, sizeof(*p));
	pg_data_t *pg = NODE_DATA(want_nid);
	pthread_t th;

	cr_assert_not_null(p);
	p->cpu = cpu;
	cr_assert_eq(pthread_create(&th, NULL, pinned_worker, p), 0);
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_assert_eq(p->setaff_rc, 0, "cannot pin a thread to cpu %d (%s)", cpu,
		     strerror(p->setaff_rc));
	cr_assert_eq(p->ran_on, cpu, "pinned to cpu %d, ran on %d", cpu, p->ran_on);
	cr_assert_eq(p->numa_id, want_nid, "numa_node_id() on cpu %d", cpu);
	for (int i = 0; i < PIN_PAGES; i++) {
		unsigned long pfn;

		cr_assert_not_null(p->pages[i]);
		pfn = page_to_pfn(p->pages[i]);
		cr_assert_eq(page_to_nid(p->pages[i]), want_nid,
			     "cpu %d: page %d (pfn %lu) from node %d, want %d",
			     cpu, i, pfn, page_to_nid(p->pages[i]), want_nid);
		cr_assert(pfn >= pg->node_start_pfn &&
			  pfn < pg->node_start_pfn + pg->node_spanned_pages,
			  "pfn %lu outside node %d", pfn, want_nid);
		cr_assert_eq(zone_to_nid(page_zone(p->pages[i])), want_nid);
		memset(page_address(p->pages[i]), 0x5a, PAGE_SIZE);
	}
	cr_assert_not_null(p->big);
	cr_assert_eq(page_to_nid(p->big), want_nid);
	for (int i = 0; i < PIN_PAGES; i++)
		__free_pages(p->pages[i], 0);
	__free_pages(p->big, 3);
	free(p);
}

Test(numa_alloc, two_nodes_pinned_threads_allocate_locally)
{
	numa_init("2node", "64M");
	check_pinned(0, 0);
	check_pinned(1, 1);
	check_pinned(0, 0);
}

Test(numa_alloc, four_nodes_pinned_threads_allocate_locally)
{
	numa_init("4node", "128M");
	check_pinned(1, 1);
	check_pinned(0, 0);
}

/*
 * A thread's frees wait on its freelist whatever slab they are of
 * (parked, slab.h: slab_free_fast), so a kmalloc_node for one node must
 * not pop a parked object of another node's slab.
 */
struct park_node {
	int setaff_rc;
	int first_nid, parked_nid, got_nid;
};

static void *park_then_kmalloc_node(void *arg)
{
	enum { N = 200 };
	struct park_node *p = arg;
	void *objs[N], *other;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	p->setaff_rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (p->setaff_rc)
		return NULL;
	/* node 0's slabs; the first ones ran dry and wait on the thread's queue */
	for (int i = 0; i < N; i++)
		objs[i] = kmalloc(200, GFP_KERNEL);
	p->first_nid = page_to_nid(virt_to_page(objs[0]));
	/* a node-1 slab becomes the active one, then a node-0 object is parked */
	other = kmalloc_node(200, GFP_KERNEL, 1);
	kfree(objs[0]);
	p->parked_nid = page_to_nid(virt_to_page(thread_cpu_slab(kmem_current,
		kmalloc_caches[kmalloc_index(200)])->freelist));
	p->got_nid = page_to_nid(virt_to_page(objs[0] = kmalloc_node(200, GFP_KERNEL, 1)));
	kfree(other);
	for (int i = 0; i < N; i++)
		kfree(objs[i]);
	return NULL;
}

Test(numa_alloc, kmalloc_node_takes_no_parked_free_of_another_node)
{
	struct park_node p = { 0 };
	pthread_t th;

	numa_init("2node", "64M");
	cr_assert_eq(pthread_create(&th, NULL, park_then_kmalloc_node, &p), 0);
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_assert_eq(p.setaff_rc, 0, "cannot pin a thread to cpu 0");
	cr_assert_eq(p.first_nid, 0);
	cr_assert_eq(p.parked_nid, 0, "the parked free heads the list");
	cr_assert_eq(p.got_nid, 1);
}

/* One thread moved from cpu 0 to cpu 1 follows its CPU's node, though its
 * lists still hold node 0's pages. */
struct mover {
	int rc[2], numa_id[2];
	struct page *pages[2][16];
};

static void *mover_fn(void *arg)
{
	struct mover *m = arg;

	for (int step = 0; step < 2; step++) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(step, &set);
		m->rc[step] = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
		if (m->rc[step])
			return NULL;
		m->numa_id[step] = numa_node_id();
		for (int i = 0; i < 16; i++)
			m->pages[step][i] = alloc_pages(GFP_KERNEL, 0);
	}
	return NULL;
}

Test(numa_alloc, thread_moved_to_another_node_follows_it)
{
	struct mover m;
	pthread_t th;

	memset(&m, 0, sizeof(m));
	numa_init("2node", "64M");
	cr_assert_eq(pthread_create(&th, NULL, mover_fn, &m), 0);
	cr_assert_eq(pthread_join(th, NULL), 0);
	for (int step = 0; step < 2; step++) {
		cr_assert_eq(m.rc[step], 0, "cannot pin to cpu %d", step);
		cr_assert_eq(m.numa_id[step], step);
		for (int i = 0; i < 16; i++) {
			cr_assert_not_null(m.pages[step][i]);
			cr_assert_eq(page_to_nid(m.pages[step][i]), step,
				     "on cpu %d: page %d from node %d", step, i,
				     page_to_nid(m.pages[step][i]));
		}
	}
	for (int step = 0; step < 2; step++)
		for (int i = 0; i < 16; i++)
			__free_pages(m.pages[step][i], 0);
}

Test(numa_alloc, sparse_cpu1_is_node2)
{
	numa_init("sparse", "64M");
	check_pinned(1, 2);
	check_pinned(0, 0);
	errno = 0;
	cr_assert_null(alloc_pages_node(1, GFP_KERNEL | __GFP_NOWARN, 0),
		       "node 1 is not online in the sparse tree");
	cr_assert_eq(errno, EINVAL);
}

Test(numa_alloc, memory_only_nodes_by_alloc_pages_node)
{
	numa_init("4node", "128M");
	for (int nid = 2; nid <= 3; nid++) {
		pg_data_t *pg = NODE_DATA(nid);

		for (unsigned int order = 0; order <= MAX_ORDER; order++) {
			struct page *page = alloc_pages_node(nid, GFP_KERNEL, order);
			unsigned long pfn;

			cr_assert_not_null(page, "node %d order %u", nid, order);
			pfn = page_to_pfn(page);
			cr_assert_eq(page_to_nid(page), nid, "node %d order %u: got node %d",
				     nid, order, page_to_nid(page));
			cr_assert(pfn >= pg->node_start_pfn &&
				  pfn + (1UL << order) <= pg->node_start_pfn + pg->node_spanned_pages);
			memset(page_address(page), nid, PAGE_SIZE << order);
			__free_pages(page, order);
		}
		void *p = alloc_pages_exact_nid(nid, 5 * PAGE_SIZE, GFP_KERNEL);
		cr_assert_not_null(p);
		for (int i = 0; i < 5; i++)
			cr_assert_eq(page_to_nid(virt_to_page((char *)p + i * PAGE_SIZE)), nid);
		free_pages_exact(p, 5 * PAGE_SIZE);
	}
}

/* ---- __GFP_THISNODE and fallback by distance ------------------------- */

static unsigned long isqrt(unsigned long x)
{
	unsigned long r = 0;

	while ((r + 1) * (r + 1) <= x)
		r++;
	return r;
}

/* mm/page_alloc.c: min watermark of a zone of `managed` pages out of
 * `lowmem` pages in all. */
static unsigned long kernel_min_wmark(unsigned long managed, unsigned long lowmem)
{
	unsigned long kb = isqrt(lowmem * 4 * 16);

	kb = MAX(128UL, MIN(kb, 262144UL));
	return (kb >> 2) * managed / lowmem;
}

static struct page *pool[40000];
static size_t pool_n;

/* Take order-0 pages of nid with __GFP_THISNODE until it says no. */
static size_t exhaust_node(int nid)
{
	size_t n = 0;
	struct page *page;

	while ((page = alloc_pages_node(nid, GFP_KERNEL | __GFP_THISNODE | __GFP_NOWARN, 0))) {
		cr_assert_eq(page_to_nid(page), nid,
			     "__GFP_THISNODE on node %d gave a page of node %d (pfn %lu)",
			     nid, page_to_nid(page), page_to_pfn(page));
		cr_assert_lt(pool_n, ARRAY_SIZE(pool));
		pool[pool_n++] = page;
		n++;
	}
	cr_assert_eq(errno, ENOMEM);
	return n;
}

static long node_free(int nid)
{
	long sum = 0;

	for (int zt = 0; zt < MAX_NR_ZONES; zt++)
		sum += zone_page_state(kmem_zone(nid, zt));
	return sum;
}

/*
 * Exhaust the nodes of `order` one by one with __GFP_THISNODE; after
 * each, a plain allocation for order[0] must come from the next node in
 * the distance order, and finally fail.
 */
static void fallback_walk(const int *order)
{
	const unsigned long lowmem = 30720;   /* 4node, 128M */
	int src = order[0];

	numa_init("4node", "128M");
	for (int i = 0; i < 4; i++) {
		int nid = order[i];
		long before[4];
		size_t n;
		struct page *page;

		drain_local_pages();
		for (int j = 0; j < 4; j++)
			before[j] = node_free(j);
		n = exhaust_node(nid);
		drain_local_pages();
		for (int j = 0; j < 4; j++)
			if (j != nid)
				cr_assert_eq(node_free(j), before[j],
					     "exhausting node %d changed node %d's free pages", nid, j);
		/* Every page taken came out of node nid's free count. */
		cr_assert_eq(before[nid] - node_free(nid), (long)n);
		/* ... until each of its zones sat at its min watermark plus the
		 * lowmem_reserve it keeps from GFP_KERNEL (a NORMAL request). */
		for (int zt = ZONE_DMA; zt <= ZONE_NORMAL; zt++) {
			struct zone *z = kmem_zone(nid, zt);
			unsigned long min, reserve = 0;

			if (!populated_zone(z))
				continue;
			min = kernel_min_wmark(z->managed_pages, lowmem);
			for (int up = zt + 1; up < MAX_NR_ZONES; up++)
				reserve += kmem_zone(nid, up)->managed_pages;
			reserve /= (unsigned long)sysctl_lowmem_reserve_ratio[zt];
			cr_assert_leq(zone_page_state(z), (long)(min + reserve),
				      "node %d %s: %ld free after exhaustion, min %lu reserve %lu",
				      nid, z->name, zone_page_state(z), min, reserve);
			cr_assert_geq(zone_page_state(z), (long)(min + reserve) - 8,
				      "node %d %s: %ld free, went far below min %lu",
				      nid, z->name, zone_page_state(z), min);
		}
		cr_assert_null(alloc_pages_node(nid, GFP_KERNEL | __GFP_THISNODE | __GFP_NOWARN, 0));

		page = alloc_pages_node(src, GFP_KERNEL | __GFP_NOWARN, 0);
		if (i == 3) {
			cr_assert_null(page, "every node exhausted, yet node %d gave a page", page ? page_to_nid(page) : -1);
			break;
		}
		cr_assert_not_null(page, "no fallback from node %d after exhausting node %d", src, nid);
		cr_assert_eq(page_to_nid(page), order[i + 1],
			     "from node %d with nodes {%d..} exhausted: page of node %d, want %d",
			     src, order[0], page_to_nid(page), order[i + 1]);
		pool[pool_n++] = page;
	}
	for (size_t i = 0; i < pool_n; i++)
		__free_pages(pool[i], 0);
}

Test(numa_fallback, from_node0_by_distance)
{
	static const int order[] = { 0, 2, 1, 3 };   /* 10, 16, 20, 30 */
	fallback_walk(order);
}

Test(numa_fallback, from_node1_by_distance)
{
	static const int order[] = { 1, 3, 0, 2 };   /* 10, 16, 22, 30 */
	fallback_walk(order);
}

Test(numa_fallback, from_node2_by_distance)
{
	static const int order[] = { 2, 0, 3, 1 };   /* 10, 16, 20, 28 */
	fallback_walk(order);
}

Test(numa_fallback, from_node3_ties_by_lower_id)
{
	static const int order[] = { 3, 1, 0, 2 };   /* 10, 16, 20, 20 */
	fallback_walk(order);
}

Test(numa_fallback, two_nodes_thisnode_then_fallback)
{
	size_t n;
	struct page *page;

	numa_init("2node", "64M");
	long free0 = node_free(0);

	n = exhaust_node(1);
	cr_assert_gt(n, 0);
	drain_local_pages();
	cr_assert_eq(node_free(0), free0, "node 0 untouched by __GFP_THISNODE on node 1");
	page = alloc_pages_node(1, GFP_KERNEL, 0);
	cr_assert_not_null(page);
	cr_assert_eq(page_to_nid(page), 0);
	/* Higher orders too: node 1 has nothing above its min watermark. */
	cr_assert_null(alloc_pages_node(1, GFP_KERNEL | __GFP_THISNODE | __GFP_NOWARN, 2));
	struct page *big = alloc_pages_node(1, GFP_KERNEL, 2);
	cr_assert_not_null(big);
	cr_assert_eq(page_to_nid(big), 0);
	__free_pages(big, 2);
	__free_pages(page, 0);
	for (size_t i = 0; i < pool_n; i++)
		__free_pages(pool[i], 0);
}

/* ---- mbind accounting ----------------------------------------------- */

static bool host_has_node(int nid)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", nid);
	return access(path, F_OK) == 0;
}

static unsigned long node_sections_online(int nid)
{
	pg_data_t *pg = NODE_DATA(nid);
	unsigned long n = 0;

	for (unsigned long pfn = pg->node_start_pfn;
	     pfn < pg->node_start_pfn + pg->node_spanned_pages; pfn += SEC)
		n += section_state[pfn / SEC] != BACKING_NONE;
	return n;
}

/* The policy the OS holds for addr: mode, and the node mask's first word. */
static int policy_of(void *addr, unsigned long *mask)
{
	int mode = -1;
	unsigned long m[MAX_NUMNODES / (8 * sizeof(unsigned long)) + 1] = { 0 };

	if (syscall(SYS_get_mempolicy, &mode, m, MAX_NUMNODES + 1, addr, MPOL_F_ADDR))
		return -1;
	*mask = m[0];
	return mode;
}

Test(numa_mbind, sections_are_bound_to_their_node)
{
	struct page *p0[3], *p1[2];

	numa_init("2node", "64M");
	for (int nid = 0; nid < 2; nid++) {
		cr_assert_eq(NODE_DATA(nid)->mbind_ok, 0);
		cr_assert_eq(NODE_DATA(nid)->mbind_failed, 0);
	}
	/* Whole sections: three on node 0, two on node 1. */
	for (int i = 0; i < 3; i++) {
		p0[i] = alloc_pages_node(0, GFP_KERNEL, MAX_ORDER);
		cr_assert_not_null(p0[i]);
		cr_assert_eq(page_to_nid(p0[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		p1[i] = alloc_pages_node(1, GFP_KERNEL, MAX_ORDER);
		cr_assert_not_null(p1[i]);
		cr_assert_eq(page_to_nid(p1[i]), 1);
	}
	cr_assert_eq(node_sections_online(0), 3);
	cr_assert_eq(node_sections_online(1), 2);
	for (int nid = 0; nid < 2; nid++)
		cr_assert_eq(NODE_DATA(nid)->mbind_ok + NODE_DATA(nid)->mbind_failed,
			     node_sections_online(nid),
			     "node %d: every section online was bound or counted as refused", nid);

	if (host_has_node(0)) {
		unsigned long mask;

		cr_assert_eq(NODE_DATA(0)->mbind_ok, 3, "node 0 exists on this machine: mbind must work");
		cr_assert_eq(NODE_DATA(0)->mbind_failed, 0);
		cr_assert_eq(policy_of(page_address(p0[0]), &mask), MPOL_PREFERRED);
		cr_assert_eq(mask, 1UL, "node 0's section preferred on node 0");
	} else {
		cr_log_info("this machine has no /sys/devices/system/node/node0: mbind_ok not checked");
	}
	if (!host_has_node(1)) {
		unsigned long mask;

		cr_assert_eq(NODE_DATA(1)->mbind_failed, 2,
			     "node 1 does not exist on this machine: mbind must fail");
		cr_assert_eq(NODE_DATA(1)->mbind_ok, 0);
		cr_assert_eq(policy_of(page_address(p1[0]), &mask), MPOL_DEFAULT);
	} else {
		cr_log_info("this machine has a node 1: mbind_failed not checked");
	}
	/* The memory works wherever the policy landed. */
	for (int i = 0; i < 2; i++) {
		memset(page_address(p1[i]), 0xc3, PAGE_SIZE << MAX_ORDER);
		cr_assert_eq(((unsigned char *)page_address(p1[i]))[12345], 0xc3);
	}
	for (int i = 0; i < 3; i++)
		__free_pages(p0[i], MAX_ORDER);
	for (int i = 0; i < 2; i++)
		__free_pages(p1[i], MAX_ORDER);
}
