#include "e820.h"

#include <glib.h>

#include "config/pc_layout.h"

#define MIB (1024ULL * 1024ULL)

struct e820_map {
    struct e820_entry *e;
    unsigned n, max;
    bool overflow;
};

static void add(struct e820_map *map, uint64_t addr, uint64_t end, uint32_t type)
{
    if (end <= addr)
        return;
    if (map->n == map->max) {
        map->overflow = true;
        return;
    }
    map->e[map->n++] = (struct e820_entry){ .addr = addr, .size = end - addr, .type = type };
}

/* Entries common to both views: the reserved top of 4 GiB and RAM above. */
static void add_top(struct e820_map *map, const struct guest_memory *m)
{
    add(map, E820_TOP_RESERVED_START, E820_TOP_RESERVED_END, E820_RESERVED);
    if (m->high_size)
        add(map, GUEST_HIGH_RAM_START, GUEST_HIGH_RAM_START + m->high_size, E820_RAM);
}

unsigned e820_build(const struct guest_memory *m, struct e820_entry *out, unsigned max)
{
    struct e820_map map = { .e = out, .max = max };

    /* guest_memory guarantees low_size >= 16 MiB, so 1 MiB..low_size is
     * never empty; the checks in add() keep odd layouts harmless anyway. */
    add(&map, 0, MIN(PC_EBDA_START, m->low_size), E820_RAM);
    add(&map, PC_EBDA_START, MIN(PC_BIOS_AREA_END, m->low_size), E820_RESERVED);
    add(&map, PC_BIOS_AREA_END, m->low_size, E820_RAM);
    add_top(&map, m);
    return map.overflow ? 0 : map.n;
}

void *e820_fw_cfg_blob(const struct guest_memory *m, size_t *len)
{
    struct e820_entry e[E820_MAX_ENTRIES];
    struct e820_map map = { .e = e, .max = G_N_ELEMENTS(e) };

    add(&map, 0, m->low_size, E820_RAM);
    add_top(&map, m);
    *len = map.n * sizeof(e[0]);
    return g_memdup2(e, *len);
}
