/* The display surface shared by a graphics device and its consumers. */
#include "framebuffer.h"

#include <string.h>

struct listener {
    unsigned id;
    const struct framebuffer_listener *ops;
    void *opaque;
};

struct framebuffer {
    unsigned width, height, stride;
    uint32_t *pixels;
    GArray *listeners; /* struct listener */
    unsigned next_id;
    void (*refresh)(void *opaque);
    void *refresh_opaque;
};

static unsigned clamp_dim(unsigned v, unsigned max)
{
    return v < 1 ? 1 : v > max ? max : v;
}

struct framebuffer *framebuffer_new(unsigned width, unsigned height)
{
    struct framebuffer *fb = g_new0(struct framebuffer, 1);
    fb->listeners = g_array_new(FALSE, FALSE, sizeof(struct listener));
    fb->next_id = 1;
    fb->width = clamp_dim(width, FRAMEBUFFER_MAX_WIDTH);
    fb->height = clamp_dim(height, FRAMEBUFFER_MAX_HEIGHT);
    fb->stride = fb->width;
    fb->pixels = g_new0(uint32_t, (size_t)fb->stride * fb->height);
    return fb;
}

void framebuffer_free(struct framebuffer *fb)
{
    if (!fb)
        return;
    g_array_free(fb->listeners, TRUE);
    g_free(fb->pixels);
    g_free(fb);
}

unsigned framebuffer_width(const struct framebuffer *fb) { return fb->width; }
unsigned framebuffer_height(const struct framebuffer *fb) { return fb->height; }
unsigned framebuffer_stride(const struct framebuffer *fb) { return fb->stride; }
uint32_t *framebuffer_pixels(struct framebuffer *fb) { return fb->pixels; }
const uint32_t *framebuffer_const_pixels(const struct framebuffer *fb) { return fb->pixels; }

void framebuffer_resize(struct framebuffer *fb, unsigned width, unsigned height)
{
    width = clamp_dim(width, FRAMEBUFFER_MAX_WIDTH);
    height = clamp_dim(height, FRAMEBUFFER_MAX_HEIGHT);
    if (width != fb->width || height != fb->height) {
        g_free(fb->pixels);
        fb->width = width;
        fb->height = height;
        fb->stride = width;
        fb->pixels = g_new0(uint32_t, (size_t)fb->stride * fb->height);
    } else {
        memset(fb->pixels, 0, (size_t)fb->stride * fb->height * sizeof(uint32_t));
    }
    /* A listener may remove itself from its callback: iterate over a copy. */
    GArray *copy = g_array_copy(fb->listeners);
    for (guint i = 0; i < copy->len; i++) {
        struct listener *l = &g_array_index(copy, struct listener, i);
        if (l->ops->resize)
            l->ops->resize(l->opaque, fb->width, fb->height);
    }
    g_array_free(copy, TRUE);
}

void framebuffer_damage(struct framebuffer *fb, unsigned x, unsigned y,
                        unsigned w, unsigned h)
{
    if (x >= fb->width || y >= fb->height || w == 0 || h == 0)
        return;
    if (w > fb->width - x)
        w = fb->width - x;
    if (h > fb->height - y)
        h = fb->height - y;
    GArray *copy = g_array_copy(fb->listeners);
    for (guint i = 0; i < copy->len; i++) {
        struct listener *l = &g_array_index(copy, struct listener, i);
        if (l->ops->damage)
            l->ops->damage(l->opaque, x, y, w, h);
    }
    g_array_free(copy, TRUE);
}

unsigned framebuffer_add_listener(struct framebuffer *fb,
                                  const struct framebuffer_listener *ops,
                                  void *opaque)
{
    struct listener l = { fb->next_id++, ops, opaque };
    g_array_append_val(fb->listeners, l);
    return l.id;
}

void framebuffer_remove_listener(struct framebuffer *fb, unsigned id)
{
    for (guint i = 0; i < fb->listeners->len; i++) {
        if (g_array_index(fb->listeners, struct listener, i).id == id) {
            g_array_remove_index(fb->listeners, i);
            return;
        }
    }
}

unsigned framebuffer_listener_count(const struct framebuffer *fb)
{
    return fb->listeners->len;
}

void framebuffer_set_refresh_hook(struct framebuffer *fb,
                                  void (*refresh)(void *opaque), void *opaque)
{
    fb->refresh = refresh;
    fb->refresh_opaque = opaque;
}

void framebuffer_refresh(struct framebuffer *fb)
{
    if (fb->refresh)
        fb->refresh(fb->refresh_opaque);
}
