/* Standard VGA registers, planar memory access and the Bochs VBE (DISPI)
 * registers. */
#include "vga_internal.h"

#include <gio/gio.h>
#include <inttypes.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/mman.h>

#include "framebuffer.h"
#include "core/state_stream.h"

#define BITS_PER_LONG (8 * sizeof(unsigned long))

/* --- VRAM dirty tracking for writes the emulation performs ------------------ */

static void mark_dirty_locked(struct vga *vga, uint64_t offset, uint64_t len)
{
    vga->gen++;
    if (len == 0 || offset >= vga->vram_size)
        return;
    if (len > vga->vram_size - offset)
        len = vga->vram_size - offset;
    size_t first = offset >> VGA_PAGE_SHIFT, last = (offset + len - 1) >> VGA_PAGE_SHIFT;
    for (size_t p = first; p <= last; p++)
        vga->dirty_pages[p / BITS_PER_LONG] |= 1UL << (p % BITS_PER_LONG);
}

void vga_mark_vram_dirty(struct vga *vga, uint64_t offset, uint64_t len)
{
    g_mutex_lock(&vga->lock);
    mark_dirty_locked(vga, offset, len);
    g_mutex_unlock(&vga->lock);
}

void vga_set_dirty_log(struct vga *vga, vga_dirty_log_fn fn, void *opaque)
{
    g_mutex_lock(&vga->lock);
    vga->dirty_log = fn;
    vga->dirty_log_opaque = opaque;
    vga->full_update = true;
    g_mutex_unlock(&vga->lock);
}

/* --- Creation and reset ------------------------------------------------------ */

struct vga *vga_new(size_t vram_size, GError **error)
{
    /* At least the four 64 KiB planes; a power of two so that BAR0 covers
     * it exactly. */
    if (vram_size < 4 * VGA_PLANE_SIZE || vram_size > (256u << 20) ||
        (vram_size & (vram_size - 1))) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    _("VGA memory size must be a power of two between 256 KiB and 256 MiB"));
        return NULL;
    }
    void *mem = mmap(NULL, vram_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    _("Cannot allocate %zu bytes of VGA memory: %s"), vram_size,
                    g_strerror(errno));
        return NULL;
    }
    struct vga *vga = g_new0(struct vga, 1);
    g_mutex_init(&vga->lock);
    vga->vram = mem;
    vga->vram_size = vram_size;
    vga->npages = vram_size >> VGA_PAGE_SHIFT;
    size_t words = (vga->npages + BITS_PER_LONG - 1) / BITS_PER_LONG;
    vga->dirty_pages = g_new0(unsigned long, words);
    vga->log_pages = g_new0(unsigned long, words);
    vga->vram_slot = -1;
    vga->fb = framebuffer_new(720, 400);
    vga_render_init(vga);
    vga_reset(vga);
    return vga;
}

void vga_free(struct vga *vga)
{
    if (!vga)
        return;
    vga_render_cleanup(vga);
    framebuffer_free(vga->fb);
    munmap(vga->vram, vga->vram_size);
    g_free(vga->dirty_pages);
    g_free(vga->log_pages);
    g_free(vga->rom);
    g_mutex_clear(&vga->lock);
    g_free(vga);
}

void vga_reset(struct vga *vga)
{
    g_mutex_lock(&vga->lock);
    vga->misc = 0x01; /* colour I/O addresses (0x3Dx) */
    vga->feature = 0;
    memset(vga->seq, 0, sizeof vga->seq);
    memset(vga->gc, 0, sizeof vga->gc);
    memset(vga->crtc, 0, sizeof vga->crtc);
    memset(vga->ar, 0, sizeof vga->ar);
    vga->seq_index = vga->gc_index = vga->crtc_index = vga->ar_index = 0;
    vga->ar_data_next = false;
    vga->pel_mask = 0xff;
    vga->dac_read_index = vga->dac_write_index = vga->dac_sub = vga->dac_state = 0;
    memset(vga->palette, 0, sizeof vga->palette);
    vga->latch = 0;
    vga->vbe_index = 0;
    memset(vga->vbe, 0, sizeof vga->vbe);
    vga->vbe[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID5;
    vga->vbe[VBE_DISPI_INDEX_BPP] = 8;
    vga->full_update = true;
    vga->gen++;
    g_mutex_unlock(&vga->lock);
}

struct framebuffer *vga_framebuffer(struct vga *vga) { return vga->fb; }
uint8_t *vga_vram(struct vga *vga) { return vga->vram; }
size_t vga_vram_size(const struct vga *vga) { return vga->vram_size; }

/* --- Legacy ports ------------------------------------------------------------ */

/* The CRTC and input status 1 answer at 0x3Bx or 0x3Dx depending on the
 * misc output register's I/O address select. */
static bool port_is_active(const struct vga *vga, uint16_t port)
{
    if (port >= 0x3b0 && port <= 0x3bf)
        return !(vga->misc & 1);
    if (port >= 0x3d0 && port <= 0x3df)
        return vga->misc & 1;
    return true;
}

static uint8_t ioport_read_locked(struct vga *vga, uint16_t port)
{
    if (!port_is_active(vga, port))
        return 0xff;
    switch (port) {
    case 0x3c0:
        return vga->ar_index;
    case 0x3c1:
        return (vga->ar_index & 0x1f) < sizeof vga->ar ? vga->ar[vga->ar_index & 0x1f] : 0;
    case 0x3c2:
        return 0; /* input status 0 */
    case 0x3c4:
        return vga->seq_index;
    case 0x3c5:
        return vga->seq[vga->seq_index & 7];
    case 0x3c6:
        return vga->pel_mask;
    case 0x3c7:
        return vga->dac_state;
    case 0x3c8:
        return vga->dac_write_index;
    case 0x3c9: {
        uint8_t v = vga->palette[vga->dac_read_index * 3 + vga->dac_sub];
        if (++vga->dac_sub == 3) {
            vga->dac_sub = 0;
            vga->dac_read_index++;
        }
        return v;
    }
    case 0x3ca:
        return vga->feature;
    case 0x3cc:
        return vga->misc;
    case 0x3ce:
        return vga->gc_index;
    case 0x3cf:
        return vga->gc[vga->gc_index & 15];
    case 0x3b4: case 0x3d4:
        return vga->crtc_index;
    case 0x3b5: case 0x3d5:
        return vga->crtc_index <= 0x18 ? vga->crtc[vga->crtc_index] : 0xff;
    case 0x3ba: case 0x3da:
        /* Reading input status 1 resets the attribute flip-flop.  The
         * retrace bits toggle so that polling loops in the BIOS and in
         * guests make progress. */
        vga->ar_data_next = false;
        vga->st1_toggle ^= 0x09;
        return vga->st1_toggle;
    default:
        return 0xff;
    }
}

uint8_t vga_ioport_read(struct vga *vga, uint16_t port)
{
    g_mutex_lock(&vga->lock);
    uint8_t v = ioport_read_locked(vga, port);
    g_mutex_unlock(&vga->lock);
    return v;
}

static void ioport_write_locked(struct vga *vga, uint16_t port, uint8_t v)
{
    vga->gen++;
    if (!port_is_active(vga, port))
        return;
    switch (port) {
    case 0x3c0:
        if (!vga->ar_data_next) {
            if ((v ^ vga->ar_index) & 0x20)
                vga->full_update = true; /* screen on/off */
            vga->ar_index = v & 0x3f;
        } else {
            unsigned i = vga->ar_index & 0x1f;
            if (i < sizeof vga->ar) {
                vga->ar[i] = v;
                vga->full_update = true;
            }
        }
        vga->ar_data_next = !vga->ar_data_next;
        break;
    case 0x3c2:
        vga->misc = v;
        break;
    case 0x3c4:
        vga->seq_index = v & 7;
        break;
    case 0x3c5:
        vga->seq[vga->seq_index & 7] = v;
        vga->full_update = true;
        break;
    case 0x3c6:
        vga->pel_mask = v;
        vga->full_update = true;
        break;
    case 0x3c7:
        vga->dac_read_index = v;
        vga->dac_sub = 0;
        vga->dac_state = 3;
        break;
    case 0x3c8:
        vga->dac_write_index = v;
        vga->dac_sub = 0;
        vga->dac_state = 0;
        break;
    case 0x3c9: {
        bool eight_bit = vga->vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC;
        vga->dac_latch[vga->dac_sub] = eight_bit ? v : (v & 0x3f);
        if (++vga->dac_sub == 3) {
            memcpy(&vga->palette[vga->dac_write_index * 3], vga->dac_latch, 3);
            vga->dac_sub = 0;
            vga->dac_write_index++;
            vga->full_update = true;
        }
        break;
    }
    case 0x3ce:
        vga->gc_index = v & 15;
        break;
    case 0x3cf:
        vga->gc[vga->gc_index & 15] = v;
        vga->full_update = true;
        break;
    case 0x3b4: case 0x3d4:
        vga->crtc_index = v & 0x1f;
        break;
    case 0x3b5: case 0x3d5: {
        unsigned i = vga->crtc_index;
        if (i > 0x18)
            break;
        /* CRTC 0x11 bit 7 write-protects registers 0-7, except the line
         * compare bit in the overflow register. */
        if ((vga->crtc[0x11] & 0x80) && i <= 7) {
            if (i == 7)
                vga->crtc[7] = (uint8_t)((vga->crtc[7] & ~0x10) | (v & 0x10));
            break;
        }
        vga->crtc[i] = v;
        vga->full_update = true;
        break;
    }
    case 0x3ba: case 0x3da:
        vga->feature = v;
        break;
    default:
        break;
    }
}

void vga_ioport_write(struct vga *vga, uint16_t port, uint8_t value)
{
    g_mutex_lock(&vga->lock);
    ioport_write_locked(vga, port, value);
    g_mutex_unlock(&vga->lock);
}

/* --- The legacy memory window --------------------------------------------------- */

static bool vbe_enabled(const struct vga *vga)
{
    return vga->vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED;
}

/* Packed-pixel VBE modes see VRAM linearly through the banked window;
 * 4-bpp VBE modes are planar and keep the VGA memory logic. */
static bool vbe_banked(const struct vga *vga)
{
    return vbe_enabled(vga) && vga->vbe[VBE_DISPI_INDEX_BPP] != 4;
}

/* Map a window offset to the address the memory map select decodes, or
 * return false when the address is outside the selected window. */
static bool window_address(const struct vga *vga, uint32_t offset, uint32_t *addr)
{
    if (offset >= VGA_WINDOW_SIZE)
        return false;
    switch ((vga->gc[6] >> 2) & 3) {
    case 0: *addr = offset; return true;             /* A0000, 128 KiB */
    case 1: *addr = offset; return offset < 0x10000;  /* A0000, 64 KiB */
    case 2: *addr = offset - 0x10000; return offset >= 0x10000 && offset < 0x18000;
    default: *addr = offset - 0x18000; return offset >= 0x18000;
    }
}

static uint8_t plane_byte(const struct vga *vga, uint32_t off, unsigned plane)
{
    return vga->vram[vga_plane_index(off, plane)];
}

static void load_latch(struct vga *vga, uint32_t off)
{
    vga->latch = (uint32_t)plane_byte(vga, off, 0) | (uint32_t)plane_byte(vga, off, 1) << 8 |
                 (uint32_t)plane_byte(vga, off, 2) << 16 | (uint32_t)plane_byte(vga, off, 3) << 24;
}

static uint8_t mem_read_locked(struct vga *vga, uint32_t offset)
{
    if (vbe_banked(vga)) {
        /* Banked access to linear VRAM through 0xA0000-0xAFFFF. */
        if (offset >= 0x10000)
            return 0xff;
        uint64_t a = ((uint64_t)vga->vbe[VBE_DISPI_INDEX_BANK] << 16) + offset;
        return a < vga->vram_size ? vga->vram[a] : 0xff;
    }
    uint32_t a;
    if (!window_address(vga, offset, &a))
        return 0xff;
    if (vga->seq[4] & 0x08) {             /* chain 4: low bits pick the plane */
        load_latch(vga, a & ~3u);
        return plane_byte(vga, a & ~3u, a & 3);
    }
    if (vga->gc[5] & 0x10) {              /* host odd/even */
        unsigned plane = (vga->gc[4] & 2) | (a & 1);
        load_latch(vga, a & ~1u);
        return plane_byte(vga, a & ~1u, plane);
    }
    load_latch(vga, a);
    if (!(vga->gc[5] & 0x08))             /* read mode 0 */
        return plane_byte(vga, a, vga->gc[4] & 3);
    /* Read mode 1: bits whose colour matches the colour compare register,
     * ignoring planes not in colour don't care. */
    uint8_t result = 0xff;
    for (unsigned p = 0; p < 4; p++) {
        if (!(vga->gc[7] & (1u << p)))
            continue;
        uint8_t plane = (uint8_t)(vga->latch >> (8 * p));
        uint8_t want = (vga->gc[2] & (1u << p)) ? 0xff : 0x00;
        result &= (uint8_t)~(plane ^ want);
    }
    return result;
}

uint8_t vga_mem_read(struct vga *vga, uint32_t offset)
{
    g_mutex_lock(&vga->lock);
    uint8_t v = mem_read_locked(vga, offset);
    g_mutex_unlock(&vga->lock);
    return v;
}

static uint8_t alu(uint8_t v, uint8_t latch, unsigned op)
{
    switch (op) {
    case 1: return v & latch;
    case 2: return v | latch;
    case 3: return v ^ latch;
    default: return v;
    }
}

static void mem_write_locked(struct vga *vga, uint32_t offset, uint8_t v)
{
    vga->gen++;
    if (vbe_banked(vga)) {
        if (offset >= 0x10000)
            return;
        uint64_t a = ((uint64_t)vga->vbe[VBE_DISPI_INDEX_BANK] << 16) + offset;
        if (a < vga->vram_size) {
            vga->vram[a] = v;
            mark_dirty_locked(vga, a, 1);
        }
        return;
    }
    uint32_t a;
    if (!window_address(vga, offset, &a))
        return;
    uint8_t map_mask = vga->seq[2] & 15;
    if (vga->seq[4] & 0x08) {
        unsigned plane = a & 3;
        if (map_mask & (1u << plane)) {
            size_t i = vga_plane_index(a & ~3u, plane);
            vga->vram[i] = v;
            mark_dirty_locked(vga, i, 1);
        }
        return;
    }
    if (!(vga->seq[4] & 0x04)) {          /* odd/even: A0 picks planes 0/2 or 1/3 */
        uint8_t mask = map_mask & ((a & 1) ? 0x0a : 0x05);
        for (unsigned p = 0; p < 4; p++) {
            if (mask & (1u << p)) {
                size_t i = vga_plane_index(a & ~1u, p);
                vga->vram[i] = v;
                mark_dirty_locked(vga, i, 1);
            }
        }
        return;
    }

    /* Planar write modes 0-3. */
    unsigned mode = vga->gc[5] & 3;
    unsigned rot = vga->gc[3] & 7, op = (vga->gc[3] >> 3) & 3;
    uint8_t bit_mask = vga->gc[8];
    uint8_t rotated = (uint8_t)((v >> rot) | (v << ((8 - rot) & 7)));
    uint8_t planes[4];
    for (unsigned p = 0; p < 4; p++) {
        uint8_t latch = (uint8_t)(vga->latch >> (8 * p));
        uint8_t sr = (vga->gc[0] & (1u << p)) ? 0xff : 0x00;
        uint8_t val, mask = bit_mask;
        switch (mode) {
        case 0:
            val = (vga->gc[1] & (1u << p)) ? sr : rotated;
            val = alu(val, latch, op);
            break;
        case 1:
            val = latch;
            mask = 0xff;
            break;
        case 2:
            val = alu((v & (1u << p)) ? 0xff : 0x00, latch, op);
            break;
        default:
            mask = bit_mask & rotated;
            val = alu(sr, latch, op);
            break;
        }
        planes[p] = (uint8_t)((val & mask) | (latch & ~mask));
    }
    for (unsigned p = 0; p < 4; p++) {
        if (map_mask & (1u << p)) {
            size_t i = vga_plane_index(a, p);
            vga->vram[i] = planes[p];
            mark_dirty_locked(vga, i, 1);
        }
    }
}

void vga_mem_write(struct vga *vga, uint32_t offset, uint8_t value)
{
    g_mutex_lock(&vga->lock);
    mem_write_locked(vga, offset, value);
    g_mutex_unlock(&vga->lock);
}

/* --- Bochs VBE (DISPI) -------------------------------------------------------------- */

static unsigned vbe_bytes_per_pixel(unsigned bpp)
{
    return bpp == 15 ? 2 : (bpp + 7) / 8;
}

static bool vbe_bpp_valid(unsigned bpp)
{
    return bpp == 4 || bpp == 8 || bpp == 15 || bpp == 16 || bpp == 24 || bpp == 32;
}

/* Virtual height follows from the virtual width and the memory size. */
static void vbe_update_virtual(struct vga *vga)
{
    unsigned bpp = vga->vbe[VBE_DISPI_INDEX_BPP];
    uint64_t line = (uint64_t)vga->vbe[VBE_DISPI_INDEX_VIRT_WIDTH] *
                    (bpp == 4 ? 1 : vbe_bytes_per_pixel(bpp));
    if (bpp == 4)
        line /= 2;
    uint64_t h = line ? vga->vram_size / line : 0;
    vga->vbe[VBE_DISPI_INDEX_VIRT_HEIGHT] = (uint16_t)MIN(h, 0xffff);
}

/* Zero the first len bytes of VRAM.  Whole pages are handed back to the
 * kernel instead of written, so a mode set does not make VRAM resident
 * (private anonymous memory reads back as zeros afterwards). */
static void clear_vram(struct vga *vga, size_t len)
{
    size_t page = (size_t)1 << VGA_PAGE_SHIFT;
    size_t whole = len & ~(page - 1);
    if (whole && madvise(vga->vram, whole, MADV_DONTNEED) != 0)
        whole = 0;
    memset(vga->vram + whole, 0, len - whole);
    mark_dirty_locked(vga, 0, len);
}

static uint16_t dispi_read_locked(struct vga *vga, unsigned index)
{
    bool caps = vga->vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_GETCAPS;
    switch (index) {
    case VBE_DISPI_INDEX_XRES:
        return caps ? VBE_DISPI_MAX_XRES : vga->vbe[index];
    case VBE_DISPI_INDEX_YRES:
        return caps ? VBE_DISPI_MAX_YRES : vga->vbe[index];
    case VBE_DISPI_INDEX_BPP:
        return caps ? VBE_DISPI_MAX_BPP : vga->vbe[index];
    case VBE_DISPI_INDEX_VIDEO_MEMORY_64K:
        return (uint16_t)(vga->vram_size >> 16);
    default:
        return index < VBE_DISPI_INDEX_COUNT ? vga->vbe[index] : 0;
    }
}

static void dispi_write_locked(struct vga *vga, unsigned index, uint16_t v)
{
    vga->gen++;
    uint16_t *r = vga->vbe;
    bool enabled = r[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED;
    switch (index) {
    case VBE_DISPI_INDEX_ID:
        if (v >= 0xb0c0 && v <= VBE_DISPI_ID5)
            r[index] = v;
        break;
    case VBE_DISPI_INDEX_XRES:
    case VBE_DISPI_INDEX_YRES:
    case VBE_DISPI_INDEX_BPP:
        /* The mode is fixed while it is displayed. */
        if (!enabled)
            r[index] = (index == VBE_DISPI_INDEX_BPP && v == 0) ? 8 : v;
        break;
    case VBE_DISPI_INDEX_ENABLE:
        if ((v & VBE_DISPI_ENABLED) && !enabled) {
            unsigned xres = r[VBE_DISPI_INDEX_XRES], yres = r[VBE_DISPI_INDEX_YRES];
            unsigned bpp = r[VBE_DISPI_INDEX_BPP];
            uint64_t need = (uint64_t)xres * yres * (bpp == 4 ? 1 : vbe_bytes_per_pixel(bpp));
            if (xres == 0 || yres == 0 || xres > VBE_DISPI_MAX_XRES ||
                yres > VBE_DISPI_MAX_YRES || !vbe_bpp_valid(bpp) || need > vga->vram_size) {
                r[index] = v & ~VBE_DISPI_ENABLED; /* refuse the mode */
                break;
            }
            r[VBE_DISPI_INDEX_VIRT_WIDTH] = (uint16_t)xres;
            r[VBE_DISPI_INDEX_X_OFFSET] = 0;
            r[VBE_DISPI_INDEX_Y_OFFSET] = 0;
            r[VBE_DISPI_INDEX_BANK] = 0;
            r[index] = v;
            vbe_update_virtual(vga);
            if (!(v & VBE_DISPI_NOCLEARMEM))
                clear_vram(vga, MIN(need, vga->vram_size));
        } else {
            r[index] = v;
        }
        vga->full_update = true;
        break;
    case VBE_DISPI_INDEX_BANK:
        if (((uint64_t)v << 16) < vga->vram_size)
            r[index] = v;
        break;
    case VBE_DISPI_INDEX_VIRT_WIDTH:
        if (!enabled)
            break;
        r[index] = MAX(v, r[VBE_DISPI_INDEX_XRES]);
        vbe_update_virtual(vga);
        vga->full_update = true;
        break;
    case VBE_DISPI_INDEX_X_OFFSET:
    case VBE_DISPI_INDEX_Y_OFFSET:
        r[index] = v;
        vga->full_update = true;
        break;
    default:
        break; /* VIRT_HEIGHT and VIDEO_MEMORY_64K are read-only */
    }
}

uint16_t vga_dispi_read_index(struct vga *vga)
{
    return vga->vbe_index;
}

void vga_dispi_write_index(struct vga *vga, uint16_t index)
{
    g_mutex_lock(&vga->lock);
    vga->vbe_index = index;
    g_mutex_unlock(&vga->lock);
}

uint16_t vga_dispi_read(struct vga *vga, unsigned index)
{
    g_mutex_lock(&vga->lock);
    uint16_t v = dispi_read_locked(vga, index);
    g_mutex_unlock(&vga->lock);
    return v;
}

void vga_dispi_write(struct vga *vga, unsigned index, uint16_t value)
{
    g_mutex_lock(&vga->lock);
    dispi_write_locked(vga, index, value);
    g_mutex_unlock(&vga->lock);
}

/* --- BAR2: VGA ports and DISPI as MMIO ----------------------------------------------- */

uint64_t vga_mmio_read(struct vga *vga, uint64_t offset, unsigned size)
{
    uint64_t v = 0;
    g_mutex_lock(&vga->lock);
    if (offset >= VGA_MMIO_VGA_PORTS && offset + size <= VGA_MMIO_VGA_PORTS + 0x20) {
        for (unsigned i = 0; i < size; i++)
            v |= (uint64_t)ioport_read_locked(vga, (uint16_t)(0x3c0 + offset - VGA_MMIO_VGA_PORTS + i))
                 << (8 * i);
    } else if (offset >= VGA_MMIO_DISPI && offset < VGA_MMIO_DISPI + 2 * VBE_DISPI_INDEX_COUNT &&
               size == 2 && !(offset & 1)) {
        v = dispi_read_locked(vga, (unsigned)(offset - VGA_MMIO_DISPI) / 2);
    }
    g_mutex_unlock(&vga->lock);
    return v;
}

void vga_mmio_write(struct vga *vga, uint64_t offset, uint64_t value, unsigned size)
{
    g_mutex_lock(&vga->lock);
    if (offset >= VGA_MMIO_VGA_PORTS && offset + size <= VGA_MMIO_VGA_PORTS + 0x20) {
        for (unsigned i = 0; i < size; i++)
            ioport_write_locked(vga, (uint16_t)(0x3c0 + offset - VGA_MMIO_VGA_PORTS + i),
                                (uint8_t)(value >> (8 * i)));
    } else if (offset >= VGA_MMIO_DISPI && offset < VGA_MMIO_DISPI + 2 * VBE_DISPI_INDEX_COUNT &&
               size == 2 && !(offset & 1)) {
        dispi_write_locked(vga, (unsigned)(offset - VGA_MMIO_DISPI) / 2, (uint16_t)value);
    }
    g_mutex_unlock(&vga->lock);
}

/* ---- VM state ---------------------------------------------------------------- */

void vga_save(struct vga *vga, struct state_out *o)
{
    g_mutex_lock(&vga->lock);
    const uint8_t general[] = {
        vga->misc, vga->feature, vga->st1_toggle, vga->seq_index, vga->gc_index,
        vga->crtc_index, vga->ar_index, vga->ar_data_next, vga->pel_mask,
        vga->dac_read_index, vga->dac_write_index, vga->dac_sub, vga->dac_state,
    };
    state_out_bytes(o, general, sizeof(general));
    state_out_bytes(o, vga->seq, sizeof(vga->seq));
    state_out_bytes(o, vga->gc, sizeof(vga->gc));
    state_out_bytes(o, vga->crtc, sizeof(vga->crtc));
    state_out_bytes(o, vga->ar, sizeof(vga->ar));
    state_out_bytes(o, vga->dac_latch, sizeof(vga->dac_latch));
    state_out_bytes(o, vga->palette, sizeof(vga->palette));
    state_out_u32(o, vga->latch);
    state_out_u16(o, vga->vbe_index);
    for (unsigned i = 0; i < VBE_DISPI_INDEX_COUNT; i++)
        state_out_u16(o, vga->vbe[i]);
    state_out_u64(o, vga->vram_size);
    state_out_sparse(o, vga->vram, vga->vram_size);
    g_mutex_unlock(&vga->lock);
}

/* The VBE registers as dispi_write_locked() lets them be. */
static bool vbe_valid(const struct vga *vga, const uint16_t *r)
{
    if (((uint64_t)r[VBE_DISPI_INDEX_BANK] << 16) >= vga->vram_size)
        return false;
    if (!(r[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED))
        return true;
    unsigned xres = r[VBE_DISPI_INDEX_XRES], yres = r[VBE_DISPI_INDEX_YRES];
    unsigned bpp = r[VBE_DISPI_INDEX_BPP];
    uint64_t need = (uint64_t)xres * yres * (bpp == 4 ? 1 : vbe_bytes_per_pixel(bpp));
    return xres && yres && xres <= VBE_DISPI_MAX_XRES && yres <= VBE_DISPI_MAX_YRES &&
           vbe_bpp_valid(bpp) && need <= vga->vram_size &&
           r[VBE_DISPI_INDEX_VIRT_WIDTH] >= xres;
}

bool vga_load(struct vga *vga, struct state_in *in, GError **error)
{
    uint8_t g[13];
    state_in_bytes(in, g, sizeof(g));
    uint8_t seq[8], gc[16], crtc[32], ar[0x15], latch3[3];
    state_in_bytes(in, seq, sizeof(seq));
    state_in_bytes(in, gc, sizeof(gc));
    state_in_bytes(in, crtc, sizeof(crtc));
    state_in_bytes(in, ar, sizeof(ar));
    state_in_bytes(in, latch3, sizeof(latch3));
    g_autofree uint8_t *palette = g_malloc(sizeof(vga->palette));
    state_in_bytes(in, palette, sizeof(vga->palette));
    uint32_t latch = state_in_u32(in);
    uint16_t vbe_index = state_in_u16(in);
    uint16_t vbe[VBE_DISPI_INDEX_COUNT];
    for (unsigned i = 0; i < VBE_DISPI_INDEX_COUNT; i++)
        vbe[i] = state_in_u16(in);
    uint64_t vram_size = state_in_u64(in);
    if (in->short_read)
        return state_in_invalid(in, error, _("truncated"));
    if (vram_size != vga->vram_size)
        return state_in_invalid(in, error, _("%" PRIu64 " bytes of VRAM, this VGA has %zu"),
                                vram_size, vga->vram_size);
    if (g[11] > 2 || !vbe_valid(vga, vbe))
        return state_in_invalid(in, error, _("registers no guest could have written"));

    g_mutex_lock(&vga->lock);
    bool ok = state_in_sparse(in, vga->vram, vga->vram_size);
    vga->misc = g[0];
    vga->feature = g[1];
    vga->st1_toggle = g[2];
    vga->seq_index = g[3] & 7;
    vga->gc_index = g[4] & 15;
    vga->crtc_index = g[5] & 0x1f;
    vga->ar_index = g[6] & 0x3f;
    vga->ar_data_next = g[7];
    vga->pel_mask = g[8];
    vga->dac_read_index = g[9];
    vga->dac_write_index = g[10];
    vga->dac_sub = g[11];
    vga->dac_state = g[12];
    memcpy(vga->seq, seq, sizeof(seq));
    memcpy(vga->gc, gc, sizeof(gc));
    memcpy(vga->crtc, crtc, sizeof(crtc));
    memcpy(vga->ar, ar, sizeof(ar));
    memcpy(vga->dac_latch, latch3, sizeof(latch3));
    memcpy(vga->palette, palette, sizeof(vga->palette));
    vga->latch = latch;
    vga->vbe_index = vbe_index;
    memcpy(vga->vbe, vbe, sizeof(vbe));
    vga->vbe[VBE_DISPI_INDEX_ID] = MAX(MIN(vga->vbe[VBE_DISPI_INDEX_ID], VBE_DISPI_ID5), 0xb0c0);
    if (vga->vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED)
        vbe_update_virtual(vga);
    /* Everything on the screen is new to this process. */
    vga->full_update = true;
    vga->gen++;
    mark_dirty_locked(vga, 0, vga->vram_size);
    g_mutex_unlock(&vga->lock);
    return ok || state_in_invalid(in, error, _("VRAM is truncated"));
}
