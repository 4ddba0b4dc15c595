/* NVM Express 1.4 controller (PCI class 01.08.02, IDs 1b36:0010 so that
 * drivers bind by class) with one namespace of 512-byte blocks on a block
 * backend: memory BAR 0 with the controller registers and doorbells,
 * MSI-X (table in BAR 4) and INTx, the admin and NVM command sets with
 * PRP data pointers (no SGLs).
 *
 * Commands run synchronously when the guest writes a submission queue
 * doorbell (on its vCPU thread); one lock per controller serialises the
 * register file and the queues. */
#pragma once

#include <stdbool.h>
#include <glib.h>

#include "config/disk_config.h"

struct vm;
struct pci_bus;
struct pci_device;
struct nvme;

/* Put a controller for the disk cfg on the next free PCI slot. */
struct nvme *nvme_create(struct vm *vm, struct pci_bus *bus, const struct disk_config *cfg,
                         GError **error);
/* At VM teardown only: the controller's reset handler stays registered. */
void nvme_free(struct nvme *n);

/* The request counters of the namespace's image. */
struct block_stats;
void nvme_stats(struct nvme *n, struct block_stats *out);

/* The PCI function (its VM state, for tests). */
struct pci_device *nvme_pci_device(struct nvme *n);
/* The namespace in SeaBIOS's "bootorder" fw_cfg file,
 * e.g. /pci@i0cf8/nvme@4/namespace@1,0.  Free with g_free(). */
char *nvme_boot_path(const struct nvme *n);
