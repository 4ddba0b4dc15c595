/* Intel 82540EM Gigabit Ethernet controller (PCI 8086:100E), the NIC every
 * unmodified OS ships a driver for.
 *
 * BAR0 is the 128 KiB register file, BAR1 an I/O window onto it
 * (IOADDR/IODATA).  The link is always up at 1000 Mb/s full duplex.
 * Frames go to and come from a net backend on the VM's main loop; the
 * descriptor rings are walked there too, with every guest address and
 * length checked, so a hostile driver only ever stalls its own NIC. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "backends/net_backend.h"
#include "config/net_config.h"

struct vm;
struct pci_bus;
struct e1000;

#define E1000_VENDOR_ID 0x8086
#define E1000_DEVICE_ID 0x100e
#define E1000_MMIO_SIZE 0x20000
#define E1000_IO_SIZE   0x40
#define E1000_EEPROM_WORDS 64
#define E1000_EEPROM_SUM   0xbaba

/* Open the backend cfg names and put the NIC on the bus (cfg->model must
 * be NET_MODEL_E1000). */
struct e1000 *e1000_create(struct vm *vm, struct pci_bus *bus,
                           const struct net_config *cfg, GError **error);

/* The same on a backend that is already open; the NIC takes ownership of
 * it (closes it on failure too).  mac NULL: a locally administered MAC
 * is made up. */
struct e1000 *e1000_create_on_backend(struct vm *vm, struct pci_bus *bus,
                                      const uint8_t *mac, struct net_backend *backend,
                                      GError **error);

void e1000_free(struct e1000 *e);

struct pci_device *e1000_pci_device(struct e1000 *e);
