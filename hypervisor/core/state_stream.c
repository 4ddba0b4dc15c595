#include "state_stream.h"
#include "state_file.h"

#include <string.h>
#include <glib/gi18n.h>

void state_out_init(struct state_out *o)
{
    o->buf = g_byte_array_new();
}

void state_out_clear(struct state_out *o)
{
    if (o->buf)
        g_byte_array_unref(o->buf);
    o->buf = NULL;
}

static void put_le(struct state_out *o, uint64_t v, unsigned n)
{
    uint8_t b[8];
    for (unsigned i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    g_byte_array_append(o->buf, b, n);
}

void state_out_u8(struct state_out *o, uint8_t v) { put_le(o, v, 1); }
void state_out_u16(struct state_out *o, uint16_t v) { put_le(o, v, 2); }
void state_out_u32(struct state_out *o, uint32_t v) { put_le(o, v, 4); }
void state_out_u64(struct state_out *o, uint64_t v) { put_le(o, v, 8); }
void state_out_bool(struct state_out *o, bool v) { put_le(o, v ? 1 : 0, 1); }

void state_out_bytes(struct state_out *o, const void *p, size_t len)
{
    if (len)
        g_byte_array_append(o->buf, p, (guint)len);
}

void state_in_init(struct state_in *in, const void *data, size_t len, const char *what)
{
    *in = (struct state_in){ .data = data, .len = len, .what = what };
}

const void *state_in_ptr(struct state_in *in, size_t len)
{
    if (in->short_read || len > in->len - in->pos) {
        in->short_read = true;
        return NULL;
    }
    const void *p = in->data + in->pos;
    in->pos += len;
    return p;
}

static uint64_t get_le(struct state_in *in, unsigned n)
{
    const uint8_t *p = state_in_ptr(in, n);
    uint64_t v = 0;
    for (unsigned i = 0; p && i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

uint8_t state_in_u8(struct state_in *in) { return (uint8_t)get_le(in, 1); }
uint16_t state_in_u16(struct state_in *in) { return (uint16_t)get_le(in, 2); }
uint32_t state_in_u32(struct state_in *in) { return (uint32_t)get_le(in, 4); }
uint64_t state_in_u64(struct state_in *in) { return get_le(in, 8); }
bool state_in_bool(struct state_in *in) { return get_le(in, 1) != 0; }

void state_in_bytes(struct state_in *in, void *p, size_t len)
{
    const void *src = state_in_ptr(in, len);
    if (src)
        memcpy(p, src, len);
    else
        memset(p, 0, len);
}

size_t state_in_left(const struct state_in *in)
{
    return in->short_read ? 0 : in->len - in->pos;
}

bool state_in_finish(struct state_in *in, GError **error)
{
    if (in->short_read) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_FORMAT,
                    _("the state of '%s' is shorter than its fields"), in->what);
        return false;
    }
    if (in->pos != in->len) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_FORMAT,
                    _("the state of '%s' has %zu bytes more than its fields"), in->what,
                    in->len - in->pos);
        return false;
    }
    return true;
}

bool state_in_invalid(const struct state_in *in, GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, STATE_ERROR, STATE_ERROR_FORMAT, _("invalid state of '%s': %s"),
                in->what, msg);
    return false;
}

#define SPARSE_PAGE 4096u

static bool page_zero(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i])
            return false;
    return true;
}

void state_out_sparse(struct state_out *o, const uint8_t *data, size_t len)
{
    size_t pages = (len + SPARSE_PAGE - 1) / SPARSE_PAGE;
    guint at = o->buf->len;
    g_byte_array_set_size(o->buf, at + (guint)((pages + 7) / 8));
    memset(o->buf->data + at, 0, (pages + 7) / 8);
    for (size_t p = 0; p < pages; p++) {
        size_t n = MIN(SPARSE_PAGE, len - p * SPARSE_PAGE);
        if (page_zero(data + p * SPARSE_PAGE, n))
            continue;
        o->buf->data[at + p / 8] |= (uint8_t)(1u << (p % 8));
        state_out_bytes(o, data + p * SPARSE_PAGE, n);
    }
}

bool state_in_sparse(struct state_in *in, uint8_t *data, size_t len)
{
    size_t pages = (len + SPARSE_PAGE - 1) / SPARSE_PAGE;
    const uint8_t *bitmap = state_in_ptr(in, (pages + 7) / 8);
    if (!bitmap)
        return false;
    for (size_t p = 0; p < pages; p++) {
        size_t n = MIN(SPARSE_PAGE, len - p * SPARSE_PAGE);
        if (bitmap[p / 8] & (1u << (p % 8)))
            state_in_bytes(in, data + p * SPARSE_PAGE, n);
        else
            memset(data + p * SPARSE_PAGE, 0, n);
    }
    return !in->short_read;
}
