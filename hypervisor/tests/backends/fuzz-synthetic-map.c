/* libFuzzer: the map file of a synthetic disk, as written by whoever can
 * write that file.  Parsing may refuse it; nothing may crash, leak or read
 * outside the input.  A map that parses is checked against a device size
 * taken from its first range, and walked with lookups over every boundary:
 * the pieces must tile the disk exactly, in order. */
#include "backends/synthetic_map.h"

#include <stdlib.h>
#include <glib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GError *error = NULL;
    struct synthetic_map *m = synthetic_map_parse((const char *)data, size, "fuzz.map", &error);
    if (!m) {
        if (!error)
            abort();
        g_error_free(error);
        return 0;
    }
    /* Sorted and disjoint, as promised. */
    for (size_t i = 1; i < m->n_ranges; i++)
        if (m->ranges[i].offset < m->ranges[i - 1].offset + m->ranges[i - 1].length)
            abort();
    uint64_t disk = m->n_ranges ? m->ranges[m->n_ranges - 1].offset +
                                  m->ranges[m->n_ranges - 1].length : 512;
    if (!synthetic_map_check_size(m, disk, &error))
        abort();
    if (disk > 512 && synthetic_map_check_size(m, disk - 512, &error))
        abort();
    g_clear_error(&error);
    uint64_t at = 0;
    for (int steps = 0; at < disk; steps++) {
        uint64_t n;
        enum synthetic_kind kind = synthetic_map_lookup(m, at, disk, &n);
        if (n == 0 || n > disk - at || steps > 2 * SYNTHETIC_MAP_MAX_RANGES + 1)
            abort();
        (void)synthetic_kind_name(kind);
        at += n;
    }
    synthetic_map_free(m);
    return 0;
}
