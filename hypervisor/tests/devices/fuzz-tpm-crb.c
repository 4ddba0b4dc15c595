/* libFuzzer target: the TPM CRB registers and buffer driven by a program
 * read from the input (register writes and reads of every width, buffer
 * contents with any command size, resets), against a backend that answers
 * each command with a response whose size the input chooses.  The
 * interface must never read or write outside its buffer. */
#include <string.h>
#include <gio/gio.h>

#include "devices/tpm_crb.h"
#include "tests/support/test_vm.h"

struct cursor { const uint8_t *p; size_t left; };

static uint64_t take(struct cursor *c, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && c->left; i++, c->p++, c->left--)
        v |= (uint64_t)*c->p << (8 * i);
    return v;
}

/* The response size a command gets: its first two payload bytes. */
struct echo { struct tpm_backend base; };

static bool echo_startup(struct tpm_backend *be, size_t size, GError **error) { return true; }
static bool echo_transmit(struct tpm_backend *be, uint8_t loc, const uint8_t *cmd, size_t len,
                          uint8_t *resp, size_t resp_max, size_t *resp_len, GError **error)
{
    g_assert(len >= 10 && len <= TPM_CRB_DATA_SIZE);
    size_t n = len > 11 ? ((size_t)cmd[10] << 8 | cmd[11]) : 10;
    if (n < 10 || n > resp_max) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "bad size");
        return false;
    }
    memset(resp, 0xa5, n);
    resp[2] = 0, resp[3] = 0, resp[4] = (uint8_t)(n >> 8), resp[5] = (uint8_t)n;
    *resp_len = n;
    return true;
}
static GBytes *echo_get_state(struct tpm_backend *be, GError **error) { return g_bytes_new("s", 1); }
static bool echo_set_state(struct tpm_backend *be, GBytes *s, size_t size, GError **error) { return true; }
static void echo_free(struct tpm_backend *be) { g_free(be); }
static const struct tpm_backend_ops echo_ops = {
    echo_startup, echo_transmit, echo_get_state, echo_set_state, echo_free,
};

static void quiet(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data) { }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cursor c = { data, size };
    g_log_set_default_handler(quiet, NULL);
    struct vm *vm = test_vm_new(16 << 20);
    struct echo *be = g_new0(struct echo, 1);
    be->base.ops = &echo_ops;
    struct tpm_crb *crb = tpm_crb_create(vm, &be->base, NULL);
    g_assert(crb);
    vm_add_reset_handler(vm, tpm_crb_reset, crb);
    while (c.left) {
        uint8_t op = (uint8_t)take(&c, 1);
        unsigned width = 1u << (op & 3);
        uint64_t off = take(&c, 2) % (TPM_CRB_SIZE + 16);
        off -= off % width;
        switch ((op >> 2) & 7) {
        case 0: case 1:
            test_mmio_write(vm, TPM_CRB_BASE + off, take(&c, width), width);
            break;
        case 2:
            test_mmio_read(vm, TPM_CRB_BASE + off, width);
            break;
        case 3: /* the usual handshake, then start */
            test_mmio_write(vm, TPM_CRB_BASE + TPM_CRB_LOC_CTRL, 1, 4);
            test_mmio_write(vm, TPM_CRB_BASE + TPM_CRB_CTRL_REQ, 1, 4);
            test_mmio_write(vm, TPM_CRB_BASE + TPM_CRB_CTRL_START, 1, 4);
            break;
        case 4: /* wait for the command to finish */
            while (test_mmio_read(vm, TPM_CRB_BASE + TPM_CRB_CTRL_START, 4) & 1)
                g_usleep(10);
            break;
        case 5:
            test_vm_platform_reset(vm);
            break;
        default: /* a command header with a chosen size */
            test_mmio_write(vm, TPM_CRB_BASE + TPM_CRB_DATA_OFFSET + 2, take(&c, 4), 4);
            break;
        }
    }
    tpm_crb_free(crb);
    test_vm_free(vm);
    return 0;
}
