#include "virtio_balloon.h"

#include <glib.h>

#define STATS_ENTRY_SIZE 10
#define STATS_MAX_ENTRIES 64

/* A run of adjacent pages not yet handed to discard(). */
struct run {
    uint8_t *hva;
    size_t len;
};

static void flush_run(struct run *r, virtio_balloon_discard_fn discard, void *opaque)
{
    if (r->len)
        discard(opaque, r->hva, r->len);
    r->len = 0;
}

unsigned virtio_balloon_inflate(const struct virtq_elem *elem, const struct guest_memory *mem,
                                virtio_balloon_discard_fn discard, void *opaque)
{
    unsigned pages = 0;
    struct run run = { 0 };
    uint32_t pfns[64];
    size_t n = (size_t)(elem->out_len / sizeof(uint32_t));
    for (size_t done = 0; done < n;) {
        size_t chunk = MIN(n - done, G_N_ELEMENTS(pfns));
        size_t got = virtq_elem_copy_from(elem, done * sizeof(uint32_t), pfns, chunk * sizeof(uint32_t));
        if (got != chunk * sizeof(uint32_t))
            break;
        for (size_t i = 0; i < chunk; i++) {
            uint64_t gpa = (uint64_t)GUINT32_FROM_LE(pfns[i]) << VIRTIO_BALLOON_PFN_SHIFT;
            uint8_t *hva = gpa >= VIRTIO_BALLOON_MIN_GPA
                               ? guest_memory_ptr(mem, gpa, VIRTIO_BALLOON_PAGE_SIZE) : NULL;
            if (!hva)
                continue;
            if (!run.len || hva != run.hva + run.len) {
                flush_run(&run, discard, opaque);
                run.hva = hva;
            }
            run.len += VIRTIO_BALLOON_PAGE_SIZE;
            pages++;
        }
        done += chunk;
    }
    flush_run(&run, discard, opaque);
    return pages;
}

bool virtio_balloon_parse_stats(const struct virtq_elem *elem, struct virtio_balloon_stats *stats)
{
    if (elem->out_len % STATS_ENTRY_SIZE || elem->out_len / STATS_ENTRY_SIZE > STATS_MAX_ENTRIES)
        return false;
    unsigned n = (unsigned)(elem->out_len / STATS_ENTRY_SIZE);
    struct virtio_balloon_stats fresh = { { 0 }, 0 };
    for (unsigned i = 0; i < n; i++) {
        uint8_t e[STATS_ENTRY_SIZE];
        if (virtq_elem_copy_from(elem, (size_t)i * STATS_ENTRY_SIZE, e, sizeof(e)) != sizeof(e))
            return false;
        uint16_t tag = (uint16_t)(e[0] | e[1] << 8);
        uint64_t v = 0;
        for (int b = 7; b >= 0; b--)
            v = v << 8 | e[2 + b];
        if (tag >= VIRTIO_BALLOON_S_NR)
            continue;
        fresh.value[tag] = v;
        fresh.present |= 1u << tag;
    }
    *stats = fresh;
    return true;
}
