/* The PC's upper memory area, 0xA0000-0xFFFFF, and the KVM memory slots of
 * low RAM around it.
 *
 *  - 0xA0000-0xBFFFF is RAM until a VGA claims it as its legacy window.
 *  - 0xC0000-0xFFFFF is plain RAM for a directly booted kernel.  Under PC
 *    firmware it is shadow RAM governed by the i440FX's programmable
 *    attribute map (PAM registers 0x59-0x5F): for each of 13 segments
 *    (twelve of 16 KiB from 0xC0000, one of 64 KiB at 0xF0000) reads come
 *    from RAM or from the ROM behind it, and writes go to RAM or are
 *    dropped.  Behind 0xE0000-0xFFFFF sits the BIOS's last 128 KiB; behind
 *    0xC0000-0xDFFFF nothing (reads all ones).
 *
 * SeaBIOS relies on this: it starts with PAM = 0 (the ROM), opens the
 * segments for writing, copies itself from the high alias below 4 GiB,
 * and write-protects the result.  KVM read-only slots make the fast paths
 * (execute from ROM, read shadow RAM); the rare accesses that exit land in
 * one MMIO handler that applies the same rules. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

struct vm;
struct upper_memory;

#define UPPER_MEMORY_VGA_START    0xa0000u
#define UPPER_MEMORY_SHADOW_START 0xc0000u
#define UPPER_MEMORY_END          0x100000u
#define UPPER_MEMORY_PAM_SEGMENTS 13
#define UPPER_MEMORY_PAM_REGS     7     /* PAM0 .. PAM6 */

/* Per-segment attribute bits (one nibble of a PAM register). */
#define PAM_READ_ENABLE  0x1
#define PAM_WRITE_ENABLE 0x2

/* Where reads of a segment are served from. */
enum shadow_source {
    SHADOW_NONE,          /* nothing: reads all ones, writes per PAM */
    SHADOW_RAM,           /* RAM, writable */
    SHADOW_RAM_READONLY,  /* RAM, writes dropped */
    SHADOW_ROM,           /* the BIOS behind it; writes per PAM */
};

/* Segment i's range as [start, start + size) within 0xC0000-0xFFFFF. */
void upper_memory_pam_segment(unsigned i, uint32_t *start, uint32_t *size);
/* Segment index of an address in 0xC0000-0xFFFFF. */
unsigned upper_memory_pam_index(uint32_t addr);
/* Segment i's attribute bits from the seven PAM registers. */
unsigned upper_memory_pam_attr(const uint8_t pam[UPPER_MEMORY_PAM_REGS], unsigned i);
/* What a segment with those attributes maps; rom says whether ROM lies
 * behind it. */
enum shadow_source upper_memory_pam_source(unsigned attr, bool rom);

/* Take over low RAM's single slot (slot 0, mapped first by vm_create()):
 * RAM stays where it was, cut into slots at 0xA0000, 0xC0000 and 1 MiB. */
struct upper_memory *upper_memory_create(struct vm *vm, GError **error);
/* After vm_destroy(). */
void upper_memory_free(struct upper_memory *um);

/* Leave 0xA0000-0xBFFFF to the MMIO bus (the VGA's window).  Once. */
bool upper_memory_open_vga_window(struct upper_memory *um, GError **error);

/* Put 0xC0000-0xFFFFF under PAM control, all segments at PAM = 0 (ROM).
 * rom: the BIOS image's last rom_size bytes (<= 128 KiB, kept by the
 * caller for the VM's lifetime), which appear just below 1 MiB. */
bool upper_memory_enable_pam(struct upper_memory *um, const uint8_t *rom, size_t rom_size,
                             GError **error);

/* The PAM registers changed (a guest write or a reset). */
void upper_memory_set_pam(struct upper_memory *um, const uint8_t pam[UPPER_MEMORY_PAM_REGS]);
