/* A display surface: the pixels a graphics device shows, and the
 * notifications its consumers (VNC server, screendump) need.
 *
 * Pixels are XRGB8888 in host order (0x00RRGGBB), stride in pixels.  The
 * device renders into the surface on the main context and reports what it
 * changed with framebuffer_damage(); a mode change goes through
 * framebuffer_resize(), which reallocates the pixels and tells every
 * listener before any damage of the new size arrives.  All calls happen on
 * one thread (the main context). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#define FRAMEBUFFER_MAX_WIDTH  4096
#define FRAMEBUFFER_MAX_HEIGHT 4096

struct framebuffer;

struct framebuffer_listener {
    /* [x, x + w) x [y, y + h) changed; always inside the surface. */
    void (*damage)(void *opaque, unsigned x, unsigned y, unsigned w, unsigned h);
    /* The surface now has a new size; its contents are all new. */
    void (*resize)(void *opaque, unsigned width, unsigned height);
};

struct framebuffer *framebuffer_new(unsigned width, unsigned height);
void framebuffer_free(struct framebuffer *fb);

unsigned framebuffer_width(const struct framebuffer *fb);
unsigned framebuffer_height(const struct framebuffer *fb);
unsigned framebuffer_stride(const struct framebuffer *fb); /* in pixels */
uint32_t *framebuffer_pixels(struct framebuffer *fb);
const uint32_t *framebuffer_const_pixels(const struct framebuffer *fb);

/* Change the size (clamped to 1..FRAMEBUFFER_MAX_*).  Contents become
 * black.  Listeners hear resize() even if the size did not change, since a
 * mode change invalidates everything anyway. */
void framebuffer_resize(struct framebuffer *fb, unsigned width, unsigned height);

/* Report changed pixels; the rectangle is clipped to the surface. */
void framebuffer_damage(struct framebuffer *fb, unsigned x, unsigned y,
                        unsigned w, unsigned h);

/* Listeners: returns an id for framebuffer_remove_listener(). */
unsigned framebuffer_add_listener(struct framebuffer *fb,
                                  const struct framebuffer_listener *ops,
                                  void *opaque);
void framebuffer_remove_listener(struct framebuffer *fb, unsigned id);
/* Whether anybody is watching: devices skip refresh work when nobody is. */
unsigned framebuffer_listener_count(const struct framebuffer *fb);
/* Consumers that are not listeners (screendump) ask the device to bring
 * the surface up to date first: the device sets this hook. */
void framebuffer_set_refresh_hook(struct framebuffer *fb,
                                  void (*refresh)(void *opaque), void *opaque);
void framebuffer_refresh(struct framebuffer *fb);
