/*
 * helpers.c - see helpers.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helpers.h"

void kmem_test_init(const char *first, ...)
{
	va_list ap;
	const char *kv;

	va_start(ap, first);
	for (kv = first; kv; kv = va_arg(ap, const char *)) {
		const char *eq = strchr(kv, '=');
		char name[128];

		cr_assert(eq && (size_t)(eq - kv) < sizeof(name), "bad option %s", kv);
		memcpy(name, kv, (size_t)(eq - kv));
		name[eq - kv] = '\0';
		setenv(name, eq + 1, 1);
	}
	va_end(ap);
	cr_assert_eq(kmem_init(), 0, "kmem_init failed");
}

void expect_death(void (*fn)(void *), void *arg, const char *needle)
{
	int pipefd[2];
	pid_t pid;
	int status;
	char out[8192];
	size_t len = 0;

	cr_assert_eq(pipe(pipefd), 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		close(pipefd[0]);
		dup2(pipefd[1], 2);
		fn(arg);
		_exit(0);       /* surviving is the failure */
	}
	close(pipefd[1]);
	for (;;) {
		ssize_t n = read(pipefd[0], out + len, sizeof(out) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	out[len] = '\0';
	close(pipefd[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
		  "expected SIGABRT, got status %#x; stderr:\n%s", status, out);
	cr_assert(strstr(out, needle), "stderr lacks \"%s\":\n%s", needle, out);
}

void stderr_capture_begin(struct stderr_capture *cap)
{
	fflush(stderr);
	cr_assert_eq(pipe(cap->pipefd), 0);
	cap->saved = dup(2);
	cr_assert(cap->saved >= 0);
	cr_assert_eq(dup2(cap->pipefd[1], 2), 2);
	close(cap->pipefd[1]);
}

void stderr_capture_end(struct stderr_capture *cap, char *out, size_t size)
{
	size_t len = 0;

	fflush(stderr);
	dup2(cap->saved, 2);
	close(cap->saved);
	for (;;) {
		ssize_t n = read(cap->pipefd[0], out + len, size - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(cap->pipefd[0]);
	out[len] = '\0';
}

const char *test_sysfs(const char *tree)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", KMEM_TEST_SYSFS, tree);
	return path;
}

uint64_t test_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

void test_shuffle(void **items, size_t n, uint64_t *state)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = test_rand(state) % i;
		void *t = items[i - 1];

		items[i - 1] = items[j];
		items[j] = t;
	}
}

void snapshot_free_area(struct zone *zone, struct free_area_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&zone->lock);
	for (int o = 0; o < NR_PAGE_ORDERS; o++) {
		s->nr_free[o] = zone->free_area[o].nr_free;
		for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
			struct list_head *pos;

			list_for_each(pos, &zone->free_area[o].free_list[mt])
				s->per_type[o][mt]++;
		}
	}
	s->free_pages = zone_page_state(zone);
	pthread_mutex_unlock(&zone->lock);
}

long test_resident_pages(const void *addr, long pages)
{
	unsigned char *vec = malloc((size_t)pages);
	long n = 0;

	cr_assert_not_null(vec);
	cr_assert_eq(mincore((void *)addr, (size_t)pages * PAGE_SIZE, vec), 0, "mincore: %s",
		     strerror(errno));
	for (long i = 0; i < pages; i++)
		n += vec[i] & 1;
	free(vec);
	return n;
}
