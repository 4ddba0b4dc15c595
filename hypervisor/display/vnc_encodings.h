/* RFB pixel formats and rectangle encodings (Raw, zlib, ZRLE).
 *
 * An encoder holds what one client negotiated: its pixel format and chosen
 * encoding, and the zlib streams, which persist for the connection as the
 * protocol requires. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <zlib.h>

#define VNC_ENCODING_RAW          0
#define VNC_ENCODING_COPYRECT     1
#define VNC_ENCODING_ZLIB         6
#define VNC_ENCODING_ZRLE         16
#define VNC_ENCODING_DESKTOP_SIZE (-223)
#define VNC_ENCODING_QEMU_EXT_KEY (-258)
#define VNC_ENCODING_QEMU_POINTER_CHANGE (-257)
#define VNC_ENCODING_COMPRESS_LEVEL0 (-256)  /* ... -247 for level 9 */
#define VNC_DEFAULT_COMPRESS_LEVEL 1         /* fast: the main loop pays for it */

struct vnc_pixel_format {
    uint8_t bpp;          /* 8, 16 or 32 */
    uint8_t depth;
    bool big_endian;
    bool true_colour;
    uint16_t red_max, green_max, blue_max;
    uint8_t red_shift, green_shift, blue_shift;
};

/* 32 bpp, depth 24, little-endian, 0x00RRGGBB: what the server offers. */
void vnc_pixel_format_default(struct vnc_pixel_format *pf);
/* Parse/serialise the 16-byte wire form. */
void vnc_pixel_format_parse(struct vnc_pixel_format *pf, const uint8_t b[16]);
void vnc_pixel_format_serialise(const struct vnc_pixel_format *pf, uint8_t b[16]);
/* Whether we can convert to this format (true colour 8/16/32 bpp, or
 * 8 bpp with a colour map, which we fill as BGR233). */
bool vnc_pixel_format_supported(const struct vnc_pixel_format *pf);
/* The true-colour layout used for an 8-bpp colour-map client. */
void vnc_pixel_format_bgr233(struct vnc_pixel_format *pf);

/* One XRGB8888 pixel in the client's format, as a number. */
uint32_t vnc_pixel_convert(const struct vnc_pixel_format *pf, uint32_t xrgb);
/* n pixels in the client's format and byte order; returns bytes written. */
size_t vnc_convert_row(const struct vnc_pixel_format *pf, const uint32_t *src,
                       unsigned n, uint8_t *dst);

struct vnc_encoder {
    struct vnc_pixel_format pf;
    int encoding;  /* VNC_ENCODING_RAW, _ZLIB or _ZRLE */
    int level;     /* zlib compression level, 0-9 */
    z_stream zlib, zrle;
    bool zlib_ready, zrle_ready;
    uint8_t *scratch;
    size_t scratch_len;
};

void vnc_encoder_init(struct vnc_encoder *enc);
void vnc_encoder_cleanup(struct vnc_encoder *enc);

/* Change the compression level (takes effect on the next rectangle). */
void vnc_encoder_set_level(struct vnc_encoder *enc, int level);

/* Append one rectangle (header + data) of the surface to out. */
bool vnc_encode_rect(struct vnc_encoder *enc, GByteArray *out,
                     const uint32_t *pixels, unsigned stride,
                     unsigned x, unsigned y, unsigned w, unsigned h);

/* Rectangle header helper (also used for pseudo-encodings). */
void vnc_put_rect_header(GByteArray *out, unsigned x, unsigned y,
                         unsigned w, unsigned h, int32_t encoding);
