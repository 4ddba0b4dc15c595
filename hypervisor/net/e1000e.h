/* Intel 82574L Gigabit Ethernet controller (PCIe 8086:10D3), the NIC of
 * virt-manager's Windows guests; Windows and Linux (e1000e) ship drivers.
 *
 * BAR0 is the 128 KiB register file, BAR2 an I/O window onto it
 * (IOADDR/IODATA), BAR3 the MSI-X table and PBA (5 vectors, causes mapped
 * through IVAR); legacy INTx otherwise.  The NVM is read through EERD, the
 * BM PHY through MDIC, and the link is always up at 1000 Mb/s full duplex.
 * Receive uses legacy or extended descriptors (RFCTL.EXSTEN); transmit
 * the context and data descriptors with checksum offload and TSO. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "backends/net_backend.h"
#include "config/net_config.h"

struct vm;
struct pci_bus;
struct pci_device;
struct e1000e;

#define E1000E_VENDOR_ID 0x8086
#define E1000E_DEVICE_ID 0x10d3
#define E1000E_MMIO_SIZE 0x20000
#define E1000E_IO_SIZE   0x20
#define E1000E_MSIX_BAR  3
#define E1000E_MSIX_VECTORS 5
#define E1000E_NVM_WORDS 64

/* Open the backend cfg names and put the NIC on the bus (cfg->model must
 * be NET_MODEL_E1000E). */
struct e1000e *e1000e_create(struct vm *vm, struct pci_bus *bus,
                             const struct net_config *cfg, GError **error);

/* The same on a backend that is already open; the NIC takes ownership of
 * it (closes it on failure too).  mac NULL: a locally administered MAC
 * is made up. */
struct e1000e *e1000e_create_on_backend(struct vm *vm, struct pci_bus *bus,
                                        const uint8_t *mac, struct net_backend *backend,
                                        GError **error);

void e1000e_free(struct e1000e *e);

struct pci_device *e1000e_pci_device(struct e1000e *e);
