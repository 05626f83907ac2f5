/*
 * test_topology.c - topology.c against the fake sysfs trees of test/sysfs
 * (see test/sysfs/README.md) and against small trees built in /tmp for
 * the malformed cases.  topology_init is called directly: these tests do
 * not bring the allocator up.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "helpers.h"

#define T kmem_topology

/* ---- helpers --------------------------------------------------------- */

/* topology_init(root) with fd 2 captured into out. */
static int init_capturing(const char *root, char *out, size_t size)
{
	struct stderr_capture cap;
	int ret;

	stderr_capture_begin(&cap);
	ret = topology_init(root);
	stderr_capture_end(&cap, out, size);
	return ret;
}

static int count_substr(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void init_tree(const char *tree)
{
	char err[4096];

	cr_assert_eq(init_capturing(test_sysfs(tree), err, sizeof(err)), 0,
		     "topology_init(%s) failed: %s", tree, err);
	cr_assert_eq(err[0], '\0', "unexpected warning for %s: %s", tree, err);
	cr_assert(T.from_sysfs);
}

/* The online node ids are exactly ids[0..n). */
static void check_online(const int *ids, int n)
{
	int k = 0;

	cr_assert_eq(T.nr_nodes, n);
	cr_assert_eq(kmem_nr_nodes(), n);
	cr_assert_eq(T.nr_node_ids, ids[n - 1] + 1);
	for (int nid = 0; nid < MAX_NUMNODES; nid++) {
		bool want = k < n && ids[k] == nid;

		cr_assert_eq(T.online[nid], want, "online[%d]", nid);
		if (want)
			k++;
	}
}

/* cpu_node[] matches nodes[0..ncpus) and nothing else is in a node. */
static void check_cpus(const int *nodes, int ncpus)
{
	int per_node[MAX_NUMNODES] = { 0 };

	cr_assert_eq(T.nr_cpu_ids, ncpus);
	for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
		int want = cpu < ncpus ? nodes[cpu] : -1;

		cr_assert_eq(T.cpu_node[cpu], want, "cpu_node[%d]", cpu);
		if (want >= 0) {
			per_node[want]++;
			cr_assert_eq(cpu_to_node(cpu), want, "cpu_to_node(%d)", cpu);
		}
	}
	for (int nid = 0; nid < MAX_NUMNODES; nid++)
		cr_assert_eq(T.node_nr_cpus[nid], per_node[nid],
			     "node_nr_cpus[%d]", nid);
}

/* dist[i][j] is from ids[i] to ids[j]; every other pair is -1. */
static void check_distances(const int *ids, int n, const int dist[][4])
{
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < n; j++) {
			cr_assert_eq(T.distance[ids[i]][ids[j]], dist[i][j],
				     "distance[%d][%d]", ids[i], ids[j]);
			cr_assert_eq(node_distance(ids[i], ids[j]), dist[i][j],
				     "node_distance(%d, %d)", ids[i], ids[j]);
		}
	}
	for (int from = -1; from <= MAX_NUMNODES; from++) {
		for (int to = -1; to <= MAX_NUMNODES; to++) {
			bool online = from >= 0 && from < MAX_NUMNODES && T.online[from] &&
				      to >= 0 && to < MAX_NUMNODES && T.online[to];

			if (!online)
				cr_assert_eq(node_distance(from, to), -1,
					     "node_distance(%d, %d)", from, to);
		}
	}
}

static void check_mem(const int *ids, int n, const unsigned long *kb)
{
	for (int i = 0; i < n; i++)
		cr_assert_eq(T.node_mem_kb[ids[i]], kb[i], "node_mem_kb[%d]", ids[i]);
}

/* order[i][] is the expected order from ids[i]. */
static void check_orders(const int *ids, int n, const int order[][4])
{
	for (int i = 0; i < n; i++) {
		int got[MAX_NUMNODES];

		cr_assert_eq(topology_node_order(ids[i], got), n,
			     "topology_node_order(%d) count", ids[i]);
		for (int k = 0; k < n; k++)
			cr_assert_eq(got[k], order[i][k],
				     "order from node %d, position %d", ids[i], k);
	}
}

/* ---- trees built in /tmp for the malformed cases --------------------- */

static char tmp_root[64];

static void tmp_tree_create(void)
{
	strcpy(tmp_root, "/tmp/kmem-topology-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp_root));
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	return remove(path);
}

static void tmp_tree_remove(void)
{
	if (tmp_root[0])
		nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write <tmp_root>/devices/system/node/<rel>, creating directories. */
static void tmp_file(const char *rel, const char *content)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/devices/system/node/%s", tmp_root, rel);
	for (char *p = path + strlen(tmp_root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		cr_assert(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s", path);
		*p = '/';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0, "open %s", path);
	cr_assert_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

/* A valid two-node tree that the malformed tests then damage. */
static void tmp_two_nodes(void)
{
	tmp_file("online", "0-1\n");
	tmp_file("node0/cpulist", "0\n");
	tmp_file("node0/distance", "10 20\n");
	tmp_file("node0/meminfo", "Node 0 MemTotal:  4096 kB\n");
	tmp_file("node1/cpulist", "1\n");
	tmp_file("node1/distance", "20 10\n");
	tmp_file("node1/meminfo", "Node 1 MemTotal:  8192 kB\n");
}

/* topology_init fails, warns with needle, and leaves the table alone. */
static void expect_malformed(const char *needle)
{
	char err[4096];

	cr_assert_eq(init_capturing(tmp_root, err, sizeof(err)), -1,
		     "topology_init accepted a tree that should fail on %s", needle);
	cr_assert(strstr(err, needle), "warning lacks \"%s\": %s", needle, err);
	cr_assert_eq(T.nr_nodes, 0, "kmem_topology changed by a failed init");
}

/* ---- parse_cpulist ----------------------------------------------------- */

Test(topology, parse_cpulist)
{
	bool set[16];
	static const int want[] = { 0, 1, 2, 3, 8, 10, 11 };
	int k = 0;

	cr_assert_eq(parse_cpulist("0-3,8,10-11", set, 16), 7);
	for (int i = 0; i < 16; i++) {
		bool in = k < (int)ARRAY_SIZE(want) && want[k] == i;

		cr_assert_eq(set[i], in, "set[%d]", i);
		if (in)
			k++;
	}

	cr_assert_eq(parse_cpulist("0-3,8,10-11\n", set, 16), 7, "trailing newline");
	memset(set, 1, sizeof(set));
	cr_assert_eq(parse_cpulist("", set, 16), 0);
	for (int i = 0; i < 16; i++)
		cr_assert_not(set[i], "empty list left set[%d]", i);
	cr_assert_eq(parse_cpulist("\n", set, 16), 0);

	cr_assert_eq(parse_cpulist("5", set, 16), 1);
	for (int i = 0; i < 16; i++)
		cr_assert_eq(set[i], i == 5, "set[%d] after \"5\"", i);

	cr_assert_eq(parse_cpulist("3-1", set, 16), -1);
	cr_assert_eq(parse_cpulist("a", set, 16), -1);
	cr_assert_eq(parse_cpulist("1,", set, 16), -1);
	cr_assert_eq(parse_cpulist(",1", set, 16), -1);
	cr_assert_eq(parse_cpulist("1,,2", set, 16), -1);
	cr_assert_eq(parse_cpulist("1-", set, 16), -1);
	cr_assert_eq(parse_cpulist("0-2-3", set, 16), -1);
	cr_assert_eq(parse_cpulist("4x", set, 16), -1);
	cr_assert_eq(parse_cpulist("99999999999999999999", set, 16), -1);
	cr_assert_eq(parse_cpulist(NULL, set, 16), -1);

	/* Duplicates count once; ids past n are not stored. */
	cr_assert_eq(parse_cpulist("1,1,0-1", set, 16), 2);
	cr_assert_eq(parse_cpulist("2,20,14-40", set, 16), 3);
	cr_assert(set[2] && set[14] && set[15]);
}

/* ---- the shipped trees ------------------------------------------------- */

Test(topology, one_node)
{
	static const int ids[] = { 0 };
	static const int cpus[] = { 0, 0 };
	static const int dist[][4] = { { 10 } };
	static const unsigned long kb[] = { 1048576 };
	static const int order[][4] = { { 0 } };

	init_tree("1node");
	check_online(ids, 1);
	check_cpus(cpus, 2);
	check_distances(ids, 1, dist);
	check_mem(ids, 1, kb);
	check_orders(ids, 1, order);
	cr_assert_eq(cpu_to_node(2), 0, "cpu in no node -> first online node");
	cr_assert_eq(cpu_to_node(-1), 0);
	cr_assert_eq(cpu_to_node(MAX_CPUS), 0);
}

Test(topology, two_nodes)
{
	static const int ids[] = { 0, 1 };
	static const int cpus[] = { 0, 1 };
	static const int dist[][4] = { { 10, 21 }, { 21, 10 } };
	static const unsigned long kb[] = { 524288, 524288 };
	static const int order[][4] = { { 0, 1 }, { 1, 0 } };

	init_tree("2node");
	check_online(ids, 2);
	check_cpus(cpus, 2);
	check_distances(ids, 2, dist);
	check_mem(ids, 2, kb);
	check_orders(ids, 2, order);
	cr_assert_eq(cpu_to_node(7), 0);
}

Test(topology, four_nodes_asymmetric)
{
	static const int ids[] = { 0, 1, 2, 3 };
	static const int cpus[] = { 0, 1 };
	static const int dist[][4] = {
		{ 10, 20, 16, 30 },
		{ 22, 10, 30, 16 },
		{ 16, 28, 10, 20 },
		{ 20, 16, 20, 10 },
	};
	static const unsigned long kb[] = { 262144, 262144, 524288, 524288 };
	static const int order[][4] = {
		{ 0, 2, 1, 3 },
		{ 1, 3, 0, 2 },
		{ 2, 0, 3, 1 },
		{ 3, 1, 0, 2 },	/* 0 and 2 tie at 20: lower id first */
	};

	init_tree("4node");
	check_online(ids, 4);
	check_cpus(cpus, 2);
	cr_assert_eq(T.node_nr_cpus[2], 0, "node 2 is memory-only");
	cr_assert_eq(T.node_nr_cpus[3], 0, "node 3 is memory-only");
	check_distances(ids, 4, dist);
	/* The asymmetric pairs, each read from the row of its source. */
	cr_assert_eq(node_distance(0, 1), 20);
	cr_assert_eq(node_distance(1, 0), 22);
	cr_assert_eq(node_distance(1, 2), 30);
	cr_assert_eq(node_distance(2, 1), 28);
	cr_assert_eq(node_distance(0, 3), 30);
	cr_assert_eq(node_distance(3, 0), 20);
	check_mem(ids, 4, kb);
	check_orders(ids, 4, order);
	cr_assert_eq(cpu_to_node(2), 0, "cpu in no node -> first online node");
}

Test(topology, sparse_node_ids)
{
	static const int ids[] = { 0, 2 };
	static const int cpus[] = { 0, 2 };
	static const int dist[][4] = { { 10, 20 }, { 20, 10 } };
	static const unsigned long kb[] = { 524288, 262144 };
	static const int order[][4] = { { 0, 2 }, { 2, 0 } };
	int got[MAX_NUMNODES];

	init_tree("sparse");
	check_online(ids, 2);
	cr_assert_eq(T.nr_node_ids, 3);
	check_cpus(cpus, 2);
	check_distances(ids, 2, dist);
	cr_assert_eq(T.distance[0][1], 0, "the gap gets no distance");
	cr_assert_eq(node_distance(0, 1), -1);
	cr_assert_eq(node_distance(1, 1), -1);
	check_mem(ids, 2, kb);
	check_orders(ids, 2, order);
	cr_assert_eq(topology_node_order(1, got), 0, "offline node has no order");
}

Test(topology, broken_tree_fails)
{
	char err[4096];

	cr_assert_eq(init_capturing(test_sysfs("broken"), err, sizeof(err)), -1);
	cr_assert(strstr(err, "node1/distance"), "warning names the file: %s", err);
	cr_assert(strstr(err, "1 distances, expected 2"), "warning says why: %s", err);
	cr_assert_eq(count_substr(err, "\n"), 1, "one warning: %s", err);
	cr_assert_eq(T.nr_nodes, 0, "kmem_topology changed by a failed init");
	cr_assert_eq(kmem_nr_nodes(), 0);
}

Test(topology, failed_init_keeps_previous_table)
{
	char err[4096];

	init_tree("4node");
	cr_assert_eq(init_capturing(test_sysfs("broken"), err, sizeof(err)), -1);
	cr_assert_eq(T.nr_nodes, 4);
	cr_assert_eq(node_distance(1, 0), 22);
}

Test(topology, reinit_replaces_table)
{
	init_tree("4node");
	init_tree("1node");
	cr_assert_eq(T.nr_nodes, 1);
	cr_assert_eq(T.nr_node_ids, 1);
	cr_assert_not(T.online[2]);
	cr_assert_eq(T.cpu_node[1], 0);
	cr_assert_eq(node_distance(0, 2), -1);
	cr_assert_eq(T.node_mem_kb[2], 0);
}

Test(topology, missing_root_is_one_node)
{
	char err[4096];
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	int order[MAX_NUMNODES];

	if (ncpu < 1)
		ncpu = 1;
	if (ncpu > MAX_CPUS)
		ncpu = MAX_CPUS;
	cr_assert_eq(init_capturing("/nonexistent/kmem-sysfs", err, sizeof(err)), 0);
	cr_assert_eq(err[0], '\0', "no warning expected: %s", err);
	cr_assert_not(T.from_sysfs);
	cr_assert_eq(T.nr_nodes, 1);
	cr_assert_eq(kmem_nr_nodes(), 1);
	cr_assert_eq(T.nr_node_ids, 1);
	cr_assert(T.online[0]);
	cr_assert_not(T.online[1]);
	cr_assert_eq(T.distance[0][0], 10);
	cr_assert_eq(node_distance(0, 0), 10);
	cr_assert_eq(node_distance(0, 1), -1);
	cr_assert_eq(T.nr_cpu_ids, ncpu);
	cr_assert_eq(T.node_nr_cpus[0], ncpu);
	for (int cpu = 0; cpu < MAX_CPUS; cpu++)
		cr_assert_eq(T.cpu_node[cpu], cpu < ncpu ? 0 : -1, "cpu_node[%d]", cpu);
	cr_assert_eq(cpu_to_node((int)ncpu - 1), 0);
	cr_assert_eq(topology_node_order(0, order), 1);
	cr_assert_eq(order[0], 0);
}

/* ---- topology_init's scratch mapping ------------------------------------ */

static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static int (*real_munmap)(void *, size_t);
static int scratch_maps, scratch_unmaps;

static void *counting_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	scratch_maps++;
	return real_mmap(addr, len, prot, flags, fd, off);
}

static int counting_munmap(void *addr, size_t len)
{
	scratch_unmaps++;
	return real_munmap(addr, len);
}

static void *failing_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	(void)addr, (void)len, (void)prot, (void)flags, (void)fd, (void)off;
	errno = ENOMEM;
	return MAP_FAILED;
}

static void hook_os(void *(*mmap_fn)(void *, size_t, int, int, int, off_t),
		    int (*munmap_fn)(void *, size_t))
{
	real_mmap = kmem_os.mmap;
	real_munmap = kmem_os.munmap;
	kmem_os.mmap = mmap_fn;
	kmem_os.munmap = munmap_fn;
	scratch_maps = scratch_unmaps = 0;
}

static void unhook_os(void)
{
	kmem_os.mmap = real_mmap;
	kmem_os.munmap = real_munmap;
}

/* Its working state costs no memory once it returns, whether it failed or not. */
Test(topology, scratch_is_unmapped_after_init)
{
	char err[4096];
	int ok, failed;

	hook_os(counting_mmap, counting_munmap);
	ok = init_capturing(test_sysfs("4node"), err, sizeof(err));
	int maps_ok = scratch_maps, unmaps_ok = scratch_unmaps;
	scratch_maps = scratch_unmaps = 0;
	failed = init_capturing(test_sysfs("broken"), err, sizeof(err));
	unhook_os();
	cr_assert_eq(ok, 0);
	cr_assert_eq(failed, -1);
	cr_assert_eq(maps_ok, 1, "%d mappings", maps_ok);
	cr_assert_eq(unmaps_ok, 1, "%d unmappings", unmaps_ok);
	cr_assert_eq(scratch_maps, 1, "%d mappings", scratch_maps);
	cr_assert_eq(scratch_unmaps, 1, "%d unmappings", scratch_unmaps);
}

Test(topology, no_memory_for_scratch_fails_cleanly)
{
	char err[4096];
	int ret;

	init_tree("4node");
	hook_os(failing_mmap, counting_munmap);
	ret = init_capturing(test_sysfs("1node"), err, sizeof(err));
	unhook_os();
	cr_assert_eq(ret, -1);
	cr_assert(strstr(err, "no memory"), "warning says why: %s", err);
	cr_assert_eq(scratch_unmaps, 0);
	cr_assert_eq(T.nr_nodes, 4, "kmem_topology changed by a failed init");
}

/* ---- numa_node_id and kmem_os.getcpu ---------------------------------- */

static int fake_cpu;
static int fake_getcpu(void)
{
	return fake_cpu;
}

Test(topology, numa_node_id_uses_getcpu)
{
	init_tree("2node");
	kmem_os.getcpu = fake_getcpu;
	fake_cpu = 1;
	cr_assert_eq(numa_node_id(), 1);
	fake_cpu = 0;
	cr_assert_eq(numa_node_id(), 0);
	fake_cpu = -1;		/* getcpu failed */
	cr_assert_eq(numa_node_id(), 0);
	fake_cpu = 5000;	/* not a cpu of any node */
	cr_assert_eq(numa_node_id(), 0);
}

Test(topology, numa_node_id_sparse)
{
	init_tree("sparse");
	kmem_os.getcpu = fake_getcpu;
	fake_cpu = 1;
	cr_assert_eq(numa_node_id(), 2);
	fake_cpu = 0;
	cr_assert_eq(numa_node_id(), 0);
}

Test(topology, numa_node_id_first_online_node,
     .init = tmp_tree_create, .fini = tmp_tree_remove)
{
	char err[4096];

	/* Node 0 offline: the fallback is the lowest online id, not 0. */
	tmp_file("online", "1,3\n");
	tmp_file("node1/cpulist", "0\n");
	tmp_file("node1/distance", "10 20\n");
	tmp_file("node3/cpulist", "1\n");
	tmp_file("node3/distance", "20 10\n");
	cr_assert_eq(init_capturing(tmp_root, err, sizeof(err)), 0, "%s", err);
	kmem_os.getcpu = fake_getcpu;
	fake_cpu = 1;
	cr_assert_eq(numa_node_id(), 3);
	fake_cpu = -1;
	cr_assert_eq(numa_node_id(), 1);
	cr_assert_eq(cpu_to_node(9), 1);
	cr_assert_eq(T.node_mem_kb[1], 0, "no meminfo: 0");
}

Test(topology, numa_node_id_real_getcpu)
{
	int nid;

	init_tree("2node");
	nid = numa_node_id();
	cr_assert(nid == 0 || nid == 1, "numa_node_id() = %d", nid);
}

/* ---- malformed trees --------------------------------------------------- */

TestSuite(topology_bad, .init = tmp_tree_create, .fini = tmp_tree_remove);

Test(topology_bad, node_id_too_large)
{
	tmp_two_nodes();
	tmp_file("online", "0-1,64\n");
	expect_malformed("online: node 64 out of range");
}

Test(topology_bad, unparsable_online)
{
	tmp_two_nodes();
	tmp_file("online", "0-x\n");
	expect_malformed("online: cannot parse node list \"0-x\"");
}

Test(topology_bad, empty_online)
{
	tmp_two_nodes();
	tmp_file("online", "\n");
	expect_malformed("online: no node online");
}

Test(topology_bad, unparsable_cpulist)
{
	tmp_two_nodes();
	tmp_file("node1/cpulist", "3-1\n");
	expect_malformed("node1/cpulist: cannot parse CPU list \"3-1\"");
}

Test(topology_bad, missing_cpulist)
{
	char path[PATH_MAX];

	tmp_two_nodes();
	snprintf(path, sizeof(path), "%s/devices/system/node/node1/cpulist", tmp_root);
	cr_assert_eq(unlink(path), 0);
	expect_malformed("node1/cpulist: missing");
}

Test(topology_bad, cpu_in_two_nodes)
{
	tmp_two_nodes();
	tmp_file("node1/cpulist", "0-1\n");
	expect_malformed("node1/cpulist: cpu 0 is already in node 0");
}

Test(topology_bad, too_many_distances)
{
	tmp_two_nodes();
	tmp_file("node0/distance", "10 20 30\n");
	expect_malformed("node0/distance: 3 distances, expected 2");
}

Test(topology_bad, distance_out_of_range)
{
	tmp_two_nodes();
	tmp_file("node0/distance", "10 300\n");
	expect_malformed("node0/distance: entry 2 is not a distance");
}

Test(topology_bad, distance_junk)
{
	tmp_two_nodes();
	tmp_file("node1/distance", "20 10x\n");
	expect_malformed("node1/distance: entry 2 is not a distance");
}

Test(topology_bad, memtotal_junk)
{
	tmp_two_nodes();
	tmp_file("node1/meminfo", "Node 1 MemTotal:  lots kB\n");
	expect_malformed("node1/meminfo: MemTotal is not a number");
}

Test(topology_bad, cpus_past_max_cpus_ignored_once)
{
	char err[4096];
	char list[64];

	tmp_two_nodes();
	snprintf(list, sizeof(list), "0,%d-%d\n", MAX_CPUS - 1, MAX_CPUS + 3);
	tmp_file("node0/cpulist", list);
	snprintf(list, sizeof(list), "1,%d\n", MAX_CPUS + 10);
	tmp_file("node1/cpulist", list);
	cr_assert_eq(init_capturing(tmp_root, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(count_substr(err, "MAX_CPUS"), 1, "one warning: %s", err);
	cr_assert(strstr(err, "node0/cpulist"), "warning names the file: %s", err);
	cr_assert_eq(T.nr_cpu_ids, MAX_CPUS);
	cr_assert_eq(T.node_nr_cpus[0], 2);
	cr_assert_eq(T.node_nr_cpus[1], 1);
	cr_assert_eq(T.cpu_node[MAX_CPUS - 1], 0);
	cr_assert_eq(cpu_to_node(MAX_CPUS + 1), 0);
	cr_assert_eq(T.node_mem_kb[0], 4096);
	cr_assert_eq(T.node_mem_kb[1], 8192);
}

Test(topology_bad, root_too_long)
{
	char root[1024], err[4096];

	memset(root, 'x', sizeof(root) - 1);
	root[0] = '/';
	root[sizeof(root) - 1] = '\0';
	cr_assert_eq(init_capturing(root, err, sizeof(err)), -1);
	cr_assert(strstr(err, "too long"), "%s", err);
	cr_assert_eq(T.nr_nodes, 0);
}
