/*
 * kmem-pagedemo - drive kmem's page allocator with a mixed workload and
 * show the result the way /proc shows a kernel's: buddyinfo,
 * pagetypeinfo, zoneinfo and meminfo.
 *
 * Usage: kmem-pagedemo [rounds]   (options through KMEM_* variables)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <kmem.h>

#define SLOTS 4096

struct worker {
	unsigned int seed;
	int rounds;
	unsigned long allocated, failed;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	static const gfp_t kinds[] = { GFP_KERNEL, GFP_HIGHUSER_MOVABLE,
				       GFP_KERNEL | __GFP_RECLAIMABLE };
	struct page *slot[SLOTS] = { 0 };
	unsigned int order[SLOTS];

	for (int r = 0; r < w->rounds; r++) {
		int i = rand_r(&w->seed) % SLOTS;

		if (slot[i]) {
			__free_pages(slot[i], order[i]);
			slot[i] = NULL;
			continue;
		}
		/* Mostly single pages, sometimes larger blocks, as a kernel sees. */
		order[i] = rand_r(&w->seed) % 16 == 0 ? rand_r(&w->seed) % 6 : 0;
		slot[i] = alloc_pages(kinds[rand_r(&w->seed) % 3] | __GFP_NOWARN, order[i]);
		if (!slot[i]) {
			w->failed++;
			continue;
		}
		memset(page_address(slot[i]), 0xa5, 64);
		w->allocated++;
	}
	/* Keep half, so the reports show a heap in use. */
	for (int i = 0; i < SLOTS; i += 2)
		if (slot[i])
			__free_pages(slot[i], order[i]);
	return NULL;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 200000;
	struct worker w[2] = { { 1, rounds, 0, 0 }, { 2, rounds, 0, 0 } };
	pthread_t t[2];

	if (kmem_init()) {
		perror("kmem_init");
		return 1;
	}
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, work, &w[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("kmem-pagedemo: 2 threads, %lu blocks allocated, %lu refused, %d node(s)\n\n",
	       w[0].allocated + w[1].allocated, w[0].failed + w[1].failed, kmem_nr_nodes());
	fflush(stdout);
	printf("== buddyinfo ==\n");
	fflush(stdout);
	kmem_show_buddyinfo(1);
	printf("\n== pagetypeinfo ==\n");
	fflush(stdout);
	kmem_show_pagetypeinfo(1);
	printf("\n== meminfo ==\n");
	fflush(stdout);
	kmem_show_meminfo(1);
	printf("\n== zoneinfo ==\n");
	fflush(stdout);
	kmem_show_zoneinfo(1);
	return 0;
}
