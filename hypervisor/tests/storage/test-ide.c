/* PIIX3 IDE through its port interface, as a guest driver programs it: a
 * disk on the primary master, a CD-ROM on the secondary master; PIO and
 * bus-master DMA transfers against temporary images; ATAPI commands,
 * media change and eject; malformed programming. */
#include <string.h>
#include <glib.h>
#include <gio/gio.h>

#include "storage/ide.h"
#include "core/state_stream.h"
#include "pci/pci.h"
#include "storage/ata.h"
#include "storage_test.h"
#include "tests/support/test_vm.h"

#define DISK_SECTORS 256
#define CD_BLOCKS    40
#define P 0x1f0
#define PCTL 0x3f6
#define S 0x170
#define SCTL 0x376
#define RAM (64u << 20)

struct fx {
    struct vm *vm;
    struct pci_bus *bus;
    struct ide_controller *ide;
    char *disk, *iso, *iso2;
    uint16_t bm;
    unsigned tray_events;
    bool tray_open;
};

static void on_tray(void *opaque, unsigned channel, unsigned unit, bool open)
{
    struct fx *f = opaque;
    g_assert_cmpuint(channel, ==, 1);
    g_assert_cmpuint(unit, ==, 0);
    f->tray_events++;
    f->tray_open = open;
}

static void setup_opts(struct fx *f, bool readonly_disk)
{
    f->vm = test_vm_new(RAM);
    f->bus = pci_bus_create(f->vm);
    g_autoptr(GError) err = NULL;
    f->ide = piix3_ide_create(f->vm, f->bus, &err);
    g_assert_no_error(err);
    f->disk = storage_make_disk(DISK_SECTORS);
    f->iso = storage_make_iso(CD_BLOCKS);
    f->iso2 = storage_make_iso(CD_BLOCKS * 2);
    struct disk_config dc = { .path = f->disk, .readonly = readonly_disk, .serial = (char *)"SER123" };
    g_assert_true(ide_attach(f->ide, 0, 0, &dc, false, &err));
    g_assert_no_error(err);
    struct disk_config cc = { .path = f->iso };
    g_assert_true(ide_attach(f->ide, 1, 0, &cc, true, &err));
    g_assert_no_error(err);
    ide_set_tray_handler(f->ide, on_tray, f);
    pci_config_write(f->bus, 1, 1, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
    f->bm = (uint16_t)(pci_config_read(f->bus, 1, 1, PCI_BAR0 + 16, 4) & ~3u);
    g_assert_cmpuint(f->bm, !=, 0);
}

static void setup(struct fx *f, gconstpointer data)
{
    setup_opts(f, false);
}

static void setup_ro(struct fx *f, gconstpointer data)
{
    setup_opts(f, true);
}

static void teardown(struct fx *f, gconstpointer data)
{
    ide_free(f->ide);
    pci_bus_free(f->bus);
    test_vm_free(f->vm);
    storage_remove(f->disk);
    storage_remove(f->iso);
    storage_remove(f->iso2);
}

static uint8_t inb(struct fx *f, uint16_t port) { return (uint8_t)test_pio_read(f->vm, port, 1); }
static uint16_t inw(struct fx *f, uint16_t port) { return (uint16_t)test_pio_read(f->vm, port, 2); }
static uint32_t inl(struct fx *f, uint16_t port) { return (uint32_t)test_pio_read(f->vm, port, 4); }
static void outb(struct fx *f, uint16_t port, uint8_t v) { test_pio_write(f->vm, port, v, 1); }
static void outw(struct fx *f, uint16_t port, uint16_t v) { test_pio_write(f->vm, port, v, 2); }
static void outl(struct fx *f, uint16_t port, uint32_t v) { test_pio_write(f->vm, port, v, 4); }

static uint8_t *ram(struct fx *f, uint64_t gpa, uint64_t len)
{
    uint8_t *p = guest_memory_ptr(vm_memory(f->vm), gpa, len);
    g_assert_nonnull(p);
    return p;
}

static void lba28(struct fx *f, uint16_t base, unsigned dev, uint32_t lba, uint8_t count)
{
    outb(f, base + 6, (uint8_t)(0xe0 | dev << 4 | (lba >> 24 & 0xf)));
    outb(f, base + 2, count);
    outb(f, base + 3, (uint8_t)lba);
    outb(f, base + 4, (uint8_t)(lba >> 8));
    outb(f, base + 5, (uint8_t)(lba >> 16));
}

static void lba48(struct fx *f, uint16_t base, uint64_t lba, uint16_t count)
{
    outb(f, base + 6, 0x40);
    outb(f, base + 2, (uint8_t)(count >> 8));
    outb(f, base + 3, (uint8_t)(lba >> 24));
    outb(f, base + 4, (uint8_t)(lba >> 32));
    outb(f, base + 5, (uint8_t)(lba >> 40));
    outb(f, base + 2, (uint8_t)count);
    outb(f, base + 3, (uint8_t)lba);
    outb(f, base + 4, (uint8_t)(lba >> 8));
    outb(f, base + 5, (uint8_t)(lba >> 16));
}

static void check_sector(const uint8_t *buf, uint64_t s)
{
    for (unsigned i = 0; i < 512; i++)
        if (buf[i] != disk_byte(s, i))
            g_error("sector %" G_GUINT64_FORMAT " byte %u: %02x, expected %02x",
                    s, i, buf[i], disk_byte(s, i));
}

static void check_block(const uint8_t *buf, uint64_t b, unsigned len)
{
    for (unsigned i = 0; i < len; i++)
        if (buf[i] != cd_byte(b, i))
            g_error("block %" G_GUINT64_FORMAT " byte %u: %02x", b, i, buf[i]);
}

/* ---- PCI function ------------------------------------------------------------ */

static void test_pci_function(struct fx *f, gconstpointer data)
{
    g_assert_cmphex(pci_config_read(f->bus, 1, 1, PCI_VENDOR_ID, 2), ==, 0x8086);
    g_assert_cmphex(pci_config_read(f->bus, 1, 1, PCI_DEVICE_ID, 2), ==, 0x7010);
    g_assert_cmphex(pci_config_read(f->bus, 1, 1, PCI_CLASS_PROG, 1), ==, 0x80);
    g_assert_cmphex(pci_config_read(f->bus, 1, 1, PCI_CLASS_DEVICE, 2), ==, 0x0101);
    g_assert_cmphex(pci_config_read(f->bus, 1, 1, PCI_BAR0 + 16, 4) & 1, ==, 1);
    g_assert_cmphex(pci_config_read(f->bus, 1, 1, PCI_BAR0, 4), ==, 0);
    /* Both channels decode from the start; the timing registers keep
     * what firmware writes. */
    g_assert_cmphex(pci_config_read(f->bus, 1, 1, 0x40, 4), ==, 0x80008000);
    pci_config_write(f->bus, 1, 1, 0x40, 0xa307, 2);
    g_assert_cmphex(pci_config_read(f->bus, 1, 1, 0x40, 2), ==, 0xa307);
    /* Both drives of the used channels are marked DMA capable. */
    g_assert_cmphex(inb(f, f->bm + 2) & 0x60, ==, 0x20);
    g_assert_cmphex(inb(f, f->bm + 10) & 0x60, ==, 0x20);
    g_autofree char *path = ide_boot_path(1, 0);
    g_assert_cmpstr(path, ==, "/pci@i0cf8/ide@1,1/drive@1/disk@0");
}

/* ---- ATA disk ---------------------------------------------------------------- */

static void test_identify(struct fx *f, gconstpointer data)
{
    outb(f, P + 6, 0xa0);
    g_assert_cmphex(inb(f, P + 7), ==, ATA_SR_DRDY | ATA_SR_DSC);
    outb(f, P + 7, ATA_CMD_IDENTIFY);
    g_assert_true(test_vm_irq_level(f->vm, 14));
    g_assert_cmphex(inb(f, PCTL), ==, ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ);
    g_assert_true(test_vm_irq_level(f->vm, 14));    /* alt status does not ack */
    g_assert_cmphex(inb(f, P + 7), ==, ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ);
    g_assert_false(test_vm_irq_level(f->vm, 14));
    uint16_t id[256];
    for (unsigned i = 0; i < 256; i++)
        id[i] = inw(f, P);
    g_assert_cmphex(inb(f, P + 7), ==, ATA_SR_DRDY | ATA_SR_DSC);
    g_assert_false(test_vm_irq_level(f->vm, 14));

    char model[41] = { 0 }, serial[21] = { 0 };
    for (unsigned i = 0; i < 20; i++) {
        model[2 * i] = (char)(id[27 + i] >> 8);
        model[2 * i + 1] = (char)id[27 + i];
    }
    for (unsigned i = 0; i < 10; i++) {
        serial[2 * i] = (char)(id[10 + i] >> 8);
        serial[2 * i + 1] = (char)id[10 + i];
    }
    g_assert_true(g_str_has_prefix(model, "ORIEL HARDDISK "));
    g_assert_cmpstr(g_strchomp(serial), ==, "SER123");
    g_assert_cmphex(id[0] & 0x8000, ==, 0);             /* ATA device */
    g_assert_cmphex(id[49] & 0x0300, ==, 0x0300);       /* LBA and DMA */
    g_assert_cmpuint((uint32_t)id[60] | (uint32_t)id[61] << 16, ==, DISK_SECTORS);
    g_assert_cmpuint(id[100] | (uint64_t)id[101] << 16, ==, DISK_SECTORS);
    g_assert_cmphex(id[83] & 0x0400, ==, 0x0400);       /* LBA48 */
    g_assert_cmphex(id[63] & 7, ==, 7);                 /* multiword DMA 0-2 */
    g_assert_cmphex(id[47] & 0xff, ==, ATA_MAX_MULTIPLE);
    g_assert_cmphex(id[76], ==, 0);                     /* parallel: no SATA words */
    uint8_t sum = 0;
    for (unsigned i = 0; i < 256; i++)
        sum = (uint8_t)(sum + (id[i] & 0xff) + (id[i] >> 8));
    g_assert_cmphex(id[255] & 0xff, ==, 0xa5);
    g_assert_cmpuint(sum, ==, 0);
}

static void read_pio_sectors(struct fx *f, uint8_t *buf, unsigned n, bool dword)
{
    for (unsigned s = 0; s < n; s++) {
        g_assert_true(test_vm_irq_level(f->vm, 14));
        g_assert_cmphex(inb(f, P + 7), ==, ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ);
        if (dword)
            for (unsigned i = 0; i < 128; i++) {
                uint32_t v = inl(f, P);
                memcpy(buf + s * 512 + i * 4, &v, 4);
            }
        else
            for (unsigned i = 0; i < 256; i++) {
                uint16_t v = inw(f, P);
                memcpy(buf + s * 512 + i * 2, &v, 2);
            }
    }
    g_assert_cmphex(inb(f, PCTL), ==, ATA_SR_DRDY | ATA_SR_DSC);
}

static void test_ata_pio_read(struct fx *f, gconstpointer data)
{
    uint8_t buf[8 * 512];
    lba28(f, P, 0, 5, 3);
    outb(f, P + 7, ATA_CMD_READ_SECTORS);
    read_pio_sectors(f, buf, 3, false);
    for (unsigned s = 0; s < 3; s++)
        check_sector(buf + s * 512, 5 + s);
    /* The registers point at the last sector read. */
    g_assert_cmpuint(inb(f, P + 3), ==, 7);

    lba48(f, P, 200, 4);
    outb(f, P + 7, ATA_CMD_READ_SECTORS_EXT);
    read_pio_sectors(f, buf, 4, true);
    for (unsigned s = 0; s < 4; s++)
        check_sector(buf + s * 512, 200 + s);

    /* READ MULTIPLE: one interrupt per block of 4 sectors. */
    outb(f, P + 2, 4);
    outb(f, P + 7, ATA_CMD_SET_MULTIPLE);
    g_assert_cmphex(inb(f, P + 7), ==, ATA_SR_DRDY | ATA_SR_DSC);
    lba28(f, P, 0, 16, 8);
    outb(f, P + 7, ATA_CMD_READ_MULTIPLE);
    for (unsigned blk = 0; blk < 2; blk++) {
        g_assert_true(test_vm_irq_level(f->vm, 14));
        g_assert_cmphex(inb(f, P + 7) & ATA_SR_DRQ, ==, ATA_SR_DRQ);
        for (unsigned i = 0; i < 4 * 256; i++) {
            uint16_t v = inw(f, P);
            memcpy(buf + blk * 2048 + i * 2, &v, 2);
        }
    }
    g_assert_cmphex(inb(f, P + 7), ==, ATA_SR_DRDY | ATA_SR_DSC);
    for (unsigned s = 0; s < 8; s++)
        check_sector(buf + s * 512, 16 + s);
    /* An invalid multiple count is refused and the old one kept. */
    outb(f, P + 2, 3);
    outb(f, P + 7, ATA_CMD_SET_MULTIPLE);
    g_assert_cmphex(inb(f, P + 7), ==, ATA_SR_DRDY | ATA_SR_ERR);
    g_assert_cmphex(inb(f, P + 1), ==, ATA_ER_ABRT);

    /* CHS addressing: cylinder 0, head 1, sector 1 = LBA 63. */
    outb(f, P + 6, 0xa1);
    outb(f, P + 2, 1);
    outb(f, P + 3, 1);
    outb(f, P + 4, 0);
    outb(f, P + 5, 0);
    outb(f, P + 7, ATA_CMD_READ_SECTORS);
    read_pio_sectors(f, buf, 1, false);
    check_sector(buf, 63);
}

static void test_ata_pio_write(struct fx *f, gconstpointer data)
{
    uint8_t out[1024], back[1024];
    for (unsigned i = 0; i < sizeof(out); i++)
        out[i] = (uint8_t)(i * 31 + 7);
    lba28(f, P, 0, 9, 2);
    outb(f, P + 7, ATA_CMD_WRITE_SECTORS);
    /* The first block is requested without an interrupt. */
    g_assert_false(test_vm_irq_level(f->vm, 14));
    g_assert_cmphex(inb(f, PCTL), ==, ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ);
    for (unsigned i = 0; i < 256; i++)
        outw(f, P, (uint16_t)(out[2 * i] | out[2 * i + 1] << 8));
    g_assert_true(test_vm_irq_level(f->vm, 14));
    g_assert_cmphex(inb(f, P + 7), ==, ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ);
    for (unsigned i = 0; i < 128; i++) {
        uint32_t v;
        memcpy(&v, out + 512 + 4 * i, 4);
        outl(f, P, v);
    }
    g_assert_true(test_vm_irq_level(f->vm, 14));
    g_assert_cmphex(inb(f, P + 7), ==, ATA_SR_DRDY | ATA_SR_DSC);
    storage_read_file(f->disk, 9 * 512, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), out, sizeof(out));
    storage_read_file(f->disk, 11 * 512, back, 512);
    check_sector(back, 11);

    outb(f, P + 7, ATA_CMD_FLUSH_CACHE);
    g_assert_cmphex(inb(f, P + 7), ==, ATA_SR_DRDY | ATA_SR_DSC);

    /* WRITE MULTIPLE EXT, 2 sectors per block. */
    outb(f, P + 2, 2);
    outb(f, P + 7, ATA_CMD_SET_MULTIPLE);
    inb(f, P + 7);
    lba48(f, P, 100, 2);
    outb(f, P + 7, ATA_CMD_WRITE_MULTIPLE_EXT);
    for (unsigned i = 0; i < 512; i++)
        outw(f, P, (uint16_t)(out[2 * i] | out[2 * i + 1] << 8));
    g_assert_true(test_vm_irq_level(f->vm, 14));
    g_assert_cmphex(inb(f, P + 7), ==, ATA_SR_DRDY | ATA_SR_DSC);
    storage_read_file(f->disk, 100 * 512, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), out, sizeof(out));
}

static void put_prd(struct fx *f, uint64_t table, unsigned i, uint32_t addr, uint32_t len, bool eot)
{
    uint8_t *e = ram(f, table + i * 8, 8);
    uint32_t ctl = (len & 0xffff) | (eot ? 0x80000000u : 0);
    memcpy(e, &addr, 4);
    memcpy(e + 4, &ctl, 4);
}

static void test_dma_read(struct fx *f, gconstpointer data)
{
    const uint64_t table = 0x10000;
    memset(ram(f, 0x20000, 0x10000), 0xee, 0x10000);
    put_prd(f, table, 0, 0x20000, 1536, false);
    put_prd(f, table, 1, 0x28000, 2560, true);
    outl(f, f->bm + 4, table);
    lba28(f, P, 0, 30, 8);
    outb(f, P + 7, ATA_CMD_READ_DMA);
    g_assert_false(test_vm_irq_level(f->vm, 14));
    outb(f, f->bm, 0x09);   /* start, to memory */
    g_assert_true(test_vm_irq_level(f->vm, 14));
    g_assert_cmphex(inb(f, f->bm + 2) & 7, ==, 0x04);  /* interrupt, not active */
    g_assert_cmphex(inb(f, P + 7), ==, ATA_SR_DRDY | ATA_SR_DSC);
    uint8_t *a = ram(f, 0x20000, 1536), *b = ram(f, 0x28000, 2560);
    for (unsigned s = 0; s < 3; s++)
        check_sector(a + s * 512, 30 + s);
    for (unsigned s = 0; s < 5; s++)
        check_sector(b + s * 512, 33 + s);
    g_assert_cmphex(a[1536], ==, 0xee);
    g_assert_cmphex(b[2560], ==, 0xee);
    outb(f, f->bm + 2, 0x04);
    g_assert_cmphex(inb(f, f->bm + 2) & 7, ==, 0);
    outb(f, f->bm, 0);

    /* Engine started before the command; LBA48 DMA. */
    put_prd(f, table, 0, 0x30000, 0, true);   /* 0 = 64 KiB */
    outb(f, f->bm, 0x09);
    lba48(f, P, 128, 128);
    outb(f, P + 7, ATA_CMD_READ_DMA_EXT);
    g_assert_cmphex(inb(f, P + 7), ==, ATA_SR_DRDY | ATA_SR_DSC);
    for (unsigned s = 0; s < 128; s++)
        check_sector(ram(f, 0x30000 + s * 512, 512), 128 + s);
}

static void test_dma_write(struct fx *f, gconstpointer data)
{
    const uint64_t table = 0x10000;
    uint8_t *src = ram(f, 0x40000, 2048);
    for (unsigned i = 0; i < 2048; i++)
        src[i] = (uint8_t)(i ^ 0x5a);
    put_prd(f, table, 0, 0x40000, 1024, false);
    put_prd(f, table, 1, 0x40400, 1024, true);
    outl(f, f->bm + 4, table);
    lba28(f, P, 0, 50, 4);
    outb(f, P + 7, ATA_CMD_WRITE_DMA);
    outb(f, f->bm, 0x01);
    g_assert_true(test_vm_irq_level(f->vm, 14));
    g_assert_cmphex(inb(f, P + 7), ==, ATA_SR_DRDY | ATA_SR_DSC);
    uint8_t back[2048];
    storage_read_file(f->disk, 50 * 512, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), src, 2048);
}

static void test_nien(struct fx *f, gconstpointer data)
{
    outb(f, PCTL, ATA_DC_NIEN);
    lba28(f, P, 0, 1, 1);
    outb(f, P + 7, ATA_CMD_READ_SECTORS);
    g_assert_false(test_vm_irq_level(f->vm, 14));
    g_assert_cmphex(inb(f, PCTL) & ATA_SR_DRQ, ==, ATA_SR_DRQ);
    /* Enabling interrupts again shows the pending one. */
    outb(f, PCTL, 0);
    g_assert_true(test_vm_irq_level(f->vm, 14));
}

static void test_absent_and_reset(struct fx *f, gconstpointer data)
{
    /* No slave on the primary channel: status reads 0, commands ignored. */
    outb(f, P + 6, 0xb0);
    g_assert_cmphex(inb(f, P + 7), ==, 0);
    g_assert_cmphex(inb(f, PCTL), ==, 0);
    outb(f, P + 7, ATA_CMD_IDENTIFY);
    g_assert_cmphex(inb(f, P + 7), ==, 0);
    g_assert_false(test_vm_irq_level(f->vm, 14));
    outb(f, P + 6, 0xa0);
    g_assert_cmphex(inb(f, P + 7), ==, ATA_SR_DRDY | ATA_SR_DSC);

    /* Software reset: signatures of a disk and of a packet device. */
    outb(f, P + 2, 0x55);
    outb(f, PCTL, ATA_DC_SRST);
    g_assert_cmphex(inb(f, PCTL) & ATA_SR_BSY, ==, ATA_SR_BSY);
    outb(f, PCTL, 0);
    g_assert_cmphex(inb(f, P + 2), ==, 1);
    g_assert_cmphex(inb(f, P + 3), ==, 1);
    g_assert_cmphex(inb(f, P + 4), ==, 0);
    g_assert_cmphex(inb(f, P + 5), ==, 0);
    g_assert_cmphex(inb(f, P + 1), ==, 1);
    g_assert_cmphex(inb(f, P + 7), ==, ATA_SR_DRDY | ATA_SR_DSC);

    outb(f, SCTL, ATA_DC_SRST);
    outb(f, SCTL, 0);
    g_assert_cmphex(inb(f, S + 4), ==, 0x14);
    g_assert_cmphex(inb(f, S + 5), ==, 0xeb);
    /* A CD-ROM aborts IDENTIFY DEVICE and keeps its signature. */
    outb(f, S + 7, ATA_CMD_IDENTIFY);
    g_assert_cmphex(inb(f, S + 7) & ATA_SR_ERR, ==, ATA_SR_ERR);
    g_assert_cmphex(inb(f, S + 4), ==, 0x14);
    g_assert_cmphex(inb(f, S + 5), ==, 0xeb);
}

static void test_empty_channel(struct fx *f, gconstpointer data)
{
    /* A controller with nothing on the secondary channel floats it, but
     * for status, whose BSY the pull-down on DD7 keeps clear: firmware
     * must not wait for a device that is not there. */
    ide_free(f->ide);
    g_autoptr(GError) err = NULL;
    f->ide = piix3_ide_create(f->vm, f->bus, &err);
    g_assert_no_error(err);
    struct disk_config dc = { .path = f->disk };
    g_assert_true(ide_attach(f->ide, 0, 0, &dc, false, &err));
    g_assert_cmphex(inb(f, S + 7), ==, 0);
    g_assert_cmphex(inb(f, SCTL), ==, 0);
    g_assert_cmphex(inb(f, S + 2), ==, 0xff);
    outb(f, S + 7, ATA_CMD_IDENTIFY);
    g_assert_false(test_vm_irq_level(f->vm, 15));
    /* Attaching twice is refused, and so is a unit that does not exist. */
    g_assert_false(ide_attach(f->ide, 0, 0, &dc, false, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);
    g_assert_false(ide_attach(f->ide, 2, 0, &dc, false, &err));
    g_assert_nonnull(err);
}

static void expect_error(struct fx *f, uint8_t error)
{
    g_assert_true(test_vm_irq_level(f->vm, 14));
    g_assert_cmphex(inb(f, P + 7), ==, ATA_SR_DRDY | ATA_SR_ERR);
    g_assert_cmphex(inb(f, P + 1), ==, error);
}

static void test_out_of_range(struct fx *f, gconstpointer data)
{
    lba28(f, P, 0, DISK_SECTORS - 1, 2);
    outb(f, P + 7, ATA_CMD_READ_SECTORS);
    expect_error(f, ATA_ER_IDNF | ATA_ER_ABRT);
    lba48(f, P, 0xffffffffffffULL, 0);
    outb(f, P + 7, ATA_CMD_READ_DMA_EXT);
    expect_error(f, ATA_ER_IDNF | ATA_ER_ABRT);
    lba28(f, P, 0, DISK_SECTORS, 1);
    outb(f, P + 7, ATA_CMD_WRITE_SECTORS);
    expect_error(f, ATA_ER_IDNF | ATA_ER_ABRT);
    outb(f, P + 7, 0x00);   /* NOP: not supported */
    expect_error(f, ATA_ER_ABRT);
    outb(f, P + 7, ATA_CMD_READ_FPDMA_QUEUED);   /* no NCQ on parallel ATA */
    expect_error(f, ATA_ER_ABRT);
    outb(f, P + 7, ATA_CMD_PACKET);     /* not a packet device */
    expect_error(f, ATA_ER_ABRT);
    /* The device still works. */
    uint8_t buf[512];
    lba28(f, P, 0, 0, 1);
    outb(f, P + 7, ATA_CMD_READ_SECTORS);
    read_pio_sectors(f, buf, 1, false);
    check_sector(buf, 0);
}

static void test_readonly_disk(struct fx *f, gconstpointer data)
{
    lba28(f, P, 0, 3, 1);
    outb(f, P + 7, ATA_CMD_WRITE_SECTORS);
    expect_error(f, ATA_ER_ABRT);
    g_assert_cmphex(inb(f, PCTL) & ATA_SR_DRQ, ==, 0);
    outw(f, P, 0x1234);     /* data writes without a data phase go nowhere */
    lba28(f, P, 0, 3, 1);
    outb(f, P + 7, ATA_CMD_WRITE_DMA);
    expect_error(f, ATA_ER_ABRT);
    uint8_t back[512];
    storage_read_file(f->disk, 3 * 512, back, 512);
    check_sector(back, 3);
}

/* Start a DMA read of n sectors at lba with the PRD table at table. */
static void dma_read_cmd(struct fx *f, uint32_t table, uint32_t lba, uint8_t n)
{
    outb(f, f->bm, 0);
    outb(f, f->bm + 2, 0x06);
    outl(f, f->bm + 4, table);
    lba28(f, P, 0, lba, n);
    outb(f, P + 7, ATA_CMD_READ_DMA);
    outb(f, f->bm, 0x09);
}

static void expect_dma_failure(struct fx *f)
{
    g_assert_true(test_vm_irq_level(f->vm, 14));
    g_assert_cmphex(inb(f, f->bm + 2) & 0x03, ==, 0x02);   /* error, not active */
    g_assert_cmphex(inb(f, P + 7) & (ATA_SR_ERR | ATA_SR_DRQ | ATA_SR_BSY), ==, ATA_SR_ERR);
}

static void test_hostile_dma(struct fx *f, gconstpointer data)
{
    const uint32_t table = 0x10000;
    /* A buffer beyond the end of RAM, and one that straddles it. */
    put_prd(f, table, 0, 0xb0000000u, 512, true);
    dma_read_cmd(f, table, 0, 1);
    expect_dma_failure(f);
    put_prd(f, table, 0, RAM - 256, 512, true);
    dma_read_cmd(f, table, 0, 1);
    expect_dma_failure(f);
    /* The table itself outside RAM. */
    dma_read_cmd(f, 0xfffffff0u, 0, 1);
    expect_dma_failure(f);
    /* A table describing less than the transfer. */
    put_prd(f, table, 0, 0x20000, 512, true);
    dma_read_cmd(f, table, 0, 4);
    expect_dma_failure(f);
    /* No end-of-table mark anywhere in the 64 KiB region: every entry
     * describes 2 bytes, so the table runs out first. */
    for (unsigned i = 0; i < 8192; i++)
        put_prd(f, table, i, 0x20000, 2, false);
    dma_read_cmd(f, table, 0, 255);
    expect_dma_failure(f);
    /* Odd addresses and lengths are rounded down as the hardware does. */
    put_prd(f, table, 0, 0x20001, 513, false);
    put_prd(f, table, 1, 0x21000, 0xffff, true);
    dma_read_cmd(f, table, 7, 1);
    g_assert_cmphex(inb(f, P + 7), ==, ATA_SR_DRDY | ATA_SR_DSC);
    check_sector(ram(f, 0x20000, 512), 7);
    /* A table larger than the transfer leaves the engine active. */
    g_assert_cmphex(inb(f, f->bm + 2) & 0x07, ==, 0x05);
    /* Bus mastering disabled in PCI: nothing moves until it is enabled. */
    memset(ram(f, 0x20000, 512), 0, 512);
    pci_config_write(f->bus, 1, 1, PCI_COMMAND, PCI_COMMAND_IO, 2);
    put_prd(f, table, 0, 0x20000, 512, true);
    dma_read_cmd(f, table, 8, 1);
    g_assert_cmphex(ram(f, 0x20000, 1)[0], ==, 0);
    g_assert_cmphex(inb(f, P + 7) & ATA_SR_DRQ, ==, ATA_SR_DRQ);
    /* Writes of garbage to every bus-master register and a reset. */
    for (unsigned o = 0; o < 16; o++)
        outb(f, f->bm + o, 0xff);
    test_vm_platform_reset(f->vm);
    pci_config_write(f->bus, 1, 1, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
    g_assert_cmphex(inb(f, P + 7), ==, ATA_SR_DRDY | ATA_SR_DSC);
    uint8_t buf[512];
    lba28(f, P, 0, 2, 1);
    outb(f, P + 7, ATA_CMD_READ_SECTORS);
    read_pio_sectors(f, buf, 1, false);
    check_sector(buf, 2);
}

static void test_ata_misc(struct fx *f, gconstpointer data)
{
    uint16_t id[256];
    /* SET FEATURES: multiword DMA 2 is shown as selected in IDENTIFY. */
    outb(f, P + 6, 0xa0);
    outb(f, P + 1, 0x03);
    outb(f, P + 2, 0x22);
    outb(f, P + 7, ATA_CMD_SET_FEATURES);
    g_assert_cmphex(inb(f, P + 7), ==, ATA_SR_DRDY | ATA_SR_DSC);
    outb(f, P + 7, ATA_CMD_IDENTIFY);
    inb(f, P + 7);
    for (unsigned i = 0; i < 256; i++)
        id[i] = inw(f, P);
    g_assert_cmphex(id[63], ==, 0x0407);
    /* An unknown transfer mode or feature is aborted. */
    outb(f, P + 1, 0x03);
    outb(f, P + 2, 0x4f);
    outb(f, P + 7, ATA_CMD_SET_FEATURES);
    expect_error(f, ATA_ER_ABRT);
    outb(f, P + 1, 0x77);
    outb(f, P + 7, ATA_CMD_SET_FEATURES);
    expect_error(f, ATA_ER_ABRT);

    /* READ VERIFY checks the range and moves no data. */
    lba28(f, P, 0, 10, 20);
    outb(f, P + 7, ATA_CMD_READ_VERIFY);
    g_assert_cmphex(inb(f, P + 7), ==, ATA_SR_DRDY | ATA_SR_DSC);
    lba28(f, P, 0, DISK_SECTORS - 1, 2);
    outb(f, P + 7, ATA_CMD_READ_VERIFY);
    expect_error(f, ATA_ER_IDNF | ATA_ER_ABRT);

    outb(f, P + 7, ATA_CMD_CHECK_POWER_MODE);
    g_assert_cmphex(inb(f, P + 7), ==, ATA_SR_DRDY | ATA_SR_DSC);
    g_assert_cmphex(inb(f, P + 2), ==, 0xff);

    outb(f, P + 6, 0x40);
    outb(f, P + 7, ATA_CMD_READ_NATIVE_MAX_EXT);
    g_assert_cmphex(inb(f, P + 7), ==, ATA_SR_DRDY | ATA_SR_DSC);
    g_assert_cmpuint(inb(f, P + 3) | inb(f, P + 4) << 8, ==, DISK_SECTORS - 1);
    outb(f, PCTL, ATA_DC_HOB);
    g_assert_cmpuint(inb(f, P + 3), ==, 0);
    outb(f, PCTL, 0);

    /* DEVICE RESET of the packet device: signature, no interrupt. */
    outb(f, S + 6, 0xa0);
    outb(f, S + 4, 0);
    outb(f, S + 7, ATA_CMD_DEVICE_RESET);
    g_assert_false(test_vm_irq_level(f->vm, 15));
    g_assert_cmphex(inb(f, S + 4), ==, 0x14);
    g_assert_cmphex(inb(f, S + 5), ==, 0xeb);
    /* The disk does not know DEVICE RESET. */
    outb(f, P + 7, ATA_CMD_DEVICE_RESET);
    expect_error(f, ATA_ER_ABRT);
}

/* ---- ATAPI ----------------------------------------------------------------- */

/* Send a packet command on the secondary master with byte count limit
 * limit; returns the status after the command phase. */
static void send_packet(struct fx *f, const uint8_t *cdb, uint16_t limit, bool dma)
{
    outb(f, S + 6, 0xa0);
    outb(f, S + 1, dma ? 1 : 0);
    outb(f, S + 4, (uint8_t)limit);
    outb(f, S + 5, (uint8_t)(limit >> 8));
    outb(f, S + 7, ATA_CMD_PACKET);
    g_assert_cmphex(inb(f, SCTL), ==, ATA_SR_DRDY | ATA_SR_DRQ);
    g_assert_cmphex(inb(f, S + 2), ==, ATAPI_IR_COD);
    for (unsigned i = 0; i < 6; i++)
        outw(f, S, (uint16_t)(cdb[2 * i] | cdb[2 * i + 1] << 8));
}

/* Read the data phases of a PIO packet command into buf; returns the
 * number of bytes and checks the completion. */
static unsigned packet_in(struct fx *f, uint8_t *buf, unsigned max, unsigned *drqs)
{
    unsigned n = 0;
    *drqs = 0;
    for (;;) {
        g_assert_true(test_vm_irq_level(f->vm, 15));
        uint8_t st = inb(f, S + 7);
        if (!(st & ATA_SR_DRQ)) {
            g_assert_cmphex(inb(f, S + 2), ==, ATAPI_IR_IO | ATAPI_IR_COD);
            g_assert_cmphex(st & ATA_SR_ERR, ==, 0);
            return n;
        }
        g_assert_cmphex(inb(f, S + 2), ==, ATAPI_IR_IO);
        unsigned len = inb(f, S + 4) | inb(f, S + 5) << 8;
        g_assert_cmpuint(n + len, <=, max);
        for (unsigned i = 0; i < len; i += 2) {
            uint16_t v = inw(f, S);
            memcpy(buf + n + i, &v, 2);
        }
        n += len;
        (*drqs)++;
    }
}

static uint8_t request_sense_key(struct fx *f, uint8_t *asc)
{
    uint8_t cdb[12] = { 0x03, 0, 0, 0, 18 };
    uint8_t sense[18];
    unsigned drqs;
    send_packet(f, cdb, 18, false);
    g_assert_cmpuint(packet_in(f, sense, sizeof(sense), &drqs), ==, 18);
    g_assert_cmphex(sense[0], ==, 0x70);
    *asc = sense[12];
    return sense[2] & 0xf;
}

static void expect_check_condition(struct fx *f, uint8_t key, uint8_t asc)
{
    g_assert_true(test_vm_irq_level(f->vm, 15));
    uint8_t st = inb(f, S + 7);
    g_assert_cmphex(st, ==, ATA_SR_DRDY | ATA_SR_ERR);
    g_assert_cmphex(inb(f, S + 1) >> 4, ==, key);
    g_assert_cmphex(inb(f, S + 2), ==, ATAPI_IR_IO | ATAPI_IR_COD);
    uint8_t got_asc;
    g_assert_cmphex(request_sense_key(f, &got_asc), ==, key);
    g_assert_cmphex(got_asc, ==, asc);
}

static void expect_good(struct fx *f)
{
    g_assert_true(test_vm_irq_level(f->vm, 15));
    g_assert_cmphex(inb(f, S + 7), ==, ATA_SR_DRDY | ATA_SR_DSC);
    g_assert_cmphex(inb(f, S + 2), ==, ATAPI_IR_IO | ATAPI_IR_COD);
}

static void test_atapi_identify_inquiry(struct fx *f, gconstpointer data)
{
    outb(f, S + 6, 0xa0);
    outb(f, S + 7, ATA_CMD_IDENTIFY_PACKET);
    g_assert_true(test_vm_irq_level(f->vm, 15));
    g_assert_cmphex(inb(f, S + 7) & ATA_SR_DRQ, ==, ATA_SR_DRQ);
    uint16_t id[256];
    for (unsigned i = 0; i < 256; i++)
        id[i] = inw(f, S);
    g_assert_cmphex(id[0], ==, 0x85c0);
    g_assert_cmphex(id[49] & 0x0100, ==, 0x0100);
    g_assert_cmphex(inb(f, S + 7), ==, ATA_SR_DRDY | ATA_SR_DSC);

    uint8_t cdb[12] = { 0x12, 0, 0, 0, 96 };
    uint8_t inq[96];
    unsigned drqs;
    send_packet(f, cdb, 0xfffe, false);
    g_assert_cmpuint(packet_in(f, inq, sizeof(inq), &drqs), ==, 36);
    g_assert_cmphex(inq[0], ==, 0x05);
    g_assert_cmphex(inq[1], ==, 0x80);
    g_assert_cmpmem(inq + 8, 8, "ORIEL   ", 8);
    /* Allocation length cuts the answer. */
    cdb[4] = 5;
    send_packet(f, cdb, 0xfffe, false);
    g_assert_cmpuint(packet_in(f, inq, sizeof(inq), &drqs), ==, 5);
}

static void test_atapi_read(struct fx *f, gconstpointer data)
{
    unsigned drqs;
    uint8_t cap[8];
    uint8_t rc[12] = { 0x25 };
    send_packet(f, rc, 8, false);
    g_assert_cmpuint(packet_in(f, cap, sizeof(cap), &drqs), ==, 8);
    g_assert_cmpuint((unsigned)cap[0] << 24 | cap[1] << 16 | cap[2] << 8 | cap[3], ==, CD_BLOCKS - 1);
    g_assert_cmpuint((unsigned)cap[4] << 24 | cap[5] << 16 | cap[6] << 8 | cap[7], ==, 2048);

    /* READ(10) of 3 blocks from block 5 with a 2048-byte limit per DRQ. */
    uint8_t *buf = g_malloc(3 * 2048);
    uint8_t r10[12] = { 0x28, 0, 0, 0, 0, 5, 0, 0, 3 };
    send_packet(f, r10, 2048, false);
    g_assert_cmpuint(packet_in(f, buf, 3 * 2048, &drqs), ==, 3 * 2048);
    g_assert_cmpuint(drqs, ==, 3);
    for (unsigned b = 0; b < 3; b++)
        check_block(buf + b * 2048, 5 + b, 2048);
    /* A limit that does not divide the block size. */
    send_packet(f, r10, 1000, false);
    g_assert_cmpuint(packet_in(f, buf, 3 * 2048, &drqs), ==, 3 * 2048);
    g_assert_cmpuint(drqs, ==, 7);
    for (unsigned b = 0; b < 3; b++)
        check_block(buf + b * 2048, 5 + b, 2048);
    g_free(buf);

    /* READ(12) by bus-master DMA. */
    const uint32_t table = 0x10000;
    put_prd(f, table, 0, 0x50000, 4 * 2048, true);
    outl(f, f->bm + 8 + 4, table);
    uint8_t r12[12] = { 0xa8, 0, 0, 0, 0, 10, 0, 0, 0, 4 };
    send_packet(f, r12, 0, true);
    g_assert_false(test_vm_irq_level(f->vm, 15));
    outb(f, f->bm + 8, 0x09);
    expect_good(f);
    g_assert_cmphex(inb(f, f->bm + 10) & 0x07, ==, 0x04);
    for (unsigned b = 0; b < 4; b++)
        check_block(ram(f, 0x50000 + b * 2048, 2048), 10 + b, 2048);

    /* Past the end of the disc. */
    uint8_t bad[12] = { 0x28, 0, 0, 0, 0, CD_BLOCKS - 1, 0, 0, 2 };
    send_packet(f, bad, 2048, false);
    expect_check_condition(f, 0x05, 0x21);
    /* Writes are refused as write protected. */
    uint8_t w10[12] = { 0x2a, 0, 0, 0, 0, 1, 0, 0, 1 };
    send_packet(f, w10, 2048, false);
    expect_check_condition(f, 0x07, 0x27);
    /* Unknown opcode. */
    uint8_t unk[12] = { 0xff };
    send_packet(f, unk, 2048, false);
    expect_check_condition(f, 0x05, 0x20);
}

static unsigned msf_to_lba(const uint8_t *p)
{
    return (unsigned)(p[1] * 60 + p[2]) * 75 + p[3] - 150;
}

static void test_atapi_toc(struct fx *f, gconstpointer data)
{
    uint8_t toc[64];
    unsigned drqs;
    uint8_t f0[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0, sizeof(toc) };
    send_packet(f, f0, 0xfffe, false);
    g_assert_cmpuint(packet_in(f, toc, sizeof(toc), &drqs), ==, 20);
    g_assert_cmpuint(toc[0] << 8 | toc[1], ==, 18);
    g_assert_cmpuint(toc[2], ==, 1);
    g_assert_cmpuint(toc[3], ==, 1);
    g_assert_cmphex(toc[5], ==, 0x14);
    g_assert_cmpuint(toc[6], ==, 1);
    g_assert_cmpuint(toc[14], ==, 0xaa);
    g_assert_cmpuint((unsigned)toc[16] << 24 | toc[17] << 16 | toc[18] << 8 | toc[19], ==, CD_BLOCKS);
    /* MSF addresses. */
    f0[1] = 0x02;
    send_packet(f, f0, 0xfffe, false);
    g_assert_cmpuint(packet_in(f, toc, sizeof(toc), &drqs), ==, 20);
    g_assert_cmpuint(msf_to_lba(toc + 8), ==, 0);
    g_assert_cmpuint(msf_to_lba(toc + 16), ==, CD_BLOCKS);
    /* Format 1: session information. */
    uint8_t f1[12] = { 0x43, 0, 1, 0, 0, 0, 0, 0, sizeof(toc) };
    send_packet(f, f1, 0xfffe, false);
    g_assert_cmpuint(packet_in(f, toc, sizeof(toc), &drqs), ==, 12);
    g_assert_cmpuint(toc[1], ==, 10);
    g_assert_cmpuint(toc[6], ==, 1);
    /* Format 2: the raw TOC with A0/A1/A2 and track 1 points. */
    uint8_t f2[12] = { 0x43, 2, 2, 0, 0, 0, 0, 0, sizeof(toc) };
    send_packet(f, f2, 0xfffe, false);
    g_assert_cmpuint(packet_in(f, toc, sizeof(toc), &drqs), ==, 4 + 4 * 11);
    g_assert_cmphex(toc[4 + 3], ==, 0xa0);
    g_assert_cmphex(toc[4 + 11 + 3], ==, 0xa1);
    g_assert_cmphex(toc[4 + 22 + 3], ==, 0xa2);
    g_assert_cmpuint(msf_to_lba(toc + 4 + 22 + 7), ==, CD_BLOCKS);
    g_assert_cmphex(toc[4 + 33 + 3], ==, 0x01);
    /* Unknown format. */
    uint8_t f7[12] = { 0x43, 0, 7, 0, 0, 0, 0, 0, sizeof(toc) };
    send_packet(f, f7, 0xfffe, false);
    expect_check_condition(f, 0x05, 0x24);
}

static void test_atapi_misc(struct fx *f, gconstpointer data)
{
    uint8_t buf[256];
    unsigned drqs;
    /* GET CONFIGURATION: a CD-ROM profile is current for a small disc. */
    uint8_t gc[12] = { 0x46, 0, 0, 0, 0, 0, 0, 0, 255 };
    send_packet(f, gc, 0xfffe, false);
    unsigned n = packet_in(f, buf, sizeof(buf), &drqs);
    g_assert_cmpuint(n, >, 8);
    g_assert_cmpuint((unsigned)buf[0] << 24 | buf[1] << 16 | buf[2] << 8 | buf[3], ==, n - 4);
    g_assert_cmphex(buf[6] << 8 | buf[7], ==, 0x0008);
    g_assert_cmphex(buf[8] << 8 | buf[9], ==, 0x0000);   /* profile list first */
    /* RT=2: exactly one feature. */
    uint8_t gc2[12] = { 0x46, 2, 0, 0x1e, 0, 0, 0, 0, 255 };
    send_packet(f, gc2, 0xfffe, false);
    g_assert_cmpuint(packet_in(f, buf, sizeof(buf), &drqs), ==, 8 + 8);
    g_assert_cmphex(buf[8] << 8 | buf[9], ==, 0x001e);

    /* MODE SENSE(10) of the capabilities page. */
    uint8_t ms[12] = { 0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 255 };
    send_packet(f, ms, 0xfffe, false);
    n = packet_in(f, buf, sizeof(buf), &drqs);
    g_assert_cmpuint(n, ==, 8 + 28);
    g_assert_cmphex(buf[8], ==, 0x2a);
    uint8_t ms_bad[12] = { 0x5a, 0, 0x15, 0, 0, 0, 0, 0, 255 };
    send_packet(f, ms_bad, 0xfffe, false);
    expect_check_condition(f, 0x05, 0x24);

    /* READ DISC INFORMATION. */
    uint8_t di[12] = { 0x51, 0, 0, 0, 0, 0, 0, 0, 34 };
    send_packet(f, di, 0xfffe, false);
    g_assert_cmpuint(packet_in(f, buf, sizeof(buf), &drqs), ==, 34);
    g_assert_cmphex(buf[2] & 3, ==, 2);     /* complete disc */

    /* MODE SENSE(6) of all pages: error recovery and capabilities. */
    uint8_t ms6[12] = { 0x1a, 0, 0x3f, 0, 255 };
    send_packet(f, ms6, 0xfffe, false);
    n = packet_in(f, buf, sizeof(buf), &drqs);
    g_assert_cmpuint(n, ==, 4 + 12 + 28);
    g_assert_cmpuint(buf[0], ==, n - 1);
    g_assert_cmphex(buf[4], ==, 0x01);
    g_assert_cmphex(buf[16], ==, 0x2a);

    /* READ CD of user data, and of raw sectors (not available). */
    uint8_t rcd[12] = { 0xbe, 0, 0, 0, 0, 2, 0, 0, 1, 0x10 };
    uint8_t blk[2048];
    send_packet(f, rcd, 2048, false);
    g_assert_cmpuint(packet_in(f, blk, sizeof(blk), &drqs), ==, 2048);
    check_block(blk, 2, 2048);
    rcd[9] = 0xf8;
    send_packet(f, rcd, 2048, false);
    expect_check_condition(f, 0x05, 0x24);

    /* MECHANISM STATUS: tray closed. */
    uint8_t mech[12] = { 0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8 };
    send_packet(f, mech, 0xfffe, false);
    g_assert_cmpuint(packet_in(f, buf, sizeof(buf), &drqs), ==, 8);
    g_assert_cmphex(buf[1] & 0x10, ==, 0);

    /* GET EVENT STATUS NOTIFICATION must be polled. */
    uint8_t gesn_async[12] = { 0x4a, 0, 0, 0, 0x10, 0, 0, 0, 8 };
    send_packet(f, gesn_async, 0xfffe, false);
    expect_check_condition(f, 0x05, 0x24);

    /* TEST UNIT READY on a loaded drive. */
    uint8_t tur[12] = { 0 };
    send_packet(f, tur, 0, false);
    expect_good(f);
}

static void gesn(struct fx *f, uint8_t *event, uint8_t *status)
{
    uint8_t cdb[12] = { 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8 };
    uint8_t buf[8];
    unsigned drqs;
    send_packet(f, cdb, 0xfffe, false);
    g_assert_cmpuint(packet_in(f, buf, sizeof(buf), &drqs), ==, 8);
    g_assert_cmphex(buf[2], ==, 0x04);
    *event = buf[4] & 0xf;
    *status = buf[5];
}

static void test_atapi_media_change(struct fx *f, gconstpointer data)
{
    uint8_t tur[12] = { 0 };
    uint8_t ev, st;
    gesn(f, &ev, &st);
    g_assert_cmpuint(ev, ==, 0);
    g_assert_cmphex(st, ==, 0x02);      /* medium present, tray closed */

    /* The host ejects: NOT READY (medium not present), tray open. */
    g_autoptr(GError) err = NULL;
    g_assert_true(ide_cdrom_eject(f->ide, 1, 0, false, &err));
    g_assert_cmpuint(f->tray_events, ==, 1);
    g_assert_true(f->tray_open);
    gesn(f, &ev, &st);
    g_assert_cmpuint(ev, ==, ATAPI_EVENT_MEDIA_REMOVAL);
    g_assert_cmphex(st, ==, 0x01);
    send_packet(f, tur, 0, false);
    expect_check_condition(f, 0x06, 0x28);  /* the change is reported once */
    send_packet(f, tur, 0, false);
    expect_check_condition(f, 0x02, 0x3a);
    uint8_t rc[12] = { 0x25 };
    send_packet(f, rc, 8, false);
    expect_check_condition(f, 0x02, 0x3a);

    /* A new, larger disc. */
    g_assert_true(ide_cdrom_change_media(f->ide, 1, 0, f->iso2, &err));
    g_assert_no_error(err);
    g_assert_false(f->tray_open);
    send_packet(f, tur, 0, false);
    expect_check_condition(f, 0x06, 0x28);
    send_packet(f, tur, 0, false);
    expect_good(f);
    uint8_t cap[8];
    unsigned drqs;
    send_packet(f, rc, 8, false);
    g_assert_cmpuint(packet_in(f, cap, sizeof(cap), &drqs), ==, 8);
    g_assert_cmpuint(cap[2] << 8 | cap[3], ==, 2 * CD_BLOCKS - 1);
    gesn(f, &ev, &st);
    g_assert_cmpuint(ev, ==, ATAPI_EVENT_NEW_MEDIA);
    gesn(f, &ev, &st);
    g_assert_cmpuint(ev, ==, 0);

    /* The guest locks the tray: its eject is refused, the host's too
     * unless forced. */
    uint8_t lock[12] = { 0x1e, 0, 0, 0, 1 };
    send_packet(f, lock, 0, false);
    expect_good(f);
    uint8_t ej[12] = { 0x1b, 0, 0, 0, 0x02 };
    send_packet(f, ej, 0, false);
    expect_check_condition(f, 0x05, 0x53);
    g_assert_false(ide_cdrom_eject(f->ide, 1, 0, false, &err));
    g_assert_error(err, G_IO_ERROR, G_IO_ERROR_BUSY);
    g_clear_error(&err);
    gesn(f, &ev, &st);
    g_assert_cmpuint(ev, ==, ATAPI_EVENT_EJECT_REQUEST);
    lock[4] = 0;
    send_packet(f, lock, 0, false);
    expect_good(f);
    /* The guest opens and closes the tray: the disc comes back. */
    unsigned events = f->tray_events;
    send_packet(f, ej, 0, false);
    expect_good(f);
    g_assert_true(f->tray_open);
    send_packet(f, tur, 0, false);
    expect_check_condition(f, 0x02, 0x3a);
    uint8_t load[12] = { 0x1b, 0, 0, 0, 0x03 };
    send_packet(f, load, 0, false);
    expect_good(f);
    g_assert_false(f->tray_open);
    g_assert_cmpuint(f->tray_events, ==, events + 2);
    send_packet(f, tur, 0, false);
    expect_check_condition(f, 0x06, 0x28);
    send_packet(f, tur, 0, false);
    expect_good(f);

    /* Media functions on a disk unit are refused. */
    g_assert_false(ide_cdrom_eject(f->ide, 0, 0, true, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);
    g_assert_false(ide_cdrom_change_media(f->ide, 1, 0, "/nonexistent/oriel.iso", &err));
    g_assert_nonnull(err);
}

static void test_atapi_hostile(struct fx *f, gconstpointer data)
{
    /* Abandoning a packet half-way and a new command. */
    outb(f, S + 6, 0xa0);
    outb(f, S + 7, ATA_CMD_PACKET);
    outw(f, S, 0x28);
    outb(f, S + 7, ATA_CMD_PACKET);
    uint8_t tur[12] = { 0 };
    for (unsigned i = 0; i < 6; i++)
        outw(f, S, (uint16_t)(tur[2 * i] | tur[2 * i + 1] << 8));
    expect_good(f);
    /* A DMA packet command whose PRD points outside RAM. */
    put_prd(f, 0x10000, 0, 0xf0000000u, 2048, true);
    outl(f, f->bm + 12, 0x10000);
    uint8_t r10[12] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1 };
    send_packet(f, r10, 0, true);
    outb(f, f->bm + 8, 0x09);
    g_assert_cmphex(inb(f, f->bm + 10) & 0x03, ==, 0x02);
    g_assert_cmphex(inb(f, SCTL) & ATA_SR_ERR, ==, ATA_SR_ERR);
    outb(f, f->bm + 8, 0);
    /* READ(12) with a huge count. */
    uint8_t r12[12] = { 0xa8, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff };
    send_packet(f, r12, 2048, false);
    expect_check_condition(f, 0x05, 0x21);
    /* Reading the data port with no data phase. */
    g_assert_cmphex(inw(f, S), ==, 0xffff);
    uint8_t ev, st;
    gesn(f, &ev, &st);
    g_assert_cmphex(st, ==, 0x02);
}

/* ---- VM state ------------------------------------------------------------------- */

/* Save in the middle of a PIO read with the CD-ROM ejected; a second
 * controller on the same images takes the state and the guest reads on
 * where it stopped; a phase on a drive that is not there is refused. */
static void test_state_round_trip(struct fx *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_assert_true(ide_cdrom_eject(f->ide, 1, 0, false, &err));
    uint8_t buf[3 * 512];
    lba28(f, P, 0, 5, 3);
    outb(f, P + 7, ATA_CMD_READ_SECTORS);
    g_assert_true(test_vm_irq_level(f->vm, 14));
    for (unsigned i = 0; i < 100; i++) {
        uint16_t v = inw(f, P);
        memcpy(buf + i * 2, &v, 2);
    }
    struct pci_device *d = ide_pci_device(f->ide);
    struct state_out o;
    state_out_init(&o);
    g_assert_true(d->state->save(d, &o, &err));

    struct fx g = { 0 };
    setup(&g, NULL);
    struct pci_device *d2 = ide_pci_device(g.ide);
    struct state_in in;
    state_in_init(&in, o.buf->data, o.buf->len, "ide");
    g_assert_true(d2->state->load(d2, &in, 1, &err));
    g_assert_no_error(err);
    g_assert_true(state_in_finish(&in, &err));
    g_assert_true(test_vm_irq_level(g.vm, 14));      /* the line is driven again */
    for (unsigned i = 100; i < 256; i++) {
        uint16_t v = inw(&g, P);
        memcpy(buf + i * 2, &v, 2);
    }
    read_pio_sectors(&g, buf + 512, 2, false);
    for (unsigned s = 0; s < 3; s++)
        check_sector(buf + s * 512, 5 + s);

    /* The active-unit byte of the primary channel's phase pointing at the
     * absent slave: refused. */
    g_autofree uint8_t *bad = g_memdup2(o.buf->data, o.buf->len);
    state_in_init(&in, bad, o.buf->len, "ide");
    in.pos = 2 + 1 + 1 + 2;                          /* drive flags, control, sel, intrq */
    struct ata_drive scratch;
    struct disk_config dc = { .path = f->disk };
    g_assert_true(ata_drive_init(&scratch, &dc, false, &err));
    g_assert_true(ata_drive_load(&scratch, &in, &err));   /* skips the master's state */
    bad[in.pos + 1] = 1;                             /* phase byte, then the unit */
    state_in_init(&in, bad, o.buf->len, "ide");
    g_assert_false(d2->state->load(d2, &in, 1, &err));
    g_assert_nonnull(strstr(err->message, "unit 1"));
    ata_drive_destroy(&scratch);
    state_out_clear(&o);
    teardown(&g, NULL);
}

static struct state_out save_drive(const struct ata_drive *d)
{
    struct state_out o;
    state_out_init(&o);
    ata_drive_save(d, &o);
    return o;
}

/* A CD-ROM saved without a disc loses the configured one; a disc saved
 * that the drive now lacks is refused. */
static void test_state_cdrom_medium(struct fx *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    struct disk_config cc = { .path = f->iso };
    struct ata_drive empty, loaded;
    g_assert_true(ata_drive_init(&empty, &cc, true, &err));
    g_assert_true(atapi_eject(&empty, true));
    g_assert_true(ata_drive_init(&loaded, &cc, true, &err));

    struct state_out o = save_drive(&empty);
    struct state_in in;
    state_in_init(&in, o.buf->data, o.buf->len, "cd");
    g_assert_true(ata_drive_load(&loaded, &in, &err));
    g_assert_null(loaded.bb);
    g_assert_true(loaded.tray_open);
    state_out_clear(&o);

    struct ata_drive with_disc;
    g_assert_true(ata_drive_init(&with_disc, &cc, true, &err));
    o = save_drive(&with_disc);
    state_in_init(&in, o.buf->data, o.buf->len, "cd");
    g_assert_false(ata_drive_load(&empty, &in, &err));
    g_assert_nonnull(strstr(err->message, "held a medium"));
    state_out_clear(&o);
    ata_drive_destroy(&empty);
    ata_drive_destroy(&loaded);
    ata_drive_destroy(&with_disc);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define T(name, fn) g_test_add("/ide/" name, struct fx, NULL, setup, fn, teardown)
    T("pci-function", test_pci_function);
    T("identify", test_identify);
    T("pio-read", test_ata_pio_read);
    T("pio-write", test_ata_pio_write);
    T("dma-read", test_dma_read);
    T("dma-write", test_dma_write);
    T("nien", test_nien);
    T("ata-misc-commands", test_ata_misc);
    T("absent-device-and-reset", test_absent_and_reset);
    T("empty-channel", test_empty_channel);
    T("lba-out-of-range", test_out_of_range);
    T("hostile-dma", test_hostile_dma);
    T("atapi-identify-inquiry", test_atapi_identify_inquiry);
    T("atapi-read", test_atapi_read);
    T("atapi-toc", test_atapi_toc);
    T("atapi-misc", test_atapi_misc);
    T("atapi-media-change", test_atapi_media_change);
    T("atapi-hostile", test_atapi_hostile);
#undef T
    g_test_add("/ide/readonly-disk", struct fx, NULL, setup_ro, test_readonly_disk, teardown);
    g_test_add("/ide/state/round-trip", struct fx, NULL, setup, test_state_round_trip, teardown);
    g_test_add("/ide/state/cdrom-medium", struct fx, NULL, setup, test_state_cdrom_medium, teardown);
    return g_test_run();
}
