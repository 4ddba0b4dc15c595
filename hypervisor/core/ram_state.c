#include "ram_state.h"
#include "state_stream.h"

#include <inttypes.h>
#include <string.h>
#include <glib/gi18n.h>

#define PAGE 4096u

static bool page_is_zero(const uint8_t *p)
{
    static const uint8_t zero[PAGE];
    return memcmp(p, zero, PAGE) == 0;
}

static uint64_t region_pages(const struct guest_region *r)
{
    return r->size / PAGE;
}

void ram_state_save(const struct guest_memory *m, struct state_file_writer *w)
{
    struct state_out head;
    state_out_init(&head);
    state_out_u32(&head, m->nregions);
    state_file_writer_begin(w, RAM_STATE_SECTION, RAM_STATE_VERSION);
    state_file_writer_add_bytes(w, head.buf);
    for (unsigned i = 0; i < m->nregions; i++) {
        const struct guest_region *r = &m->region[i];
        uint64_t pages = region_pages(r);
        struct state_out o;
        state_out_init(&o);
        state_out_u64(&o, r->gpa);
        state_out_u64(&o, r->size);
        g_byte_array_set_size(o.buf, (guint)(16 + (pages + 7) / 8));
        uint8_t *bitmap = o.buf->data + 16;
        memset(bitmap, 0, (pages + 7) / 8);
        for (uint64_t p = 0; p < pages; p++)
            if (!page_is_zero(r->hva + p * PAGE))
                bitmap[p / 8] |= (uint8_t)(1u << (p % 8));
        state_file_writer_add_bytes(w, o.buf);
        /* Runs of present pages go out straight from guest memory. */
        for (uint64_t p = 0; p < pages;) {
            if (!(bitmap[p / 8] & (1u << (p % 8)))) {
                p++;
                continue;
            }
            uint64_t start = p;
            while (p < pages && (bitmap[p / 8] & (1u << (p % 8))))
                p++;
            state_file_writer_add_ref(w, r->hva + start * PAGE, (size_t)((p - start) * PAGE));
        }
    }
}

static bool load_region(struct guest_region *r, struct state_in *in, GError **error)
{
    uint64_t gpa = state_in_u64(in);
    uint64_t size = state_in_u64(in);
    if (in->short_read)
        return state_format_error(error, _("the guest memory in the state file is truncated"));
    if (gpa != r->gpa || size != r->size)
        return state_format_error(error, _("saved guest memory region 0x%" PRIx64 "+0x%" PRIx64
                            " does not match this VM's 0x%" PRIx64 "+0x%" PRIx64),
                   gpa, size, r->gpa, r->size);
    uint64_t pages = region_pages(r);
    const uint8_t *bitmap = state_in_ptr(in, (size_t)((pages + 7) / 8));
    if (!bitmap)
        return state_format_error(error, _("the guest memory in the state file is truncated"));
    for (uint64_t p = 0; p < pages; p++) {
        uint8_t *dst = r->hva + p * PAGE;
        if (bitmap[p / 8] & (1u << (p % 8))) {
            const uint8_t *src = state_in_ptr(in, PAGE);
            if (!src)
                return state_format_error(error, _("the guest memory in the state file is truncated"));
            memcpy(dst, src, PAGE);
        } else if (!page_is_zero(dst)) {
            /* Setting the machine up wrote here (ACPI tables...). */
            memset(dst, 0, PAGE);
        }
    }
    return true;
}

bool ram_state_load(struct guest_memory *m, const struct state_section *s, GError **error)
{
    if (!s)
        return state_format_error(error, _("the state file has no guest memory"));
    if (s->version != RAM_STATE_VERSION)
        return state_format_error(error, _("unsupported version %u of the guest memory section"), s->version);
    struct state_in in;
    state_in_init(&in, s->data, s->len, RAM_STATE_SECTION);
    uint32_t n = state_in_u32(&in);
    if (n != m->nregions)
        return state_format_error(error, _("saved guest memory has %u regions, this VM %u"), n, m->nregions);
    for (unsigned i = 0; i < n; i++)
        if (!load_region(&m->region[i], &in, error))
            return false;
    return state_in_finish(&in, error);
}
