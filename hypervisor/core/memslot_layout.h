/* Which KVM memory slots make up each address space, computed from what
 * the platform mapped and from the SMRAM ranges of the chipset.
 *
 * Address space 0 is what the vCPUs see normally, address space 1 what
 * they see in System Management Mode.  Callers map RAM, ROM and VRAM into
 * address space 0 (a "mapping"); with SMM on, address space 1 repeats
 * them.  An SMRAM range (an "overlay") then decides, per address space,
 * whether the mappings show through it, RAM replaces them, or nothing is
 * there (accesses exit and read all ones).  KVM slots of one address
 * space must not overlap, so the mappings are cut around the overlays.
 * Pure computation: vm.c applies the result with KVM. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#define MEMSLOT_ADDRESS_SPACES 2
#define MEMSLOT_AS_NORMAL 0
#define MEMSLOT_AS_SMM    1

struct memslot_mapping {
    bool used;
    uint64_t gpa, size;
    uint8_t *hva;
    uint32_t flags;           /* KVM_MEM_READONLY, KVM_MEM_LOG_DIRTY_PAGES */
};

enum memslot_view {
    MEMSLOT_VIEW_PASS,        /* the mappings below show through */
    MEMSLOT_VIEW_RAM,         /* the overlay's RAM */
    MEMSLOT_VIEW_HOLE,        /* nothing mapped */
};

struct memslot_overlay {
    uint64_t gpa, size;       /* size 0: unused */
    uint8_t *hva;
    enum memslot_view view[MEMSLOT_ADDRESS_SPACES];
};

/* One KVM slot to be: mapping is the index of the mapping it comes from,
 * or -1 for an overlay's RAM. */
struct memslot_piece {
    uint64_t gpa, size;
    uint8_t *hva;
    uint32_t flags;
    int mapping;
};

/* Append to out (of struct memslot_piece) the slots of address space as.
 * Overlays must not overlap each other. */
void memslot_layout(const struct memslot_mapping *maps, unsigned nmaps,
                    const struct memslot_overlay *overlays, unsigned noverlays,
                    unsigned as, GArray *out);

bool memslot_piece_equal(const struct memslot_piece *a, const struct memslot_piece *b);
