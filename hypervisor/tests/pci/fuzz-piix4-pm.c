/* libFuzzer target: random configuration accesses to the PIIX4 PM
 * function (00:01.3), SMI command port accesses and resets, with the ACPI PM block
 * wired behind PMBA as on the PC.  After every step the block decodes
 * exactly where PMBA/PMREGMISC say (or nowhere), PMBA's fixed bits hold,
 * and the block's registers answer at that base. */
#include <glib.h>

#include "pci/pci.h"
#include "pci/piix4_pm.h"
#include "devices/acpi_pm.h"
#include "config/pc_layout.h"
#include "tests/support/test_vm.h"

struct ctx {
    struct acpi_pm *acpi;
};

static void set_base(void *opaque, uint16_t base)
{
    struct ctx *c = opaque;
    acpi_pm_set_base(c->acpi, base, base != 0);   /* taken ports: then nowhere */
}

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

static uint32_t cfg_read(struct vm *vm, unsigned reg, unsigned size)
{
    test_pio_write(vm, 0xcf8, 0x80000000u | 1u << 11 | 3u << 8 | (reg & 0xfc), 4);
    return (uint32_t)test_pio_read(vm, 0xcfc + (reg & 3), size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned sizes[] = { 1, 2, 4 };
    struct vm *vm = test_vm_new(16ULL * 1024 * 1024);
    struct pci_bus *bus = pci_bus_create(vm);
    struct ctx c = { .acpi = acpi_pm_create(vm) };
    struct input in = { data, size };
    struct piix4_pm_config pc = {
        .reset_base = take(&in, 1) & 1 ? PC_ACPI_PM_BASE : 0,
        .set_base = set_base, .opaque = &c,
    };
    struct piix4_pm *pm = piix4_pm_create(bus, &pc, NULL);
    if (!pm)
        g_error("cannot create the PIIX4 PM function");

    while (in.n) {
        unsigned op = (unsigned)take(&in, 1) % 6;
        unsigned sz = sizes[take(&in, 1) % 3];
        switch (op) {
        case 0:
        case 1: {
            /* Mostly the interesting registers, sometimes anywhere. */
            static const uint8_t regs[] = { 0x40, 0x41, 0x42, 0x43, 0x80, 0x58, 0x5b, 0x90, 0xd2, 0x04 };
            uint8_t r = (uint8_t)take(&in, 1);
            unsigned reg = r & 0x80 ? r : regs[r % sizeof(regs)];
            test_pio_write(vm, 0xcf8, 0x80000000u | 1u << 11 | 3u << 8 | (reg & 0xfc), 4);
            test_pio_write(vm, 0xcfc + (reg & 3), take(&in, 4), sz);
            break;
        }
        case 2:
            cfg_read(vm, (unsigned)take(&in, 1), sz);
            break;
        case 3:
            test_pio_write(vm, PC_ACPI_SMI_CMD + take(&in, 1) % 3, take(&in, 2), sz);
            break;
        case 4:
            test_pio_read(vm, PC_ACPI_SMI_CMD + take(&in, 1) % 3, sz);
            break;
        case 5:
            test_vm_platform_reset(vm);
            break;
        }
        uint32_t pmba = cfg_read(vm, PIIX4_PM_PMBA, 4);
        if ((pmba & ~PIIX4_PM_PMBA_MASK) != 1)
            g_error("PMBA's fixed bits changed: %#x", pmba);
        uint16_t want = cfg_read(vm, PIIX4_PM_PMREGMISC, 1) & PIIX4_PM_PMIOSE ? (uint16_t)pmba & 0xffc0 : 0;
        if (piix4_pm_base(pm) != want)
            g_error("function says base %#x, registers %#x", piix4_pm_base(pm), want);
        uint16_t at = acpi_pm_base(c.acpi);
        if (at && at != want)
            g_error("ACPI PM block at %#x, PMBA says %#x", at, want);
        /* Where it decodes, its PM1 control register answers (never all ones). */
        if (at && test_pio_read(vm, at + 4, 2) == 0xffff)
            g_error("ACPI PM block at %#x does not answer", at);
    }

    acpi_pm_free(c.acpi);
    pci_bus_free(bus);
    piix4_pm_free(pm);
    test_vm_free(vm);
    return 0;
}
