#include "i8042.h"

#include <string.h>
#include <glib.h>
#include <glib/gi18n.h>

#include "core/vm_state.h"

#include "input/input.h"

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
    /* The PS/2 mouse: reporting (0xF4/0xF5), stream or remote mode, the
     * IntelliMouse id 3 after sample rates 200, 100, 80 in a row. */
    bool aux_reporting;
    bool aux_remote;
    bool aux_scale21;
    uint8_t aux_resolution, aux_rate;
    uint8_t aux_id;
    uint8_t aux_rates[3];   /* the last sample rates set, newest last */
    uint8_t aux_buttons;    /* PS/2 order: bit 0 left, 1 right, 2 middle */
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

static void aux_defaults(struct i8042 *k)
{
    k->aux_reporting = false;
    k->aux_remote = false;
    k->aux_scale21 = false;
    k->aux_resolution = 2;  /* 4 counts/mm */
    k->aux_rate = 100;
}

static void aux_reset(struct i8042 *k)
{
    aux_defaults(k);
    k->aux_pending = 0;
    k->aux_id = 0;
    memset(k->aux_rates, 0, sizeof(k->aux_rates));
    k->aux.count = 0;
}

static void aux_set_rate(struct i8042 *k, uint8_t rate)
{
    k->aux_rate = rate;
    k->aux_rates[0] = k->aux_rates[1];
    k->aux_rates[1] = k->aux_rates[2];
    k->aux_rates[2] = rate;
    /* The knock with which drivers probe for a wheel. */
    if (k->aux_rates[0] == 200 && k->aux_rates[1] == 100 && k->aux_rates[2] == 80)
        k->aux_id = 3;
}

static unsigned packet_size(const struct i8042 *k)
{
    return k->aux_id == 3 ? 4 : 3;
}

static int clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* One movement packet: dy > 0 is up, dz > 0 towards the user.  Deltas
 * beyond 9 bits are clamped and flagged with the overflow bits. */
static void aux_push_packet(struct i8042 *k, int dx, int dy, int dz)
{
    uint8_t b0 = 0x08 | (k->aux_buttons & 7);
    if (dx < -256 || dx > 255)
        b0 |= 0x40;
    if (dy < -256 || dy > 255)
        b0 |= 0x80;
    dx = clamp(dx, -256, 255);
    dy = clamp(dy, -256, 255);
    if (dx < 0)
        b0 |= 0x10;
    if (dy < 0)
        b0 |= 0x20;
    q_push(&k->aux, b0);
    q_push(&k->aux, (uint8_t)dx);
    q_push(&k->aux, (uint8_t)dy);
    if (k->aux_id == 3)
        q_push(&k->aux, (uint8_t)clamp(dz, -8, 7));
}

static void aux_command(struct i8042 *k, uint8_t b)
{
    if (k->aux_pending) {
        uint8_t cmd = k->aux_pending;
        k->aux_pending = 0;
        if (cmd == 0xf3)
            aux_set_rate(k, b);
        else if (cmd == 0xe8)
            k->aux_resolution = b & 3;
        q_push(&k->aux, 0xfa);
        return;
    }
    switch (b) {
    case 0xe6: /* scaling 1:1 */
    case 0xe7: /* scaling 2:1 */
        k->aux_scale21 = b == 0xe7;
        q_push(&k->aux, 0xfa);
        break;
    case 0xe8: /* resolution */
    case 0xf3: /* sample rate */
        k->aux_pending = b;
        q_push(&k->aux, 0xfa);
        break;
    case 0xe9: { /* status request: mode, enable, scaling, buttons L M R */
        uint8_t st = (k->aux_remote ? 0x40 : 0) | (k->aux_reporting ? 0x20 : 0) |
                     (k->aux_scale21 ? 0x10 : 0) | ((k->aux_buttons & 1) << 2) |
                     ((k->aux_buttons & 4) >> 1) | ((k->aux_buttons & 2) >> 1);
        q_push(&k->aux, 0xfa);
        q_push(&k->aux, st);
        q_push(&k->aux, k->aux_resolution);
        q_push(&k->aux, k->aux_rate);
        break;
    }
    case 0xea: /* stream mode */
        k->aux_remote = false;
        q_push(&k->aux, 0xfa);
        break;
    case 0xeb: /* read data: one packet, no movement accumulated */
        q_push(&k->aux, 0xfa);
        aux_push_packet(k, 0, 0, 0);
        break;
    case 0xf0: /* remote mode */
        k->aux_remote = true;
        q_push(&k->aux, 0xfa);
        break;
    case 0xf2: /* identify: 0 standard, 3 IntelliMouse */
        q_push(&k->aux, 0xfa);
        q_push(&k->aux, k->aux_id);
        break;
    case 0xf4:
        k->aux_reporting = true;
        q_push(&k->aux, 0xfa);
        break;
    case 0xf5:
        k->aux_reporting = false;
        q_push(&k->aux, 0xfa);
        break;
    case 0xf6:
        aux_defaults(k);
        q_push(&k->aux, 0xfa);
        break;
    case 0xff:
        aux_reset(k);
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
    /* Writing the output buffer "as if from" a port is the controller's
     * own doing, so it works with that port disabled: Linux runs its AUX
     * loopback test that way and waits half a second when nothing comes. */
    case 0xd2: controller_reply(k, v, false); break;
    case 0xd3: controller_reply(k, v, true); break;
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
    aux_reset(k);
    k->aux_buttons = 0;
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

void i8042_key(struct i8042 *k, uint16_t scancode, bool down)
{
    uint8_t bytes[8];
    g_mutex_lock(&k->lock);
    /* Translating, the controller turns the keyboard's set 2 into set 1;
     * without it the guest sees the keyboard's own set. */
    bool set1 = (k->cmd_byte & I8042_CB_XLATE) || k->kbd_scanset == 1;
    unsigned n = set1 ? input_scancode_set1_bytes(scancode, down, bytes)
                      : input_scancode_set2_bytes(scancode, down, bytes);
    if (k->kbd_scanning)
        for (unsigned i = 0; i < n; i++)
            q_push(&k->kbd, bytes[i]);
    update(k);
    g_mutex_unlock(&k->lock);
}

void i8042_mouse_input(struct i8042 *k, int dx, int dy, int dz, unsigned buttons)
{
    g_mutex_lock(&k->lock);
    /* RFB order (left, middle, right) to PS/2 (left, right, middle). */
    k->aux_buttons = (uint8_t)((buttons & INPUT_BUTTON_LEFT ? 1 : 0) |
                               (buttons & INPUT_BUTTON_RIGHT ? 2 : 0) |
                               (buttons & INPUT_BUTTON_MIDDLE ? 4 : 0));
    /* A whole packet or none: a torn one would desynchronise the driver. */
    if (k->aux_reporting && !k->aux_remote && QUEUE_SIZE - k->aux.count >= packet_size(k))
        aux_push_packet(k, dx, dy, dz);
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

static void save_queue(struct state_out *o, const struct queue *q)
{
    state_out_u8(o, (uint8_t)q->count);
    for (unsigned i = 0; i < q->count; i++)
        state_out_u8(o, q->data[(q->head + i) % QUEUE_SIZE]);
}

static bool load_queue(struct state_in *in, struct queue *q, GError **error)
{
    unsigned n = state_in_u8(in);
    if (n > QUEUE_SIZE)
        return state_in_invalid(in, error, _("%u bytes in a %u-byte queue"), n, QUEUE_SIZE);
    q->head = 0;
    q->count = n;
    state_in_bytes(in, q->data, n);
    return true;
}

bool i8042_save(void *opaque, struct state_out *o, GError **error)
{
    struct i8042 *k = opaque;
    g_mutex_lock(&k->lock);
    const uint8_t b[] = {
        k->status, k->cmd_byte, k->outport, k->pending_cmd, k->kbd_pending, k->aux_pending,
        k->aux_reporting, k->aux_remote, k->aux_scale21, k->aux_resolution, k->aux_rate,
        k->aux_id, k->aux_rates[0], k->aux_rates[1], k->aux_rates[2], k->aux_buttons,
        k->kbd_scanning, k->kbd_scanset, k->out_is_aux, k->out,
    };
    state_out_bytes(o, b, sizeof(b));
    save_queue(o, &k->kbd);
    save_queue(o, &k->aux);
    g_mutex_unlock(&k->lock);
    return true;
}

bool i8042_load(void *opaque, struct state_in *in, uint32_t version, GError **error)
{
    struct i8042 *k = opaque;
    uint8_t b[20];
    state_in_bytes(in, b, sizeof(b));
    struct queue kbd, aux;
    if (!load_queue(in, &kbd, error) || !load_queue(in, &aux, error))
        return false;
    if (in->short_read)
        return state_in_invalid(in, error, _("truncated"));
    if (b[17] < 1 || b[17] > 3)
        return state_in_invalid(in, error, _("scan code set %u"), b[17]);
    if (b[11] != 0 && b[11] != 3)
        return state_in_invalid(in, error, _("mouse id %u"), b[11]);

    g_mutex_lock(&k->lock);
    k->status = b[0];
    k->cmd_byte = b[1];
    k->outport = b[2];
    k->pending_cmd = b[3];
    k->kbd_pending = b[4];
    k->aux_pending = b[5];
    k->aux_reporting = b[6];
    k->aux_remote = b[7];
    k->aux_scale21 = b[8];
    k->aux_resolution = b[9];
    k->aux_rate = b[10];
    k->aux_id = b[11];
    memcpy(k->aux_rates, b + 12, 3);
    k->aux_buttons = b[15] & 7;
    k->kbd_scanning = b[16];
    k->kbd_scanset = b[17];
    k->out_is_aux = b[18];
    k->out = b[19];
    k->kbd = kbd;
    k->aux = aux;
    /* The lines of this new process are low: drive them afresh. */
    k->irq1 = k->irq12 = false;
    k->reset_request = false;
    update(k);
    g_mutex_unlock(&k->lock);
    return true;
}

const struct vm_state_ops i8042_state_ops = {
    .version = 1, .stage = VM_STATE_STAGE_DEVICE, .save = i8042_save, .load = i8042_load,
};
