/*
 * topology.c - the NUMA machine kmem models: which nodes are online, which
 * CPUs belong to each, how far apart the nodes are and how much memory each
 * has, read once from sysfs (the files of the kernel's drivers/base/node.c)
 * into kmem_topology.
 *
 * Owns kmem_topology, the cpulist parser, the nearest-node order that
 * zonelists are built from, and the public calls kmem_nr_nodes,
 * cpu_to_node, node_distance and numa_node_id.
 *
 * Contracts:
 *  - Nothing here allocates or uses stdio or getenv: topology_init runs
 *    inside the first malloc, before libc is ready.  Files are read with
 *    os_read_file into buffers of one mapping (mmap, not malloc) that a
 *    static pointer names, so topology_init is not reentrant; init.c
 *    calls it once, serialised.  The one libc call beyond string
 *    functions is sysconf() for the no-sysfs fallback, which glibc answers
 *    from /sys/devices/system/cpu/possible and sysinfo() without malloc.
 *  - topology_init either fills kmem_topology completely and returns 0, or
 *    warns once naming the offending file and returns -1 leaving
 *    kmem_topology exactly as it was.
 *  - distance[from][to] is row "from" of nodeFROM/distance: the i-th value
 *    is the distance to the i-th online node in id order, so asymmetric
 *    tables keep their direction and sparse node ids map correctly.
 *  - No online file (a kernel without CONFIG_NUMA, no /sys): one node 0
 *    holding every configured CPU, distance 10, MemTotal from sysconf,
 *    from_sysfs false.  This is not an error and is not reported.
 *  - CPUs >= MAX_CPUS are left out, with one warning per topology_init;
 *    nr_cpu_ids never exceeds MAX_CPUS, so cpu_node[cpu] is always valid
 *    for cpu < nr_cpu_ids.
 *  - After topology_init the table is read-only; the public calls read it
 *    without locks.  They do not bring kmem up themselves: before
 *    topology_init there are no nodes, kmem_nr_nodes() is 0, cpu_to_node
 *    and numa_node_id answer 0 and node_distance answers -1.
 */
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "internal.h"

#define LOCAL_DISTANCE	10
#define MAX_DISTANCE	255	/* what a uint8_t distance can hold */

struct kmem_topology kmem_topology = {
	.cpu_node = { [0 ... MAX_CPUS - 1] = -1 },
};

/*
 * topology_init's working state.  Not on the stack, because the caller
 * may be running on a small thread stack inside malloc; and not in .bss
 * either, where it kept three pages resident in every process for a
 * moment's use: topology_init maps it and unmaps it when done.
 */
struct topology_scratch {
	struct kmem_topology topo;
	char file_buf[8192];
	char path_buf[512];
	bool id_set[MAX_CPUS];
};
static struct topology_scratch *sc;

/* ---- parsing helpers ------------------------------------------------ */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *skip_space(const char *s)
{
	while (is_space(*s))
		s++;
	return s;
}

/*
 * Parse a decimal number of at most limit.  Returns the first character
 * after it, or NULL when there is no digit or the value exceeds limit.
 */
static const char *parse_num(const char *s, unsigned long limit,
			     unsigned long *out)
{
	unsigned long v = 0;

	if (*s < '0' || *s > '9')
		return NULL;
	while (*s >= '0' && *s <= '9') {
		unsigned long d = (unsigned long)(*s++ - '0');

		if (v > (limit - d) / 10)
			return NULL;
		v = v * 10 + d;
	}
	*out = v;
	return s;
}

/*
 * Parse a cpulist ("0-3,8,10-11"; surrounding whitespace allowed, empty
 * for none) into set[0..n), which is cleared first.  Ids >= n are not
 * stored; *max_id receives the highest id listed, or -1 for an empty
 * list.  Returns the number of ids stored, or -1 for malformed input
 * (junk, an empty element, a range whose end is below its start, an id
 * above INT_MAX).
 */
static int cpulist_parse(const char *s, bool *set, int n, int *max_id)
{
	int count = 0;
	int hi = -1;

	if (n > 0)
		memset(set, 0, (size_t)n * sizeof(*set));
	s = skip_space(s);
	if (*s == '\0') {
		*max_id = -1;
		return 0;
	}
	for (;;) {
		unsigned long first, last;

		s = parse_num(s, INT_MAX, &first);
		if (!s)
			return -1;
		last = first;
		if (*s == '-') {
			s = parse_num(s + 1, INT_MAX, &last);
			if (!s || last < first)
				return -1;
		}
		if ((int)last > hi)
			hi = (int)last;
		for (unsigned long id = first; id <= last && id < (unsigned long)n; id++) {
			if (!set[id]) {
				set[id] = true;
				count++;
			}
		}
		if (*s != ',')
			break;
		s++;
	}
	if (*skip_space(s) != '\0')
		return -1;
	*max_id = hi;
	return count;
}

int parse_cpulist(const char *s, bool *set, int n)
{
	int max_id;

	if (!s || !set || n < 0)
		return -1;
	return cpulist_parse(s, set, n, &max_id);
}

/* ---- sysfs files ---------------------------------------------------- */

static bool append(size_t *len, const char *s)
{
	size_t l = strlen(s);

	if (*len + l >= sizeof(sc->path_buf))
		return false;
	memcpy(sc->path_buf + *len, s, l + 1);
	*len += l;
	return true;
}

/*
 * sc->path_buf = <root>/devices/system/node/<leaf>, or .../node<nid>/<leaf>
 * when nid >= 0.  Returns false (with a warning) when it does not fit.
 */
static bool node_path(const char *root, int nid, const char *leaf)
{
	size_t len = 0;
	bool ok = append(&len, root) && append(&len, "/devices/system/node/");

	if (ok && nid >= 0) {
		char num[16];
		int i = (int)sizeof(num) - 1;

		num[i] = '\0';
		do
			num[--i] = (char)('0' + nid % 10);
		while ((nid /= 10) > 0);
		ok = append(&len, "node") && append(&len, num + i) &&
		     append(&len, "/");
	}
	ok = ok && append(&len, leaf);
	if (!ok)
		kmem_warn("topology: sysfs root too long for a %d-byte path: \"%s\"",
			  (int)sizeof(sc->path_buf), root);
	return ok;
}

/*
 * Read sc->path_buf into sc->file_buf.  Returns the length, -1 when the file
 * cannot be read (no warning: the caller decides), -2 when it is too long
 * to be a sysfs file we understand (warned).
 */
static ssize_t read_sysfs(void)
{
	ssize_t len = os_read_file(sc->path_buf, sc->file_buf, sizeof(sc->file_buf));

	if (len >= (ssize_t)sizeof(sc->file_buf) - 1) {
		kmem_warn("topology: %s: longer than %d bytes", sc->path_buf,
			  (int)sizeof(sc->file_buf) - 2);
		return -2;
	}
	return len;
}

/* sc->file_buf, trimmed and cut short, for quoting in a warning. */
static const char *excerpt(void)
{
	size_t len = strlen(sc->file_buf);

	while (len > 0 && is_space(sc->file_buf[len - 1]))
		len--;
	if (len > 48) {
		memcpy(sc->file_buf + 45, "...", 3);
		len = 48;
	}
	sc->file_buf[len] = '\0';
	return sc->file_buf;
}

/* ---- building the table --------------------------------------------- */

/* No node directory: one node 0 with every configured CPU. */
static void single_node(struct kmem_topology *t)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	long pages = sysconf(_SC_PHYS_PAGES);
	long page_size = sysconf(_SC_PAGESIZE);

	if (ncpu < 1)
		ncpu = 1;
	if (ncpu > MAX_CPUS) {
		kmem_warn("topology: %d CPUs configured, CPUs >= %d ignored (MAX_CPUS)",
			  (int)MIN(ncpu, (long)INT_MAX), MAX_CPUS);
		ncpu = MAX_CPUS;
	}
	t->nr_nodes = 1;
	t->nr_node_ids = 1;
	t->online[0] = true;
	t->distance[0][0] = LOCAL_DISTANCE;
	if (pages > 0 && page_size >= 1024)
		t->node_mem_kb[0] = (unsigned long)pages * ((unsigned long)page_size / 1024);
	t->node_nr_cpus[0] = (int)ncpu;
	t->nr_cpu_ids = (int)ncpu;
	for (int cpu = 0; cpu < ncpu; cpu++)
		t->cpu_node[cpu] = 0;
	t->from_sysfs = false;
}

/*
 * <root>/devices/system/node/online -> t->online, nids[] in id order.
 * Returns 0, -1 when the file is missing (no NUMA in sysfs), -2 when it
 * is malformed (warned).
 */
static int read_online(const char *root, struct kmem_topology *t, int *nids)
{
	ssize_t len;
	int n, max_id;

	if (!node_path(root, -1, "online"))
		return -2;
	len = read_sysfs();
	if (len < 0)
		return (int)len;	/* -1: missing, -2: warned */
	n = cpulist_parse(sc->file_buf, sc->id_set, MAX_NUMNODES, &max_id);
	if (n < 0) {
		kmem_warn("topology: %s: cannot parse node list \"%s\"",
			  sc->path_buf, excerpt());
		return -2;
	}
	if (max_id >= MAX_NUMNODES) {
		kmem_warn("topology: %s: node %d out of range (MAX_NUMNODES is %d)",
			  sc->path_buf, max_id, MAX_NUMNODES);
		return -2;
	}
	if (n == 0) {
		kmem_warn("topology: %s: no node online", sc->path_buf);
		return -2;
	}
	n = 0;
	for (int nid = 0; nid < MAX_NUMNODES; nid++) {
		if (!sc->id_set[nid])
			continue;
		t->online[nid] = true;
		nids[n++] = nid;
	}
	t->nr_nodes = n;
	t->nr_node_ids = nids[n - 1] + 1;
	return 0;
}

/* nodeN/<leaf> into sc->file_buf; an online node must have it.  Returns the
 * length, or -1 after a warning. */
static ssize_t read_required_node_file(const char *root, int nid, const char *leaf)
{
	ssize_t len;

	if (!node_path(root, nid, leaf))
		return -1;
	len = read_sysfs();
	if (len == -2)
		return -1;
	if (len < 0) {
		kmem_warn("topology: %s: missing for an online node", sc->path_buf);
		return -1;
	}
	return len;
}

/* nodeN/cpulist -> cpu_node, node_nr_cpus, nr_cpu_ids. */
static int read_node_cpus(const char *root, struct kmem_topology *t, int nid,
			  bool *cpus_warned)
{
	int n, max_id;

	if (read_required_node_file(root, nid, "cpulist") < 0)
		return -1;
	n = cpulist_parse(sc->file_buf, sc->id_set, MAX_CPUS, &max_id);
	if (n < 0) {
		kmem_warn("topology: %s: cannot parse CPU list \"%s\"",
			  sc->path_buf, excerpt());
		return -1;
	}
	if (max_id >= MAX_CPUS && !*cpus_warned) {
		kmem_warn("topology: %s: CPUs >= %d ignored (MAX_CPUS)",
			  sc->path_buf, MAX_CPUS);
		*cpus_warned = true;
	}
	for (int cpu = 0; cpu <= max_id && cpu < MAX_CPUS; cpu++) {
		if (!sc->id_set[cpu])
			continue;
		if (t->cpu_node[cpu] >= 0) {
			kmem_warn("topology: %s: cpu %d is already in node %d",
				  sc->path_buf, cpu, t->cpu_node[cpu]);
			return -1;
		}
		t->cpu_node[cpu] = (int16_t)nid;
		t->node_nr_cpus[nid]++;
		if (cpu + 1 > t->nr_cpu_ids)
			t->nr_cpu_ids = cpu + 1;
	}
	return 0;
}

/* nodeN/distance: one value per online node, in id order. */
static int read_node_distance(const char *root, struct kmem_topology *t,
			      int nid, const int *nids)
{
	const char *p = sc->file_buf;
	int count = 0;

	if (read_required_node_file(root, nid, "distance") < 0)
		return -1;
	for (;;) {
		unsigned long d;
		const char *end;

		p = skip_space(p);
		if (*p == '\0')
			break;
		end = parse_num(p, MAX_DISTANCE, &d);
		if (!end || (*end != '\0' && !is_space(*end))) {
			kmem_warn("topology: %s: entry %d is not a distance 0..%d: \"%s\"",
				  sc->path_buf, count + 1, MAX_DISTANCE, excerpt());
			return -1;
		}
		if (count < t->nr_nodes)
			t->distance[nid][nids[count]] = (uint8_t)d;
		count++;
		p = end;
	}
	if (count != t->nr_nodes) {
		kmem_warn("topology: %s: %d distances, expected %d (one per online node)",
			  sc->path_buf, count, t->nr_nodes);
		return -1;
	}
	return 0;
}

/* nodeN/meminfo "Node N MemTotal:  12345 kB" -> node_mem_kb (0 if absent). */
static int read_node_meminfo(const char *root, struct kmem_topology *t, int nid)
{
	const char *p;
	unsigned long kb;
	ssize_t len;

	if (!node_path(root, nid, "meminfo"))
		return -1;
	len = read_sysfs();
	if (len == -2)
		return -1;
	if (len < 0)
		return 0;
	p = strstr(sc->file_buf, "MemTotal:");
	if (!p)
		return 0;
	p = skip_space(p + strlen("MemTotal:"));
	if (!parse_num(p, ULONG_MAX, &kb)) {
		kmem_warn("topology: %s: MemTotal is not a number", sc->path_buf);
		return -1;
	}
	t->node_mem_kb[nid] = kb;
	return 0;
}

static int topology_read(const char *sysfs_root)
{
	struct kmem_topology *t = &sc->topo;
	int nids[MAX_NUMNODES];
	bool cpus_warned = false;
	int ret;

	/* the mapping is fresh, so the rest of *t is zero */
	for (int cpu = 0; cpu < MAX_CPUS; cpu++)
		t->cpu_node[cpu] = -1;

	ret = read_online(sysfs_root, t, nids);
	if (ret == -1) {
		single_node(t);
	} else if (ret < 0) {
		return -1;
	} else {
		for (int i = 0; i < t->nr_nodes; i++) {
			if (read_node_cpus(sysfs_root, t, nids[i], &cpus_warned) ||
			    read_node_distance(sysfs_root, t, nids[i], nids) ||
			    read_node_meminfo(sysfs_root, t, nids[i]))
				return -1;
		}
		t->from_sysfs = true;
	}
	t->first_node = 0;
	while (t->first_node < MAX_NUMNODES - 1 && !t->online[t->first_node])
		t->first_node++;
	memcpy(&kmem_topology, t, sizeof(*t));
	return 0;
}

int topology_init(const char *sysfs_root)
{
	int ret;

	if (!sysfs_root)
		sysfs_root = "/sys";
	sc = kmem_os.mmap(NULL, sizeof(*sc), PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sc == MAP_FAILED) {
		sc = NULL;
		kmem_warn("topology: no memory for reading %s", sysfs_root);
		return -1;
	}
	ret = topology_read(sysfs_root);
	kmem_os.munmap(sc, sizeof(*sc));
	sc = NULL;
	return ret;
}

/* ---- queries --------------------------------------------------------- */

static bool node_is_online(int nid)
{
	return nid >= 0 && nid < MAX_NUMNODES && kmem_topology.online[nid];
}

static int first_online_node(void)
{
	for (int nid = 0; nid < kmem_topology.nr_node_ids; nid++)
		if (kmem_topology.online[nid])
			return nid;
	return 0;
}

/*
 * Insertion sort by distance from nid; candidates arrive in id order and
 * only strictly farther entries move, so ties keep the lower id first.
 * order[] needs room for MAX_NUMNODES.  Returns 0 for an offline nid.
 */
int topology_node_order(int nid, int *order)
{
	const uint8_t *dist;
	int n = 0;

	if (!node_is_online(nid))
		return 0;
	dist = kmem_topology.distance[nid];
	order[n++] = nid;
	for (int j = 0; j < kmem_topology.nr_node_ids; j++) {
		int k = n;

		if (j == nid || !kmem_topology.online[j])
			continue;
		while (k > 1 && dist[order[k - 1]] > dist[j]) {
			order[k] = order[k - 1];
			k--;
		}
		order[k] = j;
		n++;
	}
	return n;
}

int kmem_nr_nodes(void)
{
	return kmem_topology.nr_nodes;
}

int cpu_to_node(int cpu)
{
	if (cpu >= 0 && cpu < kmem_topology.nr_cpu_ids &&
	    kmem_topology.cpu_node[cpu] >= 0)
		return kmem_topology.cpu_node[cpu];
	return first_online_node();
}

int node_distance(int from, int to)
{
	int d;

	if (!node_is_online(from) || !node_is_online(to))
		return -1;
	d = kmem_topology.distance[from][to];
	if (d == 0 && from == to)
		return LOCAL_DISTANCE;
	return d;
}

int numa_node_id(void)
{
	/* One node: every CPU is on it, no need to ask which CPU this is. */
	if (kmem_topology.nr_nodes == 1)
		return kmem_topology.first_node;
	return cpu_to_node(kmem_os.getcpu ? kmem_os.getcpu() : -1);
}
