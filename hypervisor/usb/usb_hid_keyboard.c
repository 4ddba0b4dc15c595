/* USB HID boot keyboard: descriptors, standard and HID class requests, the
 * set-1 scancode to HID usage table, and a small queue of reports so that
 * no press or release is lost between polls. */
#include "usb_hid_keyboard.h"
#include "input/input.h"

#include <string.h>
#include <glib.h>
#include <glib/gi18n.h>

#include "core/state_stream.h"

#define HID_GET_REPORT   0x01
#define HID_GET_IDLE     0x02
#define HID_GET_PROTOCOL 0x03
#define HID_SET_REPORT   0x09
#define HID_SET_IDLE     0x0a
#define HID_SET_PROTOCOL 0x0b

#define QUEUE_LEN 16
#define MAX_KEYS  6
#define USAGE_ROLLOVER 0x01
#define USAGE_LEFT_CTRL 0xe0

struct usb_hid_keyboard {
    struct usb_device dev;
    struct input_router *router;
    unsigned sink_id;
    GMutex lock;                /* router (main loop) vs controller */
    uint8_t configuration;
    uint8_t idle;
    uint8_t protocol;
    uint8_t leds;
    bool halted;
    bool remote_wakeup;
    /* Keys held, in press order, and modifier bits. */
    uint8_t modifiers;
    uint8_t keys[MAX_KEYS + 1];
    unsigned nkeys;             /* up to MAX_KEYS + 1: one more means rollover */
    uint8_t queue[QUEUE_LEN][USB_KEYBOARD_REPORT_SIZE];
    unsigned q_head, q_len;
};

/* The boot keyboard report (HID 1.11 appendix B.1), with key usages up
 * to 0xff so that the international keys fit. */
static const uint8_t report_desc[] = {
    0x05, 0x01,         /* Usage Page (Generic Desktop) */
    0x09, 0x06,         /* Usage (Keyboard) */
    0xa1, 0x01,         /* Collection (Application) */
    0x05, 0x07,         /*   Usage Page (Keyboard/Keypad) */
    0x19, 0xe0,         /*   Usage Minimum (Left Control) */
    0x29, 0xe7,         /*   Usage Maximum (Right GUI) */
    0x15, 0x00,         /*   Logical Minimum (0) */
    0x25, 0x01,         /*   Logical Maximum (1) */
    0x75, 0x01,         /*   Report Size (1) */
    0x95, 0x08,         /*   Report Count (8) */
    0x81, 0x02,         /*   Input (Data, Variable, Absolute): modifiers */
    0x95, 0x01,         /*   Report Count (1) */
    0x75, 0x08,         /*   Report Size (8) */
    0x81, 0x01,         /*   Input (Constant): reserved */
    0x95, 0x05,         /*   Report Count (5) */
    0x75, 0x01,         /*   Report Size (1) */
    0x05, 0x08,         /*   Usage Page (LEDs) */
    0x19, 0x01,         /*   Usage Minimum (Num Lock) */
    0x29, 0x05,         /*   Usage Maximum (Kana) */
    0x91, 0x02,         /*   Output (Data, Variable, Absolute) */
    0x95, 0x01,         /*   Report Count (1) */
    0x75, 0x03,         /*   Report Size (3) */
    0x91, 0x01,         /*   Output (Constant) */
    0x95, 0x06,         /*   Report Count (6) */
    0x75, 0x08,         /*   Report Size (8) */
    0x15, 0x00,         /*   Logical Minimum (0) */
    0x26, 0xff, 0x00,   /*   Logical Maximum (255) */
    0x05, 0x07,         /*   Usage Page (Keyboard/Keypad) */
    0x19, 0x00,         /*   Usage Minimum (0) */
    0x2a, 0xff, 0x00,   /*   Usage Maximum (255) */
    0x81, 0x00,         /*   Input (Data, Array) */
    0xc0,               /* End Collection */
};

static const uint8_t device_desc[18] = {
    18, USB_DT_DEVICE,
    0x10, 0x01,         /* USB 1.1 */
    0, 0, 0,            /* class per interface */
    8,                  /* ep0 max packet */
    0x09, 0x12,         /* vendor 0x1209 (pid.codes) */
    0x02, 0x00,         /* product */
    0x00, 0x01,         /* release 1.00 */
    1, 2, 3,            /* strings: manufacturer, product, serial */
    1,                  /* one configuration */
};

#define CONFIG_TOTAL (9 + 9 + 9 + 7)

static void config_desc(uint8_t *d)
{
    const uint8_t c[CONFIG_TOTAL] = {
        /* configuration: bus powered, remote wakeup */
        9, USB_DT_CONFIG, CONFIG_TOTAL, 0, 1, 1, 0, 0xa0, 50,
        /* interface 0: HID, boot subclass, keyboard protocol */
        9, USB_DT_INTERFACE, 0, 0, 1, 0x03, 0x01, 0x01, 0,
        /* HID 1.11, country 0, one report descriptor */
        9, USB_DT_HID, 0x11, 0x01, 0, 1, USB_DT_REPORT,
        (uint8_t)sizeof(report_desc), (uint8_t)(sizeof(report_desc) >> 8),
        /* endpoint 1 IN, interrupt, 8 bytes, every 10 ms */
        7, USB_DT_ENDPOINT, 0x81, 0x03, 8, 0, 10,
    };
    memcpy(d, c, sizeof(c));
}

static int copy_out(uint8_t *data, size_t max, const uint8_t *src, size_t len)
{
    len = MIN(len, max);
    memcpy(data, src, len);
    return (int)len;
}

static int string_desc(unsigned index, uint8_t *out, size_t max)
{
    static const char *const strings[] = { NULL, "Oriel", "Oriel USB Keyboard", "1" };
    uint8_t buf[64];
    size_t len;
    if (index == 0) {
        buf[0] = 4; buf[1] = USB_DT_STRING; buf[2] = 0x09; buf[3] = 0x04;  /* en-US */
        len = 4;
    } else if (index < G_N_ELEMENTS(strings)) {
        len = 2;
        for (const char *s = strings[index]; *s && len + 2 <= sizeof(buf); s++) {
            buf[len++] = (uint8_t)*s;
            buf[len++] = 0;
        }
        buf[0] = (uint8_t)len;
        buf[1] = USB_DT_STRING;
    } else {
        return USB_RET_STALL;
    }
    return copy_out(out, max, buf, len);
}

/* Set-1 make codes without prefix, 0x00-0x7f, to HID usages (HID Usage
 * Tables, Keyboard/Keypad page). */
static const uint8_t usage_plain[0x80] = {
    [0x01] = 0x29, [0x02] = 0x1e, [0x03] = 0x1f, [0x04] = 0x20, [0x05] = 0x21,
    [0x06] = 0x22, [0x07] = 0x23, [0x08] = 0x24, [0x09] = 0x25, [0x0a] = 0x26,
    [0x0b] = 0x27, [0x0c] = 0x2d, [0x0d] = 0x2e, [0x0e] = 0x2a, [0x0f] = 0x2b,
    [0x10] = 0x14, [0x11] = 0x1a, [0x12] = 0x08, [0x13] = 0x15, [0x14] = 0x17,
    [0x15] = 0x1c, [0x16] = 0x18, [0x17] = 0x0c, [0x18] = 0x12, [0x19] = 0x13,
    [0x1a] = 0x2f, [0x1b] = 0x30, [0x1c] = 0x28, [0x1d] = 0xe0, [0x1e] = 0x04,
    [0x1f] = 0x16, [0x20] = 0x07, [0x21] = 0x09, [0x22] = 0x0a, [0x23] = 0x0b,
    [0x24] = 0x0d, [0x25] = 0x0e, [0x26] = 0x0f, [0x27] = 0x33, [0x28] = 0x34,
    [0x29] = 0x35, [0x2a] = 0xe1, [0x2b] = 0x31, [0x2c] = 0x1d, [0x2d] = 0x1b,
    [0x2e] = 0x06, [0x2f] = 0x19, [0x30] = 0x05, [0x31] = 0x11, [0x32] = 0x10,
    [0x33] = 0x36, [0x34] = 0x37, [0x35] = 0x38, [0x36] = 0xe5, [0x37] = 0x55,
    [0x38] = 0xe2, [0x39] = 0x2c, [0x3a] = 0x39, [0x3b] = 0x3a, [0x3c] = 0x3b,
    [0x3d] = 0x3c, [0x3e] = 0x3d, [0x3f] = 0x3e, [0x40] = 0x3f, [0x41] = 0x40,
    [0x42] = 0x41, [0x43] = 0x42, [0x44] = 0x43, [0x45] = 0x53, [0x46] = 0x47,
    [0x47] = 0x5f, [0x48] = 0x60, [0x49] = 0x61, [0x4a] = 0x56, [0x4b] = 0x5c,
    [0x4c] = 0x5d, [0x4d] = 0x5e, [0x4e] = 0x57, [0x4f] = 0x59, [0x50] = 0x5a,
    [0x51] = 0x5b, [0x52] = 0x62, [0x53] = 0x63, [0x54] = 0x46, [0x56] = 0x64,
    [0x57] = 0x44, [0x58] = 0x45, [0x70] = 0x88, [0x73] = 0x87, [0x79] = 0x8a,
    [0x7b] = 0x8b, [0x7d] = 0x89,
};

/* The same for codes sent after an E0 prefix. */
static const uint8_t usage_e0[0x80] = {
    [0x1c] = 0x58, [0x1d] = 0xe4, [0x35] = 0x54, [0x37] = 0x46, [0x38] = 0xe6,
    [0x47] = 0x4a, [0x48] = 0x52, [0x49] = 0x4b, [0x4b] = 0x50, [0x4d] = 0x4f,
    [0x4f] = 0x4d, [0x50] = 0x51, [0x51] = 0x4e, [0x52] = 0x49, [0x53] = 0x4c,
    [0x5b] = 0xe3, [0x5c] = 0xe7, [0x5d] = 0x65, [0x5e] = 0x66,
};

uint8_t usb_hid_usage_of_scancode(uint16_t scancode)
{
    if (scancode == INPUT_SCANCODE_PAUSE)
        return 0x48;
    if (scancode < 0x80)
        return usage_plain[scancode];
    if ((scancode & 0xff00) == 0xe000 && (scancode & 0xff) < 0x80)
        return usage_e0[scancode & 0x7f];
    return 0;
}

static void current_report(struct usb_hid_keyboard *k, uint8_t r[USB_KEYBOARD_REPORT_SIZE])
{
    memset(r, 0, USB_KEYBOARD_REPORT_SIZE);
    r[0] = k->modifiers;
    if (k->nkeys > MAX_KEYS)
        memset(r + 2, USAGE_ROLLOVER, MAX_KEYS);
    else
        memcpy(r + 2, k->keys, k->nkeys);
}

/* Queue the current state; when the queue is full the newest entry takes
 * it, which still leaves the guest with the right keys held. */
static void queue_report(struct usb_hid_keyboard *k)
{
    uint8_t r[USB_KEYBOARD_REPORT_SIZE];
    current_report(k, r);
    if (k->q_len < QUEUE_LEN) {
        memcpy(k->queue[(k->q_head + k->q_len) % QUEUE_LEN], r, sizeof(r));
        k->q_len++;
    } else {
        memcpy(k->queue[(k->q_head + QUEUE_LEN - 1) % QUEUE_LEN], r, sizeof(r));
    }
}

/* Update the held keys; returns whether anything changed. */
static bool apply_key(struct usb_hid_keyboard *k, uint8_t usage, bool down)
{
    if (usage >= USAGE_LEFT_CTRL) {
        uint8_t bit = (uint8_t)(1u << (usage - USAGE_LEFT_CTRL));
        uint8_t old = k->modifiers;
        k->modifiers = down ? (old | bit) : (old & ~bit);
        return k->modifiers != old;
    }
    unsigned i = 0;
    while (i < MIN(k->nkeys, (unsigned)MAX_KEYS + 1) && k->keys[i] != usage)
        i++;
    bool held = i < k->nkeys;
    if (down == held)
        return false;
    if (down) {
        if (k->nkeys <= MAX_KEYS)
            k->keys[k->nkeys++] = usage;    /* the seventh only marks rollover */
        return true;
    }
    memmove(k->keys + i, k->keys + i + 1, k->nkeys - i - 1);
    k->nkeys--;
    return true;
}

void usb_hid_keyboard_key(struct usb_hid_keyboard *k, uint16_t scancode, bool down)
{
    uint8_t usage = usb_hid_usage_of_scancode(scancode);
    if (!usage)
        return;
    g_mutex_lock(&k->lock);
    bool changed = false;
    if (k->configuration) {
        if (scancode == INPUT_SCANCODE_PAUSE) {
            /* Make only on a PC keyboard: press and release here. */
            if (apply_key(k, usage, true))
                queue_report(k);
            if (apply_key(k, usage, false))
                queue_report(k);
            changed = true;
        } else if (apply_key(k, usage, down)) {
            queue_report(k);
            changed = true;
        }
    }
    bool wake = changed && k->remote_wakeup;
    g_mutex_unlock(&k->lock);
    if (wake && k->dev.wakeup)
        k->dev.wakeup(&k->dev);
    if (changed && k->dev.data_ready)
        k->dev.data_ready(&k->dev);
}

bool usb_hid_keyboard_active(struct usb_hid_keyboard *k)
{
    g_mutex_lock(&k->lock);
    bool on = k->configuration != 0;
    g_mutex_unlock(&k->lock);
    return on;
}

uint8_t usb_hid_keyboard_leds(struct usb_hid_keyboard *k)
{
    g_mutex_lock(&k->lock);
    uint8_t leds = k->leds;
    g_mutex_unlock(&k->lock);
    return leds;
}

static int standard_request(struct usb_hid_keyboard *k, const struct usb_setup *s, uint8_t *data)
{
    unsigned recip = s->request_type & 0x1f;
    switch (s->request) {
    case USB_REQ_GET_DESCRIPTOR: {
        unsigned dt = s->value >> 8;
        uint8_t c[CONFIG_TOTAL];
        config_desc(c);
        if (dt == USB_DT_DEVICE)
            return copy_out(data, s->length, device_desc, sizeof(device_desc));
        if (dt == USB_DT_CONFIG)
            return copy_out(data, s->length, c, sizeof(c));
        if (dt == USB_DT_STRING)
            return string_desc(s->value & 0xff, data, s->length);
        if (dt == USB_DT_REPORT && recip == 1)
            return copy_out(data, s->length, report_desc, sizeof(report_desc));
        if (dt == USB_DT_HID && recip == 1)
            return copy_out(data, s->length, c + 18, 9);
        return USB_RET_STALL;
    }
    case USB_REQ_GET_STATUS: {
        if (!(s->request_type & USB_DIR_IN))
            return USB_RET_STALL;
        uint8_t st[2] = { 0, 0 };
        if (recip == 2)
            st[0] = k->halted;
        else if (recip == 0)
            st[0] = k->remote_wakeup ? 2 : 0;
        return copy_out(data, s->length, st, 2);
    }
    case USB_REQ_GET_CONFIGURATION:
        return copy_out(data, s->length, &k->configuration, 1);
    case USB_REQ_SET_CONFIGURATION:
        if (s->value > 1)
            return USB_RET_STALL;
        k->configuration = (uint8_t)s->value;
        k->halted = false;
        return 0;
    case USB_REQ_GET_INTERFACE: {
        uint8_t alt = 0;
        return copy_out(data, s->length, &alt, 1);
    }
    case USB_REQ_SET_INTERFACE:
        return s->value == 0 ? 0 : USB_RET_STALL;
    case USB_REQ_CLEAR_FEATURE:
    case USB_REQ_SET_FEATURE: {
        bool set = s->request == USB_REQ_SET_FEATURE;
        if (recip == 2 && s->value == 0)            /* endpoint halt */
            k->halted = set;
        else if (recip == 0 && s->value == 1)       /* remote wakeup */
            k->remote_wakeup = set;
        return 0;
    }
    }
    return USB_RET_STALL;
}

static int class_request(struct usb_hid_keyboard *k, const struct usb_setup *s, uint8_t *data)
{
    switch (s->request) {
    case HID_GET_REPORT: {
        uint8_t r[USB_KEYBOARD_REPORT_SIZE];
        current_report(k, r);
        return copy_out(data, s->length, r, sizeof(r));
    }
    case HID_GET_IDLE:
        return copy_out(data, s->length, &k->idle, 1);
    case HID_GET_PROTOCOL:
        return copy_out(data, s->length, &k->protocol, 1);
    case HID_SET_IDLE:
        k->idle = (uint8_t)(s->value >> 8);
        return 0;
    case HID_SET_PROTOCOL:
        /* Boot and report protocol send the same reports. */
        k->protocol = (uint8_t)(s->value & 1);
        return 0;
    case HID_SET_REPORT:
        /* The output report: the LEDs. */
        if ((s->value >> 8) == 2 && s->length >= 1)
            k->leds = data[0] & 0x1f;
        return 0;
    }
    return USB_RET_STALL;
}

static int keyboard_control(struct usb_device *dev, const struct usb_setup *s, uint8_t *data)
{
    struct usb_hid_keyboard *k = dev->opaque;
    unsigned type = s->request_type & 0x60, recip = s->request_type & 0x1f;
    int ret = USB_RET_STALL;
    g_mutex_lock(&k->lock);
    if (type == 0x00)
        ret = standard_request(k, s, data);
    else if (type == 0x20 && recip == 1)
        ret = class_request(k, s, data);
    g_mutex_unlock(&k->lock);
    return ret;
}

static int keyboard_data_in(struct usb_device *dev, unsigned ep, uint8_t *buf, size_t len)
{
    struct usb_hid_keyboard *k = dev->opaque;
    int ret;
    g_mutex_lock(&k->lock);
    if (ep != 1 || k->configuration == 0 || k->halted) {
        ret = USB_RET_STALL;
    } else if (k->q_len == 0) {
        ret = USB_RET_NAK;
    } else {
        ret = copy_out(buf, len, k->queue[k->q_head], USB_KEYBOARD_REPORT_SIZE);
        k->q_head = (k->q_head + 1) % QUEUE_LEN;
        k->q_len--;
    }
    g_mutex_unlock(&k->lock);
    return ret;
}

static int keyboard_data_out(struct usb_device *dev, unsigned ep, const uint8_t *buf, size_t len)
{
    (void)dev; (void)ep; (void)buf; (void)len;
    return USB_RET_STALL;
}

static void keyboard_reset(struct usb_device *dev)
{
    struct usb_hid_keyboard *k = dev->opaque;
    g_mutex_lock(&k->lock);
    k->configuration = 0;
    k->idle = 0;
    k->protocol = 1;
    k->leds = 0;
    k->halted = false;
    k->remote_wakeup = false;
    k->modifiers = 0;
    k->nkeys = 0;
    k->q_head = k->q_len = 0;
    g_mutex_unlock(&k->lock);
}

static void keyboard_save(struct usb_device *dev, struct state_out *o)
{
    struct usb_hid_keyboard *k = dev->opaque;
    g_mutex_lock(&k->lock);
    const uint8_t b[] = { k->configuration, k->idle, k->protocol, k->leds, k->halted,
                          k->remote_wakeup, k->modifiers, (uint8_t)k->nkeys };
    state_out_bytes(o, b, sizeof(b));
    state_out_bytes(o, k->keys, sizeof(k->keys));
    state_out_u8(o, (uint8_t)k->q_len);
    for (unsigned i = 0; i < k->q_len; i++)
        state_out_bytes(o, k->queue[(k->q_head + i) % QUEUE_LEN], USB_KEYBOARD_REPORT_SIZE);
    g_mutex_unlock(&k->lock);
}

static bool keyboard_load(struct usb_device *dev, struct state_in *in, GError **error)
{
    struct usb_hid_keyboard *k = dev->opaque;
    uint8_t b[8], keys[MAX_KEYS + 1];
    state_in_bytes(in, b, sizeof(b));
    state_in_bytes(in, keys, sizeof(keys));
    unsigned n = state_in_u8(in);
    if (n > QUEUE_LEN)
        return state_in_invalid(in, error, _("%u queued keyboard reports"), n);
    uint8_t queue[QUEUE_LEN][USB_KEYBOARD_REPORT_SIZE];
    state_in_bytes(in, queue, (size_t)n * USB_KEYBOARD_REPORT_SIZE);
    if (in->short_read)
        return state_in_invalid(in, error, _("truncated"));
    if (b[0] > 1 || b[2] > 1 || b[7] > MAX_KEYS + 1)
        return state_in_invalid(in, error, _("keyboard configuration %u, protocol %u, %u keys"),
                                b[0], b[2], b[7]);
    g_mutex_lock(&k->lock);
    k->configuration = b[0];
    k->idle = b[1];
    k->protocol = b[2];
    k->leds = b[3] & 0x1f;
    k->halted = b[4];
    k->remote_wakeup = b[5];
    k->modifiers = b[6];
    k->nkeys = b[7];
    memcpy(k->keys, keys, sizeof(keys));
    memcpy(k->queue, queue, sizeof(queue));
    k->q_head = 0;
    k->q_len = n;
    g_mutex_unlock(&k->lock);
    return true;
}

static const struct usb_device_ops keyboard_ops = {
    .control = keyboard_control,
    .data_in = keyboard_data_in,
    .data_out = keyboard_data_out,
    .reset = keyboard_reset,
    .save = keyboard_save,
    .load = keyboard_load,
};

static void sink_key(void *opaque, uint16_t scancode, bool down)
{
    usb_hid_keyboard_key(opaque, scancode, down);
}

static bool sink_key_active(void *opaque)
{
    return usb_hid_keyboard_active(opaque);
}

static const struct input_sink_ops keyboard_sink = {
    .key = sink_key,
    .key_active = sink_key_active,
};

struct usb_hid_keyboard *usb_hid_keyboard_new(struct input_router *router)
{
    struct usb_hid_keyboard *k = g_new0(struct usb_hid_keyboard, 1);
    g_mutex_init(&k->lock);
    k->dev.ops = &keyboard_ops;
    k->dev.opaque = k;
    k->dev.full_speed = true;
    k->protocol = 1;
    k->router = router;
    if (router)
        k->sink_id = input_router_add_sink(router, &keyboard_sink, k);
    return k;
}

void usb_hid_keyboard_free(struct usb_hid_keyboard *k)
{
    if (!k)
        return;
    if (k->router)
        input_router_remove_sink(k->router, k->sink_id);
    g_mutex_clear(&k->lock);
    g_free(k);
}

struct usb_device *usb_hid_keyboard_device(struct usb_hid_keyboard *k)
{
    return &k->dev;
}
