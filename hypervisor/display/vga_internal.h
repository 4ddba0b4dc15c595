/* State of the standard VGA shared by its register, rendering and PCI
 * files. */
#pragma once

#include "vga.h"
#include "pci/pci.h"

#define VGA_PLANE_SIZE   0x10000u   /* 64 KiB per plane */
#define VGA_PAGE_SHIFT   12

/* Planes are interleaved in VRAM: byte `plane` of dword `offset`. */
static inline size_t vga_plane_index(uint32_t offset, unsigned plane)
{
    return ((size_t)(offset & (VGA_PLANE_SIZE - 1)) << 2) | (plane & 3);
}

struct vga {
    GMutex lock;
    uint8_t *vram;
    size_t vram_size;

    /* General registers. */
    uint8_t misc;           /* 0x3C2 write / 0x3CC read */
    uint8_t feature;
    uint8_t st1_toggle;     /* fake retrace bits of input status 1 */

    uint8_t seq_index, seq[8];
    uint8_t gc_index, gc[16];
    uint8_t crtc_index, crtc[32];
    uint8_t ar_index;       /* including the palette address source bit */
    bool ar_data_next;      /* attribute flip-flop: next 0x3C0 write is data */
    uint8_t ar[0x15];

    uint8_t pel_mask;
    uint8_t dac_read_index, dac_write_index, dac_sub, dac_state;
    uint8_t dac_latch[3];
    uint8_t palette[256 * 3];

    uint32_t latch;         /* plane latches, plane n in byte n */
    /* Bumped by every write that can change the picture; legacy modes
     * skip rendering while it stands still. */
    uint32_t gen, rendered_gen;

    /* Bochs VBE. */
    uint16_t vbe_index;
    uint16_t vbe[VBE_DISPI_INDEX_COUNT];

    /* Rendering (main context only). */
    struct framebuffer *fb;
    uint32_t *line;         /* one rendered line */
    unsigned line_len;
    bool full_update;       /* mode/palette changed: re-render everything */
    int last_kind;
    unsigned last_w, last_h;
    unsigned long *dirty_pages;   /* written by the emulated paths */
    unsigned long *log_pages;     /* scratch for the dirty log */
    size_t npages;
    vga_dirty_log_fn dirty_log;
    void *dirty_log_opaque;

    /* PCI wiring (vga_pci.c). */
    struct vm *vm;
    struct pci_device pci;
    uint8_t *rom;
    size_t rom_size;        /* BAR size, power of two */
    bool rom_mapped;
    uint64_t rom_addr;
    int vram_slot;
    uint64_t vram_addr;
    guint timer_id;
    GSource *timer;
};

/* vga_render.c */
void vga_render_init(struct vga *vga);
void vga_render_cleanup(struct vga *vga);
