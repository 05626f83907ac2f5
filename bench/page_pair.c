/*
 * page_pair - cost of one order-0 alloc+free pair in kmem's page
 * allocator, through the per-thread lists and straight through the zone.
 *
 * Usage: page_pair pcp|zone ITERATIONS
 * Prints nanoseconds per pair.  Under callgrind, run it with two iteration
 * counts and divide the difference in instructions by the difference in
 * iterations: that removes start-up (see bench/page-costs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "internal.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 10000000;
	bool zone_path = argc > 1 && !strcmp(argv[1], "zone");
	struct zone *zone;
	double t0, t1;

	if (kmem_init())
		return 1;
	/* warm up: bring a section online and fill the lists */
	__free_pages(alloc_pages(GFP_KERNEL, 0), 0);
	zone = page_zone(alloc_pages(GFP_KERNEL, 0));
	t0 = now();
	if (zone_path) {
		for (long i = 0; i < n; i++) {
			struct page *p = alloc_pages_zone(zone, 0, MIGRATE_UNMOVABLE, ALLOC_WMARK_LOW);

			free_pages_prepare(p, 0);
			free_one_page(zone, p, page_to_pfn(p), 0);
		}
	} else {
		for (long i = 0; i < n; i++)
			__free_pages(alloc_pages(GFP_KERNEL, 0), 0);
	}
	t1 = now();
	printf("%s: %.1f ns per order-0 alloc+free pair\n", zone_path ? "zone" : "pcp",
	       (t1 - t0) * 1e9 / (double)n);
	return 0;
}
