/* VM state files (SAVE.md): the container round trip, its exact first
 * bytes, the rejection of truncated, corrupted, foreign and future files
 * and of sections longer than the file; the typed section encoding; and
 * device state round trips (UART, RTC, a virtqueue) with loaded values
 * checked like guest writes. */
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "core/state_file.h"
#include "core/state_stream.h"
#include "core/guest_memory.h"
#include "devices/uart16550.h"
#include "devices/rtc_cmos.h"
#include "virtio/virtqueue.h"
#include "core/vm_state.h"
#include "pci/pci.h"
#include "tests/support/test_vm.h"

/* ---- the container ----------------------------------------------------------- */

static char *tmp_path(const char *name)
{
    g_autofree char *dir = g_dir_make_tmp("oriel-state-XXXXXX", NULL);
    g_assert_nonnull(dir);
    return g_build_filename(dir, name, NULL);
}

/* A file with two sections: "alpha" (v3) in two pieces, "beta" (v1). */
static char *write_sample(const char *header)
{
    char *path = tmp_path("sample.sav");
    struct state_file_writer *w = state_file_writer_new();
    static const char part1[] = "hello ", part2[] = "world";
    state_file_writer_begin(w, "alpha", 3);
    state_file_writer_add_ref(w, part1, strlen(part1));
    state_file_writer_add_ref(w, part2, strlen(part2));
    state_file_writer_begin(w, "beta", 1);
    GByteArray *b = g_byte_array_new();
    g_byte_array_append(b, (const guint8 *)"\x01\x02\x03", 3);
    state_file_writer_add_bytes(w, b);
    g_autoptr(GError) error = NULL;
    g_assert_true(state_file_write(w, path, header, &error));
    g_assert_no_error(error);
    state_file_writer_free(w);
    return path;
}

static GByteArray *read_all(const char *path)
{
    gchar *data;
    gsize len;
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    return g_byte_array_new_take((guint8 *)data, len);
}

static void remove_sample(const char *path)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_unlink(path);
    g_rmdir(dir);
}

static void test_round_trip(void)
{
    g_autofree char *path = write_sample("<domain/>");
    g_autoptr(GError) error = NULL;
    g_autoptr(state_file) f = state_file_open(path, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(state_file_header(f), ==, "<domain/>");
    g_assert_cmpuint(state_file_section_count(f), ==, 2);
    const struct state_section *a = state_file_find(f, "alpha");
    g_assert_nonnull(a);
    g_assert_cmpuint(a->version, ==, 3);
    g_assert_cmpmem(a->data, a->len, "hello world", 11);
    const struct state_section *b = state_file_section_at(f, 1);
    g_assert_cmpstr(b->name, ==, "beta");
    g_assert_cmpmem(b->data, b->len, "\x01\x02\x03", 3);
    g_assert_null(state_file_find(f, "gamma"));
    remove_sample(path);
}

/* The daemon reads magic, version and header itself: byte for byte. */
static void test_header_bytes(void)
{
    const char *header = "<domain>\xc3\xa9t\xc3\xa9</domain>";
    g_autofree char *path = write_sample(header);
    g_autoptr(GByteArray) d = read_all(path);
    size_t n = strlen(header);
    g_assert_cmpuint(d->len, >, 16 + n);
    g_assert_cmpmem(d->data, 8, "ORIELSAV", 8);
    g_assert_cmpmem(d->data + 8, 4, "\x01\x00\x00\x00", 4);
    uint8_t len_le[4] = { (uint8_t)n, (uint8_t)(n >> 8), 0, 0 };
    g_assert_cmpmem(d->data + 12, 4, len_le, 4);
    g_assert_cmpmem(d->data + 16, n, header, n);
    remove_sample(path);
}

static void expect_parse_error(GByteArray *d, const char *needle)
{
    g_autoptr(GError) error = NULL;
    struct state_file *f = state_file_parse(d->data, d->len, &error);
    g_assert_null(f);
    g_assert_error(error, STATE_ERROR, STATE_ERROR_FORMAT);
    if (!strstr(error->message, needle))
        g_error("expected '%s' in '%s'", needle, error->message);
}

static void test_truncated(void)
{
    g_autofree char *path = write_sample("hdr");
    g_autoptr(GByteArray) d = read_all(path);
    guint full = d->len;
    /* Every cut past the magic says truncated (or, inside the first
     * bytes, that it is not a complete file). */
    for (guint cut = 0; cut < full; cut++) {
        g_autoptr(GByteArray) c = g_byte_array_new();
        g_byte_array_append(c, d->data, cut);
        expect_parse_error(c, cut < 8 ? "bad magic" : "truncated");
    }
    remove_sample(path);
}

static void test_corrupted(void)
{
    g_autofree char *path = write_sample("hdr");
    g_autoptr(GByteArray) d = read_all(path);
    d->data[d->len - 12] ^= 0x40;   /* inside the section payload */
    expect_parse_error(d, "checksum mismatch");
    remove_sample(path);
}

static void test_bad_magic_and_version(void)
{
    g_autofree char *path = write_sample("hdr");
    g_autoptr(GByteArray) d = read_all(path);
    d->data[0] = 'X';
    expect_parse_error(d, "bad magic");
    d->data[0] = 'O';
    d->data[8] = 2;
    expect_parse_error(d, "unsupported state file format version 2");

    /* A missing file says so through the I/O domain, with its name. */
    g_autoptr(GError) error = NULL;
    g_assert_null(state_file_open("/nonexistent/x.sav", &error));
    g_assert_error(error, STATE_ERROR, STATE_ERROR_IO);
    g_assert_nonnull(strstr(error->message, "/nonexistent/x.sav"));
    remove_sample(path);
}

static void fix_crc(GByteArray *d)
{
    uint32_t crc = state_file_crc(state_file_crc(0, NULL, 0), d->data, d->len - 4);
    for (unsigned i = 0; i < 4; i++)
        d->data[d->len - 4 + i] = (uint8_t)(crc >> (8 * i));
}

/* A section claiming more bytes than the file has, with a valid checksum
 * and size: the reader must not step outside. */
static void test_section_beyond_file(void)
{
    g_autofree char *path = write_sample("");
    g_autoptr(GByteArray) d = read_all(path);
    /* "beta": name length 4, name, u32 version, u64 length. */
    guint8 *beta = memmem(d->data, d->len, "\x04" "beta", 5);
    g_assert_nonnull(beta);
    guint8 *len = beta + 5 + 4;
    len[0] = 0xff;
    len[1] = 0xff;
    fix_crc(d);
    expect_parse_error(d, "longer than the rest of the state file");
    len[0] = 0xff;
    memset(len + 1, 0xff, 7);   /* and one that would wrap around */
    fix_crc(d);
    expect_parse_error(d, "longer than the rest of the state file");
    remove_sample(path);
}

static void test_write_errors(void)
{
    struct state_file_writer *w = state_file_writer_new();
    state_file_writer_begin(w, "alpha", 1);
    g_autoptr(GError) error = NULL;
    g_assert_false(state_file_write(w, "/nonexistent-dir/x.sav", "", &error));
    g_assert_error(error, STATE_ERROR, STATE_ERROR_IO);
    g_assert_cmpstr(error->message, ==,
                    "cannot write /nonexistent-dir/x.sav: No such file or directory");
    state_file_writer_free(w);
}

/* ---- the section encoding ------------------------------------------------------ */

static void test_stream(void)
{
    struct state_out o;
    state_out_init(&o);
    state_out_u8(&o, 0xab);
    state_out_u16(&o, 0x1234);
    state_out_u32(&o, 0xdeadbeef);
    state_out_u64(&o, 0x0102030405060708ull);
    state_out_bool(&o, true);
    g_assert_cmpmem(o.buf->data, 3, "\xab\x34\x12", 3);

    struct state_in in;
    state_in_init(&in, o.buf->data, o.buf->len, "test");
    g_assert_cmpuint(state_in_u8(&in), ==, 0xab);
    g_assert_cmpuint(state_in_u16(&in), ==, 0x1234);
    g_assert_cmpuint(state_in_u32(&in), ==, 0xdeadbeef);
    g_assert_cmpuint(state_in_u64(&in), ==, 0x0102030405060708ull);
    g_assert_true(state_in_bool(&in));
    g_autoptr(GError) error = NULL;
    g_assert_true(state_in_finish(&in, &error));

    /* Reading past the end yields zeros and an error at the finish. */
    state_in_init(&in, o.buf->data, 2, "test");
    g_assert_cmpuint(state_in_u32(&in), ==, 0);
    g_assert_false(state_in_finish(&in, &error));
    g_assert_nonnull(strstr(error->message, "shorter"));
    g_clear_error(&error);

    /* Bytes left over are an error too. */
    state_in_init(&in, o.buf->data, o.buf->len, "test");
    state_in_u8(&in);
    g_assert_false(state_in_finish(&in, &error));
    g_assert_nonnull(strstr(error->message, "more than its fields"));
    state_out_clear(&o);
}

static void test_sparse(void)
{
    size_t len = 5 * 4096 + 100;
    g_autofree uint8_t *data = g_malloc0(len);
    data[4096 + 7] = 1;
    data[len - 1] = 2;
    struct state_out o;
    state_out_init(&o);
    state_out_sparse(&o, data, len);
    g_assert_cmpuint(o.buf->len, ==, 1 + 4096 + 100);   /* bitmap, two pages */
    g_autofree uint8_t *back = g_malloc(len);
    memset(back, 0x55, len);
    struct state_in in;
    state_in_init(&in, o.buf->data, o.buf->len, "sparse");
    g_assert_true(state_in_sparse(&in, back, len));
    g_assert_cmpmem(back, len, data, len);
    state_in_init(&in, o.buf->data, o.buf->len - 1, "sparse");
    g_assert_false(state_in_sparse(&in, back, len));
    state_out_clear(&o);
}

/* ---- devices ----------------------------------------------------------------- */

struct uart_line {
    bool irq;
};

static void uart_irq(void *opaque, bool level) { ((struct uart_line *)opaque)->irq = level; }
static void uart_tx(void *opaque, uint8_t b) { }
static const struct uart16550_ops uart_ops = { .set_irq = uart_irq, .transmit = uart_tx };

static struct state_out save_uart(struct uart16550 *u)
{
    struct state_out o;
    state_out_init(&o);
    g_assert_true(uart16550_save(u, &o, NULL));
    return o;
}

static void test_uart_round_trip(void)
{
    struct uart_line l1 = { 0 }, l2 = { 0 };
    struct uart16550 *a = uart16550_new(&uart_ops, &l1);
    uart16550_write(a, UART_FCR, UART_FCR_ENABLE | 0xc0, 1);   /* FIFO, trigger 14 */
    uart16550_write(a, UART_SCR, 0x5a, 1);
    uart16550_write(a, UART_MCR, UART_MCR_OUT2, 1);
    uart16550_write(a, UART_IER, UART_IER_RDI, 1);
    uart16550_receive(a, (const uint8_t *)"abc", 3);   /* below trigger: timeout irq */
    g_assert_true(l1.irq);
    struct state_out o = save_uart(a);

    struct uart16550 *b = uart16550_new(&uart_ops, &l2);
    struct state_in in;
    state_in_init(&in, o.buf->data, o.buf->len, "com1");
    g_autoptr(GError) error = NULL;
    g_assert_true(uart16550_load(b, &in, 1, &error));
    g_assert_no_error(error);
    g_assert_true(state_in_finish(&in, &error));
    g_assert_true(l2.irq);                   /* the line is driven again */
    g_assert_cmpuint(uart16550_read(b, UART_SCR, 1), ==, 0x5a);
    g_assert_cmpuint(uart16550_read(b, UART_IER, 1), ==, UART_IER_RDI);
    g_assert_cmpuint(uart16550_read(b, UART_IIR, 1) & 0x0f, ==, UART_IIR_CTI);
    g_assert_cmpuint(uart16550_read(b, UART_RBR, 1), ==, 'a');
    g_assert_cmpuint(uart16550_read(b, UART_RBR, 1), ==, 'b');
    g_assert_cmpuint(uart16550_read(b, UART_RBR, 1), ==, 'c');
    g_assert_false(uart16550_read(b, UART_LSR, 1) & UART_LSR_DR);

    /* More bytes in the FIFO than it holds: refused. */
    o.buf->data[9] = 17;
    state_in_init(&in, o.buf->data, o.buf->len, "com1");
    g_assert_false(uart16550_load(b, &in, 1, &error));
    g_assert_nonnull(strstr(error->message, "17 bytes"));
    state_out_clear(&o);
    uart16550_free(a);
    uart16550_free(b);
}

static void rtc_irq(void *opaque, bool level) { }
static int64_t rtc_now(void *opaque) { return *(int64_t *)opaque; }
static const struct rtc_cmos_ops rtc_ops = { .set_irq = rtc_irq, .now_us = rtc_now };

static void rtc_set(struct rtc_cmos *r, uint8_t idx, uint8_t v)
{
    rtc_cmos_io_ops.write(r, 0, idx, 1);
    rtc_cmos_io_ops.write(r, 1, v, 1);
}

static uint8_t rtc_get(struct rtc_cmos *r, uint8_t idx)
{
    rtc_cmos_io_ops.write(r, 0, idx, 1);
    return (uint8_t)rtc_cmos_io_ops.read(r, 1, 1);
}

static void test_rtc_round_trip(void)
{
    int64_t now = 1700000000LL * 1000000;
    struct rtc_cmos *a = rtc_cmos_new(&rtc_ops, &now, NULL);
    rtc_set(a, 0x40, 0x5a);                       /* CMOS RAM */
    rtc_set(a, RTC_REG_B, RTC_B_24H | RTC_B_DM_BINARY);
    rtc_set(a, RTC_HOURS, 7);                     /* the guest's time of day */
    uint8_t minutes = rtc_get(a, RTC_MINUTES);
    struct state_out o;
    state_out_init(&o);
    g_assert_true(rtc_cmos_save(a, &o, NULL));

    struct rtc_cmos *b = rtc_cmos_new(&rtc_ops, &now, NULL);
    struct state_in in;
    state_in_init(&in, o.buf->data, o.buf->len, "rtc");
    g_autoptr(GError) error = NULL;
    g_assert_true(rtc_cmos_load(b, &in, 1, &error));
    g_assert_true(state_in_finish(&in, &error));
    g_assert_cmpuint(rtc_get(b, 0x40), ==, 0x5a);
    g_assert_cmpuint(rtc_get(b, RTC_HOURS), ==, 7);
    g_assert_cmpuint(rtc_get(b, RTC_MINUTES), ==, minutes);
    g_assert_cmpuint(rtc_get(b, RTC_REG_B), ==, RTC_B_24H | RTC_B_DM_BINARY);

    /* A truncated section fails. */
    state_in_init(&in, o.buf->data, o.buf->len - 1, "rtc");
    g_assert_false(rtc_cmos_load(b, &in, 1, &error));
    state_out_clear(&o);
    rtc_cmos_free(a);
    rtc_cmos_free(b);
}

/* ---- a virtqueue ------------------------------------------------------------- */

#define DESC_GPA  0x10000
#define AVAIL_GPA 0x11000
#define USED_GPA  0x12000

static void set16(struct guest_memory *m, uint64_t gpa, uint16_t v)
{
    g_assert_true(guest_memory_write(m, gpa, &v, 2));
}

/* Save a started queue of 16 entries with the driver's avail idx at 5,
 * ours at 3, used idx 3; patch one field of the saved bytes; load. */
static bool load_patched(struct guest_memory *m, size_t off, const void *patch, size_t n,
                         GError **error)
{
    struct virtqueue vq = { .size = 16, .desc_gpa = DESC_GPA, .avail_gpa = AVAIL_GPA,
                            .used_gpa = USED_GPA };
    g_assert_true(virtqueue_start(&vq, m));
    set16(m, AVAIL_GPA + 2, 5);
    set16(m, USED_GPA + 2, 3);
    vq.last_avail = 3;
    vq.used_idx = 3;
    struct state_out o;
    state_out_init(&o);
    virtqueue_save(&vq, &o);
    if (patch)
        memcpy(o.buf->data + off, patch, n);
    struct virtqueue back = { 0 };
    struct state_in in;
    state_in_init(&in, o.buf->data, o.buf->len, "vq");
    bool ok = virtqueue_load(&back, &in, m, 256, error) && state_in_finish(&in, error);
    if (ok) {
        g_assert_true(back.started);
        g_assert_cmpuint(back.last_avail, ==, 3);
        g_assert_cmpuint(back.used_idx, ==, 3);
    }
    state_out_clear(&o);
    return ok;
}

/* Offsets in the encoding: size 0, desc 2, avail 10, used 18, started
 * 26, last_avail 27, used_idx 29. */
static void test_virtqueue(void)
{
    struct guest_memory m;
    g_autoptr(GError) error = NULL;
    g_assert_true(guest_memory_alloc(&m, 16 << 20, &error));
    g_assert_true(load_patched(&m, 0, NULL, 0, &error));
    g_assert_no_error(error);

    static const struct {
        size_t off;
        uint64_t value;
        unsigned n;
        const char *message;
    } bad[] = {
        { 27, 60000, 2, "do not fit the rings" },     /* far behind avail */
        { 27, 6, 2, "do not fit the rings" },         /* ahead of avail */
        { 29, 9, 2, "do not fit the rings" },         /* used idx not the ring's */
        { 0, 3, 2, "virtqueue size 3" },              /* not a power of two */
        { 0, 512, 2, "virtqueue size 512" },          /* above the maximum */
        { 10, 0xfffff000, 8, "outside guest memory" },
        { 2, DESC_GPA + 8, 8, "outside guest memory or misaligned" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        uint8_t v[8];
        for (unsigned j = 0; j < 8; j++)
            v[j] = (uint8_t)(bad[i].value >> (8 * j));
        g_clear_error(&error);
        g_assert_false(load_patched(&m, bad[i].off, v, bad[i].n, &error));
        if (!error || !strstr(error->message, bad[i].message))
            g_error("case %zu: %s", i, error ? error->message : "no error");
    }
    guest_memory_free(&m);
}

/* ---- whole VMs (the test VM: RAM, PCI, no vCPUs) ------------------------------- */

/* RAM and the PCI bus of one test VM saved and loaded into another:
 * written pages come back, pages written only in the target are zeroed. */
static void test_vm_round_trip(void)
{
    g_autofree char *path = tmp_path("vm.sav");
    struct vm *a = test_vm_new(32 << 20), *b = test_vm_new(32 << 20);
    struct pci_bus *ba = pci_bus_create(a), *bb = pci_bus_create(b);
    g_assert_true(guest_memory_write(vm_memory(a), 0x123000, "saved page", 10));
    g_assert_true(guest_memory_write(vm_memory(b), 0x456000, "stale", 5));
    test_pio_write(a, 0xcf8, 0x80000810, 4);      /* a configuration address */
    g_autoptr(GError) err = NULL;
    g_assert_true(vm_state_save(a, path, "hdr", &err));
    g_assert_no_error(err);
    g_assert_true(vm_state_load(b, path, &err));
    g_assert_no_error(err);
    char buf[10];
    g_assert_true(guest_memory_read(vm_memory(b), 0x123000, buf, 10));
    g_assert_cmpmem(buf, 10, "saved page", 10);
    g_assert_true(guest_memory_read(vm_memory(b), 0x456000, buf, 5));
    g_assert_cmpmem(buf, 5, "\0\0\0\0\0", 5);
    g_assert_cmphex(test_pio_read(b, 0xcf8, 4), ==, 0x80000810);

    /* Memory of another size: refused, naming both. */
    struct vm *c = test_vm_new(64 << 20);
    struct pci_bus *bc = pci_bus_create(c);
    g_assert_false(vm_state_load(c, path, &err));
    g_assert_error(err, STATE_ERROR, STATE_ERROR_MISMATCH);
    g_assert_cmpstr(err->message, ==, "saved VM has 32 MiB of memory, this one 64 MiB");
    pci_bus_free(bc);
    test_vm_free(c);
    pci_bus_free(ba);
    pci_bus_free(bb);
    test_vm_free(a);
    test_vm_free(b);
    remove_sample(path);
}

/* A PCI function whose model has no state support: save fails naming
 * it, writes nothing; a VM with it cannot take a file without it. */
static void test_vm_refusal(void)
{
    g_autofree char *path = tmp_path("vm.sav");
    struct vm *vm = test_vm_new(16 << 20);
    struct pci_bus *bus = pci_bus_create(vm);
    struct pci_device dev;
    pci_device_init(&dev, "frobnicator", 0x1234, 0x5678, 0xff0000, 0, 0);
    g_autoptr(GError) err = NULL;
    g_assert_true(pci_register_device(bus, &dev, &err));
    g_assert_false(vm_state_save(vm, path, "", &err));
    g_assert_error(err, STATE_ERROR, STATE_ERROR_UNSUPPORTED);
    g_assert_cmpstr(err->message, ==, "device 'pci:02.0:frobnicator' does not support saving yet");
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_autofree char *dir = g_path_get_dirname(path);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_assert_null(g_dir_read_name(d));             /* no temporary file left */
    pci_unregister_device(&dev);
    pci_bus_free(bus);
    test_vm_free(vm);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vm-state/file/round-trip", test_round_trip);
    g_test_add_func("/vm-state/file/header-bytes", test_header_bytes);
    g_test_add_func("/vm-state/file/truncated", test_truncated);
    g_test_add_func("/vm-state/file/corrupted", test_corrupted);
    g_test_add_func("/vm-state/file/bad-magic-version", test_bad_magic_and_version);
    g_test_add_func("/vm-state/file/section-beyond-file", test_section_beyond_file);
    g_test_add_func("/vm-state/file/write-errors", test_write_errors);
    g_test_add_func("/vm-state/stream/typed", test_stream);
    g_test_add_func("/vm-state/stream/sparse", test_sparse);
    g_test_add_func("/vm-state/device/uart", test_uart_round_trip);
    g_test_add_func("/vm-state/device/rtc", test_rtc_round_trip);
    g_test_add_func("/vm-state/device/virtqueue", test_virtqueue);
    g_test_add_func("/vm-state/vm/round-trip", test_vm_round_trip);
    g_test_add_func("/vm-state/vm/refusal", test_vm_refusal);
    return g_test_run();
}
