/* The DSDT of the Oriel PC: processors, the PCI root bridge with its
 * resource windows and interrupt routing, the ISA devices, and the S5
 * sleep state.  Device names and IDs are the ones every PC OS knows. */
#include "acpi_tables.h"
#include "aml.h"

#include <stdio.h>

#include "config/pc_layout.h"
#include "devices/tpm_crb.h"

#define STA_PRESENT_HIDDEN 0x0b  /* present, enabled, functioning, not shown */

static void processors(struct aml *a, const struct acpi_platform *p)
{
    /* Processor devices (8.4) whose _UIDs match the MADT's processor UIDs. */
    for (unsigned i = 0; i < p->ncpus; i++) {
        char name[16];
        snprintf(name, sizeof(name), "C%03X", i);
        aml_device_open(a, name);
        aml_name_string_value(a, "_HID", "ACPI0007");
        aml_name_integer(a, "_UID", i);
        aml_close(a);
    }
}

static void isa_device(struct aml *a, const char *name, const char *eisaid, unsigned uid,
                       uint16_t port, uint8_t nports, int irq)
{
    aml_device_open(a, name);
    aml_name_eisaid(a, "_HID", eisaid);
    aml_name_integer(a, "_UID", uid);
    aml_name(a, "_CRS");
    aml_rt_open(a);
    if (nports)
        aml_res_io(a, port, port, 1, nports);
    if (irq >= 0)
        aml_res_irq(a, (uint16_t)(1u << irq));
    aml_rt_close(a);
    aml_close(a);
}

static void keyboard_controller(struct aml *a)
{
    aml_device_open(a, "KBD");
    aml_name_eisaid(a, "_HID", "PNP0303");
    aml_name(a, "_CRS");
    aml_rt_open(a);
    aml_res_io(a, PC_I8042_DATA_PORT, PC_I8042_DATA_PORT, 1, 1);
    aml_res_io(a, PC_I8042_CMD_PORT, PC_I8042_CMD_PORT, 1, 1);
    aml_res_irq(a, 1u << PC_I8042_KBD_IRQ);
    aml_rt_close(a);
    aml_close(a);

    aml_device_open(a, "MOU");
    aml_name_eisaid(a, "_HID", "PNP0F13");
    aml_name(a, "_CRS");
    aml_rt_open(a);
    aml_res_irq(a, 1u << PC_I8042_AUX_IRQ);
    aml_rt_close(a);
    aml_close(a);
}

/* Devices identified by a string _HID, reached by port I/O, no IRQ. */
static void port_device(struct aml *a, const char *name, const char *hid,
                        uint16_t port, uint8_t nports)
{
    aml_device_open(a, name);
    aml_name_string_value(a, "_HID", hid);
    aml_name_integer(a, "_STA", STA_PRESENT_HIDDEN);
    aml_name(a, "_CRS");
    aml_rt_open(a);
    aml_res_io(a, port, port, 1, nports);
    aml_rt_close(a);
    aml_close(a);
}

static void legacy_devices(struct aml *a, const struct acpi_platform *p)
{
    if (p->has_com1)
        isa_device(a, "COM1", "PNP0501", 1, PC_COM1_PORT, 8, PC_COM1_IRQ);
    if (p->has_com2)
        isa_device(a, "COM2", "PNP0501", 2, PC_COM2_PORT, 8, PC_COM2_IRQ);
    if (p->has_i8042)
        keyboard_controller(a);
    if (p->has_rtc)
        isa_device(a, "RTC", "PNP0B00", 0, PC_RTC_PORT, 2, PC_RTC_IRQ);
    if (p->has_pvpanic)
        port_device(a, "PEVT", "QEMU0001", PC_PVPANIC_PORT, 1);
    if (p->has_fw_cfg)
        port_device(a, "FWCF", "QEMU0002", PC_FW_CFG_PORT, 0x0c);

    /* Ports the platform decodes that no other device claims, so the OS
     * never hands them to a PCI device.  (The reset register 0xCF9 lies
     * in the root bridge's own 0xCF8-0xCFF.) */
    aml_device_open(a, "MRES");
    aml_name_eisaid(a, "_HID", "PNP0C02");
    aml_name_integer(a, "_UID", 1);
    aml_name(a, "_CRS");
    aml_rt_open(a);
    uint16_t pm = acpi_platform_pm_base(p);
    aml_res_io(a, pm, pm, 1, (uint8_t)acpi_platform_pm_len(p));
    aml_res_io(a, PC_ACPI_SMI_CMD, PC_ACPI_SMI_CMD, 1, 2);
    /* The configuration window is the chipset's, not a PCI BAR: an OS
     * checks it is reserved before trusting MCFG. */
    if (p->ecam_base)
        aml_res_memory32_fixed(a, (uint32_t)p->ecam_base, (uint32_t)p->ecam_size, true);
    aml_rt_close(a);
    aml_close(a);
}

static void pci_routing(struct aml *a)
{
    /* Direct GSI form (6.2.13): Source 0, Source Index = the GSI. */
    aml_name(a, "_PRT");
    aml_package_open(a, 32 * 4);
    for (unsigned slot = 0; slot < 32; slot++) {
        for (unsigned pin = 0; pin < 4; pin++) {
            aml_package_open(a, 4);
            aml_integer(a, ((uint64_t)slot << 16) | 0xffff);
            aml_integer(a, pin);
            aml_integer(a, 0);
            aml_integer(a, PC_PCI_INTX_GSI(slot, pin));
            aml_close(a);
        }
    }
    aml_close(a);
}

static void pci_root(struct aml *a, const struct acpi_platform *p)
{
    aml_device_open(a, "PCI0");
    if (p->pcie) {
        aml_name_eisaid(a, "_HID", "PNP0A08");
        aml_name_eisaid(a, "_CID", "PNP0A03");
    } else {
        aml_name_eisaid(a, "_HID", "PNP0A03");
    }
    aml_name_integer(a, "_BBN", 0);
    aml_name_integer(a, "_UID", 0);

    aml_name(a, "_CRS");
    aml_rt_open(a);
    aml_res_word_bus(a, 0, 0xff);
    aml_res_io(a, PC_PCI_CONFIG_PORT, PC_PCI_CONFIG_PORT, 1, 8);
    aml_res_word_io(a, 0x0000, PC_PCI_CONFIG_PORT - 1);
    aml_res_word_io(a, 0x0d00, 0xffff);
    aml_res_dword_memory(a, 0x000a0000, 0x000bffff, true);   /* VGA window */
    aml_res_dword_memory(a, (uint32_t)PC_PCI_MMIO_WINDOW_START,
                         (uint32_t)PC_PCI_MMIO_WINDOW_END, false);
    if (p->pci_mmio64_size)
        aml_res_qword_memory(a, p->pci_mmio64_base,
                             p->pci_mmio64_base + p->pci_mmio64_size - 1, false);
    aml_rt_close(a);

    pci_routing(a);
    legacy_devices(a, p);
    aml_close(a);
}

/* The TPM: MSFT0101 is the ID of a TPM 2.0 with the CRB interface, whose
 * registers and buffer _CRS gives; the TPM2 table says how to start it. */
static void tpm_device(struct aml *a)
{
    aml_device_open(a, "TPM");
    aml_name_string_value(a, "_HID", "MSFT0101");
    aml_name_integer(a, "_STA", 0x0f);
    aml_name(a, "_CRS");
    aml_rt_open(a);
    aml_res_memory32_fixed(a, TPM_CRB_BASE, TPM_CRB_SIZE, true);
    aml_rt_close(a);
    aml_close(a);
}

uint8_t *acpi_dsdt_aml(const struct acpi_platform *p, size_t *len, GError **error)
{
    struct aml a;
    aml_init(&a);

    /* S5: the SLP_TYP values for PM1a and PM1b, then two reserved. */
    aml_name(&a, "\\_S5");
    aml_package_open(&a, 4);
    aml_integer(&a, PC_ACPI_S5_SLP_TYP);
    aml_integer(&a, PC_ACPI_S5_SLP_TYP);
    aml_integer(&a, 0);
    aml_integer(&a, 0);
    aml_close(&a);

    aml_scope_open(&a, "\\_SB");
    processors(&a, p);
    if (p->has_tpm_crb)
        tpm_device(&a);
    if (p->has_pci)
        pci_root(&a, p);
    else
        legacy_devices(&a, p);
    aml_close(&a);

    return aml_finish(&a, len, error);
}
