/* The PIIX4 power-management function (00:01.3, 8086:7113): where the
 * ACPI PM block decodes.  Firmware finds it by its IDs, writes the I/O base
 * to PMBA (config 0x40) and sets PMIOSE (bit 0 of PMREGMISC, config 0x80);
 * the block then answers at that base.  OVMF on the i440FX needs this
 * function for its ACPI timer; SeaBIOS programs it when present.
 *
 * DEVACTB (config 0x58) bit 25, APMC_EN, enables the software SMI of the
 * APM control port.  A machine without SMM sets it at power-on, as if the
 * firmware's SMM setup had already run, so SeaBIOS does not wait for an
 * SMI handler that will never answer.  The SMBus registers (SMBBA 0x90,
 * SMBHSTCFG 0xD2) are storage only: there is no SMBus controller. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

struct pci_bus;
struct piix4_pm;

#define PIIX4_PM_SLOT        1
#define PIIX4_PM_FUNC        3
#define PIIX4_PM_PMBA        0x40
#define PIIX4_PM_PMBA_MASK   0xffc0u   /* 64-byte aligned I/O base */
#define PIIX4_PM_DEVACTB     0x58
#define PIIX4_PM_APMC_EN     (1u << 25)
#define PIIX4_PM_PMREGMISC   0x80
#define PIIX4_PM_PMIOSE      0x01
#define PIIX4_PM_SMBBA       0x90
#define PIIX4_PM_SMBHSTCFG   0xd2

struct piix4_pm_config {
    /* The block's base at power-on and after reset, enabled (what firmware
     * would have programmed, for a kernel booted without firmware); 0: off
     * until the firmware programs it. */
    uint16_t reset_base;
    /* The machine has SMM: leave APMC_EN to the firmware. */
    bool smm;
    /* Called (bus lock held, or at reset and state load) whenever the
     * decoded base may have changed; base 0: the block decodes nowhere. */
    void (*set_base)(void *opaque, uint16_t base);
    void *opaque;
};

/* Add the function at 01.3 (function 0 at 01.0 must announce itself as
 * multi-function).  Its configuration is saved by the PCI layer; after a
 * load the listener hears the restored base. */
struct piix4_pm *piix4_pm_create(struct pci_bus *bus, const struct piix4_pm_config *config,
                                 GError **error);
/* After the VM is gone. */
void piix4_pm_free(struct piix4_pm *pm);

/* The base the block decodes at now; 0 when disabled. */
uint16_t piix4_pm_base(struct piix4_pm *pm);
