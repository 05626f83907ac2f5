/*
 * malloc_test.c - lib/malloc.c compiled with kmem_-prefixed names, so the
 * unit tests can call the interposer while the Criterion runner keeps
 * glibc's allocator.
 */
#define KMEM_MALLOC_TEST 1
#include "../../lib/malloc.c"
