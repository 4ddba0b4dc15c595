#include "virtio_pci.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <glib-unix.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

#include "core/vm.h"
#include "core/state_stream.h"

/* Layout of the virtio structures BAR. */
#define VIRTIO_BAR          4
#define MSIX_BAR            1
#define COMMON_OFFSET       0x0000
#define COMMON_SIZE         0x38
#define ISR_OFFSET          0x1000
#define ISR_SIZE            0x4
#define DEVICE_OFFSET       0x2000
#define DEVICE_SIZE         0x1000
#define NOTIFY_OFFSET       0x3000
#define NOTIFY_MULTIPLIER   4
#define VIRTIO_BAR_SIZE     0x4000

#define VIRTIO_PCI_CAP_COMMON_CFG  1
#define VIRTIO_PCI_CAP_NOTIFY_CFG  2
#define VIRTIO_PCI_CAP_ISR_CFG     3
#define VIRTIO_PCI_CAP_DEVICE_CFG  4
#define VIRTIO_PCI_CAP_PCI_CFG     5

#define ISR_QUEUE   0x1
#define ISR_CONFIG  0x2

struct vp_queue {
    struct virtqueue vq;
    uint16_t max_size;
    uint16_t msix_vector;
    bool enabled;
    int kick_fd;                /* eventfd: ioeventfd target and MMIO-exit path */
    bool ioeventfd;             /* kick_fd is wired to the notify address */
    uint64_t ioeventfd_addr;
    GSource *source;
    struct virtio_pci *vp;
    unsigned index;
};

struct virtio_pci {
    struct pci_device pci;
    struct pci_msix msix;
    struct vm *vm;
    GMutex lock;
    struct virtio_pci_params p;
    uint64_t host_features;

    uint32_t device_feature_select;
    uint32_t driver_feature_select;
    uint64_t driver_features;
    uint16_t config_msix_vector;
    uint8_t status;
    uint8_t config_generation;
    uint16_t queue_select;
    uint8_t isr;
    bool broken_reported;
    uint8_t cfg_cap;            /* VIRTIO_PCI_CAP_PCI_CFG: a window into the BAR */

    struct vp_queue q[VIRTIO_MAX_QUEUES];
};

void *virtio_pci_opaque(struct virtio_pci *vp) { return vp->p.opaque; }
struct vm *virtio_pci_vm(struct virtio_pci *vp) { return vp->vm; }
struct pci_device *virtio_pci_pci_device(struct virtio_pci *vp) { return &vp->pci; }
uint64_t virtio_pci_driver_features(struct virtio_pci *vp) { return vp->driver_features; }
uint8_t virtio_pci_status(struct virtio_pci *vp) { return vp->status; }
void virtio_pci_lock(struct virtio_pci *vp) { g_mutex_lock(&vp->lock); }
void virtio_pci_unlock(struct virtio_pci *vp) { g_mutex_unlock(&vp->lock); }

bool virtio_pci_has_feature(struct virtio_pci *vp, unsigned bit)
{
    return bit < 64 && (vp->driver_features & (1ull << bit));
}

static bool running(const struct virtio_pci *vp)
{
    return (vp->status & VIRTIO_STATUS_DRIVER_OK) && !(vp->status & VIRTIO_STATUS_NEEDS_RESET);
}

struct virtqueue *virtio_pci_queue(struct virtio_pci *vp, unsigned queue)
{
    if (queue >= vp->p.num_queues || !vp->q[queue].enabled || !vp->q[queue].vq.started)
        return NULL;
    return &vp->q[queue].vq;
}

/* ---- interrupts -------------------------------------------------------------- */

static void raise_interrupt(struct virtio_pci *vp, uint16_t vector, uint8_t isr_bit)
{
    if (pci_msix_enabled(&vp->msix)) {
        if (vector != VIRTIO_NO_VECTOR)
            pci_msix_notify(&vp->msix, vector);
        return;
    }
    __atomic_or_fetch(&vp->isr, isr_bit, __ATOMIC_SEQ_CST);
    pci_set_irq(&vp->pci, true);
}

void virtio_pci_queue_interrupt(struct virtio_pci *vp, unsigned queue)
{
    struct virtqueue *vq = virtio_pci_queue(vp, queue);
    if (!vq || !virtqueue_should_notify(vq))
        return;
    raise_interrupt(vp, vp->q[queue].msix_vector, ISR_QUEUE);
}

void virtio_pci_config_interrupt(struct virtio_pci *vp)
{
    vp->config_generation++;
    if (vp->status & VIRTIO_STATUS_DRIVER_OK)
        raise_interrupt(vp, vp->config_msix_vector, ISR_CONFIG);
}

static void stop_queues(struct virtio_pci *vp)
{
    for (unsigned i = 0; i < vp->p.num_queues; i++)
        virtqueue_stop(&vp->q[i].vq);
}

void virtio_pci_set_needs_reset(struct virtio_pci *vp, const char *why)
{
    if (vp->status & VIRTIO_STATUS_NEEDS_RESET)
        return;
    if (!vp->broken_reported) {
        /* Once per device: a misbehaving guest must not flood the log. */
        g_warning(_("%s: the guest driver broke the virtio protocol (%s); device needs reset"),
                  vp->p.name, why);
        vp->broken_reported = true;
    }
    vp->status |= VIRTIO_STATUS_NEEDS_RESET;
    stop_queues(vp);
    virtio_pci_config_interrupt(vp);
}

bool virtio_pci_pop(struct virtio_pci *vp, unsigned queue, struct virtq_elem *elem)
{
    struct virtqueue *vq = virtio_pci_queue(vp, queue);
    if (!vq || !running(vp))
        return false;
    switch (virtqueue_pop(vq, elem)) {
    case VIRTQ_OK:
        return true;
    case VIRTQ_EMPTY:
        return false;
    case VIRTQ_BROKEN:
    default:
        virtio_pci_set_needs_reset(vp, _("malformed descriptor chain"));
        return false;
    }
}

void virtio_pci_push(struct virtio_pci *vp, unsigned queue, const struct virtq_elem *elem,
                     uint32_t written)
{
    struct virtqueue *vq = virtio_pci_queue(vp, queue);
    if (vq)
        virtqueue_push(vq, elem->head, written);
}

/* ---- reset ---------------------------------------------------------------------- */

static void device_reset(struct virtio_pci *vp)
{
    stop_queues(vp);
    vp->device_feature_select = 0;
    vp->driver_feature_select = 0;
    vp->driver_features = 0;
    vp->config_msix_vector = VIRTIO_NO_VECTOR;
    vp->status = 0;
    vp->queue_select = 0;
    for (unsigned i = 0; i < vp->p.num_queues; i++) {
        struct vp_queue *q = &vp->q[i];
        q->enabled = false;
        q->msix_vector = VIRTIO_NO_VECTOR;
        q->vq.size = q->max_size;
        q->vq.desc_gpa = q->vq.avail_gpa = q->vq.used_gpa = 0;
        q->vq.event_idx = false;
    }
    __atomic_store_n(&vp->isr, 0, __ATOMIC_SEQ_CST);
    pci_set_irq(&vp->pci, false);
    if (vp->p.ops->reset)
        vp->p.ops->reset(vp);
}

static void platform_reset(void *opaque)
{
    struct virtio_pci *vp = opaque;
    pci_device_reset(&vp->pci);
    pci_msix_reset(&vp->msix);
    g_mutex_lock(&vp->lock);
    device_reset(vp);
    vp->broken_reported = false;
    g_mutex_unlock(&vp->lock);
}

/* ---- notifications ------------------------------------------------------------ */

static void process_queue(struct virtio_pci *vp, unsigned queue)
{
    if (running(vp) && virtio_pci_queue(vp, queue) && vp->p.ops->queue_notify)
        vp->p.ops->queue_notify(vp, queue);
}

void virtio_pci_kick(struct virtio_pci *vp, unsigned queue)
{
    g_mutex_lock(&vp->lock);
    process_queue(vp, queue);
    g_mutex_unlock(&vp->lock);
}

static gboolean kick_ready(gint fd, GIOCondition cond, gpointer data)
{
    struct vp_queue *q = data;
    uint64_t n;
    while (read(fd, &n, sizeof(n)) == sizeof(n))
        ;
    virtio_pci_kick(q->vp, q->index);
    return G_SOURCE_CONTINUE;
}

/* Wire or unwire the queues' eventfds to notify addresses (lock held). */
static void update_ioeventfds(struct virtio_pci *vp, bool mapped, uint64_t bar_addr)
{
    for (unsigned i = 0; i < vp->p.num_queues; i++) {
        struct vp_queue *q = &vp->q[i];
        if (q->ioeventfd) {
            vm_ioeventfd(vp->vm, q->kick_fd, q->ioeventfd_addr, 2, false, false);
            q->ioeventfd = false;
        }
        if (mapped) {
            q->ioeventfd_addr = bar_addr + NOTIFY_OFFSET + NOTIFY_MULTIPLIER * i;
            /* Linux and SeaBIOS notify with a 16-bit write; any other width
             * still reaches notify_write() through an MMIO exit. */
            q->ioeventfd = vm_ioeventfd(vp->vm, q->kick_fd, q->ioeventfd_addr, 2, false, true);
        }
    }
}

static void bar_moved(struct pci_device *dev, unsigned bar, bool mapped, uint64_t addr)
{
    struct virtio_pci *vp = dev->opaque;
    if (bar != VIRTIO_BAR)
        return;
    g_mutex_lock(&vp->lock);
    update_ioeventfds(vp, mapped, addr);
    g_mutex_unlock(&vp->lock);
}

static uint64_t bar_read(void *opaque, uint64_t offset, unsigned size);
static void bar_write(void *opaque, uint64_t offset, uint64_t value, unsigned size);
static bool cfg_window(struct virtio_pci *vp, uint32_t *offset, unsigned *len);
static bool touches_data(struct virtio_pci *vp, unsigned offset, unsigned size);

static void config_written(struct pci_device *dev, unsigned offset, unsigned size)
{
    struct virtio_pci *vp = dev->opaque;
    pci_msix_config_written(&vp->msix, offset, size);
    uint32_t off;
    unsigned len;
    if (touches_data(vp, offset, size) && cfg_window(vp, &off, &len))
        bar_write(vp, off, pci_get_long(&dev->config[vp->cfg_cap + 16]), len);
}

/* ---- common configuration ------------------------------------------------------ */

static uint64_t offered_features(const struct virtio_pci *vp)
{
    return vp->host_features;
}

static uint32_t common_read(struct virtio_pci *vp, unsigned off, unsigned size)
{
    struct vp_queue *q = vp->queue_select < vp->p.num_queues ? &vp->q[vp->queue_select] : NULL;
    switch (off) {
    case 0:  return vp->device_feature_select;
    case 4:
        return vp->device_feature_select < 2
            ? (uint32_t)(offered_features(vp) >> (32 * vp->device_feature_select)) : 0;
    case 8:  return vp->driver_feature_select;
    case 12:
        return vp->driver_feature_select < 2
            ? (uint32_t)(vp->driver_features >> (32 * vp->driver_feature_select)) : 0;
    case 16: return vp->config_msix_vector;
    case 18: return vp->p.num_queues;
    case 20: return vp->status;
    case 21: return vp->config_generation;
    case 22: return vp->queue_select;
    case 24: return q ? q->vq.size : 0;
    case 26: return q ? q->msix_vector : VIRTIO_NO_VECTOR;
    case 28: return q ? q->enabled : 0;
    case 30: return q ? vp->queue_select : 0;   /* queue_notify_off */
    case 32: return q ? (uint32_t)q->vq.desc_gpa : 0;
    case 36: return q ? (uint32_t)(q->vq.desc_gpa >> 32) : 0;
    case 40: return q ? (uint32_t)q->vq.avail_gpa : 0;
    case 44: return q ? (uint32_t)(q->vq.avail_gpa >> 32) : 0;
    case 48: return q ? (uint32_t)q->vq.used_gpa : 0;
    case 52: return q ? (uint32_t)(q->vq.used_gpa >> 32) : 0;
    default: return 0;
    }
}

static void set_half(uint64_t *field, unsigned half, uint32_t v)
{
    if (half)
        *field = (*field & 0xffffffffull) | (uint64_t)v << 32;
    else
        *field = (*field & ~0xffffffffull) | v;
}

static void write_status(struct virtio_pci *vp, uint8_t value)
{
    if (value == 0) {
        device_reset(vp);
        return;
    }
    uint8_t old = vp->status;
    uint8_t nv = (uint8_t)((value & ~VIRTIO_STATUS_NEEDS_RESET) | (old & VIRTIO_STATUS_NEEDS_RESET));
    if ((nv & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
        /* Accept the features only if they are a subset of what we offer
         * and the driver speaks virtio 1.x; otherwise FEATURES_OK stays
         * clear, which is how the spec says to refuse. */
        bool ok = !(vp->driver_features & ~offered_features(vp)) &&
                  (vp->driver_features & (1ull << VIRTIO_F_VERSION_1)) &&
                  !(old & VIRTIO_STATUS_DRIVER_OK);
        if (!ok)
            nv &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
    }
    /* DRIVER_OK without FEATURES_OK is a driver bug; don't start. */
    if ((nv & VIRTIO_STATUS_DRIVER_OK) && !(nv & VIRTIO_STATUS_FEATURES_OK))
        nv &= (uint8_t)~VIRTIO_STATUS_DRIVER_OK;
    vp->status = nv;
    if ((nv & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK)) {
        if (vp->p.ops->driver_ok)
            vp->p.ops->driver_ok(vp);
        /* Buffers may have been made available before DRIVER_OK. */
        for (unsigned i = 0; i < vp->p.num_queues; i++) {
            if (vp->q[i].enabled) {
                uint64_t one = 1;
                if (write(vp->q[i].kick_fd, &one, sizeof(one)) < 0)
                    g_debug("virtio: kick eventfd: %s", g_strerror(errno));
            }
        }
    }
}

static void enable_queue(struct virtio_pci *vp, struct vp_queue *q)
{
    q->vq.event_idx = virtio_pci_has_feature(vp, VIRTIO_F_EVENT_IDX);
    q->enabled = true;
    if (!virtqueue_start(&q->vq, vm_memory(vp->vm)))
        virtio_pci_set_needs_reset(vp, _("queue rings outside guest memory or misaligned"));
}

static void common_write(struct virtio_pci *vp, unsigned off, unsigned size, uint32_t v)
{
    struct vp_queue *q = vp->queue_select < vp->p.num_queues ? &vp->q[vp->queue_select] : NULL;
    /* Queue parameters are frozen once the queue is enabled. */
    bool q_writable = q && !q->enabled;
    bool features_open = !(vp->status & VIRTIO_STATUS_FEATURES_OK);
    unsigned nvec = vp->msix.nvec;

    switch (off) {
    case 0:  vp->device_feature_select = v; break;
    case 8:  vp->driver_feature_select = v; break;
    case 12:
        if (features_open && vp->driver_feature_select < 2)
            set_half(&vp->driver_features, vp->driver_feature_select, v);
        break;
    case 16:
        /* A vector we do not have reads back as NO_VECTOR. */
        vp->config_msix_vector = (uint16_t)v < nvec ? (uint16_t)v : VIRTIO_NO_VECTOR;
        break;
    case 20: write_status(vp, (uint8_t)v); break;
    case 22: vp->queue_select = (uint16_t)v; break;
    case 24:
        if (q_writable) {
            uint16_t s = (uint16_t)v;
            /* Split rings need a power of two no larger than the maximum. */
            if (s && s <= q->max_size && !(s & (s - 1)))
                q->vq.size = s;
        }
        break;
    case 26:
        if (q)
            q->msix_vector = (uint16_t)v < nvec ? (uint16_t)v : VIRTIO_NO_VECTOR;
        break;
    case 28:
        /* Only enabling is allowed; a queue is disabled by reset. */
        if (q_writable && (v & 1) && (vp->status & VIRTIO_STATUS_FEATURES_OK))
            enable_queue(vp, q);
        break;
    case 32: case 36:
        if (q_writable) set_half(&q->vq.desc_gpa, off == 36, v);
        break;
    case 40: case 44:
        if (q_writable) set_half(&q->vq.avail_gpa, off == 44, v);
        break;
    case 48: case 52:
        if (q_writable) set_half(&q->vq.used_gpa, off == 52, v);
        break;
    default:
        break;
    }
}

/* The fields have natural sizes; accept those, the 64-bit address fields
 * also as two dwords or one qword, and ignore anything else. */
static bool common_access_ok(unsigned off, unsigned size)
{
    if (off >= COMMON_SIZE)
        return false;
    if (off >= 32)
        return size == 4 || (size == 8 && off % 8 == 0);
    if (off < 16)
        return size == 4 && off % 4 == 0;
    if (off == 20 || off == 21)
        return size == 1;
    return size == 2 && off % 2 == 0;
}

/* ---- the BAR ----------------------------------------------------------------- */

static uint64_t bar_read(void *opaque, uint64_t offset, unsigned size)
{
    struct virtio_pci *vp = opaque;
    uint64_t v = 0;
    g_mutex_lock(&vp->lock);
    if (offset < COMMON_OFFSET + COMMON_SIZE) {
        unsigned off = (unsigned)offset;
        if (common_access_ok(off, size)) {
            v = common_read(vp, off, size);
            if (size == 8)
                v |= (uint64_t)common_read(vp, off + 4, 4) << 32;
        }
    } else if (offset >= ISR_OFFSET && offset < ISR_OFFSET + ISR_SIZE) {
        /* Reading the ISR acknowledges the interrupt. */
        v = __atomic_exchange_n(&vp->isr, 0, __ATOMIC_SEQ_CST);
        pci_set_irq(&vp->pci, false);
    } else if (offset >= DEVICE_OFFSET && offset < DEVICE_OFFSET + DEVICE_SIZE) {
        uint64_t off = offset - DEVICE_OFFSET;
        if (off < vp->p.config_len && size <= vp->p.config_len - off)
            memcpy(&v, vp->p.config + off, size);
    }
    g_mutex_unlock(&vp->lock);
    return v;
}

static void bar_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct virtio_pci *vp = opaque;
    if (offset >= NOTIFY_OFFSET && offset < NOTIFY_OFFSET + NOTIFY_MULTIPLIER * vp->p.num_queues) {
        /* The MMIO-exit path of a kick: hand it to the main loop exactly as
         * an ioeventfd would. */
        struct vp_queue *q = &vp->q[(offset - NOTIFY_OFFSET) / NOTIFY_MULTIPLIER];
        uint64_t one = 1;
        if (write(q->kick_fd, &one, sizeof(one)) < 0)
            g_debug("virtio: kick eventfd: %s", g_strerror(errno));
        return;
    }
    g_mutex_lock(&vp->lock);
    if (offset < COMMON_OFFSET + COMMON_SIZE) {
        unsigned off = (unsigned)offset;
        if (common_access_ok(off, size)) {
            common_write(vp, off, size, (uint32_t)value);
            if (size == 8)
                common_write(vp, off + 4, 4, (uint32_t)(value >> 32));
        }
    } else if (offset >= DEVICE_OFFSET && offset < DEVICE_OFFSET + DEVICE_SIZE) {
        uint64_t off = offset - DEVICE_OFFSET;
        if (off < vp->p.config_len && size <= vp->p.config_len - off && vp->p.ops->config_write)
            vp->p.ops->config_write(vp, (unsigned)off, size, value);
    }
    g_mutex_unlock(&vp->lock);
}

static const struct io_ops bar_ops = { .read = bar_read, .write = bar_write };

/* The PCI configuration access capability: firmware that cannot map the
 * BAR reaches it through bar/offset/length and the 4-byte data window.
 * Called with the bus lock held (bus before device lock, as everywhere). */
static bool cfg_window(struct virtio_pci *vp, uint32_t *offset, unsigned *len)
{
    const uint8_t *c = &vp->pci.config[vp->cfg_cap];
    *offset = pci_get_long(c + 8);
    *len = pci_get_long(c + 12);
    return c[4] == VIRTIO_BAR && (*len == 1 || *len == 2 || *len == 4) &&
           *offset % *len == 0 && *offset < VIRTIO_BAR_SIZE;
}

static bool touches_data(struct virtio_pci *vp, unsigned offset, unsigned size)
{
    unsigned data = vp->cfg_cap + 16u;
    return vp->cfg_cap && offset < data + 4 && offset + size > data;
}

static void config_read(struct pci_device *dev, unsigned offset, unsigned size)
{
    struct virtio_pci *vp = dev->opaque;
    uint32_t off;
    unsigned len;
    if (!touches_data(vp, offset, size) || !cfg_window(vp, &off, &len))
        return;
    pci_set_long(&dev->config[vp->cfg_cap + 16], (uint32_t)bar_read(vp, off, len));
}

/* ---- VM state ------------------------------------------------------------------ */

/* Finish what the driver has made available, so that no request is half
 * done in the saved image (block and rng requests complete synchronously
 * on the main loop; net transmits). */
static void drain(struct virtio_pci *vp)
{
    for (unsigned i = 0; i < vp->p.num_queues; i++)
        process_queue(vp, i);
}

static bool vp_save(struct pci_device *dev, struct state_out *o, GError **error)
{
    struct virtio_pci *vp = dev->opaque;
    g_mutex_lock(&vp->lock);
    drain(vp);
    state_out_u32(o, vp->device_feature_select);
    state_out_u32(o, vp->driver_feature_select);
    state_out_u64(o, vp->driver_features);
    state_out_u16(o, vp->config_msix_vector);
    state_out_u8(o, vp->status);
    state_out_u8(o, vp->config_generation);
    state_out_u16(o, vp->queue_select);
    state_out_u8(o, __atomic_load_n(&vp->isr, __ATOMIC_SEQ_CST));
    state_out_u32(o, vp->p.num_queues);
    for (unsigned i = 0; i < vp->p.num_queues; i++) {
        state_out_bool(o, vp->q[i].enabled);
        state_out_u16(o, vp->q[i].msix_vector);
        virtqueue_save(&vp->q[i].vq, o);
    }
    pci_msix_save(&vp->msix, o);
    bool ok = !vp->p.ops->save || vp->p.ops->save(vp, o, error);
    g_mutex_unlock(&vp->lock);
    return ok;
}

static uint16_t checked_vector(struct virtio_pci *vp, uint16_t v)
{
    return v < vp->msix.nvec ? v : VIRTIO_NO_VECTOR;
}

static bool load_queues(struct virtio_pci *vp, struct state_in *in, GError **error)
{
    uint32_t n = state_in_u32(in);
    if (n != vp->p.num_queues)
        return state_in_invalid(in, error, _("%u queues, the device has %u"), n, vp->p.num_queues);
    for (unsigned i = 0; i < n; i++) {
        struct vp_queue *q = &vp->q[i];
        q->enabled = state_in_bool(in);
        q->msix_vector = checked_vector(vp, state_in_u16(in));
        q->vq.event_idx = virtio_pci_has_feature(vp, VIRTIO_F_EVENT_IDX);
        if (!virtqueue_load(&q->vq, in, vm_memory(vp->vm), q->max_size, error))
            return false;
        if (q->vq.started && (!q->enabled || !(vp->status & VIRTIO_STATUS_FEATURES_OK)))
            return state_in_invalid(in, error, _("queue %u runs but is not enabled"), i);
    }
    return true;
}

static bool load_transport(struct virtio_pci *vp, struct state_in *in, GError **error)
{
    vp->device_feature_select = state_in_u32(in);
    vp->driver_feature_select = state_in_u32(in);
    vp->driver_features = state_in_u64(in);
    vp->config_msix_vector = checked_vector(vp, state_in_u16(in));
    vp->status = state_in_u8(in);
    vp->config_generation = state_in_u8(in);
    vp->queue_select = state_in_u16(in);
    uint8_t isr = state_in_u8(in);
    if (in->short_read)
        return state_in_invalid(in, error, _("truncated"));
    if (vp->driver_features & ~offered_features(vp))
        return state_in_invalid(in, error, _("features 0x%" PRIx64 " were never offered"),
                                vp->driver_features & ~offered_features(vp));
    if ((vp->status & VIRTIO_STATUS_DRIVER_OK) && !(vp->status & VIRTIO_STATUS_FEATURES_OK))
        return state_in_invalid(in, error, _("device status 0x%x"), vp->status);
    __atomic_store_n(&vp->isr, isr & (ISR_QUEUE | ISR_CONFIG), __ATOMIC_SEQ_CST);
    return load_queues(vp, in, error) && pci_msix_load(&vp->msix, in, error);
}

static bool vp_load(struct pci_device *dev, struct state_in *in, uint32_t version, GError **error)
{
    struct virtio_pci *vp = dev->opaque;
    g_mutex_lock(&vp->lock);
    bool ok = load_transport(vp, in, error) &&
              (!vp->p.ops->load || vp->p.ops->load(vp, in, error));
    if (!ok) {
        device_reset(vp);
    } else if (running(vp)) {
        /* Whatever the driver queued just before the save is processed
         * now, as if it had kicked. */
        for (unsigned i = 0; i < vp->p.num_queues; i++) {
            uint64_t one = 1;
            if (vp->q[i].enabled && write(vp->q[i].kick_fd, &one, sizeof(one)) < 0)
                g_debug("virtio: kick eventfd: %s", g_strerror(errno));
        }
    }
    g_mutex_unlock(&vp->lock);
    return ok;
}

static const struct pci_state_ops vp_state_ops = {
    .version = 1, .save = vp_save, .load = vp_load,
};

/* ---- creation ------------------------------------------------------------------ */

static bool add_virtio_cap(struct virtio_pci *vp, uint8_t type, uint32_t offset,
                           uint32_t length, bool notify)
{
    uint8_t len = notify ? 20 : 16;
    uint8_t cap = pci_device_add_capability(&vp->pci, PCI_CAP_ID_VNDR, len);
    if (!cap)
        return false;
    uint8_t *c = &vp->pci.config[cap];
    c[2] = len;
    c[3] = type;
    c[4] = VIRTIO_BAR;
    pci_set_long(c + 8, offset);
    pci_set_long(c + 12, length);
    if (notify)
        pci_set_long(c + 16, NOTIFY_MULTIPLIER);
    return true;
}

struct virtio_pci *virtio_pci_create(struct vm *vm, struct pci_bus *bus,
                                     const struct virtio_pci_params *params,
                                     GError **error)
{
    g_return_val_if_fail(params->num_queues > 0 && params->num_queues <= VIRTIO_MAX_QUEUES, NULL);
    g_return_val_if_fail(params->config_len <= DEVICE_SIZE, NULL);
    g_return_val_if_fail(params->queue_size && params->queue_size <= VIRTQ_MAX_SIZE &&
                         !(params->queue_size & (params->queue_size - 1)), NULL);

    struct virtio_pci *vp = g_new0(struct virtio_pci, 1);
    vp->vm = vm;
    vp->p = *params;
    g_mutex_init(&vp->lock);
    vp->host_features = params->features | (1ull << VIRTIO_F_VERSION_1) |
                        (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_EVENT_IDX);

    pci_device_init(&vp->pci, params->name, VIRTIO_PCI_VENDOR,
                    VIRTIO_PCI_DEVICE_BASE + params->device_type, params->class_code,
                    0x01 /* revision 1: modern only */, 1 /* INTA */);
    pci_device_set_subsystem(&vp->pci, VIRTIO_PCI_VENDOR, 0x40);
    vp->pci.opaque = vp;
    vp->pci.config_written = config_written;
    vp->pci.config_read = config_read;
    vp->pci.bar_moved = bar_moved;
    if (params->ops->save || params->ops->stateless)
        vp->pci.state = &vp_state_ops;
    pci_device_set_bar(&vp->pci, VIRTIO_BAR, PCI_BAR_MEM64, false, VIRTIO_BAR_SIZE, &bar_ops, vp);

    if (!add_virtio_cap(vp, VIRTIO_PCI_CAP_COMMON_CFG, COMMON_OFFSET, COMMON_SIZE, false) ||
        !add_virtio_cap(vp, VIRTIO_PCI_CAP_ISR_CFG, ISR_OFFSET, ISR_SIZE, false) ||
        !add_virtio_cap(vp, VIRTIO_PCI_CAP_DEVICE_CFG, DEVICE_OFFSET,
                        MAX(params->config_len, 4u), false) ||
        !add_virtio_cap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG, NOTIFY_OFFSET,
                        NOTIFY_MULTIPLIER * params->num_queues, true) ||
        !(vp->cfg_cap = pci_device_add_capability(&vp->pci, PCI_CAP_ID_VNDR, 20))) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                    _("%s: no room for the virtio capabilities"), params->name);
        goto fail;
    }
    {
        uint8_t *c = &vp->pci.config[vp->cfg_cap];
        c[2] = 20;
        c[3] = VIRTIO_PCI_CAP_PCI_CFG;
        /* bar, offset, length and the data window are the driver's. */
        vp->pci.wmask[vp->cfg_cap + 4] = 0xff;
        memset(&vp->pci.wmask[vp->cfg_cap + 8], 0xff, 12);
    }
    if (!pci_msix_init(&vp->msix, &vp->pci, vm, params->num_queues + 1, MSIX_BAR, error))
        goto fail;

    for (unsigned i = 0; i < params->num_queues; i++) {
        struct vp_queue *q = &vp->q[i];
        q->vp = vp;
        q->index = i;
        q->max_size = params->queue_size;
        q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (q->kick_fd < 0) {
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                        _("%s: cannot create an eventfd: %s"), params->name, g_strerror(errno));
            goto fail;
        }
        q->source = g_unix_fd_source_new(q->kick_fd, G_IO_IN);
        g_source_set_callback(q->source, (GSourceFunc)(void (*)(void))kick_ready, q, NULL);
        g_source_attach(q->source, vm_main_context(vm));
    }
    device_reset(vp);

    if (!pci_register_device(bus, &vp->pci, error))
        goto fail;
    vm_add_reset_handler(vm, platform_reset, vp);
    return vp;

fail:
    virtio_pci_free(vp);
    return NULL;
}

void virtio_pci_free(struct virtio_pci *vp)
{
    if (!vp)
        return;
    pci_unregister_device(&vp->pci);
    for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
        struct vp_queue *q = &vp->q[i];
        if (q->source) {
            g_source_destroy(q->source);
            g_source_unref(q->source);
        }
        if (q->ioeventfd)
            vm_ioeventfd(vp->vm, q->kick_fd, q->ioeventfd_addr, 2, false, false);
        if (q->vp && q->kick_fd >= 0)
            close(q->kick_fd);
    }
    pci_msix_destroy(&vp->msix);
    g_mutex_clear(&vp->lock);
    g_free(vp);
}
