/*
 * fork_threads.c - fork while other threads are inside the allocator.
 *
 * Three threads allocate, fill, check and free blocks of varied sizes
 * without pause; the main thread forks 50 times meanwhile.  Each child
 * (which inherits the heap in whatever state the threads left it, and only
 * the forking thread) mallocs, reallocs, checks and frees a few thousand
 * blocks of varied sizes, frees some blocks it inherited from the parent,
 * and exits 0 through exit() (so atexit handlers and the allocator's own
 * exit path run in the child).  The parent checks every child's status;
 * a child that hangs is killed after a deadline and counted as failed.
 *
 * Output is deterministic: the children's count and a checksum of what
 * they computed (the same in every child).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHILDREN       50
#define CHILD_BLOCKS   3000
#define WORKERS        3
#define CHILD_DEADLINE 30   /* seconds */

static volatile int stop;

/* Blocks the parent holds at fork time; the child frees half of them. */
#define INHERITED 512
static unsigned char *inherited[INHERITED];
static size_t inherited_size[INHERITED];

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static size_t varied_size(uint64_t *rng)
{
	uint64_t r = xorshift(rng);

	switch (r % 16) {
	case 0:
		return 1 + (r >> 8) % (1 << 20);                /* up to 1 MiB */
	case 1:
		return (4 << 20) + (r >> 8) % (4 << 20);        /* 4..8 MiB */
	case 2: case 3: case 4:
		return 1024 + (r >> 8) % 65536;
	default:
		return 1 + (r >> 8) % 512;
	}
}

/* The first and last (up to) 64 bytes of a block carry its seed. */
static void fill(unsigned char *p, size_t n, unsigned char seed)
{
	size_t head = n < 64 ? n : 64;

	memset(p, seed, head);
	if (n > head)
		memset(p + head, seed ^ 0xff, n - head < 64 ? n - head : 64);
	if (n > 128)
		memset(p + n - 64, seed ^ 0xff, 64);
}

static int ok(const unsigned char *p, size_t n, unsigned char seed)
{
	size_t head = n < 64 ? n : 64;

	for (size_t i = 0; i < head; i++)
		if (p[i] != seed)
			return 0;
	for (size_t i = head; i < n && i < 128; i++)
		if (p[i] != (unsigned char)(seed ^ 0xff))
			return 0;
	for (size_t i = n > 128 ? n - 64 : n; i < n; i++)
		if (p[i] != (unsigned char)(seed ^ 0xff))
			return 0;
	return 1;
}

static void *worker(void *arg)
{
	uint64_t rng = (uintptr_t)arg * 7919 + 1;
	unsigned char *slot[64] = { 0 };
	size_t size[64];

	while (!stop) {
		unsigned i = xorshift(&rng) % 64;

		if (slot[i]) {
			if (!ok(slot[i], size[i], (unsigned char)i)) {
				fprintf(stderr, "worker: block corrupted\n");
				abort();
			}
			if (xorshift(&rng) % 4 == 0) {
				size_t n = varied_size(&rng) % 100000 + 1;
				unsigned char *p = realloc(slot[i], n);

				if (p) {
					slot[i] = p;
					size[i] = n;
					fill(p, n, (unsigned char)i);
				}
				continue;
			}
			free(slot[i]);
			slot[i] = NULL;
		} else {
			size[i] = varied_size(&rng) % 200000 + 1;
			slot[i] = malloc(size[i]);
			if (slot[i])
				fill(slot[i], size[i], (unsigned char)i);
		}
	}
	for (int i = 0; i < 64; i++)
		free(slot[i]);
	return NULL;
}

/* What each child does; returns a checksum, or 0 on a failure. */
static uint64_t child_work(void)
{
	enum { LIVE = 256 };
	unsigned char *live[LIVE] = { 0 };
	size_t size[LIVE] = { 0 };
	unsigned char seed[LIVE] = { 0 };
	uint64_t rng = 12345, sum = 0;

	for (int k = 0; k < INHERITED; k += 2) {
		if (!ok(inherited[k], inherited_size[k], (unsigned char)k))
			return 0;
		free(inherited[k]);
		inherited[k] = NULL;
	}
	for (int n = 0; n < CHILD_BLOCKS; n++) {
		unsigned i = xorshift(&rng) % LIVE;
		size_t want = varied_size(&rng);

		if (live[i]) {
			if (!ok(live[i], size[i], seed[i]))
				return 0;
			sum += size[i];
			if (n % 3 == 0) {
				unsigned char *p = realloc(live[i], want);

				if (!p)
					return 0;
				/* The kept prefix survives realloc. */
				size_t kept = want < size[i] ? want : size[i];

				if (!ok(p, kept < 64 ? kept : 64, seed[i]))
					return 0;
				live[i] = p;
			} else {
				free(live[i]);
				live[i] = malloc(want);
				if (!live[i])
					return 0;
			}
		} else {
			live[i] = n % 5 ? malloc(want) : calloc(1, want);
			if (!live[i])
				return 0;
			if (n % 5 == 0 && (live[i][0] || live[i][want - 1]))
				return 0;
		}
		size[i] = want;
		seed[i] = (unsigned char)(i + n);
		fill(live[i], want, seed[i]);
	}
	for (int i = 0; i < LIVE; i++) {
		if (live[i] && !ok(live[i], size[i], seed[i]))
			return 0;
		free(live[i]);
	}
	return sum | 1;
}

int main(void)
{
	pthread_t threads[WORKERS];
	uint64_t rng = 99;
	int failed = 0;

	for (int k = 0; k < INHERITED; k++) {
		inherited_size[k] = varied_size(&rng) % 300000 + 1;
		inherited[k] = malloc(inherited_size[k]);
		if (!inherited[k])
			return 2;
		fill(inherited[k], inherited_size[k], (unsigned char)k);
	}
	for (int t = 0; t < WORKERS; t++)
		if (pthread_create(&threads[t], NULL, worker, (void *)(uintptr_t)t) != 0)
			return 2;

	/* The children's result, passed back through a pipe. */
	uint64_t first = 0;

	for (int c = 0; c < CHILDREN; c++) {
		int fds[2], status;
		pid_t pid;
		uint64_t result = 0;

		usleep(1000 + (c % 7) * 700);
		fflush(stdout);
		if (pipe(fds) != 0)
			return 2;
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 2;
		}
		if (pid == 0) {
			close(fds[0]);
			alarm(CHILD_DEADLINE);
			result = child_work();
			if (write(fds[1], &result, sizeof(result)) != sizeof(result))
				_exit(3);
			exit(result ? 0 : 1);
		}
		close(fds[1]);
		if (read(fds[0], &result, sizeof(result)) != sizeof(result))
			result = 0;
		close(fds[0]);
		if (waitpid(pid, &status, 0) != pid) {
			perror("waitpid");
			return 2;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			failed++;
			if (WIFSIGNALED(status))
				fprintf(stderr, "child %d: killed by signal %d%s\n", c, WTERMSIG(status),
					WTERMSIG(status) == SIGALRM ? " (hung)" : "");
			else
				fprintf(stderr, "child %d: exit status %d\n", c, WEXITSTATUS(status));
		} else if (c == 0) {
			first = result;
		} else if (result != first) {
			failed++;
			fprintf(stderr, "child %d: result %llx, child 0 had %llx\n", c,
				(unsigned long long)result, (unsigned long long)first);
		}
	}
	stop = 1;
	for (int t = 0; t < WORKERS; t++)
		pthread_join(threads[t], NULL);
	for (int k = 0; k < INHERITED; k++) {
		if (!ok(inherited[k], inherited_size[k], (unsigned char)k)) {
			fprintf(stderr, "parent: inherited block %d corrupted\n", k);
			failed++;
		}
		free(inherited[k]);
	}
	printf("children: %d, failed: %d, checksum: %016llx\n", CHILDREN, failed,
	       (unsigned long long)first);
	return failed ? 1 : 0;
}
