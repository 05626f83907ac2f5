/*
 * test_malloc.c - the interposer's semantics and errors, through its
 * kmem_-prefixed build (malloc_test.c): what glibc programs depend on,
 * errno on every impossible request, and the death of a bad free.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <string.h>
#include "helpers.h"
#include "slab.h"
#include "vmalloc.h"

void *kmem_malloc(size_t);
void kmem_free(void *);
void *kmem_calloc(size_t, size_t);
void *kmem_realloc(void *, size_t);
void *kmem_reallocarray(void *, size_t, size_t);
void *kmem_memalign(size_t, size_t);
void *kmem_aligned_alloc(size_t, size_t);
int kmem_posix_memalign(void **, size_t, size_t);
void *kmem_valloc(size_t);
void *kmem_pvalloc(size_t);
size_t kmem_malloc_usable_size(void *);
struct mallinfo2 kmem_mallinfo2(void);
int kmem_malloc_trim(size_t);
int kmem_mallopt(int, int);
void kmem_free_sized(void *, size_t);

static void setup(void)
{
	kmem_test_init("KMEM_LIMIT=512M", "KMEM_HUGEPAGES=off", NULL);
}

TestSuite(malloc, .init = setup);

Test(malloc, zero_size_gives_unique_pointers)
{
	void *a = kmem_malloc(0), *b = kmem_malloc(0);

	cr_assert_not_null(a);
	cr_assert_not_null(b);
	cr_assert_neq(a, b);
	kmem_free(a);
	kmem_free(b);
	cr_assert_eq(kmem_malloc_usable_size(NULL), 0);
	kmem_free(NULL);
}

Test(malloc, alignment_is_16_and_usable_size_holds)
{
	for (size_t size = 1; size <= 20000; size += (size < 300 ? 1 : 97)) {
		char *p = kmem_malloc(size);

		cr_assert_not_null(p);
		cr_assert_eq((uintptr_t)p % (size <= 8 ? 8 : 16), 0, "size %zu at %p", size, p);
		cr_assert_geq(kmem_malloc_usable_size(p), size);
		memset(p, 0xab, kmem_malloc_usable_size(p));
		kmem_free(p);
	}
}

/*
 * malloc_usable_size is the size class, whether the object starts in its
 * slab's head page (the fast path) or in a later page (__ksize).
 */
Test(malloc, usable_size_is_the_class_size_in_every_page_of_a_slab)
{
	kmem_config.slob_min = 0;       /* slab classes, not medium blocks */
	for (unsigned int i = 0; i < KMALLOC_NR_CACHES; i++) {
		unsigned int size = kmalloc_sizes[i];
		void *p[64];
		int head = 0, tail = 0;

		for (int k = 0; k < 64; k++) {
			p[k] = kmem_malloc(size);
			cr_assert_eq(kmem_malloc_usable_size(p[k]), size, "kmalloc-%u", size);
			if (__virt_to_page(p[k])->flags & PG_tail)
				tail++;
			else
				head++;
		}
		cr_assert_gt(head, 0, "kmalloc-%u", size);
		if (compound_head_of(p[0])->slab_cache->order > 0 && size <= 4096)
			cr_assert_gt(tail, 0, "kmalloc-%u: no object in a tail page", size);
		for (int k = 0; k < 64; k++)
			kmem_free(p[k]);
	}
}

/* ---- borrowing (slub.c: malloc_borrow_up) ------------------------------ */

/* Borrowing is between slab classes: each test turns malloc's medium heap
 * (slob.c), which would serve these sizes, off before its first malloc. */

static unsigned int slab_class_of(const void *p)
{
	return compound_head_of(p)->slab_cache->id;
}

/*
 * Leave one free object at hand in class id's active slab, on the owner's
 * own list (its c->freelist is then empty, the case borrowing must still
 * see), and return it.  Each test runs in a fresh process, so every class
 * starts unused.  Borrowing is off meanwhile: the class's first malloc
 * would take another class's object left at hand before.
 */
static void *free_object_at_hand(unsigned int id)
{
	int borrow = kmem_config.malloc_borrow;
	void *a, *b;

	kmem_config.malloc_borrow = 0;
	a = kmem_malloc(kmalloc_sizes[id]);
	b = kmem_malloc(kmalloc_sizes[id]);
	cr_assert_not_null(a);
	cr_assert_not_null(b);
	while (thread_cpu_slab(kmem_current, kmalloc_caches[id])->freelist)
		cr_assert_not_null(kmem_malloc(kmalloc_sizes[id]));
	kmem_free(b);
	kmem_config.malloc_borrow = borrow;
	cr_assert_eq(slab_class_of(b), id);
	return b;
}

/* A class that would grow takes a bigger class's free object instead, and
 * that object stays its own class's: usable size, and back there on free. */
Test(malloc, a_class_about_to_grow_borrows_from_the_next_class_up)
{
	kmem_config.slob_min = 0;       /* slab classes only: see above */
	unsigned int id = kmalloc_index(4000);
	void *b = free_object_at_hand(id + 1);
	void *q = kmem_malloc(4000);

	cr_assert_eq(q, b);
	cr_assert_eq(kmem_malloc_usable_size(q), kmalloc_sizes[id + 1]);
	cr_assert_eq(slab_class_of(q), id + 1);
	cr_assert_eq(kmalloc_caches[id]->slabs_allocated, 0, "class %u grew", kmalloc_sizes[id]);
	kmem_free(q);
	cr_assert_eq(kmem_malloc(kmalloc_sizes[id + 1]), b);
}

/* The same with the class's active slab half carved: borrowing comes
 * before carving its next page. */
Test(malloc, borrowing_comes_before_carving)
{
	kmem_config.slob_min = 0;       /* slab classes only: see above */
	unsigned int id = kmalloc_index(1024);
	void *mine = kmem_malloc(1024);
	struct page *slab = compound_head_of(mine);

	while (thread_cpu_slab(kmem_current, kmalloc_caches[id])->freelist)
		kmem_malloc(1024);
	cr_assert_lt(slab->carved, slab->objects);

	unsigned int carved = slab->carved;
	void *b = free_object_at_hand(id + 3);

	cr_assert_eq(kmem_malloc(1000), b);
	cr_assert_eq(slab->carved, carved);
}

/* The class's own free objects come first; then the nearest class up;
 * nothing beyond kmem_config.malloc_borrow classes up. */
Test(malloc, borrowing_takes_the_nearest_class_within_reach)
{
	kmem_config.slob_min = 0;       /* slab classes only: see above */
	unsigned int id = kmalloc_index(2000);
	void *far = free_object_at_hand(id + 5), *near = free_object_at_hand(id + 2);
	void *own = free_object_at_hand(id);

	cr_assert_eq(kmem_malloc(2000), own);
	cr_assert_eq(kmem_malloc(2000), near);
	cr_assert_eq(kmem_malloc(2000), far);

	void *beyond = free_object_at_hand(id + 1 + (unsigned int)kmem_config.malloc_borrow);
	void *p = kmem_malloc(2000);

	cr_assert_neq(p, beyond);
	cr_assert_eq(slab_class_of(p), id);
}

Test(malloc, no_borrowing_when_turned_off_for_small_classes_or_through_kmalloc)
{
	kmem_config.slob_min = 0;       /* slab classes only: see above */
	unsigned int big = kmalloc_index(4000), small = kmalloc_index(500);
	void *b = free_object_at_hand(big + 1), *s = free_object_at_hand(small + 1);
	void *k = kmalloc(4000, GFP_KERNEL);

	/* kmalloc's object belongs to the cache it asks for */
	cr_assert_eq(slab_class_of(k), big);
	cr_assert_eq(ksize(k), kmalloc_sizes[big]);
	/* classes up to MALLOC_BORROW_MIN are the busy ones: they never borrow */
	cr_assert_neq(kmem_malloc(500), s);
	kmem_config.malloc_borrow = 0;
	cr_assert_neq(kmem_malloc(4000), b);
	kmem_config.malloc_borrow = 6;
	cr_assert_eq(kmem_malloc(4000), b);
}

/* With the medium heap on, a class it serves borrows nothing even once it
 * has gone to its slabs (busy); a class above MALLOC_BORROW_MIN that the
 * heap does not serve (KMEM_SLOB_MIN above it) still borrows. */
Test(malloc, only_classes_the_medium_heap_does_not_serve_borrow)
{
	unsigned int id = kmalloc_index(4000);
	void *b, *q;

	cr_assert_gt(kmem_config.slob_min, 0, "the medium heap is on by default");
	kmem_free(kmem_malloc(16));     /* the thread's state */
	/* busy in the heap's eyes: their mallocs go to the slabs */
	thread_cpu_slab(kmem_current, kmalloc_caches[id])->slob_busy = true;
	thread_cpu_slab(kmem_current, kmalloc_caches[id + 1])->slob_busy = true;
	b = free_object_at_hand(id + 1);
	q = kmem_malloc(4000);
	cr_assert_neq(q, b, "a class the heap serves borrowed");
	cr_assert_eq(slab_class_of(q), id);

	kmem_config.slob_min = 4096;    /* the heap serves from 4097 bytes up */
	b = free_object_at_hand(id + 1);
	while (thread_cpu_slab(kmem_current, kmalloc_caches[id])->freelist)
		cr_assert_not_null(kmem_malloc(4000));
	q = kmem_malloc(4000);
	cr_assert_eq(q, b, "a class below KMEM_SLOB_MIN did not borrow");
}

Test(malloc, realloc_keeps_contents_and_does_not_move_when_it_fits)
{
	unsigned char *p = kmem_malloc(100), *q;
	size_t usable = kmem_malloc_usable_size(p);

	for (int i = 0; i < 100; i++)
		p[i] = (unsigned char)i;
	q = kmem_realloc(p, usable);
	cr_assert_eq(q, p);
	q = kmem_realloc(p, usable / 2 + 1);    /* shrinking by less than half fits too */
	cr_assert_eq(q, p);
	q = kmem_realloc(p, 10);        /* to half or less: a block that fits */
	cr_assert_neq(q, p);
	cr_assert_eq(kmem_malloc_usable_size(q), 16);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(q[i], i);
	p = q;
	q = kmem_realloc(p, 5000);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(q[i], i);
	/* across every path: slab -> large -> vmalloc and back */
	size_t sizes[] = { 20000, 3 << 20, 9 << 20, 64 << 20, 100 };
	memset(q, 0x5c, 5000);
	size_t filled = 5000;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *r = kmem_realloc(q, sizes[i]);
		size_t keep = filled < sizes[i] ? filled : sizes[i];

		cr_assert_not_null(r);
		for (size_t j = 0; j < keep; j += 511)
			cr_assert_eq(r[j], 0x5c, "step %zu byte %zu", i, j);
		memset(r, 0x5c, sizes[i]);
		filled = sizes[i];
		q = r;
	}
	cr_assert_null(kmem_realloc(q, 0));
	q = kmem_realloc(NULL, 33);
	cr_assert_not_null(q);
	kmem_free(q);
}

/*
 * A buffer growing past 128 KiB moves to the vmalloc area, where growing
 * further moves no bytes; once a huge buffer is freed, the next buffer to
 * grow there takes its block, however large, rather than new memory.
 */
Test(malloc, realloc_growth_past_128kib_moves_to_the_vmalloc_area)
{
	unsigned char *p = kmem_malloc(64 << 10), *q, *huge;

	memset(p, 0x33, 64 << 10);
	q = kmem_realloc(p, 128 << 10);
	cr_assert_not(vmalloc_contains(q), "128 KiB still comes from the buddy allocator");
	p = kmem_realloc(q, (128 << 10) + 1);
	cr_assert(vmalloc_contains(p));
	cr_assert_geq(kmem_malloc_usable_size(p), 3 << 16, "half as much again of room");
	for (size_t i = 0; i < (64 << 10); i += 4093)
		cr_assert_eq(p[i], 0x33);
	for (size_t size = 2 << 20; size <= (16 << 20); size *= 2) {
		p = kmem_realloc(p, size);
		cr_assert_not_null(p);
		cr_assert_eq(p[4093], 0x33);
		memset(p + (64 << 10), 0x44, size - (64 << 10));
	}
	huge = p;
	kmem_free(p);
	q = kmem_realloc(kmem_malloc(1 << 20), 2 << 20);
	cr_assert_eq(q, huge, "the freed 16 MiB block is reused by a growing buffer");
	cr_assert_geq(kmem_malloc_usable_size(q), 16 << 20);
	cr_assert_eq(kmem_realloc(q, 16 << 20), q, "and it grows in place");
	kmem_free(q);
}

/*
 * A vmalloc-area block that mremap moved, then grew in place, spans two
 * mappings, which mremap cannot move together: the next move copies, all
 * of the block's usable size.  (It returned NULL with ENOMEM; then the
 * copy lost the bytes past the size last asked of the vmalloc area.)
 */
Test(malloc, realloc_moves_a_block_grown_in_place_after_a_move)
{
	const size_t M = 1 << 20, P = 4096;
	unsigned char *a = kmem_realloc(kmem_malloc(M), 2 * M);
	unsigned char *b = kmem_realloc(kmem_malloc(M), 2 * M);
	unsigned char *c;

	cr_assert(vmalloc_contains(a) && vmalloc_contains(b));
	memset(a, 0x5a, 2 * M);
	cr_assert_gt(b, a);
	cr_assert_lt(b - a, 2 * M + 8 * P, "premise: b's range follows a's");
	unsigned char *moved = kmem_realloc(a, 2 * M + 3 * P);
	cr_assert_neq(moved, a, "premise: a cannot grow in place past b");
	cr_assert_eq(kmem_realloc(moved, 2 * M + 5 * P - 10), moved, "premise: then it grows in place");
	/* the last 10 bytes: in the block already, so realloc returns it as it is */
	cr_assert_eq(kmem_realloc(moved, 2 * M + 5 * P), moved);
	memset(moved + 2 * M, 0x5c, 5 * P);
	c = kmem_realloc(kmem_malloc(M), 3 * M);        /* too big for a's old range */
	cr_assert_gt(c, moved);
	cr_assert_lt(c - moved, 2 * M + 16 * P, "premise: c's range follows the moved block's");
	a = kmem_realloc(moved, 2 * M + 40 * P);
	cr_assert_not_null(a, "errno %d", errno);
	cr_assert_neq(a, moved);
	for (size_t i = 0; i < 2 * M; i += P / 2)
		cr_assert_eq(a[i], 0x5a, "byte %zu", i);
	for (size_t i = 2 * M; i < 2 * M + 5 * P; i++)
		cr_assert_eq(a[i], 0x5c, "byte %zu", i);
	memset(a, 0x5b, 2 * M + 40 * P);
	kmem_free(a);
	kmem_free(b);
	kmem_free(c);
}

/* A mark for byte k of a buffer whose marks start at tag. */
static unsigned char mark(unsigned char tag, size_t k)
{
	return (unsigned char)(tag + k * 7);
}

/* Mark every 509th byte of p[0, n) and its last 64 (to catch a lost tail). */
static void mark_buffer(unsigned char *p, size_t n, unsigned char tag)
{
	for (size_t k = 0; k < n; k += 509)
		p[k] = mark(tag, k);
	for (size_t k = n > 64 ? n - 64 : 0; k < n; k++)
		p[k] = mark(tag, k);
}

/* The marks of a buffer of n bytes that survive in its first keep. */
static void check_buffer(const unsigned char *p, size_t n, size_t keep, unsigned char tag,
			 long step)
{
	for (size_t k = 0; k < keep; k += 509)
		cr_assert_eq(p[k], mark(tag, k), "step %ld: byte %zu of %zu", step, k, n);
	for (size_t k = n > 64 ? n - 64 : 0; k < MIN(n, keep); k++)
		cr_assert_eq(p[k], mark(tag, k), "step %ld: byte %zu of %zu", step, k, n);
}

/*
 * Six buffers reallocated at random between 1 byte and 6 MiB: growing a
 * little, shrinking, jumping anywhere, through every path (slab, large
 * block, vmalloc area; in place, moved by mremap, copied).  Each keeps
 * what it held.  (This found realloc losing the tail of a vmalloc block
 * that had shrunk in place and then moved by copy.)
 */
Test(malloc, random_reallocs_keep_their_contents)
{
	enum { NBUF = 6, STEPS = 6000 };
	unsigned char *buf[NBUF] = { 0 }, tag[NBUF] = { 0 };
	size_t size[NBUF] = { 0 };
	uint64_t r = 88172645463325252ULL;

	for (long step = 0; step < STEPS; step++) {
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		int i = (int)(r % NBUF);
		size_t n;

		switch ((r >> 3) % 3) {
		case 0:
			n = size[i] + (r >> 8) % 8192;
			break;
		case 1:
			n = (r >> 8) % (6 << 20);
			break;
		default:
			n = size[i] ? size[i] - (r >> 8) % size[i] : 1;
		}
		n = n ? n : 1;
		unsigned char *q = kmem_realloc(buf[i], n);

		cr_assert_not_null(q, "step %ld: realloc to %zu, errno %d", step, n, errno);
		check_buffer(q, size[i], MIN(size[i], n), tag[i], step);
		tag[i] = (unsigned char)(r >> 40);
		mark_buffer(q, n, tag[i]);
		buf[i] = q;
		size[i] = n;
	}
	for (int i = 0; i < NBUF; i++)
		kmem_free(buf[i]);
}

Test(malloc, impossible_sizes_fail_with_enomem)
{
	void *p = kmem_malloc(16), *out = (void *)1;

#define EXPECT_ENOMEM(call) do { errno = 0; cr_assert_null(call, #call); \
		cr_assert_eq(errno, ENOMEM, #call ": errno %d", errno); } while (0)
	EXPECT_ENOMEM(kmem_malloc(SIZE_MAX));
	EXPECT_ENOMEM(kmem_malloc(SIZE_MAX / 2 + 1));
	EXPECT_ENOMEM(kmem_calloc(SIZE_MAX / 2, 3));
	EXPECT_ENOMEM(kmem_calloc(1, SIZE_MAX));
	EXPECT_ENOMEM(kmem_realloc(p, SIZE_MAX));
	EXPECT_ENOMEM(kmem_reallocarray(p, SIZE_MAX / 4, 8));
	EXPECT_ENOMEM(kmem_memalign(64, SIZE_MAX - 100));
	EXPECT_ENOMEM(kmem_aligned_alloc(64, SIZE_MAX / 2 + 1));
	EXPECT_ENOMEM(kmem_valloc(SIZE_MAX));
	EXPECT_ENOMEM(kmem_pvalloc(SIZE_MAX - 10));
	/* p survived every failed realloc */
	cr_assert_geq(kmem_malloc_usable_size(p), 16);
	cr_assert_eq(kmem_posix_memalign(&out, 64, SIZE_MAX / 2), ENOMEM);
	cr_assert_eq(out, (void *)1);
	kmem_free(p);
}

Test(malloc, bad_alignments_fail_with_einval)
{
	void *out = (void *)1;

	cr_assert_eq(kmem_posix_memalign(&out, 3, 16), EINVAL);
	cr_assert_eq(kmem_posix_memalign(&out, 4, 16), EINVAL);   /* not a multiple of sizeof(void *) */
	cr_assert_eq(kmem_posix_memalign(&out, 24, 16), EINVAL);
	cr_assert_eq(kmem_posix_memalign(&out, 0, 16), EINVAL);
	cr_assert_eq(out, (void *)1);
	errno = 0;
	cr_assert_null(kmem_aligned_alloc(3, 8));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(kmem_aligned_alloc(0, 8));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(kmem_memalign(SIZE_MAX / 2 + 2, 8));
	cr_assert_eq(errno, EINVAL);
	/* glibc's memalign rounds a non-power-of-two alignment up */
	void *p = kmem_memalign(48, 10);
	cr_assert_not_null(p);
	cr_assert_eq((uintptr_t)p % 64, 0);
	kmem_free(p);
}

Test(malloc, every_alignment_is_honoured)
{
	for (size_t align = 8; align <= (8UL << 20); align <<= 1) {
		size_t sizes[] = { 1, align / 2 + 1, align, align * 3 + 5, 100000 };

		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			void *a = NULL, *b, *c;

			cr_assert_eq(kmem_posix_memalign(&a, align, sizes[i]), 0);
			b = kmem_aligned_alloc(align, sizes[i]);
			c = kmem_memalign(align, sizes[i]);
			cr_assert(a && b && c);
			cr_assert_eq((uintptr_t)a % align, 0, "align %zu size %zu: %p", align, sizes[i], a);
			cr_assert_eq((uintptr_t)b % align, 0);
			cr_assert_eq((uintptr_t)c % align, 0);
			cr_assert_geq(kmem_malloc_usable_size(a), sizes[i]);
			memset(a, 1, sizes[i]);
			kmem_free(a);
			kmem_free(b);
			kmem_free(c);
		}
	}
	void *v = kmem_valloc(10), *pv = kmem_pvalloc(4097), *pz = kmem_pvalloc(0);

	cr_assert_eq((uintptr_t)v % 4096, 0);
	cr_assert_eq((uintptr_t)pv % 4096, 0);
	cr_assert_geq(kmem_malloc_usable_size(pv), 8192);
	cr_assert_geq(kmem_malloc_usable_size(pz), 4096);
	kmem_free(v);
	kmem_free(pv);
	kmem_free(pz);
}

Test(malloc, calloc_zeroes_recycled_memory)
{
	for (int round = 0; round < 4; round++) {
		for (size_t size = 8; size <= (1 << 20); size *= 3) {
			unsigned char *p = kmem_malloc(size);

			memset(p, 0xff, size);
			kmem_free(p);
			p = kmem_calloc(1, size);
			for (size_t i = 0; i < size; i++)
				cr_assert_eq(p[i], 0, "size %zu byte %zu", size, i);
			kmem_free(p);
		}
	}
	unsigned char *z = kmem_calloc(3, 5 << 20);
	for (size_t i = 0; i < (15UL << 20); i += 4096)
		cr_assert_eq(z[i], 0);
	kmem_free(z);
}

/*
 * calloc's fast path takes objects from the thread's freelist: recycled
 * ones, and fresh ones whose slab reads as zero.  Either way the whole
 * usable size reads as zero, as for kzalloc.
 */
Test(malloc, calloc_zeroes_whole_objects_fresh_and_recycled)
{
	enum { N = 300 };
	static const size_t sizes[] = { 8, 24, 100, 500, 1000, 4000, 8192 };
	unsigned char *p[N];

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t size = sizes[k];

		for (int round = 0; round < 2; round++) {
			for (int i = 0; i < N; i++) {
				/* round 0: mostly fresh objects; round 1: the ones dirtied below */
				p[i] = i % 2 ? kmem_calloc(size / 4, 4) : kmem_calloc(1, size);
				cr_assert_not_null(p[i]);
				for (size_t j = 0; j < kmem_malloc_usable_size(p[i]); j++)
					cr_assert_eq(p[i][j], 0, "size %zu round %d object %d byte %zu",
						     size, round, i, j);
			}
			for (int i = 0; i < N; i++) {
				memset(p[i], 0xff, kmem_malloc_usable_size(p[i]));
				kmem_free(p[i]);
			}
		}
	}
}

Test(malloc, mallinfo2_follows_live_allocations)
{
	struct mallinfo2 before = kmem_mallinfo2(), during, after;
	char *p = kmem_malloc(1 << 20), *small[1000];

	memset(p, 1, 1 << 20);
	for (int i = 0; i < 1000; i++)
		small[i] = kmem_malloc(100);
	during = kmem_mallinfo2();
	cr_assert_geq(during.uordblks, before.uordblks + (1 << 20) + 1000 * 100,
		      "before %zu during %zu", before.uordblks, during.uordblks);
	kmem_free(p);
	for (int i = 0; i < 1000; i++)
		kmem_free(small[i]);
	after = kmem_mallinfo2();
	cr_assert_leq(after.uordblks, during.uordblks - (1 << 20) - 1000 * 100 + 4096,
		      "during %zu after %zu", during.uordblks, after.uordblks);
	cr_assert_gt(after.arena, 0);
}

Test(malloc, mallopt_and_trim)
{
	cr_assert_eq(kmem_mallopt(M_MMAP_THRESHOLD, 1 << 20), 1);
	cr_assert_eq(kmem_mallopt(M_ARENA_MAX, 2), 1);
	cr_assert_eq(kmem_mallopt(12345, 1), 0);
	void *p = kmem_malloc(8 << 20);
	kmem_free(p);
	int r = kmem_malloc_trim(0);
	cr_assert(r == 0 || r == 1);
	kmem_free_sized(kmem_malloc(40), 40);
}

static void free_stack_address(void *arg)
{
	char buf[64];

	kmem_free(buf + 16);
}

static void free_interior(void *arg)
{
	char *p = kmem_malloc(100);

	kmem_free(p + 8);
}

static void free_twice(void *arg)
{
	char *p = kmem_malloc(100);

	kmem_free(p);
	kmem_free(p);
}

static void free_large_twice(void *arg)
{
	char *p = kmem_malloc(100000);

	kmem_free(p);
	kmem_free(p);
}

/* An address in the arena whose section never came online: its
 * descriptor reads as zero, so it is no slab, and free says so. */
static void free_offline_section(void *arg)
{
	char *last = arena_base + ((max_pfn - PAGES_PER_SECTION) << PAGE_SHIFT);

	kmem_malloc(16);
	cr_assert(!pfn_section_online(max_pfn - 1));
	kmem_free(last + 64);
}

/* kmalloc-96 slabs are one page of 42 objects: the leftover starts at
 * 42 * 96, a multiple of the object size, and is no object. */
static void free_slab_leftover(void *arg)
{
	char *p = kmem_malloc(96);
	char *slab = (char *)((uintptr_t)p & ~(uintptr_t)(PAGE_SIZE - 1));

	cr_assert_eq(compound_head_of(p)->objects, 42);
	kmem_free(slab + 42 * 96);
}

/* kmalloc-832 slabs are four pages: an object starting in a tail page is
 * freed through the head page, and a pointer inside it is refused. */
static void free_interior_in_tail_page(void *arg)
{
	char *p[32];
	int i;

	kmem_config.slob_min = 0;       /* a slab's tail page, not a medium block */

	for (i = 0; i < 32; i++) {
		p[i] = kmem_malloc(800);
		if (__virt_to_page(p[i])->flags & PG_tail)
			break;
	}
	cr_assert(i < 32, "no object of kmalloc-832 in a tail page");
	kmem_free(p[i]);
	p[i] = kmem_malloc(800);
	kmem_free(p[i] + 16);
}

/* The second copy of the double-free check: an object of one of the
 * thread's partial slabs, not its active slab. */
static void free_twice_in_partial_slab(void *arg)
{
	struct kmem_cache *s = kmalloc_caches[kmalloc_index(200)];
	char *first = kmem_malloc(200), *p;

	/* run through the active slab so that first's slab is not active */
	do
		p = kmem_malloc(200);
	while (compound_head_of(p) == compound_head_of(first));
	kmem_free(kmem_malloc(200));
	kmem_free(first);
	cr_assert_eq(compound_head_of(first)->slab_owner, kmem_current,
		     "first's slab is the thread's (partial) after a free");
	cr_assert_neq(thread_cpu_slab(kmem_current, s)->slab, compound_head_of(first));
	kmem_free(first);
}

/* realloc checks an arena pointer as free does, whichever path takes it */
static void realloc_interior(void *arg)
{
	char *p = kmem_malloc(100);

	kmem_realloc(p + 16, 200);
}

static void realloc_interior_in_tail_page(void *arg)
{
	char *p = NULL;

	kmem_config.slob_min = 0;       /* a slab's tail page, not a medium block */

	/* kmalloc-832 slabs are 4 pages: an object that starts past the first */
	for (int i = 0; i < 32 && !(p && (__virt_to_page(p)->flags & PG_tail)); i++)
		p = kmem_malloc(800);
	cr_assert(__virt_to_page(p)->flags & PG_tail, "no object of kmalloc-832 in a tail page");
	kmem_realloc(p + 32, 700);
}

static void usable_size_interior(void *arg)
{
	char *p = kmem_malloc(100);

	kmem_malloc_usable_size(p + 16);
}

/* a realloc that moved freed the old block: freeing it again is a double free */
static void free_after_realloc_moved(void *arg)
{
	char *p = kmem_malloc(100), *q = kmem_realloc(p, 1000);

	cr_assert_neq(q, p);
	kmem_free(p);
}

static void realloc_foreign(void *arg)
{
	static char buf[64];

	kmem_realloc(buf + 16, 100);
}

Test(malloc, bad_frees_stop_the_program)
{
	expect_death(free_stack_address, NULL, "kmem: free(): invalid pointer 0x");
	expect_death(free_interior, NULL, "not the start of an object of cache kmalloc-112");
	expect_death(free_twice, NULL, "double free");
	expect_death(free_large_twice, NULL, "double free");
	expect_death(realloc_foreign, NULL, "kmem: realloc(): invalid pointer");
	expect_death(realloc_interior, NULL, "realloc(): invalid pointer 0x");
	expect_death(realloc_interior, NULL, "not the start of an object of cache kmalloc-112");
	expect_death(realloc_interior_in_tail_page, NULL,
		     "not the start of an object of cache kmalloc-832");
	expect_death(free_after_realloc_moved, NULL, "double free");
	expect_death(usable_size_interior, NULL,
		     "malloc_usable_size(): invalid pointer");
	expect_death(usable_size_interior, NULL,
		     "not the start of an object of cache kmalloc-112");
}

Test(malloc, bad_frees_the_fast_path_sees)
{
	expect_death(free_offline_section, NULL, "kmem: free(): invalid pointer 0x");
	expect_death(free_slab_leftover, NULL, "kmem: free(): invalid pointer 0x");
	expect_death(free_interior_in_tail_page, NULL,
		     "not the start of an object of cache kmalloc-832");
	expect_death(free_twice_in_partial_slab, NULL, "double free");
}

