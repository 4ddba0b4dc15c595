#include <errno.h>
#include <sys/random.h>
#include <gio/gio.h>

#include "virtio_devices.h"
#include "virtio_pci.h"

struct virtio_rng {
    struct virtio_pci *vp;
    struct virtq_elem *elem;
};

/* Fill every device-writable buffer of the request with random bytes. */
static uint32_t fill_random(const struct virtq_elem *elem)
{
    uint64_t done = 0;
    for (unsigned i = elem->nout; i < elem->nout + elem->nin; i++) {
        uint8_t *p = elem->iov[i].iov_base;
        size_t left = elem->iov[i].iov_len;
        while (left) {
            ssize_t n = getrandom(p, left, 0);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return (uint32_t)done;
            }
            p += n;
            left -= (size_t)n;
            done += (uint64_t)n;
        }
    }
    return (uint32_t)done;
}

static void rng_queue_notify(struct virtio_pci *vp, unsigned queue)
{
    struct virtio_rng *r = virtio_pci_opaque(vp);
    struct virtqueue *vq;
    do {
        while (virtio_pci_pop(vp, queue, r->elem))
            virtio_pci_push(vp, queue, r->elem, fill_random(r->elem));
        vq = virtio_pci_queue(vp, queue);
    } while (vq && virtqueue_enable_notify(vq, true));
    virtio_pci_queue_interrupt(vp, queue);
}

static const struct virtio_device_ops rng_ops = {
    .queue_notify = rng_queue_notify,
    /* Requests complete before the state is saved: nothing in flight. */
    .stateless = true,
};

struct virtio_rng *virtio_rng_create(struct vm *vm, struct pci_bus *bus, GError **error)
{
    struct virtio_rng *r = g_new0(struct virtio_rng, 1);
    r->elem = g_new0(struct virtq_elem, 1);
    struct virtio_pci_params p = {
        .name = "virtio-rng",
        .device_type = VIRTIO_ID_RNG,
        .class_code = 0xff0000,
        .num_queues = 1,
        .queue_size = 64,
        .ops = &rng_ops,
        .opaque = r,
    };
    r->vp = virtio_pci_create(vm, bus, &p, error);
    if (!r->vp) {
        g_free(r->elem);
        g_free(r);
        return NULL;
    }
    return r;
}

void virtio_rng_free(struct virtio_rng *r)
{
    if (!r)
        return;
    virtio_pci_free(r->vp);
    g_free(r->elem);
    g_free(r);
}
