#include <string.h>
#include <gio/gio.h>

#include "chardev/chardev.h"
#include "virtio_devices.h"
#include "virtio_pci.h"

/* Single-port console (no MULTIPORT): queue 0 carries input to the guest,
 * queue 1 output from it. */
#define RX_QUEUE 0
#define TX_QUEUE 1
/* Input waiting for the guest to post buffers; the backend stops reading
 * when it is full, so nothing is dropped. */
#define PENDING_MAX 4096

struct console_config {
    uint16_t cols;
    uint16_t rows;
    uint32_t max_nr_ports;
    uint32_t emerg_wr;
} __attribute__((packed));

struct virtio_console {
    struct virtio_pci *vp;
    struct virtio_console_backend backend;
    struct console_config config;
    struct virtq_elem *elem;
    uint8_t pending[PENDING_MAX];
    size_t npending;
    bool backend_waiting;       /* told the backend we were full */
    struct chardev *chr;        /* when created on a chardev */
};

/* Move pending input into the guest's receive buffers (lock held). */
static void flush_input(struct virtio_console *c)
{
    struct virtio_pci *vp = c->vp;
    if (!(virtio_pci_status(vp) & VIRTIO_STATUS_DRIVER_OK))
        return;
    size_t off = 0;
    bool pushed = false;
    while (off < c->npending && virtio_pci_pop(vp, RX_QUEUE, c->elem)) {
        size_t n = virtq_elem_copy_to(c->elem, 0, c->pending + off, c->npending - off);
        virtio_pci_push(vp, RX_QUEUE, c->elem, (uint32_t)n);
        off += n;
        pushed = true;
    }
    memmove(c->pending, c->pending + off, c->npending - off);
    c->npending -= off;
    if (pushed)
        virtio_pci_queue_interrupt(vp, RX_QUEUE);
}

static void console_queue_notify(struct virtio_pci *vp, unsigned queue)
{
    struct virtio_console *c = virtio_pci_opaque(vp);
    if (queue == RX_QUEUE) {
        flush_input(c);
        struct virtqueue *vq = virtio_pci_queue(vp, RX_QUEUE);
        if (vq)
            virtqueue_enable_notify(vq, true);
        if (c->backend_waiting && c->npending < PENDING_MAX) {
            c->backend_waiting = false;
            if (c->backend.rx_ready)
                c->backend.rx_ready(c->backend.opaque);
        }
        return;
    }
    struct virtqueue *vq;
    do {
        while (virtio_pci_pop(vp, TX_QUEUE, c->elem)) {
            for (unsigned i = 0; i < c->elem->nout; i++)
                if (c->backend.write)
                    c->backend.write(c->backend.opaque, c->elem->iov[i].iov_base,
                                     c->elem->iov[i].iov_len);
            virtio_pci_push(vp, TX_QUEUE, c->elem, 0);
        }
        vq = virtio_pci_queue(vp, TX_QUEUE);
    } while (vq && virtqueue_enable_notify(vq, true));
    virtio_pci_queue_interrupt(vp, TX_QUEUE);
}

static void console_reset(struct virtio_pci *vp)
{
    struct virtio_console *c = virtio_pci_opaque(vp);
    c->npending = 0;
}

static const struct virtio_device_ops console_ops = {
    .queue_notify = console_queue_notify,
    .reset = console_reset,
};

size_t virtio_console_can_receive(struct virtio_console *c)
{
    virtio_pci_lock(c->vp);
    size_t room = PENDING_MAX - c->npending;
    if (room == 0)
        c->backend_waiting = true;
    virtio_pci_unlock(c->vp);
    return room;
}

size_t virtio_console_receive(struct virtio_console *c, const uint8_t *buf, size_t len)
{
    virtio_pci_lock(c->vp);
    size_t n = MIN(len, PENDING_MAX - c->npending);
    memcpy(c->pending + c->npending, buf, n);
    c->npending += n;
    flush_input(c);
    if (n < len)
        c->backend_waiting = true;
    virtio_pci_unlock(c->vp);
    return n;
}

struct virtio_console *virtio_console_create(struct vm *vm, struct pci_bus *bus,
                                             const struct virtio_console_backend *backend,
                                             GError **error)
{
    struct virtio_console *c = g_new0(struct virtio_console, 1);
    c->backend = *backend;
    c->elem = g_new0(struct virtq_elem, 1);
    c->config.max_nr_ports = GUINT32_TO_LE(1);
    struct virtio_pci_params p = {
        .name = "virtio-console",
        .device_type = VIRTIO_ID_CONSOLE,
        .class_code = 0x078000,     /* simple communication controller */
        .num_queues = 2,
        .queue_size = 128,
        .config = (uint8_t *)&c->config,
        .config_len = sizeof(c->config),
        .ops = &console_ops,
        .opaque = c,
    };
    c->vp = virtio_pci_create(vm, bus, &p, error);
    if (!c->vp) {
        g_free(c->elem);
        g_free(c);
        return NULL;
    }
    return c;
}

/* ---- on a chardev ---------------------------------------------------------- */

static void chr_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct virtio_console *c = opaque;
    chardev_write(c->chr, buf, len);
}

static void chr_rx_ready(void *opaque)
{
    struct virtio_console *c = opaque;
    chardev_accept_input(c->chr);
}

static size_t chr_can_receive(void *opaque)
{
    return virtio_console_can_receive(opaque);
}

static void chr_receive(void *opaque, const uint8_t *buf, size_t len)
{
    virtio_console_receive(opaque, buf, len);
}

struct virtio_console *virtio_console_create_on_chardev(struct vm *vm, struct pci_bus *bus,
                                                        struct chardev *chr, GError **error)
{
    /* The backend's opaque must be the console, which does not exist yet:
     * create with a placeholder and fill it in. */
    struct virtio_console_backend b = { .write = chr_write, .rx_ready = chr_rx_ready };
    struct virtio_console *c = virtio_console_create(vm, bus, &b, error);
    if (!c)
        return NULL;
    virtio_pci_lock(c->vp);
    c->chr = chr;
    c->backend.opaque = c;
    virtio_pci_unlock(c->vp);
    chardev_set_receiver(chr, chr_can_receive, chr_receive, c);
    return c;
}

void virtio_console_free(struct virtio_console *c)
{
    if (!c)
        return;
    if (c->chr)
        chardev_set_receiver(c->chr, NULL, NULL, NULL);
    virtio_pci_free(c->vp);
    g_free(c->elem);
    g_free(c);
}
