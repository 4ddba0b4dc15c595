/* libFuzzer: a qcow2 image file from the input (header, tables, data, all
 * hostile), opened and then read and written at offsets the input picks.
 * Opening may fail; nothing may crash, hang or touch memory outside its
 * buffers.  The first 8 bytes choose the operations, the rest is the file;
 * without a qcow2 signature a valid header is put in front so that the
 * table walks get exercised. */
#include "backends/block_backend.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>

static const uint8_t header[] = {
    'Q', 'F', 'I', 0xfb, 0, 0, 0, 3,        /* magic, version 3 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,     /* no backing file */
    0, 0, 0, 9,                             /* 512-byte clusters */
    0, 0, 0, 0, 0, 0x01, 0, 0,              /* 64 KiB virtual size */
    0, 0, 0, 0,                             /* not encrypted */
    0, 0, 0, 2,                             /* 2 L1 entries */
    0, 0, 0, 0, 0, 0, 0x02, 0,              /* L1 at 512 */
    0, 0, 0, 0, 0, 0, 0x04, 0,              /* refcount table at 1024 */
    0, 0, 0, 1,                             /* one cluster of it */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,     /* no snapshots */
    0, 0, 0, 0, 0, 0, 0, 0,                 /* incompatible */
    0, 0, 0, 0, 0, 0, 0, 0,                 /* compatible */
    0, 0, 0, 0, 0, 0, 0, 0,                 /* autoclear */
    0, 0, 0, 4, 0, 0, 0, 104,               /* refcount order, header length */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    uint64_t ops;
    memcpy(&ops, data, 8);
    data += 8;
    size -= 8;

    char path[] = "/tmp/fuzz-qcow2-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        abort();
    if (size < 4 || memcmp(data, "QFI\xfb", 4) != 0) {
        if (write(fd, header, sizeof(header)) != (ssize_t)sizeof(header))
            abort();
        if (pwrite(fd, data, size, 512) != (ssize_t)size)
            abort();
    } else if (write(fd, data, size) != (ssize_t)size) {
        abort();
    }
    close(fd);

    GError *error = NULL;
    struct block_backend *bb = block_open(path, DISK_FORMAT_QCOW2, ops & 1, &error);
    g_clear_error(&error);
    if (bb) {
        uint8_t buf[2048];
        memset(buf, 0x5a, sizeof(buf));
        for (int i = 0; i < 6 && bb->size; i++, ops >>= 9) {
            uint64_t off = ((ops >> 1) * 977) % bb->size;
            size_t len = (size_t)MIN((uint64_t)sizeof(buf), bb->size - off);
            struct iovec v = { buf, len };
            switch ((ops >> 7) & 3) {
            case 0: block_backend_preadv(bb, &v, 1, off); break;
            case 1: block_backend_pwritev(bb, &v, 1, off); break;
            case 2: block_backend_discard(bb, off & ~511ull, MIN(bb->size - (off & ~511ull), 4096)); break;
            default: block_backend_write_zeroes(bb, off, len); break;
            }
        }
        block_backend_close(bb);
    }
    unlink(path);
    return 0;
}
