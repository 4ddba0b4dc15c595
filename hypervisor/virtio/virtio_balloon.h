/* virtio-balloon request parsing (virtio 1.x section 5.5), separate from
 * the device so that it can be driven directly (unit tests, fuzzing).
 * Everything a request holds comes from the guest and is checked here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/guest_memory.h"
#include "virtqueue.h"

#define VIRTIO_BALLOON_F_STATS_VQ       1
#define VIRTIO_BALLOON_F_DEFLATE_ON_OOM 2

#define VIRTIO_BALLOON_PFN_SHIFT 12     /* balloon pages are 4 KiB whatever the guest's */
#define VIRTIO_BALLOON_PAGE_SIZE (1u << VIRTIO_BALLOON_PFN_SHIFT)

/* Pages below 1 MiB (the BIOS's and the VGA window's) are never given
 * back: no guest balloons them and firmware lives there. */
#define VIRTIO_BALLOON_MIN_GPA 0x100000u

/* Statistics tags. */
enum {
    VIRTIO_BALLOON_S_SWAP_IN = 0,
    VIRTIO_BALLOON_S_SWAP_OUT = 1,
    VIRTIO_BALLOON_S_MAJFLT = 2,
    VIRTIO_BALLOON_S_MINFLT = 3,
    VIRTIO_BALLOON_S_MEMFREE = 4,
    VIRTIO_BALLOON_S_MEMTOT = 5,
    VIRTIO_BALLOON_S_AVAIL = 6,
    VIRTIO_BALLOON_S_CACHES = 7,
    VIRTIO_BALLOON_S_HTLB_PGALLOC = 8,
    VIRTIO_BALLOON_S_HTLB_PGFAIL = 9,
    VIRTIO_BALLOON_S_NR = 10,
};

/* The last statistics the driver sent: values by tag, and which it sent. */
struct virtio_balloon_stats {
    uint64_t value[VIRTIO_BALLOON_S_NR];
    uint32_t present;       /* bit per tag */
};

/* The page-frame numbers of an inflate request (little-endian 32-bit each
 * in its readable part), turned into host ranges of guest RAM handed to
 * discard(), adjacent pages merged.  PFNs outside guest RAM, below 1 MiB
 * or in hidden RAM (SMRAM) are skipped, as is a trailing partial PFN.
 * Returns the number of pages handed over. */
typedef void (*virtio_balloon_discard_fn)(void *opaque, void *hva, size_t len);
unsigned virtio_balloon_inflate(const struct virtq_elem *elem, const struct guest_memory *mem,
                                virtio_balloon_discard_fn discard, void *opaque);

/* A statistics buffer: {le16 tag, le64 value} entries, packed.  Unknown
 * tags are ignored; false (stats untouched) when the length is not a
 * whole number of entries or more than 64 of them. */
bool virtio_balloon_parse_stats(const struct virtq_elem *elem, struct virtio_balloon_stats *stats);
