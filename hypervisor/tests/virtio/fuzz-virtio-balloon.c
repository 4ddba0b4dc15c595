/* libFuzzer target: virtio-balloon's inflate and statistics requests.
 *
 * Input: one byte choosing where the readable buffer is cut in two, then
 * the buffer itself, parsed once as a page-frame list against 16 MiB of
 * guest RAM (with a hidden range) and once as statistics.  Every range
 * handed back must lie in RAM, above 1 MiB, outside the hidden range, and
 * be whole pages. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "virtio/virtio_balloon.h"

#define RAM_SIZE (16u << 20)
#define HIDDEN_GPA 0x300000u
#define HIDDEN_SIZE 0x10000u

static struct guest_memory *memory(void)
{
    static struct guest_memory *m;
    if (!m) {
        m = g_new0(struct guest_memory, 1);
        if (!guest_memory_alloc(m, RAM_SIZE, NULL))
            abort();
        guest_memory_hide(m, 0, HIDDEN_GPA, HIDDEN_SIZE);
    }
    return m;
}

static void check_range(void *opaque, void *hva, size_t len)
{
    struct guest_memory *m = opaque;
    uint8_t *base = m->region[0].hva;
    uintptr_t off = (uintptr_t)((uint8_t *)hva - base);
    if ((uint8_t *)hva < base || len == 0 || len % VIRTIO_BALLOON_PAGE_SIZE ||
        off % VIRTIO_BALLOON_PAGE_SIZE || off < VIRTIO_BALLOON_MIN_GPA || off + len > m->low_size ||
        (off < HIDDEN_GPA + HIDDEN_SIZE && off + len > HIDDEN_GPA))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    static struct virtq_elem elem;
    size_t len = size - 1;
    /* Never NULL, even for an empty payload: buf + cut must be defined. */
    uint8_t *buf = g_malloc(len + 1);
    memcpy(buf, data + 1, len);
    size_t cut = len ? data[0] % (len + 1) : 0;
    memset(&elem, 0, sizeof(elem));
    elem.iov[elem.nout++] = (struct iovec){ buf, cut };
    elem.iov[elem.nout++] = (struct iovec){ buf + cut, len - cut };
    elem.out_len = len;
    struct guest_memory *m = memory();
    unsigned pages = virtio_balloon_inflate(&elem, m, check_range, m);
    if (pages > len / 4)
        abort();
    struct virtio_balloon_stats st;
    if (virtio_balloon_parse_stats(&elem, &st) && (st.present >> VIRTIO_BALLOON_S_NR))
        abort();
    g_free(buf);
    return 0;
}
