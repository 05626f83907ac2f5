/*
 * mt_crossfree.c - blocks allocated on one thread and freed on another.
 *
 * In each wave, 4 producer threads allocate blocks of random sizes (8 B ..
 * 64 KiB, log-uniform, and now and then 8 MiB), fill them with a pattern
 * derived from the block's id and pass them through a bounded,
 * mutex-protected queue to 4 consumer threads, which check the pattern,
 * sometimes grow the block with realloc (checking it again) and free it.
 * Threads are created and joined in waves, so thread exit (and the
 * allocator's per-thread state going away with blocks still in flight)
 * happens many times.
 *
 * Everything printed is independent of scheduling: per-wave sums over the
 * blocks' ids and sizes, and a final checksum.  Exit status 0 when every
 * block checked out.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRODUCERS  4
#define CONSUMERS  4
#define WAVES      8
#define PER_PRODUCER 4000          /* blocks per producer per wave */
#define QUEUE_CAP  256
#define HUGE_SIZE  (8UL << 20)
#define HUGE_EVERY 1000            /* about one 8 MiB block per this many */

struct block {
	uint64_t id;
	size_t size;
	uint64_t *data;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full;
	struct block slot[QUEUE_CAP];
	unsigned head, count;
	int producers_left;
} q = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.not_empty = PTHREAD_COND_INITIALIZER,
	.not_full = PTHREAD_COND_INITIALIZER,
};

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t pattern(uint64_t id, size_t word)
{
	return (id * 0x9e3779b97f4a7c15ULL) ^ (word * 0x100000001b3ULL);
}

/* The pattern covers whole words; a tail shorter than a word holds the
 * low bytes of the id. */
static void fill(struct block *b)
{
	size_t words = b->size / 8, tail = b->size % 8;

	for (size_t i = 0; i < words; i++)
		b->data[i] = pattern(b->id, i);
	for (size_t i = 0; i < tail; i++)
		((unsigned char *)b->data)[words * 8 + i] = (unsigned char)(b->id >> (8 * i));
}

static int check(const struct block *b, size_t size)
{
	size_t words = size / 8, tail = size % 8;

	for (size_t i = 0; i < words; i++)
		if (b->data[i] != pattern(b->id, i))
			return 0;
	for (size_t i = 0; i < tail; i++)
		if (((unsigned char *)b->data)[words * 8 + i] != (unsigned char)(b->id >> (8 * i)))
			return 0;
	return 1;
}

static size_t random_size(uint64_t *rng)
{
	uint64_t r = splitmix(rng);

	if (r % HUGE_EVERY == 0)
		return HUGE_SIZE;
	/* log-uniform in [8, 64 KiB]: 2^(3 + [0, 13]) scaled by [1, 2) */
	unsigned shift = 3 + (unsigned)((r >> 10) % 13);
	size_t base = (size_t)1 << shift;

	return base + (size_t)((r >> 20) % base);
}

static void push(struct block b)
{
	pthread_mutex_lock(&q.lock);
	while (q.count == QUEUE_CAP)
		pthread_cond_wait(&q.not_full, &q.lock);
	q.slot[(q.head + q.count) % QUEUE_CAP] = b;
	q.count++;
	pthread_cond_signal(&q.not_empty);
	pthread_mutex_unlock(&q.lock);
}

/* Returns 0 when the producers are done and the queue is empty. */
static int pop(struct block *b)
{
	pthread_mutex_lock(&q.lock);
	while (q.count == 0 && q.producers_left > 0)
		pthread_cond_wait(&q.not_empty, &q.lock);
	if (q.count == 0) {
		pthread_mutex_unlock(&q.lock);
		return 0;
	}
	*b = q.slot[q.head];
	q.head = (q.head + 1) % QUEUE_CAP;
	q.count--;
	pthread_cond_signal(&q.not_full);
	pthread_mutex_unlock(&q.lock);
	return 1;
}

struct producer_arg {
	int wave, index;
	int failed;
};

static void *producer(void *argp)
{
	struct producer_arg *arg = argp;
	uint64_t rng = (uint64_t)arg->wave * 1000 + (uint64_t)arg->index + 1;

	for (int i = 0; i < PER_PRODUCER; i++) {
		struct block b;

		b.id = ((uint64_t)arg->wave << 40) | ((uint64_t)arg->index << 32) | (uint64_t)i;
		b.size = random_size(&rng);
		b.data = malloc(b.size);
		if (!b.data) {
			fprintf(stderr, "producer %d: malloc(%zu) failed\n", arg->index, b.size);
			arg->failed = 1;
			break;
		}
		fill(&b);
		push(b);
		/* Some short-lived blocks freed on the producing thread too. */
		if (i % 7 == 0) {
			void *tmp = calloc(1, 24 + i % 200);

			free(tmp);
		}
	}
	pthread_mutex_lock(&q.lock);
	if (--q.producers_left == 0)
		pthread_cond_broadcast(&q.not_empty);
	pthread_mutex_unlock(&q.lock);
	return NULL;
}

struct consumer_arg {
	uint64_t blocks, bytes, id_sum, bad;
};

static void *consumer(void *argp)
{
	struct consumer_arg *arg = argp;
	struct block b;

	while (pop(&b)) {
		if (!check(&b, b.size)) {
			arg->bad++;
			fprintf(stderr, "block %#llx of %zu bytes at %p: pattern broken\n",
				(unsigned long long)b.id, b.size, (void *)b.data);
		} else if (b.id % 5 == 0 && b.size < (1 << 16)) {
			/* Grow on the consuming thread: contents must follow. */
			uint64_t *n = realloc(b.data, b.size * 2 + 8);

			if (!n) {
				arg->bad++;
				fprintf(stderr, "realloc(%zu) failed\n", b.size * 2 + 8);
			} else {
				b.data = n;
				if (!check(&b, b.size)) {
					arg->bad++;
					fprintf(stderr, "block %#llx: realloc lost contents\n",
						(unsigned long long)b.id);
				}
			}
		}
		arg->blocks++;
		arg->bytes += b.size;
		arg->id_sum += b.id * 2654435761ULL;
		free(b.data);
	}
	return NULL;
}

int main(void)
{
	uint64_t total_blocks = 0, total_bytes = 0, checksum = 0, bad = 0;
	int failed = 0;

	for (int wave = 0; wave < WAVES; wave++) {
		pthread_t prod[PRODUCERS], cons[CONSUMERS];
		struct producer_arg pa[PRODUCERS];
		struct consumer_arg ca[CONSUMERS];
		uint64_t blocks = 0, bytes = 0, ids = 0;

		q.producers_left = PRODUCERS;
		memset(ca, 0, sizeof(ca));
		for (int i = 0; i < CONSUMERS; i++)
			if (pthread_create(&cons[i], NULL, consumer, &ca[i]) != 0)
				return 2;
		for (int i = 0; i < PRODUCERS; i++) {
			pa[i] = (struct producer_arg){ .wave = wave, .index = i };
			if (pthread_create(&prod[i], NULL, producer, &pa[i]) != 0)
				return 2;
		}
		for (int i = 0; i < PRODUCERS; i++) {
			pthread_join(prod[i], NULL);
			failed |= pa[i].failed;
		}
		for (int i = 0; i < CONSUMERS; i++) {
			pthread_join(cons[i], NULL);
			blocks += ca[i].blocks;
			bytes += ca[i].bytes;
			ids += ca[i].id_sum;
			bad += ca[i].bad;
		}
		printf("wave %d: %llu blocks, %llu bytes, ids %016llx\n", wave,
		       (unsigned long long)blocks, (unsigned long long)bytes,
		       (unsigned long long)ids);
		total_blocks += blocks;
		total_bytes += bytes;
		checksum = checksum * 31 + ids + bytes;
	}
	printf("total: %llu blocks, %llu bytes, %llu bad\n", (unsigned long long)total_blocks,
	       (unsigned long long)total_bytes, (unsigned long long)bad);
	printf("checksum: %016llx\n", (unsigned long long)checksum);
	return failed || bad ? 1 : 0;
}
