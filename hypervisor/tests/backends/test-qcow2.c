/* The qcow2 backend against images made and checked by the stock qemu-img:
 * reads and writes compared with a model of the disk, then `qemu-img check`
 * (no leaks, no corruption) and `qemu-img convert` to raw (the same bytes
 * for every other reader); backing files, compressed clusters, internal
 * snapshots, discard, and images that must be refused. */
#include "backends/block_backend.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "qemu_img_test.h"

static char *dir;

static char *path_in(const char *name)
{
    return g_build_filename(dir, name, NULL);
}

/* The whole virtual disk as qemu-img reads it. */
static uint8_t *qemu_read(const char *img, uint64_t size)
{
    g_autofree char *raw = path_in("converted.raw");
    g_autofree char *args = g_strdup_printf("convert -f qcow2 -O raw %s %s", img, raw);
    test_qemu_img_ok(args);
    gchar *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(raw, &data, &len, NULL));
    g_assert_cmpuint(len, ==, size);
    g_unlink(raw);
    return (uint8_t *)data;
}

static void bb_write(struct block_backend *bb, const void *buf, size_t len, uint64_t off)
{
    struct iovec v = { (void *)buf, len };
    g_assert_cmpint(block_backend_pwritev(bb, &v, 1, off), ==, 0);
}

static void bb_read(struct block_backend *bb, void *buf, size_t len, uint64_t off)
{
    struct iovec v = { buf, len };
    g_assert_cmpint(block_backend_preadv(bb, &v, 1, off), ==, 0);
}

static void fill(uint8_t *buf, size_t len, uint32_t seed)
{
    for (size_t i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (uint8_t)(seed >> 16);
    }
}

static struct block_backend *open_ok(const char *img, bool readonly)
{
    g_autoptr(GError) error = NULL;
    struct block_backend *bb = block_open(img, DISK_FORMAT_QCOW2, readonly, &error);
    g_assert_no_error(error);
    g_assert_nonnull(bb);
    return bb;
}

/* Random writes (aligned, unaligned, across clusters, two buffers in one
 * vector) mirrored into a model; every read and the final image agree. */
static void random_io(const char *cluster_size)
{
    const uint64_t size = 8 << 20;
    g_autofree char *img = path_in("random.qcow2");
    g_autofree char *args = g_strdup_printf("create -q -f qcow2 -o cluster_size=%s %s %" G_GUINT64_FORMAT,
                                            cluster_size, img, size);
    test_qemu_img_ok(args);
    struct block_backend *bb = open_ok(img, false);
    g_assert_cmpuint(bb->size, ==, size);
    g_autofree uint8_t *model = g_malloc0(size);
    g_autofree uint8_t *buf = g_malloc(256 << 10);
    g_autofree uint8_t *back = g_malloc(256 << 10);
    GRand *rand = g_rand_new_with_seed(7);
    for (int op = 0; op < 400; op++) {
        size_t len = (size_t)g_rand_int_range(rand, 1, 256 << 10);
        uint64_t off = (uint64_t)g_rand_int_range(rand, 0, (gint32)(size - len));
        if (g_rand_boolean(rand))
            off &= ~UINT64_C(511);
        if (op % 3 == 0) {
            bb_read(bb, back, len, off);
            g_assert_cmpmem(back, len, model + off, len);
            continue;
        }
        fill(buf, len, (uint32_t)op);
        size_t half = len / 2;
        struct iovec v[2] = { { buf, half }, { buf + half, len - half } };
        g_assert_cmpint(block_backend_pwritev(bb, v, 2, off), ==, 0);
        memcpy(model + off, buf, len);
    }
    g_assert_cmpint(block_backend_flush(bb), ==, 0);
    block_backend_close(bb);
    g_rand_free(rand);
    test_qcow2_assert_clean(img);
    g_autofree uint8_t *seen = qemu_read(img, size);
    g_assert_true(memcmp(seen, model, size) == 0);

    /* Reopened, it reads what was written. */
    bb = open_ok(img, true);
    bb_read(bb, back, 4096, 4096);
    g_assert_cmpmem(back, 4096, model + 4096, 4096);
    block_backend_close(bb);
    g_unlink(img);
}

static void test_random_64k(void) { random_io("65536"); }
/* 512-byte clusters: refcount blocks cover 128 KiB each, so writing
 * allocates many of them on the way. */
static void test_random_512(void) { random_io("512"); }

/* An overlay reads its raw backing file; a partial write keeps the
 * backing bytes around it; the backing file is never written. */
static void test_backing(void)
{
    const uint64_t size = 4 << 20;
    g_autofree char *base = path_in("base.raw");
    g_autofree char *ov = path_in("overlay.qcow2");
    g_autofree uint8_t *model = g_malloc(size);
    fill(model, size, 99);
    g_assert_true(g_file_set_contents(base, (char *)model, (gssize)size, NULL));
    g_autofree char *args = g_strdup_printf("create -q -f qcow2 -b base.raw -F raw %s", ov);
    test_qemu_img_ok(args);

    struct block_backend *bb = open_ok(ov, false);
    g_assert_cmpuint(bb->size, ==, size);
    uint8_t buf[8192];
    bb_read(bb, buf, sizeof(buf), 123456);
    g_assert_cmpmem(buf, sizeof(buf), model + 123456, sizeof(buf));
    memset(buf, 0xab, 100);
    bb_write(bb, buf, 100, 70000);
    memcpy(model + 70000, buf, 100);
    /* Whole clusters over a backing file become zero clusters. */
    g_assert_cmpint(block_backend_write_zeroes(bb, 1 << 20, 1 << 20), ==, 0);
    memset(model + (1 << 20), 0, 1 << 20);
    block_backend_close(bb);

    test_qcow2_assert_clean(ov);
    g_autofree uint8_t *seen = qemu_read(ov, size);
    g_assert_true(memcmp(seen, model, size) == 0);
    gchar *b = NULL;
    gsize blen = 0;
    g_assert_true(g_file_get_contents(base, &b, &blen, NULL));
    g_autofree uint8_t *orig = g_malloc(size);
    fill(orig, size, 99);
    g_assert_true(blen == size && memcmp(b, orig, size) == 0);
    g_free(b);
}

/* Clusters compressed by qemu-img read back; writing over one moves it to
 * a new cluster and releases the old. */
static void test_compressed(void)
{
    const uint64_t size = 2 << 20;
    g_autofree char *raw = path_in("plain.raw");
    g_autofree char *img = path_in("compressed.qcow2");
    g_autofree uint8_t *model = g_malloc(size);
    for (uint64_t i = 0; i < size; i++)
        model[i] = (uint8_t)("compressible text "[i % 18]);
    g_assert_true(g_file_set_contents(raw, (char *)model, (gssize)size, NULL));
    g_autofree char *args = g_strdup_printf("convert -q -c -f raw -O qcow2 %s %s", raw, img);
    test_qemu_img_ok(args);

    struct block_backend *bb = open_ok(img, false);
    g_autofree uint8_t *back = g_malloc(size);
    bb_read(bb, back, size, 0);
    g_assert_true(memcmp(back, model, size) == 0);
    uint8_t buf[1000];
    fill(buf, sizeof(buf), 5);
    bb_write(bb, buf, sizeof(buf), 200000);
    memcpy(model + 200000, buf, sizeof(buf));
    block_backend_close(bb);
    test_qcow2_assert_clean(img);
    g_autofree uint8_t *seen = qemu_read(img, size);
    g_assert_true(memcmp(seen, model, size) == 0);
}

/* With an internal snapshot every cluster is shared: writes copy, and the
 * snapshot keeps the old contents. */
static void test_snapshot_cow(void)
{
    const uint64_t size = 4 << 20;
    g_autofree char *img = path_in("snap.qcow2");
    g_autofree char *args = g_strdup_printf("create -q -f qcow2 %s %" G_GUINT64_FORMAT, img, size);
    test_qemu_img_ok(args);
    g_autofree uint8_t *before = g_malloc(size), *after = NULL;
    fill(before, size, 11);
    struct block_backend *bb = open_ok(img, false);
    bb_write(bb, before, size, 0);
    block_backend_close(bb);
    g_autofree char *snap = g_strdup_printf("snapshot -c first %s", img);
    test_qemu_img_ok(snap);

    after = g_memdup2(before, size);
    bb = open_ok(img, false);
    uint8_t buf[3000];
    fill(buf, sizeof(buf), 12);
    bb_write(bb, buf, sizeof(buf), 65536 - 1000);
    memcpy(after + 65536 - 1000, buf, sizeof(buf));
    g_assert_cmpint(block_backend_discard(bb, 1 << 20, 1 << 20), ==, 0);
    block_backend_close(bb);
    test_qcow2_assert_clean(img);
    g_autofree uint8_t *seen = qemu_read(img, size);
    g_assert_true(memcmp(seen + 65536 - 1000, buf, sizeof(buf)) == 0);

    g_autofree char *apply = g_strdup_printf("snapshot -a first %s", img);
    test_qemu_img_ok(apply);
    g_autofree uint8_t *old = qemu_read(img, size);
    g_assert_true(memcmp(old, before, size) == 0);
}

static void expect_refused(const char *img, bool readonly, const char *fragment)
{
    g_autoptr(GError) error = NULL;
    struct block_backend *bb = block_open(img, DISK_FORMAT_QCOW2, readonly, &error);
    g_assert_null(bb);
    g_assert_nonnull(error);
    if (!strstr(error->message, fragment))
        g_error("expected '%s' in: %s", fragment, error->message);
    g_assert_nonnull(strstr(error->message, img));
}

static void patch(const char *img, uint64_t off, const void *bytes, size_t len)
{
    FILE *f = fopen(img, "r+b");
    g_assert_nonnull(f);
    g_assert_cmpint(fseek(f, (long)off, SEEK_SET), ==, 0);
    g_assert_cmpuint(fwrite(bytes, 1, len, f), ==, len);
    fclose(f);
}

static void fresh(const char *img)
{
    g_autofree char *args = g_strdup_printf("create -q -f qcow2 %s 1M", img);
    g_unlink(img);
    test_qemu_img_ok(args);
}

static void test_refusals(void)
{
    g_autofree char *img = path_in("bad.qcow2");
    g_autofree char *missing = path_in("missing.qcow2");
    expect_refused(missing, true, "Cannot open");

    fresh(img);
    patch(img, 0, "QFI\x00", 4);
    expect_refused(img, true, "no qcow2 signature");

    fresh(img);
    patch(img, 4, "\0\0\0\x04", 4);
    expect_refused(img, true, "unknown version");

    fresh(img);
    patch(img, 20, "\0\0\0\x30", 4);        /* 2^48-byte clusters */
    expect_refused(img, true, "cluster size");

    fresh(img);
    patch(img, 36, "\0\0\0\0", 4);          /* no L1 entries for 1 MiB */
    expect_refused(img, true, "L1 table size");

    fresh(img);
    patch(img, 32, "\0\0\0\x01", 4);        /* AES */
    expect_refused(img, true, "encrypted");

    fresh(img);
    patch(img, 79, "\x01", 1);               /* the dirty bit */
    expect_refused(img, false, "not closed cleanly");
    struct block_backend *bb = open_ok(img, true);   /* reading is fine */
    block_backend_close(bb);

    fresh(img);
    patch(img, 79, "\x10", 1);               /* extended L2 entries */
    expect_refused(img, true, "features");

    /* A backing file named without its format is not guessed. */
    g_autofree char *ov = path_in("noformat.qcow2");
    g_autofree char *args = g_strdup_printf("create -q -f qcow2 -b bad.qcow2 -F qcow2 %s", ov);
    fresh(img);
    test_qemu_img_ok(args);
    g_autofree char *rebase = g_strdup_printf("rebase -u -b bad.qcow2 %s", ov);
    if (test_run(NULL, "qemu-img %s", rebase) == 0) {
        g_autofree char *out = NULL;
        test_run(&out, "qemu-img info %s", ov);
        if (!strstr(out, "backing file format"))
            expect_refused(ov, true, "without its format");
    }
}

static uint64_t be64_at(const char *img, uint64_t off)
{
    FILE *f = fopen(img, "rb");
    uint8_t b[8];
    g_assert_nonnull(f);
    g_assert_cmpint(fseek(f, (long)off, SEEK_SET), ==, 0);
    g_assert_cmpuint(fread(b, 1, 8, f), ==, 8);
    fclose(f);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return v;
}

static void put_be64(const char *img, uint64_t off, uint64_t v)
{
    uint8_t b[8];
    for (int i = 7; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
    patch(img, off, b, 8);
}

/* L2 entries a hostile image could hold: a misaligned cluster fails the
 * read and the write; a cluster that is the L1 table itself, marked as
 * ours, may be read but never written (the table stays intact). */
static void test_hostile_l2(void)
{
    g_autofree char *img = path_in("hostile.qcow2");
    fresh(img);
    struct block_backend *bb = open_ok(img, false);
    uint8_t buf[512] = { 1 };
    bb_write(bb, buf, sizeof(buf), 0);
    block_backend_close(bb);
    uint64_t l1_off = be64_at(img, 40);
    uint64_t l1_entry = be64_at(img, l1_off);
    uint64_t l2_off = l1_entry & 0x00fffffffffffe00ull;
    struct iovec v = { buf, sizeof(buf) };

    put_be64(img, l2_off, (1ull << 63) | (l1_off + 512));
    bb = open_ok(img, false);
    g_assert_cmpint(block_backend_preadv(bb, &v, 1, 0), ==, -EIO);
    g_assert_cmpint(block_backend_pwritev(bb, &v, 1, 0), ==, -EIO);
    block_backend_close(bb);

    put_be64(img, l2_off, (1ull << 63) | l1_off);
    bb = open_ok(img, false);
    g_assert_cmpint(block_backend_preadv(bb, &v, 1, 0), ==, 0);
    memset(buf, 0xee, sizeof(buf));
    g_assert_cmpint(block_backend_pwritev(bb, &v, 1, 0), ==, -EIO);
    block_backend_close(bb);
    g_assert_cmpuint(be64_at(img, l1_off), ==, l1_entry);
}

/* Growing: within the L1 table (512 B clusters: one L1 entry maps 32 KiB,
 * so 31 of them cover 1000448 bytes and up to 1015808), then with a new L1
 * table; data written before stays, the new end reads zeros and can be
 * written, qemu-img sees the new size and finds no leak. */
static void test_grow(void)
{
    g_autofree char *img = path_in("grow.qcow2");
    g_autofree char *args = g_strdup_printf("create -q -f qcow2 -o cluster_size=512 %s 1000448", img);
    test_qemu_img_ok(args);
    struct block_backend *bb = open_ok(img, false);
    uint8_t data[4096], back[4096], zero[4096] = { 0 };
    fill(data, sizeof(data), 21);
    bb_write(bb, data, sizeof(data), 1000448 - sizeof(data));
    g_assert_cmpint(block_backend_grow(bb, 1000448 - 512), ==, -EINVAL);
    g_assert_cmpint(block_backend_grow(bb, 1000448 + 100), ==, -EINVAL);
    g_assert_cmpint(block_backend_grow(bb, 1015808), ==, 0);
    g_assert_cmpuint(bb->size, ==, 1015808);
    g_assert_cmpint(block_backend_grow(bb, 3 << 19), ==, 0);   /* a new L1 table */
    g_assert_cmpuint(bb->size, ==, 3 << 19);
    bb_read(bb, back, sizeof(back), (3 << 19) - sizeof(back));
    g_assert_true(memcmp(back, zero, sizeof(back)) == 0);
    bb_write(bb, data, sizeof(data), (3 << 19) - sizeof(data));
    bb_read(bb, back, sizeof(back), 1000448 - sizeof(back));
    g_assert_true(memcmp(back, data, sizeof(back)) == 0);
    block_backend_close(bb);
    test_qcow2_assert_clean(img);
    g_autofree uint8_t *seen = qemu_read(img, 3 << 19);
    g_assert_true(memcmp(seen + 1000448 - sizeof(data), data, sizeof(data)) == 0);
    g_assert_true(memcmp(seen + (3 << 19) - sizeof(data), data, sizeof(data)) == 0);

    bb = open_ok(img, true);
    g_assert_cmpint(block_backend_grow(bb, 2 << 20), ==, -EROFS);
    block_backend_close(bb);
}

/* Every request is counted: operations, bytes, failures. */
static void test_stats(void)
{
    g_autofree char *img = path_in("stats.raw");
    g_assert_true(g_file_set_contents(img, "", 0, NULL));
    g_autoptr(GError) error = NULL;
    struct block_backend *bb = block_open(img, DISK_FORMAT_RAW, false, &error);
    g_assert_no_error(error);
    g_assert_cmpint(block_backend_grow(bb, 1 << 16), ==, 0);
    uint8_t buf[4096] = { 1 };
    bb_write(bb, buf, sizeof(buf), 0);
    bb_write(bb, buf, 512, 8192);
    bb_read(bb, buf, sizeof(buf), 0);
    g_assert_cmpint(block_backend_flush(bb), ==, 0);
    struct block_stats s;
    block_backend_get_stats(bb, &s);
    g_assert_cmpuint(s.wr_ops, ==, 2);
    g_assert_cmpuint(s.wr_bytes, ==, 4096 + 512);
    g_assert_cmpuint(s.rd_ops, ==, 1);
    g_assert_cmpuint(s.rd_bytes, ==, 4096);
    g_assert_cmpuint(s.flush_ops, ==, 1);
    g_assert_cmpuint(s.rd_failed + s.wr_failed + s.flush_failed, ==, 0);
    block_backend_close(bb);

    bb = block_open(img, DISK_FORMAT_RAW, true, &error);
    g_assert_no_error(error);
    struct iovec v = { buf, 512 };
    g_assert_cmpint(block_backend_pwritev(bb, &v, 1, 0), ==, -EROFS);
    block_backend_get_stats(bb, &s);
    g_assert_cmpuint(s.wr_ops, ==, 1);
    g_assert_cmpuint(s.wr_failed, ==, 1);
    g_assert_cmpuint(s.wr_bytes, ==, 0);
    block_backend_close(bb);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_autofree char *qemu_img = g_find_program_in_path("qemu-img");
    if (!qemu_img) {
        g_print("1..0 # SKIP qemu-img (package qemu-utils) is not installed\n");
        return 77;
    }
    dir = g_dir_make_tmp("oriel-qcow2-XXXXXX", NULL);
    g_assert_nonnull(dir);
    g_assert_cmpint(chdir(dir), ==, 0);
    g_test_add_func("/qcow2/random-64k", test_random_64k);
    g_test_add_func("/qcow2/random-512", test_random_512);
    g_test_add_func("/qcow2/backing", test_backing);
    g_test_add_func("/qcow2/compressed", test_compressed);
    g_test_add_func("/qcow2/snapshot-cow", test_snapshot_cow);
    g_test_add_func("/qcow2/refusals", test_refusals);
    g_test_add_func("/qcow2/hostile-l2", test_hostile_l2);
    g_test_add_func("/qcow2/grow", test_grow);
    g_test_add_func("/qcow2/stats", test_stats);
    int rc = g_test_run();
    g_autofree char *cleanup = g_strdup_printf("rm -rf %s", dir);
    test_run(NULL, "%s", cleanup);
    g_free(dir);
    return rc;
}
