/* The NVMe controller through its PCI function and BAR 0, as a guest
 * driver programs it: admin and I/O queues in test guest memory, Identify
 * data, reads and writes through PRP entries and chained PRP lists,
 * interrupts (INTx and MSI-X), and the statuses malformed commands and
 * doorbells get. */
#include <string.h>
#include <glib.h>
#include <gio/gio.h>

#include "storage/nvme.h"
#include "core/state_stream.h"
#include "config/pc_layout.h"
#include "pci/pci.h"
#include "storage_test.h"
#include "tests/support/test_vm.h"

#define DISK_SECTORS 1024
#define RAM (64u << 20)
#define PAGE 4096u

/* Guest memory layout. */
#define ASQ     0x100000u
#define ACQ     0x101000u
#define IOSQ    0x102000u
#define IOCQ    0x104000u
#define PRPL    0x108000u       /* PRP list pages */
#define DATA    0x200000u       /* data pages */
#define ADMIN_Q 16
#define IO_Q    8

#define REG_CAP  0x00
#define REG_VS   0x08
#define REG_INTMS 0x0c
#define REG_INTMC 0x10
#define REG_CC   0x14
#define REG_CSTS 0x1c
#define REG_AQA  0x24
#define REG_ASQ  0x28
#define REG_ACQ  0x30
#define CC_ENABLE (1u | 6u << 16 | 4u << 20)

struct fx {
    struct vm *vm;
    struct pci_bus *bus;
    struct nvme *nvme;
    char *disk;
    unsigned slot;
    uint64_t bar;
    /* Driver-side queue positions. */
    uint32_t sq_tail[2], cq_head[2];
    bool phase[2];
    uint16_t cid;
};

struct cqe {
    uint32_t dw0;
    uint16_t sqhd, sqid;
    uint16_t cid;
    uint16_t status;        /* SC | SCT << 8 | DNR << 14 */
};

static uint8_t *ram(struct fx *f, uint64_t gpa, uint64_t len)
{
    uint8_t *p = guest_memory_ptr(vm_memory(f->vm), gpa, len);
    g_assert_nonnull(p);
    return p;
}

static uint32_t rd(struct fx *f, unsigned off) { return (uint32_t)test_mmio_read(f->vm, f->bar + off, 4); }
static void wr(struct fx *f, unsigned off, uint32_t v) { test_mmio_write(f->vm, f->bar + off, v, 4); }

static void make(struct fx *f, const struct disk_config *dc)
{
    g_autoptr(GError) err = NULL;
    f->nvme = nvme_create(f->vm, f->bus, dc, &err);
    g_assert_no_error(err);
    f->slot = nvme_pci_device(f->nvme)->slot;
    pci_config_write(f->bus, f->slot, 0, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    f->bar = (pci_config_read(f->bus, f->slot, 0, PCI_BAR0, 4) & ~0xfu) |
             (uint64_t)pci_config_read(f->bus, f->slot, 0, PCI_BAR0 + 4, 4) << 32;
    g_assert_cmphex(f->bar, !=, 0);
}

static void setup_opts(struct fx *f, bool readonly, bool discard)
{
    memset(f, 0, sizeof(*f));
    f->vm = test_vm_new(RAM);
    f->bus = pci_bus_create(f->vm);
    f->disk = storage_make_disk(DISK_SECTORS);
    struct disk_config dc = { .path = f->disk, .readonly = readonly, .discard = discard,
                              .serial = (char *)"SN-TEST-1" };
    make(f, &dc);
}

static void setup(struct fx *f, gconstpointer data)
{
    setup_opts(f, data != NULL && !strcmp(data, "ro"), true);
}

static void teardown(struct fx *f, gconstpointer data)
{
    nvme_free(f->nvme);
    pci_bus_free(f->bus);
    test_vm_free(f->vm);
    storage_remove(f->disk);
}

static void enable(struct fx *f)
{
    memset(ram(f, ASQ, 0x20000), 0, 0x20000);
    wr(f, REG_AQA, (ADMIN_Q - 1) | (ADMIN_Q - 1) << 16);
    test_mmio_write(f->vm, f->bar + REG_ASQ, ASQ, 8);
    test_mmio_write(f->vm, f->bar + REG_ACQ, ACQ, 8);
    wr(f, REG_CC, CC_ENABLE);
    g_assert_cmphex(rd(f, REG_CSTS), ==, 1);
    memset(f->sq_tail, 0, sizeof(f->sq_tail));
    memset(f->cq_head, 0, sizeof(f->cq_head));
    f->phase[0] = f->phase[1] = true;
}

struct cmd {
    uint8_t opcode, flags;
    uint32_t nsid;
    uint64_t prp1, prp2;
    uint32_t cdw10, cdw11, cdw12, cdw13;
};

/* Submit on queue q (0 admin, 1 the I/O queue), ring, and take the
 * completion. */
static struct cqe submit(struct fx *f, unsigned q, const struct cmd *c)
{
    uint64_t sq = q ? IOSQ : ASQ, cq = q ? IOCQ : ACQ;
    uint32_t size = q ? IO_Q : ADMIN_Q;
    uint8_t *e = ram(f, sq + f->sq_tail[q] * 64, 64);
    memset(e, 0, 64);
    uint16_t cid = ++f->cid;
    e[0] = c->opcode;
    e[1] = c->flags;
    memcpy(e + 2, &cid, 2);
    memcpy(e + 4, &c->nsid, 4);
    memcpy(e + 24, &c->prp1, 8);
    memcpy(e + 32, &c->prp2, 8);
    memcpy(e + 40, &c->cdw10, 4);
    memcpy(e + 44, &c->cdw11, 4);
    memcpy(e + 48, &c->cdw12, 4);
    memcpy(e + 52, &c->cdw13, 4);
    f->sq_tail[q] = (f->sq_tail[q] + 1) % size;
    wr(f, 0x1000 + 8 * q, f->sq_tail[q]);

    uint8_t *r = ram(f, cq + f->cq_head[q] * 16, 16);
    uint32_t dw[4];
    memcpy(dw, r, 16);
    g_assert_cmpuint(dw[3] >> 16 & 1, ==, f->phase[q]);
    struct cqe out = { .dw0 = dw[0], .sqhd = (uint16_t)dw[2], .sqid = (uint16_t)(dw[2] >> 16),
                       .cid = (uint16_t)dw[3], .status = (uint16_t)(dw[3] >> 17) };
    g_assert_cmpuint(out.cid, ==, cid);
    g_assert_cmpuint(out.sqid, ==, q);
    g_assert_cmpuint(out.sqhd, ==, f->sq_tail[q]);
    if (++f->cq_head[q] == size) {
        f->cq_head[q] = 0;
        f->phase[q] = !f->phase[q];
    }
    wr(f, 0x1000 + 8 * q + 4, f->cq_head[q]);
    return out;
}

static uint16_t admin(struct fx *f, const struct cmd *c)
{
    return submit(f, 0, c).status;
}

static void create_io_queues(struct fx *f)
{
    struct cmd cq = { .opcode = 0x05, .prp1 = IOCQ, .cdw10 = 1 | (IO_Q - 1) << 16,
                      .cdw11 = 3 | 1u << 16 };
    g_assert_cmphex(admin(f, &cq), ==, 0);
    struct cmd sq = { .opcode = 0x01, .prp1 = IOSQ, .cdw10 = 1 | (IO_Q - 1) << 16,
                      .cdw11 = 1 | 1u << 16 };
    g_assert_cmphex(admin(f, &sq), ==, 0);
}

static uint16_t io(struct fx *f, uint8_t opcode, uint64_t slba, unsigned nlb, uint64_t prp1,
                   uint64_t prp2)
{
    struct cmd c = { .opcode = opcode, .nsid = 1, .prp1 = prp1, .prp2 = prp2,
                     .cdw10 = (uint32_t)slba, .cdw11 = (uint32_t)(slba >> 32),
                     .cdw12 = nlb - 1 };
    return submit(f, 1, &c).status;
}

static void check_sectors(const uint8_t *p, uint64_t first, unsigned count)
{
    for (unsigned s = 0; s < count; s++)
        for (unsigned i = 0; i < 512; i++)
            if (p[s * 512 + i] != disk_byte(first + s, i))
                g_error("sector %" G_GUINT64_FORMAT " byte %u differs", first + s, i);
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_registers(struct fx *f, gconstpointer data)
{
    g_assert_cmphex(pci_config_read(f->bus, f->slot, 0, PCI_VENDOR_ID, 4), ==, 0x00101b36);
    g_assert_cmphex(pci_config_read(f->bus, f->slot, 0, PCI_CLASS_PROG, 4) & 0xffffff, ==,
                    0x010802);
    uint64_t cap = test_mmio_read(f->vm, f->bar + REG_CAP, 8);
    g_assert_cmpuint(cap & 0xffff, ==, 1023);           /* MQES */
    g_assert_true(cap >> 16 & 1);                       /* CQR */
    g_assert_cmpuint(cap >> 24 & 0xff, !=, 0);          /* TO */
    g_assert_cmpuint(cap >> 32 & 0xf, ==, 0);           /* DSTRD */
    g_assert_true(cap >> 37 & 1);                       /* NVM command set */
    g_assert_cmphex(rd(f, REG_VS), ==, 0x00010400);
    g_autofree char *boot = nvme_boot_path(f->nvme);
    g_autofree char *want = g_strdup_printf("/pci@i0cf8/nvme@%x/namespace@1,0", f->slot);
    g_assert_cmpstr(boot, ==, want);
    g_assert_cmphex(rd(f, REG_CSTS), ==, 0);
    enable(f);
    /* The admin queue registers do not move while enabled. */
    wr(f, REG_AQA, 0);
    g_assert_cmphex(rd(f, REG_AQA), ==, (ADMIN_Q - 1) | (ADMIN_Q - 1) << 16);
    /* Shutdown notification completes at once. */
    wr(f, REG_CC, CC_ENABLE | 1u << 14);
    g_assert_cmphex(rd(f, REG_CSTS) & 0xc, ==, 0x8);
    /* Disable: ready goes, the admin queue registers stay. */
    wr(f, REG_CC, 0);
    g_assert_cmphex(rd(f, REG_CSTS), ==, 0);
    g_assert_cmphex(test_mmio_read(f->vm, f->bar + REG_ASQ, 8), ==, ASQ);
    /* An admin queue of one entry is refused with a fatal status. */
    wr(f, REG_AQA, 0);
    wr(f, REG_CC, CC_ENABLE);
    g_assert_cmphex(rd(f, REG_CSTS) & 3, ==, 2);
    wr(f, REG_CC, 0);
    g_assert_cmphex(rd(f, REG_CSTS), ==, 0);
}

static void test_identify(struct fx *f, gconstpointer data)
{
    enable(f);
    uint8_t *d = ram(f, DATA, PAGE);
    memset(d, 0xee, PAGE);
    struct cmd c = { .opcode = 0x06, .prp1 = DATA, .cdw10 = 1 };
    g_assert_cmphex(admin(f, &c), ==, 0);
    g_assert_cmphex(d[0] | d[1] << 8, ==, 0x1b36);
    g_assert_cmpmem(d + 4, 10, "SN-TEST-1 ", 10);
    g_assert_cmpmem(d + 24, 15, "Oriel NVMe Disk", 15);
    g_assert_cmpuint(d[77], ==, 7);                     /* MDTS */
    g_assert_cmphex(d[512], ==, 0x66);
    g_assert_cmphex(d[513], ==, 0x44);
    g_assert_cmpuint(d[516], ==, 1);                    /* one namespace */
    g_assert_cmphex(d[520] & 0xc, ==, 0xc);             /* DSM, Write Zeroes */
    g_assert_cmphex(d[525] & 1, ==, 1);                 /* volatile write cache */
    g_assert_cmpuint(d[536] | d[537] | d[538] | d[539], ==, 0);   /* no SGLs */

    /* Namespace 1: 1024 blocks of 512 bytes. */
    memset(d, 0xee, PAGE);
    c = (struct cmd){ .opcode = 0x06, .nsid = 1, .prp1 = DATA, .cdw10 = 0 };
    g_assert_cmphex(admin(f, &c), ==, 0);
    uint64_t nsze;
    memcpy(&nsze, d, 8);
    g_assert_cmpuint(nsze, ==, DISK_SECTORS);
    g_assert_cmpuint(d[26] & 0xf, ==, 0);
    g_assert_cmpuint(d[128 + 2], ==, 9);
    g_assert_cmpuint(d[99], ==, 0);
    /* Active namespaces, and the descriptor list with the NGUID. */
    c = (struct cmd){ .opcode = 0x06, .nsid = 0, .prp1 = DATA, .cdw10 = 2 };
    g_assert_cmphex(admin(f, &c), ==, 0);
    g_assert_cmpuint(d[0], ==, 1);
    g_assert_cmpuint(d[4], ==, 0);
    c = (struct cmd){ .opcode = 0x06, .nsid = 1, .prp1 = DATA, .cdw10 = 2 };
    g_assert_cmphex(admin(f, &c), ==, 0);
    g_assert_cmpuint(d[0], ==, 0);
    c = (struct cmd){ .opcode = 0x06, .nsid = 1, .prp1 = DATA, .cdw10 = 3 };
    g_assert_cmphex(admin(f, &c), ==, 0);
    g_assert_cmpuint(d[0], ==, 2);
    g_assert_cmpuint(d[1], ==, 16);
    /* Bad namespace, bad CNS, a PRP that is not dword aligned, SGL. */
    c = (struct cmd){ .opcode = 0x06, .nsid = 2, .prp1 = DATA, .cdw10 = 0 };
    g_assert_cmphex(admin(f, &c), ==, 0x400b);
    c = (struct cmd){ .opcode = 0x06, .prp1 = DATA, .cdw10 = 0x42 };
    g_assert_cmphex(admin(f, &c), ==, 0x4002);
    c = (struct cmd){ .opcode = 0x06, .prp1 = DATA + 2, .cdw10 = 1 };
    g_assert_cmphex(admin(f, &c), ==, 0x4013);
    c = (struct cmd){ .opcode = 0x06, .prp1 = DATA, .cdw10 = 1, .flags = 0x40 };
    g_assert_cmphex(admin(f, &c), ==, 0x4002);
    /* Data outside RAM. */
    c = (struct cmd){ .opcode = 0x06, .prp1 = 0xfff000000ull, .cdw10 = 1 };
    g_assert_cmphex(admin(f, &c), ==, 0x4);
    /* Unknown opcode. */
    c = (struct cmd){ .opcode = 0x7f };
    g_assert_cmphex(admin(f, &c), ==, 0x4001);
}

static void test_features_and_logs(struct fx *f, gconstpointer data)
{
    enable(f);
    struct cmd c = { .opcode = 0x09, .cdw10 = 7, .cdw11 = 3 | 3u << 16 };
    struct cqe r = submit(f, 0, &c);
    g_assert_cmphex(r.status, ==, 0);
    g_assert_cmphex(r.dw0, ==, 3 | 3u << 16);
    c = (struct cmd){ .opcode = 0x0a, .cdw10 = 7 };
    r = submit(f, 0, &c);
    g_assert_cmphex(r.dw0, ==, 3 | 3u << 16);
    /* More queues than asked for: refused. */
    struct cmd cq = { .opcode = 0x05, .prp1 = IOCQ, .cdw10 = 5 | (IO_Q - 1) << 16, .cdw11 = 1 };
    g_assert_cmphex(admin(f, &cq), ==, 0x4101);
    /* Asking for 0xffff queues is invalid; the cache can go off. */
    c = (struct cmd){ .opcode = 0x09, .cdw10 = 7, .cdw11 = 0xffff };
    g_assert_cmphex(admin(f, &c), ==, 0x4002);
    c = (struct cmd){ .opcode = 0x09, .cdw10 = 6, .cdw11 = 0 };
    g_assert_cmphex(admin(f, &c), ==, 0);
    c = (struct cmd){ .opcode = 0x0a, .cdw10 = 6 };
    g_assert_cmphex(submit(f, 0, &c).dw0, ==, 0);
    c = (struct cmd){ .opcode = 0x09, .cdw10 = 8, .cdw11 = 0x0a04 };
    g_assert_cmphex(admin(f, &c), ==, 0);
    c = (struct cmd){ .opcode = 0x09, .cdw10 = 1u << 31 | 6, .cdw11 = 1 };
    g_assert_cmphex(admin(f, &c), ==, 0x410d);
    c = (struct cmd){ .opcode = 0x09, .cdw10 = 0x55 };
    g_assert_cmphex(admin(f, &c), ==, 0x4002);

    /* SMART, firmware slots and error logs; an unknown log. */
    uint8_t *d = ram(f, DATA, PAGE);
    memset(d, 0xee, PAGE);
    c = (struct cmd){ .opcode = 0x02, .nsid = 0xffffffffu, .prp1 = DATA,
                      .cdw10 = 2 | (512 / 4 - 1) << 16 };
    g_assert_cmphex(admin(f, &c), ==, 0);
    g_assert_cmpuint(d[3], ==, 100);
    g_assert_cmpuint(d[511], ==, 0);
    g_assert_cmpuint(d[512], ==, 0xee);
    c = (struct cmd){ .opcode = 0x02, .prp1 = DATA, .cdw10 = 3 | (512 / 4 - 1) << 16 };
    g_assert_cmphex(admin(f, &c), ==, 0);
    g_assert_cmpuint(d[0], ==, 1);
    g_assert_cmpmem(d + 8, 3, "1.0", 3);
    c = (struct cmd){ .opcode = 0x02, .prp1 = DATA, .cdw10 = 1 | (64 / 4 - 1) << 16 };
    g_assert_cmphex(admin(f, &c), ==, 0);
    c = (struct cmd){ .opcode = 0x02, .prp1 = DATA, .cdw10 = 0x77 | 15u << 16 };
    g_assert_cmphex(admin(f, &c), ==, 0x4109);
    c = (struct cmd){ .opcode = 0x02, .prp1 = DATA, .cdw10 = 2 | 15u << 16, .cdw12 = 4096 };
    g_assert_cmphex(admin(f, &c), ==, 0x4002);

    /* Abort finds nothing; event requests are held up to the limit. */
    c = (struct cmd){ .opcode = 0x08, .cdw10 = 1 };
    r = submit(f, 0, &c);
    g_assert_cmphex(r.status, ==, 0);
    g_assert_cmphex(r.dw0 & 1, ==, 1);
    uint8_t *e = ram(f, ASQ, 64 * 4);
    for (unsigned i = 0; i < 4; i++) {
        memset(e + 64 * (f->sq_tail[0]), 0, 64);
        e[64 * f->sq_tail[0]] = 0x0c;
        f->sq_tail[0] = (f->sq_tail[0] + 1) % ADMIN_Q;
    }
    wr(f, 0x1000, f->sq_tail[0]);
    /* No completion was posted for them. */
    uint32_t dw3;
    memcpy(&dw3, ram(f, ACQ + f->cq_head[0] * 16 + 12, 4), 4);
    g_assert_cmpuint(dw3 >> 16 & 1, !=, f->phase[0]);
    c = (struct cmd){ .opcode = 0x0c };
    g_assert_cmphex(submit(f, 0, &c).status, ==, 0x4105);
}

static void test_read_write(struct fx *f, gconstpointer data)
{
    enable(f);
    create_io_queues(f);
    uint8_t *d = ram(f, DATA, 64 * PAGE);

    /* One sector, inside a page at an offset. */
    memset(d, 0, 64 * PAGE);
    g_assert_cmphex(io(f, 0x02, 5, 1, DATA + 0x200, 0), ==, 0);
    check_sectors(d + 0x200, 5, 1);
    /* Two pages: PRP1 with an offset, PRP2 the second page. */
    g_assert_cmphex(io(f, 0x02, 10, 8, DATA + 0x800, DATA + 4 * PAGE), ==, 0);
    check_sectors(d + 0x800, 10, 4);
    check_sectors(d + 4 * PAGE, 14, 4);
    /* A PRP list whose first page has room for two entries: the first
     * holds data, the second chains to the next list page. */
    uint64_t *l1 = (uint64_t *)ram(f, PRPL + PAGE - 16, 16);
    uint64_t *l2 = (uint64_t *)ram(f, PRPL + PAGE, PAGE);
    l1[0] = DATA + 10 * PAGE;
    l1[1] = PRPL + PAGE;
    for (unsigned i = 0; i < 6; i++)
        l2[i] = DATA + (20 + i) * PAGE;
    g_assert_cmphex(io(f, 0x02, 100, 64, DATA + 9 * PAGE, PRPL + PAGE - 16), ==, 0);
    check_sectors(d + 9 * PAGE, 100, 8);
    check_sectors(d + 10 * PAGE, 108, 8);
    for (unsigned i = 0; i < 6; i++)
        check_sectors(d + (20 + i) * PAGE, 116 + 8 * i, 8);

    /* Write a pattern and find it in the image. */
    for (unsigned i = 0; i < 2 * PAGE; i++)
        d[30 * PAGE + i] = (uint8_t)(i * 7 + 3);
    g_assert_cmphex(io(f, 0x01, 200, 16, DATA + 30 * PAGE, DATA + 31 * PAGE), ==, 0);
    uint8_t back[2 * PAGE];
    storage_read_file(f->disk, 200 * 512, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), d + 30 * PAGE, 2 * PAGE);
    g_assert_cmphex(io(f, 0x00, 0, 1, 0, 0), ==, 0);   /* flush */

    /* Write Zeroes and deallocation. */
    struct cmd wz = { .opcode = 0x08, .nsid = 1, .cdw10 = 200, .cdw12 = 7 };
    g_assert_cmphex(submit(f, 1, &wz).status, ==, 0);
    storage_read_file(f->disk, 200 * 512, back, 8 * 512);
    for (unsigned i = 0; i < 8 * 512; i++)
        g_assert_cmpuint(back[i], ==, 0);
    uint8_t *range = ram(f, DATA + 40 * PAGE, 16);
    memset(range, 0, 16);
    uint32_t nlb = 16;
    uint64_t slba = 512;
    memcpy(range + 4, &nlb, 4);
    memcpy(range + 8, &slba, 8);
    struct cmd dsm = { .opcode = 0x09, .nsid = 1, .prp1 = DATA + 40 * PAGE, .cdw10 = 0,
                       .cdw11 = 4 };
    g_assert_cmphex(submit(f, 1, &dsm).status, ==, 0);
    storage_read_file(f->disk, 512 * 512, back, 16 * 512);
    for (unsigned i = 0; i < 16 * 512; i++)
        g_assert_cmpuint(back[i], ==, 0);
    /* A range past the end deallocates nothing. */
    slba = DISK_SECTORS - 8;
    memcpy(range + 8, &slba, 8);
    g_assert_cmphex(submit(f, 1, &dsm).status, ==, 0x4080);

    /* Out of range LBAs, the wrong namespace, too long, bad opcode. */
    g_assert_cmphex(io(f, 0x02, DISK_SECTORS - 1, 2, DATA, DATA + PAGE), ==, 0x4080);
    g_assert_cmphex(io(f, 0x02, DISK_SECTORS, 1, DATA, 0), ==, 0x4080);
    g_assert_cmphex(io(f, 0x01, UINT64_MAX, 1, DATA, 0), ==, 0x4080);
    struct cmd bad = { .opcode = 0x02, .nsid = 2, .prp1 = DATA };
    g_assert_cmphex(submit(f, 1, &bad).status, ==, 0x400b);
    g_assert_cmphex(io(f, 0x02, 0, 1025, DATA, PRPL), ==, 0x4080);
    bad = (struct cmd){ .opcode = 0x7e, .nsid = 1 };
    g_assert_cmphex(submit(f, 1, &bad).status, ==, 0x4001);
    /* A list entry with an offset, a list outside RAM, a PRP2 page with
     * an offset. */
    l2[0] = DATA + 8;
    g_assert_cmphex(io(f, 0x02, 0, 24, DATA, PRPL + PAGE), ==, 0x4013);
    g_assert_cmphex(io(f, 0x02, 0, 24, DATA, 0xfff000000ull), ==, 0x0004);
    g_assert_cmphex(io(f, 0x02, 0, 16, DATA, DATA + PAGE + 8), ==, 0x4013);
    /* More than MDTS (512 KiB): 1024 blocks + 1 cannot be expressed, so
     * the largest read of the disk is fine and the check is the range. */
    g_assert_cmphex(io(f, 0x02, 0, 2048, DATA, PRPL), ==, 0x4080);
}

static void test_queue_errors(struct fx *f, gconstpointer data)
{
    enable(f);
    struct cmd c = { .opcode = 0x05, .prp1 = IOCQ, .cdw10 = 0 | 7u << 16, .cdw11 = 1 };
    g_assert_cmphex(admin(f, &c), ==, 0x4101);          /* qid 0 */
    c.cdw10 = 17 | 7u << 16;
    g_assert_cmphex(admin(f, &c), ==, 0x4101);          /* beyond the queues */
    c.cdw10 = 1 | 0u << 16;
    g_assert_cmphex(admin(f, &c), ==, 0x4102);          /* one entry */
    c.cdw10 = 1 | 2047u << 16;
    g_assert_cmphex(admin(f, &c), ==, 0x4102);          /* above MQES */
    c.cdw10 = 1 | 7u << 16;
    c.cdw11 = 0;
    g_assert_cmphex(admin(f, &c), ==, 0x4002);          /* not contiguous */
    c.cdw11 = 1 | 40u << 16;
    g_assert_cmphex(admin(f, &c), ==, 0x4108);          /* no such vector */
    c.cdw11 = 1;
    c.prp1 = IOCQ + 0x100;
    g_assert_cmphex(admin(f, &c), ==, 0x4013);          /* not page aligned */
    c.prp1 = 0xfff000000ull;
    g_assert_cmphex(admin(f, &c), ==, 0x4002);          /* outside RAM */
    c.prp1 = IOCQ;
    g_assert_cmphex(admin(f, &c), ==, 0);
    g_assert_cmphex(admin(f, &c), ==, 0x4101);          /* exists */
    struct cmd s = { .opcode = 0x01, .prp1 = IOSQ, .cdw10 = 1 | 7u << 16, .cdw11 = 1 | 2u << 16 };
    g_assert_cmphex(admin(f, &s), ==, 0x4100);          /* no such CQ */
    s.cdw11 = 1 | 0u << 16;
    g_assert_cmphex(admin(f, &s), ==, 0x4100);          /* the admin CQ */
    s.cdw11 = 1 | 1u << 16;
    g_assert_cmphex(admin(f, &s), ==, 0);
    /* A CQ with a queue on it cannot go; deleting the SQ first works. */
    struct cmd d = { .opcode = 0x04, .cdw10 = 1 };
    g_assert_cmphex(admin(f, &d), ==, 0x410c);
    d.cdw10 = 0;
    g_assert_cmphex(admin(f, &d), ==, 0x4101);
    struct cmd ds = { .opcode = 0x00, .cdw10 = 2 };
    g_assert_cmphex(admin(f, &ds), ==, 0x4101);
    ds.cdw10 = 1;
    g_assert_cmphex(admin(f, &ds), ==, 0);
    d.cdw10 = 1;
    g_assert_cmphex(admin(f, &d), ==, 0);
    /* Number of queues is fixed once queues exist. */
    g_assert_cmphex(admin(f, &c), ==, 0);
    struct cmd nq = { .opcode = 0x09, .cdw10 = 7, .cdw11 = 0 };
    g_assert_cmphex(admin(f, &nq), ==, 0x400c);
}

static void test_bad_doorbells(struct fx *f, gconstpointer data)
{
    /* A tail beyond the queue. */
    enable(f);
    wr(f, 0x1000, ADMIN_Q);
    g_assert_cmphex(rd(f, REG_CSTS) & 3, ==, 3);
    /* Nothing more is processed until reset. */
    wr(f, REG_CC, 0);
    g_assert_cmphex(rd(f, REG_CSTS), ==, 0);
    /* A queue that does not exist; a completion head past the end. */
    enable(f);
    wr(f, 0x1000 + 8 * 3, 1);
    g_assert_cmphex(rd(f, REG_CSTS) & 2, ==, 2);
    wr(f, REG_CC, 0);
    enable(f);
    wr(f, 0x1004, ADMIN_Q + 5);
    g_assert_cmphex(rd(f, REG_CSTS) & 2, ==, 2);
    wr(f, REG_CC, 0);
    enable(f);
    test_mmio_write(f->vm, f->bar + 0x3ff8, 1, 4);      /* beyond every queue */
    g_assert_cmphex(rd(f, REG_CSTS) & 2, ==, 2);
    /* Doorbells of a disabled controller are ignored. */
    wr(f, REG_CC, 0);
    wr(f, 0x1000, 1000);
    g_assert_cmphex(rd(f, REG_CSTS), ==, 0);
    /* The controller works again after enabling. */
    enable(f);
    struct cmd c = { .opcode = 0x06, .prp1 = DATA, .cdw10 = 1 };
    g_assert_cmphex(admin(f, &c), ==, 0);
}

/* A completion queue fills up: the submission queue waits for the host to
 * consume entries. */
static void test_full_cq(struct fx *f, gconstpointer data)
{
    enable(f);
    /* Four admin commands, an admin CQ of 16: fine; now create an I/O CQ of
     * 2 entries (room for one) and submit three reads. */
    struct cmd cq = { .opcode = 0x05, .prp1 = IOCQ, .cdw10 = 1 | 1u << 16, .cdw11 = 3 };
    g_assert_cmphex(admin(f, &cq), ==, 0);
    struct cmd sq = { .opcode = 0x01, .prp1 = IOSQ, .cdw10 = 1 | (IO_Q - 1) << 16,
                      .cdw11 = 1 | 1u << 16 };
    g_assert_cmphex(admin(f, &sq), ==, 0);
    uint8_t *e = ram(f, IOSQ, 64 * 3);
    memset(e, 0, 64 * 3);
    for (unsigned i = 0; i < 3; i++) {
        e[64 * i] = 0x02;
        e[64 * i + 2] = (uint8_t)(i + 1);
        e[64 * i + 4] = 1;
        uint64_t prp = DATA;
        memcpy(e + 64 * i + 24, &prp, 8);
    }
    wr(f, 0x1008, 3);
    uint32_t dw[4];
    memcpy(dw, ram(f, IOCQ, 16), 16);
    g_assert_cmpuint(dw[2] & 0xffff, ==, 1);            /* SQ head after one */
    /* INTx is asserted for the pending entry (MSI-X is off). */
    unsigned gsi = PC_PCI_INTX_GSI(f->slot, 0);
    g_assert_true(test_vm_irq_level(f->vm, gsi));
    /* INTMS masks it, INTMC unmasks. */
    wr(f, REG_INTMS, 1);
    g_assert_false(test_vm_irq_level(f->vm, gsi));
    wr(f, REG_INTMC, 1);
    g_assert_true(test_vm_irq_level(f->vm, gsi));
    /* Consuming it lets the next one in. */
    wr(f, 0x100c, 1);
    memcpy(dw, ram(f, IOCQ + 16, 16), 16);
    g_assert_cmpuint(dw[3] & 0xffff, ==, 2);
    g_assert_cmpuint(dw[3] >> 16 & 1, ==, 1);
    wr(f, 0x100c, 0);
    memcpy(dw, ram(f, IOCQ, 16), 16);
    g_assert_cmpuint(dw[3] & 0xffff, ==, 3);
    g_assert_cmpuint(dw[3] >> 16 & 1, ==, 0);            /* phase flipped */
    wr(f, 0x100c, 1);
    g_assert_false(test_vm_irq_level(f->vm, gsi));
}

static void test_msix(struct fx *f, gconstpointer data)
{
    unsigned cap = 0;
    for (unsigned p = pci_config_read(f->bus, f->slot, 0, PCI_CAPABILITY_LIST, 1); p;
         p = pci_config_read(f->bus, f->slot, 0, p + 1, 1))
        if (pci_config_read(f->bus, f->slot, 0, p, 1) == PCI_CAP_ID_MSIX)
            cap = p;
    g_assert_cmpuint(cap, !=, 0);
    g_assert_cmpuint(pci_config_read(f->bus, f->slot, 0, cap + 2, 2) & 0x7ff, ==, 16);
    uint64_t table = pci_config_read(f->bus, f->slot, 0, PCI_BAR0 + 16, 4) & ~0xfu;
    pci_config_write(f->bus, f->slot, 0, cap + 2, 0x8000, 2);
    test_mmio_write(f->vm, table + 16, 0xfee00000, 4);
    test_mmio_write(f->vm, table + 24, 0x41, 4);
    test_mmio_write(f->vm, table + 28, 0, 4);
    test_mmio_write(f->vm, table + 0, 0xfee00000, 4);
    test_mmio_write(f->vm, table + 8, 0x40, 4);
    test_mmio_write(f->vm, table + 12, 0, 4);
    enable(f);
    create_io_queues(f);        /* the I/O CQ on vector 1 */
    unsigned before = test_vm_msi_count(f->vm);
    g_assert_cmpuint(before, ==, 2);
    g_assert_cmphex(test_vm_msi(f->vm, 0).data, ==, 0x40);
    g_assert_cmphex(io(f, 0x02, 0, 1, DATA, 0), ==, 0);
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, 3);
    g_assert_cmphex(test_vm_msi(f->vm, 2).data, ==, 0x41);
    g_assert_false(test_vm_irq_level(f->vm, PC_PCI_INTX_GSI(f->slot, 0)));
}

static void test_readonly(struct fx *f, gconstpointer data)
{
    enable(f);
    create_io_queues(f);
    uint8_t *d = ram(f, DATA, PAGE);
    struct cmd c = { .opcode = 0x06, .nsid = 1, .prp1 = DATA, .cdw10 = 0 };
    g_assert_cmphex(admin(f, &c), ==, 0);
    g_assert_cmpuint(d[99] & 1, ==, 1);
    c = (struct cmd){ .opcode = 0x06, .prp1 = DATA, .cdw10 = 1 };
    g_assert_cmphex(admin(f, &c), ==, 0);
    g_assert_cmphex(d[520] & 4, ==, 0);                /* no DSM */
    g_assert_cmphex(io(f, 0x01, 0, 1, DATA, 0), ==, 0x4020);
    struct cmd wz = { .opcode = 0x08, .nsid = 1, .cdw12 = 0 };
    g_assert_cmphex(submit(f, 1, &wz).status, ==, 0x4020);
    g_assert_cmphex(io(f, 0x02, 3, 1, DATA, 0), ==, 0);
    check_sectors(d, 3, 1);
}

static void test_state_round_trip(struct fx *f, gconstpointer data)
{
    enable(f);
    create_io_queues(f);
    g_assert_cmphex(io(f, 0x02, 0, 1, DATA, 0), ==, 0);
    struct pci_device *d = nvme_pci_device(f->nvme);
    g_autoptr(GError) err = NULL;
    struct state_out o;
    state_out_init(&o);
    g_assert_true(d->state->save(d, &o, &err));

    /* A second controller on the same VM's memory picks up where the
     * first left off. */
    struct fx g;
    setup_opts(&g, false, true);
    struct pci_device *d2 = nvme_pci_device(g.nvme);
    struct state_in in;
    state_in_init(&in, o.buf->data, o.buf->len, "nvme");
    g_assert_true(d2->state->load(d2, &in, 1, &err));
    g_assert_no_error(err);
    g_assert_true(state_in_finish(&in, &err));
    g_assert_cmphex(test_mmio_read(g.vm, g.bar + REG_CSTS, 4), ==, 1);
    /* The second VM's memory holds no queues yet: copy the first's. */
    memcpy(ram(&g, ASQ, 0x20000), ram(f, ASQ, 0x20000), 0x20000);
    memcpy(g.sq_tail, f->sq_tail, sizeof(f->sq_tail));
    memcpy(g.cq_head, f->cq_head, sizeof(f->cq_head));
    memcpy(g.phase, f->phase, sizeof(f->phase));
    g.cid = f->cid;
    g_assert_cmphex(io(&g, 0x02, 7, 1, DATA, 0), ==, 0);
    check_sectors(ram(&g, DATA, 512), 7, 1);

    /* A truncated state is refused and leaves the controller reset. */
    state_in_init(&in, o.buf->data, o.buf->len / 2, "nvme");
    g_assert_false(d2->state->load(d2, &in, 1, &err));
    g_clear_error(&err);
    g_assert_cmphex(test_mmio_read(g.vm, g.bar + REG_CSTS, 4), ==, 0);
    state_out_clear(&o);
    teardown(&g, NULL);
}

static void test_bad_options(void)
{
    struct vm *vm = test_vm_new(RAM);
    struct pci_bus *bus = pci_bus_create(vm);
    g_autoptr(GError) err = NULL;
    struct disk_config dc = { .path = (char *)"/nonexistent/disk.img" };
    g_assert_null(nvme_create(vm, bus, &dc, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);
    char *empty = storage_make_disk(0);
    dc.path = empty;
    g_assert_null(nvme_create(vm, bus, &dc, &err));
    g_assert_nonnull(strstr(err->message, "512-byte"));
    storage_remove(empty);
    pci_bus_free(bus);
    test_vm_free(vm);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define T(name, fn) g_test_add("/nvme/" name, struct fx, NULL, setup, fn, teardown)
    T("registers", test_registers);
    T("identify", test_identify);
    T("features-and-logs", test_features_and_logs);
    T("read-write", test_read_write);
    T("queue-errors", test_queue_errors);
    T("bad-doorbells", test_bad_doorbells);
    T("full-cq-and-intx", test_full_cq);
    T("msix", test_msix);
    T("state/round-trip", test_state_round_trip);
    g_test_add("/nvme/readonly", struct fx, "ro", setup, test_readonly, teardown);
    g_test_add_func("/nvme/bad-options", test_bad_options);
#undef T
    return g_test_run();
}
