#include "memslot_layout.h"

#include <string.h>

static void add(GArray *out, uint64_t gpa, uint64_t size, uint8_t *hva, uint32_t flags,
                int mapping)
{
    struct memslot_piece p = { gpa, size, hva, flags, mapping };
    g_array_append_val(out, p);
}

/* Emit the parts of [start, end) of mapping m that no overlay hides in
 * this address space, starting the search at overlay i. */
static void cut(const struct memslot_mapping *m, int index, uint64_t start, uint64_t end,
                const struct memslot_overlay *ov, unsigned nov, unsigned i, unsigned as,
                GArray *out)
{
    for (; i < nov; i++) {
        const struct memslot_overlay *o = &ov[i];
        if (!o->size || o->view[as] == MEMSLOT_VIEW_PASS)
            continue;
        uint64_t ostart = o->gpa, oend = o->gpa + o->size;
        if (oend <= start || ostart >= end)
            continue;
        if (ostart > start)
            cut(m, index, start, ostart, ov, nov, i + 1, as, out);
        if (oend < end)
            cut(m, index, oend, end, ov, nov, i + 1, as, out);
        return;
    }
    add(out, start, end - start, m->hva + (start - m->gpa), m->flags, index);
}

void memslot_layout(const struct memslot_mapping *maps, unsigned nmaps,
                    const struct memslot_overlay *overlays, unsigned noverlays,
                    unsigned as, GArray *out)
{
    for (unsigned i = 0; i < nmaps; i++) {
        const struct memslot_mapping *m = &maps[i];
        if (m->used && m->size)
            cut(m, (int)i, m->gpa, m->gpa + m->size, overlays, noverlays, 0, as, out);
    }
    for (unsigned i = 0; i < noverlays; i++) {
        const struct memslot_overlay *o = &overlays[i];
        if (o->size && o->view[as] == MEMSLOT_VIEW_RAM)
            add(out, o->gpa, o->size, o->hva, 0, -1);
    }
}

bool memslot_piece_equal(const struct memslot_piece *a, const struct memslot_piece *b)
{
    return a->gpa == b->gpa && a->size == b->size && a->hva == b->hva &&
           a->flags == b->flags && a->mapping == b->mapping;
}
