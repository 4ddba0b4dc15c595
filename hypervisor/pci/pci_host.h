/* The chipset functions on PCI bus 0: the i440FX host bridge (00.0) and
 * the PIIX3 PCI-to-ISA bridge (01.0) with its reset control register at
 * port 0xCF9.  The PAM registers go to a listener that maps the BIOS
 * area accordingly (platform/upper_memory.c).  With SMM, the SMRAM
 * register (0x72) opens and closes the legacy SMRAM window (core/smm.h),
 * and writes to the APM control port raise an SMI when the PIIX3's
 * SMICNTL.CSMIGATE (0xA0 bit 0) and SMIEN.APMC_EN (0xA2 bit 7) allow
 * it; without, SMRAM is stored so firmware reads back what it wrote. */
#pragma once

#include <stdint.h>

struct vm;
struct pci_bus;
struct pci_host;

struct pci_host *pci_host_create(struct pci_bus *bus, struct vm *vm);

/* pam: the seven registers PAM0..PAM6 (config 0x59-0x5F). */
typedef void (*pci_host_pam_fn)(void *opaque, const uint8_t *pam);
/* Called after every guest write to a PAM register (bus lock held) and at
 * reset, when they return to 0. */
void pci_host_set_pam_listener(struct pci_host *host, pci_host_pam_fn fn, void *opaque);
void pci_host_free(struct pci_host *host);

/* The machine has SMM (vm_smm_enable() done): apply the SMRAM register. */
void pci_host_enable_smm(struct pci_host *host);
/* The guest wrote the APM control port (0xB2), from a vCPU thread. */
void pci_host_apm_written(struct pci_host *host);

/* Reset control register (0xCF9): writing RST_CPU (bit 2) resets the
 * machine. */
uint8_t pci_host_rcr_read(struct pci_host *host);
void pci_host_rcr_write(struct pci_host *host, uint8_t value);
