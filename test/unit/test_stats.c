/*
 * test_stats.c - the reports KMEM_STATS and malloc_stats print reflect the
 * real state: slabinfo's active objects move by exactly what was
 * allocated, usage totals follow large and vmalloc blocks, and the at-exit
 * report covers every section.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "helpers.h"
#include "slab.h"

static void setup(void)
{
	kmem_test_init("KMEM_LIMIT=256M", "KMEM_HUGEPAGES=off", NULL);
}

TestSuite(stats, .init = setup);

/* Run show(fd) into a memfd and return its text (static buffer). */
static const char *capture(void (*show)(int))
{
	static char text[1 << 20];
	int fd = memfd_create("report", 0);
	ssize_t n;

	cr_assert(fd >= 0);
	show(fd);
	n = pread(fd, text, sizeof(text) - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	close(fd);
	return text;
}

/* active_objs and num_objs of one cache in slabinfo 2.1 text. */
static void slabinfo_cache(const char *text, const char *name, unsigned long *active,
			   unsigned long *total)
{
	char pattern[64];
	const char *line;

	snprintf(pattern, sizeof(pattern), "\n%s ", name);
	line = strstr(text, pattern);
	cr_assert_not_null(line, "no %s line in:\n%s", name, text);
	cr_assert_eq(sscanf(line + strlen(pattern), "%lu %lu", active, total), 2);
}

Test(stats, slabinfo_counts_exactly_what_is_allocated)
{
	unsigned long a0, t0, a1, t1, a2, t2;
	void *objs[1000];
	const char *text = capture(kmem_show_slabinfo);

	cr_assert(strncmp(text, "slabinfo - version: 2.1\n# name            <active_objs>", 54) == 0);
	slabinfo_cache(text, "kmalloc-112", &a0, &t0);
	for (int i = 0; i < 1000; i++)
		objs[i] = kmalloc(100, GFP_KERNEL);
	slabinfo_cache(capture(kmem_show_slabinfo), "kmalloc-112", &a1, &t1);
	cr_assert_eq(a1, a0 + 1000, "active %lu -> %lu", a0, a1);
	/* 36 objects per 4 KiB slab */
	cr_assert_geq(t1, 1000);
	cr_assert_eq(t1 % 36, 0);
	for (int i = 0; i < 1000; i++)
		kfree(objs[i]);
	slabinfo_cache(capture(kmem_show_slabinfo), "kmalloc-112", &a2, &t2);
	cr_assert_eq(a2, a0, "after freeing: %lu, before: %lu", a2, a0);
}

Test(stats, usage_follows_large_and_vmalloc_blocks)
{
	struct kmem_usage u0, u1, u2;
	void *large, *huge;

	kmem_get_usage(&u0);
	large = kmalloc(100000, GFP_KERNEL);            /* an order-5 block: 32 pages */
	huge = kmalloc(10 << 20, GFP_KERNEL);           /* vmalloc area */
	kmem_get_usage(&u1);
	cr_assert_eq(u1.large_bytes - u0.large_bytes, 32 * 4096);
	cr_assert_eq(u1.vmalloc_bytes - u0.vmalloc_bytes, 10 << 20);
	cr_assert_eq(u1.vmalloc_allocs - u0.vmalloc_allocs, 1);
	cr_assert_eq(u1.used_bytes - u0.used_bytes, 32 * 4096 + (10 << 20));
	kfree(large);
	kfree(huge);
	kmem_get_usage(&u2);
	cr_assert_eq(u2.used_bytes, u0.used_bytes);
	cr_assert_eq(u2.large_bytes, u0.large_bytes);
}

Test(stats, full_report_has_every_section)
{
	const char *text = capture(kmem_show_stats);
	const char *sections[] = { "== kmem: buddyinfo ==\nNode 0, zone      DMA ",
				   "== kmem: pagetypeinfo ==\nPage block order: 9",
				   "== kmem: slabinfo ==\nslabinfo - version: 2.1",
				   "== kmem: zoneinfo ==\nNode 0, zone      DMA",
				   "== kmem: meminfo ==\nMemTotal:", "\nSlab:", "\nHeapInUse:" };

	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		cr_assert_not_null(strstr(text, sections[i]), "missing \"%s\"", sections[i]);
}
