/* Opening a disk image by its format, and closing any backend. */
#include "block_backend.h"

struct block_backend *block_open(const char *path, enum disk_format format, bool readonly,
                                 GError **error)
{
    switch (format) {
    case DISK_FORMAT_QCOW2:
        return block_qcow2_open(path, readonly, error);
    case DISK_FORMAT_SYNTHETIC:
        return block_synthetic_open(path, readonly, error);
    case DISK_FORMAT_RAW:
    default:
        return block_raw_open(path, readonly, error);
    }
}

void block_backend_close(struct block_backend *bb)
{
    if (bb)
        bb->ops->close(bb);
}
