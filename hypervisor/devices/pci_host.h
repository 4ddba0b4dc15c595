/* The chipset functions on PCI bus 0: the i440FX host bridge (00.0) and
 * the PIIX3 PCI-to-ISA bridge (01.0) with its reset control register at
 * port 0xCF9.  Memory-controller registers (PAM, SMRAM) are stored so
 * firmware reads back what it wrote; they do not change the memory map. */
#pragma once

#include <stdint.h>

struct vm;
struct pci_bus;
struct pci_host;

struct pci_host *pci_host_create(struct pci_bus *bus, struct vm *vm);
void pci_host_free(struct pci_host *host);

/* Reset control register (0xCF9): writing RST_CPU (bit 2) resets the
 * machine. */
uint8_t pci_host_rcr_read(struct pci_host *host);
void pci_host_rcr_write(struct pci_host *host, uint8_t value);
