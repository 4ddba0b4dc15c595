/* The input router: display clients' keys and pointer to the guest's input
 * devices. */
#include "input.h"

#include <glib.h>

struct sink {
    unsigned id;
    const struct input_sink_ops *ops;
    void *opaque;
};

struct input_router {
    GArray *sinks; /* struct sink */
    unsigned next_id;
    bool have_last;
    int last_x, last_y;
    unsigned last_mask;
};

struct input_router *input_router_new(void)
{
    struct input_router *r = g_new0(struct input_router, 1);
    r->sinks = g_array_new(FALSE, FALSE, sizeof(struct sink));
    r->next_id = 1;
    return r;
}

void input_router_free(struct input_router *r)
{
    if (!r)
        return;
    g_array_free(r->sinks, TRUE);
    g_free(r);
}

unsigned input_router_add_sink(struct input_router *r,
                               const struct input_sink_ops *ops, void *opaque)
{
    struct sink s = { r->next_id++, ops, opaque };
    g_array_append_val(r->sinks, s);
    return s.id;
}

void input_router_remove_sink(struct input_router *r, unsigned id)
{
    for (guint i = 0; i < r->sinks->len; i++) {
        if (g_array_index(r->sinks, struct sink, i).id == id) {
            g_array_remove_index(r->sinks, i);
            return;
        }
    }
}

void input_send_key(struct input_router *r, uint16_t scancode, bool down)
{
    if (!scancode)
        return;
    bool optional_active = false;
    for (guint i = 0; i < r->sinks->len; i++) {
        struct sink *s = &g_array_index(r->sinks, struct sink, i);
        if (s->ops->key && s->ops->key_active && s->ops->key_active(s->opaque))
            optional_active = true;
    }
    for (guint i = 0; i < r->sinks->len; i++) {
        struct sink *s = &g_array_index(r->sinks, struct sink, i);
        if (!s->ops->key)
            continue;
        bool optional = s->ops->key_active != NULL;
        if (optional_active ? (optional && s->ops->key_active(s->opaque)) : !optional)
            s->ops->key(s->opaque, scancode, down);
    }
}

bool input_router_absolute(struct input_router *r)
{
    for (guint i = 0; i < r->sinks->len; i++) {
        struct sink *s = &g_array_index(r->sinks, struct sink, i);
        if (s->ops->pointer_abs && (!s->ops->abs_active || s->ops->abs_active(s->opaque)))
            return true;
    }
    return false;
}

static int scale_abs(int v, unsigned size)
{
    if (v < 0)
        v = 0;
    if (size <= 1)
        return 0;
    if ((unsigned)v >= size)
        v = (int)size - 1;
    return (int)(((int64_t)v * INPUT_ABS_MAX) / (size - 1));
}

void input_send_pointer(struct input_router *r, int x, int y,
                        unsigned width, unsigned height, unsigned rfb_mask)
{
    /* Wheel steps arrive as presses of buttons 4 (up) and 5 (down). */
    unsigned pressed = rfb_mask & ~r->last_mask;
    int dz = 0;
    if (pressed & (1u << 3))
        dz -= 1;
    if (pressed & (1u << 4))
        dz += 1;
    unsigned buttons = rfb_mask & 7;

    struct sink *abs = NULL, *rel = NULL;
    for (guint i = 0; i < r->sinks->len; i++) {
        struct sink *s = &g_array_index(r->sinks, struct sink, i);
        if (!abs && s->ops->pointer_abs &&
            (!s->ops->abs_active || s->ops->abs_active(s->opaque)))
            abs = s;
        if (!rel && s->ops->pointer_rel)
            rel = s;
    }

    int dx = r->have_last ? x - r->last_x : 0;
    int dy = r->have_last ? y - r->last_y : 0;
    r->have_last = true;
    r->last_x = x;
    r->last_y = y;
    bool changed = dx || dy || dz || buttons != (r->last_mask & 7);
    r->last_mask = rfb_mask;

    if (abs)
        abs->ops->pointer_abs(abs->opaque, scale_abs(x, width),
                              scale_abs(y, height), dz, buttons);
    else if (rel && changed)
        rel->ops->pointer_rel(rel->opaque, dx, dy, dz, buttons);
}

unsigned input_scancode_set1_bytes(uint16_t scancode, bool down, uint8_t out[6])
{
    if (scancode == INPUT_SCANCODE_PAUSE) {
        if (!down)
            return 0; /* Pause has no break sequence */
        static const uint8_t pause[6] = { 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5 };
        for (int i = 0; i < 6; i++)
            out[i] = pause[i];
        return 6;
    }
    uint8_t code = scancode & 0x7f;
    if (code == 0 || (scancode & 0xff00 && (scancode & 0xff00) != 0xe000) || (scancode & 0x80))
        return 0;
    unsigned n = 0;
    if (scancode & 0xe000)
        out[n++] = 0xe0;
    out[n++] = down ? code : (uint8_t)(code | 0x80);
    return n;
}

/* Set-1 make code (index) to set-2 make code, for keys without prefix. */
static const uint8_t set2_plain[0x59] = {
    [0x01] = 0x76, [0x02] = 0x16, [0x03] = 0x1e, [0x04] = 0x26, [0x05] = 0x25,
    [0x06] = 0x2e, [0x07] = 0x36, [0x08] = 0x3d, [0x09] = 0x3e, [0x0a] = 0x46,
    [0x0b] = 0x45, [0x0c] = 0x4e, [0x0d] = 0x55, [0x0e] = 0x66, [0x0f] = 0x0d,
    [0x10] = 0x15, [0x11] = 0x1d, [0x12] = 0x24, [0x13] = 0x2d, [0x14] = 0x2c,
    [0x15] = 0x35, [0x16] = 0x3c, [0x17] = 0x43, [0x18] = 0x44, [0x19] = 0x4d,
    [0x1a] = 0x54, [0x1b] = 0x5b, [0x1c] = 0x5a, [0x1d] = 0x14, [0x1e] = 0x1c,
    [0x1f] = 0x1b, [0x20] = 0x23, [0x21] = 0x2b, [0x22] = 0x34, [0x23] = 0x33,
    [0x24] = 0x3b, [0x25] = 0x42, [0x26] = 0x4b, [0x27] = 0x4c, [0x28] = 0x52,
    [0x29] = 0x0e, [0x2a] = 0x12, [0x2b] = 0x5d, [0x2c] = 0x1a, [0x2d] = 0x22,
    [0x2e] = 0x21, [0x2f] = 0x2a, [0x30] = 0x32, [0x31] = 0x31, [0x32] = 0x3a,
    [0x33] = 0x41, [0x34] = 0x49, [0x35] = 0x4a, [0x36] = 0x59, [0x37] = 0x7c,
    [0x38] = 0x11, [0x39] = 0x29, [0x3a] = 0x58, [0x3b] = 0x05, [0x3c] = 0x06,
    [0x3d] = 0x04, [0x3e] = 0x0c, [0x3f] = 0x03, [0x40] = 0x0b, [0x41] = 0x83,
    [0x42] = 0x0a, [0x43] = 0x01, [0x44] = 0x09, [0x45] = 0x77, [0x46] = 0x7e,
    [0x47] = 0x6c, [0x48] = 0x75, [0x49] = 0x7d, [0x4a] = 0x7b, [0x4b] = 0x6b,
    [0x4c] = 0x73, [0x4d] = 0x74, [0x4e] = 0x79, [0x4f] = 0x69, [0x50] = 0x72,
    [0x51] = 0x7a, [0x52] = 0x70, [0x53] = 0x71, [0x54] = 0x84, [0x56] = 0x61,
    [0x57] = 0x78, [0x58] = 0x07,
};

/* E0-prefixed keys: set-1 code to set-2 code. */
static const struct { uint8_t set1, set2; } set2_extended[] = {
    { 0x1c, 0x5a }, { 0x1d, 0x14 }, { 0x35, 0x4a }, { 0x37, 0x7c }, { 0x38, 0x11 },
    { 0x47, 0x6c }, { 0x48, 0x75 }, { 0x49, 0x7d }, { 0x4b, 0x6b }, { 0x4d, 0x74 },
    { 0x4f, 0x69 }, { 0x50, 0x72 }, { 0x51, 0x7a }, { 0x52, 0x70 }, { 0x53, 0x71 },
    { 0x5b, 0x1f }, { 0x5c, 0x27 }, { 0x5d, 0x2f }, { 0x46, 0x7e },
};

unsigned input_scancode_set2_bytes(uint16_t scancode, bool down, uint8_t out[8])
{
    if (scancode == INPUT_SCANCODE_PAUSE) {
        if (!down)
            return 0;
        static const uint8_t pause[8] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 };
        for (int i = 0; i < 8; i++)
            out[i] = pause[i];
        return 8;
    }
    uint8_t code = 0;
    unsigned n = 0;
    if ((scancode & 0xff00) == 0xe000) {
        for (size_t i = 0; i < G_N_ELEMENTS(set2_extended); i++)
            if (set2_extended[i].set1 == (scancode & 0xff))
                code = set2_extended[i].set2;
        if (code)
            out[n++] = 0xe0;
    } else if (scancode < G_N_ELEMENTS(set2_plain)) {
        code = set2_plain[scancode];
    }
    if (!code)
        return 0;
    if (!down)
        out[n++] = 0xf0;
    out[n++] = code;
    return n;
}

uint16_t input_qnum_to_scancode(uint32_t qnum)
{
    if (qnum == 0 || qnum > 0xff)
        return 0;
    if (qnum == 0xc6)  /* how the extended key event encodes Pause */
        return INPUT_SCANCODE_PAUSE;
    if (qnum & 0x80)
        return 0xe000 | (qnum & 0x7f);
    return (uint16_t)qnum;
}

/* Printable ASCII on a US keyboard: index = keysym - 0x20. */
static const uint8_t ascii_scancodes[0x5f] = {
    0x39, 0x02, 0x28, 0x04, 0x05, 0x06, 0x08, 0x28, /*  !"#$%&' */
    0x0a, 0x0b, 0x09, 0x0d, 0x33, 0x0c, 0x34, 0x35, /* ()*+,-./ */
    0x0b, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* 01234567 */
    0x09, 0x0a, 0x27, 0x27, 0x33, 0x0d, 0x34, 0x35, /* 89:;<=>? */
    0x03, 0x1e, 0x30, 0x2e, 0x20, 0x12, 0x21, 0x22, /* @ABCDEFG */
    0x23, 0x17, 0x24, 0x25, 0x26, 0x32, 0x31, 0x18, /* HIJKLMNO */
    0x19, 0x10, 0x13, 0x1f, 0x14, 0x16, 0x2f, 0x11, /* PQRSTUVW */
    0x2d, 0x15, 0x2c, 0x1a, 0x2b, 0x1b, 0x07, 0x0c, /* XYZ[\]^_ */
    0x29, 0x1e, 0x30, 0x2e, 0x20, 0x12, 0x21, 0x22, /* `abcdefg */
    0x23, 0x17, 0x24, 0x25, 0x26, 0x32, 0x31, 0x18, /* hijklmno */
    0x19, 0x10, 0x13, 0x1f, 0x14, 0x16, 0x2f, 0x11, /* pqrstuvw */
    0x2d, 0x15, 0x2c, 0x1a, 0x2b, 0x1b, 0x29,       /* xyz{|}~ */
};

static const struct { uint16_t keysym; uint16_t scancode; } special_keys[] = {
    { 0xff08, 0x0e },   /* BackSpace */
    { 0xff09, 0x0f },   /* Tab */
    { 0xfe20, 0x0f },   /* ISO_Left_Tab */
    { 0xff0d, 0x1c },   /* Return */
    { 0xff1b, 0x01 },   /* Escape */
    { 0xffff, 0xe053 }, /* Delete */
    { 0xff50, 0xe047 }, /* Home */
    { 0xff51, 0xe04b }, /* Left */
    { 0xff52, 0xe048 }, /* Up */
    { 0xff53, 0xe04d }, /* Right */
    { 0xff54, 0xe050 }, /* Down */
    { 0xff55, 0xe049 }, /* Prior */
    { 0xff56, 0xe051 }, /* Next */
    { 0xff57, 0xe04f }, /* End */
    { 0xff63, 0xe052 }, /* Insert */
    { 0xff61, 0xe037 }, /* Print */
    { 0xff15, 0x54 },   /* Sys_Req */
    { 0xff14, 0x46 },   /* Scroll_Lock */
    { 0xff13, INPUT_SCANCODE_PAUSE },
    { 0xff67, 0xe05d }, /* Menu */
    { 0xff7f, 0x45 },   /* Num_Lock */
    { 0xff8d, 0xe01c }, /* KP_Enter */
    { 0xff95, 0x47 }, { 0xff96, 0x4b }, { 0xff97, 0x48 }, { 0xff98, 0x4d },
    { 0xff99, 0x50 }, { 0xff9a, 0x49 }, { 0xff9b, 0x51 }, { 0xff9c, 0x4f },
    { 0xff9d, 0x4c }, { 0xff9e, 0x52 }, { 0xff9f, 0x53 },
    { 0xffaa, 0x37 },   /* KP_Multiply */
    { 0xffab, 0x4e },   /* KP_Add */
    { 0xffac, 0x53 },   /* KP_Separator */
    { 0xffad, 0x4a },   /* KP_Subtract */
    { 0xffae, 0x53 },   /* KP_Decimal */
    { 0xffaf, 0xe035 }, /* KP_Divide */
    { 0xffb0, 0x52 }, { 0xffb1, 0x4f }, { 0xffb2, 0x50 }, { 0xffb3, 0x51 },
    { 0xffb4, 0x4b }, { 0xffb5, 0x4c }, { 0xffb6, 0x4d }, { 0xffb7, 0x47 },
    { 0xffb8, 0x48 }, { 0xffb9, 0x49 },
    { 0xffbe, 0x3b }, { 0xffbf, 0x3c }, { 0xffc0, 0x3d }, { 0xffc1, 0x3e },
    { 0xffc2, 0x3f }, { 0xffc3, 0x40 }, { 0xffc4, 0x41 }, { 0xffc5, 0x42 },
    { 0xffc6, 0x43 }, { 0xffc7, 0x44 }, { 0xffc8, 0x57 }, { 0xffc9, 0x58 },
    { 0xffe1, 0x2a },   /* Shift_L */
    { 0xffe2, 0x36 },   /* Shift_R */
    { 0xffe3, 0x1d },   /* Control_L */
    { 0xffe4, 0xe01d }, /* Control_R */
    { 0xffe5, 0x3a },   /* Caps_Lock */
    { 0xffe7, 0xe05b }, /* Meta_L */
    { 0xffe8, 0xe05c }, /* Meta_R */
    { 0xffe9, 0x38 },   /* Alt_L */
    { 0xffea, 0xe038 }, /* Alt_R */
    { 0xfe03, 0xe038 }, /* ISO_Level3_Shift (AltGr) */
    { 0xffeb, 0xe05b }, /* Super_L */
    { 0xffec, 0xe05c }, /* Super_R */
};

uint16_t input_keysym_to_scancode(uint32_t keysym)
{
    if (keysym >= 0x20 && keysym < 0x7f)
        return ascii_scancodes[keysym - 0x20];
    for (size_t i = 0; i < G_N_ELEMENTS(special_keys); i++)
        if (special_keys[i].keysym == keysym)
            return special_keys[i].scancode;
    return 0;
}
