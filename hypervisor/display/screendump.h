/* The control socket's screendump command: the current screen as PNG. */
#pragma once

#include <stdbool.h>
#include <glib.h>

struct framebuffer;

/* Bring the surface up to date (framebuffer_refresh) and write it to path. */
bool display_screendump(struct framebuffer *fb, const char *path, GError **error);
