/* libFuzzer target: the split-ring walker and virtio-blk request handling
 * on guest memory and rings built from the fuzz input.
 *
 * Input: an 8-byte preamble (queue size exponent, flags, ring offsets),
 * then bytes copied to guest-physical address 0 (rings, descriptors,
 * indirect tables and buffers all live there).  Every request the walker
 * accepts is carried out against a small in-memory disk and completed on
 * the used ring, as the device would. */
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <glib.h>

#include "backends/block_backend.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtqueue.h"

#define RAM_SIZE   (16u << 20)
#define WINDOW     (256u << 10)   /* what the input can fill and we clear */
#define DISK_SIZE  (64u << 10)

struct fuzz_state {
    struct guest_memory mem;
    struct virtq_elem elem;
    struct virtio_blk_disk disk;
};

static struct fuzz_state *state(void)
{
    /* Built once: allocating 16 MiB and a disk per input would dominate. */
    static struct fuzz_state *s;
    if (s)
        return s;
    s = g_new0(struct fuzz_state, 1);
    if (!guest_memory_alloc(&s->mem, RAM_SIZE, NULL))
        abort();
    int fd = memfd_create("fuzz-disk", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, DISK_SIZE) < 0)
        abort();
    char *path = g_strdup_printf("/proc/self/fd/%d", fd);
    s->disk.bb = block_raw_open(path, false, NULL);
    g_free(path);
    close(fd);
    if (!s->disk.bb)
        abort();
    s->disk.discard = true;
    memcpy(s->disk.serial, "fuzz", 4);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    struct fuzz_state *s = state();
    uint8_t *ram = guest_memory_ptr(&s->mem, 0, WINDOW);
    memset(ram, 0, WINDOW);
    memcpy(ram, data + 8, MIN(size - 8, (size_t)WINDOW));

    struct virtqueue vq = { 0 };
    vq.size = (uint16_t)(1u << (data[0] % 11));           /* 1 .. 1024 */
    vq.event_idx = data[1] & 1;
    s->disk.readonly = data[1] & 2;
    /* Ring offsets in 64-byte units, so both valid and overlapping or
     * out-of-window layouts come up; bit 7 of byte 1 puts the used ring
     * at a far address (outside RAM). */
    vq.desc_gpa = (uint64_t)(data[2] | data[3] << 8) * 16;
    vq.avail_gpa = (uint64_t)(data[4] | data[5] << 8) * 2;
    vq.used_gpa = (data[1] & 0x80) ? 0xfffffffffff0ull : (uint64_t)(data[6] | data[7] << 8) * 4;
    if (!virtqueue_start(&vq, &s->mem))
        return 0;

    for (unsigned n = 0; n < 2 * VIRTQ_MAX_SIZE; n++) {
        enum virtq_pop_result r = virtqueue_pop(&vq, &s->elem);
        if (r != VIRTQ_OK)
            break;
        uint32_t len = virtio_blk_handle_request(&s->disk, &s->elem);
        virtqueue_push(&vq, s->elem.head, len);
        (void)virtqueue_should_notify(&vq);
        if (virtqueue_enable_notify(&vq, true) && n > VIRTQ_MAX_SIZE)
            break;
    }
    return 0;
}
