/* The PC devices for unmodified guests, created from the options: the
 * standard VGA with the VNC server (--vnc, and always with --bios) and a
 * USB tablet on the PIIX3 UHCI next to it (--usb: UHCI, or xHCI with the
 * tablet and a USB keyboard, with or without the display); PIIX3 IDE
 * (--cdrom, --disk if=ide; always with --bios) or, on Q35, the ICH9 SATA
 * function at 1F.2 (--cdrom too); AHCI (--disk if=ahci); one NVMe
 * controller per --disk if=nvme; e1000 and e1000e NICs (--net
 * ...,model=e1000|e1000e); and the i8042 keyboard fed from the display's input
 * router.  Also the firmware boot order from the devices' firmware paths. */
#pragma once

#include <stdbool.h>
#include <glib.h>

#include "config/options.h"

struct vm;
struct pci_bus;
struct i8042;
struct display;
struct pc_devices;
struct upper_memory;
struct machine;
struct pc_storage_layout;

/* The IDE, AHCI and NVMe drives are added to m's drives as they are
 * attached; layout says which controllers the chipset has (pc_chipset.h).
 * Without IDE, --cdrom is an ATAPI drive on the AHCI port after the disks. */
struct pc_devices *pc_devices_create(struct vm *vm, struct pci_bus *bus,
                                     const struct vmm_options *o,
                                     const struct pc_storage_layout *layout, struct i8042 *kbd,
                                     struct upper_memory *um, struct machine *m, GError **error);
/* After vm_destroy(). */
void pc_devices_free(struct pc_devices *d);

/* The display, or NULL without one. */
struct display *pc_devices_display(struct pc_devices *d);

/* SeaBIOS "bootorder" text for --boot (NULL: disk,cdrom): the CD-ROM, the
 * IDE, AHCI and NVMe disks, then extra_disks (NULL-terminated firmware paths of
 * disks made elsewhere, e.g. virtio-blk).  Free with g_free(). */
char *pc_devices_bootorder(struct pc_devices *d, const char *boot, const char *const *extra_disks);

/* The CD-ROM drive (--cdrom): put another image in (the guest sees a media
 * change), or take the medium out (refused while the guest locks the tray,
 * unless force). */
bool pc_devices_cdrom_change_medium(struct pc_devices *d, const char *path, GError **error);
bool pc_devices_cdrom_eject(struct pc_devices *d, bool force, GError **error);
