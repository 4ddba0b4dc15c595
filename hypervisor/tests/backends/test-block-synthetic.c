/* The synthetic disk (format=synthetic): its map file parser with every
 * refusal, then the disk itself over an image file standing for the
 * physical disk, with overlays made by the stock qemu-img.  In both modes
 * every range kind is read and written, requests cross range boundaries,
 * the device keeps every byte the mode says it keeps, and `qemu-img check`
 * finds both overlays clean. */
#include "backends/block_backend.h"
#include "backends/synthetic_map.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "qemu_img_test.h"
#include <gio/gio.h>

#define KIB 1024ull
#define MIB (1024ull * 1024)

static char *dir;

static char *path_in(const char *name)
{
    return g_build_filename(dir, name, NULL);
}

static void fill(uint8_t *buf, size_t len, uint32_t seed)
{
    for (size_t i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (uint8_t)(seed >> 16);
    }
}

static uint8_t *read_file(const char *path, uint64_t expect_len)
{
    gchar *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    g_assert_cmpuint(len, ==, expect_len);
    return (uint8_t *)data;
}

/* ---- the map file parser ---- */

static struct synthetic_map *parse_ok(const char *text)
{
    g_autoptr(GError) error = NULL;
    struct synthetic_map *m = synthetic_map_parse(text, strlen(text), "t.map", &error);
    g_assert_no_error(error);
    g_assert_nonnull(m);
    return m;
}

static void test_map_good(void)
{
    g_autoptr(synthetic_map) m = parse_ok(
        "# oriel synthetic disk v1\n"
        "device = /dev/nvme0n1   # the disk\n"
        "\n"
        "   mode=trial\n"
        "esp-overlay = /var/lib/oriel/dualboot/w/esp.qcow2\n"
        "trial-overlay =\t/var/lib/oriel/dualboot/w/trial.qcow2\r\n"
        "pass = 1048576 16777216\n"
        "table = 0\t1048576\n"
        "esp = 17825792  104857600\n"
        "table = 122683392 16896\n");
    g_assert_cmpstr(m->device, ==, "/dev/nvme0n1");
    g_assert_cmpint(m->mode, ==, SYNTHETIC_TRIAL);
    g_assert_cmpstr(m->esp_overlay, ==, "/var/lib/oriel/dualboot/w/esp.qcow2");
    g_assert_cmpstr(m->trial_overlay, ==, "/var/lib/oriel/dualboot/w/trial.qcow2");
    g_assert_cmpuint(m->n_ranges, ==, 4);
    /* Sorted by offset, each remembering its line. */
    g_assert_cmpint(m->ranges[0].kind, ==, SYNTHETIC_TABLE);
    g_assert_cmpuint(m->ranges[0].line, ==, 8);
    g_assert_cmpint(m->ranges[1].kind, ==, SYNTHETIC_PASS);
    g_assert_cmpuint(m->ranges[1].offset, ==, 1048576);
    g_assert_cmpuint(m->ranges[1].length, ==, 16777216);
    g_assert_cmpint(m->ranges[2].kind, ==, SYNTHETIC_ESP);
    g_assert_cmpuint(m->ranges[3].offset, ==, 122683392);
    g_assert_cmpuint(m->ranges[3].line, ==, 10);
    g_autoptr(GError) error = NULL;
    g_assert_true(synthetic_map_check_size(m, 122683392 + 16896, &error));
    g_assert_false(synthetic_map_check_size(m, 122683392 + 16384, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_assert_nonnull(strstr(error->message, "t.map, line 10:"));
    g_assert_nonnull(strstr(error->message, "beyond the end of /dev/nvme0n1"));

    /* Real mode needs no trial overlay; no esp range, no ESP overlay. */
    g_autoptr(synthetic_map) r = parse_ok("device = disk.img\nmode = real\npass = 512 512\n");
    g_assert_cmpint(r->mode, ==, SYNTHETIC_REAL);
    g_assert_null(r->esp_overlay);
    g_assert_null(r->trial_overlay);
}

struct refusal {
    const char *text;
    const char *message;    /* a part of the error */
};

#define HEAD "device = d.img\nmode = real\n"
#define HEAD_ESP HEAD "esp-overlay = e.qcow2\n"

static void test_map_refusals(void)
{
    static const struct refusal cases[] = {
        { HEAD "size = 5\n", "line 3: unknown key 'size'" },
        { HEAD "pass 0 512\n", "line 3: 'pass 0 512' is not KEY = VALUE" },
        { HEAD "device =\n", "line 3: 'device' has no value" },
        { HEAD "= 0 512\n", "line 3: a value without a key" },
        { HEAD "device = e.img\n", "line 3: 'device' is given twice (first on line 1)" },
        { HEAD "mode = trial\n", "line 3: 'mode' is given twice (first on line 2)" },
        { HEAD_ESP "esp-overlay = f\n", "line 4: 'esp-overlay' is given twice (first on line 3)" },
        { HEAD "trial-overlay = a\ntrial-overlay = b\n", "line 4: 'trial-overlay' is given twice" },
        { "device = d.img\nmode = maybe\n", "line 2: unknown mode 'maybe'" },
        { "mode = real\npass = 0 512\n", "t.map: no 'device' line" },
        { "device = d.img\npass = 0 512\n", "t.map: no 'mode' line" },
        { "device = d.img\nmode = trial\n", "t.map: trial mode needs a 'trial-overlay' line" },
        { HEAD "table = 0 512\nesp = 512 512\n", "line 4: an esp range needs an 'esp-overlay'" },
        { HEAD "pass = 12x 512\n", "line 3: bad offset '12x'" },
        { HEAD "pass = -512 512\n", "line 3: bad offset '-512'" },
        { HEAD "pass = +512 512\n", "line 3: bad offset '+512'" },
        { HEAD "pass = 0x200 512\n", "line 3: bad offset '0x200'" },
        { HEAD "pass = 512 5e2\n", "line 3: bad length '5e2'" },
        { HEAD "pass = 512 -1\n", "line 3: bad length '-1'" },
        { HEAD "pass = 512\n", "line 3: 'pass' takes OFFSET LENGTH, not '512'" },
        { HEAD "pass = 512 512 512\n", "line 3: 'pass' takes OFFSET LENGTH" },
        { HEAD "pass = 512,512\n", "line 3: 'pass' takes OFFSET LENGTH" },
        { HEAD "pass = 18446744073709551616 512\n", "line 3: bad offset" },
        { HEAD "pass = 512 99999999999999999999999\n", "line 3: bad length" },
        { HEAD "pass = 18446744073709550592 1024\n", "line 3: the range ends beyond 2^64 bytes" },
        { HEAD "pass = 512 0\n", "line 3: the range is empty" },
        { HEAD "pass = 100 512\n", "line 3: offset 100 and length 512 must be multiples of 512" },
        { HEAD "\n\ntable = 512 1000\n", "line 5: offset 512 and length 1000 must be multiples" },
        { HEAD "pass = 1024 1024\n# gap\ntable = 0 1536\n", "line 5: the range overlaps the one on line 3" },
        { HEAD "table = 0 4096\npass = 4096 512\npass = 4096 1024\n",
          "line 5: the range overlaps the one on line 4" },
        { HEAD_ESP "esp = 0 1048576\npass = 524288 512\n", "line 5: the range overlaps the one on line 4" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        struct synthetic_map *m = synthetic_map_parse(cases[i].text, strlen(cases[i].text),
                                                      "t.map", &error);
        if (m || !error || !strstr(error->message, cases[i].message))
            g_error("case %zu (%s): expected '%s', got %s", i, cases[i].text, cases[i].message,
                    error ? error->message : "success");
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    }

    /* A NUL byte, named by its line. */
    static const char nul[] = HEAD "pass = 0 512\0\n";
    g_autoptr(GError) error = NULL;
    g_assert_null(synthetic_map_parse(nul, sizeof(nul) - 1, "t.map", &error));
    g_assert_nonnull(strstr(error->message, "line 3: a NUL byte"));
    g_clear_error(&error);

    /* Too many ranges, too large a file. */
    GString *many = g_string_new(HEAD);
    for (int i = 0; i <= SYNTHETIC_MAP_MAX_RANGES; i++)
        g_string_append_printf(many, "pass = %d 512\n", i * 512);
    g_assert_null(synthetic_map_parse(many->str, many->len, "t.map", &error));
    g_assert_nonnull(strstr(error->message, "more than 512 ranges"));
    g_clear_error(&error);
    g_string_free(many, TRUE);
    g_autofree char *big = g_malloc(SYNTHETIC_MAP_MAX_SIZE + 1);
    memset(big, '#', SYNTHETIC_MAP_MAX_SIZE + 1);
    g_assert_null(synthetic_map_parse(big, SYNTHETIC_MAP_MAX_SIZE + 1, "t.map", &error));
    g_assert_nonnull(strstr(error->message, "too large"));
}

static void test_map_lookup(void)
{
    g_autoptr(synthetic_map) m = parse_ok(HEAD_ESP "table = 0 1024\nesp = 1024 1024\n"
                                          "pass = 4096 512\n");
    uint64_t n;
    g_assert_cmpint(synthetic_map_lookup(m, 0, 10000, &n), ==, SYNTHETIC_TABLE);
    g_assert_cmpuint(n, ==, 1024);
    g_assert_cmpint(synthetic_map_lookup(m, 512, 700, &n), ==, SYNTHETIC_TABLE);
    g_assert_cmpuint(n, ==, 188);
    g_assert_cmpint(synthetic_map_lookup(m, 1024, 10000, &n), ==, SYNTHETIC_ESP);
    g_assert_cmpuint(n, ==, 1024);
    g_assert_cmpint(synthetic_map_lookup(m, 2048, 10000, &n), ==, SYNTHETIC_ZERO);
    g_assert_cmpuint(n, ==, 2048);
    g_assert_cmpint(synthetic_map_lookup(m, 3000, 3500, &n), ==, SYNTHETIC_ZERO);
    g_assert_cmpuint(n, ==, 500);
    g_assert_cmpint(synthetic_map_lookup(m, 4096, 10000, &n), ==, SYNTHETIC_PASS);
    g_assert_cmpuint(n, ==, 512);
    g_assert_cmpint(synthetic_map_lookup(m, 4608, 10000, &n), ==, SYNTHETIC_ZERO);
    g_assert_cmpuint(n, ==, 10000 - 4608);
}

/* ---- the disk ---- */

/* The stand-in physical disk, in bytes:
 *
 *   0       64K     table (protective MBR, GPT header and entries)
 *   64K     1M      esp
 *   1M      2M      pass ("Windows")
 *   2M      3M      masked ("Linux")
 *   3M      3.5M    pass (recovery)
 *   3.5M    4M-32K  masked (free space)
 *   4M-32K  4M      table (backup GPT) */
#define DISK_SIZE (4 * MIB)
#define ESP_AT (64 * KIB)
#define WIN_AT (1 * MIB)
#define LINUX_AT (2 * MIB)
#define REC_AT (3 * MIB)
#define FREE_AT (3 * MIB + 512 * KIB)
#define BACKUP_AT (DISK_SIZE - 32 * KIB)

struct fixture {
    char *device, *esp, *trial, *map;
    uint8_t *original;      /* the device's bytes before the test */
};

static unsigned warnings;
static char *last_warning;

static void count_warnings(const gchar *domain, GLogLevelFlags level, const gchar *message,
                           gpointer data)
{
    (void)domain, (void)data;
    if ((level & G_LOG_LEVEL_WARNING) && strstr(message, "refused")) {
        warnings++;
        g_free(last_warning);
        last_warning = g_strdup(message);
        return;
    }
    g_log_default_handler(domain, level, message, data);
    if (level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL))
        g_error("unexpected message: %s", message);
}

static void make_fixture(struct fixture *f, const char *mode)
{
    f->device = path_in("disk.img");
    f->esp = path_in("esp.qcow2");
    f->trial = path_in("trial.qcow2");
    f->map = path_in("disk.map");
    f->original = g_malloc(DISK_SIZE);
    fill(f->original, DISK_SIZE, 2026);
    g_assert_true(g_file_set_contents(f->device, (char *)f->original, DISK_SIZE, NULL));
    g_unlink(f->esp);
    g_unlink(f->trial);
    g_autofree char *args = g_strdup_printf("create -q -f qcow2 %s %llu", f->esp, DISK_SIZE);
    test_qemu_img_ok(args);
    g_free(args);
    args = g_strdup_printf("create -q -f qcow2 %s %llu", f->trial, DISK_SIZE);
    test_qemu_img_ok(args);
    /* Relative paths are relative to the map file's folder. */
    g_autofree char *map = g_strdup_printf(
        "# oriel synthetic disk v1\n"
        "device = %s\n"
        "mode = %s\n"
        "esp-overlay = esp.qcow2\n"
        "trial-overlay = %s\n"
        "table = 0 %llu\n"
        "esp = %llu %llu\n"
        "pass = %llu %llu\n"
        "pass = %llu %llu\n"
        "table = %llu %llu\n",
        f->device, mode, f->trial, ESP_AT, ESP_AT, WIN_AT - ESP_AT, WIN_AT, LINUX_AT - WIN_AT,
        REC_AT, FREE_AT - REC_AT, BACKUP_AT, DISK_SIZE - BACKUP_AT);
    g_assert_true(g_file_set_contents(f->map, map, -1, NULL));
}

static void free_fixture(struct fixture *f)
{
    g_free(f->device);
    g_free(f->esp);
    g_free(f->trial);
    g_free(f->map);
    g_free(f->original);
}

static struct block_backend *open_disk(const char *map)
{
    g_autoptr(GError) error = NULL;
    struct block_backend *bb = block_open(map, DISK_FORMAT_SYNTHETIC, false, &error);
    g_assert_no_error(error);
    g_assert_nonnull(bb);
    g_assert_cmpuint(bb->size, ==, DISK_SIZE);
    return bb;
}

static int bb_write(struct block_backend *bb, const void *buf, size_t len, uint64_t off)
{
    struct iovec v = { (void *)buf, len };
    return block_backend_pwritev(bb, &v, 1, off);
}

static void bb_read(struct block_backend *bb, void *buf, size_t len, uint64_t off)
{
    /* Three pieces of awkward sizes: the vector is split with the ranges. */
    size_t a = MIN(len, 700), b = MIN(len - a, 5000);
    struct iovec v[3] = { { buf, a }, { (uint8_t *)buf + a, b }, { (uint8_t *)buf + a + b, len - a - b } };
    g_assert_cmpint(block_backend_preadv(bb, v, 3, off), ==, 0);
}

/* What the guest should see of the untouched device. */
static uint8_t *initial_view(const struct fixture *f)
{
    uint8_t *v = g_memdup2(f->original, DISK_SIZE);
    memset(v + LINUX_AT, 0, REC_AT - LINUX_AT);
    memset(v + FREE_AT, 0, BACKUP_AT - FREE_AT);
    return v;
}

static void assert_view(struct block_backend *bb, const uint8_t *view)
{
    g_autofree uint8_t *seen = g_malloc(DISK_SIZE);
    bb_read(bb, seen, DISK_SIZE, 0);
    for (uint64_t i = 0; i < DISK_SIZE; i += 512)
        if (memcmp(seen + i, view + i, 512))
            g_error("the synthetic disk differs from the expected view at byte %" G_GUINT64_FORMAT, i);
}

/* The access mode of the fd oriel-vmm holds on path. */
static int open_mode_of(const char *path)
{
    int mode = -1;
    g_autoptr(GDir) d = g_dir_open("/proc/self/fd", 0, NULL);
    g_assert_nonnull(d);
    const char *name;
    while ((name = g_dir_read_name(d))) {
        g_autofree char *link = g_strdup_printf("/proc/self/fd/%s", name);
        g_autofree char *target = g_file_read_link(link, NULL);
        if (!target || strcmp(target, path))
            continue;
        g_autofree char *info_path = g_strdup_printf("/proc/self/fdinfo/%s", name);
        g_autofree char *info = NULL;
        g_assert_true(g_file_get_contents(info_path, &info, NULL, NULL));
        const char *flags = strstr(info, "flags:");
        g_assert_nonnull(flags);
        g_assert_cmpint(mode, ==, -1);     /* one fd only */
        mode = (int)(g_ascii_strtoull(flags + 6, NULL, 8) & O_ACCMODE);
    }
    return mode;
}

/* Guest writes every range kind may and may not take, then the same
 * checks in both modes; returns the expected guest view after them. */
static uint8_t *exercise(struct block_backend *bb, const struct fixture *f)
{
    g_autofree uint8_t *view = initial_view(f);
    assert_view(bb, view);
    uint8_t buf[96 * 1024];

    /* Across the end of the ESP into the Windows partition: both take it. */
    fill(buf, sizeof(buf), 1);
    uint64_t at = WIN_AT - 40 * KIB;
    g_assert_cmpint(bb_write(bb, buf, sizeof(buf), at), ==, 0);
    memcpy(view + at, buf, sizeof(buf));
    /* Inside the recovery partition, unaligned to qcow2 clusters. */
    fill(buf, 1536, 2);
    g_assert_cmpint(bb_write(bb, buf, 1536, REC_AT + 3584), ==, 0);
    memcpy(view + REC_AT + 3584, buf, 1536);

    /* Refused: the tables, masked areas, and anything touching them;
     * nothing of a refused request is written, and the message says
     * where. */
    warnings = 0;
    int64_t t0 = g_get_monotonic_time();
    fill(buf, sizeof(buf), 3);
    g_assert_cmpint(bb_write(bb, buf, 4096, LINUX_AT + 8192), ==, -EIO);
    g_assert_cmpuint(warnings, ==, 1);
    g_assert_nonnull(strstr(last_warning, "byte 2105344 refused: it is in a masked area"));
    g_assert_cmpint(bb_write(bb, buf, 512, 0), ==, -EIO);
    g_assert_cmpint(bb_write(bb, buf, 1024, BACKUP_AT + 1024), ==, -EIO);
    g_assert_cmpint(bb_write(bb, buf, 8192, LINUX_AT - 4096), ==, -EIO);
    g_assert_cmpint(bb_write(bb, buf, 8192, FREE_AT - 4096), ==, -EIO);
    g_assert_cmpint(bb_write(bb, buf, 8192, ESP_AT - 4096), ==, -EIO);
    g_assert_cmpint(block_backend_write_zeroes(bb, LINUX_AT, 512), ==, -EIO);
    g_assert_cmpint(block_backend_discard(bb, FREE_AT, 512), ==, -EIO);
    /* Rate-limited: one message a second at most. */
    if (g_get_monotonic_time() - t0 < G_USEC_PER_SEC / 2)
        g_assert_cmpuint(warnings, ==, 1);
    assert_view(bb, view);

    /* Out of the disk: refused before any routing. */
    g_assert_cmpint(bb_write(bb, buf, 1024, DISK_SIZE - 512), ==, -EINVAL);
    struct iovec v = { buf, 1024 };
    g_assert_cmpint(block_backend_preadv(bb, &v, 1, DISK_SIZE), ==, -EINVAL);

    /* Write-zeroes in the ESP, and across the Windows partition's end
     * into the masked area (refused), then inside it. */
    g_assert_cmpint(block_backend_write_zeroes(bb, ESP_AT + 64 * KIB, 64 * KIB), ==, 0);
    memset(view + ESP_AT + 64 * KIB, 0, 64 * KIB);
    g_assert_cmpint(block_backend_write_zeroes(bb, LINUX_AT - 64 * KIB, 128 * KIB), ==, -EIO);
    g_assert_cmpint(block_backend_write_zeroes(bb, WIN_AT + 128 * KIB, 128 * KIB), ==, 0);
    memset(view + WIN_AT + 128 * KIB, 0, 128 * KIB);
    g_assert_cmpint(block_backend_flush(bb), ==, 0);
    assert_view(bb, view);
    return g_steal_pointer(&view);
}

static void test_trial(void)
{
    struct fixture f;
    make_fixture(&f, "trial");
    struct block_backend *bb = open_disk(f.map);
    g_assert_cmpint(open_mode_of(f.device), ==, O_RDONLY);
    g_autofree uint8_t *view = exercise(bb, &f);
    /* A discard in trial mode drops the overlay's copy: zeros. */
    g_assert_cmpint(block_backend_discard(bb, REC_AT + 128 * KIB, 64 * KIB), ==, 0);
    memset(view + REC_AT + 128 * KIB, 0, 64 * KIB);
    assert_view(bb, view);
    block_backend_close(bb);

    /* The device is untouched; the overlays are clean and keep the
     * writes, which a second run sees. */
    g_autofree uint8_t *dev = read_file(f.device, DISK_SIZE);
    g_assert_true(memcmp(dev, f.original, DISK_SIZE) == 0);
    test_qcow2_assert_clean(f.esp);
    test_qcow2_assert_clean(f.trial);
    bb = open_disk(f.map);
    assert_view(bb, view);
    block_backend_close(bb);

    /* The trial overlay alone (no backing in its header) holds the
     * Windows partition's written clusters (the rest of a cluster is
     * copied from the device), the ESP overlay the ESP's. */
    g_autofree char *raw = path_in("trial.raw");
    g_autofree char *args = g_strdup_printf("convert -f qcow2 -O raw %s %s", f.trial, raw);
    test_qemu_img_ok(args);
    g_autofree uint8_t *trial = read_file(raw, DISK_SIZE);
    g_assert_cmpmem(trial + WIN_AT, 64 * KIB, view + WIN_AT, 64 * KIB);
    g_assert_cmpmem(trial + WIN_AT + 128 * KIB, 128 * KIB, view + WIN_AT + 128 * KIB, 128 * KIB);
    g_assert_cmpmem(trial + REC_AT, 64 * KIB, view + REC_AT, 64 * KIB);
    g_free(args);
    args = g_strdup_printf("convert -f qcow2 -O raw %s %s", f.esp, raw);
    test_qemu_img_ok(args);
    g_autofree uint8_t *esp = read_file(raw, DISK_SIZE);
    g_assert_cmpmem(esp + WIN_AT - 64 * KIB, 64 * KIB, view + WIN_AT - 64 * KIB, 64 * KIB);
    g_assert_cmpmem(esp + ESP_AT + 64 * KIB, 64 * KIB, view + ESP_AT + 64 * KIB, 64 * KIB);
    g_unlink(raw);
    free_fixture(&f);
}

static void test_real(void)
{
    struct fixture f;
    make_fixture(&f, "real");
    struct block_backend *bb = open_disk(f.map);
    g_assert_cmpint(open_mode_of(f.device), ==, O_RDWR);
    g_autofree uint8_t *view = exercise(bb, &f);
    /* A discard of a passed-through partition is ignored in real mode. */
    g_assert_cmpint(block_backend_discard(bb, REC_AT, 128 * KIB), ==, 0);
    assert_view(bb, view);
    block_backend_close(bb);

    /* The device took the pass ranges' writes and nothing else. */
    g_autofree uint8_t *dev = read_file(f.device, DISK_SIZE);
    g_autofree uint8_t *expect = g_memdup2(f.original, DISK_SIZE);
    memcpy(expect + WIN_AT, view + WIN_AT, LINUX_AT - WIN_AT);
    memcpy(expect + REC_AT, view + REC_AT, FREE_AT - REC_AT);
    for (uint64_t i = 0; i < DISK_SIZE; i += 512)
        if (memcmp(dev + i, expect + i, 512))
            g_error("device byte %" G_GUINT64_FORMAT " is not as expected", i);
    g_assert_true(memcmp(dev + ESP_AT, f.original + ESP_AT, WIN_AT - ESP_AT) == 0);
    test_qcow2_assert_clean(f.esp);
    test_qcow2_assert_clean(f.trial);
    /* The trial overlay is not used in real mode. */
    g_autofree char *out = NULL;
    test_run(&out, "qemu-img map -f qcow2 --output=json %s", f.trial);
    g_assert_null(strstr(out, "\"data\": true"));
    bb = open_disk(f.map);
    assert_view(bb, view);
    block_backend_close(bb);
    free_fixture(&f);
}

static void expect_open_error(const char *map_text, const char *message)
{
    g_autofree char *map = path_in("bad.map");
    g_assert_true(g_file_set_contents(map, map_text, -1, NULL));
    g_autoptr(GError) error = NULL;
    g_assert_null(block_open(map, DISK_FORMAT_SYNTHETIC, false, &error));
    g_assert_nonnull(error);
    if (!strstr(error->message, message))
        g_error("expected '%s', got '%s'", message, error->message);
}

static void test_open_refusals(void)
{
    struct fixture f;
    make_fixture(&f, "trial");
    g_autofree char *named = path_in("named.qcow2");
    g_autofree char *small = path_in("small.qcow2");
    g_autofree char *args = g_strdup_printf("create -q -f qcow2 -b disk.img -F raw %s", named);
    test_qemu_img_ok(args);
    g_free(args);
    args = g_strdup_printf("create -q -f qcow2 %s %llu", small, DISK_SIZE - MIB);
    test_qemu_img_ok(args);

    g_autofree char *t = NULL;
#define TRY(fmt, ...) (g_free(t), t = g_strdup_printf(fmt, __VA_ARGS__))
    expect_open_error(TRY("device = %s\nmode = trial\ntrial-overlay = %s\n", f.device, named),
                      "names a backing file");
    expect_open_error(TRY("device = %s\nmode = real\nesp-overlay = %s\nesp = 0 512\n", f.device,
                          small),
                      "virtual size of 3145728 bytes; it must be that of");
    expect_open_error(TRY("device = %s\nmode = trial\ntrial-overlay = missing.qcow2\n", f.device),
                      "trial-overlay: Cannot open disk image");
    expect_open_error(TRY("device = %s\nmode = real\ntrial-overlay = missing.qcow2\n"
                          "esp-overlay = %s\n", f.device, f.device),
                      "esp-overlay: Disk image");
    expect_open_error(TRY("device = %s/none.img\nmode = real\n", dir), "none.img");
    expect_open_error(TRY("device = %s\nmode = real\npass = 0 512\npass = 4194304 512\n",
                          f.device),
                      "line 4: the range ends at byte 4194816, beyond the end of");
    expect_open_error(TRY("device = %s\nmode = real\nbogus = 1\n", f.device), "line 3: unknown key");
#undef TRY
    g_autoptr(GError) error = NULL;
    g_autofree char *none = path_in("none.map");
    g_assert_null(block_open(none, DISK_FORMAT_SYNTHETIC, false, &error));
    g_assert_nonnull(strstr(error->message, "Cannot read synthetic disk map"));
    g_clear_error(&error);
    /* The refused opens left nothing open. */
    g_assert_cmpint(open_mode_of(f.device), ==, -1);

    /* Read-only: everything is, and guest writes fail. */
    struct block_backend *bb = block_open(f.map, DISK_FORMAT_SYNTHETIC, true, &error);
    g_assert_no_error(error);
    g_assert_true(bb->readonly);
    uint8_t buf[512] = { 1 };
    g_assert_cmpint(bb_write(bb, buf, 512, WIN_AT), ==, -EROFS);
    block_backend_close(bb);
    free_fixture(&f);
}

/* A block device (a loop device over an image) is held with O_EXCL for
 * the disk's lifetime, and refused as in use while someone else holds it.
 * Needs root and loop devices; skipped without them. */
static void test_exclusive(void)
{
    if (geteuid() != 0) {
        g_test_skip("needs root for a loop device");
        return;
    }
    g_autofree char *img = path_in("loop.img");
    g_assert_true(g_file_set_contents(img, "", 0, NULL));
    g_assert_cmpint(truncate(img, 4 * MIB), ==, 0);
    g_autofree char *loop = NULL;
    if (test_run(&loop, "losetup -f --show %s", img) != 0) {
        g_test_skip("no loop device");
        return;
    }
    g_strstrip(loop);
    g_autofree char *map = path_in("loop.map");
    g_autofree char *text = g_strdup_printf("device = %s\nmode = real\npass = 0 %llu\n", loop, MIB);
    g_assert_true(g_file_set_contents(map, text, -1, NULL));

    int mine = open(loop, O_RDONLY | O_EXCL | O_CLOEXEC);
    g_assert_cmpint(mine, >=, 0);
    g_autoptr(GError) error = NULL;
    g_assert_null(block_open(map, DISK_FORMAT_SYNTHETIC, false, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_BUSY);
    g_assert_nonnull(strstr(error->message, "is in use"));
    g_assert_nonnull(strstr(error->message, loop));
    g_clear_error(&error);
    close(mine);

    struct block_backend *bb = block_open(map, DISK_FORMAT_SYNTHETIC, false, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(bb->size, ==, 4 * MIB);
    int other = open(loop, O_RDONLY | O_EXCL | O_CLOEXEC);
    int e = errno;
    if (other >= 0)
        close(other);
    g_assert_cmpint(other, ==, -1);
    g_assert_cmpint(e, ==, EBUSY);
    block_backend_close(bb);
    other = open(loop, O_RDONLY | O_EXCL | O_CLOEXEC);
    g_assert_cmpint(other, >=, 0);
    close(other);
    test_run(NULL, "losetup -d %s", loop);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_autofree char *qemu_img = g_find_program_in_path("qemu-img");
    if (!qemu_img) {
        g_test_skip("qemu-img (qemu-utils) is not installed");
        return 77;
    }
    /* Refused writes warn; the tests count those messages. */
    g_log_set_always_fatal(G_LOG_FATAL_MASK);
    g_log_set_default_handler(count_warnings, NULL);
    dir = g_dir_make_tmp("oriel-synthetic-XXXXXX", NULL);
    g_assert_nonnull(dir);
    g_test_add_func("/synthetic/map/good", test_map_good);
    g_test_add_func("/synthetic/map/refusals", test_map_refusals);
    g_test_add_func("/synthetic/map/lookup", test_map_lookup);
    g_test_add_func("/synthetic/trial", test_trial);
    g_test_add_func("/synthetic/real", test_real);
    g_test_add_func("/synthetic/open-refusals", test_open_refusals);
    g_test_add_func("/synthetic/exclusive", test_exclusive);
    int ret = g_test_run();
    g_autofree char *cleanup = g_strdup_printf("rm -rf %s", dir);
    if (system(cleanup) != 0)
        ret = 1;
    return ret;
}
