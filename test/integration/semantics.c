/*
 * semantics.c - the glibc malloc semantics programs depend on, probed
 * through the public entry points.  Run under LD_PRELOAD=libkmem.so (the
 * integration driver also runs it on plain glibc and compares stdout).
 *
 * Every failed check prints "FAIL: <what>" on stdout; the last line is
 * "semantics: ok" or "semantics: N failed", and the exit status is 0 only
 * when every check passed.
 *
 * A few expectations are kmem's contract where glibc 2.36 differs; they are
 * relaxed when kmem is not loaded (see `under_kmem`), so that the plain
 * glibc run prints the same thing:
 *  - the invalid-free message is kmem's "kmem: free(): invalid pointer"
 *    (glibc's depends on the bytes around the address; only the abort
 *    is checked there);
 *  - a 1 MiB block counts in mallinfo2().uordblks (glibc mmaps it and
 *    counts it in hblkhd);
 *  - aligned_alloc rejects an alignment that is not a power of two
 *    (glibc only does so from 2.38).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;
static int under_kmem;

#define CHECK(cond, ...) do {                                           \
	if (!(cond)) {                                                  \
		failures++;                                             \
		printf("FAIL: line %d: ", __LINE__);                    \
		printf(__VA_ARGS__);                                    \
		printf("\n");                                           \
	}                                                               \
} while (0)

/* Sizes that can never be allocated: the compiler must not see them as
 * constants (it would warn, or fold the call away). */
static volatile size_t v_size_max = SIZE_MAX;
static volatile size_t v_half_plus = SIZE_MAX / 2 + 1;

/* Called through pointers where the block is used after a call that
 * failed (or did not move it): GCC's -Wuse-after-free cannot know. */
static void *(*volatile xrealloc)(void *, size_t) = realloc;
static void *(*volatile xreallocarray)(void *, size_t, size_t) = reallocarray;

static int aligned(const void *p, size_t a)
{
	return ((uintptr_t)p & (a - 1)) == 0;
}

/* The alignment malloc(n) owes: 16 (max_align_t) for n >= 16; below
 * that, kmem's contract (README, "kmalloc") is the C23 rule - enough for
 * any object that fits - and kmalloc-8 gives 8.  glibc always gives 16. */
static size_t malloc_alignment(size_t n)
{
	return n >= 16 ? 16 : 8;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i * 7);
}

static int verify(const unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(seed + i * 7))
			return 0;
	return 1;
}

static void test_malloc_zero(void)
{
	enum { N = 256 };
	void *p[N];
	int null = 0, misaligned = 0, same = 0;
	void *first_misaligned = NULL;

	for (int i = 0; i < N; i++) {
		p[i] = malloc(0);
		null += p[i] == NULL;
		if (p[i] && !aligned(p[i], malloc_alignment(0)) && misaligned++ == 0)
			first_misaligned = p[i];
	}
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++)
			same += p[i] && p[i] == p[j];
	CHECK(null == 0, "malloc(0) returned NULL %d times in %d", null, N);
	CHECK(misaligned == 0, "malloc(0): %d of %d pointers not %zu-aligned (first %p)",
	      misaligned, N, malloc_alignment(0), first_misaligned);
	CHECK(same == 0, "malloc(0): %d pairs of equal pointers in %d", same, N);
	for (int i = 0; i < N; i++)
		free(p[i]);
}

static void test_alignment_and_usable(void)
{
	static const size_t sizes[] = {
		1, 7, 8, 15, 16, 17, 24, 31, 32, 33, 48, 63, 64, 65, 96, 100, 127, 128,
		129, 200, 255, 256, 257, 500, 511, 512, 513, 1000, 1023, 1024, 1025,
		2000, 4095, 4096, 4097, 8191, 8192, 8193, 16384, 32768, 65535, 65536,
		100000, 131072, 262144, 1 << 20, (1 << 20) + 1, 3 << 20, 4 << 20,
		(4 << 20) + 1, 9 << 20, 33 << 20,
	};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		unsigned char *p = malloc(n);

		CHECK(p != NULL, "malloc(%zu) returned NULL", n);
		if (!p)
			continue;
		CHECK(aligned(p, malloc_alignment(n)), "malloc(%zu) = %p not %zu-aligned", n,
		      (void *)p, malloc_alignment(n));
		CHECK(malloc_usable_size(p) >= n, "malloc_usable_size(malloc(%zu)) = %zu",
		      n, malloc_usable_size(p));
		fill(p, malloc_usable_size(p), (unsigned)n);
		CHECK(verify(p, malloc_usable_size(p), (unsigned)n), "malloc(%zu) contents", n);
		free(p);

		p = calloc(1, n);
		CHECK(p != NULL, "calloc(1, %zu) returned NULL", n);
		CHECK(!p || aligned(p, malloc_alignment(n)), "calloc(1, %zu) = %p misaligned", n, (void *)p);
		if (p) {
			size_t bad = 0;

			for (size_t k = 0; k < n; k++)
				bad += p[k] != 0;
			CHECK(bad == 0, "calloc(1, %zu): %zu non-zero bytes", n, bad);
			free(p);
		}
	}
	CHECK(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL) = %zu",
	      malloc_usable_size(NULL));
	free(NULL);
}

static void test_realloc(void)
{
	static const size_t sizes[] = {
		1, 8, 16, 24, 40, 100, 255, 1000, 1024, 3000, 4096, 5000, 10000, 65536,
		100000, 1 << 20, 5 << 20, 9 << 20,
	};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i], u;
		unsigned char *p = malloc(n), *q;

		if (!p) {
			CHECK(0, "malloc(%zu) returned NULL", n);
			continue;
		}
		fill(p, n, 3);
		u = malloc_usable_size(p);
		/* Growing within the usable size, or shrinking by less than
		 * half: no move.  Shrinking more may move (kmem moves to a
		 * block that fits); the contents stay. */
		q = xrealloc(p, u);
		CHECK(q == p, "realloc(p, usable %zu) of a %zu block moved it", u, n);
		p = q ? q : p;
		if (n > 1) {
			q = xrealloc(p, u / 2 + 1);
			CHECK(q == p, "realloc(p, %zu) shrinking a %zu block moved it", u / 2 + 1, u);
			p = q ? q : p;
		}
		if (n > 1) {
			q = xrealloc(p, n / 2);
			CHECK(q != NULL, "realloc shrink to %zu returned NULL", n / 2);
			p = q ? q : p;
			CHECK(verify(p, n / 2, 3), "realloc shrink of %zu lost contents", n);
			q = realloc(p, n);
			CHECK(q != NULL, "realloc back to %zu returned NULL", n);
			p = q ? q : p;
			fill(p, n, 3);
		}
		/* Growing past it keeps the contents. */
		q = realloc(p, 2 * u + 1000);
		CHECK(q != NULL, "realloc(p, %zu) returned NULL", 2 * u + 1000);
		if (q) {
			p = q;
			CHECK(verify(p, n, 3), "realloc(%zu -> %zu) lost contents", n, 2 * u + 1000);
			CHECK(aligned(p, malloc_alignment(2 * u + 1000)), "realloc result %p misaligned", (void *)p);
			CHECK(malloc_usable_size(p) >= 2 * u + 1000, "usable size after realloc");
		}
		/* An impossible size: NULL, ENOMEM, the block untouched. */
		errno = 0;
		q = xrealloc(p, v_size_max);
		CHECK(q == NULL && errno == ENOMEM, "realloc(p, SIZE_MAX) = %p errno %d", (void *)q, errno);
		errno = 0;
		q = xrealloc(p, v_half_plus);
		CHECK(q == NULL && errno == ENOMEM, "realloc(p, SIZE_MAX/2+1) = %p errno %d", (void *)q, errno);
		CHECK(verify(p, n, 3), "failed realloc of a %zu block changed it", n);
		/* realloc(p, 0) frees and returns NULL. */
		q = xrealloc(p, 0);
		CHECK(q == NULL, "realloc(p, 0) returned %p, not NULL", (void *)q);
	}
	/* realloc(NULL, n) is malloc(n). */
	void *p = realloc(NULL, 100);
	CHECK(p != NULL && malloc_usable_size(p) >= 100, "realloc(NULL, 100)");
	free(p);
}

static void test_enomem(void)
{
	void *p, *q = (void *)0x1234;

	errno = 0;
	p = malloc(v_size_max);
	CHECK(p == NULL && errno == ENOMEM, "malloc(SIZE_MAX) = %p errno %d", p, errno);
	errno = 0;
	p = malloc(v_half_plus);
	CHECK(p == NULL && errno == ENOMEM, "malloc(SIZE_MAX/2+1) = %p errno %d", p, errno);
	errno = 0;
	p = malloc(v_size_max - 4095);
	CHECK(p == NULL && errno == ENOMEM, "malloc(SIZE_MAX-4095) = %p errno %d", p, errno);
	errno = 0;
	p = calloc(v_size_max, 1);
	CHECK(p == NULL && errno == ENOMEM, "calloc(SIZE_MAX, 1) = %p errno %d", p, errno);
	errno = 0;
	p = calloc(v_half_plus, 2);
	CHECK(p == NULL && errno == ENOMEM, "calloc(SIZE_MAX/2+1, 2) (overflow) = %p errno %d", p, errno);
	errno = 0;
	p = calloc(v_size_max / 16, 17);
	CHECK(p == NULL && errno == ENOMEM, "calloc(SIZE_MAX/16, 17) (overflow) = %p errno %d", p, errno);
	errno = 0;
	p = calloc(1 << 16, (v_size_max >> 16) - 1);
	CHECK(p == NULL && errno == ENOMEM, "calloc(65536, huge) = %p errno %d", p, errno);
	errno = 0;
	p = reallocarray(NULL, v_half_plus, 2);
	CHECK(p == NULL && errno == ENOMEM, "reallocarray(NULL, SIZE_MAX/2+1, 2) = %p errno %d", p, errno);
	q = malloc(64);
	memset(q, 0x5a, 64);
	errno = 0;
	p = xreallocarray(q, v_size_max / 8, 9);
	CHECK(p == NULL && errno == ENOMEM, "reallocarray(p, SIZE_MAX/8, 9) = %p errno %d", p, errno);
	CHECK(((unsigned char *)q)[63] == 0x5a, "failed reallocarray changed the block");
	errno = 0;
	p = xreallocarray(q, v_half_plus, 1);
	CHECK(p == NULL && errno == ENOMEM, "reallocarray(p, SIZE_MAX/2+1, 1) = %p errno %d", p, errno);
	p = xreallocarray(q, 16, 16);
	CHECK(p != NULL && ((unsigned char *)p)[63] == 0x5a, "reallocarray(p, 16, 16)");
	free(p ? p : q);
	errno = 0;
	p = realloc(NULL, v_size_max);
	CHECK(p == NULL && errno == ENOMEM, "realloc(NULL, SIZE_MAX) = %p errno %d", p, errno);

	errno = 0;
	p = memalign(64, v_size_max);
	CHECK(p == NULL && errno == ENOMEM, "memalign(64, SIZE_MAX) = %p errno %d", p, errno);
	errno = 0;
	p = memalign(4096, v_half_plus);
	CHECK(p == NULL && errno == ENOMEM, "memalign(4096, SIZE_MAX/2+1) = %p errno %d", p, errno);
	errno = 0;
	p = memalign(16, v_size_max);
	CHECK(p == NULL && errno == ENOMEM, "memalign(16, SIZE_MAX) = %p errno %d", p, errno);
	errno = 0;
	p = valloc(v_size_max);
	CHECK(p == NULL && errno == ENOMEM, "valloc(SIZE_MAX) = %p errno %d", p, errno);
	errno = 0;
	p = valloc(v_half_plus);
	CHECK(p == NULL && errno == ENOMEM, "valloc(SIZE_MAX/2+1) = %p errno %d", p, errno);
	errno = 0;
	p = pvalloc(v_size_max);
	CHECK(p == NULL && errno == ENOMEM, "pvalloc(SIZE_MAX) = %p errno %d", p, errno);
	errno = 0;
	p = pvalloc(v_half_plus);
	CHECK(p == NULL && errno == ENOMEM, "pvalloc(SIZE_MAX/2+1) = %p errno %d", p, errno);
	errno = 0;
	p = aligned_alloc(64, v_size_max);
	CHECK(p == NULL && errno == ENOMEM, "aligned_alloc(64, SIZE_MAX) = %p errno %d", p, errno);
	errno = 0;
	p = aligned_alloc(1 << 21, v_half_plus);
	CHECK(p == NULL && errno == ENOMEM, "aligned_alloc(2M, SIZE_MAX/2+1) = %p errno %d", p, errno);

	/* posix_memalign reports through its result and leaves *out alone. */
	q = (void *)0x1234;
	CHECK(posix_memalign(&q, 64, v_size_max) == ENOMEM, "posix_memalign(64, SIZE_MAX) != ENOMEM");
	CHECK(q == (void *)0x1234, "failed posix_memalign wrote *out");
	CHECK(posix_memalign(&q, 4096, v_half_plus) == ENOMEM, "posix_memalign(4096, SIZE_MAX/2+1) != ENOMEM");
	CHECK(posix_memalign(&q, 3, 8) == EINVAL, "posix_memalign(align 3) != EINVAL");
	CHECK(posix_memalign(&q, 4, 8) == EINVAL, "posix_memalign(align 4) != EINVAL");
	CHECK(posix_memalign(&q, 0, 8) == EINVAL, "posix_memalign(align 0) != EINVAL");
	CHECK(posix_memalign(&q, 24, 8) == EINVAL, "posix_memalign(align 24) != EINVAL");
	CHECK(q == (void *)0x1234, "failed posix_memalign wrote *out");

	if (under_kmem) {
		errno = 0;
		p = aligned_alloc(3, 8);
		CHECK(p == NULL && errno == EINVAL, "aligned_alloc(3, 8) = %p errno %d", p, errno);
		free(p);
	}
}

static void test_alignments(void)
{
	for (size_t a = 16; a <= (2UL << 20); a <<= 1) {
		size_t sizes[] = { 1, a / 2, a - 1, a, a + 1, 3 * a + 5 };

		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			size_t n = sizes[k];
			unsigned char *p;
			void *q = NULL;
			int rc;

			p = memalign(a, n);
			CHECK(p && aligned(p, a), "memalign(%zu, %zu) = %p", a, n, (void *)p);
			if (p) {
				CHECK(malloc_usable_size(p) >= n, "memalign(%zu, %zu) usable %zu", a, n,
				      malloc_usable_size(p));
				memset(p, 0xa5, n);
				free(p);
			}
			rc = posix_memalign(&q, a, n);
			CHECK(rc == 0 && q && aligned(q, a), "posix_memalign(%zu, %zu) = %d %p", a, n, rc, q);
			if (rc == 0) {
				memset(q, 0x5a, n);
				free(q);
			}
			p = aligned_alloc(a, n);
			CHECK(p && aligned(p, a), "aligned_alloc(%zu, %zu) = %p", a, n, (void *)p);
			if (p) {
				size_t u = malloc_usable_size(p);
				unsigned char *r;

				memset(p, 0x3c, n);
				/* realloc within the usable size keeps an aligned block in
				 * place, unless to half of it or less (kmem then moves it
				 * to a block that fits); the contents stay either way */
				r = xrealloc(p, n);
				CHECK(r != NULL, "realloc(aligned block, same size) returned NULL");
				if (n > u / 2)
					CHECK(r == p,
					      "realloc(aligned block, same size) moved it");
				if (r) {
					CHECK(r[0] == 0x3c && r[n - 1] == 0x3c,
					      "realloc(aligned block, same size) lost contents");
					p = r;
				}
				free(p);
			}
		}
	}
	/* A non-power-of-two memalign alignment is rounded up (glibc). */
	void *p = memalign(48, 100);
	CHECK(p && aligned(p, 64), "memalign(48, 100) = %p, not 64-aligned", p);
	free(p);

	long page = sysconf(_SC_PAGESIZE);

	p = valloc(100);
	CHECK(p && aligned(p, (size_t)page), "valloc(100) = %p", p);
	free(p);
	p = valloc(3 * page + 1);
	CHECK(p && aligned(p, (size_t)page), "valloc(3 pages + 1) = %p", p);
	free(p);
	p = pvalloc(1);
	CHECK(p && aligned(p, (size_t)page) && malloc_usable_size(p) >= (size_t)page,
	      "pvalloc(1) = %p usable %zu", p, p ? malloc_usable_size(p) : 0);
	if (p)
		memset(p, 1, (size_t)page);
	free(p);
	p = pvalloc(page + 1);
	CHECK(p && aligned(p, (size_t)page) && malloc_usable_size(p) >= 2 * (size_t)page,
	      "pvalloc(page + 1) = %p usable %zu", p, p ? malloc_usable_size(p) : 0);
	if (p)
		memset(p, 1, 2 * (size_t)page);
	free(p);
}

static void test_tuning(void)
{
	struct mallinfo2 before, during, after;
	size_t mib = 1 << 20;
	unsigned char *p;
	int rc;

	CHECK(mallopt(M_MMAP_THRESHOLD, 1 << 20) == 1, "mallopt(M_MMAP_THRESHOLD) != 1");

	before = mallinfo2();
	p = malloc(mib);
	CHECK(p != NULL, "malloc(1 MiB) returned NULL");
	if (!p)
		return;
	memset(p, 0x11, mib);
	during = mallinfo2();
	if (under_kmem) {
		CHECK(during.uordblks >= before.uordblks + mib,
		      "mallinfo2().uordblks %zu -> %zu after malloc(1 MiB)", before.uordblks, during.uordblks);
	} else {
		CHECK(during.uordblks + during.hblkhd >= before.uordblks + before.hblkhd + mib,
		      "mallinfo2() in use did not grow by 1 MiB");
	}
	free(p);
	after = mallinfo2();
	if (under_kmem)
		CHECK(after.uordblks < during.uordblks,
		      "mallinfo2().uordblks %zu -> %zu after free", during.uordblks, after.uordblks);
	else
		CHECK(after.uordblks + after.hblkhd < during.uordblks + during.hblkhd,
		      "mallinfo2() in use did not shrink after free");

	rc = malloc_trim(0);
	CHECK(rc == 0 || rc == 1, "malloc_trim(0) = %d", rc);
}

/* free() of a stack address stops the program with a message. */
static void test_invalid_free(void)
{
	/* glibc's message depends on what it finds around the address
	 * ("free(): invalid pointer", "free(): invalid size", "double free or
	 * corruption (out)"): only kmem's is checked. */
	const char *want = under_kmem ? "kmem: free(): invalid pointer" : "";
	int fds[2], status;
	char buf[4096];
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	fflush(stdout);
	if (pipe(fds) != 0) {
		CHECK(0, "pipe");
		return;
	}
	pid = fork();
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };
		_Alignas(64) char stack_buf[128];
		char *p = stack_buf + 16;
		void *volatile vp;

		setrlimit(RLIMIT_CORE, &no_core);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		/* 16-aligned, and not 16 bytes into a page (where a mmapped
		 * glibc chunk would start). */
		if ((((uintptr_t)p - 16) & 4095) == 0)
			p += 16;
		memset(stack_buf, 0, sizeof(stack_buf));
		vp = p;
		free(vp);
		_exit(0);
	}
	close(fds[1]);
	while (len < sizeof(buf) - 1 && (n = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	close(fds[0]);
	if (waitpid(pid, &status, 0) != pid) {
		CHECK(0, "waitpid");
		return;
	}
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
	      "free(stack address): child status %#x, not SIGABRT", status);
	CHECK(strstr(buf, want) != NULL, "free(stack address): stderr lacks \"%s\": \"%.200s\"", want, buf);
}

int main(void)
{
	under_kmem = dlsym(RTLD_DEFAULT, "kmem_init") != NULL;
	setvbuf(stdout, NULL, _IOLBF, 0);

	test_malloc_zero();
	test_alignment_and_usable();
	test_realloc();
	test_enomem();
	test_alignments();
	test_tuning();
	test_invalid_free();

	if (failures) {
		printf("semantics: %d failed\n", failures);
		return 1;
	}
	printf("semantics: ok\n");
	return 0;
}
