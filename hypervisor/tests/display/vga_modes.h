/* Register programming for the standard modes, as a VGA BIOS would do it,
 * for the VGA unit tests and the fuzzer. */
#pragma once

#include <stdint.h>

#include "display/vga.h"

static inline void vga_test_seq(struct vga *v, uint8_t i, uint8_t d)
{
    vga_ioport_write(v, 0x3c4, i);
    vga_ioport_write(v, 0x3c5, d);
}

static inline void vga_test_gc(struct vga *v, uint8_t i, uint8_t d)
{
    vga_ioport_write(v, 0x3ce, i);
    vga_ioport_write(v, 0x3cf, d);
}

static inline void vga_test_crtc(struct vga *v, uint8_t i, uint8_t d)
{
    vga_ioport_write(v, 0x3d4, i);
    vga_ioport_write(v, 0x3d5, d);
}

static inline void vga_test_ar(struct vga *v, uint8_t i, uint8_t d)
{
    vga_ioport_read(v, 0x3da); /* flip-flop to index */
    vga_ioport_write(v, 0x3c0, i);
    vga_ioport_write(v, 0x3c0, d);
}

static inline void vga_test_screen_on(struct vga *v)
{
    vga_ioport_read(v, 0x3da);
    vga_ioport_write(v, 0x3c0, 0x20);
}

/* DAC entry i = (i, 63 - i, (7 i) mod 64): every entry distinct. */
static inline void vga_test_load_dac(struct vga *v)
{
    vga_ioport_write(v, 0x3c8, 0);
    for (unsigned i = 0; i < 256; i++) {
        vga_ioport_write(v, 0x3c9, (uint8_t)(i & 63));
        vga_ioport_write(v, 0x3c9, (uint8_t)(63 - (i & 63)));
        vga_ioport_write(v, 0x3c9, (uint8_t)((i * 7) & 63));
    }
}

static inline uint32_t vga_test_dac_rgb(unsigned i)
{
    unsigned r = i & 63, g = 63 - (i & 63), b = (i * 7) & 63;
    r = r << 2 | r >> 4;
    g = g << 2 | g >> 4;
    b = b << 2 | b >> 4;
    return r << 16 | g << 8 | b;
}

static const uint8_t vga_test_ega_palette[16] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07,
    0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
};

/* Common CRTC values: vertical display end and line compare off. */
static inline void vga_test_crtc_common(struct vga *v, unsigned chars, unsigned vde,
                                        uint8_t max_scan)
{
    vga_test_crtc(v, 0x11, 0x00); /* unprotect */
    vga_test_crtc(v, 0x01, (uint8_t)(chars - 1));
    vga_test_crtc(v, 0x12, (uint8_t)vde);
    vga_test_crtc(v, 0x07, (uint8_t)(((vde >> 8) & 1) << 1 | ((vde >> 9) & 1) << 6 | 0x10));
    vga_test_crtc(v, 0x09, (uint8_t)(max_scan | 0x40));
    vga_test_crtc(v, 0x18, 0xff);
    vga_test_crtc(v, 0x0c, 0);
    vga_test_crtc(v, 0x0d, 0);
}

/* 80x25 text, 9x16 cells, 720x400. */
static inline void vga_test_mode_text(struct vga *v)
{
    vga_ioport_write(v, 0x3c2, 0x67);
    vga_test_seq(v, 0, 0x03);
    vga_test_seq(v, 1, 0x00);
    vga_test_seq(v, 2, 0x03);
    vga_test_seq(v, 3, 0x00);
    vga_test_seq(v, 4, 0x02);
    vga_test_crtc_common(v, 80, 399, 0x0f);
    vga_test_crtc(v, 0x0a, 0x0d);
    vga_test_crtc(v, 0x0b, 0x0e);
    vga_test_crtc(v, 0x13, 0x28);
    vga_test_crtc(v, 0x14, 0x1f);
    vga_test_crtc(v, 0x17, 0xa3);
    vga_test_gc(v, 4, 0x00);
    vga_test_gc(v, 5, 0x10);
    vga_test_gc(v, 6, 0x0e);
    vga_test_gc(v, 8, 0xff);
    for (unsigned i = 0; i < 16; i++)
        vga_test_ar(v, (uint8_t)i, vga_test_ega_palette[i]);
    vga_test_ar(v, 0x10, 0x0c);
    vga_test_ar(v, 0x12, 0x0f);
    vga_test_ar(v, 0x14, 0x00);
    vga_test_screen_on(v);
}

/* Plane 2 access for font loading, then back to text. */
static inline void vga_test_font_access(struct vga *v, bool on)
{
    vga_test_seq(v, 2, on ? 0x04 : 0x03);
    vga_test_seq(v, 4, on ? 0x06 : 0x02);
    vga_test_gc(v, 4, on ? 0x02 : 0x00);
    vga_test_gc(v, 5, on ? 0x00 : 0x10);
    vga_test_gc(v, 6, on ? 0x04 : 0x0e);
}

/* Mode 13h: 320x200, 256 colours, chain 4. */
static inline void vga_test_mode_13h(struct vga *v)
{
    vga_ioport_write(v, 0x3c2, 0x63);
    vga_test_seq(v, 1, 0x01);
    vga_test_seq(v, 2, 0x0f);
    vga_test_seq(v, 4, 0x0e);
    vga_test_crtc_common(v, 80, 399, 0x01);
    vga_test_crtc(v, 0x13, 0x28);
    vga_test_crtc(v, 0x14, 0x40);
    vga_test_crtc(v, 0x17, 0xa3);
    vga_test_gc(v, 5, 0x40);
    vga_test_gc(v, 6, 0x05);
    vga_test_gc(v, 8, 0xff);
    for (unsigned i = 0; i < 16; i++)
        vga_test_ar(v, (uint8_t)i, (uint8_t)i);
    vga_test_ar(v, 0x10, 0x41);
    vga_test_ar(v, 0x12, 0x0f);
    vga_test_screen_on(v);
}

/* Mode 12h: 640x480, 16 colours, planar. */
static inline void vga_test_mode_12h(struct vga *v)
{
    vga_ioport_write(v, 0x3c2, 0xe3);
    vga_test_seq(v, 1, 0x01);
    vga_test_seq(v, 2, 0x0f);
    vga_test_seq(v, 4, 0x06);
    vga_test_crtc_common(v, 80, 479, 0x00);
    vga_test_crtc(v, 0x13, 0x28);
    vga_test_crtc(v, 0x14, 0x00);
    vga_test_crtc(v, 0x17, 0xe3);
    vga_test_gc(v, 5, 0x00);
    vga_test_gc(v, 6, 0x05);
    vga_test_gc(v, 8, 0xff);
    for (unsigned i = 0; i < 16; i++)
        vga_test_ar(v, (uint8_t)i, vga_test_ega_palette[i]);
    vga_test_ar(v, 0x10, 0x01);
    vga_test_ar(v, 0x12, 0x0f);
    vga_test_screen_on(v);
}

/* Mode 6: 640x200, 2 colours, CGA interleaved banks at 0xB8000. */
static inline void vga_test_mode_06h(struct vga *v)
{
    vga_ioport_write(v, 0x3c2, 0x63);
    vga_test_seq(v, 1, 0x01);
    vga_test_seq(v, 2, 0x01);
    vga_test_seq(v, 4, 0x06);
    vga_test_crtc_common(v, 80, 399, 0x81);
    vga_test_crtc(v, 0x13, 0x28);
    vga_test_crtc(v, 0x14, 0x00);
    vga_test_crtc(v, 0x17, 0xc2);
    vga_test_gc(v, 5, 0x00);
    vga_test_gc(v, 6, 0x0d);
    vga_test_gc(v, 8, 0xff);
    for (unsigned i = 0; i < 16; i++)
        vga_test_ar(v, (uint8_t)i, i ? 0x17 : 0x00);
    vga_test_ar(v, 0x10, 0x01);
    vga_test_ar(v, 0x12, 0x01);
    vga_test_screen_on(v);
}

/* Mode 4: 320x200, 4 colours, CGA interleaved banks, odd/even bytes. */
static const uint8_t vga_test_cga_palette[4] = { 0x00, 0x13, 0x15, 0x17 };

static inline void vga_test_mode_04h(struct vga *v)
{
    vga_ioport_write(v, 0x3c2, 0x63);
    vga_test_seq(v, 1, 0x09);
    vga_test_seq(v, 2, 0x03);
    vga_test_seq(v, 4, 0x02);
    vga_test_crtc_common(v, 40, 399, 0x81);
    vga_test_crtc(v, 0x13, 0x14);
    vga_test_crtc(v, 0x14, 0x00);
    vga_test_crtc(v, 0x17, 0xa2);
    vga_test_gc(v, 5, 0x30);
    vga_test_gc(v, 6, 0x0f);
    vga_test_gc(v, 8, 0xff);
    for (unsigned i = 0; i < 16; i++)
        vga_test_ar(v, (uint8_t)i, vga_test_cga_palette[i & 3]);
    vga_test_ar(v, 0x10, 0x01);
    vga_test_ar(v, 0x12, 0x03);
    vga_test_screen_on(v);
}
