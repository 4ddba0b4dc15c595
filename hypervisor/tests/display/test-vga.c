/* The standard VGA device model: register file semantics, planar memory,
 * text/256-colour/planar/VBE rendering compared pixel by pixel, dirty
 * tracking, and bogus register values that must never reach outside VRAM
 * (run under AddressSanitizer in CI). */
#include <glib.h>
#include <string.h>

#include "display/vga.h"
#include "display/framebuffer.h"
#include "vga_modes.h"

static struct vga *new_vga(void)
{
    GError *error = NULL;
    struct vga *v = vga_new(VGA_VRAM_SIZE_DEFAULT, &error);
    g_assert_no_error(error);
    return v;
}

static uint32_t fb_pixel(struct vga *v, unsigned x, unsigned y)
{
    struct framebuffer *fb = vga_framebuffer(v);
    g_assert_cmpuint(x, <, framebuffer_width(fb));
    g_assert_cmpuint(y, <, framebuffer_height(fb));
    return framebuffer_const_pixels(fb)[(size_t)y * framebuffer_stride(fb) + x];
}

/* --- Damage recorder ------------------------------------------------------- */

struct damage_log {
    unsigned count, resizes;
    unsigned x0, y0, x1, y1; /* union */
};

static void on_damage(void *opaque, unsigned x, unsigned y, unsigned w, unsigned h)
{
    struct damage_log *d = opaque;
    if (!d->count) {
        d->x0 = x; d->y0 = y; d->x1 = x + w; d->y1 = y + h;
    } else {
        d->x0 = MIN(d->x0, x); d->y0 = MIN(d->y0, y);
        d->x1 = MAX(d->x1, x + w); d->y1 = MAX(d->y1, y + h);
    }
    d->count++;
}

static void on_resize(void *opaque, unsigned w, unsigned h)
{
    struct damage_log *d = opaque;
    d->resizes++;
}

static const struct framebuffer_listener damage_ops = { on_damage, on_resize };

/* --- Register file ------------------------------------------------------------ */

static void test_registers(void)
{
    struct vga *v = new_vga();

    /* Sequencer and graphics controller: index/data pairs. */
    vga_ioport_write(v, 0x3c4, 2);
    vga_ioport_write(v, 0x3c5, 0x0a);
    g_assert_cmphex(vga_ioport_read(v, 0x3c4), ==, 2);
    g_assert_cmphex(vga_ioport_read(v, 0x3c5), ==, 0x0a);
    vga_ioport_write(v, 0x3ce, 8);
    vga_ioport_write(v, 0x3cf, 0x55);
    vga_ioport_write(v, 0x3ce, 3);
    vga_ioport_write(v, 0x3cf, 0x18);
    vga_ioport_write(v, 0x3ce, 8);
    g_assert_cmphex(vga_ioport_read(v, 0x3cf), ==, 0x55);

    /* CRTC answers at 0x3Dx in colour mode, 0x3Bx in mono mode. */
    vga_ioport_write(v, 0x3c2, 0x67);
    vga_ioport_write(v, 0x3d4, 0x0c);
    vga_ioport_write(v, 0x3d5, 0x12);
    g_assert_cmphex(vga_ioport_read(v, 0x3d5), ==, 0x12);
    g_assert_cmphex(vga_ioport_read(v, 0x3b5), ==, 0xff);
    g_assert_cmphex(vga_ioport_read(v, 0x3cc), ==, 0x67);
    vga_ioport_write(v, 0x3c2, 0x66);
    g_assert_cmphex(vga_ioport_read(v, 0x3d5), ==, 0xff);
    vga_ioport_write(v, 0x3b4, 0x0c);
    g_assert_cmphex(vga_ioport_read(v, 0x3b5), ==, 0x12);
    vga_ioport_write(v, 0x3c2, 0x67);

    /* CRTC 0x11 bit 7 protects 0-7, except line compare bit 8 in 0x07. */
    vga_test_crtc(v, 0x01, 0x4f);
    vga_test_crtc(v, 0x07, 0x00);
    vga_test_crtc(v, 0x11, 0x80);
    vga_test_crtc(v, 0x01, 0x27);
    vga_test_crtc(v, 0x07, 0xff);
    vga_ioport_write(v, 0x3d4, 0x01);
    g_assert_cmphex(vga_ioport_read(v, 0x3d5), ==, 0x4f);
    vga_ioport_write(v, 0x3d4, 0x07);
    g_assert_cmphex(vga_ioport_read(v, 0x3d5), ==, 0x10);
    vga_test_crtc(v, 0x11, 0x00);
    vga_test_crtc(v, 0x01, 0x27);
    vga_ioport_write(v, 0x3d4, 0x01);
    g_assert_cmphex(vga_ioport_read(v, 0x3d5), ==, 0x27);

    /* Attribute controller flip-flop: index, data, index, ...; reading
     * input status 1 returns it to "index". */
    vga_ioport_read(v, 0x3da);
    vga_ioport_write(v, 0x3c0, 0x05);
    vga_ioport_write(v, 0x3c0, 0x2a);
    g_assert_cmphex(vga_ioport_read(v, 0x3c0), ==, 0x05);
    g_assert_cmphex(vga_ioport_read(v, 0x3c1), ==, 0x2a);
    vga_ioport_write(v, 0x3c0, 0x06);       /* index */
    vga_ioport_read(v, 0x3da);              /* reset */
    vga_ioport_write(v, 0x3c0, 0x07);       /* index again, not data */
    vga_ioport_write(v, 0x3c0, 0x11);       /* data for 7 */
    vga_ioport_write(v, 0x3c0, 0x06);
    g_assert_cmphex(vga_ioport_read(v, 0x3c1), ==, 0x00);
    vga_ioport_write(v, 0x3c0, 0x00);       /* data for 6 */
    vga_ioport_write(v, 0x3c0, 0x07);
    g_assert_cmphex(vga_ioport_read(v, 0x3c1), ==, 0x11);

    /* Input status 1 toggles retrace so polling loops finish. */
    uint8_t a = vga_ioport_read(v, 0x3da), b = vga_ioport_read(v, 0x3da);
    g_assert_cmphex(a & 0x08, !=, b & 0x08);

    /* DAC: auto-increment on write and read, separate indexes. */
    vga_ioport_write(v, 0x3c8, 10);
    const uint8_t rgb[6] = { 1, 2, 3, 60, 61, 62 };
    for (int i = 0; i < 6; i++)
        vga_ioport_write(v, 0x3c9, rgb[i]);
    g_assert_cmphex(vga_ioport_read(v, 0x3c8), ==, 12);
    g_assert_cmphex(vga_ioport_read(v, 0x3c7), ==, 0);
    vga_ioport_write(v, 0x3c7, 10);
    g_assert_cmphex(vga_ioport_read(v, 0x3c7), ==, 3);
    for (int i = 0; i < 6; i++)
        g_assert_cmphex(vga_ioport_read(v, 0x3c9), ==, rgb[i]);
    /* 6-bit DAC values. */
    vga_ioport_write(v, 0x3c8, 20);
    vga_ioport_write(v, 0x3c9, 0xff);
    vga_ioport_write(v, 0x3c9, 0xff);
    vga_ioport_write(v, 0x3c9, 0xff);
    vga_ioport_write(v, 0x3c7, 20);
    g_assert_cmphex(vga_ioport_read(v, 0x3c9), ==, 0x3f);

    /* Reset restores defaults. */
    vga_reset(v);
    vga_ioport_write(v, 0x3c4, 2);
    g_assert_cmphex(vga_ioport_read(v, 0x3c5), ==, 0);
    vga_free(v);
}

/* --- Text mode ------------------------------------------------------------------ */

static const uint8_t glyph_A[16] = {
    0x00, 0x00, 0x10, 0x38, 0x6c, 0xc6, 0xc6, 0xfe,
    0xc6, 0xc6, 0xc6, 0xc6, 0x00, 0x00, 0x00, 0x00,
};

static void load_glyph(struct vga *v, uint8_t c, const uint8_t *rows, unsigned font_base)
{
    vga_test_font_access(v, true);
    for (unsigned l = 0; l < 16; l++)
        vga_mem_write(v, font_base + c * 32u + l, rows[l]);
    vga_test_font_access(v, false);
}

static void put_char(struct vga *v, unsigned row, unsigned col, uint8_t c, uint8_t attr)
{
    uint32_t off = 0x18000 + 2 * (row * 80 + col);
    vga_mem_write(v, off, c);
    vga_mem_write(v, off + 1, attr);
}

static uint32_t text_colour(unsigned index)
{
    return vga_test_dac_rgb(vga_test_ega_palette[index & 15]);
}

static void check_cell(struct vga *v, unsigned row, unsigned col, const uint8_t *rows,
                       uint8_t attr, bool ninth_fg)
{
    uint32_t fg = text_colour(attr & 15), bg = text_colour((attr >> 4) & 7);
    for (unsigned l = 0; l < 16; l++)
        for (unsigned i = 0; i < 9; i++) {
            bool on = i < 8 ? (rows[l] & (0x80 >> i)) : (ninth_fg && (rows[l] & 1));
            uint32_t got = fb_pixel(v, col * 9 + i, row * 16 + l);
            if (got != (on ? fg : bg))
                g_error("cell %u,%u dot %u,%u: got %06x want %06x", row, col, i, l, got,
                        on ? fg : bg);
        }
}

static void test_text_mode(void)
{
    struct vga *v = new_vga();
    vga_test_load_dac(v);
    vga_test_mode_text(v);
    uint8_t box[16];
    memset(box, 0, sizeof box);
    box[7] = 0xff; /* a horizontal line, like box-drawing 0xC4 */
    load_glyph(v, 'A', glyph_A, 0);
    load_glyph(v, 0xc4, box, 0);
    for (unsigned r = 0; r < 25; r++)
        for (unsigned c = 0; c < 80; c++)
            put_char(v, r, c, ' ', 0x07);
    put_char(v, 2, 3, 'A', 0x1e);
    put_char(v, 2, 4, 0xc4, 0x1e);
    put_char(v, 24, 79, 'A', 0x9c); /* blink bit: background 1, not 9 */
    /* The cursor at row 5, column 10 on lines 13-14. */
    vga_test_crtc(v, 0x0e, (5 * 80 + 10) >> 8);
    vga_test_crtc(v, 0x0f, (5 * 80 + 10) & 0xff);

    struct framebuffer *fb = vga_framebuffer(v);
    vga_update_display(v);
    g_assert_cmpuint(framebuffer_width(fb), ==, 720);
    g_assert_cmpuint(framebuffer_height(fb), ==, 400);
    check_cell(v, 2, 3, glyph_A, 0x1e, false);
    check_cell(v, 2, 4, box, 0x1e, true); /* line graphics: ninth dot repeats */
    check_cell(v, 24, 79, glyph_A, 0x9c, false);
    uint8_t cursor_rows[16] = { 0 };
    cursor_rows[13] = cursor_rows[14] = 0xff;
    check_cell(v, 5, 10, cursor_rows, 0x07, true); /* the cursor spans all 9 dots */
    for (unsigned i = 0; i < 9; i++)
        g_assert_cmphex(fb_pixel(v, 10 * 9 + i, 5 * 16 + 13), ==, text_colour(7));

    /* Only changes are reported: moving the cursor damages two cells. */
    struct damage_log d = { 0 };
    unsigned id = framebuffer_add_listener(fb, &damage_ops, &d);
    vga_update_display(v);
    g_assert_cmpuint(d.count, ==, 0);
    vga_test_crtc(v, 0x0f, (5 * 80 + 11) & 0xff);
    vga_update_display(v);
    g_assert_cmpuint(d.count, >=, 1);
    g_assert_cmpuint(d.x0, ==, 10 * 9);
    g_assert_cmpuint(d.x1, ==, 12 * 9);
    g_assert_cmpuint(d.y0, ==, 5 * 16 + 13);
    g_assert_cmpuint(d.y1, ==, 5 * 16 + 15);
    framebuffer_remove_listener(fb, id);

    /* Start address one row down scrolls the screen. */
    vga_test_crtc(v, 0x0d, 80);
    vga_update_display(v);
    check_cell(v, 1, 3, glyph_A, 0x1e, false);

    /* 8-dot characters: 640 wide. */
    vga_test_crtc(v, 0x0d, 0);
    vga_test_seq(v, 1, 0x01);
    vga_update_display(v);
    g_assert_cmpuint(framebuffer_width(fb), ==, 640);
    g_assert_cmphex(fb_pixel(v, 3 * 8 + 3, 2 * 16 + 2), ==, text_colour(0x0e));
    vga_free(v);
}

/* --- Mode 13h and mode 12h ----------------------------------------------------------- */

static void test_mode_13h(void)
{
    struct vga *v = new_vga();
    vga_test_load_dac(v);
    vga_test_mode_13h(v);
    for (unsigned y = 0; y < 200; y++)
        for (unsigned x = 0; x < 320; x++)
            vga_mem_write(v, y * 320 + x, (uint8_t)(x ^ y));
    g_assert_cmphex(vga_mem_read(v, 7 * 320 + 5), ==, 7 ^ 5);
    vga_update_display(v);
    struct framebuffer *fb = vga_framebuffer(v);
    g_assert_cmpuint(framebuffer_width(fb), ==, 320);
    g_assert_cmpuint(framebuffer_height(fb), ==, 200);
    for (unsigned y = 0; y < 200; y++)
        for (unsigned x = 0; x < 320; x++)
            if (fb_pixel(v, x, y) != vga_test_dac_rgb((x ^ y) & 0xff))
                g_error("13h pixel %u,%u", x, y);

    /* A DAC change repaints. */
    vga_ioport_write(v, 0x3c8, 0);
    vga_ioport_write(v, 0x3c9, 63);
    vga_ioport_write(v, 0x3c9, 63);
    vga_ioport_write(v, 0x3c9, 63);
    vga_update_display(v);
    g_assert_cmphex(fb_pixel(v, 3, 3), ==, 0xffffff);
    vga_free(v);
}

static void test_mode_12h(void)
{
    struct vga *v = new_vga();
    vga_test_load_dac(v);
    vga_test_mode_12h(v);

    /* Write mode 0 with set/reset: fill the screen with colour 1. */
    vga_test_gc(v, 1, 0x0f);
    vga_test_gc(v, 0, 0x01);
    for (uint32_t a = 0; a < 80 * 480; a++)
        vga_mem_write(v, a, 0xff);
    vga_test_gc(v, 1, 0x00);

    /* Write mode 2: single pixels through the bit mask and latches. */
    vga_test_gc(v, 5, 0x02);
    struct { unsigned x, y; uint8_t c; } dots[] = {
        { 0, 0, 15 }, { 1, 0, 4 }, { 639, 479, 9 }, { 100, 200, 14 }, { 101, 200, 2 },
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(dots); i++) {
        uint32_t a = dots[i].y * 80 + dots[i].x / 8;
        vga_test_gc(v, 8, (uint8_t)(0x80 >> (dots[i].x & 7)));
        vga_mem_read(v, a); /* load the latches */
        vga_mem_write(v, a, dots[i].c);
    }
    vga_test_gc(v, 8, 0xff);
    vga_test_gc(v, 5, 0x00);

    vga_update_display(v);
    struct framebuffer *fb = vga_framebuffer(v);
    g_assert_cmpuint(framebuffer_width(fb), ==, 640);
    g_assert_cmpuint(framebuffer_height(fb), ==, 480);
    for (unsigned i = 0; i < G_N_ELEMENTS(dots); i++)
        g_assert_cmphex(fb_pixel(v, dots[i].x, dots[i].y), ==,
                        vga_test_dac_rgb(vga_test_ega_palette[dots[i].c]));
    g_assert_cmphex(fb_pixel(v, 2, 0), ==, vga_test_dac_rgb(vga_test_ega_palette[1]));
    g_assert_cmphex(fb_pixel(v, 320, 240), ==, vga_test_dac_rgb(vga_test_ega_palette[1]));

    /* Read mode 1: which of the 8 pixels at (96..103, 200) have colour 14. */
    vga_test_gc(v, 5, 0x08);
    vga_test_gc(v, 2, 14);
    vga_test_gc(v, 7, 0x0f);
    g_assert_cmphex(vga_mem_read(v, 200 * 80 + 12), ==, 0x08);
    vga_test_gc(v, 7, 0x00); /* all planes "don't care": everything matches */
    g_assert_cmphex(vga_mem_read(v, 200 * 80 + 12), ==, 0xff);

    /* Read mode 0 returns the selected plane. */
    vga_test_gc(v, 5, 0x00);
    vga_test_gc(v, 4, 3);
    g_assert_cmphex(vga_mem_read(v, 0), ==, 0x80); /* colour 15 at x=0 only */

    /* Write mode 1 copies latches: copy row 0's first byte to row 1. */
    vga_test_gc(v, 5, 0x01);
    vga_mem_read(v, 0);
    vga_mem_write(v, 80, 0);
    vga_test_gc(v, 5, 0x00);
    vga_update_display(v);
    g_assert_cmphex(fb_pixel(v, 0, 1), ==, vga_test_dac_rgb(vga_test_ega_palette[15]));
    g_assert_cmphex(fb_pixel(v, 1, 1), ==, vga_test_dac_rgb(vga_test_ega_palette[4]));

    /* Write mode 3 with XOR: colour from set/reset, mask from the data. */
    vga_test_gc(v, 5, 0x03);
    vga_test_gc(v, 3, 0x18); /* XOR */
    vga_test_gc(v, 0, 0x0f);
    vga_test_gc(v, 8, 0xff);
    vga_mem_read(v, 479 * 80);
    vga_mem_write(v, 479 * 80, 0x80); /* only x = 0 */
    vga_test_gc(v, 3, 0x00);
    vga_test_gc(v, 5, 0x00);
    vga_update_display(v);
    g_assert_cmphex(fb_pixel(v, 0, 479), ==, vga_test_dac_rgb(vga_test_ega_palette[1 ^ 15]));
    g_assert_cmphex(fb_pixel(v, 1, 479), ==, vga_test_dac_rgb(vga_test_ega_palette[1]));
    vga_free(v);
}

/* CGA modes: lines alternate between the banks at 0x0000 and 0x2000. */
static void test_cga_modes(void)
{
    struct vga *v = new_vga();
    vga_test_load_dac(v);
    struct framebuffer *fb = vga_framebuffer(v);

    vga_test_mode_06h(v);
    for (unsigned y = 0; y < 200; y++)
        for (unsigned xb = 0; xb < 80; xb++)
            vga_mem_write(v, 0x18000 + (y & 1) * 0x2000 + (y >> 1) * 80 + xb,
                          (uint8_t)((y * 3 + xb) * 37));
    vga_update_display(v);
    g_assert_cmpuint(framebuffer_width(fb), ==, 640);
    g_assert_cmpuint(framebuffer_height(fb), ==, 200);
    for (unsigned y = 0; y < 200; y++)
        for (unsigned x = 0; x < 640; x++) {
            uint8_t byte = (uint8_t)((y * 3 + x / 8) * 37);
            bool on = byte & (0x80 >> (x % 8));
            if (fb_pixel(v, x, y) != vga_test_dac_rgb(on ? 0x17 : 0))
                g_error("mode 6 pixel %u,%u", x, y);
        }

    vga_test_mode_04h(v);
    for (unsigned y = 0; y < 200; y++)
        for (unsigned xb = 0; xb < 80; xb++)
            vga_mem_write(v, 0x18000 + (y & 1) * 0x2000 + (y >> 1) * 80 + xb,
                          (uint8_t)((y * 5 + xb) * 29));
    vga_update_display(v);
    g_assert_cmpuint(framebuffer_width(fb), ==, 320);
    g_assert_cmpuint(framebuffer_height(fb), ==, 200);
    for (unsigned y = 0; y < 200; y++)
        for (unsigned x = 0; x < 320; x++) {
            uint8_t byte = (uint8_t)((y * 5 + x / 4) * 29);
            unsigned c = (byte >> (6 - 2 * (x % 4))) & 3;
            if (fb_pixel(v, x, y) != vga_test_dac_rgb(vga_test_cga_palette[c]))
                g_error("mode 4 pixel %u,%u", x, y);
        }
    vga_free(v);
}

/* --- Bochs VBE -------------------------------------------------------------------------- */

static void set_vbe_mode(struct vga *v, unsigned w, unsigned h, unsigned bpp, uint16_t flags)
{
    vga_dispi_write(v, VBE_DISPI_INDEX_ENABLE, 0);
    vga_dispi_write(v, VBE_DISPI_INDEX_XRES, (uint16_t)w);
    vga_dispi_write(v, VBE_DISPI_INDEX_YRES, (uint16_t)h);
    vga_dispi_write(v, VBE_DISPI_INDEX_BPP, (uint16_t)bpp);
    vga_dispi_write(v, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED | flags);
}

static void test_vbe(void)
{
    struct vga *v = new_vga();
    struct framebuffer *fb = vga_framebuffer(v);
    uint8_t *vram = vga_vram(v);

    g_assert_cmphex(vga_dispi_read(v, VBE_DISPI_INDEX_ID), ==, 0xb0c5);
    g_assert_cmpuint(vga_dispi_read(v, VBE_DISPI_INDEX_VIDEO_MEMORY_64K), ==, 256);
    vga_dispi_write(v, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_GETCAPS);
    g_assert_cmpuint(vga_dispi_read(v, VBE_DISPI_INDEX_XRES), ==, VBE_DISPI_MAX_XRES);
    g_assert_cmpuint(vga_dispi_read(v, VBE_DISPI_INDEX_BPP), ==, 32);

    struct damage_log d = { 0 };
    framebuffer_add_listener(fb, &damage_ops, &d);

    /* 32 bpp. */
    set_vbe_mode(v, 800, 600, 32, 0);
    g_assert_cmpuint(vga_dispi_read(v, VBE_DISPI_INDEX_VIRT_WIDTH), ==, 800);
    g_assert_cmpuint(vga_dispi_read(v, VBE_DISPI_INDEX_VIRT_HEIGHT), ==, (16u << 20) / 3200);
    for (unsigned y = 0; y < 600; y++)
        for (unsigned x = 0; x < 800; x++) {
            uint8_t *p = vram + (y * 800 + x) * 4;
            p[0] = (uint8_t)x; p[1] = (uint8_t)y; p[2] = (uint8_t)(x + y); p[3] = 0;
        }
    vga_update_display(v);
    g_assert_cmpuint(d.resizes, ==, 1);
    g_assert_cmpuint(framebuffer_width(fb), ==, 800);
    g_assert_cmpuint(framebuffer_height(fb), ==, 600);
    for (unsigned y = 0; y < 600; y += 7)
        for (unsigned x = 0; x < 800; x += 3)
            g_assert_cmphex(fb_pixel(v, x, y), ==,
                            ((x + y) & 0xff) << 16 | (y & 0xff) << 8 | (x & 0xff));
    /* Mode fixed while enabled. */
    vga_dispi_write(v, VBE_DISPI_INDEX_XRES, 1024);
    g_assert_cmpuint(vga_dispi_read(v, VBE_DISPI_INDEX_XRES), ==, 800);

    /* Virtual width and panning. */
    vga_dispi_write(v, VBE_DISPI_INDEX_VIRT_WIDTH, 1000);
    vga_dispi_write(v, VBE_DISPI_INDEX_X_OFFSET, 10);
    vga_dispi_write(v, VBE_DISPI_INDEX_Y_OFFSET, 5);
    uint32_t marker = 0x00123456;
    memcpy(vram + ((5 * 1000) + 10) * 4, &marker, 4);
    vga_update_display(v);
    g_assert_cmphex(fb_pixel(v, 0, 0), ==, 0x123456);

    /* 16, 15 and 24 bpp. */
    set_vbe_mode(v, 64, 48, 16, 0);
    g_assert_cmpuint(vram[4], ==, 0); /* cleared (was pixel 1 of the 32-bpp mode) */
    g_assert_cmpuint(vram[4 * 700 + 2], ==, 0);
    vram[2 * 5] = 0x1f;   /* pixel 5: blue 31 */
    vram[2 * 6 + 1] = 0xf8; /* pixel 6: red 31 */
    vram[2 * 7] = 0xe0; vram[2 * 7 + 1] = 0x07; /* pixel 7: green 63 */
    vga_update_display(v);
    g_assert_cmpuint(framebuffer_width(fb), ==, 64);
    g_assert_cmphex(fb_pixel(v, 5, 0), ==, 0x0000ff);
    g_assert_cmphex(fb_pixel(v, 6, 0), ==, 0xff0000);
    g_assert_cmphex(fb_pixel(v, 7, 0), ==, 0x00ff00);

    set_vbe_mode(v, 64, 48, 15, 0);
    vram[2 * 3] = 0x00; vram[2 * 3 + 1] = 0x7c; /* red 31 */
    vram[2 * 4] = 0xe0; vram[2 * 4 + 1] = 0x03; /* green 31 */
    vga_update_display(v);
    g_assert_cmphex(fb_pixel(v, 3, 0), ==, 0xff0000);
    g_assert_cmphex(fb_pixel(v, 4, 0), ==, 0x00ff00);

    set_vbe_mode(v, 64, 48, 24, 0);
    vram[64 * 3 + 3] = 0x11; vram[64 * 3 + 4] = 0x22; vram[64 * 3 + 5] = 0x33;
    vga_update_display(v);
    g_assert_cmphex(fb_pixel(v, 1, 1), ==, 0x332211);

    /* 8 bpp through the DAC, in 8-bit DAC mode. */
    set_vbe_mode(v, 64, 48, 8, VBE_DISPI_8BIT_DAC);
    vga_ioport_write(v, 0x3c8, 9);
    vga_ioport_write(v, 0x3c9, 0xab);
    vga_ioport_write(v, 0x3c9, 0xcd);
    vga_ioport_write(v, 0x3c9, 0xef);
    vram[64 * 2 + 2] = 9;
    vga_update_display(v);
    g_assert_cmphex(fb_pixel(v, 2, 2), ==, 0xabcdef);

    /* Banked access through the legacy window. */
    vga_dispi_write(v, VBE_DISPI_INDEX_BANK, 1);
    vga_mem_write(v, 0x10, 0x5a);
    g_assert_cmphex(vram[0x10010], ==, 0x5a);
    g_assert_cmphex(vga_mem_read(v, 0x10), ==, 0x5a);
    vga_dispi_write(v, VBE_DISPI_INDEX_BANK, 0xffff); /* beyond VRAM: ignored */
    g_assert_cmpuint(vga_dispi_read(v, VBE_DISPI_INDEX_BANK), ==, 1);

    /* Bad modes are refused. */
    vga_dispi_write(v, VBE_DISPI_INDEX_ENABLE, 0);
    vga_dispi_write(v, VBE_DISPI_INDEX_BPP, 7);
    vga_dispi_write(v, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED);
    g_assert_cmphex(vga_dispi_read(v, VBE_DISPI_INDEX_ENABLE) & VBE_DISPI_ENABLED, ==, 0);
    vga_dispi_write(v, VBE_DISPI_INDEX_BPP, 32);
    vga_dispi_write(v, VBE_DISPI_INDEX_XRES, 2568);
    vga_dispi_write(v, VBE_DISPI_INDEX_YRES, 1600);
    vga_dispi_write(v, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED); /* wider than the maximum */
    g_assert_cmphex(vga_dispi_read(v, VBE_DISPI_INDEX_ENABLE) & VBE_DISPI_ENABLED, ==, 0);

    /* BAR2: DISPI at 0x500, VGA ports at 0x400. */
    g_assert_cmphex(vga_mmio_read(v, 0x500, 2), ==, 0xb0c5);
    vga_mmio_write(v, 0x500 + 2 * VBE_DISPI_INDEX_XRES, 1024, 2);
    g_assert_cmpuint(vga_dispi_read(v, VBE_DISPI_INDEX_XRES), ==, 1024);
    vga_mmio_write(v, 0x400 + 0x08, 33, 1); /* 0x3C8 */
    vga_mmio_write(v, 0x400 + 0x09, 0x3f, 1);
    vga_mmio_write(v, 0x400 + 0x09, 0x01, 1);
    vga_mmio_write(v, 0x400 + 0x09, 0x02, 1);
    vga_ioport_write(v, 0x3c7, 33);
    g_assert_cmphex(vga_ioport_read(v, 0x3c9), ==, 0x3f);
    vga_free(v);
}

/* A dirty log that reports only the pages the test chooses. */
struct fake_log { size_t page; unsigned calls; };

static bool fake_dirty_log(void *opaque, unsigned long *bitmap, size_t npages)
{
    struct fake_log *l = opaque;
    l->calls++;
    if (l->page < npages)
        bitmap[l->page / (8 * sizeof(unsigned long))] |= 1UL << (l->page % (8 * sizeof(unsigned long)));
    return true;
}

static void test_vbe_dirty_log(void)
{
    struct vga *v = new_vga();
    struct framebuffer *fb = vga_framebuffer(v);
    uint8_t *vram = vga_vram(v);
    struct fake_log log = { .page = (size_t)-1 };
    vga_set_dirty_log(v, fake_dirty_log, &log);
    set_vbe_mode(v, 1024, 768, 32, 0);
    vga_update_display(v);
    struct damage_log d = { 0 };
    framebuffer_add_listener(fb, &damage_ops, &d);

    /* Line 10 is page 10 (4 KiB = one 1024x32bpp line); line 20 changes
     * too but is not logged, so it is not looked at. */
    vram[10 * 4096 + 40] = 0xff;
    vram[20 * 4096 + 40] = 0xff;
    log.page = 10;
    vga_update_display(v);
    g_assert_cmpuint(d.count, ==, 1);
    g_assert_cmpuint(d.y0, ==, 10);
    g_assert_cmpuint(d.y1, ==, 11);
    g_assert_cmpuint(d.x0, ==, 10);
    g_assert_cmpuint(d.x1, ==, 11);
    g_assert_cmphex(fb_pixel(v, 10, 10), ==, 0x0000ff);
    g_assert_cmphex(fb_pixel(v, 10, 20), ==, 0);

    /* Writes the emulation performs (banked window) count as dirty. */
    log.page = (size_t)-1;
    d.count = 0;
    vga_dispi_write(v, VBE_DISPI_INDEX_BANK, 1);
    vga_mem_write(v, 20 * 4096 + 40 - 0x10000, 0xff);
    vga_update_display(v);
    g_assert_cmphex(fb_pixel(v, 10, 20), ==, 0x0000ff);
    g_assert_cmpuint(d.y0, ==, 20);
    g_assert_cmpuint(log.calls, >=, 2);
    vga_free(v);
}

/* Legacy modes render only after writes: through the emulated paths, or
 * through a KVM-mapped BAR0 as the dirty log reports. */
static void test_legacy_idle(void)
{
    struct vga *v = new_vga();
    vga_test_load_dac(v);
    vga_test_mode_text(v);
    load_glyph(v, 'A', glyph_A, 0);
    vga_test_crtc(v, 0x0e, 0x07); /* cursor off screen */
    struct framebuffer *fb = vga_framebuffer(v);
    vga_update_display(v);
    struct damage_log d = { 0 };
    framebuffer_add_listener(fb, &damage_ops, &d);
    vga_update_display(v);
    g_assert_cmpuint(d.count, ==, 0);

    /* Cell (0,0) = 'A' written behind the emulation's back (as a guest
     * would through BAR0): invisible until the dirty log says so. */
    uint8_t *vram = vga_vram(v);
    vram[0] = 'A';     /* plane 0, offset 0: character */
    vram[1] = 0x0f;    /* plane 1, offset 0: attribute */
    vga_update_display(v);
    g_assert_cmpuint(d.count, ==, 0);
    struct fake_log log = { .page = 0 };
    vga_set_dirty_log(v, fake_dirty_log, &log);
    vga_update_display(v);
    g_assert_cmpuint(d.count, >=, 1);
    g_assert_cmpuint(d.y0, ==, 2); /* the glyph's first set row */
    check_cell(v, 0, 0, glyph_A, 0x0f, false);

    /* Nothing written, nothing logged: no work, no damage. */
    log.page = 1000;
    d.count = 0;
    vga_update_display(v);
    g_assert_cmpuint(d.count, ==, 0);
    vga_free(v);
}

/* --- Hostile register values ----------------------------------------------------------------- */

static void render_all_kinds(struct vga *v)
{
    vga_update_display(v);
}

static void test_bogus_values(void)
{
    struct vga *v = new_vga();
    void (*modes[])(struct vga *) = { vga_test_mode_text, vga_test_mode_13h, vga_test_mode_12h,
                                      vga_test_mode_04h, vga_test_mode_06h };
    for (unsigned m = 0; m < G_N_ELEMENTS(modes); m++) {
        modes[m](v);
        /* Start address and cursor at the end, huge offset, all-ones
         * geometry, line compare at 0, character height 32, doubling. */
        vga_test_crtc(v, 0x0c, 0xff);
        vga_test_crtc(v, 0x0d, 0xff);
        vga_test_crtc(v, 0x0e, 0xff);
        vga_test_crtc(v, 0x0f, 0xff);
        vga_test_crtc(v, 0x13, 0xff);
        render_all_kinds(v);
        vga_test_crtc(v, 0x01, 0xff);
        vga_test_crtc(v, 0x12, 0xff);
        vga_test_crtc(v, 0x07, 0xff);
        vga_test_crtc(v, 0x09, 0xff);
        vga_test_crtc(v, 0x18, 0x00);
        vga_test_seq(v, 1, 0x08);
        vga_test_seq(v, 3, 0xff);
        render_all_kinds(v);
        vga_test_crtc(v, 0x14, 0x40);
        render_all_kinds(v);
        /* Window accesses across every memory map and mode. */
        for (uint8_t gc6 = 0; gc6 < 16; gc6++) {
            vga_test_gc(v, 6, gc6);
            for (uint8_t seq4 = 0; seq4 < 16; seq4 += 2) {
                vga_test_seq(v, 4, seq4);
                vga_mem_write(v, 0x1ffff, 0xaa);
                vga_mem_read(v, 0x1ffff);
                vga_mem_write(v, 0, 0x55);
                vga_mem_read(v, 0x20000); /* past the window */
            }
        }
    }
    /* Linear modes with offsets far beyond VRAM. */
    set_vbe_mode(v, 1024, 768, 32, VBE_DISPI_NOCLEARMEM);
    vga_dispi_write(v, VBE_DISPI_INDEX_VIRT_WIDTH, 0xffff);
    vga_dispi_write(v, VBE_DISPI_INDEX_Y_OFFSET, 0xffff);
    vga_dispi_write(v, VBE_DISPI_INDEX_X_OFFSET, 0xffff);
    render_all_kinds(v);
    vga_dispi_write(v, VBE_DISPI_INDEX_Y_OFFSET, 0);
    vga_dispi_write(v, VBE_DISPI_INDEX_X_OFFSET, 0xffff);
    render_all_kinds(v);
    vga_dispi_write(v, VBE_DISPI_INDEX_VIRT_WIDTH, 1024);
    vga_dispi_write(v, VBE_DISPI_INDEX_X_OFFSET, 0);
    vga_dispi_write(v, VBE_DISPI_INDEX_Y_OFFSET, (uint16_t)((16u << 20) / 4096 - 10));
    render_all_kinds(v);
    /* The last visible lines are beyond VRAM: black, not garbage. */
    g_assert_cmphex(fb_pixel(v, 0, 767), ==, 0);
    vga_dispi_write(v, VBE_DISPI_INDEX_BANK, 255);
    vga_mem_write(v, 0xffff, 1);
    g_assert_cmphex(vga_vram(v)[(16u << 20) - 1], ==, 1);
    for (unsigned i = 0; i < 0x20; i++) {
        vga_dispi_write(v, i, 0xffff);
        vga_dispi_read(v, i);
        vga_mmio_write(v, 0x500 + 2 * i, 0xffff, 2);
        vga_mmio_read(v, 0xffe, 2);
    }
    render_all_kinds(v);

    /* Random register storms, deterministic. */
    GRand *r = g_rand_new_with_seed(1234);
    for (unsigned round = 0; round < 40; round++) {
        for (unsigned i = 0; i < 400; i++) {
            uint16_t port = (uint16_t)(0x3b0 + g_rand_int_range(r, 0, 0x30));
            vga_ioport_write(v, port, (uint8_t)g_rand_int(r));
            if (i % 8 == 0)
                vga_mem_write(v, g_rand_int_range(r, 0, 0x20000), (uint8_t)g_rand_int(r));
        }
        if (round % 4 == 0)
            vga_dispi_write(v, VBE_DISPI_INDEX_ENABLE, 0);
        render_all_kinds(v);
    }
    g_rand_free(r);
    vga_free(v);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vga/registers", test_registers);
    g_test_add_func("/vga/text", test_text_mode);
    g_test_add_func("/vga/mode-13h", test_mode_13h);
    g_test_add_func("/vga/mode-12h", test_mode_12h);
    g_test_add_func("/vga/cga-modes", test_cga_modes);
    g_test_add_func("/vga/vbe", test_vbe);
    g_test_add_func("/vga/vbe-dirty-log", test_vbe_dirty_log);
    g_test_add_func("/vga/legacy-idle", test_legacy_idle);
    g_test_add_func("/vga/bogus-values", test_bogus_values);
    return g_test_run();
}
