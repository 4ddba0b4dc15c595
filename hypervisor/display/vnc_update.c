/* Which parts of the screen each client still needs, and the
 * FramebufferUpdate messages that send them. */
#include "vnc_private.h"

#include <string.h>

#include "framebuffer.h"
#include "input/input.h"

void vnc_client_init_tiles(struct vnc_client *c, unsigned width, unsigned height)
{
    c->tiles_w = (width + VNC_TILE - 1) / VNC_TILE;
    c->tiles_h = (height + VNC_TILE - 1) / VNC_TILE;
    g_free(c->dirty);
    c->dirty = g_malloc((size_t)c->tiles_w * c->tiles_h);
    memset(c->dirty, 1, (size_t)c->tiles_w * c->tiles_h);
}

void vnc_client_mark_dirty(struct vnc_client *c, unsigned x, unsigned y,
                           unsigned w, unsigned h)
{
    if (!c->dirty || w == 0 || h == 0)
        return;
    unsigned tx0 = x / VNC_TILE, ty0 = y / VNC_TILE;
    unsigned tx1 = (unsigned)MIN(((uint64_t)x + w - 1) / VNC_TILE, c->tiles_w - 1);
    unsigned ty1 = (unsigned)MIN(((uint64_t)y + h - 1) / VNC_TILE, c->tiles_h - 1);
    for (unsigned ty = ty0; ty <= ty1 && ty < c->tiles_h; ty++)
        for (unsigned tx = tx0; tx <= tx1 && tx < c->tiles_w; tx++)
            c->dirty[ty * c->tiles_w + tx] = 1;
}

struct rect { unsigned x, y, w, h; };

/* Dirty tiles inside the requested area, merged into horizontal runs and
 * then into vertical stacks of identical runs.  Tiles sent are cleared;
 * tiles only partly inside the request stay dirty for later. */
static GArray *collect_rects(struct vnc_client *c, unsigned fw, unsigned fh)
{
    GArray *rects = g_array_new(FALSE, FALSE, sizeof(struct rect));
    unsigned rx0 = c->req_x, ry0 = c->req_y;
    unsigned rx1 = c->req_x + c->req_w, ry1 = c->req_y + c->req_h;
    if (c->req_w == 0 || c->req_h == 0)
        return rects;
    for (unsigned ty = 0; ty < c->tiles_h; ty++) {
        unsigned y0 = ty * VNC_TILE, y1 = MIN(y0 + VNC_TILE, fh);
        if (y1 <= ry0 || y0 >= ry1)
            continue;
        unsigned tx = 0;
        while (tx < c->tiles_w) {
            if (!c->dirty[ty * c->tiles_w + tx]) {
                tx++;
                continue;
            }
            unsigned start = tx;
            while (tx < c->tiles_w && c->dirty[ty * c->tiles_w + tx])
                tx++;
            unsigned x0 = MAX(start * VNC_TILE, rx0), x1 = MIN(tx * VNC_TILE, MIN(fw, rx1));
            unsigned cy0 = MAX(y0, ry0), cy1 = MIN(y1, ry1);
            if (x0 >= x1 || cy0 >= cy1)
                continue;
            for (unsigned k = start; k < tx; k++) {
                unsigned kx0 = k * VNC_TILE, kx1 = MIN(kx0 + VNC_TILE, fw);
                if (kx0 >= rx0 && kx1 <= rx1 && y0 >= ry0 && y1 <= ry1)
                    c->dirty[ty * c->tiles_w + k] = 0;
            }
            struct rect r = { x0, cy0, x1 - x0, cy1 - cy0 };
            bool merged = false;
            for (guint i = 0; i < rects->len; i++) {
                struct rect *p = &g_array_index(rects, struct rect, i);
                if (p->x == r.x && p->w == r.w && p->y + p->h == r.y) {
                    p->h += r.h;
                    merged = true;
                    break;
                }
            }
            if (!merged)
                g_array_append_val(rects, r);
        }
    }
    return rects;
}

void vnc_client_send_update(struct vnc_client *c)
{
    if (c->state != VNC_STATE_NORMAL || !c->update_requested)
        return;
    if (c->out->len >= VNC_OUTPUT_SOFT_LIMIT)
        return; /* resumed when the socket drains */

    struct framebuffer *fb = c->server->fb;
    unsigned fw = framebuffer_width(fb), fh = framebuffer_height(fb);
    bool send_resize = c->resize_pending && c->want_desktop_size;
    bool send_ext_key = c->want_ext_key && !c->ext_key_acked;
    /* Tell clients that understand it whether the pointer is absolute, so
     * they grab it only for a relative mouse. */
    int pointer_mode = c->server->input && input_router_absolute(c->server->input);
    bool send_pointer = c->want_pointer_change && pointer_mode != c->pointer_mode_sent;
    if (c->resize_pending) {
        c->resize_pending = false;
        /* The request referred to the old size; the new screen is owed
         * in full. */
        c->req_x = c->req_y = 0;
        c->req_w = fw;
        c->req_h = fh;
    }
    GArray *rects = collect_rects(c, fw, fh);
    unsigned n = rects->len + send_resize + send_ext_key + send_pointer;
    if (n == 0) {
        g_array_free(rects, TRUE);
        return; /* answered when something changes */
    }

    GByteArray *msg = g_byte_array_new();
    uint8_t hdr[4] = { 0, 0, n >> 8, (uint8_t)n };
    g_byte_array_append(msg, hdr, 4);
    if (send_ext_key) {
        vnc_put_rect_header(msg, 0, 0, 0, 0, VNC_ENCODING_QEMU_EXT_KEY);
        c->ext_key_acked = true;
    }
    if (send_pointer) {
        vnc_put_rect_header(msg, (unsigned)pointer_mode, 0, 0, 0,
                            VNC_ENCODING_QEMU_POINTER_CHANGE);
        c->pointer_mode_sent = pointer_mode;
    }
    if (send_resize)
        vnc_put_rect_header(msg, 0, 0, fw, fh, VNC_ENCODING_DESKTOP_SIZE);
    const uint32_t *px = framebuffer_const_pixels(fb);
    unsigned stride = framebuffer_stride(fb);
    bool ok = true;
    for (guint i = 0; i < rects->len && ok; i++) {
        struct rect *r = &g_array_index(rects, struct rect, i);
        ok = vnc_encode_rect(&c->enc, msg, px, stride, r->x, r->y, r->w, r->h);
    }
    g_array_free(rects, TRUE);
    if (!ok) {
        g_byte_array_unref(msg);
        vnc_client_close(c);
        return;
    }
    c->update_requested = false;
    vnc_client_send(c, msg->data, msg->len);
    g_byte_array_unref(msg);
    vnc_client_flush(c);
}
