/* The bzImage loader against a synthetic image: placement, zero page,
 * and refusal of truncated, corrupt or unsuitable images. */
#include <string.h>
#include <glib.h>

#include "boot/linux.h"

#define MIB (1024ULL * 1024ULL)
#define SETUP_SECTS 4
#define PM_SIZE 8192

static void put16(uint8_t *p, size_t off, uint16_t v) { p[off] = (uint8_t)v; p[off + 1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, size_t off, uint32_t v) { put16(p, off, (uint16_t)v); put16(p, off + 2, (uint16_t)(v >> 16)); }
static uint16_t get16(const uint8_t *p, size_t off) { return (uint16_t)(p[off] | p[off + 1] << 8); }
static uint32_t get32(const uint8_t *p, size_t off) { return get16(p, off) | (uint32_t)get16(p, off + 2) << 16; }
static uint64_t get64(const uint8_t *p, size_t off) { return get32(p, off) | (uint64_t)get32(p, off + 4) << 32; }

struct fixture {
    struct guest_memory mem;
    uint8_t *image;
    size_t size;
    struct linux_boot_params params;
    struct linux_e820 e820[3];
    uint8_t initrd[10000];
};

static void setup(struct fixture *f, gconstpointer data)
{
    memset(f, 0, sizeof(*f));
    g_assert_true(guest_memory_alloc(&f->mem, 64 * MIB, NULL));
    f->size = (SETUP_SECTS + 1) * 512 + PM_SIZE;
    f->image = g_malloc0(f->size);
    uint8_t *k = f->image;
    k[0x1f1] = SETUP_SECTS;
    put16(k, 0x1fe, 0xaa55);
    k[0x200] = 0xeb;
    k[0x201] = 0x66;                 /* header ends at 0x268 */
    memcpy(k + 0x202, "HdrS", 4);
    put16(k, 0x206, 0x020f);         /* protocol 2.15 */
    k[0x211] = 0x01;                 /* LOADED_HIGH */
    put32(k, 0x22c, 0x37ffffff);     /* initrd_addr_max */
    put16(k, 0x236, 0x0003);         /* XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G */
    put32(k, 0x238, 255);            /* cmdline_size */
    put32(k, 0x260, 0x200000);       /* init_size */
    for (size_t i = 0; i < PM_SIZE; i++)
        k[(SETUP_SECTS + 1) * 512 + i] = (uint8_t)(i * 7 + 3);
    for (size_t i = 0; i < sizeof(f->initrd); i++)
        f->initrd[i] = (uint8_t)(i ^ 0x5a);

    f->e820[0] = (struct linux_e820){ 0, 0x9fc00, 1 };
    f->e820[1] = (struct linux_e820){ 0x9fc00, 0x60400, 2 };
    f->e820[2] = (struct linux_e820){ 0x100000, 63 * MIB, 1 };
    f->params = (struct linux_boot_params){
        .kernel = f->image, .kernel_size = f->size,
        .initrd = f->initrd, .initrd_size = sizeof(f->initrd),
        .cmdline = "console=ttyS0 quiet",
        .e820 = f->e820, .n_e820 = 3,
        .acpi_rsdp = 0xe0000,
    };
}

static void teardown(struct fixture *f, gconstpointer data)
{
    guest_memory_free(&f->mem);
    g_free(f->image);
}

static void test_valid_image(struct fixture *f, gconstpointer data)
{
    struct linux_boot_layout l;
    g_autoptr(GError) error = NULL;
    g_assert_true(linux_load(&f->mem, &f->params, &l, &error));
    g_assert_no_error(error);
    g_assert_cmphex(l.protocol, ==, 0x020f);
    g_assert_cmphex(l.kernel_load, ==, 0x100000);
    g_assert_cmphex(l.entry64, ==, 0x100200);

    /* The protected-mode code is at 1 MiB, byte for byte. */
    const uint8_t *kern = guest_memory_ptr(&f->mem, l.kernel_load, PM_SIZE);
    g_assert_nonnull(kern);
    g_assert_cmpmem(kern, PM_SIZE, f->image + (SETUP_SECTS + 1) * 512, PM_SIZE);

    const uint8_t *zp = guest_memory_ptr(&f->mem, l.zero_page, 4096);
    g_assert_nonnull(zp);
    g_assert_cmpmem(zp + 0x202, 4, "HdrS", 4);
    g_assert_cmphex(zp[0x210], ==, 0xff);                 /* type_of_loader */
    g_assert_cmphex(get32(zp, 0x228), ==, l.cmdline);     /* cmd_line_ptr */
    g_assert_cmpstr((const char *)guest_memory_ptr(&f->mem, l.cmdline, 1), ==, "console=ttyS0 quiet");
    g_assert_cmphex(get64(zp, 0x070), ==, 0xe0000);        /* acpi_rsdp_addr */

    /* initrd: page-aligned, as high as allowed, after the kernel's area. */
    g_assert_cmphex(get32(zp, 0x218), ==, l.initrd);
    g_assert_cmpuint(get32(zp, 0x21c), ==, sizeof(f->initrd));
    g_assert_cmphex(l.initrd & 0xfff, ==, 0);
    g_assert_cmpuint(l.initrd + sizeof(f->initrd), <=, 64 * MIB);
    g_assert_cmpuint(l.initrd + sizeof(f->initrd), >, 64 * MIB - 8192);
    g_assert_cmpuint(l.initrd, >=, 0x100000 + 0x200000);
    g_assert_cmpmem(guest_memory_ptr(&f->mem, l.initrd, sizeof(f->initrd)), sizeof(f->initrd),
                    f->initrd, sizeof(f->initrd));

    /* e820 table. */
    g_assert_cmpuint(zp[0x1e8], ==, 3);
    g_assert_cmpmem(zp + 0x2d0, 3 * 20, f->e820, 3 * 20);

    /* Identity map: PML4[0] -> PDPT, 2 MiB pages covering 0..4 GiB. */
    const uint8_t *pml4 = guest_memory_ptr(&f->mem, l.page_tables, 4096);
    uint64_t pdpt = get64(pml4, 0) & ~0xfffULL;
    g_assert_cmphex(get64(pml4, 0) & 1, ==, 1);
    const uint8_t *pdpt_p = guest_memory_ptr(&f->mem, pdpt, 4096);
    for (unsigned i = 0; i < 4; i++) {
        uint64_t pd = get64(pdpt_p, i * 8) & ~0xfffULL;
        const uint8_t *pd_p = guest_memory_ptr(&f->mem, pd, 4096);
        g_assert_nonnull(pd_p);
        g_assert_cmphex(get64(pd_p, 511 * 8), ==, ((i * 512ULL + 511) << 21) | 0x83);
    }
}

static void test_initrd_below_limit(struct fixture *f, gconstpointer data)
{
    put32(f->image, 0x22c, 0x01ffffff);   /* initrd must end below 32 MiB */
    struct linux_boot_layout l;
    g_assert_true(linux_load(&f->mem, &f->params, &l, NULL));
    g_assert_cmpuint(l.initrd + sizeof(f->initrd), <=, 32 * MIB);
    g_assert_cmpuint(l.initrd + sizeof(f->initrd), >, 32 * MIB - 8192);
}

static void expect_error(struct fixture *f, int code)
{
    struct linux_boot_layout l;
    g_autoptr(GError) error = NULL;
    g_assert_false(linux_load(&f->mem, &f->params, &l, &error));
    g_assert_error(error, LINUX_ERROR, code);
    g_assert_nonnull(error->message);
}

static void test_truncated(struct fixture *f, gconstpointer data)
{
    /* Shorter than the setup header. */
    f->params.kernel_size = 0x200;
    expect_error(f, LINUX_ERROR_INVALID);
    /* Header intact, but the setup code claims more than the file. */
    f->params.kernel_size = (SETUP_SECTS + 1) * 512;
    expect_error(f, LINUX_ERROR_INVALID);
    f->params.kernel_size = f->size;
    f->image[0x1f1] = 200;
    expect_error(f, LINUX_ERROR_INVALID);
    f->params.kernel = NULL;
    expect_error(f, LINUX_ERROR_INVALID);
}

static void test_corrupt(struct fixture *f, gconstpointer data)
{
    f->image[0x1fe] = 0;
    expect_error(f, LINUX_ERROR_INVALID);
    f->image[0x1fe] = 0x55;
    f->image[0x203] = 'x';
    expect_error(f, LINUX_ERROR_INVALID);
    f->image[0x203] = 'd';
    /* Setup header length running past the setup sectors / too short. */
    f->image[0x201] = 0x10;
    expect_error(f, LINUX_ERROR_INVALID);
}

static void test_unsupported(struct fixture *f, gconstpointer data)
{
    put16(f->image, 0x206, 0x0205);
    expect_error(f, LINUX_ERROR_UNSUPPORTED);
    put16(f->image, 0x206, 0x020f);
    f->image[0x211] = 0;                 /* zImage */
    expect_error(f, LINUX_ERROR_UNSUPPORTED);
    f->image[0x211] = 1;
    put16(f->image, 0x236, 0);           /* no 64-bit entry */
    expect_error(f, LINUX_ERROR_UNSUPPORTED);
}

static void test_no_room(struct fixture *f, gconstpointer data)
{
    put32(f->image, 0x260, 0xffffffff);  /* init_size beyond RAM */
    expect_error(f, LINUX_ERROR_NO_ROOM);
    put32(f->image, 0x260, 0x200000);
    g_autofree uint8_t *big = g_malloc0(63 * MIB);
    f->params.initrd = big;
    f->params.initrd_size = 63 * MIB;    /* would overlap the kernel */
    expect_error(f, LINUX_ERROR_NO_ROOM);
}

static void test_cmdline_limit(struct fixture *f, gconstpointer data)
{
    g_autofree char *longline = g_strnfill(256, 'a');
    f->params.cmdline = longline;
    expect_error(f, LINUX_ERROR_INVALID);
    longline[255] = '\0';
    struct linux_boot_layout l;
    g_assert_true(linux_load(&f->mem, &f->params, &l, NULL));
}

static void test_random_headers(struct fixture *f, gconstpointer data)
{
    /* Random header bytes never crash or write outside RAM. */
    GRand *r = g_rand_new_with_seed(42);
    g_autofree uint8_t *orig = g_memdup2(f->image, f->size);
    for (int i = 0; i < 2000; i++) {
        memcpy(f->image, orig, f->size);
        for (int j = 0; j < 4; j++)
            f->image[0x1f1 + g_rand_int_range(r, 0, 0x77)] = (uint8_t)g_rand_int(r);
        f->params.kernel_size = (size_t)g_rand_int_range(r, 0, (gint32)f->size + 1);
        struct linux_boot_layout l;
        GError *error = NULL;
        if (!linux_load(&f->mem, &f->params, &l, &error))
            g_error_free(error);
    }
    g_rand_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define T(name, fn) g_test_add("/linux-boot/" name, struct fixture, NULL, setup, fn, teardown)
    T("valid", test_valid_image);
    T("initrd-below-limit", test_initrd_below_limit);
    T("truncated", test_truncated);
    T("corrupt", test_corrupt);
    T("unsupported", test_unsupported);
    T("no-room", test_no_room);
    T("cmdline-limit", test_cmdline_limit);
    T("random-headers", test_random_headers);
    return g_test_run();
}
