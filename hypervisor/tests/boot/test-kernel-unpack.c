/* Booting the kernel proper of a bzImage: payloads in each compression the
 * kernel build produces unpack to the original bytes, the ELF image is
 * checked before anything is loaded, segments land where they belong, and
 * the on-disk cache hands back exactly what was unpacked. */
#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "boot/kernel_cache.h"
#include "boot/kernel_payload.h"
#include "boot/linux.h"
#include "boot/vmlinux_elf.h"

#define MIB (1024ULL * 1024ULL)
#define SETUP_SECTS 4
#define SETUP_SIZE ((SETUP_SECTS + 1) * 512)
#define TEXT_PADDR 0x1000000ULL
#define DATA_PADDR 0x1400000ULL
#define TEXT_SIZE 0x3000
#define DATA_FILE 0x800
#define DATA_MEM 0x2000

static void put16(uint8_t *p, size_t off, uint16_t v) { p[off] = (uint8_t)v; p[off + 1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, size_t off, uint32_t v) { put16(p, off, (uint16_t)v); put16(p, off + 2, (uint16_t)(v >> 16)); }

/* A small vmlinux: text (with the entry) and data whose memory is larger
 * than its file part (the bss). */
static GByteArray *make_vmlinux(void)
{
    size_t text_off = 0x1000, data_off = text_off + TEXT_SIZE;
    GByteArray *a = g_byte_array_sized_new(data_off + DATA_FILE);
    g_byte_array_set_size(a, data_off + DATA_FILE);
    memset(a->data, 0, a->len);
    Elf64_Ehdr eh = {
        .e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
        .e_entry = TEXT_PADDR + 0x10, .e_phoff = sizeof(Elf64_Ehdr),
        .e_ehsize = sizeof(Elf64_Ehdr), .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 2,
    };
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    Elf64_Phdr ph[2] = {
        { .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = text_off,
          .p_vaddr = 0xffffffff81000000ULL, .p_paddr = TEXT_PADDR, .p_filesz = TEXT_SIZE, .p_memsz = TEXT_SIZE },
        { .p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = data_off,
          .p_vaddr = 0xffffffff81400000ULL, .p_paddr = DATA_PADDR, .p_filesz = DATA_FILE, .p_memsz = DATA_MEM },
    };
    memcpy(a->data, &eh, sizeof(eh));
    memcpy(a->data + eh.e_phoff, ph, sizeof(ph));
    for (size_t i = text_off; i < a->len; i++)
        a->data[i] = (uint8_t)(i * 13 + 1);
    return a;
}

static Elf64_Ehdr *ehdr(GByteArray *a) { return (Elf64_Ehdr *)a->data; }
static Elf64_Phdr *phdr(GByteArray *a, unsigned i) { return (Elf64_Phdr *)(a->data + sizeof(Elf64_Ehdr)) + i; }

static GBytes *compress_gzip(const uint8_t *in, size_t len)
{
    z_stream z = { 0 };
    g_assert_cmpint(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), ==, Z_OK);
    size_t cap = deflateBound(&z, len);
    uint8_t *out = g_malloc(cap);
    z.next_in = (Bytef *)in;
    z.avail_in = len;
    z.next_out = out;
    z.avail_out = cap;
    g_assert_cmpint(deflate(&z, Z_FINISH), ==, Z_STREAM_END);
    size_t n = z.total_out;
    deflateEnd(&z);
    return g_bytes_new_take(out, n);    /* gzip's ISIZE is the size trailer */
}

static GBytes *with_size(uint8_t *out, size_t n, size_t orig)
{
    put32(out, n, (uint32_t)orig);
    return g_bytes_new_take(out, n + 4);
}

static GBytes *compress_xz(const uint8_t *in, size_t len)
{
    size_t cap = lzma_stream_buffer_bound(len) + 4, n = 0;
    uint8_t *out = g_malloc(cap);
    g_assert_cmpint(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, in, len, out, &n, cap - 4), ==, LZMA_OK);
    return with_size(out, n, len);
}

static GBytes *compress_zstd(const uint8_t *in, size_t len)
{
    size_t cap = ZSTD_compressBound(len) + 4;
    uint8_t *out = g_malloc(cap);
    /* Like the zstd tool the kernel build runs: with a content checksum. */
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 19);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    size_t n = ZSTD_compress2(cctx, out, cap - 4, in, len);
    ZSTD_freeCCtx(cctx);
    g_assert_false(ZSTD_isError(n));
    return with_size(out, n, len);
}

/* The legacy frame: magic, then [length, block] with 8 MiB blocks; a
 * small block size here to get several. */
static GBytes *compress_lz4(const uint8_t *in, size_t len)
{
    const size_t block = 4096;
    size_t cap = 4 + (len / block + 1) * (4 + (size_t)LZ4_compressBound((int)block)) + 4, n = 4;
    uint8_t *out = g_malloc(cap);
    put32(out, 0, 0x184c2102);
    for (size_t done = 0; done < len; done += block) {
        int c = LZ4_compress_default((const char *)in + done, (char *)out + n + 4,
                                     (int)MIN(block, len - done), LZ4_compressBound((int)block));
        g_assert_cmpint(c, >, 0);
        put32(out, n, (uint32_t)c);
        n += 4 + (size_t)c;
    }
    return with_size(out, n, len);
}

typedef GBytes *(*compress_fn)(const uint8_t *in, size_t len);

/* A bzImage header around payload: just what kernel_payload_find and
 * linux_load read. */
static GByteArray *make_bzimage(GBytes *payload)
{
    size_t plen = g_bytes_get_size(payload);
    GByteArray *a = g_byte_array_sized_new(SETUP_SIZE + 0x100 + plen);
    g_byte_array_set_size(a, SETUP_SIZE + 0x100 + plen);
    uint8_t *k = a->data;
    memset(k, 0, a->len);
    k[0x1f1] = SETUP_SECTS;
    put16(k, 0x1fe, 0xaa55);
    k[0x200] = 0xeb;
    k[0x201] = 0x66;
    memcpy(k + 0x202, "HdrS", 4);
    put16(k, 0x206, 0x020f);
    k[0x211] = 0x01;
    put32(k, 0x22c, 0x37ffffff);
    put16(k, 0x236, 0x0003);
    put32(k, 0x238, 255);
    put32(k, 0x248, 0x100);             /* payload_offset, from the end of setup */
    put32(k, 0x24c, (uint32_t)plen);
    put32(k, 0x260, 0x800000);
    memcpy(k + SETUP_SIZE + 0x100, g_bytes_get_data(payload, NULL), plen);
    return a;
}

static void check_roundtrip(compress_fn compress, enum kernel_compression expect, bool checksummed)
{
    g_autoptr(GByteArray) elf = make_vmlinux();
    g_autoptr(GBytes) payload = compress(elf->data, elf->len);
    g_autoptr(GByteArray) bz = make_bzimage(payload);

    const uint8_t *p;
    size_t plen;
    g_autoptr(GError) error = NULL;
    g_assert_true(kernel_payload_find(bz->data, bz->len, &p, &plen, &error));
    g_assert_cmpuint(plen, ==, g_bytes_get_size(payload));
    g_assert_cmpint(kernel_payload_compression(p, plen), ==, expect);
    g_autoptr(GBytes) out = kernel_payload_decompress(p, plen, &error);
    g_assert_no_error(error);
    g_assert_cmpmem(g_bytes_get_data(out, NULL), g_bytes_get_size(out), elf->data, elf->len);

    /* One flipped byte in the middle of the stream is caught (the legacy
     * LZ4 frame carries no checksum, so there only the sizes are checked). */
    g_autofree uint8_t *bad = g_memdup2(p, plen);
    if (checksummed) {
        bad[plen / 2] ^= 0x55;
        g_autoptr(GBytes) none = kernel_payload_decompress(bad, plen, &error);
        g_assert_null(none);
        g_assert_error(error, LINUX_ERROR, LINUX_ERROR_INVALID);
        g_clear_error(&error);
        memcpy(bad, p, plen);
    }

    /* So is a size trailer that does not match the unpacked data. */
    put32(bad, plen - 4, (uint32_t)elf->len + 1);
    g_assert_null(kernel_payload_decompress(bad, plen, &error));
    g_assert_error(error, LINUX_ERROR, LINUX_ERROR_INVALID);
}

static void test_gzip(void) { check_roundtrip(compress_gzip, KERNEL_COMPRESSION_GZIP, true); }
static void test_xz(void) { check_roundtrip(compress_xz, KERNEL_COMPRESSION_XZ, true); }
static void test_zstd(void) { check_roundtrip(compress_zstd, KERNEL_COMPRESSION_ZSTD, true); }
static void test_lz4(void) { check_roundtrip(compress_lz4, KERNEL_COMPRESSION_LZ4, false); }

static void test_payload_refused(void)
{
    g_autoptr(GError) error = NULL;
    static const uint8_t bzip2[] = { 'B', 'Z', 'h', '9', 1, 2, 3, 4, 0x10, 0, 0, 0 };
    g_assert_null(kernel_payload_decompress(bzip2, sizeof(bzip2), &error));
    g_assert_error(error, LINUX_ERROR, LINUX_ERROR_UNSUPPORTED);
    g_clear_error(&error);

    /* A claimed size beyond the limit is refused before any allocation. */
    uint8_t huge[16] = { 0x28, 0xb5, 0x2f, 0xfd };
    put32(huge, 12, 0xfffffff0u);
    g_assert_null(kernel_payload_decompress(huge, sizeof(huge), &error));
    g_assert_error(error, LINUX_ERROR, LINUX_ERROR_INVALID);
    g_clear_error(&error);

    /* A payload that runs past the end of the file. */
    g_autoptr(GBytes) payload = compress_gzip((const uint8_t *)"kernel", 6);
    g_autoptr(GByteArray) bz = make_bzimage(payload);
    put32(bz->data, 0x24c, (uint32_t)g_bytes_get_size(payload) + 1);
    const uint8_t *p;
    size_t plen;
    g_assert_false(kernel_payload_find(bz->data, bz->len, &p, &plen, &error));
    g_assert_error(error, LINUX_ERROR, LINUX_ERROR_INVALID);
}

static void expect_bad_elf(GByteArray *elf)
{
    struct vmlinux_info info;
    g_autoptr(GError) error = NULL;
    g_assert_false(vmlinux_parse(elf->data, elf->len, &info, &error));
    g_assert_error(error, LINUX_ERROR, LINUX_ERROR_INVALID);
}

static void test_elf_checks(void)
{
    g_autoptr(GByteArray) good = make_vmlinux();
    struct vmlinux_info info;
    g_assert_true(vmlinux_parse(good->data, good->len, &info, NULL));
    g_assert_cmpuint(info.n_segments, ==, 2);
    g_assert_cmphex(info.entry, ==, TEXT_PADDR + 0x10);
    g_assert_cmphex(info.start, ==, TEXT_PADDR);
    g_assert_cmphex(info.end, ==, DATA_PADDR + DATA_MEM);

    g_autoptr(GByteArray) a = make_vmlinux();
    phdr(a, 1)->p_filesz = a->len;                         /* past the end of the file */
    expect_bad_elf(a);
    g_byte_array_unref(g_steal_pointer(&a));
    a = make_vmlinux();
    phdr(a, 1)->p_offset = UINT64_MAX - 8;                 /* offset + size wraps */
    expect_bad_elf(a);
    g_byte_array_unref(g_steal_pointer(&a));
    a = make_vmlinux();
    phdr(a, 0)->p_paddr = 0x7000;                          /* over the zero page */
    expect_bad_elf(a);
    g_byte_array_unref(g_steal_pointer(&a));
    a = make_vmlinux();
    phdr(a, 1)->p_paddr = 0xfffff000;                      /* runs past 4 GiB */
    expect_bad_elf(a);
    g_byte_array_unref(g_steal_pointer(&a));
    a = make_vmlinux();
    phdr(a, 1)->p_memsz = DATA_FILE - 1;                   /* more file than memory */
    expect_bad_elf(a);
    g_byte_array_unref(g_steal_pointer(&a));
    a = make_vmlinux();
    ehdr(a)->e_entry = DATA_PADDR;                         /* entry in data */
    expect_bad_elf(a);
    g_byte_array_unref(g_steal_pointer(&a));
    a = make_vmlinux();
    ehdr(a)->e_phnum = 0xffff;                             /* headers past the end */
    expect_bad_elf(a);
    g_byte_array_unref(g_steal_pointer(&a));
    a = make_vmlinux();
    ehdr(a)->e_machine = EM_386;
    expect_bad_elf(a);
}

/* linux_load with the kernel proper: segments at their physical addresses,
 * the bss cleared even where the previous boot left data, entry at e_entry,
 * the initrd above the kernel. */
static void test_load_vmlinux(void)
{
    g_autoptr(GByteArray) elf = make_vmlinux();
    g_autoptr(GBytes) payload = compress_gzip(elf->data, elf->len);
    g_autoptr(GByteArray) bz = make_bzimage(payload);
    struct guest_memory mem;
    g_assert_true(guest_memory_alloc(&mem, 64 * MIB, NULL));
    memset(guest_memory_ptr(&mem, 0, 64 * MIB), 0xaa, 64 * MIB);
    uint8_t initrd[5000];
    memset(initrd, 0x33, sizeof(initrd));
    struct linux_e820 e820[] = { { 0, 0x9fc00, 1 }, { 0x100000, 63 * MIB, 1 } };
    struct linux_boot_params p = {
        .kernel = bz->data, .kernel_size = bz->len, .vmlinux = elf->data, .vmlinux_size = elf->len,
        .initrd = initrd, .initrd_size = sizeof(initrd), .cmdline = "console=ttyS0",
        .e820 = e820, .n_e820 = 2,
    };
    struct linux_boot_layout l;
    g_autoptr(GError) error = NULL;
    g_assert_true(linux_load(&mem, &p, &l, &error));
    g_assert_no_error(error);
    g_assert_cmphex(l.entry64, ==, TEXT_PADDR + 0x10);
    g_assert_cmphex(l.kernel_load, ==, TEXT_PADDR);
    g_assert_cmphex(l.initrd, >=, DATA_PADDR + DATA_MEM);

    g_assert_cmpmem(guest_memory_ptr(&mem, TEXT_PADDR, TEXT_SIZE), TEXT_SIZE,
                    elf->data + phdr(elf, 0)->p_offset, TEXT_SIZE);
    g_assert_cmpmem(guest_memory_ptr(&mem, DATA_PADDR, DATA_FILE), DATA_FILE,
                    elf->data + phdr(elf, 1)->p_offset, DATA_FILE);
    const uint8_t *bss = guest_memory_ptr(&mem, DATA_PADDR + DATA_FILE, DATA_MEM - DATA_FILE);
    for (size_t i = 0; i < DATA_MEM - DATA_FILE; i++)
        g_assert_cmpuint(bss[i], ==, 0);
    /* The zero page still comes from the bzImage's setup header. */
    g_assert_cmpmem(guest_memory_ptr(&mem, l.zero_page + 0x202, 4), 4, "HdrS", 4);

    /* A kernel proper beyond guest RAM is refused. */
    phdr(elf, 1)->p_paddr = 80 * MIB;
    g_assert_false(linux_load(&mem, &p, &l, &error));
    g_assert_error(error, LINUX_ERROR, LINUX_ERROR_NO_ROOM);
    guest_memory_free(&mem);
}

static unsigned count_entries(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    unsigned n = 0;
    while (d && g_dir_read_name(d))
        n++;
    return n;
}

static char *only_entry(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    return g_build_filename(dir, g_dir_read_name(d), NULL);
}

static void test_cache(void)
{
    g_autofree char *tmp = g_dir_make_tmp("oriel-kcache-XXXXXX", NULL);
    g_autofree char *dir = g_build_filename(tmp, "kernels", NULL);
    g_autofree char *kpath = g_build_filename(tmp, "vmlinuz", NULL);
    g_autoptr(GByteArray) elf = make_vmlinux();
    g_autoptr(GBytes) payload = compress_xz(elf->data, elf->len);
    g_autoptr(GByteArray) bz = make_bzimage(payload);
    g_assert_true(g_file_set_contents(kpath, (const char *)bz->data, bz->len, NULL));
    g_autoptr(GError) error = NULL;

    /* First boot: unpacked and stored in a directory only we may write. */
    g_autoptr(GBytes) first = kernel_cache_get(dir, kpath, bz->data, bz->len, &error);
    g_assert_no_error(error);
    g_assert_cmpmem(g_bytes_get_data(first, NULL), g_bytes_get_size(first), elf->data, elf->len);
    g_assert_cmpuint(count_entries(dir), ==, 1);
    struct stat st;
    g_assert_cmpint(stat(dir, &st), ==, 0);
    g_assert_cmpuint(st.st_mode & 0777, ==, 0700);
    g_autofree char *entry = only_entry(dir);

    /* Next boot: the stored entry, proven by changing it in a way that
     * still parses (a different text byte). */
    g_autofree char *stored = NULL;
    gsize stored_len;
    g_assert_true(g_file_get_contents(entry, &stored, &stored_len, NULL));
    stored[phdr(elf, 0)->p_offset + 5] ^= 0xff;
    g_assert_true(g_file_set_contents(entry, stored, (gssize)stored_len, NULL));
    g_autoptr(GBytes) second = kernel_cache_get(dir, kpath, bz->data, bz->len, &error);
    g_assert_no_error(error);
    g_assert_cmpmem(g_bytes_get_data(second, NULL), g_bytes_get_size(second), stored, stored_len);

    /* A damaged entry is removed and the kernel unpacked again. */
    g_assert_true(g_file_set_contents(entry, "junk", 4, NULL));
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*removing the damaged unpacked kernel*");
    g_autoptr(GBytes) third = kernel_cache_get(dir, kpath, bz->data, bz->len, &error);
    g_test_assert_expected_messages();
    g_assert_no_error(error);
    g_assert_cmpmem(g_bytes_get_data(third, NULL), g_bytes_get_size(third), elf->data, elf->len);
    g_assert_cmpuint(count_entries(dir), ==, 1);

    /* A changed kernel file gets its own entry. */
    g_assert_true(g_file_set_contents(kpath, (const char *)bz->data, bz->len - 1, NULL));
    g_assert_true(g_file_set_contents(kpath, (const char *)bz->data, bz->len, NULL));
    struct timespec later[2] = { { 0, UTIME_NOW }, { st.st_mtim.tv_sec + 10, 0 } };
    g_assert_cmpint(utimensat(AT_FDCWD, kpath, later, 0), ==, 0);
    g_autoptr(GBytes) fourth = kernel_cache_get(dir, kpath, bz->data, bz->len, &error);
    g_assert_no_error(error);
    g_assert_nonnull(fourth);
    g_assert_cmpuint(count_entries(dir), ==, 2);

    /* A directory others can write to is not trusted with kernels. */
    g_assert_cmpint(chmod(dir, 0777), ==, 0);
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*not keeping unpacked kernels*");
    g_autoptr(GBytes) fifth = kernel_cache_get(dir, kpath, bz->data, bz->len, &error);
    g_test_assert_expected_messages();
    g_assert_no_error(error);
    g_assert_cmpmem(g_bytes_get_data(fifth, NULL), g_bytes_get_size(fifth), elf->data, elf->len);

    /* No cache at all: unpacked, nothing written. */
    g_autoptr(GBytes) sixth = kernel_cache_get(NULL, kpath, bz->data, bz->len, &error);
    g_assert_no_error(error);
    g_assert_cmpmem(g_bytes_get_data(sixth, NULL), g_bytes_get_size(sixth), elf->data, elf->len);

    g_assert_cmpint(chmod(dir, 0700), ==, 0);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_unlink(path);
    }
    g_rmdir(dir);
    g_unlink(kpath);
    g_rmdir(tmp);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/kernel-unpack/gzip", test_gzip);
    g_test_add_func("/kernel-unpack/xz", test_xz);
    g_test_add_func("/kernel-unpack/zstd", test_zstd);
    g_test_add_func("/kernel-unpack/lz4-legacy", test_lz4);
    g_test_add_func("/kernel-unpack/refused", test_payload_refused);
    g_test_add_func("/kernel-unpack/elf-checks", test_elf_checks);
    g_test_add_func("/kernel-unpack/load-vmlinux", test_load_vmlinux);
    g_test_add_func("/kernel-unpack/cache", test_cache);
    return g_test_run();
}
