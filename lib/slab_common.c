/*
 * slab_common.c - what does not depend on how slabs work inside
 * (mm/slab_common.c): the list of caches, creating, merging and destroying
 * them, the kmalloc size classes, and /proc/slabinfo.
 *
 * Contracts:
 *  - kmalloc classes: 8, 16, then steps of 16 to 128, 4 classes per
 *    doubling to 512 and 8 per doubling to 8192, plus 1040.  Every class
 *    above 8 is a multiple of 16, so every object is 16-byte aligned as
 *    glibc's malloc guarantees, and a power-of-two class is aligned to
 *    its size.
 *  - A cache's id indexes every thread's cpu_slab[]; ids are never reused
 *    and a destroyed cache's struct stays, because other threads may still
 *    hold its slabs until they exit.
 *  - slab_mutex guards slab_caches and cache creation and destruction.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include "kmalloc.h"
#include "slob.h"

pthread_mutex_t slab_mutex = PTHREAD_MUTEX_INITIALIZER;
struct list_head slab_caches = LIST_HEAD_INIT(slab_caches);
struct kmem_cache *slab_cache_by_id[MAX_SLAB_CACHES];
struct kmem_cache *kmalloc_caches[KMALLOC_NR_CACHES];
static unsigned int nr_cache_ids;

/*
 * Four classes per doubling from 128 to 512 bytes, as jemalloc's and
 * mimalloc's, not eight: every class a thread uses keeps slabs of its own,
 * and a class holding a few dozen live objects at random holds two to four
 * slabs, each partly used, since frees come back to them about as fast as
 * they are handed out again.  Fewer classes, fewer such slabs, for a worst
 * waste of 19.7% (257 bytes in kmalloc-320) instead of 11.1%.  Peak RSS,
 * /usr/bin/time medians of 9 runs, eight classes per doubling from 128
 * -> four: alloc_bench threads-1 2476 -> 2396 KB, threads-2 3032 -> 2944,
 * threads-4 4212 -> 4032, threads-8 6520 -> 6208; churn and prodcons
 * within their run-to-run spread (10-40%); python3, perl, sqlite3 and gcc
 * as bench/run runs them, and larson, within 0.3%.  callgrind: python3,
 * perl, cc1 and threads-1 within 0.01%, prodcons +0.2%, larson within its
 * own spread (578-581 M either way).  The kernel's classes (powers of two
 * and 96, 192) cut threads-1 by as much again, but larson's remote frees
 * then change slab within a class so often that its batches close after
 * one object: 581.6 -> 791.9 M instructions.
 *
 * 1040 is 1024 plus a 16-byte header (or a string's terminator): a
 * power-of-two payload with a little on top would otherwise take 1152
 * bytes, 31 objects to an order-3 slab instead of 28.  sqlite3 keeps an
 * in-memory rollback journal in 1032-byte chunks (a next pointer and
 * 1 KiB): 14340 of them at the peak of bench/'s sqlite3 run, whose peak
 * RSS fell from 40.7 to 39.1 MB (5 interleaved runs; python3, perl, gcc
 * and alloc_bench threads within noise).  The same step above 512, 2048
 * or 4096 bytes saves nothing there: those programs allocate few such
 * sizes, and an order-3 slab holds 7 objects of 4112 bytes as of 4608.
 */
const unsigned int kmalloc_sizes[KMALLOC_NR_CACHES] = {
	8, 16, 32, 48, 64, 80, 96, 112, 128,
	160, 192, 224, 256,
	320, 384, 448, 512,
	576, 640, 704, 768, 832, 896, 960, 1024, 1040,
	1152, 1280, 1408, 1536, 1664, 1792, 1920, 2048,
	2304, 2560, 2816, 3072, 3328, 3584, 3840, 4096,
	4608, 5120, 5632, 6144, 6656, 7168, 7680, 8192,
};

/* Index by (size + 7) / 8 for sizes up to KMALLOC_MAX_CACHE_SIZE. */
uint8_t kmalloc_size_index_table[KMALLOC_MAX_CACHE_SIZE / 8 + 1];
/* The same index as offsetof(struct kmem_thread, cpu_slab[index]). */
uint16_t kmalloc_cpu_slab_offset[KMALLOC_MAX_CACHE_SIZE / 8 + 1];

/* kmem_cache structs and their nodes come from the OS in chunks: the
 * caches are what would otherwise allocate them. */
static char *meta_next, *meta_end;

#define ALIAS_NAMES_SIZE 128

static void *meta_alloc(size_t size)
{
	void *p;

	size = ALIGN_UP(size, 64);
	if (!meta_next || meta_next + size > meta_end) {
		size_t len = MAX((size_t)64 << 10, ALIGN_UP(size, PAGE_SIZE));
		char *chunk = kmem_os.mmap(NULL, len, PROT_READ | PROT_WRITE,
					   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (chunk == MAP_FAILED)
			return NULL;
		meta_next = chunk;
		meta_end = chunk + len;
	}
	p = meta_next;
	meta_next += size;
	return p;
}

static int init_kmem_cache_nodes(struct kmem_cache *s)
{
	int nid;

	for_each_online_node(nid) {
		struct kmem_cache_node *n = meta_alloc(sizeof(*n));

		if (!n)
			return -1;
		spin_lock_init(&n->list_lock);
		INIT_LIST_HEAD(&n->partial);
		s->node[nid] = n;
	}
	return 0;
}

static unsigned int calculate_alignment(slab_flags_t flags, unsigned int align,
					unsigned int size)
{
	/* mm/slab_common.c: a cache line, or half, quarter... for small objects */
	if (flags & SLAB_HWCACHE_ALIGN) {
		unsigned int ralign = 64;

		while (size <= ralign / 2)
			ralign /= 2;
		align = MAX(align, ralign);
	}
	return ALIGN_UP(MAX(align, (unsigned int)sizeof(void *)), (unsigned int)sizeof(void *));
}

static bool slab_unmergeable(const struct kmem_cache *s)
{
	return s->ctor || (s->flags & SLAB_NO_MERGE) || s->refcount < 1;
}

/* mm/slab_common.c: find_mergeable - same layout, compatible flags. */
static struct kmem_cache *find_mergeable(unsigned int size, unsigned int align,
					 slab_flags_t flags, void (*ctor)(void *))
{
	struct kmem_cache probe = { .object_size = size, .flags = flags,
				    .align = calculate_alignment(flags, align, size) };
	struct kmem_cache *s;
	const slab_flags_t same = SLAB_RECLAIM_ACCOUNT;

	if (ctor || (flags & SLAB_NO_MERGE))
		return NULL;
	if (calculate_sizes(&probe))
		return NULL;
	list_for_each_entry(s, &slab_caches, list) {
		if (slab_unmergeable(s))
			continue;
		if (s->size != probe.size || (s->flags & same) != (flags & same))
			continue;
		if (s->align < probe.align || s->size - s->object_size >= sizeof(void *) * 2)
			continue;
		return s;
	}
	return NULL;
}

struct kmem_cache *__kmem_cache_create(const char *name, unsigned int size,
				       unsigned int align, slab_flags_t flags,
				       void (*ctor)(void *))
{
	struct kmem_cache *s;

	if (nr_cache_ids >= MAX_SLAB_CACHES)
		return NULL;
	size_t len = sizeof(*s) + (size_t)kmem_topology.nr_node_ids * sizeof(s->node[0]);

	s = meta_alloc(len);
	if (!s)
		return NULL;
	memset(s, 0, len);
	kmem_snprintf(s->name, sizeof(s->name), "%s", name);
	s->object_size = size;
	s->align = calculate_alignment(flags, align, size);
	s->flags = flags;
	s->ctor = ctor;
	s->refcount = 1;
	s->allocflags = (flags & SLAB_RECLAIM_ACCOUNT) ? GFP_KERNEL | __GFP_RECLAIMABLE
						       : GFP_KERNEL;
	if (calculate_sizes(s) || init_kmem_cache_nodes(s))
		return NULL;
	s->id = nr_cache_ids++;
	s->cpu_offset = (unsigned int)(offsetof(struct kmem_thread, cpu_slab) +
				       s->id * sizeof(struct kmem_cache_cpu));
	slab_cache_by_id[s->id] = s;
	list_add_tail(&s->list, &slab_caches);
	return s;
}

struct kmem_cache *kmem_cache_create(const char *name, unsigned int size,
				     unsigned int align, unsigned int flags,
				     void (*ctor)(void *))
{
	struct kmem_cache *s = NULL;

	if (!kmem_ready())
		goto out;
	if (!name || !*name || size == 0 || size > (PAGE_SIZE << SLUB_MAX_ORDER) ||
	    (align & (align - 1)) || align > PAGE_SIZE) {
		kmem_warn("kmem_cache_create(%s): size %u, align %u is not possible",
			  name ? name : "(null)", size, align);
		errno = EINVAL;
		goto out;
	}
	pthread_mutex_lock(&slab_mutex);
	s = find_mergeable(size, align, flags, ctor);
	if (s) {
		if (!s->alias_names)
			s->alias_names = meta_alloc(ALIAS_NAMES_SIZE);
		if (s->alias_names) {
			size_t len = strlen(s->alias_names);

			kmem_snprintf(s->alias_names + len, ALIAS_NAMES_SIZE - len, "%s%s",
				      len ? " " : "", name);
		}
		s->refcount++;
	} else {
		s = __kmem_cache_create(name, size, align, flags, ctor);
		if (!s)
			errno = ENOMEM;
	}
	pthread_mutex_unlock(&slab_mutex);
out:
	if (!s && (flags & SLAB_PANIC))
		kmem_panic("kmem_cache_create: failed to create slab '%s'", name ? name : "(null)");
	return s;
}

void kmem_cache_destroy(struct kmem_cache *s)
{
	unsigned long leaked;

	if (!s)
		return;
	pthread_mutex_lock(&slab_mutex);
	if (--s->refcount > 0) {
		pthread_mutex_unlock(&slab_mutex);
		return;
	}
	if (s->flags & SLAB_KMALLOC)
		kmem_panic("kmem_cache_destroy: %s is a kmalloc cache", s->name);
	leaked = __kmem_cache_destroy_check(s);
	if (leaked)
		kmem_warn("kmem_cache_destroy %s: Slab cache still has objects (%lu)",
			  s->name, leaked);
	list_del(&s->list);
	pthread_mutex_unlock(&slab_mutex);
}

int kmem_cache_shrink(struct kmem_cache *s)
{
	return s ? __kmem_cache_shrink(s) : 0;
}

unsigned int kmem_cache_size(struct kmem_cache *s)
{
	return s->object_size;
}

const char *kmem_cache_name(struct kmem_cache *s)
{
	return s->name;
}

int kmem_slab_init(void)
{
	for (size_t i = 0, c = 0; i < ARRAY_SIZE(kmalloc_size_index_table); i++) {
		size_t size = MAX(i * 8, (size_t)1);

		while (kmalloc_sizes[c] < size)
			c++;
		kmalloc_size_index_table[i] = (uint8_t)c;
		kmalloc_cpu_slab_offset[i] = (uint16_t)(offsetof(struct kmem_thread, cpu_slab) +
							c * sizeof(struct kmem_cache_cpu));
	}
	pthread_mutex_lock(&slab_mutex);
	for (unsigned int i = 0; i < KMALLOC_NR_CACHES; i++) {
		char name[32];

		kmem_snprintf(name, sizeof(name), "kmalloc-%u", kmalloc_sizes[i]);
		kmalloc_caches[i] = __kmem_cache_create(name, kmalloc_sizes[i],
							kmalloc_sizes[i] >= 16 ? 16 : 8,
							SLAB_KMALLOC | SLAB_NO_MERGE, NULL);
		if (!kmalloc_caches[i]) {
			pthread_mutex_unlock(&slab_mutex);
			return -1;
		}
		/* kmalloc caches accept merges from same-sized user caches */
		kmalloc_caches[i]->flags &= ~SLAB_NO_MERGE;
		/* the fast paths index cpu_slab[] by size class directly */
		if (kmalloc_caches[i]->id != i)
			kmem_panic("kmalloc-%u got cache id %u", kmalloc_sizes[i],
				   kmalloc_caches[i]->id);
		/* only kmalloc caches batch remote frees: they are never destroyed */
		kmalloc_caches[i]->remote_batch =
			MIN(MAX(REMOTE_BATCH_BYTES / kmalloc_sizes[i], 1u), REMOTE_BATCH_MAX);
		kmalloc_caches[i]->remote_offset =
			(unsigned int)offsetof(struct kmem_thread, remote[i]);
	}
	pthread_mutex_unlock(&slab_mutex);
	register_shrinker(slab_shrink_all);
	register_shrinker(kmalloc_large_shrink);
	register_shrinker(slob_shrink);
	return 0;
}

/* ---- /proc/slabinfo ----------------------------------------------------- */

void kmem_show_slabinfo(int fd)
{
	struct kmem_buf b;
	struct kmem_cache *s;

	if (!kmem_ready())
		return;
	kmem_buf_init(&b, fd);
	kmem_bprintf(&b, "slabinfo - version: 2.1\n");
	kmem_bprintf(&b, "# name            <active_objs> <num_objs> <objsize> <objperslab> "
		     "<pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : "
		     "slabdata <active_slabs> <num_slabs> <sharedavail>\n");
	pthread_mutex_lock(&slab_mutex);
	list_for_each_entry(s, &slab_caches, list) {
		unsigned long nr_slabs = 0, nr_objs = 0, partial = 0, free;
		int nid;

		for_each_online_node(nid) {
			nr_slabs += (unsigned long)atomic_load(&s->node[nid]->nr_slabs);
			nr_objs += (unsigned long)atomic_load(&s->node[nid]->total_objects);
		}
		free = MIN(slab_count_free(s, &partial) + slab_thread_free(s), nr_objs);
		/* As SLUB reports it: objects on other threads' lists count as active. */
		kmem_bprintf(&b, "%-17s %6lu %6lu %6u %4u %4d : tunables %4u %4u %4u : "
			     "slabdata %6lu %6lu %6u\n",
			     s->name, nr_objs - free, nr_objs, s->size, s->objects,
			     1 << s->order, 0, 0, 0, nr_slabs, nr_slabs, 0);
	}
	list_for_each_entry(s, &slab_caches, list)
		if (s->alias_names && s->alias_names[0])
			kmem_bprintf(&b, "# alias %s: %s\n", s->name, s->alias_names);
	pthread_mutex_unlock(&slab_mutex);
	kmem_buf_flush(&b);
}
