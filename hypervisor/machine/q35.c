/* The Q35 PC: the MCH host bridge and ICH9 LPC bridge (pci/q35_host.h),
 * the ICH9 PM block wherever PMBASE puts it, the ICH9 SATA function at
 * 1F.2 for disks and the CD-ROM, and the PCI Express configuration window
 * in the ACPI tables.  Everything else is the PC of pc.c. */
#include "chipset.h"
#include "pc_chipset.h"
#include "device_registry.h"
#include "upper_memory.h"
#include "acpi/acpi_tables.h"
#include "config/pc_layout.h"
#include "core/vm.h"
#include "core/vm_core.h"
#include "core/smm.h"
#include "devices/acpi_pm.h"
#include "devices/fw_cfg.h"
#include "pci/pci.h"
#include "pci/q35_host.h"

#include <gio/gio.h>
#include <glib/gi18n.h>

struct q35 {
    struct vm *vm;
    struct q35_host *host;
    struct acpi_pm *pm;
    struct upper_memory *um;    /* non-NULL once firmware owns the BIOS area */
    bool smm;                   /* --machine q35,smm=on */
    struct fw_cfg *fw;          /* with SMM and firmware: the SMI negotiation */
};

/* Both run with the PCI bus lock held, from guest configuration writes. */
static void q35_pam_changed(void *opaque, const uint8_t *pam)
{
    struct q35 *q = opaque;
    if (q->um)
        upper_memory_set_pam(q->um, pam);
}

static void q35_pm_base_changed(void *opaque, uint16_t base, bool enabled)
{
    struct q35 *q = opaque;
    if (q->pm)
        acpi_pm_set_base(q->pm, base, enabled);
}

static void q35_smi_lock_changed(void *opaque, bool locked)
{
    struct q35 *q = opaque;
    if (q->pm)
        acpi_pm_set_smi_lock(q->pm, locked);
}

/* The SMM address space follows the MCH: the compatible SMRAM at 0xA0000
 * (G_SMRAME, D_OPEN) and TSEG at the top of RAM below 4 GiB (T_EN). */
static void q35_smram_changed(void *opaque)
{
    struct q35 *q = opaque;
    if (!q->smm)
        return;
    struct q35_smram s;
    q35_host_smram(q->host, &s);
    vm_smm_set_legacy(q->vm, s.smram_enabled, s.open);
    uint64_t low = vm_memory(q->vm)->low_size;
    if (s.smram_enabled && s.tseg_enabled && s.tseg_size && s.tseg_size < low)
        vm_smm_set_tseg(q->vm, low - s.tseg_size, s.tseg_size);
    else
        vm_smm_set_tseg(q->vm, 0, 0);
}

static const struct q35_host_ops host_ops = {
    .pam_changed = q35_pam_changed,
    .pm_base_changed = q35_pm_base_changed,
    .smram_changed = q35_smram_changed,
    .smi_lock_changed = q35_smi_lock_changed,
};

/* An APM command with SMI_EN's APMC_EN and GBL_SMI_EN set: every vCPU
 * when the firmware negotiated broadcast SMIs, else the writing one. */
static void q35_raise_smi(void *opaque)
{
    struct q35 *q = opaque;
    bool broadcast = q->fw && (fw_cfg_smi_negotiated(q->fw) & FW_CFG_SMI_BROADCAST);
    vm_smm_raise(q->vm, broadcast ? SMM_ALL_VCPUS : SMM_CURRENT_VCPU);
}

static bool q35_enable_smm(void *state, struct vm *vm, struct pci_bus *bus, struct acpi_pm *pm,
                           GError **error)
{
    struct q35 *q = state;
    q->smm = true;
    acpi_pm_set_smi_handler(pm, q35_raise_smi, q);
    q35_smram_changed(q);
    return true;
}

static bool q35_smm_fw_cfg(void *state, struct fw_cfg *fw)
{
    struct q35 *q = state;
    q->fw = fw;
    return fw_cfg_add_smi_features(fw, FW_CFG_SMI_BROADCAST);
}

static struct pci_bus *q35_create_bus(struct vm *vm, const struct vmm_options *o, void **state,
                                      GError **error)
{
    struct q35 *q = g_new0(struct q35, 1);
    *state = q;
    q->vm = vm;
    struct pci_bus *bus = pci_bus_new(vm);
    const struct guest_memory *m = vm_memory(vm);
    q->host = q35_host_create(bus, vm, m->low_size, m->high_size, &host_ops, q, error);
    return q->host ? bus : NULL;
}

static struct acpi_pm *q35_create_acpi_pm(void *state, struct vm *vm, struct device_registry *r,
                                          GError **error)
{
    struct q35 *q = state;
    /* Not decoding until firmware (or q35_firmware_setup) sets PMBASE. */
    const struct acpi_pm_config ich9 = {
        .base = 0, .len = PC_Q35_PM_LEN,
        .acpi_enable = PC_Q35_ACPI_ENABLE, .acpi_disable = PC_Q35_ACPI_DISABLE,
        .ich9 = true,
    };
    q->pm = acpi_pm_create_with(vm, &ich9);
    if (!q->pm) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS, _("Cannot create the ACPI PM block"));
        return NULL;
    }
    device_registry_add(r, "acpi-pm", q->pm, &acpi_pm_ich9_state_ops, NULL, NULL);
    return q->pm;
}

static void q35_describe_acpi(void *state, struct acpi_platform *p)
{
    (void)state;
    /* Where SeaBIOS and OVMF program PMBASE and PCIEXBAR, and where
     * q35_firmware_setup() puts them for a directly booted kernel. */
    p->pcie = true;
    p->ecam_base = PC_Q35_ECAM_BASE;
    p->ecam_size = PC_Q35_ECAM_SIZE;
    p->pm_base = PC_ACPI_PM_BASE;
    p->pm_len = PC_Q35_PM_LEN;
    p->acpi_enable = PC_Q35_ACPI_ENABLE;
    p->acpi_disable = PC_Q35_ACPI_DISABLE;
}

static void q35_listen_pam(void *state, struct upper_memory *um)
{
    struct q35 *q = state;
    q->um = um;
}

static void q35_firmware_setup(void *state)
{
    struct q35 *q = state;
    q35_host_firmware_setup(q->host);
}

static void q35_free(void *state)
{
    struct q35 *q = state;
    q35_host_free(q->host);
    g_free(q);
}

static const struct pc_chipset_ops q35_ops = {
    .name = "q35",
    .smbios_product = "Oriel PC (Q35 + ICH9, 2009)",
    .storage = { .has_ide = false, .sata_slot = Q35_LPC_SLOT, .sata_func = 2 },
    .create_bus = q35_create_bus,
    .create_acpi_pm = q35_create_acpi_pm,
    .describe_acpi = q35_describe_acpi,
    .listen_pam = q35_listen_pam,
    .firmware_setup = q35_firmware_setup,
    .enable_smm = q35_enable_smm,
    .smm_fw_cfg = q35_smm_fw_cfg,
    .free = q35_free,
};

struct machine *q35_create(const struct vmm_options *o, int kvm_fd, GError **error)
{
    return pc_create_chipset(o, kvm_fd, &q35_ops, error);
}
