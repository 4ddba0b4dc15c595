/* fw_cfg through its ports as firmware uses it: signature and ID, the file
 * directory, reads through the data port and DMA, and hostile DMA requests
 * that must fail without touching anything outside guest RAM. */
#include <string.h>
#include <glib.h>

#include "acpi/acpi_tables.h"
#include "devices/fw_cfg.h"
#include "core/e820.h"
#include "config/pc_layout.h"
#include "core/state_stream.h"
#include "core/vm_state.h"
#include "tests/support/test_vm.h"

#define MIB (1024ULL * 1024ULL)
#define RAM (64 * MIB)

struct fixture {
    struct vm *vm;
    struct fw_cfg *fw;
};

static void setup(struct fixture *f, gconstpointer data)
{
    f->vm = test_vm_new(RAM);
    f->fw = fw_cfg_create(f->vm);
    g_assert_nonnull(f->fw);
}

static void teardown(struct fixture *f, gconstpointer data)
{
    fw_cfg_free(f->fw);
    test_vm_free(f->vm);
}

static void select_key(struct fixture *f, uint16_t key)
{
    test_pio_write(f->vm, PC_FW_CFG_PORT, key, 2);
}

static void read_data(struct fixture *f, void *buf, size_t len)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)test_pio_read(f->vm, PC_FW_CFG_PORT + 1, 1);
}

static uint8_t *ram(struct fixture *f, uint64_t gpa, uint64_t len)
{
    uint8_t *p = guest_memory_ptr(vm_memory(f->vm), gpa, len);
    g_assert_nonnull(p);
    return p;
}

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint32_t get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Write the address of a DMA descriptor the way firmware does: two 32-bit
 * port writes holding the big-endian halves, the low half last. */
static void dma_kick(struct fixture *f, uint64_t desc)
{
    test_pio_write(f->vm, PC_FW_CFG_DMA_PORT, GUINT32_SWAP_LE_BE((uint32_t)(desc >> 32)), 4);
    test_pio_write(f->vm, PC_FW_CFG_DMA_PORT + 4, GUINT32_SWAP_LE_BE((uint32_t)desc), 4);
}

/* Place a descriptor at desc_gpa and run it; returns the control word the
 * device wrote back. */
static uint32_t dma(struct fixture *f, uint64_t desc_gpa, uint32_t control, uint32_t length,
                    uint64_t addr)
{
    uint8_t *d = ram(f, desc_gpa, 16);
    put_be(d, control, 4);
    put_be(d + 4, length, 4);
    put_be(d + 8, addr, 8);
    dma_kick(f, desc_gpa);
    return get_be32(d);
}

static void test_signature(struct fixture *f, gconstpointer data)
{
    char sig[6];
    select_key(f, FW_CFG_SIGNATURE);
    read_data(f, sig, sizeof(sig));
    g_assert_cmpmem(sig, 4, "QEMU", 4);
    g_assert_cmpint(sig[4], ==, 0);   /* past the end reads as 0 */
    g_assert_cmpint(sig[5], ==, 0);

    uint8_t id[4];
    select_key(f, FW_CFG_ID);
    read_data(f, id, sizeof(id));
    g_assert_cmphex(id[0], ==, FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA);

    /* The DMA register reads back "QEMU CFG" in memory order. */
    uint32_t hi = (uint32_t)test_pio_read(f->vm, PC_FW_CFG_DMA_PORT, 4);
    uint32_t lo = (uint32_t)test_pio_read(f->vm, PC_FW_CFG_DMA_PORT + 4, 4);
    g_assert_cmpmem(&hi, 4, "QEMU", 4);
    g_assert_cmpmem(&lo, 4, " CFG", 4);

    uint16_t ncpus;
    select_key(f, FW_CFG_NB_CPUS);
    read_data(f, &ncpus, 2);
    g_assert_cmpuint(GUINT16_FROM_LE(ncpus), ==, 1);
    uint64_t ram_size;
    select_key(f, FW_CFG_RAM_SIZE);
    read_data(f, &ram_size, 8);
    g_assert_cmpuint(GUINT64_FROM_LE(ram_size), ==, RAM);

    /* An unknown key reads as zeros. */
    select_key(f, 0x3333);
    read_data(f, sig, 4);
    g_assert_cmpmem(sig, 4, "\0\0\0\0", 4);
}

struct dir_entry { uint32_t size; uint16_t key; char name[56]; };

static unsigned read_dir(struct fixture *f, struct dir_entry *out, unsigned max)
{
    uint8_t count[4];
    select_key(f, FW_CFG_FILE_DIR);
    read_data(f, count, 4);
    unsigned n = get_be32(count);
    g_assert_cmpuint(n, <=, max);
    for (unsigned i = 0; i < n; i++) {
        uint8_t e[64];
        read_data(f, e, sizeof(e));
        out[i].size = get_be32(e);
        out[i].key = (uint16_t)((e[4] << 8) | e[5]);
        memcpy(out[i].name, e + 8, 56);
        g_assert_cmpint(out[i].name[55], ==, 0);
    }
    return n;
}

static void test_file_dir(struct fixture *f, gconstpointer data)
{
    static const char zzz[] = "last file";
    static const char boot[] = "/pci@i0cf8/ide@1,1/drive@0/disk@0\n";
    g_assert_true(fw_cfg_add_file(f->fw, "etc/zzz", zzz, sizeof(zzz)));
    g_assert_true(fw_cfg_add_file(f->fw, "bootorder", boot, strlen(boot)));

    struct dir_entry d[8];
    unsigned n = read_dir(f, d, G_N_ELEMENTS(d));
    g_assert_cmpuint(n, ==, 3);
    g_assert_cmpstr(d[0].name, ==, "bootorder");
    g_assert_cmpstr(d[1].name, ==, "etc/e820");
    g_assert_cmpstr(d[2].name, ==, "etc/zzz");
    g_assert_cmpuint(d[0].size, ==, strlen(boot));
    g_assert_cmpuint(d[2].size, ==, sizeof(zzz));
    g_assert_cmpint(d[0].key, ==, fw_cfg_file_key(f->fw, "bootorder"));
    for (unsigned i = 0; i < n; i++)
        g_assert_cmpuint(d[i].key, >=, FW_CFG_FILE_FIRST);

    char buf[64];
    select_key(f, d[0].key);
    read_data(f, buf, d[0].size);
    g_assert_cmpmem(buf, d[0].size, boot, strlen(boot));

    /* etc/e820 is the firmware view of guest memory. */
    size_t elen;
    g_autofree uint8_t *e820 = e820_fw_cfg_blob(vm_memory(f->vm), &elen);
    g_assert_cmpuint(d[1].size, ==, elen);
    g_autofree uint8_t *got = g_malloc(elen);
    select_key(f, d[1].key);
    read_data(f, got, elen);
    g_assert_cmpmem(got, elen, e820, elen);

    /* Replacing a file keeps its key and updates its size. */
    int key = fw_cfg_file_key(f->fw, "etc/zzz");
    g_assert_true(fw_cfg_add_file(f->fw, "etc/zzz", "ab", 2));
    g_assert_cmpint(fw_cfg_file_key(f->fw, "etc/zzz"), ==, key);
    n = read_dir(f, d, G_N_ELEMENTS(d));
    g_assert_cmpuint(n, ==, 3);
    g_assert_cmpuint(d[2].size, ==, 2);
}

static void test_add_rules(struct fixture *f, gconstpointer data)
{
    g_assert_false(fw_cfg_add_bytes(f->fw, FW_CFG_SIGNATURE, "XXXX", 4));
    g_assert_false(fw_cfg_add_bytes(f->fw, FW_CFG_ID, "X", 1));
    g_assert_false(fw_cfg_add_bytes(f->fw, FW_CFG_FILE_DIR, "X", 1));
    g_assert_false(fw_cfg_add_bytes(f->fw, FW_CFG_FILE_FIRST, "X", 1));
    g_assert_false(fw_cfg_add_bytes(f->fw, FW_CFG_WRITE_CHANNEL | 5, "X", 1));
    g_assert_true(fw_cfg_add_i32(f->fw, FW_CFG_KERNEL_SIZE, 0x1234));
    g_assert_true(fw_cfg_add_i16(f->fw, FW_CFG_ARCH_LOCAL | 3, 1));

    char name[FW_CFG_FILE_NAME_MAX + 1];
    memset(name, 'a', sizeof(name));
    name[FW_CFG_FILE_NAME_MAX] = 0;
    g_assert_false(fw_cfg_add_file(f->fw, name, "x", 1));
    name[FW_CFG_FILE_NAME_MAX - 1] = 0;   /* 55 characters + NUL fits */
    g_assert_true(fw_cfg_add_file(f->fw, name, "x", 1));
    g_assert_false(fw_cfg_add_file(f->fw, "", "x", 1));

    /* The directory has a fixed number of slots. */
    unsigned added = 2;  /* etc/e820 and the long name */
    for (unsigned i = 0; added < FW_CFG_MAX_FILES; i++, added++) {
        g_autofree char *n = g_strdup_printf("f/%u", i);
        g_assert_true(fw_cfg_add_file(f->fw, n, "y", 1));
    }
    g_assert_false(fw_cfg_add_file(f->fw, "one/too/many", "z", 1));

    uint32_t size;
    select_key(f, FW_CFG_KERNEL_SIZE);
    read_data(f, &size, 4);
    g_assert_cmphex(GUINT32_FROM_LE(size), ==, 0x1234);
}

static void test_dma_read(struct fixture *f, gconstpointer data)
{
    uint8_t content[300];
    for (unsigned i = 0; i < sizeof(content); i++)
        content[i] = (uint8_t)(i * 7 + 1);
    g_assert_true(fw_cfg_add_file(f->fw, "etc/test", content, sizeof(content)));
    int key = fw_cfg_file_key(f->fw, "etc/test");

    uint8_t *dst = ram(f, 0x2000, 512);
    memset(dst, 0xaa, 512);
    uint32_t ctl = ((uint32_t)key << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ;
    g_assert_cmphex(dma(f, 0x1000, ctl, sizeof(content) + 8, 0x2000), ==, 0);
    g_assert_cmpmem(dst, sizeof(content), content, sizeof(content));
    for (unsigned i = sizeof(content); i < sizeof(content) + 8; i++)
        g_assert_cmphex(dst[i], ==, 0);          /* past the end: zeros */
    g_assert_cmphex(dst[sizeof(content) + 8], ==, 0xaa);  /* and no further */

    /* Skip then read continues from the offset; so does the data port. */
    memset(dst, 0xaa, 512);
    ctl = ((uint32_t)key << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_SKIP;
    g_assert_cmphex(dma(f, 0x1000, ctl, 10, 0), ==, 0);
    g_assert_cmphex(dma(f, 0x1000, FW_CFG_DMA_CTL_READ, 5, 0x2000), ==, 0);
    g_assert_cmpmem(dst, 5, content + 10, 5);
    uint8_t b;
    read_data(f, &b, 1);
    g_assert_cmphex(b, ==, content[15]);

    /* The file directory through DMA, as SeaBIOS and OVMF read it. */
    ctl = ((uint32_t)FW_CFG_FILE_DIR << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ;
    g_assert_cmphex(dma(f, 0x1000, ctl, 4 + 2 * 64, 0x2000), ==, 0);
    g_assert_cmpuint(get_be32(dst), ==, 2);
    g_assert_cmpstr((const char *)dst + 4 + 8, ==, "etc/e820");
    g_assert_cmpstr((const char *)dst + 4 + 64 + 8, ==, "etc/test");
    g_assert_cmpuint(get_be32(dst + 4 + 64), ==, sizeof(content));

    /* A single 8-byte write of the address works as well. */
    memset(dst, 0xaa, 16);
    uint8_t *d = ram(f, 0x1000, 16);
    put_be(d, ((uint32_t)FW_CFG_SIGNATURE << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 4);
    put_be(d + 4, 4, 4);
    put_be(d + 8, 0x2000, 8);
    test_pio_write(f->vm, PC_FW_CFG_DMA_PORT, GUINT64_SWAP_LE_BE((uint64_t)0x1000), 8);
    g_assert_cmphex(get_be32(d), ==, 0);
    g_assert_cmpmem(dst, 4, "QEMU", 4);
}

static void test_dma_hostile(struct fixture *f, gconstpointer data)
{
    static const uint8_t content[64] = "some firmware file";
    g_assert_true(fw_cfg_add_file(f->fw, "etc/test", content, sizeof(content)));
    uint32_t sel = ((uint32_t)fw_cfg_file_key(f->fw, "etc/test") << 16) |
                   FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ;

    /* Destination running past the end of RAM: error, the RAM that is
     * there stays untouched. */
    uint8_t *tail = ram(f, RAM - 8, 8);
    memset(tail, 0x5c, 8);
    g_assert_cmphex(dma(f, 0x1000, sel, 16, RAM - 8), ==, FW_CFG_DMA_CTL_ERROR);
    for (int i = 0; i < 8; i++)
        g_assert_cmphex(tail[i], ==, 0x5c);

    /* The PCI hole, high addresses, wrap-around, lengths beyond RAM. */
    g_assert_cmphex(dma(f, 0x1000, sel, 16, 0xc0000000), ==, FW_CFG_DMA_CTL_ERROR);
    g_assert_cmphex(dma(f, 0x1000, sel, 16, 0x100000000ULL), ==, FW_CFG_DMA_CTL_ERROR);
    g_assert_cmphex(dma(f, 0x1000, sel, 0x100, UINT64_MAX - 0x10), ==, FW_CFG_DMA_CTL_ERROR);
    g_assert_cmphex(dma(f, 0x1000, sel, UINT32_MAX, 0), ==, FW_CFG_DMA_CTL_ERROR);
    g_assert_cmphex(dma(f, 0x1000, sel, UINT32_MAX, 0x2000), ==, FW_CFG_DMA_CTL_ERROR);

    /* Writes are refused: no item is writable. */
    uint8_t *src = ram(f, 0x2000, 4);
    memcpy(src, "EVIL", 4);
    uint32_t wr = ((uint32_t)FW_CFG_SIGNATURE << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE;
    g_assert_cmphex(dma(f, 0x1000, wr, 4, 0x2000), ==, FW_CFG_DMA_CTL_ERROR);
    char sig[4];
    select_key(f, FW_CFG_SIGNATURE);
    read_data(f, sig, 4);
    g_assert_cmpmem(sig, 4, "QEMU", 4);

    /* A descriptor that is not (wholly) RAM is ignored. */
    dma_kick(f, RAM - 8);
    for (int i = 0; i < 8; i++)
        g_assert_cmphex(tail[i], ==, 0x5c);
    dma_kick(f, 0xfffffffffffffff8ULL);
    dma_kick(f, 0xfee00000);

    /* The device still works afterwards. */
    uint8_t *dst = ram(f, 0x3000, sizeof(content));
    g_assert_cmphex(dma(f, 0x1000, sel, sizeof(content), 0x3000), ==, 0);
    g_assert_cmpmem(dst, sizeof(content), content, sizeof(content));
}

static uint32_t read_u32(struct fixture *f, uint16_t key)
{
    uint32_t v;
    select_key(f, key);
    read_data(f, &v, 4);
    return GUINT32_FROM_LE(v);
}

static void test_linux_boot(struct fixture *f, gconstpointer data)
{
    static const uint8_t setup[1024] = { [0x1f1] = 1, [0x202] = 'H' };
    static const uint8_t kernel[5000] = { 0x90, [4999] = 0xcc };
    g_autoptr(GBytes) s = g_bytes_new_static(setup, sizeof(setup));
    g_autoptr(GBytes) k = g_bytes_new_static(kernel, sizeof(kernel));
    struct fw_cfg_linux_boot b = {
        .setup = s, .setup_addr = 0x10000,
        .kernel = k, .kernel_addr = 0x100000,
        .cmdline = "console=ttyS0", .cmdline_addr = 0x20000,
    };
    g_assert_true(fw_cfg_add_linux_boot(f->fw, &b));
    g_assert_cmphex(read_u32(f, FW_CFG_SETUP_ADDR), ==, 0x10000);
    g_assert_cmpuint(read_u32(f, FW_CFG_SETUP_SIZE), ==, sizeof(setup));
    g_assert_cmphex(read_u32(f, FW_CFG_KERNEL_ADDR), ==, 0x100000);
    g_assert_cmpuint(read_u32(f, FW_CFG_KERNEL_SIZE), ==, sizeof(kernel));
    g_assert_cmpuint(read_u32(f, FW_CFG_INITRD_SIZE), ==, 0);
    g_assert_cmpuint(read_u32(f, FW_CFG_CMDLINE_SIZE), ==, 14);
    g_assert_cmphex(read_u32(f, FW_CFG_CMDLINE_ADDR), ==, 0x20000);

    /* The kernel arrives intact by DMA, as the option ROM reads it. */
    uint8_t *dst = ram(f, 0x100000, sizeof(kernel));
    uint32_t ctl = ((uint32_t)FW_CFG_KERNEL_DATA << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ;
    g_assert_cmphex(dma(f, 0x1000, ctl, sizeof(kernel), 0x100000), ==, 0);
    g_assert_cmpmem(dst, sizeof(kernel), kernel, sizeof(kernel));
    char cmd[14];
    select_key(f, FW_CFG_CMDLINE_DATA);
    read_data(f, cmd, sizeof(cmd));
    g_assert_cmpstr(cmd, ==, "console=ttyS0");
}

/* The ACPI files for firmware land in the directory with their contents. */
static void test_acpi_files(struct fixture *f, gconstpointer data)
{
    struct acpi_platform p = { .ncpus = 2, .has_pci = true, .has_com1 = true };
    g_autoptr(GError) error = NULL;
    g_assert_true(acpi_tables_add_to_fw_cfg(f->fw, vm_memory(f->vm), &p, &error));
    g_assert_no_error(error);

    struct acpi_fw_cfg_files want;
    g_assert_true(acpi_tables_build_fw_cfg(vm_memory(f->vm), &p, &want, NULL));
    struct dir_entry d[8];
    unsigned n = read_dir(f, d, G_N_ELEMENTS(d));
    g_assert_cmpuint(n, ==, 4);
    g_assert_cmpstr(d[0].name, ==, "etc/acpi/rsdp");
    g_assert_cmpstr(d[1].name, ==, "etc/acpi/tables");
    g_assert_cmpstr(d[3].name, ==, "etc/table-loader");
    g_assert_cmpuint(d[0].size, ==, want.rsdp_len);
    g_assert_cmpuint(d[1].size, ==, want.tables_len);
    g_assert_cmpuint(d[3].size, ==, want.loader_len);

    uint8_t *dst = ram(f, 0x10000, want.tables_len);
    uint32_t ctl = ((uint32_t)d[1].key << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ;
    g_assert_cmphex(dma(f, 0x1000, ctl, (uint32_t)want.tables_len, 0x10000), ==, 0);
    g_assert_cmpmem(dst, want.tables_len, want.tables, want.tables_len);
    acpi_fw_cfg_files_clear(&want);
}

static void test_reset(struct fixture *f, gconstpointer data)
{
    select_key(f, FW_CFG_SIGNATURE);
    char c;
    read_data(f, &c, 1);
    g_assert_cmpint(c, ==, 'Q');
    test_vm_platform_reset(f->vm);
    read_data(f, &c, 1);
    g_assert_cmpint(c, ==, 0);   /* nothing selected after reset */
    g_assert_null(fw_cfg_create(f->vm));  /* ports already taken */
}

static uint64_t le64_at(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return GUINT64_FROM_LE(v);
}

/* Write the 8 bytes at gpa 0x2000 to requested-features, then select
 * features-ok and read it. */
static uint8_t smi_request(struct fixture *f, uint64_t features, uint32_t *write_status)
{
    int req = fw_cfg_file_key(f->fw, "etc/smi/requested-features");
    int ok = fw_cfg_file_key(f->fw, "etc/smi/features-ok");
    uint64_t le = GUINT64_TO_LE(features);
    memcpy(ram(f, 0x2000, 8), &le, 8);
    *write_status = dma(f, 0x1000, ((uint32_t)req << 16) | FW_CFG_DMA_CTL_SELECT |
                        FW_CFG_DMA_CTL_WRITE, 8, 0x2000);
    uint8_t *dst = ram(f, 0x3000, 1);
    g_assert_cmphex(dma(f, 0x1000, ((uint32_t)ok << 16) | FW_CFG_DMA_CTL_SELECT |
                        FW_CFG_DMA_CTL_READ, 1, 0x3000), ==, 0);
    return dst[0];
}

/* OVMF's SMI negotiation: offer, request by DMA write, features-ok. */
static void test_smi_features(struct fixture *f, gconstpointer data)
{
    g_assert_true(fw_cfg_add_smi_features(f->fw, FW_CFG_SMI_BROADCAST));
    g_assert_false(fw_cfg_add_smi_features(f->fw, FW_CFG_SMI_BROADCAST));
    int sup = fw_cfg_file_key(f->fw, "etc/smi/supported-features");
    int req = fw_cfg_file_key(f->fw, "etc/smi/requested-features");
    g_assert_cmpint(sup, >=, 0);
    uint8_t *dst = ram(f, 0x3000, 8);
    g_assert_cmphex(dma(f, 0x1000, ((uint32_t)sup << 16) | FW_CFG_DMA_CTL_SELECT |
                        FW_CFG_DMA_CTL_READ, 8, 0x3000), ==, 0);
    g_assert_cmphex(le64_at(dst), ==, FW_CFG_SMI_BROADCAST);

    /* Other items stay read-only; writes past the 8 bytes or from
     * outside RAM are refused and change nothing. */
    g_assert_cmphex(dma(f, 0x1000, ((uint32_t)sup << 16) | FW_CFG_DMA_CTL_SELECT |
                        FW_CFG_DMA_CTL_WRITE, 8, 0x2000), ==, FW_CFG_DMA_CTL_ERROR);
    g_assert_cmphex(dma(f, 0x1000, ((uint32_t)req << 16) | FW_CFG_DMA_CTL_SELECT |
                        FW_CFG_DMA_CTL_WRITE, 9, 0x2000), ==, FW_CFG_DMA_CTL_ERROR);
    g_assert_cmphex(dma(f, 0x1000, ((uint32_t)req << 16) | FW_CFG_DMA_CTL_SELECT |
                        FW_CFG_DMA_CTL_WRITE, 8, RAM - 4), ==, FW_CFG_DMA_CTL_ERROR);

    /* More than offered: not accepted. */
    uint32_t st;
    g_assert_cmpuint(smi_request(f, FW_CFG_SMI_BROADCAST | FW_CFG_SMI_CPU_HOTPLUG, &st), ==, 0);
    g_assert_cmphex(st, ==, 0);
    g_assert_cmphex(fw_cfg_smi_negotiated(f->fw), ==, 0);
    /* The request reads back as written. */
    g_assert_cmphex(dma(f, 0x1000, ((uint32_t)req << 16) | FW_CFG_DMA_CTL_SELECT |
                        FW_CFG_DMA_CTL_READ, 8, 0x3000), ==, 0);
    g_assert_cmphex(le64_at(dst), ==, FW_CFG_SMI_BROADCAST | FW_CFG_SMI_CPU_HOTPLUG);

    /* Broadcast alone: accepted and fixed. */
    g_assert_cmpuint(smi_request(f, FW_CFG_SMI_BROADCAST, &st), ==, 1);
    g_assert_cmphex(fw_cfg_smi_negotiated(f->fw), ==, FW_CFG_SMI_BROADCAST);
    g_assert_cmpuint(smi_request(f, 0, &st), ==, 1);
    g_assert_cmphex(st, ==, FW_CFG_DMA_CTL_ERROR);
    g_assert_cmphex(fw_cfg_smi_negotiated(f->fw), ==, FW_CFG_SMI_BROADCAST);

    /* Saved and restored with the device's state. */
    struct state_out o;
    state_out_init(&o);
    g_assert_true(fw_cfg_state_ops.save(f->fw, &o, NULL));
    struct fixture g;
    setup(&g, NULL);
    struct state_in in;
    g_autoptr(GError) error = NULL;
    state_in_init(&in, o.buf->data, o.buf->len, "fw-cfg");
    g_assert_false(fw_cfg_state_ops.load(g.fw, &in, fw_cfg_state_ops.version, &error));
    g_clear_error(&error);
    g_assert_true(fw_cfg_add_smi_features(g.fw, FW_CFG_SMI_BROADCAST));
    state_in_init(&in, o.buf->data, o.buf->len, "fw-cfg");
    g_assert_true(fw_cfg_state_ops.load(g.fw, &in, fw_cfg_state_ops.version, &error));
    g_assert_no_error(error);
    g_assert_cmphex(fw_cfg_smi_negotiated(g.fw), ==, FW_CFG_SMI_BROADCAST);
    teardown(&g, NULL);
    state_out_clear(&o);

    /* A platform reset starts over. */
    test_vm_platform_reset(f->vm);
    g_assert_cmphex(fw_cfg_smi_negotiated(f->fw), ==, 0);
    g_assert_cmpuint(smi_request(f, 0, &st), ==, 1);
    g_assert_cmphex(st, ==, 0);
    g_assert_cmphex(fw_cfg_smi_negotiated(f->fw), ==, 0);
}

/* Save f's device and load the result into a fresh one. */
static bool round_trip(struct fixture *f, GError **error)
{
    struct state_out o;
    state_out_init(&o);
    g_assert_true(fw_cfg_state_ops.save(f->fw, &o, NULL));
    struct fixture g;
    setup(&g, NULL);
    struct state_in in;
    state_in_init(&in, o.buf->data, o.buf->len, "fw-cfg");
    bool ok = fw_cfg_state_ops.load(g.fw, &in, fw_cfg_state_ops.version, error);
    if (ok) {
        /* The new device goes on where the old one was. */
        uint8_t a[2], b[2];
        read_data(f, a, sizeof(a));
        for (unsigned i = 0; i < sizeof(b); i++)
            b[i] = (uint8_t)test_pio_read(g.vm, PC_FW_CFG_PORT + 1, 1);
        g_assert_cmpmem(a, sizeof(a), b, sizeof(b));
    }
    teardown(&g, NULL);
    state_out_clear(&o);
    return ok;
}

/* A device firmware never used (a VM saved before its firmware touched
 * fw_cfg) restores, and so does one in the middle of an item. */
static void test_state(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(round_trip(f, &error));
    g_assert_no_error(error);
    select_key(f, FW_CFG_SIGNATURE);
    uint8_t c;
    read_data(f, &c, 1);
    g_assert_true(round_trip(f, &error));
    g_assert_no_error(error);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct fixture, NULL, setup, fn, teardown)
    ADD("/fw-cfg/signature", test_signature);
    ADD("/fw-cfg/file-dir", test_file_dir);
    ADD("/fw-cfg/add-rules", test_add_rules);
    ADD("/fw-cfg/dma-read", test_dma_read);
    ADD("/fw-cfg/dma-hostile", test_dma_hostile);
    ADD("/fw-cfg/linux-boot", test_linux_boot);
    ADD("/fw-cfg/acpi-files", test_acpi_files);
    ADD("/fw-cfg/reset", test_reset);
    ADD("/fw-cfg/state", test_state);
    ADD("/fw-cfg/smi-features", test_smi_features);
    return g_test_run();
}
