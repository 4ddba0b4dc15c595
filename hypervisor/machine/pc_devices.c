#include "pc_devices.h"
#include "chipset.h"
#include "pc_chipset.h"
#include "bootorder.h"
#include "upper_memory.h"
#include "devices/i8042.h"
#include "storage/ide.h"
#include "storage/ahci.h"
#include "storage/nvme.h"
#include "net/e1000.h"
#include "net/e1000e.h"
#include "usb/usb_uhci.h"
#include "usb/xhci.h"
#include "display/display.h"
#include "input/input.h"
#include "core/vm.h"

#include <gio/gio.h>
#include <glib/gi18n.h>

struct pc_devices {
    struct display *display;
    struct ide_controller *ide;
    struct ahci *ahci;
    struct usb_uhci *uhci;
    struct xhci *xhci;
    struct i8042 *kbd;
    struct machine_drive *cdrom;   /* in the machine's drive list */
    int cdrom_ahci_port;           /* >= 0: --cdrom is on this AHCI port, not IDE */
    GPtrArray *cdrom_paths;   /* firmware device paths, attachment order */
    GPtrArray *disk_paths;
};

/* The i8042 picks set 1 or set 2 from whether the guest has it translate. */
static void kbd_key(void *opaque, uint16_t scancode, bool down)
{
    struct pc_devices *d = opaque;
    i8042_key(d->kbd, scancode, down);
}

/* Relative motion for guests without a tablet driver; PS/2 counts up as
 * positive y, the router down. */
static void mouse_rel(void *opaque, int dx, int dy, int dz, unsigned buttons)
{
    struct pc_devices *d = opaque;
    i8042_mouse_input(d->kbd, dx, -dy, dz, buttons);
}

static const struct input_sink_ops kbd_sink = { .key = kbd_key, .pointer_rel = mouse_rel };

static bool add_display(struct pc_devices *d, struct vm *vm, struct pci_bus *bus,
                        const struct vmm_options *o, struct upper_memory *um, GError **error)
{
    if (!upper_memory_open_vga_window(um, error))
        return false;
    struct display_config cfg = { .vnc_address = o->vnc, .name = o->name ? o->name : "oriel" };
    d->display = display_create(vm, bus, &cfg, error);
    if (!d->display)
        return false;
    if (d->kbd)
        input_router_add_sink(display_input(d->display), &kbd_sink, d);
    return true;
}

/* An absolute pointer for guests with a HID driver: a tablet on the first
 * port of the PIIX3's UHCI, or (--usb xhci) of an xHCI controller with a
 * USB keyboard next to it, for guests without a UHCI driver (Windows 11). */
static bool add_usb(struct pc_devices *d, struct vm *vm, struct pci_bus *bus,
                    const struct vmm_options *o, GError **error)
{
    struct input_router *router = d->display ? display_input(d->display) : NULL;
    if (o->usb == USB_CONTROLLER_XHCI) {
        d->xhci = xhci_create(vm, bus, error);
        return d->xhci && xhci_attach_tablet(d->xhci, 0, router, error) &&
               xhci_attach_keyboard(d->xhci, 1, router, error);
    }
    d->uhci = uhci_create(vm, bus, error);
    return d->uhci && uhci_attach_tablet(d->uhci, 0, router, error);
}

/* IDE positions in QEMU-compatible order: disks take primary master and
 * slave, the CD-ROM the secondary master, then the secondary slave. */
static bool add_ide(struct pc_devices *d, struct vm *vm, struct pci_bus *bus,
                    const struct vmm_options *o, struct machine *m, GError **error)
{
    d->ide = piix3_ide_create(vm, bus, error);
    if (!d->ide)
        return false;
    bool used[IDE_CHANNELS * IDE_UNITS] = { false };
    if (o->cdrom) {
        struct disk_config cd = { .path = o->cdrom, .readonly = true };
        if (!ide_attach(d->ide, 1, 0, &cd, true, error))
            return false;
        used[2] = true;
        g_ptr_array_add(d->cdrom_paths, ide_boot_path(1, 0));
        /* Named as eject and change-medium name it. */
        d->cdrom = machine_drive_add(m, g_strdup("cdrom"), "ide", o->cdrom, true, true);
    }
    for (guint i = 0; i < o->disks->len; i++) {
        const struct disk_config *dc = &g_array_index(o->disks, struct disk_config, i);
        if (dc->iface != DISK_IF_IDE)
            continue;
        unsigned pos = 0;
        while (pos < G_N_ELEMENTS(used) && used[pos])
            pos++;
        if (pos == G_N_ELEMENTS(used)) {
            g_set_error(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID,
                        _("Too many IDE drives: the controller has room for four"));
            return false;
        }
        used[pos] = true;
        if (!ide_attach(d->ide, pos / IDE_UNITS, pos % IDE_UNITS, dc, false, error)) {
            g_prefix_error(error, "%s: ", dc->path);
            return false;
        }
        g_ptr_array_add(d->disk_paths, ide_boot_path(pos / IDE_UNITS, pos % IDE_UNITS));
        /* hda..hdd: primary master and slave, secondary master and slave. */
        machine_drive_add(m, machine_drive_name("hd", pos), "ide", dc->path, dc->readonly, false);
    }
    return true;
}

static bool add_e1000s(struct vm *vm, struct pci_bus *bus, const struct vmm_options *o,
                       GError **error)
{
    for (guint i = 0; i < o->nets->len; i++) {
        const struct net_config *n = &g_array_index(o->nets, struct net_config, i);
        if (n->model == NET_MODEL_E1000 && !e1000_create(vm, bus, n, error))
            return false;
        if (n->model == NET_MODEL_E1000E && !e1000e_create(vm, bus, n, error))
            return false;
    }
    return true;
}

/* One controller per disk, each with its namespace 1, as NVMe SSDs come. */
static bool add_nvmes(struct pc_devices *d, struct vm *vm, struct pci_bus *bus,
                      const struct vmm_options *o, struct machine *m, GError **error)
{
    unsigned index = 0;
    for (guint i = 0; i < o->disks->len; i++) {
        const struct disk_config *dc = &g_array_index(o->disks, struct disk_config, i);
        if (dc->iface != DISK_IF_NVME)
            continue;
        struct nvme *n = nvme_create(vm, bus, dc, error);
        if (!n) {
            g_prefix_error(error, "%s: ", dc->path);
            return false;
        }
        g_ptr_array_add(d->disk_paths, nvme_boot_path(n));
        /* nvme0n1, nvme1n1, ... as Linux names them. */
        machine_drive_add(m, g_strdup_printf("nvme%un1", index), "nvme", dc->path,
                          dc->readonly, false);
        index++;
    }
    return true;
}

static bool add_ahci(struct pc_devices *d, struct vm *vm, struct pci_bus *bus,
                     const struct vmm_options *o, const struct pc_storage_layout *layout,
                     struct machine *m, GError **error)
{
    unsigned port = 0;
    /* The chipset's own SATA function is there whatever is attached. */
    if (layout->sata_slot >= 0) {
        d->ahci = ahci_create_at(vm, bus, AHCI_DEFAULT_PORTS, layout->sata_slot,
                                 layout->sata_func, error);
        if (!d->ahci)
            return false;
    }
    for (guint i = 0; i < o->disks->len; i++) {
        const struct disk_config *dc = &g_array_index(o->disks, struct disk_config, i);
        if (dc->iface != DISK_IF_AHCI)
            continue;
        if (!d->ahci) {
            d->ahci = ahci_create(vm, bus, AHCI_DEFAULT_PORTS, error);
            if (!d->ahci)
                return false;
        }
        if (port == AHCI_DEFAULT_PORTS) {
            g_set_error(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID,
                        _("Too many AHCI disks: the controller has %u ports"), AHCI_DEFAULT_PORTS);
            return false;
        }
        if (!ahci_attach(d->ahci, port, dc, false, error)) {
            g_prefix_error(error, "%s: ", dc->path);
            return false;
        }
        g_ptr_array_add(d->disk_paths, ahci_boot_path(d->ahci, port));
        machine_drive_add(m, machine_drive_name("sd", port), "ahci", dc->path, dc->readonly, false);
        port++;
    }
    if (o->cdrom && !layout->has_ide) {
        if (port == AHCI_DEFAULT_PORTS) {
            g_set_error(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID,
                        _("Too many AHCI disks: no port left for the CD-ROM"));
            return false;
        }
        struct disk_config cd = { .path = o->cdrom, .readonly = true };
        if (!ahci_attach(d->ahci, port, &cd, true, error)) {
            g_prefix_error(error, "%s: ", o->cdrom);
            return false;
        }
        g_ptr_array_add(d->cdrom_paths, ahci_boot_path(d->ahci, port));
        d->cdrom = machine_drive_add(m, g_strdup("cdrom"), "ahci", o->cdrom, true, true);
        d->cdrom_ahci_port = (int)port;
    }
    return true;
}

struct pc_devices *pc_devices_create(struct vm *vm, struct pci_bus *bus,
                                     const struct vmm_options *o,
                                     const struct pc_storage_layout *layout, struct i8042 *kbd,
                                     struct upper_memory *um, struct machine *m, GError **error)
{
    struct pc_devices *d = g_new0(struct pc_devices, 1);
    d->kbd = kbd;
    d->cdrom_ahci_port = -1;
    d->cdrom_paths = g_ptr_array_new_with_free_func(g_free);
    d->disk_paths = g_ptr_array_new_with_free_func(g_free);

    bool firmware = o->bios || o->uefi.code;
    bool want_ide = firmware || o->cdrom;
    for (guint i = 0; i < o->disks->len; i++)
        want_ide |= g_array_index(o->disks, struct disk_config, i).iface == DISK_IF_IDE;
    want_ide &= layout->has_ide;

    /* The VGA first, so it gets the first free slot as on a PC. */
    if ((o->vnc || firmware) && !add_display(d, vm, bus, o, um, error))
        goto fail;
    /* Without --usb, USB comes with the display, as it always did. */
    if ((o->usb != USB_CONTROLLER_DEFAULT || d->display) && !add_usb(d, vm, bus, o, error))
        goto fail;
    if (want_ide && !add_ide(d, vm, bus, o, m, error))
        goto fail;
    if (!add_ahci(d, vm, bus, o, layout, m, error) || !add_nvmes(d, vm, bus, o, m, error) ||
        !add_e1000s(vm, bus, o, error))
        goto fail;
    return d;

fail:
    pc_devices_free(d);
    return NULL;
}

void pc_devices_free(struct pc_devices *d)
{
    if (!d)
        return;
    /* The device models stay with the VM's buses (they have no way off);
     * what is ours goes. */
    g_ptr_array_free(d->cdrom_paths, TRUE);
    g_ptr_array_free(d->disk_paths, TRUE);
    g_free(d);
}

struct display *pc_devices_display(struct pc_devices *d) { return d->display; }

char *pc_devices_bootorder(struct pc_devices *d, const char *boot, const char *const *extra_disks)
{
    g_autoptr(GPtrArray) disks = g_ptr_array_new();
    for (guint i = 0; i < d->disk_paths->len; i++)
        g_ptr_array_add(disks, d->disk_paths->pdata[i]);
    for (unsigned i = 0; extra_disks && extra_disks[i]; i++)
        g_ptr_array_add(disks, (char *)extra_disks[i]);
    g_ptr_array_add(disks, NULL);
    g_ptr_array_add(d->cdrom_paths, NULL);
    char *s = bootorder_build(boot, (const char *const *)d->cdrom_paths->pdata,
                              (const char *const *)disks->pdata);
    g_ptr_array_remove_index(d->cdrom_paths, d->cdrom_paths->len - 1);
    return s;
}

/* The CD-ROM of --cdrom: IDE secondary master (add_ide), or an AHCI
 * port (add_ahci). */
static bool have_cdrom(struct pc_devices *d, GError **error)
{
    if ((d->ide || d->cdrom_ahci_port >= 0) && d->cdrom_paths->len > 0)
        return true;
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("This machine has no CD-ROM drive"));
    return false;
}

bool pc_devices_cdrom_change_medium(struct pc_devices *d, const char *path, GError **error)
{
    if (!have_cdrom(d, error))
        return false;
    if (d->cdrom_ahci_port >= 0 ? !ahci_cdrom_change_media(d->ahci, (unsigned)d->cdrom_ahci_port,
                                                           path, error)
                                : !ide_cdrom_change_media(d->ide, 1, 0, path, error))
        return false;
    g_free(d->cdrom->file);
    d->cdrom->file = g_strdup(path);
    return true;
}

bool pc_devices_cdrom_eject(struct pc_devices *d, bool force, GError **error)
{
    if (!have_cdrom(d, error))
        return false;
    if (d->cdrom_ahci_port >= 0 ? !ahci_cdrom_eject(d->ahci, (unsigned)d->cdrom_ahci_port, force,
                                                    error)
                                : !ide_cdrom_eject(d->ide, 1, 0, force, error))
        return false;
    g_clear_pointer(&d->cdrom->file, g_free);
    return true;
}
