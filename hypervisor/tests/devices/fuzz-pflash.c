/* libFuzzer target: the UEFI variable flash driven by a program read from the
 * input: byte and wide writes and reads anywhere in (and past) the chip, from
 * inside or outside SMM, on a plain or a secure chip.  Every command
 * sequence, buffered writes with any count and addresses among them, must
 * stay inside the chip's contents; the sanitizers catch anything else. */
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "devices/pflash.h"
#include "tests/support/test_vm.h"

#define BASE 0xffc00000ull
#define SIZE (8u * 4096u)

struct cursor { const uint8_t *p; size_t left; };

static uint64_t take(struct cursor *c, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && c->left; i++, c->p++, c->left--)
        v |= (uint64_t)*c->p << (8 * i);
    return v;
}

static bool smm;
static bool in_smm(void *opaque) { return smm; }

/* One backing file per process, kept between runs: the chip only ever
 * writes within its own size. */
static const char *image_path(void)
{
    static char *path;
    if (!path) {
        path = g_build_filename(g_get_tmp_dir(), "fuzz-pflash-XXXXXX", NULL);
        int fd = g_mkstemp(path);
        g_assert(fd >= 0);
        g_assert(ftruncate(fd, SIZE) == 0);
        close(fd);
    }
    return path;
}

static const uint8_t commands[] = { 0xff, 0x00, 0x90, 0x98, 0x70, 0x50, 0x10, 0x40,
                                    0x20, 0xe8, 0xd0, 0x60, 0x01, 0xb0 };

/* A dropped write is logged once per chip, which here is once per run. */
static void quiet(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data) { }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cursor c = { data, size };
    g_log_set_default_handler(quiet, NULL);
    uint8_t flags = (uint8_t)take(&c, 1);
    struct vm *vm = test_vm_new(16 << 20);
    if (flags & 1)
        test_vm_record_slots(vm);
    struct pflash_config cfg = {
        .name = "pflash1", .path = image_path(), .base = BASE, .block_size = 4096,
        .secure = flags & 2, .in_smm = in_smm,
    };
    struct pflash *fl = pflash_create(vm, &cfg, NULL);
    g_assert(fl);
    vm_add_reset_handler(vm, pflash_reset, fl);
    while (c.left) {
        uint8_t op = (uint8_t)take(&c, 1);
        smm = op & 0x80;
        unsigned width = 1u << ((op >> 4) & 3);
        uint64_t off = (op & 8) ? take(&c, 2) % (SIZE + 64) : SIZE - 1 - take(&c, 1);
        uint64_t value = (op & 4) ? commands[take(&c, 1) % sizeof commands] : take(&c, width);
        if (op & 1)
            test_mmio_read(vm, BASE + off, width);
        else
            test_mmio_write(vm, BASE + off, value, width);
        if ((op & 0x7) == 0x7)
            test_vm_platform_reset(vm);
    }
    pflash_free(fl);
    test_vm_free(vm);
    return 0;
}
