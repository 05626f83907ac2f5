/*
 * mt_random.c - every allocation entry point at random, from several
 * threads at once, on shared blocks.
 *
 * SLOTS blocks are shared by THREADS threads, each slot under its own
 * mutex.  A step takes a random slot, checks the marks its block holds,
 * then frees it, reallocs it, or replaces it with malloc, calloc (checked
 * for zeroes) or posix_memalign (checked for alignment), of a random size
 * from 1 byte to 2 MiB, and marks the result.  So blocks are freed and
 * resized by threads other than the one that allocated them, through the
 * slab, large-block and vmalloc paths alike, and malloc_trim runs now and
 * then in the middle of it.  Threads are started and joined in ROUNDS, so
 * thread state goes and comes back with blocks still live.
 *
 * A mark is a byte every 257 and the last one, derived from a per-block
 * tag.  The program prints "ok" when every check passed; otherwise it
 * names the check on stderr and aborts.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS   4096
#define THREADS 4
#define ROUNDS  3
#define STEPS   10000           /* per thread and round */

static struct {
	pthread_mutex_t lock;
	unsigned char *p;
	size_t n;
	unsigned char tag;
} slot[SLOTS];

static void fail(const char *what, size_t n)
{
	fprintf(stderr, "mt_random: %s (%zu bytes)\n", what, n);
	abort();
}

static unsigned char mark(unsigned char tag, size_t k)
{
	return (unsigned char)(tag + k * 13);
}

static void mark_block(unsigned char *p, size_t n, unsigned char tag)
{
	for (size_t k = 0; k < n; k += 257)
		p[k] = mark(tag, k);
	if (n)
		p[n - 1] = mark(tag, n - 1);
}

/* The marks of a block of n bytes that lie in its first keep. */
static void check_block(const unsigned char *p, size_t n, size_t keep, unsigned char tag)
{
	for (size_t k = 0; k < keep && k < n; k += 257)
		if (p[k] != mark(tag, k))
			fail("a block lost its contents", n);
	if (n && n <= keep && p[n - 1] != mark(tag, n - 1))
		fail("a block lost its last byte", n);
}

/* Mostly small, some of a few pages, now and then up to 2 MiB. */
static size_t random_size(uint64_t r)
{
	switch (r % 16) {
	case 0:
		return (r >> 8) % (2 << 20) + 1;
	case 1:
	case 2:
		return (r >> 8) % (256 << 10) + 1;
	case 3:
	case 4:
		return (r >> 8) % 16384 + 1;
	default:
		return (r >> 8) % 600 + 1;
	}
}

static void *worker(void *arg)
{
	uint64_t r = (uintptr_t)arg * 0x9E3779B97F4A7C15ULL + 1;

	for (long i = 0; i < STEPS; i++) {
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		int s = (int)(r % SLOTS);
		size_t m = random_size(r >> 3), align = (size_t)1 << (4 + (r >> 20) % 10);
		unsigned char *p, *q;

		pthread_mutex_lock(&slot[s].lock);
		p = slot[s].p;
		if (p)
			check_block(p, slot[s].n, slot[s].n, slot[s].tag);
		switch ((r >> 50) % 8) {
		case 0:
		case 1:
			free(p);
			p = NULL;
			m = 0;
			break;
		case 2:
		case 3:
			q = realloc(p, m);
			if (!q)
				fail("realloc returned NULL", m);
			if (p)
				check_block(q, slot[s].n, m, slot[s].tag);
			p = q;
			break;
		case 4:
			free(p);
			p = calloc(1, m);
			if (!p)
				fail("calloc returned NULL", m);
			for (size_t k = 0; k < m; k += 61)
				if (p[k])
					fail("calloc gave a byte that is not zero", m);
			break;
		case 5:
			free(p);
			if (posix_memalign((void **)&p, align, m))
				fail("posix_memalign failed", m);
			if ((uintptr_t)p & (align - 1))
				fail("posix_memalign gave a misaligned block", m);
			break;
		default:
			free(p);
			p = malloc(m);
			if (!p)
				fail("malloc returned NULL", m);
		}
		if (p && malloc_usable_size(p) < m)
			fail("malloc_usable_size is below the size asked", m);
		slot[s].tag = (unsigned char)(r >> 24);
		if (p)
			mark_block(p, m, slot[s].tag);
		slot[s].p = p;
		slot[s].n = m;
		pthread_mutex_unlock(&slot[s].lock);
		if (i % 5000 == 4999)
			malloc_trim(0);
	}
	return NULL;
}

int main(void)
{
	for (int i = 0; i < SLOTS; i++)
		pthread_mutex_init(&slot[i].lock, NULL);
	for (int round = 0; round < ROUNDS; round++) {
		pthread_t t[THREADS];

		for (int i = 0; i < THREADS; i++)
			if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(1 + round * THREADS + i)))
				fail("pthread_create failed", 0);
		for (int i = 0; i < THREADS; i++)
			pthread_join(t[i], NULL);
	}
	for (int i = 0; i < SLOTS; i++) {
		if (slot[i].p)
			check_block(slot[i].p, slot[i].n, slot[i].n, slot[i].tag);
		free(slot[i].p);
	}
	printf("ok\n");
	return 0;
}
