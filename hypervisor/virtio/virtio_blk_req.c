#include "virtio_blk.h"

#include <string.h>
#include <glib.h>

struct blk_req_header {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

struct blk_discard_seg {
    uint64_t sector;
    uint32_t num_sectors;
    uint32_t flags;
};

/* Build the sub-vector covering bytes [skip, skip + len) of v[0 .. n). */
static int iov_slice(const struct iovec *v, unsigned n, uint64_t skip, uint64_t len,
                     struct iovec *out, unsigned max)
{
    int cnt = 0;
    for (unsigned i = 0; i < n && len; i++) {
        if (skip >= v[i].iov_len) {
            skip -= v[i].iov_len;
            continue;
        }
        if ((unsigned)cnt == max)
            return -1;
        size_t take = (size_t)MIN((uint64_t)v[i].iov_len - skip, len);
        out[cnt++] = (struct iovec){ (uint8_t *)v[i].iov_base + skip, take };
        len -= take;
        skip = 0;
    }
    return cnt;
}

static bool range_ok(const struct virtio_blk_disk *d, uint64_t sector, uint64_t bytes)
{
    uint64_t capacity = d->bb->size / VIRTIO_BLK_SECTOR_SIZE;
    if (bytes % VIRTIO_BLK_SECTOR_SIZE)
        return false;
    uint64_t n = bytes / VIRTIO_BLK_SECTOR_SIZE;
    return sector <= capacity && n <= capacity - sector;
}

static uint8_t do_rw(const struct virtio_blk_disk *d, const struct virtq_elem *elem,
                     uint64_t sector, bool write, uint64_t *written)
{
    /* OUT: data follows the 16-byte header in the readable part.
     * IN: data fills the writable part except the final status byte. */
    uint64_t len = write ? elem->out_len - sizeof(struct blk_req_header) : elem->in_len - 1;
    if (write && d->readonly)
        return VIRTIO_BLK_S_IOERR;
    if (!range_ok(d, sector, len))
        return VIRTIO_BLK_S_IOERR;
    if (len == 0)
        return VIRTIO_BLK_S_OK;
    struct iovec v[VIRTQ_MAX_IOV];
    int cnt = write
        ? iov_slice(elem->iov, elem->nout, sizeof(struct blk_req_header), len, v, VIRTQ_MAX_IOV)
        : iov_slice(elem->iov + elem->nout, elem->nin, 0, len, v, VIRTQ_MAX_IOV);
    if (cnt < 0)
        return VIRTIO_BLK_S_IOERR;
    uint64_t off = sector * VIRTIO_BLK_SECTOR_SIZE;
    int ret = write ? block_backend_pwritev(d->bb, v, cnt, off)
                    : block_backend_preadv(d->bb, v, cnt, off);
    if (ret < 0)
        return VIRTIO_BLK_S_IOERR;
    if (!write)
        *written = len;
    return VIRTIO_BLK_S_OK;
}

static uint8_t do_discard(const struct virtio_blk_disk *d, const struct virtq_elem *elem,
                          bool zeroes)
{
    if (d->readonly)
        return VIRTIO_BLK_S_IOERR;
    if (!zeroes && !d->discard)
        return VIRTIO_BLK_S_UNSUPP;
    uint64_t bytes = elem->out_len - sizeof(struct blk_req_header);
    if (bytes == 0 || bytes % sizeof(struct blk_discard_seg) ||
        bytes / sizeof(struct blk_discard_seg) > VIRTIO_BLK_MAX_DISCARD_SEG)
        return VIRTIO_BLK_S_IOERR;
    unsigned nseg = (unsigned)(bytes / sizeof(struct blk_discard_seg));
    for (unsigned i = 0; i < nseg; i++) {
        struct blk_discard_seg seg;
        size_t off = sizeof(struct blk_req_header) + i * sizeof(seg);
        if (virtq_elem_copy_from(elem, off, &seg, sizeof(seg)) != sizeof(seg))
            return VIRTIO_BLK_S_IOERR;
        uint64_t sector = GUINT64_FROM_LE(seg.sector);
        uint64_t n = GUINT32_FROM_LE(seg.num_sectors);
        uint32_t flags = GUINT32_FROM_LE(seg.flags);
        /* Only the unmap flag is defined, and only for write-zeroes. */
        if (flags & ~(zeroes ? 1u : 0u))
            return VIRTIO_BLK_S_UNSUPP;
        if (!range_ok(d, sector, n * VIRTIO_BLK_SECTOR_SIZE))
            return VIRTIO_BLK_S_IOERR;
        uint64_t off_b = sector * VIRTIO_BLK_SECTOR_SIZE, len_b = n * VIRTIO_BLK_SECTOR_SIZE;
        int ret = zeroes ? block_backend_write_zeroes(d->bb, off_b, len_b)
                         : block_backend_discard(d->bb, off_b, len_b);
        if (ret < 0)
            return VIRTIO_BLK_S_IOERR;
    }
    return VIRTIO_BLK_S_OK;
}

uint32_t virtio_blk_handle_request(const struct virtio_blk_disk *d, const struct virtq_elem *elem)
{
    struct blk_req_header h;
    if (elem->in_len < 1 ||
        virtq_elem_copy_from(elem, 0, &h, sizeof(h)) != sizeof(h))
        return 0;   /* nowhere to put a status: nothing we can answer */

    uint64_t written = 0;
    uint8_t status;
    uint64_t sector = GUINT64_FROM_LE(h.sector);
    switch (GUINT32_FROM_LE(h.type)) {
    case VIRTIO_BLK_T_IN:
        status = do_rw(d, elem, sector, false, &written);
        break;
    case VIRTIO_BLK_T_OUT:
        status = do_rw(d, elem, sector, true, &written);
        break;
    case VIRTIO_BLK_T_FLUSH:
        status = d->readonly || block_backend_flush(d->bb) == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
        break;
    case VIRTIO_BLK_T_GET_ID: {
        /* Up to 20 bytes; the driver's buffer may be shorter. */
        size_t room = (size_t)MIN(elem->in_len - 1, (uint64_t)VIRTIO_BLK_ID_BYTES);
        written = virtq_elem_copy_to(elem, 0, d->serial, room);
        status = VIRTIO_BLK_S_OK;
        break;
    }
    case VIRTIO_BLK_T_DISCARD:
        status = do_discard(d, elem, false);
        break;
    case VIRTIO_BLK_T_WRITE_ZEROES:
        status = do_discard(d, elem, true);
        break;
    default:
        status = VIRTIO_BLK_S_UNSUPP;
        break;
    }
    virtq_elem_copy_to(elem, elem->in_len - 1, &status, 1);
    return (uint32_t)(written + 1);
}
