/*
 * spinlock.h - spinlock_t for kmem's short critical sections
 * (kmem_cache_node.list_lock), as the kernel takes spin_lock for them:
 * one exchange to take, one store to release, no call, where a pthread
 * mutex costs two calls and some fifty instructions a pair.
 *
 * Unlike a kernel's, a holder here can be preempted (threads may
 * outnumber cores), so a waiter spins with pause on a plain load only
 * SPIN_YIELD_AFTER times, then yields the CPU between tries.  Holders
 * must not block or take a lock that may sleep long: list_lock covers
 * list operations and freelist pushes only.
 */
#ifndef KMEM_SPINLOCK_H
#define KMEM_SPINLOCK_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

typedef struct {
	atomic_int locked;
} spinlock_t;

#define SPIN_YIELD_AFTER 64

/* The kernel's cpu_relax: tell the core we are spinning. */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#endif
}

static inline void spin_lock_init(spinlock_t *lock)
{
	atomic_init(&lock->locked, 0);
}

static inline bool spin_trylock(spinlock_t *lock)
{
	return !atomic_exchange_explicit(&lock->locked, 1, memory_order_acquire);
}

static __attribute__((noinline, cold)) void spin_lock_contended(spinlock_t *lock)
{
	unsigned int spins = 0;

	do {
		while (atomic_load_explicit(&lock->locked, memory_order_relaxed)) {
			if (++spins < SPIN_YIELD_AFTER)
				cpu_relax();
			else
				sched_yield();
		}
	} while (!spin_trylock(lock));
}

static inline void spin_lock(spinlock_t *lock)
{
	if (__builtin_expect(!spin_trylock(lock), 0))
		spin_lock_contended(lock);
}

static inline void spin_unlock(spinlock_t *lock)
{
	atomic_store_explicit(&lock->locked, 0, memory_order_release);
}

#endif /* KMEM_SPINLOCK_H */
