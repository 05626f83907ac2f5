/*
 * test_vmstat.c - the reports (buddyinfo, pagetypeinfo, zoneinfo,
 * meminfo) show the real state, in the kernel's formats.
 *
 * A known workload on a 64 MiB single-node arena (1node tree, 4 KiB
 * backing): node 0 has DMA [0, 4096) and DMA32 [4096, 16384).
 *
 *   DMA, alloc_pages_zone without watermarks:
 *     order 0, 3, 5 Unmovable  -> section 0 online as Unmovable;
 *                                 free 1024-1-8-32 = 983 = orders {0,1,2,4,6,7,8,9}
 *     order 0 Movable          -> claims the free pageblock 1 (pfns 512-1023,
 *                                 the order-9 block) whole; free {0..8} Movable
 *     order 2 Reclaimable      -> claims pageblock 0 (471 of 512 free, the
 *                                 largest fallback is its order-8 block);
 *                                 free {0,1,4,6,7,8} Reclaimable, none Unmovable
 *                                 (mm/page_alloc.c: __rmqueue_claim: claim
 *                                 before new memory, so one section online)
 *   DMA32, alloc_pages(GFP_KERNEL, 0):
 *     this thread, one page    -> pcp refill of batch 3 (section 4 online as
 *                                 Unmovable), 2 pages left on the list
 *     a helper thread, 2 pages -> another refill of 3, 1 left on its list
 *                                 buddy: 1024-6 = 1018 = orders {1,3..9}
 *
 * Zone numbers from the kernel's formulas (mm/page_alloc.c), worked out
 * by hand: lowmem 16384 pages = 65536 kB, min_free_kbytes =
 * sqrt(65536*16) = 1024, pages_min 256; DMA min 256*4096/16384 = 64,
 * low 64+max(16,4) = 80, high 96; DMA32 min 192, low 192+max(48,12) =
 * 240, high 288.  lowmem_reserve: DMA (0, 12288/256 = 48, 48, 48, 48),
 * DMA32 all 0.  pcp batch (zone_batchsize): DMA (4096>>10)/4 = 1 ->
 * 2^0 - 1 = 0 -> 1; DMA32 12/4 = 3 -> 4-1 = 3.  pcp high: 2 batches
 * (kmem's, per thread): DMA 2; DMA32 6.
 */
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "helpers.h"

#define NORD NR_PAGE_ORDERS

static struct zone *dma, *dma32;

/* ---- capturing reports ------------------------------------------------ */

static char *capture(void (*show)(int))
{
	int fd = memfd_create("kmem-report", 0);
	off_t len;
	char *buf;

	cr_assert(fd >= 0);
	show(fd);
	len = lseek(fd, 0, SEEK_END);
	cr_assert(len > 0, "empty report");
	buf = malloc((size_t)len + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(pread(fd, buf, (size_t)len, 0), len);
	buf[len] = '\0';
	close(fd);
	return buf;
}

/* A whole /proc file, or NULL when it cannot be read. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t cap = 1 << 16, len = 0, n;
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(cap);
	cr_assert_not_null(buf);
	while ((n = fread(buf + len, 1, cap - 1 - len, f)) > 0) {
		len += n;
		if (len == cap - 1) {
			cap *= 2;
			buf = realloc(buf, cap);
			cr_assert_not_null(buf);
		}
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* ---- the kernel's line formats (mm/vmstat.c, fs/proc/meminfo.c) ------- */

static size_t fmt_buddyinfo(char *out, size_t size, int nid, const char *zone,
			    const unsigned long *nr, int nord)
{
	size_t len = (size_t)snprintf(out, size, "Node %d, zone %8s ", nid, zone);

	for (int o = 0; o < nord; o++)
		len += (size_t)snprintf(out + len, size - len, "%6lu ", nr[o]);
	len += (size_t)snprintf(out + len, size - len, "\n");
	return len;
}

static size_t fmt_pagetype_free(char *out, size_t size, int nid, const char *zone,
				const char *type, const unsigned long *nr, int nord)
{
	size_t len = (size_t)snprintf(out, size, "Node %4d, zone %8s, type %12s ", nid, zone, type);

	for (int o = 0; o < nord; o++)
		len += (size_t)snprintf(out + len, size - len, "%6lu ", nr[o]);
	len += (size_t)snprintf(out + len, size - len, "\n");
	return len;
}

static size_t fmt_blocks(char *out, size_t size, int nid, const char *zone,
			 const unsigned long *count, int ntypes)
{
	size_t len = (size_t)snprintf(out, size, "Node %d, zone %8s ", nid, zone);

	for (int t = 0; t < ntypes; t++)
		len += (size_t)snprintf(out + len, size - len, "%12lu ", count[t]);
	len += (size_t)snprintf(out + len, size - len, "\n");
	return len;
}

/* Parse "Node N, zone NAME n0 n1 ..." (buddyinfo); returns the count of numbers. */
static int parse_buddyinfo_line(const char *line, int *nid, char *zone, unsigned long *nr, int max)
{
	int pos = 0, k = 0;

	if (sscanf(line, "Node %d, zone %31s%n", nid, zone, &pos) != 2)
		return -1;
	for (const char *p = line + pos;;) {
		char *end;
		unsigned long v = strtoul(p, &end, 10);

		if (end == p || k == max)
			break;
		nr[k++] = v;
		p = end;
	}
	return k;
}

/* Each line of the real /proc/buddyinfo is reproduced by fmt_buddyinfo. */
static void check_buddyinfo_format_against_kernel(void)
{
	char *real = slurp("/proc/buddyinfo");
	int lines = 0;

	if (!real || !real[0]) {
		cr_log_warn("no /proc/buddyinfo: format not compared with the kernel");
		free(real);
		return;
	}
	for (char *line = real, *nl; *line; line = nl + 1) {
		char zone[32], again[512];
		unsigned long nr[32];
		int nid, n;

		nl = strchr(line, '\n');
		cr_assert_not_null(nl);
		*nl = '\0';
		n = parse_buddyinfo_line(line, &nid, zone, nr, 32);
		cr_assert_gt(n, 0, "cannot parse /proc/buddyinfo line \"%s\"", line);
		fmt_buddyinfo(again, sizeof(again), nid, zone, nr, n);
		again[strlen(again) - 1] = '\0';
		cr_assert_str_eq(again, line, "the kernel's buddyinfo line is not \"Node %%d, zone %%8s \" + \"%%6lu \" per order");
		lines++;
	}
	cr_assert_gt(lines, 0);
	free(real);
}

/* ---- workload ---------------------------------------------------------- */

static struct page *wl_dma[5];
static const unsigned int wl_dma_order[5] = { 0, 3, 5, 0, 2 };
static struct page *wl_main;

struct helper {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stage;                      /* 1: allocated, 2: may exit */
	pid_t tid;
	struct page *pages[2];
};

static struct helper helper = {
	.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER,
};
static pthread_t helper_thread;

static void *helper_fn(void *arg)
{
	struct helper *h = arg;

	h->tid = gettid();
	h->pages[0] = alloc_pages(GFP_KERNEL, 0);
	h->pages[1] = alloc_pages(GFP_KERNEL, 0);
	pthread_mutex_lock(&h->lock);
	h->stage = 1;
	pthread_cond_broadcast(&h->cond);
	while (h->stage < 2)
		pthread_cond_wait(&h->cond, &h->lock);
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

static void helper_start(void)
{
	cr_assert_eq(pthread_create(&helper_thread, NULL, helper_fn, &helper), 0);
	pthread_mutex_lock(&helper.lock);
	while (helper.stage < 1)
		pthread_cond_wait(&helper.cond, &helper.lock);
	pthread_mutex_unlock(&helper.lock);
	cr_assert_not_null(helper.pages[0]);
	cr_assert_not_null(helper.pages[1]);
}

static void helper_stop(void)
{
	pthread_mutex_lock(&helper.lock);
	helper.stage = 2;
	pthread_cond_broadcast(&helper.cond);
	pthread_mutex_unlock(&helper.lock);
	cr_assert_eq(pthread_join(helper_thread, NULL), 0);
}

/* extra: one more option, or NULL */
static void vm_init_with(const char *hugepages, const char *extra)
{
	char root[600], hp[64];

	snprintf(root, sizeof(root), "KMEM_SYSFS_ROOT=%s", test_sysfs("1node"));
	snprintf(hp, sizeof(hp), "KMEM_HUGEPAGES=%s", hugepages);
	kmem_test_init(root, "KMEM_LIMIT=64M", hp, "KMEM_PCP_RAMP=0", extra, NULL);
	dma = kmem_zone(0, ZONE_DMA);
	dma32 = kmem_zone(0, ZONE_DMA32);
	cr_assert_eq(dma->managed_pages, 4096);
	cr_assert_eq(dma32->managed_pages, 12288);
}

static void vm_init(const char *hugepages)
{
	vm_init_with(hugepages, NULL);
}

static void workload(void)
{
	static const int mt[5] = { MIGRATE_UNMOVABLE, MIGRATE_UNMOVABLE, MIGRATE_UNMOVABLE,
				   MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE };

	for (int i = 0; i < 5; i++) {
		wl_dma[i] = alloc_pages_zone(dma, wl_dma_order[i], mt[i], ALLOC_NO_WATERMARKS);
		cr_assert_not_null(wl_dma[i]);
	}
	wl_main = alloc_pages(GFP_KERNEL, 0);
	cr_assert_not_null(wl_main);
	cr_assert_eq(page_zone(wl_main), dma32);
	helper_start();
}

/* Expected free blocks, per zone, type and order (see the top comment). */
static const unsigned long exp_dma[MIGRATE_TYPES][NORD] = {
	[MIGRATE_MOVABLE]     = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0 },
	[MIGRATE_RECLAIMABLE] = { 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 0 },
};
static const unsigned long exp_dma32[MIGRATE_TYPES][NORD] = {
	[MIGRATE_UNMOVABLE]   = { 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0 },
};

static void sum_types(const unsigned long t[MIGRATE_TYPES][NORD], unsigned long *nr)
{
	for (int o = 0; o < NORD; o++)
		nr[o] = t[0][o] + t[1][o] + t[2][o];
}

static unsigned long pages_of(const unsigned long *nr)
{
	unsigned long n = 0;

	for (int o = 0; o < NORD; o++)
		n += nr[o] << o;
	return n;
}

/* ---- buddyinfo --------------------------------------------------------- */

Test(vmstat, buddyinfo_format_matches_the_kernel)
{
	check_buddyinfo_format_against_kernel();
}

Test(vmstat, buddyinfo_shows_nr_free_of_each_order)
{
	unsigned long nr_dma[NORD], nr_dma32[NORD];
	char want[1024];
	size_t len;
	char *got;

	vm_init("off");
	cr_assert_eq(NORD, 11, "the expectations below are for orders 0..10");
	workload();
	sum_types(exp_dma, nr_dma);
	sum_types(exp_dma32, nr_dma32);
	cr_assert_eq(pages_of(nr_dma), 1024 - 41 - 1 - 4);
	cr_assert_eq(pages_of(nr_dma32), 1024 - 6);

	/* The zones hold what the workload implies... */
	for (int o = 0; o < NORD; o++) {
		cr_assert_eq(dma->free_area[o].nr_free, nr_dma[o], "DMA order %d", o);
		cr_assert_eq(dma32->free_area[o].nr_free, nr_dma32[o], "DMA32 order %d", o);
	}
	/* ... and the report says exactly that, one line per populated zone. */
	len = fmt_buddyinfo(want, sizeof(want), 0, "DMA", nr_dma, NORD);
	fmt_buddyinfo(want + len, sizeof(want) - len, 0, "DMA32", nr_dma32, NORD);
	got = capture(kmem_show_buddyinfo);
	cr_assert_str_eq(got, want, "buddyinfo:\n%s\nwant:\n%s", got, want);
	free(got);

	/* Freeing changes it: the order-5 block (pfns 32-63, above pcp
	 * orders, so straight to the zone) goes back and cannot merge: its
	 * buddy 0-31 holds the allocated order-0 and order-3 blocks. */
	__free_pages(wl_dma[2], 5);
	nr_dma[5]++;
	len = fmt_buddyinfo(want, sizeof(want), 0, "DMA", nr_dma, NORD);
	fmt_buddyinfo(want + len, sizeof(want) - len, 0, "DMA32", nr_dma32, NORD);
	got = capture(kmem_show_buddyinfo);
	cr_assert_str_eq(got, want, "after a free:\n%s\nwant:\n%s", got, want);
	free(got);
	helper_stop();
}

Test(vmstat, buddyinfo_every_node)
{
	char root[600], want[2048];
	unsigned long nr[NORD] = { 0 };
	size_t len = 0;
	char *got;
	struct page *p;

	snprintf(root, sizeof(root), "KMEM_SYSFS_ROOT=%s", test_sysfs("2node"));
	kmem_test_init(root, "KMEM_LIMIT=64M", "KMEM_HUGEPAGES=off", NULL);
	/* Nothing online: every count 0, but each populated zone has its line. */
	len += fmt_buddyinfo(want + len, sizeof(want) - len, 0, "DMA", nr, NORD);
	len += fmt_buddyinfo(want + len, sizeof(want) - len, 0, "DMA32", nr, NORD);
	fmt_buddyinfo(want + len, sizeof(want) - len, 1, "DMA32", nr, NORD);
	got = capture(kmem_show_buddyinfo);
	cr_assert_str_eq(got, want, "buddyinfo:\n%s\nwant:\n%s", got, want);
	free(got);

	/* An order-9 block from node 1: one order-9 block left there. */
	p = alloc_pages_zone(kmem_zone(1, ZONE_DMA32), 9, MIGRATE_MOVABLE, ALLOC_NO_WATERMARKS);
	cr_assert_not_null(p);
	len = 0;
	len += fmt_buddyinfo(want + len, sizeof(want) - len, 0, "DMA", nr, NORD);
	len += fmt_buddyinfo(want + len, sizeof(want) - len, 0, "DMA32", nr, NORD);
	nr[9] = 1;
	fmt_buddyinfo(want + len, sizeof(want) - len, 1, "DMA32", nr, NORD);
	got = capture(kmem_show_buddyinfo);
	cr_assert_str_eq(got, want, "buddyinfo:\n%s\nwant:\n%s", got, want);
	free(got);
}

/* ---- pagetypeinfo ------------------------------------------------------ */

static const char *const type_names[MIGRATE_TYPES] = { "Unmovable", "Movable", "Reclaimable" };

/* Header lines of the real /proc/pagetypeinfo (root only) against ours. */
static void check_pagetypeinfo_format_against_kernel(const char *ours)
{
	char *real = slurp("/proc/pagetypeinfo");
	char line[512];

	if (!real || !real[0]) {
		cr_log_warn("cannot read /proc/pagetypeinfo: format not compared with the kernel");
		free(real);
		return;
	}
	/* The first three lines and the order header are the same text
	 * when the kernel has the same pageblock order and orders. */
	const char *hdr = strstr(real, "Free pages count per migrate type at order");
	const char *ours_hdr = strstr(ours, "Free pages count per migrate type at order");

	cr_assert_not_null(hdr);
	cr_assert_not_null(ours_hdr);
	if (strncmp(real, "Page block order: 9\n", 20) == 0 &&
	    strstr(hdr, "     10 \n") && !strstr(hdr, "     11 \n")) {
		cr_assert_eq(strncmp(real, ours, (size_t)(ours_hdr - ours)), 0,
			     "pageblock lines differ from the kernel's:\n%.*s", (int)(ours_hdr - ours), real);
		cr_assert_eq(strncmp(hdr, ours_hdr, strcspn(hdr, "\n") + 1), 0,
			     "order header differs from the kernel's:\n%.*s", (int)strcspn(hdr, "\n"), hdr);
	}
	/* Free-count lines: reformatting reproduces each of the kernel's. */
	for (const char *p = strstr(real, "\nNode "); p; p = strstr(p + 1, "\nNode ")) {
		int nid, pos = 0, k = 0;
		char zone[32], type[32];
		unsigned long nr[32];

		snprintf(line, sizeof(line), "%.*s", (int)strcspn(p + 1, "\n"), p + 1);
		/* Counts of 100000 and more print as ">100000": not reproducible. */
		if (!strstr(line, ", type ") || strchr(line, '>'))
			continue;
		cr_assert_eq(sscanf(line, "Node %d, zone %31[^,], type %31s%n", &nid, zone, type, &pos), 3,
			     "%s", line);
		for (const char *q = line + pos;;) {
			char *end;
			unsigned long v = strtoul(q, &end, 10);

			if (end == q || k == 32)
				break;
			nr[k++] = v;
			q = end;
		}
		char z[32], again[512];

		sscanf(zone, "%31s", z);
		fmt_pagetype_free(again, sizeof(again), nid, z, type, nr, k);
		again[strlen(again) - 1] = '\0';
		cr_assert_str_eq(again, line);
	}
	/* Block header: the kernel's first three types are ours, in order. */
	const char *blk = strstr(real, "Number of blocks type ");
	const char *ours_blk = strstr(ours, "Number of blocks type ");

	cr_assert_not_null(blk);
	cr_assert_not_null(ours_blk);
	cr_assert_eq(strncmp(blk, ours_blk, 23 + 3 * 13), 0,
		     "block header differs:\n kernel %.*s\n ours   %.*s",
		     (int)strcspn(blk, "\n"), blk, (int)strcspn(ours_blk, "\n"), ours_blk);
	/* Block count lines: reformatted with all the kernel's columns. */
	for (const char *p = strchr(blk, '\n'); p && !strncmp(p + 1, "Node ", 5); p = strchr(p + 1, '\n')) {
		int nid, pos = 0, k = 0;
		char zone[32], again[512];
		unsigned long c[16];

		snprintf(line, sizeof(line), "%.*s", (int)strcspn(p + 1, "\n"), p + 1);
		cr_assert_eq(sscanf(line, "Node %d, zone %31s%n", &nid, zone, &pos), 2, "%s", line);
		for (const char *q = line + pos;;) {
			char *end;
			unsigned long v = strtoul(q, &end, 10);

			if (end == q || k == 16)
				break;
			c[k++] = v;
			q = end;
		}
		fmt_blocks(again, sizeof(again), nid, zone, c, k);
		again[strlen(again) - 1] = '\0';
		cr_assert_str_eq(again, line);
	}
	free(real);
}

Test(vmstat, pagetypeinfo_free_lists_and_blocks)
{
	struct free_area_snapshot s_dma, s_dma32;
	static char want[8192];
	size_t len = 0;
	char *got;
	/* Blocks online: DMA section 0, pageblock 0 claimed by Reclaimable,
	 * 1 by Movable; DMA32 section 4 Unmovable. */
	const unsigned long blocks_dma[MIGRATE_TYPES] = { 0, 1, 1 };
	const unsigned long blocks_dma32[MIGRATE_TYPES] = { 2, 0, 0 };

	vm_init("off");
	workload();

	/* The lists hold what the workload implies. */
	snapshot_free_area(dma, &s_dma);
	snapshot_free_area(dma32, &s_dma32);
	for (int o = 0; o < NORD; o++)
		for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
			cr_assert_eq(s_dma.per_type[o][mt], exp_dma[mt][o], "DMA %s order %d",
				     type_names[mt], o);
			cr_assert_eq(s_dma32.per_type[o][mt], exp_dma32[mt][o], "DMA32 %s order %d",
				     type_names[mt], o);
		}

	len += (size_t)snprintf(want + len, sizeof(want) - len,
				"Page block order: 9\nPages per block:  512\n\n");
	len += (size_t)snprintf(want + len, sizeof(want) - len, "%-43s ",
				"Free pages count per migrate type at order");
	for (int o = 0; o < NORD; o++)
		len += (size_t)snprintf(want + len, sizeof(want) - len, "%6d ", o);
	len += (size_t)snprintf(want + len, sizeof(want) - len, "\n");
	for (int mt = 0; mt < MIGRATE_TYPES; mt++)
		len += fmt_pagetype_free(want + len, sizeof(want) - len, 0, "DMA", type_names[mt],
					 exp_dma[mt], NORD);
	for (int mt = 0; mt < MIGRATE_TYPES; mt++)
		len += fmt_pagetype_free(want + len, sizeof(want) - len, 0, "DMA32", type_names[mt],
					 exp_dma32[mt], NORD);
	len += (size_t)snprintf(want + len, sizeof(want) - len, "\n%-23s", "Number of blocks type ");
	for (int mt = 0; mt < MIGRATE_TYPES; mt++)
		len += (size_t)snprintf(want + len, sizeof(want) - len, "%12s ", type_names[mt]);
	len += (size_t)snprintf(want + len, sizeof(want) - len, "\n");
	len += fmt_blocks(want + len, sizeof(want) - len, 0, "DMA", blocks_dma, MIGRATE_TYPES);
	fmt_blocks(want + len, sizeof(want) - len, 0, "DMA32", blocks_dma32, MIGRATE_TYPES);

	got = capture(kmem_show_pagetypeinfo);
	cr_assert_str_eq(got, want, "pagetypeinfo:\n%s\nwant:\n%s", got, want);
	check_pagetypeinfo_format_against_kernel(got);
	free(got);
	helper_stop();
}

/*
 * Stealing changes a pageblock's type and the report follows: with DMA
 * fully online and only Movable blocks left, an Unmovable order-9 request
 * falls back to the largest Movable block, an order-10 one, and claims it
 * whole (mm/page_alloc.c: try_to_claim_block, current_order >=
 * pageblock_order): both its pageblocks turn Unmovable, its other half
 * stays free on the Unmovable order-9 list.
 */
Test(vmstat, pagetypeinfo_follows_a_stolen_pageblock)
{
	char line[256];
	const unsigned long blocks[MIGRATE_TYPES] = { 2, 6, 0 };
	const unsigned long unmovable[NORD] = { [9] = 1 };
	const unsigned long movable[NORD] = { [10] = 3 };
	struct page *p;
	char *got;

	vm_init("off");
	zone_online_all(dma);           /* 4 sections, 8 Movable pageblocks */
	p = alloc_pages_zone(dma, pageblock_order, MIGRATE_UNMOVABLE, ALLOC_NO_WATERMARKS);
	cr_assert_not_null(p);
	got = capture(kmem_show_pagetypeinfo);
	fmt_blocks(line, sizeof(line), 0, "DMA", blocks, MIGRATE_TYPES);
	cr_assert_not_null(strstr(got, line), "want the line\n%s\nin\n%s", line, got);
	fmt_pagetype_free(line, sizeof(line), 0, "DMA", "Unmovable", unmovable, NORD);
	cr_assert_not_null(strstr(got, line), "want the line\n%s\nin\n%s", line, got);
	fmt_pagetype_free(line, sizeof(line), 0, "DMA", "Movable", movable, NORD);
	cr_assert_not_null(strstr(got, line), "want the line\n%s\nin\n%s", line, got);
	free(got);
}

/* ---- zoneinfo ---------------------------------------------------------- */

/* The block of zoneinfo for one zone: from its header to the next. */
static char *zone_block(const char *report, int nid, const char *zone)
{
	char hdr[64];
	const char *start, *end;

	snprintf(hdr, sizeof(hdr), "Node %d, zone %8s\n", nid, zone);
	start = strstr(report, hdr);
	cr_assert(start == report || (start && start[-1] == '\n'),
		  "no zoneinfo block \"%s\" in\n%s", hdr, report);
	end = strstr(start + 1, "\nNode ");
	end = end ? end + 1 : start + strlen(start);
	return strndup(start, (size_t)(end - start));
}

static unsigned long zone_stat(const char *block, const char *name)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "\n      %-12s ", name);
	p = strstr(block, key);
	cr_assert_not_null(p, "no \"%s\" line in\n%s", name, block);
	return strtoul(p + strlen(key), NULL, 10);
}

/* The kernel prints these line prefixes in /proc/zoneinfo too. */
static void check_zoneinfo_format_against_kernel(void)
{
	static const char *const lines[] = {
		"^Node [0-9]+, zone +[A-Za-z0-9]+$",
		"^  pages free     [0-9]+$",
		"^        boost    [0-9]+$",
		"^        min      [0-9]+$",
		"^        low      [0-9]+$",
		"^        high     [0-9]+$",
		"^        spanned  [0-9]+$",
		"^        present  [0-9]+$",
		"^        managed  [0-9]+$",
		"^        cma      [0-9]+$",
		"^        protection: \\([0-9]+(, [0-9]+)*\\)$",
		"^      nr_free_pages [0-9]+$",
		"^  pagesets$",
		"^  node_unreclaimable:  [0-9]+$",
		"^  start_pfn:           [0-9]+$",
	};
	char *real = slurp("/proc/zoneinfo");

	if (!real || !real[0]) {
		cr_log_warn("no /proc/zoneinfo: format not compared with the kernel");
		free(real);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		regex_t re;

		cr_assert_eq(regcomp(&re, lines[i], REG_EXTENDED | REG_NEWLINE | REG_NOSUB), 0);
		cr_assert_eq(regexec(&re, real, 0, NULL, 0), 0,
			     "the kernel's /proc/zoneinfo has no line matching %s", lines[i]);
		regfree(&re);
	}
	free(real);
}

struct zone_exp {
	const char *name;
	long free;
	unsigned long min, low, high, spanned, start_pfn;
	long protection[MAX_NR_ZONES];
	unsigned long online, pgalloc, sections, pcp_refill;
	int pcp_high, pcp_batch;
};

static void check_zone_block(const char *report, const struct zone_exp *e)
{
	char *b = zone_block(report, 0, e->name);
	char want[1024];

	/* The kernel's header lines, byte for byte. */
	snprintf(want, sizeof(want),
		 "Node 0, zone %8s"
		 "\n  pages free     %ld"
		 "\n        boost    0"
		 "\n        min      %lu"
		 "\n        low      %lu"
		 "\n        high     %lu"
		 "\n        spanned  %lu"
		 "\n        present  %lu"
		 "\n        managed  %lu"
		 "\n        cma      0"
		 "\n        protection: (%ld, %ld, %ld, %ld, %ld)\n",
		 e->name, e->free, e->min, e->low, e->high, e->spanned, e->spanned, e->spanned,
		 e->protection[0], e->protection[1], e->protection[2], e->protection[3],
		 e->protection[4]);
	cr_assert_eq(strncmp(b, want, strlen(want)), 0, "zoneinfo:\n%s\nwant:\n%s", b, want);
	cr_assert_eq(zone_stat(b, "nr_free_pages"), (unsigned long)e->free);
	cr_assert_eq(zone_stat(b, "nr_online"), e->online);
	cr_assert_eq(zone_stat(b, "pgalloc"), e->pgalloc);
	cr_assert_eq(zone_stat(b, "pgfree"), 0);
	cr_assert_eq(zone_stat(b, "sections_online"), e->sections);
	cr_assert_eq(zone_stat(b, "pcp_refill"), e->pcp_refill);
	cr_assert_eq(zone_stat(b, "nr_released"), 0);
	snprintf(want, sizeof(want), "\n  node_unreclaimable:  0\n  start_pfn:           %lu\n",
		 e->start_pfn);
	cr_assert_not_null(strstr(b, want), "zoneinfo:\n%s\nlacks\n%s", b, want);
	cr_assert_eq(strcmp(b + strlen(b) - strlen(want), want), 0, "block must end with start_pfn");
	free(b);
}

/* The pageset of each thread in tids[] (with its count), and no other. */
static void check_pagesets(const char *report, const char *zone, const pid_t *tids,
			   const int *counts, int n, int high, int batch)
{
	char *b = zone_block(report, 0, zone);
	char want[256];
	int listed = 0;

	cr_assert_not_null(strstr(b, "\n  pagesets\n"), "%s", b);
	for (const char *p = b; (p = strstr(p, "\n    thread: ")); p++)
		listed++;
	cr_assert_eq(listed, n, "%s: %d pagesets listed, want %d:\n%s", zone, listed, n, b);
	for (int i = 0; i < n; i++) {
		snprintf(want, sizeof(want),
			 "\n    thread: %d"
			 "\n              count: %d"
			 "\n              high:  %d"
			 "\n              batch: %d\n",
			 (int)tids[i], counts[i], high, batch);
		cr_assert_not_null(strstr(b, want), "%s: no pageset\n%s\nin\n%s", zone, want, b);
	}
	free(b);
}

Test(vmstat, zoneinfo_values_and_pagesets)
{
	const struct zone_exp e_dma = {
		"DMA", 4096 - 41 - 1 - 4, 64, 80, 96, 4096, 0, { 0, 48, 48, 48, 48 },
		1024, 46, 1, 0, 2, 1,
	};
	const struct zone_exp e_dma32 = {
		"DMA32", 12288 - 6, 192, 240, 288, 12288, 4096, { 0, 0, 0, 0, 0 },
		1024, 6, 1, 2, 6, 3,
	};
	pid_t tids[2];
	int counts[2];
	char *got;

	check_zoneinfo_format_against_kernel();
	vm_init("off");
	workload();
	tids[0] = gettid();
	tids[1] = helper.tid;
	got = capture(kmem_show_zoneinfo);
	/* Exactly two zones, DMA then DMA32. */
	cr_assert_eq(strncmp(got, "Node 0, zone      DMA\n", 22), 0, "%s", got);
	cr_assert_null(strstr(got, "zone   Normal"));
	check_zone_block(got, &e_dma);
	check_zone_block(got, &e_dma32);
	counts[0] = 0, counts[1] = 0;
	check_pagesets(got, "DMA", tids, counts, 2, e_dma.pcp_high, e_dma.pcp_batch);
	counts[0] = 2, counts[1] = 1;
	check_pagesets(got, "DMA32", tids, counts, 2, e_dma32.pcp_high, e_dma32.pcp_batch);
	free(got);

	/* The helper exits: its pageset goes, its one page goes back. */
	helper_stop();
	got = capture(kmem_show_zoneinfo);
	counts[0] = 2;
	check_pagesets(got, "DMA32", tids, counts, 1, 6, 3);
	{
		char *b = zone_block(got, 0, "DMA32");
		char want[64];

		snprintf(want, sizeof(want), "\n  pages free     %d\n", 12288 - 6 + 1);
		cr_assert_not_null(strstr(b, want), "%s", b);
		cr_assert_eq(zone_stat(b, "pgfree"), 1);
		free(b);
	}
	free(got);
}

/*
 * Many live threads: the report runs past one 4 KiB output buffer and
 * must still list every thread's pageset once, with its own count.
 * Thread i takes i % 3 + 1 pages of DMA32 (refills of 3): 2, 1 or 0 left.
 * The sizes are set (3 and 6: DMA32's own, and DMA's lists get them
 * too), so that 49 threads do not share out the zones' sizes (pcp.c),
 * which would depend on how many had started at each refill.
 */
#define NR_WORKERS 48

static long meminfo_field(const char *report, const char *name, const char *unit);

struct worker {
	pthread_barrier_t *ready, *done;
	int nr;
	pid_t tid;
	struct page *pages[3];
};

static void *worker_fn(void *arg)
{
	struct worker *w = arg;

	w->tid = gettid();
	for (int i = 0; i < w->nr; i++)
		w->pages[i] = alloc_pages(GFP_KERNEL, 0);
	pthread_barrier_wait(w->ready);
	pthread_barrier_wait(w->done);
	return NULL;
}

Test(vmstat, zoneinfo_many_threads)
{
	static struct worker w[NR_WORKERS];
	pthread_t th[NR_WORKERS];
	pthread_barrier_t ready, done;
	pid_t tids[NR_WORKERS];
	int counts[NR_WORKERS], zero[NR_WORKERS] = { 0 };
	long pcp = 0;
	char *got;

	vm_init_with("off", "KMEM_PCP_BATCH=3");
	cr_assert_eq(dma32->pcp_batch, 3);
	cr_assert_eq(dma32->pcp_high, 6);
	pthread_barrier_init(&ready, NULL, NR_WORKERS + 1);
	pthread_barrier_init(&done, NULL, NR_WORKERS + 1);
	for (int i = 0; i < NR_WORKERS; i++) {
		w[i] = (struct worker){ &ready, &done, i % 3 + 1, 0, { NULL } };
		cr_assert_eq(pthread_create(&th[i], NULL, worker_fn, &w[i]), 0);
	}
	pthread_barrier_wait(&ready);
	for (int i = 0; i < NR_WORKERS; i++) {
		for (int k = 0; k < w[i].nr; k++)
			cr_assert_not_null(w[i].pages[k]);
		tids[i] = w[i].tid;
		counts[i] = (3 - w[i].nr) % 3;
		pcp += counts[i];
	}
	got = capture(kmem_show_zoneinfo);
	cr_assert_gt(strlen(got), 8192, "the report should outgrow the output buffer");
	check_pagesets(got, "DMA32", tids, counts, NR_WORKERS, 6, 3);
	check_pagesets(got, "DMA", tids, zero, NR_WORKERS, 6, 3);
	{
		char *b = zone_block(got, 0, "DMA32");

		/* 48 refills of 3 pages, one section online. */
		cr_assert_eq(zone_stat(b, "pcp_refill"), NR_WORKERS);
		cr_assert_eq(zone_stat(b, "nr_free_pages"), 12288 - 3 * NR_WORKERS);
		free(b);
	}
	free(got);
	got = capture(kmem_show_meminfo);
	cr_assert_eq(meminfo_field(got, "PcpFree:", "kB"), pcp * 4);
	cr_assert_eq(meminfo_field(got, "MemUsed:", "kB"), (3 * NR_WORKERS - pcp) * 4);
	free(got);
	pthread_barrier_wait(&done);
	for (int i = 0; i < NR_WORKERS; i++)
		cr_assert_eq(pthread_join(th[i], NULL), 0);
	/* All gone: no pagesets left, their pages back in the zone. */
	got = capture(kmem_show_zoneinfo);
	cr_assert_null(strstr(got, "\n    thread: "), "%s", got);
	cr_assert(strstr(got, "\n  pagesets\n  node_unreclaimable:  0\n"), "%s", got);
	free(got);
	got = capture(kmem_show_meminfo);
	cr_assert_eq(meminfo_field(got, "PcpFree:", "kB"), 0);
	cr_assert_eq(meminfo_field(got, "MemFree:", "kB"), (16384 - (3 * NR_WORKERS - pcp)) * 4);
	free(got);
}

/* ---- meminfo ----------------------------------------------------------- */

static long meminfo_field(const char *report, const char *name, const char *unit)
{
	char key[64];
	const char *p;
	long v;
	char tail[8] = "";

	snprintf(key, sizeof(key), "%-16s", name);
	p = strstr(report, key);
	cr_assert(p && (p == report || p[-1] == '\n'), "no %s line in\n%s", name, report);
	v = strtol(p + 16, NULL, 10);
	/* The value is right-aligned in 8 columns, then the unit. */
	char line[64];

	snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
	if (unit[0]) {
		snprintf(tail, sizeof(tail), " %s", unit);
		cr_assert_eq(strlen(line), 16 + MAX(8, snprintf(NULL, 0, "%ld", v)) + strlen(tail),
			     "\"%s\"", line);
		cr_assert_str_eq(line + strlen(line) - strlen(tail), tail);
	} else {
		cr_assert_eq(strlen(line), 16 + (size_t)MAX(8, snprintf(NULL, 0, "%ld", v)), "\"%s\"", line);
	}
	return v;
}

/* The kernel's "%-16s%8lu kB" (show_val_kb) reproduces /proc/meminfo. */
static void check_meminfo_format_against_kernel(void)
{
	char *real = slurp("/proc/meminfo");
	unsigned long kb;
	char again[64];

	if (!real) {
		cr_log_warn("no /proc/meminfo: format not compared with the kernel");
		return;
	}
	cr_assert_eq(sscanf(real, "MemTotal: %lu kB", &kb), 1);
	snprintf(again, sizeof(again), "%-16s%8lu kB\n", "MemTotal:", kb);
	cr_assert_eq(strncmp(real, again, strlen(again)), 0, "kernel: %.*s, ours: %s",
		     (int)strcspn(real, "\n"), real, again);
	free(real);
}

static void check_meminfo(const char *got, enum section_backing backing)
{
	/* Sections online: DMA 0, DMA32 4. */
	const long online = 2 * 1024, allocated = 41 + 1 + 4 + 1 + 2, pcp = 3;
	const long free_pages = 16384 - allocated - pcp;

	cr_assert_eq(meminfo_field(got, "MemTotal:", "kB"), 16384 * 4);
	cr_assert_eq(meminfo_field(got, "MemFree:", "kB"), free_pages * 4);
	cr_assert_eq(meminfo_field(got, "MemUsed:", "kB"), allocated * 4);
	cr_assert_eq(meminfo_field(got, "PcpFree:", "kB"), pcp * 4);
	cr_assert_eq(meminfo_field(got, "ArenaOnline:", "kB"), online * 4);
	cr_assert_eq(meminfo_field(got, "ArenaResident:", "kB"), online * 4);
	cr_assert_eq(meminfo_field(got, "ArenaReleased:", "kB"), 0);
	cr_assert_eq(meminfo_field(got, "MemMap:", "kB"), (long)(2 * 1024 * sizeof(struct page) / 1024),
		     "2 sections of 1024 descriptors");
	cr_assert_eq(meminfo_field(got, "HugetlbBacked:", "kB"), 0);
	cr_assert_eq(meminfo_field(got, "ThpBacked:", "kB"), backing == BACKING_THP ? 2 * 4096 : 0);
	cr_assert_eq(meminfo_field(got, "SmallBacked:", "kB"), backing == BACKING_4K ? 2 * 4096 : 0);
	cr_assert_eq(meminfo_field(got, "HugetlbFallback:", ""), 0);
	cr_assert_eq(meminfo_field(got, "MbindOk:", "") + meminfo_field(got, "MbindFailed:", ""), 2,
		     "every online section was bound or refused");
	/* The same numbers, from the zones and arena_stats. */
	cr_assert_eq((long)(dma->managed_pages + dma32->managed_pages) * 4,
		     meminfo_field(got, "MemTotal:", "kB"));
	cr_assert_eq((zone_page_state(dma) + zone_page_state(dma32)) * 4,
		     meminfo_field(got, "MemFree:", "kB"));
	cr_assert_eq((long)(dma->online_pages + dma32->online_pages) * 4,
		     meminfo_field(got, "ArenaOnline:", "kB"));
	cr_assert_eq((long)(arena_stats.mem_map_bytes >> 10), meminfo_field(got, "MemMap:", "kB"));
	cr_assert_eq((long)arena_stats.sections[BACKING_THP] * 4096, meminfo_field(got, "ThpBacked:", "kB"));
	cr_assert_eq((long)arena_stats.sections[BACKING_4K] * 4096, meminfo_field(got, "SmallBacked:", "kB"));
	cr_assert_eq((long)NODE_DATA(0)->mbind_ok, meminfo_field(got, "MbindOk:", ""));
	cr_assert_eq((long)NODE_DATA(0)->mbind_failed, meminfo_field(got, "MbindFailed:", ""));
}

Test(vmstat, meminfo_small_pages)
{
	char *got;

	check_meminfo_format_against_kernel();
	vm_init("off");
	workload();
	got = capture(kmem_show_meminfo);
	/* The first line, byte for byte. */
	cr_assert_eq(strncmp(got, "MemTotal:          65536 kB\n", 28), 0, "%s", got);
	check_meminfo(got, BACKING_4K);
	free(got);
	helper_stop();
}

Test(vmstat, meminfo_thp)
{
	enum section_backing want = access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0
				    ? BACKING_THP : BACKING_4K;
	char *got;

	vm_init("thp");
	workload();
	got = capture(kmem_show_meminfo);
	check_meminfo(got, want);
	free(got);
	helper_stop();
}

/* After kmem_reclaim the free pageblocks are given back and meminfo
 * says how much. */
Test(vmstat, meminfo_after_reclaim)
{
	char *got;
	size_t bytes;
	unsigned long released = 0;

	vm_init("off");
	workload();
	helper_stop();
	drain_all_pages();
	bytes = kmem_reclaim();
	/* Free blocks of order >= 9 after the workload: none in DMA (both
	 * pageblocks of section 0 are in use), one order-9 in DMA32. */
	released = 512;
	cr_assert_eq(bytes, released * PAGE_SIZE, "kmem_reclaim gave back %zu bytes", bytes);
	got = capture(kmem_show_meminfo);
	cr_assert_eq(meminfo_field(got, "ArenaReleased:", "kB"), (long)released * 4);
	cr_assert_eq(meminfo_field(got, "ArenaResident:", "kB"), (2 * 1024 - (long)released) * 4);
	cr_assert_eq(meminfo_field(got, "ArenaOnline:", "kB"), 2 * 1024 * 4);
	/* Released pages still count as free. */
	cr_assert_eq(meminfo_field(got, "MemFree:", "kB"), (16384 - 49) * 4);
	cr_assert_eq(meminfo_field(got, "PcpFree:", "kB"), 0);
	free(got);
}
