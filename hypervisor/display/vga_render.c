/* Rendering the VGA's current mode into the framebuffer: text, 16-colour
 * planar, 256-colour and the VBE linear modes.  Each line is rendered to a
 * scratch line and compared with the surface, so only real changes become
 * damage; in linear modes, lines whose VRAM pages are clean are skipped.
 * Every VRAM read goes through a masked plane offset or a range check. */
#include "vga_internal.h"

#include <string.h>

#include "framebuffer.h"

#define BITS_PER_LONG (8 * sizeof(unsigned long))

enum vga_kind { KIND_BLANK, KIND_TEXT, KIND_PLANAR, KIND_CGA4, KIND_256, KIND_LINEAR };

struct vga_mode {
    enum vga_kind kind;
    unsigned width, height;
};

void vga_render_init(struct vga *vga)
{
    vga->line_len = FRAMEBUFFER_MAX_WIDTH;
    vga->line = g_new0(uint32_t, vga->line_len);
    vga->last_kind = -1;
}

void vga_render_cleanup(struct vga *vga)
{
    g_free(vga->line);
    vga->line = NULL;
}

/* --- Mode geometry ------------------------------------------------------------ */

static unsigned crtc_vde(const struct vga *vga)
{
    const uint8_t *c = vga->crtc;
    return (unsigned)c[0x12] | (unsigned)(c[7] & 0x02) << 7 | (unsigned)(c[7] & 0x40) << 3;
}

static unsigned crtc_line_compare(const struct vga *vga)
{
    const uint8_t *c = vga->crtc;
    return (unsigned)c[0x18] | (unsigned)(c[7] & 0x10) << 4 | (unsigned)(c[9] & 0x40) << 3;
}

static unsigned crtc_start(const struct vga *vga)
{
    return (unsigned)vga->crtc[0x0c] << 8 | vga->crtc[0x0d];
}

static unsigned crtc_stride(const struct vga *vga)
{
    return (unsigned)vga->crtc[0x13] * 2;
}

/* CRTC character counter to plane offset: doubleword, byte or word mode. */
static uint32_t counter_to_offset(const struct vga *vga, uint32_t counter)
{
    if (vga->crtc[0x14] & 0x40)
        return counter << 2;
    if (vga->crtc[0x17] & 0x40)
        return counter;
    return counter << 1;
}

static unsigned text_char_width(const struct vga *vga)
{
    return vga->seq[1] & 1 ? 8 : 9;
}

static unsigned dot_doubling(const struct vga *vga)
{
    return vga->seq[1] & 0x08 ? 2 : 1;
}

static unsigned vbe_bpp(const struct vga *vga)
{
    return vga->vbe[VBE_DISPI_INDEX_BPP];
}

static unsigned vbe_bypp(unsigned bpp)
{
    return bpp == 15 ? 2 : (bpp + 7) / 8;
}

/* CGA-compatible addressing: the row scan counter replaces address bits
 * 13 (and 14), so every scan line of a character row is its own line of
 * pixels (CGA's interleaved banks). */
static bool cga_addressing(const struct vga *vga)
{
    return (vga->crtc[0x17] & 3) != 3;
}

/* Scan lines per line of pixels we output. */
static unsigned graphics_group(const struct vga *vga)
{
    unsigned ds = vga->crtc[9] & 0x80 ? 2u : 1u;
    return cga_addressing(vga) ? ds : ds * ((vga->crtc[9] & 0x1fu) + 1);
}

static void compute_mode(const struct vga *vga, struct vga_mode *m)
{
    if ((vga->vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED) && vbe_bpp(vga) >= 8) {
        m->kind = KIND_LINEAR;
        m->width = vga->vbe[VBE_DISPI_INDEX_XRES];
        m->height = vga->vbe[VBE_DISPI_INDEX_YRES];
        return;
    }
    unsigned chars = (unsigned)vga->crtc[1] + 1;
    unsigned lines = crtc_vde(vga) + 1;
    if (!(vga->ar[0x10] & 1)) {
        m->kind = KIND_TEXT;
        m->width = chars * text_char_width(vga) * dot_doubling(vga);
        m->height = lines;
    } else {
        unsigned group = graphics_group(vga);
        m->height = (lines + group - 1) / group;
        if (vga->gc[5] & 0x40) {
            m->kind = KIND_256;
            m->width = chars * 4;
        } else if (vga->gc[5] & 0x20) {
            m->kind = KIND_CGA4;
            m->width = chars * 8;
        } else {
            m->kind = KIND_PLANAR;
            m->width = chars * 8;
        }
    }
    /* Not programmed yet (before the BIOS sets a mode), screen disabled by
     * the palette address source bit, or switched off in the sequencer. */
    if (chars < 8 || lines < 8 || !(vga->ar_index & 0x20) || (vga->seq[1] & 0x20)) {
        m->kind = KIND_BLANK;
        if (chars < 8 || lines < 8) {
            m->width = 640;
            m->height = 480;
        }
    }
    m->width = MIN(MAX(m->width, 1u), FRAMEBUFFER_MAX_WIDTH);
    m->height = MIN(MAX(m->height, 1u), FRAMEBUFFER_MAX_HEIGHT);
}

/* --- Colours ------------------------------------------------------------------- */

static uint32_t dac_colour(const struct vga *vga, unsigned index)
{
    const uint8_t *p = &vga->palette[(index & vga->pel_mask & 0xff) * 3];
    if (vga->vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC)
        return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
    uint32_t r = p[0] & 0x3f, g = p[1] & 0x3f, b = p[2] & 0x3f;
    r = r << 2 | r >> 4;
    g = g << 2 | g >> 4;
    b = b << 2 | b >> 4;
    return r << 16 | g << 8 | b;
}

/* A 4-bit attribute colour through the attribute palette and colour
 * select to the DAC. */
static uint32_t attr_colour(const struct vga *vga, unsigned index)
{
    index &= vga->ar[0x12] & 0x0f;
    unsigned v = vga->ar[index & 0x0f];
    if (vga->ar[0x10] & 0x80)
        v = (v & 0x0f) | (vga->ar[0x14] & 0x0f) << 4;
    else
        v = (v & 0x3f) | (vga->ar[0x14] & 0x0c) << 4;
    return dac_colour(vga, v);
}

/* --- Line renderers --------------------------------------------------------------- */

static uint8_t plane(const struct vga *vga, uint32_t offset, unsigned p)
{
    return vga->vram[vga_plane_index(offset, p)];
}

static const uint16_t font_offsets[8] = {
    0x0000, 0x4000, 0x8000, 0xc000, 0x2000, 0x6000, 0xa000, 0xe000,
};

static void render_text_line(const struct vga *vga, unsigned y, uint32_t *out, unsigned width)
{
    unsigned cw = text_char_width(vga), dbl = dot_doubling(vga);
    unsigned ch = (vga->crtc[9] & 0x1f) + 1u;
    unsigned cols = (unsigned)vga->crtc[1] + 1;
    unsigned lc = crtc_line_compare(vga);
    uint32_t base = crtc_start(vga);
    unsigned yy = y;
    if (y > lc) {
        yy = y - lc - 1;
        base = 0;
    }
    unsigned row = yy / ch, gl = yy % ch;
    uint32_t cursor = (uint32_t)vga->crtc[0x0e] << 8 | vga->crtc[0x0f];
    unsigned cs = vga->crtc[0x0a] & 0x1f, ce = vga->crtc[0x0b] & 0x1f;
    bool cursor_on = !(vga->crtc[0x0a] & 0x20) && cs <= ce && gl >= cs && gl <= ce;
    uint8_t sel = vga->seq[3];
    unsigned map_a = ((sel >> 2) & 3) | ((sel >> 3) & 4);
    unsigned map_b = (sel & 3) | ((sel >> 2) & 4);
    bool line_graphics = vga->ar[0x10] & 0x04;
    bool blink = vga->ar[0x10] & 0x08;

    unsigned x = 0;
    for (unsigned col = 0; col < cols && x < width; col++) {
        uint32_t counter = base + row * crtc_stride(vga) + col;
        uint32_t off = counter_to_offset(vga, counter);
        uint8_t c = plane(vga, off, 0), attr = plane(vga, off, 1);
        unsigned map = (attr & 0x08) ? map_a : map_b;
        uint8_t glyph = gl < 32 ? plane(vga, font_offsets[map] + c * 32u + gl, 2) : 0;
        unsigned bgi = attr >> 4;
        if (blink)
            bgi &= 7;
        uint32_t fg = attr_colour(vga, attr & 0x0f), bg = attr_colour(vga, bgi);
        bool is_cursor = cursor_on && (counter & 0xffff) == cursor;
        for (unsigned i = 0; i < cw; i++) {
            bool on;
            if (i < 8)
                on = glyph & (0x80 >> i);
            else  /* ninth dot: repeats the eighth for line-drawing characters */
                on = line_graphics && c >= 0xc0 && c <= 0xdf && (glyph & 1);
            uint32_t px = (on || is_cursor) ? fg : bg;
            for (unsigned d = 0; d < dbl && x < width; d++)
                out[x++] = px;
        }
    }
    while (x < width)
        out[x++] = 0;
}

struct gfx_row {
    uint32_t counter;   /* CRTC character counter at the line's start */
    unsigned rsc;       /* row scan counter, for CGA addressing */
};

/* Where graphics line y starts, honouring the line compare split. */
static struct gfx_row graphics_row(const struct vga *vga, unsigned y)
{
    unsigned msl1 = (vga->crtc[9] & 0x1fu) + 1;
    unsigned group = graphics_group(vga);
    unsigned lc = crtc_line_compare(vga);
    uint32_t base = crtc_start(vga);
    unsigned yy = y;
    if (y * group > lc) {
        unsigned first = (lc + group) / group; /* lines before the split */
        yy = y - MIN(first, y);
        base = 0;
    }
    struct gfx_row r;
    if (cga_addressing(vga)) {
        r.counter = base + (uint32_t)(yy / msl1) * crtc_stride(vga);
        r.rsc = yy % msl1;
    } else {
        r.counter = base + (uint32_t)yy * crtc_stride(vga);
        r.rsc = 0;
    }
    return r;
}

static uint32_t graphics_offset(const struct vga *vga, uint32_t counter, unsigned rsc)
{
    uint32_t off = counter_to_offset(vga, counter);
    if (!(vga->crtc[0x17] & 1))
        off = (off & ~0x2000u) | (rsc & 1u) << 13;
    if (!(vga->crtc[0x17] & 2))
        off = (off & ~0x4000u) | ((rsc >> 1) & 1u) << 14;
    return off;
}

static void render_planar_line(const struct vga *vga, unsigned y, uint32_t *out, unsigned width)
{
    struct gfx_row row = graphics_row(vga, y);
    uint32_t counter = row.counter;
    uint32_t colours[16];
    for (unsigned i = 0; i < 16; i++)
        colours[i] = attr_colour(vga, i);
    for (unsigned x = 0; x < width; x += 8, counter++) {
        uint32_t off = graphics_offset(vga, counter, row.rsc);
        uint8_t p0 = plane(vga, off, 0), p1 = plane(vga, off, 1);
        uint8_t p2 = plane(vga, off, 2), p3 = plane(vga, off, 3);
        for (unsigned i = 0; i < 8 && x + i < width; i++) {
            unsigned bit = 7 - i;
            unsigned idx = ((p0 >> bit) & 1) | ((p1 >> bit) & 1) << 1 |
                           ((p2 >> bit) & 1) << 2 | ((p3 >> bit) & 1) << 3;
            out[x + i] = colours[idx];
        }
    }
}

/* CGA 4-colour modes: two bits per pixel, four pixels from the even byte
 * (plane 0) then four from the odd byte (plane 1). */
static void render_cga4_line(const struct vga *vga, unsigned y, uint32_t *out, unsigned width)
{
    struct gfx_row row = graphics_row(vga, y);
    uint32_t colours[4];
    for (unsigned i = 0; i < 4; i++)
        colours[i] = attr_colour(vga, i);
    for (unsigned x = 0; x < width; x += 8) {
        uint32_t off = graphics_offset(vga, row.counter + x / 8, row.rsc);
        uint8_t b[2] = { plane(vga, off, 0), plane(vga, off, 1) };
        for (unsigned i = 0; i < 8 && x + i < width; i++)
            out[x + i] = colours[(b[i / 4] >> (6 - 2 * (i % 4))) & 3];
    }
}

static void render_256_line(const struct vga *vga, unsigned y, uint32_t *out, unsigned width)
{
    struct gfx_row row = graphics_row(vga, y);
    uint32_t counter = row.counter;
    for (unsigned x = 0; x < width; x++) {
        uint32_t off = graphics_offset(vga, counter + x / 4, row.rsc);
        out[x] = dac_colour(vga, plane(vga, off, x & 3));
    }
}

static bool linear_line_range(const struct vga *vga, unsigned y, uint64_t *start, uint64_t *len)
{
    unsigned bpp = vbe_bpp(vga), bypp = vbe_bypp(bpp);
    uint64_t line = (uint64_t)vga->vbe[VBE_DISPI_INDEX_VIRT_WIDTH] * bypp;
    *start = ((uint64_t)vga->vbe[VBE_DISPI_INDEX_Y_OFFSET] + y) * line +
             (uint64_t)vga->vbe[VBE_DISPI_INDEX_X_OFFSET] * bypp;
    *len = (uint64_t)vga->vbe[VBE_DISPI_INDEX_XRES] * bypp;
    return *start < vga->vram_size && *len <= vga->vram_size - *start;
}

static void render_linear_line(const struct vga *vga, unsigned y, uint32_t *out, unsigned width)
{
    uint64_t start, len;
    if (!linear_line_range(vga, y, &start, &len)) {
        memset(out, 0, width * sizeof *out); /* beyond VRAM: black */
        return;
    }
    const uint8_t *s = vga->vram + start;
    unsigned bpp = vbe_bpp(vga);
    width = MIN(width, vga->vbe[VBE_DISPI_INDEX_XRES]);
    switch (bpp) {
    case 8:
        for (unsigned x = 0; x < width; x++)
            out[x] = dac_colour(vga, s[x]);
        break;
    case 15:
        for (unsigned x = 0; x < width; x++) {
            unsigned v = s[2 * x] | s[2 * x + 1] << 8;
            unsigned r = (v >> 10) & 31, g = (v >> 5) & 31, b = v & 31;
            out[x] = (r << 3 | r >> 2) << 16 | (g << 3 | g >> 2) << 8 | (b << 3 | b >> 2);
        }
        break;
    case 16:
        for (unsigned x = 0; x < width; x++) {
            unsigned v = s[2 * x] | s[2 * x + 1] << 8;
            unsigned r = (v >> 11) & 31, g = (v >> 5) & 63, b = v & 31;
            out[x] = (r << 3 | r >> 2) << 16 | (g << 2 | g >> 4) << 8 | (b << 3 | b >> 2);
        }
        break;
    case 24:
        for (unsigned x = 0; x < width; x++)
            out[x] = (uint32_t)s[3 * x + 2] << 16 | (uint32_t)s[3 * x + 1] << 8 | s[3 * x];
        break;
    default:
        for (unsigned x = 0; x < width; x++)
            out[x] = (uint32_t)s[4 * x + 2] << 16 | (uint32_t)s[4 * x + 1] << 8 | s[4 * x];
        break;
    }
}

/* --- Refresh ------------------------------------------------------------------------- */

static bool page_range_dirty(const unsigned long *bm, uint64_t start, uint64_t len)
{
    if (len == 0)
        return false;
    uint64_t first = start >> VGA_PAGE_SHIFT, last = (start + len - 1) >> VGA_PAGE_SHIFT;
    for (uint64_t p = first; p <= last; p++)
        if (bm[p / BITS_PER_LONG] & (1UL << (p % BITS_PER_LONG)))
            return true;
    return false;
}

struct damage { bool open; unsigned x0, x1, y0, y1; };

static void damage_flush(struct framebuffer *fb, struct damage *d)
{
    if (d->open)
        framebuffer_damage(fb, d->x0, d->y0, d->x1 - d->x0, d->y1 - d->y0);
    d->open = false;
}

void vga_update_display(struct vga *vga)
{
    g_mutex_lock(&vga->lock);
    struct vga_mode m;
    compute_mode(vga, &m);
    struct framebuffer *fb = vga->fb;
    /* Register writes set full_update; non-linear modes are re-rendered
     * and compared every time anyway, so only a resize skips comparing. */
    bool resized = false;
    if ((int)m.kind != vga->last_kind || m.width != framebuffer_width(fb) ||
        m.height != framebuffer_height(fb)) {
        framebuffer_resize(fb, m.width, m.height);
        vga->last_kind = (int)m.kind;
        resized = true;
    }
    bool full = resized || vga->full_update;
    unsigned width = framebuffer_width(fb), height = framebuffer_height(fb);

    /* In linear modes, only lines on written pages need converting. */
    bool use_pages = false;
    size_t words = (vga->npages + BITS_PER_LONG - 1) / BITS_PER_LONG;
    if (m.kind != KIND_LINEAR && !resized) {
        /* Legacy modes: nothing to do unless a register or memory write
         * happened, or the planes (first 256 KiB) were written through a
         * KVM-mapped BAR0. */
        bool planes_written = false;
        if (vga->dirty_log) {
            memset(vga->log_pages, 0, words * sizeof(unsigned long));
            if (vga->dirty_log(vga->dirty_log_opaque, vga->log_pages, vga->npages))
                planes_written = page_range_dirty(vga->log_pages, 0, 4 * VGA_PLANE_SIZE);
        }
        if (vga->gen == vga->rendered_gen && !planes_written) {
            g_mutex_unlock(&vga->lock);
            return;
        }
    }
    vga->rendered_gen = vga->gen;
    if (m.kind == KIND_LINEAR && !full && vga->dirty_log) {
        memset(vga->log_pages, 0, words * sizeof(unsigned long));
        if (vga->dirty_log(vga->dirty_log_opaque, vga->log_pages, vga->npages)) {
            for (size_t i = 0; i < words; i++)
                vga->log_pages[i] |= vga->dirty_pages[i];
            use_pages = true;
        }
    } else if (vga->dirty_log && m.kind == KIND_LINEAR) {
        /* Reset the log: everything is redrawn now anyway. */
        vga->dirty_log(vga->dirty_log_opaque, vga->log_pages, vga->npages);
    }
    memset(vga->dirty_pages, 0, words * sizeof(unsigned long));
    vga->full_update = false;

    uint32_t *px = framebuffer_pixels(fb);
    unsigned stride = framebuffer_stride(fb);
    struct damage d = { 0 };
    for (unsigned y = 0; y < height; y++) {
        if (use_pages) {
            uint64_t start, len;
            if (linear_line_range(vga, y, &start, &len) &&
                !page_range_dirty(vga->log_pages, start, len))
                continue;
        }
        uint32_t *line = vga->line;
        switch (m.kind) {
        case KIND_TEXT:    render_text_line(vga, y, line, width); break;
        case KIND_PLANAR:  render_planar_line(vga, y, line, width); break;
        case KIND_CGA4:    render_cga4_line(vga, y, line, width); break;
        case KIND_256:     render_256_line(vga, y, line, width); break;
        case KIND_LINEAR:  render_linear_line(vga, y, line, width); break;
        default:           memset(line, 0, width * sizeof *line); break;
        }
        uint32_t *dst = px + (size_t)y * stride;
        unsigned x0 = 0, x1 = width;
        if (!resized) {
            while (x0 < width && dst[x0] == line[x0])
                x0++;
            if (x0 == width) {
                damage_flush(fb, &d);
                continue;
            }
            while (x1 > x0 && dst[x1 - 1] == line[x1 - 1])
                x1--;
        }
        memcpy(dst + x0, line + x0, (x1 - x0) * sizeof *line);
        if (d.open && d.y1 == y) {
            d.x0 = MIN(d.x0, x0);
            d.x1 = MAX(d.x1, x1);
            d.y1 = y + 1;
        } else {
            damage_flush(fb, &d);
            d = (struct damage){ true, x0, x1, y, y + 1 };
        }
    }
    damage_flush(fb, &d);
    g_mutex_unlock(&vga->lock);
}
