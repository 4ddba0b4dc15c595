/* The standard VGA on the PC: PCI function 1234:1111, legacy ports and
 * memory window, VRAM as a dirty-logged KVM memory slot, the expansion ROM
 * with the VGA BIOS, and the refresh timer. */
#include "vga_internal.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <inttypes.h>
#include <string.h>

#include "core/dirty_log.h"
#include "framebuffer.h"
#include "core/vm.h"

#define VGA_REFRESH_MS 33
#define VGA_ROM_MIN_SIZE 0x800

/* --- Port I/O: 0x3B0-0x3DF and DISPI 0x1CE-0x1D0 ------------------------------- */

static uint64_t legacy_pio_read(void *opaque, uint64_t offset, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)vga_ioport_read(opaque, (uint16_t)(0x3b0 + offset + i)) << (8 * i);
    return v;
}

static void legacy_pio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    /* A word write to an index port writes index then data. */
    for (unsigned i = 0; i < size; i++)
        vga_ioport_write(opaque, (uint16_t)(0x3b0 + offset + i), (uint8_t)(value >> (8 * i)));
}

static const struct io_ops legacy_pio_ops = { legacy_pio_read, legacy_pio_write };

static uint64_t dispi_pio_read(void *opaque, uint64_t offset, unsigned size)
{
    struct vga *vga = opaque;
    if (offset == 0)
        return vga_dispi_read_index(vga);
    return vga_dispi_read(vga, vga_dispi_read_index(vga));
}

static void dispi_pio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct vga *vga = opaque;
    if (offset == 0)
        vga_dispi_write_index(vga, (uint16_t)value);
    else
        vga_dispi_write(vga, vga_dispi_read_index(vga), (uint16_t)value);
}

static const struct io_ops dispi_pio_ops = { dispi_pio_read, dispi_pio_write };

/* --- Memory: the legacy window, BAR0 slow path, BAR2, ROM --------------------------- */

static uint64_t window_read(void *opaque, uint64_t offset, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)vga_mem_read(opaque, (uint32_t)(offset + i)) << (8 * i);
    return v;
}

static void window_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        vga_mem_write(opaque, (uint32_t)(offset + i), (uint8_t)(value >> (8 * i)));
}

static const struct io_ops window_ops = { window_read, window_write };

/* BAR0 accesses only exit here while no KVM slot backs the BAR. */
static uint64_t vram_read(void *opaque, uint64_t offset, unsigned size)
{
    struct vga *vga = opaque;
    uint64_t v = 0;
    if (offset < vga->vram_size && size <= vga->vram_size - offset)
        memcpy(&v, vga->vram + offset, size);
    return v;
}

static void vram_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct vga *vga = opaque;
    if (offset < vga->vram_size && size <= vga->vram_size - offset) {
        memcpy(vga->vram + offset, &value, size);
        vga_mark_vram_dirty(vga, offset, size);
    }
}

static const struct io_ops vram_ops = { vram_read, vram_write };

static uint64_t mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    return vga_mmio_read(opaque, offset, size);
}

static void mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    vga_mmio_write(opaque, offset, value, size);
}

static const struct io_ops mmio_ops = { mmio_read, mmio_write };

static uint64_t rom_read(void *opaque, uint64_t offset, unsigned size)
{
    struct vga *vga = opaque;
    uint64_t v = 0;
    if (offset < vga->rom_size && size <= vga->rom_size - offset)
        memcpy(&v, vga->rom + offset, size);
    return v;
}

static void rom_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
}

static const struct io_ops rom_ops = { rom_read, rom_write };

/* --- PCI hooks ------------------------------------------------------------------- */

static void update_rom_mapping(struct vga *vga)
{
    if (!vga->rom)
        return;
    uint32_t reg = pci_get_long(&vga->pci.config[PCI_ROM_ADDRESS]);
    bool mem = pci_get_word(&vga->pci.config[PCI_COMMAND]) & PCI_COMMAND_MEMORY;
    uint64_t addr = reg & ~(uint32_t)(vga->rom_size - 1) & ~1u;
    bool want = (reg & 1) && mem && addr != 0;
    struct iobus *bus = vm_mmio_bus(vga->vm);
    if (vga->rom_mapped && (!want || addr != vga->rom_addr)) {
        iobus_unregister(bus, vga->rom_addr, vga);
        vga->rom_mapped = false;
    }
    if (want && !vga->rom_mapped &&
        iobus_register(bus, addr, vga->rom_size, &rom_ops, vga, "vga-rom")) {
        vga->rom_mapped = true;
        vga->rom_addr = addr;
    }
}

static void config_written(struct pci_device *dev, unsigned offset, unsigned size)
{
    struct vga *vga = dev->opaque;
    if ((offset < PCI_ROM_ADDRESS + 4 && offset + size > PCI_ROM_ADDRESS) ||
        (offset < PCI_COMMAND + 2 && offset + size > PCI_COMMAND))
        update_rom_mapping(vga);
}

static void bar_moved(struct pci_device *dev, unsigned bar, bool mapped, uint64_t addr)
{
    struct vga *vga = dev->opaque;
    if (bar != 0)
        return;
    /* Under the device lock: the renderer reads the slot for the dirty log
     * (the bus lock is held here; the renderer never takes it). */
    g_mutex_lock(&vga->lock);
    if (vga->vram_slot >= 0) {
        vm_unmap_memory(vga->vm, vga->vram_slot);
        vga->vram_slot = -1;
    }
    if (mapped) {
        vga->vram_slot = vm_map_memory(vga->vm, addr, vga->vram_size, vga->vram, false, true);
        vga->vram_addr = addr;
        if (vga->vram_slot < 0)
            g_message(_("Cannot map VGA memory at 0x%" PRIx64 "; using slow access"),
                      addr);
    }
    /* The log of the old slot is gone: redraw everything once. */
    vga->full_update = true;
    vga->gen++;
    g_mutex_unlock(&vga->lock);
}

/* Called by the renderer with the device lock held. */
static bool fetch_dirty_log(void *opaque, unsigned long *bitmap, size_t npages)
{
    struct vga *vga = opaque;
    if (vga->vram_slot < 0)
        return false;
    GError *error = NULL;
    if (!vm_get_dirty_log(vga->vm, vga->vram_slot, bitmap, &error)) {
        g_debug("vga: %s", error->message);
        g_error_free(error);
        return false;
    }
    return true;
}

/* --- Refresh and reset ------------------------------------------------------------- */

static gboolean refresh_cb(gpointer data)
{
    struct vga *vga = data;
    if (framebuffer_listener_count(vga->fb) > 0)
        vga_update_display(vga);
    return G_SOURCE_CONTINUE;
}

static void refresh_hook(void *opaque)
{
    vga_update_display(opaque);
}

static void reset_cb(void *opaque)
{
    vga_reset(opaque);
}

static bool load_rom(struct vga *vga, const char *path, bool required, GError **error)
{
    gchar *data = NULL;
    gsize len = 0;
    GError *local = NULL;
    if (!g_file_get_contents(path, &data, &len, &local)) {
        if (required) {
            g_set_error(error, local->domain, local->code,
                        _("Cannot load the VGA BIOS: %s"), local->message);
            g_error_free(local);
            return false;
        }
        g_warning(_("No VGA BIOS (%s); the display works only for directly booted kernels"),
                  local->message);
        g_error_free(local);
        return true;
    }
    if (len == 0 || len > (1u << 20)) {
        g_free(data);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    _("VGA BIOS %s has an unusable size (%zu bytes)"), path, (size_t)len);
        return false;
    }
    size_t size = VGA_ROM_MIN_SIZE;
    while (size < len)
        size <<= 1;
    vga->rom = g_malloc0(size);
    memcpy(vga->rom, data, len);
    vga->rom_size = size;
    g_free(data);
    return true;
}

/* ---- VM state ------------------------------------------------------------ */

static bool pci_save(struct pci_device *dev, struct state_out *o, GError **error)
{
    vga_save(dev->opaque, o);
    return true;
}

static bool pci_load(struct pci_device *dev, struct state_in *in, uint32_t version,
                     GError **error)
{
    /* The ROM BAR decodes as the restored configuration space says. */
    update_rom_mapping(dev->opaque);
    return vga_load(dev->opaque, in, error);
}

static const struct pci_state_ops vga_state_ops = {
    .version = 1, .save = pci_save, .load = pci_load,
};

struct vga *vga_pci_create(struct vm *vm, struct pci_bus *bus, const char *rom_path,
                           GError **error)
{
    struct vga *vga = vga_new(VGA_VRAM_SIZE_DEFAULT, error);
    if (!vga)
        return NULL;
    vga->vm = vm;
    if (!load_rom(vga, rom_path ? rom_path : VGA_ROM_PATH_DEFAULT, rom_path != NULL, error)) {
        vga_free(vga);
        return NULL;
    }

    struct pci_device *dev = &vga->pci;
    pci_device_init(dev, "vga", 0x1234, 0x1111, 0x030000, 0x02, 0);
    pci_device_set_subsystem(dev, 0x1af4, 0x1100);
    pci_device_set_bar(dev, 0, PCI_BAR_MEM32, true, vga->vram_size, &vram_ops, vga);
    pci_device_set_bar(dev, 2, PCI_BAR_MEM32, false, VGA_MMIO_SIZE, &mmio_ops, vga);
    if (vga->rom)
        pci_set_long(&dev->wmask[PCI_ROM_ADDRESS], ~(uint32_t)(vga->rom_size - 1) | 1u);
    dev->config_written = config_written;
    dev->bar_moved = bar_moved;
    dev->opaque = vga;
    dev->state = &vga_state_ops;

    struct iobus *pio = vm_pio_bus(vm), *mmio = vm_mmio_bus(vm);
    if (!iobus_register(pio, 0x3b0, 0x30, &legacy_pio_ops, vga, "vga") ||
        !iobus_register(pio, 0x1ce, 3, &dispi_pio_ops, vga, "vga-dispi") ||
        !iobus_register(mmio, VGA_WINDOW_BASE, VGA_WINDOW_SIZE, &window_ops, vga, "vga-window")) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                    _("VGA ports or memory window are already in use"));
        vga_pci_destroy(vga);
        return NULL;
    }
    if (!pci_register_device(bus, dev, error)) {
        vga_pci_destroy(vga);
        return NULL;
    }
    vga_set_dirty_log(vga, fetch_dirty_log, vga);
    framebuffer_set_refresh_hook(vga->fb, refresh_hook, vga);
    vm_add_reset_handler(vm, reset_cb, vga);

    vga->timer = g_timeout_source_new(VGA_REFRESH_MS);
    g_source_set_callback(vga->timer, refresh_cb, vga, NULL);
    g_source_attach(vga->timer, vm_main_context(vm));
    return vga;
}

/* For VMM shutdown: the PCI bus has no way to remove a device, so call
 * this only when the VM goes away (before or after pci_bus_free()). */
void vga_pci_destroy(struct vga *vga)
{
    if (!vga)
        return;
    if (vga->timer) {
        g_source_destroy(vga->timer);
        g_source_unref(vga->timer);
    }
    if (vga->vm) {
        iobus_unregister(vm_pio_bus(vga->vm), 0x3b0, vga);
        iobus_unregister(vm_pio_bus(vga->vm), 0x1ce, vga);
        iobus_unregister(vm_mmio_bus(vga->vm), VGA_WINDOW_BASE, vga);
        if (vga->rom_mapped)
            iobus_unregister(vm_mmio_bus(vga->vm), vga->rom_addr, vga);
        for (unsigned n = 0; n < PCI_NUM_BARS; n++)
            if (vga->pci.bar[n].mapped)
                iobus_unregister(vm_mmio_bus(vga->vm), vga->pci.bar[n].mapped_addr, vga);
        if (vga->vram_slot >= 0)
            vm_unmap_memory(vga->vm, vga->vram_slot);
    }
    vga_free(vga);
}
