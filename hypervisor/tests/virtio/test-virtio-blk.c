/* virtio-blk: request handling against a temporary image file, and the
 * whole path through the PCI transport (feature negotiation, queue setup,
 * notification on the MMIO path, main-loop processing, used ring, INTx and
 * ISR, MSI-X, NEEDS_RESET on a malformed chain, reset). */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "pci/pci.h"
#include "config/pc_layout.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_devices.h"
#include "virtio/virtio_pci.h"
#include "tests/support/test_vm.h"

#define SECTORS 64

static char *make_image(void)
{
    char *path = g_build_filename(g_get_tmp_dir(), "oriel-blk-XXXXXX", NULL);
    int fd = g_mkstemp(path);
    g_assert_cmpint(fd, >=, 0);
    uint8_t sector[512];
    for (unsigned s = 0; s < SECTORS; s++) {
        memset(sector, (int)s, sizeof(sector));
        g_assert_cmpint(write(fd, sector, sizeof(sector)), ==, sizeof(sector));
    }
    close(fd);
    return path;
}

static void read_image(const char *path, unsigned sector, uint8_t *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    g_assert_cmpint(pread(fd, buf, len, (off_t)sector * 512), ==, (ssize_t)len);
    close(fd);
}

/* ---- direct request handling -------------------------------------------- */

struct req {
    struct virtq_elem elem;
    uint8_t hdr[16];
    uint8_t data[4096];
    uint8_t status;
};

static void req_init(struct req *r, uint32_t type, uint64_t sector)
{
    memset(r, 0, sizeof(*r));
    memcpy(r->hdr, &type, 4);
    memcpy(r->hdr + 8, &sector, 8);
    r->status = 0xee;
}

/* Readable: header [+ data]; writable: [data +] status. */
static void req_layout(struct req *r, size_t out_data, size_t in_data)
{
    struct virtq_elem *e = &r->elem;
    unsigned n = 0;
    e->iov[n++] = (struct iovec){ r->hdr, 16 };
    if (out_data)
        e->iov[n++] = (struct iovec){ r->data, out_data };
    e->nout = n;
    e->out_len = 16 + out_data;
    if (in_data)
        e->iov[n++] = (struct iovec){ r->data, in_data };
    e->iov[n++] = (struct iovec){ &r->status, 1 };
    e->nin = n - e->nout;
    e->in_len = in_data + 1;
}

struct blk_fixture {
    char *path;
    struct block_backend *bb;
    struct virtio_blk_disk disk;
    struct req r;
};

static void blk_setup(struct blk_fixture *f, gconstpointer data)
{
    f->path = make_image();
    g_autoptr(GError) err = NULL;
    bool ro = GPOINTER_TO_INT(data);
    f->bb = block_raw_open(f->path, ro, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(f->bb->size, ==, SECTORS * 512);
    f->disk = (struct virtio_blk_disk){ .bb = f->bb, .readonly = ro, .discard = !ro };
    memcpy(f->disk.serial, "ORIEL-SERIAL-0123456", 20);
}

static void blk_teardown(struct blk_fixture *f, gconstpointer data)
{
    block_backend_close(f->bb);
    g_unlink(f->path);
    g_free(f->path);
}

static void test_read(struct blk_fixture *f, gconstpointer data)
{
    req_init(&f->r, VIRTIO_BLK_T_IN, 5);
    req_layout(&f->r, 0, 1024);
    g_assert_cmpuint(virtio_blk_handle_request(&f->disk, &f->r.elem), ==, 1025);
    g_assert_cmpuint(f->r.status, ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(f->r.data[0], ==, 5);
    g_assert_cmpuint(f->r.data[511], ==, 5);
    g_assert_cmpuint(f->r.data[512], ==, 6);
    g_assert_cmpuint(f->r.data[1023], ==, 6);
}

static void test_write_and_flush(struct blk_fixture *f, gconstpointer data)
{
    req_init(&f->r, VIRTIO_BLK_T_OUT, 10);
    memset(f->r.data, 0xab, 512);
    req_layout(&f->r, 512, 0);
    g_assert_cmpuint(virtio_blk_handle_request(&f->disk, &f->r.elem), ==, 1);
    g_assert_cmpuint(f->r.status, ==, VIRTIO_BLK_S_OK);
    uint8_t back[512];
    read_image(f->path, 10, back, 512);
    for (unsigned i = 0; i < 512; i++)
        g_assert_cmpuint(back[i], ==, 0xab);
    read_image(f->path, 11, back, 1);
    g_assert_cmpuint(back[0], ==, 11);

    req_init(&f->r, VIRTIO_BLK_T_FLUSH, 0);
    req_layout(&f->r, 0, 0);
    g_assert_cmpuint(virtio_blk_handle_request(&f->disk, &f->r.elem), ==, 1);
    g_assert_cmpuint(f->r.status, ==, VIRTIO_BLK_S_OK);
}

static void test_get_id(struct blk_fixture *f, gconstpointer data)
{
    req_init(&f->r, VIRTIO_BLK_T_GET_ID, 0);
    req_layout(&f->r, 0, 20);
    g_assert_cmpuint(virtio_blk_handle_request(&f->disk, &f->r.elem), ==, 21);
    g_assert_cmpuint(f->r.status, ==, VIRTIO_BLK_S_OK);
    g_assert_cmpmem(f->r.data, 20, "ORIEL-SERIAL-0123456", 20);
    /* A short buffer gets what fits. */
    req_init(&f->r, VIRTIO_BLK_T_GET_ID, 0);
    req_layout(&f->r, 0, 5);
    g_assert_cmpuint(virtio_blk_handle_request(&f->disk, &f->r.elem), ==, 6);
    g_assert_cmpmem(f->r.data, 5, "ORIEL", 5);
}

static void test_out_of_range(struct blk_fixture *f, gconstpointer data)
{
    /* Last sector readable, one past it not, huge sectors not. */
    req_init(&f->r, VIRTIO_BLK_T_IN, SECTORS - 1);
    req_layout(&f->r, 0, 512);
    virtio_blk_handle_request(&f->disk, &f->r.elem);
    g_assert_cmpuint(f->r.status, ==, VIRTIO_BLK_S_OK);
    req_init(&f->r, VIRTIO_BLK_T_IN, SECTORS - 1);
    req_layout(&f->r, 0, 1024);
    g_assert_cmpuint(virtio_blk_handle_request(&f->disk, &f->r.elem), ==, 1);
    g_assert_cmpuint(f->r.status, ==, VIRTIO_BLK_S_IOERR);
    req_init(&f->r, VIRTIO_BLK_T_OUT, UINT64_MAX - 1);
    req_layout(&f->r, 1024, 0);
    virtio_blk_handle_request(&f->disk, &f->r.elem);
    g_assert_cmpuint(f->r.status, ==, VIRTIO_BLK_S_IOERR);
    /* Not a whole number of sectors. */
    req_init(&f->r, VIRTIO_BLK_T_IN, 0);
    req_layout(&f->r, 0, 100);
    virtio_blk_handle_request(&f->disk, &f->r.elem);
    g_assert_cmpuint(f->r.status, ==, VIRTIO_BLK_S_IOERR);
    /* Unknown type. */
    req_init(&f->r, 77, 0);
    req_layout(&f->r, 0, 0);
    virtio_blk_handle_request(&f->disk, &f->r.elem);
    g_assert_cmpuint(f->r.status, ==, VIRTIO_BLK_S_UNSUPP);
    /* No room for a status, or a short header: nothing written. */
    req_init(&f->r, VIRTIO_BLK_T_IN, 0);
    req_layout(&f->r, 0, 0);
    f->r.elem.nin = 0;
    f->r.elem.in_len = 0;
    g_assert_cmpuint(virtio_blk_handle_request(&f->disk, &f->r.elem), ==, 0);
    g_assert_cmpuint(f->r.status, ==, 0xee);
    req_init(&f->r, VIRTIO_BLK_T_IN, 0);
    req_layout(&f->r, 0, 0);
    f->r.elem.iov[0].iov_len = 8;
    f->r.elem.out_len = 8;
    g_assert_cmpuint(virtio_blk_handle_request(&f->disk, &f->r.elem), ==, 0);
    g_assert_cmpuint(f->r.status, ==, 0xee);
}

static void test_discard(struct blk_fixture *f, gconstpointer data)
{
    struct { uint64_t sector; uint32_t num, flags; } seg = { 8, 8, 0 };
    req_init(&f->r, VIRTIO_BLK_T_DISCARD, 0);
    memcpy(f->r.data, &seg, sizeof(seg));
    req_layout(&f->r, sizeof(seg), 0);
    virtio_blk_handle_request(&f->disk, &f->r.elem);
    g_assert_cmpuint(f->r.status, ==, VIRTIO_BLK_S_OK);
    uint8_t back[4096];
    read_image(f->path, 8, back, 4096);
    for (unsigned i = 0; i < 4096; i++)
        g_assert_cmpuint(back[i], ==, 0);
    read_image(f->path, 16, back, 1);
    g_assert_cmpuint(back[0], ==, 16);
    struct stat st;
    g_assert_cmpint(stat(f->path, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, SECTORS * 512);

    /* Out of range segment. */
    seg = (typeof(seg)){ SECTORS - 1, 2, 0 };
    req_init(&f->r, VIRTIO_BLK_T_DISCARD, 0);
    memcpy(f->r.data, &seg, sizeof(seg));
    req_layout(&f->r, sizeof(seg), 0);
    virtio_blk_handle_request(&f->disk, &f->r.elem);
    g_assert_cmpuint(f->r.status, ==, VIRTIO_BLK_S_IOERR);

    /* Write zeroes with unmap. */
    seg = (typeof(seg)){ 20, 1, 1 };
    req_init(&f->r, VIRTIO_BLK_T_WRITE_ZEROES, 0);
    memcpy(f->r.data, &seg, sizeof(seg));
    req_layout(&f->r, sizeof(seg), 0);
    virtio_blk_handle_request(&f->disk, &f->r.elem);
    g_assert_cmpuint(f->r.status, ==, VIRTIO_BLK_S_OK);
    read_image(f->path, 20, back, 512);
    for (unsigned i = 0; i < 512; i++)
        g_assert_cmpuint(back[i], ==, 0);
}

static void test_readonly(struct blk_fixture *f, gconstpointer data)
{
    req_init(&f->r, VIRTIO_BLK_T_OUT, 3);
    memset(f->r.data, 0xcd, 512);
    req_layout(&f->r, 512, 0);
    virtio_blk_handle_request(&f->disk, &f->r.elem);
    g_assert_cmpuint(f->r.status, ==, VIRTIO_BLK_S_IOERR);
    uint8_t back[1];
    read_image(f->path, 3, back, 1);
    g_assert_cmpuint(back[0], ==, 3);
    /* Reads still work; discards and write-zeroes are refused. */
    req_init(&f->r, VIRTIO_BLK_T_IN, 3);
    req_layout(&f->r, 0, 512);
    virtio_blk_handle_request(&f->disk, &f->r.elem);
    g_assert_cmpuint(f->r.status, ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(f->r.data[0], ==, 3);
    struct { uint64_t sector; uint32_t num, flags; } seg = { 3, 1, 0 };
    req_init(&f->r, VIRTIO_BLK_T_WRITE_ZEROES, 0);
    memcpy(f->r.data, &seg, sizeof(seg));
    req_layout(&f->r, sizeof(seg), 0);
    virtio_blk_handle_request(&f->disk, &f->r.elem);
    g_assert_cmpuint(f->r.status, ==, VIRTIO_BLK_S_IOERR);
    /* The backend itself refuses writes too (opened O_RDONLY). */
    struct iovec v = { f->r.data, 512 };
    g_assert_cmpint(block_backend_pwritev(f->bb, &v, 1, 0), <, 0);
}

/* ---- through the PCI transport -------------------------------------------- */

#define DESC_GPA  0x10000
#define AVAIL_GPA 0x14000
#define USED_GPA  0x15000
#define HDR_GPA   0x20000
#define DATA_GPA  0x21000
#define STAT_GPA  0x22000
#define QSZ       16

struct dev_fixture {
    struct vm *vm;
    struct pci_bus *bus;
    char *path;
    struct virtio_blk *blk;
    unsigned slot;
    uint64_t bar;       /* virtio structures (BAR 4) */
    uint64_t msix_bar;  /* BAR 1 */
    uint16_t avail_idx;
};

static uint32_t cfg_read(struct dev_fixture *f, unsigned reg, unsigned size)
{
    return pci_config_read(f->bus, f->slot, 0, reg, size);
}

static void cfg_write(struct dev_fixture *f, unsigned reg, uint32_t v, unsigned size)
{
    pci_config_write(f->bus, f->slot, 0, reg, v, size);
}

/* Find the virtio capability of a type; returns its config offset. */
static unsigned find_cap(struct dev_fixture *f, uint8_t type)
{
    for (unsigned p = cfg_read(f, PCI_CAPABILITY_LIST, 1); p; p = cfg_read(f, p + 1, 1))
        if (cfg_read(f, p, 1) == PCI_CAP_ID_VNDR && cfg_read(f, p + 3, 1) == type)
            return p;
    return 0;
}

static uint64_t cap_addr(struct dev_fixture *f, uint8_t type)
{
    unsigned c = find_cap(f, type);
    g_assert_cmpuint(c, !=, 0);
    g_assert_cmpuint(cfg_read(f, c + 4, 1), ==, 4);
    return f->bar + cfg_read(f, c + 8, 4);
}

static uint64_t common(struct dev_fixture *f) { return cap_addr(f, 1); }

static void dev_setup(struct dev_fixture *f, gconstpointer data)
{
    f->vm = test_vm_new(32 << 20);
    f->bus = pci_bus_create(f->vm);
    f->path = make_image();
    struct disk_config cfg = { .path = f->path, .serial = (char *)"disk-7" };
    g_autoptr(GError) err = NULL;
    f->blk = virtio_blk_create(f->vm, f->bus, &cfg, &err);
    g_assert_no_error(err);
    f->slot = 2;
    g_assert_cmphex(cfg_read(f, 0, 4), ==, 0x10421af4);
    g_assert_cmphex(cfg_read(f, PCI_REVISION_ID, 1), ==, 1);
    g_assert_cmphex(cfg_read(f, PCI_SUBSYSTEM_VENDOR_ID, 2), ==, 0x1af4);
    g_assert_cmphex(cfg_read(f, PCI_INTERRUPT_PIN, 1), ==, 1);
    uint32_t lo = cfg_read(f, PCI_BAR0 + 16, 4);
    g_assert_cmphex(lo & 0x6, ==, 0x4); /* 64-bit */
    f->bar = (lo & ~0xfu) | (uint64_t)cfg_read(f, PCI_BAR0 + 20, 4) << 32;
    f->msix_bar = cfg_read(f, PCI_BAR0 + 4, 4) & ~0xfu;
    cfg_write(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
}

static void dev_teardown(struct dev_fixture *f, gconstpointer data)
{
    virtio_blk_free(f->blk);
    pci_bus_free(f->bus);
    test_vm_free(f->vm);
    g_unlink(f->path);
    g_free(f->path);
}

static uint8_t status(struct dev_fixture *f)
{
    return (uint8_t)test_mmio_read(f->vm, common(f) + 20, 1);
}

/* The Linux driver's initialisation sequence; returns the status after
 * FEATURES_OK was requested. */
static uint8_t driver_init(struct dev_fixture *f, uint64_t features)
{
    uint64_t c = common(f);
    test_mmio_write(f->vm, c + 20, 0, 1);
    g_assert_cmpuint(status(f), ==, 0);
    test_mmio_write(f->vm, c + 20, VIRTIO_STATUS_ACKNOWLEDGE, 1);
    test_mmio_write(f->vm, c + 20, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
    test_mmio_write(f->vm, c + 8, 0, 4);
    test_mmio_write(f->vm, c + 12, (uint32_t)features, 4);
    test_mmio_write(f->vm, c + 8, 1, 4);
    test_mmio_write(f->vm, c + 12, (uint32_t)(features >> 32), 4);
    test_mmio_write(f->vm, c + 20, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                    VIRTIO_STATUS_FEATURES_OK, 1);
    return status(f);
}

static void setup_queue(struct dev_fixture *f)
{
    uint64_t c = common(f);
    test_mmio_write(f->vm, c + 22, 0, 2);
    g_assert_cmpuint(test_mmio_read(f->vm, c + 24, 2), ==, 256);
    test_mmio_write(f->vm, c + 24, QSZ, 2);
    test_mmio_write(f->vm, c + 32, DESC_GPA, 8);
    test_mmio_write(f->vm, c + 40, AVAIL_GPA, 4);
    test_mmio_write(f->vm, c + 44, 0, 4);
    test_mmio_write(f->vm, c + 48, USED_GPA, 8);
    test_mmio_write(f->vm, c + 28, 1, 2);
    g_assert_cmpuint(test_mmio_read(f->vm, c + 28, 2), ==, 1);
    test_mmio_write(f->vm, c + 20, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                    VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK, 1);
    f->avail_idx = 0;
}

static void put_desc(struct dev_fixture *f, unsigned i, uint64_t addr, uint32_t len,
                     uint16_t flags, uint16_t next)
{
    struct virtq_desc d = { addr, len, flags, next };
    g_assert_true(guest_memory_write(vm_memory(f->vm), DESC_GPA + 16ull * i, &d, sizeof(d)));
}

static void offer_and_kick(struct dev_fixture *f, uint16_t head)
{
    struct guest_memory *m = vm_memory(f->vm);
    uint16_t slot = f->avail_idx % QSZ;
    guest_memory_write(m, AVAIL_GPA + 4 + 2 * slot, &head, 2);
    f->avail_idx++;
    guest_memory_write(m, AVAIL_GPA + 2, &f->avail_idx, 2);
    /* 16-bit write of the queue index to its notify address. */
    unsigned nc = find_cap(f, 2);
    uint32_t mult = cfg_read(f, nc + 16, 4);
    uint64_t c = common(f);
    test_mmio_write(f->vm, c + 22, 0, 2);
    uint16_t off = (uint16_t)test_mmio_read(f->vm, c + 30, 2);
    test_mmio_write(f->vm, cap_addr(f, 2) + (uint64_t)off * mult, 0, 2);
}

struct used_wait {
    struct vm *vm;
    uint16_t want;
};

static bool used_reached(void *opaque)
{
    struct used_wait *w = opaque;
    uint16_t idx = 0;
    guest_memory_read(vm_memory(w->vm), USED_GPA + 2, &idx, 2);
    return idx == w->want;
}

static void wait_used(struct dev_fixture *f, uint16_t want)
{
    struct used_wait w = { f->vm, want };
    g_assert_true(test_vm_run_until(f->vm, used_reached, &w, 5000));
}

static bool never(void *opaque) { return false; }

static void test_negotiation(struct dev_fixture *f, gconstpointer data)
{
    uint64_t c = common(f);
    /* Device features: VERSION_1, FLUSH, SEG_MAX ... and a config space
     * with the capacity in sectors. */
    test_mmio_write(f->vm, c + 0, 1, 4);
    g_assert_true(test_mmio_read(f->vm, c + 4, 4) & 1); /* bit 32 */
    test_mmio_write(f->vm, c + 0, 0, 4);
    uint32_t lo = (uint32_t)test_mmio_read(f->vm, c + 4, 4);
    g_assert_true(lo & (1u << VIRTIO_BLK_F_FLUSH));
    g_assert_false(lo & (1u << VIRTIO_BLK_F_RO));
    g_assert_cmpuint(test_mmio_read(f->vm, cap_addr(f, 4), 8), ==, SECTORS);
    g_assert_cmpuint(test_mmio_read(f->vm, c + 18, 2), ==, 1);

    /* Without VERSION_1 FEATURES_OK does not stick. */
    g_assert_false(driver_init(f, 1ull << VIRTIO_BLK_F_FLUSH) & VIRTIO_STATUS_FEATURES_OK);
    /* Unknown feature bits are refused too. */
    g_assert_false(driver_init(f, (1ull << VIRTIO_F_VERSION_1) | (1ull << 50)) &
                   VIRTIO_STATUS_FEATURES_OK);
    g_assert_true(driver_init(f, (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_BLK_F_FLUSH)) &
                  VIRTIO_STATUS_FEATURES_OK);
    /* Features are frozen after FEATURES_OK. */
    test_mmio_write(f->vm, c + 8, 0, 4);
    test_mmio_write(f->vm, c + 12, 0, 4);
    g_assert_cmphex(test_mmio_read(f->vm, c + 12, 4), ==, 1u << VIRTIO_BLK_F_FLUSH);
    /* Queue size must be a power of two no larger than the maximum. */
    test_mmio_write(f->vm, c + 24, 12, 2);
    g_assert_cmpuint(test_mmio_read(f->vm, c + 24, 2), ==, 256);
    test_mmio_write(f->vm, c + 24, 512, 2);
    g_assert_cmpuint(test_mmio_read(f->vm, c + 24, 2), ==, 256);
    /* A queue that does not exist reads as size 0. */
    test_mmio_write(f->vm, c + 22, 5, 2);
    g_assert_cmpuint(test_mmio_read(f->vm, c + 24, 2), ==, 0);
    /* MSI-X vectors we don't have read back as NO_VECTOR. */
    test_mmio_write(f->vm, c + 16, 9, 2);
    g_assert_cmphex(test_mmio_read(f->vm, c + 16, 2), ==, VIRTIO_NO_VECTOR);
    test_mmio_write(f->vm, c + 16, 1, 2);
    g_assert_cmphex(test_mmio_read(f->vm, c + 16, 2), ==, 1);
    /* Reset clears everything. */
    test_mmio_write(f->vm, c + 20, 0, 1);
    g_assert_cmpuint(status(f), ==, 0);
    g_assert_cmphex(test_mmio_read(f->vm, c + 16, 2), ==, VIRTIO_NO_VECTOR);
    test_mmio_write(f->vm, c + 8, 0, 4);
    g_assert_cmphex(test_mmio_read(f->vm, c + 12, 4), ==, 0);
}

static void test_pci_cfg_window(struct dev_fixture *f, gconstpointer data)
{
    /* Firmware without a mapping reaches the structures through the
     * VIRTIO_PCI_CAP_PCI_CFG window in configuration space. */
    unsigned c = find_cap(f, 5);
    g_assert_cmpuint(c, !=, 0);
    g_assert_cmpuint(cfg_read(f, c + 2, 1), ==, 20);
    uint32_t common_off = cfg_read(f, find_cap(f, 1) + 8, 4);
    cfg_write(f, c + 4, 4, 1);                       /* BAR 4 */
    cfg_write(f, c + 8, common_off + 18, 4);         /* num_queues */
    cfg_write(f, c + 12, 2, 4);
    g_assert_cmpuint(cfg_read(f, c + 16, 2), ==, 1);
    /* Writing through the window: device status. */
    cfg_write(f, c + 8, common_off + 20, 4);
    cfg_write(f, c + 12, 1, 4);
    cfg_write(f, c + 16, VIRTIO_STATUS_ACKNOWLEDGE, 1);
    g_assert_cmpuint(status(f), ==, VIRTIO_STATUS_ACKNOWLEDGE);
    g_assert_cmpuint(cfg_read(f, c + 16, 1), ==, VIRTIO_STATUS_ACKNOWLEDGE);
    /* Bad lengths, offsets and BARs do nothing. */
    cfg_write(f, c + 12, 3, 4);
    cfg_write(f, c + 16, 0, 1);
    g_assert_cmpuint(status(f), ==, VIRTIO_STATUS_ACKNOWLEDGE);
    cfg_write(f, c + 12, 1, 4);
    cfg_write(f, c + 8, 0xfffffff0, 4);
    cfg_write(f, c + 16, 0, 1);
    cfg_write(f, c + 8, common_off + 20, 4);
    cfg_write(f, c + 4, 2, 1);
    cfg_write(f, c + 16, 0, 1);
    g_assert_cmpuint(status(f), ==, VIRTIO_STATUS_ACKNOWLEDGE);
}

static void test_io_with_intx(struct dev_fixture *f, gconstpointer data)
{
    g_assert_true(driver_init(f, 1ull << VIRTIO_F_VERSION_1) & VIRTIO_STATUS_FEATURES_OK);
    setup_queue(f);
    struct guest_memory *m = vm_memory(f->vm);

    /* Write sector 3. */
    struct { uint32_t type, reserved; uint64_t sector; } hdr = { VIRTIO_BLK_T_OUT, 0, 3 };
    guest_memory_write(m, HDR_GPA, &hdr, sizeof(hdr));
    uint8_t pattern[512];
    memset(pattern, 0x77, sizeof(pattern));
    guest_memory_write(m, DATA_GPA, pattern, sizeof(pattern));
    uint8_t st = 0xff;
    guest_memory_write(m, STAT_GPA, &st, 1);
    put_desc(f, 0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
    put_desc(f, 1, DATA_GPA, 512, VIRTQ_DESC_F_NEXT, 2);
    put_desc(f, 2, STAT_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
    unsigned gsi = PC_PCI_INTX_GSI(f->slot, 0);
    g_assert_false(test_vm_irq_level(f->vm, gsi));
    offer_and_kick(f, 0);
    wait_used(f, 1);
    guest_memory_read(m, STAT_GPA, &st, 1);
    g_assert_cmpuint(st, ==, VIRTIO_BLK_S_OK);
    uint8_t back[512];
    read_image(f->path, 3, back, 512);
    g_assert_cmpmem(back, 512, pattern, 512);
    uint32_t used_len;
    guest_memory_read(m, USED_GPA + 8, &used_len, 4);
    g_assert_cmpuint(used_len, ==, 1);

    /* INTx asserted with ISR bit 0; reading the ISR lowers it. */
    g_assert_true(test_vm_irq_level(f->vm, gsi));
    uint64_t isr = cap_addr(f, 3);
    g_assert_cmphex(test_mmio_read(f->vm, isr, 1), ==, 1);
    g_assert_false(test_vm_irq_level(f->vm, gsi));
    g_assert_cmphex(test_mmio_read(f->vm, isr, 1), ==, 0);

    /* Read it back through the device, with GET_ID in the same batch. */
    hdr = (typeof(hdr)){ VIRTIO_BLK_T_IN, 0, 3 };
    guest_memory_write(m, HDR_GPA, &hdr, sizeof(hdr));
    memset(pattern, 0, sizeof(pattern));
    guest_memory_write(m, DATA_GPA, pattern, sizeof(pattern));
    put_desc(f, 1, DATA_GPA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    offer_and_kick(f, 0);
    wait_used(f, 2);
    guest_memory_read(m, DATA_GPA, back, 512);
    g_assert_cmpuint(back[0], ==, 0x77);
    g_assert_cmpuint(back[511], ==, 0x77);

    struct { uint32_t type, reserved; uint64_t sector; } idhdr = { VIRTIO_BLK_T_GET_ID, 0, 0 };
    guest_memory_write(m, HDR_GPA + 0x100, &idhdr, sizeof(idhdr));
    put_desc(f, 4, HDR_GPA + 0x100, 16, VIRTQ_DESC_F_NEXT, 5);
    put_desc(f, 5, DATA_GPA + 0x400, 20, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 6);
    put_desc(f, 6, STAT_GPA + 8, 1, VIRTQ_DESC_F_WRITE, 0);
    offer_and_kick(f, 4);
    wait_used(f, 3);
    char id[21] = { 0 };
    guest_memory_read(m, DATA_GPA + 0x400, id, 20);
    g_assert_cmpstr(id, ==, "disk-7");
}

static void test_io_with_msix(struct dev_fixture *f, gconstpointer data)
{
    g_assert_true(driver_init(f, 1ull << VIRTIO_F_VERSION_1) & VIRTIO_STATUS_FEATURES_OK);
    /* Enable MSI-X, program and unmask vector 1, bind queue 0 to it. */
    unsigned cap = 0;
    for (unsigned p = cfg_read(f, PCI_CAPABILITY_LIST, 1); p; p = cfg_read(f, p + 1, 1))
        if (cfg_read(f, p, 1) == PCI_CAP_ID_MSIX)
            cap = p;
    g_assert_cmpuint(cap, !=, 0);
    g_assert_cmpuint(cfg_read(f, cap + 2, 2) & 0x7ff, ==, 1); /* 2 vectors */
    cfg_write(f, cap + 2, 0x8000, 2);
    test_mmio_write(f->vm, f->msix_bar + 16, 0xfee00000, 4);
    test_mmio_write(f->vm, f->msix_bar + 20, 0, 4);
    test_mmio_write(f->vm, f->msix_bar + 24, 0x31, 4);
    test_mmio_write(f->vm, f->msix_bar + 28, 0, 4);
    uint64_t c = common(f);
    test_mmio_write(f->vm, c + 22, 0, 2);
    test_mmio_write(f->vm, c + 26, 1, 2);
    g_assert_cmpuint(test_mmio_read(f->vm, c + 26, 2), ==, 1);
    setup_queue(f);

    struct guest_memory *m = vm_memory(f->vm);
    struct { uint32_t type, reserved; uint64_t sector; } hdr = { VIRTIO_BLK_T_FLUSH, 0, 0 };
    guest_memory_write(m, HDR_GPA, &hdr, sizeof(hdr));
    put_desc(f, 0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
    put_desc(f, 1, STAT_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
    offer_and_kick(f, 0);
    wait_used(f, 1);
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, 1);
    g_assert_cmphex(test_vm_msi(f->vm, 0).data, ==, 0x31);
    g_assert_false(test_vm_irq_level(f->vm, PC_PCI_INTX_GSI(f->slot, 0)));
}

static void test_malformed_chain_needs_reset(struct dev_fixture *f, gconstpointer data)
{
    g_assert_true(driver_init(f, 1ull << VIRTIO_F_VERSION_1) & VIRTIO_STATUS_FEATURES_OK);
    setup_queue(f);
    /* A loop. */
    put_desc(f, 0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
    put_desc(f, 1, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 0);
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*virtio-blk*needs reset*");
    offer_and_kick(f, 0);
    /* Wait for the device to react: status gains NEEDS_RESET. */
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (!(status(f) & VIRTIO_STATUS_NEEDS_RESET) && g_get_monotonic_time() < deadline)
        test_vm_run_until(f->vm, never, NULL, 20);
    g_test_assert_expected_messages();
    g_assert_true(status(f) & VIRTIO_STATUS_NEEDS_RESET);
    uint16_t used_idx = 0xffff;
    guest_memory_read(vm_memory(f->vm), USED_GPA + 2, &used_idx, 2);
    g_assert_cmpuint(used_idx, ==, 0);
    /* Configuration interrupt on INTx with ISR bit 1. */
    g_assert_cmphex(test_mmio_read(f->vm, cap_addr(f, 3), 1), ==, 2);

    /* Further kicks are ignored; a reset brings the device back. */
    offer_and_kick(f, 0);
    test_vm_run_until(f->vm, never, NULL, 50);
    g_assert_true(driver_init(f, 1ull << VIRTIO_F_VERSION_1) & VIRTIO_STATUS_FEATURES_OK);
    g_assert_false(status(f) & VIRTIO_STATUS_NEEDS_RESET);
    setup_queue(f);
    struct guest_memory *m = vm_memory(f->vm);
    uint16_t zero = 0;
    guest_memory_write(m, AVAIL_GPA + 2, &zero, 2);
    guest_memory_write(m, USED_GPA + 2, &zero, 2);
    struct { uint32_t type, reserved; uint64_t sector; } hdr = { VIRTIO_BLK_T_FLUSH, 0, 0 };
    guest_memory_write(m, HDR_GPA, &hdr, sizeof(hdr));
    put_desc(f, 0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
    put_desc(f, 1, STAT_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
    offer_and_kick(f, 0);
    wait_used(f, 1);
}

static void test_rings_outside_ram(struct dev_fixture *f, gconstpointer data)
{
    g_assert_true(driver_init(f, 1ull << VIRTIO_F_VERSION_1) & VIRTIO_STATUS_FEATURES_OK);
    uint64_t c = common(f);
    test_mmio_write(f->vm, c + 22, 0, 2);
    test_mmio_write(f->vm, c + 32, 0xfffffffff000ull, 8);
    test_mmio_write(f->vm, c + 40, AVAIL_GPA, 8);
    test_mmio_write(f->vm, c + 48, USED_GPA, 8);
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*needs reset*");
    test_mmio_write(f->vm, c + 28, 1, 2);
    g_test_assert_expected_messages();
    g_assert_true(status(f) & VIRTIO_STATUS_NEEDS_RESET);
    /* Platform reset clears it and turns decoding off. */
    test_vm_platform_reset(f->vm);
    g_assert_null(iobus_owner(vm_mmio_bus(f->vm), f->bar));
    cfg_write(f, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    g_assert_cmpuint(status(f), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD_RW(name, fn) g_test_add("/virtio-blk/" name, struct blk_fixture, GINT_TO_POINTER(0), blk_setup, fn, blk_teardown)
#define ADD_RO(name, fn) g_test_add("/virtio-blk/" name, struct blk_fixture, GINT_TO_POINTER(1), blk_setup, fn, blk_teardown)
#define ADD_DEV(name, fn) g_test_add("/virtio-blk/pci/" name, struct dev_fixture, NULL, dev_setup, fn, dev_teardown)
    ADD_RW("read", test_read);
    ADD_RW("write-and-flush", test_write_and_flush);
    ADD_RW("get-id", test_get_id);
    ADD_RW("out-of-range", test_out_of_range);
    ADD_RW("discard-and-write-zeroes", test_discard);
    ADD_RO("read-only", test_readonly);
    ADD_DEV("negotiation", test_negotiation);
    ADD_DEV("pci-cfg-window", test_pci_cfg_window);
    ADD_DEV("io-with-intx", test_io_with_intx);
    ADD_DEV("io-with-msix", test_io_with_msix);
    ADD_DEV("malformed-chain-needs-reset", test_malformed_chain_needs_reset);
    ADD_DEV("rings-outside-ram", test_rings_outside_ram);
    return g_test_run();
}
