/* Test-side PNG decoder (see png_reader.h). */
#include "png_reader.h"

#include <glib.h>
#include <string.h>
#include <zlib.h>

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    if (pa <= pb && pa <= pc)
        return a;
    return pb <= pc ? b : c;
}

uint32_t *test_png_decode(const uint8_t *data, size_t len, unsigned *width,
                          unsigned *height, const char **why)
{
    static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    if (len < 8 || memcmp(data, sig, 8) != 0) {
        *why = "no PNG signature";
        return NULL;
    }
    unsigned w = 0, h = 0, channels = 0;
    GByteArray *idat = g_byte_array_new();
    size_t pos = 8;
    bool end = false;
    while (!end) {
        if (pos + 12 > len) {
            *why = "truncated chunk";
            goto fail;
        }
        uint32_t clen = be32(data + pos);
        if (clen > len - pos - 12) {
            *why = "chunk too long";
            goto fail;
        }
        const uint8_t *type = data + pos + 4, *body = data + pos + 8;
        uint32_t crc = (uint32_t)crc32(crc32(0, NULL, 0), type, clen + 4);
        if (crc != be32(body + clen)) {
            *why = "bad chunk CRC";
            goto fail;
        }
        if (memcmp(type, "IHDR", 4) == 0) {
            w = be32(body);
            h = be32(body + 4);
            if (body[8] != 8 || (body[9] != 2 && body[9] != 6) || body[12] != 0) {
                *why = "unsupported PNG format";
                goto fail;
            }
            channels = body[9] == 2 ? 3 : 4;
        } else if (memcmp(type, "IDAT", 4) == 0) {
            g_byte_array_append(idat, body, clen);
        } else if (memcmp(type, "IEND", 4) == 0) {
            end = true;
        }
        pos += 12 + clen;
    }
    if (!w || !h || !channels || w > 16384 || h > 16384) {
        *why = "missing or bad IHDR";
        goto fail;
    }
    size_t row = (size_t)w * channels, raw_len = (row + 1) * h;
    uint8_t *raw = g_malloc(raw_len);
    uLongf got = raw_len;
    if (uncompress(raw, &got, idat->data, idat->len) != Z_OK || got != raw_len) {
        g_free(raw);
        *why = "bad image data";
        goto fail;
    }
    uint8_t *prev = g_malloc0(row), *cur = g_malloc(row);
    uint32_t *px = g_new(uint32_t, (size_t)w * h);
    for (unsigned y = 0; y < h; y++) {
        const uint8_t *src = raw + y * (row + 1);
        uint8_t f = src[0];
        src++;
        for (size_t i = 0; i < row; i++) {
            int a = i >= channels ? cur[i - channels] : 0, b = prev[i];
            int c = i >= channels ? prev[i - channels] : 0;
            int pred = f == 0 ? 0 : f == 1 ? a : f == 2 ? b : f == 3 ? (a + b) / 2 : paeth(a, b, c);
            cur[i] = (uint8_t)(src[i] + pred);
        }
        for (unsigned x = 0; x < w; x++) {
            const uint8_t *p = cur + (size_t)x * channels;
            px[(size_t)y * w + x] = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
        }
        memcpy(prev, cur, row);
    }
    g_free(prev);
    g_free(cur);
    g_free(raw);
    g_byte_array_unref(idat);
    *width = w;
    *height = h;
    return px;
fail:
    g_byte_array_unref(idat);
    return NULL;
}
