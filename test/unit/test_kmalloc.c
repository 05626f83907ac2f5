/*
 * test_kmalloc.c - the kmalloc family: size classes, alignment, internal
 * waste, zeroing, overflow, the large (page) path with its whole buddy
 * blocks, the vmalloc area, krealloc, kvmalloc/vmalloc, node requests,
 * and the deaths of bad frees.
 *
 * The expected class of a size is computed here with a plain loop over
 * kmalloc_sizes[]; the expected page count of a large block is the
 * smallest power of two of pages that holds the size; free-page counts
 * come from the zones.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "helpers.h"
#include "kmalloc.h"

static void setup(void)
{
	kmem_test_init("KMEM_LIMIT=128M", "KMEM_HUGEPAGES=off", NULL);
}

TestSuite(kmalloc, .init = setup);

#define MiB (1UL << 20)

/* ---- helpers ------------------------------------------------------------ */

/* Smallest class in the table that holds size; 0 if none. */
static unsigned int class_for(size_t size)
{
	for (unsigned int i = 0; i < KMALLOC_NR_CACHES; i++)
		if (kmalloc_sizes[i] >= size)
			return kmalloc_sizes[i];
	return 0;
}

/* Alignment a class guarantees: its size for powers of two, else 16. */
static unsigned int class_align(unsigned int c)
{
	return (c & (c - 1)) == 0 ? c : 16;
}

static long free_pages_now(void)
{
	kmalloc_large_drain_local();    /* cached large blocks count as free */
	drain_local_pages();
	return global_free_pages();
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i])
			return false;
	return true;
}

static unsigned char pattern_at(size_t i)
{
	return (unsigned char)(((i * 2654435761u) >> 24) ^ (i >> 12));
}

static void fill_pattern(void *p, size_t from, size_t to)
{
	unsigned char *c = p;

	for (size_t i = from; i < to; i++)
		c[i] = pattern_at(i);
}

/* First byte in [0, n) that is not the pattern, or n. */
static size_t check_pattern(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i] != pattern_at(i))
			return i;
	return n;
}

/* Is p's page unreadable (given back)?  write(2) says EFAULT, no signal. */
static bool unreadable(const void *p)
{
	int fd[2];
	bool r;

	cr_assert_eq(pipe(fd), 0);
	errno = 0;
	r = write(fd[1], p, 1) < 0 && errno == EFAULT;
	close(fd[0]);
	close(fd[1]);
	return r;
}

static const char *cache_name_of(const void *p)
{
	struct page *page = compound_head_of(p);

	return (page->flags & PG_slab) ? kmem_cache_name(page->slab_cache) : "(not a slab)";
}

/* ---- size classes ------------------------------------------------------- */

static void check_classes(size_t from, size_t to)
{
	unsigned long bad = 0;
	size_t first_bad = 0, first_got = 0;
	const char *first_name = "";

	for (size_t size = from; size <= to; size++) {
		unsigned char *p = kmalloc(size, GFP_KERNEL);
		unsigned int c = class_for(size);
		char want[32];
		size_t k;

		cr_assert_not_null(p, "kmalloc(%zu)", size);
		k = ksize(p);
		snprintf(want, sizeof(want), "kmalloc-%u", c);
		cr_assert_eq((uintptr_t)p % class_align(c), 0,
			     "kmalloc(%zu) = %p: class %u needs %u-byte alignment",
			     size, (void *)p, c, class_align(c));
		if (k != c || strcmp(cache_name_of(p), want)) {
			if (!bad++) {
				first_bad = size;
				first_got = k;
				first_name = cache_name_of(p);
			}
		}
		memset(p, 0x5a, k > size ? k : size);
		kfree(p);
	}
	cr_assert_eq(bad, 0,
		     "%lu sizes in [%zu, %zu] got the wrong class; first: kmalloc(%zu) has "
		     "ksize %zu from %s, expected %u (kmalloc-%u)",
		     bad, from, to, first_bad, first_got, first_name, class_for(first_bad),
		     class_for(first_bad));
}

Test(kmalloc, every_size_gets_the_smallest_class_that_holds_it)
{
	check_classes(1, KMALLOC_MAX_CACHE_SIZE);
}

/* The same without 1..8, so that a failure above is known to be there. */
Test(kmalloc, sizes_above_8_get_the_smallest_class)
{
	check_classes(9, KMALLOC_MAX_CACHE_SIZE);
}

Test(kmalloc, every_object_of_every_class_is_aligned)
{
	for (unsigned int i = 0; i < KMALLOC_NR_CACHES; i++) {
		unsigned int c = kmalloc_sizes[i];
		void *first = kmalloc(c, GFP_KERNEL);
		size_t n = 2 * (size_t)compound_head_of(first)->objects + 1;
		void **objs = calloc(n, sizeof(*objs));

		cr_assert_not_null(objs);
		kfree(first);
		for (size_t j = 0; j < n; j++) {
			objs[j] = kmalloc(c, GFP_KERNEL);
			cr_assert_not_null(objs[j]);
			cr_assert_eq((uintptr_t)objs[j] % class_align(c), 0,
				     "kmalloc-%u object %p not %u-aligned", c, objs[j],
				     class_align(c));
			cr_assert_geq(ksize(objs[j]), c);
			memset(objs[j], (int)j, c);
		}
		for (size_t j = 0; j < n; j++) {
			const unsigned char *b = objs[j];

			cr_assert(b[0] == (unsigned char)j && b[c - 1] == (unsigned char)j,
				  "kmalloc-%u object %zu overwritten", c, j);
			kfree(objs[j]);
		}
		free(objs);
	}
}

Test(kmalloc, internal_waste_is_bounded)
{
	/* worst over every size, over 129..512 (four classes per doubling)
	 * and over 513..8192 (eight) */
	double worst[3] = { 0 };
	size_t worst_size[3] = { 0 };
	static const double bound[3] = { 0.47, 0.197, 0.112 };
	static const char *const sizes[3] = { "17..8192", "129..512", "513..8192" };

	for (size_t size = 17; size <= KMALLOC_MAX_CACHE_SIZE; size++) {
		void *p = kmalloc(size, GFP_KERNEL);
		size_t c = ksize(p);
		double waste = (double)(c - size) / (double)c;
		int range = size > 512 ? 2 : size > 128 ? 1 : 0;

		cr_assert_geq(c, size);
		cr_assert_leq(c, KMALLOC_MAX_CACHE_SIZE);
		if (waste > worst[0]) {
			worst[0] = waste;
			worst_size[0] = size;
		}
		if (range && waste > worst[range]) {
			worst[range] = waste;
			worst_size[range] = size;
		}
		kfree(p);
	}
	for (int r = 0; r < 3; r++) {
		cr_log_info("worst internal waste, sizes %s: %.2f%% (size %zu)", sizes[r],
			    100 * worst[r], worst_size[r]);
		cr_assert_leq(worst[r], bound[r], "size %zu wastes %.2f%%", worst_size[r],
			      100 * worst[r]);
	}
}

/* 1 KiB and a header (sqlite3's journal chunks are 1032 bytes): 31 to a
 * slab in kmalloc-1040, where kmalloc-1152 would hold 28. */
Test(kmalloc, a_kib_with_a_small_header_fills_its_slab)
{
	void *p = kmalloc(1032, GFP_KERNEL), *q = kmalloc(1041, GFP_KERNEL);

	cr_assert_not_null(p);
	cr_assert_not_null(q);
	cr_assert_eq(ksize(p), 1040);
	cr_assert_eq(compound_head_of(p)->objects, 31);
	cr_assert_eq(ksize(q), 1152);
	cr_assert_eq(compound_head_of(q)->objects, 28);
	kfree(p);
	kfree(q);
}

/* ---- zeroing ------------------------------------------------------------ */

/*
 * kzalloc(size) until p, freed just before, comes back: within one
 * slab's worth of objects, since the owner's frees wait on their slab's
 * freelist for the thread's freelist to run dry.  The others are freed.
 */
static void *kzalloc_until(size_t size, const void *p)
{
	unsigned int per = kmalloc_caches[kmalloc_index(size)]->objects;
	void **others = calloc(per, sizeof(*others));
	unsigned int n = 0;
	void *q;

	cr_assert_not_null(others);
	while ((q = kzalloc(size, GFP_KERNEL)) != p) {
		cr_assert_not_null(q);
		cr_assert_lt(n, per, "size %zu: %p was not recycled", size, p);
		others[n++] = q;
	}
	while (n)
		kfree(others[--n]);
	free(others);
	return q;
}

static const size_t zero_sizes[] = {
	1, 8, 16, 17, 100, 256, 1000, 4000, 8192, 8193, 20000, 100000, MiB, 5 * MiB,
};

Test(kmalloc, kzalloc_and_kcalloc_zero_recycled_memory)
{
	for (size_t i = 0; i < ARRAY_SIZE(zero_sizes); i++) {
		size_t size = zero_sizes[i];
		unsigned char *p, *q;

		for (int how = 0; how < 5; how++) {
			p = kmalloc(size, GFP_KERNEL);
			cr_assert_not_null(p);
			memset(p, 0xa5, ksize(p));
			kfree(p);
			switch (how) {
			case 0: q = kzalloc(size, GFP_KERNEL); break;
			case 1: q = kcalloc(1, size, GFP_KERNEL); break;
			case 2: q = kcalloc(size, 1, GFP_KERNEL); break;
			case 3: q = kmalloc(size, GFP_KERNEL | __GFP_ZERO); break;
			default: q = kmalloc_array(1, size, GFP_KERNEL | __GFP_ZERO); break;
			}
			cr_assert_not_null(q);
			cr_assert(all_zero(q, size), "size %zu, way %d: not zeroed", size, how);
			if (size <= KMALLOC_MAX_CACHE_SIZE) {
				/* p waits on its slab's freelist: zero it comes back too */
				kfree(q);
				q = kzalloc_until(size, p);
				cr_assert(all_zero(q, size), "size %zu, way %d: recycled, not zeroed",
					  size, how);
			}
			kfree(q);
		}
	}
	/* many objects of one class, all dirtied first */
	{
		enum { N = 500 };
		void *objs[N];

		for (int i = 0; i < N; i++) {
			objs[i] = kmalloc(300, GFP_KERNEL);
			memset(objs[i], 0xff, 300);
		}
		for (int i = 0; i < N; i++)
			kfree(objs[i]);
		for (int i = 0; i < N; i++) {
			objs[i] = kzalloc(300, GFP_KERNEL);
			cr_assert(all_zero(objs[i], 300), "object %d", i);
		}
		for (int i = 0; i < N; i++)
			kfree(objs[i]);
	}
}

/*
 * kzalloc clears the whole object, not just the bytes asked for: ksize()
 * says the rest is the caller's to use, and krealloc grows into it in
 * place (the kernel's slab_post_alloc_hook zeroes s->object_size).
 */
Test(kmalloc, kzalloc_zeroes_all_usable_bytes)
{
	static const size_t sizes[] = { 17, 100, 1000, 5000, 8193, 20000 };

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		unsigned char *p = kmalloc(sizes[i], GFP_KERNEL), *q;
		size_t k = ksize(p);

		memset(p, 0xa5, k);
		kfree(p);
		q = kzalloc(sizes[i], GFP_KERNEL);
		k = ksize(q);
		for (size_t b = 0; b < k; b++)
			cr_assert_eq(q[b], 0, "kzalloc(%zu): usable byte %zu of %zu is %#x",
				     sizes[i], b, k, q[b]);
		kfree(q);
	}
}

/*
 * include/linux/slab.h: krealloc honours __GFP_ZERO when every call for
 * the allocation, from the first, passes it.
 */
Test(kmalloc, krealloc_with_gfp_zero_keeps_growth_zeroed)
{
	unsigned char *p = kmalloc(32, GFP_KERNEL), *q;

	memset(p, 0xa5, 32);
	kfree(p);
	q = kzalloc(17, GFP_KERNEL);
	cr_assert(all_zero(q, 17));
	q = krealloc(q, 32, GFP_KERNEL | __GFP_ZERO);
	for (int b = 0; b < 32; b++)
		cr_assert_eq(q[b], 0, "in place: byte %d is %#x", b, q[b]);
	q = krealloc(q, 200, GFP_KERNEL | __GFP_ZERO);
	for (int b = 0; b < 200; b++)
		cr_assert_eq(q[b], 0, "moved: byte %d is %#x", b, q[b]);
	kfree(q);
}

Test(kmalloc, array_overflow_fails_with_enomem)
{
	void *p;

	errno = 0;
	cr_assert_null(kcalloc(SIZE_MAX / 2 + 1, 2, GFP_KERNEL));
	cr_assert_eq(errno, ENOMEM);
	errno = 0;
	cr_assert_null(kmalloc_array(SIZE_MAX, SIZE_MAX, GFP_KERNEL));
	cr_assert_eq(errno, ENOMEM);
	errno = 0;
	cr_assert_null(kmalloc_array(1UL << 32, 1UL << 32, GFP_KERNEL));
	cr_assert_eq(errno, ENOMEM);
	errno = 0;
	cr_assert_null(kcalloc(3, SIZE_MAX / 3 + 1, GFP_KERNEL));
	cr_assert_eq(errno, ENOMEM);
	errno = 0;
	cr_assert_null(kmalloc(SIZE_MAX, GFP_KERNEL));
	cr_assert_eq(errno, ENOMEM);
	errno = 0;
	cr_assert_null(kcalloc(SIZE_MAX, 1, GFP_KERNEL));
	cr_assert_eq(errno, ENOMEM);

	/* products that fit work */
	p = kmalloc_array(10, 100, GFP_KERNEL);
	cr_assert_not_null(p);
	cr_assert_eq(ksize(p), class_for(1000));
	memset(p, 1, 1000);
	kfree(p);
	p = kcalloc(3, 5, GFP_KERNEL);
	cr_assert(p && all_zero(p, 15));
	kfree(p);
}

/* ---- large: pages from the buddy allocator ----------------------------- */

/* A large block keeps its whole buddy block, as the kernel's kmalloc_large. */
static void check_large(size_t size)
{
	unsigned long pages = 1UL << get_order(size);
	long before = free_pages_now(), after;
	unsigned char *p = kmalloc(size, GFP_KERNEL);

	cr_assert_not_null(p, "kmalloc(%zu)", size);
	cr_assert(arena_contains(p), "kmalloc(%zu) = %p is not in the arena", size, (void *)p);
	cr_assert_eq((uintptr_t)p % PAGE_SIZE, 0, "kmalloc(%zu) = %p", size, (void *)p);
	cr_assert_eq(ksize(p), pages * PAGE_SIZE, "kmalloc(%zu): ksize %zu, %lu pages kept",
		     size, ksize(p), pages);
	after = free_pages_now();
	cr_assert_eq(before - after, (long)pages,
		     "kmalloc(%zu) took %ld pages, %lu are kept", size, before - after, pages);
	for (unsigned long i = 0; i < pages; i++) {
		p[i * PAGE_SIZE] = (unsigned char)i;
		p[i * PAGE_SIZE + PAGE_SIZE - 1] = (unsigned char)~i;
	}
	for (unsigned long i = 0; i < pages; i++)
		cr_assert(p[i * PAGE_SIZE] == (unsigned char)i &&
			  p[i * PAGE_SIZE + PAGE_SIZE - 1] == (unsigned char)~i);
	kfree(p);
	cr_assert_eq(free_pages_now(), before, "kfree of %zu bytes", size);
}

Test(kmalloc, large_blocks_keep_only_the_pages_they_need)
{
	static const size_t sizes[] = {
		8193, 12288, 12289, 16384, 16385, 20000, 32768, 32769, 65536, 65537, 100000,
		256 * 1024 + 1, MiB - 1, MiB, MiB + 1, 2 * MiB, 2 * MiB + PAGE_SIZE + 1,
		3 * MiB, 4 * MiB - PAGE_SIZE, 4 * MiB - 1, 4 * MiB,
	};

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		check_large(sizes[i]);
	/* every page count from 3 to 1024, at an odd offset into the last page */
	for (unsigned long pages = 3; pages <= 1024; pages++)
		check_large((pages - 1) * PAGE_SIZE + 1 + (pages * 37) % (PAGE_SIZE - 1));
	cr_assert_eq(kmem_check_all(), 0);
}

Test(kmalloc, large_blocks_held_together_add_up)
{
	enum { N = 40 };
	void *blocks[N];
	long before = free_pages_now(), kept = 0;

	for (int i = 0; i < N; i++) {
		size_t size = 8193 + (size_t)i * 25000;

		blocks[i] = kmalloc(size, GFP_KERNEL);
		cr_assert_not_null(blocks[i]);
		kept += 1L << get_order(size);
		memset(blocks[i], i, size);
	}
	cr_assert_eq(before - free_pages_now(), kept);
	for (int i = 0; i < N; i++) {
		const unsigned char *b = blocks[i];
		size_t size = 8193 + (size_t)i * 25000;

		cr_assert(b[0] == i && b[size - 1] == i, "block %d overwritten", i);
	}
	for (int i = N - 1; i >= 0; i -= 2)
		kfree(blocks[i]);
	for (int i = N - 2; i >= 0; i -= 2)
		kfree(blocks[i]);
	cr_assert_eq(free_pages_now(), before);
	cr_assert_eq(kmem_check_all(), 0);
}

/* ---- huge: the vmalloc area --------------------------------------------- */

Test(kmalloc, huge_blocks_come_from_the_vmalloc_area)
{
	static const size_t sizes[] = { 4 * MiB + 1, 5 * MiB, 16 * MiB + 123, 100 * MiB };

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t size = sizes[i], mapped = (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
		long before = free_pages_now();
		size_t bytes = vmalloc_stats.bytes_mapped;
		unsigned char *p = kmalloc(size, GFP_KERNEL);

		cr_assert_not_null(p, "kmalloc(%zu)", size);
		cr_assert(vmalloc_contains(p), "kmalloc(%zu) = %p", size, (void *)p);
		cr_assert_not(arena_contains(p));
		cr_assert_eq((uintptr_t)p % PAGE_SIZE, 0);
		cr_assert_eq(ksize(p), mapped, "kmalloc(%zu): ksize %zu", size, ksize(p));
		cr_assert(all_zero(p, mapped), "kmalloc(%zu) is not zero", size);
		cr_assert_eq(vmalloc_stats.bytes_mapped, bytes + mapped);
		memset(p, 0x77, mapped);
		cr_assert_eq(free_pages_now(), before, "the arena paid for a vmalloc block");
		cr_assert_not(unreadable(p));           /* the probe itself works */
		kfree(p);
		cr_assert_eq(vmalloc_stats.bytes_mapped, bytes);
		cr_assert_not(vmalloc_area_owns(p));
		/* freed huge blocks may stay mapped for reuse until flushed */
		vmalloc_cache_flush();
		cr_assert(unreadable(p), "kmalloc(%zu): still mapped after kfree", size);
		cr_assert(unreadable(p + mapped - 1));
	}
}

/* ---- krealloc ----------------------------------------------------------- */

Test(kmalloc, krealloc_stays_in_place_while_the_block_holds_the_size)
{
	static const size_t sizes[] = {
		1, 17, 100, 1000, 8000, 8193, 20000, MiB + 1, 5 * MiB + 1,
	};

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t size = sizes[i];
		unsigned char *p = kmalloc(size, GFP_KERNEL);
		size_t k = ksize(p);

		fill_pattern(p, 0, size);
		cr_assert_eq(krealloc(p, k, GFP_KERNEL), p, "size %zu grown to ksize %zu", size, k);
		cr_assert_eq(krealloc(p, size, GFP_KERNEL), p);
		cr_assert_eq(krealloc(p, (size + 1) / 2, GFP_KERNEL), p, "size %zu shrunk", size);
		cr_assert_eq(krealloc(p, 1, GFP_KERNEL), p);
		cr_assert_eq(check_pattern(p, size), size, "size %zu: contents changed", size);
		kfree(p);
	}
}

Test(kmalloc, krealloc_moves_and_keeps_the_contents)
{
	static const size_t chain[] = {
		100, 113, 1000, 5000, 8192, 8193, 20000, 2 * MiB, 4 * MiB, 6 * MiB, 64 * MiB,
	};
	unsigned char *p = kmalloc(chain[0], GFP_KERNEL);

	fill_pattern(p, 0, chain[0]);
	for (size_t i = 1; i < ARRAY_SIZE(chain); i++) {
		size_t old = chain[i - 1], size = chain[i], old_k = ksize(p);
		unsigned char *q = krealloc(p, size, GFP_KERNEL);

		cr_assert_not_null(q, "krealloc to %zu", size);
		cr_assert_geq(ksize(q), size);
		if (size > old_k && old <= KMALLOC_MAX_CACHE_SIZE)
			cr_assert_neq(q, p, "a slab object grew from %zu to %zu in place", old, size);
		cr_assert_eq(check_pattern(q, old), old, "%zu -> %zu: lost contents at byte %zu",
			     old, size, check_pattern(q, old));
		fill_pattern(q, old, size);
		p = q;
	}
	cr_assert(vmalloc_contains(p));
	cr_assert_eq(check_pattern(p, 64 * MiB), 64 * MiB);
	kfree(p);
}

static void fill_words(uint32_t *w, size_t bytes, uint32_t seed)
{
	for (size_t i = 0; i < bytes / 4; i++)
		w[i] = (uint32_t)i * 2654435761u + seed;
}

static size_t check_words(const uint32_t *w, size_t bytes, uint32_t seed)
{
	for (size_t i = 0; i < bytes / 4; i++)
		if (w[i] != (uint32_t)i * 2654435761u + seed)
			return i * 4;
	return bytes;
}

Test(kmalloc, vmalloc_block_grows_without_losing_contents)
{
	uint32_t *p = kmalloc(8 * MiB, GFP_KERNEL), *q;

	cr_assert(p && vmalloc_contains(p));
	fill_words(p, 8 * MiB, 1);
	q = krealloc(p, 64 * MiB, GFP_KERNEL);
	cr_assert_not_null(q);
	cr_assert(vmalloc_contains(q));
	cr_assert_eq(ksize(q), 64 * MiB);
	cr_assert_eq(check_words(q, 8 * MiB, 1), 8 * MiB);
	fill_words(q, 64 * MiB, 2);
	cr_assert_eq(check_words(q, 64 * MiB, 2), 64 * MiB);
	kfree(q);
}

/* The range after the block is taken: growing has to move it. */
Test(kmalloc, vmalloc_block_moves_without_losing_contents)
{
	uint32_t *p = kmalloc(8 * MiB, GFP_KERNEL);
	uint32_t *b = kmalloc(8 * MiB, GFP_KERNEL);
	uint32_t *q;

	cr_assert(p && b && vmalloc_contains(p) && vmalloc_contains(b));
	fill_words(p, 8 * MiB, 3);
	fill_words(b, 8 * MiB, 4);
	q = krealloc(p, 64 * MiB, GFP_KERNEL);
	cr_assert_not_null(q);
	cr_assert_eq(ksize(q), 64 * MiB);
	cr_assert_eq(check_words(q, 8 * MiB, 3), 8 * MiB);
	cr_assert_eq(check_words(b, 8 * MiB, 4), 8 * MiB, "the neighbour changed");
	fill_words(q, 64 * MiB, 5);
	cr_assert_eq(check_words(q, 64 * MiB, 5), 64 * MiB);
	cr_assert_eq(check_words(b, 8 * MiB, 4), 8 * MiB);
	kfree(q);
	kfree(b);
	if (q != p)
		cr_assert(unreadable(p), "the old range is still mapped");
}

Test(kmalloc, krealloc_to_zero_frees)
{
	void *p = kmalloc(200, GFP_KERNEL), *q;
	long before;

	cr_assert_null(krealloc(p, 0, GFP_KERNEL));
	q = kzalloc_until(200, p);      /* fails unless p was freed */
	kfree(q);

	before = free_pages_now();
	p = kmalloc(100000, GFP_KERNEL);
	cr_assert_lt(free_pages_now(), before);
	cr_assert_null(krealloc(p, 0, GFP_KERNEL));
	cr_assert_eq(free_pages_now(), before);

	p = kmalloc(5 * MiB, GFP_KERNEL);
	cr_assert(vmalloc_area_owns(p));
	cr_assert_null(krealloc(p, 0, GFP_KERNEL));
	cr_assert_not(vmalloc_area_owns(p));
	vmalloc_cache_flush();
	cr_assert(unreadable(p));
}

Test(kmalloc, krealloc_of_null_allocates)
{
	static const size_t sizes[] = { 1, 50, 10000, 5 * MiB };

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		unsigned char *p = krealloc(NULL, sizes[i], GFP_KERNEL);

		cr_assert_not_null(p, "krealloc(NULL, %zu)", sizes[i]);
		cr_assert_geq(ksize(p), sizes[i]);
		memset(p, 0x33, sizes[i]);
		kfree(p);
	}
}

Test(kmalloc, null_is_a_no_op)
{
	long before = free_pages_now();

	kfree(NULL);
	kvfree(NULL);
	vfree(NULL);
	cr_assert_eq(ksize(NULL), 0);
	cr_assert_eq(free_pages_now(), before);
}

/* ---- kvmalloc, vmalloc -------------------------------------------------- */

Test(kmalloc, kvmalloc_and_kvfree)
{
	static const size_t sizes[] = { 1, 100, 8192, 100000, 4 * MiB, 5 * MiB, 20 * MiB };
	long before;

	/* the first round leaves the classes' slabs behind; count from there */
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		kvfree(kvmalloc(sizes[i], GFP_KERNEL));
	before = free_pages_now();
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t size = sizes[i];
		unsigned char *p = kvmalloc(size, GFP_KERNEL), *q;

		cr_assert_not_null(p, "kvmalloc(%zu)", size);
		cr_assert_geq(ksize(p), size);
		memset(p, 0xcd, size);
		kvfree(p);
		q = kvzalloc(size, GFP_KERNEL);
		cr_assert_not_null(q);
		cr_assert(all_zero(q, size), "kvzalloc(%zu)", size);
		kvfree(q);
	}
	cr_assert_eq(free_pages_now(), before);
}

Test(kmalloc, vmalloc_and_vfree)
{
	static const size_t sizes[] = { 1, 4096, 4097, MiB + 1, 6 * MiB };
	unsigned char *p;

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t size = sizes[i], mapped = (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);

		p = vmalloc(size);
		cr_assert_not_null(p, "vmalloc(%zu)", size);
		cr_assert(vmalloc_contains(p));
		cr_assert_eq((uintptr_t)p % PAGE_SIZE, 0);
		cr_assert_eq(ksize(p), mapped);
		cr_assert(all_zero(p, mapped));
		memset(p, 0xee, mapped);
		cr_assert_not(unreadable(p + mapped - 1));
		vfree(p);
		vmalloc_cache_flush();
		cr_assert(unreadable(p), "vmalloc(%zu): still mapped after vfree", size);
		p = vzalloc(size);
		cr_assert_not_null(p);
		cr_assert(all_zero(p, size), "vzalloc(%zu)", size);
		vfree(p);
	}
	errno = 0;
	cr_assert_null(vmalloc(0));
	cr_assert_eq(errno, ENOMEM);
}

/* ---- nodes -------------------------------------------------------------- */

static size_t expected_usable(size_t size)
{
	if (size <= KMALLOC_MAX_CACHE_SIZE)
		return class_for(size);
	if (size <= (PAGE_SIZE << MAX_ORDER))
		return PAGE_SIZE << get_order(size);
	return (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}

Test(kmalloc, kmalloc_node_zero)
{
	size_t sizes[256], n = 0;

	/* 1..8 are left out: every_size_gets_the_smallest_class covers them */
	for (size_t size = 9; size <= KMALLOC_MAX_CACHE_SIZE; size += 37)
		sizes[n++] = size;
	sizes[n++] = KMALLOC_MAX_CACHE_SIZE;
	sizes[n++] = 8193;
	sizes[n++] = 100000;
	sizes[n++] = 4 * MiB;
	sizes[n++] = 5 * MiB;
	cr_assert_leq(n, ARRAY_SIZE(sizes));
	for (size_t i = 0; i < n; i++) {
		size_t sz = sizes[i];
		unsigned char *p = kmalloc_node(sz, GFP_KERNEL, 0);

		cr_assert_not_null(p, "kmalloc_node(%zu, 0)", sz);
		if (arena_contains(p))
			cr_assert_eq(page_to_nid(virt_to_page(p)), 0);
		else
			cr_assert(vmalloc_contains(p) && sz > 4 * MiB, "kmalloc_node(%zu)", sz);
		cr_assert_eq(ksize(p), expected_usable(sz), "kmalloc_node(%zu)", sz);
		memset(p, 0x99, sz);
		kfree(p);
		p = kmalloc_node(sz, GFP_KERNEL | __GFP_ZERO, 0);
		cr_assert(all_zero(p, sz), "kmalloc_node(%zu, __GFP_ZERO)", sz);
		kfree(p);
		p = kmalloc_node(sz, GFP_KERNEL, NUMA_NO_NODE);
		cr_assert_eq(ksize(p), expected_usable(sz));
		kfree(p);
	}
}

/* ---- deaths ------------------------------------------------------------- */

static void kfree_stack(void *arg)
{
	char buf[64];

	memset(buf, 0, sizeof(buf));
	kfree(buf + (uintptr_t)arg);
}

Test(kmalloc, kfree_of_a_stack_address_aborts)
{
	expect_death(kfree_stack, (void *)(uintptr_t)0, "invalid pointer");
	expect_death(kfree_stack, (void *)(uintptr_t)16, "invalid pointer");
}

static void kfree_interior(void *arg)
{
	char *p = kmalloc((size_t)arg, GFP_KERNEL);

	kfree(p + 16);
}

Test(kmalloc, kfree_of_an_interior_pointer_aborts)
{
	expect_death(kfree_interior, (void *)(uintptr_t)100,
		     "not the start of an object of cache kmalloc-");
	expect_death(kfree_interior, (void *)(uintptr_t)100, "kmalloc-112");
	expect_death(kfree_interior, (void *)(uintptr_t)8192,
		     "not the start of an object of cache kmalloc-8192");
	expect_death(kfree_interior, (void *)(uintptr_t)40,
		     "not the start of an object of cache kmalloc-48");
}

/* An object of kmalloc-704 (4 pages a slab) that starts in a tail page. */
static char *kmalloc_in_a_tail_page(void)
{
	for (int i = 0; i < 64; i++) {
		char *p = kmalloc(700, GFP_KERNEL);

		if (compound_head_of(p) != virt_to_page(p))
			return p;
	}
	cr_assert_fail("no kmalloc-704 object in a tail page");
	return NULL;
}

static void kfree_tail_interior(void *arg)
{
	kfree(kmalloc_in_a_tail_page() + (uintptr_t)arg);
}

static void kfree_tail_page_start(void *arg)
{
	char *p = kmalloc_in_a_tail_page();

	(void)arg;
	kfree((void *)((uintptr_t)p & PAGE_MASK));
}

static void double_kfree_in_a_tail_page(void *arg)
{
	char *p = kmalloc_in_a_tail_page();

	(void)arg;
	kfree(p);
	kfree(p);
}

/* A tail page's objects are checked as exactly as a head page's. */
Test(kmalloc, kfree_in_a_tail_page_checks_the_object)
{
	char *p = kmalloc_in_a_tail_page();
	struct page *slab = compound_head_of(p);

	cr_assert_eq(slab->slab_cache, kmalloc_caches[kmalloc_index(700)]);
	cr_assert_eq(ksize(p), 704);
	kfree(p);
	cr_assert_eq(thread_cpu_slab(kmem_current, slab->slab_cache)->freelist, p,
		     "the owner's free is parked on its thread's freelist");
	expect_death(kfree_tail_interior, (void *)(uintptr_t)16,
		     "not the start of an object of cache kmalloc-704");
	expect_death(kfree_tail_interior, (void *)(uintptr_t)703,
		     "not the start of an object of cache kmalloc-704");
	expect_death(kfree_tail_page_start, NULL,
		     "not the start of an object of cache kmalloc-704");
	expect_death(double_kfree_in_a_tail_page, NULL, "double free");
}

static void kfree_large_interior(void *arg)
{
	char *p = kmalloc(20000, GFP_KERNEL);

	kfree(p + (uintptr_t)arg);
}

Test(kmalloc, kfree_inside_a_large_block_aborts)
{
	expect_death(kfree_large_interior, (void *)(uintptr_t)PAGE_SIZE, "invalid pointer");
	expect_death(kfree_large_interior, (void *)(uintptr_t)8, "invalid pointer");
}

static void double_kfree(void *arg)
{
	void *p = kmalloc((size_t)arg, GFP_KERNEL);

	kfree(p);
	kfree(p);
}

Test(kmalloc, double_kfree_aborts)
{
	expect_death(double_kfree, (void *)(uintptr_t)100, "double free");
	expect_death(double_kfree, (void *)(uintptr_t)8193, "double free");
	expect_death(double_kfree, (void *)(uintptr_t)65536, "double free");
	expect_death(double_kfree, (void *)(uintptr_t)(4 * MiB), "double free");
}

/*
 * Two large blocks that are buddies are both freed, so they merge; then
 * the upper one is freed again.  Its page is inside a free buddy block.
 */
static void double_kfree_after_merge(void *arg)
{
	enum { N = 16 };
	char *b[N];
	const unsigned long npages = MiB / PAGE_SIZE;

	for (int i = 0; i < N; i++)
		b[i] = kmalloc(MiB, GFP_KERNEL);
	for (int i = 0; i < N; i++) {
		unsigned long pi = page_to_pfn(virt_to_page(b[i]));

		if (pi & npages)
			continue;       /* want the lower half of a pair */
		for (int j = 0; j < N; j++) {
			if (page_to_pfn(virt_to_page(b[j])) == (pi ^ npages)) {
				kfree(b[i]);
				kfree(b[j]);
				kfree(b[j]);    /* b[j]'s page is now inside b[i]'s free block */
				return;
			}
		}
	}
	kmem_panic("test setup: no two 1 MiB blocks were buddies");
}

Test(kmalloc, double_kfree_of_a_merged_large_block_says_double_free)
{
	expect_death(double_kfree_after_merge, NULL, "double free");
}

static void kfree_vmalloc_interior(void *arg)
{
	char *p = kmalloc(5 * MiB, GFP_KERNEL);

	kfree(p + (uintptr_t)arg);
}

static void kfree_vmalloc_unallocated(void *arg)
{
	kfree(vmalloc_start + vmalloc_size / 2);
}

static void double_kfree_vmalloc(void *arg)
{
	void *p = kmalloc(5 * MiB, GFP_KERNEL);

	kfree(p);
	kfree(p);
}

Test(kmalloc, kfree_of_a_vmalloc_address_that_is_no_allocation_aborts)
{
	expect_death(kfree_vmalloc_interior, (void *)(uintptr_t)PAGE_SIZE, "invalid pointer");
	expect_death(kfree_vmalloc_interior, (void *)(uintptr_t)16, "invalid pointer");
	expect_death(kfree_vmalloc_interior, (void *)(uintptr_t)(5 * MiB), "invalid pointer");
	expect_death(kfree_vmalloc_unallocated, NULL, "invalid pointer");
	expect_death(double_kfree_vmalloc, NULL, "invalid pointer");
}

static void vfree_of_kmalloc(void *arg)
{
	vfree(kmalloc(100, GFP_KERNEL));
}

Test(kmalloc, vfree_of_a_slab_object_aborts)
{
	expect_death(vfree_of_kmalloc, NULL, "vfree");
}

/* A freed huge block is kept mapped and handed to the next request of
 * about its size that needs no zeroing; zeroing requests get fresh memory;
 * freeing it twice is still caught; a flush unmaps it. */
static void *cached_block;

static void free_cached_twice(void *arg)
{
	kfree(cached_block);
	kfree(cached_block);
}

Test(kmalloc, freed_huge_blocks_are_reused_until_flushed)
{
	char *p = kmalloc(16 * MiB, GFP_KERNEL), *q, *z;

	memset(p, 0x5a, 16 * MiB);
	kfree(p);
	cr_assert_not(unreadable(p));                   /* kept mapped */
	q = kmalloc(9 * MiB, GFP_KERNEL);               /* 16 MiB holds it, at most twice */
	cr_assert_eq(q, p);
	cr_assert_eq(ksize(q), 16 * MiB);
	z = kzalloc(16 * MiB, GFP_KERNEL);              /* zeroing: never a reused block */
	cr_assert_neq(z, p);
	cr_assert(all_zero(z, 16 * MiB));
	kfree(z);
	kfree(q);
	cached_block = kmalloc(16 * MiB, GFP_KERNEL);
	expect_death(free_cached_twice, NULL, "invalid pointer");
	kfree(cached_block);
	cr_assert_eq(vmalloc_cache_flush(), 2 * 16 * MiB);
	cr_assert(unreadable(cached_block));
	cr_assert(unreadable(z));
}

static unsigned long sections_online(void)
{
	unsigned long n = 0;
	struct zone *zone;
	int nid;

	for_each_online_node(nid)
		for_each_populated_zone_of(NODE_DATA(nid), zone)
			n += zone->ev.sections_online;
	return n;
}

/* Allocate 4 MiB blocks (kept in blocks[]) until a section comes online. */
static size_t grow_arena(struct page **blocks, size_t nr, size_t max)
{
	unsigned long before = sections_online();

	while (sections_online() == before) {
		cr_assert_lt(nr, max, "no section came online");
		blocks[nr] = alloc_pages(GFP_KERNEL | __GFP_NOWARN, MAX_ORDER);
		cr_assert_not_null(blocks[nr]);
		nr++;
	}
	return nr;
}

/*
 * A cached huge block keeps its pages while it may be taken again, and
 * gives them back (mapping and slot kept) once it has sat in the cache
 * through one growth of the arena and into the next.
 */
Test(kmalloc, cached_huge_blocks_give_their_pages_back_as_the_arena_grows)
{
	const size_t size = 8 * MiB, pages = size / PAGE_SIZE;
	struct page *blocks[24];
	size_t nr = 0;
	char *p = kmalloc(size, GFP_KERNEL), *q;

	cr_assert_not_null(p);
	memset(p, 0x5a, size);
	kfree(p);
	cr_assert_eq(test_resident_pages(p, (long)pages), (long)pages, "a freshly cached block lost its pages");
	nr = grow_arena(blocks, nr, 24);
	cr_assert_eq(test_resident_pages(p, (long)pages), (long)pages, "released at the first growth");
	nr = grow_arena(blocks, nr, 24);
	cr_assert_eq(test_resident_pages(p, (long)pages), 0, "still resident after two growths");
	q = kmalloc(size, GFP_KERNEL);                  /* the cache still serves it */
	cr_assert_eq(q, p);
	memset(q, 0x3c, size);
	cr_assert_eq(q[size - 1], 0x3c);
	kfree(q);
	/* freed again: it starts over */
	nr = grow_arena(blocks, nr, 24);
	cr_assert_eq(test_resident_pages(q, (long)pages), (long)pages);
	while (nr)
		__free_pages(blocks[--nr], MAX_ORDER);
	vmalloc_cache_flush();
}

/* Blocks of up to 64 KiB freed by a thread wait on its large_cache for
 * the next request of the same page count: no zone lock, no split; a
 * second free is caught; thread exit gives them back. */
static void *cached_large;

static void free_cached_large_twice(void *arg)
{
	kfree(cached_large);
	kfree(cached_large);
}

static void *churn_large(void *arg)
{
	void *p = kmalloc(64 << 10, GFP_KERNEL);

	kfree(p);       /* cached by this thread, which now exits */
	return NULL;
}

Test(kmalloc, small_large_blocks_are_cached_per_thread)
{
	long before = free_pages_now();
	char *p = kmalloc(64 << 10, GFP_KERNEL), *q, *r;
	void *first;
	pthread_t th;

	q = kmalloc(64 << 10, GFP_KERNEL);              /* one of the batch p came with */
	first = q;
	kfree(q);
	cr_assert_eq(kmem_current->large_count, LARGE_CACHE_BATCH);
	r = kmalloc(32 << 10, GFP_KERNEL);              /* 8 pages: not the same count */
	cr_assert_neq(r, first);
	q = kmalloc((32 << 10) + 1, GFP_KERNEL);        /* 16 pages: the block just freed */
	cr_assert_eq(q, first);
	cr_assert_eq(ksize(q), 64 << 10);
	memset(q, 0xcc, 64 << 10);
	kfree(q);
	q = kzalloc(64 << 10, GFP_KERNEL);              /* cached but cleared */
	cr_assert_eq(q, first);
	cr_assert(all_zero(q, 64 << 10));
	kfree(q);
	kfree(r);
	kfree(p);
	cached_large = kmalloc(64 << 10, GFP_KERNEL);
	expect_death(free_cached_large_twice, NULL, "double free of a 16-page block");
	kfree(cached_large);
	cr_assert_eq(pthread_create(&th, NULL, churn_large, NULL), 0);
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_assert_eq(free_pages_now(), before, "thread exit or the drain left pages behind");
	cr_assert_eq(kmem_current->large_count, 0);
}

/* ---- the large cache's limit, batches and drains -------------------------- */

enum { ROUND = 100, BLOCK = 64 << 10 };         /* 100 blocks of 16 pages */

/* The fixed benchmark's pattern: a burst of mallocs, then of frees. */
static void large_round_of(void **p, int n)
{
	for (int i = 0; i < n; i++) {
		p[i] = kmalloc(BLOCK, GFP_KERNEL);
		cr_assert_not_null(p[i]);
		memset(p[i], i, 64);
	}
	for (int i = 0; i < n; i++)
		kfree(p[i]);
}

static void large_round(void **p)
{
	large_round_of(p, ROUND);
}

/* Free bursts allocated back grow high to hold the whole burst, within
 * large_high_max; then the bursts cost the zones nothing. */
Test(kmalloc, large_cache_high_grows_to_hold_a_recycled_burst)
{
	struct kmem_thread *t;
	void *p[ROUND];
	long free_before;

	large_round(p);
	t = kmem_current;
	cr_assert_leq(t->large_count, LARGE_CACHE_HIGH_MIN, "high grew without an allocation back");
	for (int r = 0; r < 4; r++)
		large_round(p);
	cr_assert_geq(t->large_high, ROUND * 16, "high %u", t->large_high);
	cr_assert_leq(t->large_high, LARGE_CACHE_HIGH_MAX);
	cr_assert_eq(t->large_count, ROUND * 16);
	free_before = global_free_pages();
	large_round(p);
	cr_assert_eq(global_free_pages(), free_before, "a recycled burst went to the zones");
	cr_assert_eq(kmem_check_all(), 0);
}

/* large_high_max: an eighth of the zone over its node's CPUs, so a small
 * zone (KMEM_LIMIT=128M here) bounds the growth below LARGE_CACHE_HIGH_MAX. */
Test(kmalloc, large_cache_high_is_bounded_by_the_zone)
{
	enum { BIG = 4 * ROUND };
	void *p[BIG];
	struct zone *zone;
	unsigned long max;
	int cpus;

	for (int r = 0; r < 6; r++)
		large_round_of(p, BIG);
	zone = page_zone(virt_to_page(p[0]));
	cpus = kmem_topology.node_nr_cpus[zone->node];
	max = MAX(MIN(zone->managed_pages / 8 / (unsigned long)MAX(cpus, 1),
		      (unsigned long)LARGE_CACHE_HIGH_MAX), (unsigned long)LARGE_CACHE_HIGH_MIN);
	cr_assert_lt(max, BIG * 16UL);
	cr_assert_eq(kmem_current->large_high, max, "high %u, max %lu", kmem_current->large_high, max);
	cr_assert_leq(kmem_current->large_count, kmem_current->large_high);
}

/* With KMEM_DECAY_MS=0 every slow path decays high by 1/8 towards the
 * minimum, and what is cached above it goes back at once. */
Test(kmalloc, large_cache_high_decays)
{
	struct kmem_thread *t;
	void *p[ROUND], *q;
	unsigned int high;

	for (int r = 0; r < 5; r++)
		large_round(p);
	t = kmem_current;
	high = t->large_high;
	cr_assert_gt(high, LARGE_CACHE_HIGH_MIN);
	kmem_config.decay_ms = 0;
	for (int i = 0; i < 64; i++) {
		q = kmalloc(12 << 10, GFP_KERNEL);      /* 3 pages: never cached yet, a miss */
		kfree(q);
		kmalloc_large_drain_local();
		for (int j = 0; j < 3; j++)
			p[j] = kmalloc(BLOCK, GFP_KERNEL);
		for (int j = 0; j < 3; j++)
			kfree(p[j]);
		cr_assert_leq(t->large_count, t->large_high);
	}
	cr_assert_eq(t->large_high, LARGE_CACHE_HIGH_MIN, "high %u (was %u)", t->large_high, high);
}

/* Misses of order 4 fetch a batch under one zone lock; the batch's blocks
 * are cached, zero but for their link word, and a second free of one is
 * still caught. */
static void *batch_block;

static void free_batch_block_twice(void *arg)
{
	kfree(batch_block);
	kfree(batch_block);
}

Test(kmalloc, large_cache_misses_fetch_a_batch)
{
	unsigned long refills;
	struct zone *zone;
	char *p, *q;

	p = kmalloc(BLOCK, GFP_KERNEL);
	cr_assert_eq(kmem_current->large_count, LARGE_CACHE_BATCH, "batch of %u pages",
		     kmem_current->large_count);
	zone = page_zone(virt_to_page(p));
	refills = zone->ev.pgalloc;
	q = kzalloc(BLOCK, GFP_KERNEL);
	cr_assert_eq(zone->ev.pgalloc, refills, "a batched block came from the zone");
	cr_assert(all_zero(q, BLOCK));
	cr_assert_eq(ksize(q), BLOCK);
	batch_block = kmalloc(BLOCK, GFP_KERNEL);
	expect_death(free_batch_block_twice, NULL, "double free of a 16-page block");
	kfree(batch_block);
	kfree(q);
	kfree(p);
	cr_assert_eq(kmem_check_all(), 0);
}

/* The shrinker empties the caller's cache at once and has every other
 * thread empty its own at its next large request or free. */
struct shrink_worker {
	pthread_barrier_t cached, shrunk;
	unsigned int count_after;
};

static void *shrink_worker_fn(void *arg)
{
	struct shrink_worker *w = arg;
	void *p[ROUND], *q;

	for (int r = 0; r < 4; r++)
		large_round(p);
	pthread_barrier_wait(&w->cached);
	pthread_barrier_wait(&w->shrunk);
	q = kmalloc(BLOCK, GFP_KERNEL);
	kfree(q);
	w->count_after = kmem_current->large_count;
	return NULL;
}

Test(kmalloc, large_cache_shrinker_reaches_every_thread)
{
	struct shrink_worker w;
	pthread_t th;
	void *p[ROUND];
	unsigned long pages;

	pthread_barrier_init(&w.cached, NULL, 2);
	pthread_barrier_init(&w.shrunk, NULL, 2);
	cr_assert_eq(pthread_create(&th, NULL, shrink_worker_fn, &w), 0);
	for (int r = 0; r < 4; r++)
		large_round(p);
	pages = kmem_current->large_count;
	cr_assert_gt(pages, LARGE_CACHE_HIGH_MIN);
	pthread_barrier_wait(&w.cached);
	cr_assert_eq(kmalloc_large_shrink(GFP_KERNEL), pages);
	cr_assert_eq(kmem_current->large_count, 0);
	cr_assert_eq(kmem_current->large_high, 0, "the shrinker kept the tuning");
	pthread_barrier_wait(&w.shrunk);
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_assert_leq(w.count_after, 16, "the other thread kept %u pages", w.count_after);
}

/* Cached blocks show in meminfo (LargeCached, not MemUsed) and in the
 * usage totals (free, not KmallocLarge); malloc_trim's drain and thread
 * exit take them back. */
static long report_field(void (*show)(int), const char *name)
{
	char buf[8192], *at;
	FILE *f = tmpfile();
	size_t n;

	cr_assert_not_null(f);
	show(fileno(f));
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	at = strstr(buf, name);
	cr_assert_not_null(at, "no %s in the report", name);
	return strtol(at + strlen(name), NULL, 10);
}

static void *cache_and_exit(void *arg)
{
	void *p[ROUND];

	for (int r = 0; r < 3; r++)
		large_round(p);
	*(unsigned int *)arg = kmem_current->large_count;
	return NULL;
}

Test(kmalloc, large_cache_shows_in_the_statistics)
{
	struct kmem_usage u;
	long used, cached;
	unsigned int thread_cached = 0;
	pthread_t th;
	void *p, *q;

	p = kmalloc(BLOCK, GFP_KERNEL);         /* a miss: a batch comes with it */
	q = kmalloc(BLOCK, GFP_KERNEL);         /* from the batch */
	kmem_get_usage(&u);
	cr_assert_eq(u.large_bytes, 2 * BLOCK);
	cr_assert_eq(u.large_cached_bytes, (LARGE_CACHE_BATCH - 16) * PAGE_SIZE);
	used = report_field(kmem_show_meminfo, "MemUsed:");
	cached = report_field(kmem_show_meminfo, "LargeCached:");
	cr_assert_eq(cached, (LARGE_CACHE_BATCH - 16) * 4);
	kfree(q);
	kmem_get_usage(&u);
	cr_assert_eq(u.large_bytes, BLOCK);
	cr_assert_eq(u.large_cached_bytes, LARGE_CACHE_BATCH * PAGE_SIZE);
	cr_assert_eq(report_field(kmem_show_meminfo, "LargeCached:"), cached + 64);
	cr_assert_eq(report_field(kmem_show_meminfo, "MemUsed:"), used - 64,
		     "a cached block still counts as used");
	kfree(p);
	kmalloc_large_drain_local();
	cr_assert_eq(report_field(kmem_show_meminfo, "LargeCached:"), 0);
	cr_assert_eq(pthread_create(&th, NULL, cache_and_exit, &thread_cached), 0);
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_assert_gt(thread_cached, LARGE_CACHE_HIGH_MIN);
	kmem_get_usage(&u);
	cr_assert_eq(u.large_cached_bytes, 0, "thread exit left its cache");
	cr_assert_eq(u.large_bytes, 0, "thread exit lost its byte count");
}
