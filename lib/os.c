/*
 * os.c - the one interface between kmem and the operating system.
 *
 * Every mmap, munmap, mprotect, madvise, mbind and getcpu goes through
 * kmem_os, a table of function pointers that tests (and fault injection)
 * may replace before kmem_init.  Files are read with open/read/close only,
 * so nothing here allocates: this runs before libc's malloc would be usable
 * under LD_PRELOAD.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

static void *os_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}

static long os_mbind(void *addr, unsigned long len, int mode,
		     const unsigned long *nodemask, unsigned long maxnode,
		     unsigned int flags)
{
	return syscall(SYS_mbind, addr, len, mode, nodemask, maxnode, flags);
}

/*
 * The CPU this thread runs on: straight from the rseq area glibc
 * registered (one load), else sched_getcpu (vDSO or a syscall).
 */
static int os_getcpu(void)
{
	if (likely(__rseq_size >= 8)) {
		const struct rseq *rs = (const struct rseq *)
			((char *)__builtin_thread_pointer() + __rseq_offset);
		int cpu = (int)__atomic_load_n(&rs->cpu_id, __ATOMIC_RELAXED);

		if (likely(cpu >= 0))
			return cpu;
	}
	return sched_getcpu();
}

static void *os_mremap(void *old, size_t old_len, size_t new_len, int flags, void *new_addr)
{
	return mremap(old, old_len, new_len, flags, new_addr);
}

struct kmem_os_ops kmem_os = {
	.mmap = os_mmap,
	.munmap = munmap,
	.mprotect = mprotect,
	.madvise = madvise,
	.mbind = os_mbind,
	.getcpu = os_getcpu,
	.mremap = os_mremap,
};

ssize_t os_read_file(const char *path, char *buf, size_t size)
{
	int fd;
	size_t len = 0;

	if (size == 0)
		return -1;
	do
		fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -1;
	while (len < size - 1) {
		ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

uint64_t os_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long meminfo_field(const char *buf, const char *name)
{
	const char *p = strstr(buf, name);
	long n = 0;

	if (!p)
		return 0;
	p += strlen(name);
	while (*p == ' ')
		p++;
	while (*p >= '0' && *p <= '9')
		n = n * 10 + (*p++ - '0');
	return n;
}

/* Free pages not already promised to another mapping (HugePages_Rsvd). */
long os_free_hugetlb_pages(void)
{
	char buf[4096];

	if (os_read_file("/proc/meminfo", buf, sizeof(buf)) < 0)
		return 0;
	return meminfo_field(buf, "HugePages_Free:") - meminfo_field(buf, "HugePages_Rsvd:");
}

pid_t os_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}
