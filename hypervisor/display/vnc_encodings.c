/* RFB pixel format conversion and the Raw, zlib and ZRLE encodings. */
#include "vnc_encodings.h"

#include <string.h>

void vnc_pixel_format_default(struct vnc_pixel_format *pf)
{
    *pf = (struct vnc_pixel_format){
        .bpp = 32, .depth = 24, .big_endian = false, .true_colour = true,
        .red_max = 255, .green_max = 255, .blue_max = 255,
        .red_shift = 16, .green_shift = 8, .blue_shift = 0,
    };
}

void vnc_pixel_format_bgr233(struct vnc_pixel_format *pf)
{
    *pf = (struct vnc_pixel_format){
        .bpp = 8, .depth = 8, .big_endian = false, .true_colour = true,
        .red_max = 7, .green_max = 7, .blue_max = 3,
        .red_shift = 0, .green_shift = 3, .blue_shift = 6,
    };
}

void vnc_pixel_format_parse(struct vnc_pixel_format *pf, const uint8_t b[16])
{
    pf->bpp = b[0];
    pf->depth = b[1];
    pf->big_endian = b[2] != 0;
    pf->true_colour = b[3] != 0;
    pf->red_max = (uint16_t)(b[4] << 8 | b[5]);
    pf->green_max = (uint16_t)(b[6] << 8 | b[7]);
    pf->blue_max = (uint16_t)(b[8] << 8 | b[9]);
    pf->red_shift = b[10];
    pf->green_shift = b[11];
    pf->blue_shift = b[12];
}

void vnc_pixel_format_serialise(const struct vnc_pixel_format *pf, uint8_t b[16])
{
    memset(b, 0, 16);
    b[0] = pf->bpp;
    b[1] = pf->depth;
    b[2] = pf->big_endian;
    b[3] = pf->true_colour;
    b[4] = pf->red_max >> 8;   b[5] = (uint8_t)pf->red_max;
    b[6] = pf->green_max >> 8; b[7] = (uint8_t)pf->green_max;
    b[8] = pf->blue_max >> 8;  b[9] = (uint8_t)pf->blue_max;
    b[10] = pf->red_shift;
    b[11] = pf->green_shift;
    b[12] = pf->blue_shift;
}

bool vnc_pixel_format_supported(const struct vnc_pixel_format *pf)
{
    if (pf->bpp != 8 && pf->bpp != 16 && pf->bpp != 32)
        return false;
    if (!pf->true_colour)
        return pf->bpp == 8;
    /* Every channel must fit inside the pixel. */
    const struct { uint16_t max; uint8_t shift; } ch[3] = {
        { pf->red_max, pf->red_shift }, { pf->green_max, pf->green_shift },
        { pf->blue_max, pf->blue_shift },
    };
    for (int i = 0; i < 3; i++) {
        if (ch[i].shift >= pf->bpp)
            return false;
        uint64_t top = (uint64_t)ch[i].max << ch[i].shift;
        if (top >> pf->bpp)
            return false;
    }
    return true;
}

static uint32_t scale_channel(uint32_t v8, uint16_t max)
{
    if (max == 255)
        return v8;
    return (v8 * max + 127) / 255;
}

uint32_t vnc_pixel_convert(const struct vnc_pixel_format *pf, uint32_t xrgb)
{
    uint32_t r = (xrgb >> 16) & 0xff, g = (xrgb >> 8) & 0xff, b = xrgb & 0xff;
    return scale_channel(r, pf->red_max) << pf->red_shift |
           scale_channel(g, pf->green_max) << pf->green_shift |
           scale_channel(b, pf->blue_max) << pf->blue_shift;
}

static uint8_t *put_pixel(const struct vnc_pixel_format *pf, uint32_t v, uint8_t *dst)
{
    switch (pf->bpp) {
    case 8:
        *dst++ = (uint8_t)v;
        break;
    case 16:
        if (pf->big_endian) {
            *dst++ = v >> 8; *dst++ = (uint8_t)v;
        } else {
            *dst++ = (uint8_t)v; *dst++ = v >> 8;
        }
        break;
    default:
        if (pf->big_endian) {
            *dst++ = v >> 24; *dst++ = v >> 16; *dst++ = v >> 8; *dst++ = (uint8_t)v;
        } else {
            *dst++ = (uint8_t)v; *dst++ = v >> 8; *dst++ = v >> 16; *dst++ = v >> 24;
        }
        break;
    }
    return dst;
}

static bool is_native(const struct vnc_pixel_format *pf)
{
    return pf->bpp == 32 && !pf->big_endian && pf->red_max == 255 &&
           pf->green_max == 255 && pf->blue_max == 255 && pf->red_shift == 16 &&
           pf->green_shift == 8 && pf->blue_shift == 0 && G_BYTE_ORDER == G_LITTLE_ENDIAN;
}

size_t vnc_convert_row(const struct vnc_pixel_format *pf, const uint32_t *src,
                       unsigned n, uint8_t *dst)
{
    if (is_native(pf)) {
        memcpy(dst, src, (size_t)n * 4);
        return (size_t)n * 4;
    }
    uint8_t *p = dst;
    for (unsigned i = 0; i < n; i++)
        p = put_pixel(pf, vnc_pixel_convert(pf, src[i]), p);
    return (size_t)(p - dst);
}

void vnc_put_rect_header(GByteArray *out, unsigned x, unsigned y,
                         unsigned w, unsigned h, int32_t encoding)
{
    uint32_t e = (uint32_t)encoding;
    uint8_t b[12] = {
        x >> 8, (uint8_t)x, y >> 8, (uint8_t)y, w >> 8, (uint8_t)w, h >> 8, (uint8_t)h,
        e >> 24, e >> 16, e >> 8, (uint8_t)e,
    };
    g_byte_array_append(out, b, sizeof b);
}

void vnc_encoder_init(struct vnc_encoder *enc)
{
    memset(enc, 0, sizeof *enc);
    vnc_pixel_format_default(&enc->pf);
    enc->encoding = VNC_ENCODING_RAW;
    enc->level = VNC_DEFAULT_COMPRESS_LEVEL;
}

void vnc_encoder_set_level(struct vnc_encoder *enc, int level)
{
    level = CLAMP(level, 0, 9);
    if (level == enc->level)
        return;
    enc->level = level;
    /* Streams already running switch level in place; nothing is pending
     * in them between rectangles (every rectangle ends with a flush). */
    if (enc->zlib_ready)
        deflateParams(&enc->zlib, level, Z_DEFAULT_STRATEGY);
    if (enc->zrle_ready)
        deflateParams(&enc->zrle, level, Z_DEFAULT_STRATEGY);
}

void vnc_encoder_cleanup(struct vnc_encoder *enc)
{
    if (enc->zlib_ready)
        deflateEnd(&enc->zlib);
    if (enc->zrle_ready)
        deflateEnd(&enc->zrle);
    g_free(enc->scratch);
    memset(enc, 0, sizeof *enc);
}

static uint8_t *scratch(struct vnc_encoder *enc, size_t len)
{
    if (enc->scratch_len < len) {
        g_free(enc->scratch);
        enc->scratch = g_malloc(len);
        enc->scratch_len = len;
    }
    return enc->scratch;
}

/* Deflate in into out (after a 4-byte big-endian length) with a sync flush,
 * so the client can decode everything sent so far. */
static bool deflate_append(z_stream *zs, GByteArray *out, const uint8_t *in, size_t len)
{
    guint len_at = out->len;
    g_byte_array_set_size(out, out->len + 4);
    zs->next_in = (Bytef *)in;
    zs->avail_in = (uInt)len;
    size_t produced = 0;
    do {
        size_t room = deflateBound(zs, (uLong)zs->avail_in) + 64;
        guint at = out->len;
        g_byte_array_set_size(out, at + (guint)room);
        zs->next_out = out->data + at;
        zs->avail_out = (uInt)room;
        int rc = deflate(zs, Z_SYNC_FLUSH);
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            return false;
        size_t got = room - zs->avail_out;
        produced += got;
        g_byte_array_set_size(out, at + (guint)got);
        if (zs->avail_out != 0)
            break;
    } while (1);
    uint8_t *l = out->data + len_at;
    l[0] = produced >> 24; l[1] = produced >> 16; l[2] = produced >> 8; l[3] = (uint8_t)produced;
    return true;
}

static bool ensure_stream(z_stream *zs, bool *ready, int level)
{
    if (*ready)
        return true;
    memset(zs, 0, sizeof *zs);
    if (deflateInit(zs, level) != Z_OK)
        return false;
    *ready = true;
    return true;
}

/* ZRLE's compressed pixel: 3 bytes when a 32-bpp true-colour pixel's colour
 * bits all sit in its low or high three bytes. */
static unsigned cpixel_size(const struct vnc_pixel_format *pf, int *shift_out)
{
    *shift_out = 0;
    if (pf->bpp != 32 || !pf->true_colour || pf->depth > 24)
        return pf->bpp / 8;
    uint32_t mask = (uint32_t)pf->red_max << pf->red_shift |
                    (uint32_t)pf->green_max << pf->green_shift |
                    (uint32_t)pf->blue_max << pf->blue_shift;
    if (!(mask & 0xff000000u))
        return 3;
    if (!(mask & 0x000000ffu)) {
        *shift_out = 8;
        return 3;
    }
    return 4;
}

static uint8_t *put_cpixel(const struct vnc_pixel_format *pf, unsigned size, int shift,
                           uint32_t v, uint8_t *dst)
{
    if (size != 3)
        return put_pixel(pf, v, dst);
    v >>= shift;
    if (pf->big_endian) {
        *dst++ = v >> 16; *dst++ = v >> 8; *dst++ = (uint8_t)v;
    } else {
        *dst++ = (uint8_t)v; *dst++ = v >> 8; *dst++ = v >> 16;
    }
    return dst;
}

#define ZRLE_TILE 64

/* One ZRLE tile: solid, packed palette (2..16 colours) or raw. */
static uint8_t *zrle_tile(const struct vnc_pixel_format *pf, const uint32_t *pixels,
                          unsigned stride, unsigned x, unsigned y, unsigned w, unsigned h,
                          uint8_t *p)
{
    int cshift;
    unsigned csize = cpixel_size(pf, &cshift);
    uint32_t palette[16];
    unsigned npal = 0;
    bool fits = true;
    for (unsigned j = 0; j < h && fits; j++) {
        const uint32_t *row = pixels + (size_t)(y + j) * stride + x;
        for (unsigned i = 0; i < w; i++) {
            uint32_t v = row[i] & 0xffffff;
            unsigned k;
            for (k = 0; k < npal && palette[k] != v; k++)
                ;
            if (k == npal) {
                if (npal == 16) {
                    fits = false;
                    break;
                }
                palette[npal++] = v;
            }
        }
    }
    if (fits && npal == 1) {
        *p++ = 1;
        return put_cpixel(pf, csize, cshift, vnc_pixel_convert(pf, palette[0]), p);
    }
    if (fits) {
        *p++ = (uint8_t)npal;
        for (unsigned k = 0; k < npal; k++)
            p = put_cpixel(pf, csize, cshift, vnc_pixel_convert(pf, palette[k]), p);
        unsigned bits = npal <= 2 ? 1 : npal <= 4 ? 2 : 4;
        for (unsigned j = 0; j < h; j++) {
            const uint32_t *row = pixels + (size_t)(y + j) * stride + x;
            unsigned acc = 0, nbits = 0;
            for (unsigned i = 0; i < w; i++) {
                uint32_t v = row[i] & 0xffffff;
                unsigned k;
                for (k = 0; palette[k] != v; k++)
                    ;
                acc = acc << bits | k;
                nbits += bits;
                if (nbits == 8) {
                    *p++ = (uint8_t)acc;
                    acc = nbits = 0;
                }
            }
            if (nbits)  /* rows are padded to a byte */
                *p++ = (uint8_t)(acc << (8 - nbits));
        }
        return p;
    }
    *p++ = 0;
    for (unsigned j = 0; j < h; j++) {
        const uint32_t *row = pixels + (size_t)(y + j) * stride + x;
        for (unsigned i = 0; i < w; i++)
            p = put_cpixel(pf, csize, cshift, vnc_pixel_convert(pf, row[i]), p);
    }
    return p;
}

bool vnc_encode_rect(struct vnc_encoder *enc, GByteArray *out,
                     const uint32_t *pixels, unsigned stride,
                     unsigned x, unsigned y, unsigned w, unsigned h)
{
    size_t bypp = enc->pf.bpp / 8;
    size_t raw_len = (size_t)w * h * bypp;

    switch (enc->encoding) {
    case VNC_ENCODING_ZLIB: {
        if (!ensure_stream(&enc->zlib, &enc->zlib_ready, enc->level))
            return false;
        uint8_t *buf = scratch(enc, raw_len);
        for (unsigned j = 0; j < h; j++)
            vnc_convert_row(&enc->pf, pixels + (size_t)(y + j) * stride + x, w,
                            buf + (size_t)j * w * bypp);
        vnc_put_rect_header(out, x, y, w, h, VNC_ENCODING_ZLIB);
        return deflate_append(&enc->zlib, out, buf, raw_len);
    }
    case VNC_ENCODING_ZRLE: {
        if (!ensure_stream(&enc->zrle, &enc->zrle_ready, enc->level))
            return false;
        /* Worst case per tile: subencoding byte + raw pixels. */
        unsigned tiles = ((w + ZRLE_TILE - 1) / ZRLE_TILE) * ((h + ZRLE_TILE - 1) / ZRLE_TILE);
        uint8_t *buf = scratch(enc, raw_len + tiles * 64 + 64);
        uint8_t *p = buf;
        for (unsigned ty = 0; ty < h; ty += ZRLE_TILE) {
            unsigned th = MIN(ZRLE_TILE, h - ty);
            for (unsigned tx = 0; tx < w; tx += ZRLE_TILE) {
                unsigned tw = MIN(ZRLE_TILE, w - tx);
                p = zrle_tile(&enc->pf, pixels, stride, x + tx, y + ty, tw, th, p);
            }
        }
        vnc_put_rect_header(out, x, y, w, h, VNC_ENCODING_ZRLE);
        return deflate_append(&enc->zrle, out, buf, (size_t)(p - buf));
    }
    default: {
        vnc_put_rect_header(out, x, y, w, h, VNC_ENCODING_RAW);
        guint at = out->len;
        g_byte_array_set_size(out, at + (guint)raw_len);
        for (unsigned j = 0; j < h; j++)
            vnc_convert_row(&enc->pf, pixels + (size_t)(y + j) * stride + x, w,
                            out->data + at + (size_t)j * w * bypp);
        return true;
    }
    }
}
