/* The RFB handshake (version, security, init) and client-to-server
 * messages. */
#include "vnc_private.h"

#include <glib/gi18n.h>
#include <string.h>

#include "framebuffer.h"
#include "input/input.h"

#define SECURITY_NONE 1
#define SECURITY_VNC_AUTH 2

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void send_u32(struct vnc_client *c, uint32_t v)
{
    uint8_t b[4] = { v >> 24, v >> 16, v >> 8, (uint8_t)v };
    vnc_client_send(c, b, 4);
}

void vnc_client_start(struct vnc_client *c)
{
    c->state = VNC_STATE_VERSION;
    vnc_client_send(c, "RFB 003.008\n", 12);
}

static uint8_t security_type(const struct vnc_client *c)
{
    return c->server->password ? SECURITY_VNC_AUTH : SECURITY_NONE;
}

static void send_failure_reason(struct vnc_client *c, const char *reason)
{
    send_u32(c, (uint32_t)strlen(reason));
    vnc_client_send(c, reason, strlen(reason));
}

static void begin_security(struct vnc_client *c, uint8_t type)
{
    if (type == SECURITY_VNC_AUTH) {
        vnc_auth_make_challenge(c->challenge);
        vnc_client_send(c, c->challenge, VNC_CHALLENGE_SIZE);
        c->state = VNC_STATE_AUTH_RESPONSE;
    } else {
        /* RFB 3.8 reports the result of None too; older versions do not. */
        if (c->minor >= 8)
            send_u32(c, 0);
        c->state = VNC_STATE_CLIENT_INIT;
    }
}

static bool handle_version(struct vnc_client *c, const uint8_t *b)
{
    /* "RFB 003.00x\n" */
    if (memcmp(b, "RFB 003.", 8) != 0 || b[11] != '\n')
        return false;
    unsigned minor = 0;
    for (int i = 8; i < 11; i++) {
        if (b[i] < '0' || b[i] > '9')
            return false;
        minor = minor * 10 + (unsigned)(b[i] - '0');
    }
    c->minor = minor >= 8 ? 8 : minor == 7 ? 7 : 3;
    if (c->minor == 3) {
        /* 3.3: the server decides the security type. */
        send_u32(c, security_type(c));
        begin_security(c, security_type(c));
    } else {
        uint8_t types[2] = { 1, security_type(c) };
        vnc_client_send(c, types, 2);
        c->state = VNC_STATE_SECURITY_CHOICE;
    }
    return true;
}

static bool handle_security_choice(struct vnc_client *c, uint8_t type)
{
    if (type != security_type(c)) {
        if (c->minor >= 8) {
            send_u32(c, 1);
            send_failure_reason(c, "Security type not offered");
            vnc_client_flush(c);
        }
        return false;
    }
    begin_security(c, type);
    return true;
}

static bool handle_auth_response(struct vnc_client *c, const uint8_t *resp)
{
    bool ok = vnc_auth_check(c->server->password, c->challenge, resp);
    memset(c->challenge, 0, sizeof c->challenge);
    if (!ok) {
        send_u32(c, 1);
        if (c->minor >= 8)
            send_failure_reason(c, "Authentication failed");
        vnc_client_flush(c);
        return false;
    }
    send_u32(c, 0);
    c->state = VNC_STATE_CLIENT_INIT;
    return true;
}

static void handle_client_init(struct vnc_client *c)
{
    struct vnc_server *s = c->server;
    /* The device may not have rendered while nobody watched: bring the
     * surface (and its size) up to date before announcing it. */
    framebuffer_refresh(s->fb);
    unsigned w = framebuffer_width(s->fb), h = framebuffer_height(s->fb);
    uint8_t b[4] = { w >> 8, (uint8_t)w, h >> 8, (uint8_t)h };
    vnc_client_send(c, b, 4);
    uint8_t pf[16];
    vnc_pixel_format_serialise(&c->enc.pf, pf);
    vnc_client_send(c, pf, 16);
    send_u32(c, (uint32_t)strlen(s->name));
    vnc_client_send(c, s->name, strlen(s->name));
    c->state = VNC_STATE_NORMAL;
    vnc_server_client_ready(s, c);
}

static void send_bgr233_colour_map(struct vnc_client *c)
{
    uint8_t hdr[6] = { 1, 0, 0, 0, 1, 0 }; /* SetColourMapEntries, first 0, 256 */
    vnc_client_send(c, hdr, sizeof hdr);
    for (unsigned i = 0; i < 256; i++) {
        unsigned r = i & 7, g = (i >> 3) & 7, bl = i >> 6;
        uint16_t v[3] = { (uint16_t)(r * 65535 / 7), (uint16_t)(g * 65535 / 7),
                          (uint16_t)(bl * 65535 / 3) };
        uint8_t e[6];
        for (int k = 0; k < 3; k++) {
            e[2 * k] = v[k] >> 8;
            e[2 * k + 1] = (uint8_t)v[k];
        }
        vnc_client_send(c, e, 6);
    }
}

static bool handle_set_pixel_format(struct vnc_client *c, const uint8_t *b)
{
    struct vnc_pixel_format pf;
    vnc_pixel_format_parse(&pf, b + 4);
    if (!vnc_pixel_format_supported(&pf))
        return false;
    c->colour_map = !pf.true_colour;
    if (c->colour_map) {
        vnc_pixel_format_bgr233(&c->enc.pf);
        send_bgr233_colour_map(c);
    } else {
        c->enc.pf = pf;
    }
    /* Pixels already sent are in the old format; resend all. */
    vnc_client_mark_dirty(c, 0, 0, FRAMEBUFFER_MAX_WIDTH, FRAMEBUFFER_MAX_HEIGHT);
    return true;
}

static void handle_set_encodings(struct vnc_client *c, const uint8_t *list, unsigned n)
{
    bool chosen = false;
    bool ext_key = false, pointer_change = false;
    c->want_desktop_size = false;
    c->enc.encoding = VNC_ENCODING_RAW;
    for (unsigned i = 0; i < n; i++) {
        int32_t e = (int32_t)be32(list + 4 * i);
        switch (e) {
        case VNC_ENCODING_RAW:
        case VNC_ENCODING_ZLIB:
        case VNC_ENCODING_ZRLE:
            if (!chosen) {
                c->enc.encoding = e;
                chosen = true;
            }
            break;
        case VNC_ENCODING_DESKTOP_SIZE:
            c->want_desktop_size = true;
            break;
        case VNC_ENCODING_QEMU_EXT_KEY:
            ext_key = true;
            break;
        case VNC_ENCODING_QEMU_POINTER_CHANGE:
            pointer_change = true;
            break;
        default:
            if (e >= VNC_ENCODING_COMPRESS_LEVEL0 && e <= VNC_ENCODING_COMPRESS_LEVEL0 + 9)
                vnc_encoder_set_level(&c->enc, e - VNC_ENCODING_COMPRESS_LEVEL0);
            break;
        }
    }
    if (ext_key && !c->want_ext_key)
        c->ext_key_acked = false;
    c->want_ext_key = ext_key;
    if (pointer_change && !c->want_pointer_change)
        c->pointer_mode_sent = -1;
    c->want_pointer_change = pointer_change;
}

static void handle_update_request(struct vnc_client *c, const uint8_t *b)
{
    struct framebuffer *fb = c->server->fb;
    unsigned fw = framebuffer_width(fb), fh = framebuffer_height(fb);
    unsigned x = be16(b + 2), y = be16(b + 4), w = be16(b + 6), h = be16(b + 8);
    if (x >= fw || y >= fh) {
        x = y = w = h = 0;
    } else {
        w = MIN(w, fw - x);
        h = MIN(h, fh - y);
    }
    if (!b[1])
        vnc_client_mark_dirty(c, x, y, w, h);
    c->update_requested = true;
    c->req_x = x;
    c->req_y = y;
    c->req_w = w;
    c->req_h = h;
    vnc_server_schedule_flush(c->server);
}

static void send_key(struct vnc_client *c, uint16_t scancode, bool down)
{
    if (c->server->input && scancode)
        input_send_key(c->server->input, scancode, down);
}

/* One message from the buffer at b (avail bytes); returns bytes consumed,
 * 0 if incomplete, -1 if the client must be dropped. */
static long handle_message(struct vnc_client *c, const uint8_t *b, size_t avail)
{
    switch (b[0]) {
    case 0: /* SetPixelFormat */
        if (avail < 20)
            return 0;
        return handle_set_pixel_format(c, b) ? 20 : -1;
    case 2: { /* SetEncodings */
        if (avail < 4)
            return 0;
        size_t len = 4 + 4 * (size_t)be16(b + 2);
        if (avail < len)
            return 0;
        handle_set_encodings(c, b + 4, be16(b + 2));
        return (long)len;
    }
    case 3: /* FramebufferUpdateRequest */
        if (avail < 10)
            return 0;
        handle_update_request(c, b);
        return 10;
    case 4: /* KeyEvent */
        if (avail < 8)
            return 0;
        send_key(c, input_keysym_to_scancode(be32(b + 4)), b[1] != 0);
        return 8;
    case 5: { /* PointerEvent */
        if (avail < 6)
            return 0;
        struct framebuffer *fb = c->server->fb;
        if (c->server->input) {
            input_send_pointer(c->server->input, be16(b + 2), be16(b + 4),
                               framebuffer_width(fb), framebuffer_height(fb), b[1]);
            /* The guest may have started (or stopped) driving a tablet. */
            if (c->want_pointer_change &&
                (int)input_router_absolute(c->server->input) != c->pointer_mode_sent)
                vnc_server_schedule_flush(c->server);
        }
        return 6;
    }
    case 6: /* ClientCutText: skipped, the guest has no clipboard agent */
        if (avail < 8)
            return 0;
        c->discard = be32(b + 4);
        return 8;
    case 255: /* QEMU client message */
        if (avail < 2)
            return 0;
        if (b[1] != 0)
            return -1;
        if (avail < 12)
            return 0;
        {
            uint32_t keysym = be32(b + 4), keycode = be32(b + 8);
            uint16_t sc = keycode ? input_qnum_to_scancode(keycode)
                                  : input_keysym_to_scancode(keysym);
            send_key(c, sc, be16(b + 2) != 0);
        }
        return 12;
    default:
        return -1;
    }
}

bool vnc_client_process_input(struct vnc_client *c)
{
    size_t pos = 0;
    bool ok = true;
    while (ok && c->state != VNC_STATE_CLOSED) {
        const uint8_t *b = c->in->data + pos;
        size_t avail = c->in->len - pos;
        if (c->discard) {
            size_t n = MIN(avail, c->discard);
            c->discard -= n;
            pos += n;
            if (c->discard)
                break;
            continue;
        }
        if (avail == 0)
            break;
        switch (c->state) {
        case VNC_STATE_VERSION:
            if (avail < 12)
                goto out;
            ok = handle_version(c, b);
            pos += 12;
            break;
        case VNC_STATE_SECURITY_CHOICE:
            ok = handle_security_choice(c, b[0]);
            pos += 1;
            break;
        case VNC_STATE_AUTH_RESPONSE:
            if (avail < VNC_CHALLENGE_SIZE)
                goto out;
            ok = handle_auth_response(c, b);
            pos += VNC_CHALLENGE_SIZE;
            break;
        case VNC_STATE_CLIENT_INIT:
            handle_client_init(c);
            pos += 1;
            break;
        case VNC_STATE_NORMAL: {
            long n = handle_message(c, b, avail);
            if (n < 0) {
                ok = false;
            } else if (n == 0) {
                goto out;
            } else {
                pos += (size_t)n;
            }
            break;
        }
        default:
            goto out;
        }
    }
out:
    if (c->state != VNC_STATE_CLOSED && pos)
        g_byte_array_remove_range(c->in, 0, (guint)pos);
    return ok;
}
