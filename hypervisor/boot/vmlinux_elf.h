/* The kernel proper as an ELF executable ("vmlinux"): its loadable segments
 * at their physical addresses and its 64-bit entry point. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#define VMLINUX_MAX_SEGMENTS 16

struct vmlinux_segment {
    uint64_t paddr;
    uint64_t offset;    /* in the file */
    uint64_t filesz;
    uint64_t memsz;     /* >= filesz; the rest is zero-filled */
};

struct vmlinux_info {
    uint64_t entry;     /* physical address of the 64-bit entry */
    uint64_t start;     /* lowest and one past the highest loaded address */
    uint64_t end;
    unsigned n_segments;
    struct vmlinux_segment segments[VMLINUX_MAX_SEGMENTS];
};

/* Check that elf is an x86-64 executable whose segments lie inside the file
 * and at physical addresses from 1 MiB up to 4 GiB, with the entry point in
 * an executable segment. */
bool vmlinux_parse(const uint8_t *elf, size_t len, struct vmlinux_info *out, GError **error);
