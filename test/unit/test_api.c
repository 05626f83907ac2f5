/*
 * test_api.c - the public page-allocator API: conversions, the address
 * based variants, zeroing, exact-size allocations, node requests, and fork
 * with threads alive.
 */
#include <pthread.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helpers.h"

static void setup(void)
{
	kmem_test_init("KMEM_LIMIT=128M", "KMEM_HUGEPAGES=off", "KMEM_DEBUG_VM=1", NULL);
}

TestSuite(api, .init = setup);

Test(api, conversions_round_trip)
{
	for (unsigned int order = 0; order <= MAX_ORDER; order++) {
		struct page *p = alloc_pages(GFP_KERNEL, order);
		char *addr = page_address(p);
		unsigned long pfn = page_to_pfn(p);

		cr_assert_not_null(p);
		cr_assert_eq(pfn_to_page(pfn), p);
		cr_assert_eq(virt_to_page(addr), p);
		cr_assert_eq(virt_to_page(addr + (PAGE_SIZE << order) - 1), p + (1UL << order) - 1);
		cr_assert_eq((uintptr_t)addr % (PAGE_SIZE << order), 0);
		cr_assert(pfn_valid(pfn));
		cr_assert_eq(page_to_nid(p), 0);
		cr_assert_eq(zone_to_nid(page_zone(p)), 0);
		cr_assert_str_eq(zone_name(page_zone(p)), "DMA32");
		cr_assert_eq(zone_idx(page_zone(p)), ZONE_DMA32);
		memset(addr, 0x5a, PAGE_SIZE << order);
		__free_pages(p, order);
	}
	cr_assert_not(pfn_valid(max_pfn));
	cr_assert_eq(sizeof(struct page), 64);
}

Test(api, address_variants)
{
	unsigned long a = __get_free_pages(GFP_KERNEL, 3);
	unsigned long b = __get_free_page(GFP_KERNEL);

	cr_assert_neq(a, 0);
	cr_assert_neq(b, 0);
	cr_assert_eq(a % (8 * PAGE_SIZE), 0);
	memset((void *)a, 1, 8 * PAGE_SIZE);
	free_pages(a, 3);
	free_page(b);
	cr_assert_eq(kmem_check_all(), 0);
}

Test(api, zeroed_pages_are_zero_even_when_recycled)
{
	for (int round = 0; round < 3; round++) {
		for (unsigned int order = 0; order <= 6; order++) {
			struct page *p = alloc_pages(GFP_KERNEL, order);

			memset(page_address(p), 0xff, PAGE_SIZE << order);
			__free_pages(p, order);
			p = alloc_pages(GFP_KERNEL | __GFP_ZERO, order);
			for (size_t i = 0; i < (PAGE_SIZE << order); i++)
				cr_assert_eq(((unsigned char *)page_address(p))[i], 0,
					     "order %u byte %zu", order, i);
			__free_pages(p, order);
		}
	}
	unsigned long z = get_zeroed_page(GFP_KERNEL);
	for (size_t i = 0; i < PAGE_SIZE; i++)
		cr_assert_eq(((unsigned char *)z)[i], 0);
	free_page(z);
}

Test(api, alloc_pages_exact_gives_back_the_tail)
{
	struct zone *zone = kmem_zone(0, ZONE_DMA32);
	long before;
	char *v;

	drain_local_pages();
	before = zone_page_state(zone);
	/* 5 pages come from an order-3 block; 3 go straight back */
	v = alloc_pages_exact(5 * PAGE_SIZE - 100, GFP_KERNEL);
	cr_assert_not_null(v);
	memset(v, 7, 5 * PAGE_SIZE - 100);
	drain_local_pages();
	cr_assert_eq(zone_page_state(zone), before - 5);
	/* each page is now its own block: it can even be freed alone */
	free_pages_exact(v, 5 * PAGE_SIZE - 100);
	drain_local_pages();
	cr_assert_eq(zone_page_state(zone), before);

	/* 2 MiB + 1 page: an order-10 block with the tail freed in big pieces */
	v = alloc_pages_exact((2UL << 20) + PAGE_SIZE, GFP_KERNEL);
	cr_assert_not_null(v);
	drain_local_pages();
	cr_assert_eq(zone_page_state(zone), before - 513);
	free_pages_exact(v, (2UL << 20) + PAGE_SIZE);
	drain_local_pages();
	cr_assert_eq(zone_page_state(zone), before);
	cr_assert_eq(kmem_check_all(), 0);
}

Test(api, node_requests_on_one_node)
{
	struct page *p = alloc_pages_node(0, GFP_KERNEL | __GFP_THISNODE, 0);

	cr_assert_not_null(p);
	cr_assert_eq(page_to_nid(p), 0);
	__free_pages(p, 0);
	cr_assert_eq(kmem_nr_nodes(), 1);
	cr_assert_eq(numa_node_id(), 0);
	cr_assert_eq(node_distance(0, 0), 10);
	void *e = alloc_pages_exact_nid(0, 3 * PAGE_SIZE, GFP_KERNEL);
	cr_assert_not_null(e);
	free_pages_exact(e, 3 * PAGE_SIZE);
}

static volatile int stop_threads;

static void *churn(void *arg)
{
	uint64_t rng = (uintptr_t)arg;

	while (!stop_threads) {
		unsigned int order = (unsigned int)(test_rand(&rng) % 5);
		struct page *p = alloc_pages(GFP_KERNEL, order);

		if (p) {
			memset(page_address(p), 3, PAGE_SIZE);
			__free_pages(p, order);
		}
	}
	return NULL;
}

Test(api, fork_with_threads_alive)
{
	pthread_t t[3];

	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(i + 1));
	for (int round = 0; round < 20; round++) {
		pid_t pid = fork();
		int status;

		cr_assert(pid >= 0);
		if (pid == 0) {
			struct page *pages[NR_PAGE_ORDERS];

			/* The other threads' lists were handed back: the zones add up. */
			if (kmem_check_all())
				_exit(2);
			for (unsigned int o = 0; o <= MAX_ORDER; o++) {
				pages[o] = alloc_pages(GFP_KERNEL, o);
				if (!pages[o])
					_exit(3);
				memset(page_address(pages[o]), 1, PAGE_SIZE << o);
			}
			for (unsigned int o = 0; o <= MAX_ORDER; o++)
				__free_pages(pages[o], o);
			drain_all_pages();
			_exit(kmem_check_all() ? 4 : 0);
		}
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			  "child %d: status %#x", round, status);
	}
	stop_threads = 1;
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
}

static void *exit_holding_pages(void *arg)
{
	for (int i = 0; i < 50; i++) {
		struct page *p = alloc_pages(GFP_KERNEL, (unsigned int)(i % 4));

		__free_pages(p, (unsigned int)(i % 4));
	}
	return NULL;
}

Test(api, thread_exit_returns_pcp_pages)
{
	struct zone *zone = kmem_zone(0, ZONE_DMA32);
	long before;

	__free_pages(alloc_pages(GFP_KERNEL, 0), 0);    /* main thread gets lists too */
	drain_local_pages();
	before = zone_page_state(zone);
	for (int i = 0; i < 64; i++) {
		pthread_t t;

		pthread_create(&t, NULL, exit_holding_pages, NULL);
		pthread_join(t, NULL);
	}
	cr_assert_eq(zone_page_state(zone), before);
	pthread_mutex_lock(&kmem_threads_lock);
	int n = 0;
	struct kmem_thread *t;
	list_for_each_entry(t, &kmem_threads, thread_list)
		n++;
	pthread_mutex_unlock(&kmem_threads_lock);
	cr_assert_eq(n, 1, "%d thread states still listed", n);
}
