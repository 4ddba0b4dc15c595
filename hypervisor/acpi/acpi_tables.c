/* Builders for the fixed ACPI tables and the two ways of installing them.
 * Layouts follow the ACPI 6.x specification, chapter 5. */
#include "acpi_tables.h"
#include "acpi_blob.h"

#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

#include "config/pc_layout.h"
#include "devices/acpi_pm.h"
#include "devices/tpm_crb.h"

#define OEM_ID          "ORIEL "
#define OEM_TABLE_ID    "ORIELPC "
#define OEM_REVISION    1
#define CREATOR_ID      "ORVM"
#define CREATOR_REVISION 1

#define HEADER_LEN      36
#define FACS_LEN        64
#define FADT_LEN        276     /* revision 6 */
#define FADT_REVISION   6
#define FADT_MINOR      4
#define MADT_REVISION   5       /* ACPI 6.4; entries used are all revision-1 types */
#define DSDT_REVISION   2       /* 64-bit integers */
#define TPM2_REVISION   4       /* TCG ACPI Specification, without the log area */
#define TPM2_START_CRB  7       /* start method: Command Response Buffer */

/* FADT flags (5.2.9, table 5.10). */
#define FADT_WBINVD          (1u << 0)
#define FADT_PROC_C1         (1u << 2)
#define FADT_SLP_BUTTON      (1u << 5)  /* no fixed-feature sleep button */
#define FADT_FIX_RTC         (1u << 6)  /* RTC wake status not in PM1 */
#define FADT_TMR_VAL_EXT     (1u << 8)
#define FADT_RESET_REG_SUP   (1u << 10)
/* IA-PC boot architecture flags (5.2.9.3). */
#define BOOT_LEGACY_DEVICES  (1u << 0)
#define BOOT_8042            (1u << 1)
#define BOOT_NO_CMOS_RTC     (1u << 5)

#define RTC_CENTURY_INDEX    0x32

/* Generic Address Structure (5.2.3.2). */
#define GAS_SYSTEM_IO 1
enum { GAS_ACCESS_BYTE = 1, GAS_ACCESS_WORD = 2, GAS_ACCESS_DWORD = 3 };

/* MADT entry types and flags (5.2.12). */
#define MADT_LAPIC        0
#define MADT_IOAPIC       1
#define MADT_OVERRIDE     2
#define MADT_LAPIC_NMI    4
#define MADT_PCAT_COMPAT  1
#define MADT_ENABLED      1
#define MPS_ACTIVE_HIGH   0x1
#define MPS_LEVEL         0xc

#define IOAPIC_ID         0  /* the in-kernel IOAPIC's ID after reset */

uint8_t acpi_checksum(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += p[i];
    return sum;
}

void acpi_pci_mmio64_window(const struct guest_memory *m, uint64_t *base, uint64_t *size)
{
    const uint64_t gib = 1ULL << 30;
    uint64_t ram_end = GUEST_HIGH_RAM_START + m->high_size;
    *base = (ram_end + gib - 1) & ~(gib - 1);
    *size = PC_PCI_MMIO64_WINDOW_SIZE;
}

/* --- Writing into the tables blob --------------------------------------- */

static void blob_init(struct acpi_blob *b)
{
    memset(b, 0, sizeof(*b));
    b->tables = g_array_new(FALSE, TRUE, 1);
    b->pointers = g_array_new(FALSE, FALSE, sizeof(struct acpi_pointer));
    b->cksums = g_array_new(FALSE, FALSE, sizeof(struct acpi_cksum));
}

static void blob_clear(struct acpi_blob *b)
{
    g_array_free(b->tables, TRUE);
    g_array_free(b->pointers, TRUE);
    g_array_free(b->cksums, TRUE);
}

/* Grow the tables by len zero bytes at an aligned offset; return it. */
static size_t reserve(struct acpi_blob *b, size_t len, size_t align)
{
    size_t at = (b->tables->len + align - 1) & ~(align - 1);
    g_array_set_size(b->tables, at + len);
    return at;
}

static uint8_t *at(struct acpi_blob *b, size_t offset)
{
    return (uint8_t *)b->tables->data + offset;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* A pointer field in file at offset, currently holding the target's offset
 * within the tables. */
static void pointer(struct acpi_blob *b, uint8_t file, size_t offset, unsigned size,
                    size_t target)
{
    uint8_t *p = file == ACPI_BLOB_RSDP ? b->rsdp + offset : at(b, offset);
    put_le(p, target, size);
    struct acpi_pointer ptr = { .file = file, .size = (uint8_t)size, .offset = (uint32_t)offset };
    g_array_append_val(b->pointers, ptr);
}

static void cksum(struct acpi_blob *b, uint8_t file, size_t offset, size_t start, size_t len)
{
    struct acpi_cksum k = { .file = file, .offset = (uint32_t)offset,
                            .start = (uint32_t)start, .length = (uint32_t)len };
    g_array_append_val(b->cksums, k);
}

/* Start a table with the standard header; returns its offset. */
static size_t table_begin(struct acpi_blob *b, const char *sig, uint8_t revision, size_t align)
{
    size_t t = reserve(b, HEADER_LEN, align);
    uint8_t *h = at(b, t);
    memcpy(h, sig, 4);
    h[8] = revision;
    memcpy(h + 10, OEM_ID, 6);
    memcpy(h + 16, OEM_TABLE_ID, 8);
    put_le(h + 24, OEM_REVISION, 4);
    memcpy(h + 28, CREATOR_ID, 4);
    put_le(h + 32, CREATOR_REVISION, 4);
    return t;
}

/* Fix the length (everything appended since table_begin) and schedule the
 * checksum, which stays 0 in the blob as the table loader requires. */
static void table_end(struct acpi_blob *b, size_t t)
{
    size_t len = b->tables->len - t;
    put_le(at(b, t) + 4, len, 4);
    cksum(b, ACPI_BLOB_TABLES, t + 9, t, len);
}

static void append(struct acpi_blob *b, const void *data, size_t len)
{
    g_array_append_vals(b->tables, data, len);
}

static void gas(uint8_t *p, uint8_t bit_width, uint8_t access, uint64_t address)
{
    p[0] = GAS_SYSTEM_IO;
    p[1] = bit_width;
    p[2] = 0;
    p[3] = access;
    put_le(p + 4, address, 8);
}

/* --- The tables ------------------------------------------------------------ */

static size_t build_facs(struct acpi_blob *b)
{
    size_t t = reserve(b, FACS_LEN, 64);
    uint8_t *f = at(b, t);
    memcpy(f, "FACS", 4);
    put_le(f + 4, FACS_LEN, 4);
    f[32] = 2;  /* version */
    return t;
}

static bool build_dsdt(struct acpi_blob *b, const struct acpi_platform *p, size_t *out,
                       GError **error)
{
    size_t len;
    g_autofree uint8_t *aml = acpi_dsdt_aml(p, &len, error);
    if (!aml)
        return false;
    size_t t = table_begin(b, "DSDT", DSDT_REVISION, 8);
    append(b, aml, len);
    table_end(b, t);
    *out = t;
    return true;
}

uint16_t acpi_platform_pm_base(const struct acpi_platform *p)
{
    return p->pm_base ? p->pm_base : PC_ACPI_PM_BASE;
}

uint16_t acpi_platform_pm_len(const struct acpi_platform *p)
{
    return p->pm_len ? p->pm_len : PC_ACPI_PM_LEN;
}

static size_t build_fadt(struct acpi_blob *b, const struct acpi_platform *p,
                         size_t facs, size_t dsdt)
{
    /* Offsets inside the block are the same on PIIX4 and ICH9. */
    uint32_t pm = acpi_platform_pm_base(p);
    uint32_t pm1_evt = pm + (PC_ACPI_PM1_EVT - PC_ACPI_PM_BASE);
    uint32_t pm1_cnt = pm + (PC_ACPI_PM1_CNT - PC_ACPI_PM_BASE);
    uint32_t pm_tmr = pm + (PC_ACPI_PM_TMR - PC_ACPI_PM_BASE);
    uint32_t gpe0 = pm + (PC_ACPI_GPE0 - PC_ACPI_PM_BASE);
    size_t t = table_begin(b, "FACP", FADT_REVISION, 8);
    reserve(b, FADT_LEN - HEADER_LEN, 1);
    uint8_t *f = at(b, t);

    pointer(b, ACPI_BLOB_TABLES, t + 36, 4, facs);   /* FIRMWARE_CTRL */
    pointer(b, ACPI_BLOB_TABLES, t + 40, 4, dsdt);   /* DSDT */
    f = at(b, t);
    f[45] = 0;                                       /* PM profile: unspecified */
    put_le(f + 46, PC_ACPI_SCI_IRQ, 2);
    put_le(f + 48, PC_ACPI_SMI_CMD, 4);
    f[52] = p->acpi_enable ? p->acpi_enable : ACPI_PM_ACPI_ENABLE;
    f[53] = p->acpi_disable ? p->acpi_disable : ACPI_PM_ACPI_DISABLE;
    put_le(f + 56, pm1_evt, 4);                      /* PM1a_EVT_BLK */
    put_le(f + 64, pm1_cnt, 4);                      /* PM1a_CNT_BLK */
    put_le(f + 76, pm_tmr, 4);                       /* PM_TMR_BLK */
    put_le(f + 80, gpe0, 4);                         /* GPE0_BLK */
    f[88] = ACPI_PM1_EVT_LEN;
    f[89] = ACPI_PM1_CNT_LEN;
    f[91] = ACPI_PM_TMR_LEN;
    f[92] = ACPI_GPE0_LEN;
    /* No C2/C3: latencies above 100/1000 us say "not supported". */
    put_le(f + 96, 101, 2);
    put_le(f + 98, 1001, 2);
    f[108] = p->has_rtc ? RTC_CENTURY_INDEX : 0;

    uint16_t boot = 0;
    if (p->has_com1 || p->has_com2 || p->has_rtc || p->has_i8042)
        boot |= BOOT_LEGACY_DEVICES;
    if (p->has_i8042)
        boot |= BOOT_8042;
    if (!p->has_rtc)
        boot |= BOOT_NO_CMOS_RTC;
    put_le(f + 109, boot, 2);

    uint32_t flags = FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_FIX_RTC |
                     FADT_RESET_REG_SUP | (ACPI_PM_TMR_32BIT ? FADT_TMR_VAL_EXT : 0);
    put_le(f + 112, flags, 4);
    gas(f + 116, 8, GAS_ACCESS_BYTE, PC_RESET_PORT); /* RESET_REG */
    f[128] = 0x06;                                   /* RESET_VALUE: full reset */
    f[131] = FADT_MINOR;

    pointer(b, ACPI_BLOB_TABLES, t + 140, 8, dsdt);  /* X_DSDT */
    f = at(b, t);
    gas(f + 148, ACPI_PM1_EVT_LEN * 8, GAS_ACCESS_WORD, pm1_evt);
    gas(f + 172, ACPI_PM1_CNT_LEN * 8, GAS_ACCESS_WORD, pm1_cnt);
    gas(f + 208, ACPI_PM_TMR_LEN * 8, GAS_ACCESS_DWORD, pm_tmr);
    gas(f + 220, ACPI_GPE0_LEN * 8, GAS_ACCESS_BYTE, gpe0);
    memcpy(f + 268, "OrielVMM", 8);                  /* hypervisor vendor identity */
    table_end(b, t);
    return t;
}

static void madt_entry(struct acpi_blob *b, const uint8_t *e)
{
    append(b, e, e[1]);
}

static size_t build_madt(struct acpi_blob *b, const struct acpi_platform *p)
{
    size_t t = table_begin(b, "APIC", MADT_REVISION, 8);
    uint8_t hdr[8];
    put_le(hdr, PC_LAPIC_ADDR, 4);
    put_le(hdr + 4, MADT_PCAT_COMPAT, 4);
    append(b, hdr, sizeof(hdr));

    for (unsigned i = 0; i < p->ncpus; i++) {
        uint8_t e[8] = { MADT_LAPIC, 8, (uint8_t)i, (uint8_t)i };
        put_le(e + 4, MADT_ENABLED, 4);
        madt_entry(b, e);
    }

    uint8_t io[12] = { MADT_IOAPIC, 12, IOAPIC_ID, 0 };
    put_le(io + 4, PC_IOAPIC_ADDR, 4);
    put_le(io + 8, 0, 4);                            /* GSI base */
    madt_entry(b, io);

    /* The PIT drives IOAPIC pin 2, not 0; the SCI is level, active high. */
    uint8_t irq0[10] = { MADT_OVERRIDE, 10, 0, PC_PIT_IRQ };
    put_le(irq0 + 4, 2, 4);
    madt_entry(b, irq0);
    uint8_t sci[10] = { MADT_OVERRIDE, 10, 0, PC_ACPI_SCI_IRQ };
    put_le(sci + 4, PC_ACPI_SCI_IRQ, 4);
    put_le(sci + 8, MPS_ACTIVE_HIGH | MPS_LEVEL, 2);
    madt_entry(b, sci);

    /* LINT1 of every processor is the NMI input. */
    uint8_t nmi[6] = { MADT_LAPIC_NMI, 6, 0xff, 0, 0, 1 };
    madt_entry(b, nmi);

    table_end(b, t);
    return t;
}

/* TPM2: a client platform's TPM, its CRB control area (CTRL_REQ onwards)
 * and its start method.  Without the optional log area fields. */
static size_t build_tpm2(struct acpi_blob *b)
{
    size_t t = table_begin(b, "TPM2", TPM2_REVISION, 8);
    uint8_t body[28] = { 0 };     /* class, reserved, control area, method, parameters */
    put_le(body + 4, TPM_CRB_BASE + TPM_CRB_CTRL_REQ, 8);
    put_le(body + 12, TPM2_START_CRB, 4);
    append(b, body, sizeof(body));
    table_end(b, t);
    return t;
}

/* MCFG (PCI Firmware Specification 3.0, 4.1.2): one configuration
 * window for segment 0, from bus 0. */
static size_t build_mcfg(struct acpi_blob *b, const struct acpi_platform *p)
{
    size_t t = table_begin(b, "MCFG", 1, 8);
    uint8_t body[8 + 16] = { 0 };     /* reserved, then one allocation */
    uint64_t buses = p->ecam_size >> 20;
    put_le(body + 8, p->ecam_base, 8);
    put_le(body + 16, 0, 2);          /* segment group */
    body[18] = 0;                     /* start bus */
    body[19] = (uint8_t)(MIN(MAX(buses, 1u), 256u) - 1);   /* end bus */
    append(b, body, sizeof(body));
    table_end(b, t);
    return t;
}

static size_t build_xsdt(struct acpi_blob *b, const size_t *tables, unsigned n, bool wide)
{
    unsigned w = wide ? 8 : 4;
    size_t t = table_begin(b, wide ? "XSDT" : "RSDT", 1, 8);
    size_t e = reserve(b, (size_t)w * n, 1);
    for (unsigned i = 0; i < n; i++)
        pointer(b, ACPI_BLOB_TABLES, e + (size_t)w * i, w, tables[i]);
    table_end(b, t);
    return t;
}

static void build_rsdp(struct acpi_blob *b, size_t rsdt, size_t xsdt)
{
    uint8_t *r = b->rsdp;
    memset(r, 0, ACPI_RSDP_LEN);
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, OEM_ID, 6);
    r[15] = 2;                                       /* revision: ACPI 2.0+ */
    pointer(b, ACPI_BLOB_RSDP, 16, 4, rsdt);
    put_le(r + 20, ACPI_RSDP_LEN, 4);
    pointer(b, ACPI_BLOB_RSDP, 24, 8, xsdt);
    /* The 20-byte checksum first: the extended one covers it. */
    cksum(b, ACPI_BLOB_RSDP, 8, 0, 20);
    cksum(b, ACPI_BLOB_RSDP, 32, 0, ACPI_RSDP_LEN);
}

static bool build_all(struct acpi_blob *b, const struct acpi_platform *p, GError **error)
{
    if (p->ncpus == 0 || p->ncpus > ACPI_MAX_CPUS) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    _("ACPI tables support 1 to %u vCPUs, not %u"), ACPI_MAX_CPUS, p->ncpus);
        return false;
    }
    blob_init(b);
    size_t facs = build_facs(b), dsdt;
    if (!build_dsdt(b, p, &dsdt, error)) {
        blob_clear(b);
        return false;
    }
    size_t sdt[4];
    unsigned n = 0;
    sdt[n++] = build_fadt(b, p, facs, dsdt);
    sdt[n++] = build_madt(b, p);
    if (p->has_tpm_crb)
        sdt[n++] = build_tpm2(b);
    if (p->ecam_base)
        sdt[n++] = build_mcfg(b, p);
    size_t xsdt = build_xsdt(b, sdt, n, true);
    size_t rsdt = build_xsdt(b, sdt, n, false);
    build_rsdp(b, rsdt, xsdt);
    return true;
}

static void fill_window(const struct guest_memory *m, struct acpi_platform *p)
{
    if (p->pci_mmio64_base == 0 && p->pci_mmio64_size == 0)
        acpi_pci_mmio64_window(m, &p->pci_mmio64_base, &p->pci_mmio64_size);
}

/* --- Fixed placement for direct kernel boot ----------------------------- */

bool acpi_tables_install(struct guest_memory *m, struct acpi_platform *p, GError **error)
{
    fill_window(m, p);
    struct acpi_blob b;
    if (!build_all(&b, p, error))
        return false;

    /* RSDP at the start of the segment (16-byte aligned as the scan needs),
     * the tables 64-byte aligned (the FACS) right after it. */
    uint64_t rsdp_gpa = PC_BIOS_AREA_START;
    uint64_t tables_gpa = PC_BIOS_AREA_START + 64;
    bool ok = false;
    if (tables_gpa + b.tables->len > PC_BIOS_AREA_END) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                    _("ACPI tables (%u bytes) do not fit in the BIOS area"), b.tables->len);
        goto out;
    }

    for (guint i = 0; i < b.pointers->len; i++) {
        const struct acpi_pointer *ptr = &g_array_index(b.pointers, struct acpi_pointer, i);
        uint8_t *f = ptr->file == ACPI_BLOB_RSDP ? b.rsdp + ptr->offset : at(&b, ptr->offset);
        put_le(f, get_le(f, ptr->size) + tables_gpa, ptr->size);
    }
    for (guint i = 0; i < b.cksums->len; i++) {
        const struct acpi_cksum *k = &g_array_index(b.cksums, struct acpi_cksum, i);
        uint8_t *base = k->file == ACPI_BLOB_RSDP ? b.rsdp : at(&b, 0);
        base[k->offset] = 0;
        base[k->offset] = (uint8_t)-acpi_checksum(base + k->start, k->length);
    }

    if (!guest_memory_write(m, rsdp_gpa, b.rsdp, ACPI_RSDP_LEN) ||
        !guest_memory_write(m, tables_gpa, b.tables->data, b.tables->len)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                    _("The BIOS area for ACPI tables is not guest RAM"));
        goto out;
    }
    p->rsdp_addr = rsdp_gpa;
    ok = true;
out:
    blob_clear(&b);
    return ok;
}

/* --- Files for firmware ------------------------------------------------- */

bool acpi_tables_build_fw_cfg(const struct guest_memory *m, const struct acpi_platform *p,
                              struct acpi_fw_cfg_files *out, GError **error)
{
    memset(out, 0, sizeof(*out));
    struct acpi_platform q = *p;
    fill_window(m, &q);
    struct acpi_blob b;
    if (!build_all(&b, &q, error))
        return false;
    out->loader = acpi_table_loader_encode(&b, &out->loader_len);
    out->rsdp = g_memdup2(b.rsdp, ACPI_RSDP_LEN);
    out->rsdp_len = ACPI_RSDP_LEN;
    out->tables_len = b.tables->len;
    out->tables = g_memdup2(b.tables->data, b.tables->len);
    blob_clear(&b);
    return true;
}

void acpi_fw_cfg_files_clear(struct acpi_fw_cfg_files *f)
{
    g_free(f->rsdp);
    g_free(f->tables);
    g_free(f->loader);
    memset(f, 0, sizeof(*f));
}
