/* The VNC server against an in-process RFB client over a socketpair:
 * handshakes (3.3/3.7/3.8, None and VNC Authentication checked with an
 * independent DES), pixel formats, Raw/zlib/ZRLE decoding compared pixel by
 * pixel, incremental updates, DesktopSize, keys and pointer reaching an
 * input sink, and a client that does not read. */
#include <gcrypt.h>
#include <glib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "display/framebuffer.h"
#include "input/input.h"
#include "display/vnc.h"
#include "display/vnc_private.h"
#include "vnc_test_client.h"

struct recorded {
    GArray *keys;       /* uint32: scancode | down << 16 */
    int abs_x, abs_y, rel_dx, rel_dy, dz;
    unsigned buttons, abs_events, rel_events;
};

static void rec_key(void *opaque, uint16_t sc, bool down)
{
    struct recorded *r = opaque;
    uint32_t v = sc | (uint32_t)down << 16;
    g_array_append_val(r->keys, v);
}

static void rec_abs(void *opaque, int x, int y, int dz, unsigned buttons)
{
    struct recorded *r = opaque;
    r->abs_x = x; r->abs_y = y; r->dz += dz; r->buttons = buttons; r->abs_events++;
}

static void rec_rel(void *opaque, int dx, int dy, int dz, unsigned buttons)
{
    struct recorded *r = opaque;
    r->rel_dx += dx; r->rel_dy += dy; r->dz += dz; r->buttons = buttons; r->rel_events++;
}

static const struct input_sink_ops kbd_mouse_ops = { .key = rec_key, .pointer_rel = rec_rel };
static const struct input_sink_ops tablet_ops = { .pointer_abs = rec_abs };

struct fixture {
    GMainContext *ctx;
    struct framebuffer *fb;
    struct input_router *router;
    struct recorded rec;
    struct vnc_server *server;
};

static void paint_pattern(struct framebuffer *fb, uint32_t seed)
{
    uint32_t *px = framebuffer_pixels(fb);
    unsigned w = framebuffer_width(fb), h = framebuffer_height(fb), s = framebuffer_stride(fb);
    GRand *rand = g_rand_new_with_seed(seed);
    for (unsigned y = 0; y < h; y++)
        for (unsigned x = 0; x < w; x++) {
            uint32_t v;
            if (y < h / 3)        /* noise: raw ZRLE tiles */
                v = g_rand_int(rand) & 0xffffff;
            else if (y < 2 * h / 3) /* few colours: palette tiles */
                v = ((x / 7 + y / 5) % 3) * 0x405060 + 0x102030;
            else                  /* solid */
                v = 0x336699;
            px[(size_t)y * s + x] = v;
        }
    g_rand_free(rand);
}

static void fixture_setup(struct fixture *f, gconstpointer data)
{
    f->ctx = g_main_context_new();
    f->fb = framebuffer_new(200, 150);
    paint_pattern(f->fb, 1);
    f->router = input_router_new();
    f->rec.keys = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    input_router_add_sink(f->router, &kbd_mouse_ops, &f->rec);
    f->server = vnc_server_new(f->fb, f->router, f->ctx, "test-vm");
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
    vnc_server_free(f->server);
    while (g_main_context_iteration(f->ctx, FALSE))
        ;
    input_router_free(f->router);
    g_array_free(f->rec.keys, TRUE);
    framebuffer_free(f->fb);
    g_main_context_unref(f->ctx);
}

static void connect_client(struct fixture *f, struct test_client *tc)
{
    int sv[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    g_assert_true(vnc_server_add_client_fd(f->server, sv[0]));
    tc_init(tc, sv[1], f->ctx);
}

static void assert_image_matches(struct test_client *tc, struct framebuffer *fb)
{
    g_assert_cmpuint(tc->width, ==, framebuffer_width(fb));
    g_assert_cmpuint(tc->height, ==, framebuffer_height(fb));
    const uint32_t *px = framebuffer_const_pixels(fb);
    for (unsigned y = 0; y < tc->height; y++)
        for (unsigned x = 0; x < tc->width; x++) {
            uint32_t want = tc_expected(tc, px[(size_t)y * framebuffer_stride(fb) + x] & 0xffffff);
            uint32_t got = tc->image[(size_t)y * tc->width + x];
            if (want != got)
                g_error("pixel (%u,%u): want %06x got %06x", x, y, want, got);
        }
}

/* --- Handshakes ------------------------------------------------------------ */

static void test_handshake_versions(struct fixture *f, gconstpointer data)
{
    unsigned minors[] = { 3, 7, 8 };
    for (unsigned i = 0; i < G_N_ELEMENTS(minors); i++) {
        struct test_client tc;
        connect_client(f, &tc);
        tc_handshake_none(&tc, minors[i]);
        g_assert_cmpuint(tc.width, ==, 200);
        g_assert_cmpuint(tc.height, ==, 150);
        g_assert_cmpuint(tc.pf.bpp, ==, 32);
        g_assert_true(tc.pf.true_colour);
        g_assert_cmpuint(vnc_server_client_count(f->server), ==, 1);
        tc_cleanup(&tc);
        /* The server notices the hang-up. */
        gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
        while (vnc_server_client_count(f->server) && g_get_monotonic_time() < deadline)
            g_main_context_iteration(f->ctx, TRUE);
        g_assert_cmpuint(vnc_server_client_count(f->server), ==, 0);
    }
}

/* VNC Authentication as the protocol defines it, with libgcrypt's DES:
 * key = password bytes with their bit order reversed. */
static void reference_response(const char *password, const uint8_t challenge[16], uint8_t out[16])
{
    uint8_t key[8] = { 0 };
    for (size_t i = 0; i < 8 && password[i]; i++) {
        uint8_t b = (uint8_t)password[i], r = 0;
        for (int k = 0; k < 8; k++)
            if (b & (1 << k))
                r |= (uint8_t)(0x80 >> k);
        key[i] = r;
    }
    gcry_cipher_hd_t h;
    g_assert_cmpint(gcry_cipher_open(&h, GCRY_CIPHER_DES, GCRY_CIPHER_MODE_ECB, 0), ==, 0);
    gcry_error_t e = gcry_cipher_setkey(h, key, 8);
    g_assert_true(e == 0 || gcry_err_code(e) == GPG_ERR_WEAK_KEY);
    g_assert_cmpint(gcry_cipher_encrypt(h, out, 16, challenge, 16), ==, 0);
    gcry_cipher_close(h);
}

static void auth_attempt(struct fixture *f, unsigned minor, const char *password, bool expect_ok)
{
    struct test_client tc;
    connect_client(f, &tc);
    char version[13] = { 0 };
    tc_read(&tc, version, 12);
    char mine[13];
    g_snprintf(mine, sizeof mine, "RFB 003.%03u\n", minor);
    tc_write(&tc, mine, 12);
    if (minor == 3) {
        g_assert_cmpuint(tc_read_u32(&tc), ==, 2);
    } else {
        g_assert_cmpuint(tc_read_u8(&tc), ==, 1);
        g_assert_cmpuint(tc_read_u8(&tc), ==, 2);
        uint8_t type = 2;
        tc_write(&tc, &type, 1);
    }
    uint8_t challenge[16], response[16];
    tc_read(&tc, challenge, 16);
    reference_response(password, challenge, response);
    tc_write(&tc, response, 16);
    uint32_t result = tc_read_u32(&tc);
    if (expect_ok) {
        g_assert_cmpuint(result, ==, 0);
        uint8_t shared = 0;
        tc_write(&tc, &shared, 1);
        g_assert_cmpuint(tc_read_u16(&tc), ==, 200);
    } else {
        g_assert_cmpuint(result, ==, 1);
        if (minor == 8) {
            uint32_t len = tc_read_u32(&tc);
            g_assert_cmpuint(len, >, 0);
            g_assert_cmpuint(len, <, 100);
            char reason[100];
            tc_read(&tc, reason, len);
        }
        g_assert_true(tc_wait_eof(&tc));
    }
    tc_cleanup(&tc);
}

static void test_vnc_auth(struct fixture *f, gconstpointer data)
{
    vnc_server_set_password(f->server, "s3cr3t!x-ignored-after-8");
    auth_attempt(f, 8, "s3cr3t!x", true);
    auth_attempt(f, 8, "s3cr3t!x-other-tail", true); /* only 8 characters count */
    auth_attempt(f, 8, "wrong", false);
    auth_attempt(f, 3, "s3cr3t!x", true);
    auth_attempt(f, 7, "s3cr3t!y", false);
}

static void test_security_refused(struct fixture *f, gconstpointer data)
{
    vnc_server_set_password(f->server, "pw");
    struct test_client tc;
    connect_client(f, &tc);
    char version[13] = { 0 };
    tc_read(&tc, version, 12);
    tc_write(&tc, "RFB 003.008\n", 12);
    tc_read_u8(&tc);
    tc_read_u8(&tc);
    uint8_t none = 1; /* not offered */
    tc_write(&tc, &none, 1);
    g_assert_cmpuint(tc_read_u32(&tc), ==, 1);
    g_assert_true(tc_wait_eof(&tc));
    tc_cleanup(&tc);

    connect_client(f, &tc);
    tc_read(&tc, version, 12);
    tc_write(&tc, "XYZ 003.008\n", 12);
    g_assert_true(tc_wait_eof(&tc));
    tc_cleanup(&tc);
}

/* --- Pixels ------------------------------------------------------------------- */

static void full_update_with(struct fixture *f, const struct vnc_pixel_format *pf, int32_t enc)
{
    struct test_client tc;
    connect_client(f, &tc);
    tc_handshake_none(&tc, 8);
    if (pf)
        tc_set_pixel_format(&tc, pf);
    tc_set_encodings(&tc, &enc, 1);
    tc_request(&tc, false, 0, 0, tc.width, tc.height);
    tc_read_update(&tc);
    assert_image_matches(&tc, f->fb);
    /* A second full update over the same zlib stream decodes too. */
    paint_pattern(f->fb, 2);
    framebuffer_damage(f->fb, 0, 0, 200, 150);
    tc_request(&tc, true, 0, 0, tc.width, tc.height);
    tc_read_update(&tc);
    assert_image_matches(&tc, f->fb);
    tc_cleanup(&tc);
}

static const struct vnc_pixel_format pf_rgb565_be = {
    .bpp = 16, .depth = 16, .big_endian = true, .true_colour = true,
    .red_max = 31, .green_max = 63, .blue_max = 31,
    .red_shift = 11, .green_shift = 5, .blue_shift = 0,
};
static const struct vnc_pixel_format pf_bgr32_be = {
    .bpp = 32, .depth = 24, .big_endian = true, .true_colour = true,
    .red_max = 255, .green_max = 255, .blue_max = 255,
    .red_shift = 0, .green_shift = 8, .blue_shift = 16,
};
static const struct vnc_pixel_format pf_rgb_high = {
    .bpp = 32, .depth = 24, .big_endian = false, .true_colour = true,
    .red_max = 255, .green_max = 255, .blue_max = 255,
    .red_shift = 24, .green_shift = 16, .blue_shift = 8,
};
static const struct vnc_pixel_format pf_rgb332 = {
    .bpp = 8, .depth = 8, .big_endian = false, .true_colour = true,
    .red_max = 7, .green_max = 7, .blue_max = 3,
    .red_shift = 5, .green_shift = 2, .blue_shift = 0,
};
static const struct vnc_pixel_format pf_colour_map = {
    .bpp = 8, .depth = 8, .true_colour = false,
};

static void test_raw(struct fixture *f, gconstpointer data)
{
    full_update_with(f, NULL, VNC_ENCODING_RAW);
    full_update_with(f, &pf_rgb565_be, VNC_ENCODING_RAW);
    full_update_with(f, &pf_rgb332, VNC_ENCODING_RAW);
}

static void test_zlib(struct fixture *f, gconstpointer data)
{
    full_update_with(f, NULL, VNC_ENCODING_ZLIB);
    full_update_with(f, &pf_rgb565_be, VNC_ENCODING_ZLIB);
    full_update_with(f, &pf_bgr32_be, VNC_ENCODING_ZLIB);
}

static void test_compress_level(struct fixture *f, gconstpointer data)
{
    /* Level changes mid-stream keep the stream decodable. */
    struct test_client tc;
    connect_client(f, &tc);
    tc_handshake_none(&tc, 8);
    for (int level = 9; level >= 0; level -= 3) {
        int32_t enc[] = { VNC_ENCODING_ZRLE, VNC_ENCODING_COMPRESS_LEVEL0 + level };
        tc_set_encodings(&tc, enc, 2);
        paint_pattern(f->fb, (uint32_t)level + 100);
        framebuffer_damage(f->fb, 0, 0, 200, 150);
        tc_request(&tc, false, 0, 0, 200, 150);
        tc_read_update(&tc);
        assert_image_matches(&tc, f->fb);
    }
    tc_cleanup(&tc);
}

static void test_zrle(struct fixture *f, gconstpointer data)
{
    full_update_with(f, NULL, VNC_ENCODING_ZRLE);
    full_update_with(f, &pf_bgr32_be, VNC_ENCODING_ZRLE);
    full_update_with(f, &pf_rgb_high, VNC_ENCODING_ZRLE);
    full_update_with(f, &pf_rgb565_be, VNC_ENCODING_ZRLE);
    full_update_with(f, &pf_rgb332, VNC_ENCODING_ZRLE);
}

static void test_colour_map(struct fixture *f, gconstpointer data)
{
    struct test_client tc;
    connect_client(f, &tc);
    tc_handshake_none(&tc, 8);
    tc_set_pixel_format(&tc, &pf_colour_map);
    int32_t enc = VNC_ENCODING_RAW;
    tc_set_encodings(&tc, &enc, 1);
    tc_request(&tc, false, 0, 0, tc.width, tc.height);
    tc_read_update(&tc);
    g_assert_true(tc.have_colour_map);
    assert_image_matches(&tc, f->fb);
    tc_cleanup(&tc);
}

static void test_bad_pixel_format(struct fixture *f, gconstpointer data)
{
    struct test_client tc;
    connect_client(f, &tc);
    tc_handshake_none(&tc, 8);
    struct vnc_pixel_format pf = pf_rgb565_be;
    pf.bpp = 24; /* not a valid RFB pixel size */
    tc_set_pixel_format(&tc, &pf);
    g_assert_true(tc_wait_eof(&tc));
    tc_cleanup(&tc);

    connect_client(f, &tc);
    tc_handshake_none(&tc, 8);
    uint8_t bogus = 42; /* unknown message type */
    tc_write(&tc, &bogus, 1);
    g_assert_true(tc_wait_eof(&tc));
    tc_cleanup(&tc);
}

/* --- Incremental updates and resizes --------------------------------------------- */

static void test_incremental(struct fixture *f, gconstpointer data)
{
    struct test_client tc;
    connect_client(f, &tc);
    tc_handshake_none(&tc, 8);
    int32_t enc = VNC_ENCODING_RAW;
    tc_set_encodings(&tc, &enc, 1);
    tc_request(&tc, false, 0, 0, 200, 150);
    tc_read_update(&tc);
    assert_image_matches(&tc, f->fb);

    /* Nothing changed: the incremental request stays pending... */
    tc_request(&tc, true, 0, 0, 200, 150);
    /* ...until a change, which is all it is answered with. */
    uint32_t *px = framebuffer_pixels(f->fb);
    for (unsigned y = 100; y < 110; y++)
        for (unsigned x = 130; x < 140; x++)
            px[y * framebuffer_stride(f->fb) + x] = 0xff00ff;
    framebuffer_damage(f->fb, 130, 100, 10, 10);
    tc_read_update(&tc);
    g_assert_cmpuint(tc.nrects, ==, 1);
    /* One 64x64 tile: columns 128..191, rows 64..127. */
    g_assert_cmpuint(tc.rx[0], ==, 128);
    g_assert_cmpuint(tc.ry[0], ==, 64);
    g_assert_cmpuint(tc.rw[0], ==, 64);
    g_assert_cmpuint(tc.rh[0], ==, 64);
    assert_image_matches(&tc, f->fb);

    /* A request for part of the screen gets only that part. */
    framebuffer_damage(f->fb, 0, 0, 200, 150);
    tc_request(&tc, true, 0, 0, 64, 64);
    tc_read_update(&tc);
    g_assert_cmpuint(tc.nrects, ==, 1);
    g_assert_cmpuint(tc.rw[0], ==, 64);
    g_assert_cmpuint(tc.rh[0], ==, 64);
    tc_cleanup(&tc);
}

static void test_desktop_size(struct fixture *f, gconstpointer data)
{
    struct test_client tc;
    connect_client(f, &tc);
    tc_handshake_none(&tc, 8);
    int32_t enc[] = { VNC_ENCODING_ZRLE, VNC_ENCODING_DESKTOP_SIZE };
    tc_set_encodings(&tc, enc, 2);
    tc_request(&tc, false, 0, 0, 200, 150);
    tc_read_update(&tc);

    tc_request(&tc, true, 0, 0, 200, 150);
    framebuffer_resize(f->fb, 320, 200);
    paint_pattern(f->fb, 3);
    framebuffer_damage(f->fb, 0, 0, 320, 200);
    tc_read_update(&tc);
    g_assert_cmpint(tc.encodings[0], ==, VNC_ENCODING_DESKTOP_SIZE);
    g_assert_cmpuint(tc.rw[0], ==, 320);
    g_assert_cmpuint(tc.rh[0], ==, 200);
    assert_image_matches(&tc, f->fb);
    tc_cleanup(&tc);
}

static void test_two_clients(struct fixture *f, gconstpointer data)
{
    struct test_client a, b;
    connect_client(f, &a);
    connect_client(f, &b);
    tc_handshake_none(&a, 8);
    tc_handshake_none(&b, 3);
    g_assert_cmpuint(vnc_server_client_count(f->server), ==, 2);
    int32_t za = VNC_ENCODING_ZLIB, zb = VNC_ENCODING_ZRLE;
    tc_set_encodings(&a, &za, 1);
    tc_set_encodings(&b, &zb, 1);
    tc_request(&a, false, 0, 0, 200, 150);
    tc_request(&b, false, 0, 0, 200, 150);
    tc_read_update(&a);
    tc_read_update(&b);
    assert_image_matches(&a, f->fb);
    assert_image_matches(&b, f->fb);
    tc_cleanup(&a);
    tc_cleanup(&b);
}

/* A client that never reads must not block the server, and its queue
 * stays bounded. */
static void test_slow_client(struct fixture *f, gconstpointer data)
{
    struct test_client slow, ok;
    framebuffer_resize(f->fb, 1024, 768);
    connect_client(f, &slow);
    int small = 4096;
    setsockopt(slow.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    tc_handshake_none(&slow, 8);
    int32_t raw = VNC_ENCODING_RAW;
    tc_set_encodings(&slow, &raw, 1);
    for (int i = 0; i < 40; i++) {
        paint_pattern(f->fb, 10 + i);
        framebuffer_damage(f->fb, 0, 0, 1024, 768);
        tc_request(&slow, false, 0, 0, 1024, 768);
        tc_settle(&slow);
    }
    struct vnc_client *c = NULL;
    for (guint i = 0; i < f->server->clients->len; i++)
        c = g_ptr_array_index(f->server->clients, i);
    g_assert_nonnull(c);
    /* At most one full 3 MiB frame beyond the soft limit is queued. */
    g_assert_cmpuint(c->out->len, <=, VNC_OUTPUT_SOFT_LIMIT + 1024 * 768 * 4 + 4096);

    /* Meanwhile another client is served normally. */
    connect_client(f, &ok);
    tc_handshake_none(&ok, 8);
    int32_t zrle = VNC_ENCODING_ZRLE;
    tc_set_encodings(&ok, &zrle, 1);
    tc_request(&ok, false, 0, 0, 1024, 768);
    tc_read_update(&ok);
    assert_image_matches(&ok, f->fb);

    /* The slow client, once it reads, gets a consistent stream ending in
     * the current picture. */
    tc_read_update(&slow);
    tc_request(&slow, false, 0, 0, 1024, 768);
    for (;;) {
        tc_read_update(&slow);
        if (memcmp(slow.image, ok.image, 1024 * 768 * 4) == 0)
            break;
        tc_request(&slow, false, 0, 0, 1024, 768);
    }
    tc_cleanup(&slow);
    tc_cleanup(&ok);
}

/* --- Input ------------------------------------------------------------------------- */

static uint32_t key_at(struct fixture *f, guint i)
{
    g_assert_cmpuint(i, <, f->rec.keys->len);
    return g_array_index(f->rec.keys, uint32_t, i);
}

static void test_keys(struct fixture *f, gconstpointer data)
{
    struct test_client tc;
    connect_client(f, &tc);
    tc_handshake_none(&tc, 8);
    int32_t enc[] = { VNC_ENCODING_RAW, VNC_ENCODING_QEMU_EXT_KEY };
    tc_set_encodings(&tc, enc, 2);
    tc_request(&tc, false, 0, 0, 200, 150);
    tc_read_update(&tc);
    /* The server acknowledges the extended key event. */
    g_assert_cmpint(tc.encodings[0], ==, VNC_ENCODING_QEMU_EXT_KEY);

    /* Plain KeyEvents: US keysyms. */
    uint8_t k1[8] = { 4, 1, 0, 0, 0, 0, 0, 'A' };
    uint8_t k2[8] = { 4, 0, 0, 0, 0, 0, 0, 'a' };
    uint8_t k3[8] = { 4, 1, 0, 0, 0, 0, 0xff, 0x0d };    /* Return */
    uint8_t k4[8] = { 4, 1, 0, 0, 0, 0, 0xff, 0x52 };    /* Up */
    tc_write(&tc, k1, 8);
    tc_write(&tc, k2, 8);
    tc_write(&tc, k3, 8);
    tc_write(&tc, k4, 8);
    /* Extended key events: raw scancodes win over the keysym (a German
     * 'z' key sends keysym z but scancode 0x15). */
    uint8_t e1[12] = { 255, 0, 0, 1, 0, 0, 0, 'z', 0, 0, 0, 0x15 };
    uint8_t e2[12] = { 255, 0, 0, 0, 0, 0, 0, 'z', 0, 0, 0, 0x15 };
    uint8_t e3[12] = { 255, 0, 0, 1, 0, 0, 0xff, 0xe4, 0, 0, 0, 0x9d }; /* right Ctrl */
    uint8_t e4[12] = { 255, 0, 0, 1, 0, 0, 0, 'q', 0, 0, 0, 0 };        /* no keycode */
    tc_write(&tc, e1, 12);
    tc_write(&tc, e2, 12);
    tc_write(&tc, e3, 12);
    tc_write(&tc, e4, 12);
    tc_settle(&tc);
    g_assert_cmpuint(f->rec.keys->len, ==, 8);
    g_assert_cmphex(key_at(f, 0), ==, 0x1001e);
    g_assert_cmphex(key_at(f, 1), ==, 0x0001e);
    g_assert_cmphex(key_at(f, 2), ==, 0x1001c);
    g_assert_cmphex(key_at(f, 3), ==, 0x1e048);
    g_assert_cmphex(key_at(f, 4), ==, 0x10015);
    g_assert_cmphex(key_at(f, 5), ==, 0x00015);
    g_assert_cmphex(key_at(f, 6), ==, 0x1e01d);
    g_assert_cmphex(key_at(f, 7), ==, 0x10010);
    tc_cleanup(&tc);
}

static void send_pointer(struct test_client *tc, unsigned mask, unsigned x, unsigned y)
{
    uint8_t b[6] = { 5, (uint8_t)mask, x >> 8, (uint8_t)x, y >> 8, (uint8_t)y };
    tc_write(tc, b, 6);
}

static void test_pointer(struct fixture *f, gconstpointer data)
{
    struct test_client tc;
    connect_client(f, &tc);
    tc_handshake_none(&tc, 8);
    /* Only a relative mouse: deltas. */
    send_pointer(&tc, 0, 100, 100);
    send_pointer(&tc, 1, 110, 95);
    send_pointer(&tc, 1 | 8, 110, 95); /* wheel up press */
    send_pointer(&tc, 1, 110, 95);
    g_assert_cmpint(f->rec.rel_dx, ==, 10);
    g_assert_cmpint(f->rec.rel_dy, ==, -5);
    g_assert_cmpint(f->rec.dz, ==, -1);
    g_assert_cmpuint(f->rec.buttons, ==, INPUT_BUTTON_LEFT);
    g_assert_cmpuint(f->rec.abs_events, ==, 0);

    /* The client learns that the pointer is relative... */
    int32_t enc[] = { VNC_ENCODING_RAW, VNC_ENCODING_QEMU_POINTER_CHANGE };
    tc_set_encodings(&tc, enc, 2);
    tc_request(&tc, false, 0, 0, 200, 150);
    tc_read_update(&tc);
    g_assert_cmpint(tc.encodings[0], ==, VNC_ENCODING_QEMU_POINTER_CHANGE);
    g_assert_cmpuint(tc.rx[0], ==, 0);
    tc_request(&tc, true, 0, 0, 200, 150);

    /* With a tablet: absolute coordinates scaled to 0..INPUT_ABS_MAX, and
     * the client hears that the pointer became absolute. */
    input_router_add_sink(f->router, &tablet_ops, &f->rec);
    send_pointer(&tc, 4, 199, 0);
    tc_read_update(&tc);
    g_assert_cmpuint(tc.nrects, ==, 1);
    g_assert_cmpint(tc.encodings[0], ==, VNC_ENCODING_QEMU_POINTER_CHANGE);
    g_assert_cmpuint(tc.rx[0], ==, 1);
    g_assert_cmpint(f->rec.abs_x, ==, INPUT_ABS_MAX);
    g_assert_cmpint(f->rec.abs_y, ==, 0);
    g_assert_cmpuint(f->rec.buttons, ==, INPUT_BUTTON_RIGHT);
    send_pointer(&tc, 0, 0, 149);
    g_assert_cmpint(f->rec.abs_x, ==, 0);
    g_assert_cmpint(f->rec.abs_y, ==, INPUT_ABS_MAX);
    tc_cleanup(&tc);
}

static void test_keysym_table(void)
{
    g_assert_cmphex(input_keysym_to_scancode('1'), ==, 0x02);
    g_assert_cmphex(input_keysym_to_scancode('!'), ==, 0x02);
    g_assert_cmphex(input_keysym_to_scancode(' '), ==, 0x39);
    g_assert_cmphex(input_keysym_to_scancode('/'), ==, 0x35);
    g_assert_cmphex(input_keysym_to_scancode('?'), ==, 0x35);
    g_assert_cmphex(input_keysym_to_scancode('~'), ==, 0x29);
    g_assert_cmphex(input_keysym_to_scancode(0xffbe), ==, 0x3b);  /* F1 */
    g_assert_cmphex(input_keysym_to_scancode(0xffc9), ==, 0x58);  /* F12 */
    g_assert_cmphex(input_keysym_to_scancode(0xffff), ==, 0xe053); /* Delete */
    g_assert_cmphex(input_keysym_to_scancode(0xffe9), ==, 0x38);  /* Alt_L */
    g_assert_cmphex(input_keysym_to_scancode(0x20ac), ==, 0);     /* EuroSign */
    g_assert_cmphex(input_qnum_to_scancode(0xc8), ==, 0xe048);
    g_assert_cmphex(input_qnum_to_scancode(0x1d), ==, 0x1d);
    g_assert_cmphex(input_qnum_to_scancode(0x100), ==, 0);
    /* Set-1 byte sequences for the i8042. */
    uint8_t b[6];
    g_assert_cmpuint(input_scancode_set1_bytes(0x1e, true, b), ==, 1);
    g_assert_cmphex(b[0], ==, 0x1e);
    g_assert_cmpuint(input_scancode_set1_bytes(0x1e, false, b), ==, 1);
    g_assert_cmphex(b[0], ==, 0x9e);
    g_assert_cmpuint(input_scancode_set1_bytes(0xe048, false, b), ==, 2);
    g_assert_cmphex(b[0], ==, 0xe0);
    g_assert_cmphex(b[1], ==, 0xc8);
    g_assert_cmpuint(input_scancode_set1_bytes(INPUT_SCANCODE_PAUSE, true, b), ==, 6);
    g_assert_cmphex(b[5], ==, 0xc5);
    g_assert_cmpuint(input_scancode_set1_bytes(INPUT_SCANCODE_PAUSE, false, b), ==, 0);
    g_assert_cmpuint(input_scancode_set1_bytes(0x1234, true, b), ==, 0);
    g_assert_cmpuint(input_scancode_set1_bytes(0, true, b), ==, 0);
    uint8_t b2[8];
    g_assert_cmpuint(input_scancode_set2_bytes(0x1e, true, b2), ==, 1);   /* A */
    g_assert_cmphex(b2[0], ==, 0x1c);
    g_assert_cmpuint(input_scancode_set2_bytes(0x1e, false, b2), ==, 2);
    g_assert_cmphex(b2[0], ==, 0xf0);
    g_assert_cmphex(b2[1], ==, 0x1c);
    g_assert_cmpuint(input_scancode_set2_bytes(0x01, true, b2), ==, 1);   /* Esc */
    g_assert_cmphex(b2[0], ==, 0x76);
    g_assert_cmpuint(input_scancode_set2_bytes(0x41, true, b2), ==, 1);   /* F7 */
    g_assert_cmphex(b2[0], ==, 0x83);
    g_assert_cmpuint(input_scancode_set2_bytes(0xe048, false, b2), ==, 3); /* Up */
    g_assert_cmphex(b2[0], ==, 0xe0);
    g_assert_cmphex(b2[1], ==, 0xf0);
    g_assert_cmphex(b2[2], ==, 0x75);
    g_assert_cmpuint(input_scancode_set2_bytes(INPUT_SCANCODE_PAUSE, true, b2), ==, 8);
    /* Every key of the US table has a set-2 code. */
    for (uint32_t ks = 0x20; ks < 0x7f; ks++)
        g_assert_cmpuint(input_scancode_set2_bytes(input_keysym_to_scancode(ks), true, b2), >, 0);
    /* Every letter, both cases, has a distinct key. */
    for (char c = 'a'; c <= 'z'; c++) {
        uint16_t sc = input_keysym_to_scancode((uint32_t)c);
        g_assert_cmphex(sc, !=, 0);
        g_assert_cmphex(sc, ==, input_keysym_to_scancode((uint32_t)(c - 'a' + 'A')));
        for (char d = 'a'; d < c; d++)
            g_assert_cmphex(sc, !=, input_keysym_to_scancode((uint32_t)d));
    }
}

static void test_listen_addresses(void)
{
    GMainContext *ctx = g_main_context_new();
    struct framebuffer *fb = framebuffer_new(64, 64);
    struct vnc_server *s = vnc_server_new(fb, NULL, ctx, NULL);
    GError *error = NULL;
    g_assert_false(vnc_server_listen(s, "nonsense", &error));
    g_assert_error(error, VNC_ERROR, VNC_ERROR_ADDRESS);
    g_clear_error(&error);
    g_assert_false(vnc_server_listen(s, "127.0.0.1:99999", &error));
    g_clear_error(&error);
    g_assert_false(vnc_server_listen(s, "example.org:5900", &error));
    g_clear_error(&error);
    g_assert_true(vnc_server_listen(s, "127.0.0.1:0", &error));
    g_assert_no_error(error);
    int port = vnc_server_tcp_port(s);
    g_assert_cmpint(port, >=, 5900);
    g_assert_cmpint(port, <=, 5999);
    /* A second server picks the next free port. */
    struct vnc_server *s2 = vnc_server_new(fb, NULL, ctx, NULL);
    g_assert_true(vnc_server_listen(s2, "127.0.0.1:0", &error));
    g_assert_cmpint(vnc_server_tcp_port(s2), >, port);
    g_autofree char *dir = g_dir_make_tmp("oriel-vnc-XXXXXX", &error);
    g_assert_no_error(error);
    g_autofree char *path = g_build_filename(dir, "vnc.sock", NULL);
    g_autofree char *spec = g_strconcat("unix:", path, NULL);
    g_assert_true(vnc_server_listen(s2, spec, &error));
    g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
    vnc_server_free(s2);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS)); /* removed */
    rmdir(dir);
    vnc_server_free(s);
    framebuffer_free(fb);
    g_main_context_unref(ctx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    gcry_check_version(NULL);
#define ADD(name, fn) g_test_add(name, struct fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/vnc/handshake/versions", test_handshake_versions);
    ADD("/vnc/handshake/vnc-auth", test_vnc_auth);
    ADD("/vnc/handshake/refused", test_security_refused);
    ADD("/vnc/encoding/raw", test_raw);
    ADD("/vnc/encoding/zlib", test_zlib);
    ADD("/vnc/encoding/zrle", test_zrle);
    ADD("/vnc/encoding/colour-map", test_colour_map);
    ADD("/vnc/encoding/compress-level", test_compress_level);
    ADD("/vnc/protocol/bad-messages", test_bad_pixel_format);
    ADD("/vnc/update/incremental", test_incremental);
    ADD("/vnc/update/desktop-size", test_desktop_size);
    ADD("/vnc/update/two-clients", test_two_clients);
    ADD("/vnc/update/slow-client", test_slow_client);
    ADD("/vnc/input/keys", test_keys);
    ADD("/vnc/input/pointer", test_pointer);
    g_test_add_func("/vnc/input/keysym-table", test_keysym_table);
    g_test_add_func("/vnc/listen/addresses", test_listen_addresses);
    return g_test_run();
}
