/* libFuzzer target: random port accesses to the ACPI PM block and SMI_CMD,
 * power-button presses, GPEs and resets.  After every step the SCI line
 * must equal what the registers say it should be. */
#include <glib.h>

#include "devices/acpi_pm.h"
#include "config/pc_layout.h"
#include "tests/support/test_vm.h"

#define PM1_EVENTS (ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN | ACPI_PM1_RTC)

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

static void check_sci(struct vm *vm)
{
    uint32_t evt = (uint32_t)test_pio_read(vm, PC_ACPI_PM1_EVT, 4);
    uint16_t sts = (uint16_t)evt, en = (uint16_t)(evt >> 16);
    uint16_t cnt = (uint16_t)test_pio_read(vm, PC_ACPI_PM1_CNT, 2);
    uint32_t gsts = (uint32_t)test_pio_read(vm, PC_ACPI_GPE0, 4);
    uint32_t gen = (uint32_t)test_pio_read(vm, PC_ACPI_GPE0 + 4, 4);
    bool want = (cnt & ACPI_PM1_SCI_EN) && ((sts & en & PM1_EVENTS) || (gsts & gen));
    if (want != test_vm_irq_level(vm, PC_ACPI_SCI_IRQ))
        g_error("SCI is %d, registers say %d (sts %#x en %#x cnt %#x gpe %#x/%#x)",
                test_vm_irq_level(vm, PC_ACPI_SCI_IRQ), want, sts, en, cnt, gsts, gen);
    if (cnt & ACPI_PM1_SLP_EN)
        g_error("SLP_EN reads back as set");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned sizes[] = { 1, 2, 4, 8 };
    struct vm *vm = test_vm_new(16ULL * 1024 * 1024);
    struct acpi_pm *pm = acpi_pm_create(vm);
    struct input in = { data, size };

    while (in.n) {
        unsigned op = (unsigned)take(&in, 1) % 7;
        uint16_t port = take(&in, 1) & 1 ? (uint16_t)(PC_ACPI_SMI_CMD + take(&in, 1) % 3)
                                         : (uint16_t)(PC_ACPI_PM_BASE + take(&in, 1) % (PC_ACPI_PM_LEN + 4));
        unsigned sz = sizes[take(&in, 1) % 4];
        switch (op) {
        case 0:
        case 1:
            test_pio_write(vm, port, take(&in, 8), sz);
            break;
        case 2:
            test_pio_read(vm, port, sz);
            break;
        case 3:
            acpi_pm_power_button(pm);
            break;
        case 4:
            acpi_pm_set_gpe(pm, (unsigned)take(&in, 1) % 40);
            break;
        case 5:
            test_vm_platform_reset(vm);
            break;
        case 6:
            test_pio_write(vm, PC_ACPI_SMI_CMD, take(&in, 1) & 1 ? ACPI_PM_ACPI_ENABLE : ACPI_PM_ACPI_DISABLE, 1);
            break;
        }
        check_sci(vm);
    }

    acpi_pm_free(pm);
    test_vm_free(vm);
    return 0;
}
