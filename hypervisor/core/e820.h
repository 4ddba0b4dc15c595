/* The guest's physical memory map as the E820 BIOS call reports it.
 *
 * Two views of the same layout: the one a directly booted Linux kernel gets
 * in its zero page (conventional memory, the EBDA/BIOS hole, RAM up to the
 * PCI hole, the interrupt controllers and firmware at the top of 4 GiB, RAM
 * above 4 GiB), and the one firmware reads from fw_cfg "etc/e820", where low
 * RAM is one range because the firmware carves its own BIOS areas. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "guest_memory.h"

#define E820_RAM      1
#define E820_RESERVED 2
#define E820_ACPI     3
#define E820_NVS      4

/* Zero-page (boot_params.e820_table) layout, also the layout of each
 * "etc/e820" record: little-endian on x86, 20 bytes. */
struct e820_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
} __attribute__((packed));

/* Interrupt controllers (IOAPIC, HPET, LAPIC) and the firmware image share
 * this reserved range below 4 GiB; PCI BARs stay below it. */
#define E820_TOP_RESERVED_START 0xfec00000ULL
#define E820_TOP_RESERVED_END   0x100000000ULL

/* The most entries either view can have. */
#define E820_MAX_ENTRIES 8

/* Fill out (room for max entries) with the direct-boot map of m, sorted by
 * address and free of overlaps.  Returns the number of entries written, or
 * 0 if max is too small. */
unsigned e820_build(const struct guest_memory *m, struct e820_entry *out, unsigned max);

/* The firmware view for fw_cfg "etc/e820": a newly allocated array of
 * records (free with g_free), its size in bytes in *len. */
void *e820_fw_cfg_blob(const struct guest_memory *m, size_t *len);
