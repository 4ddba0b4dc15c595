#include "upper_memory.h"

#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

#include "core/vm_core.h"

#define SHADOW_SIZE   (UPPER_MEMORY_END - UPPER_MEMORY_SHADOW_START)
#define SMALL_SEGMENT 0x4000u      /* C0000-EFFFF: 16 KiB each */
#define SMALL_SEGMENTS 12

enum { SLOT_BELOW_VGA, SLOT_VGA, SLOT_SHADOW, SLOT_ABOVE_1M, LOW_SLOTS };

struct upper_memory {
    struct vm *vm;
    uint8_t *ram;             /* host address of guest-physical 0 */
    int low_slot[LOW_SLOTS];  /* -1 when not mapped */

    /* PAM mode (rom != NULL): one slot per segment, guarded by lock
     * against the MMIO handler on other vCPUs. */
    GMutex lock;
    const uint8_t *rom;       /* what appears at rom_start .. 1 MiB */
    uint32_t rom_start;
    uint8_t pam[UPPER_MEMORY_PAM_REGS];
    enum shadow_source source[UPPER_MEMORY_PAM_SEGMENTS];
    int seg_slot[UPPER_MEMORY_PAM_SEGMENTS];
};

/* ------------------------------------------------------------ decoding */

void upper_memory_pam_segment(unsigned i, uint32_t *start, uint32_t *size)
{
    if (i < SMALL_SEGMENTS) {
        *start = UPPER_MEMORY_SHADOW_START + i * SMALL_SEGMENT;
        *size = SMALL_SEGMENT;
    } else {
        *start = 0xf0000u;
        *size = 0x10000u;
    }
}

unsigned upper_memory_pam_index(uint32_t addr)
{
    if (addr < UPPER_MEMORY_SHADOW_START)
        return 0;
    unsigned i = (addr - UPPER_MEMORY_SHADOW_START) / SMALL_SEGMENT;
    return MIN(i, (unsigned)SMALL_SEGMENTS);
}

/* PAM1..PAM6 hold two segments each, the lower address in the low nibble;
 * PAM0's high nibble is the F segment. */
unsigned upper_memory_pam_attr(const uint8_t pam[UPPER_MEMORY_PAM_REGS], unsigned i)
{
    if (i >= SMALL_SEGMENTS)
        return (pam[0] >> 4) & 3;
    uint8_t reg = pam[1 + i / 2];
    return (i % 2 ? reg >> 4 : reg) & 3;
}

enum shadow_source upper_memory_pam_source(unsigned attr, bool rom)
{
    if (attr & PAM_READ_ENABLE)
        return (attr & PAM_WRITE_ENABLE) ? SHADOW_RAM : SHADOW_RAM_READONLY;
    return rom ? SHADOW_ROM : SHADOW_NONE;
}

/* ------------------------------------------------------------- mapping */

static int map_ram(struct upper_memory *um, uint64_t start, uint64_t end, bool readonly)
{
    return vm_map_memory(um->vm, start, end - start, um->ram + start, readonly, false);
}

struct upper_memory *upper_memory_create(struct vm *vm, GError **error)
{
    const struct guest_memory *m = vm_memory(vm);
    const struct guest_region *low = &m->region[0];
    if (m->nregions == 0 || low->gpa != 0 || low->size <= UPPER_MEMORY_END) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    _("Guest RAM does not cover the first megabyte"));
        return NULL;
    }
    struct upper_memory *um = g_new0(struct upper_memory, 1);
    um->vm = vm;
    um->ram = low->hva;
    g_mutex_init(&um->lock);
    for (unsigned i = 0; i < UPPER_MEMORY_PAM_SEGMENTS; i++)
        um->seg_slot[i] = -1;

    vm_unmap_memory(vm, 0);
    um->low_slot[SLOT_BELOW_VGA] = map_ram(um, 0, UPPER_MEMORY_VGA_START, false);
    um->low_slot[SLOT_VGA] = map_ram(um, UPPER_MEMORY_VGA_START, UPPER_MEMORY_SHADOW_START, false);
    um->low_slot[SLOT_SHADOW] = map_ram(um, UPPER_MEMORY_SHADOW_START, UPPER_MEMORY_END, false);
    um->low_slot[SLOT_ABOVE_1M] = map_ram(um, UPPER_MEMORY_END, low->size, false);
    for (unsigned i = 0; i < LOW_SLOTS; i++) {
        if (um->low_slot[i] < 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                        _("Cannot map low guest RAM around the upper memory area"));
            upper_memory_free(um);
            return NULL;
        }
    }
    return um;
}

void upper_memory_free(struct upper_memory *um)
{
    if (!um)
        return;
    g_mutex_clear(&um->lock);
    g_free(um);
}

bool upper_memory_open_vga_window(struct upper_memory *um, GError **error)
{
    if (um->low_slot[SLOT_VGA] < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS, _("The VGA window is already open"));
        return false;
    }
    vm_unmap_memory(um->vm, um->low_slot[SLOT_VGA]);
    um->low_slot[SLOT_VGA] = -1;
    return true;
}

/* Point segment i's slot at what its source says.  Lock held. */
static void remap_segment(struct upper_memory *um, unsigned i, enum shadow_source src)
{
    if (um->source[i] == src && (um->seg_slot[i] >= 0 || src == SHADOW_NONE))
        return;
    uint32_t start, size;
    upper_memory_pam_segment(i, &start, &size);
    if (um->seg_slot[i] >= 0)
        vm_unmap_memory(um->vm, um->seg_slot[i]);
    um->seg_slot[i] = -1;
    um->source[i] = src;
    switch (src) {
    case SHADOW_NONE:
        return;     /* the MMIO handler answers */
    case SHADOW_RAM:
    case SHADOW_RAM_READONLY:
        um->seg_slot[i] = map_ram(um, start, start + size, src == SHADOW_RAM_READONLY);
        break;
    case SHADOW_ROM:
        um->seg_slot[i] = vm_map_memory(um->vm, start, size,
                                        (void *)(um->rom + (start - um->rom_start)), true, false);
        break;
    }
    /* Without the slot every access exits, and the MMIO handler still
     * gives the right answer, only slower (code cannot run from there). */
    if (um->seg_slot[i] < 0)
        g_warning("shadow RAM segment 0x%05x: no memory slot", start);
}

void upper_memory_set_pam(struct upper_memory *um, const uint8_t pam[UPPER_MEMORY_PAM_REGS])
{
    g_mutex_lock(&um->lock);
    if (um->rom) {
        memcpy(um->pam, pam, sizeof(um->pam));
        for (unsigned i = 0; i < UPPER_MEMORY_PAM_SEGMENTS; i++) {
            uint32_t start, size;
            upper_memory_pam_segment(i, &start, &size);
            remap_segment(um, i, upper_memory_pam_source(upper_memory_pam_attr(pam, i),
                                                         start >= um->rom_start));
        }
    }
    g_mutex_unlock(&um->lock);
}

/* Accesses that exit: writes to read-only slots and anything where no slot
 * is mapped.  Byte by byte, since an access may straddle two segments. */
static uint8_t shadow_read_byte(struct upper_memory *um, uint32_t addr)
{
    unsigned attr = upper_memory_pam_attr(um->pam, upper_memory_pam_index(addr));
    if (attr & PAM_READ_ENABLE)
        return um->ram[addr];
    if (addr >= um->rom_start)
        return um->rom[addr - um->rom_start];
    return 0xff;
}

static void shadow_write_byte(struct upper_memory *um, uint32_t addr, uint8_t value)
{
    unsigned attr = upper_memory_pam_attr(um->pam, upper_memory_pam_index(addr));
    if (attr & PAM_WRITE_ENABLE)
        um->ram[addr] = value;
}

static uint64_t shadow_read(void *opaque, uint64_t offset, unsigned size)
{
    struct upper_memory *um = opaque;
    uint64_t v = 0;
    g_mutex_lock(&um->lock);
    for (unsigned b = 0; b < size && offset + b < SHADOW_SIZE; b++)
        v |= (uint64_t)shadow_read_byte(um, UPPER_MEMORY_SHADOW_START + (uint32_t)(offset + b)) << (8 * b);
    g_mutex_unlock(&um->lock);
    return v;
}

static void shadow_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct upper_memory *um = opaque;
    g_mutex_lock(&um->lock);
    for (unsigned b = 0; b < size && offset + b < SHADOW_SIZE; b++)
        shadow_write_byte(um, UPPER_MEMORY_SHADOW_START + (uint32_t)(offset + b),
                          (uint8_t)(value >> (8 * b)));
    g_mutex_unlock(&um->lock);
}

static const struct io_ops shadow_ops = { .read = shadow_read, .write = shadow_write };

bool upper_memory_enable_pam(struct upper_memory *um, const uint8_t *rom, size_t rom_size,
                             GError **error)
{
    if (um->rom || um->low_slot[SLOT_SHADOW] < 0 || !rom || rom_size == 0 ||
        rom_size > UPPER_MEMORY_END - 0xe0000u) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    _("Cannot put the BIOS area under shadow RAM control"));
        return false;
    }
    if (!iobus_register(vm_mmio_bus(um->vm), UPPER_MEMORY_SHADOW_START, SHADOW_SIZE,
                        &shadow_ops, um, "shadow-ram")) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                    _("The BIOS area 0xC0000-0xFFFFF is already in use"));
        return false;
    }
    vm_unmap_memory(um->vm, um->low_slot[SLOT_SHADOW]);
    um->low_slot[SLOT_SHADOW] = -1;
    g_mutex_lock(&um->lock);
    um->rom = rom;
    um->rom_start = UPPER_MEMORY_END - (uint32_t)rom_size;
    for (unsigned i = 0; i < UPPER_MEMORY_PAM_SEGMENTS; i++)
        um->source[i] = SHADOW_NONE;
    g_mutex_unlock(&um->lock);
    static const uint8_t power_on[UPPER_MEMORY_PAM_REGS] = { 0 };
    upper_memory_set_pam(um, power_on);
    return true;
}
