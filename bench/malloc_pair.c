/*
 * malloc_pair - one malloc+free pair of a fixed size in a loop, for
 * callgrind instruction counts (bench/malloc-costs) under each allocator.
 *
 * Usage: malloc_pair SIZE ITERATIONS
 */
#include <stdlib.h>

int main(int argc, char **argv)
{
	size_t size = argc > 1 ? strtoul(argv[1], NULL, 0) : 16;
	long n = argc > 2 ? atol(argv[2]) : 1000000;

	for (long i = 0; i < n; i++) {
		void *p = malloc(size);

		/* keep the pair: the compiler may not elide it */
		__asm__ volatile("" : : "r"(p) : "memory");
		free(p);
	}
	return 0;
}
