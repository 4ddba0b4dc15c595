/* The PIIX4 power-management function at 00:01.3 through the real
 * 0xCF8/0xCFC ports, wired to the ACPI PM block as the PC wires it:
 * identity, PMBA/PMREGMISC moving the block (SeaBIOS's 0x600, OVMF's
 * 0xB000), fixed bits, DEVACTB's APMC_EN preset without SMM, and reset. */
#include <glib.h>

#include "pci/pci.h"
#include "pci/piix4_pm.h"
#include "devices/acpi_pm.h"
#include "config/pc_layout.h"
#include "tests/support/test_vm.h"

struct fixture {
    struct vm *vm;
    struct pci_bus *bus;
    struct acpi_pm *acpi;
    struct piix4_pm *pm;
    unsigned moves;
};

static void set_base(void *opaque, uint16_t base)
{
    struct fixture *f = opaque;
    f->moves++;
    acpi_pm_set_base(f->acpi, base, base != 0);
}

static void setup_with(struct fixture *f, uint16_t reset_base)
{
    f->vm = test_vm_new(32 << 20);
    f->bus = pci_bus_create(f->vm);
    f->acpi = acpi_pm_create(f->vm);
    struct piix4_pm_config c = { .reset_base = reset_base, .set_base = set_base, .opaque = f };
    g_autoptr(GError) error = NULL;
    f->pm = piix4_pm_create(f->bus, &c, &error);
    g_assert_no_error(error);
}

/* As under firmware: the block is off until programmed. */
static void setup(struct fixture *f, gconstpointer data)
{
    setup_with(f, 0);
}

/* As for a directly booted kernel: already at 0x600. */
static void setup_direct(struct fixture *f, gconstpointer data)
{
    setup_with(f, PC_ACPI_PM_BASE);
}

static void teardown(struct fixture *f, gconstpointer data)
{
    acpi_pm_free(f->acpi);
    pci_bus_free(f->bus);
    piix4_pm_free(f->pm);
    test_vm_free(f->vm);
}

static uint32_t cfg_read(struct fixture *f, unsigned reg, unsigned size)
{
    test_pio_write(f->vm, 0xcf8, 0x80000000u | 1u << 11 | 3u << 8 | (reg & 0xfc), 4);
    return (uint32_t)test_pio_read(f->vm, 0xcfc + (reg & 3), size);
}

static void cfg_write(struct fixture *f, unsigned reg, uint32_t v, unsigned size)
{
    test_pio_write(f->vm, 0xcf8, 0x80000000u | 1u << 11 | 3u << 8 | (reg & 0xfc), 4);
    test_pio_write(f->vm, 0xcfc + (reg & 3), v, size);
}

static uint16_t pm1_cnt_at(struct fixture *f, uint16_t base)
{
    return (uint16_t)test_pio_read(f->vm, base + 4, 2);
}

static void test_identity(struct fixture *f, gconstpointer data)
{
    g_assert_cmphex(cfg_read(f, PCI_VENDOR_ID, 4), ==, 0x71138086);
    g_assert_cmphex(cfg_read(f, PCI_CLASS_DEVICE, 2), ==, 0x0680);
    g_assert_cmphex(cfg_read(f, PCI_REVISION_ID, 1), ==, 0x03);
    g_assert_cmphex(cfg_read(f, PCI_HEADER_TYPE, 1), ==, 0x00);
    /* PMBA and SMBBA say "I/O space"; nothing decodes yet. */
    g_assert_cmphex(cfg_read(f, PIIX4_PM_PMBA, 4), ==, 0x1);
    g_assert_cmphex(cfg_read(f, PIIX4_PM_SMBBA, 4), ==, 0x1);
    g_assert_cmphex(cfg_read(f, PIIX4_PM_PMREGMISC, 1), ==, 0);
    g_assert_cmphex(piix4_pm_base(f->pm), ==, 0);
    g_assert_cmphex(acpi_pm_base(f->acpi), ==, 0);
    g_assert_cmphex(pm1_cnt_at(f, PC_ACPI_PM_BASE), ==, 0xffff);
    /* No SMM: the software SMI counts as set up already. */
    g_assert_cmphex(cfg_read(f, PIIX4_PM_DEVACTB, 4) & PIIX4_PM_APMC_EN, ==, PIIX4_PM_APMC_EN);
}

/* What SeaBIOS does, then what OVMF does. */
static void test_program(struct fixture *f, gconstpointer data)
{
    cfg_write(f, PIIX4_PM_PMBA, PC_ACPI_PM_BASE | 1, 4);
    g_assert_cmphex(acpi_pm_base(f->acpi), ==, 0);      /* PMIOSE still clear */
    cfg_write(f, PIIX4_PM_PMREGMISC, PIIX4_PM_PMIOSE, 1);
    g_assert_cmphex(piix4_pm_base(f->pm), ==, PC_ACPI_PM_BASE);
    g_assert_cmphex(acpi_pm_base(f->acpi), ==, PC_ACPI_PM_BASE);
    g_assert_cmphex(pm1_cnt_at(f, PC_ACPI_PM_BASE), ==, 0);

    /* OVMF: AND-then-OR of the 32-bit register with its own base. */
    uint32_t v = cfg_read(f, PIIX4_PM_PMBA, 4);
    cfg_write(f, PIIX4_PM_PMBA, (v & ~PIIX4_PM_PMBA_MASK) | PC_ACPI_PM_BASE_OVMF, 4);
    g_assert_cmphex(cfg_read(f, PIIX4_PM_PMBA, 4), ==, PC_ACPI_PM_BASE_OVMF | 1);
    g_assert_cmphex(acpi_pm_base(f->acpi), ==, PC_ACPI_PM_BASE_OVMF);
    g_assert_cmphex(pm1_cnt_at(f, PC_ACPI_PM_BASE), ==, 0xffff);
    g_assert_cmphex(pm1_cnt_at(f, PC_ACPI_PM_BASE_OVMF), ==, 0);

    /* Low bits and bits 16-31 are fixed; the base is 64-byte aligned. */
    cfg_write(f, PIIX4_PM_PMBA, 0xffffffff, 4);
    g_assert_cmphex(cfg_read(f, PIIX4_PM_PMBA, 4), ==, 0xffc1);
    cfg_write(f, PIIX4_PM_PMBA, 0x1234, 2);
    g_assert_cmphex(cfg_read(f, PIIX4_PM_PMBA, 4), ==, 0x1201);
    g_assert_cmphex(acpi_pm_base(f->acpi), ==, 0x1200);
    /* Only PMIOSE of PMREGMISC is writable; clearing it stops decoding. */
    cfg_write(f, PIIX4_PM_PMREGMISC, 0xfe, 1);
    g_assert_cmphex(cfg_read(f, PIIX4_PM_PMREGMISC, 1), ==, 0);
    g_assert_cmphex(acpi_pm_base(f->acpi), ==, 0);
    g_assert_cmphex(pm1_cnt_at(f, 0x1200), ==, 0xffff);
    /* A write elsewhere does not bother the listener. */
    unsigned moves = f->moves;
    cfg_write(f, PIIX4_PM_SMBHSTCFG, 0x09, 1);
    cfg_write(f, PIIX4_PM_SMBBA, 0xb101, 4);
    g_assert_cmphex(cfg_read(f, PIIX4_PM_SMBHSTCFG, 1), ==, 0x09);
    g_assert_cmphex(cfg_read(f, PIIX4_PM_SMBBA, 4), ==, 0xb101);
    g_assert_cmpuint(f->moves, ==, moves);
}

static void test_reset(struct fixture *f, gconstpointer data)
{
    cfg_write(f, PIIX4_PM_PMBA, PC_ACPI_PM_BASE_OVMF, 4);
    cfg_write(f, PIIX4_PM_PMREGMISC, PIIX4_PM_PMIOSE, 1);
    cfg_write(f, PIIX4_PM_DEVACTB, 0, 4);
    g_assert_cmphex(acpi_pm_base(f->acpi), ==, PC_ACPI_PM_BASE_OVMF);
    test_vm_platform_reset(f->vm);
    g_assert_cmphex(cfg_read(f, PIIX4_PM_PMBA, 4), ==, 1);
    g_assert_cmphex(acpi_pm_base(f->acpi), ==, 0);
    g_assert_cmphex(cfg_read(f, PIIX4_PM_DEVACTB, 4), ==, PIIX4_PM_APMC_EN);
}

static void test_direct_boot(struct fixture *f, gconstpointer data)
{
    g_assert_cmphex(cfg_read(f, PIIX4_PM_PMBA, 4), ==, PC_ACPI_PM_BASE | 1);
    g_assert_cmphex(cfg_read(f, PIIX4_PM_PMREGMISC, 1), ==, PIIX4_PM_PMIOSE);
    g_assert_cmphex(acpi_pm_base(f->acpi), ==, PC_ACPI_PM_BASE);
    cfg_write(f, PIIX4_PM_PMREGMISC, 0, 1);
    g_assert_cmphex(acpi_pm_base(f->acpi), ==, 0);
    test_vm_platform_reset(f->vm);
    g_assert_cmphex(acpi_pm_base(f->acpi), ==, PC_ACPI_PM_BASE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(path, s, fn) g_test_add("/piix4-pm/" path, struct fixture, NULL, s, fn, teardown)
    ADD("identity", setup, test_identity);
    ADD("program", setup, test_program);
    ADD("reset", setup, test_reset);
    ADD("direct-boot", setup_direct, test_direct_boot);
    return g_test_run();
}
