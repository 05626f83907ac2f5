/*
 * kmem/gfp.h - GFP ("get free pages") flags, with the Linux kernel's bit
 * values and meanings (include/linux/gfp_types.h).
 *
 * Zone modifiers pick the highest zone a request may use; the mobility
 * modifiers pick the migrate type (pageblock) it is grouped with; the
 * watermark modifiers say how deep into a zone's reserves it may dig.
 */
#ifndef KMEM_GFP_H
#define KMEM_GFP_H

typedef unsigned int gfp_t;

/* Zone modifiers. */
#define __GFP_DMA            0x01u
#define __GFP_HIGHMEM        0x02u
#define __GFP_DMA32          0x04u
#define __GFP_MOVABLE        0x08u  /* also a mobility hint: MIGRATE_MOVABLE */
#define GFP_ZONEMASK         (__GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32 | __GFP_MOVABLE)

/* Mobility. */
#define __GFP_RECLAIMABLE    0x10u
#define GFP_MOVABLE_MASK     (__GFP_RECLAIMABLE | __GFP_MOVABLE)

/* Watermark and reclaim modifiers. */
#define __GFP_HIGH           0x20u    /* high priority: may use half of the min reserve */
#define __GFP_IO             0x40u
#define __GFP_FS             0x80u
#define __GFP_ZERO           0x100u   /* return zeroed pages */
#define __GFP_DIRECT_RECLAIM 0x400u   /* caller may run reclaim itself */
#define __GFP_KSWAPD_RECLAIM 0x800u   /* wake background reclaim at the low watermark */
#define __GFP_NOWARN         0x2000u  /* no failure message */
#define __GFP_RETRY_MAYFAIL  0x4000u
#define __GFP_NOFAIL         0x8000u
#define __GFP_NORETRY        0x10000u /* one reclaim attempt at most, then fail */
#define __GFP_MEMALLOC       0x20000u /* ignore watermarks entirely (emergency) */
#define __GFP_COMP           0x40000u
#define __GFP_NOMEMALLOC     0x80000u
#define __GFP_HARDWALL       0x100000u
#define __GFP_THISNODE       0x200000u /* the preferred node only, no fallback */
#define __GFP_ACCOUNT        0x400000u

#define __GFP_RECLAIM        (__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM)

/* The combinations callers use. */
#define GFP_ATOMIC           (__GFP_HIGH | __GFP_KSWAPD_RECLAIM)
#define GFP_KERNEL           (__GFP_RECLAIM | __GFP_IO | __GFP_FS)
#define GFP_NOWAIT           (__GFP_KSWAPD_RECLAIM)
#define GFP_NOIO             (__GFP_RECLAIM)
#define GFP_NOFS             (__GFP_RECLAIM | __GFP_IO)
#define GFP_USER             (__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL)
#define GFP_DMA              __GFP_DMA
#define GFP_DMA32            __GFP_DMA32
#define GFP_HIGHUSER         (GFP_USER | __GFP_HIGHMEM)
#define GFP_HIGHUSER_MOVABLE (GFP_HIGHUSER | __GFP_MOVABLE)

#endif /* KMEM_GFP_H */
