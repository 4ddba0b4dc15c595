/* USB HID tablet: descriptors, standard and HID class requests, and a small
 * queue of reports so that button changes are never lost between polls. */
#include "usb_hid_tablet.h"
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

struct usb_hid_tablet {
    struct usb_device dev;
    struct input_router *router;
    unsigned sink_id;
    GMutex lock;                /* router (main loop) vs controller */
    uint8_t configuration;
    uint8_t idle;
    uint8_t protocol;
    bool halted;
    bool remote_wakeup;         /* DEVICE_REMOTE_WAKEUP feature set by the host */
    /* Current state and reports not yet polled. */
    uint8_t current[USB_TABLET_REPORT_SIZE];
    uint8_t queue[QUEUE_LEN][USB_TABLET_REPORT_SIZE];
    unsigned q_head, q_len;
};

/* Absolute pointer: 3 buttons, X and Y 0..0x7FFF, relative wheel. */
static const uint8_t report_desc[] = {
    0x05, 0x01,         /* Usage Page (Generic Desktop) */
    0x09, 0x02,         /* Usage (Mouse) */
    0xa1, 0x01,         /* Collection (Application) */
    0x09, 0x01,         /*   Usage (Pointer) */
    0xa1, 0x00,         /*   Collection (Physical) */
    0x05, 0x09,         /*     Usage Page (Button) */
    0x19, 0x01,         /*     Usage Minimum (1) */
    0x29, 0x03,         /*     Usage Maximum (3) */
    0x15, 0x00,         /*     Logical Minimum (0) */
    0x25, 0x01,         /*     Logical Maximum (1) */
    0x95, 0x03,         /*     Report Count (3) */
    0x75, 0x01,         /*     Report Size (1) */
    0x81, 0x02,         /*     Input (Data, Variable, Absolute) */
    0x95, 0x01,         /*     Report Count (1) */
    0x75, 0x05,         /*     Report Size (5) */
    0x81, 0x01,         /*     Input (Constant) */
    0x05, 0x01,         /*     Usage Page (Generic Desktop) */
    0x09, 0x30,         /*     Usage (X) */
    0x09, 0x31,         /*     Usage (Y) */
    0x15, 0x00,         /*     Logical Minimum (0) */
    0x26, 0xff, 0x7f,   /*     Logical Maximum (32767) */
    0x35, 0x00,         /*     Physical Minimum (0) */
    0x46, 0xff, 0x7f,   /*     Physical Maximum (32767) */
    0x75, 0x10,         /*     Report Size (16) */
    0x95, 0x02,         /*     Report Count (2) */
    0x81, 0x02,         /*     Input (Data, Variable, Absolute) */
    0x09, 0x38,         /*     Usage (Wheel) */
    0x15, 0x81,         /*     Logical Minimum (-127) */
    0x25, 0x7f,         /*     Logical Maximum (127) */
    0x35, 0x00,         /*     Physical Minimum (0) */
    0x45, 0x00,         /*     Physical Maximum (0) */
    0x75, 0x08,         /*     Report Size (8) */
    0x95, 0x01,         /*     Report Count (1) */
    0x81, 0x06,         /*     Input (Data, Variable, Relative) */
    0xc0,               /*   End Collection */
    0xc0,               /* End Collection */
};

static const uint8_t device_desc[18] = {
    18, USB_DT_DEVICE,
    0x10, 0x01,         /* USB 1.1 */
    0, 0, 0,            /* class per interface */
    8,                  /* ep0 max packet */
    0x09, 0x12,         /* vendor 0x1209 (pid.codes) */
    0x01, 0x00,         /* product */
    0x00, 0x01,         /* release 1.00 */
    1, 2, 3,            /* strings: manufacturer, product, serial */
    1,                  /* one configuration */
};

#define CONFIG_TOTAL (9 + 9 + 9 + 7)

static void config_desc(uint8_t *d)
{
    const uint8_t c[CONFIG_TOTAL] = {
        /* configuration */
        9, USB_DT_CONFIG, CONFIG_TOTAL, 0, 1, 1, 0, 0xa0, 50,
        /* interface 0: HID, no boot protocol */
        9, USB_DT_INTERFACE, 0, 0, 1, 0x03, 0x00, 0x00, 0,
        /* HID 1.11, one report descriptor */
        9, USB_DT_HID, 0x11, 0x01, 0, 1, USB_DT_REPORT,
        (uint8_t)sizeof(report_desc), (uint8_t)(sizeof(report_desc) >> 8),
        /* endpoint 1 IN, interrupt, 8 bytes, every 10 ms */
        7, USB_DT_ENDPOINT, 0x81, 0x03, 8, 0, 10,
    };
    memcpy(d, c, sizeof(c));
}

static int string_desc(unsigned index, uint8_t *out, size_t max)
{
    static const char *const strings[] = { NULL, "Oriel", "Oriel USB Tablet", "1" };
    uint8_t buf[64];
    size_t len;
    if (index == 0) {
        buf[0] = 4; buf[1] = USB_DT_STRING; buf[2] = 0x09; buf[3] = 0x04;  /* en-US */
        len = 4;
    } else if (index < G_N_ELEMENTS(strings)) {
        const char *s = strings[index];
        len = 2;
        for (; *s && len + 2 <= sizeof(buf); s++) {
            buf[len++] = (uint8_t)*s;
            buf[len++] = 0;
        }
        buf[0] = (uint8_t)len;
        buf[1] = USB_DT_STRING;
    } else {
        return USB_RET_STALL;
    }
    len = MIN(len, max);
    memcpy(out, buf, len);
    return (int)len;
}

static int copy_out(uint8_t *data, size_t max, const uint8_t *src, size_t len)
{
    len = MIN(len, max);
    memcpy(data, src, len);
    return (int)len;
}

static int tablet_control(struct usb_device *dev, const struct usb_setup *s, uint8_t *data)
{
    struct usb_hid_tablet *t = dev->opaque;
    unsigned type = s->request_type & 0x60, recip = s->request_type & 0x1f;
    bool in = s->request_type & USB_DIR_IN;
    int ret = USB_RET_STALL;
    g_mutex_lock(&t->lock);
    if (type == 0x00) {
        switch (s->request) {
        case USB_REQ_GET_DESCRIPTOR: {
            unsigned dt = s->value >> 8;
            if (dt == USB_DT_DEVICE) {
                ret = copy_out(data, s->length, device_desc, sizeof(device_desc));
            } else if (dt == USB_DT_CONFIG) {
                uint8_t c[CONFIG_TOTAL];
                config_desc(c);
                ret = copy_out(data, s->length, c, sizeof(c));
            } else if (dt == USB_DT_STRING) {
                ret = string_desc(s->value & 0xff, data, s->length);
            } else if (dt == USB_DT_REPORT && recip == 1) {
                ret = copy_out(data, s->length, report_desc, sizeof(report_desc));
            } else if (dt == USB_DT_HID && recip == 1) {
                uint8_t c[CONFIG_TOTAL];
                config_desc(c);
                ret = copy_out(data, s->length, c + 18, 9);
            }
            break;
        }
        case USB_REQ_GET_STATUS:
            if (in) {
                uint8_t st[2] = { 0, 0 };
                if (recip == 2)
                    st[0] = t->halted;
                else if (recip == 0)
                    st[0] = t->remote_wakeup ? 2 : 0;
                ret = copy_out(data, s->length, st, 2);
            }
            break;
        case USB_REQ_GET_CONFIGURATION:
            ret = copy_out(data, s->length, &t->configuration, 1);
            break;
        case USB_REQ_SET_CONFIGURATION:
            if (s->value <= 1) {
                t->configuration = (uint8_t)s->value;
                t->halted = false;
                ret = 0;
            }
            break;
        case USB_REQ_GET_INTERFACE: {
            uint8_t alt = 0;
            ret = copy_out(data, s->length, &alt, 1);
            break;
        }
        case USB_REQ_SET_INTERFACE:
            ret = s->value == 0 ? 0 : USB_RET_STALL;
            break;
        case USB_REQ_CLEAR_FEATURE:
            if (recip == 2 && s->value == 0)   /* endpoint halt */
                t->halted = false;
            else if (recip == 0 && s->value == 1)
                t->remote_wakeup = false;
            ret = 0;
            break;
        case USB_REQ_SET_FEATURE:
            if (recip == 2 && s->value == 0)
                t->halted = true;
            else if (recip == 0 && s->value == 1)
                t->remote_wakeup = true;
            ret = 0;
            break;
        }
    } else if (type == 0x20 && recip == 1) {
        switch (s->request) {
        case HID_GET_REPORT:
            ret = copy_out(data, s->length, t->current, sizeof(t->current));
            break;
        case HID_GET_IDLE:
            ret = copy_out(data, s->length, &t->idle, 1);
            break;
        case HID_GET_PROTOCOL:
            ret = copy_out(data, s->length, &t->protocol, 1);
            break;
        case HID_SET_IDLE:
            t->idle = (uint8_t)(s->value >> 8);
            ret = 0;
            break;
        case HID_SET_PROTOCOL:
            t->protocol = (uint8_t)s->value;
            ret = 0;
            break;
        case HID_SET_REPORT:
            ret = 0;    /* no output reports: accepted and ignored */
            break;
        }
    }
    g_mutex_unlock(&t->lock);
    return ret;
}

static int tablet_data_in(struct usb_device *dev, unsigned ep, uint8_t *buf, size_t len)
{
    struct usb_hid_tablet *t = dev->opaque;
    int ret;
    g_mutex_lock(&t->lock);
    if (ep != 1 || t->configuration == 0 || t->halted) {
        ret = USB_RET_STALL;
    } else if (t->q_len == 0) {
        ret = USB_RET_NAK;
    } else {
        ret = copy_out(buf, len, t->queue[t->q_head], USB_TABLET_REPORT_SIZE);
        t->q_head = (t->q_head + 1) % QUEUE_LEN;
        t->q_len--;
    }
    g_mutex_unlock(&t->lock);
    return ret;
}

static int tablet_data_out(struct usb_device *dev, unsigned ep, const uint8_t *buf, size_t len)
{
    (void)dev; (void)ep; (void)buf; (void)len;
    return USB_RET_STALL;
}

static void tablet_reset(struct usb_device *dev)
{
    struct usb_hid_tablet *t = dev->opaque;
    g_mutex_lock(&t->lock);
    t->configuration = 0;
    t->idle = 0;
    t->protocol = 1;
    t->halted = false;
    t->remote_wakeup = false;
    t->q_head = t->q_len = 0;
    g_mutex_unlock(&t->lock);
}

static void tablet_save_op(struct usb_device *dev, struct state_out *out)
{
    usb_hid_tablet_save(dev->opaque, out);
}

static bool tablet_load_op(struct usb_device *dev, struct state_in *in, GError **error)
{
    return usb_hid_tablet_load(dev->opaque, in, error);
}

static const struct usb_device_ops tablet_ops = {
    .control = tablet_control,
    .data_in = tablet_data_in,
    .data_out = tablet_data_out,
    .reset = tablet_reset,
    .save = tablet_save_op,
    .load = tablet_load_op,
};

void usb_hid_tablet_pointer(struct usb_hid_tablet *t, int x, int y, int dz, unsigned buttons)
{
    x = CLAMP(x, 0, INPUT_ABS_MAX);
    y = CLAMP(y, 0, INPUT_ABS_MAX);
    /* HID wheel counts positive away from the user. */
    int wheel = CLAMP(-dz, -127, 127);
    uint8_t r[USB_TABLET_REPORT_SIZE] = {
        (uint8_t)(buttons & 7), (uint8_t)x, (uint8_t)(x >> 8),
        (uint8_t)y, (uint8_t)(y >> 8), (uint8_t)(int8_t)wheel,
    };
    g_mutex_lock(&t->lock);
    bool same = memcmp(r, t->current, 5) == 0 && wheel == 0;
    bool wake = !same && t->configuration && t->remote_wakeup;
    memcpy(t->current, r, sizeof(r));
    t->current[5] = 0;
    if (t->configuration && !same) {
        unsigned last = (t->q_head + t->q_len + QUEUE_LEN - 1) % QUEUE_LEN;
        if (t->q_len && t->queue[last][0] == r[0] && t->queue[last][5] == 0 && wheel == 0) {
            memcpy(t->queue[last], r, sizeof(r));      /* motion only: coalesce */
        } else if (t->q_len < QUEUE_LEN) {
            memcpy(t->queue[(t->q_head + t->q_len) % QUEUE_LEN], r, sizeof(r));
            t->q_len++;
        } else {
            memcpy(t->queue[last], r, sizeof(r));      /* full: keep the newest */
        }
    }
    g_mutex_unlock(&t->lock);
    if (wake && t->dev.wakeup)
        t->dev.wakeup(&t->dev);
    if (!same && t->dev.data_ready)
        t->dev.data_ready(&t->dev);
}

bool usb_hid_tablet_active(struct usb_hid_tablet *t)
{
    g_mutex_lock(&t->lock);
    bool on = t->configuration != 0;
    g_mutex_unlock(&t->lock);
    return on;
}

static void sink_pointer_abs(void *opaque, int x, int y, int dz, unsigned buttons)
{
    usb_hid_tablet_pointer(opaque, x, y, dz, buttons);
}

static bool sink_abs_active(void *opaque)
{
    return usb_hid_tablet_active(opaque);
}

static const struct input_sink_ops tablet_sink = {
    .pointer_abs = sink_pointer_abs,
    .abs_active = sink_abs_active,
};

struct usb_hid_tablet *usb_hid_tablet_new(struct input_router *router)
{
    struct usb_hid_tablet *t = g_new0(struct usb_hid_tablet, 1);
    g_mutex_init(&t->lock);
    t->dev.ops = &tablet_ops;
    t->dev.opaque = t;
    t->dev.full_speed = true;
    t->protocol = 1;
    t->router = router;
    if (router)
        t->sink_id = input_router_add_sink(router, &tablet_sink, t);
    return t;
}

void usb_hid_tablet_free(struct usb_hid_tablet *t)
{
    if (!t)
        return;
    if (t->router)
        input_router_remove_sink(t->router, t->sink_id);
    g_mutex_clear(&t->lock);
    g_free(t);
}

struct usb_device *usb_hid_tablet_device(struct usb_hid_tablet *t)
{
    return &t->dev;
}

void usb_hid_tablet_save(struct usb_hid_tablet *t, struct state_out *o)
{
    g_mutex_lock(&t->lock);
    const uint8_t b[] = { t->configuration, t->idle, t->protocol, t->halted, t->remote_wakeup };
    state_out_bytes(o, b, sizeof(b));
    state_out_bytes(o, t->current, sizeof(t->current));
    state_out_u8(o, (uint8_t)t->q_len);
    for (unsigned i = 0; i < t->q_len; i++)
        state_out_bytes(o, t->queue[(t->q_head + i) % QUEUE_LEN], USB_TABLET_REPORT_SIZE);
    g_mutex_unlock(&t->lock);
}

bool usb_hid_tablet_load(struct usb_hid_tablet *t, struct state_in *in, GError **error)
{
    uint8_t b[5], current[USB_TABLET_REPORT_SIZE];
    state_in_bytes(in, b, sizeof(b));
    state_in_bytes(in, current, sizeof(current));
    unsigned n = state_in_u8(in);
    if (n > QUEUE_LEN)
        return state_in_invalid(in, error, _("%u queued tablet reports"), n);
    uint8_t queue[QUEUE_LEN][USB_TABLET_REPORT_SIZE];
    state_in_bytes(in, queue, (size_t)n * USB_TABLET_REPORT_SIZE);
    if (in->short_read)
        return state_in_invalid(in, error, _("truncated"));
    if (b[0] > 1 || b[2] > 1)
        return state_in_invalid(in, error, _("tablet configuration %u, protocol %u"), b[0], b[2]);
    g_mutex_lock(&t->lock);
    t->configuration = b[0];
    t->idle = b[1];
    t->protocol = b[2];
    t->halted = b[3];
    t->remote_wakeup = b[4];
    memcpy(t->current, current, sizeof(current));
    memcpy(t->queue, queue, sizeof(queue));
    t->q_head = 0;
    t->q_len = n;
    g_mutex_unlock(&t->lock);
    return true;
}
