/* Guest RAM: allocation, the PC memory layout, and checked translation of
 * guest-physical addresses to host pointers.
 *
 * Every address a guest hands us (DMA descriptors, boot structures, queue
 * rings) goes through guest_memory_ptr(), which refuses anything that is not
 * wholly inside one RAM region.  Device models never do their own arithmetic
 * on guest addresses. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

/* RAM below 4 GiB stops here; 0xC0000000-0xFFFFFFFF is the 32-bit PCI/MMIO
 * hole (PCI BARs, IOAPIC at 0xFEC00000, LAPIC at 0xFEE00000, firmware at the
 * top).  The rest of RAM continues at 4 GiB. */
#define GUEST_PCI_HOLE_START 0xC0000000ULL
#define GUEST_HIGH_RAM_START 0x100000000ULL

#define GUEST_MEMORY_MAX_REGIONS 2
#define GUEST_MEMORY_MAX_HIDDEN  2

struct guest_region {
    uint64_t gpa;
    uint64_t size;
    uint8_t *hva;
};

/* RAM that guest_memory_ptr() refuses (size 0: none). */
struct guest_hidden {
    uint64_t gpa;
    uint64_t size;
};

struct guest_memory {
    struct guest_region region[GUEST_MEMORY_MAX_REGIONS];
    unsigned nregions;
    struct guest_hidden hidden[GUEST_MEMORY_MAX_HIDDEN];
    uint64_t ram_size;   /* total bytes of RAM */
    uint64_t low_size;   /* bytes below GUEST_PCI_HOLE_START */
    uint64_t high_size;  /* bytes from GUEST_HIGH_RAM_START */
};

/* Reserve and lay out ram_size bytes of anonymous memory (not yet touched,
 * so not yet resident).  ram_size must be a multiple of 1 MiB, >= 16 MiB. */
bool guest_memory_alloc(struct guest_memory *m, uint64_t ram_size, GError **error);
void guest_memory_free(struct guest_memory *m);

/* Host pointer for [gpa, gpa + len), or NULL unless that whole range lies in
 * one RAM region and touches no hidden range.  Safe against overflow of
 * gpa + len.  len == 0 is allowed and checks only that gpa is inside RAM
 * (and not hidden) or at a region's end. */
void *guest_memory_ptr(const struct guest_memory *m, uint64_t gpa, uint64_t len);

/* The same, hidden ranges included: for the VMM's own view of RAM (the
 * SMRAM it maps), never for addresses a guest hands to a device. */
void *guest_memory_ram_ptr(const struct guest_memory *m, uint64_t gpa, uint64_t len);

/* Hide [gpa, gpa + size) from guest_memory_ptr(), or (size 0) show it
 * again; index < GUEST_MEMORY_MAX_HIDDEN.  SMRAM closed to everything but
 * SMM: device DMA must not reach it, as it cannot on a real chipset.  Any
 * thread; firmware changes SMRAM while it sets it up, and a lookup racing
 * with a change may briefly see no range hidden. */
void guest_memory_hide(struct guest_memory *m, unsigned index, uint64_t gpa, uint64_t size);

/* Copy to/from guest RAM, crossing region boundaries is not allowed.
 * Return false (copying nothing) when the range is not RAM. */
bool guest_memory_read(const struct guest_memory *m, uint64_t gpa, void *dst, size_t len);
bool guest_memory_write(const struct guest_memory *m, uint64_t gpa, const void *src, size_t len);
