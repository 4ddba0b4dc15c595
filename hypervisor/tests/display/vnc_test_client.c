/* The unit tests' RFB client (see vnc_test_client.h). */
#include "vnc_test_client.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void tc_init(struct test_client *tc, int fd, GMainContext *ctx)
{
    memset(tc, 0, sizeof *tc);
    tc->fd = fd;
    tc->ctx = ctx;
}

void tc_cleanup(struct test_client *tc)
{
    if (tc->zlib_ready)
        inflateEnd(&tc->zlib);
    if (tc->zrle_ready)
        inflateEnd(&tc->zrle);
    g_free(tc->image);
    if (tc->fd >= 0)
        close(tc->fd);
    tc->fd = -1;
}

void tc_settle(struct test_client *tc)
{
    for (int i = 0; i < 100 && g_main_context_iteration(tc->ctx, FALSE); i++)
        ;
}

static ssize_t read_some(struct test_client *tc, void *buf, size_t n)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < deadline) {
        ssize_t r = recv(tc->fd, buf, n, MSG_DONTWAIT);
        if (r >= 0)
            return r;
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        if (!g_main_context_iteration(tc->ctx, FALSE)) {
            struct pollfd p = { .fd = tc->fd, .events = POLLIN };
            poll(&p, 1, 5);
        }
    }
    g_error("timed out waiting for the VNC server");
    return -1;
}

void tc_read(struct test_client *tc, void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n) {
        ssize_t r = read_some(tc, p, n);
        if (r <= 0)
            g_error("VNC server closed the connection unexpectedly");
        p += r;
        n -= (size_t)r;
    }
}

bool tc_wait_eof(struct test_client *tc)
{
    uint8_t buf[4096];
    for (;;) {
        ssize_t r = read_some(tc, buf, sizeof buf);
        if (r <= 0)
            return true;
    }
}

void tc_write(struct test_client *tc, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    while (n) {
        ssize_t w = write(tc->fd, p, n);
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            g_main_context_iteration(tc->ctx, FALSE);
            continue;
        }
        g_assert_cmpint(w, >, 0);
        p += w;
        n -= (size_t)w;
    }
    tc_settle(tc);
}

uint8_t tc_read_u8(struct test_client *tc)
{
    uint8_t v;
    tc_read(tc, &v, 1);
    return v;
}

uint16_t tc_read_u16(struct test_client *tc)
{
    uint8_t b[2];
    tc_read(tc, b, 2);
    return (uint16_t)(b[0] << 8 | b[1]);
}

uint32_t tc_read_u32(struct test_client *tc)
{
    uint8_t b[4];
    tc_read(tc, b, 4);
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void parse_pf(struct vnc_pixel_format *pf, const uint8_t *b)
{
    pf->bpp = b[0];
    pf->depth = b[1];
    pf->big_endian = b[2];
    pf->true_colour = b[3];
    pf->red_max = (uint16_t)(b[4] << 8 | b[5]);
    pf->green_max = (uint16_t)(b[6] << 8 | b[7]);
    pf->blue_max = (uint16_t)(b[8] << 8 | b[9]);
    pf->red_shift = b[10];
    pf->green_shift = b[11];
    pf->blue_shift = b[12];
}

static void resize_image(struct test_client *tc, unsigned w, unsigned h)
{
    g_free(tc->image);
    tc->width = w;
    tc->height = h;
    tc->image = g_new0(uint32_t, (size_t)w * h);
}

void tc_handshake_none(struct test_client *tc, unsigned minor)
{
    char version[13] = { 0 };
    tc_read(tc, version, 12);
    g_assert_cmpstr(version, ==, "RFB 003.008\n");
    char mine[13];
    g_snprintf(mine, sizeof mine, "RFB 003.%03u\n", minor);
    tc_write(tc, mine, 12);
    if (minor == 3) {
        g_assert_cmpuint(tc_read_u32(tc), ==, 1);
    } else {
        g_assert_cmpuint(tc_read_u8(tc), ==, 1);
        g_assert_cmpuint(tc_read_u8(tc), ==, 1);
        uint8_t none = 1;
        tc_write(tc, &none, 1);
        if (minor >= 8)
            g_assert_cmpuint(tc_read_u32(tc), ==, 0);
    }
    uint8_t shared = 1;
    tc_write(tc, &shared, 1);
    unsigned w = tc_read_u16(tc), h = tc_read_u16(tc);
    uint8_t pf[16];
    tc_read(tc, pf, 16);
    parse_pf(&tc->pf, pf);
    uint32_t name_len = tc_read_u32(tc);
    g_assert_cmpuint(name_len, <, 256);
    char name[256];
    tc_read(tc, name, name_len);
    resize_image(tc, w, h);
}

void tc_set_pixel_format(struct test_client *tc, const struct vnc_pixel_format *pf)
{
    uint8_t b[20] = { 0 };
    b[4] = pf->bpp;
    b[5] = pf->depth;
    b[6] = pf->big_endian;
    b[7] = pf->true_colour;
    b[8] = pf->red_max >> 8; b[9] = (uint8_t)pf->red_max;
    b[10] = pf->green_max >> 8; b[11] = (uint8_t)pf->green_max;
    b[12] = pf->blue_max >> 8; b[13] = (uint8_t)pf->blue_max;
    b[14] = pf->red_shift;
    b[15] = pf->green_shift;
    b[16] = pf->blue_shift;
    tc_write(tc, b, sizeof b);
    tc->pf = *pf;
}

void tc_set_encodings(struct test_client *tc, const int32_t *enc, unsigned n)
{
    GByteArray *b = g_byte_array_new();
    uint8_t hdr[4] = { 2, 0, n >> 8, (uint8_t)n };
    g_byte_array_append(b, hdr, 4);
    for (unsigned i = 0; i < n; i++) {
        uint32_t e = (uint32_t)enc[i];
        uint8_t v[4] = { e >> 24, e >> 16, e >> 8, (uint8_t)e };
        g_byte_array_append(b, v, 4);
    }
    tc_write(tc, b->data, b->len);
    g_byte_array_unref(b);
}

void tc_request(struct test_client *tc, bool incremental, unsigned x, unsigned y,
                unsigned w, unsigned h)
{
    uint8_t b[10] = { 3, incremental, x >> 8, (uint8_t)x, y >> 8, (uint8_t)y,
                      w >> 8, (uint8_t)w, h >> 8, (uint8_t)h };
    tc_write(tc, b, sizeof b);
}

static uint32_t get_pixel(const struct vnc_pixel_format *pf, const uint8_t *p, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        if (pf->big_endian)
            v = v << 8 | p[i];
        else
            v |= (uint32_t)p[i] << (8 * i);
    }
    return v;
}

/* Client pixel value to 0xRRGGBB. */
static uint32_t to_rgb(const struct test_client *tc, uint32_t v)
{
    const struct vnc_pixel_format *pf = &tc->pf;
    if (!pf->true_colour) {
        const uint16_t *c = tc->colour_map[v & 0xff];
        return (uint32_t)(c[0] >> 8) << 16 | (uint32_t)(c[1] >> 8) << 8 | (c[2] >> 8);
    }
    uint32_t r = (v >> pf->red_shift) & pf->red_max;
    uint32_t g = (v >> pf->green_shift) & pf->green_max;
    uint32_t b = (v >> pf->blue_shift) & pf->blue_max;
    return (r * 255 / pf->red_max) << 16 | (g * 255 / pf->green_max) << 8 |
           (b * 255 / pf->blue_max);
}

static void inflate_exact(z_stream *zs, const uint8_t *in, size_t in_len, uint8_t *out,
                          size_t out_len)
{
    zs->next_in = (Bytef *)in;
    zs->avail_in = (uInt)in_len;
    zs->next_out = out;
    zs->avail_out = (uInt)out_len;
    while (zs->avail_in > 0 || zs->avail_out > 0) {
        int rc = inflate(zs, Z_SYNC_FLUSH);
        if (rc == Z_BUF_ERROR)
            break;
        g_assert_cmpint(rc, ==, Z_OK);
    }
    g_assert_cmpuint(zs->avail_out, ==, 0);
    g_assert_cmpuint(zs->avail_in, ==, 0);
}

/* Inflate a whole zlib payload of unknown decompressed size. */
static GByteArray *inflate_all(z_stream *zs, const uint8_t *in, size_t in_len)
{
    GByteArray *out = g_byte_array_new();
    zs->next_in = (Bytef *)in;
    zs->avail_in = (uInt)in_len;
    while (zs->avail_in > 0) {
        uint8_t buf[65536];
        zs->next_out = buf;
        zs->avail_out = sizeof buf;
        int rc = inflate(zs, Z_SYNC_FLUSH);
        g_assert_true(rc == Z_OK || rc == Z_BUF_ERROR);
        g_byte_array_append(out, buf, (guint)(sizeof buf - zs->avail_out));
        if (rc == Z_BUF_ERROR && zs->avail_in > 0)
            g_error("zlib stream stuck");
    }
    /* Flush anything still buffered in the inflater. */
    for (;;) {
        uint8_t buf[65536];
        zs->next_out = buf;
        zs->avail_out = sizeof buf;
        int rc = inflate(zs, Z_SYNC_FLUSH);
        g_byte_array_append(out, buf, (guint)(sizeof buf - zs->avail_out));
        if (rc != Z_OK || zs->avail_out != 0)
            break;
    }
    return out;
}

static void store(struct test_client *tc, unsigned x, unsigned y, uint32_t v)
{
    g_assert_cmpuint(x, <, tc->width);
    g_assert_cmpuint(y, <, tc->height);
    tc->image[(size_t)y * tc->width + x] = to_rgb(tc, v);
}

static void decode_zrle(struct test_client *tc, const uint8_t *d, size_t len,
                        unsigned x, unsigned y, unsigned w, unsigned h)
{
    const struct vnc_pixel_format *pf = &tc->pf;
    unsigned cps = pf->bpp / 8;
    bool high = false;
    if (pf->bpp == 32 && pf->true_colour && pf->depth <= 24) {
        uint32_t mask = (uint32_t)pf->red_max << pf->red_shift |
                        (uint32_t)pf->green_max << pf->green_shift |
                        (uint32_t)pf->blue_max << pf->blue_shift;
        if (!(mask & 0xff000000u) || !(mask & 0xff)) {
            cps = 3;
            high = (mask & 0xff000000u) != 0;
        }
    }
    size_t pos = 0;
#define NEED(n) g_assert_cmpuint(pos + (n), <=, len)
#define CPIXEL(out) do { NEED(cps); uint32_t v_ = get_pixel(pf, d + pos, cps); \
        (out) = (cps == 3 && high) ? v_ << 8 : v_; pos += cps; } while (0)
    for (unsigned ty = 0; ty < h; ty += 64) {
        unsigned th = MIN(64u, h - ty);
        for (unsigned tx = 0; tx < w; tx += 64) {
            unsigned tw = MIN(64u, w - tx);
            NEED(1);
            uint8_t sub = d[pos++];
            if (sub == 0) {
                for (unsigned j = 0; j < th; j++)
                    for (unsigned i = 0; i < tw; i++) {
                        uint32_t v;
                        CPIXEL(v);
                        store(tc, x + tx + i, y + ty + j, v);
                    }
            } else if (sub == 1) {
                uint32_t v;
                CPIXEL(v);
                for (unsigned j = 0; j < th; j++)
                    for (unsigned i = 0; i < tw; i++)
                        store(tc, x + tx + i, y + ty + j, v);
            } else if (sub <= 16) {
                uint32_t pal[16];
                for (unsigned k = 0; k < sub; k++)
                    CPIXEL(pal[k]);
                unsigned bits = sub <= 2 ? 1 : sub <= 4 ? 2 : 4;
                for (unsigned j = 0; j < th; j++) {
                    unsigned nbits = 0;
                    uint8_t byte = 0;
                    for (unsigned i = 0; i < tw; i++) {
                        if (nbits == 0) {
                            NEED(1);
                            byte = d[pos++];
                            nbits = 8;
                        }
                        unsigned idx = (byte >> (nbits - bits)) & ((1u << bits) - 1);
                        nbits -= bits;
                        g_assert_cmpuint(idx, <, sub);
                        store(tc, x + tx + i, y + ty + j, pal[idx]);
                    }
                }
            } else {
                g_error("unexpected ZRLE subencoding %u", sub);
            }
        }
    }
    g_assert_cmpuint(pos, ==, len);
#undef NEED
#undef CPIXEL
}

void tc_read_update(struct test_client *tc)
{
    for (;;) {
        uint8_t type = tc_read_u8(tc);
        if (type == 1) { /* SetColourMapEntries */
            tc_read_u8(tc);
            unsigned first = tc_read_u16(tc), n = tc_read_u16(tc);
            for (unsigned i = 0; i < n; i++)
                for (int k = 0; k < 3; k++)
                    tc->colour_map[(first + i) & 0xff][k] = tc_read_u16(tc);
            tc->have_colour_map = true;
            continue;
        }
        g_assert_cmpuint(type, ==, 0);
        break;
    }
    tc_read_u8(tc);
    unsigned n = tc_read_u16(tc);
    g_assert_cmpuint(n, <=, G_N_ELEMENTS(tc->encodings));
    tc->nrects = n;
    unsigned bypp = tc->pf.bpp / 8;
    for (unsigned r = 0; r < n; r++) {
        unsigned x = tc_read_u16(tc), y = tc_read_u16(tc);
        unsigned w = tc_read_u16(tc), h = tc_read_u16(tc);
        int32_t enc = (int32_t)tc_read_u32(tc);
        tc->encodings[r] = enc;
        tc->rx[r] = x; tc->ry[r] = y; tc->rw[r] = w; tc->rh[r] = h;
        switch (enc) {
        case VNC_ENCODING_DESKTOP_SIZE:
            resize_image(tc, w, h);
            break;
        case VNC_ENCODING_QEMU_POINTER_CHANGE:
        case VNC_ENCODING_QEMU_EXT_KEY:
            break;
        case VNC_ENCODING_RAW: {
            size_t len = (size_t)w * h * bypp;
            uint8_t *buf = g_malloc(len ? len : 1);
            tc_read(tc, buf, len);
            for (unsigned j = 0; j < h; j++)
                for (unsigned i = 0; i < w; i++)
                    store(tc, x + i, y + j, get_pixel(&tc->pf, buf + ((size_t)j * w + i) * bypp, bypp));
            g_free(buf);
            break;
        }
        case VNC_ENCODING_ZLIB: {
            uint32_t zlen = tc_read_u32(tc);
            uint8_t *z = g_malloc(zlen ? zlen : 1);
            tc_read(tc, z, zlen);
            size_t len = (size_t)w * h * bypp;
            uint8_t *buf = g_malloc(len ? len : 1);
            if (!tc->zlib_ready) {
                memset(&tc->zlib, 0, sizeof tc->zlib);
                g_assert_cmpint(inflateInit(&tc->zlib), ==, Z_OK);
                tc->zlib_ready = true;
            }
            inflate_exact(&tc->zlib, z, zlen, buf, len);
            for (unsigned j = 0; j < h; j++)
                for (unsigned i = 0; i < w; i++)
                    store(tc, x + i, y + j, get_pixel(&tc->pf, buf + ((size_t)j * w + i) * bypp, bypp));
            g_free(z);
            g_free(buf);
            break;
        }
        case VNC_ENCODING_ZRLE: {
            uint32_t zlen = tc_read_u32(tc);
            uint8_t *z = g_malloc(zlen ? zlen : 1);
            tc_read(tc, z, zlen);
            if (!tc->zrle_ready) {
                memset(&tc->zrle, 0, sizeof tc->zrle);
                g_assert_cmpint(inflateInit(&tc->zrle), ==, Z_OK);
                tc->zrle_ready = true;
            }
            GByteArray *data = inflate_all(&tc->zrle, z, zlen);
            decode_zrle(tc, data->data, data->len, x, y, w, h);
            g_byte_array_unref(data);
            g_free(z);
            break;
        }
        default:
            g_error("unexpected encoding %d", enc);
        }
    }
}

uint32_t tc_expected(const struct test_client *tc, uint32_t xrgb)
{
    const struct vnc_pixel_format *pf = &tc->pf;
    uint32_t r = (xrgb >> 16) & 0xff, g = (xrgb >> 8) & 0xff, b = xrgb & 0xff;
    if (!pf->true_colour) {
        /* The server's colour map is BGR233. */
        r = (r * 7 + 127) / 255;
        g = (g * 7 + 127) / 255;
        b = (b * 3 + 127) / 255;
        uint32_t R = (r * 65535 / 7) >> 8, G = (g * 65535 / 7) >> 8, B = (b * 65535 / 3) >> 8;
        return R << 16 | G << 8 | B;
    }
    r = (r * pf->red_max + 127) / 255;
    g = (g * pf->green_max + 127) / 255;
    b = (b * pf->blue_max + 127) / 255;
    return (r * 255 / pf->red_max) << 16 | (g * 255 / pf->green_max) << 8 |
           (b * 255 / pf->blue_max);
}
