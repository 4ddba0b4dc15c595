#include "virtio_blk.h"

#include <inttypes.h>
#include <errno.h>
#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

#include "core/vm.h"
#include "virtio_devices.h"
#include "virtio_pci.h"

#define BLK_QUEUE_SIZE 256
#define BLK_SEG_MAX    (BLK_QUEUE_SIZE - 2)

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
    /* Requests complete before the state is saved: nothing in flight. */
    .stateless = true,
};

struct virtio_blk *virtio_blk_create(struct vm *vm, struct pci_bus *bus,
                                     const struct disk_config *cfg, GError **error)
{
    struct block_backend *bb = block_open(cfg->path, cfg->format, cfg->readonly, error);
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

void virtio_blk_stats(struct virtio_blk *blk, struct block_stats *out)
{
    block_backend_get_stats(blk->disk.bb, out);
}

bool virtio_blk_grow(struct virtio_blk *blk, uint64_t size, GError **error)
{
    uint64_t now = blk->disk.bb->size;
    if (size == now)
        return true;
    if (size < now) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    _("Disk image %s is %" PRIu64 " bytes: it cannot shrink to %"
                      PRIu64 " (the guest would lose data)"),
                    blk->disk.bb->path, (guint64)now, (guint64)size);
        return false;
    }
    virtio_pci_lock(blk->vp);
    int ret = block_backend_grow(blk->disk.bb, size);
    if (ret == 0) {
        blk->config.capacity = GUINT64_TO_LE(size / VIRTIO_BLK_SECTOR_SIZE);
        virtio_pci_config_interrupt(blk->vp);
    }
    virtio_pci_unlock(blk->vp);
    if (ret < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-ret),
                    _("Cannot grow disk image %s to %" PRIu64 " bytes: %s"),
                    blk->disk.bb->path, (guint64)size,
                    ret == -ENOTSUP ? _("its format or file type cannot grow") : g_strerror(-ret));
        return false;
    }
    return true;
}

char *virtio_blk_boot_path(struct virtio_blk *blk)
{
    const struct pci_device *d = virtio_pci_pci_device(blk->vp);
    if (d->func)
        return g_strdup_printf("/pci@i0cf8/scsi@%x,%x/disk@0,0", d->slot, d->func);
    return g_strdup_printf("/pci@i0cf8/scsi@%x/disk@0,0", d->slot);
}
