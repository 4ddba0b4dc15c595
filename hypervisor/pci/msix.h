/* MSI-X for a PCI device: the capability, the vector table and pending-bit
 * array in a BAR of their own, masking, and delivery.
 *
 * An unmasked vector is delivered through a KVM irqfd (an MSI route from
 * vm_msi_route_add() and an eventfd), so raising it is one eventfd write;
 * when the kernel refuses the irqfd, vm_signal_msi() delivers it instead.
 * A masked vector (or all of them, under the function mask) only sets its
 * pending bit, and unmasking delivers what is pending. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "pci.h"

#define PCI_MSIX_MAX_VECTORS 64
#define PCI_MSIX_ENTRY_SIZE  16
#define PCI_MSIX_FLAGS_ENABLE   0x8000
#define PCI_MSIX_FLAGS_MASKALL  0x4000
#define PCI_MSIX_VECTOR_MASKED  0x1

struct pci_msix_vector {
    uint64_t address;
    uint32_t data;
    uint32_t ctrl;
    int gsi;            /* MSI route, -1 while none */
    int eventfd;        /* irqfd bound to gsi, -1 while none */
    bool irqfd;         /* eventfd is wired; else deliver by vm_signal_msi */
};

struct pci_msix {
    struct pci_device *dev;
    struct vm *vm;
    GMutex lock;
    unsigned nvec;
    unsigned bar;
    uint8_t cap;                /* offset of the capability */
    uint32_t pba_offset;        /* inside the BAR; the table is at 0 */
    struct pci_msix_vector vec[PCI_MSIX_MAX_VECTORS];
    uint64_t pba;               /* one bit per vector */
};

/* Add the capability to dev and declare BAR bar (32-bit memory) holding
 * the table and PBA.  Call before pci_register_device(). */
bool pci_msix_init(struct pci_msix *m, struct pci_device *dev, struct vm *vm,
                   unsigned nvec, unsigned bar, GError **error);
void pci_msix_destroy(struct pci_msix *m);

/* The device's config_written hook must pass writes on to this. */
void pci_msix_config_written(struct pci_msix *m, unsigned offset, unsigned size);

bool pci_msix_enabled(struct pci_msix *m);

/* Raise vector n: deliver it, or set its pending bit if masked.  Out of
 * range vectors are ignored.  Callable from any thread. */
void pci_msix_notify(struct pci_msix *m, unsigned n);

/* VM state: the vector table and the pending bits (the enable and mask
 * bits are in configuration space, restored before).  The load sets up
 * the irqfd routes of the vectors that are live. */
struct state_out;
struct state_in;
void pci_msix_save(struct pci_msix *m, struct state_out *out);
bool pci_msix_load(struct pci_msix *m, struct state_in *in, GError **error);

/* Guest reset: every vector masked, MSI-X disabled, routes released. */
void pci_msix_reset(struct pci_msix *m);
