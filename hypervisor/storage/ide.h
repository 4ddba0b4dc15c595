/* PIIX3 IDE (PCI 8086:7010 at 01.1): two channels in compatibility mode at
 * the legacy ports 0x1F0-0x1F7/0x3F6 (IRQ 14) and 0x170-0x177/0x376
 * (IRQ 15), bus-master IDE (PRD tables) in I/O BAR 4.  Each channel has a
 * master and a slave: an ATA hard disk or an ATAPI CD/DVD-ROM.
 *
 * Register accesses come from vCPU threads; media changes from the main
 * thread.  One lock per controller serialises them. */
#pragma once

#include <stdbool.h>
#include <glib.h>

#include "config/disk_config.h"

struct vm;
struct pci_bus;
struct ide_controller;
struct pci_device;

#define IDE_CHANNELS 2
#define IDE_UNITS    2

/* Put the controller on the bus at 01.1 (the PIIX3 ISA bridge is 01.0) and
 * claim the legacy ports. */
struct ide_controller *piix3_ide_create(struct vm *vm, struct pci_bus *bus, GError **error);
/* At VM teardown only: the controller's reset handler stays registered
 * with the VM. */
void ide_free(struct ide_controller *ide);

/* Attach a disk (cdrom false) or a CD-ROM (cfg->path may be NULL for an
 * empty drive; the image is always opened read-only) before the guest
 * runs.  channel 0 = primary, unit 0 = master. */
bool ide_attach(struct ide_controller *ide, unsigned channel, unsigned unit,
                const struct disk_config *cfg, bool cdrom, GError **error);

/* Put the image at path into the CD-ROM (closing its tray), replacing any
 * medium even if the guest has locked the drive; the guest sees UNIT
 * ATTENTION and a new-media event. */
bool ide_cdrom_change_media(struct ide_controller *ide, unsigned channel, unsigned unit,
                            const char *path, GError **error);
/* Remove the medium and open the tray.  While the guest has locked the
 * drive this fails (with an eject request to the guest) unless force. */
bool ide_cdrom_eject(struct ide_controller *ide, unsigned channel, unsigned unit,
                     bool force, GError **error);

/* Called (with the controller lock held, from whichever thread caused it)
 * when a tray opens or closes, by the guest or by the functions above. */
/* The drive's path in SeaBIOS's "bootorder" fw_cfg file,
 * e.g. /pci@i0cf8/ide@1,1/drive@1/disk@0.  Free with g_free(). */
char *ide_boot_path(unsigned channel, unsigned unit);

/* The request counters of the drive's image; false without a medium. */
struct block_stats;
bool ide_drive_stats(struct ide_controller *ide, unsigned channel, unsigned unit,
                     struct block_stats *out);

/* The PCI function (its VM state, for tests). */
struct pci_device *ide_pci_device(struct ide_controller *ide);

void ide_set_tray_handler(struct ide_controller *ide,
                          void (*fn)(void *opaque, unsigned channel, unsigned unit, bool open),
                          void *opaque);
