/*
 * test_stress.c - many threads allocating and freeing at once, with every
 * byte of every block checked.
 *
 * Each worker runs random operations over its own slot table: an empty
 * slot gets a block of a random order 0..5 and a random migrate type,
 * filled in full with a pattern derived from (thread, slot, generation);
 * a full slot is verified and freed, or handed to another thread through
 * a lock-protected inbox, which verifies and frees it (a cross-thread
 * free).  Some requests ask for __GFP_ZERO and are checked to read zero
 * before they are filled.  Bursts of order-5 requests run the arena into
 * KMEM_LIMIT, where GFP_KERNEL | __GFP_NOWARN requests return NULL (counted
 * and expected).  At the end every block is freed, the lists drained, and
 * every zone must be back to its starting free count with consistent free
 * lists.  A further variant forks while three threads run: each child
 * allocates every order 0..10, checks its zones and exits.  The slab
 * variant has owners allocate from one cache while other threads free
 * into the owners' slabs (active, dry-queued, adopted) and the owners
 * exit under them: no object may change and no slab may be lost.
 *
 * KMEM_STRESS_OPS sets the operations per thread (default 200000, a
 * quarter of that under AddressSanitizer); the DEBUG_VM variant runs a
 * tenth of it.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <criterion/logging.h>
#include "helpers.h"
#include "slab.h"

#define NTHREADS 4
#define SLOTS 512
#define MAX_STRESS_ORDER 5
#define BURST_MAX 2048          /* order-5 blocks: 256 MiB, the whole limit */
#define INBOX_CAP 256

#if defined(__SANITIZE_ADDRESS__)
#define DEFAULT_OPS 50000L
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DEFAULT_OPS 50000L
#endif
#endif
#ifndef DEFAULT_OPS
#define DEFAULT_OPS 200000L
#endif

static const char *const kmem_options[] = {
	"KMEM_LIMIT", "KMEM_HUGEPAGES", "KMEM_PCP_HIGH", "KMEM_PCP_BATCH", "KMEM_PCP_RAMP",
	"KMEM_DEBUG_VM", "KMEM_DECAY_MS", "KMEM_RETAIN", "KMEM_SYSFS_ROOT",
};

static long ops_per_thread(void)
{
	const char *s = getenv("KMEM_STRESS_OPS");
	long n = s ? strtol(s, NULL, 10) : 0;

	return n > 0 ? n : DEFAULT_OPS;
}

/* ---- failures in threads ----------------------------------------------- */

static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int thread_failures;
static char first_failure[512];

#define CHECK(cond, fmt, ...) do {						\
	if (!(cond)) {								\
		pthread_mutex_lock(&fail_lock);					\
		if (!atomic_fetch_add(&thread_failures, 1))			\
			snprintf(first_failure, sizeof(first_failure),		\
				 "line %d: %s: " fmt, __LINE__, #cond, ##__VA_ARGS__); \
		pthread_mutex_unlock(&fail_lock);				\
	}									\
} while (0)

/* ---- patterns ----------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t pattern_seed(int thread, unsigned int slot, uint64_t generation)
{
	return mix64((uint64_t)thread << 48 ^ (uint64_t)slot << 32 ^ generation);
}

static void fill_pattern(struct page *page, unsigned int order, uint64_t seed)
{
	uint64_t *w = page_address(page);
	size_t n = (PAGE_SIZE << order) / sizeof(*w);

	for (size_t i = 0; i < n; i++)
		w[i] = seed + i * 0x2545f4914f6cdd1dULL;
}

/* Index of the first wrong word, or -1. */
static long check_pattern(struct page *page, unsigned int order, uint64_t seed)
{
	const uint64_t *w = page_address(page);
	size_t n = (PAGE_SIZE << order) / sizeof(*w);

	for (size_t i = 0; i < n; i++)
		if (w[i] != seed + i * 0x2545f4914f6cdd1dULL)
			return (long)i;
	return -1;
}

static bool reads_zero(struct page *page, unsigned int order)
{
	const uint64_t *w = page_address(page);
	size_t n = (PAGE_SIZE << order) / sizeof(*w);

	for (size_t i = 0; i < n; i++)
		if (w[i])
			return false;
	return true;
}

/* ---- shared state ------------------------------------------------------- */

struct block {
	struct page *page;
	uint64_t seed;
	unsigned int order;
};

struct inbox {
	pthread_mutex_t lock;
	struct block q[INBOX_CAP];
	unsigned int head, len;
};

struct stress_cfg {
	int nthreads;
	long ops;               /* per thread; 0: until stop */
	int burst_every;        /* ops between bursts; 0: none */
};

struct worker {
	int id;
	const struct stress_cfg *cfg;
	uint64_t rng;
	long allocs, frees, nulls, handed, received, zero_checked, bursts, burst_nulls;
	unsigned long pages_allocated;
	struct block slot[SLOTS];
	uint64_t generation[SLOTS];
	struct block burst_held[BURST_MAX];
};

static struct inbox inboxes[NTHREADS];
static struct worker workers[NTHREADS];
static pthread_barrier_t done_barrier, start_barrier;
static atomic_bool stop;
static struct zone *zones[MAX_NR_ZONES];
static long start_free[MAX_NR_ZONES];

static const gfp_t gfps[] = {
	GFP_KERNEL, GFP_HIGHUSER_MOVABLE, GFP_KERNEL | __GFP_RECLAIMABLE,
};

static bool valid_block(struct page *page, unsigned int order)
{
	struct zone *zone = page_zone(page);
	bool known = false;

	for (int zt = 0; zt < MAX_NR_ZONES; zt++)
		known |= zones[zt] && zone == zones[zt];
	return known && (page_to_pfn(page) & ((1UL << order) - 1)) == 0 &&
	       (page->flags & PAGE_STATE_MASK) == PG_head && page->order == order;
}

static void verify_and_free(struct worker *w, const struct block *b, const char *what)
{
	long bad = check_pattern(b->page, b->order, b->seed);

	CHECK(bad < 0, "thread %d: %s block (order %u, pfn %#lx) corrupted at word %ld",
	      w->id, what, b->order, page_to_pfn(b->page), bad);
	__free_pages(b->page, b->order);
	w->frees++;
}

static bool inbox_push(int to, const struct block *b)
{
	struct inbox *in = &inboxes[to];
	bool ok = false;

	pthread_mutex_lock(&in->lock);
	if (in->len < INBOX_CAP) {
		in->q[(in->head + in->len) % INBOX_CAP] = *b;
		in->len++;
		ok = true;
	}
	pthread_mutex_unlock(&in->lock);
	return ok;
}

static bool inbox_pop(int id, struct block *b)
{
	struct inbox *in = &inboxes[id];
	bool ok = false;

	pthread_mutex_lock(&in->lock);
	if (in->len) {
		*b = in->q[in->head];
		in->head = (in->head + 1) % INBOX_CAP;
		in->len--;
		ok = true;
	}
	pthread_mutex_unlock(&in->lock);
	return ok;
}

static unsigned int random_order(uint64_t *rng)
{
	/* orders 0..5, each half as likely as the one below (5 as 4) */
	return (unsigned int)__builtin_ctzll(test_rand(rng) | (1ULL << MAX_STRESS_ORDER));
}

static bool alloc_into(struct worker *w, struct block *b, unsigned int order,
		       uint64_t seed)
{
	uint64_t r = test_rand(&w->rng);
	gfp_t gfp = gfps[r % ARRAY_SIZE(gfps)] | __GFP_NOWARN;
	bool zero = (r >> 8) % 8 == 0;

	if (zero)
		gfp |= __GFP_ZERO;
	b->page = alloc_pages(gfp, order);
	if (!b->page) {
		w->nulls++;
		return false;
	}
	CHECK(valid_block(b->page, order), "thread %d: bad block order %u flags %#x",
	      w->id, order, b->page->flags);
	if (zero) {
		CHECK(reads_zero(b->page, order), "thread %d: __GFP_ZERO block of order %u is dirty",
		      w->id, order);
		w->zero_checked++;
	}
	b->order = order;
	b->seed = seed;
	fill_pattern(b->page, order, seed);
	w->allocs++;
	w->pages_allocated += 1UL << order;
	return true;
}

/* Take order-5 blocks until the limit says no, then give them all back. */
static void burst(struct worker *w)
{
	struct block *held = w->burst_held;
	int n = 0;

	w->bursts++;
	while (n < BURST_MAX) {
		if (!alloc_into(w, &held[n], MAX_STRESS_ORDER,
				pattern_seed(w->id, SLOTS + (unsigned int)n, (uint64_t)w->bursts))) {
			w->burst_nulls++;
			break;
		}
		n++;
	}
	while (n > 0)
		verify_and_free(w, &held[--n], "burst");
}

static void step(struct worker *w, long i)
{
	uint64_t r = test_rand(&w->rng);
	unsigned int s = (unsigned int)(r % SLOTS);
	struct block *b = &w->slot[s];
	struct block in;

	if (b->page) {
		int to = (int)((r >> 32) % (unsigned)(w->cfg->nthreads - 1));

		to = (w->id + 1 + to) % w->cfg->nthreads;
		if ((r >> 20) % 8 == 0 && inbox_push(to, b)) {
			w->handed++;
		} else {
			verify_and_free(w, b, "own");
		}
		b->page = NULL;
	} else {
		alloc_into(w, b, random_order(&w->rng),
			   pattern_seed(w->id, s, ++w->generation[s]));
	}
	if (i % 8 == 0 && inbox_pop(w->id, &in)) {
		w->received++;
		verify_and_free(w, &in, "handed-over");
	}
	if (w->cfg->burst_every && i % w->cfg->burst_every == w->cfg->burst_every / 2)
		burst(w);
}

static void *stress_worker(void *arg)
{
	struct worker *w = arg;
	struct block in;

	pthread_barrier_wait(&start_barrier);
	for (long i = 0; w->cfg->ops ? i < w->cfg->ops : !atomic_load(&stop); i++)
		step(w, i);
	for (unsigned int s = 0; s < SLOTS; s++) {
		if (w->slot[s].page) {
			verify_and_free(w, &w->slot[s], "final");
			w->slot[s].page = NULL;
		}
	}
	/* Nobody hands anything over past this point. */
	pthread_barrier_wait(&done_barrier);
	while (inbox_pop(w->id, &in)) {
		w->received++;
		verify_and_free(w, &in, "handed-over");
	}
	return NULL;
}

static void stress_init(const char *debug_vm)
{
	char sysfs[600];

	for (size_t i = 0; i < ARRAY_SIZE(kmem_options); i++)
		unsetenv(kmem_options[i]);
	snprintf(sysfs, sizeof(sysfs), "KMEM_SYSFS_ROOT=%s", test_sysfs("1node"));
	/* A short decay so that memory also goes back to the OS and comes
	 * back (as zeroes) while the threads run. */
	kmem_test_init("KMEM_LIMIT=256M", "KMEM_HUGEPAGES=off", "KMEM_DECAY_MS=20",
		       "KMEM_RETAIN=0", debug_vm, sysfs, NULL);
	for (int zt = 0; zt < MAX_NR_ZONES; zt++) {
		struct zone *zone = kmem_zone(0, (enum zone_type)zt);

		zones[zt] = zone && populated_zone(zone) ? zone : NULL;
		start_free[zt] = zones[zt] ? zone_page_state(zones[zt]) : 0;
		if (zones[zt])
			cr_assert_eq(start_free[zt], (long)zones[zt]->managed_pages);
	}
	cr_assert_not_null(zones[ZONE_DMA]);
	cr_assert_not_null(zones[ZONE_DMA32]);
	cr_assert_eq(zones[ZONE_DMA]->managed_pages + zones[ZONE_DMA32]->managed_pages, 65536);
}

static void start_workers(pthread_t *tids, const struct stress_cfg *cfg, int extra_at_start)
{
	memset(workers, 0, sizeof(workers));
	for (int i = 0; i < NTHREADS; i++) {
		pthread_mutex_init(&inboxes[i].lock, NULL);
		inboxes[i].head = inboxes[i].len = 0;
	}
	cr_assert_eq(pthread_barrier_init(&start_barrier, NULL,
					  (unsigned)(cfg->nthreads + extra_at_start)), 0);
	cr_assert_eq(pthread_barrier_init(&done_barrier, NULL, (unsigned)cfg->nthreads), 0);
	for (int i = 0; i < cfg->nthreads; i++) {
		workers[i].id = i;
		workers[i].cfg = cfg;
		workers[i].rng = mix64(0x5eed0000ULL + (uint64_t)i) | 1;
		cr_assert_eq(pthread_create(&tids[i], NULL, stress_worker, &workers[i]), 0);
	}
}

struct totals {
	long allocs, frees, nulls, handed, received, zero_checked, bursts, burst_nulls;
};

static struct totals join_workers(pthread_t *tids, const struct stress_cfg *cfg)
{
	struct totals t = { 0 };

	for (int i = 0; i < cfg->nthreads; i++) {
		cr_assert_eq(pthread_join(tids[i], NULL), 0);
		t.allocs += workers[i].allocs;
		t.frees += workers[i].frees;
		t.nulls += workers[i].nulls;
		t.handed += workers[i].handed;
		t.received += workers[i].received;
		t.zero_checked += workers[i].zero_checked;
		t.bursts += workers[i].bursts;
		t.burst_nulls += workers[i].burst_nulls;
	}
	cr_assert_eq(atomic_load(&thread_failures), 0, "%d failure(s) in threads; first: %s",
		     atomic_load(&thread_failures), first_failure);
	return t;
}

static void assert_all_back(void)
{
	drain_all_pages();
	for (int zt = 0; zt < MAX_NR_ZONES; zt++) {
		if (!zones[zt])
			continue;
		cr_assert_eq(zone_page_state(zones[zt]), start_free[zt],
			     "zone %s: %ld free pages, %ld at the start", zones[zt]->name,
			     zone_page_state(zones[zt]), start_free[zt]);
		cr_assert_leq(zones[zt]->released_pages, zones[zt]->online_pages);
	}
	cr_assert_eq(kmem_check_all(), 0);
}

static void run_stress(long ops, int burst_every)
{
	struct stress_cfg cfg = { .nthreads = NTHREADS, .ops = ops, .burst_every = burst_every };
	pthread_t tids[NTHREADS];
	struct totals t;

	start_workers(tids, &cfg, 0);
	t = join_workers(tids, &cfg);
	/* Every block allocated was freed once; the handed-over ones by
	 * another thread. */
	cr_assert_eq(t.allocs, t.frees, "%ld allocated, %ld freed", t.allocs, t.frees);
	cr_assert_eq(t.handed, t.received);
	cr_assert_gt(t.handed, 0);
	cr_assert_gt(t.zero_checked, 0);
	if (burst_every) {
		cr_assert_gt(t.bursts, 0);
		/* A burst asks for the whole limit: each one ends in a NULL. */
		cr_assert_eq(t.burst_nulls, t.bursts);
		cr_assert_geq(t.nulls, t.bursts);
	}
	cr_log_info("stress: %ld ops/thread, %ld allocations, %ld handed over, %ld NULL, "
		    "%ld zero-checked, %ld bursts, %lu pages released, %lu refaulted",
		    ops, t.allocs, t.handed, t.nulls, t.zero_checked, t.bursts,
		    zones[ZONE_DMA32]->ev.pages_released, zones[ZONE_DMA32]->ev.pages_refaulted);
	assert_all_back();
}

TestSuite(stress, .timeout = 300);

Test(stress, four_threads_random_orders_types_and_handoffs)
{
	long ops = ops_per_thread();

	stress_init("KMEM_DEBUG_VM=0");
	run_stress(ops, (int)ops);      /* one burst per thread, half-way */
}

Test(stress, four_threads_with_debug_vm)
{
	long ops = ops_per_thread() / 10;

	stress_init("KMEM_DEBUG_VM=1");
	run_stress(ops, (int)ops);
	cr_assert_eq(kmem_vm_bugs, 0);
}

/* ---- fork under load ---------------------------------------------------- */

#define NFORKS 8

/* Runs in the child: only this thread is left, with its own lists. */
static int child_checks(void)
{
	struct page *p[MAX_ORDER + 1];
	long nstates;

	pthread_mutex_lock(&kmem_threads_lock);
	nstates = 0;
	{
		struct list_head *pos;

		list_for_each(pos, &kmem_threads)
			nstates++;
	}
	if (nstates != 1 || list_first_entry(&kmem_threads, struct kmem_thread,
					     thread_list) != kmem_current) {
		pthread_mutex_unlock(&kmem_threads_lock);
		return 10;
	}
	pthread_mutex_unlock(&kmem_threads_lock);
	if (kmem_check_all() != 0)
		return 11;
	for (unsigned int o = 0; o <= MAX_ORDER; o++) {
		p[o] = alloc_pages(GFP_KERNEL | __GFP_NOWARN, o);
		if (!p[o])
			return 20 + (int)o;
		if ((p[o]->flags & PAGE_STATE_MASK) != PG_head || p[o]->order != o)
			return 40;
		fill_pattern(p[o], o, mix64(o));
	}
	for (unsigned int o = 0; o <= MAX_ORDER; o++) {
		if (check_pattern(p[o], o, mix64(o)) >= 0)
			return 50 + (int)o;
		__free_pages(p[o], o);
	}
	drain_local_pages();
	if (kmem_check_all() != 0)
		return 12;
	return 0;
}

Test(stress, fork_while_threads_allocate)
{
	struct stress_cfg cfg = { .nthreads = 3, .ops = 0, .burst_every = 0 };
	pthread_t tids[NTHREADS];
	struct page *mine;
	struct totals t;
	int statuses[NFORKS];

	stress_init("KMEM_DEBUG_VM=0");
	/* The forking thread has lists of its own, holding a page. */
	mine = alloc_page(GFP_KERNEL);
	cr_assert_not_null(mine);
	fill_pattern(mine, 0, 77);
	atomic_store(&stop, false);
	start_workers(tids, &cfg, 1);
	pthread_barrier_wait(&start_barrier);
	for (int f = 0; f < NFORKS; f++) {
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		pid_t pid;

		nanosleep(&ts, NULL);       /* let the workers get going */
		pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0)
			_exit(child_checks());
		cr_assert_eq(waitpid(pid, &statuses[f], 0), pid);
	}
	atomic_store(&stop, true);
	t = join_workers(tids, &cfg);
	for (int f = 0; f < NFORKS; f++)
		cr_assert(WIFEXITED(statuses[f]) && WEXITSTATUS(statuses[f]) == 0,
			  "child %d: status %#x (exit code %d)", f, statuses[f],
			  WIFEXITED(statuses[f]) ? WEXITSTATUS(statuses[f]) : -1);
	cr_assert_gt(t.allocs, 0);
	cr_assert_eq(t.allocs, t.frees);
	cr_assert_eq(check_pattern(mine, 0, 77), -1);
	__free_page(mine);
	assert_all_back();
}

/* ---- slab: remote frees into live, dry and exiting owners' slabs --------- */

#define SLAB_OBJ 136
#define SLAB_FREERS 3
#define SLAB_ROUNDS 8
#define SLAB_WINDOW 64

static struct kmem_cache *slab_stress_cache;
static pthread_mutex_t slab_inbox_lock = PTHREAD_MUTEX_INITIALIZER;
static void *slab_inbox[INBOX_CAP];
static int slab_inbox_n;
static atomic_bool slab_owner_done;
static atomic_long slab_bad, slab_remote_frees;

static void slab_stamp(void *obj, uint64_t tag)
{
	memcpy(obj, &tag, sizeof(tag));
	memset((char *)obj + sizeof(tag), (int)(tag % 251), SLAB_OBJ - sizeof(tag));
}

static void slab_check_free(void *obj)
{
	const unsigned char *p = obj;
	uint64_t tag;

	memcpy(&tag, p, sizeof(tag));
	for (size_t i = sizeof(tag); i < SLAB_OBJ; i++)
		if (p[i] != (unsigned char)(tag % 251)) {
			atomic_fetch_add(&slab_bad, 1);
			break;
		}
	kmem_cache_free(slab_stress_cache, obj);
}

static bool slab_inbox_push(void *obj)
{
	bool ok;

	pthread_mutex_lock(&slab_inbox_lock);
	ok = slab_inbox_n < INBOX_CAP;
	if (ok)
		slab_inbox[slab_inbox_n++] = obj;
	pthread_mutex_unlock(&slab_inbox_lock);
	return ok;
}

static void *slab_inbox_pop(void)
{
	void *obj = NULL;

	pthread_mutex_lock(&slab_inbox_lock);
	if (slab_inbox_n)
		obj = slab_inbox[--slab_inbox_n];
	pthread_mutex_unlock(&slab_inbox_lock);
	return obj;
}

/* Allocates, keeps a window it frees locally, hands the rest over; exits
 * with objects still out in other threads' hands. */
static void *slab_owner_thread(void *arg)
{
	uint64_t rng = (uint64_t)(uintptr_t)arg * 7919 + 1, seq = (uint64_t)(uintptr_t)arg << 32;
	long ops = ops_per_thread() / 4;
	void *window[SLAB_WINDOW] = { 0 };

	for (long i = 0; i < ops; i++) {
		void *obj = kmem_cache_alloc(slab_stress_cache, GFP_KERNEL);
		uint64_t r = test_rand(&rng);

		if (!obj) {
			atomic_fetch_add(&slab_bad, 1);
			continue;
		}
		slab_stamp(obj, ++seq);
		if (r & 1) {
			unsigned int k = (unsigned int)(r >> 8) % SLAB_WINDOW;

			if (window[k])
				slab_check_free(window[k]);
			window[k] = obj;
		} else {
			while (!slab_inbox_push(obj))
				sched_yield();
		}
	}
	/* half the window goes to the freers too, after this thread is gone */
	for (unsigned int k = 0; k < SLAB_WINDOW; k++)
		if (window[k] && (k & 1) && slab_inbox_push(window[k]))
			window[k] = NULL;
	for (unsigned int k = 0; k < SLAB_WINDOW; k++)
		if (window[k])
			slab_check_free(window[k]);
	return NULL;
}

static void *slab_freer_thread(void *arg)
{
	(void)arg;
	for (;;) {
		void *obj = slab_inbox_pop();

		if (obj) {
			slab_check_free(obj);
			atomic_fetch_add(&slab_remote_frees, 1);
		} else if (atomic_load(&slab_owner_done)) {
			break;
		} else {
			sched_yield();
		}
	}
	return NULL;
}

/* Rounds of one owner and SLAB_FREERS freers on cache s; every object
 * is free at the end and shrink gives back every slab. */
static void slab_remote_stress(struct kmem_cache *s)
{
	long slabs = 0;
	int nid;

	slab_stress_cache = s;
	cr_assert_not_null(slab_stress_cache);
	for (int round = 0; round < SLAB_ROUNDS; round++) {
		pthread_t owner, freers[SLAB_FREERS];

		atomic_store(&slab_owner_done, false);
		for (int i = 0; i < SLAB_FREERS; i++)
			cr_assert_eq(pthread_create(&freers[i], NULL, slab_freer_thread, NULL), 0);
		cr_assert_eq(pthread_create(&owner, NULL, slab_owner_thread,
					    (void *)(uintptr_t)(round + 1)), 0);
		pthread_join(owner, NULL);
		atomic_store(&slab_owner_done, true);
		for (int i = 0; i < SLAB_FREERS; i++)
			pthread_join(freers[i], NULL);
		cr_assert_eq(slab_inbox_n, 0);
	}
	cr_assert_eq(atomic_load(&slab_bad), 0, "%ld objects changed or allocations failed",
		     atomic_load(&slab_bad));
	cr_assert_gt(atomic_load(&slab_remote_frees), 0);
	cr_log_info("slab stress: %ld remote frees", atomic_load(&slab_remote_frees));
	/* every object is free and no slab was lost: shrink gives all back */
	kmem_cache_shrink(slab_stress_cache);
	for_each_online_node(nid)
		slabs += atomic_load(&slab_stress_cache->node[nid]->nr_slabs);
	cr_assert_eq(slabs, 0, "%ld slabs left after every object was freed", slabs);
}

Test(stress, slab_remote_frees_race_owners_and_their_exit)
{
	stress_init("KMEM_DEBUG_VM=0");
	slab_remote_stress(kmem_cache_create("stress-slab", SLAB_OBJ, 0, SLAB_NO_MERGE, NULL));
	kmem_cache_destroy(slab_stress_cache);
	assert_all_back();
}

/* The same on a kmalloc cache, whose remote frees wait in batches. */
Test(stress, kmalloc_remote_batches_race_owners_and_their_exit)
{
	stress_init("KMEM_DEBUG_VM=0");
	cr_assert_gt(kmalloc_caches[kmalloc_index(SLAB_OBJ)]->remote_batch, 1);
	slab_remote_stress(kmalloc_caches[kmalloc_index(SLAB_OBJ)]);
	assert_all_back();
}
