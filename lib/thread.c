/*
 * thread.c - per-thread state: created on a thread's first allocation,
 * handed back at thread exit, and made consistent across fork.
 *
 * A thread's state (struct kmem_thread) holds its kmem_cache_cpu for every
 * slab cache and its per_cpu_pages for every zone; it is reached through
 * one initial-exec TLS pointer.  At exit its cached large blocks go back,
 * its slabs become node-partial or
 * full (objects freed later by other threads still land correctly) and its
 * pages go back to the zones; the state is recycled.  From then on, other
 * TLS destructors that still allocate or free use kmem_thread_dead, whose
 * lists are never used.
 *
 * fork: the prepare handler takes every lock in the global order
 * (slab_mutex, each cache's node list_locks, kmem_threads_lock, every
 * thread's pcp locks, every zone lock, vmap_lock); the child then hands
 * the other threads' slabs and pages back, as if they had exited.
 */
#include <pthread.h>
#include <sys/mman.h>
#include "kmalloc.h"
#include "slob.h"

/*
 * The two list-less states are all zero, uses_lists included, and stay
 * so: in .bss their 42 KiB cost no memory.  (They used to be marked
 * exiting at startup, a write that kept a page of each resident.)
 */
struct kmem_thread kmem_thread_unset __large_bss;
atomic_int kmem_nr_threads;
__thread struct kmem_thread *kmem_current __attribute__((tls_model("initial-exec"))) =
	&kmem_thread_unset;

pthread_mutex_t kmem_threads_lock = PTHREAD_MUTEX_INITIALIZER;
struct list_head kmem_threads = LIST_HEAD_INIT(kmem_threads);
pthread_key_t kmem_thread_key;

static struct kmem_thread kmem_thread_dead __large_bss;

/* Recycled states, under kmem_threads_lock.  They are metadata, so they
 * come from the OS directly rather than from the arena they describe. */
static struct list_head free_threads = LIST_HEAD_INIT(free_threads);

static size_t thread_size(void)
{
	return ALIGN_UP(sizeof(struct kmem_thread) +
			(size_t)kmem_topology.nr_node_ids * MAX_NR_ZONES *
			sizeof(struct per_cpu_pages), PAGE_SIZE);
}

static struct kmem_thread *thread_state_alloc(void)
{
	size_t size = thread_size();
	struct kmem_thread *t;

	if (!list_empty(&free_threads)) {
		t = list_first_entry(&free_threads, struct kmem_thread, thread_list);
		list_del(&t->thread_list);
		return t;
	}
	t = kmem_os.mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return NULL;
	t->mapped = size;
	return t;
}

struct kmem_thread *kmem_thread_init(void)
{
	struct kmem_thread *t;

	pthread_mutex_lock(&kmem_threads_lock);
	t = thread_state_alloc();
	if (!t) {
		pthread_mutex_unlock(&kmem_threads_lock);
		/* No memory for lists: run without them. */
		kmem_current = &kmem_thread_dead;
		return kmem_current;
	}
	t->uses_lists = true;
	t->tid = os_gettid();
	pcp_init_thread(t);
	list_add(&t->thread_list, &kmem_threads);
	atomic_fetch_add_explicit(&kmem_nr_threads, 1, memory_order_relaxed);
	pthread_mutex_unlock(&kmem_threads_lock);
	kmem_current = t;
	pthread_setspecific(kmem_thread_key, t);
	return t;
}

/* Hand back everything t holds; t is not running (exited, or gone in a
 * fork child).  Caller holds kmem_threads_lock; t leaves kmem_threads. */
static void thread_release(struct kmem_thread *t)
{
	slob_thread_release(t);
	drain_pages(t, NULL);
	list_del(&t->thread_list);
	atomic_fetch_sub_explicit(&kmem_nr_threads, 1, memory_order_relaxed);
	t->uses_lists = false;
	list_add(&t->thread_list, &free_threads);
}

/* pthread key destructor: runs at thread exit with the thread's state. */
void kmem_thread_exit(void *arg)
{
	struct kmem_thread *t = arg;

	if (!t || t == &kmem_thread_dead || thread_unset(t))
		return;
	/* Frees from later destructors go straight to slabs and zones. */
	kmem_current = &kmem_thread_dead;
	kmalloc_large_drain(t);
	slab_flush_thread(t);
	pthread_mutex_lock(&kmem_threads_lock);
	thread_release(t);
	pthread_mutex_unlock(&kmem_threads_lock);
}

/* ---- fork ------------------------------------------------------------- */

static void node_list_locks(int lock)
{
	struct kmem_cache *s;
	int nid;

	list_for_each_entry(s, &slab_caches, list) {
		for_each_online_node(nid) {
			spinlock_t *l = &s->node[nid]->list_lock;

			if (lock > 0)
				spin_lock(l);
			else if (lock == 0)
				spin_unlock(l);
			else
				spin_lock_init(l);
		}
	}
}

static void thread_pcp_locks(bool lock)
{
	struct kmem_thread *t;

	list_for_each_entry(t, &kmem_threads, thread_list)
		pcp_lock_thread(t, lock);
}

static void fork_prepare(void)
{
	pthread_mutex_lock(&slab_mutex);
	node_list_locks(1);
	pthread_mutex_lock(&kmem_threads_lock);
	slob_fork_lock(1);
	thread_pcp_locks(true);
	zone_locks(1);
	vmalloc_fork_lock(1);
}

static void fork_parent(void)
{
	vmalloc_fork_lock(0);
	zone_locks(0);
	thread_pcp_locks(false);
	slob_fork_lock(0);
	pthread_mutex_unlock(&kmem_threads_lock);
	node_list_locks(0);
	pthread_mutex_unlock(&slab_mutex);
}

static void fork_child(void)
{
	struct kmem_thread *t, *n;

	vmalloc_fork_lock(-1);
	zone_locks(-1);
	thread_pcp_locks(false);
	slob_fork_lock(-1);
	pthread_mutex_init(&kmem_threads_lock, NULL);
	node_list_locks(-1);
	pthread_mutex_init(&slab_mutex, NULL);
	list_for_each_entry_safe(t, n, &kmem_threads, thread_list) {
		if (t == kmem_current)
			continue;
		kmalloc_large_drain(t);
		slab_flush_thread(t);
		thread_release(t);
	}
}

int kmem_thread_setup(void)
{
	if (pthread_key_create(&kmem_thread_key, kmem_thread_exit))
		return -1;
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	return 0;
}
