/* AHCI through its PCI function and ABAR registers, as a guest driver
 * programs it: command lists, tables and PRDTs in test guest memory, FISes
 * read back from the receive area, NCQ, ATAPI, interrupts (INTx and MSI),
 * resets, and malformed programming. */
#include <string.h>
#include <glib.h>
#include <gio/gio.h>

#include "storage/ahci.h"
#include "core/state_stream.h"
#include "config/pc_layout.h"
#include "pci/pci.h"
#include "storage/ata.h"
#include "storage_test.h"
#include "tests/support/test_vm.h"

#define DISK_SECTORS 512
#define CD_BLOCKS    32
#define RAM (64u << 20)
#define NPORTS 6

/* Guest memory layout. */
#define CLB(p)   (0x100000u + (p) * 0x10000u)
#define FB(p)    (CLB(p) + 0x1000u)
#define CTBA(p, s) (CLB(p) + 0x2000u + (s) * 0x200u)
#define DATA     0x400000u

struct fx {
    struct vm *vm;
    struct pci_bus *bus;
    struct ahci *ahci;
    char *disk, *rodisk, *iso, *iso2;
    unsigned slot;
    uint64_t abar;
};

static void setup(struct fx *f, gconstpointer data)
{
    f->vm = test_vm_new(RAM);
    f->bus = pci_bus_create(f->vm);
    g_autoptr(GError) err = NULL;
    f->ahci = ahci_create(f->vm, f->bus, NPORTS, &err);
    g_assert_no_error(err);
    f->disk = storage_make_disk(DISK_SECTORS);
    f->rodisk = storage_make_disk(16);
    f->iso = storage_make_iso(CD_BLOCKS);
    f->iso2 = storage_make_iso(CD_BLOCKS / 2);
    struct disk_config dc = { .path = f->disk };
    g_assert_true(ahci_attach(f->ahci, 0, &dc, false, &err));
    struct disk_config cc = { .path = f->iso };
    g_assert_true(ahci_attach(f->ahci, 1, &cc, true, &err));
    struct disk_config rc = { .path = f->rodisk, .readonly = true };
    g_assert_true(ahci_attach(f->ahci, 2, &rc, false, &err));
    g_assert_no_error(err);
    f->slot = ahci_pci_slot(f->ahci);
    pci_config_write(f->bus, f->slot, 0, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    f->abar = pci_config_read(f->bus, f->slot, 0, PCI_BAR0 + 20, 4) & ~0xfu;
    g_assert_cmphex(f->abar, !=, 0);
}

static void teardown(struct fx *f, gconstpointer data)
{
    ahci_free(f->ahci);
    pci_bus_free(f->bus);
    test_vm_free(f->vm);
    storage_remove(f->disk);
    storage_remove(f->rodisk);
    storage_remove(f->iso);
    storage_remove(f->iso2);
}

static uint32_t rd(struct fx *f, unsigned off) { return (uint32_t)test_mmio_read(f->vm, f->abar + off, 4); }
static void wr(struct fx *f, unsigned off, uint32_t v) { test_mmio_write(f->vm, f->abar + off, v, 4); }
static uint32_t prd(struct fx *f, unsigned port, unsigned reg) { return rd(f, 0x100 + port * 0x80 + reg); }
static void pwr(struct fx *f, unsigned port, unsigned reg, uint32_t v) { wr(f, 0x100 + port * 0x80 + reg, v); }

#define PX_CLB 0x00
#define PX_CLBU 0x04
#define PX_FB 0x08
#define PX_IS 0x10
#define PX_IE 0x14
#define PX_CMD 0x18
#define PX_TFD 0x20
#define PX_SIG 0x24
#define PX_SSTS 0x28
#define PX_SCTL 0x2c
#define PX_SERR 0x30
#define PX_SACT 0x34
#define PX_CI 0x38

static uint8_t *ram(struct fx *f, uint64_t gpa, uint64_t len)
{
    uint8_t *p = guest_memory_ptr(vm_memory(f->vm), gpa, len);
    g_assert_nonnull(p);
    return p;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

static void port_start(struct fx *f, unsigned port)
{
    memset(ram(f, CLB(port), 0x10000), 0, 0x10000);
    pwr(f, port, PX_CLB, CLB(port));
    pwr(f, port, PX_CLBU, 0);
    pwr(f, port, PX_FB, FB(port));
    pwr(f, port, PX_CMD, 1u << 4);      /* FRE */
    pwr(f, port, PX_SERR, 0xffffffffu);
    pwr(f, port, PX_IS, 0xffffffffu);
    pwr(f, port, PX_IE, 0xffffffffu);
    pwr(f, port, PX_CMD, (1u << 4) | 1u);
    g_assert_cmphex(prd(f, port, PX_CMD) & 0xc011, ==, 0xc011);   /* CR FR FRE ST */
}

struct prd_ent {
    uint64_t addr;
    uint32_t len;
    bool intr;
};

static void h2d(uint8_t *cfis, uint8_t cmd, uint64_t lba, uint16_t count, uint16_t feature)
{
    memset(cfis, 0, 64);
    cfis[0] = 0x27;
    cfis[1] = 0x80;
    cfis[2] = cmd;
    cfis[3] = (uint8_t)feature;
    cfis[4] = (uint8_t)lba;
    cfis[5] = (uint8_t)(lba >> 8);
    cfis[6] = (uint8_t)(lba >> 16);
    cfis[7] = 0x40;
    cfis[8] = (uint8_t)(lba >> 24);
    cfis[9] = (uint8_t)(lba >> 32);
    cfis[10] = (uint8_t)(lba >> 40);
    cfis[11] = (uint8_t)(feature >> 8);
    cfis[12] = (uint8_t)count;
    cfis[13] = (uint8_t)(count >> 8);
}

/* Build slot's command header and table; the CFIS is already in place. */
static void prepare(struct fx *f, unsigned port, unsigned slot, bool atapi, bool write,
                    const struct prd_ent *prds, unsigned nprd)
{
    uint8_t *hdr = ram(f, CLB(port) + slot * 32, 32);
    uint8_t *ct = ram(f, CTBA(port, slot), 0x200);
    put32(hdr, 5u | (atapi ? 1u << 5 : 0) | (write ? 1u << 6 : 0) | (uint32_t)nprd << 16);
    put32(hdr + 4, 0xdeadbeef);
    put32(hdr + 8, CTBA(port, slot));
    put32(hdr + 12, 0);
    for (unsigned i = 0; i < nprd; i++) {
        uint8_t *e = ct + 0x80 + i * 16;
        put32(e, (uint32_t)prds[i].addr);
        put32(e + 4, (uint32_t)(prds[i].addr >> 32));
        put32(e + 8, 0);
        put32(e + 12, (prds[i].len - 1) | (prds[i].intr ? 1u << 31 : 0));
    }
}

static uint8_t *cfis_of(struct fx *f, unsigned port, unsigned slot)
{
    return ram(f, CTBA(port, slot), 64);
}

static uint32_t prdbc(struct fx *f, unsigned port, unsigned slot)
{
    return get32(ram(f, CLB(port) + slot * 32 + 4, 4));
}

static void run(struct fx *f, unsigned port, unsigned slot)
{
    pwr(f, port, PX_CI, 1u << slot);
    g_assert_cmphex(prd(f, port, PX_CI) & (1u << slot), ==, 0);
}

static void check_sector(const uint8_t *buf, uint64_t s)
{
    for (unsigned i = 0; i < 512; i++)
        if (buf[i] != disk_byte(s, i))
            g_error("sector %" G_GUINT64_FORMAT " byte %u: %02x", s, i, buf[i]);
}

static unsigned intx_gsi(struct fx *f)
{
    return PC_PCI_INTX_GSI(f->slot, 0);
}

/* ---- tests ----------------------------------------------------------------- */

static void test_registers(struct fx *f, gconstpointer data)
{
    g_assert_cmphex(pci_config_read(f->bus, f->slot, 0, PCI_VENDOR_ID, 4), ==, 0x29228086);
    g_assert_cmphex(pci_config_read(f->bus, f->slot, 0, PCI_CLASS_PROG, 4) >> 0 & 0xffffff, ==, 0x010601);
    g_assert_cmphex(pci_config_read(f->bus, f->slot, 0, PCI_INTERRUPT_PIN, 1), ==, 1);
    /* MSI capability in the list. */
    unsigned cap = pci_config_read(f->bus, f->slot, 0, PCI_CAPABILITY_LIST, 1);
    g_assert_cmphex(pci_config_read(f->bus, f->slot, 0, cap, 1), ==, 0x05);
    g_autofree char *path = ahci_boot_path(f->ahci, 2);
    g_autofree char *want = g_strdup_printf("/pci@i0cf8/sata@%x/drive@2/disk@0", f->slot);
    g_assert_cmpstr(path, ==, want);

    uint32_t capr = rd(f, 0x00);
    g_assert_cmpuint(capr & 0x1f, ==, NPORTS - 1);
    g_assert_cmpuint((capr >> 8) & 0x1f, ==, 31);
    g_assert_cmphex(capr & (1u << 30), !=, 0);      /* NCQ */
    g_assert_cmphex(capr & (1u << 31), !=, 0);      /* 64-bit */
    g_assert_cmphex(rd(f, 0x04), ==, 1u << 31);     /* AE */
    g_assert_cmphex(rd(f, 0x0c), ==, 0x3f);
    g_assert_cmphex(rd(f, 0x10), ==, 0x00010300);
    g_assert_cmphex(prd(f, 0, PX_SSTS) & 0xf, ==, 3);
    g_assert_cmphex(prd(f, 0, PX_SIG), ==, 0x00000101);
    g_assert_cmphex(prd(f, 1, PX_SIG), ==, 0xeb140101);
    g_assert_cmphex(prd(f, 0, PX_TFD) & 0x88, ==, 0);
    g_assert_cmphex(prd(f, 3, PX_SSTS), ==, 0);     /* nothing attached */
    /* Ports beyond PI: nothing there, writes go nowhere. */
    wr(f, 0x100 + 7 * 0x80 + PX_CLB, 0x1000);
    wr(f, 0x100 + 7 * 0x80 + PX_CI, 1);
    g_assert_cmphex(rd(f, 0x100 + 7 * 0x80 + PX_CLB), ==, 0);
    g_assert_cmphex(rd(f, 0x100 + 7 * 0x80 + PX_CI), ==, 0);
    /* Spin-up, power-on and an interface state change: SUD/POD stay on,
     * ICC completes at once. */
    pwr(f, 0, PX_CMD, (1u << 28) | 0x6);
    g_assert_cmphex(prd(f, 0, PX_CMD) & 0xf0000006u, ==, 0x6);
    /* Byte reads of a register. */
    g_assert_cmphex((uint32_t)test_mmio_read(f->vm, f->abar + 0x12, 1), ==, 0x01);

    /* GHC.HR resets the HBA and clears itself. */
    wr(f, 0x04, 2);     /* IE */
    pwr(f, 0, PX_IE, 0x1);
    g_assert_cmphex(rd(f, 0x04), ==, (1u << 31) | 2);
    wr(f, 0x04, 1);
    g_assert_cmphex(rd(f, 0x04), ==, 1u << 31);
    g_assert_cmphex(prd(f, 0, PX_IE), ==, 0);
    g_assert_cmphex(prd(f, 0, PX_SIG), ==, 0x00000101);
}

static void test_identify(struct fx *f, gconstpointer data)
{
    wr(f, 0x04, (1u << 31) | 2);
    port_start(f, 0);
    h2d(cfis_of(f, 0, 3), ATA_CMD_IDENTIFY, 0, 0, 0);
    struct prd_ent p = { DATA, 512, false };
    prepare(f, 0, 3, false, false, &p, 1);
    g_assert_false(test_vm_irq_level(f->vm, intx_gsi(f)));
    run(f, 0, 3);
    const uint8_t *id = ram(f, DATA, 512);
    g_assert_cmpmem(id + 54, 14, "ROEI LAHDRIDKS", 14);   /* ATA byte order */
    g_assert_cmphex(id[76 * 2] & 0x0100, ==, 0);
    g_assert_cmphex((id[76 * 2 + 1] << 8 | id[76 * 2]) & 0x0100, ==, 0x0100);  /* NCQ */
    g_assert_cmpuint(id[75 * 2] & 0x1f, ==, 31);
    g_assert_cmpuint(get32(id + 100 * 2), ==, DISK_SECTORS);
    g_assert_cmpuint(prdbc(f, 0, 3), ==, 512);

    const uint8_t *fb = ram(f, FB(0), 256);
    g_assert_cmphex(fb[0x40], ==, 0x34);            /* D2H */
    g_assert_cmphex(fb[0x41] & 0x40, ==, 0x40);
    g_assert_cmphex(fb[0x42], ==, ATA_SR_DRDY | ATA_SR_DSC);
    g_assert_cmphex(fb[0x43], ==, 0);
    g_assert_cmphex(fb[0x20], ==, 0x5f);            /* PIO setup */
    g_assert_cmphex(fb[0x20 + 15], ==, ATA_SR_DRDY | ATA_SR_DSC);
    g_assert_cmpuint(fb[0x20 + 16] | fb[0x20 + 17] << 8, ==, 512);
    g_assert_cmphex(prd(f, 0, PX_IS) & 3, ==, 3);   /* DHRS, PSS */
    g_assert_cmphex(prd(f, 0, PX_TFD), ==, ATA_SR_DRDY | ATA_SR_DSC);
    g_assert_cmphex(prd(f, 0, PX_CMD) >> 8 & 0x1f, ==, 3);     /* CCS */
    g_assert_cmphex(rd(f, 0x08), ==, 1);
    g_assert_true(test_vm_irq_level(f->vm, intx_gsi(f)));
    /* Clearing the port's status, then the HBA's, lowers the line. */
    pwr(f, 0, PX_IS, 0xffffffffu);
    g_assert_true(test_vm_irq_level(f->vm, intx_gsi(f)));
    wr(f, 0x08, 1);
    g_assert_cmphex(rd(f, 0x08), ==, 0);
    g_assert_false(test_vm_irq_level(f->vm, intx_gsi(f)));
    /* With GHC.IE clear no interrupt is raised, but status is recorded. */
    wr(f, 0x04, 1u << 31);
    run(f, 0, 3);
    g_assert_false(test_vm_irq_level(f->vm, intx_gsi(f)));
    g_assert_cmphex(rd(f, 0x08), ==, 1);
}

static void test_read_write_dma(struct fx *f, gconstpointer data)
{
    port_start(f, 0);
    memset(ram(f, DATA, 0x20000), 0xee, 0x20000);
    h2d(cfis_of(f, 0, 0), ATA_CMD_READ_DMA_EXT, 300, 16, 0);
    struct prd_ent p[3] = { { DATA, 1024, false }, { DATA + 0x4000, 2048, false },
                            { DATA + 0x8000, 8192, true } };
    prepare(f, 0, 0, false, false, p, 3);
    run(f, 0, 0);
    check_sector(ram(f, DATA, 512), 300);
    check_sector(ram(f, DATA + 512, 512), 301);
    for (unsigned s = 0; s < 4; s++)
        check_sector(ram(f, DATA + 0x4000 + s * 512, 512), 302 + s);
    for (unsigned s = 0; s < 10; s++)
        check_sector(ram(f, DATA + 0x8000 + s * 512, 512), 306 + s);
    g_assert_cmphex(ram(f, DATA + 0x8000 + 5120, 1)[0], ==, 0xee);
    g_assert_cmpuint(prdbc(f, 0, 0), ==, 16 * 512);
    g_assert_cmphex(prd(f, 0, PX_IS), ==, 0x21);    /* DHRS, DPS */
    const uint8_t *fb = ram(f, FB(0), 256);
    g_assert_cmphex(fb[0x40], ==, 0x34);
    g_assert_cmphex(fb[0x42], ==, ATA_SR_DRDY | ATA_SR_DSC);

    /* WRITE DMA EXT from two buffers, read back from the image. */
    uint8_t *src = ram(f, DATA + 0x10000, 1536);
    for (unsigned i = 0; i < 1536; i++)
        src[i] = (uint8_t)(i * 3);
    h2d(cfis_of(f, 0, 1), ATA_CMD_WRITE_DMA_EXT, 40, 3, 0);
    struct prd_ent w[2] = { { DATA + 0x10000, 1024, false }, { DATA + 0x10400, 512, false } };
    prepare(f, 0, 1, false, true, w, 2);
    run(f, 0, 1);
    g_assert_cmphex(prd(f, 0, PX_TFD), ==, ATA_SR_DRDY | ATA_SR_DSC);
    uint8_t back[1536];
    storage_read_file(f->disk, 40 * 512, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), src, 1536);

    /* FLUSH CACHE EXT: a non-data command. */
    h2d(cfis_of(f, 0, 2), ATA_CMD_FLUSH_CACHE_EXT, 0, 0, 0);
    prepare(f, 0, 2, false, false, NULL, 0);
    run(f, 0, 2);
    g_assert_cmphex(prd(f, 0, PX_TFD), ==, ATA_SR_DRDY | ATA_SR_DSC);

    /* Several slots issued at once complete in one go. */
    h2d(cfis_of(f, 0, 5), ATA_CMD_READ_DMA_EXT, 1, 1, 0);
    struct prd_ent a = { DATA + 0x18000, 512, false };
    prepare(f, 0, 5, false, false, &a, 1);
    h2d(cfis_of(f, 0, 6), ATA_CMD_READ_DMA, 2, 1, 0);
    struct prd_ent b = { DATA + 0x18200, 512, false };
    prepare(f, 0, 6, false, false, &b, 1);
    pwr(f, 0, PX_CI, (1u << 5) | (1u << 6));
    g_assert_cmphex(prd(f, 0, PX_CI), ==, 0);
    check_sector(ram(f, DATA + 0x18000, 512), 1);
    check_sector(ram(f, DATA + 0x18200, 512), 2);
}

static void test_ncq(struct fx *f, gconstpointer data)
{
    port_start(f, 0);
    memset(ram(f, DATA, 0x10000), 0, 0x10000);
    /* Three queued reads and a queued write. */
    for (unsigned t = 0; t < 3; t++) {
        h2d(cfis_of(f, 0, t), ATA_CMD_READ_FPDMA_QUEUED, 100 + t * 8, (uint16_t)(t << 3), 8);
        struct prd_ent p = { DATA + t * 0x1000, 4096, false };
        prepare(f, 0, t, false, false, &p, 1);
    }
    uint8_t *src = ram(f, DATA + 0x8000, 1024);
    memset(src, 0x42, 1024);
    h2d(cfis_of(f, 0, 9), ATA_CMD_WRITE_FPDMA_QUEUED, 450, 9 << 3, 2);
    struct prd_ent w = { DATA + 0x8000, 1024, false };
    prepare(f, 0, 9, false, true, &w, 1);
    uint32_t tags = 0x7 | 1u << 9;
    pwr(f, 0, PX_SACT, tags);
    g_assert_cmphex(prd(f, 0, PX_SACT), ==, tags);
    pwr(f, 0, PX_CI, tags);
    g_assert_cmphex(prd(f, 0, PX_CI), ==, 0);
    g_assert_cmphex(prd(f, 0, PX_SACT), ==, 0);
    for (unsigned t = 0; t < 3; t++)
        for (unsigned s = 0; s < 8; s++)
            check_sector(ram(f, DATA + t * 0x1000 + s * 512, 512), 100 + t * 8 + s);
    uint8_t back[1024];
    storage_read_file(f->disk, 450 * 512, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), src, 1024);
    const uint8_t *fb = ram(f, FB(0), 256);
    g_assert_cmphex(fb[0x58], ==, 0xa1);            /* SDB FIS of the last one */
    g_assert_cmphex(fb[0x59] & 0x40, ==, 0x40);
    g_assert_cmphex(get32(fb + 0x5c), ==, 1u << 9);
    g_assert_cmphex(fb[0x00], ==, 0x41);            /* DMA setup */
    g_assert_cmpuint(fb[0x04], ==, 9);
    g_assert_cmphex(prd(f, 0, PX_IS) & 0x8, ==, 0x8);       /* SDBS */
    g_assert_cmphex(prd(f, 0, PX_IS) & (1u << 30), ==, 0);
    g_assert_cmphex(prd(f, 0, PX_TFD) & 0x89, ==, 0);

    /* A queued command without its SActive bit is refused. */
    pwr(f, 0, PX_IS, 0xffffffffu);
    h2d(cfis_of(f, 0, 4), ATA_CMD_READ_FPDMA_QUEUED, 0, 4 << 3, 1);
    struct prd_ent p = { DATA, 512, false };
    prepare(f, 0, 4, false, false, &p, 1);
    run(f, 0, 4);
    g_assert_cmphex(prd(f, 0, PX_TFD) & 0xff, ==, ATA_SR_DRDY | ATA_SR_ERR);
    g_assert_cmphex(prd(f, 0, PX_IS) & (1u << 30), ==, 1u << 30);
    /* Out of range: error status, the tag stays active for the error log. */
    pwr(f, 0, PX_IS, 0xffffffffu);
    h2d(cfis_of(f, 0, 4), ATA_CMD_READ_FPDMA_QUEUED, DISK_SECTORS - 1, 4 << 3, 2);
    pwr(f, 0, PX_SACT, 1u << 4);
    run(f, 0, 4);
    g_assert_cmphex(prd(f, 0, PX_TFD), ==, (ATA_ER_IDNF << 8) | ATA_SR_DRDY | ATA_SR_ERR);
    g_assert_cmphex(prd(f, 0, PX_SACT), ==, 1u << 4);
    /* Stopping the port drops it. */
    pwr(f, 0, PX_CMD, 1u << 4);
    g_assert_cmphex(prd(f, 0, PX_SACT), ==, 0);
    /* The NCQ command error log names the failed tag once. */
    pwr(f, 0, PX_CMD, (1u << 4) | 1);
    for (unsigned round = 0; round < 2; round++) {
        h2d(cfis_of(f, 0, 7), ATA_CMD_READ_LOG_EXT, 0x10, 1, 0);
        struct prd_ent lp = { DATA + 0x2000, 512, false };
        prepare(f, 0, 7, false, false, &lp, 1);
        run(f, 0, 7);
        g_assert_cmphex(prd(f, 0, PX_TFD), ==, ATA_SR_DRDY | ATA_SR_DSC);
        const uint8_t *log = ram(f, DATA + 0x2000, 512);
        uint8_t sum = 0;
        for (unsigned i = 0; i < 512; i++)
            sum = (uint8_t)(sum + log[i]);
        g_assert_cmpuint(sum, ==, 0);
        if (round == 0) {
            g_assert_cmphex(log[0], ==, 4);
            g_assert_cmphex(log[2], ==, ATA_SR_DRDY | ATA_SR_ERR);
            g_assert_cmphex(log[3], ==, ATA_ER_IDNF);
        } else {
            g_assert_cmphex(log[0], ==, 0x80);
        }
    }
    /* Other logs are not there. */
    h2d(cfis_of(f, 0, 7), ATA_CMD_READ_LOG_EXT, 0x11, 1, 0);
    run(f, 0, 7);
    g_assert_cmphex(prd(f, 0, PX_TFD), ==, (ATA_ER_ABRT << 8) | ATA_SR_DRDY | ATA_SR_ERR);
    pwr(f, 0, PX_CMD, 1u << 4);
    g_assert_cmphex(prd(f, 0, PX_SACT), ==, 0);
    g_assert_cmphex(prd(f, 0, PX_CMD) & (1u << 15), ==, 0);
}

static void packet(struct fx *f, unsigned slot, const uint8_t *cdb, bool dma,
                   const struct prd_ent *p, unsigned n)
{
    h2d(cfis_of(f, 1, slot), ATA_CMD_PACKET, 0, 0, dma ? 1 : 0);
    memset(ram(f, CTBA(1, slot) + 0x40, 16), 0, 16);
    memcpy(ram(f, CTBA(1, slot) + 0x40, 12), cdb, 12);
    prepare(f, 1, slot, true, false, p, n);
    pwr(f, 1, PX_IS, 0xffffffffu);
    run(f, 1, slot);
}

static void test_atapi(struct fx *f, gconstpointer data)
{
    port_start(f, 1);
    h2d(cfis_of(f, 1, 0), ATA_CMD_IDENTIFY_PACKET, 0, 0, 0);
    struct prd_ent p = { DATA, 512, false };
    prepare(f, 1, 0, false, false, &p, 1);
    run(f, 1, 0);
    g_assert_cmphex(ram(f, DATA, 2)[1], ==, 0x85);

    uint8_t inq[12] = { 0x12, 0, 0, 0, 36 };
    packet(f, 0, inq, false, &p, 1);
    g_assert_cmphex(ram(f, DATA, 1)[0], ==, 0x05);
    g_assert_cmpmem(ram(f, DATA + 16, 7), 7, "DVD-ROM", 7);
    g_assert_cmpuint(prdbc(f, 1, 0), ==, 36);
    g_assert_cmphex(prd(f, 1, PX_TFD), ==, ATA_SR_DRDY | ATA_SR_DSC);
    const uint8_t *fb = ram(f, FB(1), 256);
    g_assert_cmphex(fb[0x4c], ==, ATAPI_IR_IO | ATAPI_IR_COD);

    /* READ(10) of 3 blocks by DMA through two PRD entries. */
    uint8_t r10[12] = { 0x28, 0, 0, 0, 0, 4, 0, 0, 3 };
    struct prd_ent two[2] = { { DATA + 0x1000, 2048, false }, { DATA + 0x4000, 4096, false } };
    packet(f, 1, r10, true, two, 2);
    for (unsigned i = 0; i < 2048; i++)
        g_assert_cmphex(ram(f, DATA + 0x1000, 2048)[i], ==, cd_byte(4, i));
    for (unsigned i = 0; i < 4096; i++)
        g_assert_cmphex(ram(f, DATA + 0x4000, 4096)[i], ==, cd_byte(5 + i / 2048, i % 2048));

    /* A medium change: UNIT ATTENTION with an error D2H FIS and TFES. */
    g_autoptr(GError) err = NULL;
    g_assert_true(ahci_cdrom_change_media(f->ahci, 1, f->iso2, &err));
    uint8_t tur[12] = { 0 };
    packet(f, 2, tur, false, NULL, 0);
    g_assert_cmphex(prd(f, 1, PX_TFD) & 0xff, ==, ATA_SR_DRDY | ATA_SR_ERR);
    g_assert_cmphex(prd(f, 1, PX_TFD) >> 12 & 0xf, ==, 0x6);
    g_assert_cmphex(prd(f, 1, PX_IS) & (1u << 30), ==, 1u << 30);
    g_assert_cmphex(fb[0x42], ==, ATA_SR_DRDY | ATA_SR_ERR);
    packet(f, 2, tur, false, NULL, 0);
    g_assert_cmphex(prd(f, 1, PX_TFD), ==, ATA_SR_DRDY | ATA_SR_DSC);
    uint8_t rc[12] = { 0x25 };
    packet(f, 3, rc, false, &p, 1);
    g_assert_cmpuint(ram(f, DATA + 3, 1)[0], ==, CD_BLOCKS / 2 - 1);
    /* Eject from the host: NOT READY. */
    g_assert_true(ahci_cdrom_eject(f->ahci, 1, false, &err));
    packet(f, 2, tur, false, NULL, 0);  /* the change itself */
    packet(f, 2, tur, false, NULL, 0);
    g_assert_cmphex(prd(f, 1, PX_TFD) >> 12 & 0xf, ==, 0x2);
    /* ATAPI commands to a disk port are refused. */
    port_start(f, 0);
    h2d(cfis_of(f, 0, 0), ATA_CMD_PACKET, 0, 0, 0);
    prepare(f, 0, 0, true, false, NULL, 0);
    run(f, 0, 0);
    g_assert_cmphex(prd(f, 0, PX_TFD), ==, (ATA_ER_ABRT << 8) | ATA_SR_DRDY | ATA_SR_ERR);
}

static void test_msi(struct fx *f, gconstpointer data)
{
    unsigned cap = pci_config_read(f->bus, f->slot, 0, PCI_CAPABILITY_LIST, 1);
    pci_config_write(f->bus, f->slot, 0, cap + 4, 0xfee00000u, 4);
    pci_config_write(f->bus, f->slot, 0, cap + 8, 0, 4);
    pci_config_write(f->bus, f->slot, 0, cap + 12, 0x4041, 2);
    pci_config_write(f->bus, f->slot, 0, cap + 2, 1, 2);
    g_assert_cmphex(pci_config_read(f->bus, f->slot, 0, cap + 2, 2) & 0x81, ==, 0x81);
    wr(f, 0x04, (1u << 31) | 2);
    port_start(f, 0);
    unsigned before = test_vm_msi_count(f->vm);
    h2d(cfis_of(f, 0, 0), ATA_CMD_FLUSH_CACHE, 0, 0, 0);
    prepare(f, 0, 0, false, false, NULL, 0);
    run(f, 0, 0);
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, before + 1);
    struct test_msi m = test_vm_msi(f->vm, before);
    g_assert_cmphex(m.address, ==, 0xfee00000u);
    g_assert_cmphex(m.data, ==, 0x4041);
    g_assert_false(test_vm_irq_level(f->vm, intx_gsi(f)));
    /* An interrupt already pending does not send another message. */
    run(f, 0, 0);
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, before + 1);
    pwr(f, 0, PX_IS, 0xffffffffu);
    wr(f, 0x08, 0xffffffffu);
    run(f, 0, 0);
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, before + 2);
}

static void test_resets(struct fx *f, gconstpointer data)
{
    port_start(f, 1);
    /* Software reset: two control FISes (SRST set, then clear). */
    uint8_t *c = cfis_of(f, 1, 0);
    memset(c, 0, 64);
    c[0] = 0x27;
    c[15] = ATA_DC_SRST;
    prepare(f, 1, 0, false, false, NULL, 0);
    run(f, 1, 0);
    g_assert_cmphex(prd(f, 1, PX_TFD) & 0x80, ==, 0x80);
    c[15] = 0;
    run(f, 1, 0);
    g_assert_cmphex(prd(f, 1, PX_TFD) & 0x88, ==, 0);
    g_assert_cmphex(prd(f, 1, PX_SIG), ==, 0xeb140101);
    const uint8_t *fb = ram(f, FB(1), 256);
    g_assert_cmphex(fb[0x40], ==, 0x34);
    g_assert_cmphex(fb[0x46], ==, 0xeb);

    /* COMRESET through SCTL.DET. */
    pwr(f, 0, PX_CMD, 0);
    pwr(f, 0, PX_SCTL, 1);
    g_assert_cmphex(prd(f, 0, PX_SSTS) & 0xf, ==, 0);
    pwr(f, 0, PX_SCTL, 0);
    g_assert_cmphex(prd(f, 0, PX_SSTS) & 0xf, ==, 3);
    g_assert_cmphex(prd(f, 0, PX_SIG), ==, 0x101);
    g_assert_cmphex(prd(f, 0, PX_SERR) & (1u << 26), ==, 1u << 26);
    pwr(f, 0, PX_SERR, 0xffffffffu);
    g_assert_cmphex(prd(f, 0, PX_SERR), ==, 0);

    /* Platform reset. */
    test_vm_platform_reset(f->vm);
    g_assert_cmphex(pci_config_read(f->bus, f->slot, 0, PCI_COMMAND, 2) & 7, ==, 0);
    pci_config_write(f->bus, f->slot, 0, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    g_assert_cmphex(prd(f, 1, PX_CMD) & 1, ==, 0);
    g_assert_cmphex(prd(f, 1, PX_SIG), ==, 0xeb140101);
}

static void expect_tfes(struct fx *f, unsigned port, uint8_t error)
{
    g_assert_cmphex(prd(f, port, PX_TFD), ==, ((uint32_t)error << 8) | ATA_SR_DRDY | ATA_SR_ERR);
    g_assert_cmphex(prd(f, port, PX_IS) & (1u << 30), ==, 1u << 30);
    pwr(f, port, PX_IS, 0xffffffffu);
}

static void test_hostile(struct fx *f, gconstpointer data)
{
    port_start(f, 0);
    struct prd_ent p = { DATA, 512, false };

    /* LBA beyond the disk. */
    h2d(cfis_of(f, 0, 0), ATA_CMD_READ_DMA_EXT, DISK_SECTORS, 1, 0);
    prepare(f, 0, 0, false, false, &p, 1);
    run(f, 0, 0);
    expect_tfes(f, 0, ATA_ER_IDNF | ATA_ER_ABRT);
    /* A PRD entry beyond RAM, or straddling its end. */
    h2d(cfis_of(f, 0, 0), ATA_CMD_READ_DMA_EXT, 0, 1, 0);
    struct prd_ent out = { 0x1f0000000ull, 512, false };
    prepare(f, 0, 0, false, false, &out, 1);
    run(f, 0, 0);
    expect_tfes(f, 0, ATA_ER_ABRT);
    pwr(f, 0, PX_CMD, 1u << 4);
    pwr(f, 0, PX_CMD, (1u << 4) | 1);
    struct prd_ent straddle = { RAM - 256, 512, false };
    prepare(f, 0, 0, false, false, &straddle, 1);
    run(f, 0, 0);
    expect_tfes(f, 0, ATA_ER_ABRT);
    pwr(f, 0, PX_CMD, 1u << 4);
    pwr(f, 0, PX_CMD, (1u << 4) | 1);
    /* A PRDT shorter than the transfer, and none at all. */
    h2d(cfis_of(f, 0, 0), ATA_CMD_READ_DMA_EXT, 0, 4, 0);
    prepare(f, 0, 0, false, false, &p, 1);
    run(f, 0, 0);
    expect_tfes(f, 0, ATA_ER_ABRT);
    prepare(f, 0, 0, false, false, NULL, 0);
    run(f, 0, 0);
    expect_tfes(f, 0, ATA_ER_ABRT);
    /* A huge PRDT of 4 MiB entries all pointing at the same buffer. */
    h2d(cfis_of(f, 0, 0), ATA_CMD_READ_DMA_EXT, 0, 0, 0);   /* 65536 sectors */
    uint8_t *hdr = ram(f, CLB(0), 32);
    put32(hdr, 5u | 0xffffu << 16);
    for (unsigned i = 0; i < 8; i++)
        put32(ram(f, CTBA(0, 0) + 0x80 + i * 16 + 12, 4), 0x3fffff);
    run(f, 0, 0);
    expect_tfes(f, 0, ATA_ER_IDNF | ATA_ER_ABRT);   /* 32 MiB > the disk */

    /* The command table outside RAM: host bus fatal error, port stops. */
    put32(hdr, 5u);
    put32(hdr + 8, 0xfffff000u);
    put32(hdr + 12, 0x10);
    pwr(f, 0, PX_CI, 1);
    g_assert_cmphex(prd(f, 0, PX_IS) & (1u << 29), ==, 1u << 29);
    g_assert_cmphex(prd(f, 0, PX_CMD) & (1u << 15), ==, 0);
    g_assert_cmphex(prd(f, 0, PX_CI), ==, 0);
    pwr(f, 0, PX_CI, 1);    /* ignored while stopped */
    g_assert_cmphex(prd(f, 0, PX_IS) & (1u << 29), ==, 1u << 29);
    /* The command list itself outside RAM. */
    pwr(f, 0, PX_CMD, 1u << 4);
    pwr(f, 0, PX_IS, 0xffffffffu);
    pwr(f, 0, PX_CLB, 0xfffffc00u);
    pwr(f, 0, PX_CLBU, 0x7);
    pwr(f, 0, PX_CMD, (1u << 4) | 1);
    pwr(f, 0, PX_CI, 0x80000001u);
    g_assert_cmphex(prd(f, 0, PX_IS) & (1u << 29), ==, 1u << 29);
    g_assert_cmphex(prd(f, 0, PX_CI), ==, 0x80000000u);   /* stopped at the first */

    /* Not a register FIS: interface error. */
    port_start(f, 0);
    uint8_t *c = cfis_of(f, 0, 1);
    memset(c, 0, 64);
    c[0] = 0x34;
    prepare(f, 0, 1, false, false, NULL, 0);
    run(f, 0, 1);
    g_assert_cmphex(prd(f, 0, PX_IS) & (1u << 27), ==, 1u << 27);

    /* A receive area outside RAM: the command still completes. */
    port_start(f, 0);
    pwr(f, 0, PX_CMD, 1u << 4);
    pwr(f, 0, PX_FB, 0xffffff00u);
    pwr(f, 0, PX_CMD, (1u << 4) | 1);
    h2d(cfis_of(f, 0, 2), ATA_CMD_READ_DMA, 5, 1, 0);
    prepare(f, 0, 2, false, false, &p, 1);
    run(f, 0, 2);
    check_sector(ram(f, DATA, 512), 5);
    g_assert_cmphex(prd(f, 0, PX_TFD), ==, ATA_SR_DRDY | ATA_SR_DSC);

    /* CI written while the port is stopped does nothing. */
    pwr(f, 0, PX_CMD, 0);
    pwr(f, 0, PX_CI, 0xffffffffu);
    g_assert_cmphex(prd(f, 0, PX_CI), ==, 0);
    /* Garbage in every register of every port and the global ones. */
    for (unsigned off = 0; off < 0x1000; off += 4)
        if (off != 0x04)
            wr(f, off, 0xffffffffu);
    wr(f, 0x04, 1);     /* HBA reset */
    port_start(f, 0);
    h2d(cfis_of(f, 0, 0), ATA_CMD_READ_DMA, 6, 1, 0);
    prepare(f, 0, 0, false, false, &p, 1);
    run(f, 0, 0);
    check_sector(ram(f, DATA, 512), 6);
}

static void test_readonly(struct fx *f, gconstpointer data)
{
    port_start(f, 2);
    memset(ram(f, DATA, 512), 0x99, 512);
    struct prd_ent p = { DATA, 512, false };
    h2d(cfis_of(f, 2, 0), ATA_CMD_WRITE_DMA_EXT, 1, 1, 0);
    prepare(f, 2, 0, false, true, &p, 1);
    run(f, 2, 0);
    expect_tfes(f, 2, ATA_ER_ABRT);
    pwr(f, 2, PX_SACT, 2);
    h2d(cfis_of(f, 2, 1), ATA_CMD_WRITE_FPDMA_QUEUED, 1, 1 << 3, 1);
    prepare(f, 2, 1, false, true, &p, 1);
    run(f, 2, 1);
    expect_tfes(f, 2, ATA_ER_ABRT);
    uint8_t back[512];
    storage_read_file(f->rodisk, 512, back, 512);
    check_sector(back, 1);
    /* CD-ROM: SCSI WRITE(10) is refused as write protected. */
    port_start(f, 1);
    uint8_t w10[12] = { 0x2a, 0, 0, 0, 0, 1, 0, 0, 1 };
    packet(f, 0, w10, true, &p, 1);
    g_assert_cmphex(prd(f, 1, PX_TFD) >> 12 & 0xf, ==, 0x7);
}

/* ---- VM state ------------------------------------------------------------------- */

/* A started port, saved and loaded into a second controller (another VM):
 * its registers come along, and a command issued there runs without the
 * driver setting the port up again.  A different port count is refused. */
static void test_state_round_trip(struct fx *f, gconstpointer data)
{
    port_start(f, 0);
    pwr(f, 0, PX_IE, 0x21);
    struct pci_device *d = ahci_pci_device(f->ahci);
    struct state_out o;
    state_out_init(&o);
    g_autoptr(GError) err = NULL;
    g_assert_true(d->state->save(d, &o, &err));

    struct fx g;
    setup(&g, NULL);
    struct pci_device *d2 = ahci_pci_device(g.ahci);
    struct state_in in;
    state_in_init(&in, o.buf->data, o.buf->len, "ahci");
    g_assert_true(d2->state->load(d2, &in, 1, &err));
    g_assert_no_error(err);
    g_assert_true(state_in_finish(&in, &err));
    g_assert_cmphex(prd(&g, 0, PX_CLB), ==, CLB(0));
    g_assert_cmphex(prd(&g, 0, PX_IE), ==, 0x21);
    g_assert_cmphex(prd(&g, 0, PX_CMD) & 0xc011, ==, 0xc011);
    memset(ram(&g, CLB(0), 0x10000), 0, 0x10000);
    h2d(cfis_of(&g, 0, 0), ATA_CMD_READ_DMA_EXT, 40, 2, 0);
    struct prd_ent p = { DATA, 1024, true };
    prepare(&g, 0, 0, false, false, &p, 1);
    run(&g, 0, 0);
    check_sector(ram(&g, DATA, 512), 40);
    check_sector(ram(&g, DATA + 512, 512), 41);

    o.buf->data[0] = NPORTS + 1;
    state_in_init(&in, o.buf->data, o.buf->len, "ahci");
    g_assert_false(d2->state->load(d2, &in, 1, &err));
    g_assert_nonnull(strstr(err->message, "AHCI ports"));
    state_out_clear(&o);
    teardown(&g, NULL);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define T(name, fn) g_test_add("/ahci/" name, struct fx, NULL, setup, fn, teardown)
    T("registers", test_registers);
    T("identify", test_identify);
    T("read-write-dma", test_read_write_dma);
    T("ncq", test_ncq);
    T("atapi", test_atapi);
    T("msi", test_msi);
    T("resets", test_resets);
    T("hostile", test_hostile);
    T("readonly", test_readonly);
    T("state/round-trip", test_state_round_trip);
#undef T
    return g_test_run();
}
