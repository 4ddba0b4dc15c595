#include "virtio/virtio_blk.h"

#include <errno.h>
#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

#include "vm.h"
#include "virtio/virtio_devices.h"
#include "virtio/virtio_pci.h"

#define BLK_QUEUE_SIZE 256
#define BLK_SEG_MAX    (BLK_QUEUE_SIZE - 2)

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

/* Device configuration (virtio 1.x 5.2.4), little-endian on the wire. */
struct blk_config {
    uint64_t capacity;
    uint32_t size_max;
    uint32_t seg_max;
    uint16_t cylinders;
    uint8_t heads;
    uint8_t sectors;
    uint32_t blk_size;
    uint8_t physical_block_exp;
    uint8_t alignment_offset;
    uint16_t min_io_size;
    uint32_t opt_io_size;
    uint8_t writeback;
    uint8_t unused0[3];
    uint32_t max_discard_sectors;
    uint32_t max_discard_seg;
    uint32_t discard_sector_alignment;
    uint32_t max_write_zeroes_sectors;
    uint32_t max_write_zeroes_seg;
    uint8_t write_zeroes_may_unmap;
    uint8_t unused1[3];
} __attribute__((packed));

G_STATIC_ASSERT(sizeof(struct blk_config) == 60);

struct virtio_blk {
    struct virtio_pci *vp;
    struct virtio_blk_disk disk;
    struct blk_config config;
    struct virtq_elem *elem;
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

static void blk_queue_notify(struct virtio_pci *vp, unsigned queue)
{
    struct virtio_blk *b = virtio_pci_opaque(vp);
    struct virtqueue *vq;
    do {
        while (virtio_pci_pop(vp, queue, b->elem)) {
            uint32_t len = virtio_blk_handle_request(&b->disk, b->elem);
            virtio_pci_push(vp, queue, b->elem, len);
        }
        vq = virtio_pci_queue(vp, queue);
    } while (vq && virtqueue_enable_notify(vq, true));
    virtio_pci_queue_interrupt(vp, queue);
}

static const struct virtio_device_ops blk_ops = {
    .queue_notify = blk_queue_notify,
};

struct virtio_blk *virtio_blk_create(struct vm *vm, struct pci_bus *bus,
                                     const struct disk_config *cfg, GError **error)
{
    if (cfg->format != DISK_FORMAT_RAW) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    _("Disk %s: only raw images are supported"), cfg->path);
        return NULL;
    }
    struct block_backend *bb = block_raw_open(cfg->path, cfg->readonly, error);
    if (!bb)
        return NULL;

    struct virtio_blk *b = g_new0(struct virtio_blk, 1);
    b->disk.bb = bb;
    b->disk.readonly = cfg->readonly;
    b->disk.discard = cfg->discard && !cfg->readonly;
    if (cfg->serial)
        memcpy(b->disk.serial, cfg->serial, strnlen(cfg->serial, sizeof(b->disk.serial)));
    b->elem = g_new0(struct virtq_elem, 1);

    uint64_t features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_SIZE_MAX) |
                        (1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_FLUSH);
    struct blk_config *c = &b->config;
    c->capacity = GUINT64_TO_LE(bb->size / VIRTIO_BLK_SECTOR_SIZE);
    c->size_max = GUINT32_TO_LE(1u << 20);
    c->seg_max = GUINT32_TO_LE(BLK_SEG_MAX);
    c->blk_size = GUINT32_TO_LE(VIRTIO_BLK_SECTOR_SIZE);
    if (cfg->readonly) {
        features |= 1ull << VIRTIO_BLK_F_RO;
    } else {
        features |= 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
        c->max_write_zeroes_sectors = GUINT32_TO_LE(1u << 22);
        c->max_write_zeroes_seg = GUINT32_TO_LE(VIRTIO_BLK_MAX_DISCARD_SEG);
        c->write_zeroes_may_unmap = 1;
    }
    if (b->disk.discard) {
        features |= 1ull << VIRTIO_BLK_F_DISCARD;
        c->max_discard_sectors = GUINT32_TO_LE(1u << 22);
        c->max_discard_seg = GUINT32_TO_LE(VIRTIO_BLK_MAX_DISCARD_SEG);
        c->discard_sector_alignment = GUINT32_TO_LE(4096 / VIRTIO_BLK_SECTOR_SIZE);
    }

    struct virtio_pci_params p = {
        .name = "virtio-blk",
        .device_type = VIRTIO_ID_BLOCK,
        .class_code = 0x010000,     /* mass storage, SCSI */
        .num_queues = 1,
        .queue_size = BLK_QUEUE_SIZE,
        .features = features,
        .config = (uint8_t *)&b->config,
        .config_len = sizeof(b->config),
        .ops = &blk_ops,
        .opaque = b,
    };
    b->vp = virtio_pci_create(vm, bus, &p, error);
    if (!b->vp) {
        block_backend_close(bb);
        g_free(b->elem);
        g_free(b);
        return NULL;
    }
    return b;
}

void virtio_blk_free(struct virtio_blk *b)
{
    if (!b)
        return;
    virtio_pci_free(b->vp);
    block_backend_close(b->disk.bb);
    g_free(b->elem);
    g_free(b);
}
