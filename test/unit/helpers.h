/*
 * helpers.h - shared pieces of the unit tests.  Criterion runs every test
 * in a fresh process, so each test brings kmem up with the options it
 * needs (kmem_test_init) and nothing leaks between tests.
 */
#ifndef KMEM_TEST_HELPERS_H
#define KMEM_TEST_HELPERS_H

#include <criterion/criterion.h>
#include "internal.h"

/* Set each "NAME=value" (NULL-terminated list), then kmem_init(). */
void kmem_test_init(const char *first, ...) __attribute__((sentinel));

/* Run fn(arg) in a child with stderr captured; assert the child died of
 * SIGABRT and that its stderr contains needle. */
void expect_death(void (*fn)(void *), void *arg, const char *needle);

/* Capture what this process writes to fd 2 between begin and end into
 * out (NUL-terminated; at most one pipe's worth, 64 KiB). */
struct stderr_capture {
	int pipefd[2];
	int saved;
};
void stderr_capture_begin(struct stderr_capture *cap);
void stderr_capture_end(struct stderr_capture *cap, char *out, size_t size);

/* Path of a fake sysfs tree shipped under test/sysfs. */
const char *test_sysfs(const char *tree);

/* Deterministic xorshift PRNG for shuffles. */
uint64_t test_rand(uint64_t *state);
void test_shuffle(void **items, size_t n, uint64_t *state);

/* Pages of [addr, addr + pages * PAGE_SIZE) the OS holds in memory
 * (mincore); addr is page-aligned. */
long test_resident_pages(const void *addr, long pages);

/* nr_free of every order and migrate type of a zone. */
struct free_area_snapshot {
	unsigned long nr_free[NR_PAGE_ORDERS];
	unsigned long per_type[NR_PAGE_ORDERS][MIGRATE_TYPES];
	long free_pages;
};
void snapshot_free_area(struct zone *zone, struct free_area_snapshot *s);

#endif
