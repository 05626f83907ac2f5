/*
 * test_hugepage.c - KMEM_HUGEPAGES: how sections are backed (hugetlb,
 * THP or 4 KiB pages), what arena_stats and section_state record, what
 * the OS says about the mapping (/proc/self/smaps), and that the memory
 * works.
 *
 * Layout used throughout (1node tree, KMEM_LIMIT=64M): node 0 has DMA
 * [0, 4096) = sections 0-3 and DMA32 [4096, 16384) = sections 4-15.
 * GFP_KERNEL tries DMA32 first, so the n-th order-10 allocation brings
 * section 3 + n online.
 *
 * hugetlb and auto depend on the system's hugetlb pool, which one test
 * (hugepage_sys) changes through /proc/sys/vm/nr_hugepages; every check
 * that depends on the pool is in that one test, each kmem configuration
 * in a forked child (kmem comes up once per process), so a concurrent
 * test never sees the pool half-changed by another of these.  The old
 * nr_hugepages is restored at the end and by the test's .fini, which
 * Criterion runs after a failed assertion too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helpers.h"

#define NR_SECTIONS 16                 /* 64 MiB */
#define FIRST_DMA32_SECTION 4
#define SECTION_BYTES (4UL << 20)

static void hp_init(const char *mode)
{
	char root[600], hp[64];

	snprintf(root, sizeof(root), "KMEM_SYSFS_ROOT=%s", test_sysfs("1node"));
	snprintf(hp, sizeof(hp), "KMEM_HUGEPAGES=%s", mode);
	kmem_test_init(root, "KMEM_LIMIT=64M", hp, NULL);
}

/* ---- /proc helpers --------------------------------------------------- */

struct vma_info {
	bool found;
	unsigned long start, end;
	char vmflags[256];              /* "" when the kernel has no VmFlags line */
	long anon_huge_kb;              /* -1: no such line */
	long kernel_page_kb;
};

/* The /proc/self/smaps entry of the mapping that contains addr. */
static struct vma_info smaps_of(const void *addr)
{
	struct vma_info v = { .anon_huge_kb = -1, .kernel_page_kb = -1 };
	unsigned long a = (unsigned long)addr;
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool in = false;

	if (!f)
		return v;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) == 3 && strchr(line, '-') &&
		    line[strspn(line, "0123456789abcdef")] == '-') {
			if (in)
				break;
			in = a >= s && a < e;
			if (in) {
				v.found = true;
				v.start = s;
				v.end = e;
			}
			continue;
		}
		if (!in)
			continue;
		if (!strncmp(line, "VmFlags:", 8)) {
			snprintf(v.vmflags, sizeof(v.vmflags), "%.*s", (int)sizeof(v.vmflags) - 1, line + 8);
			v.vmflags[strcspn(v.vmflags, "\n")] = '\0';
		} else if (!strncmp(line, "AnonHugePages:", 14)) {
			v.anon_huge_kb = strtol(line + 14, NULL, 10);
		} else if (!strncmp(line, "KernelPageSize:", 15)) {
			v.kernel_page_kb = strtol(line + 15, NULL, 10);
		}
	}
	fclose(f);
	return v;
}

/* flag is one of the space-separated words of a VmFlags line. */
static bool has_vmflag(const char *flags, const char *flag)
{
	size_t len = strlen(flag);

	for (const char *p = flags; (p = strstr(p, flag)); p += len)
		if ((p == flags || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
			return true;
	return false;
}

/* A "Name:   value" line of /proc/meminfo; -1 if absent. */
static long meminfo_value(const char *name)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	size_t len = strlen(name);
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ':')
			v = strtol(line + len + 1, NULL, 10);
	fclose(f);
	return v;
}

static bool thp_supported(void)
{
	return access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0;
}

/* ---- shared checks --------------------------------------------------- */

/* n order-10 blocks: sections 4 .. 4 + n - 1 come online, in order. */
static void online_sections(struct page **blocks, int n)
{
	for (int i = 0; i < n; i++) {
		blocks[i] = alloc_pages(GFP_KERNEL, MAX_ORDER);
		cr_assert_not_null(blocks[i], "order-10 block %d", i);
		cr_assert_eq(page_to_pfn(blocks[i]), (unsigned long)(FIRST_DMA32_SECTION + i) << 10,
			     "block %d at pfn %lu", i, page_to_pfn(blocks[i]));
	}
}

/* Fill each block with a pattern depending on address, then read back. */
static bool pattern_works(struct page **blocks, int n)
{
	for (int i = 0; i < n; i++) {
		uint64_t *w = page_address(blocks[i]);

		for (size_t j = 0; j < SECTION_BYTES / 8; j++)
			w[j] = ((uint64_t)(uintptr_t)&w[j] * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)i;
	}
	for (int i = 0; i < n; i++) {
		const uint64_t *w = page_address(blocks[i]);

		for (size_t j = 0; j < SECTION_BYTES / 8; j++)
			if (w[j] != (((uint64_t)(uintptr_t)&w[j] * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)i))
				return false;
	}
	return true;
}

/* Exactly n sections online, all with backing b, at sections 4.. */
static void check_stats(int n, enum section_backing b)
{
	for (int k = 0; k < NR_BACKINGS; k++)
		cr_assert_eq(arena_stats.sections[k], k == b ? (unsigned long)n : 0UL,
			     "arena_stats.sections[%d] = %lu", k, arena_stats.sections[k]);
	for (int s = 0; s < NR_SECTIONS; s++) {
		int want = s >= FIRST_DMA32_SECTION && s < FIRST_DMA32_SECTION + n ? (int)b : BACKING_NONE;

		cr_assert_eq(section_state[s], want, "section_state[%d] = %d, want %d",
			     s, section_state[s], want);
	}
	cr_assert_eq(arena_stats.mem_map_bytes, (unsigned long)n * 1024 * sizeof(struct page));
	cr_assert_eq(arena_stats.hugetlb_fallbacks, 0);
}

/* ---- off and thp ----------------------------------------------------- */

Test(hugepage, off_backs_sections_with_small_pages)
{
	struct page *blocks[3];

	hp_init("off");
	cr_assert_eq(kmem_config.hugepages, HUGEPAGES_OFF);
	check_stats(0, BACKING_4K);
	online_sections(blocks, 3);
	check_stats(3, BACKING_4K);
	cr_assert(pattern_works(blocks, 3));

	for (int i = 0; i < 3; i++) {
		char *addr = page_address(blocks[i]);
		struct vma_info v = smaps_of(addr);

		cr_assert(v.found, "no mapping for %p in /proc/self/smaps", (void *)addr);
		cr_assert(v.start <= (unsigned long)addr &&
			  v.end >= (unsigned long)addr + SECTION_BYTES,
			  "mapping %lx-%lx does not cover section %d", v.start, v.end, i);
		if (v.vmflags[0]) {
			cr_assert(has_vmflag(v.vmflags, "nh"), "no MADV_NOHUGEPAGE: VmFlags:%s", v.vmflags);
			cr_assert_not(has_vmflag(v.vmflags, "hg"), "VmFlags:%s", v.vmflags);
			cr_assert_not(has_vmflag(v.vmflags, "ht"), "VmFlags:%s", v.vmflags);
		} else {
			cr_log_info("smaps has no VmFlags line: MADV_NOHUGEPAGE not checked");
		}
		if (v.anon_huge_kb >= 0)
			cr_assert_eq(v.anon_huge_kb, 0, "AnonHugePages %ld kB in an off section",
				     v.anon_huge_kb);
		if (v.kernel_page_kb >= 0)
			cr_assert_eq(v.kernel_page_kb, 4);
	}
	for (int i = 0; i < 3; i++)
		__free_pages(blocks[i], MAX_ORDER);
}

Test(hugepage, thp_madvises_sections)
{
	struct page *blocks[3];
	enum section_backing want = thp_supported() ? BACKING_THP : BACKING_4K;

	hp_init("thp");
	cr_assert_eq(kmem_config.hugepages, HUGEPAGES_THP);
	if (want != BACKING_THP)
		cr_log_warn("this kernel has no THP: sections must fall back to 4 KiB pages");
	online_sections(blocks, 3);
	check_stats(3, want);
	cr_assert(pattern_works(blocks, 3));

	for (int i = 0; i < 3; i++) {
		char *addr = page_address(blocks[i]);
		struct vma_info v = smaps_of(addr);

		cr_assert(v.found, "no mapping for %p in /proc/self/smaps", (void *)addr);
		cr_assert(v.start <= (unsigned long)addr &&
			  v.end >= (unsigned long)addr + SECTION_BYTES);
		if (!v.vmflags[0]) {
			cr_log_info("smaps has no VmFlags line: MADV_HUGEPAGE not checked");
			continue;
		}
		if (want == BACKING_THP)
			cr_assert(has_vmflag(v.vmflags, "hg"), "no MADV_HUGEPAGE: VmFlags:%s", v.vmflags);
		cr_assert_not(has_vmflag(v.vmflags, "nh"), "VmFlags:%s", v.vmflags);
		cr_assert_not(has_vmflag(v.vmflags, "ht"), "VmFlags:%s", v.vmflags);
		cr_log_info("thp section %d: AnonHugePages %ld kB", i, v.anon_huge_kb);
	}
	for (int i = 0; i < 3; i++)
		__free_pages(blocks[i], MAX_ORDER);
}

/* Sections brought online one zone at a time keep their own backing
 * record: DMA (sections 0-3) after DMA32. */
Test(hugepage, off_every_section_of_the_arena)
{
	hp_init("off");
	for (int zt = ZONE_DMA; zt <= ZONE_DMA32; zt++)
		zone_online_all(kmem_zone(0, zt));
	cr_assert_eq(arena_stats.sections[BACKING_4K], NR_SECTIONS);
	cr_assert_eq(arena_stats.sections[BACKING_THP], 0);
	cr_assert_eq(arena_stats.sections[BACKING_HUGETLB], 0);
	for (int s = 0; s < NR_SECTIONS; s++)
		cr_assert_eq(section_state[s], BACKING_4K, "section %d", s);
	cr_assert_eq(arena_stats.mem_map_bytes, NR_SECTIONS * 1024 * sizeof(struct page));
	/* The whole arena is writable. */
	memset(page_address(pfn_to_page(0)), 0x77, NR_SECTIONS * SECTION_BYTES);
	cr_assert_eq(((unsigned char *)page_address(pfn_to_page(16383)))[4095], 0x77);
}

/* ---- hugetlb and auto, against the system's pool --------------------- */

#define CHILD_SECTIONS 6

/* What a child saw: one kmem configuration in a fresh process. */
struct child_result {
	int init_rc;
	int allocated;                  /* order-10 blocks obtained */
	long free_hp_before;            /* HugePages_Free right before allocating */
	unsigned long sections[NR_BACKINGS];
	unsigned long fallbacks;
	unsigned long mem_map_bytes;
	int hugetlb_mmaps;              /* mmap calls with MAP_HUGETLB */
	uint8_t state[NR_SECTIONS];
	int pattern_ok;
	char vmflags[CHILD_SECTIONS][256];
	long kernel_page_kb[CHILD_SECTIONS];
};

static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static int hugetlb_mmaps;

static void *counting_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (flags & MAP_HUGETLB)
		hugetlb_mmaps++;
	return real_mmap(addr, len, prot, flags, fd, off);
}

static void child_body(const char *mode, struct child_result *r)
{
	char root[600];
	struct page *blocks[CHILD_SECTIONS];

	snprintf(root, sizeof(root), "%s", test_sysfs("1node"));
	setenv("KMEM_SYSFS_ROOT", root, 1);
	setenv("KMEM_LIMIT", "64M", 1);
	setenv("KMEM_HUGEPAGES", mode, 1);
	real_mmap = kmem_os.mmap;
	kmem_os.mmap = counting_mmap;
	r->free_hp_before = meminfo_value("HugePages_Free");
	r->init_rc = kmem_init();
	if (r->init_rc)
		return;
	for (int i = 0; i < CHILD_SECTIONS; i++) {
		blocks[i] = alloc_pages(GFP_KERNEL | __GFP_NOWARN, MAX_ORDER);
		if (!blocks[i] || page_to_pfn(blocks[i]) != (unsigned long)(FIRST_DMA32_SECTION + i) << 10)
			break;
		r->allocated++;
	}
	memcpy(r->sections, arena_stats.sections, sizeof(r->sections));
	r->fallbacks = arena_stats.hugetlb_fallbacks;
	r->mem_map_bytes = arena_stats.mem_map_bytes;
	r->hugetlb_mmaps = hugetlb_mmaps;
	memcpy(r->state, section_state, NR_SECTIONS);
	r->pattern_ok = pattern_works(blocks, r->allocated);
	for (int i = 0; i < r->allocated; i++) {
		struct vma_info v = smaps_of(page_address(blocks[i]));

		snprintf(r->vmflags[i], sizeof(r->vmflags[i]), "%s", v.vmflags);
		r->kernel_page_kb[i] = v.kernel_page_kb;
	}
}

/* Run child_body(mode) in a fresh process and bring back what it saw. */
static struct child_result run_child(const char *mode)
{
	struct child_result r;
	int pipefd[2], status;
	size_t got = 0;
	pid_t pid;

	memset(&r, 0, sizeof(r));
	cr_assert_eq(pipe(pipefd), 0);
	fflush(NULL);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		close(pipefd[0]);
		child_body(mode, &r);
		if (write(pipefd[1], &r, sizeof(r)) != (ssize_t)sizeof(r))
			_exit(2);
		_exit(0);
	}
	close(pipefd[1]);
	while (got < sizeof(r)) {
		ssize_t n = read(pipefd[0], (char *)&r + got, sizeof(r) - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(pipefd[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "%s child died (status %#x)", mode, status);
	cr_assert_eq(got, sizeof(r));
	cr_assert_eq(r.init_rc, 0, "%s child: kmem_init failed", mode);
	cr_assert_eq(r.allocated, CHILD_SECTIONS, "%s child: %d of %d sections", mode,
		     r.allocated, CHILD_SECTIONS);
	cr_assert(r.pattern_ok, "%s child: the memory does not hold a pattern", mode);
	cr_assert_eq(r.mem_map_bytes, CHILD_SECTIONS * 1024 * sizeof(struct page));
	return r;
}

/*
 * The first nr_huge sections are hugetlb (VmFlags "ht", 2 MiB kernel
 * pages), the rest THP (or 4 KiB without THP), nothing else online.
 */
static void check_child_backing(const char *mode, const struct child_result *r,
				int nr_huge, long hp_kb)
{
	/* auto mode brings its first AUTO_THP_MIN_SECTIONS sections online on
	 * 4 KiB pages; the children bring fewer than that online */
	enum section_backing fb = thp_supported() && strncmp(mode, "auto", 4)
				  ? BACKING_THP : BACKING_4K;

	cr_assert_eq(r->sections[BACKING_HUGETLB], (unsigned long)nr_huge,
		     "%s: %lu hugetlb sections, want %d", mode, r->sections[BACKING_HUGETLB], nr_huge);
	cr_assert_eq(r->sections[fb], (unsigned long)(CHILD_SECTIONS - nr_huge),
		     "%s: %lu fallback sections, want %d", mode, r->sections[fb], CHILD_SECTIONS - nr_huge);
	cr_assert_eq(r->sections[BACKING_NONE], 0);
	for (int s = 0; s < NR_SECTIONS; s++) {
		int i = s - FIRST_DMA32_SECTION;
		int want = i < 0 || i >= CHILD_SECTIONS ? BACKING_NONE
			 : i < nr_huge ? BACKING_HUGETLB : (int)fb;

		cr_assert_eq(r->state[s], want, "%s: section_state[%d] = %d, want %d",
			     mode, s, r->state[s], want);
	}
	for (int i = 0; i < CHILD_SECTIONS; i++) {
		if (!r->vmflags[i][0])
			continue;
		if (i < nr_huge) {
			cr_assert(has_vmflag(r->vmflags[i], "ht"), "%s: section %d VmFlags:%s",
				  mode, i, r->vmflags[i]);
			cr_assert_eq(r->kernel_page_kb[i], hp_kb);
		} else {
			cr_assert_not(has_vmflag(r->vmflags[i], "ht"), "%s: section %d VmFlags:%s",
				      mode, i, r->vmflags[i]);
			if (fb == BACKING_THP)
				cr_assert(has_vmflag(r->vmflags[i], "hg"), "%s: section %d VmFlags:%s",
					  mode, i, r->vmflags[i]);
			cr_assert_eq(r->kernel_page_kb[i], 4);
		}
	}
}

#define NR_HUGEPAGES "/proc/sys/vm/nr_hugepages"

static long saved_nr_hugepages = -1;

static long read_nr_hugepages(void)
{
	char buf[32] = { 0 };
	int fd = open(NR_HUGEPAGES, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -1;
}

static int write_nr_hugepages(long nr)
{
	char buf[32];
	int fd = open(NR_HUGEPAGES, O_WRONLY);
	int len = snprintf(buf, sizeof(buf), "%ld\n", nr);
	int ret;

	if (fd < 0)
		return -1;
	ret = write(fd, buf, (size_t)len) == len ? 0 : -1;
	close(fd);
	return ret;
}

static void restore_nr_hugepages(void)
{
	if (saved_nr_hugepages >= 0 && read_nr_hugepages() != saved_nr_hugepages &&
	    write_nr_hugepages(saved_nr_hugepages))
		fprintf(stderr, "hugepage: could not restore %s to %ld\n", NR_HUGEPAGES,
			saved_nr_hugepages);
}

/* Sections a pool of free default-size hugetlb pages can back. */
static int sections_from_pool(long free_hp, long hp_kb)
{
	if (free_hp <= 0 || hp_kb <= 0 || hp_kb > 4096 || 4096 % hp_kb)
		return 0;
	return (int)MIN((long)CHILD_SECTIONS, free_hp / (4096 / hp_kb));
}

/*
 * Free hugetlb-backed memory is never given back to the OS: a private
 * hugetlb page dropped with MADV_DONTNEED returns to the system pool, and
 * once the pool shrinks (here: nr_hugepages lowered to 0, as another
 * process taking the pages would do) touching it again is SIGBUS.  Run in
 * a child like every pool case; the exit status says what it saw (a
 * sanitizer report, SIGBUS included, exits 1).
 */
enum {
	KEPT_OK = 0,
	KEPT_NO_INIT = 10,
	KEPT_NO_PAGE,
	KEPT_NOT_HUGETLB,
	KEPT_RELEASED,
	KEPT_LOST,
};

static int kept_child_body(void)
{
	struct page *page;
	char *p;

	setenv("KMEM_SYSFS_ROOT", test_sysfs("1node"), 1);
	setenv("KMEM_LIMIT", "64M", 1);
	setenv("KMEM_HUGEPAGES", "hugetlb", 1);
	if (kmem_init())
		return KEPT_NO_INIT;
	page = alloc_pages(GFP_KERNEL, pageblock_order);
	if (!page)
		return KEPT_NO_PAGE;
	if (section_state[__page_to_pfn(page) >> SECTION_ORDER] != BACKING_HUGETLB)
		return KEPT_NOT_HUGETLB;
	p = lowmem_page_address(page);
	memset(p, 0x5a, pageblock_nr_pages * PAGE_SIZE);
	__free_pages(page, pageblock_order);
	kmem_reclaim();
	if (pageblock_flags[__page_to_pfn(page) >> pageblock_order] & PB_RELEASED)
		return KEPT_RELEASED;
	write_nr_hugepages(0);
	/* still ours and still resident: reading and writing it is safe */
	if (p[12345] != 0x5a)
		return KEPT_LOST;
	memset(p, 0x33, pageblock_nr_pages * PAGE_SIZE);
	return KEPT_OK;
}

Test(hugepage_sys, hugetlb_pool_and_fallbacks, .fini = restore_nr_hugepages, .timeout = 120)
{
	long hp_kb = meminfo_value("Hugepagesize");
	long overcommit = -1;
	struct child_result r;
	int nr_huge;

	saved_nr_hugepages = read_nr_hugepages();
	{
		char buf[32] = { 0 };
		int fd = open("/proc/sys/vm/nr_overcommit_hugepages", O_RDONLY);

		if (fd >= 0) {
			if (read(fd, buf, sizeof(buf) - 1) > 0)
				overcommit = strtol(buf, NULL, 10);
			close(fd);
		}
	}
	cr_log_info("nr_hugepages was %ld, Hugepagesize %ld kB, overcommit %ld",
		    saved_nr_hugepages, hp_kb, overcommit);

	/* 1. An empty pool. */
	if (saved_nr_hugepages > 0 && write_nr_hugepages(0))
		cr_log_warn("cannot empty the hugetlb pool (%s)", strerror(errno));
	if (meminfo_value("HugePages_Free") == 0 && overcommit <= 0) {
		/* hugetlb mode: one MAP_HUGETLB attempt per section, each
		 * refused, each counted, THP used instead. */
		r = run_child("hugetlb");
		check_child_backing("hugetlb, empty pool", &r, 0, hp_kb);
		cr_assert_eq(r.fallbacks, CHILD_SECTIONS, "hugetlb_fallbacks %lu, want %d",
			     r.fallbacks, CHILD_SECTIONS);
		cr_assert_eq(r.hugetlb_mmaps, CHILD_SECTIONS);

		/* auto mode: no free hugepages at init, so hugetlb is never
		 * tried and nothing counts as a fallback. */
		r = run_child("auto");
		check_child_backing("auto, empty pool", &r, 0, hp_kb);
		cr_assert_eq(r.fallbacks, 0, "auto with no hugepages counted %lu fallbacks",
			     r.fallbacks);
		cr_assert_eq(r.hugetlb_mmaps, 0, "auto with no hugepages tried MAP_HUGETLB %d times",
			     r.hugetlb_mmaps);
	} else {
		cr_log_warn("the hugetlb pool cannot be emptied: empty-pool cases not checked");
	}

	/* 2. A pool of 8 pages (4 sections of 2 MiB pages). */
	if (write_nr_hugepages(8))
		cr_log_warn("cannot write %s (%s)", NR_HUGEPAGES, strerror(errno));
	if (overcommit > 0) {
		cr_log_warn("nr_overcommit_hugepages is %ld: surplus pages make the hugetlb "
			    "section count unpredictable; pool cases not checked", overcommit);
	} else if (meminfo_value("HugePages_Free") > 0 && sections_from_pool(8, hp_kb) > 0) {
		r = run_child("hugetlb");
		nr_huge = sections_from_pool(r.free_hp_before, hp_kb);
		cr_assert_gt(nr_huge, 0);
		check_child_backing("hugetlb", &r, nr_huge, hp_kb);
		cr_assert_eq(r.fallbacks, (unsigned long)(CHILD_SECTIONS - nr_huge),
			     "hugetlb: %lu fallbacks, want %d", r.fallbacks, CHILD_SECTIONS - nr_huge);
		cr_assert_eq(r.hugetlb_mmaps, CHILD_SECTIONS, "hugetlb mode tries every section");

		/* auto: hugetlb until the pool runs dry, one fallback, then THP
		 * without asking again. */
		r = run_child("auto");
		nr_huge = sections_from_pool(r.free_hp_before, hp_kb);
		cr_assert_gt(nr_huge, 0);
		check_child_backing("auto", &r, nr_huge, hp_kb);
		cr_assert_eq(r.fallbacks, nr_huge < CHILD_SECTIONS ? 1UL : 0UL,
			     "auto: %lu fallbacks", r.fallbacks);
		cr_assert_eq(r.hugetlb_mmaps, nr_huge + (nr_huge < CHILD_SECTIONS),
			     "auto: %d MAP_HUGETLB attempts for %d hugetlb sections",
			     r.hugetlb_mmaps, nr_huge);
	} else {
		const char *msg = "hugetlb: the system could not reserve hugetlb pages; "
				  "testing the fallback only";

		cr_log_warn("%s", msg);
		fprintf(stderr, "%s\n", msg);
		r = run_child("hugetlb");
		check_child_backing("hugetlb, no pool", &r, 0, hp_kb);
		cr_assert_eq(r.fallbacks, CHILD_SECTIONS);
	}

	/*
	 * 3. A pool whose every page is reserved by another mapping:
	 * /proc/meminfo still says HugePages_Free 2, but HugePages_Rsvd 2 of
	 * them are promised elsewhere, so none is free for kmem.  auto mode
	 * must treat that as "no free hugepages": THP, no MAP_HUGETLB
	 * attempt, no fallback counted.  Last, as it needs the most setup.
	 */
	if (overcommit <= 0 && write_nr_hugepages(2) == 0 && meminfo_value("HugePages_Free") == 2 &&
	    meminfo_value("HugePages_Rsvd") == 0 && hp_kb == 2048) {
		void *other = mmap(NULL, SECTION_BYTES, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);

		cr_assert_neq(other, MAP_FAILED, "cannot reserve the pool (%s)", strerror(errno));
		cr_assert_eq(meminfo_value("HugePages_Free"), 2);
		cr_assert_eq(meminfo_value("HugePages_Rsvd"), 2);
		r = run_child("auto");
		munmap(other, SECTION_BYTES);
		check_child_backing("auto, pool all reserved", &r, 0, hp_kb);
		cr_assert_eq(r.hugetlb_mmaps, 0,
			     "auto mode tried MAP_HUGETLB %d times although every free hugepage "
			     "was reserved (HugePages_Free 2, HugePages_Rsvd 2)", r.hugetlb_mmaps);
		cr_assert_eq(r.fallbacks, 0, "auto: %lu fallbacks with no available hugepage",
			     r.fallbacks);
	} else {
		cr_log_warn("cannot set up a fully reserved pool of 2 pages: case not checked");
	}

	/* 4. Freed hugetlb-backed memory stays kmem's when the pool shrinks. */
	if (saved_nr_hugepages >= 0 && write_nr_hugepages(saved_nr_hugepages + 4) == 0 &&
	    meminfo_value("HugePages_Free") >= 2 && hp_kb == 2048) {
		int status;
		pid_t pid;

		fflush(NULL);
		pid = fork();
		cr_assert(pid >= 0);
		if (pid == 0)
			_exit(kept_child_body());
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFEXITED(status), "freed hugetlb memory: the child died of signal %d",
			  WTERMSIG(status));
		if (WEXITSTATUS(status) == KEPT_NOT_HUGETLB)
			cr_log_warn("the pageblock is not hugetlb-backed: freed hugetlb case not checked");
		else
			cr_assert_eq(WEXITSTATUS(status), KEPT_OK,
				     "freed hugetlb memory: child exit %d (%d: kmem_init failed, "
				     "%d: no pageblock, %d: the pageblock was released, "
				     "%d: its contents were lost, 1: a sanitizer report)",
				     WEXITSTATUS(status), KEPT_NO_INIT, KEPT_NO_PAGE,
				     KEPT_RELEASED, KEPT_LOST);
	} else {
		cr_log_warn("no 2 MiB hugetlb pages to be had: freed hugetlb case not checked");
	}
	restore_nr_hugepages();
	cr_assert_eq(read_nr_hugepages(), saved_nr_hugepages, "nr_hugepages restored");
}

/* auto: the first AUTO_THP_MIN_SECTIONS sections on 4 KiB pages (a small
 * heap gains nothing from huge pages), THP from then on.  hugetlb pages
 * may be in play if another test reserved some: they count as huge. */
Test(hugepage_auto, small_heaps_stay_on_4k_pages)
{
	struct page *blocks[AUTO_THP_MIN_SECTIONS + 4];

	kmem_test_init("KMEM_LIMIT=256M", "KMEM_HUGEPAGES=auto", NULL);
	for (int i = 0; i < AUTO_THP_MIN_SECTIONS + 4; i++) {
		blocks[i] = alloc_pages(GFP_KERNEL, MAX_ORDER);
		cr_assert_not_null(blocks[i]);
		memset(page_address(blocks[i]), i, 4096);
	}
	for (int i = 0; i < AUTO_THP_MIN_SECTIONS + 4; i++) {
		int b = section_state[page_to_pfn(blocks[i]) >> SECTION_ORDER];
		bool early = arena_stats.sections[BACKING_HUGETLB] == 0 && i < AUTO_THP_MIN_SECTIONS;

		if (b == BACKING_HUGETLB)
			continue;
		if (early)
			cr_assert_eq(b, BACKING_4K, "section %d: backing %d", i, b);
		else if (i >= AUTO_THP_MIN_SECTIONS && thp_supported())
			cr_assert_eq(b, BACKING_THP, "section %d: backing %d", i, b);
	}
}
