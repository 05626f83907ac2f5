/*
 * vmalloc.c - the vmalloc area: allocations above the largest buddy block
 * (4 MiB), each in its own range of one large reserved region, mapped on
 * demand and grown or moved with mremap, so realloc of a huge block does
 * not copy (but see realloc_by_copy).
 *
 * Each allocation's range is [alignment slack][header page][data][guard
 * gap of at least one page]; the header records the sizes.  Free ranges
 * are kept sorted and coalesced under vmap_lock.  A freed range is mapped
 * PROT_NONE again, which gives its memory back to the OS and keeps the
 * region reserved.
 *
 * The last few freed blocks (VM_CACHE_SLOTS, VM_CACHE_BYTES in all) stay
 * mapped for reuse by a request of about their size that needs no zeroing:
 * a program that allocates and frees a huge buffer in a loop would
 * otherwise fault every page in again each time (glibc keeps such memory
 * in its heap).  realloc moving a growing buffer here may take a cached
 * block of any size (vmalloc_area_alloc_growing), as glibc's buffer
 * regrows into the top of its heap.  vmalloc_cache_flush() gives them
 * back.  When the arena grows (a section coming online), the pages of
 * blocks that stayed cached since the growth before are dropped
 * (MADV_DONTNEED, mapping and cache slot kept): a program that freed a
 * huge buffer and went on to need memory elsewhere would otherwise keep
 * both resident (sqlite3 held 6 MiB so at its peak), while one that
 * reuses such buffers keeps them resident.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include "slab.h"
#include "vmalloc.h"

#define VM_MAGIC        0x6b6d656d766d616cULL   /* "kmemvmal" */
#define VM_GUARD        PAGE_SIZE
#define MAX_FREE_RANGES (1UL << 16)

struct vm_header {
	uint64_t magic;
	size_t size;            /* bytes requested */
	size_t mapped;          /* data bytes mapped read-write */
	uintptr_t range_start;
	size_t range_len;       /* the whole range: slack, header, data, guard */
	uint8_t idle;           /* cached: arena growths seen since; VM_RELEASED: pages given back */
};

struct vm_range {
	uintptr_t start;
	size_t len;
};

char *vmalloc_start;
size_t vmalloc_size;
struct vmalloc_stats vmalloc_stats;
static pthread_mutex_t vmap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vm_range *free_ranges;
static size_t nr_free_ranges;
/* Start addresses of live allocations, sorted: a pointer is ours only if
 * it is one of them.  Under vmap_lock. */
static uintptr_t *live;
static size_t nr_live;

#define VM_CACHE_SLOTS 4
#define VM_RELEASED    0xff
#define VM_CACHE_BYTES (64UL << 20)
static uintptr_t vm_cache[VM_CACHE_SLOTS];      /* data addresses, 0: empty */
static size_t vm_cache_bytes;

static void vmalloc_cache_release(void);

int vmalloc_init(void)
{
	size_t size = 32UL << 40;

	/* Sanitizers, valgrind and small address spaces may not leave room:
	 * halve until it fits. */
	for (; size >= (1UL << 30); size /= 2) {
		void *p = kmem_os.mmap(NULL, size, PROT_NONE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (p != MAP_FAILED) {
			vmalloc_start = p;
			vmalloc_size = size;
			break;
		}
	}
	free_ranges = kmem_os.mmap(NULL, MAX_FREE_RANGES * sizeof(*free_ranges),
				   PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	live = kmem_os.mmap(NULL, MAX_FREE_RANGES * sizeof(*live), PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!vmalloc_start || free_ranges == MAP_FAILED || live == MAP_FAILED) {
		kmem_warn("cannot reserve a vmalloc area: allocations above %lu bytes will fail",
			  PAGE_SIZE << MAX_ORDER);
		vmalloc_start = NULL;
		vmalloc_size = 0;
		return -1;
	}
	free_ranges[0] = (struct vm_range){ (uintptr_t)vmalloc_start, vmalloc_size };
	nr_free_ranges = 1;
	arena_grow_notifier = vmalloc_cache_release;
	return 0;
}

/* Take len bytes from the front of free range i; caller holds vmap_lock. */
static uintptr_t consume_range(size_t i, size_t len)
{
	struct vm_range *r = &free_ranges[i];
	uintptr_t start = r->start;

	r->start += len;
	r->len -= len;
	if (r->len == 0) {
		memmove(r, r + 1, (nr_free_ranges - i - 1) * sizeof(*r));
		nr_free_ranges--;
	}
	return start;
}

/* First fit; caller holds vmap_lock.  Returns 0 when nothing fits. */
static uintptr_t take_range(size_t len)
{
	for (size_t i = 0; i < nr_free_ranges; i++)
		if (free_ranges[i].len >= len)
			return consume_range(i, len);
	return 0;
}

/* Take [start, start + len) if it is free; caller holds vmap_lock. */
static bool take_range_at(uintptr_t start, size_t len)
{
	for (size_t i = 0; i < nr_free_ranges; i++) {
		if (free_ranges[i].start != start)
			continue;
		if (free_ranges[i].len < len)
			return false;
		consume_range(i, len);
		return true;
	}
	return false;
}

/* Return a range, merging with its neighbours; caller holds vmap_lock. */
static void put_range(uintptr_t start, size_t len)
{
	size_t lo = 0, hi = nr_free_ranges;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (free_ranges[mid].start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && free_ranges[lo - 1].start + free_ranges[lo - 1].len == start) {
		free_ranges[lo - 1].len += len;
		if (lo < nr_free_ranges && start + len == free_ranges[lo].start) {
			free_ranges[lo - 1].len += free_ranges[lo].len;
			memmove(&free_ranges[lo], &free_ranges[lo + 1],
				(nr_free_ranges - lo - 1) * sizeof(*free_ranges));
			nr_free_ranges--;
		}
		return;
	}
	if (lo < nr_free_ranges && start + len == free_ranges[lo].start) {
		free_ranges[lo].start = start;
		free_ranges[lo].len += len;
		return;
	}
	if (nr_free_ranges == MAX_FREE_RANGES) {
		/* Out of bookkeeping: the range stays reserved and unused. */
		vmalloc_stats.lost_ranges++;
		return;
	}
	memmove(&free_ranges[lo + 1], &free_ranges[lo],
		(nr_free_ranges - lo) * sizeof(*free_ranges));
	free_ranges[lo] = (struct vm_range){ start, len };
	nr_free_ranges++;
}

static void unmap_range(uintptr_t start, size_t len)
{
	kmem_os.mmap((void *)start, len, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
}

static size_t live_slot(uintptr_t data)
{
	size_t lo = 0, hi = nr_live;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (live[mid] < data)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Caller holds vmap_lock. */
static bool live_insert(uintptr_t data)
{
	size_t i = live_slot(data);

	if (nr_live == MAX_FREE_RANGES)
		return false;
	memmove(&live[i + 1], &live[i], (nr_live - i) * sizeof(*live));
	live[i] = data;
	nr_live++;
	return true;
}

/* Caller holds vmap_lock. */
static void live_remove(uintptr_t data)
{
	size_t i = live_slot(data);

	memmove(&live[i], &live[i + 1], (nr_live - i - 1) * sizeof(*live));
	nr_live--;
}

/* The header of the live allocation starting at p, or NULL. */
static struct vm_header *vm_header_of(const void *p)
{
	uintptr_t data = (uintptr_t)p;
	bool found;
	size_t i;

	if (!vmalloc_contains(p))
		return NULL;
	pthread_mutex_lock(&vmap_lock);
	i = live_slot(data);
	found = i < nr_live && live[i] == data;
	pthread_mutex_unlock(&vmap_lock);
	return found ? (struct vm_header *)(data - PAGE_SIZE) : NULL;
}

/* The smallest cached block that holds size bytes and is at most limit
 * bytes; caller holds vmap_lock. */
static struct vm_header *cache_take(size_t size, size_t limit)
{
	int best = -1;

	for (int i = 0; i < VM_CACHE_SLOTS; i++) {
		struct vm_header *h = (struct vm_header *)(vm_cache[i] - PAGE_SIZE);

		if (!vm_cache[i] || h->mapped < size || h->mapped > limit)
			continue;
		if (best < 0 || h->mapped < ((struct vm_header *)(vm_cache[best] - PAGE_SIZE))->mapped)
			best = i;
	}
	if (best < 0)
		return NULL;
	struct vm_header *h = (struct vm_header *)(vm_cache[best] - PAGE_SIZE);

	live_insert(vm_cache[best]);
	vm_cache[best] = 0;
	vm_cache_bytes -= h->mapped;
	h->idle = 0;
	return h;
}

static void *cache_alloc(size_t size, size_t limit)
{
	struct vm_header *h;

	pthread_mutex_lock(&vmap_lock);
	h = cache_take(size, limit);
	pthread_mutex_unlock(&vmap_lock);
	if (!h)
		return NULL;
	h->size = size;
	__atomic_fetch_add(&vmalloc_stats.nr_allocs, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&vmalloc_stats.bytes_mapped, h->mapped, __ATOMIC_RELAXED);
	return (char *)h + PAGE_SIZE;
}

/*
 * A block for a buffer that is growing (realloc): any cached block that
 * holds size will do, however large, since the buffer grows into it in
 * place; a program that builds a huge buffer again after freeing one
 * reuses the memory it already has instead of faulting in more.
 */
void *vmalloc_area_alloc_growing(size_t size)
{
	void *p = cache_alloc(size, SIZE_MAX);

	return p ? p : vmalloc_area_alloc(size, PAGE_SIZE, false);
}

void *vmalloc_area_alloc(size_t size, size_t align, bool zero)
{
	size_t mapped, slack, len;
	uintptr_t start, data;
	struct vm_header *h;

	if (!vmalloc_start || size == 0 || size > vmalloc_size / 2) {
		errno = ENOMEM;
		return NULL;
	}
	/* at most twice the size: a buffer that grows by doubling fits in place */
	if (!zero && align <= PAGE_SIZE && (data = (uintptr_t)cache_alloc(size, 2 * size)))
		return (void *)data;
	align = MAX(align, PAGE_SIZE);
	mapped = ALIGN_UP(size, PAGE_SIZE);
	slack = align - PAGE_SIZE;
	len = slack + PAGE_SIZE + mapped + VM_GUARD;
	pthread_mutex_lock(&vmap_lock);
	start = nr_live < MAX_FREE_RANGES ? take_range(len) : 0;
	pthread_mutex_unlock(&vmap_lock);
	if (!start) {
		errno = ENOMEM;
		return NULL;
	}
	data = ALIGN_UP(start + PAGE_SIZE, align);
	h = (struct vm_header *)(data - PAGE_SIZE);
	if (kmem_os.mprotect(h, PAGE_SIZE + mapped, PROT_READ | PROT_WRITE)) {
		pthread_mutex_lock(&vmap_lock);
		put_range(start, len);
		pthread_mutex_unlock(&vmap_lock);
		errno = ENOMEM;
		return NULL;
	}
	*h = (struct vm_header){ VM_MAGIC, size, mapped, start, len, 0 };
	pthread_mutex_lock(&vmap_lock);
	live_insert(data);
	pthread_mutex_unlock(&vmap_lock);
	__atomic_fetch_add(&vmalloc_stats.nr_allocs, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&vmalloc_stats.bytes_mapped, mapped, __ATOMIC_RELAXED);
	return (void *)data;
}

bool vmalloc_area_owns(const void *p)
{
	return vm_header_of(p) != NULL;
}

size_t vmalloc_area_size(const void *p)
{
	struct vm_header *h = vm_header_of(p);

	return h ? h->mapped : 0;
}

void vmalloc_area_free(const void *p)
{
	struct vm_header *h = vm_header_of(p);
	uintptr_t start;
	size_t len;

	if (!h)
		bad_address(p, "vfree");
	start = h->range_start;
	len = h->range_len;
	__atomic_fetch_sub(&vmalloc_stats.bytes_mapped, h->mapped, __ATOMIC_RELAXED);
	__atomic_fetch_add(&vmalloc_stats.nr_frees, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&vmap_lock);
	live_remove((uintptr_t)p);
	for (int i = 0; i < VM_CACHE_SLOTS; i++) {
		if (vm_cache[i] || vm_cache_bytes + h->mapped > VM_CACHE_BYTES)
			continue;
		/* kept mapped; no longer live, so a second free is caught */
		h->idle = 0;
		vm_cache[i] = (uintptr_t)p;
		vm_cache_bytes += h->mapped;
		pthread_mutex_unlock(&vmap_lock);
		return;
	}
	pthread_mutex_unlock(&vmap_lock);
	h->magic = 0;
	unmap_range(start, len);
	pthread_mutex_lock(&vmap_lock);
	put_range(start, len);
	pthread_mutex_unlock(&vmap_lock);
}

/*
 * mremap moves one mapping only.  A block that mremap moved keeps the
 * page offset of its old address, so growing it in place afterwards maps
 * pages that cannot merge with it into a second mapping, and the next
 * move fails (EFAULT): realloc returned NULL with memory to spare.  Such
 * a block moves by copy instead, into a new block that is one mapping.
 */
static void *realloc_by_copy(void *p, size_t old_mapped, size_t size)
{
	void *q = vmalloc_area_alloc(size, PAGE_SIZE, false);

	if (!q)
		return NULL;
	/* all of the usable size: realloc keeps a block that shrank (h->size) */
	memcpy(q, p, MIN(old_mapped, size));
	vmalloc_area_free(p);
	return q;
}

/*
 * Resize in place where the range has room or the next range is free;
 * otherwise move the pages with mremap into a new range (no copy), or copy
 * them where mremap cannot (realloc_by_copy).
 */
void *vmalloc_area_realloc(void *p, size_t size)
{
	struct vm_header *h = vm_header_of(p);
	size_t mapped = ALIGN_UP(size, PAGE_SIZE);
	uintptr_t data = (uintptr_t)p, end, range_end;

	if (!h)
		bad_address(p, "realloc");
	if (size == 0 || size > vmalloc_size / 2) {
		errno = ENOMEM;
		return NULL;
	}
	range_end = h->range_start + h->range_len;
	if (mapped <= h->mapped) {
		/* Shrink: the tail's memory goes back; the range keeps its length. */
		if (mapped < h->mapped)
			unmap_range(data + mapped, h->mapped - mapped);
		__atomic_fetch_sub(&vmalloc_stats.bytes_mapped, h->mapped - mapped, __ATOMIC_RELAXED);
		h->mapped = mapped;
		h->size = size;
		return p;
	}
	end = data + mapped + VM_GUARD;
	if (end > range_end) {
		pthread_mutex_lock(&vmap_lock);
		if (take_range_at(range_end, end - range_end)) {
			h->range_len += end - range_end;
			range_end = end;
		}
		pthread_mutex_unlock(&vmap_lock);
	}
	if (end <= range_end) {
		if (kmem_os.mprotect((void *)(data + h->mapped), mapped - h->mapped,
				     PROT_READ | PROT_WRITE)) {
			errno = ENOMEM;
			return NULL;
		}
	} else {
		size_t slack = data - PAGE_SIZE - h->range_start;
		size_t len = slack + PAGE_SIZE + mapped + VM_GUARD;
		uintptr_t old_start = h->range_start, start, new_data;
		size_t old_len = h->range_len;
		void *moved;

		pthread_mutex_lock(&vmap_lock);
		start = take_range(len);
		pthread_mutex_unlock(&vmap_lock);
		if (!start) {
			errno = ENOMEM;
			return NULL;
		}
		/* same offset from the range start keeps the alignment */
		new_data = start + slack + PAGE_SIZE;
		moved = kmem_os.mremap((void *)(data - PAGE_SIZE), PAGE_SIZE + h->mapped,
				       PAGE_SIZE + mapped, MREMAP_MAYMOVE | MREMAP_FIXED,
				       (void *)(new_data - PAGE_SIZE));
		if (moved == MAP_FAILED) {
			pthread_mutex_lock(&vmap_lock);
			put_range(start, len);
			pthread_mutex_unlock(&vmap_lock);
			return realloc_by_copy(p, h->mapped, size);
		}
		/* mremap left a hole where the block was: reserve it again.
		 * (h moved with the pages: only the saved values are valid.) */
		unmap_range(old_start, old_len);
		pthread_mutex_lock(&vmap_lock);
		put_range(old_start, old_len);
		pthread_mutex_unlock(&vmap_lock);
		h = moved;
		h->range_start = start;
		h->range_len = len;
		pthread_mutex_lock(&vmap_lock);
		live_remove(data);
		live_insert(new_data);
		pthread_mutex_unlock(&vmap_lock);
		p = (void *)new_data;
		__atomic_fetch_add(&vmalloc_stats.moves, 1, __ATOMIC_RELAXED);
	}
	__atomic_fetch_add(&vmalloc_stats.bytes_mapped, mapped - h->mapped, __ATOMIC_RELAXED);
	h->mapped = mapped;
	h->size = size;
	return p;
}

void vmalloc_fork_lock(int lock)
{
	if (lock > 0)
		pthread_mutex_lock(&vmap_lock);
	else if (lock == 0)
		pthread_mutex_unlock(&vmap_lock);
	else
		pthread_mutex_init(&vmap_lock, NULL);
}

/*
 * The arena is about to grow: drop the pages of cached blocks that were
 * already cached at the growth before, keeping their mappings and slots;
 * count this growth for the others.  Called under a zone lock (zone locks
 * come before vmap_lock); vmap_lock keeps a block from being taken while
 * its pages go.
 */
static void vmalloc_cache_release(void)
{
	if (!vm_cache_bytes)    /* racy peek: a block cached meanwhile is not idle yet */
		return;
	pthread_mutex_lock(&vmap_lock);
	for (int i = 0; i < VM_CACHE_SLOTS; i++) {
		struct vm_header *h = (struct vm_header *)(vm_cache[i] - PAGE_SIZE);

		if (!vm_cache[i] || h->idle == VM_RELEASED || h->idle++ == 0)
			continue;
		kmem_os.madvise((void *)vm_cache[i], h->mapped, MADV_DONTNEED);
		h->idle = VM_RELEASED;
	}
	pthread_mutex_unlock(&vmap_lock);
}

/* Give the cached blocks back to the OS; returns the bytes released. */
size_t vmalloc_cache_flush(void)
{
	uintptr_t blocks[VM_CACHE_SLOTS];
	size_t bytes = 0;

	pthread_mutex_lock(&vmap_lock);
	for (int i = 0; i < VM_CACHE_SLOTS; i++) {
		blocks[i] = vm_cache[i];
		vm_cache[i] = 0;
	}
	vm_cache_bytes = 0;
	pthread_mutex_unlock(&vmap_lock);
	for (int i = 0; i < VM_CACHE_SLOTS; i++) {
		struct vm_header *h = (struct vm_header *)(blocks[i] - PAGE_SIZE);
		uintptr_t start;
		size_t len;

		if (!blocks[i])
			continue;
		start = h->range_start;
		len = h->range_len;
		bytes += h->mapped;
		h->magic = 0;
		unmap_range(start, len);
		pthread_mutex_lock(&vmap_lock);
		put_range(start, len);
		pthread_mutex_unlock(&vmap_lock);
	}
	return bytes;
}
