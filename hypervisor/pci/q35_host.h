/* The Q35 chipset functions on PCI bus 0: the MCH host bridge (00.0,
 * 8086:29C0) and the ICH9 LPC bridge (1F.0, 8086:2918).
 *
 * MCH: PCIEXBAR (0x60) maps the PCI Express configuration window (ECAM)
 * where firmware puts it; PAM0-6 (0x90-0x96) go to a listener as on the
 * i440FX; SMRAM (0x9D) and ESMRAMC (0x9E) with their D_LCK lock, and the
 * QEMU-compatible extended TSEG size register (0x50) OVMF queries, are
 * kept for the SMM address space (q35_host_smram()); TOM, TOUUD and TOLUD
 * tell firmware where RAM ends.
 *
 * LPC: PMBASE (0x40) and ACPI_CNTL (0x44) place and enable the ACPI PM
 * block (through a listener), the PIRQA-H routing registers (0x60-0x63,
 * 0x68-0x6B; in APIC mode the PIRQs reach GSI 16-23 whatever they say, as
 * the DSDT's _PRT tells the OS), RCBA (0xF0: a 16 KiB block of chipset
 * registers that reads as zero), and the reset control register at port
 * 0xCF9. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

struct vm;
struct pci_bus;
struct pci_device;
struct q35_host;

/* MCH registers. */
#define Q35_MCH_EXT_TSEG_MB     0x50    /* 16 bits */
#define Q35_MCH_EXT_TSEG_QUERY  0xffff
#define Q35_MCH_EXT_TSEG_MBYTES 16      /* what the query answers */
#define Q35_MCH_PCIEXBAR        0x60    /* 64 bits */
#define Q35_MCH_PCIEXBAR_EN     0x1
#define Q35_MCH_PAM0            0x90
#define Q35_MCH_PAM6            0x96
#define Q35_MCH_SMRAM           0x9d
#define Q35_MCH_ESMRAMC         0x9e
#define Q35_MCH_TOM             0xa0    /* 16 bits, bits 15:0 = address 35:20 */
#define Q35_MCH_TOUUD           0xa8    /* 64 bits */
#define Q35_MCH_TSEGMB          0xac    /* 32 bits: TSEG base, bits 31:20; firmware's record */
#define Q35_MCH_TOLUD           0xb0    /* 16 bits, bits 15:4 = address 31:20 */

#define Q35_SMRAM_D_OPEN        0x40
#define Q35_SMRAM_D_CLS         0x20
#define Q35_SMRAM_D_LCK         0x10
#define Q35_SMRAM_G_SMRAME      0x08
#define Q35_SMRAM_DEFAULT       0x02    /* C_BASE_SEG: 0xA0000-0xBFFFF */
#define Q35_ESMRAMC_H_SMRAME    0x80
#define Q35_ESMRAMC_E_SMERR     0x40
#define Q35_ESMRAMC_TSEG_SZ     0x06
#define Q35_ESMRAMC_T_EN        0x01
#define Q35_ESMRAMC_DEFAULT     0x38    /* SM_CACHE, SM_L1, SM_L2 */

/* LPC registers. */
#define Q35_LPC_PMBASE          0x40
#define Q35_LPC_ACPI_CNTL       0x44
#define Q35_LPC_ACPI_EN         0x80
#define Q35_LPC_PIRQA_ROUT      0x60
#define Q35_LPC_PIRQE_ROUT      0x68
#define Q35_LPC_PIRQ_DISABLE    0x80
#define Q35_LPC_GEN_PMCON_1     0xa0
#define Q35_LPC_SMI_LOCK        0x10    /* GEN_PMCON_1: GBL_SMI_EN frozen until reset */
#define Q35_LPC_RCBA            0xf0
#define Q35_LPC_RCBA_EN         0x1

#define Q35_MCH_SLOT 0
#define Q35_LPC_SLOT 0x1f

struct q35_host_ops {
    /* pam: PAM0..PAM6 after a guest write, at reset and after a restore. */
    void (*pam_changed)(void *opaque, const uint8_t *pam);
    /* The PM block's ports: where PMBASE points, and whether ACPI_EN
     * lets it decode. */
    void (*pm_base_changed)(void *opaque, uint16_t base, bool enabled);
    /* Optional: SMRAM, ESMRAMC or the extended TSEG size may have changed
     * (guest write, reset, restore); q35_host_smram() tells how.  Where
     * the SMM address space will follow the MCH. */
    void (*smram_changed)(void *opaque);
    /* Optional: GEN_PMCON_1's SMI_LOCK (write-once, cleared by reset):
     * while set, SMI_EN's GBL_SMI_EN cannot change.  Called after guest
     * writes, at reset and after a restore. */
    void (*smi_lock_changed)(void *opaque, bool locked);
};

/* The MCH and LPC functions on bus (made with pci_bus_new()), the ECAM
 * window on the VM's MMIO bus once PCIEXBAR enables it, and the reset
 * control register.  ram_below_4g and ram_above_4g fill TOLUD, TOM and
 * TOUUD.  The ops run with the PCI bus lock held. */
struct q35_host *q35_host_create(struct pci_bus *bus, struct vm *vm, uint64_t ram_below_4g,
                                 uint64_t ram_above_4g, const struct q35_host_ops *ops,
                                 void *opaque, GError **error);
/* After vm_destroy(). */
void q35_host_free(struct q35_host *h);

/* What firmware does before it starts an OS, for a directly booted
 * kernel: ECAM at PC_Q35_ECAM_BASE, the PM block at PC_ACPI_PM_BASE with
 * ACPI decoding on, and the PIRQs routed. */
void q35_host_firmware_setup(struct q35_host *h);

/* Where the ECAM window decodes now (false: PCIEXBAR disabled or the
 * window could not be placed). */
bool q35_host_ecam(struct q35_host *h, uint64_t *base, uint64_t *size);

/* SMRAM as the MCH decodes it now, for the SMM address space. */
struct q35_smram {
    bool smram_enabled;     /* G_SMRAME: compatible SMRAM at 0xA0000 */
    bool open, closed, locked;   /* D_OPEN, D_CLS, D_LCK */
    bool tseg_enabled;      /* T_EN */
    uint64_t tseg_size;     /* bytes, from TSEG_SZ or the extended size */
};
void q35_host_smram(struct q35_host *h, struct q35_smram *out);

/* The functions (their VM state, for tests). */
struct pci_device *q35_host_mch(struct q35_host *h);
struct pci_device *q35_host_lpc(struct q35_host *h);
