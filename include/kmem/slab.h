/*
 * kmem/slab.h - slab caches and the kmalloc family, with the kernel's
 * names and meanings (include/linux/slab.h).
 *
 * kmalloc(size) takes objects of up to 8 KiB from the size-class caches
 * kmalloc-8 .. kmalloc-8192, larger ones from the page allocator, and
 * ones above 4 MiB from a separate vmalloc area.  kfree() of memory kmem
 * does not own, or of a freed object, stops the program with a message.
 */
#ifndef KMEM_SLAB_H_PUBLIC
#define KMEM_SLAB_H_PUBLIC

#include <stddef.h>
#include <kmem/gfp.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef KMEM_EXPORT
#define KMEM_EXPORT __attribute__((visibility("default")))
#endif

struct kmem_cache;

/* kmem_cache_create flags (include/linux/slab.h values). */
#define SLAB_HWCACHE_ALIGN    0x00002000u  /* align objects to a cache line */
#define SLAB_PANIC            0x00040000u  /* abort if the cache cannot be created */
#define SLAB_RECLAIM_ACCOUNT  0x00020000u  /* slabs are reclaimable memory */
#define SLAB_NO_MERGE         0x01000000u  /* never share a cache with another */

KMEM_EXPORT struct kmem_cache *kmem_cache_create(const char *name, unsigned int size,
						 unsigned int align, unsigned int flags,
						 void (*ctor)(void *));
KMEM_EXPORT void *kmem_cache_alloc(struct kmem_cache *s, gfp_t gfp);
KMEM_EXPORT void *kmem_cache_alloc_node(struct kmem_cache *s, gfp_t gfp, int nid);
KMEM_EXPORT void *kmem_cache_zalloc(struct kmem_cache *s, gfp_t gfp);
KMEM_EXPORT void kmem_cache_free(struct kmem_cache *s, void *obj);
KMEM_EXPORT int kmem_cache_shrink(struct kmem_cache *s);
KMEM_EXPORT void kmem_cache_destroy(struct kmem_cache *s);
KMEM_EXPORT unsigned int kmem_cache_size(struct kmem_cache *s);
KMEM_EXPORT const char *kmem_cache_name(struct kmem_cache *s);

KMEM_EXPORT void *kmalloc(size_t size, gfp_t gfp);
KMEM_EXPORT void *kmalloc_node(size_t size, gfp_t gfp, int nid);
KMEM_EXPORT void *kzalloc(size_t size, gfp_t gfp);
KMEM_EXPORT void *kmalloc_array(size_t n, size_t size, gfp_t gfp);
KMEM_EXPORT void *kcalloc(size_t n, size_t size, gfp_t gfp);
KMEM_EXPORT void *krealloc(const void *p, size_t new_size, gfp_t gfp);
KMEM_EXPORT void kfree(const void *p);
KMEM_EXPORT size_t ksize(const void *p);
KMEM_EXPORT void *kvmalloc(size_t size, gfp_t gfp);
KMEM_EXPORT void *kvzalloc(size_t size, gfp_t gfp);
KMEM_EXPORT void kvfree(const void *p);
KMEM_EXPORT void *vmalloc(size_t size);
KMEM_EXPORT void *vzalloc(size_t size);
KMEM_EXPORT void vfree(const void *p);

/* /proc/slabinfo, version 2.1. */
KMEM_EXPORT void kmem_show_slabinfo(int fd);

#ifdef __cplusplus
}
#endif

#endif /* KMEM_SLAB_H_PUBLIC */
