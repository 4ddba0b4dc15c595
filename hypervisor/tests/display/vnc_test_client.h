/* A minimal RFB client for the VNC server's unit tests: it talks to the
 * server over a socketpair while iterating the server's main context, and
 * decodes Raw, zlib and ZRLE rectangles into an XRGB8888 image. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <zlib.h>

#include "display/vnc_encodings.h"

struct test_client {
    int fd;
    GMainContext *ctx;
    struct vnc_pixel_format pf;
    unsigned width, height;
    uint32_t *image;           /* width * height, XRGB as decoded */
    z_stream zlib, zrle;
    bool zlib_ready, zrle_ready;
    /* From the last update. */
    unsigned nrects;
    int32_t encodings[256];
    unsigned rx[256], ry[256], rw[256], rh[256];
    uint16_t colour_map[256][3];
    bool have_colour_map;
};

void tc_init(struct test_client *tc, int fd, GMainContext *ctx);
void tc_cleanup(struct test_client *tc);
/* Read exactly n bytes, iterating ctx; fails the test after 10 s. */
void tc_read(struct test_client *tc, void *buf, size_t n);
/* True if the server closed the connection (EOF) within 10 s. */
bool tc_wait_eof(struct test_client *tc);
void tc_write(struct test_client *tc, const void *buf, size_t n);
uint32_t tc_read_u32(struct test_client *tc);
uint16_t tc_read_u16(struct test_client *tc);
uint8_t tc_read_u8(struct test_client *tc);
/* Run ctx until nothing is pending. */
void tc_settle(struct test_client *tc);

/* Handshake with RFB 3.minor and security None; reads ServerInit. */
void tc_handshake_none(struct test_client *tc, unsigned minor);
void tc_set_pixel_format(struct test_client *tc, const struct vnc_pixel_format *pf);
void tc_set_encodings(struct test_client *tc, const int32_t *enc, unsigned n);
void tc_request(struct test_client *tc, bool incremental, unsigned x, unsigned y,
                unsigned w, unsigned h);
/* Read server messages until one FramebufferUpdate has been decoded
 * (colour map messages on the way are applied). */
void tc_read_update(struct test_client *tc);
/* Pixel as the client sees it, converted back to 0xRRGGBB at the client
 * format's precision. */
uint32_t tc_expected(const struct test_client *tc, uint32_t xrgb);
