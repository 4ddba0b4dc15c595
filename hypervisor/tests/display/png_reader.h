/* A small PNG decoder for tests: 8-bit RGB or RGBA, non-interlaced, all
 * five filter types, chunk CRCs checked.  Enough for our screen dumps and
 * for gvnccapture's (gdk-pixbuf) output. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

/* Returns 0x00RRGGBB pixels (width * height) or NULL with *why set. */
uint32_t *test_png_decode(const uint8_t *data, size_t len, unsigned *width,
                          unsigned *height, const char **why);
