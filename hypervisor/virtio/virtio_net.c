#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

#include "backends/net_backend.h"
#include "core/state_stream.h"
#include "core/vm.h"
#include "virtio_devices.h"
#include "virtio_pci.h"

#define VIRTIO_NET_F_MAC     5
#define VIRTIO_NET_F_STATUS  16
#define VIRTIO_NET_S_LINK_UP 1

#define RX_QUEUE 0
#define TX_QUEUE 1
#define NET_QUEUE_SIZE 256

/* struct virtio_net_hdr with num_buffers, as virtio 1.x always uses it. */
struct net_hdr {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
    uint16_t num_buffers;
} __attribute__((packed));

G_STATIC_ASSERT(sizeof(struct net_hdr) == 12);

struct net_config_space {
    uint8_t mac[6];
    uint16_t status;
} __attribute__((packed));

struct virtio_net {
    struct virtio_pci *vp;
    struct net_backend *backend;
    struct net_config_space config;
    struct virtq_elem *rx_elem;
    struct virtq_elem *tx_elem;
    bool rx_starved;            /* the backend holds frames for us */
};

/* A frame from the network for the guest (main loop). */
static bool net_receive(void *opaque, const uint8_t *frame, size_t len)
{
    struct virtio_net *n = opaque;
    struct virtio_pci *vp = n->vp;
    bool taken = true;
    virtio_pci_lock(vp);
    if (!(virtio_pci_status(vp) & VIRTIO_STATUS_DRIVER_OK)) {
        /* No driver: the wire is unplugged, drop. */
        virtio_pci_unlock(vp);
        return true;
    }
    bool have = virtio_pci_pop(vp, RX_QUEUE, n->rx_elem);
    if (!have) {
        /* Ask to be kicked when buffers come, then look once more. */
        struct virtqueue *vq = virtio_pci_queue(vp, RX_QUEUE);
        if (vq && virtqueue_enable_notify(vq, true))
            have = virtio_pci_pop(vp, RX_QUEUE, n->rx_elem);
        if (!have) {
            /* A queue that is not running (or broke) drops; a running one
             * without buffers makes the backend wait. */
            n->rx_starved = virtio_pci_queue(vp, RX_QUEUE) != NULL;
            taken = !n->rx_starved;
        }
    }
    if (have) {
        struct virtq_elem *e = n->rx_elem;
        if (e->in_len < sizeof(struct net_hdr) + len) {
            /* A buffer too small for the frame (we offer no merged
             * buffers, so the driver must post full-size ones): drop the
             * frame, hand the buffer back empty. */
            virtio_pci_push(vp, RX_QUEUE, e, 0);
        } else {
            struct net_hdr h = { .num_buffers = GUINT16_TO_LE(1) };
            virtq_elem_copy_to(e, 0, &h, sizeof(h));
            virtq_elem_copy_to(e, sizeof(h), frame, len);
            virtio_pci_push(vp, RX_QUEUE, e, (uint32_t)(sizeof(h) + len));
        }
        virtio_pci_queue_interrupt(vp, RX_QUEUE);
    }
    virtio_pci_unlock(vp);
    return taken;
}

/* Frames from the guest: strip the header, send the rest. */
static void process_tx(struct virtio_net *n)
{
    struct virtio_pci *vp = n->vp;
    struct virtqueue *vq;
    struct iovec v[VIRTQ_MAX_IOV];
    do {
        while (virtio_pci_pop(vp, TX_QUEUE, n->tx_elem)) {
            struct virtq_elem *e = n->tx_elem;
            size_t skip = sizeof(struct net_hdr);
            int cnt = 0;
            for (unsigned i = 0; i < e->nout; i++) {
                size_t l = e->iov[i].iov_len;
                if (skip >= l) {
                    skip -= l;
                    continue;
                }
                v[cnt++] = (struct iovec){ (uint8_t *)e->iov[i].iov_base + skip, l - skip };
                skip = 0;
            }
            if (skip == 0 && cnt > 0)
                net_backend_send(n->backend, v, cnt);
            virtio_pci_push(vp, TX_QUEUE, e, 0);
        }
        vq = virtio_pci_queue(vp, TX_QUEUE);
    } while (vq && virtqueue_enable_notify(vq, true));
    virtio_pci_queue_interrupt(vp, TX_QUEUE);
}

static void net_queue_notify(struct virtio_pci *vp, unsigned queue)
{
    struct virtio_net *n = virtio_pci_opaque(vp);
    if (queue == TX_QUEUE) {
        process_tx(n);
    } else if (n->rx_starved) {
        n->rx_starved = false;
        net_backend_rx_resume(n->backend);
    }
}

static void net_reset(struct virtio_pci *vp)
{
    struct virtio_net *n = virtio_pci_opaque(vp);
    if (n->rx_starved) {
        /* Let the backend move on (it drops into the unplugged wire). */
        n->rx_starved = false;
        net_backend_rx_resume(n->backend);
    }
}

/* The backend's state; frames it held for a starved queue are gone with
 * the old process, and the queue is kicked after a restore anyway. */
static bool net_save(struct virtio_pci *vp, struct state_out *o, GError **error)
{
    struct virtio_net *n = virtio_pci_opaque(vp);
    state_out_bytes(o, n->config.mac, 6);
    return net_backend_save(n->backend, o, error);
}

static bool net_load(struct virtio_pci *vp, struct state_in *in, GError **error)
{
    struct virtio_net *n = virtio_pci_opaque(vp);
    uint8_t mac[6];
    state_in_bytes(in, mac, sizeof(mac));
    if (in->short_read)
        return state_in_invalid(in, error, _("truncated"));
    if (mac[0] & 1)
        return state_in_invalid(in, error, _("a multicast MAC address"));
    /* The guest knows its MAC; a generated one must stay. */
    memcpy(n->config.mac, mac, 6);
    n->rx_starved = false;
    return net_backend_load(n->backend, in, error);
}

static const struct virtio_device_ops net_ops = {
    .queue_notify = net_queue_notify,
    .reset = net_reset,
    .save = net_save,
    .load = net_load,
};

/* A locally administered unicast MAC in the 52:54:00 range, different for
 * every NIC of a VM and across VMs. */
static void make_mac(uint8_t mac[6])
{
    mac[0] = 0x52;
    mac[1] = 0x54;
    mac[2] = 0x00;
    uint32_t r = g_random_int();
    mac[3] = (uint8_t)r;
    mac[4] = (uint8_t)(r >> 8);
    mac[5] = (uint8_t)(r >> 16);
}

struct virtio_net *virtio_net_create(struct vm *vm, struct pci_bus *bus,
                                     const struct net_config *cfg, GError **error)
{
    if (cfg->model != NET_MODEL_VIRTIO) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    _("virtio-net was asked for a NIC of another model"));
        return NULL;
    }
    struct virtio_net *n = g_new0(struct virtio_net, 1);
    n->backend = net_backend_open(cfg, vm_main_context(vm), error);
    if (!n->backend) {
        g_free(n);
        return NULL;
    }
    if (cfg->mac_set)
        memcpy(n->config.mac, cfg->mac, 6);
    else
        make_mac(n->config.mac);
    n->config.status = GUINT16_TO_LE(VIRTIO_NET_S_LINK_UP);
    n->rx_elem = g_new0(struct virtq_elem, 1);
    n->tx_elem = g_new0(struct virtq_elem, 1);

    struct virtio_pci_params p = {
        .name = "virtio-net",
        .device_type = VIRTIO_ID_NET,
        .class_code = 0x020000,     /* Ethernet controller */
        .num_queues = 2,
        .queue_size = NET_QUEUE_SIZE,
        .features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS),
        .config = (uint8_t *)&n->config,
        .config_len = sizeof(n->config),
        .ops = &net_ops,
        .opaque = n,
    };
    n->vp = virtio_pci_create(vm, bus, &p, error);
    if (!n->vp) {
        net_backend_close(n->backend);
        g_free(n->rx_elem);
        g_free(n->tx_elem);
        g_free(n);
        return NULL;
    }
    net_backend_set_receiver(n->backend, net_receive, n);
    return n;
}

void virtio_net_free(struct virtio_net *n)
{
    if (!n)
        return;
    net_backend_set_receiver(n->backend, NULL, NULL);
    virtio_pci_free(n->vp);
    net_backend_close(n->backend);
    g_free(n->rx_elem);
    g_free(n->tx_elem);
    g_free(n);
}
