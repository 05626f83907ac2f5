/*
 * vmalloc.h - the vmalloc area (vmalloc.c) for the kmalloc layer and the
 * interposer.
 */
#ifndef KMEM_VMALLOC_H
#define KMEM_VMALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmalloc_stats {
	unsigned long nr_allocs, nr_frees, moves, lost_ranges;
	size_t bytes_mapped;
};

extern char *vmalloc_start;
extern size_t vmalloc_size;
extern struct vmalloc_stats vmalloc_stats;

int vmalloc_init(void);
/* size bytes aligned to align (a power of two); zero-filled when zero is
 * set (a fresh mapping), otherwise maybe a reused block; NULL + ENOMEM */
void *vmalloc_area_alloc(size_t size, size_t align, bool zero);
void *vmalloc_area_alloc_growing(size_t size);
/* Unmap the blocks kept for reuse; returns the bytes released. */
size_t vmalloc_cache_flush(void);
void vmalloc_area_free(const void *p);
/* Resize in place or by moving pages; NULL + ENOMEM leaves p as it was. */
void *vmalloc_area_realloc(void *p, size_t size);
/* Mapped bytes of an allocation (its usable size); 0 if p is not one. */
size_t vmalloc_area_size(const void *p);
bool vmalloc_area_owns(const void *p);
/* fork: 1 take vmap_lock, 0 release, -1 reinitialise. */
void vmalloc_fork_lock(int lock);

static inline bool vmalloc_contains(const void *p)
{
	return (uintptr_t)p - (uintptr_t)vmalloc_start < vmalloc_size;
}

#endif
