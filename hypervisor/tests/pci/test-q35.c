/* The Q35 chipset functions through the guest's ports and MMIO: IDs, the
 * PCIEXBAR-controlled ECAM window reaching the same registers as
 * CF8/CFC, PAM, SMRAM/ESMRAMC with D_LCK, the extended TSEG query, TOLUD,
 * PMBASE/ACPI_EN moving the ICH9 PM block, SMI_EN/SMI_STS and SMI_CMD,
 * and the reset control register at 0xCF9. */
#include <glib.h>
#include <string.h>
#include <glib/gstdio.h>

#include "pci/pci.h"
#include "pci/q35_host.h"
#include "devices/acpi_pm.h"
#include "config/pc_layout.h"
#include "core/vm_state.h"
#include "tests/support/test_vm.h"

#define MIB (1024ULL * 1024ULL)
#define LPC Q35_LPC_SLOT

struct fixture {
    struct vm *vm;
    struct pci_bus *bus;
    struct q35_host *host;
    struct acpi_pm *pm;
    uint8_t pam[7];
    unsigned pam_calls;
    unsigned smram_calls;
};

static void smram_changed(void *opaque)
{
    struct fixture *f = opaque;
    f->smram_calls++;
}

static void pam_changed(void *opaque, const uint8_t *pam)
{
    struct fixture *f = opaque;
    memcpy(f->pam, pam, sizeof(f->pam));
    f->pam_calls++;
}

static void pm_base_changed(void *opaque, uint16_t base, bool enabled)
{
    struct fixture *f = opaque;
    if (f->pm)
        acpi_pm_set_base(f->pm, base, enabled);
}

static void smi_lock_changed(void *opaque, bool locked)
{
    struct fixture *f = opaque;
    if (f->pm)
        acpi_pm_set_smi_lock(f->pm, locked);
}

static const struct q35_host_ops ops = { .pam_changed = pam_changed,
                                         .pm_base_changed = pm_base_changed,
                                         .smram_changed = smram_changed,
                                         .smi_lock_changed = smi_lock_changed };

static void fixture_setup(struct fixture *f, gconstpointer data)
{
    f->vm = test_vm_new(64 * MIB);
    f->bus = pci_bus_new(f->vm);
    g_autoptr(GError) err = NULL;
    f->host = q35_host_create(f->bus, f->vm, 64 * MIB, 0, &ops, f, &err);
    g_assert_no_error(err);
    const struct acpi_pm_config ich9 = { .len = PC_Q35_PM_LEN, .acpi_enable = PC_Q35_ACPI_ENABLE,
                                         .acpi_disable = PC_Q35_ACPI_DISABLE, .ich9 = true };
    f->pm = acpi_pm_create_with(f->vm, &ich9);
    g_assert_nonnull(f->pm);
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
    acpi_pm_free(f->pm);
    q35_host_free(f->host);
    pci_bus_free(f->bus);
    test_vm_free(f->vm);
}

static uint32_t cfg_read(struct fixture *f, unsigned slot, unsigned func, unsigned reg,
                         unsigned size)
{
    test_pio_write(f->vm, 0xcf8, 0x80000000u | slot << 11 | func << 8 | (reg & 0xfc), 4);
    return (uint32_t)test_pio_read(f->vm, 0xcfc + (reg & 3), size);
}

static void cfg_write(struct fixture *f, unsigned slot, unsigned func, unsigned reg, uint32_t v,
                      unsigned size)
{
    test_pio_write(f->vm, 0xcf8, 0x80000000u | slot << 11 | func << 8 | (reg & 0xfc), 4);
    test_pio_write(f->vm, 0xcfc + (reg & 3), v, size);
}

static uint64_t ecam_addr(uint64_t base, unsigned bus, unsigned slot, unsigned func, unsigned reg)
{
    return base + ((uint64_t)bus << 20 | slot << 15 | func << 12 | reg);
}

static void test_ids(struct fixture *f, gconstpointer data)
{
    g_assert_cmphex(cfg_read(f, 0, 0, 0, 4), ==, 0x29c08086);
    g_assert_cmphex(cfg_read(f, LPC, 0, 0, 4), ==, 0x29188086);
    g_assert_cmphex(cfg_read(f, 0, 0, PCI_CLASS_DEVICE, 2), ==, 0x0600);
    g_assert_cmphex(cfg_read(f, LPC, 0, PCI_CLASS_DEVICE, 2), ==, 0x0601);
    g_assert_cmphex(cfg_read(f, LPC, 0, PCI_HEADER_TYPE, 1), ==, 0x80);
    g_assert_cmphex(cfg_read(f, 1, 0, 0, 4), ==, 0xffffffff);
    /* RAM below 4 GiB in TOLUD (1 MiB units at bit 4), read-only. */
    g_assert_cmphex(cfg_read(f, 0, 0, Q35_MCH_TOLUD, 2), ==, 64 << 4);
    cfg_write(f, 0, 0, Q35_MCH_TOLUD, 0xffff, 2);
    g_assert_cmphex(cfg_read(f, 0, 0, Q35_MCH_TOLUD, 2), ==, 64 << 4);
}

static void test_ecam(struct fixture *f, gconstpointer data)
{
    uint64_t base = PC_Q35_ECAM_BASE, b, s;
    /* Off after reset: nothing decodes there. */
    g_assert_false(q35_host_ecam(f->host, &b, &s));
    g_assert_cmphex(test_mmio_read(f->vm, base, 4), ==, 0xffffffff);

    cfg_write(f, 0, 0, Q35_MCH_PCIEXBAR, (uint32_t)base | Q35_MCH_PCIEXBAR_EN, 4);
    g_assert_true(q35_host_ecam(f->host, &b, &s));
    g_assert_cmphex(b, ==, base);
    g_assert_cmphex(s, ==, 256 * MIB);
    /* The same registers as CF8/CFC, both ways. */
    g_assert_cmphex(test_mmio_read(f->vm, ecam_addr(base, 0, 0, 0, 0), 4), ==, 0x29c08086);
    g_assert_cmphex(test_mmio_read(f->vm, ecam_addr(base, 0, LPC, 0, 2), 2), ==, 0x2918);
    g_assert_cmphex(test_mmio_read(f->vm, ecam_addr(base, 0, 0, 0, Q35_MCH_PCIEXBAR), 4), ==,
                    (uint32_t)base | Q35_MCH_PCIEXBAR_EN);
    test_mmio_write(f->vm, ecam_addr(base, 0, LPC, 0, Q35_LPC_PIRQA_ROUT), 0x0b, 1);
    g_assert_cmphex(cfg_read(f, LPC, 0, Q35_LPC_PIRQA_ROUT, 1), ==, 0x0b);
    g_assert_cmphex(test_mmio_read(f->vm, ecam_addr(base, 0, 0, 0, 8), 8), ==,
                    (uint64_t)cfg_read(f, 0, 0, 0xc, 4) << 32 | cfg_read(f, 0, 0, 8, 4));
    /* Extended space: 0 for a function, all ones for none; other buses
     * have no functions; writes there change nothing. */
    g_assert_cmphex(test_mmio_read(f->vm, ecam_addr(base, 0, 0, 0, 0x100), 4), ==, 0);
    g_assert_cmphex(test_mmio_read(f->vm, ecam_addr(base, 0, 5, 0, 0x100), 4), ==, 0xffffffff);
    g_assert_cmphex(test_mmio_read(f->vm, ecam_addr(base, 1, 0, 0, 0), 4), ==, 0xffffffff);
    test_mmio_write(f->vm, ecam_addr(base, 0, 0, 0, 0x104), 0x12345678, 4);
    test_mmio_write(f->vm, ecam_addr(base, 3, 0, 0, Q35_MCH_PAM0), 0x30, 1);
    g_assert_cmphex(cfg_read(f, 0, 0, Q35_MCH_PAM0, 1), ==, 0);

    /* 64 MiB length: base bits below 64 MiB are ignored. */
    cfg_write(f, 0, 0, Q35_MCH_PCIEXBAR, 0xe4000000u | 2u << 1 | Q35_MCH_PCIEXBAR_EN, 4);
    g_assert_true(q35_host_ecam(f->host, &b, &s));
    g_assert_cmphex(b, ==, 0xe4000000u);
    g_assert_cmphex(s, ==, 64 * MIB);
    g_assert_cmphex(test_mmio_read(f->vm, base, 4), ==, 0xffffffff);
    g_assert_cmphex(test_mmio_read(f->vm, 0xe4000000u, 4), ==, 0x29c08086);
    g_assert_cmphex(test_mmio_read(f->vm, 0xe4000000u + 64 * MIB, 4), ==, 0xffffffff);

    /* The reserved length does not decode; disabling removes the window. */
    cfg_write(f, 0, 0, Q35_MCH_PCIEXBAR, 0xe0000000u | 3u << 1 | Q35_MCH_PCIEXBAR_EN, 4);
    g_assert_false(q35_host_ecam(f->host, &b, &s));
    cfg_write(f, 0, 0, Q35_MCH_PCIEXBAR, (uint32_t)base | Q35_MCH_PCIEXBAR_EN, 4);
    cfg_write(f, 0, 0, Q35_MCH_PCIEXBAR, (uint32_t)base, 4);
    g_assert_false(q35_host_ecam(f->host, &b, &s));
    g_assert_cmphex(test_mmio_read(f->vm, base, 4), ==, 0xffffffff);

    /* A reset turns it off. */
    cfg_write(f, 0, 0, Q35_MCH_PCIEXBAR, (uint32_t)base | Q35_MCH_PCIEXBAR_EN, 4);
    test_vm_platform_reset(f->vm);
    g_assert_false(q35_host_ecam(f->host, &b, &s));
    g_assert_cmphex(cfg_read(f, 0, 0, Q35_MCH_PCIEXBAR, 4), ==, 0);
}

static void test_pam(struct fixture *f, gconstpointer data)
{
    unsigned calls = f->pam_calls;
    cfg_write(f, 0, 0, Q35_MCH_PAM0, 0xff, 1);
    g_assert_cmpuint(f->pam_calls, >, calls);
    g_assert_cmphex(f->pam[0], ==, 0x30);       /* PAM0's low half is reserved */
    cfg_write(f, 0, 0, Q35_MCH_PAM0 + 4, 0x33221133, 4);
    g_assert_cmphex(f->pam[4], ==, 0x33);
    g_assert_cmphex(f->pam[5], ==, 0x11);
    g_assert_cmphex(f->pam[6], ==, 0x22);
    g_assert_cmphex(cfg_read(f, 0, 0, Q35_MCH_PAM6 + 1, 1), ==, 0);  /* not PAM */
    test_vm_platform_reset(f->vm);
    for (unsigned i = 0; i < 7; i++)
        g_assert_cmphex(f->pam[i], ==, 0);
}

static void test_smram_lock(struct fixture *f, gconstpointer data)
{
    struct q35_smram s;
    g_assert_cmphex(cfg_read(f, 0, 0, Q35_MCH_SMRAM, 1), ==, Q35_SMRAM_DEFAULT);
    g_assert_cmphex(cfg_read(f, 0, 0, Q35_MCH_ESMRAMC, 1), ==, Q35_ESMRAMC_DEFAULT);
    /* The base segment bits are fixed. */
    cfg_write(f, 0, 0, Q35_MCH_SMRAM, Q35_SMRAM_G_SMRAME | Q35_SMRAM_D_OPEN | 0x5, 1);
    g_assert_cmphex(cfg_read(f, 0, 0, Q35_MCH_SMRAM, 1), ==,
                    Q35_SMRAM_G_SMRAME | Q35_SMRAM_D_OPEN | Q35_SMRAM_DEFAULT);
    unsigned calls = f->smram_calls;
    cfg_write(f, 0, 0, Q35_MCH_ESMRAMC, Q35_ESMRAMC_T_EN | 2u << 1, 1);
    g_assert_cmpuint(f->smram_calls, ==, calls + 1);
    q35_host_smram(f->host, &s);
    g_assert_true(s.smram_enabled && s.open && s.tseg_enabled && !s.locked);
    g_assert_cmpuint(s.tseg_size, ==, 8 * MIB);

    /* The extended TSEG query: reads back as the size in MiB, and the
     * size applies with TSEG_SZ = 11b. */
    g_assert_cmphex(cfg_read(f, 0, 0, Q35_MCH_EXT_TSEG_MB, 2), ==, 0);
    cfg_write(f, 0, 0, Q35_MCH_EXT_TSEG_MB, Q35_MCH_EXT_TSEG_QUERY, 2);
    g_assert_cmphex(cfg_read(f, 0, 0, Q35_MCH_EXT_TSEG_MB, 2), ==, Q35_MCH_EXT_TSEG_MBYTES);
    cfg_write(f, 0, 0, Q35_MCH_ESMRAMC, Q35_ESMRAMC_T_EN | 3u << 1, 1);
    q35_host_smram(f->host, &s);
    g_assert_cmpuint(s.tseg_size, ==, Q35_MCH_EXT_TSEG_MBYTES * MIB);

    /* D_LCK: D_OPEN drops and stays off; G_SMRAME and ESMRAMC freeze;
     * D_CLS stays writable. */
    cfg_write(f, 0, 0, Q35_MCH_SMRAM, Q35_SMRAM_G_SMRAME | Q35_SMRAM_D_OPEN | Q35_SMRAM_D_LCK, 1);
    q35_host_smram(f->host, &s);
    g_assert_true(s.locked && !s.open && s.smram_enabled);
    cfg_write(f, 0, 0, Q35_MCH_SMRAM, Q35_SMRAM_D_OPEN, 1);
    g_assert_cmphex(cfg_read(f, 0, 0, Q35_MCH_SMRAM, 1), ==,
                    Q35_SMRAM_G_SMRAME | Q35_SMRAM_D_LCK | Q35_SMRAM_DEFAULT);
    cfg_write(f, 0, 0, Q35_MCH_SMRAM, Q35_SMRAM_D_CLS | Q35_SMRAM_G_SMRAME | Q35_SMRAM_D_LCK, 1);
    q35_host_smram(f->host, &s);
    g_assert_true(s.closed);
    cfg_write(f, 0, 0, Q35_MCH_ESMRAMC, 0, 1);
    q35_host_smram(f->host, &s);
    g_assert_true(s.tseg_enabled);
    g_assert_cmpuint(s.tseg_size, ==, Q35_MCH_EXT_TSEG_MBYTES * MIB);

    /* Only a platform reset unlocks. */
    calls = f->smram_calls;
    test_vm_platform_reset(f->vm);
    g_assert_cmpuint(f->smram_calls, >, calls);
    q35_host_smram(f->host, &s);
    g_assert_false(s.locked || s.open || s.smram_enabled || s.tseg_enabled);
    cfg_write(f, 0, 0, Q35_MCH_SMRAM, Q35_SMRAM_D_OPEN, 1);
    q35_host_smram(f->host, &s);
    g_assert_true(s.open);
}

/* TSEGMB: storage for the base OVMF computes and reads back (its SMRAM
 * descriptors come from it), frozen by D_LCK, zero after reset. */
static void test_tsegmb(struct fixture *f, gconstpointer data)
{
    g_assert_cmphex(cfg_read(f, 0, 0, Q35_MCH_TSEGMB, 4), ==, 0);
    cfg_write(f, 0, 0, Q35_MCH_TSEGMB, 0x1f000000u | 0xfffff, 4);
    g_assert_cmphex(cfg_read(f, 0, 0, Q35_MCH_TSEGMB, 4), ==, 0x1f000001u);
    cfg_write(f, 0, 0, Q35_MCH_SMRAM, Q35_SMRAM_G_SMRAME | Q35_SMRAM_D_LCK, 1);
    cfg_write(f, 0, 0, Q35_MCH_TSEGMB, 0x00100000u, 4);
    g_assert_cmphex(cfg_read(f, 0, 0, Q35_MCH_TSEGMB, 4), ==, 0x1f000001u);
    test_vm_platform_reset(f->vm);
    g_assert_cmphex(cfg_read(f, 0, 0, Q35_MCH_TSEGMB, 4), ==, 0);
    cfg_write(f, 0, 0, Q35_MCH_TSEGMB, 0x1e000000u, 4);
    g_assert_cmphex(cfg_read(f, 0, 0, Q35_MCH_TSEGMB, 4), ==, 0x1e000000u);
}

static void test_pmbase(struct fixture *f, gconstpointer data)
{
    /* Nowhere until PMBASE and ACPI_EN say so. */
    g_assert_cmpuint(acpi_pm_base(f->pm), ==, 0);
    g_assert_cmphex(test_pio_read(f->vm, 0x604, 2), ==, 0xffff);
    cfg_write(f, LPC, 0, Q35_LPC_PMBASE, 0x601, 4);
    g_assert_cmpuint(acpi_pm_base(f->pm), ==, 0);
    g_assert_cmphex(cfg_read(f, LPC, 0, Q35_LPC_PMBASE, 4), ==, 0x601);
    cfg_write(f, LPC, 0, Q35_LPC_ACPI_CNTL, Q35_LPC_ACPI_EN, 1);
    g_assert_cmpuint(acpi_pm_base(f->pm), ==, 0x600);
    g_assert_cmphex(test_pio_read(f->vm, 0x604, 2), ==, 0);

    /* SMI_EN says "no SMM setup to do"; SMI_CMD 0x02/0x03 switch SCI_EN,
     * and set APM_STS (write one to clear). */
    g_assert_cmphex(test_pio_read(f->vm, 0x600 + ACPI_PM_SMI_EN, 4), ==, ACPI_PM_APMC_EN);
    test_pio_write(f->vm, PC_ACPI_SMI_CMD, PC_Q35_ACPI_ENABLE, 1);
    g_assert_cmphex(test_pio_read(f->vm, 0x604, 2) & ACPI_PM1_SCI_EN, ==, ACPI_PM1_SCI_EN);
    g_assert_cmphex(test_pio_read(f->vm, 0x600 + ACPI_PM_SMI_STS, 4), ==, ACPI_PM_APM_STS);
    test_pio_write(f->vm, 0x600 + ACPI_PM_SMI_STS, ACPI_PM_APM_STS, 4);
    g_assert_cmphex(test_pio_read(f->vm, 0x600 + ACPI_PM_SMI_STS, 4), ==, 0);
    test_pio_write(f->vm, PC_ACPI_SMI_CMD, PC_Q35_ACPI_DISABLE, 1);
    g_assert_cmphex(test_pio_read(f->vm, 0x604, 2) & ACPI_PM1_SCI_EN, ==, 0);

    /* Relocation: the old ports go, the registers come along. */
    test_pio_write(f->vm, 0x604, 5u << ACPI_PM1_SLP_TYP_SHIFT, 2);
    cfg_write(f, LPC, 0, Q35_LPC_PMBASE, 0xb0ff, 2);   /* low bits are fixed */
    g_assert_cmphex(cfg_read(f, LPC, 0, Q35_LPC_PMBASE, 4), ==, 0xb081);
    g_assert_cmpuint(acpi_pm_base(f->pm), ==, 0xb080);
    g_assert_cmphex(test_pio_read(f->vm, 0x604, 2), ==, 0xffff);
    g_assert_cmphex(test_pio_read(f->vm, 0xb084, 2), ==, 5u << ACPI_PM1_SLP_TYP_SHIFT);

    /* A base whose ports are taken (the PCI config ports) leaves the
     * block off rather than overlapping. */
    cfg_write(f, LPC, 0, Q35_LPC_PMBASE, 0xc80, 4);
    g_assert_cmpuint(acpi_pm_base(f->pm), ==, 0);
    g_assert_cmphex(cfg_read(f, 0, 0, 0, 4), ==, 0x29c08086);

    cfg_write(f, LPC, 0, Q35_LPC_PMBASE, 0x600, 4);
    cfg_write(f, LPC, 0, Q35_LPC_ACPI_CNTL, 0, 1);
    g_assert_cmpuint(acpi_pm_base(f->pm), ==, 0);

    /* S5 at the relocated block powers off. */
    cfg_write(f, LPC, 0, Q35_LPC_ACPI_CNTL, Q35_LPC_ACPI_EN, 1);
    test_pio_write(f->vm, 0x604, ACPI_PM1_SLP_EN | PC_ACPI_S5_SLP_TYP << ACPI_PM1_SLP_TYP_SHIFT, 2);
    g_assert_cmpuint(test_vm_shutdown_requests(f->vm), ==, 1);

    /* Reset: off again. */
    test_vm_platform_reset(f->vm);
    g_assert_cmpuint(acpi_pm_base(f->pm), ==, 0);
    g_assert_cmphex(cfg_read(f, LPC, 0, Q35_LPC_PMBASE, 4), ==, 1);
}

static unsigned smis;
static void count_smi(void *opaque) { smis++; }

static void test_smi_hook(struct fixture *f, gconstpointer data)
{
    acpi_pm_set_smi_handler(f->pm, count_smi, NULL);
    test_vm_platform_reset(f->vm);
    q35_host_firmware_setup(f->host);
    /* With SMM there, APMC_EN starts clear: no SMI. */
    g_assert_cmphex(test_pio_read(f->vm, 0x600 + ACPI_PM_SMI_EN, 4), ==, 0);
    smis = 0;
    test_pio_write(f->vm, PC_ACPI_SMI_CMD, 0x42, 1);
    g_assert_cmpuint(smis, ==, 0);
    test_pio_write(f->vm, 0x600 + ACPI_PM_SMI_EN, ACPI_PM_APMC_EN, 4);
    test_pio_write(f->vm, PC_ACPI_SMI_CMD, 0x42, 1);
    g_assert_cmpuint(smis, ==, 0);   /* GBL_SMI_EN off */
    test_pio_write(f->vm, 0x600 + ACPI_PM_SMI_EN, ACPI_PM_APMC_EN | ACPI_PM_GBL_SMI_EN, 4);
    test_pio_write(f->vm, PC_ACPI_SMI_CMD, 0x42, 1);
    g_assert_cmpuint(smis, ==, 1);
    g_assert_cmphex(test_pio_read(f->vm, PC_ACPI_SMI_CMD + 1, 1), ==, 0);
}

static void test_firmware_setup(struct fixture *f, gconstpointer data)
{
    q35_host_firmware_setup(f->host);
    uint64_t b, s;
    g_assert_true(q35_host_ecam(f->host, &b, &s));
    g_assert_cmphex(b, ==, PC_Q35_ECAM_BASE);
    g_assert_cmpuint(acpi_pm_base(f->pm), ==, PC_ACPI_PM_BASE);
    for (unsigned i = 0; i < 4; i++) {
        g_assert_cmphex(cfg_read(f, LPC, 0, Q35_LPC_PIRQA_ROUT + i, 1) & Q35_LPC_PIRQ_DISABLE, ==, 0);
        g_assert_cmphex(cfg_read(f, LPC, 0, Q35_LPC_PIRQE_ROUT + i, 1) & Q35_LPC_PIRQ_DISABLE, ==, 0);
    }
}

static void test_reset_control(struct fixture *f, gconstpointer data)
{
    /* Only a byte access at 0xCF9 is the register. */
    test_pio_write(f->vm, 0xcf9, 0x02, 1);
    g_assert_cmphex(test_pio_read(f->vm, 0xcf9, 1), ==, 0x02);
    g_assert_cmpuint(test_vm_reset_requests(f->vm), ==, 0);
    test_pio_write(f->vm, 0xcf9, 0x06, 1);
    g_assert_cmpuint(test_vm_reset_requests(f->vm), ==, 1);
    g_assert_cmphex(test_pio_read(f->vm, 0xcf9, 1) & 0x04, ==, 0);
    /* A dword at 0xCF8 is the config address, not a reset. */
    test_pio_write(f->vm, 0xcf8, 0x80000004, 4);
    g_assert_cmpuint(test_vm_reset_requests(f->vm), ==, 1);
}

static void test_rcba_pirq_masks(struct fixture *f, gconstpointer data)
{
    cfg_write(f, LPC, 0, Q35_LPC_RCBA, 0xffffffff, 4);
    g_assert_cmphex(cfg_read(f, LPC, 0, Q35_LPC_RCBA, 4), ==, 0xffffc001);
    /* The block decodes where RCBA says while enabled. */
    g_assert_cmphex(test_mmio_read(f->vm, 0xfed1c000 + 0x3404, 4), ==, 0xffffffff);
    cfg_write(f, LPC, 0, Q35_LPC_RCBA, 0xfed1c000 | Q35_LPC_RCBA_EN, 4);
    g_assert_cmphex(test_mmio_read(f->vm, 0xfed1c000 + 0x3404, 4), ==, 0);
    test_mmio_write(f->vm, 0xfed1c000 + 0x3404, 0x80, 4);
    g_assert_cmphex(test_mmio_read(f->vm, 0xfed1c000 + 0x3404, 4), ==, 0);
    cfg_write(f, LPC, 0, Q35_LPC_RCBA, 0xfed1c000, 4);
    g_assert_cmphex(test_mmio_read(f->vm, 0xfed1c000 + 0x3404, 4), ==, 0xffffffff);
    cfg_write(f, LPC, 0, Q35_LPC_RCBA, 0xfed1c000 | Q35_LPC_RCBA_EN, 4);
    test_vm_platform_reset(f->vm);
    g_assert_cmphex(test_mmio_read(f->vm, 0xfed1c000, 4), ==, 0xffffffff);
    cfg_write(f, LPC, 0, Q35_LPC_PIRQE_ROUT + 3, 0xff, 1);
    g_assert_cmphex(cfg_read(f, LPC, 0, Q35_LPC_PIRQE_ROUT + 3, 1), ==, 0x8f);
    g_assert_cmphex(cfg_read(f, LPC, 0, Q35_LPC_PIRQA_ROUT, 4), ==, 0x80808080);
}

/* Everything firmware and the OS programmed comes back in another VM:
 * the window decodes, the PM block is where PMBASE says, SMRAM stays
 * locked, PAM reaches the listener, SMI_EN and 0xCF9 as they were. */
/* GEN_PMCON_1's SMI_LOCK, as OVMF's SMM setup checks it: once set it
 * stays, and GBL_SMI_EN can no longer be cleared, until reset. */
static void test_smi_lock(struct fixture *f, gconstpointer data)
{
    acpi_pm_set_smi_handler(f->pm, count_smi, NULL);
    test_vm_platform_reset(f->vm);
    q35_host_firmware_setup(f->host);
    const unsigned smi_en = 0x600 + ACPI_PM_SMI_EN;
    test_pio_write(f->vm, smi_en, ACPI_PM_APMC_EN | ACPI_PM_GBL_SMI_EN, 4);
    /* Unlocked: GBL_SMI_EN goes off and on again. */
    test_pio_write(f->vm, smi_en, ACPI_PM_APMC_EN, 4);
    g_assert_cmphex(test_pio_read(f->vm, smi_en, 4), ==, ACPI_PM_APMC_EN);
    test_pio_write(f->vm, smi_en, ACPI_PM_APMC_EN | ACPI_PM_GBL_SMI_EN, 4);
    cfg_write(f, LPC, 0, Q35_LPC_GEN_PMCON_1, Q35_LPC_SMI_LOCK | 0x01, 1);
    g_assert_cmphex(cfg_read(f, LPC, 0, Q35_LPC_GEN_PMCON_1, 1), ==, Q35_LPC_SMI_LOCK | 0x01);
    /* Locked: clearing GBL_SMI_EN fails, its neighbours still change;
     * SMI_LOCK itself cannot be cleared. */
    test_pio_write(f->vm, smi_en, 0, 4);
    g_assert_cmphex(test_pio_read(f->vm, smi_en, 4), ==, ACPI_PM_GBL_SMI_EN);
    test_pio_write(f->vm, smi_en + 0, ACPI_PM_APMC_EN, 1);
    g_assert_cmphex(test_pio_read(f->vm, smi_en, 4), ==, ACPI_PM_APMC_EN | ACPI_PM_GBL_SMI_EN);
    cfg_write(f, LPC, 0, Q35_LPC_GEN_PMCON_1, 0, 1);
    g_assert_cmphex(cfg_read(f, LPC, 0, Q35_LPC_GEN_PMCON_1, 1), ==, Q35_LPC_SMI_LOCK);
    /* Reset unlocks. */
    test_vm_platform_reset(f->vm);
    q35_host_firmware_setup(f->host);
    g_assert_cmphex(cfg_read(f, LPC, 0, Q35_LPC_GEN_PMCON_1, 1), ==, 0);
    test_pio_write(f->vm, smi_en, ACPI_PM_GBL_SMI_EN, 4);
    test_pio_write(f->vm, smi_en, 0, 4);
    g_assert_cmphex(test_pio_read(f->vm, smi_en, 4), ==, 0);
}

static void test_state_round_trip(void)
{
    struct fixture a = { 0 }, b = { 0 };
    fixture_setup(&a, NULL);
    fixture_setup(&b, NULL);
    vm_state_register(a.vm, "acpi-pm", &acpi_pm_ich9_state_ops, a.pm);
    vm_state_register(b.vm, "acpi-pm", &acpi_pm_ich9_state_ops, b.pm);

    cfg_write(&a, 0, 0, Q35_MCH_PCIEXBAR, 0xe0000000u | Q35_MCH_PCIEXBAR_EN, 4);
    cfg_write(&a, 0, 0, Q35_MCH_PAM0 + 1, 0x33, 1);
    cfg_write(&a, 0, 0, Q35_MCH_SMRAM, Q35_SMRAM_G_SMRAME | Q35_SMRAM_D_LCK, 1);
    cfg_write(&a, LPC, 0, Q35_LPC_PMBASE, 0xb000, 4);
    cfg_write(&a, LPC, 0, Q35_LPC_ACPI_CNTL, Q35_LPC_ACPI_EN, 1);
    test_pio_write(a.vm, 0xb000 + ACPI_PM_SMI_EN, ACPI_PM_GBL_SMI_EN | ACPI_PM_APMC_EN, 4);
    cfg_write(&a, LPC, 0, Q35_LPC_GEN_PMCON_1, Q35_LPC_SMI_LOCK, 1);
    test_pio_write(a.vm, PC_ACPI_SMI_CMD, PC_Q35_ACPI_ENABLE, 1);
    test_pio_write(a.vm, 0xcf9, 0x02, 1);

    g_autofree char *path = g_build_filename(g_get_tmp_dir(), "oriel-test-q35.sav", NULL);
    g_autoptr(GError) err = NULL;
    g_assert_true(vm_state_save(a.vm, path, "q35", &err));
    g_assert_no_error(err);
    g_assert_true(vm_state_load(b.vm, path, &err));
    g_assert_no_error(err);
    g_unlink(path);

    uint64_t base, size;
    g_assert_true(q35_host_ecam(b.host, &base, &size));
    g_assert_cmphex(base, ==, 0xe0000000u);
    g_assert_cmphex(test_mmio_read(b.vm, 0xe0000000u + (LPC << 15), 4), ==, 0x29188086);
    g_assert_cmphex(b.pam[1], ==, 0x33);
    struct q35_smram s;
    q35_host_smram(b.host, &s);
    g_assert_true(s.locked && s.smram_enabled);
    cfg_write(&b, 0, 0, Q35_MCH_SMRAM, Q35_SMRAM_D_OPEN, 1);   /* still locked */
    q35_host_smram(b.host, &s);
    g_assert_false(s.open);
    g_assert_cmpuint(acpi_pm_base(b.pm), ==, 0xb000);
    g_assert_cmphex(test_pio_read(b.vm, 0xb000 + ACPI_PM_SMI_EN, 4), ==,
                    ACPI_PM_GBL_SMI_EN | ACPI_PM_APMC_EN);
    /* SMI_LOCK came back with the LPC's configuration. */
    test_pio_write(b.vm, 0xb000 + ACPI_PM_SMI_EN, ACPI_PM_APMC_EN, 4);
    g_assert_cmphex(test_pio_read(b.vm, 0xb000 + ACPI_PM_SMI_EN, 4), ==,
                    ACPI_PM_GBL_SMI_EN | ACPI_PM_APMC_EN);
    g_assert_cmphex(test_pio_read(b.vm, 0xb004, 2) & ACPI_PM1_SCI_EN, ==, ACPI_PM1_SCI_EN);
    g_assert_cmphex(test_pio_read(b.vm, 0xcf9, 1), ==, 0x02);

    fixture_teardown(&a, NULL);
    fixture_teardown(&b, NULL);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add("/q35/" name, struct fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("ids", test_ids);
    ADD("ecam", test_ecam);
    ADD("pam", test_pam);
    ADD("smram-lock", test_smram_lock);
    ADD("tsegmb", test_tsegmb);
    ADD("pmbase", test_pmbase);
    ADD("smi-hook", test_smi_hook);
    ADD("smi-lock", test_smi_lock);
    ADD("firmware-setup", test_firmware_setup);
    ADD("reset-control", test_reset_control);
    ADD("rcba-pirq", test_rcba_pirq_masks);
    g_test_add_func("/q35/state-round-trip", test_state_round_trip);
    return g_test_run();
}
