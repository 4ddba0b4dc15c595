#include "msix.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

#include "core/vm.h"
#include "core/state_stream.h"

#define MSIX_CTRL(m)   ((m)->cap + 2)

static uint16_t msix_control(struct pci_msix *m)
{
    return pci_get_word(&m->dev->config[MSIX_CTRL(m)]);
}

bool pci_msix_enabled(struct pci_msix *m)
{
    return __atomic_load_n(&m->dev->config[MSIX_CTRL(m) + 1], __ATOMIC_RELAXED) & 0x80;
}

static bool function_masked(struct pci_msix *m)
{
    return msix_control(m) & PCI_MSIX_FLAGS_MASKALL;
}

/* Drop the irqfd and MSI route of a vector (m->lock held). */
static void release_route(struct pci_msix *m, struct pci_msix_vector *v)
{
    if (v->irqfd)
        vm_irqfd(m->vm, v->eventfd, v->gsi, false);
    v->irqfd = false;
    if (v->eventfd >= 0)
        close(v->eventfd);
    v->eventfd = -1;
    if (v->gsi >= 0)
        vm_msi_route_remove(m->vm, v->gsi);
    v->gsi = -1;
}

/* Make sure an unmasked vector has an up-to-date route and irqfd, so that
 * delivering it costs one eventfd write (m->lock held). */
static void prepare_route(struct pci_msix *m, struct pci_msix_vector *v)
{
    if (v->gsi >= 0) {
        if (!vm_msi_route_update(m->vm, v->gsi, v->address, v->data))
            release_route(m, v);
        return;
    }
    v->gsi = vm_msi_route_add(m->vm, v->address, v->data);
    if (v->gsi < 0)
        return;
    v->eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (v->eventfd >= 0 && vm_irqfd(m->vm, v->eventfd, v->gsi, true)) {
        v->irqfd = true;
        return;
    }
    release_route(m, v);
}

static void deliver(struct pci_msix *m, struct pci_msix_vector *v)
{
    if (v->irqfd) {
        uint64_t one = 1;
        if (write(v->eventfd, &one, sizeof(one)) == sizeof(one))
            return;
    }
    vm_signal_msi(m->vm, v->address, v->data);
}

/* Deliver pending vectors that are no longer masked (m->lock held). */
static void flush_pending(struct pci_msix *m)
{
    if (!pci_msix_enabled(m) || function_masked(m))
        return;
    for (unsigned i = 0; i < m->nvec; i++) {
        struct pci_msix_vector *v = &m->vec[i];
        if ((m->pba & (1ull << i)) && !(v->ctrl & PCI_MSIX_VECTOR_MASKED)) {
            m->pba &= ~(1ull << i);
            deliver(m, v);
        }
    }
}

void pci_msix_notify(struct pci_msix *m, unsigned n)
{
    if (n >= m->nvec)
        return;
    g_mutex_lock(&m->lock);
    struct pci_msix_vector *v = &m->vec[n];
    if (!pci_msix_enabled(m)) {
        /* Nothing to do: the driver has not turned MSI-X on. */
    } else if (function_masked(m) || (v->ctrl & PCI_MSIX_VECTOR_MASKED)) {
        m->pba |= 1ull << n;
    } else {
        deliver(m, v);
    }
    g_mutex_unlock(&m->lock);
}

static uint64_t msix_bar_read(void *opaque, uint64_t offset, unsigned size)
{
    struct pci_msix *m = opaque;
    uint64_t val = 0;
    g_mutex_lock(&m->lock);
    if (offset < (uint64_t)m->nvec * PCI_MSIX_ENTRY_SIZE) {
        uint8_t entry[PCI_MSIX_ENTRY_SIZE];
        const struct pci_msix_vector *v = &m->vec[offset / PCI_MSIX_ENTRY_SIZE];
        pci_set_long(entry, (uint32_t)v->address);
        pci_set_long(entry + 4, (uint32_t)(v->address >> 32));
        pci_set_long(entry + 8, v->data);
        pci_set_long(entry + 12, v->ctrl);
        unsigned o = offset % PCI_MSIX_ENTRY_SIZE;
        /* Accesses do not straddle entries: size <= 8 and aligned use. */
        for (unsigned i = 0; i < size && o + i < PCI_MSIX_ENTRY_SIZE; i++)
            val |= (uint64_t)entry[o + i] << (8 * i);
    } else if (offset >= m->pba_offset && offset - m->pba_offset < 8) {
        unsigned o = (unsigned)(offset - m->pba_offset);
        val = m->pba >> (8 * o);
        if (size < 8)
            val &= (1ull << (8 * size)) - 1;
    }
    g_mutex_unlock(&m->lock);
    return val;
}

static void msix_bar_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct pci_msix *m = opaque;
    if (offset >= (uint64_t)m->nvec * PCI_MSIX_ENTRY_SIZE)
        return; /* the PBA is read-only */
    g_mutex_lock(&m->lock);
    struct pci_msix_vector *v = &m->vec[offset / PCI_MSIX_ENTRY_SIZE];
    uint8_t entry[PCI_MSIX_ENTRY_SIZE];
    pci_set_long(entry, (uint32_t)v->address);
    pci_set_long(entry + 4, (uint32_t)(v->address >> 32));
    pci_set_long(entry + 8, v->data);
    pci_set_long(entry + 12, v->ctrl);
    unsigned o = offset % PCI_MSIX_ENTRY_SIZE;
    for (unsigned i = 0; i < size && o + i < PCI_MSIX_ENTRY_SIZE; i++)
        entry[o + i] = (uint8_t)(value >> (8 * i));
    bool was_masked = v->ctrl & PCI_MSIX_VECTOR_MASKED;
    v->address = pci_get_long(entry) | (uint64_t)pci_get_long(entry + 4) << 32;
    v->data = pci_get_long(entry + 8);
    v->ctrl = pci_get_long(entry + 12) & PCI_MSIX_VECTOR_MASKED; /* other bits reserved */
    bool masked = v->ctrl & PCI_MSIX_VECTOR_MASKED;

    /* Routes are set up when a vector is unmasked, and kept current while
     * the driver edits an unmasked one (Linux changes affinity that way). */
    if (!masked && (was_masked || v->gsi >= 0))
        prepare_route(m, v);
    if (was_masked && !masked)
        flush_pending(m);
    g_mutex_unlock(&m->lock);
}

static const struct io_ops msix_bar_ops = { .read = msix_bar_read, .write = msix_bar_write };

bool pci_msix_init(struct pci_msix *m, struct pci_device *dev, struct vm *vm,
                   unsigned nvec, unsigned bar, GError **error)
{
    memset(m, 0, sizeof(*m));
    if (nvec == 0 || nvec > PCI_MSIX_MAX_VECTORS || bar >= PCI_NUM_BARS) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    _("%s: unsupported MSI-X layout (%u vectors)"), dev->name, nvec);
        return false;
    }
    uint8_t cap = pci_device_add_capability(dev, PCI_CAP_ID_MSIX, 12);
    if (!cap) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                    _("%s: no room for the MSI-X capability"), dev->name);
        return false;
    }
    g_mutex_init(&m->lock);
    m->dev = dev;
    m->vm = vm;
    m->nvec = nvec;
    m->bar = bar;
    m->cap = cap;
    m->pba_offset = (nvec * PCI_MSIX_ENTRY_SIZE + 7u) & ~7u;
    for (unsigned i = 0; i < nvec; i++)
        m->vec[i] = (struct pci_msix_vector){ .ctrl = PCI_MSIX_VECTOR_MASKED, .gsi = -1, .eventfd = -1 };

    pci_set_word(&dev->config[cap + 2], (uint16_t)(nvec - 1));
    dev->wmask[cap + 3] = (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8;
    pci_set_long(&dev->config[cap + 4], 0 | bar);            /* table at offset 0 */
    pci_set_long(&dev->config[cap + 8], m->pba_offset | bar);
    pci_device_set_bar(dev, bar, PCI_BAR_MEM32, false,
                       MAX(4096u, m->pba_offset + 8u), &msix_bar_ops, m);
    return true;
}

void pci_msix_config_written(struct pci_msix *m, unsigned offset, unsigned size)
{
    if (!m->dev || offset > (unsigned)MSIX_CTRL(m) + 1u || offset + size <= (unsigned)MSIX_CTRL(m))
        return;
    g_mutex_lock(&m->lock);
    if (pci_msix_enabled(m)) {
        for (unsigned i = 0; i < m->nvec; i++)
            if (!(m->vec[i].ctrl & PCI_MSIX_VECTOR_MASKED) && m->vec[i].gsi < 0)
                prepare_route(m, &m->vec[i]);
    }
    flush_pending(m);
    g_mutex_unlock(&m->lock);
}

void pci_msix_reset(struct pci_msix *m)
{
    if (!m->dev)
        return;
    g_mutex_lock(&m->lock);
    for (unsigned i = 0; i < m->nvec; i++) {
        release_route(m, &m->vec[i]);
        m->vec[i].address = 0;
        m->vec[i].data = 0;
        m->vec[i].ctrl = PCI_MSIX_VECTOR_MASKED;
    }
    m->pba = 0;
    m->dev->config[MSIX_CTRL(m) + 1] &= (uint8_t)~((PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8);
    g_mutex_unlock(&m->lock);
}

void pci_msix_destroy(struct pci_msix *m)
{
    if (!m->dev)
        return;
    g_mutex_lock(&m->lock);
    for (unsigned i = 0; i < m->nvec; i++)
        release_route(m, &m->vec[i]);
    g_mutex_unlock(&m->lock);
    g_mutex_clear(&m->lock);
    m->dev = NULL;
}

void pci_msix_save(struct pci_msix *m, struct state_out *o)
{
    g_mutex_lock(&m->lock);
    state_out_u32(o, m->nvec);
    for (unsigned i = 0; i < m->nvec; i++) {
        state_out_u64(o, m->vec[i].address);
        state_out_u32(o, m->vec[i].data);
        state_out_u32(o, m->vec[i].ctrl);
    }
    state_out_u64(o, m->pba);
    g_mutex_unlock(&m->lock);
}

bool pci_msix_load(struct pci_msix *m, struct state_in *in, GError **error)
{
    uint32_t n = state_in_u32(in);
    if (n != m->nvec)
        return state_in_invalid(in, error, _("%u MSI-X vectors, the device has %u"), n, m->nvec);
    g_mutex_lock(&m->lock);
    for (unsigned i = 0; i < m->nvec; i++) {
        release_route(m, &m->vec[i]);
        m->vec[i].address = state_in_u64(in);
        m->vec[i].data = state_in_u32(in);
        m->vec[i].ctrl = state_in_u32(in) & PCI_MSIX_VECTOR_MASKED;
    }
    m->pba = state_in_u64(in) & (m->nvec == 64 ? ~0ull : (1ull << m->nvec) - 1);
    if (pci_msix_enabled(m))
        for (unsigned i = 0; i < m->nvec; i++)
            if (!(m->vec[i].ctrl & PCI_MSIX_VECTOR_MASKED))
                prepare_route(m, &m->vec[i]);
    g_mutex_unlock(&m->lock);
    return !in->short_read || state_in_invalid(in, error, _("the MSI-X table is truncated"));
}
