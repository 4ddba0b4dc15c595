/* The ACPI tables of the Oriel PC: RSDP, RSDT/XSDT, FADT, FACS, MADT, DSDT,
 * TPM2 with a TPM, and MCFG on a chipset with a PCI Express configuration
 * window (Q35).  The chipset describes itself in struct acpi_platform.
 *
 * Two ways to hand them to the guest:
 *  - acpi_tables_install() writes them, checksummed, into the legacy BIOS
 *    area (0xE0000-0xFFFFF) for a directly booted kernel, which finds the
 *    RSDP by scanning there (or through boot_params.acpi_rsdp_addr);
 *  - acpi_tables_build_fw_cfg() produces the fw_cfg files "etc/acpi/rsdp",
 *    "etc/acpi/tables" and "etc/table-loader" from which SeaBIOS and OVMF
 *    place, link and checksum the same tables themselves. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "core/guest_memory.h"

#define ACPI_MAX_CPUS 255   /* xAPIC IDs; x2APIC entries are not generated */

struct acpi_platform {
    unsigned ncpus;             /* APIC IDs and ACPI UIDs 0..ncpus-1 */
    bool has_pci;               /* \_SB.PCI0 root bridge with _CRS and _PRT */
    bool has_com1, has_com2, has_i8042, has_rtc, has_pvpanic, has_fw_cfg;
    bool has_tpm_crb;           /* TPM 2.0 CRB at TPM_CRB_BASE: TPM2 table, MSFT0101 */
    /* The chipset's differences; zeros describe the i440FX. */
    bool pcie;                  /* PCI0 is a PCI Express root (PNP0A08, _CID PNP0A03) */
    uint64_t ecam_base;         /* != 0: PCI Express configuration window (MCFG) */
    uint64_t ecam_size;         /* bytes; 1 MiB per bus from bus 0 */
    uint16_t pm_base, pm_len;   /* ACPI PM block; 0: PC_ACPI_PM_BASE, PC_ACPI_PM_LEN */
    uint8_t acpi_enable, acpi_disable;  /* SMI_CMD values; 0: ACPI_PM_ACPI_ENABLE/DISABLE */
    /* 64-bit PCI MMIO window; both 0 selects acpi_pci_mmio64_window(). */
    uint64_t pci_mmio64_base, pci_mmio64_size;
    uint64_t rsdp_addr;         /* out: guest-physical address of the RSDP */
};

/* The 64-bit PCI window for this memory layout: 1 GiB aligned, above the
 * last byte of RAM (and above 4 GiB), PC_PCI_MMIO64_WINDOW_SIZE long. */
void acpi_pci_mmio64_window(const struct guest_memory *m, uint64_t *base, uint64_t *size);

/* Write all tables into PC_BIOS_AREA_START..PC_BIOS_AREA_END of guest RAM
 * and set p->rsdp_addr (and the 64-bit window fields, if they were 0). */
bool acpi_tables_install(struct guest_memory *m, struct acpi_platform *p, GError **error);

/* The tables as fw_cfg files for firmware that runs the table loader. */
struct acpi_fw_cfg_files {
    uint8_t *rsdp;   size_t rsdp_len;    /* "etc/acpi/rsdp" */
    uint8_t *tables; size_t tables_len;  /* "etc/acpi/tables" */
    uint8_t *loader; size_t loader_len;  /* "etc/table-loader" */
};
#define ACPI_FW_CFG_RSDP_FILE   "etc/acpi/rsdp"
#define ACPI_FW_CFG_TABLES_FILE "etc/acpi/tables"
#define ACPI_FW_CFG_LOADER_FILE "etc/table-loader"

bool acpi_tables_build_fw_cfg(const struct guest_memory *m, const struct acpi_platform *p,
                              struct acpi_fw_cfg_files *out, GError **error);
void acpi_fw_cfg_files_clear(struct acpi_fw_cfg_files *f);

/* The DSDT's AML body (everything after the 36-byte table header); exposed
 * for tests.  p's 64-bit window fields must already be filled in. */
uint8_t *acpi_dsdt_aml(const struct acpi_platform *p, size_t *len, GError **error);

/* The PM block's first port as the tables describe it. */
uint16_t acpi_platform_pm_base(const struct acpi_platform *p);
uint16_t acpi_platform_pm_len(const struct acpi_platform *p);

/* Sum of len bytes modulo 256: zero for a correctly checksummed table. */
uint8_t acpi_checksum(const void *data, size_t len);

/* Build the firmware files and add them to fw_cfg as ACPI_FW_CFG_*_FILE
 * (replacing earlier ones, so it can run again after a change). */
struct fw_cfg;
bool acpi_tables_add_to_fw_cfg(struct fw_cfg *fw, const struct guest_memory *m,
                               const struct acpi_platform *p, GError **error);
