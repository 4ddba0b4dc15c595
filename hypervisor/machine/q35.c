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
#include "devices/acpi_pm.h"
#include "pci/pci.h"
#include "pci/q35_host.h"

#include <gio/gio.h>
#include <glib/gi18n.h>

struct q35 {
    struct q35_host *host;
    struct acpi_pm *pm;
    struct upper_memory *um;    /* non-NULL once firmware owns the BIOS area */
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

static const struct q35_host_ops host_ops = {
    .pam_changed = q35_pam_changed,
    .pm_base_changed = q35_pm_base_changed,
};

static struct pci_bus *q35_create_bus(struct vm *vm, const struct vmm_options *o, void **state,
                                      GError **error)
{
    struct q35 *q = g_new0(struct q35, 1);
    *state = q;
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
    .free = q35_free,
};

struct machine *q35_create(const struct vmm_options *o, int kvm_fd, GError **error)
{
    return pc_create_chipset(o, kvm_fd, &q35_ops, error);
}
