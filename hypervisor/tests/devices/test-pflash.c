/* The CFI flash behind UEFI firmware: the probe OVMF runs at start-up, byte
 * programs, block erases and buffered writes reaching the backing file, the
 * read modes and the memory slot that follows them, the read-only code chip,
 * the SMM-only store, refusals of bad files, and state save and load. */
#include "devices/pflash.h"
#include "core/vm_state.h"
#include "tests/support/test_vm.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>

#define BASE  0xffc00000ull
#define SIZE  (16u * 4096u)
#define BLOCK 4096u

struct fixture {
    char *dir, *path;
    struct vm *vm;
    struct pflash *fl;
    bool smm;
};

static bool fixture_in_smm(void *opaque) { return ((struct fixture *)opaque)->smm; }

/* A file whose bytes are a known pattern (not 0x50, 0x70 or 0). */
static void write_image(const char *path, size_t size)
{
    g_autofree uint8_t *data = g_malloc(size);
    for (size_t i = 0; i < size; i++)
        data[i] = (uint8_t)(0xa0 + i % 7);
    g_assert_true(g_file_set_contents(path, (const char *)data, (gssize)size, NULL));
}

static void setup(struct fixture *f, bool readonly, bool secure)
{
    f->dir = g_dir_make_tmp("pflash-XXXXXX", NULL);
    f->path = g_build_filename(f->dir, "vars.fd", NULL);
    write_image(f->path, SIZE);
    f->vm = test_vm_new(16 << 20);
    test_vm_record_slots(f->vm);
    struct pflash_config c = {
        .name = "pflash1", .path = f->path, .base = BASE, .block_size = BLOCK,
        .readonly = readonly, .secure = secure, .in_smm = fixture_in_smm, .smm_opaque = f,
    };
    g_autoptr(GError) error = NULL;
    f->fl = pflash_create(f->vm, &c, &error);
    g_assert_no_error(error);
    g_assert_nonnull(f->fl);
    /* As a machine registers it. */
    vm_state_register(f->vm, "pflash1", &pflash_state_ops, f->fl);
    vm_add_reset_handler(f->vm, pflash_reset, f->fl);
}

static void teardown(struct fixture *f)
{
    pflash_free(f->fl);
    test_vm_free(f->vm);
    g_unlink(f->path);
    g_rmdir(f->dir);
    g_free(f->path);
    g_free(f->dir);
}

static uint8_t rd(struct fixture *f, uint64_t off) { return (uint8_t)test_mmio_read(f->vm, BASE + off, 1); }
static void wr(struct fixture *f, uint64_t off, uint8_t v) { test_mmio_write(f->vm, BASE + off, v, 1); }

static uint8_t file_byte(struct fixture *f, uint64_t off)
{
    g_autofree char *data = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(f->path, &data, &len, NULL));
    g_assert_cmpuint(len, ==, SIZE);
    return (uint8_t)data[off];
}

/* OVMF's flash detection, step by step: clear status must not read back as
 * written (RAM), read status must then give a cleared status (flash). */
static void test_ovmf_probe(void)
{
    struct fixture f = { 0 };
    setup(&f, false, false);
    uint8_t original = rd(&f, 0);
    g_assert_cmphex(original, ==, 0xa0);
    wr(&f, 0, PFLASH_CMD_CLEAR_STATUS);
    g_assert_cmphex(rd(&f, 0), !=, PFLASH_CMD_CLEAR_STATUS);
    wr(&f, 0, PFLASH_CMD_READ_STATUS);
    g_assert_cmphex(rd(&f, 0), ==, 0x00);
    wr(&f, 0, PFLASH_CMD_READ_ARRAY);
    g_assert_cmphex(rd(&f, 0), ==, original);
    teardown(&f);
}

static void test_program_and_erase(void)
{
    struct fixture f = { 0 };
    setup(&f, false, false);
    /* As OVMF writes: program command then data, byte by byte, then back
     * to read array on the last byte. */
    const uint8_t msg[] = { 'v', 'a', 'r', 's' };
    for (unsigned i = 0; i < sizeof msg; i++) {
        wr(&f, 0x2000 + i, PFLASH_CMD_PROGRAM);
        wr(&f, 0x2000 + i, msg[i]);
        g_assert_cmphex(rd(&f, 0x2000 + i) & PFLASH_STATUS_READY, ==, PFLASH_STATUS_READY);
    }
    wr(&f, 0x2003, PFLASH_CMD_READ_ARRAY);
    for (unsigned i = 0; i < sizeof msg; i++) {
        g_assert_cmphex(rd(&f, 0x2000 + i), ==, msg[i]);
        g_assert_cmphex(file_byte(&f, 0x2000 + i), ==, msg[i]);
    }
    g_assert_cmpmem(pflash_contents(f.fl) + 0x2000, 4, msg, 4);

    /* Erase the block holding them: the whole 4 KiB block reads 0xff, in
     * memory and in the file; the blocks around it are untouched. */
    wr(&f, 0x2010, PFLASH_CMD_ERASE);
    wr(&f, 0x2010, PFLASH_CMD_CONFIRM);
    g_assert_cmphex(rd(&f, 0x2010), ==, PFLASH_STATUS_READY);
    wr(&f, 0, PFLASH_CMD_READ_ARRAY);
    g_assert_cmphex(rd(&f, 0x2000), ==, 0xff);
    g_assert_cmphex(rd(&f, 0x2fff), ==, 0xff);
    g_assert_cmphex(file_byte(&f, 0x2000), ==, 0xff);
    g_assert_cmphex(file_byte(&f, 0x2fff), ==, 0xff);
    g_assert_cmphex(file_byte(&f, 0x1fff), !=, 0xff);
    g_assert_cmphex(file_byte(&f, 0x3000), !=, 0xff);

    /* An erase not confirmed is a command sequence error and erases nothing. */
    wr(&f, 0x3000, PFLASH_CMD_ERASE);
    wr(&f, 0x3000, 0x42);
    g_assert_cmphex(rd(&f, 0x3000) & 0x30, ==, 0x30);
    wr(&f, 0, PFLASH_CMD_CLEAR_STATUS);
    wr(&f, 0, PFLASH_CMD_READ_STATUS);
    g_assert_cmphex(rd(&f, 0), ==, 0);
    wr(&f, 0, PFLASH_CMD_READ_ARRAY);
    g_assert_cmphex(rd(&f, 0x3000), !=, 0xff);
    teardown(&f);
}

static void test_write_buffer(void)
{
    struct fixture f = { 0 };
    setup(&f, false, false);
    wr(&f, 0x100, PFLASH_CMD_WRITE_BUFFER);
    g_assert_cmphex(rd(&f, 0x100) & PFLASH_STATUS_READY, ==, PFLASH_STATUS_READY);
    wr(&f, 0x100, 7);                   /* 8 bytes follow */
    test_mmio_write(f.vm, BASE + 0x100, 0x0706050403020100ull, 8);
    wr(&f, 0x100, PFLASH_CMD_CONFIRM);
    wr(&f, 0, PFLASH_CMD_READ_ARRAY);
    g_assert_cmphex(test_mmio_read(f.vm, BASE + 0x100, 8), ==, 0x0706050403020100ull);
    g_assert_cmphex(file_byte(&f, 0x107), ==, 7);

    /* Data outside the buffer's window, or more than announced: an error,
     * nothing programmed. */
    wr(&f, 0x200, PFLASH_CMD_WRITE_BUFFER);
    wr(&f, 0x200, 0);                   /* one byte */
    test_mmio_write(f.vm, BASE + 0x200, 0xffffffffu, 4);
    g_assert_cmphex(rd(&f, 0x200) & 0x30, ==, 0x30);
    wr(&f, 0x200, PFLASH_CMD_WRITE_BUFFER);
    wr(&f, 0x200, 0);
    wr(&f, 0x200 + 4096, 0x11);
    g_assert_cmphex(rd(&f, 0x200) & 0x30, ==, 0x30);
    wr(&f, 0, PFLASH_CMD_CLEAR_STATUS);
    wr(&f, 0, PFLASH_CMD_READ_ARRAY);
    g_assert_cmphex(rd(&f, 0x200), ==, file_byte(&f, 0x200));
    g_assert_cmphex(rd(&f, 0x200), !=, 0x11);
    teardown(&f);
}

static void test_read_modes_and_slot(void)
{
    struct fixture f = { 0 };
    setup(&f, false, false);
    /* Read-array mode: the chip is a read-only memory slot over its contents. */
    const struct test_slot *s = test_vm_slot_at(f.vm, BASE);
    g_assert_nonnull(s);
    g_assert_true(s->readonly);
    g_assert_cmpuint(s->size, ==, SIZE);
    g_assert_true(s->hva == pflash_contents(f.fl));

    wr(&f, 0, PFLASH_CMD_READ_ID);
    g_assert_null(test_vm_slot_at(f.vm, BASE));
    g_assert_cmphex(rd(&f, 0), ==, 0x89);
    wr(&f, 0, PFLASH_CMD_CFI_QUERY);
    g_assert_cmphex(test_mmio_read(f.vm, BASE + 0x10, 2), ==, 'Q' | 'R' << 8);
    g_assert_cmphex(rd(&f, 0x12), ==, 'Y');
    g_assert_cmphex(rd(&f, 0x13), ==, 0x01);        /* Intel command set */
    g_assert_cmphex(rd(&f, 0x27), ==, 16);          /* 2^16 bytes */
    g_assert_cmphex(rd(&f, 0x2d), ==, SIZE / BLOCK - 1);
    g_assert_cmphex(rd(&f, 0x2f) | rd(&f, 0x30) << 8, ==, BLOCK >> 8);
    wr(&f, 0, PFLASH_CMD_READ_ARRAY);
    g_assert_nonnull(test_vm_slot_at(f.vm, BASE));

    /* A reset leaves any mode for read array, slot mapped. */
    wr(&f, 0, PFLASH_CMD_READ_STATUS);
    g_assert_null(test_vm_slot_at(f.vm, BASE));
    test_vm_platform_reset(f.vm);
    g_assert_nonnull(test_vm_slot_at(f.vm, BASE));
    g_assert_cmphex(rd(&f, 0), ==, 0xa0);

    /* Past the end of the chip is not its to answer. */
    g_assert_cmphex(test_mmio_read(f.vm, BASE + SIZE, 1), ==, 0xff);
    teardown(&f);
}

static void test_readonly(void)
{
    struct fixture f = { 0 };
    setup(&f, true, false);
    wr(&f, 0x10, PFLASH_CMD_PROGRAM);
    wr(&f, 0x10, 0x00);
    wr(&f, 0x1000, PFLASH_CMD_ERASE);
    wr(&f, 0x1000, PFLASH_CMD_CONFIRM);
    g_assert_cmphex(rd(&f, 0x10), ==, 0xa0 + 0x10 % 7);
    g_assert_cmphex(file_byte(&f, 0x10), ==, 0xa0 + 0x10 % 7);
    g_assert_cmphex(file_byte(&f, 0x1000), !=, 0xff);
    g_assert_nonnull(test_vm_slot_at(f.vm, BASE));
    teardown(&f);
}

static void test_secure(void)
{
    struct fixture f = { 0 };
    setup(&f, false, true);
    /* Outside SMM: the store cannot be changed. */
    wr(&f, 0x10, PFLASH_CMD_PROGRAM);
    wr(&f, 0x10, 0x00);
    wr(&f, 0x1000, PFLASH_CMD_ERASE);
    wr(&f, 0x1000, PFLASH_CMD_CONFIRM);
    g_assert_cmphex(file_byte(&f, 0x10), ==, 0xa0 + 0x10 % 7);
    g_assert_cmphex(file_byte(&f, 0x1000), !=, 0xff);
    g_assert_cmphex(rd(&f, 0x10), ==, 0xa0 + 0x10 % 7);

    /* In SMM it can; while SMM has a command open, code outside SMM still
     * reads the array, never the command's status. */
    f.smm = true;
    wr(&f, 0x10, PFLASH_CMD_PROGRAM);
    f.smm = false;
    g_assert_cmphex(rd(&f, 0x10), ==, 0xa0 + 0x10 % 7);
    wr(&f, 0x10, 0x55);                 /* dropped: not from SMM */
    f.smm = true;
    wr(&f, 0x10, 0x42);
    g_assert_cmphex(rd(&f, 0x10), ==, PFLASH_STATUS_READY);
    wr(&f, 0x10, PFLASH_CMD_READ_ARRAY);
    f.smm = false;
    g_assert_cmphex(rd(&f, 0x10), ==, 0x42);
    g_assert_cmphex(file_byte(&f, 0x10), ==, 0x42);
    teardown(&f);
}

static void test_bad_files(void)
{
    g_autofree char *dir = g_dir_make_tmp("pflash-XXXXXX", NULL);
    g_autofree char *missing = g_build_filename(dir, "missing.fd", NULL);
    g_autofree char *odd = g_build_filename(dir, "odd.fd", NULL);
    g_autofree char *empty = g_build_filename(dir, "empty.fd", NULL);
    write_image(odd, 1000);
    write_image(empty, 0);
    struct vm *vm = test_vm_new(16 << 20);
    struct pflash_config c = { .name = "pflash0", .base = BASE, .block_size = BLOCK, .readonly = true };
    g_autoptr(GError) error = NULL;

    c.path = missing;
    g_assert_null(pflash_create(vm, &c, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, missing));
    g_clear_error(&error);

    c.path = odd;
    g_assert_null(pflash_create(vm, &c, &error));
    g_assert_nonnull(strstr(error->message, odd));
    g_assert_nonnull(strstr(error->message, "1000 bytes"));
    g_clear_error(&error);

    c.path = empty;
    g_assert_null(pflash_create(vm, &c, &error));
    g_assert_nonnull(strstr(error->message, empty));
    g_clear_error(&error);

    /* A read-write store in a file that cannot be written. */
    c.path = odd;
    write_image(odd, SIZE);
    g_assert_cmpint(g_chmod(odd, 0400), ==, 0);
    c.readonly = false;
    struct pflash *fl = pflash_create(vm, &c, &error);
    if (getuid() != 0) {    /* root writes anyway */
        g_assert_null(fl);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
        g_assert_nonnull(strstr(error->message, odd));
        g_clear_error(&error);
    } else {
        g_assert_nonnull(fl);
        /* Overlapping a chip already there is refused. */
        g_assert_null(pflash_create(vm, &c, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS);
        g_clear_error(&error);
        pflash_free(fl);
    }
    test_vm_free(vm);
    g_unlink(missing);
    g_unlink(odd);
    g_unlink(empty);
    g_rmdir(dir);
}

static const struct vm_state_entry *entry_named(struct vm *vm, const char *name,
                                                GPtrArray **keep)
{
    *keep = vm_state_entries(vm_state_registry_of(vm));
    for (guint i = 0; i < (*keep)->len; i++) {
        const struct vm_state_entry *e = g_ptr_array_index(*keep, i);
        if (g_str_equal(e->name, name))
            return e;
    }
    g_assert_not_reached();
}

static void test_state(void)
{
    struct fixture f = { 0 };
    setup(&f, false, false);
    g_autoptr(GPtrArray) entries = NULL;
    const struct vm_state_entry *e = entry_named(f.vm, "pflash1", &entries);
    g_autoptr(GError) error = NULL;

    wr(&f, 0x40, PFLASH_CMD_PROGRAM);
    wr(&f, 0x40, 0x33);
    wr(&f, 0x40, PFLASH_CMD_READ_STATUS);
    struct state_out o;
    state_out_init(&o);
    g_assert_true(e->ops->save(e->opaque, &o, &error));

    /* The guest goes on: the variable changes, the mode too. */
    wr(&f, 0x40, PFLASH_CMD_PROGRAM);
    wr(&f, 0x40, 0x44);
    wr(&f, 0x40, PFLASH_CMD_READ_ARRAY);
    g_assert_cmphex(file_byte(&f, 0x40), ==, 0x44);

    /* Loading brings back the saved variables, in memory and in the file,
     * and the status read mode (no slot). */
    struct state_in in;
    state_in_init(&in, o.buf->data, o.buf->len, "pflash1");
    g_assert_true(e->ops->load(e->opaque, &in, 1, &error));
    g_assert_no_error(error);
    g_assert_null(test_vm_slot_at(f.vm, BASE));
    g_assert_cmphex(rd(&f, 0x40), ==, PFLASH_STATUS_READY);
    wr(&f, 0, PFLASH_CMD_READ_ARRAY);
    g_assert_cmphex(rd(&f, 0x40), ==, 0x33);
    g_assert_cmphex(file_byte(&f, 0x40), ==, 0x33);

    /* Truncated, and a mode out of range: refused, nothing changed. */
    state_in_init(&in, o.buf->data, o.buf->len - 1, "pflash1");
    g_assert_false(e->ops->load(e->opaque, &in, 1, &error));
    g_clear_error(&error);
    o.buf->data[0] = 9;
    state_in_init(&in, o.buf->data, o.buf->len, "pflash1");
    g_assert_false(e->ops->load(e->opaque, &in, 1, &error));
    g_assert_nonnull(strstr(error->message, "out of range"));
    g_clear_error(&error);
    g_assert_nonnull(test_vm_slot_at(f.vm, BASE));
    state_out_clear(&o);
    teardown(&f);
}

static void test_state_code_digest(void)
{
    struct fixture f = { 0 };
    setup(&f, true, false);
    g_autoptr(GPtrArray) entries = NULL;
    const struct vm_state_entry *e = entry_named(f.vm, "pflash1", &entries);
    g_autoptr(GError) error = NULL;
    struct state_out o;
    state_out_init(&o);
    g_assert_true(e->ops->save(e->opaque, &o, &error));
    /* Only the digest of the code is saved, not the image. */
    g_assert_cmpuint(o.buf->len, <, 1024);
    struct state_in in;
    state_in_init(&in, o.buf->data, o.buf->len, "pflash1");
    g_assert_true(e->ops->load(e->opaque, &in, 1, &error));
    /* Another firmware build under the same name: refused, naming it. */
    o.buf->data[o.buf->len - 1] ^= 1;
    state_in_init(&in, o.buf->data, o.buf->len, "pflash1");
    g_assert_false(e->ops->load(e->opaque, &in, 1, &error));
    g_assert_nonnull(strstr(error->message, f.path));
    state_out_clear(&o);
    teardown(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pflash/ovmf-probe", test_ovmf_probe);
    g_test_add_func("/pflash/program-and-erase", test_program_and_erase);
    g_test_add_func("/pflash/write-buffer", test_write_buffer);
    g_test_add_func("/pflash/read-modes-and-slot", test_read_modes_and_slot);
    g_test_add_func("/pflash/readonly", test_readonly);
    g_test_add_func("/pflash/secure", test_secure);
    g_test_add_func("/pflash/bad-files", test_bad_files);
    g_test_add_func("/pflash/state", test_state);
    g_test_add_func("/pflash/state-code-digest", test_state_code_digest);
    return g_test_run();
}
