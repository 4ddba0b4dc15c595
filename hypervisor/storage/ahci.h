/* AHCI 1.3 SATA host bus adapter with the PCI identity of the ICH9's
 * (8086:2922, class 01.06.01): HBA registers in memory BAR 5 (ABAR), up to
 * 32 ports each with one ATA disk or ATAPI CD/DVD-ROM, native command
 * queuing, and INTx or MSI.
 *
 * Commands run synchronously when the guest writes PxCI (on its vCPU
 * thread); one lock per HBA serialises register accesses and media
 * changes from the main thread. */
#pragma once

#include <stdbool.h>
#include <glib.h>

#include "config/disk_config.h"

struct vm;
struct pci_bus;
struct ahci;
struct pci_device;

#define AHCI_MAX_PORTS 32
#define AHCI_DEFAULT_PORTS 6

/* Put an HBA with nports ports (1-32) on the next free PCI slot. */
struct ahci *ahci_create(struct vm *vm, struct pci_bus *bus, unsigned nports, GError **error);
/* The same at a fixed PCI address (the ICH9's SATA function is 1F.2);
 * slot < 0: the next free slot. */
struct ahci *ahci_create_at(struct vm *vm, struct pci_bus *bus, unsigned nports, int slot,
                            unsigned func, GError **error);
/* At VM teardown only: the HBA's reset handler stays registered. */
void ahci_free(struct ahci *ahci);

/* Connect a disk (cdrom false) or a CD-ROM (cfg->path may be NULL: an
 * empty drive) to a port, before the guest runs. */
bool ahci_attach(struct ahci *ahci, unsigned port, const struct disk_config *cfg, bool cdrom,
                 GError **error);

/* Media of a CD-ROM port, as for IDE (ide.h). */
bool ahci_cdrom_change_media(struct ahci *ahci, unsigned port, const char *path, GError **error);
bool ahci_cdrom_eject(struct ahci *ahci, unsigned port, bool force, GError **error);
void ahci_set_tray_handler(struct ahci *ahci,
                           void (*fn)(void *opaque, unsigned port, bool open), void *opaque);

/* The PCI slot the HBA was given (for boot order and diagnostics). */
unsigned ahci_pci_slot(const struct ahci *ahci);
/* The PCI function (its VM state, for tests). */
struct pci_device *ahci_pci_device(struct ahci *ahci);
/* The port's disk in SeaBIOS's "bootorder" fw_cfg file,
 * e.g. /pci@i0cf8/sata@3/drive@0/disk@0.  Free with g_free(). */
char *ahci_boot_path(const struct ahci *ahci, unsigned port);

/* The request counters of the port's image; false without a medium. */
struct block_stats;
bool ahci_port_stats(struct ahci *ahci, unsigned port, struct block_stats *out);
