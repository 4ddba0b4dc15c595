/* libFuzzer target: the VGA register file, memory window and DISPI/MMIO
 * registers driven by arbitrary guest accesses, rendered after every few
 * operations.  AddressSanitizer catches any VRAM, palette or font access
 * outside its bounds.
 *
 * Input: a sequence of 4-byte operations {kind, a, b, c}. */
#include <stdint.h>
#include <stddef.h>
#include <glib.h>

#include "display/vga.h"
#include "display/framebuffer.h"
#include "vga_modes.h"

static struct vga *the_vga(void)
{
    /* Built once, with 1 MiB of VRAM: allocating and clearing 16 MiB per
     * input would dominate the run time; the bounds logic is the same. */
    static struct vga *v;
    if (!v) {
        v = vga_new(1u << 20, NULL);
        g_assert(v);
    }
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vga *v = the_vga();
    vga_reset(v);
    /* Start from a real mode so that rendering paths are reached early. */
    switch (size ? data[0] % 6 : 0) {
    case 0: vga_test_mode_text(v); break;
    case 1: vga_test_mode_13h(v); break;
    case 2: vga_test_mode_12h(v); break;
    case 3: vga_test_mode_04h(v); break;
    case 4: vga_test_mode_06h(v); break;
    default: break;
    }
    /* A small screen keeps each run cheap; the input can still grow it. */
    vga_test_crtc(v, 0x01, 19);
    vga_test_crtc(v, 0x12, 99);
    vga_test_crtc(v, 0x07, 0x10);
    unsigned ops = 0;
    for (size_t i = 1; i + 4 <= size; i += 4, ops++) {
        uint8_t kind = data[i], a = data[i + 1], b = data[i + 2], c = data[i + 3];
        uint16_t word = (uint16_t)(b | c << 8);
        switch (kind % 10) {
        case 0: vga_ioport_write(v, (uint16_t)(0x3b0 + a % 0x30), b); break;
        case 1: vga_ioport_read(v, (uint16_t)(0x3b0 + a % 0x30)); break;
        case 2: vga_mem_write(v, (uint32_t)((a << 9 | word) % (VGA_WINDOW_SIZE + 16)), c); break;
        case 3: vga_mem_read(v, (uint32_t)((a << 9 | word) % (VGA_WINDOW_SIZE + 16))); break;
        case 4: vga_dispi_write(v, a % 16, word); break;
        case 5: vga_dispi_read(v, a % 16); break;
        case 6: vga_mmio_write(v, (uint64_t)(a << 4 | (b & 15)) , c, 1u << (b >> 6)); break;
        case 7: vga_mmio_read(v, (uint64_t)(a << 4 | (b & 15)), 1u << (b >> 6)); break;
        case 8: vga_dispi_write(v, VBE_DISPI_INDEX_ENABLE,
                                (uint16_t)((b & 1) ? (VBE_DISPI_ENABLED | (c & 0xe0)) : 0));
                break;
        default: vga_update_display(v); break;
        }
        if (ops % 256 == 255)
            vga_update_display(v);
    }
    vga_update_display(v);
    return 0;
}
