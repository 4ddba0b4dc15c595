#include "pci.h"

#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

#include "core/vm.h"
#include "config/pc_layout.h"
#include "pci_host.h"
#include "pci_state.h"

#define PCI_INTX_LINES 8

struct pci_bus {
    struct vm *vm;
    GMutex lock;                /* configuration space and BAR mappings */
    uint32_t config_address;    /* the 0xCF8 register */
    struct pci_device *dev[PCI_MAX_SLOTS * PCI_MAX_FUNCS]; /* by devfn */
    uint64_t io_next, mmio_next;
    struct pci_host *host;      /* i440FX only */
    const struct pci_reset_control *rc;
    void *rc_opaque;

    /* INTx: how many devices assert each shared IOAPIC input.  A leaf lock,
     * so device code may raise INTx while holding its own lock. */
    GMutex intx_lock;
    unsigned intx_count[PCI_INTX_LINES];
};

/* ---- configuration space ------------------------------------------------ */

void pci_device_init(struct pci_device *dev, const char *name,
                     uint16_t vendor, uint16_t device, uint32_t class_code,
                     uint8_t revision, uint8_t pin)
{
    memset(dev, 0, sizeof(*dev));
    dev->name = name;
    pci_set_word(&dev->config[PCI_VENDOR_ID], vendor);
    pci_set_word(&dev->config[PCI_DEVICE_ID], device);
    dev->config[PCI_REVISION_ID] = revision;
    dev->config[PCI_CLASS_PROG] = class_code & 0xff;
    pci_set_word(&dev->config[PCI_CLASS_DEVICE], (uint16_t)(class_code >> 8));
    dev->config[PCI_INTERRUPT_PIN] = pin;

    pci_set_word(&dev->wmask[PCI_COMMAND],
                 PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                 PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
    /* Error bits of the status register are write-one-to-clear. */
    pci_set_word(&dev->w1cmask[PCI_STATUS], 0xf900);
    dev->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    dev->wmask[PCI_LATENCY_TIMER] = 0xff;
    dev->wmask[PCI_INTERRUPT_LINE] = 0xff;
    dev->next_cap = 0x40;
}

void pci_device_set_subsystem(struct pci_device *dev, uint16_t vendor, uint16_t id)
{
    pci_set_word(&dev->config[PCI_SUBSYSTEM_VENDOR_ID], vendor);
    pci_set_word(&dev->config[PCI_SUBSYSTEM_ID], id);
}

static uint64_t pow2_ceil(uint64_t v)
{
    uint64_t p = 1;
    while (p < v)
        p <<= 1;
    return p;
}

void pci_device_set_bar(struct pci_device *dev, unsigned n, enum pci_bar_type type,
                        bool prefetch, uint64_t size,
                        const struct io_ops *ops, void *opaque)
{
    g_assert(n < PCI_NUM_BARS && (type != PCI_BAR_MEM64 || n + 1 < PCI_NUM_BARS));
    struct pci_bar *b = &dev->bar[n];
    size = pow2_ceil(MAX(size, type == PCI_BAR_IO ? 4 : 16));
    *b = (struct pci_bar){ .type = type, .prefetch = prefetch, .size = size,
                           .ops = ops, .opaque = opaque };

    uint8_t *reg = &dev->config[PCI_BAR0 + 4 * n];
    uint8_t *wm = &dev->wmask[PCI_BAR0 + 4 * n];
    if (type == PCI_BAR_IO) {
        pci_set_long(reg, 0x1);
        pci_set_long(wm, (uint32_t)~(size - 1) & ~0x3u);
    } else {
        uint32_t low = (type == PCI_BAR_MEM64 ? 0x4 : 0x0) | (prefetch ? 0x8 : 0x0);
        pci_set_long(reg, low);
        pci_set_long(wm, (uint32_t)~(size - 1) & ~0xfu);
        if (type == PCI_BAR_MEM64) {
            dev->bar[n + 1] = (struct pci_bar){ .type = PCI_BAR_NONE };
            pci_set_long(wm + 4, (uint32_t)(~(size - 1) >> 32));
        }
    }
}

uint8_t pci_device_add_capability(struct pci_device *dev, uint8_t cap_id, uint8_t len)
{
    unsigned off = (dev->next_cap + 3u) & ~3u;
    if (len < 2 || off + len > PCI_CONFIG_SIZE)
        return 0;
    dev->config[off] = cap_id;
    dev->config[off + 1] = 0;
    if (dev->last_cap)
        dev->config[dev->last_cap + 1] = (uint8_t)off;
    else
        dev->config[PCI_CAPABILITY_LIST] = (uint8_t)off;
    pci_set_word(&dev->config[PCI_STATUS],
                 pci_get_word(&dev->config[PCI_STATUS]) | PCI_STATUS_CAP_LIST);
    dev->last_cap = (uint8_t)off;
    dev->next_cap = (uint8_t)MIN(off + len, 0xffu);
    return (uint8_t)off;
}

/* The address a BAR is programmed with, and whether it should decode. */
static bool bar_target(const struct pci_device *dev, unsigned n, uint64_t *addr)
{
    const struct pci_bar *b = &dev->bar[n];
    uint16_t cmd = pci_get_word(&dev->config[PCI_COMMAND]);
    uint32_t low = pci_get_long(&dev->config[PCI_BAR0 + 4 * n]);

    if (b->type == PCI_BAR_IO) {
        if (!(cmd & PCI_COMMAND_IO))
            return false;
        *addr = low & ~0x3u;
        /* Port space is 64 KiB; anything beyond cannot decode. */
        return *addr != 0 && *addr + b->size <= 0x10000;
    }
    if (!(cmd & PCI_COMMAND_MEMORY))
        return false;
    *addr = low & ~0xfu;
    if (b->type == PCI_BAR_MEM64)
        *addr |= (uint64_t)pci_get_long(&dev->config[PCI_BAR0 + 4 * (n + 1)]) << 32;
    return *addr != 0 && *addr + b->size > *addr;
}

/* Make the I/O buses match the BARs and command register (bus lock held). */
static void update_mappings(struct pci_device *dev)
{
    struct vm *vm = dev->bus->vm;
    for (unsigned n = 0; n < PCI_NUM_BARS; n++) {
        struct pci_bar *b = &dev->bar[n];
        if (b->type == PCI_BAR_NONE || !b->size)
            continue;
        struct iobus *iob = b->type == PCI_BAR_IO ? vm_pio_bus(vm) : vm_mmio_bus(vm);
        uint64_t addr = 0;
        bool want = bar_target(dev, n, &addr);
        if (b->mapped && want && b->mapped_addr == addr)
            continue;
        if (!b->mapped && !want)
            continue;
        if (b->mapped) {
            iobus_unregister(iob, b->mapped_addr, b->opaque);
            b->mapped = false;
            if (dev->bar_moved)
                dev->bar_moved(dev, n, false, b->mapped_addr);
        }
        if (want) {
            /* Overlapping another device (a guest's mistake, or a transient
             * state while it sizes BARs) leaves this BAR not decoding. */
            if (iobus_register(iob, addr, b->size, b->ops, b->opaque, dev->name)) {
                b->mapped = true;
                b->mapped_addr = addr;
                if (dev->bar_moved)
                    dev->bar_moved(dev, n, true, addr);
            } else {
                g_debug("pci: %s BAR%u at 0x%" G_GINT64_MODIFIER "x overlaps, not decoding",
                        dev->name, n, addr);
            }
        }
    }
}

static void apply_intx(struct pci_device *dev);

uint32_t pci_config_read(struct pci_bus *bus, unsigned slot, unsigned func,
                         unsigned offset, unsigned size)
{
    if (slot >= PCI_MAX_SLOTS || func >= PCI_MAX_FUNCS || offset + size > PCI_CONFIG_SIZE ||
        (size != 1 && size != 2 && size != 4))
        return 0xffffffffu >> (32 - 8 * MIN(MAX(size, 1u), 4u));
    g_mutex_lock(&bus->lock);
    struct pci_device *dev = bus->dev[slot * PCI_MAX_FUNCS + func];
    uint32_t v = 0;
    if (!dev) {
        v = 0xffffffffu >> (32 - 8 * size);
    } else {
        if (dev->config_read)
            dev->config_read(dev, offset, size);
        for (unsigned i = 0; i < size; i++)
            v |= (uint32_t)dev->config[offset + i] << (8 * i);
    }
    g_mutex_unlock(&bus->lock);
    return v;
}

void pci_config_write(struct pci_bus *bus, unsigned slot, unsigned func,
                      unsigned offset, uint32_t value, unsigned size)
{
    if (slot >= PCI_MAX_SLOTS || func >= PCI_MAX_FUNCS || offset + size > PCI_CONFIG_SIZE ||
        (size != 1 && size != 2 && size != 4))
        return;
    g_mutex_lock(&bus->lock);
    struct pci_device *dev = bus->dev[slot * PCI_MAX_FUNCS + func];
    if (!dev) {
        g_mutex_unlock(&bus->lock);
        return;
    }
    bool remap = false, intx = false;
    for (unsigned i = 0; i < size; i++) {
        unsigned o = offset + i;
        uint8_t val = (uint8_t)(value >> (8 * i));
        uint8_t old = dev->config[o];
        uint8_t nv = (uint8_t)((old & ~dev->wmask[o]) | (val & dev->wmask[o]));
        nv &= (uint8_t)~(val & dev->w1cmask[o]);
        dev->config[o] = nv;
        if ((o >= PCI_BAR0 && o < PCI_BAR0 + 4 * PCI_NUM_BARS) || o == PCI_COMMAND)
            remap = true;
        if (o == PCI_COMMAND + 1)
            intx = true;
    }
    if (remap)
        update_mappings(dev);
    if (intx)
        apply_intx(dev);
    if (dev->config_written)
        dev->config_written(dev, offset, size);
    g_mutex_unlock(&bus->lock);
}

uint32_t pci_config_read_ext(struct pci_bus *bus, unsigned slot, unsigned func,
                             unsigned offset, unsigned size)
{
    if (offset < PCI_CONFIG_SIZE || offset + size > PCIE_CONFIG_SIZE ||
        (size != 1 && size != 2 && size != 4))
        return pci_config_read(bus, slot, func, offset, size);
    /* Extended space: 0 where a function answers, all ones where none. */
    if (pci_config_read(bus, slot, func, PCI_VENDOR_ID, 2) == 0xffff)
        return 0xffffffffu >> (32 - 8 * MIN(size, 4u));
    return 0;
}

void pci_config_write_ext(struct pci_bus *bus, unsigned slot, unsigned func,
                          unsigned offset, uint32_t value, unsigned size)
{
    if (offset < PCI_CONFIG_SIZE)
        pci_config_write(bus, slot, func, offset, value, size);
}

/* ---- INTx ------------------------------------------------------------------ */

int pci_device_intx_gsi(const struct pci_device *dev)
{
    uint8_t pin = dev->config[PCI_INTERRUPT_PIN];
    if (pin < 1 || pin > 4)
        return -1;
    return PC_PCI_INTX_GSI(dev->slot, pin - 1);
}

/* Bring the shared line in line with what the device asserts (intx lock
 * held): it counts when its level is high and INTx is not disabled. */
static void set_asserted(struct pci_device *dev, bool asserted, bool *cur)
{
    struct pci_bus *bus = dev->bus;
    int gsi = pci_device_intx_gsi(dev);
    if (gsi < 0 || asserted == *cur)
        return;
    *cur = asserted;
    unsigned line = (unsigned)(gsi - PC_PCI_INTX_GSI_BASE) % PCI_INTX_LINES;
    if (asserted) {
        if (bus->intx_count[line]++ == 0)
            vm_set_irq(bus->vm, (unsigned)gsi, true);
    } else {
        if (--bus->intx_count[line] == 0)
            vm_set_irq(bus->vm, (unsigned)gsi, false);
    }
}

static void apply_intx_locked(struct pci_device *dev)
{
    bool disabled = pci_get_word(&dev->config[PCI_COMMAND]) & PCI_COMMAND_INTX_DISABLE;
    uint16_t status = pci_get_word(&dev->config[PCI_STATUS]);
    status = dev->intx_level ? (status | PCI_STATUS_INTERRUPT) : (status & ~PCI_STATUS_INTERRUPT);
    pci_set_word(&dev->config[PCI_STATUS], status);
    set_asserted(dev, dev->intx_level && !disabled, &dev->intx_counted);
}

static void apply_intx(struct pci_device *dev)
{
    g_mutex_lock(&dev->bus->intx_lock);
    apply_intx_locked(dev);
    g_mutex_unlock(&dev->bus->intx_lock);
}

void pci_set_irq(struct pci_device *dev, bool level)
{
    if (!dev->bus)
        return;
    g_mutex_lock(&dev->bus->intx_lock);
    dev->intx_level = level;
    apply_intx_locked(dev);
    g_mutex_unlock(&dev->bus->intx_lock);
}

void pci_device_reset(struct pci_device *dev)
{
    struct pci_bus *bus = dev->bus;
    if (!bus)
        return;
    g_mutex_lock(&bus->lock);
    pci_set_word(&dev->config[PCI_COMMAND], 0);
    pci_set_word(&dev->config[PCI_STATUS],
                 pci_get_word(&dev->config[PCI_STATUS]) & PCI_STATUS_CAP_LIST);
    dev->config[PCI_INTERRUPT_LINE] = 0;
    update_mappings(dev);
    g_mutex_lock(&bus->intx_lock);
    dev->intx_level = false;
    apply_intx_locked(dev);
    g_mutex_unlock(&bus->intx_lock);
    g_mutex_unlock(&bus->lock);
}

void pci_device_restore_config(struct pci_device *dev, const uint8_t *config, bool intx_level)
{
    struct pci_bus *bus = dev->bus;
    g_mutex_lock(&bus->lock);
    for (unsigned o = 0; o < PCI_CONFIG_SIZE; o++) {
        uint8_t keep = (uint8_t)~(dev->wmask[o] | dev->w1cmask[o]);
        dev->config[o] = (uint8_t)((dev->config[o] & keep) |
                                   (config[o] & (dev->wmask[o] | dev->w1cmask[o])));
    }
    update_mappings(dev);
    g_mutex_lock(&bus->intx_lock);
    dev->intx_level = intx_level;
    apply_intx_locked(dev);
    g_mutex_unlock(&bus->intx_lock);
    g_mutex_unlock(&bus->lock);
}

uint32_t pci_bus_config_address(struct pci_bus *bus)
{
    return __atomic_load_n(&bus->config_address, __ATOMIC_RELAXED);
}

void pci_bus_set_config_address(struct pci_bus *bus, uint32_t value)
{
    __atomic_store_n(&bus->config_address, value & 0x80fffffcu, __ATOMIC_RELAXED);
}

/* ---- registration -------------------------------------------------------- */

static bool alloc_window(uint64_t *next, uint64_t end, uint64_t size, uint64_t *addr)
{
    uint64_t a = (*next + size - 1) & ~(size - 1);
    if (a < *next || a + size - 1 > end || a + size < a)
        return false;
    *addr = a;
    *next = a + size;
    return true;
}

static bool assign_bars(struct pci_bus *bus, struct pci_device *dev, GError **error)
{
    for (unsigned n = 0; n < PCI_NUM_BARS; n++) {
        struct pci_bar *b = &dev->bar[n];
        if (b->type == PCI_BAR_NONE || !b->size)
            continue;
        uint64_t addr;
        bool ok = b->type == PCI_BAR_IO
            ? alloc_window(&bus->io_next, PC_PCI_IO_WINDOW_END, b->size, &addr)
            /* 64-bit BARs also go below 4 GiB: the window the DSDT
             * describes for every guest, and all our BARs are small. */
            : alloc_window(&bus->mmio_next, PC_PCI_MMIO_WINDOW_END, b->size, &addr);
        if (!ok) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                        _("No room left in the PCI address window for %s"), dev->name);
            return false;
        }
        uint8_t *reg = &dev->config[PCI_BAR0 + 4 * n];
        pci_set_long(reg, (pci_get_long(reg) & (b->type == PCI_BAR_IO ? 0x3u : 0xfu)) |
                          (uint32_t)addr);
        if (b->type == PCI_BAR_MEM64)
            pci_set_long(reg + 4, (uint32_t)(addr >> 32));
    }
    return true;
}

bool pci_register_device_at(struct pci_bus *bus, struct pci_device *dev,
                            unsigned slot, unsigned func, GError **error)
{
    g_mutex_lock(&bus->lock);
    if (slot >= PCI_MAX_SLOTS || func >= PCI_MAX_FUNCS || bus->dev[slot * PCI_MAX_FUNCS + func]) {
        g_mutex_unlock(&bus->lock);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                    _("PCI address 00:%02x.%u is not free for %s"), slot, func, dev->name);
        return false;
    }
    if (!assign_bars(bus, dev, error)) {
        g_mutex_unlock(&bus->lock);
        return false;
    }
    dev->bus = bus;
    dev->slot = slot;
    dev->func = func;
    bus->dev[slot * PCI_MAX_FUNCS + func] = dev;
    g_mutex_unlock(&bus->lock);
    pci_state_register_device(bus->vm, dev);
    return true;
}

void pci_unregister_device(struct pci_device *dev)
{
    struct pci_bus *bus = dev->bus;
    if (!bus)
        return;
    pci_set_irq(dev, false);
    g_mutex_lock(&bus->lock);
    pci_set_word(&dev->config[PCI_COMMAND], 0);
    update_mappings(dev);
    bus->dev[dev->slot * PCI_MAX_FUNCS + dev->func] = NULL;
    dev->bus = NULL;
    g_mutex_unlock(&bus->lock);
}

bool pci_register_device(struct pci_bus *bus, struct pci_device *dev, GError **error)
{
    g_mutex_lock(&bus->lock);
    unsigned slot = 0;
    while (slot < PCI_MAX_SLOTS && bus->dev[slot * PCI_MAX_FUNCS])
        slot++;
    g_mutex_unlock(&bus->lock);
    if (slot == PCI_MAX_SLOTS) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                    _("No free PCI slot for %s"), dev->name);
        return false;
    }
    return pci_register_device_at(bus, dev, slot, 0, error);
}

/* ---- configuration mechanism #1 ------------------------------------------ */

static uint64_t cf8_read(void *opaque, uint64_t offset, unsigned size)
{
    struct pci_bus *bus = opaque;
    if (offset == 0 && size == 4)
        return __atomic_load_n(&bus->config_address, __ATOMIC_RELAXED);
    if (offset == 1 && size == 1 && bus->rc)
        return bus->rc->read(bus->rc_opaque);
    return ~0ull;
}

static void cf8_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct pci_bus *bus = opaque;
    /* Only a dword access addresses configuration space; a byte written
     * to 0xCF9 is the PIIX3 reset control register. */
    if (offset == 0 && size == 4)
        __atomic_store_n(&bus->config_address, (uint32_t)value & 0x80fffffcu, __ATOMIC_RELAXED);
    else if (offset == 1 && size == 1 && bus->rc)
        bus->rc->write(bus->rc_opaque, (uint8_t)value);
}

static bool decode_address(struct pci_bus *bus, uint64_t offset,
                           unsigned *slot, unsigned *func, unsigned *reg)
{
    uint32_t a = __atomic_load_n(&bus->config_address, __ATOMIC_RELAXED);
    if (!(a & 0x80000000u) || ((a >> 16) & 0xff) != 0)
        return false;
    *slot = (a >> 11) & 0x1f;
    *func = (a >> 8) & 0x7;
    *reg = (a & 0xfc) + (unsigned)offset;
    return true;
}

static uint64_t cfc_read(void *opaque, uint64_t offset, unsigned size)
{
    unsigned slot, func, reg;
    if (!decode_address(opaque, offset, &slot, &func, &reg))
        return ~0ull;
    return pci_config_read(opaque, slot, func, reg, size);
}

static void cfc_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    unsigned slot, func, reg;
    if (decode_address(opaque, offset, &slot, &func, &reg))
        pci_config_write(opaque, slot, func, reg, (uint32_t)value, size);
}

static const struct io_ops cf8_ops = { .read = cf8_read, .write = cf8_write };
static const struct io_ops cfc_ops = { .read = cfc_read, .write = cfc_write };

static uint8_t piix3_rcr_read(void *opaque) { return pci_host_rcr_read(opaque); }
static void piix3_rcr_write(void *opaque, uint8_t v) { pci_host_rcr_write(opaque, v); }
static const struct pci_reset_control piix3_rcr = { .read = piix3_rcr_read, .write = piix3_rcr_write };

struct pci_bus *pci_bus_create(struct vm *vm)
{
    struct pci_bus *bus = pci_bus_new(vm);
    bus->host = pci_host_create(bus, vm);
    pci_bus_set_reset_control(bus, &piix3_rcr, bus->host);
    return bus;
}

void pci_bus_set_reset_control(struct pci_bus *bus, const struct pci_reset_control *rc,
                               void *opaque)
{
    bus->rc_opaque = opaque;
    bus->rc = rc;
}

struct pci_bus *pci_bus_new(struct vm *vm)
{
    struct pci_bus *bus = g_new0(struct pci_bus, 1);
    bus->vm = vm;
    g_mutex_init(&bus->lock);
    g_mutex_init(&bus->intx_lock);
    bus->io_next = PC_PCI_IO_WINDOW_START;
    bus->mmio_next = PC_PCI_MMIO_WINDOW_START;
    if (!iobus_register(vm_pio_bus(vm), PC_PCI_CONFIG_PORT, 4, &cf8_ops, bus, "pci-config-address") ||
        !iobus_register(vm_pio_bus(vm), PC_PCI_CONFIG_PORT + 4, 4, &cfc_ops, bus, "pci-config-data"))
        g_error("PCI configuration ports already claimed");
    pci_state_register_bus(vm, bus);
    return bus;
}

void pci_bus_free(struct pci_bus *bus)
{
    if (!bus)
        return;
    iobus_unregister(vm_pio_bus(bus->vm), PC_PCI_CONFIG_PORT, bus);
    iobus_unregister(vm_pio_bus(bus->vm), PC_PCI_CONFIG_PORT + 4, bus);
    pci_host_free(bus->host);
    g_mutex_clear(&bus->lock);
    g_mutex_clear(&bus->intx_lock);
    g_free(bus);
}

struct pci_host *pci_bus_host(struct pci_bus *bus)
{
    return bus->host;
}

struct vm *pci_bus_vm(struct pci_bus *bus)
{
    return bus->vm;
}
