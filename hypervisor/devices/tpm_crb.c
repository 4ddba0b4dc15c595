#include "tpm_crb.h"

#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

#include "core/vm_state.h"

#define TPM_HEADER_SIZE 10
#define TPM_ST_NO_SESSIONS 0x8001
#define TPM_RC_FAILURE 0x101
#define TPM_RC_COMMAND_SIZE 0x142

/* Interface identifier: CRB type and version, CRB the only (and selected)
 * interface, 64-byte transfers; vendor 0x1014 as other virtual CRBs. */
#define INTF_ID (1ull << 0 | 1ull << 4 | 3ull << 11 | 1ull << 14 | 1ull << 17 | \
                 0x1014ull << 32 | 0x0001ull << 48)

struct tpm_crb {
    struct vm *vm;
    struct tpm_backend *backend;

    GMutex lock;
    GCond cond;
    GThread *worker;
    bool quit;
    bool pending;           /* a command is queued or running */
    bool warned;

    /* Registers. */
    bool granted;
    uint32_t ctrl_sts;
    uint32_t int_enable;
    uint32_t cancel;
    uint32_t start;
    uint8_t data[TPM_CRB_DATA_SIZE];

    uint8_t cmd[TPM_CRB_DATA_SIZE];     /* the running command, copied */
    size_t cmd_len;
};

static void put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }
static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}
static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A response header alone: the answer to a command that never ran. */
static void error_response(uint8_t *buf, uint32_t rc)
{
    put_be16(buf, TPM_ST_NO_SESSIONS);
    put_be32(buf + 2, TPM_HEADER_SIZE);
    put_be32(buf + 6, rc);
}

static void backend_failed(struct tpm_crb *crb, GError *error)
{
    if (!crb->warned)
        g_warning(_("TPM: %s"), error->message);
    crb->warned = true;
    crb->ctrl_sts |= TPM_CRB_CTRL_STS_FATAL;
}

static gpointer worker_main(gpointer opaque)
{
    struct tpm_crb *crb = opaque;
    g_mutex_lock(&crb->lock);
    for (;;) {
        while (!crb->quit && !(crb->pending && crb->start))
            g_cond_wait(&crb->cond, &crb->lock);
        if (crb->quit)
            break;
        uint8_t resp[TPM_CRB_DATA_SIZE];
        size_t resp_len = 0;
        bool fatal = crb->ctrl_sts & TPM_CRB_CTRL_STS_FATAL;
        g_autoptr(GError) error = NULL;
        bool ok = false;
        if (!fatal) {
            /* The backend may take seconds: registers stay readable. */
            g_mutex_unlock(&crb->lock);
            ok = crb->backend->ops->transmit(crb->backend, 0, crb->cmd, crb->cmd_len,
                                             resp, sizeof resp, &resp_len, &error);
            g_mutex_lock(&crb->lock);
        }
        if (ok) {
            memcpy(crb->data, resp, resp_len);
        } else {
            if (error)
                backend_failed(crb, error);
            error_response(crb->data, TPM_RC_FAILURE);
        }
        crb->start = 0;
        crb->cancel = 0;
        crb->pending = false;
        g_cond_broadcast(&crb->cond);
    }
    g_mutex_unlock(&crb->lock);
    return NULL;
}

/* With the lock held: queue the command in the buffer, or answer a
 * malformed one at once. */
static void start_command(struct tpm_crb *crb)
{
    uint32_t size = get_be32(crb->data + 2);
    if (size < TPM_HEADER_SIZE || size > TPM_CRB_DATA_SIZE) {
        error_response(crb->data, TPM_RC_COMMAND_SIZE);
        return;
    }
    memcpy(crb->cmd, crb->data, size);
    crb->cmd_len = size;
    crb->start = 1;
    crb->pending = true;
    g_cond_broadcast(&crb->cond);
}

static uint64_t reg_read(struct tpm_crb *crb, uint64_t off)
{
    switch (off) {
    case TPM_CRB_LOC_STATE:
        return TPM_CRB_LOC_STATE_VALID | TPM_CRB_LOC_STATE_ESTABLISHED |
               (crb->granted ? TPM_CRB_LOC_STATE_ASSIGNED : 0);   /* active locality 0 */
    case TPM_CRB_LOC_STS: return crb->granted ? TPM_CRB_LOC_STS_GRANTED : 0;
    case TPM_CRB_INTF_ID: return (uint32_t)INTF_ID;
    case TPM_CRB_INTF_ID + 4: return (uint32_t)(INTF_ID >> 32);
    case TPM_CRB_CTRL_STS: return crb->ctrl_sts;
    case TPM_CRB_CTRL_CANCEL: return crb->cancel;
    case TPM_CRB_CTRL_START: return crb->start;
    case TPM_CRB_CTRL_INT_ENABLE: return crb->int_enable;
    case TPM_CRB_CTRL_CMD_SIZE:
    case TPM_CRB_CTRL_RSP_SIZE: return TPM_CRB_DATA_SIZE;
    case TPM_CRB_CTRL_CMD_LADDR:
    case TPM_CRB_CTRL_RSP_ADDR: return TPM_CRB_BASE + TPM_CRB_DATA_OFFSET;
    default: return 0;      /* requests complete at once; no interrupts */
    }
}

static uint64_t crb_read(void *opaque, uint64_t offset, unsigned size)
{
    struct tpm_crb *crb = opaque;
    uint64_t v = 0;
    g_mutex_lock(&crb->lock);
    if (offset >= TPM_CRB_DATA_OFFSET) {
        /* The buffer, byte-wise; the iobus keeps offset + size in range. */
        for (unsigned i = 0; i < size; i++)
            v |= (uint64_t)crb->data[offset - TPM_CRB_DATA_OFFSET + i] << (8 * i);
    } else {
        /* Registers are 32 bits wide; an aligned 64-bit read takes two. */
        uint64_t base = offset & ~3ull;
        uint64_t word = reg_read(crb, base) | (size == 8 ? reg_read(crb, base + 4) << 32 : 0);
        v = word >> (8 * (offset & 3));
        if (size < 8)
            v &= (1ull << (8 * size)) - 1;
    }
    g_mutex_unlock(&crb->lock);
    return v;
}

static void crb_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct tpm_crb *crb = opaque;
    g_mutex_lock(&crb->lock);
    if (offset >= TPM_CRB_DATA_OFFSET) {
        /* Writes while a command runs change the buffer, not the command. */
        for (unsigned i = 0; i < size; i++)
            crb->data[offset - TPM_CRB_DATA_OFFSET + i] = (uint8_t)(value >> (8 * i));
        goto out;
    }
    switch (offset) {
    case TPM_CRB_LOC_CTRL:
        if (value & TPM_CRB_LOC_CTRL_RELINQUISH)
            crb->granted = false;
        if (value & TPM_CRB_LOC_CTRL_REQUEST)
            crb->granted = true;
        break;
    case TPM_CRB_CTRL_REQ:
        if (value & TPM_CRB_CTRL_REQ_CMD_READY)
            crb->ctrl_sts &= ~(uint32_t)TPM_CRB_CTRL_STS_IDLE;
        else if (value & TPM_CRB_CTRL_REQ_GO_IDLE)
            crb->ctrl_sts |= TPM_CRB_CTRL_STS_IDLE;
        break;
    case TPM_CRB_CTRL_CANCEL:
        /* A command runs to its end in the backend; the request shows
         * until then. */
        if (crb->pending)
            crb->cancel = value & 1;
        break;
    case TPM_CRB_CTRL_START:
        if ((value & 1) && !crb->pending && crb->granted &&
            !(crb->ctrl_sts & TPM_CRB_CTRL_STS_IDLE))
            start_command(crb);
        break;
    case TPM_CRB_CTRL_INT_ENABLE:
        crb->int_enable = (uint32_t)value;
        break;
    default:
        break;  /* read-only: the buffer's address and size are fixed */
    }
out:
    g_mutex_unlock(&crb->lock);
}

static const struct io_ops crb_ops = { .read = crb_read, .write = crb_write };

/* With the lock held: let a running command finish. */
static void wait_idle(struct tpm_crb *crb)
{
    while (crb->pending)
        g_cond_wait(&crb->cond, &crb->lock);
}

static void clear_registers(struct tpm_crb *crb)
{
    crb->granted = false;
    crb->ctrl_sts = TPM_CRB_CTRL_STS_IDLE;
    crb->int_enable = crb->cancel = crb->start = 0;
    crb->warned = false;
    memset(crb->data, 0, sizeof crb->data);
}

void tpm_crb_reset(void *opaque)
{
    struct tpm_crb *crb = opaque;
    g_mutex_lock(&crb->lock);
    wait_idle(crb);
    clear_registers(crb);
    g_autoptr(GError) error = NULL;
    /* A platform reset is a TPM power cycle: TPM2_Startup comes again. */
    if (!crb->backend->ops->startup(crb->backend, TPM_CRB_DATA_SIZE, &error))
        backend_failed(crb, error);
    g_mutex_unlock(&crb->lock);
}

/* ---- VM state -------------------------------------------------------------- */

static bool crb_save(void *opaque, struct state_out *o, GError **error)
{
    struct tpm_crb *crb = opaque;
    g_mutex_lock(&crb->lock);
    wait_idle(crb);
    g_autoptr(GBytes) state = crb->backend->ops->get_state(crb->backend, error);
    if (state) {
        state_out_bool(o, crb->granted);
        state_out_u32(o, crb->ctrl_sts);
        state_out_u32(o, crb->int_enable);
        state_out_bytes(o, crb->data, sizeof crb->data);
        state_out_u32(o, (uint32_t)g_bytes_get_size(state));
        state_out_bytes(o, g_bytes_get_data(state, NULL), g_bytes_get_size(state));
    }
    g_mutex_unlock(&crb->lock);
    return state != NULL;
}

static bool crb_load(void *opaque, struct state_in *in, uint32_t version, GError **error)
{
    struct tpm_crb *crb = opaque;
    bool granted = state_in_bool(in);
    uint32_t sts = state_in_u32(in), int_enable = state_in_u32(in);
    const void *data = state_in_ptr(in, TPM_CRB_DATA_SIZE);
    uint32_t len = state_in_u32(in);
    const void *blob = state_in_ptr(in, len);
    if (!state_in_finish(in, error))
        return false;
    if (sts & ~(uint32_t)(TPM_CRB_CTRL_STS_FATAL | TPM_CRB_CTRL_STS_IDLE))
        return state_in_invalid(in, error, _("TPM status 0x%x"), sts);

    g_mutex_lock(&crb->lock);
    wait_idle(crb);
    g_autoptr(GBytes) state = g_bytes_new(blob, len);
    bool ok = crb->backend->ops->set_state(crb->backend, state, TPM_CRB_DATA_SIZE, error);
    if (ok) {
        crb->granted = granted;
        crb->ctrl_sts = sts;
        crb->int_enable = int_enable;
        crb->start = crb->cancel = 0;
        memcpy(crb->data, data, TPM_CRB_DATA_SIZE);
    }
    g_mutex_unlock(&crb->lock);
    return ok;
}

const struct vm_state_ops tpm_crb_state_ops = {
    .version = 1,
    .stage = VM_STATE_STAGE_DEVICE,
    .save = crb_save,
    .load = crb_load,
};

/* ---- creation -------------------------------------------------------------- */

struct tpm_crb *tpm_crb_create(struct vm *vm, struct tpm_backend *backend, GError **error)
{
    struct tpm_crb *crb = g_new0(struct tpm_crb, 1);
    crb->vm = vm;
    crb->backend = backend;
    g_mutex_init(&crb->lock);
    g_cond_init(&crb->cond);
    clear_registers(crb);
    if (!backend->ops->startup(backend, TPM_CRB_DATA_SIZE, error)) {
        tpm_crb_free(crb);
        return NULL;
    }
    if (!iobus_register(vm_mmio_bus(vm), TPM_CRB_BASE, TPM_CRB_SIZE, &crb_ops, crb, "tpm-crb")) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                    _("The TPM's address 0x%x is already taken"), TPM_CRB_BASE);
        tpm_crb_free(crb);
        return NULL;
    }
    crb->worker = g_thread_new("tpm-crb", worker_main, crb);
    return crb;
}

void tpm_crb_free(struct tpm_crb *crb)
{
    if (!crb)
        return;
    if (crb->worker) {
        g_mutex_lock(&crb->lock);
        crb->quit = true;
        g_cond_broadcast(&crb->cond);
        g_mutex_unlock(&crb->lock);
        g_thread_join(crb->worker);
    }
    tpm_backend_free(crb->backend);
    g_cond_clear(&crb->cond);
    g_mutex_clear(&crb->lock);
    g_free(crb);
}
