/* A small PNG encoder: IHDR, one IDAT of zlib-deflated rows (filter type
 * None), IEND; chunk CRCs from zlib's crc32. */
#include "png_writer.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>
#include <zlib.h>

static void put_be32(GByteArray *out, uint32_t v)
{
    uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };
    g_byte_array_append(out, b, 4);
}

static void put_chunk(GByteArray *out, const char type[4], const uint8_t *data, size_t len)
{
    put_be32(out, (uint32_t)len);
    size_t start = out->len;
    g_byte_array_append(out, (const guint8 *)type, 4);
    if (len)
        g_byte_array_append(out, data, (guint)len);
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, out->data + start, (uInt)(len + 4));
    put_be32(out, (uint32_t)crc);
}

GBytes *png_encode_xrgb(const uint32_t *pixels, unsigned width, unsigned height,
                        unsigned stride, GError **error)
{
    if (width == 0 || height == 0 || width > 65535 || height > 65535 || stride < width) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    _("Cannot encode a %ux%u image as PNG"), width, height);
        return NULL;
    }
    size_t row = 1 + (size_t)width * 3;
    size_t raw_len = row * height;
    uint8_t *raw = g_malloc(raw_len);
    for (unsigned y = 0; y < height; y++) {
        uint8_t *p = raw + row * y;
        const uint32_t *s = pixels + (size_t)stride * y;
        *p++ = 0; /* filter: None */
        for (unsigned x = 0; x < width; x++) {
            *p++ = s[x] >> 16;
            *p++ = s[x] >> 8;
            *p++ = s[x];
        }
    }
    uLongf zlen = compressBound((uLong)raw_len);
    uint8_t *z = g_malloc(zlen);
    int rc = compress2(z, &zlen, raw, (uLong)raw_len, 6);
    g_free(raw);
    if (rc != Z_OK) {
        g_free(z);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    _("PNG compression failed (zlib error %d)"), rc);
        return NULL;
    }

    GByteArray *out = g_byte_array_sized_new((guint)zlen + 64);
    static const uint8_t signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    g_byte_array_append(out, signature, 8);
    uint8_t ihdr[13] = {
        width >> 24, width >> 16, width >> 8, width,
        height >> 24, height >> 16, height >> 8, height,
        8,  /* bit depth */
        2,  /* colour type: RGB */
        0, 0, 0, /* deflate, adaptive filtering, no interlace */
    };
    put_chunk(out, "IHDR", ihdr, sizeof ihdr);
    put_chunk(out, "IDAT", z, zlen);
    put_chunk(out, "IEND", NULL, 0);
    g_free(z);
    return g_byte_array_free_to_bytes(out);
}

bool png_write_xrgb(const char *path, const uint32_t *pixels, unsigned width,
                    unsigned height, unsigned stride, GError **error)
{
    GBytes *png = png_encode_xrgb(pixels, width, height, stride, error);
    if (!png)
        return false;
    gsize len;
    const char *data = g_bytes_get_data(png, &len);
    GError *local = NULL;
    bool ok = g_file_set_contents_full(path, data, (gssize)len,
                                       G_FILE_SET_CONTENTS_CONSISTENT, 0644, &local);
    g_bytes_unref(png);
    if (!ok) {
        g_set_error(error, G_FILE_ERROR, local->code,
                    _("Cannot write screen dump %s: %s"), path, local->message);
        g_error_free(local);
    }
    return ok;
}
