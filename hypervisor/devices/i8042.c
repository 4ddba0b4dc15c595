#include "i8042.h"

#include <string.h>
#include <glib.h>

#define QUEUE_SIZE 64

struct queue {
    uint8_t data[QUEUE_SIZE];
    unsigned head, count;
};

struct i8042 {
    const struct i8042_ops *ops;
    void *opaque;
    GMutex lock;

    uint8_t status;
    uint8_t cmd_byte;
    uint8_t outport;        /* bit 0: reset line (1 = not reset), bit 1: A20 */
    uint8_t pending_cmd;    /* controller command waiting for its data byte */
    uint8_t kbd_pending;    /* keyboard command waiting for its argument */
    uint8_t aux_pending;
    bool kbd_scanning;
    uint8_t kbd_scanset;
    struct queue kbd, aux;
    bool out_is_aux;        /* the byte in the output buffer came from aux */
    uint8_t out;
    bool irq1, irq12;
    bool reset_request;
};

static void q_push(struct queue *q, uint8_t b)
{
    if (q->count < QUEUE_SIZE)
        q->data[(q->head + q->count++) % QUEUE_SIZE] = b;
}

static bool q_pop(struct queue *q, uint8_t *b)
{
    if (!q->count)
        return false;
    *b = q->data[q->head];
    q->head = (q->head + 1) % QUEUE_SIZE;
    q->count--;
    return true;
}

/* Move the next byte into the output buffer if it is free, then drive the
 * interrupt lines from what is there. */
static void update(struct i8042 *k)
{
    if (!(k->status & I8042_STATUS_OBF)) {
        uint8_t b;
        if (!(k->cmd_byte & I8042_CB_KBD_OFF) && q_pop(&k->kbd, &b)) {
            k->out = b;
            k->out_is_aux = false;
            k->status = (k->status | I8042_STATUS_OBF) & ~I8042_STATUS_AUX;
        } else if (!(k->cmd_byte & I8042_CB_AUX_OFF) && q_pop(&k->aux, &b)) {
            k->out = b;
            k->out_is_aux = true;
            k->status |= I8042_STATUS_OBF | I8042_STATUS_AUX;
        }
    }
    bool full = k->status & I8042_STATUS_OBF;
    bool irq1 = full && !k->out_is_aux && (k->cmd_byte & I8042_CB_KBD_INT);
    bool irq12 = full && k->out_is_aux && (k->cmd_byte & I8042_CB_AUX_INT);
    if (irq1 != k->irq1) {
        k->irq1 = irq1;
        k->ops->set_irq(k->opaque, 1, irq1);
    }
    if (irq12 != k->irq12) {
        k->irq12 = irq12;
        k->ops->set_irq(k->opaque, 12, irq12);
    }
}

/* A byte from the controller itself goes ahead of device data. */
static void controller_reply(struct i8042 *k, uint8_t b, bool aux)
{
    k->out = b;
    k->out_is_aux = aux;
    k->status |= I8042_STATUS_OBF;
    if (aux)
        k->status |= I8042_STATUS_AUX;
    else
        k->status &= ~I8042_STATUS_AUX;
}

static void keyboard_reset(struct i8042 *k)
{
    k->kbd.count = 0;
    k->kbd_pending = 0;
    k->kbd_scanning = true;
    k->kbd_scanset = 2;
}

static void keyboard_command(struct i8042 *k, uint8_t b)
{
    if (k->kbd_pending) {
        uint8_t cmd = k->kbd_pending;
        k->kbd_pending = 0;
        if (cmd == 0xf0) {
            if (b == 0) {
                q_push(&k->kbd, 0xfa);
                q_push(&k->kbd, k->kbd_scanset);
                return;
            }
            if (b >= 1 && b <= 3)
                k->kbd_scanset = b;
        }
        q_push(&k->kbd, 0xfa); /* LEDs, typematic rate, scan set: accepted */
        return;
    }
    switch (b) {
    case 0xed: /* set LEDs */
    case 0xf3: /* typematic rate */
    case 0xf0: /* scan code set */
        k->kbd_pending = b;
        q_push(&k->kbd, 0xfa);
        break;
    case 0xee: /* echo */
        q_push(&k->kbd, 0xee);
        break;
    case 0xf2: /* identify: MF2 keyboard */
        q_push(&k->kbd, 0xfa);
        q_push(&k->kbd, 0xab);
        q_push(&k->kbd, 0x83);
        break;
    case 0xf4:
        k->kbd_scanning = true;
        q_push(&k->kbd, 0xfa);
        break;
    case 0xf5:
        k->kbd_scanning = false;
        q_push(&k->kbd, 0xfa);
        break;
    case 0xf6:
        k->kbd_scanning = true;
        k->kbd_scanset = 2;
        q_push(&k->kbd, 0xfa);
        break;
    case 0xff:
        keyboard_reset(k);
        q_push(&k->kbd, 0xfa);
        q_push(&k->kbd, 0xaa); /* self-test passed */
        break;
    default:
        q_push(&k->kbd, 0xfa);
        break;
    }
}

static void aux_command(struct i8042 *k, uint8_t b)
{
    if (k->aux_pending) {
        k->aux_pending = 0;
        q_push(&k->aux, 0xfa);
        return;
    }
    switch (b) {
    case 0xe8: /* resolution */
    case 0xf3: /* sample rate */
        k->aux_pending = b;
        q_push(&k->aux, 0xfa);
        break;
    case 0xe9: /* status request */
        q_push(&k->aux, 0xfa);
        q_push(&k->aux, 0x00);
        q_push(&k->aux, 0x02);
        q_push(&k->aux, 0x64);
        break;
    case 0xf2: /* identify: standard mouse */
        q_push(&k->aux, 0xfa);
        q_push(&k->aux, 0x00);
        break;
    case 0xff:
        k->aux.count = 0;
        q_push(&k->aux, 0xfa);
        q_push(&k->aux, 0xaa);
        q_push(&k->aux, 0x00);
        break;
    default:
        q_push(&k->aux, 0xfa);
        break;
    }
}

static void write_outport(struct i8042 *k, uint8_t v)
{
    k->outport = v;
    if (!(v & 0x01))
        k->reset_request = true; /* reset line pulled low */
}

static void controller_command(struct i8042 *k, uint8_t cmd)
{
    if (cmd >= 0x20 && cmd < 0x40) {        /* read controller RAM; 0x20: command byte */
        controller_reply(k, cmd == 0x20 ? k->cmd_byte : 0, false);
        return;
    }
    if (cmd >= 0x60 && cmd < 0x80) {        /* write controller RAM */
        k->pending_cmd = cmd;
        return;
    }
    if (cmd >= 0xf0) {                      /* pulse output lines; bit 0 low = reset */
        if (!(cmd & 0x01))
            k->reset_request = true;
        return;
    }
    switch (cmd) {
    case 0xa7: k->cmd_byte |= I8042_CB_AUX_OFF; break;
    case 0xa8: k->cmd_byte &= ~I8042_CB_AUX_OFF; break;
    case 0xa9: controller_reply(k, 0x00, false); break;    /* aux interface test: OK */
    case 0xaa:                                              /* self-test */
        k->status |= I8042_STATUS_SYS;
        controller_reply(k, 0x55, false);
        break;
    case 0xab: controller_reply(k, 0x00, false); break;    /* keyboard interface test: OK */
    case 0xad: k->cmd_byte |= I8042_CB_KBD_OFF; break;
    case 0xae: k->cmd_byte &= ~I8042_CB_KBD_OFF; break;
    case 0xc0: controller_reply(k, 0x80, false); break;    /* input port: keyboard unlocked */
    case 0xd0: controller_reply(k, k->outport, false); break;
    case 0xd1: case 0xd2: case 0xd3: case 0xd4:
        k->pending_cmd = cmd;
        break;
    case 0xdd: k->outport &= ~0x02; break;                  /* A20 off */
    case 0xdf: k->outport |= 0x02; break;                   /* A20 on */
    default:
        break;
    }
}

static void data_write(struct i8042 *k, uint8_t v)
{
    uint8_t cmd = k->pending_cmd;
    k->pending_cmd = 0;
    if (cmd >= 0x60 && cmd < 0x80) {
        if (cmd == 0x60) {
            k->cmd_byte = v;
            k->status = (k->status & ~I8042_STATUS_SYS) | (v & I8042_CB_SYS);
        }
        return;
    }
    switch (cmd) {
    case 0xd1: write_outport(k, v); break;
    case 0xd2: q_push(&k->kbd, v); break;
    case 0xd3: q_push(&k->aux, v); break;
    case 0xd4: aux_command(k, v); break;
    default:
        /* Writing to the keyboard enables its port. */
        k->cmd_byte &= ~I8042_CB_KBD_OFF;
        keyboard_command(k, v);
        break;
    }
}

static uint64_t data_read(void *opaque, uint64_t offset, unsigned size)
{
    struct i8042 *k = opaque;
    g_mutex_lock(&k->lock);
    uint8_t v = k->out;   /* reading an empty buffer returns the last byte */
    k->status &= ~(I8042_STATUS_OBF | I8042_STATUS_AUX);
    /* The line drops when the buffer empties, so a queued byte loaded next
     * raises a fresh edge: IRQ 1 and 12 are edge-triggered, and a guest
     * reads one byte per interrupt. */
    if (k->irq1) {
        k->irq1 = false;
        k->ops->set_irq(k->opaque, 1, false);
    }
    if (k->irq12) {
        k->irq12 = false;
        k->ops->set_irq(k->opaque, 12, false);
    }
    update(k);
    g_mutex_unlock(&k->lock);
    return v;
}

static void take_reset(struct i8042 *k, bool *reset)
{
    *reset = k->reset_request;
    k->reset_request = false;
}

static void data_port_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct i8042 *k = opaque;
    bool reset;
    g_mutex_lock(&k->lock);
    k->status &= ~I8042_STATUS_CMD;
    data_write(k, (uint8_t)value);
    update(k);
    take_reset(k, &reset);
    g_mutex_unlock(&k->lock);
    if (reset)
        k->ops->reset(k->opaque);
}

static uint64_t status_read(void *opaque, uint64_t offset, unsigned size)
{
    struct i8042 *k = opaque;
    g_mutex_lock(&k->lock);
    uint8_t v = k->status | I8042_STATUS_UNLOCK;
    g_mutex_unlock(&k->lock);
    return v;
}

static void cmd_port_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct i8042 *k = opaque;
    bool reset;
    g_mutex_lock(&k->lock);
    k->status |= I8042_STATUS_CMD;
    controller_command(k, (uint8_t)value);
    update(k);
    take_reset(k, &reset);
    g_mutex_unlock(&k->lock);
    if (reset)
        k->ops->reset(k->opaque);
}

const struct io_ops i8042_data_io_ops = { .read = data_read, .write = data_port_write };
const struct io_ops i8042_cmd_io_ops = { .read = status_read, .write = cmd_port_write };

static void do_reset(struct i8042 *k)
{
    k->status = 0;
    k->cmd_byte = I8042_CB_KBD_INT | I8042_CB_AUX_INT | I8042_CB_XLATE | I8042_CB_SYS;
    k->outport = 0x03;  /* not in reset, A20 enabled */
    k->pending_cmd = 0;
    k->aux_pending = 0;
    k->aux.count = 0;
    k->out = 0;
    keyboard_reset(k);
    update(k);
}

struct i8042 *i8042_new(const struct i8042_ops *ops, void *opaque)
{
    struct i8042 *k = g_new0(struct i8042, 1);
    k->ops = ops;
    k->opaque = opaque;
    g_mutex_init(&k->lock);
    do_reset(k);
    return k;
}

void i8042_free(struct i8042 *k)
{
    if (!k)
        return;
    g_mutex_clear(&k->lock);
    g_free(k);
}

void i8042_reset(struct i8042 *k)
{
    g_mutex_lock(&k->lock);
    do_reset(k);
    g_mutex_unlock(&k->lock);
}

void i8042_keyboard_input(struct i8042 *k, const uint8_t *codes, unsigned n)
{
    g_mutex_lock(&k->lock);
    if (k->kbd_scanning)
        for (unsigned i = 0; i < n; i++)
            q_push(&k->kbd, codes[i]);
    update(k);
    g_mutex_unlock(&k->lock);
}

bool i8042_a20_enabled(struct i8042 *k)
{
    g_mutex_lock(&k->lock);
    bool on = k->outport & 0x02;
    g_mutex_unlock(&k->lock);
    return on;
}
