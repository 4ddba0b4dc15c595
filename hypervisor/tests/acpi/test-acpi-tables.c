/* The ACPI tables as an OS and firmware see them: found by the RSDP scan,
 * every checksum and length right, every pointer leading to a valid
 * table, the MADT and FADT describing the platform, the DSDT accepted by
 * the ACPICA disassembler/compiler, and the fw_cfg table-loader script
 * producing the same result when a firmware runs it. */
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "acpi/acpi_tables.h"
#include "devices/acpi_pm.h"
#include "devices/tpm_crb.h"
#include "config/pc_layout.h"

#define MIB (1024ULL * 1024ULL)
#define GIB (1024ULL * MIB)

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* A table at addr: whole in RAM, signature, length and checksum right. */
static const uint8_t *table_at(const struct guest_memory *m, uint64_t addr, const char *sig)
{
    const uint8_t *h = guest_memory_ptr(m, addr, 36);
    g_assert_nonnull(h);
    g_assert_cmpmem(h, 4, sig, 4);
    uint32_t len = (uint32_t)le(h + 4, 4);
    g_assert_cmpuint(len, >=, 36);
    const uint8_t *t = guest_memory_ptr(m, addr, len);
    g_assert_nonnull(t);
    g_assert_cmpuint(acpi_checksum(t, len), ==, 0);
    return t;
}

static uint64_t scan_rsdp(const struct guest_memory *m)
{
    uint64_t found = 0;
    for (uint64_t a = PC_BIOS_AREA_START; a < PC_BIOS_AREA_END; a += 16) {
        const uint8_t *r = guest_memory_ptr(m, a, 20);
        if (r && memcmp(r, "RSD PTR ", 8) == 0 && acpi_checksum(r, 20) == 0) {
            g_assert_cmpuint(found, ==, 0);  /* exactly one */
            found = a;
        }
    }
    g_assert_cmpuint(found, !=, 0);
    return found;
}

struct found_tables {
    const uint8_t *fadt, *madt, *dsdt, *facs, *tpm2;
    const uint8_t *mcfg;
};

static void check_madt(const uint8_t *t, unsigned ncpus)
{
    uint32_t len = (uint32_t)le(t + 4, 4);
    g_assert_cmpuint(le(t + 36, 4), ==, PC_LAPIC_ADDR);
    g_assert_cmpuint(le(t + 40, 4) & 1, ==, 1);   /* PC-AT compatible 8259s */

    unsigned lapics = 0, ioapics = 0;
    bool irq0_override = false, sci_override = false;
    bool seen_id[256] = { false };
    for (uint32_t off = 44; off < len;) {
        const uint8_t *e = t + off;
        g_assert_cmpuint(off + 2, <=, len);
        g_assert_cmpuint(e[1], >=, 2);
        g_assert_cmpuint(off + e[1], <=, len);
        switch (e[0]) {
        case 0:
            g_assert_cmpuint(e[1], ==, 8);
            g_assert_cmpuint(e[2], ==, lapics);        /* processor UID */
            g_assert_false(seen_id[e[3]]);
            seen_id[e[3]] = true;
            g_assert_cmpuint(le(e + 4, 4) & 1, ==, 1); /* enabled */
            lapics++;
            break;
        case 1:
            g_assert_cmpuint(e[1], ==, 12);
            g_assert_cmpuint(le(e + 4, 4), ==, PC_IOAPIC_ADDR);
            g_assert_cmpuint(le(e + 8, 4), ==, 0);
            ioapics++;
            break;
        case 2:
            g_assert_cmpuint(e[1], ==, 10);
            g_assert_cmpuint(e[2], ==, 0);             /* ISA */
            if (e[3] == 0) {
                g_assert_cmpuint(le(e + 4, 4), ==, 2);
                irq0_override = true;
            } else if (e[3] == PC_ACPI_SCI_IRQ) {
                g_assert_cmpuint(le(e + 4, 4), ==, PC_ACPI_SCI_IRQ);
                g_assert_cmpuint(le(e + 8, 2), ==, 0x000d); /* level, active high */
                sci_override = true;
            }
            break;
        }
        off += e[1];
    }
    g_assert_cmpuint(lapics, ==, ncpus);
    g_assert_cmpuint(ioapics, ==, 1);
    g_assert_true(irq0_override);
    g_assert_true(sci_override);
}

static void check_fadt(const struct guest_memory *m, const uint8_t *f, struct found_tables *ft,
                       const struct acpi_platform *p)
{
    const unsigned pm = acpi_platform_pm_base(p) - PC_ACPI_PM_BASE;   /* relocation */
    g_assert_cmpuint(le(f + 4, 4), ==, 276);
    g_assert_cmpuint(f[8], ==, 6);
    uint64_t facs = le(f + 36, 4);
    g_assert_cmpuint(facs % 64, ==, 0);
    ft->facs = guest_memory_ptr(m, facs, 64);
    g_assert_nonnull(ft->facs);
    g_assert_cmpmem(ft->facs, 4, "FACS", 4);
    g_assert_cmpuint(le(ft->facs + 4, 4), ==, 64);

    uint64_t dsdt = le(f + 40, 4);
    g_assert_cmpuint(le(f + 140, 8), ==, dsdt);
    ft->dsdt = table_at(m, dsdt, "DSDT");

    g_assert_cmpuint(le(f + 46, 2), ==, PC_ACPI_SCI_IRQ);
    g_assert_cmpuint(le(f + 48, 4), ==, PC_ACPI_SMI_CMD);
    g_assert_cmpuint(f[52], ==, p->acpi_enable ? p->acpi_enable : ACPI_PM_ACPI_ENABLE);
    g_assert_cmpuint(f[53], ==, p->acpi_disable ? p->acpi_disable : ACPI_PM_ACPI_DISABLE);
    g_assert_cmpuint(le(f + 56, 4), ==, PC_ACPI_PM1_EVT + pm);
    g_assert_cmpuint(le(f + 64, 4), ==, PC_ACPI_PM1_CNT + pm);
    g_assert_cmpuint(le(f + 76, 4), ==, PC_ACPI_PM_TMR + pm);
    g_assert_cmpuint(le(f + 80, 4), ==, PC_ACPI_GPE0 + pm);
    g_assert_cmpuint(f[88], ==, 4);
    g_assert_cmpuint(f[89], ==, 2);
    g_assert_cmpuint(f[91], ==, 4);
    g_assert_cmpuint(f[92], ==, ACPI_GPE0_LEN);

    uint32_t flags = (uint32_t)le(f + 112, 4);
    g_assert_true(flags & (1u << 10));        /* RESET_REG_SUP */
    g_assert_false(flags & (1u << 20));       /* not hardware-reduced */
    g_assert_false(flags & (1u << 4));        /* fixed-feature power button */
    g_assert_cmpuint(!!(flags & (1u << 8)), ==, ACPI_PM_TMR_32BIT);
    g_assert_cmpuint(f[116], ==, 1);          /* reset register in I/O space */
    g_assert_cmpuint(f[117], ==, 8);
    g_assert_cmpuint(le(f + 120, 8), ==, PC_RESET_PORT);
    g_assert_cmpuint(f[128], ==, 0x06);
    /* Extended blocks agree with the 32-bit ones. */
    g_assert_cmpuint(le(f + 148 + 4, 8), ==, PC_ACPI_PM1_EVT + pm);
    g_assert_cmpuint(f[148 + 1], ==, 32);
    g_assert_cmpuint(le(f + 172 + 4, 8), ==, PC_ACPI_PM1_CNT + pm);
    g_assert_cmpuint(le(f + 208 + 4, 8), ==, PC_ACPI_PM_TMR + pm);
    g_assert_cmpuint(le(f + 220 + 4, 8), ==, PC_ACPI_GPE0 + pm);
}

/* Walk RSDP -> XSDT/RSDT -> FADT/MADT -> DSDT/FACS checking everything. */
static struct found_tables check_all_of(const struct guest_memory *m, uint64_t rsdp_addr,
                                        unsigned ncpus, const struct acpi_platform *p)
{
    struct found_tables ft = { 0 };
    g_assert_cmpuint(rsdp_addr % 16, ==, 0);
    const uint8_t *r = guest_memory_ptr(m, rsdp_addr, 36);
    g_assert_nonnull(r);
    g_assert_cmpmem(r, 8, "RSD PTR ", 8);
    g_assert_cmpuint(acpi_checksum(r, 20), ==, 0);
    g_assert_cmpuint(r[15], ==, 2);
    g_assert_cmpuint(le(r + 20, 4), ==, 36);
    g_assert_cmpuint(acpi_checksum(r, 36), ==, 0);

    const uint8_t *x = table_at(m, le(r + 24, 8), "XSDT");
    const uint8_t *rs = table_at(m, le(r + 16, 4), "RSDT");
    uint32_t xn = ((uint32_t)le(x + 4, 4) - 36) / 8;
    uint32_t rn = ((uint32_t)le(rs + 4, 4) - 36) / 4;
    g_assert_cmpuint(le(x + 4, 4), ==, 36 + 8 * xn);
    g_assert_cmpuint(xn, ==, rn);
    g_assert_cmpuint(xn, >=, 2);
    for (uint32_t i = 0; i < xn; i++) {
        uint64_t a = le(x + 36 + 8 * i, 8);
        g_assert_cmpuint(a, ==, le(rs + 36 + 4 * i, 4));
        const uint8_t *h = guest_memory_ptr(m, a, 4);
        g_assert_nonnull(h);
        if (memcmp(h, "FACP", 4) == 0) {
            g_assert_null(ft.fadt);
            ft.fadt = table_at(m, a, "FACP");
        } else if (memcmp(h, "APIC", 4) == 0) {
            g_assert_null(ft.madt);
            ft.madt = table_at(m, a, "APIC");
        } else if (memcmp(h, "MCFG", 4) == 0) {
            g_assert_null(ft.mcfg);
            ft.mcfg = table_at(m, a, "MCFG");
        } else if (memcmp(h, "TPM2", 4) == 0) {
            /* A client TPM, its CRB control area, started through the CRB. */
            g_assert_null(ft.tpm2);
            ft.tpm2 = table_at(m, a, "TPM2");
            g_assert_cmpuint(le(ft.tpm2 + 4, 4), ==, 64);
            g_assert_cmpuint(ft.tpm2[8], ==, 4);
            g_assert_cmpuint(le(ft.tpm2 + 36, 2), ==, 0);
            g_assert_cmphex(le(ft.tpm2 + 40, 8), ==, TPM_CRB_BASE + TPM_CRB_CTRL_REQ);
            g_assert_cmpuint(le(ft.tpm2 + 48, 4), ==, 7);
        } else {
            g_assert_not_reached();
        }
    }
    g_assert_nonnull(ft.fadt);
    g_assert_nonnull(ft.madt);
    check_fadt(m, ft.fadt, &ft, p);
    check_madt(ft.madt, ncpus);
    g_assert_true((ft.mcfg != NULL) == (p->ecam_base != 0));
    return ft;
}

static struct found_tables check_all(const struct guest_memory *m, uint64_t rsdp_addr, unsigned ncpus)
{
    const struct acpi_platform i440fx = { .ncpus = ncpus };
    return check_all_of(m, rsdp_addr, ncpus, &i440fx);
}

static struct acpi_platform full_platform(unsigned ncpus)
{
    return (struct acpi_platform){
        .ncpus = ncpus, .has_pci = true, .has_com1 = true, .has_com2 = true,
        .has_i8042 = true, .has_rtc = true, .has_pvpanic = true, .has_fw_cfg = true,
        .has_tpm_crb = true,
    };
}

static void test_install(void)
{
    struct guest_memory m;
    g_assert_true(guest_memory_alloc(&m, 512 * MIB, NULL));
    struct acpi_platform p = full_platform(2);
    g_autoptr(GError) error = NULL;
    g_assert_true(acpi_tables_install(&m, &p, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(scan_rsdp(&m), ==, p.rsdp_addr);
    g_assert_nonnull(check_all(&m, p.rsdp_addr, 2).tpm2);
    /* Without a TPM, no TPM2 table. */
    p.has_tpm_crb = false;
    g_assert_true(acpi_tables_install(&m, &p, &error));
    g_assert_null(check_all(&m, p.rsdp_addr, 2).tpm2);
    guest_memory_free(&m);
}

static bool contains(const uint8_t *hay, size_t n, const void *needle, size_t len)
{
    for (size_t i = 0; i + len <= n; i++)
        if (memcmp(hay + i, needle, len) == 0)
            return true;
    return false;
}

/* The Q35 description: PM block elsewhere with ICH9's SMI_CMD values,
 * PCI0 a PCI Express root, MCFG for the configuration window, which the
 * motherboard resources reserve. */
static void test_q35(void)
{
    struct guest_memory m;
    g_assert_true(guest_memory_alloc(&m, 512 * MIB, NULL));
    struct acpi_platform p = full_platform(2);
    p.pcie = true;
    p.ecam_base = PC_Q35_ECAM_BASE;
    p.ecam_size = PC_Q35_ECAM_SIZE;
    p.pm_base = 0xb000;
    p.pm_len = PC_Q35_PM_LEN;
    p.acpi_enable = PC_Q35_ACPI_ENABLE;
    p.acpi_disable = PC_Q35_ACPI_DISABLE;
    g_autoptr(GError) error = NULL;
    g_assert_true(acpi_tables_install(&m, &p, &error));
    g_assert_no_error(error);
    struct found_tables ft = check_all_of(&m, p.rsdp_addr, 2, &p);
    g_assert_nonnull(ft.mcfg);
    g_assert_cmpuint(le(ft.mcfg + 4, 4), ==, 60);
    g_assert_cmphex(le(ft.mcfg + 44, 8), ==, PC_Q35_ECAM_BASE);
    g_assert_cmpuint(le(ft.mcfg + 52, 2), ==, 0);     /* segment */
    g_assert_cmpuint(ft.mcfg[54], ==, 0);
    g_assert_cmpuint(ft.mcfg[55], ==, 255);

    size_t dlen = le(ft.dsdt + 4, 4);
    static const uint8_t pnp0a08[4] = { 0x41, 0xd0, 0x0a, 0x08 };
    static const uint8_t pnp0a03[4] = { 0x41, 0xd0, 0x0a, 0x03 };
    g_assert_true(contains(ft.dsdt, dlen, pnp0a08, 4));
    g_assert_true(contains(ft.dsdt, dlen, pnp0a03, 4));   /* _CID */
    /* Memory32Fixed over the window, and the PM ports at their base. */
    uint8_t fixed[12] = { 0x86, 0x09, 0x00, 0x01 };
    fixed[4] = 0x00; fixed[5] = 0x00; fixed[6] = 0x00; fixed[7] = 0xb0;
    fixed[8] = 0x00; fixed[9] = 0x00; fixed[10] = 0x00; fixed[11] = 0x10;
    g_assert_true(contains(ft.dsdt, dlen, fixed, sizeof(fixed)));
    static const uint8_t io[8] = { 0x47, 0x01, 0x00, 0xb0, 0x00, 0xb0, 0x01, 0x80 };
    g_assert_true(contains(ft.dsdt, dlen, io, sizeof(io)));
    guest_memory_free(&m);
}

/* Parse the _PRT package: 128 entries mapping every slot and pin to the
 * GSI the PCI bus raises. */
static uint64_t aml_int(const uint8_t **pp)
{
    const uint8_t *p = *pp;
    switch (p[0]) {
    case 0x00: *pp = p + 1; return 0;
    case 0x01: *pp = p + 1; return 1;
    case 0x0a: *pp = p + 2; return p[1];
    case 0x0b: *pp = p + 3; return le(p + 1, 2);
    case 0x0c: *pp = p + 5; return le(p + 1, 4);
    case 0x0e: *pp = p + 9; return le(p + 1, 8);
    }
    g_assert_not_reached();
}

static size_t pkglen(const uint8_t **pp)
{
    const uint8_t *p = *pp;
    unsigned extra = p[0] >> 6;
    size_t v = extra ? p[0] & 0x0f : p[0] & 0x3f;
    for (unsigned i = 1; i <= extra; i++)
        v |= (size_t)p[i] << (4 + 8 * (i - 1));
    *pp = p + extra + 1;
    return v;
}

static void test_prt(void)
{
    struct guest_memory m;
    g_assert_true(guest_memory_alloc(&m, 256 * MIB, NULL));
    struct acpi_platform p = full_platform(1);
    g_assert_true(acpi_tables_install(&m, &p, NULL));
    struct found_tables ft = check_all(&m, p.rsdp_addr, 1);
    uint32_t dlen = (uint32_t)le(ft.dsdt + 4, 4);

    const uint8_t *name = memmem(ft.dsdt, dlen, "\x08_PRT", 5);
    g_assert_nonnull(name);
    const uint8_t *q = name + 5;
    g_assert_cmpuint(*q++, ==, 0x12);
    const uint8_t *start = q;
    size_t len = pkglen(&q);
    g_assert_cmpuint(*q++, ==, 128);
    for (unsigned i = 0; i < 128; i++) {
        g_assert_cmpuint(*q++, ==, 0x12);
        const uint8_t *e = q;
        size_t elen = pkglen(&q);
        g_assert_cmpuint(*q++, ==, 4);
        uint64_t addr = aml_int(&q), pin = aml_int(&q), src = aml_int(&q), gsi = aml_int(&q);
        g_assert_cmpuint(q - e, ==, elen);
        unsigned slot = i / 4;
        g_assert_cmpuint(addr, ==, ((uint64_t)slot << 16) | 0xffff);
        g_assert_cmpuint(pin, ==, i % 4);
        g_assert_cmpuint(src, ==, 0);
        g_assert_cmpuint(gsi, ==, PC_PCI_INTX_GSI(slot, pin));
        g_assert_cmpuint(gsi, >=, 16);
        g_assert_cmpuint(gsi, <, PC_IOAPIC_PINS);
    }
    g_assert_cmpuint(q - start, ==, len);
    guest_memory_free(&m);
}

static void test_large_memory(void)
{
    struct guest_memory m;
    g_assert_true(guest_memory_alloc(&m, 8 * GIB, NULL));
    struct acpi_platform p = full_platform(64);
    g_assert_true(acpi_tables_install(&m, &p, NULL));
    struct found_tables ft = check_all(&m, p.rsdp_addr, 64);

    /* The 64-bit window starts above RAM (4 GiB + 5 GiB). */
    g_assert_cmpuint(p.pci_mmio64_base, ==, 9 * GIB);
    g_assert_cmpuint(p.pci_mmio64_size, ==, PC_PCI_MMIO64_WINDOW_SIZE);
    uint8_t qword[3 + 3 + 8 + 8] = { 0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x01 };
    for (int i = 0; i < 8; i++)
        qword[14 + i] = (uint8_t)(p.pci_mmio64_base >> (8 * i));
    g_assert_nonnull(memmem(ft.dsdt, le(ft.dsdt + 4, 4), qword, sizeof(qword)));
    guest_memory_free(&m);
}

static void test_bad_cpus(void)
{
    struct guest_memory m;
    g_assert_true(guest_memory_alloc(&m, 64 * MIB, NULL));
    struct acpi_platform p = full_platform(0);
    GError *error = NULL;
    g_assert_false(acpi_tables_install(&m, &p, &error));
    g_assert_nonnull(error);
    g_clear_error(&error);
    p.ncpus = 256;
    g_assert_false(acpi_tables_install(&m, &p, &error));
    g_assert_nonnull(error);
    g_clear_error(&error);
    guest_memory_free(&m);
}

/* ACPICA's disassembler must understand every byte of the DSDT, and
 * compiling its output again must give back the same byte code. */
static void test_iasl(void)
{
    g_autofree char *iasl = g_find_program_in_path("iasl");
    if (!iasl) {
        g_test_skip("iasl (acpica-tools) is not installed");
        return;
    }
    struct guest_memory m;
    g_assert_true(guest_memory_alloc(&m, 256 * MIB, NULL));
    struct acpi_platform p = full_platform(4);
    g_assert_true(acpi_tables_install(&m, &p, NULL));
    struct found_tables ft = check_all(&m, p.rsdp_addr, 4);
    uint32_t dlen = (uint32_t)le(ft.dsdt + 4, 4);

    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("oriel-dsdt-XXXXXX", &error);
    g_assert_no_error(error);
    g_autofree char *dat = g_build_filename(dir, "dsdt.dat", NULL);
    g_autofree char *dsl = g_build_filename(dir, "dsdt.dsl", NULL);
    g_autofree char *aml = g_build_filename(dir, "dsdt.aml", NULL);
    g_assert_true(g_file_set_contents(dat, (const char *)ft.dsdt, dlen, &error));

    const char *dis[] = { iasl, "-d", dat, NULL };
    g_autofree char *out1 = NULL, *err1 = NULL;
    int status;
    g_assert_true(g_spawn_sync(dir, (char **)dis, NULL, 0, NULL, NULL, &out1, &err1, &status, &error));
    if (!g_spawn_check_wait_status(status, NULL))
        g_test_message("iasl -d: %s%s", out1, err1);
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(dsl, &text, NULL, &error));
    static const char *expect[] = {
        "EisaId (\"PNP0A03\")", "_PRT", "_S5_", "EisaId (\"PNP0501\")", "EisaId (\"PNP0303\")",
        "EisaId (\"PNP0F13\")", "EisaId (\"PNP0B00\")", "\"ACPI0007\"", "\"QEMU0001\"",
        "WordBusNumber", "QWordMemory", "IRQNoFlags", "0x03F8",
        "\"MSFT0101\"", "Memory32Fixed (ReadWrite,\n                    0xFED40000,",
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(expect); i++) {
        if (!strstr(text, expect[i]))
            g_test_message("missing %s in:\n%s", expect[i], text);
        g_assert_nonnull(strstr(text, expect[i]));
    }

    /* -oa: no optimisations, so the output can be compared byte for byte. */
    const char *comp[] = { iasl, "-oa", "-p", aml, dsl, NULL };
    g_autofree char *out2 = NULL, *err2 = NULL;
    g_assert_true(g_spawn_sync(dir, (char **)comp, NULL, 0, NULL, NULL, &out2, &err2, &status, &error));
    if (!g_spawn_check_wait_status(status, NULL))
        g_test_message("iasl: %s%s", out2, err2);
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    g_assert_nonnull(strstr(out2, " 0 Errors, 0 Warnings, 0 Remarks"));
    g_autofree char *again = NULL;
    gsize again_len;
    g_assert_true(g_file_get_contents(aml, &again, &again_len, &error));
    g_assert_cmpmem(again + 36, again_len - 36, ft.dsdt + 36, dlen - 36);

    g_unlink(dat);
    g_unlink(dsl);
    g_unlink(aml);
    g_rmdir(dir);
    guest_memory_free(&m);
}

/* ACPICA's interpreter loads the DSDT, decodes every _CRS with its
 * resource manager, walks _PRT and evaluates _S5. */
static void test_acpiexec(void)
{
    g_autofree char *acpiexec = g_find_program_in_path("acpiexec");
    if (!acpiexec) {
        g_test_skip("acpiexec (acpica-tools) is not installed");
        return;
    }
    struct guest_memory m;
    g_assert_true(guest_memory_alloc(&m, 256 * MIB, NULL));
    struct acpi_platform p = full_platform(2);
    g_assert_true(acpi_tables_install(&m, &p, NULL));
    struct found_tables ft = check_all(&m, p.rsdp_addr, 2);

    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("oriel-dsdt-XXXXXX", &error);
    g_assert_no_error(error);
    g_autofree char *dat = g_build_filename(dir, "dsdt.dat", NULL);
    g_assert_true(g_file_set_contents(dat, (const char *)ft.dsdt, le(ft.dsdt + 4, 4), &error));

    const char *cmds =
        "resources \\_SB.PCI0; resources \\_SB.PCI0.COM1; resources \\_SB.PCI0.COM2; "
        "resources \\_SB.PCI0.KBD; resources \\_SB.PCI0.MOU; resources \\_SB.PCI0.RTC; "
        "resources \\_SB.PCI0.PEVT; resources \\_SB.PCI0.FWCF; resources \\_SB.PCI0.MRES; "
        "evaluate \\_S5";
    const char *argv[] = { acpiexec, "-b", cmds, dat, NULL };
    g_autofree char *out = NULL, *err = NULL;
    int status;
    g_assert_true(g_spawn_sync(dir, (char **)argv, NULL, 0, NULL, NULL, &out, &err, &status, &error));
    g_assert_true(g_spawn_check_wait_status(status, NULL));

    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    unsigned crs = 0, prt = 0;
    for (char **l = lines; *l; l++) {
        /* No device has _SRS; every other failure is a real problem. */
        if (strstr(*l, "failed") && !strstr(*l, "AcpiSetCurrentResources failed: AE_NOT_FOUND"))
            g_error("acpiexec: %s\n%s", *l, out);
        g_assert_null(strstr(*l, "AE_AML_"));
        if (strstr(*l, "Resource Type") || strstr(*l, "I/O Resource") || strstr(*l, "IRQ Resource"))
            crs++;
        if (strstr(*l, "PCI IRQ Routing Table Package"))
            prt++;
    }
    g_assert_cmpuint(prt, ==, 128);
    /* PCI0 7, COM1/2 2 each, KBD 3, MOU 1, RTC 2, PEVT 1, FWCF 1, MRES 2 */
    g_assert_cmpuint(crs, ==, 7 + 2 * 2 + 3 + 1 + 2 + 1 + 1 + 2);
    g_assert_nonnull(strstr(out, "Package] Contains 4 Elements"));

    g_unlink(dat);
    g_rmdir(dir);
    guest_memory_free(&m);
}

/* Run "etc/table-loader" the way firmware does: place the files, patch the
 * pointers, compute the checksums; then the OS-side checks must pass. */
static void test_fw_cfg_loader(void)
{
    struct guest_memory m;
    g_assert_true(guest_memory_alloc(&m, 512 * MIB, NULL));
    struct acpi_platform p = full_platform(3);
    struct acpi_fw_cfg_files f;
    g_autoptr(GError) error = NULL;
    g_assert_true(acpi_tables_build_fw_cfg(&m, &p, &f, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(f.rsdp_len, ==, 36);
    g_assert_cmpuint(f.loader_len % 128, ==, 0);

    struct { const char *name; uint8_t *data; size_t len; uint64_t gpa; uint8_t *host; } files[] = {
        { ACPI_FW_CFG_RSDP_FILE, f.rsdp, f.rsdp_len, 0, NULL },
        { ACPI_FW_CFG_TABLES_FILE, f.tables, f.tables_len, 0, NULL },
    };
    uint64_t high = 0x7f00000;  /* where this "firmware" puts HIGH allocations */
    unsigned allocs = 0, pointers = 0, checksums = 0;
    for (size_t off = 0; off < f.loader_len; off += 128) {
        const uint8_t *c = f.loader + off;
        uint32_t cmd = (uint32_t)le(c, 4);
        int fi = -1, si = -1;
        for (int i = 0; i < 2; i++) {
            if (strncmp((const char *)c + 4, files[i].name, 56) == 0)
                fi = i;
            if (cmd == 2 && strncmp((const char *)c + 60, files[i].name, 56) == 0)
                si = i;
        }
        g_assert_cmpint(fi, >=, 0);
        if (cmd == 1) {
            uint32_t align = (uint32_t)le(c + 60, 4);
            uint8_t zone = c[64];
            g_assert_cmpuint(align & (align - 1), ==, 0);
            uint64_t gpa = zone == 2 ? 0xf0000 : high;
            g_assert_true(zone == 1 || zone == 2);
            g_assert_cmpuint(gpa % align, ==, 0);
            g_assert_null(files[fi].host);
            files[fi].gpa = gpa;
            files[fi].host = guest_memory_ptr(&m, gpa, files[fi].len);
            g_assert_nonnull(files[fi].host);
            memcpy(files[fi].host, files[fi].data, files[fi].len);
            allocs++;
        } else if (cmd == 2) {
            g_assert_cmpint(si, >=, 0);
            g_assert_nonnull(files[fi].host);
            g_assert_nonnull(files[si].host);
            uint32_t at = (uint32_t)le(c + 116, 4);
            uint8_t size = c[120];
            g_assert_true(size == 4 || size == 8);
            g_assert_cmpuint(at + size, <=, files[fi].len);
            uint64_t v = le(files[fi].host + at, size) + files[si].gpa;
            for (unsigned i = 0; i < size; i++)
                files[fi].host[at + i] = (uint8_t)(v >> (8 * i));
            pointers++;
        } else if (cmd == 3) {
            uint32_t at = (uint32_t)le(c + 60, 4), start = (uint32_t)le(c + 64, 4),
                     len = (uint32_t)le(c + 68, 4);
            g_assert_cmpuint(at, <, files[fi].len);
            g_assert_cmpuint(start + len, <=, files[fi].len);
            g_assert_cmpuint(files[fi].host[at], ==, 0);  /* loader adds to the byte */
            files[fi].host[at] -= acpi_checksum(files[fi].host + start, len);
            checksums++;
        } else {
            g_assert_not_reached();
        }
    }
    g_assert_cmpuint(allocs, ==, 2);
    /* FADT 3; XSDT and RSDT 3 each (FADT, MADT, TPM2); RSDP 2. */
    g_assert_cmpuint(pointers, ==, 3 + 3 + 3 + 2);
    g_assert_cmpuint(checksums, ==, 6 + 2);  /* DSDT FADT MADT TPM2 XSDT RSDT; RSDP twice */

    g_assert_cmpuint(scan_rsdp(&m), ==, files[0].gpa);
    check_all(&m, files[0].gpa, 3);
    acpi_fw_cfg_files_clear(&f);
    guest_memory_free(&m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/acpi/install", test_install);
    g_test_add_func("/acpi/prt", test_prt);
    g_test_add_func("/acpi/q35", test_q35);
    g_test_add_func("/acpi/large-memory", test_large_memory);
    g_test_add_func("/acpi/bad-cpus", test_bad_cpus);
    g_test_add_func("/acpi/iasl-roundtrip", test_iasl);
    g_test_add_func("/acpi/acpiexec", test_acpiexec);
    g_test_add_func("/acpi/fw-cfg-loader", test_fw_cfg_loader);
    return g_test_run();
}
