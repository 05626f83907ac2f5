/*
 * alloc_bench - allocation patterns for bench/run, one mode per pattern.
 * Every mode prints one line, "MODE checksum HEX", computed from values
 * written into the objects and read back before they are freed; it depends
 * only on the arguments (never on addresses or thread scheduling), so it
 * must be the same under every allocator.
 *
 *   alloc_bench fixed SIZE ROUNDS
 *       single thread: per round, malloc 256 objects of SIZE bytes, write
 *       their first and last word, then read and free them in allocation
 *       order (FIFO), except the last, which lives 64 rounds more (a live
 *       heap, as in a real program, rather than an empty one each round).
 *   alloc_bench larson THREADS SLOTS GENERATIONS STEPS
 *       larson-like server pattern: each thread owns SLOTS live objects of
 *       random sizes (16..1024, 1/64 up to 8 KiB) and STEPS times frees a
 *       random one and allocates a new random size in its place.  After each
 *       generation the threads exit and new threads inherit their arrays,
 *       so most frees are of objects a dead thread allocated.
 *   alloc_bench realloc BUFFERS MAXSIZE
 *       realloc growth: 8 buffers grow side by side by 1..256 bytes a step
 *       (every byte written, content checked after each move) up to a random
 *       size below MAXSIZE; every 64th buffer doubles up to 16 MiB instead.
 *   alloc_bench prodcons MESSAGES
 *       one producer thread mallocs messages (16..512 bytes, 1/32 up to
 *       4 KiB) and hands them through a lock-free ring to one consumer
 *       thread, which reads and frees them: every free is cross-thread.
 *   alloc_bench churn THREADS CONCURRENT OPS
 *       thread churn: THREADS threads in total, CONCURRENT at a time, each
 *       doing OPS malloc/free steps over a window of 64 objects; the window
 *       left at exit is freed by a thread of the next wave.
 *   alloc_bench threads THREADS TOTAL_OPS
 *       independent work: TOTAL_OPS malloc/free steps split evenly over
 *       THREADS threads, each over its own window of 512 objects of random
 *       sizes (16..512, 1/32 up to 8 KiB).  The total is fixed, so on 2
 *       cores 2 threads ideally take half the time of 1, and 4 or 8 the
 *       same as 2.
 *   alloc_bench window SIZE STEPS
 *       (not one of bench/run's rows) one thread, a window of 512 live
 *       objects of SIZE bytes (0: threads' random sizes): STEPS times a
 *       random one is freed and a new one takes its place, as in a hash
 *       table or a tree, so frees land at random among a class's slabs
 *       or pages.
 *   alloc_bench pool THREADS SIZE
 *       an idle thread pool (not one of bench/run's rows): each thread
 *       4 times mallocs 512 objects of SIZE bytes and frees them, then
 *       all wait; 300 ms later the process's VmRSS, the memory an idle
 *       pool keeps, goes to stderr ("pool idle RSS N KB").
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEEP(p) __asm__ volatile("" : : "r"(p) : "memory")

static void die(const char *what)
{
	fprintf(stderr, "alloc_bench: %s\n", what);
	exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		die("malloc failed");
	KEEP(p);
	return p;
}

static uint64_t rng_next(uint64_t *s)
{
	/* splitmix64: good enough and tiny */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	return (h ^ v) * 0x100000001b3ull + (v >> 7);
}

/* An object carries its size and a tag in its first 16 bytes and the tag
 * again in its last word; sizes are at least 16. */
struct obj {
	uint64_t size;
	uint64_t tag;
};

static void *obj_new(size_t size, uint64_t tag)
{
	struct obj *o = xmalloc(size);

	o->size = size;
	o->tag = tag;
	if (size >= 24)
		memcpy((char *)o + size - 8, &tag, 8);
	return o;
}

static uint64_t obj_free(void *p)
{
	struct obj *o = p;
	uint64_t tag2 = o->tag;

	if (o->size >= 24)
		memcpy(&tag2, (char *)o + o->size - 8, 8);
	if (tag2 != o->tag)
		die("object corrupted");
	uint64_t h = mix(o->tag, o->size);
	free(p);
	return h;
}

/* 16..512 mostly, 1/RARE up to BIG */
static size_t rand_size(uint64_t *s, size_t small, unsigned rare, size_t big)
{
	uint64_t r = rng_next(s);

	if (rare && r % rare == 0)
		return 16 + (r >> 20) % (big - 16);
	return 16 + (r >> 20) % (small - 15);
}

/* ---- fixed ---- */
static uint64_t run_fixed(size_t size, long rounds)
{
	enum { BATCH = 256, KEEP_ROUNDS = 64 };
	void **p = xmalloc(BATCH * sizeof(*p));
	void *kept[KEEP_ROUNDS] = { 0 };
	uint64_t h = 0;

	if (size < 16)
		size = 16;
	for (long r = 0; r < rounds; r++) {
		for (int i = 0; i < BATCH; i++)
			p[i] = obj_new(size, (uint64_t)r * BATCH + i);
		/* the batch's last object outlives it by KEEP_ROUNDS rounds */
		for (int i = 0; i < BATCH - 1; i++)
			h += obj_free(p[i]);
		if (kept[r % KEEP_ROUNDS])
			h += obj_free(kept[r % KEEP_ROUNDS]);
		kept[r % KEEP_ROUNDS] = p[BATCH - 1];
	}
	for (int k = 0; k < KEEP_ROUNDS; k++)
		if (kept[k])
			h += obj_free(kept[k]);
	free(p);
	return h;
}

/* ---- larson ---- */
struct larson_state {
	void **slot;
	long nslots, steps;
	uint64_t rng, h;
};

static void *larson_thread(void *arg)
{
	struct larson_state *st = arg;

	for (long i = 0; i < st->steps; i++) {
		uint64_t r = rng_next(&st->rng);
		long k = r % st->nslots;

		st->h += obj_free(st->slot[k]);
		st->slot[k] = obj_new(rand_size(&st->rng, 1024, 64, 8192), r);
	}
	return NULL;
}

static uint64_t run_larson(int nthreads, long nslots, int gens, long steps)
{
	struct larson_state *st = xmalloc(nthreads * sizeof(*st));
	pthread_t *tid = xmalloc(nthreads * sizeof(*tid));
	uint64_t h = 0;

	for (int t = 0; t < nthreads; t++) {
		st[t].slot = xmalloc(nslots * sizeof(void *));
		st[t].nslots = nslots;
		st[t].steps = steps;
		st[t].rng = 1000 + t;
		st[t].h = 0;
		for (long k = 0; k < nslots; k++)
			st[t].slot[k] = obj_new(rand_size(&st[t].rng, 1024, 64, 8192), k);
	}
	for (int g = 0; g < gens; g++) {
		for (int t = 0; t < nthreads; t++)
			if (pthread_create(&tid[t], NULL, larson_thread, &st[t]))
				die("pthread_create");
		for (int t = 0; t < nthreads; t++)
			pthread_join(tid[t], NULL);
	}
	for (int t = 0; t < nthreads; t++) {
		for (long k = 0; k < nslots; k++)
			st[t].h += obj_free(st[t].slot[k]);
		free(st[t].slot);
		h = mix(h, st[t].h);
	}
	free(st);
	free(tid);
	return h;
}

/* ---- realloc ---- */
static uint64_t run_realloc(long nbuf, size_t maxsize)
{
	enum { SIDE = 8 };
	unsigned char *b[SIDE] = { 0 };
	size_t len[SIDE] = { 0 }, target[SIDE] = { 0 };
	uint64_t rng = 42, h = 0;
	long started = 0, done = 0;

	while (done < nbuf) {
		for (int i = 0; i < SIDE; i++) {
			if (!b[i]) {
				if (started >= nbuf)
					continue;
				started++;
				len[i] = 0;
				target[i] = started % 64 == 0 ? (16u << 20)
					: 64 + rng_next(&rng) % (maxsize - 64);
			}
			size_t old = len[i], add;
			if (target[i] == (16u << 20))
				add = old ? old : 4096;	/* doubling */
			else
				add = 1 + rng_next(&rng) % 256;
			if (old + add > target[i])
				add = target[i] - old;
			unsigned char *n = realloc(b[i], old + add);
			if (!n)
				die("realloc failed");
			KEEP(n);
			if (old && (n[0] != (unsigned char)i ||
				    (old > 1 && n[old - 1] != (unsigned char)(old - 1))))
				die("realloc lost content");
			if (add > 64) {
				memset(n + old, (unsigned char)(old + add - 1), add);
				n[old + add - 1] = (unsigned char)(old + add - 1);
				n[old] = (unsigned char)old;
			} else {
				for (size_t j = old; j < old + add; j++)
					n[j] = (unsigned char)j;
			}
			if (old == 0)
				n[0] = (unsigned char)i;
			b[i] = n;
			len[i] = old + add;
			if (len[i] >= target[i]) {
				h = mix(h, len[i] + n[len[i] / 2]);
				free(n);
				b[i] = NULL;
				done++;
			}
		}
	}
	return h;
}

/* ---- producer/consumer ---- */
#define RING 4096
static _Atomic(void *) ring[RING];
static _Atomic long ring_head, ring_tail;	/* head: next to write */

static void backoff(int *spins)
{
	if (++*spins < 64)
		__builtin_ia32_pause();
	else
		sched_yield();
}

static void *producer(void *arg)
{
	long n = *(long *)arg;
	uint64_t rng = 7;

	for (long i = 0; i < n; i++) {
		void *m = obj_new(rand_size(&rng, 512, 32, 4096), i);
		long head = atomic_load_explicit(&ring_head, memory_order_relaxed);
		int spins = 0;

		while (head - atomic_load_explicit(&ring_tail, memory_order_acquire) >= RING)
			backoff(&spins);
		atomic_store_explicit(&ring[head % RING], m, memory_order_relaxed);
		atomic_store_explicit(&ring_head, head + 1, memory_order_release);
	}
	return NULL;
}

static uint64_t run_prodcons(long n)
{
	pthread_t tid;
	uint64_t h = 0;

	if (pthread_create(&tid, NULL, producer, &n))
		die("pthread_create");
	for (long i = 0; i < n; i++) {
		int spins = 0;

		while (atomic_load_explicit(&ring_head, memory_order_acquire) <= i)
			backoff(&spins);
		void *m = atomic_load_explicit(&ring[i % RING], memory_order_relaxed);
		atomic_store_explicit(&ring_tail, i + 1, memory_order_release);
		h += obj_free(m);
	}
	pthread_join(tid, NULL);
	return h;
}

/* ---- churn ---- */
enum { WINDOW = 64 };
struct churn_state {
	void *win[WINDOW];	/* left by the previous thread in this lane */
	long ops;
	uint64_t rng, h;
};

static void *churn_thread(void *arg)
{
	struct churn_state *st = arg;

	for (long i = 0; i < st->ops; i++) {
		int k = i % WINDOW;

		if (st->win[k])
			st->h += obj_free(st->win[k]);
		st->win[k] = obj_new(rand_size(&st->rng, 512, 32, 8192), i);
	}
	return NULL;
}

static uint64_t run_churn(long total, int conc, long ops)
{
	struct churn_state *st = calloc(conc, sizeof(*st));
	pthread_t *tid = xmalloc(conc * sizeof(*tid));
	uint64_t h = 0;

	if (!st)
		die("calloc failed");
	for (int t = 0; t < conc; t++) {
		st[t].ops = ops;
		st[t].rng = 77 + t;
	}
	for (long started = 0; started < total; started += conc) {
		for (int t = 0; t < conc; t++)
			if (pthread_create(&tid[t], NULL, churn_thread, &st[t]))
				die("pthread_create");
		for (int t = 0; t < conc; t++)
			pthread_join(tid[t], NULL);
	}
	for (int t = 0; t < conc; t++) {
		for (int k = 0; k < WINDOW; k++)
			if (st[t].win[k])
				st[t].h += obj_free(st[t].win[k]);
		h = mix(h, st[t].h);
	}
	free(st);
	free(tid);
	return h;
}

/* ---- independent threads ---- */
struct work_state {
	long ops;
	uint64_t rng, h;
};

static void *work_thread(void *arg)
{
	enum { WIN = 512 };
	struct work_state *st = arg;
	void **win = calloc(WIN, sizeof(void *));

	if (!win)
		die("calloc failed");
	for (long i = 0; i < st->ops; i++) {
		uint64_t r = rng_next(&st->rng);
		int k = r % WIN;

		if (win[k])
			st->h += obj_free(win[k]);
		win[k] = obj_new(rand_size(&st->rng, 512, 32, 8192), i);
	}
	for (int k = 0; k < WIN; k++)
		if (win[k])
			st->h += obj_free(win[k]);
	free(win);
	return NULL;
}

static uint64_t run_window(size_t size, long steps)
{
	enum { WIN = 512 };
	void **win = calloc(WIN, sizeof(void *));
	uint64_t rng = 0x9e3779b97f4a7c15ULL, h = 0;

	if (!win)
		die("calloc failed");
	if (size && size < 16)
		size = 16;
	for (long i = 0; i < steps; i++) {
		int k = (int)(rng_next(&rng) % WIN);

		if (win[k])
			h += obj_free(win[k]);
		win[k] = obj_new(size ? size : rand_size(&rng, 512, 32, 8192), (uint64_t)i);
	}
	for (int k = 0; k < WIN; k++)
		if (win[k])
			h += obj_free(win[k]);
	free(win);
	return h;
}

/* Start fn on each of st[0..n-1]; join_workers waits for them, adds up
 * their h and frees st and the thread ids. */
static pthread_t *start_workers(int n, void *(*fn)(void *), struct work_state *st)
{
	pthread_t *tid = xmalloc(n * sizeof(*tid));

	for (int t = 0; t < n; t++)
		if (pthread_create(&tid[t], NULL, fn, &st[t]))
			die("pthread_create");
	return tid;
}

static uint64_t join_workers(int n, pthread_t *tid, struct work_state *st)
{
	uint64_t h = 0;

	for (int t = 0; t < n; t++) {
		pthread_join(tid[t], NULL);
		h += st[t].h;
	}
	free(st);
	free(tid);
	return h;
}

static uint64_t run_threads(int nthreads, long total)
{
	struct work_state *st = xmalloc(nthreads * sizeof(*st));

	/* the same per-thread streams whatever the thread count */
	for (int t = 0; t < nthreads; t++) {
		st[t].ops = total / nthreads;
		st[t].rng = 5;
		st[t].h = 0;
	}
	return join_workers(nthreads, start_workers(nthreads, work_thread, st), st);
}

/* ---- idle pool ---- */
static pthread_barrier_t pool_idle, pool_release;

/* st->ops is the object size */
static void *pool_thread(void *arg)
{
	enum { OBJS = 512, ROUNDS = 4 };
	struct work_state *st = arg;
	void *objs[OBJS];

	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < OBJS; i++)
			objs[i] = obj_new((size_t)st->ops, (uint64_t)r * OBJS + i);
		for (int i = 0; i < OBJS; i++)
			st->h += obj_free(objs[i]);
	}
	pthread_barrier_wait(&pool_idle);
	pthread_barrier_wait(&pool_release);
	return NULL;
}

static long vm_rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

static uint64_t run_pool(int nthreads, long size)
{
	struct work_state *st;
	pthread_t *tid;

	if (nthreads < 1 || size < 16)
		die("pool: at least 1 thread and 16 bytes");
	st = xmalloc(nthreads * sizeof(*st));
	for (int t = 0; t < nthreads; t++)
		st[t] = (struct work_state){ .ops = size };
	pthread_barrier_init(&pool_idle, NULL, nthreads + 1);
	pthread_barrier_init(&pool_release, NULL, nthreads + 1);
	tid = start_workers(nthreads, pool_thread, st);
	pthread_barrier_wait(&pool_idle);
	usleep(300 * 1000);
	fprintf(stderr, "pool idle RSS %ld KB\n", vm_rss_kb());
	pthread_barrier_wait(&pool_release);
	return join_workers(nthreads, tid, st);
}

static long arg(int argc, char **argv, int i)
{
	if (i >= argc)
		die("missing argument (see the comment at the top of alloc_bench.c)");
	return strtol(argv[i], NULL, 0);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: alloc_bench MODE ARGS...");
	const char *m = argv[1];
	uint64_t h;

	if (!strcmp(m, "fixed"))
		h = run_fixed(arg(argc, argv, 2), arg(argc, argv, 3));
	else if (!strcmp(m, "larson"))
		h = run_larson(arg(argc, argv, 2), arg(argc, argv, 3),
			       arg(argc, argv, 4), arg(argc, argv, 5));
	else if (!strcmp(m, "realloc"))
		h = run_realloc(arg(argc, argv, 2), arg(argc, argv, 3));
	else if (!strcmp(m, "prodcons"))
		h = run_prodcons(arg(argc, argv, 2));
	else if (!strcmp(m, "churn"))
		h = run_churn(arg(argc, argv, 2), arg(argc, argv, 3), arg(argc, argv, 4));
	else if (!strcmp(m, "threads"))
		h = run_threads(arg(argc, argv, 2), arg(argc, argv, 3));
	else if (!strcmp(m, "window"))
		h = run_window((size_t)arg(argc, argv, 2), arg(argc, argv, 3));
	else if (!strcmp(m, "pool"))
		h = run_pool(arg(argc, argv, 2), arg(argc, argv, 3));
	else
		die("unknown mode");
	printf("%s checksum %016llx\n", m, (unsigned long long)h);
	return 0;
}
