/*
 * test_slob.c - malloc's medium heap (lib/slob.c) through the interposer
 * (kmem_-prefixed build) and its internal interface: which requests it
 * serves, best fit, merging and giving areas back, busy classes going to
 * their slabs, bad frees, other threads' frees, a heap passing from an
 * exited thread to the next, and fork.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helpers.h"
#include "slab.h"
#include "slob.h"

void *kmem_malloc(size_t);
void kmem_free(void *);
void *kmem_calloc(size_t, size_t);
void *kmem_realloc(void *, size_t);
size_t kmem_malloc_usable_size(void *);
int kmem_malloc_trim(size_t);

static void setup(void)
{
	kmem_test_init("KMEM_LIMIT=512M", "KMEM_HUGEPAGES=off", NULL);
}

TestSuite(slob, .init = setup);

static struct slob_usage usage_unflushed(void)
{
	struct slob_usage u;

	slob_get_usage(&u);
	return u;
}

/* The heap's totals, with the thread's cached blocks (slob_free) freed. */
static struct slob_usage usage(void)
{
	slob_cache_flush_current();
	return usage_unflushed();
}

static bool is_slab_object(const void *p)
{
	return (compound_head_of(p)->flags & PG_slab) != 0;
}

Test(slob, serves_malloc_above_512_bytes_and_nothing_else)
{
	void *small = kmem_malloc(512), *medium = kmem_malloc(513);
	void *top = kmem_malloc(8192), *large = kmem_malloc(8193);
	void *k = kmalloc(1000, GFP_KERNEL);

	cr_assert(is_slab_object(small));
	cr_assert_not_null(slob_area_of(medium));
	cr_assert_not_null(slob_area_of(top));
	cr_assert_null(slob_area_of(small));
	cr_assert_null(slob_area_of(large));
	cr_assert(is_slab_object(k), "kmalloc keeps its caches");
	cr_assert_eq(usage().blocks, 2);
	kmem_free(small);
	kmem_free(medium);
	kmem_free(top);
	kmem_free(large);
	kfree(k);
	cr_assert_eq(usage().blocks, 0);
	cr_assert_eq(usage().used_bytes, 0);
}

Test(slob, blocks_are_aligned_sized_and_keep_their_contents)
{
	/* few enough that no class holds a slab's worth (a_busy_class...) */
	enum { N = 120 };
	static unsigned char *p[N];
	static size_t len[N];
	uint64_t rng = 7;

	for (int i = 0; i < N; i++) {
		len[i] = 513 + test_rand(&rng) % (8192 - 512);
		p[i] = kmem_malloc(len[i]);
		cr_assert_not_null(p[i]);
		cr_assert_eq((uintptr_t)p[i] % 16, 0);
		cr_assert_geq(kmem_malloc_usable_size(p[i]), len[i]);
		/* its class's size, or a cached block's a class or two up (at
		 * most a quarter more), and a remainder too small to split */
		size_t class = kmalloc_sizes[kmalloc_index(len[i])];

		cr_assert_geq(kmem_malloc_usable_size(p[i]), class);
		cr_assert_lt(kmem_malloc_usable_size(p[i]), class + class / 4 + 32);
		memset(p[i], i & 0xff, kmem_malloc_usable_size(p[i]));
		if (i % 3 == 2) {       /* holes, so later blocks reuse space */
			kmem_free(p[i - 1]);
			p[i - 1] = NULL;
		}
	}
	for (int i = 0; i < N; i++) {
		if (!p[i])
			continue;
		for (size_t j = 0; j < kmem_malloc_usable_size(p[i]); j++)
			cr_assert_eq(p[i][j], i & 0xff, "block %d byte %zu", i, j);
		kmem_free(p[i]);
	}
	cr_assert_eq(usage().blocks, 0);
	cr_assert_eq(usage().area_bytes, 0, "every area went back with its last block");
}

Test(slob, free_neighbours_merge_and_empty_areas_go_back)
{
	void *a = kmem_malloc(3000), *b = kmem_malloc(3000), *c = kmem_malloc(3000);
	void *keep = kmem_malloc(3000), *big;

	cr_assert_eq(slob_area_of(a), slob_area_of(keep), "one area");
	kmem_free(b);
	kmem_free(a);
	kmem_free(c);
	slob_cache_flush_current();     /* from the cache into the bins */
	big = kmem_malloc(8192);
	cr_assert_eq(big, a, "the three merged into one block where the first one was");
	kmem_free(big);
	kmem_free(keep);
	cr_assert_eq(usage().area_bytes, 0, "an area goes back with its last block");

	/* three areas' worth, all freed: the areas of cached blocks go at
	 * malloc_trim, the others at once */
	enum { N = 30 };
	void *p[N];

	for (int i = 0; i < N; i++) {
		p[i] = kmem_malloc(5000 + 100 * (size_t)i);
		cr_assert_not_null(slob_area_of(p[i]));
	}
	cr_assert_geq(usage_unflushed().area_bytes, 3 * SLOB_AREA_SIZE);
	for (int i = 0; i < N; i++)
		kmem_free(p[i]);
	cr_assert_gt(usage_unflushed().cached_bytes, 0);
	cr_assert_gt(usage_unflushed().area_bytes, 0, "cached blocks keep their areas");
	cr_assert_eq(kmem_malloc_trim(0), 1);
	cr_assert_eq(usage_unflushed().area_bytes, 0, "malloc_trim empties the cache");
}

/* How many of the nr - 1 pages after head carry a slab tail's marks. */
static unsigned int tail_marked_pages(const struct page *head, unsigned long nr)
{
	unsigned int marked = 0;

	for (unsigned long i = 1; i < nr; i++)
		marked += (head[i].flags & (PG_tail | PG_TAIL_BACK_MASK)) == page_tail_flags(i);
	return marked;
}

Test(slob, every_page_of_an_area_leads_free_to_its_head)
{
	void *p[12];
	struct page *head;

	/* blocks up to the area's last page */
	for (int i = 0; i < 12; i++)
		p[i] = kmem_malloc(5000);
	cr_assert_eq(slob_area_of(p[0]), slob_area_of(p[11]), "one area");
	head = __virt_to_page(slob_area_of(p[0]));
	cr_assert(head->flags & PG_slob);
	cr_assert_eq(tail_marked_pages(head, SLOB_AREA_PAGES), SLOB_AREA_PAGES - 1);
	cr_assert_eq(compound_head_of(p[11]), head, "a block in a tail page");
	cr_assert_eq(compound_head_of((char *)p[11] + 4000), head);
	cr_assert_eq(kmem_malloc_usable_size(p[11]), kmalloc_caches[kmalloc_index(5000)]->size);
	for (int i = 0; i < 12; i++)
		kmem_free(p[i]);
	cr_assert_eq(usage().area_bytes, 0);
	cr_assert_eq(tail_marked_pages(head, SLOB_AREA_PAGES), 0,
		     "the marks go with the area, before its pages are freed");
	cr_assert_eq(head->flags & PG_slob, 0);
}

Test(slob, the_smallest_hole_that_fits_is_taken)
{
	void *h1 = kmem_malloc(2000), *s1 = kmem_malloc(600);
	void *h2 = kmem_malloc(1000), *s2 = kmem_malloc(600);
	void *h3 = kmem_malloc(3000), *s3 = kmem_malloc(600);

	kmem_free(h1);
	kmem_free(h2);
	kmem_free(h3);
	slob_cache_flush_current();     /* into the bins: none of their classes is asked for */
	cr_assert_eq(kmem_malloc(900), h2);
	cr_assert_eq(kmem_malloc(1900), h1);
	cr_assert_eq(kmem_malloc(2990), h3);
	(void)s1;
	(void)s2;
	(void)s3;
}

Test(slob, the_owners_frees_wait_in_a_bounded_cache_for_their_class)
{
	enum { N = 8 };
	void *p[N], *q, *other;
	size_t block = kmalloc_sizes[kmalloc_index(1000)] + 16;

	for (int i = 0; i < N; i++)
		p[i] = kmem_malloc(1000);
	other = kmem_malloc(3000);
	kmem_free(p[0]);
	kmem_free(other);
	/* a request of the same class, not the same size, takes it back */
	cr_assert_eq(kmalloc_index(970), kmalloc_index(1000));
	q = kmem_malloc(970);
	cr_assert_eq(q, p[0]);
	cr_assert_eq(kmem_malloc_usable_size(q), kmalloc_sizes[kmalloc_index(1000)]);
	cr_assert_eq(usage_unflushed().blocks, N, "the 3000-byte block is cached, not in use");
	cr_assert_eq(usage_unflushed().cached_bytes, kmalloc_sizes[kmalloc_index(3000)] + 16);
	{
		/* meminfo's SlobCached, free memory as far as the totals go */
		struct kmem_usage u;

		kmem_get_usage(&u);
		cr_assert_eq(u.slob_cached_bytes, kmalloc_sizes[kmalloc_index(3000)] + 16);
		cr_assert_eq(u.slob_used_bytes, N * block);
	}
	/* at most 4 blocks of a class wait; the rest go back to the bins */
	for (int i = 0; i < N; i++)
		kmem_free(p[i]);
	cr_assert_eq(usage_unflushed().cached_bytes, 4 * block + kmalloc_sizes[kmalloc_index(3000)] + 16);
	cr_assert_eq(usage_unflushed().blocks, 0);
	for (int i = 3; i >= 0; i--)
		cr_assert_eq(kmem_malloc(1000), p[i], "the first four, last in first out");
	cr_assert_eq(usage().cached_bytes, 0);
}

/* SLOB_CACHE_BYTES bounds what waits over all classes: frees past it go
 * back to the bins, and the cache fills to within a block of it. */
Test(slob, the_owners_cache_is_bounded_in_bytes)
{
	enum { N = 48 };
	void *p[N];
	size_t most = 0;

	/* 4 to 8 KiB: six blocks in each class from 4 KiB up, fewer than
	 * make a class busy, and more bytes than the cache takes */
	for (int i = 0; i < N; i++) {
		p[i] = kmem_malloc(4096 + 256 * (size_t)(i / 3));
		cr_assert_not_null(slob_area_of(p[i]), "block %d", i);
	}
	for (int i = 0; i < N; i++) {
		size_t block = kmem_malloc_usable_size(p[i]) + 16;

		most = block > most ? block : most;
		kmem_free(p[i]);
	}
	cr_assert_leq(usage_unflushed().cached_bytes, SLOB_CACHE_BYTES);
	cr_assert_gt(usage_unflushed().cached_bytes, SLOB_CACHE_BYTES - most,
		     "%zu bytes cached", usage_unflushed().cached_bytes);
	slob_cache_flush_current();
	cr_assert_eq(usage_unflushed().cached_bytes, 0);
}

Test(slob, a_miss_takes_a_cached_block_a_class_or_two_up)
{
	unsigned int c = kmalloc_index(600);
	size_t size = kmalloc_sizes[c];
	void *up1, *up2, *far, *q;

	cr_assert_leq(kmalloc_sizes[c + 2], size + size / 4);
	up2 = kmem_malloc(kmalloc_sizes[c + 2]);
	up1 = kmem_malloc(kmalloc_sizes[c + 1]);
	far = kmem_malloc(4000);
	cr_assert_gt(kmalloc_sizes[kmalloc_index(4000)], kmalloc_sizes[kmalloc_index(3000)] * 5 / 4);
	kmem_free(up2);
	kmem_free(up1);
	kmem_free(far);
	/* the nearest class first, and the block keeps its class */
	q = kmem_malloc(600);
	cr_assert_eq(q, up1);
	cr_assert_eq(kmem_malloc_usable_size(q), kmalloc_sizes[c + 1]);
	cr_assert_eq(kmem_malloc(600), up2);
	kmem_free(up2);
	kmem_free(q);
	cr_assert_eq(kmem_malloc(kmalloc_sizes[c + 2]), up2, "freed back into its own class");
	/* more than a quarter bigger: left where it is */
	q = kmem_malloc(3000);
	cr_assert_neq(q, far);
	cr_assert_eq(usage_unflushed().cached_bytes, kmalloc_sizes[kmalloc_index(4000)] + 16 +
						     kmalloc_sizes[c + 1] + 16);
	cr_assert_eq(kmem_malloc(4000), far);
	/* the last class has no class above it to look at */
	q = kmem_malloc(KMALLOC_MAX_CACHE_SIZE);
	cr_assert_not_null(slob_area_of(q));
	cr_assert_eq(kmem_malloc_usable_size(q), KMALLOC_MAX_CACHE_SIZE);
}

Test(slob, a_request_the_bins_cannot_serve_empties_the_cache_first)
{
	/* one area of 4096-byte blocks, four of them cached: 8192 bytes fit
	 * only where two neighbours merge */
	enum { N = 15 };
	void *p[N], *big;

	for (int i = 0; i < N; i++) {
		p[i] = kmem_malloc(4096);
		cr_assert_eq(slob_area_of(p[i]), slob_area_of(p[0]), "block %d", i);
	}
	for (int i = 4; i < 8; i++)
		kmem_free(p[i]);
	cr_assert_gt(usage_unflushed().cached_bytes, 0);
	big = kmem_malloc(8192);
	cr_assert_eq(big, p[4], "merged from the cached blocks, no new area");
	cr_assert_eq(usage_unflushed().area_bytes, SLOB_AREA_SIZE);
	cr_assert_eq(usage_unflushed().cached_bytes, 0);
	kmem_free(big);
	for (int i = 0; i < N; i++)
		if (i < 4 || i >= 8)
			kmem_free(p[i]);
}

Test(slob, a_busy_class_goes_to_its_slabs_for_good)
{
	struct kmem_cache *s = kmalloc_caches[kmalloc_index(4096)];
	unsigned int busy = MAX(2 * s->objects, 16u);
	void *p[64];

	cr_assert_leq(busy + 1, 64);
	for (unsigned int i = 0; i < busy; i++) {
		p[i] = kmem_malloc(4096);
		cr_assert_not_null(slob_area_of(p[i]), "block %u", i);
	}
	p[busy] = kmem_malloc(4096);
	cr_assert(is_slab_object(p[busy]), "past %u live blocks, slabs", busy);
	for (unsigned int i = 0; i <= busy; i++)
		kmem_free(p[i]);
	p[0] = kmem_malloc(4000);
	cr_assert(is_slab_object(p[0]), "and it stays there");
	kmem_free(p[0]);
	cr_assert_eq(usage_unflushed().cached_bytes, 0, "its blocks do not wait in the cache");
	cr_assert_eq(usage_unflushed().blocks, 0, "and none is counted as waiting");
	p[0] = kmem_malloc(3000);
	cr_assert_not_null(slob_area_of(p[0]), "other classes are not affected");
	kmem_free(p[0]);
	cr_assert_gt(usage_unflushed().cached_bytes, 0, "their blocks still wait");
}

static void *make_4096_busy(void *arg)
{
	struct kmem_cache *s = kmalloc_caches[kmalloc_index(4096)];
	unsigned int busy = MAX(2 * s->objects, 16u);
	void *p[64];

	(void)arg;
	for (unsigned int i = 0; i <= busy; i++)
		p[i] = kmem_malloc(4096);
	for (unsigned int i = 0; i <= busy; i++)
		kmem_free(p[i]);
	return NULL;
}

static void *free_a_4096_block(void *arg)
{
	void *p = kmem_malloc(4096);
	size_t block = kmem_malloc_usable_size(p) + 16;        /* and its header */

	(void)arg;
	cr_assert_not_null(slob_area_of(p), "a class is busy for the thread that made it so");
	kmem_free(p);
	cr_assert_eq(usage_unflushed().cached_bytes, block, "and its blocks wait in the cache again");
	return NULL;
}

Test(slob, a_heap_passed_on_forgets_its_busy_classes)
{
	pthread_t t;

	cr_assert_eq(pthread_create(&t, NULL, make_4096_busy, NULL), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(pthread_create(&t, NULL, free_a_4096_block, NULL), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(usage_unflushed().heaps, 1, "the second thread had the first one's heap");
}

Test(slob, off_when_turned_off)
{
	void *p;

	kmem_config.slob_min = 0;
	p = kmem_malloc(1000);
	cr_assert(is_slab_object(p));
	kmem_free(p);
	cr_assert_eq(usage().heaps, 0);
}

/* No suite setup: the option is read at kmem_init. */
Test(slob_option, the_threshold_comes_from_kmem_slob_min)
{
	kmem_test_init("KMEM_SLOB_MIN=2048", "KMEM_HUGEPAGES=off", NULL);
	void *p = kmem_malloc(2048), *q = kmem_malloc(2049);

	cr_assert(is_slab_object(p));
	cr_assert_not_null(slob_area_of(q));
	kmem_free(p);
	kmem_free(q);
}

Test(slob_option, zero_turns_it_off)
{
	kmem_test_init("KMEM_SLOB_MIN=0", "KMEM_HUGEPAGES=off", NULL);
	void *p = kmem_malloc(1000);

	cr_assert(is_slab_object(p));
	kmem_free(p);
}

Test(slob, realloc_and_calloc)
{
	unsigned char *p = kmem_malloc(700), *q;

	for (int i = 0; i < 700; i++)
		p[i] = (unsigned char)i;
	q = kmem_realloc(p, 650);
	cr_assert_eq(q, p, "a small shrink stays");
	q = kmem_realloc(p, 5000);
	cr_assert_not_null(q);
	for (int i = 0; i < 650; i++)
		cr_assert_eq(q[i], (unsigned char)i);
	memset(q, 0xab, 5000);
	kmem_free(q);
	q = kmem_calloc(1, 5000);
	cr_assert_not_null(slob_area_of(q));
	for (int i = 0; i < 5000; i++)
		cr_assert_eq(q[i], 0, "byte %d", i);
	kmem_free(q);
}

/* The arena full of 64 KiB blocks: medium requests take what is left in
 * the heap's area, then one that needs a new area falls back to its
 * class's slabs and fails with ENOMEM when they cannot grow either; the
 * blocks in use keep their contents, and memory given back makes the
 * same request succeed. */
Test(slob, no_memory_for_an_area_is_enomem_and_nothing_lost)
{
	enum { MAX_BLOCKS = 512 * 1024 / 64, MEDIUM = 16 };
	static void *big[MAX_BLOCKS];
	unsigned char *keep = kmem_malloc(1000), *medium[MEDIUM];
	int n = 0, m = 0;

	memset(keep, 0x3c, 1000);
	while (n < MAX_BLOCKS && (big[n] = kmem_malloc(64 * 1024)))
		n++;
	cr_assert_lt(n, MAX_BLOCKS, "KMEM_LIMIT=512M ran out before %d blocks", MAX_BLOCKS);
	errno = 0;
	while (m < MEDIUM && (medium[m] = kmem_malloc(8192))) {
		cr_assert_eq(slob_area_of(medium[m]), slob_area_of(keep), "keep's area");
		m++;
	}
	cr_assert_lt(m, MEDIUM, "the area filled up");
	cr_assert_eq(errno, ENOMEM);
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(keep[i], 0x3c);
	for (int i = 0; i < n; i++)
		kmem_free(big[i]);
	medium[m] = kmem_malloc(8192);
	cr_assert_not_null(medium[m]);
	cr_assert_not_null(slob_area_of(medium[m]), "a new area");
	cr_assert_neq(slob_area_of(medium[m]), slob_area_of(keep));
	for (int i = 0; i <= m; i++)
		kmem_free(medium[i]);
	kmem_free(keep);
	cr_assert_eq(usage().blocks, 0);
}

/* ---- bad frees ---------------------------------------------------------- */

static void free_interior(void *arg)
{
	char *p = kmem_malloc(1000);

	kmem_free(p + (uintptr_t)arg);
}

static void free_twice_after_merge(void *arg)
{
	void *a = kmem_malloc(3000), *b = kmem_malloc(3000), *keep = kmem_malloc(3000);

	(void)arg;
	kmem_free(b);
	kmem_free(a);
	slob_cache_flush_current();     /* a and b are one free block now */
	kmem_free(b);
	kmem_free(keep);
}

static void free_area_header(void *arg)
{
	void *p = kmem_malloc(1000);

	(void)arg;
	kmem_free(slob_area_of(p));
}

static void usable_size_interior(void *arg)
{
	char *p = kmem_malloc(1000);

	(void)arg;
	kmem_malloc_usable_size(p + 16);
}

static void *free_in_thread(void *p)
{
	kmem_free(p);
	return NULL;
}

enum use_again { FREE_AGAIN, REALLOC, USABLE_SIZE, FREE_IN_ANOTHER_THREAD };

/* A block freed (so waiting in this thread's cache), then used again as
 * arg says. */
static void use_freed(void *arg)
{
	void *p = kmem_malloc(3000), *keep = kmem_malloc(3000);
	pthread_t t;

	kmem_free(p);
	switch ((enum use_again)(uintptr_t)arg) {
	case FREE_AGAIN:
		kmem_free(p);
		break;
	case REALLOC:
		kmem_realloc(p, 5000);
		break;
	case USABLE_SIZE:
		kmem_malloc_usable_size(p);
		break;
	case FREE_IN_ANOTHER_THREAD:
		pthread_create(&t, NULL, free_in_thread, p);
		pthread_join(t, NULL);
		break;
	}
	kmem_free(keep);
}

Test(slob, bad_frees_stop_the_program)
{
	expect_death(free_interior, (void *)(uintptr_t)16, "free(): double free or invalid pointer");
	expect_death(free_interior, (void *)(uintptr_t)8, "free(): double free or invalid pointer");
	expect_death(free_interior, (void *)(uintptr_t)-16, "free(): double free or invalid pointer");
	expect_death(free_twice_after_merge, NULL, "free(): double free or invalid pointer");
	expect_death(free_area_header, NULL, "free(): double free or invalid pointer");
	expect_death(usable_size_interior, NULL,
		     "malloc_usable_size(): double free or invalid pointer");
	expect_death(use_freed, (void *)FREE_AGAIN, "free(): double free");
	expect_death(use_freed, (void *)REALLOC, "realloc(): double free");
	expect_death(use_freed, (void *)USABLE_SIZE, "malloc_usable_size(): double free");
	expect_death(use_freed, (void *)FREE_IN_ANOTHER_THREAD, "free(): double free");
}

/* ---- threads and fork --------------------------------------------------- */

#define XFER 300
static void *xfer[XFER];
static unsigned long xfer_slob[2];      /* blocks of the medium heap: even, odd */

static void *alloc_blocks(void *arg)
{
	uint64_t rng = 11;

	(void)arg;
	for (int i = 0; i < XFER; i++) {
		size_t n = 513 + test_rand(&rng) % 4000;

		xfer[i] = kmem_malloc(n);
		memset(xfer[i], 0x5a, n);
		/* the upper classes may turn busy and take slabs */
		xfer_slob[i % 2] += slob_area_of(xfer[i]) != NULL;
	}
	return NULL;
}

static void *free_blocks(void *arg)
{
	(void)arg;
	for (int i = 0; i < XFER; i += 2)
		kmem_free(xfer[i]);
	return NULL;
}

Test(slob, other_threads_free_into_a_heap_and_an_exited_threads_heap_is_reused)
{
	pthread_t t;
	unsigned long heaps;

	cr_assert_eq(pthread_create(&t, NULL, alloc_blocks, NULL), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	heaps = usage().heaps;
	cr_assert_gt(xfer_slob[0] + xfer_slob[1], XFER / 2);
	cr_assert_eq(usage().blocks, xfer_slob[0] + xfer_slob[1]);
	/* the allocating thread is gone: another frees half, this one the rest */
	cr_assert_eq(pthread_create(&t, NULL, free_blocks, NULL), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(usage().heaps, heaps, "the freeing thread took the exited thread's heap");
	cr_assert_eq(usage().blocks, xfer_slob[1]);
	for (int i = 1; i < XFER; i += 2)
		kmem_free(xfer[i]);
	cr_assert_eq(usage().blocks, 0);
	cr_assert_eq(usage().used_bytes, 0);
}

static void *alloc_and_free_blocks(void *arg)
{
	void *p[20];

	(void)arg;
	for (int i = 0; i < 20; i++)
		p[i] = kmem_malloc(600 + 300 * (size_t)i);
	for (int i = 0; i < 20; i++)
		kmem_free(p[i]);
	return NULL;
}

Test(slob, an_exiting_thread_gives_its_cache_and_empty_areas_back)
{
	pthread_t t;

	cr_assert_eq(pthread_create(&t, NULL, alloc_and_free_blocks, NULL), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(usage_unflushed().heaps, 1);
	cr_assert_eq(usage_unflushed().cached_bytes, 0);
	cr_assert_eq(usage_unflushed().area_bytes, 0, "an idle pool keeps no empty area");
}

static pthread_key_t late_key;
static void *late_block;

/* Runs after kmem's own exit hook: its key was made first (kmem_init). */
static void late_destructor(void *arg)
{
	(void)arg;
	late_block = kmem_malloc(1000);
}

static void *malloc_then_exit_late(void *arg)
{
	(void)arg;
	kmem_free(kmem_malloc(100));    /* kmem's thread state and exit hook */
	pthread_setspecific(late_key, (void *)1);
	return NULL;
}

Test(slob, a_thread_past_its_exit_hook_takes_its_nodes_heap)
{
	pthread_t t;
	unsigned long heaps = usage_unflushed().heaps;

	cr_assert_eq(pthread_key_create(&late_key, late_destructor), 0);
	cr_assert_eq(pthread_create(&t, NULL, malloc_then_exit_late, NULL), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_not_null(late_block);
	cr_assert_not_null(slob_area_of(late_block));
	cr_assert_eq(usage_unflushed().heaps, heaps + 1, "the node's heap, made for it");
	cr_assert_eq(usage_unflushed().blocks, 1);
	kmem_free(late_block);
	cr_assert_eq(usage_unflushed().blocks, 0);
	cr_assert_eq(usage_unflushed().area_bytes, 0);
}

static atomic_bool churn_stop;

static void *churn_blocks(void *arg)
{
	uint64_t rng = (uintptr_t)arg;
	void *w[32] = { 0 };

	while (!atomic_load(&churn_stop)) {
		unsigned int k = test_rand(&rng) % 32;

		kmem_free(w[k]);
		w[k] = kmem_malloc(513 + test_rand(&rng) % 7000);
	}
	for (int k = 0; k < 32; k++)
		kmem_free(w[k]);
	return NULL;
}

Test(slob, fork_while_threads_allocate)
{
	pthread_t t[2];

	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, churn_blocks, (void *)(uintptr_t)(i + 1)), 0);
	for (int f = 0; f < 20; f++) {
		struct timespec ts = { 0, 2 * 1000 * 1000 };
		int status;
		pid_t pid;

		nanosleep(&ts, NULL);
		pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0) {
			/* the workers' blocks stay live in the child: only ours go */
			unsigned long before = usage().blocks;
			void *p[50];

			for (int i = 0; i < 50; i++)
				p[i] = kmem_malloc(600 + 100 * i);
			if (usage().blocks != before + 50)
				_exit(2);
			for (int i = 0; i < 50; i++)
				kmem_free(p[i]);
			_exit(usage().blocks == before ? 0 : 1);
		}
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fork %d: %#x", f, status);
	}
	atomic_store(&churn_stop, true);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_join(t[i], NULL), 0);
	cr_assert_eq(usage().blocks, 0);
}
