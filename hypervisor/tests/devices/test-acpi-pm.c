/* The ACPI PM block through its ports, as an OS drives it: ACPI mode
 * handshake, power button and SCI, write-1-to-clear status, S5, the PM
 * timer, GPEs and platform reset. */
#include <time.h>
#include <glib.h>

#include "devices/acpi_pm.h"
#include "config/pc_layout.h"
#include "tests/support/test_vm.h"

#define MIB (1024ULL * 1024ULL)

struct fixture {
    struct vm *vm;
    struct acpi_pm *pm;
};

static void setup(struct fixture *f, gconstpointer data)
{
    f->vm = test_vm_new(32 * MIB);
    f->pm = acpi_pm_create(f->vm);
    g_assert_nonnull(f->pm);
}

static void teardown(struct fixture *f, gconstpointer data)
{
    acpi_pm_free(f->pm);
    test_vm_free(f->vm);
}

static uint16_t sts(struct fixture *f) { return (uint16_t)test_pio_read(f->vm, PC_ACPI_PM1_EVT, 2); }
static uint16_t cnt(struct fixture *f) { return (uint16_t)test_pio_read(f->vm, PC_ACPI_PM1_CNT, 2); }
static bool sci(struct fixture *f) { return test_vm_irq_level(f->vm, PC_ACPI_SCI_IRQ); }

static void enable_acpi(struct fixture *f)
{
    test_pio_write(f->vm, PC_ACPI_SMI_CMD, ACPI_PM_ACPI_ENABLE, 1);
    g_assert_cmphex(cnt(f) & ACPI_PM1_SCI_EN, ==, ACPI_PM1_SCI_EN);
}

static void test_power_button(struct fixture *f, gconstpointer data)
{
    /* Before the OS takes over: status is recorded, no SCI. */
    g_assert_cmphex(cnt(f) & ACPI_PM1_SCI_EN, ==, 0);
    acpi_pm_power_button(f->pm);
    g_assert_cmphex(sts(f) & ACPI_PM1_PWRBTN, ==, ACPI_PM1_PWRBTN);
    g_assert_false(sci(f));

    enable_acpi(f);
    g_assert_false(sci(f));   /* PWRBTN_EN still clear */

    /* Enabling the event with the status pending raises the SCI. */
    test_pio_write(f->vm, PC_ACPI_PM1_EVT + 2, ACPI_PM1_PWRBTN, 2);
    g_assert_cmphex(test_pio_read(f->vm, PC_ACPI_PM1_EVT + 2, 2), ==, ACPI_PM1_PWRBTN);
    g_assert_true(sci(f));
    g_assert_cmpuint(test_vm_irq_raises(f->vm, PC_ACPI_SCI_IRQ), ==, 1);

    /* Level-triggered: it stays up until the OS clears the status. */
    test_pio_write(f->vm, PC_ACPI_PM1_EVT, ACPI_PM1_PWRBTN, 2);
    g_assert_false(sci(f));
    g_assert_cmphex(sts(f) & ACPI_PM1_PWRBTN, ==, 0);

    /* The control socket's system_powerdown path. */
    vm_request_powerdown(f->vm);
    g_assert_true(sci(f));
    g_assert_cmpuint(test_vm_irq_raises(f->vm, PC_ACPI_SCI_IRQ), ==, 2);

    /* Leaving ACPI mode drops the SCI. */
    test_pio_write(f->vm, PC_ACPI_SMI_CMD, ACPI_PM_ACPI_DISABLE, 1);
    g_assert_cmphex(cnt(f) & ACPI_PM1_SCI_EN, ==, 0);
    g_assert_false(sci(f));
    g_assert_cmpint(test_vm_shutdown_reason(f->vm), ==, -1);
}

static void test_write_one_to_clear(struct fixture *f, gconstpointer data)
{
    acpi_pm_power_button(f->pm);
    test_pio_write(f->vm, PC_ACPI_PM1_EVT, 0, 2);
    g_assert_cmphex(sts(f) & ACPI_PM1_PWRBTN, ==, ACPI_PM1_PWRBTN);
    test_pio_write(f->vm, PC_ACPI_PM1_EVT, (uint16_t)~ACPI_PM1_PWRBTN, 2);
    g_assert_cmphex(sts(f) & ACPI_PM1_PWRBTN, ==, ACPI_PM1_PWRBTN);
    /* Byte access to the high half of the status register. */
    test_pio_write(f->vm, PC_ACPI_PM1_EVT + 1, ACPI_PM1_PWRBTN >> 8, 1);
    g_assert_cmphex(sts(f), ==, 0);

    /* A 32-bit write covers status and enable at once. */
    acpi_pm_power_button(f->pm);
    test_pio_write(f->vm, PC_ACPI_PM1_EVT, ((uint32_t)ACPI_PM1_PWRBTN << 16) | ACPI_PM1_PWRBTN, 4);
    g_assert_cmphex(test_pio_read(f->vm, PC_ACPI_PM1_EVT, 4), ==, (uint32_t)ACPI_PM1_PWRBTN << 16);
}

static void test_s5(struct fixture *f, gconstpointer data)
{
    enable_acpi(f);
    uint16_t typ = PC_ACPI_S5_SLP_TYP << ACPI_PM1_SLP_TYP_SHIFT;

    /* Linux writes SLP_TYP first, then SLP_TYP | SLP_EN. */
    test_pio_write(f->vm, PC_ACPI_PM1_CNT, ACPI_PM1_SCI_EN | typ, 2);
    g_assert_cmpuint(test_vm_shutdown_requests(f->vm), ==, 0);

    /* A sleep state the DSDT does not offer does not power off. */
    unsigned other = (PC_ACPI_S5_SLP_TYP + 1) & 7;
    test_pio_write(f->vm, PC_ACPI_PM1_CNT,
                ACPI_PM1_SCI_EN | (other << ACPI_PM1_SLP_TYP_SHIFT) | ACPI_PM1_SLP_EN, 2);
    g_assert_cmpuint(test_vm_shutdown_requests(f->vm), ==, 0);
    g_assert_cmphex(sts(f) & ACPI_PM1_WAK_STS, ==, ACPI_PM1_WAK_STS);
    g_assert_cmphex(cnt(f) & ACPI_PM1_SLP_EN, ==, 0);   /* write-only */

    test_pio_write(f->vm, PC_ACPI_PM1_CNT, ACPI_PM1_SCI_EN | typ | ACPI_PM1_SLP_EN, 2);
    g_assert_cmpuint(test_vm_shutdown_requests(f->vm), ==, 1);
    g_assert_cmpint(test_vm_shutdown_reason(f->vm), ==, VM_SHUTDOWN_GUEST_POWEROFF);
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void test_timer(struct fixture *f, gconstpointer data)
{
    int64_t t0 = mono_ns();
    uint32_t a = (uint32_t)test_pio_read(f->vm, PC_ACPI_PM_TMR, 4);
    int64_t t1 = mono_ns();
    /* Spin, not sleep: the test measures elapsed time, it waits for nothing. */
    while (mono_ns() - t1 < 20 * 1000000)
        ;
    int64_t t2 = mono_ns();
    uint32_t b = (uint32_t)test_pio_read(f->vm, PC_ACPI_PM_TMR, 4);
    int64_t t3 = mono_ns();

    uint32_t ticks = b - a;   /* 32-bit wrap-around is fine */
    double lo = (double)(t2 - t1) * ACPI_PM_TMR_FREQ / 1e9 - 2;
    double hi = (double)(t3 - t0) * ACPI_PM_TMR_FREQ / 1e9 + 2;
    g_assert_cmpfloat(ticks, >=, lo);
    g_assert_cmpfloat(ticks, <=, hi);
    g_assert_cmpuint(ticks, >, 60000);   /* 20 ms is ~71600 ticks */

    /* Writes do not disturb it. */
    test_pio_write(f->vm, PC_ACPI_PM_TMR, 0, 4);
    uint32_t c = (uint32_t)test_pio_read(f->vm, PC_ACPI_PM_TMR, 4);
    g_assert_cmpuint(c - b, <, 0x80000000u);
}

static void test_gpe(struct fixture *f, gconstpointer data)
{
    enable_acpi(f);
    acpi_pm_set_gpe(f->pm, 3);
    g_assert_cmphex(test_pio_read(f->vm, PC_ACPI_GPE0, 4), ==, 1u << 3);
    g_assert_false(sci(f));
    test_pio_write(f->vm, PC_ACPI_GPE0 + 4, 1u << 3, 1);
    g_assert_true(sci(f));
    test_pio_write(f->vm, PC_ACPI_GPE0, 1u << 3, 1);
    g_assert_false(sci(f));
    g_assert_cmphex(test_pio_read(f->vm, PC_ACPI_GPE0, 4), ==, 0);
    acpi_pm_set_gpe(f->pm, 99);   /* out of range: ignored */
    g_assert_cmphex(test_pio_read(f->vm, PC_ACPI_GPE0, 4), ==, 0);
}

static void test_reset(struct fixture *f, gconstpointer data)
{
    enable_acpi(f);
    test_pio_write(f->vm, PC_ACPI_PM1_EVT + 2, ACPI_PM1_PWRBTN, 2);
    acpi_pm_power_button(f->pm);
    test_pio_write(f->vm, PC_ACPI_SMI_CMD + 1, 0x5a, 1);
    g_assert_true(sci(f));
    g_assert_cmphex(test_pio_read(f->vm, PC_ACPI_SMI_CMD + 1, 1), ==, 0x5a);

    test_vm_platform_reset(f->vm);
    g_assert_false(sci(f));
    g_assert_cmphex(test_pio_read(f->vm, PC_ACPI_PM1_EVT, 4), ==, 0);
    g_assert_cmphex(cnt(f), ==, 0);
    g_assert_cmphex(test_pio_read(f->vm, PC_ACPI_SMI_CMD + 1, 1), ==, 0);
}

static void count_apm(void *opaque, uint8_t cmd)
{
    unsigned *seen = opaque;
    seen[0]++;
    seen[1] = cmd;
}

/* The chipset hears of every APM command; SMM code reads it back from
 * 0xB2 (status writes to 0xB3 are no command). */
static void test_apm_command(struct fixture *f, gconstpointer data)
{
    unsigned seen[2] = { 0, 0 };
    acpi_pm_set_apm_listener(f->pm, count_apm, seen);
    test_pio_write(f->vm, PC_ACPI_SMI_CMD, 0x42, 1);
    g_assert_cmpuint(seen[0], ==, 1);
    g_assert_cmpuint(seen[1], ==, 0x42);
    g_assert_cmphex(test_pio_read(f->vm, PC_ACPI_SMI_CMD, 1), ==, 0x42);
    test_pio_write(f->vm, PC_ACPI_SMI_CMD + 1, 0x17, 1);
    g_assert_cmpuint(seen[0], ==, 1);
    test_pio_write(f->vm, PC_ACPI_SMI_CMD, 0x1799, 2);
    g_assert_cmpuint(seen[0], ==, 2);
    g_assert_cmphex(test_pio_read(f->vm, PC_ACPI_SMI_CMD, 2), ==, 0x1799);
    /* ACPI enable still works as a command like any other. */
    test_pio_write(f->vm, PC_ACPI_SMI_CMD, ACPI_PM_ACPI_ENABLE, 1);
    g_assert_cmpuint(seen[1], ==, ACPI_PM_ACPI_ENABLE);
    g_assert_cmphex(cnt(f) & ACPI_PM1_SCI_EN, ==, ACPI_PM1_SCI_EN);
    test_vm_platform_reset(f->vm);
    g_assert_cmphex(test_pio_read(f->vm, PC_ACPI_SMI_CMD, 1), ==, 0);
    acpi_pm_set_apm_listener(f->pm, NULL, NULL);
}

static void test_ports_taken(struct fixture *f, gconstpointer data)
{
    g_assert_null(acpi_pm_create(f->vm));
    /* The first instance still owns and serves its ports. */
    g_assert_cmpstr(iobus_owner(vm_pio_bus(f->vm), PC_ACPI_PM1_CNT), ==, "acpi-pm");
    enable_acpi(f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct fixture, NULL, setup, fn, teardown)
    ADD("/acpi-pm/power-button", test_power_button);
    ADD("/acpi-pm/write-one-to-clear", test_write_one_to_clear);
    ADD("/acpi-pm/s5", test_s5);
    ADD("/acpi-pm/timer", test_timer);
    ADD("/acpi-pm/gpe", test_gpe);
    ADD("/acpi-pm/reset", test_reset);
    ADD("/acpi-pm/ports-taken", test_ports_taken);
    ADD("/acpi-pm/apm-command", test_apm_command);
    return g_test_run();
}
