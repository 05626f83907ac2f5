/*
 * test_badpage.c - misuse of the page allocator stops the program with the
 * kernel's "BUG: Bad page state" report, naming pfn, order and flags, and
 * impossible requests fail cleanly.  Each death runs in a child (see
 * expect_death) so its message can be checked.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "helpers.h"

static void setup(void)
{
	kmem_test_init("KMEM_LIMIT=64M", "KMEM_HUGEPAGES=off", NULL);
}

TestSuite(badpage, .init = setup);

static void double_free_order0(void *arg)
{
	struct page *p = alloc_pages(GFP_KERNEL, 0);

	__free_pages(p, 0);
	__free_pages(p, 0);     /* sits on this thread's pcp list */
}

static void double_free_buddy(void *arg)
{
	struct page *p = alloc_pages(GFP_KERNEL, 5);

	__free_pages(p, 5);
	__free_pages(p, 5);     /* back on a zone free list */
}

static void free_interior_page(void *arg)
{
	struct page *p = alloc_pages(GFP_KERNEL, 2);

	__free_pages(p + 1, 0);
}

static void free_wrong_order(void *arg)
{
	struct page *p = alloc_pages(GFP_KERNEL, 2);

	__free_pages(p, 3);
}

static void free_pages_outside_arena(void *arg)
{
	static char not_ours[2 * 4096] __attribute__((aligned(4096)));

	free_pages((unsigned long)not_ours, 0);
}

static void free_pages_unaligned(void *arg)
{
	unsigned long addr = __get_free_pages(GFP_KERNEL, 0);

	free_pages(addr + 8, 0);
}

static void free_bogus_struct_page(void *arg)
{
	__free_pages((struct page *)((char *)pfn_to_page(0) - 4096), 0);
}

static void free_never_allocated(void *arg)
{
	struct page *p = alloc_pages(GFP_KERNEL, 0);

	/* a page inside one of the free blocks the split left behind */
	__free_pages(p + 9, 0);
}

static void free_exact_twice(void *arg)
{
	void *v = alloc_pages_exact(3 * 4096, GFP_KERNEL);

	free_pages_exact(v, 3 * 4096);
	free_pages_exact(v, 3 * 4096);
}

Test(badpage, double_free_on_pcp_list)
{
	expect_death(double_free_order0, NULL, "page already free (on a per-thread list)");
	expect_death(double_free_order0, NULL, "kmem: BUG: Bad page state in process");
}

Test(badpage, double_free_on_buddy_list)
{
	expect_death(double_free_buddy, NULL, "page already free (on a zone free list)");
	expect_death(double_free_buddy, NULL, "(freed as order 5)");
}

Test(badpage, interior_page)
{
	expect_death(free_interior_page, NULL, "not the head of an allocated block");
}

Test(badpage, wrong_order)
{
	expect_death(free_wrong_order, NULL, "freed with a different order than allocated");
	expect_death(free_wrong_order, NULL, "order:2 (freed as order 3)");
	expect_death(free_wrong_order, NULL, "flags: 0x");
}

Test(badpage, outside_the_arena)
{
	expect_death(free_pages_outside_arena, NULL,
		     "free_pages() of an address that is not a page kmem handed out");
	expect_death(free_pages_unaligned, NULL, "kmem: BUG: Bad page state");
	expect_death(free_bogus_struct_page, NULL, "__free_pages()");
}

Test(badpage, free_page_inside_a_free_block)
{
	expect_death(free_never_allocated, NULL, "kmem: BUG: Bad page state");
}

Test(badpage, exact_pages_twice)
{
	expect_death(free_exact_twice, NULL, "page already free");
}

Test(badpage, order_above_max_order_fails_with_warning)
{
	struct stderr_capture cap;
	char out[512];

	stderr_capture_begin(&cap);
	errno = 0;
	cr_assert_null(alloc_pages(GFP_KERNEL, MAX_ORDER + 1));
	cr_assert_eq(errno, ENOMEM);
	errno = 0;
	cr_assert_null(alloc_pages(GFP_KERNEL | __GFP_NOWARN, 40));
	cr_assert_eq(errno, ENOMEM);
	cr_assert_eq(__get_free_pages(GFP_KERNEL | __GFP_NOWARN, 11), 0);
	cr_assert_null(alloc_pages_exact((4UL << 20) + 1, GFP_KERNEL | __GFP_NOWARN));
	cr_assert_eq(errno, ENOMEM);
	stderr_capture_end(&cap, out, sizeof(out));
	/* exactly one warning: the request without __GFP_NOWARN */
	cr_assert_str_eq(out, "kmem: alloc_pages: order 11 is above MAX_ORDER 10\n");
}

Test(badpage, offline_node_is_refused)
{
	errno = 0;
	cr_assert_null(alloc_pages_node(7, GFP_KERNEL | __GFP_NOWARN, 0));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(alloc_pages_node(-5, GFP_KERNEL | __GFP_NOWARN, 0));
	cr_assert_null(alloc_pages_node(MAX_NUMNODES + 3, GFP_KERNEL | __GFP_NOWARN, 0));
}

Test(badpage, null_is_ignored)
{
	__free_pages(NULL, 0);
	free_pages(0, 3);
	free_pages_exact(NULL, 4096);
	cr_assert_eq(kmem_check_all(), 0);
}
