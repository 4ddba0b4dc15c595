/* libFuzzer target: random configuration accesses to the Q35 chipset
 * through CF8/CFC and through the ECAM window wherever the guest moves it
 * (PCIEXBAR with any length and base), PM block accesses wherever PMBASE
 * puts it, SMI_CMD, 0xCF9 and platform resets.  The VMM must go on: after
 * every step the MCH still answers with its IDs through CF8/CFC, and the
 * ECAM window, when it decodes, agrees with them. */
#include <glib.h>

#include "pci/pci.h"
#include "pci/q35_host.h"
#include "devices/acpi_pm.h"
#include "config/pc_layout.h"
#include "tests/support/test_vm.h"

struct input {
    const uint8_t *p;
    size_t n;
};

static uint64_t take(struct input *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && in->n; i++, in->p++, in->n--)
        v |= (uint64_t)*in->p << (8 * i);
    return v;
}

static struct acpi_pm *the_pm;

static void pm_base_changed(void *opaque, uint16_t base, bool enabled)
{
    acpi_pm_set_base(the_pm, base, enabled);
}

static void pam_changed(void *opaque, const uint8_t *pam) { }

static const struct q35_host_ops ops = { .pam_changed = pam_changed,
                                         .pm_base_changed = pm_base_changed };

static void check_alive(struct vm *vm, struct q35_host *h)
{
    test_pio_write(vm, 0xcf8, 0x80000000u, 4);
    uint32_t id = (uint32_t)test_pio_read(vm, 0xcfc, 4);
    if (id != 0x29c08086)
        g_error("MCH reads %#x through CF8/CFC", id);
    uint64_t base, size;
    if (q35_host_ecam(h, &base, &size) && test_mmio_read(vm, base, 4) != 0x29c08086 &&
        base >= 64ULL << 20)   /* RAM of the fake VM takes precedence below */
        g_error("ECAM at %#" G_GINT64_MODIFIER "x disagrees", base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned sizes[] = { 1, 2, 4, 8 };
    struct vm *vm = test_vm_new(16ULL << 20);
    struct pci_bus *bus = pci_bus_new(vm);
    const struct acpi_pm_config ich9 = { .len = PC_Q35_PM_LEN, .acpi_enable = PC_Q35_ACPI_ENABLE,
                                         .acpi_disable = PC_Q35_ACPI_DISABLE, .ich9 = true };
    the_pm = acpi_pm_create_with(vm, &ich9);
    struct q35_host *h = q35_host_create(bus, vm, 16ULL << 20, 0, &ops, NULL, NULL);
    struct input in = { data, size };

    while (in.n) {
        unsigned op = (unsigned)take(&in, 1) % 8;
        unsigned slot = take(&in, 1) & 1 ? Q35_LPC_SLOT : (unsigned)take(&in, 1) % 32;
        unsigned reg = (unsigned)take(&in, 2) & 0xfff;
        unsigned sz = sizes[take(&in, 1) % 4];
        uint64_t base, len;
        switch (op) {
        case 0:
        case 1:
            test_pio_write(vm, 0xcf8, 0x80000000u | slot << 11 | (reg & 0xfc) |
                           (take(&in, 1) & 7) << 8, 4);
            test_pio_write(vm, 0xcfc + (reg & 3), take(&in, 4), MIN(sz, 4u));
            break;
        case 2:
            /* Move or resize the window: any base the mask allows. */
            test_pio_write(vm, 0xcf8, 0x80000000u | Q35_MCH_PCIEXBAR, 4);
            test_pio_write(vm, 0xcfc, take(&in, 4), 4);
            break;
        case 3:
            if (q35_host_ecam(h, &base, &len))
                test_mmio_write(vm, base + (take(&in, 4) % (len + 0x1000)), take(&in, 8), sz);
            break;
        case 4:
            if (q35_host_ecam(h, &base, &len))
                test_mmio_read(vm, base + (take(&in, 4) % (len + 0x1000)), sz);
            break;
        case 5: {
            uint16_t pm = acpi_pm_base(the_pm);
            uint16_t port = (uint16_t)(pm + take(&in, 1) % (PC_Q35_PM_LEN + 4));
            if (take(&in, 1) & 1)
                test_pio_write(vm, port, take(&in, 4), MIN(sz, 4u));
            else
                test_pio_read(vm, port, MIN(sz, 4u));
            break;
        }
        case 6:
            if (take(&in, 1) & 1) {
                /* RCBA anywhere, then an access where it may now be. */
                test_pio_write(vm, 0xcf8, 0x80000000u | Q35_LPC_SLOT << 11 | Q35_LPC_RCBA, 4);
                test_pio_write(vm, 0xcfc, take(&in, 4), 4);
                uint32_t rcba = (uint32_t)test_pio_read(vm, 0xcfc, 4) & ~0x3fffu;
                test_mmio_write(vm, rcba + (take(&in, 2) & 0x3fff), take(&in, 4), MIN(sz, 4u));
            }
            test_pio_write(vm, PC_ACPI_SMI_CMD + (take(&in, 1) & 1), take(&in, 1), 1);
            test_pio_write(vm, 0xcf9, take(&in, 1), 1);
            break;
        case 7:
            test_vm_platform_reset(vm);
            break;
        }
        check_alive(vm, h);
    }

    acpi_pm_free(the_pm);
    q35_host_free(h);
    pci_bus_free(bus);
    test_vm_free(vm);
    return 0;
}
