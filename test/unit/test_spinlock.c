/*
 * test_spinlock.c - spinlock_t (lib/spinlock.h), the lock of the node
 * partial lists: mutual exclusion under contention, with more threads
 * than cores so that holders get preempted, and trylock.
 */
#include <pthread.h>
#include "helpers.h"
#include "spinlock.h"

#define LOCK_THREADS 6
#define LOCK_ROUNDS  200000

static spinlock_t counter_lock;
static unsigned long counter;   /* plain: only the lock keeps it exact */
static atomic_int inside;
static atomic_int overlaps;

static void *hammer(void *arg)
{
	(void)arg;
	for (int i = 0; i < LOCK_ROUNDS; i++) {
		spin_lock(&counter_lock);
		if (atomic_fetch_add_explicit(&inside, 1, memory_order_relaxed) != 0)
			atomic_fetch_add(&overlaps, 1);
		counter = counter + 1;
		atomic_fetch_sub_explicit(&inside, 1, memory_order_relaxed);
		spin_unlock(&counter_lock);
	}
	return NULL;
}

Test(spinlock, excludes_under_contention)
{
	pthread_t t[LOCK_THREADS];

	spin_lock_init(&counter_lock);
	for (int i = 0; i < LOCK_THREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, hammer, NULL), 0);
	for (int i = 0; i < LOCK_THREADS; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(atomic_load(&overlaps), 0);
	cr_assert_eq(counter, (unsigned long)LOCK_THREADS * LOCK_ROUNDS);
}

Test(spinlock, trylock_fails_while_held)
{
	spinlock_t lock;

	spin_lock_init(&lock);
	cr_assert(spin_trylock(&lock));
	cr_assert_not(spin_trylock(&lock));
	spin_unlock(&lock);
	cr_assert(spin_trylock(&lock));
	spin_unlock(&lock);
	spin_lock(&lock);
	cr_assert_not(spin_trylock(&lock));
	spin_unlock(&lock);
}
