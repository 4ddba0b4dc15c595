/* Standard VGA with the Bochs VBE (DISPI) extension: the device model
 * (registers, planar video memory, rendering into a framebuffer) and its
 * PCI function 1234:1111.
 *
 * The core (vga_new and the vga_* register/memory entry points) needs no
 * VM, so unit tests and the fuzzer drive it directly; vga_pci_create() puts
 * it on a VM: legacy ports 0x3B0-0x3DF and 0x1CE/0x1CF, the 0xA0000-0xBFFFF
 * window, BAR0 = VRAM (a KVM memory slot with dirty logging), BAR2 = MMIO
 * registers (VGA ports at 0x400, DISPI at 0x500), and the expansion ROM
 * holding the VGA BIOS.
 *
 * Threads: vCPUs call the register/memory functions; rendering runs on the
 * main context.  A mutex inside serialises them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

struct vga;
struct vm;
struct pci_bus;
struct framebuffer;

#define VGA_VRAM_SIZE_DEFAULT (16u << 20)
#define VGA_ROM_PATH_DEFAULT "/usr/share/seabios/vgabios-stdvga.bin"

/* Legacy window: guest-physical 0xA0000-0xBFFFF. */
#define VGA_WINDOW_BASE 0xa0000
#define VGA_WINDOW_SIZE 0x20000

/* DISPI register indexes (port 0x1CE selects, 0x1CF reads/writes). */
enum {
    VBE_DISPI_INDEX_ID,
    VBE_DISPI_INDEX_XRES,
    VBE_DISPI_INDEX_YRES,
    VBE_DISPI_INDEX_BPP,
    VBE_DISPI_INDEX_ENABLE,
    VBE_DISPI_INDEX_BANK,
    VBE_DISPI_INDEX_VIRT_WIDTH,
    VBE_DISPI_INDEX_VIRT_HEIGHT,
    VBE_DISPI_INDEX_X_OFFSET,
    VBE_DISPI_INDEX_Y_OFFSET,
    VBE_DISPI_INDEX_VIDEO_MEMORY_64K,
    VBE_DISPI_INDEX_COUNT,
};
#define VBE_DISPI_ID5          0xb0c5
#define VBE_DISPI_ENABLED      0x01
#define VBE_DISPI_GETCAPS      0x02
#define VBE_DISPI_8BIT_DAC     0x20
#define VBE_DISPI_LFB_ENABLED  0x40
#define VBE_DISPI_NOCLEARMEM   0x80
#define VBE_DISPI_MAX_XRES     2560
#define VBE_DISPI_MAX_YRES     1600
#define VBE_DISPI_MAX_BPP      32

/* BAR2 layout (what Linux bochs-drm expects). */
#define VGA_MMIO_SIZE        0x1000
#define VGA_MMIO_VGA_PORTS   0x400   /* ports 0x3C0-0x3DF */
#define VGA_MMIO_DISPI       0x500   /* DISPI register i at 0x500 + 2 i */

/* Fetches (and resets) the dirty-page bitmap of VRAM: bit n of the
 * little-endian array of unsigned longs = page n (4 KiB) was written.
 * Returns false when no log is available (then VRAM is compared instead). */
typedef bool (*vga_dirty_log_fn)(void *opaque, unsigned long *bitmap, size_t npages);

/* --- The device model ------------------------------------------------- */
struct vga *vga_new(size_t vram_size, GError **error);
void vga_free(struct vga *vga);
void vga_reset(struct vga *vga);

struct framebuffer *vga_framebuffer(struct vga *vga);
uint8_t *vga_vram(struct vga *vga);
size_t vga_vram_size(const struct vga *vga);

/* Port I/O, one byte (ports 0x3B0-0x3DF). */
uint8_t vga_ioport_read(struct vga *vga, uint16_t port);
void vga_ioport_write(struct vga *vga, uint16_t port, uint8_t value);
/* DISPI through 0x1CE/0x1CF or BAR2. */
uint16_t vga_dispi_read_index(struct vga *vga);
void vga_dispi_write_index(struct vga *vga, uint16_t index);
uint16_t vga_dispi_read(struct vga *vga, unsigned index);
void vga_dispi_write(struct vga *vga, unsigned index, uint16_t value);
/* The legacy window: offset 0..VGA_WINDOW_SIZE-1 from 0xA0000. */
uint8_t vga_mem_read(struct vga *vga, uint32_t offset);
void vga_mem_write(struct vga *vga, uint32_t offset, uint8_t value);
/* BAR2 MMIO registers. */
uint64_t vga_mmio_read(struct vga *vga, uint64_t offset, unsigned size);
void vga_mmio_write(struct vga *vga, uint64_t offset, uint64_t value, unsigned size);

/* Tell the renderer about VRAM writes it cannot otherwise see. */
void vga_mark_vram_dirty(struct vga *vga, uint64_t offset, uint64_t len);
void vga_set_dirty_log(struct vga *vga, vga_dirty_log_fn fn, void *opaque);

/* Render what changed into the framebuffer and report the damage. */
void vga_update_display(struct vga *vga);

/* VM state: every register, the palette and VRAM.  The load checks the
 * indexes and the VBE mode as register writes do and redraws everything. */
struct state_out;
struct state_in;
void vga_save(struct vga *vga, struct state_out *out);
bool vga_load(struct vga *vga, struct state_in *in, GError **error);

/* --- On a VM ---------------------------------------------------------- */
/* rom_path NULL = VGA_ROM_PATH_DEFAULT.  Starts the refresh timer on the
 * VM's main context (it renders only while the framebuffer has listeners). */
struct vga *vga_pci_create(struct vm *vm, struct pci_bus *bus, const char *rom_path,
                           GError **error);
void vga_pci_destroy(struct vga *vga);
