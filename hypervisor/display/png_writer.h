/* PNG encoding of XRGB8888 pixels (8-bit RGB, no alpha), for screendumps. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

/* Encode width x height pixels (stride in pixels) as a complete PNG file. */
GBytes *png_encode_xrgb(const uint32_t *pixels, unsigned width, unsigned height,
                        unsigned stride, GError **error);

/* Encode and write to path (replacing it atomically). */
bool png_write_xrgb(const char *path, const uint32_t *pixels, unsigned width,
                    unsigned height, unsigned stride, GError **error);
