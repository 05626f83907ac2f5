/*
 * test_slab.c - the slab cache API (kmem_cache_*): creation, alignment,
 * merging, allocation patterns, constructors, frees from other threads,
 * slabs that run dry staying with their thread, adoption of full slabs,
 * thread exit, shrink and destroy, misuse, and the
 * slab geometry calculate_sizes chooses.
 *
 * Expected values come from the inputs and the kernel's rules, never from
 * the function under test.  Internal state (slab_owner, remote_free, the
 * node counters) is read through lib/slab.h.  Most caches are created with
 * SLAB_NO_MERGE so that a test about frees is not also a test of merging.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "helpers.h"
#include "slab.h"

static void setup(void)
{
	kmem_test_init("KMEM_LIMIT=128M", "KMEM_HUGEPAGES=off", "KMEM_DEBUG_VM=1", NULL);
}

TestSuite(slab, .init = setup);

/*
 * The tests of what a slab does when the owner's frees empty it or run
 * it dry: with parking off, so that those frees reach the slab at once
 * instead of waiting on the thread's freelist (slab_free_fast).
 */
static void setup_unparked(void)
{
	kmem_test_init("KMEM_LIMIT=128M", "KMEM_HUGEPAGES=off", "KMEM_DEBUG_VM=1",
		       "KMEM_PARK_BYTES=0", NULL);
}

TestSuite(slab_unparked, .init = setup_unparked);

/* ---- helpers ------------------------------------------------------------ */

static struct kmem_cache *mkcache(const char *name, unsigned int size)
{
	struct kmem_cache *s = kmem_cache_create(name, size, 0, SLAB_NO_MERGE, NULL);

	cr_assert_not_null(s, "kmem_cache_create(%s, %u) failed", name, size);
	return s;
}

static long cache_slabs(struct kmem_cache *s)
{
	long n = 0;
	int nid;

	for_each_online_node(nid)
		n += atomic_load(&s->node[nid]->nr_slabs);
	return n;
}

static long cache_objects(struct kmem_cache *s)
{
	long n = 0;
	int nid;

	for_each_online_node(nid)
		n += atomic_load(&s->node[nid]->total_objects);
	return n;
}

/* Objects pushed on a slab's remote list and not yet collected. */
static unsigned long remote_count(struct kmem_cache *s, struct page *slab)
{
	uintptr_t r = atomic_load(&slab->remote_free);
	unsigned long n = 0;

	if (r == SLAB_REMOTE_FULL)
		return 0;
	for (void *p = (void *)r; p; p = get_freepointer(s, p))
		n++;
	return n;
}

/*
 * Free objects of s wherever they are: node-partial slabs, and the calling
 * thread's active slab, freelist and thread-partial slabs, remote lists
 * included.  Exact when no other live thread owns slabs of s.
 */
static unsigned long free_objects(struct kmem_cache *s)
{
	struct kmem_thread *t = kmem_current;
	unsigned long n = 0;
	struct page *slab;
	int nid;

	for_each_online_node(nid) {
		struct kmem_cache_node *node = s->node[nid];

		spin_lock(&node->list_lock);
		list_for_each_entry(slab, &node->partial, slab_list)
			n += (unsigned long)(slab->objects - slab->inuse) + remote_count(s, slab);
		spin_unlock(&node->list_lock);
	}
	if (t && t->uses_lists) {
		struct kmem_cache_cpu *c = thread_cpu_slab(t, s);

		for (void *p = c->freelist; p; p = get_freepointer(s, p))
			n++;
		if (c->slab)
			n += (unsigned long)(c->slab->objects - c->slab->inuse) +
			     slab_uncarved(c->slab) + remote_count(s, c->slab);
		if (c->partial.next)
			list_for_each_entry(slab, &c->partial, slab_list)
				n += (unsigned long)(slab->objects - slab->inuse) +
				     remote_count(s, slab);
	}
	return n;
}

/* Objects the counters say are allocated: total minus free. */
static long live_objects(struct kmem_cache *s)
{
	return cache_objects(s) - (long)free_objects(s);
}

static bool on_node_partial(struct kmem_cache *s, struct page *slab)
{
	struct kmem_cache_node *node = s->node[page_to_nid(slab)];
	struct page *p;
	bool found = false;

	spin_lock(&node->list_lock);
	list_for_each_entry(p, &node->partial, slab_list)
		if (p == slab)
			found = true;
	spin_unlock(&node->list_lock);
	return found;
}

static bool on_thread_partial(struct kmem_thread *t, struct kmem_cache *s, struct page *slab)
{
	struct kmem_cache_cpu *c = thread_cpu_slab(t, s);
	struct page *p;

	if (!c->partial.next)
		return false;
	list_for_each_entry(p, &c->partial, slab_list)
		if (p == slab)
			return true;
	return false;
}

static size_t read_back(int fd, char *out, size_t size)
{
	size_t len = 0;

	lseek(fd, 0, SEEK_SET);
	for (;;) {
		ssize_t n = read(fd, out + len, size - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
	}
	out[len] = '\0';
	return len;
}

/* fn(arg) with fd 2 going to a memory file; what it wrote lands in out. */
static size_t capture_stderr(void (*fn)(void *), void *arg, char *out, size_t size)
{
	int fd = memfd_create("stderr", 0);
	int saved = dup(2);
	size_t len;

	cr_assert(fd >= 0 && saved >= 0);
	cr_assert_eq(dup2(fd, 2), 2);
	fn(arg);
	dup2(saved, 2);
	close(saved);
	len = read_back(fd, out, size);
	close(fd);
	return len;
}

static void slabinfo_fn(void *arg)
{
	kmem_show_slabinfo(*(int *)arg);
}

static size_t slabinfo(char *out, size_t size)
{
	int fd = memfd_create("slabinfo", 0);
	size_t len;

	cr_assert(fd >= 0);
	slabinfo_fn(&fd);
	len = read_back(fd, out, size);
	close(fd);
	return len;
}

/* Does text contain a line that starts with prefix? */
static bool has_line_starting(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, prefix, n))
			return true;
	return false;
}

static long free_pages_now(void)
{
	drain_local_pages();
	return global_free_pages();
}

/* Object i of a test: its index in the first word, a byte pattern after. */
static void stamp(void *obj, size_t size, uint64_t tag)
{
	unsigned char *p = obj;

	if (size >= sizeof(tag)) {
		memcpy(p, &tag, sizeof(tag));
		memset(p + sizeof(tag), (int)(tag * 7 + 1) & 0xff, size - sizeof(tag));
	} else {
		memset(p, (int)(tag * 7 + 1) & 0xff, size);
	}
}

/* objs[0..n) from s, object i stamped with tag0 + i. */
static void alloc_stamped(struct kmem_cache *s, void **objs, size_t n, size_t size,
			  uint64_t tag0)
{
	for (size_t i = 0; i < n; i++) {
		objs[i] = kmem_cache_alloc(s, GFP_KERNEL);
		cr_assert_not_null(objs[i]);
		stamp(objs[i], size, tag0 + i);
	}
}

static bool stamp_ok(const void *obj, size_t size, uint64_t tag)
{
	const unsigned char *p = obj;
	unsigned char b = (unsigned char)((tag * 7 + 1) & 0xff);
	size_t i = 0;

	if (size >= sizeof(tag)) {
		uint64_t got;

		memcpy(&got, p, sizeof(got));
		if (got != tag)
			return false;
		i = sizeof(tag);
	}
	for (; i < size; i++)
		if (p[i] != b)
			return false;
	return true;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/* Every object distinct and none overlapping another's object_size bytes. */
static void assert_disjoint(void **objs, size_t n, size_t object_size)
{
	void **sorted = calloc(n, sizeof(*sorted));

	cr_assert_not_null(sorted);
	memcpy(sorted, objs, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_ptr);
	for (size_t i = 1; i < n; i++)
		cr_assert_geq((uintptr_t)sorted[i] - (uintptr_t)sorted[i - 1], object_size,
			      "objects %p and %p overlap (object size %zu)",
			      sorted[i - 1], sorted[i], object_size);
	free(sorted);
}

static size_t distinct_slabs(void **objs, size_t n)
{
	struct page **slabs = calloc(n, sizeof(*slabs));
	size_t d = 0;

	cr_assert_not_null(slabs);
	for (size_t i = 0; i < n; i++)
		slabs[i] = compound_head_of(objs[i]);
	qsort(slabs, n, sizeof(*slabs), cmp_ptr);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || slabs[i] != slabs[i - 1])
			d++;
	free(slabs);
	return d;
}

static void run_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;

	cr_assert_eq(pthread_create(&t, NULL, fn, arg), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
}

/* Objects per slab of s, read from a real slab (not from s->objects). */
static unsigned int objects_per_slab(struct kmem_cache *s)
{
	void *o = kmem_cache_alloc(s, GFP_KERNEL);
	unsigned int n;

	cr_assert_not_null(o);
	n = compound_head_of(o)->objects;
	kmem_cache_free(s, o);
	cr_assert_gt(n, 0);
	return n;
}

static void nop_ctor(void *p)
{
	(void)p;
}

/* ---- creation ----------------------------------------------------------- */

Test(slab, create_reports_name_and_size)
{
	struct kmem_cache *s = mkcache("test-basic", 100);
	struct page *slab;
	void *o;

	cr_assert_str_eq(kmem_cache_name(s), "test-basic");
	cr_assert_eq(kmem_cache_size(s), 100);
	cr_assert_geq(s->size, 100);
	cr_assert_eq(s->size % sizeof(void *), 0);
	o = kmem_cache_alloc(s, GFP_KERNEL);
	cr_assert_not_null(o);
	cr_assert(arena_contains(o));
	cr_assert_eq((uintptr_t)o % sizeof(void *), 0);
	slab = compound_head_of(o);
	cr_assert(slab->flags & PG_slab);
	cr_assert_eq(slab->slab_cache, s);
	memset(o, 0x11, 100);
	kmem_cache_free(s, o);
	kmem_cache_free(s, NULL);       /* no-op */
	kmem_cache_destroy(s);
	kmem_cache_destroy(NULL);       /* no-op */
}

/* The most common call in the kernel: align 0, no flags, no ctor. */
Test(slab, default_align_caches_are_created_and_merged)
{
	struct kmem_cache *a = kmem_cache_create("dflt-a", 200, 0, 0, NULL);
	struct kmem_cache *b = kmem_cache_create("dflt-b", 200, 0, 0, NULL);
	char info[32768];
	void *x, *y;

	cr_assert_not_null(a);
	cr_assert_not_null(b);
	cr_assert_eq(a, b, "two align-0 caches of 200 bytes were not merged");
	x = kmem_cache_alloc(a, GFP_KERNEL);
	y = kmem_cache_alloc(b, GFP_KERNEL);
	cr_assert(x && y && x != y);
	memset(x, 1, 200);
	memset(y, 2, 200);
	kmem_cache_free(b, x);
	kmem_cache_free(a, y);
	slabinfo(info, sizeof(info));
	cr_assert(strstr(info, "\n# alias dflt-a: dflt-b\n"), "%s", info);
}

static unsigned int hw_expected_align(unsigned int size)
{
	/* mm/slab_common.c: a cache line, halved while the object fits in half */
	unsigned int a = 64;

	while (size <= a / 2)
		a /= 2;
	return MAX(a, (unsigned int)sizeof(void *));
}

static void check_alignment(struct kmem_cache *s, unsigned int size, unsigned int align)
{
	enum { N = 200 };
	void *objs[N];

	for (int i = 0; i < N; i++) {
		objs[i] = kmem_cache_alloc(s, GFP_KERNEL);
		cr_assert_not_null(objs[i]);
		cr_assert_eq((uintptr_t)objs[i] % align, 0,
			     "cache %s, size %u: object %p is not %u-byte aligned",
			     kmem_cache_name(s), size, objs[i], align);
		memset(objs[i], 0x77, size);
	}
	assert_disjoint(objs, N, size);
	for (int i = 0; i < N; i++)
		kmem_cache_free(s, objs[i]);
}

Test(slab, hwcache_align_gives_cache_lines)
{
	static const unsigned int sizes[] = {
		9, 16, 17, 24, 31, 32, 33, 40, 48, 63, 64, 65, 80, 96, 100, 127, 129,
		160, 200, 500, 1000, 3000,
	};

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		char name[32];
		struct kmem_cache *s;

		snprintf(name, sizeof(name), "hw-nm-%u", sizes[i]);
		s = kmem_cache_create(name, sizes[i], 0, SLAB_HWCACHE_ALIGN | SLAB_NO_MERGE, NULL);
		cr_assert_not_null(s);
		if (sizes[i] > 32)
			cr_assert_eq(hw_expected_align(sizes[i]), 64);
		check_alignment(s, sizes[i], hw_expected_align(sizes[i]));
		kmem_cache_destroy(s);
	}
}

/* SLAB_HWCACHE_ALIGN as callers write it: align 0, merging allowed. */
Test(slab, hwcache_align_with_default_align)
{
	static const unsigned int sizes[] = { 100, 160, 200, 500 };

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		char name[32];
		struct kmem_cache *s;

		snprintf(name, sizeof(name), "hw-dflt-%u", sizes[i]);
		s = kmem_cache_create(name, sizes[i], 0, SLAB_HWCACHE_ALIGN, NULL);
		cr_assert_not_null(s);
		check_alignment(s, sizes[i], 64);
	}
}

/*
 * A SLAB_HWCACHE_ALIGN cache must not be merged into a cache whose objects
 * are not cache-line aligned (kmalloc-96, kmalloc-160 ... are 16-aligned).
 */
Test(slab, hwcache_align_survives_merging)
{
	static const unsigned int sizes[] = { 80, 96, 112, 144, 160, 176, 208, 224, 240 };

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		char name[32];
		struct kmem_cache *s;

		snprintf(name, sizeof(name), "hw-mrg-%u", sizes[i]);
		s = kmem_cache_create(name, sizes[i], 8, SLAB_HWCACHE_ALIGN, NULL);
		cr_assert_not_null(s);
		check_alignment(s, sizes[i], 64);
	}
}

Test(slab, requested_align_is_honoured)
{
	static const unsigned int sizes[] = { 1, 24, 100, 1000 };

	for (unsigned int align = 8; align <= PAGE_SIZE; align *= 2) {
		for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
			char name[32];
			struct kmem_cache *s;

			snprintf(name, sizeof(name), "al-%u-%u", align, sizes[i]);
			s = kmem_cache_create(name, sizes[i], align, 0, NULL);
			cr_assert_not_null(s, "%s", name);
			check_alignment(s, sizes[i], align);
			s = kmem_cache_create(name, sizes[i] + align / 2 + 1, align, SLAB_NO_MERGE, NULL);
			cr_assert_not_null(s, "%s", name);
			check_alignment(s, sizes[i] + align / 2 + 1, align);
		}
	}
}

struct create_args {
	const char *name;
	unsigned int size, align, flags;
	struct kmem_cache *ret;
	int err;
};

static void create_fn(void *arg)
{
	struct create_args *a = arg;

	errno = 0;
	a->ret = kmem_cache_create(a->name, a->size, a->align, a->flags, NULL);
	a->err = errno;
}

static size_t nr_caches(void)
{
	struct list_head *pos;
	size_t n = 0;

	pthread_mutex_lock(&slab_mutex);
	list_for_each(pos, &slab_caches)
		n++;
	pthread_mutex_unlock(&slab_mutex);
	return n;
}

Test(slab, impossible_caches_fail_with_einval_and_a_warning)
{
	struct create_args cases[] = {
		{ "bad-zero", 0, 0, 0, NULL, 0 },
		{ "bad-huge", (unsigned int)(PAGE_SIZE << SLUB_MAX_ORDER) + 1, 0, 0, NULL, 0 },
		{ "bad-max", UINT_MAX, 0, 0, NULL, 0 },
		{ "bad-align3", 64, 3, 0, NULL, 0 },
		{ "bad-align24", 64, 24, 0, NULL, 0 },
		{ "bad-align8k", 64, 2 * PAGE_SIZE, 0, NULL, 0 },
		{ "bad-nm", 0, 0, SLAB_NO_MERGE, NULL, 0 },
		{ "", 64, 0, 0, NULL, 0 },
		{ NULL, 64, 0, 0, NULL, 0 },
	};
	size_t before = nr_caches();

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char out[4096];

		capture_stderr(create_fn, &cases[i], out, sizeof(out));
		cr_assert_null(cases[i].ret, "case %zu (%s) created a cache", i, cases[i].name);
		cr_assert_eq(cases[i].err, EINVAL, "case %zu: errno %d", i, cases[i].err);
		cr_assert(strstr(out, "kmem_cache_create(") && strstr(out, "is not possible"),
			  "case %zu: no warning: \"%s\"", i, out);
		if (cases[i].name && cases[i].name[0])
			cr_assert(strstr(out, cases[i].name), "case %zu: \"%s\"", i, out);
	}
	cr_assert_eq(nr_caches(), before);
}

static void create_panic_zero(void *arg)
{
	kmem_cache_create("panicky", 0, 0, SLAB_PANIC, NULL);
}

static void create_panic_align(void *arg)
{
	kmem_cache_create("panicky-align", 64, 3, SLAB_PANIC | SLAB_NO_MERGE, NULL);
}

Test(slab, slab_panic_aborts_on_an_impossible_cache)
{
	struct kmem_cache *ok = kmem_cache_create("panic-ok", 64, 0, SLAB_PANIC | SLAB_NO_MERGE,
						  NULL);

	cr_assert_not_null(ok);
	expect_death(create_panic_zero, NULL, "failed to create slab 'panicky'");
	expect_death(create_panic_align, NULL, "failed to create slab 'panicky-align'");
}

/* ---- merging ------------------------------------------------------------ */

Test(slab, compatible_caches_merge_and_show_as_aliases)
{
	struct kmem_cache *a = kmem_cache_create("mrg-a", 200, 8, 0, NULL);
	struct kmem_cache *b = kmem_cache_create("mrg-b", 200, 8, 0, NULL);
	struct kmem_cache *c = kmem_cache_create("mrg-c", 193, 8, 0, NULL);  /* rounds to 200 */
	char info[32768];
	void *x, *y;

	cr_assert(a && b && c);
	cr_assert_eq(b, a);
	cr_assert_eq(c, a);
	slabinfo(info, sizeof(info));
	cr_assert(strstr(info, "\n# alias mrg-a: mrg-b mrg-c\n"), "%s", info);
	cr_assert(has_line_starting(info, "mrg-a "), "%s", info);
	cr_assert_not(has_line_starting(info, "mrg-b "), "%s", info);
	cr_assert_not(has_line_starting(info, "mrg-c "), "%s", info);

	/* one cache: objects of one alias go back through another */
	x = kmem_cache_alloc(b, GFP_KERNEL);
	y = kmem_cache_alloc(c, GFP_KERNEL);
	cr_assert(x && y && x != y);
	memset(x, 3, 200);
	memset(y, 4, 193);
	kmem_cache_free(a, x);
	kmem_cache_free(a, y);

	/* destroying aliases leaves the shared cache working */
	kmem_cache_destroy(b);
	kmem_cache_destroy(c);
	x = kmem_cache_alloc(a, GFP_KERNEL);
	cr_assert_not_null(x);
	memset(x, 5, 200);
	kmem_cache_free(a, x);
	kmem_cache_destroy(a);
}

Test(slab, no_merge_flag_and_ctor_prevent_merging)
{
	struct kmem_cache *base = kmem_cache_create("nm-base", 232, 8, 0, NULL);
	struct kmem_cache *flag = kmem_cache_create("nm-flag", 232, 8, SLAB_NO_MERGE, NULL);
	struct kmem_cache *ctor = kmem_cache_create("nm-ctor", 232, 8, 0, nop_ctor);
	struct kmem_cache *ctl = kmem_cache_create("nm-control", 232, 8, 0, NULL);
	struct kmem_cache *first_nm = kmem_cache_create("nm-first", 264, 8, SLAB_NO_MERGE, NULL);
	struct kmem_cache *after_nm = kmem_cache_create("nm-after", 264, 8, 0, NULL);
	/* 328 with a ctor: 336-byte stride; a plain 336 cache must not join it */
	struct kmem_cache *first_ct = kmem_cache_create("nm-firstct", 328, 8, 0, nop_ctor);
	struct kmem_cache *after_ct = kmem_cache_create("nm-afterct", 336, 8, 0, NULL);
	struct kmem_cache *recl = kmem_cache_create("nm-recl", 232, 8, SLAB_RECLAIM_ACCOUNT, NULL);
	char info[32768];

	cr_assert(base && flag && ctor && ctl && first_nm && after_nm && first_ct && after_ct && recl);
	cr_assert_eq(ctl, base, "control: a compatible cache did merge");
	cr_assert_neq(flag, base);
	cr_assert_neq(ctor, base);
	cr_assert_neq(after_nm, first_nm);
	cr_assert_neq(after_ct, first_ct);
	cr_assert_neq(recl, base);
	cr_assert_str_eq(kmem_cache_name(flag), "nm-flag");
	cr_assert_str_eq(kmem_cache_name(ctor), "nm-ctor");
	cr_assert_str_eq(kmem_cache_name(first_nm), "nm-first");
	cr_assert_str_eq(kmem_cache_name(first_ct), "nm-firstct");
	slabinfo(info, sizeof(info));
	cr_assert(strstr(info, "\n# alias nm-base: nm-control\n"), "%s", info);
	cr_assert(has_line_starting(info, "nm-flag "), "%s", info);
	cr_assert(has_line_starting(info, "nm-ctor "), "%s", info);
	cr_assert(has_line_starting(info, "nm-first "), "%s", info);
	cr_assert(has_line_starting(info, "nm-firstct "), "%s", info);
	cr_assert_not(has_line_starting(info, "# alias nm-first"), "%s", info);
	cr_assert_not(has_line_starting(info, "# alias nm-flag"), "%s", info);
	cr_assert_not(has_line_starting(info, "# alias nm-ctor"), "%s", info);
}

/* ---- allocation patterns ------------------------------------------------ */

enum free_order { LIFO, FIFO, RANDOM };

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i])
			return false;
	return true;
}

/*
 * Allocate from s (zeroed if asked, each object checked) until x comes
 * back, at most one slab's worth of objects; free the others.  x was
 * just freed by this thread, so it waits on its slab's freelist for the
 * thread's freelist to run dry.
 */
static void alloc_until_back(struct kmem_cache *s, void *x, bool zero)
{
	unsigned int per = objects_per_slab(s);
	void **others = calloc(per, sizeof(*others));
	unsigned int n = 0;
	void *p;

	cr_assert_not_null(others);
	for (;;) {
		p = zero ? kmem_cache_zalloc(s, GFP_KERNEL) : kmem_cache_alloc(s, GFP_KERNEL);
		cr_assert_not_null(p);
		if (zero)
			cr_assert(all_zero(p, s->object_size), "object %p not zero", p);
		if (p == x)
			break;
		cr_assert_lt(n, per, "%p did not come back within %u allocations", x, per);
		others[n++] = p;
	}
	while (n)
		kmem_cache_free(s, others[--n]);
	free(others);
}

static void pattern_test(enum free_order how)
{
	const unsigned int size = 72;
	struct kmem_cache *s = mkcache("pattern", size);
	unsigned int per = objects_per_slab(s);
	size_t n = 5 * (size_t)per + 3;
	void **objs = calloc(n, sizeof(*objs));
	uint64_t rng = 0x1234567 + how;

	cr_assert_not_null(objs);
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < n; i++) {
			objs[i] = kmem_cache_alloc(s, GFP_KERNEL);
			cr_assert_not_null(objs[i]);
			cr_assert_eq(compound_head_of(objs[i])->slab_cache, s);
			stamp(objs[i], size, i + (uint64_t)round * n);
		}
		assert_disjoint(objs, n, size);
		cr_assert_geq(distinct_slabs(objs, n), 6);
		for (size_t i = 0; i < n; i++)
			cr_assert(stamp_ok(objs[i], size, i + (uint64_t)round * n),
				  "round %d object %zu overwritten", round, i);
		cr_assert_eq(live_objects(s), (long)n);
		if (how == RANDOM)
			test_shuffle(objs, n, &rng);
		for (size_t i = 0; i < n; i++)
			kmem_cache_free(s, objs[how == LIFO ? n - 1 - i : i]);
		cr_assert_eq(live_objects(s), 0);
	}
	if (how == LIFO) {
		/*
		 * The owner's frees wait on their slab's freelist, a stack,
		 * until the thread's freelist runs dry: the object just freed
		 * comes back within one slab's worth of allocations, before
		 * any object of a new slab.
		 */
		for (int i = 0; i < 100; i++) {
			void *x = kmem_cache_alloc(s, GFP_KERNEL);

			kmem_cache_free(s, x);
			alloc_until_back(s, x, false);
			kmem_cache_free(s, x);
		}
	}
	kmem_cache_shrink(s);
	cr_assert_eq(cache_slabs(s), 0);
	cr_assert_eq(cache_objects(s), 0);
	free(objs);
	cr_assert_eq(kmem_check_all(), 0);
}

Test(slab, alloc_free_lifo)
{
	pattern_test(LIFO);
}

Test(slab, alloc_free_fifo)
{
	pattern_test(FIFO);
}

Test(slab, alloc_free_random)
{
	pattern_test(RANDOM);
}

Test(slab, objects_are_distinct_and_writable_for_every_size)
{
	static const unsigned int sizes[] = {
		1, 8, 13, 24, 56, 100, 250, 1000, 1500, 4000, 4096, 5000, 9000, 16384, 32768,
	};

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		char name[32];
		struct kmem_cache *s;
		unsigned int per;
		size_t n;
		void **objs;

		snprintf(name, sizeof(name), "wr-%u", sizes[i]);
		s = mkcache(name, sizes[i]);
		per = objects_per_slab(s);
		n = 3 * (size_t)per + 1;
		objs = calloc(n, sizeof(*objs));
		cr_assert_not_null(objs);
		alloc_stamped(s, objs, n, sizes[i], 0);
		assert_disjoint(objs, n, sizes[i]);
		for (size_t j = 0; j < n; j++)
			cr_assert(stamp_ok(objs[j], sizes[i], j), "size %u object %zu", sizes[i], j);
		/* every object lies inside its slab */
		for (size_t j = 0; j < n; j++) {
			struct page *slab = compound_head_of(objs[j]);
			char *start = page_address(slab);

			cr_assert_leq((char *)objs[j] + sizes[i],
				      start + (PAGE_SIZE << slab->order));
		}
		for (size_t j = 0; j < n; j++)
			kmem_cache_free(s, objs[j]);
		kmem_cache_shrink(s);
		cr_assert_eq(cache_slabs(s), 0, "size %u", sizes[i]);
		free(objs);
		kmem_cache_destroy(s);
	}
}

Test(slab, shrink_gives_every_empty_slab_back)
{
	long before = free_pages_now();
	struct kmem_cache *s = mkcache("shrinkme", 500);
	unsigned int per = objects_per_slab(s);
	size_t n = 10 * (size_t)per;
	void **objs = calloc(n, sizeof(*objs));
	uint64_t rng = 99;
	size_t nslabs;
	unsigned int order;

	cr_assert_not_null(objs);
	for (size_t i = 0; i < n; i++) {
		objs[i] = kmem_cache_alloc(s, GFP_KERNEL);
		cr_assert_not_null(objs[i]);
		memset(objs[i], 0x42, 500);
	}
	nslabs = distinct_slabs(objs, n);
	order = compound_head_of(objs[0])->order;
	cr_assert_geq(nslabs, 10);
	cr_assert_eq(cache_slabs(s), (long)nslabs);
	cr_assert_eq(cache_objects(s), (long)(nslabs * per));
	cr_assert_eq(free_pages_now(), before - (long)(nslabs << order),
		     "%zu slabs of order %u", nslabs, order);
	test_shuffle(objs, n, &rng);
	for (size_t i = 0; i < n; i++)
		kmem_cache_free(s, objs[i]);
	kmem_cache_shrink(s);
	cr_assert_eq(cache_slabs(s), 0);
	cr_assert_eq(cache_objects(s), 0);
	cr_assert_eq(atomic_load(&s->slabs_freed), atomic_load(&s->slabs_allocated));
	cr_assert_eq(free_pages_now(), before);
	/* and the cache still works */
	objs[0] = kmem_cache_alloc(s, GFP_KERNEL);
	cr_assert_not_null(objs[0]);
	kmem_cache_free(s, objs[0]);
	free(objs);
	cr_assert_eq(kmem_check_all(), 0);
}


/* ---- lazy freelists ------------------------------------------------------ */

/* Objects of a cache of size-byte objects that start in a slab's first page. */
static unsigned int objects_in_first_page(unsigned int size)
{
	return (PAGE_SIZE + size - 1) / size;
}

/*
 * A new slab links only the objects that start in its first page; the
 * next page's objects are linked when those run out, so pages the
 * program has not used are never written.  Objects still come out in
 * address order, once each, and the counters stay exact all the way.
 */
Test(slab, new_slab_links_its_objects_a_page_at_a_time)
{
	const unsigned int size = 1000;
	struct kmem_cache *s = mkcache("carve", size);
	unsigned int first = objects_in_first_page(size), per;
	struct page *slab;
	char *base;
	void *o;

	o = kmem_cache_alloc(s, GFP_KERNEL);
	cr_assert_not_null(o);
	slab = compound_head_of(o);
	per = slab->objects;
	base = slab_address(slab);
	cr_assert_geq(slab->order, 1, "a slab of %u objects of %u bytes", per, size);
	cr_assert_eq(o, base);
	cr_assert_eq(slab->carved, first, "carved %u objects, want the first page's %u",
		     slab->carved, first);
	cr_assert_eq(slab_uncarved(slab), per - first);
	cr_assert_eq(live_objects(s), 1);
	/* fresh pages: nothing past the first page has been written */
	cr_assert(slab->flags & PG_zeroed, "the slab did not come fresh from the OS");
	for (unsigned int pg = 1; pg < (1u << slab->order); pg++)
		cr_assert_eq(test_resident_pages(base + pg * PAGE_SIZE, 1), 0, "page %u of the slab is resident",
			      pg);

	for (unsigned int i = 1; i < per; i++) {
		void *p = kmem_cache_alloc(s, GFP_KERNEL);

		cr_assert_eq(p, base + (size_t)i * size, "object %u", i);
		cr_assert_eq(live_objects(s), (long)i + 1, "object %u", i);
		/* every page up to the one object i starts in is carved, no more */
		cr_assert_leq(slab->carved, objects_in_first_page(size) +
			      (unsigned int)(((size_t)i * size) / PAGE_SIZE) * (PAGE_SIZE / size + 1));
		memset(p, 0x5a, size);
	}
	cr_assert_eq(slab->carved, per);
	cr_assert_eq(slab_uncarved(slab), 0);
	cr_assert_neq(compound_head_of(kmem_cache_alloc(s, GFP_KERNEL)), slab,
		      "the slab handed out more than its %u objects", per);
	cr_assert_eq(kmem_check_all(), 0);
}

/*
 * A slab given up with uncarved objects has free objects: it goes to the
 * node's partial list, not to full, and whoever takes it next carves the
 * rest.
 */
Test(slab, uncarved_objects_survive_their_slab_being_given_up)
{
	const unsigned int size = 1000;
	struct kmem_cache *s = mkcache("carve-deact", size);
	void *o = kmem_cache_alloc(s, GFP_KERNEL), **objs;
	struct page *slab = compound_head_of(o);
	unsigned int per = slab->objects;

	cr_assert_gt(slab_uncarved(slab), 0);
	kmem_cache_shrink(s);   /* deactivates the thread's slab */
	cr_assert_null(slab->slab_owner);
	cr_assert(on_node_partial(s, slab));
	cr_assert_neq(atomic_load(&slab->remote_free), SLAB_REMOTE_FULL);
	cr_assert_eq(slab->inuse, 1);
	cr_assert_eq(cache_slabs(s), 1);
	cr_assert_eq(live_objects(s), 1);

	objs = calloc(per, sizeof(*objs));
	cr_assert_not_null(objs);
	objs[0] = o;
	for (unsigned int i = 1; i < per; i++) {
		objs[i] = kmem_cache_alloc(s, GFP_KERNEL);
		cr_assert_eq(compound_head_of(objs[i]), slab, "object %u from another slab", i);
	}
	assert_disjoint(objs, per, size);
	cr_assert_eq(cache_slabs(s), 1);
	cr_assert_eq(live_objects(s), (long)per);
	for (unsigned int i = 0; i < per; i++)
		kmem_cache_free(s, objs[i]);
	kmem_cache_shrink(s);
	cr_assert_eq(cache_slabs(s), 0);
	free(objs);
	cr_assert_eq(kmem_check_all(), 0);
}

/* Another thread's allocation takes a node-partial slab with uncarved objects. */
static void *alloc_one(void *arg)
{
	struct kmem_cache *s = arg;

	return kmem_cache_alloc(s, GFP_KERNEL);
}

Test(slab, another_thread_carves_a_given_up_slab)
{
	const unsigned int size = 1000;
	struct kmem_cache *s = mkcache("carve-other", size);
	void *o = kmem_cache_alloc(s, GFP_KERNEL), *p;
	struct page *slab = compound_head_of(o);
	unsigned int carved = slab->carved;
	pthread_t t;

	kmem_cache_shrink(s);
	cr_assert(on_node_partial(s, slab));
	cr_assert_eq(pthread_create(&t, NULL, alloc_one, s), 0);
	cr_assert_eq(pthread_join(t, &p), 0);
	cr_assert_eq(compound_head_of(p), slab);
	cr_assert_eq(p, (char *)slab_address(slab) + 1 * size,
		     "the first free object comes first");
	cr_assert_eq(slab->carved, carved, "carved again though objects were linked");
	cr_assert_eq(live_objects(s), 2);
	kmem_cache_free(s, o);
	kmem_cache_free(s, p);
	kmem_cache_shrink(s);
	cr_assert_eq(cache_slabs(s), 0);
}

static void free_never_allocated(void *arg)
{
	struct kmem_cache *s = mkcache("carve-bad", 1000);
	char *o = kmem_cache_alloc(s, GFP_KERNEL);
	struct page *slab = compound_head_of(o);

	kmem_cache_free(s, o + (size_t)slab->carved * 1000);
}

/* Through kfree, the interposer's path: a kmalloc slab's uncarved objects. */
static void kfree_never_allocated(void *arg)
{
	char *o = kmalloc(1000, GFP_KERNEL);
	struct page *slab = compound_head_of(o);

	(void)arg;
	if (slab->carved < slab->objects)
		kfree((char *)slab_address(slab) + (size_t)slab->carved * slab->slab_cache->size);
	kfree((char *)slab_address(slab) + (size_t)slab->objects * slab->slab_cache->size);
}

Test(slab, free_of_an_object_never_handed_out_aborts)
{
	expect_death(free_never_allocated, NULL, "never allocated");
	expect_death(free_never_allocated, NULL, "carve-bad");
	expect_death(kfree_never_allocated, NULL, "kfree(): invalid pointer");
}


struct dirty_free_job {
	struct kmem_cache *s;
	void **objs;
	size_t n;
	unsigned int size;
};

static void *dirty_and_free(void *arg)
{
	struct dirty_free_job *j = arg;

	for (size_t i = 0; i < j->n; i++) {
		memset(j->objs[i], 0xd1, j->size);
		kmem_cache_free(j->s, j->objs[i]);
	}
	return NULL;
}

static void zalloc_test(struct kmem_cache *s, unsigned int size)
{
	unsigned int per = objects_per_slab(s);
	size_t n = 3 * (size_t)per + 1;
	void **objs = calloc(n, sizeof(*objs));
	uint64_t rng = 5;

	cr_assert_not_null(objs);
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < n; i++) {
			objs[i] = kmem_cache_zalloc(s, GFP_KERNEL);
			cr_assert_not_null(objs[i]);
			cr_assert(all_zero(objs[i], size), "round %d object %zu not zero", round, i);
			memset(objs[i], 0xff, size);
		}
		test_shuffle(objs, n, &rng);
		if (round == 1) {
			/* dirtied and freed by another thread: remote lists */
			struct dirty_free_job j = { s, objs, n, size };

			run_thread(dirty_and_free, &j);
		} else {
			for (size_t i = 0; i < n; i++)
				kmem_cache_free(s, objs[i]);
		}
	}
	/* the object just freed comes back within a slab's worth, zeroed,
	 * and so does every object before it */
	for (int i = 0; i < 50; i++) {
		unsigned char *o = kmem_cache_alloc(s, GFP_KERNEL);

		memset(o, 0xee, size);
		kmem_cache_free(s, o);
		alloc_until_back(s, o, true);
		cr_assert(all_zero(o, size));
		kmem_cache_free(s, o);
	}
	/* __GFP_ZERO through kmem_cache_alloc means the same */
	for (int i = 0; i < 50; i++) {
		unsigned char *o = kmem_cache_alloc(s, GFP_KERNEL);

		memset(o, 0xee, size);
		kmem_cache_free(s, o);
		o = kmem_cache_alloc(s, GFP_KERNEL | __GFP_ZERO);
		cr_assert(all_zero(o, size));
		kmem_cache_free(s, o);
	}
	free(objs);
}

Test(slab, zalloc_zeroes_fresh_and_recycled_objects)
{
	zalloc_test(mkcache("zalloc-200", 200), 200);
	zalloc_test(mkcache("zalloc-8", 8), 8);
	zalloc_test(mkcache("zalloc-3000", 3000), 3000);
	zalloc_test(kmem_cache_create("zalloc-hw", 100, 0, SLAB_HWCACHE_ALIGN | SLAB_NO_MERGE,
				      NULL), 100);
}

/* ---- constructors ------------------------------------------------------- */

#define CTOR_SIZE 120
static atomic_long ctor_calls;
static void *ctor_seen[4096];

static void counting_ctor(void *p)
{
	long n = atomic_fetch_add(&ctor_calls, 1);

	if (n < (long)ARRAY_SIZE(ctor_seen))
		ctor_seen[n] = p;
	memset(p, 0xc7, CTOR_SIZE);
}

Test(slab, ctor_runs_once_per_object_when_its_slab_is_created)
{
	struct kmem_cache *s = kmem_cache_create("ctor-cache", CTOR_SIZE, 0, 0, counting_ctor);
	struct page *slab0;
	long k, back = 0;
	void **objs, **all;

	cr_assert_not_null(s);
	cr_assert_eq(atomic_load(&ctor_calls), 0, "ctor ran before any slab existed");
	void *o0 = kmem_cache_alloc(s, GFP_KERNEL);

	cr_assert_not_null(o0);
	slab0 = compound_head_of(o0);
	k = atomic_load(&ctor_calls);
	cr_assert_eq(k, slab0->objects, "one slab of %u objects, %ld ctor calls",
		     slab0->objects, k);
	cr_assert_gt(k, 1);
	cr_assert_leq(k, (long)ARRAY_SIZE(ctor_seen) / 4);
	for (long i = 0; i < k; i++)
		cr_assert_eq(compound_head_of(ctor_seen[i]), slab0);
	assert_disjoint(ctor_seen, (size_t)k, CTOR_SIZE);

	objs = calloc((size_t)k + 1, sizeof(*objs));
	cr_assert_not_null(objs);
	objs[0] = o0;
	for (long i = 1; i < k; i++) {
		objs[i] = kmem_cache_alloc(s, GFP_KERNEL);
		cr_assert_eq(compound_head_of(objs[i]), slab0);
	}
	cr_assert_eq(atomic_load(&ctor_calls), k, "ctor ran on allocation");
	for (long i = 0; i < k; i++) {
		const unsigned char *c = objs[i];

		for (int b = 0; b < CTOR_SIZE; b++)
			cr_assert_eq(c[b], 0xc7, "object %ld byte %d not in ctor state", i, b);
	}
	/* the next object needs a new slab: k more calls */
	objs[k] = kmem_cache_alloc(s, GFP_KERNEL);
	cr_assert_neq(compound_head_of(objs[k]), slab0);
	cr_assert_eq(atomic_load(&ctor_calls), 2 * k);

	/*
	 * Objects keep their state while free: the free pointer is outside.
	 * The two slabs hold 2k objects; allocating 2k again gives each of
	 * ours back with what we wrote, the others in ctor state, and needs
	 * no new slab.
	 */
	for (long i = 0; i <= k; i++)
		memset(objs[i], (int)(i & 0x7f) + 1, CTOR_SIZE);
	for (long i = 0; i <= k; i++)
		kmem_cache_free(s, objs[i]);
	all = calloc(2 * (size_t)k, sizeof(*all));
	cr_assert_not_null(all);
	for (long i = 0; i < 2 * k; i++) {
		unsigned char *o = kmem_cache_alloc(s, GFP_KERNEL);
		long idx = -1;
		int want;

		all[i] = o;
		for (long j = 0; j <= k; j++)
			if (objs[j] == o)
				idx = j;
		want = idx >= 0 ? (int)(idx & 0x7f) + 1 : 0xc7;
		if (idx >= 0)
			back++;
		for (int b = 0; b < CTOR_SIZE; b++)
			cr_assert_eq(o[b], want, "object %p (ours: %ld) byte %d is %#x, want %#x",
				     (void *)o, idx, b, o[b], want);
	}
	cr_assert_eq(back, k + 1, "%ld of our %ld objects came back", back, k + 1);
	assert_disjoint(all, 2 * (size_t)k, CTOR_SIZE);
	cr_assert_eq(atomic_load(&ctor_calls), 2 * k, "ctor ran on reuse");
	for (long i = 0; i < 2 * k; i++)
		kmem_cache_free(s, all[i]);
	free(all);
	kmem_cache_shrink(s);
	cr_assert_eq(cache_slabs(s), 0);
	/* a slab created again runs the ctor again, once per object */
	o0 = kmem_cache_alloc(s, GFP_KERNEL);
	cr_assert_eq(atomic_load(&ctor_calls), 3 * k);
	kmem_cache_free(s, o0);
	free(objs);
}

/* ---- frees from other threads ------------------------------------------ */

struct free_job {
	struct kmem_cache *s;
	void **objs;
	size_t n;
};

static void *free_all(void *arg)
{
	struct free_job *j = arg;

	for (size_t i = 0; i < j->n; i++)
		kmem_cache_free(j->s, j->objs[i]);
	return NULL;
}

static bool in_set(void *p, void **set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == p)
			return true;
	return false;
}

Test(slab, remote_frees_come_back_when_the_freelist_runs_dry)
{
	struct kmem_cache *s = mkcache("remote", 64);
	unsigned int per = objects_per_slab(s);   /* leaves one fresh active slab */
	size_t half = per / 2, rest = per - half;
	void **mine = calloc(per, sizeof(void *)), **later = calloc(per + 1, sizeof(void *));
	struct free_job job;
	struct page *slab;

	cr_assert(mine && later);
	cr_assert_geq(per, 4);
	for (size_t i = 0; i < half; i++) {
		mine[i] = kmem_cache_alloc(s, GFP_KERNEL);
		stamp(mine[i], 64, i);
	}
	slab = compound_head_of(mine[0]);
	for (size_t i = 0; i < half; i++)
		cr_assert_eq(compound_head_of(mine[i]), slab);
	cr_assert_eq(slab->slab_owner, kmem_current);

	job = (struct free_job){ s, mine, half };
	run_thread(free_all, &job);
	cr_assert_neq(atomic_load(&slab->remote_free), 0, "no remote frees pending");
	cr_assert_eq(remote_count(s, slab), half);
	cr_assert_eq(live_objects(s), 0);

	/* the rest of the freelist first, none of the remotely freed ones */
	for (size_t i = 0; i < rest; i++) {
		later[i] = kmem_cache_alloc(s, GFP_KERNEL);
		cr_assert_eq(compound_head_of(later[i]), slab);
		cr_assert_not(in_set(later[i], mine, half),
			      "object %zu was freed remotely but came back early", i);
	}
	/* then exactly the objects the other thread freed */
	for (size_t i = 0; i < half; i++) {
		void *o = kmem_cache_alloc(s, GFP_KERNEL);

		cr_assert(in_set(o, mine, half), "allocation %zu: %p is not a remote-freed object",
			  i, o);
		cr_assert_not(in_set(o, later, rest + i));
		later[rest + i] = o;
	}
	cr_assert_eq(atomic_load(&slab->remote_free), 0);
	/* the slab is used up: the next object is from another slab */
	later[per] = kmem_cache_alloc(s, GFP_KERNEL);
	cr_assert_neq(compound_head_of(later[per]), slab);
	cr_assert_eq(live_objects(s), (long)per + 1);
	for (size_t i = 0; i <= per; i++)
		kmem_cache_free(s, later[i]);
	kmem_cache_shrink(s);
	cr_assert_eq(cache_slabs(s), 0);
	free(mine);
	free(later);
}

/*
 * A slab that runs dry stays its thread's (thread-partial, dry): the
 * owner's frees into it stay local, other threads' frees gather on its
 * remote list, and both come back when the queue reaches it again.
 */
Test(slab_unparked, dry_slab_stays_with_its_thread)
{
	struct kmem_cache *s = mkcache("dry", 256);
	unsigned int per = objects_per_slab(s);   /* leaves one fresh active slab */
	void **objs = calloc(2 * (size_t)per + 2, sizeof(void *));
	void *remote_one[1];
	struct free_job job;
	struct page *slab1, *slab2;
	void *a, *b;

	cr_assert_not_null(objs);
	cr_assert_geq(per, 8);
	for (unsigned int i = 0; i <= per; i++)
		objs[i] = kmem_cache_alloc(s, GFP_KERNEL);
	slab1 = compound_head_of(objs[0]);
	slab2 = compound_head_of(objs[per]);
	cr_assert_neq(slab1, slab2);
	cr_assert_eq(slab1->slab_owner, kmem_current, "the dry slab was given up");
	cr_assert(on_thread_partial(kmem_current, s, slab1));
	cr_assert_not(on_node_partial(s, slab1));
	cr_assert_eq(atomic_load(&slab1->remote_free), 0, "dry slab marked full");
	cr_assert_eq(slab1->inuse, per);

	/* the owner's free: a plain push, no remote free, still queued */
	kmem_cache_free(s, objs[3]);
	cr_assert_eq(slab1->freelist, objs[3]);
	cr_assert_eq(slab1->inuse, per - 1);
	cr_assert_eq(remote_count(s, slab1), 0);
	cr_assert(on_thread_partial(kmem_current, s, slab1));

	/* another thread's free: onto the remote list, the slab stays ours */
	remote_one[0] = objs[5];
	job = (struct free_job){ s, remote_one, 1 };
	run_thread(free_all, &job);
	cr_assert_eq(slab1->slab_owner, kmem_current);
	cr_assert_eq(remote_count(s, slab1), 1);
	cr_assert_eq(live_objects(s), (long)per + 1 - 2);

	/* slab2 first, then exactly the two objects freed into slab1 */
	for (unsigned int i = 1; i < per; i++) {
		objs[per + i] = kmem_cache_alloc(s, GFP_KERNEL);
		cr_assert_eq(compound_head_of(objs[per + i]), slab2, "allocation %u", i);
	}
	a = kmem_cache_alloc(s, GFP_KERNEL);
	b = kmem_cache_alloc(s, GFP_KERNEL);
	cr_assert((a == objs[3] && b == objs[5]) || (a == objs[5] && b == objs[3]),
		  "got %p %p, freed %p %p", a, b, objs[3], objs[5]);
	cr_assert_eq(atomic_load(&slab1->remote_free), 0);
	cr_assert_eq(live_objects(s), 2 * (long)per);
	for (unsigned int i = 0; i < 2 * per; i++)
		kmem_cache_free(s, objs[i]);
	cr_assert_eq(live_objects(s), 0);
	kmem_cache_shrink(s);
	cr_assert_eq(cache_slabs(s), 0);
	free(objs);
}

/* A dry slab that gets remote frees while queued is not lost at its owner's exit. */
struct dry_exit_job {
	struct kmem_cache *s;
	void **objs;
	unsigned int n;
	pthread_barrier_t *filled, *freed;
};

static void *dry_then_exit(void *arg)
{
	struct dry_exit_job *j = arg;

	for (unsigned int i = 0; i < j->n; i++) {
		j->objs[i] = kmem_cache_alloc(j->s, GFP_KERNEL);
		stamp(j->objs[i], 128, i);
	}
	pthread_barrier_wait(j->filled);
	pthread_barrier_wait(j->freed);        /* main freed some: now exit */
	return NULL;
}

Test(slab, dry_slab_with_remote_frees_survives_its_owners_exit)
{
	struct kmem_cache *s = mkcache("dry-exit", 128);
	unsigned int per = objects_per_slab(s);
	unsigned int n = 3 * per + 1;
	void **objs = calloc(n, sizeof(void *));
	pthread_barrier_t filled, freed;
	struct dry_exit_job job = { s, objs, n, &filled, &freed };
	struct page *slab1;
	pthread_t t;

	cr_assert_not_null(objs);
	kmem_cache_shrink(s);
	pthread_barrier_init(&filled, NULL, 2);
	pthread_barrier_init(&freed, NULL, 2);
	cr_assert_eq(pthread_create(&t, NULL, dry_then_exit, &job), 0);
	pthread_barrier_wait(&filled);
	slab1 = compound_head_of(objs[0]);
	cr_assert_eq(compound_head_of(objs[per - 1]), slab1);
	cr_assert_not_null(slab1->slab_owner);
	cr_assert_neq(slab1->slab_owner, kmem_current);
	/* remote frees into the other thread's dry slab */
	kmem_cache_free(s, objs[1]);
	kmem_cache_free(s, objs[2]);
	cr_assert_eq(remote_count(s, slab1), 2);
	pthread_barrier_wait(&freed);
	pthread_join(t, NULL);
	pthread_barrier_destroy(&filled);
	pthread_barrier_destroy(&freed);

	/* handed back with its remote frees: node partial, never full */
	cr_assert_null(slab1->slab_owner);
	cr_assert(on_node_partial(s, slab1));
	cr_assert_neq(atomic_load(&slab1->remote_free), SLAB_REMOTE_FULL);
	cr_assert_eq(live_objects(s), (long)n - 2);
	for (unsigned int i = 0; i < n; i++) {
		if (i == 1 || i == 2)
			continue;
		cr_assert(stamp_ok(objs[i], 128, i), "object %u", i);
		kmem_cache_free(s, objs[i]);
	}
	cr_assert_eq(live_objects(s), 0);
	kmem_cache_shrink(s);
	cr_assert_eq(cache_slabs(s), 0);
	free(objs);
}

/*
 * Many dry slabs queued: allocation looks at a bounded number of them,
 * and a slab the owner freed entirely is reused, not leaked.
 */
Test(slab, dry_slabs_queue_and_come_back)
{
	struct kmem_cache *s = mkcache("dry-queue", 200);
	unsigned int per = objects_per_slab(s);
	size_t n = 12 * (size_t)per;
	void **objs = calloc(n, sizeof(void *));
	long slabs;
	uint64_t rng = 3;

	cr_assert_not_null(objs);
	alloc_stamped(s, objs, n, 200, 0);
	slabs = cache_slabs(s);
	cr_assert_geq(slabs, 12);
	/* every full slab is still ours */
	for (size_t i = 0; i < n; i += per)
		cr_assert_eq(compound_head_of(objs[i])->slab_owner, kmem_current, "object %zu", i);
	/* free and allocate the whole set back, three times: no new slabs */
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < n; i++)
			cr_assert(stamp_ok(objs[i], 200, (uint64_t)round * n + i));
		test_shuffle(objs, n, &rng);
		for (size_t i = 0; i < n; i++)
			kmem_cache_free(s, objs[i]);
		cr_assert_eq(live_objects(s), 0, "round %d", round);
		alloc_stamped(s, objs, n, 200, (uint64_t)(round + 1) * n);
		assert_disjoint(objs, n, 200);
		cr_assert_leq(cache_slabs(s), slabs + 1, "round %d", round);
	}
	for (size_t i = 0; i < n; i++)
		kmem_cache_free(s, objs[i]);
	kmem_cache_shrink(s);
	cr_assert_eq(cache_slabs(s), 0);
	free(objs);
}

/*
 * A second thread with a kmem state of its own, parked until stopped:
 * the bounds on a thread's partial queue apply only while the process
 * has more than one.
 */
struct parked_thread {
	pthread_t t;
	pthread_barrier_t up, down;
};

static void *parked(void *arg)
{
	struct parked_thread *p = arg;

	kfree(kmalloc(8, GFP_KERNEL));
	pthread_barrier_wait(&p->up);
	pthread_barrier_wait(&p->down);
	return NULL;
}

static void parked_start(struct parked_thread *p)
{
	int before = atomic_load(&kmem_nr_threads);

	pthread_barrier_init(&p->up, NULL, 2);
	pthread_barrier_init(&p->down, NULL, 2);
	cr_assert_eq(pthread_create(&p->t, NULL, parked, p), 0);
	pthread_barrier_wait(&p->up);
	cr_assert_eq(atomic_load(&kmem_nr_threads), before + 1);
}

static void parked_stop(struct parked_thread *p)
{
	pthread_barrier_wait(&p->down);
	cr_assert_eq(pthread_join(p->t, NULL), 0);
	pthread_barrier_destroy(&p->up);
	pthread_barrier_destroy(&p->down);
}

/* Owned and full slabs among the first nslabs slabs of objs (per objects each). */
static void count_owned(void **objs, size_t nslabs, unsigned int per, size_t *owned,
			size_t *full)
{
	*owned = *full = 0;
	for (size_t k = 0; k < nslabs; k++) {
		struct page *slab = compound_head_of(objs[k * per]);

		if (slab->slab_owner == kmem_current) {
			cr_assert(on_thread_partial(kmem_current, slab->slab_cache, slab),
				  "slab %zu", k);
			(*owned)++;
		} else {
			cr_assert_null(slab->slab_owner, "slab %zu", k);
			cr_assert_eq(atomic_load(&slab->remote_free), SLAB_REMOTE_FULL, "slab %zu", k);
			(*full)++;
		}
	}
}

/*
 * A thread keeps at most max(8, 512 KiB of slabs) dry slabs per cache:
 * past that the oldest is given up (full), so a thread that stops
 * allocating strands a bounded amount of other threads' frees.
 */
Test(slab, dry_slabs_a_thread_keeps_are_bounded)
{
	struct kmem_cache *s = mkcache("dry-bound", 4096);
	unsigned int per = objects_per_slab(s);
	size_t slab_bytes, bound, nslabs, n, owned = 0, full = 0;
	void **objs;
	struct free_job job;
	struct parked_thread other;

	parked_start(&other);
	kmem_cache_shrink(s);
	slab_bytes = (size_t)PAGE_SIZE << s->order;
	bound = MAX((size_t)8, (512UL << 10) / slab_bytes);
	nslabs = bound + 6;
	n = nslabs * per + 1;           /* the last object opens one more slab */
	objs = calloc(n, sizeof(void *));
	cr_assert_not_null(objs);
	alloc_stamped(s, objs, n, 64, 0);
	cr_assert_eq(distinct_slabs(objs, n), nslabs + 1);
	count_owned(objs, nslabs, per, &owned, &full);
	cr_assert_eq(owned, bound, "%zu dry slabs kept, bound %zu", owned, bound);
	cr_assert_eq(full, nslabs - bound);
	/* the oldest were given up, the newest kept */
	cr_assert_null(compound_head_of(objs[0])->slab_owner);
	cr_assert_eq(compound_head_of(objs[(nslabs - 1) * per])->slab_owner, kmem_current);
	/* another thread frees everything: full slabs are adopted, ours get remote frees */
	job = (struct free_job){ s, objs, n };
	for (size_t i = 0; i < n; i++)
		cr_assert(stamp_ok(objs[i], 64, i), "object %zu", i);
	run_thread(free_all, &job);
	cr_assert_eq(live_objects(s), 0);
	kmem_cache_shrink(s);
	cr_assert_eq(cache_slabs(s), 0);
	free(objs);
	parked_stop(&other);
}

/*
 * With one thread in the process there are no other threads' frees to
 * strand: every dry slab stays the thread's (up to SINGLE_THREAD_DRY_PAGES
 * in all, below), and its own frees into them take the fast path.  Once a
 * second thread exists, the next slab that runs dry trims the queue to the
 * bound.
 */
Test(slab, a_single_thread_keeps_every_dry_slab_until_a_second_appears)
{
	struct kmem_cache *s = mkcache("dry-one-thread", 4096);
	unsigned int per = objects_per_slab(s);
	size_t bound = MAX((size_t)8, (512UL << 10) / ((size_t)PAGE_SIZE << s->order));
	size_t nslabs = bound + 6, n = (nslabs + 1) * per + 1, owned, full;
	void **objs = calloc(n, sizeof(void *));
	struct parked_thread other;

	cr_assert_not_null(objs);
	cr_assert_eq(atomic_load(&kmem_nr_threads), 1);
	alloc_stamped(s, objs, nslabs * per + 1, 64, 0);
	count_owned(objs, nslabs, per, &owned, &full);
	cr_assert_eq(owned, nslabs);
	cr_assert_eq(full, 0);

	/* slab nslabs runs dry with two threads about: the oldest go */
	parked_start(&other);
	alloc_stamped(s, objs + nslabs * per + 1, per, 64, nslabs * per + 1);
	count_owned(objs, nslabs + 1, per, &owned, &full);
	cr_assert_eq(owned, bound, "%zu of %zu dry slabs kept, bound %zu", owned, nslabs + 1,
		     bound);
	cr_assert_eq(full, nslabs + 1 - bound);
	cr_assert_null(compound_head_of(objs[0])->slab_owner);
	parked_stop(&other);
	for (size_t i = 0; i < n; i++)
		kmem_cache_free(s, objs[i]);
	cr_assert_eq(live_objects(s), 0);
	free(objs);
}

/*
 * But a single thread queues at most SINGLE_THREAD_DRY_PAGES of dry slabs
 * over all its caches: past that a slab that runs dry is full at once, so
 * that threads made later can adopt it by freeing into it (larson's main
 * thread builds the heap, then waits in pthread_join while its workers
 * free it).  The owner's own free adopts such a slab back.
 */
Test(slab, a_single_thread_queues_a_bounded_total_of_dry_slabs)
{
	struct kmem_cache *s = mkcache("dry-total", 4096);
	unsigned int per = objects_per_slab(s);
	unsigned long pages = 1UL << s->order, before = kmem_current->dry_pages;
	size_t kept, nslabs, n, owned, full;
	void **objs;
	struct free_job job;

	cr_assert_eq(atomic_load(&kmem_nr_threads), 1);
	cr_assert_lt(before, SINGLE_THREAD_DRY_PAGES);
	kept = (SINGLE_THREAD_DRY_PAGES - before + pages - 1) / pages;
	nslabs = kept + 8;
	n = nslabs * per + 1;           /* the last object opens one more slab */
	objs = calloc(n, sizeof(void *));
	cr_assert_not_null(objs);
	alloc_stamped(s, objs, n, 64, 0);
	count_owned(objs, nslabs, per, &owned, &full);
	cr_assert_eq(owned, kept, "%zu dry slabs queued, expected %zu", owned, kept);
	cr_assert_eq(full, nslabs - kept);
	cr_assert_eq(kmem_current->dry_pages, before + kept * pages);
	/* the oldest stay queued, the newest went full */
	cr_assert_eq(compound_head_of(objs[0])->slab_owner, kmem_current);
	cr_assert_null(compound_head_of(objs[(nslabs - 1) * per])->slab_owner);

	/* the owner's free into a full slab makes it the owner's again */
	kmem_cache_free(s, objs[(nslabs - 1) * per]);
	cr_assert_eq(compound_head_of(objs[(nslabs - 1) * per + 1])->slab_owner, kmem_current);
	objs[(nslabs - 1) * per] = kmem_cache_alloc(s, GFP_KERNEL);
	cr_assert_not_null(objs[(nslabs - 1) * per]);
	stamp(objs[(nslabs - 1) * per], 64, (nslabs - 1) * per);

	/* another thread frees everything: it adopts the full slabs */
	job = (struct free_job){ s, objs, n };
	run_thread(free_all, &job);
	cr_assert_eq(live_objects(s), 0);
	kmem_cache_shrink(s);
	cr_assert_eq(cache_slabs(s), 0);
	cr_assert_eq(kmem_current->dry_pages, before);
	free(objs);
}

/* Allocate j->n objects, free every other one, exit: its slabs go node-partial. */
static void *alloc_half_and_exit(void *arg)
{
	struct free_job *j = arg;

	alloc_stamped(j->s, j->objs, j->n, 64, 0);
	for (size_t i = 0; i < j->n; i += 2)
		kmem_cache_free(j->s, j->objs[i]);
	return NULL;
}

/*
 * Frees into a slab on the node's partial list go on its freelist under
 * list_lock, as in mm/slub.c, not on its remote list: a slab that empties
 * is seen at once and, past min_partial, goes back to the page allocator.
 */
Test(slab, node_partial_slabs_that_empty_go_back_past_min_partial)
{
	struct kmem_cache *s = mkcache("node-empty", 64);
	unsigned int per = objects_per_slab(s);
	size_t n = 16 * (size_t)per;
	void **objs = calloc(n, sizeof(*objs));
	struct free_job job = { s, objs, n };
	unsigned long freed_before;
	long slabs_before;
	size_t on_node = 0;

	cr_assert_not_null(objs);
	run_thread(alloc_half_and_exit, &job);
	for (size_t i = 1; i < n; i += 2) {
		struct page *slab = compound_head_of(objs[i]);

		cr_assert_null(slab->slab_owner, "object %zu: slab still owned", i);
		on_node += on_node_partial(s, slab);
	}
	slabs_before = cache_slabs(s);
	cr_assert_geq(slabs_before, 16);
	cr_assert_geq(on_node, 1);
	freed_before = atomic_load(&s->slabs_freed);
	for (size_t i = 1; i < n; i += 2) {
		cr_assert(stamp_ok(objs[i], 64, i), "object %zu", i);
		kmem_cache_free(s, objs[i]);
	}
	/* frees put on remote lists would keep inuse up and the slabs below */
	cr_assert_eq(live_objects(s), 0);
	cr_assert_leq(cache_slabs(s), (long)s->min_partial,
		      "%ld of %ld slabs left, min_partial %u", cache_slabs(s), slabs_before,
		      s->min_partial);
	cr_assert_eq(atomic_load(&s->slabs_freed) - freed_before,
		     (unsigned long)(slabs_before - cache_slabs(s)));
	kmem_cache_shrink(s);
	cr_assert_eq(cache_slabs(s), 0);
	cr_assert_eq(kmem_check_all(), 0);
	free(objs);
}

/* A double free into a node-partial slab is caught at the head of its freelist. */
static void double_free_node_partial(void *arg)
{
	struct kmem_cache *s = mkcache("dfree-node", 64);
	unsigned int per = objects_per_slab(s);
	void **objs = calloc(4 * (size_t)per, sizeof(*objs));
	struct free_job job = { s, objs, 4 * (size_t)per };

	(void)arg;
	run_thread(alloc_half_and_exit, &job);
	kmem_cache_free(s, objs[1]);
	kmem_cache_free(s, objs[1]);
}

Test(slab, double_free_into_a_node_partial_slab_aborts)
{
	expect_death(double_free_node_partial, NULL, "dfree-node");
}

struct adopt_job {
	struct kmem_cache *s;
	void *victim, *victim2;
	struct kmem_thread *self;
	struct kmem_thread *owner_after;
	uintptr_t remote_after;
	bool on_partial;
	void *got, *got2;
};

static void *adopt_thread(void *arg)
{
	struct adopt_job *j = arg;
	struct page *slab = compound_head_of(j->victim);

	kmem_cache_free(j->s, j->victim);
	j->self = kmem_current;
	j->owner_after = slab->slab_owner;
	j->remote_after = atomic_load(&slab->remote_free);
	j->on_partial = j->self && on_thread_partial(j->self, j->s, slab);
	j->got = kmem_cache_alloc(j->s, GFP_KERNEL);      /* the adopted slab's one free object */
	kmem_cache_free(j->s, j->victim2);                /* now a free into our own slab */
	j->got2 = kmem_cache_alloc(j->s, GFP_KERNEL);
	kmem_cache_free(j->s, j->got2);
	kmem_cache_free(j->s, j->got);
	return NULL;
}

Test(slab, full_slab_is_adopted_by_the_freeing_thread)
{
	struct kmem_cache *s = mkcache("adopt", 256);
	unsigned int per = objects_per_slab(s);
	void **objs = calloc(per + 1, sizeof(void *));
	struct adopt_job job;
	struct page *slab1;

	cr_assert_not_null(objs);
	cr_assert_geq(per, 8);
	for (unsigned int i = 0; i <= per; i++)
		objs[i] = kmem_cache_alloc(s, GFP_KERNEL);
	slab1 = compound_head_of(objs[0]);
	for (unsigned int i = 0; i < per; i++)
		cr_assert_eq(compound_head_of(objs[i]), slab1);
	cr_assert_neq(compound_head_of(objs[per]), slab1);

	/*
	 * slab1 ran dry: it stays ours, queued on our partial list.  A
	 * shrink gives it up: then it is full, nobody owns it, it is on no
	 * list.
	 */
	cr_assert_eq(slab1->slab_owner, kmem_current);
	cr_assert(on_thread_partial(kmem_current, s, slab1));
	kmem_cache_shrink(s);
	cr_assert_null(slab1->slab_owner);
	cr_assert_eq(atomic_load(&slab1->remote_free), SLAB_REMOTE_FULL);
	cr_assert_not(on_node_partial(s, slab1));

	job = (struct adopt_job){ .s = s, .victim = objs[3], .victim2 = objs[5] };
	run_thread(adopt_thread, &job);
	cr_assert_not_null(job.self);
	cr_assert_eq(job.owner_after, job.self, "the freeing thread did not adopt the slab");
	cr_assert_eq(job.remote_after, 0);
	cr_assert(job.on_partial, "adopted slab is not on the thread's partial list");
	cr_assert_eq(job.got, objs[3], "adopted slab's free object was not reused");
	cr_assert_eq(job.got2, objs[5]);

	/* the thread exited with two free objects in slab1: node partial */
	cr_assert_null(slab1->slab_owner);
	cr_assert(on_node_partial(s, slab1));
	cr_assert_eq(slab1->inuse, per - 2);
	cr_assert_eq(live_objects(s), (long)per + 1 - 2);
	for (unsigned int i = 0; i <= per; i++)
		if (i != 3 && i != 5)
			kmem_cache_free(s, objs[i]);
	cr_assert_eq(live_objects(s), 0);
	kmem_cache_shrink(s);
	cr_assert_eq(cache_slabs(s), 0);
	free(objs);
}

/* Many threads free (after checking the contents) into one thread's slabs. */
#define FREERS 4

struct check_free_job {
	struct kmem_cache *s;
	void **objs;
	size_t n, first, stride;
	unsigned int size;
	pthread_barrier_t *start;
	long bad;
};

static void *check_and_free(void *arg)
{
	struct check_free_job *j = arg;

	pthread_barrier_wait(j->start);
	for (size_t i = j->first; i < j->n; i += j->stride) {
		if (!stamp_ok(j->objs[i], j->size, i))
			j->bad++;
		kmem_cache_free(j->s, j->objs[i]);
	}
	return NULL;
}

Test(slab, many_threads_free_into_one_threads_slabs)
{
	const unsigned int size = 128;
	struct kmem_cache *s = mkcache("manyfree", size);
	unsigned int per = objects_per_slab(s);
	size_t n = 8 * (size_t)per + 5;
	void **objs = calloc(n, sizeof(*objs));

	cr_assert_not_null(objs);
	for (int round = 0; round < 20; round++) {
		pthread_barrier_t start;
		pthread_t t[FREERS];
		struct check_free_job jobs[FREERS];

		alloc_stamped(s, objs, n, size, 0);
		assert_disjoint(objs, n, size);
		pthread_barrier_init(&start, NULL, FREERS);
		for (int i = 0; i < FREERS; i++) {
			jobs[i] = (struct check_free_job){ s, objs, n, (size_t)i, FREERS, size,
							   &start, 0 };
			cr_assert_eq(pthread_create(&t[i], NULL, check_and_free, &jobs[i]), 0);
		}
		for (int i = 0; i < FREERS; i++) {
			pthread_join(t[i], NULL);
			cr_assert_eq(jobs[i].bad, 0, "round %d thread %d saw %ld corrupt objects",
				     round, i, jobs[i].bad);
		}
		pthread_barrier_destroy(&start);
		cr_assert_eq(live_objects(s), 0, "round %d: objects lost", round);
	}
	/* everything can be allocated again, and all of it goes back */
	alloc_stamped(s, objs, n, size, 0);
	assert_disjoint(objs, n, size);
	for (size_t i = 0; i < n; i++) {
		cr_assert(stamp_ok(objs[i], size, i));
		kmem_cache_free(s, objs[i]);
	}
	kmem_cache_shrink(s);
	cr_assert_eq(cache_slabs(s), 0);
	free(objs);
	cr_assert_eq(kmem_check_all(), 0);
}

/* ---- thread exit -------------------------------------------------------- */

struct exit_job {
	struct kmem_cache *s;
	void **objs;
	size_t n;
	unsigned int size;
};

static void *alloc_and_exit(void *arg)
{
	struct exit_job *j = arg;

	for (size_t i = 0; i < j->n; i++) {
		j->objs[i] = kmem_cache_alloc(j->s, GFP_KERNEL);
		if (j->objs[i])
			stamp(j->objs[i], j->size, i);
	}
	return NULL;
}

Test(slab, thread_exit_hands_its_slabs_over)
{
	const unsigned int size = 96;
	struct kmem_cache *s = mkcache("exiter", size);
	unsigned int per = objects_per_slab(s);
	size_t n = 5 * (size_t)per + 3;
	void **objs = calloc(n, sizeof(*objs));
	struct exit_job job = { s, objs, n, size };
	size_t nslabs, partial = 0, full = 0;
	uint64_t rng = 11;

	cr_assert_not_null(objs);
	kmem_cache_shrink(s);           /* objects_per_slab's slab: gone */
	cr_assert_eq(cache_slabs(s), 0);
	run_thread(alloc_and_exit, &job);
	for (size_t i = 0; i < n; i++)
		cr_assert_not_null(objs[i]);
	assert_disjoint(objs, n, size);
	nslabs = distinct_slabs(objs, n);
	cr_assert_eq(cache_slabs(s), (long)nslabs);
	/* nobody owns them now: each is full or on the node's partial list */
	for (size_t i = 0; i < n; i++) {
		struct page *slab = compound_head_of(objs[i]);

		cr_assert_null(slab->slab_owner, "object %zu: slab still owned", i);
		if (atomic_load(&slab->remote_free) == SLAB_REMOTE_FULL)
			full++;
		else if (on_node_partial(s, slab))
			partial++;
		else
			cr_assert_fail("object %zu: slab %p neither full nor node-partial", i,
				       (void *)slab);
	}
	cr_assert_eq(full + partial, n);
	cr_assert_gt(partial, 0, "the last, partly used slab is not on the node list");
	cr_assert_eq(live_objects(s), (long)n, "objects lost at thread exit");
	for (size_t i = 0; i < n; i++)
		cr_assert(stamp_ok(objs[i], size, i), "object %zu changed at thread exit", i);

	/* the main thread frees them all */
	test_shuffle(objs, n, &rng);
	for (size_t i = 0; i < n; i++)
		kmem_cache_free(s, objs[i]);
	cr_assert_eq(live_objects(s), 0, "objects lost after the frees");
	cr_assert_leq(cache_slabs(s), (long)nslabs);

	/* allocating again works and reuses what is there */
	alloc_stamped(s, objs, n, size, 0);
	assert_disjoint(objs, n, size);
	cr_assert_eq(live_objects(s), (long)n);
	for (size_t i = 0; i < n; i++) {
		cr_assert(stamp_ok(objs[i], size, i));
		kmem_cache_free(s, objs[i]);
	}
	kmem_cache_shrink(s);
	cr_assert_eq(cache_slabs(s), 0);
	free(objs);
	cr_assert_eq(kmem_check_all(), 0);
}

Test(slab, thread_exit_contents_survive)
{
	const unsigned int size = 200;
	struct kmem_cache *s = mkcache("exiter-contents", size);
	size_t n = 1000;
	void **objs = calloc(n, sizeof(*objs));
	struct exit_job job = { s, objs, n, size };

	cr_assert_not_null(objs);
	for (int round = 0; round < 10; round++) {
		run_thread(alloc_and_exit, &job);
		for (size_t i = 0; i < n; i++)
			cr_assert(stamp_ok(objs[i], size, i), "round %d object %zu", round, i);
		cr_assert_eq(live_objects(s), (long)n);
		for (size_t i = 0; i < n; i++)
			kmem_cache_free(s, objs[i]);
		cr_assert_eq(live_objects(s), 0);
	}
	kmem_cache_shrink(s);
	cr_assert_eq(cache_slabs(s), 0);
	free(objs);
}

/* ---- destroy ------------------------------------------------------------ */

static void destroy_fn(void *arg)
{
	kmem_cache_destroy(arg);
}

Test(slab, destroy_reports_the_exact_number_of_leaked_objects)
{
	struct kmem_cache *s = mkcache("leaky", 48);
	unsigned int per = objects_per_slab(s);
	size_t n = 3 * (size_t)per + 5, keep = 37;
	void **objs = calloc(n, sizeof(*objs));
	uint64_t rng = 3;
	char out[4096];

	cr_assert_not_null(objs);
	for (size_t i = 0; i < n; i++)
		objs[i] = kmem_cache_alloc(s, GFP_KERNEL);
	test_shuffle(objs, n, &rng);
	for (size_t i = keep; i < n; i++)
		kmem_cache_free(s, objs[i]);
	capture_stderr(destroy_fn, s, out, sizeof(out));
	cr_assert(strstr(out, "kmem_cache_destroy leaky: Slab cache still has objects (37)\n"),
		  "stderr: \"%s\"", out);
	free(objs);
}

Test(slab, destroy_counts_leaks_exactly_after_remote_frees)
{
	struct kmem_cache *s = mkcache("leaky-remote", 80);
	unsigned int per = objects_per_slab(s);
	size_t n = 4 * (size_t)per + 7, remote = 2 * (size_t)per + 1, local = 11;
	size_t keep = n - remote - local;
	void **objs = calloc(n, sizeof(*objs));
	struct free_job job;
	uint64_t rng = 17;
	char out[4096], want[128];

	cr_assert_not_null(objs);
	for (size_t i = 0; i < n; i++)
		objs[i] = kmem_cache_alloc(s, GFP_KERNEL);
	test_shuffle(objs, n, &rng);
	job = (struct free_job){ s, objs, remote };
	run_thread(free_all, &job);
	for (size_t i = remote; i < remote + local; i++)
		kmem_cache_free(s, objs[i]);
	snprintf(want, sizeof(want),
		 "kmem_cache_destroy leaky-remote: Slab cache still has objects (%zu)\n", keep);
	capture_stderr(destroy_fn, s, out, sizeof(out));
	cr_assert(strstr(out, want), "want \"%s\", stderr: \"%s\"", want, out);
	free(objs);
}

Test(slab, destroy_of_an_empty_cache_prints_nothing)
{
	struct kmem_cache *unused = mkcache("never-used", 64);
	struct kmem_cache *s = mkcache("used-empty", 300);
	size_t n = 2000;
	void **objs = calloc(n, sizeof(*objs));
	struct free_job job;
	char out[4096];
	size_t len;

	cr_assert_not_null(objs);
	for (size_t i = 0; i < n; i++)
		objs[i] = kmem_cache_alloc(s, GFP_KERNEL);
	job = (struct free_job){ s, objs, n / 2 };
	run_thread(free_all, &job);
	for (size_t i = n / 2; i < n; i++)
		kmem_cache_free(s, objs[i]);
	len = capture_stderr(destroy_fn, s, out, sizeof(out));
	cr_assert_eq(len, 0, "stderr: \"%s\"", out);
	len = capture_stderr(destroy_fn, unused, out, sizeof(out));
	cr_assert_eq(len, 0, "stderr: \"%s\"", out);
	free(objs);
}

/* ---- misuse ------------------------------------------------------------- */

static void free_wrong_cache(void *arg)
{
	struct kmem_cache *a = mkcache("cache-a", 64), *b = mkcache("cache-b", 64);
	void *o = kmem_cache_alloc(a, GFP_KERNEL);

	kmem_cache_free(b, o);
}

Test(slab, free_to_the_wrong_cache_aborts)
{
	expect_death(free_wrong_cache, NULL, "wrong slab cache");
}

static void double_free_active(void *arg)
{
	struct kmem_cache *s = mkcache("dfree-cache", 64);
	void *keep = kmem_cache_alloc(s, GFP_KERNEL);
	void *o = kmem_cache_alloc(s, GFP_KERNEL);

	(void)keep;
	kmem_cache_free(s, o);
	kmem_cache_free(s, o);
}

/* The object is in a full slab: its first free adopts the slab. */
static void double_free_full(void *arg)
{
	struct kmem_cache *s = mkcache("dfree-full", 64);
	void **objs = calloc(4096, sizeof(void *));
	struct page *slab;
	size_t i = 0;

	objs[i] = kmem_cache_alloc(s, GFP_KERNEL);
	slab = compound_head_of(objs[0]);
	while (compound_head_of(objs[i]) == slab)
		objs[++i] = kmem_cache_alloc(s, GFP_KERNEL);
	kmem_cache_free(s, objs[1]);
	kmem_cache_free(s, objs[1]);
}

static void *free_twice(void *arg)
{
	struct free_job *j = arg;

	kmem_cache_free(j->s, j->objs[0]);
	kmem_cache_free(j->s, j->objs[0]);
	return NULL;
}

/* Freed twice by a thread that does not own the slab. */
static void double_free_remote(void *arg)
{
	struct kmem_cache *s = mkcache("dfree-remote", 64);
	void *o = kmem_cache_alloc(s, GFP_KERNEL);
	struct free_job j = { s, &o, 1 };
	pthread_t t;

	pthread_create(&t, NULL, free_twice, &j);
	pthread_join(t, NULL);
}

Test(slab, double_free_aborts_naming_the_cache)
{
	expect_death(double_free_active, NULL, "double free");
	expect_death(double_free_active, NULL, "dfree-cache");
	expect_death(double_free_full, NULL, "double free");
	expect_death(double_free_full, NULL, "dfree-full");
	expect_death(double_free_remote, NULL, "double free");
	expect_death(double_free_remote, NULL, "dfree-remote");
}

/*
 * The owner's frees wait on its freelist for the cache (parked), whatever
 * slab they are of, and malloc takes them back last in first out; past
 * park_max more frees than pops since the freelist was refilled, they go
 * to their slabs.  A shrink (or the thread's exit) gives the parked ones
 * back to their slabs, which empty and go.
 */
Test(slab, the_owners_frees_are_parked_on_its_freelist_up_to_a_bound)
{
	struct kmem_cache *s = mkcache("park", 2048);
	unsigned int per = objects_per_slab(s), n = 3 * per;
	struct kmem_cache_cpu *c = thread_cpu_slab(kmem_current, s);
	void **objs = calloc(n, sizeof(void *));
	struct page *first;
	int budget;

	cr_assert_eq(s->park_max, 8, "a quarter of 64 KiB, of 2 KiB objects");
	cr_assert_eq(mkcache("park-small", 256)->park_max, 256, "64 KiB, at most 256 objects");
	cr_assert_not_null(objs);
	for (unsigned int i = 0; i < n; i++)
		objs[i] = kmem_cache_alloc(s, GFP_KERNEL);
	first = compound_head_of(objs[0]);
	cr_assert_neq(first, c->slab, "the first slab is no longer the active one");
	cr_assert_eq(first->inuse, per);

	/* a free into another slab of the thread's waits on c->freelist */
	kmem_cache_free(s, objs[0]);
	cr_assert_eq(c->freelist, objs[0]);
	cr_assert_null(first->freelist);
	cr_assert_eq(first->inuse, per, "parked: still in use for its slab");
	cr_assert_eq(kmem_cache_alloc(s, GFP_KERNEL), objs[0], "taken back first");

	/* the budget: then frees reach their slabs */
	budget = c->park_budget;
	cr_assert_gt(budget, 0);
	cr_assert_leq(budget, (int)per + s->park_max);
	for (int i = 0; i < budget; i++)
		kmem_cache_free(s, objs[i]);
	cr_assert_eq(c->freelist, objs[budget - 1]);
	kmem_cache_free(s, objs[budget]);
	cr_assert_eq(compound_head_of(objs[budget])->freelist, objs[budget],
		     "past the budget: onto its slab's own list");
	cr_assert_eq(c->freelist, objs[budget - 1]);
	for (unsigned int i = (unsigned int)budget + 1; i < n; i++)
		kmem_cache_free(s, objs[i]);

	/* everything free: a shrink gives the parked objects back, slabs go */
	cr_assert_eq(free_objects(s), (unsigned long)cache_objects(s));
	kmem_cache_shrink(s);
	cr_assert_null(c->freelist);
	cr_assert_eq(cache_slabs(s), 0, "every slab emptied and went back");
	kmem_cache_destroy(s);
	free(objs);
}

static void *park_and_exit(void *arg)
{
	struct kmem_cache *s = arg;
	void *o[40];

	for (int i = 0; i < 40; i++)
		o[i] = kmem_cache_alloc(s, GFP_KERNEL);
	for (int i = 0; i < 40; i++)
		kmem_cache_free(s, o[i]);
	cr_assert_not_null(thread_cpu_slab(kmem_current, s)->freelist);
	return NULL;
}

Test(slab, parked_frees_go_back_to_their_slabs_when_the_thread_exits)
{
	struct kmem_cache *s = mkcache("park-exit", 2048);

	run_thread(park_and_exit, s);
	cr_assert_eq(free_objects(s), (unsigned long)cache_objects(s), "nothing counted in use");
	kmem_cache_shrink(s);
	cr_assert_eq(cache_slabs(s), 0);
	kmem_cache_destroy(s);
}

/* A constructor's state stays in a free object: its cache parks
 * nothing, since a parked object is linked through its first word. */
static void stamp_ctor(void *p)
{
	memset(p, 0x5a, 64);
}

Test(slab, a_cache_with_a_constructor_parks_nothing)
{
	struct kmem_cache *s = kmem_cache_create("park-ctor", 64, 8, SLAB_NO_MERGE, stamp_ctor);
	unsigned int per;
	unsigned char *o[512];
	struct page *first;

	cr_assert_not_null(s);
	cr_assert_lt(s->park_max, 0, "parking off");
	per = objects_per_slab(s);
	cr_assert_lt(per, ARRAY_SIZE(o));
	for (unsigned int i = 0; i <= per; i++)
		o[i] = kmem_cache_alloc(s, GFP_KERNEL);
	first = compound_head_of(o[0]);
	cr_assert_neq(first, thread_cpu_slab(kmem_current, s)->slab);
	kmem_cache_free(s, o[0]);
	cr_assert_eq(first->freelist, o[0], "freed into its slab, not parked");
	for (int i = 0; i < 64; i++)
		cr_assert_eq(o[0][i], 0x5a, "byte %d of the free object", i);
	for (unsigned int i = 1; i <= per; i++)
		kmem_cache_free(s, o[i]);
	kmem_cache_destroy(s);
}

static void double_free_parked(void *arg)
{
	struct kmem_cache *s = mkcache("dfree-parked", 2048);
	unsigned int per = objects_per_slab(s);
	void *o[64];

	(void)arg;
	for (unsigned int i = 0; i <= per; i++)
		o[i] = kmem_cache_alloc(s, GFP_KERNEL);
	kmem_cache_free(s, o[0]);       /* parked: not the active slab's */
	kmem_cache_free(s, o[0]);
}

Test(slab, double_free_of_a_parked_object_aborts)
{
	expect_death(double_free_parked, NULL, "double free");
}

/* kzalloc of an object parked among fresh ones zeroes it. */
Test(slab, zalloc_after_a_parked_free_zeroes_it)
{
	struct kmem_cache *s = mkcache("park-zero", 256);
	char *o = kmem_cache_alloc(s, GFP_KERNEL), *z;

	cr_assert(thread_cpu_slab(kmem_current, s)->fresh, "fresh carve");
	memset(o, 0xa5, 256);
	kmem_cache_free(s, o);
	z = kmem_cache_zalloc(s, GFP_KERNEL);
	cr_assert_eq(z, o);
	for (int i = 0; i < 256; i++)
		cr_assert_eq(z[i], 0, "byte %d", i);
	kmem_cache_free(s, z);
	kmem_cache_destroy(s);
}

static void free_interior(void *arg)
{
	struct kmem_cache *s = mkcache("interior", 64);
	char *o = kmem_cache_alloc(s, GFP_KERNEL);

	kmem_cache_free(s, o + (uintptr_t)arg);
}

Test(slab, free_of_an_interior_pointer_aborts)
{
	expect_death(free_interior, (void *)(uintptr_t)8, "invalid pointer");
	expect_death(free_interior, (void *)(uintptr_t)1, "invalid pointer");
	expect_death(free_interior, (void *)(uintptr_t)63, "invalid pointer");
}

/* ---- nodes -------------------------------------------------------------- */

Test(slab, alloc_node_zero_gives_node_zero_objects)
{
	struct kmem_cache *s = mkcache("node0", 160);
	unsigned int per = objects_per_slab(s);
	size_t n = 4 * (size_t)per;
	void **objs = calloc(n, sizeof(*objs));

	cr_assert_not_null(objs);
	for (size_t i = 0; i < n; i++) {
		objs[i] = i % 3 ? kmem_cache_alloc_node(s, GFP_KERNEL, 0)
				: kmem_cache_alloc(s, GFP_KERNEL);
		cr_assert_not_null(objs[i]);
		cr_assert_eq(page_to_nid(virt_to_page(objs[i])), 0);
		stamp(objs[i], 160, i);
	}
	assert_disjoint(objs, n, 160);
	for (size_t i = 0; i < n; i++) {
		cr_assert(stamp_ok(objs[i], 160, i));
		kmem_cache_free(s, objs[i]);
	}
	for (size_t i = 0; i < n; i++) {
		objs[i] = kmem_cache_alloc_node(s, GFP_KERNEL | __GFP_ZERO, 0);
		cr_assert(all_zero(objs[i], 160));
	}
	for (size_t i = 0; i < n; i++)
		kmem_cache_free(s, objs[i]);
	cr_assert_eq(live_objects(s), 0);
	kmem_cache_shrink(s);
	cr_assert_eq(cache_slabs(s), 0);
	free(objs);
}

/* ---- slab geometry ------------------------------------------------------ */

static void check_geometry(const struct kmem_cache *s, unsigned int stride)
{
	unsigned long slab = PAGE_SIZE << s->order;
	unsigned long left = slab - (unsigned long)s->objects * s->size;

	cr_assert_eq(s->size, stride, "object %u: stride %u, expected %u",
		     s->object_size, s->size, stride);
	cr_assert_leq(s->order, SLUB_MAX_ORDER);
	cr_assert_eq(s->objects, slab / stride, "object %u: %u objects in %lu bytes",
		     s->object_size, s->objects, slab);
	cr_assert_leq(left, slab / 16, "object %u (stride %u): order %u wastes %lu of %lu",
		      s->object_size, stride, s->order, left, slab);
	cr_assert(s->objects >= SLUB_MIN_OBJECTS || s->order == SLUB_MAX_ORDER,
		  "object %u: only %u objects per slab", s->object_size, s->objects);
	/* no smaller order would do: mm/slub.c calculate_order */
	for (unsigned int o = 0; o < s->order; o++) {
		unsigned long sl = PAGE_SIZE << o;
		unsigned long objs = sl / stride;

		cr_assert(objs < SLUB_MIN_OBJECTS || sl - objs * stride > sl / 16,
			  "object %u: order %u (%lu objects) would have done, got %u",
			  s->object_size, o, objs, s->order);
	}
}

Test(slab, calculate_sizes_bounds_the_waste)
{
	for (unsigned int size = 1; size <= 1024; size++) {
		for (int variant = 0; variant < 4; variant++) {
			struct kmem_cache probe = { .object_size = size };
			unsigned int stride = ALIGN_UP(MAX(size, 8u), 8u);

			probe.align = variant & 1 ? 64 : 8;
			if (variant & 2) {
				probe.ctor = nop_ctor;
				stride += 8;    /* the free pointer goes after the object */
			}
			stride = ALIGN_UP(stride, probe.align);
			cr_assert_eq(calculate_sizes(&probe), 0, "size %u", size);
			check_geometry(&probe, stride);
		}
	}
}

Test(slab, real_caches_use_the_geometry)
{
	static const unsigned int sizes[] = {
		8, 24, 56, 100, 200, 300, 500, 700, 1000, 1024, 2000, 5000,
	};

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		char name[32];
		struct kmem_cache *s;
		struct page *slab;
		void *o;

		snprintf(name, sizeof(name), "geo-%u", sizes[i]);
		s = mkcache(name, sizes[i]);
		if (sizes[i] <= 1024)
			check_geometry(s, ALIGN_UP(sizes[i], 8u));
		o = kmem_cache_alloc(s, GFP_KERNEL);
		slab = compound_head_of(o);
		cr_assert_eq(slab->order, s->order);
		cr_assert_eq(slab->objects, (PAGE_SIZE << slab->order) / s->size);
		kmem_cache_free(s, o);
	}
	for (unsigned int i = 0; i < KMALLOC_NR_CACHES && kmalloc_sizes[i] <= 1024; i++)
		check_geometry(kmalloc_caches[i], kmalloc_sizes[i]);
}

/*
 * A slab's tail pages carry PG_tail and their distance back to the head in
 * flags' top bits, which free's fast path subtracts without a branch; the
 * head and every other page read zero there.  Freeing the slab clears
 * both.
 */
/* A cache of 1000-byte objects, whose slabs take 4 pages, and one slab
 * of it filled: its objects go to *objsp (the caller frees them and the
 * array), its head is returned. */
static struct page *fill_four_page_slab(const char *name, struct kmem_cache **sp,
					void ***objsp)
{
	struct kmem_cache *s = mkcache(name, 1000);
	struct page *head;
	void **objs;

	cr_assert_eq(s->order, 2, "16 objects of 1000 bytes take 4 pages");
	objs = calloc(s->objects, sizeof(*objs));
	cr_assert_not_null(objs);
	objs[0] = kmem_cache_alloc(s, GFP_KERNEL);
	head = compound_head_of(objs[0]);
	cr_assert_eq(head->objects, s->objects);
	for (unsigned int i = 1; i < s->objects; i++) {
		objs[i] = kmem_cache_alloc(s, GFP_KERNEL);
		cr_assert_eq(compound_head_of(objs[i]), head, "object %u from another slab", i);
	}
	*sp = s;
	*objsp = objs;
	return head;
}

Test(slab, tail_pages_carry_their_distance_to_the_head)
{
	struct kmem_cache *s;
	void **objs;
	struct page *head = fill_four_page_slab("tails", &s, &objs);
	unsigned int n = head->objects;

	cr_assert_eq(page_tail_back(head), 0);
	cr_assert_eq(head->flags & PG_tail, 0);
	for (unsigned long i = 1; i < 1UL << s->order; i++) {
		cr_assert_eq(head[i].flags, PG_tail | (uint32_t)(i * sizeof(struct page)),
			     "tail page %lu: flags %#x", i, head[i].flags);
		cr_assert_eq(page_tail_back(&head[i]), i * sizeof(struct page));
	}
	/* Every object, in the head page or a tail page, maps to the head and
	 * its offset in the slab. */
	for (unsigned int i = 0; i < n; i++) {
		uintptr_t pa = __pa(objs[i]);

		cr_assert_eq(slab_head_of_pa(pa), head);
		cr_assert_eq(slab_offset_of_pa(s, pa),
			     (uint32_t)((char *)objs[i] - (char *)slab_address(head)));
		cr_assert_eq(slab_offset_of_pa(s, pa) % s->size, 0);
	}
	/* ... and the slab's last byte too. */
	{
		uintptr_t last = __pa(slab_address(head)) + (PAGE_SIZE << s->order) - 1;

		cr_assert_eq(slab_head_of_pa(last), head);
		cr_assert_eq(slab_offset_of_pa(s, last), (PAGE_SIZE << s->order) - 1);
	}
	for (unsigned int i = 0; i < n; i++)
		kmem_cache_free(s, objs[i]);
	kmem_cache_shrink(s);
	cr_assert_eq(cache_slabs(s), 0);
	for (unsigned long i = 0; i < 1UL << s->order; i++) {
		cr_assert_eq(head[i].flags & PG_tail, 0, "page %lu still a tail", i);
		cr_assert_eq(page_tail_back(&head[i]), 0, "page %lu kept its distance", i);
	}
	free(objs);
	kmem_cache_destroy(s);
}

/*
 * A slab's tail pages also carry copies of its cache and owner, so that
 * free reads ownership from the object's own page: each change of owner
 * reaches every page of the slab, and freeing the slab clears them.
 */
Test(slab, tail_pages_copy_the_owner_and_the_cache)
{
	struct kmem_cache *s;
	void **objs;
	struct page *head = fill_four_page_slab("tailowner", &s, &objs);
	unsigned long nr = 1UL << s->order;
	unsigned int n = head->objects;
	void *tail_obj = NULL;

	for (unsigned long i = 0; i < nr; i++) {
		cr_assert_eq(head[i].slab_owner, kmem_current, "page %lu: owner", i);
		cr_assert_eq(head[i].slab_cache, s, "page %lu: cache", i);
	}
	/* An object in a tail page takes free's owned path: parked, it is
	 * the next one handed out. */
	for (unsigned int i = 0; i < n && !tail_obj; i++)
		if (__pfn_to_page(__pa(objs[i]) >> PAGE_SHIFT) != head)
			tail_obj = objs[i];
	cr_assert_not_null(tail_obj);
	kfree(tail_obj);
	cr_assert_eq(kmem_cache_alloc(s, GFP_KERNEL), tail_obj);
	/* Given up (shrink deactivates the thread's slabs): no page names
	 * the thread, and a free from a tail page goes to the slab. */
	kmem_cache_shrink(s);
	for (unsigned long i = 0; i < nr; i++) {
		cr_assert_null(head[i].slab_owner, "page %lu still owned", i);
		cr_assert_eq(head[i].slab_cache, s, "page %lu: cache", i);
	}
	kfree(tail_obj);
	cr_assert_eq(head->inuse, n - 1);
	for (unsigned int i = 0; i < n; i++)
		if (objs[i] != tail_obj)
			kmem_cache_free(s, objs[i]);
	kmem_cache_shrink(s);
	cr_assert_eq(cache_slabs(s), 0);
	for (unsigned long i = 0; i < nr; i++) {
		cr_assert_null(head[i].slab_owner, "page %lu: owner after free", i);
		cr_assert_null(head[i].slab_cache, "page %lu: cache after free", i);
	}
	free(objs);
	kmem_cache_destroy(s);
}

/* ---- concurrent churn --------------------------------------------------- */

#define CHURN_THREADS 4
#define CHURN_ITERS   20000
#define CHURN_QCAP    512
#define CHURN_LOCAL   64
#define CHURN_CACHES  3

struct churn_item {
	struct kmem_cache *s;
	void *obj;
	unsigned int size;
	uint64_t tag;
};

static struct {
	pthread_mutex_t lock;
	struct churn_item q[CHURN_QCAP];
	size_t head, n;
} churn_queue = { .lock = PTHREAD_MUTEX_INITIALIZER };

static struct kmem_cache *churn_caches[CHURN_CACHES];
static unsigned int churn_sizes[CHURN_CACHES] = { 24, 200, 1000 };
static atomic_long churn_errors;
static pthread_barrier_t churn_start;

static bool churn_push(const struct churn_item *it)
{
	bool ok = false;

	pthread_mutex_lock(&churn_queue.lock);
	if (churn_queue.n < CHURN_QCAP) {
		churn_queue.q[(churn_queue.head + churn_queue.n) % CHURN_QCAP] = *it;
		churn_queue.n++;
		ok = true;
	}
	pthread_mutex_unlock(&churn_queue.lock);
	return ok;
}

static bool churn_pop(struct churn_item *it)
{
	bool ok = false;

	pthread_mutex_lock(&churn_queue.lock);
	if (churn_queue.n) {
		*it = churn_queue.q[churn_queue.head];
		churn_queue.head = (churn_queue.head + 1) % CHURN_QCAP;
		churn_queue.n--;
		ok = true;
	}
	pthread_mutex_unlock(&churn_queue.lock);
	return ok;
}

static void churn_release(const struct churn_item *it)
{
	if (!stamp_ok(it->obj, it->size, it->tag))
		atomic_fetch_add(&churn_errors, 1);
	kmem_cache_free(it->s, it->obj);
}

static bool churn_alloc(struct churn_item *it, uint64_t *rng, uint64_t tag)
{
	unsigned int c = (unsigned int)(test_rand(rng) % CHURN_CACHES);

	it->s = churn_caches[c];
	it->size = churn_sizes[c];
	it->tag = tag;
	it->obj = kmem_cache_alloc(it->s, GFP_KERNEL);
	if (!it->obj) {
		atomic_fetch_add(&churn_errors, 1);
		return false;
	}
	if (c == 2 && (uintptr_t)it->obj % 64)
		atomic_fetch_add(&churn_errors, 1);
	stamp(it->obj, it->size, tag);
	return true;
}

/* A short-lived private cache: create, fill, empty, check, destroy. */
static void churn_private_cache(int id, int round)
{
	char name[32];
	void *objs[100];
	struct kmem_cache *s;

	snprintf(name, sizeof(name), "churn-p%d-%d", id, round);
	s = kmem_cache_create(name, 40 + 8 * (unsigned int)id, 8, SLAB_NO_MERGE, NULL);
	if (!s) {
		atomic_fetch_add(&churn_errors, 1);
		return;
	}
	for (int i = 0; i < 100; i++) {
		objs[i] = kmem_cache_alloc(s, GFP_KERNEL);
		if (!objs[i]) {
			atomic_fetch_add(&churn_errors, 1);
			return;
		}
		stamp(objs[i], 40, (uint64_t)i);
	}
	for (int i = 0; i < 100; i++) {
		if (!stamp_ok(objs[i], 40, (uint64_t)i))
			atomic_fetch_add(&churn_errors, 1);
		kmem_cache_free(s, objs[i]);
	}
	if (live_objects(s) != 0)
		atomic_fetch_add(&churn_errors, 1);
	kmem_cache_destroy(s);
}

static void *churn_thread(void *arg)
{
	int id = (int)(uintptr_t)arg;
	uint64_t rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(id + 1);
	struct churn_item local[CHURN_LOCAL], it;
	size_t nlocal = 0;
	uint64_t serial = (uint64_t)id << 40;

	pthread_barrier_wait(&churn_start);
	for (int iter = 0; iter < CHURN_ITERS; iter++) {
		unsigned int r = (unsigned int)(test_rand(&rng) % 8);

		if (iter % 2500 == 1249) {
			churn_private_cache(id, iter);
		} else if (r < 3) {
			/* allocate and hand to whichever thread pops it */
			if (churn_alloc(&it, &rng, serial++) && !churn_push(&it))
				churn_release(&it);
		} else if (r < 5) {
			/* cross-free: most items were allocated by another thread */
			if (churn_pop(&it))
				churn_release(&it);
		} else if (r < 7) {
			if (nlocal < CHURN_LOCAL && churn_alloc(&it, &rng, serial++))
				local[nlocal++] = it;
		} else if (nlocal) {
			size_t k = test_rand(&rng) % nlocal;

			churn_release(&local[k]);
			local[k] = local[--nlocal];
		}
	}
	while (nlocal)
		churn_release(&local[--nlocal]);
	return NULL;
}

Test(slab, multithreaded_churn_with_cross_frees)
{
	pthread_t t[CHURN_THREADS];
	struct churn_item it;
	char out[4096];

	churn_caches[0] = mkcache("churn-24", churn_sizes[0]);
	churn_caches[1] = kmem_cache_create("churn-200", churn_sizes[1], 8, 0, NULL);
	churn_caches[2] = kmem_cache_create("churn-1000", churn_sizes[2], 0,
					    SLAB_HWCACHE_ALIGN | SLAB_NO_MERGE, NULL);
	cr_assert(churn_caches[1] && churn_caches[2]);
	pthread_barrier_init(&churn_start, NULL, CHURN_THREADS);
	for (int i = 0; i < CHURN_THREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, churn_thread, (void *)(uintptr_t)i), 0);
	for (int i = 0; i < CHURN_THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&churn_start);
	while (churn_pop(&it))
		churn_release(&it);
	cr_assert_eq(atomic_load(&churn_errors), 0, "%ld bad objects or failed allocations",
		     atomic_load(&churn_errors));
	for (int c = 0; c < CHURN_CACHES; c++) {
		cr_assert_eq(live_objects(churn_caches[c]), 0, "cache %d: objects lost", c);
		kmem_cache_shrink(churn_caches[c]);
		cr_assert_eq(cache_slabs(churn_caches[c]), 0, "cache %d", c);
		capture_stderr(destroy_fn, churn_caches[c], out, sizeof(out));
		cr_assert_eq(out[0], '\0', "cache %d: %s", c, out);
	}
	cr_assert_eq(kmem_check_all(), 0);
}

/* ---- remote-free batches (kmalloc caches) -------------------------------- */

/*
 * The kmalloc-64 cache and n objects from it in two slabs of the calling
 * thread: objs[0 .. per) fill the first, the rest start the second.
 */
static struct kmem_cache *kmalloc_two_slabs(void **objs, size_t n, unsigned int *per)
{
	struct kmem_cache *s = kmalloc_caches[kmalloc_index(64)];

	cr_assert_eq(s->remote_batch, REMOTE_BATCH_MAX, "kmalloc-64 batches %u", s->remote_batch);
	for (size_t i = 0; i < n; i++)
		cr_assert_not_null(objs[i] = kmalloc(64, GFP_KERNEL));
	*per = compound_head_of(objs[0])->objects;
	cr_assert_gt(n, *per + 1);
	/* a fresh process: the first kmalloc-64 slab is ours from its start */
	for (size_t i = 1; i < n; i++)
		cr_assert_eq(compound_head_of(objs[i]) == compound_head_of(objs[0]), i < *per,
			     "object %zu", i);
	return s;
}

struct batch_job {
	struct kmem_cache *s;
	void **objs;
	unsigned int per;
	/* what the freeing thread saw, step by step */
	unsigned int batched[4];
	unsigned long pushed_a[4], pushed_b[4];
	unsigned int inuse_a;
};

static void *batch_thread(void *arg)
{
	struct batch_job *j = arg;
	struct remote_batch *b;
	struct page *a = compound_head_of(j->objs[0]);
	struct page *sb = compound_head_of(j->objs[j->per]);
	unsigned int step = 0;

	/* five frees into slab a: they wait in this thread */
	for (int i = 0; i < 5; i++)
		kfree(j->objs[i]);
	b = &kmem_current->remote[j->s->id];
	j->inuse_a = a->inuse;
#define BATCH_STEP() do {						\
		j->batched[step] = b->slab ? b->count : 0;		\
		j->pushed_a[step] = remote_count(j->s, a);		\
		j->pushed_b[step] = remote_count(j->s, sb);		\
		step++;							\
	} while (0)
	BATCH_STEP();
	/* up to REMOTE_BATCH_MAX: pushed together */
	for (int i = 5; i < REMOTE_BATCH_MAX; i++)
		kfree(j->objs[i]);
	BATCH_STEP();
	/* one more into a, then one into b: a's batch goes, b's waits */
	kfree(j->objs[REMOTE_BATCH_MAX]);
	kfree(j->objs[j->per]);
	BATCH_STEP();
	return NULL;    /* exit pushes b's batch */
}

Test(slab, remote_frees_of_a_kmalloc_cache_go_to_the_slab_in_batches)
{
	unsigned int per;
	void *objs[200];
	struct kmem_cache *s = kmalloc_two_slabs(objs, 200, &per);
	struct page *sb = compound_head_of(objs[per]);
	struct batch_job job = { .s = s, .objs = objs, .per = per };

	cr_assert_gt(per, REMOTE_BATCH_MAX + 1);
	run_thread(batch_thread, &job);
	/* waiting: counted in use, nothing on the slab's list */
	cr_assert_eq(job.batched[0], 5);
	cr_assert_eq(job.pushed_a[0], 0);
	cr_assert_eq(job.inuse_a, per, "batched frees left inuse");
	/* a full batch: one push of all of them */
	cr_assert_eq(job.batched[1], 0);
	cr_assert_eq(job.pushed_a[1], REMOTE_BATCH_MAX);
	/* a free into another slab pushes the waiting one */
	cr_assert_eq(job.batched[2], 1);
	cr_assert_eq(job.pushed_a[2], REMOTE_BATCH_MAX + 1);
	cr_assert_eq(job.pushed_b[2], 0);
	/* thread exit pushed the last */
	cr_assert_eq(remote_count(s, sb), 1);

	/* the owner gets every one of them back */
	for (size_t i = REMOTE_BATCH_MAX + 1; i < 200; i++)
		if (i != per)
			kfree(objs[i]);
	kmem_cache_shrink(s);
	cr_assert_eq(live_objects(s), 0);
	cr_assert_eq(kmem_check_all(), 0);
}

static void double_free_in_a_batch(void *arg)
{
	void *a = kmalloc(64, GFP_KERNEL), *b = kmalloc(64, GFP_KERNEL);
	void *frees[3] = { a, b, b };
	struct free_job job = { kmalloc_caches[kmalloc_index(64)], frees, 3 };

	(void)arg;
	run_thread(free_all, &job);
}

Test(slab, double_free_into_a_remote_batch_aborts)
{
	expect_death(double_free_in_a_batch, NULL, "double free");
}

/* The frees wait; a shrink of the cache by the same thread pushes them. */
static void *batch_then_shrink(void *arg)
{
	struct batch_job *j = arg;
	struct page *a = compound_head_of(j->objs[0]);

	for (int i = 0; i < 3; i++)
		kfree(j->objs[i]);
	j->pushed_a[0] = remote_count(j->s, a);
	kmem_cache_shrink(j->s);
	j->pushed_a[1] = remote_count(j->s, a);
	j->batched[1] = kmem_current->remote[j->s->id].count;
	return NULL;
}

Test(slab, shrinking_a_kmalloc_cache_pushes_the_threads_remote_batch)
{
	unsigned int per;
	void *objs[100];
	struct kmem_cache *s = kmalloc_two_slabs(objs, 100, &per);
	struct batch_job job = { .s = s, .objs = objs, .per = per };

	run_thread(batch_then_shrink, &job);
	cr_assert_eq(job.pushed_a[0], 0);
	cr_assert_eq(job.pushed_a[1], 3);
	cr_assert_eq(job.batched[1], 0);
	for (size_t i = 3; i < 100; i++)
		kfree(objs[i]);
	cr_assert_eq(live_objects(s), 0);
}

/*
 * The slab's owner exits while frees into it wait in another thread: the
 * slab is given up full (the waiting frees count as in use), and the
 * batch, pushed at the freeing thread's exit, is adopted like any free
 * into a full slab and ends on the node's partial list.
 */
struct owner_exit_job {
	struct kmem_cache *s;
	void *objs[200];
	unsigned int per;
	pthread_barrier_t allocated, batched, owner_gone;
};

static void *owner_allocates_then_exits(void *arg)
{
	struct owner_exit_job *j = arg;

	for (int i = 0; i < 200; i++)
		j->objs[i] = kmalloc(64, GFP_KERNEL);
	j->per = compound_head_of(j->objs[0])->objects;
	pthread_barrier_wait(&j->allocated);
	pthread_barrier_wait(&j->batched);
	return NULL;
}

static void *freer_outlives_owner(void *arg)
{
	struct owner_exit_job *j = arg;

	pthread_barrier_wait(&j->allocated);
	for (int i = 0; i < 5; i++)
		kfree(j->objs[i]);
	pthread_barrier_wait(&j->batched);
	pthread_barrier_wait(&j->owner_gone);
	return NULL;
}

/* Start j's owner and freer threads, kmalloc-64 their cache; the freer
 * runs freer_fn(arg). */
static void owner_exit_job_start(struct owner_exit_job *j, void *(*freer_fn)(void *), void *arg,
				 pthread_t *owner, pthread_t *freer)
{
	j->s = kmalloc_caches[kmalloc_index(64)];
	pthread_barrier_init(&j->allocated, NULL, 2);
	pthread_barrier_init(&j->batched, NULL, 2);
	pthread_barrier_init(&j->owner_gone, NULL, 2);
	cr_assert_eq(pthread_create(owner, NULL, owner_allocates_then_exits, j), 0);
	cr_assert_eq(pthread_create(freer, NULL, freer_fn, arg), 0);
}

Test(slab, a_batch_into_a_slab_whose_owner_exited_is_adopted)
{
	struct owner_exit_job *j = calloc(1, sizeof(*j));
	pthread_t owner, freer;
	struct page *a;

	cr_assert_not_null(j);
	owner_exit_job_start(j, freer_outlives_owner, j, &owner, &freer);
	cr_assert_eq(pthread_join(owner, NULL), 0);
	a = compound_head_of(j->objs[0]);
	cr_assert_lt(j->per, 200);
	cr_assert_null(a->slab_owner);
	cr_assert_eq(atomic_load(&a->remote_free), SLAB_REMOTE_FULL,
		     "a slab with frees waiting elsewhere was not given up full");
	cr_assert_eq(a->inuse, j->per);
	pthread_barrier_wait(&j->owner_gone);
	cr_assert_eq(pthread_join(freer, NULL), 0);
	cr_assert(on_node_partial(j->s, a));
	cr_assert_eq(a->inuse, j->per - 5);
	for (int i = 5; i < 200; i++)
		kfree(j->objs[i]);
	kmem_cache_shrink(j->s);
	cr_assert_eq(live_objects(j->s), 0);
	cr_assert_eq(kmem_check_all(), 0);
	free(j);
}

/*
 * The same, with one more free into the slab after its owner has gone:
 * it joins the open batch (slab_free_remote_batched), as the five before
 * it wait there, instead of adopting the slab on its own.
 */
struct late_free_job {
	struct owner_exit_job j;
	unsigned int batched;
	struct kmem_thread *owner_after;
	uintptr_t remote_after;
};

static void *freer_frees_once_more(void *arg)
{
	struct late_free_job *l = arg;
	struct page *a;

	pthread_barrier_wait(&l->j.allocated);
	for (int i = 0; i < 5; i++)
		kfree(l->j.objs[i]);
	pthread_barrier_wait(&l->j.batched);
	pthread_barrier_wait(&l->j.owner_gone);
	a = compound_head_of(l->j.objs[0]);
	kfree(l->j.objs[5]);
	l->batched = kmem_current->remote[l->j.s->id].count;
	l->owner_after = a->slab_owner;
	l->remote_after = atomic_load(&a->remote_free);
	return NULL;
}

Test(slab, a_free_into_a_given_up_slab_joins_its_open_batch)
{
	struct late_free_job *l = calloc(1, sizeof(*l));
	pthread_t owner, freer;
	struct page *a;

	cr_assert_not_null(l);
	owner_exit_job_start(&l->j, freer_frees_once_more, l, &owner, &freer);
	cr_assert_eq(pthread_join(owner, NULL), 0);
	a = compound_head_of(l->j.objs[0]);
	cr_assert_null(a->slab_owner);
	pthread_barrier_wait(&l->j.owner_gone);
	cr_assert_eq(pthread_join(freer, NULL), 0);
	cr_assert_eq(l->batched, 6, "the late free did not join the batch");
	cr_assert_null(l->owner_after, "the late free adopted the slab");
	cr_assert_eq(l->remote_after, SLAB_REMOTE_FULL);
	/* the freer's exit pushed all six: adopted, then given up */
	cr_assert(on_node_partial(l->j.s, a));
	cr_assert_eq(a->inuse, l->j.per - 6);
	for (int i = 6; i < 200; i++)
		kfree(l->j.objs[i]);
	kmem_cache_shrink(l->j.s);
	cr_assert_eq(live_objects(l->j.s), 0);
	cr_assert_eq(kmem_check_all(), 0);
	free(l);
}

/*
 * free's exact-object check, and the index it computes, against plain
 * division, at every offset of a slab, for every kmalloc size and some
 * odd ones, with the slab carved to several points.
 */
Test(slab, offset_check_agrees_with_division_at_every_offset)
{
	static const unsigned int odd[] = { 24, 40, 136, 200, 1000, 3000, 3328, 5000, 7000 };
	unsigned int sizes[KMALLOC_NR_CACHES + ARRAY_SIZE(odd)], n = 0;
	struct page slab;

	for (unsigned int i = 0; i < KMALLOC_NR_CACHES; i++)
		sizes[n++] = kmalloc_sizes[i];
	for (unsigned int i = 0; i < ARRAY_SIZE(odd); i++)
		sizes[n++] = odd[i];
	for (unsigned int i = 0; i < n; i++) {
		struct kmem_cache *s = kmem_cache_create("offsets", sizes[i], 8, SLAB_NO_MERGE, NULL);
		unsigned int bytes;

		cr_assert_not_null(s, "size %u", sizes[i]);
		bytes = PAGE_SIZE << s->order;
		memset(&slab, 0, sizeof(slab));
		slab.objects = (uint16_t)s->objects;
		for (unsigned int carved = 0; carved <= s->objects; carved += MAX(1u, s->objects / 3)) {
			slab_set_carved(&slab, carved);
			for (uint32_t off = 0; off < bytes; off++) {
				bool want = off % s->size == 0 && off / s->size < carved;

				if (slab_offset_valid(s, &slab, off) != want)
					cr_assert_fail("size %u (stride %u), carved %u, offset %u: %d",
						       sizes[i], s->size, carved, off, !want);
				/* the quotient, or past any object count */
				if (off % s->size == 0 ? slab_offset_index(s, off) != off / s->size
						       : slab_offset_index(s, off) <= 65535)
					cr_assert_fail("size %u (stride %u), offset %u: index %u",
						       sizes[i], s->size, off, slab_offset_index(s, off));
			}
		}
		kmem_cache_destroy(s);
	}
}

/*
 * With one thread, a dry slab the thread empties by its own frees goes
 * back to the page allocator when the queue holds other slabs, though
 * none of them is counted: nothing else would ever drain it.
 */
Test(slab_unparked, a_single_thread_gives_back_a_dry_slab_it_empties)
{
	struct kmem_cache *s = mkcache("dry-empty", 256);
	unsigned int per = objects_per_slab(s);
	size_t n = 3 * (size_t)per + 1;
	void **objs = calloc(n, sizeof(void *));
	struct page *middle;

	cr_assert_not_null(objs);
	cr_assert_eq(atomic_load(&kmem_nr_threads), 1);
	kmem_cache_shrink(s);
	alloc_stamped(s, objs, n, 64, 0);
	cr_assert_eq(cache_slabs(s), 4);
	middle = compound_head_of(objs[per]);
	cr_assert_eq(middle->slab_owner, kmem_current);
	for (size_t i = per; i < 2 * (size_t)per; i++)
		kmem_cache_free(s, objs[i]);
	cr_assert_eq(cache_slabs(s), 3, "the emptied dry slab was kept");
	for (size_t i = 0; i < n; i++)
		if (i < per || i >= 2 * (size_t)per)
			kmem_cache_free(s, objs[i]);
	cr_assert_eq(live_objects(s), 0);
	free(objs);
}

/*
 * Frees into full slabs adopt them onto the thread's queue as counted
 * partial slabs.  With another thread in the process, past
 * cpu_partial_slabs the oldest go to the node list, where that thread
 * can allocate from them; with none, the thread keeps them all.
 */
static void adopt_full_slabs(bool with_other_thread)
{
	struct kmem_cache *s = mkcache(with_other_thread ? "adopt-bound" : "adopt-one", 256);
	unsigned int per = objects_per_slab(s), max = s->cpu_partial_slabs;
	size_t nslabs = max + 3, n = nslabs * per, owned = 0, on_node = 0;
	void **objs = calloc(n, sizeof(void *));
	struct parked_thread other;

	cr_assert_not_null(objs);
	if (with_other_thread)
		parked_start(&other);
	kmem_cache_shrink(s);
	alloc_stamped(s, objs, n, 64, 0);
	cr_assert_eq(distinct_slabs(objs, n), nslabs);
	kmem_cache_shrink(s);   /* every slab given up full */
	for (size_t k = 0; k < nslabs; k++)
		cr_assert_eq(atomic_load(&compound_head_of(objs[k * per])->remote_free),
			     SLAB_REMOTE_FULL, "slab %zu", k);
	for (size_t k = 0; k < nslabs; k++)
		kmem_cache_free(s, objs[k * per]);      /* adopts slab k */
	for (size_t k = 0; k < nslabs; k++) {
		struct page *slab = compound_head_of(objs[k * per + 1]);

		if (slab->slab_owner == kmem_current) {
			cr_assert(on_thread_partial(kmem_current, s, slab), "slab %zu", k);
			owned++;
		} else {
			cr_assert(on_node_partial(s, slab), "slab %zu", k);
			on_node++;
		}
	}
	if (with_other_thread) {
		cr_assert_eq(owned, max, "%zu adopted slabs kept, cpu_partial_slabs %u", owned, max);
		cr_assert_eq(on_node, nslabs - max);
		cr_assert(on_node_partial(s, compound_head_of(objs[1])), "not the oldest given up");
		parked_stop(&other);
	} else {
		cr_assert_eq(owned, nslabs);
	}
	for (size_t i = 0; i < n; i++)
		if (i % per)
			kmem_cache_free(s, objs[i]);
	cr_assert_eq(live_objects(s), 0);
	free(objs);
}

Test(slab, adopted_slabs_past_cpu_partial_go_to_the_node_with_other_threads)
{
	adopt_full_slabs(true);
}

Test(slab, a_single_thread_keeps_every_slab_it_adopts)
{
	adopt_full_slabs(false);
}

/* ---- empty slabs a thread keeps ----------------------------------------- */

/*
 * per + 1 objects of s, then the first slab's per freed: it empties while
 * the second is the active slab.  Returns the emptied slab.
 */
static struct page *empty_one_slab(struct kmem_cache *s, void **objs, unsigned int per)
{
	struct page *first;

	for (unsigned int i = 0; i <= per; i++) {
		objs[i] = kmem_cache_alloc(s, GFP_KERNEL);
		cr_assert_not_null(objs[i]);
	}
	first = compound_head_of(objs[0]);
	cr_assert_eq(compound_head_of(objs[per - 1]), first);
	cr_assert_neq(compound_head_of(objs[per]), first);
	for (unsigned int i = 0; i < per; i++)
		kmem_cache_free(s, objs[i]);
	return first;
}

static bool kept_empty(struct kmem_thread *t, struct page *slab)
{
	for (unsigned int i = 0; i < KEPT_EMPTY_SLOTS; i++)
		if (t->kept_empty[i] == slab)
			return true;
	return false;
}

Test(slab_unparked, a_slab_that_empties_is_kept_for_the_next_swing)
{
	struct kmem_cache *s = mkcache("swing", 256);
	unsigned int per = objects_per_slab(s);
	void **objs = calloc(2 * (size_t)per + 1, sizeof(void *));
	struct page *first;
	unsigned long allocated;

	cr_assert_not_null(objs);
	first = empty_one_slab(s, objs, per);
	cr_assert_eq(cache_slabs(s), 2, "the emptied slab was given back");
	cr_assert(on_thread_partial(kmem_current, s, first));
	cr_assert(kept_empty(kmem_current, first));
	allocated = atomic_load(&s->slabs_allocated);
	/* the active slab's per - 1 free objects, then the kept slab's */
	for (unsigned int i = 0; i < per; i++)
		objs[per + 1 + i] = kmem_cache_alloc(s, GFP_KERNEL);
	cr_assert_eq(atomic_load(&s->slabs_allocated), allocated, "a new slab for the swing");
	cr_assert_eq(compound_head_of(objs[2 * per]), first);
	cr_assert_not(kept_empty(kmem_current, first), "an active slab is still listed as kept");
	for (unsigned int i = per; i <= 2 * per; i++)
		kmem_cache_free(s, objs[i]);
	cr_assert_eq(live_objects(s), 0);
	free(objs);
}

/*
 * Each cache here keeps one emptied slab.  Past KEPT_EMPTY_SLOTS slabs,
 * or KEPT_EMPTY_PAGES pages, the oldest kept slabs go back, whatever
 * their cache.
 */
Test(slab_unparked, the_empty_slabs_a_thread_keeps_are_bounded_oldest_first)
{
	enum { NCACHES = KEPT_EMPTY_SLOTS + 1 };
	struct kmem_cache *small[NCACHES], *big = mkcache("kept-big", 4096);
	struct page *kept[NCACHES], *big_slab;
	void **objs[NCACHES + 1];
	unsigned int per[NCACHES + 1];
	struct kmem_thread *t;

	cr_assert_eq(big->order, 3);
	cr_assert_leq(1u << big->order, KEPT_EMPTY_PAGES);
	cr_assert_gt(NCACHES, KEPT_EMPTY_PAGES >> big->order);
	for (int i = 0; i < NCACHES; i++) {
		char name[32];

		snprintf(name, sizeof(name), "kept-%d", i);
		small[i] = mkcache(name, 256);
		cr_assert_eq(small[i]->order, 0);
		per[i] = objects_per_slab(small[i]);
		objs[i] = calloc(per[i] + 1, sizeof(void *));
		cr_assert_not_null(objs[i]);
		kept[i] = empty_one_slab(small[i], objs[i], per[i]);
		t = kmem_current;       /* the thread's state exists by now */
		cr_assert(kept_empty(t, kept[i]), "cache %d", i);
	}
	/* one slot too few: the first cache's slab went back */
	cr_assert_eq(cache_slabs(small[0]), 1);
	cr_assert_eq(atomic_load(&small[0]->slabs_freed), 1);
	for (int i = 1; i < NCACHES; i++) {
		cr_assert_eq(cache_slabs(small[i]), 2, "cache %d", i);
		cr_assert(on_thread_partial(t, small[i], kept[i]), "cache %d", i);
	}
	cr_assert_eq(t->kept_empty_pages, KEPT_EMPTY_SLOTS);

	/* an order-3 slab: the pages bound sends back the small ones before it */
	per[NCACHES] = objects_per_slab(big);
	objs[NCACHES] = calloc(per[NCACHES] + 1, sizeof(void *));
	cr_assert_not_null(objs[NCACHES]);
	big_slab = empty_one_slab(big, objs[NCACHES], per[NCACHES]);
	cr_assert(kept_empty(t, big_slab));
	cr_assert_leq(t->kept_empty_pages, KEPT_EMPTY_PAGES);
	/* the newest small ones that fit beside it stay (none, at 8 pages) */
	int fit = (int)MIN(KEPT_EMPTY_SLOTS - 1u, KEPT_EMPTY_PAGES - (1u << big->order));

	for (int i = 1; i < NCACHES; i++)
		cr_assert_eq(kept_empty(t, kept[i]), i >= NCACHES - fit, "cache %d", i);

	for (int i = 0; i <= NCACHES; i++) {
		struct kmem_cache *s = i < NCACHES ? small[i] : big;

		kmem_cache_free(s, objs[i][per[i]]);
		cr_assert_eq(live_objects(s), 0);
		free(objs[i]);
	}
}

/* A thread that exits keeping empty slabs hands them over like any other. */
static void *keep_and_exit(void *arg)
{
	struct kmem_cache *s = arg;
	unsigned int per = objects_per_slab(s);
	void **objs = calloc(per + 1, sizeof(void *));

	cr_assert_not_null(objs);
	cr_assert(kept_empty(kmem_current, empty_one_slab(s, objs, per)));
	kmem_cache_free(s, objs[per]);
	free(objs);
	return NULL;
}

Test(slab_unparked, a_thread_exiting_with_kept_empty_slabs_gives_them_up)
{
	struct kmem_cache *s = mkcache("kept-exit", 256);

	run_thread(keep_and_exit, s);
	cr_assert_eq(live_objects(s), 0);
	kmem_cache_shrink(s);
	cr_assert_eq(cache_slabs(s), 0);
}

/* A new thread's first allocation and free, through the state it starts on. */
static void *first_alloc_and_free(void *arg)
{
	struct kmem_cache *s = arg;
	void *obj;

	cr_assert(thread_unset(kmem_current));
	obj = kmem_cache_alloc(s, GFP_KERNEL);
	cr_assert_not_null(obj);
	kmem_cache_free(s, obj);
	cr_assert_not(thread_unset(kmem_current));
	return NULL;
}

/* The list-less state every thread starts on is never written: zero in
 * .bss, it costs no memory.  (Marking it at startup kept a page resident.) */
Test(slab, the_unset_thread_state_stays_zero)
{
	static const struct kmem_thread zero;
	struct kmem_cache *s = mkcache("unset-zero", 64);

	run_thread(first_alloc_and_free, s);
	cr_assert_not(kmem_thread_unset.uses_lists);
	cr_assert(!memcmp(&kmem_thread_unset, &zero, sizeof(zero)),
		  "kmem_thread_unset was written");
}
