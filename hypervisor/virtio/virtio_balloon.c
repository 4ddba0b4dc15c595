/* virtio-balloon (virtio 1.x section 5.5): the host asks the guest to give
 * back memory by raising num_pages; the guest hands over the page frames
 * on the inflate queue and they are dropped from this process
 * (MADV_DONTNEED: they read as zeros when the guest takes them back after
 * a deflate, which needs no action here).  The statistics queue holds one
 * buffer that is returned to the driver whenever fresh statistics are
 * wanted (every stats period). */
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

#include "core/vm.h"
#include "core/state_stream.h"
#include "virtio_balloon.h"
#include "virtio_devices.h"
#include "virtio_pci.h"

#define BALLOON_QUEUE_SIZE 128
enum { Q_INFLATE = 0, Q_DEFLATE = 1, Q_STATS = 2, BALLOON_QUEUES = 3 };

/* Device configuration, little-endian. */
struct balloon_config {
    uint32_t num_pages;     /* pages the host wants in the balloon */
    uint32_t actual;        /* pages the driver says are in it */
    uint32_t free_page_hint_cmd_id;
    uint32_t poison_val;
} __attribute__((packed));

struct virtio_balloon {
    struct virtio_pci *vp;
    struct vm *vm;
    uint64_t ram_pages;
    struct balloon_config config;
    struct virtq_elem *elem;
    /* The statistics buffer the driver left with us. */
    bool stats_held;
    uint16_t stats_head;
    struct virtio_balloon_stats stats;
    int64_t stats_time;         /* when they came (Unix seconds), 0: never */
    unsigned stats_period;      /* seconds; 0: no polling */
    guint stats_timer;
};

static void discard_pages(void *opaque, void *hva, size_t len)
{
    madvise(hva, len, MADV_DONTNEED);
}

static void take_stats(struct virtio_balloon *b)
{
    /* A driver adding a second buffer gets the first one back. */
    if (b->stats_held) {
        struct virtq_elem old = { .head = b->stats_head };
        virtio_pci_push(b->vp, Q_STATS, &old, 0);
        virtio_pci_queue_interrupt(b->vp, Q_STATS);
    }
    b->stats_held = true;
    b->stats_head = b->elem->head;
    if (virtio_balloon_parse_stats(b->elem, &b->stats))
        b->stats_time = (int64_t)time(NULL);
}

static void balloon_queue_notify(struct virtio_pci *vp, unsigned queue)
{
    struct virtio_balloon *b = virtio_pci_opaque(vp);
    const struct guest_memory *mem = vm_memory(b->vm);
    struct virtqueue *vq;
    do {
        while (virtio_pci_pop(vp, queue, b->elem)) {
            if (queue == Q_STATS) {
                take_stats(b);
                continue;
            }
            if (queue == Q_INFLATE)
                virtio_balloon_inflate(b->elem, mem, discard_pages, NULL);
            virtio_pci_push(vp, queue, b->elem, 0);
        }
        vq = virtio_pci_queue(vp, queue);
    } while (vq && virtqueue_enable_notify(vq, true));
    virtio_pci_queue_interrupt(vp, queue);
}

static void balloon_config_write(struct virtio_pci *vp, unsigned offset, unsigned size, uint64_t value)
{
    struct virtio_balloon *b = virtio_pci_opaque(vp);
    /* Only actual is the driver's to write; more pages than RAM are not
     * believed. */
    if (offset == offsetof(struct balloon_config, actual) && size == 4)
        b->config.actual = GUINT32_TO_LE((uint32_t)MIN(value, b->ram_pages));
}

static void balloon_reset(struct virtio_pci *vp)
{
    struct virtio_balloon *b = virtio_pci_opaque(vp);
    b->config.actual = 0;
    b->stats_held = false;
}

/* Return the statistics buffer so that the driver refills it (lock held). */
static void request_stats(struct virtio_balloon *b)
{
    if (!b->stats_held)
        return;
    struct virtq_elem e = { .head = b->stats_head };
    b->stats_held = false;
    virtio_pci_push(b->vp, Q_STATS, &e, 0);
    virtio_pci_queue_interrupt(b->vp, Q_STATS);
}

static gboolean stats_tick(gpointer data)
{
    struct virtio_balloon *b = data;
    virtio_pci_lock(b->vp);
    request_stats(b);
    virtio_pci_unlock(b->vp);
    return G_SOURCE_CONTINUE;
}

static void set_period(struct virtio_balloon *b, unsigned seconds)
{
    if (b->stats_timer)
        g_source_remove(b->stats_timer);
    b->stats_timer = 0;
    b->stats_period = seconds;
    if (seconds) {
        GSource *s = g_timeout_source_new_seconds(seconds);
        g_source_set_callback(s, stats_tick, b, NULL);
        b->stats_timer = g_source_attach(s, vm_main_context(b->vm));
        g_source_unref(s);
    }
}

#define STATE_VERSION 1

static bool balloon_save(struct virtio_pci *vp, struct state_out *o, GError **error)
{
    struct virtio_balloon *b = virtio_pci_opaque(vp);
    state_out_u32(o, STATE_VERSION);
    state_out_u32(o, GUINT32_FROM_LE(b->config.num_pages));
    state_out_u32(o, GUINT32_FROM_LE(b->config.actual));
    state_out_bool(o, b->stats_held);
    state_out_u16(o, b->stats_head);
    state_out_u32(o, b->stats.present);
    for (unsigned i = 0; i < VIRTIO_BALLOON_S_NR; i++)
        state_out_u64(o, b->stats.value[i]);
    state_out_u64(o, (uint64_t)b->stats_time);
    state_out_u32(o, b->stats_period);
    return true;
}

static bool balloon_load(struct virtio_pci *vp, struct state_in *in, GError **error)
{
    struct virtio_balloon *b = virtio_pci_opaque(vp);
    uint32_t version = state_in_u32(in);
    uint32_t num_pages = state_in_u32(in), actual = state_in_u32(in);
    bool held = state_in_bool(in);
    uint16_t head = state_in_u16(in);
    struct virtio_balloon_stats st = { .present = state_in_u32(in) };
    for (unsigned i = 0; i < VIRTIO_BALLOON_S_NR; i++)
        st.value[i] = state_in_u64(in);
    int64_t when = (int64_t)state_in_u64(in);
    uint32_t period = state_in_u32(in);
    if (in->short_read)
        return state_in_invalid(in, error, _("truncated"));
    if (version != STATE_VERSION)
        return state_in_invalid(in, error, _("version %u (this oriel-vmm has %u)"), version, STATE_VERSION);
    if (num_pages > b->ram_pages || actual > b->ram_pages)
        return state_in_invalid(in, error, _("%u or %u pages in the balloon of %" PRIu64),
                                num_pages, actual, (guint64)b->ram_pages);
    if (held && head >= BALLOON_QUEUE_SIZE)
        return state_in_invalid(in, error, _("statistics buffer %u"), head);
    if (st.present >> VIRTIO_BALLOON_S_NR || period > 86400)
        return state_in_invalid(in, error, _("statistics 0x%x every %u s"), st.present, period);
    b->config.num_pages = GUINT32_TO_LE(num_pages);
    b->config.actual = GUINT32_TO_LE(actual);
    b->stats_held = held;
    b->stats_head = head;
    b->stats = st;
    b->stats_time = when;
    set_period(b, period);
    return true;
}

static const struct virtio_device_ops balloon_ops = {
    .queue_notify = balloon_queue_notify,
    .config_write = balloon_config_write,
    .reset = balloon_reset,
    .save = balloon_save,
    .load = balloon_load,
};

struct virtio_balloon *virtio_balloon_create(struct vm *vm, struct pci_bus *bus, bool deflate_on_oom,
                                             GError **error)
{
    struct virtio_balloon *b = g_new0(struct virtio_balloon, 1);
    b->vm = vm;
    b->ram_pages = vm_memory(vm)->ram_size >> VIRTIO_BALLOON_PFN_SHIFT;
    b->elem = g_new0(struct virtq_elem, 1);
    uint64_t features = 1ull << VIRTIO_BALLOON_F_STATS_VQ;
    if (deflate_on_oom)
        features |= 1ull << VIRTIO_BALLOON_F_DEFLATE_ON_OOM;
    struct virtio_pci_params p = {
        .name = "virtio-balloon",
        .device_type = VIRTIO_ID_BALLOON,
        .class_code = 0x050000,     /* memory controller, RAM */
        .num_queues = BALLOON_QUEUES,
        .queue_size = BALLOON_QUEUE_SIZE,
        .features = features,
        .config = (uint8_t *)&b->config,
        .config_len = sizeof(b->config),
        .ops = &balloon_ops,
        .opaque = b,
    };
    b->vp = virtio_pci_create(vm, bus, &p, error);
    if (!b->vp) {
        g_free(b->elem);
        g_free(b);
        return NULL;
    }
    return b;
}

void virtio_balloon_free(struct virtio_balloon *b)
{
    if (!b)
        return;
    set_period(b, 0);
    virtio_pci_free(b->vp);
    g_free(b->elem);
    g_free(b);
}

void virtio_balloon_stop(struct virtio_balloon *b)
{
    if (b)
        set_period(b, 0);
}

bool virtio_balloon_set_target(struct virtio_balloon *b, uint64_t bytes, GError **error)
{
    uint64_t ram = b->ram_pages << VIRTIO_BALLOON_PFN_SHIFT;
    if (bytes == 0 || bytes > ram) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    _("The balloon target must be between 1 byte and the VM's %" PRIu64
                      " bytes of RAM"), (guint64)ram);
        return false;
    }
    uint64_t pages = (ram - bytes) >> VIRTIO_BALLOON_PFN_SHIFT;
    virtio_pci_lock(b->vp);
    b->config.num_pages = GUINT32_TO_LE((uint32_t)pages);
    virtio_pci_config_interrupt(b->vp);
    virtio_pci_unlock(b->vp);
    return true;
}

void virtio_balloon_query(struct virtio_balloon *b, struct virtio_balloon_info *info)
{
    virtio_pci_lock(b->vp);
    uint64_t ram = b->ram_pages << VIRTIO_BALLOON_PFN_SHIFT;
    info->actual = ram - ((uint64_t)GUINT32_FROM_LE(b->config.actual) << VIRTIO_BALLOON_PFN_SHIFT);
    info->target = ram - ((uint64_t)GUINT32_FROM_LE(b->config.num_pages) << VIRTIO_BALLOON_PFN_SHIFT);
    info->stats = b->stats;
    info->stats_time = b->stats_time;
    info->stats_period = b->stats_period;
    virtio_pci_unlock(b->vp);
}

void virtio_balloon_set_stats_period(struct virtio_balloon *b, unsigned seconds)
{
    virtio_pci_lock(b->vp);
    set_period(b, seconds);
    /* A first sample now rather than a period later. */
    request_stats(b);
    virtio_pci_unlock(b->vp);
}
