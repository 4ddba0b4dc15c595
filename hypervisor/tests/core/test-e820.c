/* The e820 map for typical guest sizes: sorted, no overlaps, the holes
 * where the PC has them, and RAM adding up to the guest's RAM. */
#include <glib.h>

#include "core/e820.h"
#include "config/pc_layout.h"

#define MIB (1024ULL * 1024ULL)
#define GIB (1024ULL * MIB)

static void check_map(const struct e820_entry *e, unsigned n, const struct guest_memory *m,
                      bool direct_boot)
{
    uint64_t ram = 0;
    g_assert_cmpuint(n, >, 0);
    for (unsigned i = 0; i < n; i++) {
        g_assert_cmpuint(e[i].size, >, 0);
        g_assert_true(e[i].type == E820_RAM || e[i].type == E820_RESERVED);
        if (i > 0)
            g_assert_cmpuint(e[i - 1].addr + e[i - 1].size, <=, e[i].addr);
        if (e[i].type != E820_RAM)
            continue;
        ram += e[i].size;
        /* Every RAM byte is backed by guest memory, and nothing RAM lies in
         * the PCI hole or the interrupt controllers. */
        g_assert_nonnull(guest_memory_ptr(m, e[i].addr, e[i].size));
        g_assert_true(e[i].addr + e[i].size <= GUEST_PCI_HOLE_START ||
                      e[i].addr >= GUEST_HIGH_RAM_START);
        if (direct_boot)
            g_assert_true(e[i].addr + e[i].size <= PC_EBDA_START || e[i].addr >= PC_BIOS_AREA_END);
    }
    /* Direct boot hides the EBDA and BIOS area from RAM; firmware's view
     * does not. */
    uint64_t hidden = direct_boot ? PC_BIOS_AREA_END - PC_EBDA_START : 0;
    g_assert_cmpuint(ram + hidden, ==, m->ram_size);
}

static const struct e820_entry *find(const struct e820_entry *e, unsigned n, uint64_t addr)
{
    for (unsigned i = 0; i < n; i++)
        if (addr >= e[i].addr && addr - e[i].addr < e[i].size)
            return &e[i];
    return NULL;
}

static void test_size(gconstpointer data)
{
    uint64_t size = *(const uint64_t *)data;
    struct guest_memory m;
    g_autoptr(GError) error = NULL;
    g_assert_true(guest_memory_alloc(&m, size, &error));

    struct e820_entry e[E820_MAX_ENTRIES];
    unsigned n = e820_build(&m, e, G_N_ELEMENTS(e));
    check_map(e, n, &m, true);

    g_assert_cmpuint(e[0].addr, ==, 0);
    g_assert_cmpuint(e[0].size, ==, PC_EBDA_START);
    g_assert_cmpuint(e[0].type, ==, E820_RAM);
    const struct e820_entry *bios = find(e, n, PC_BIOS_AREA_START);
    g_assert_nonnull(bios);
    g_assert_cmpuint(bios->type, ==, E820_RESERVED);
    g_assert_cmpuint(bios->addr, ==, PC_EBDA_START);
    const struct e820_entry *low = find(e, n, PC_BIOS_AREA_END);
    g_assert_nonnull(low);
    g_assert_cmpuint(low->type, ==, E820_RAM);
    g_assert_cmpuint(low->addr + low->size, ==, MIN(size, GUEST_PCI_HOLE_START));

    /* The PCI hole is no RAM; the APICs and firmware are reserved. */
    g_assert_null(find(e, n, PC_PCI_MMIO_WINDOW_START));
    g_assert_null(find(e, n, PC_PCI_MMIO_WINDOW_END));
    const struct e820_entry *top = find(e, n, PC_IOAPIC_ADDR);
    g_assert_nonnull(top);
    g_assert_cmpuint(top->type, ==, E820_RESERVED);
    g_assert_true(find(e, n, PC_LAPIC_ADDR) == top);
    g_assert_true(find(e, n, 0xfffffff0) == top);

    const struct e820_entry *high = find(e, n, GUEST_HIGH_RAM_START);
    if (size > GUEST_PCI_HOLE_START) {
        g_assert_nonnull(high);
        g_assert_cmpuint(high->type, ==, E820_RAM);
        g_assert_cmpuint(high->size, ==, size - GUEST_PCI_HOLE_START);
    } else {
        g_assert_null(high);
    }

    /* Too little room is refused rather than truncated. */
    g_assert_cmpuint(e820_build(&m, e, n - 1), ==, 0);

    /* The firmware view. */
    size_t len;
    g_autofree struct e820_entry *fw = e820_fw_cfg_blob(&m, &len);
    g_assert_cmpuint(len % 20, ==, 0);
    g_assert_cmpuint(sizeof(struct e820_entry), ==, 20);
    unsigned fn = (unsigned)(len / sizeof(*fw));
    check_map(fw, fn, &m, false);
    g_assert_cmpuint(fw[0].addr, ==, 0);
    g_assert_cmpuint(fw[0].size, ==, m.low_size);

    guest_memory_free(&m);
}

int main(int argc, char **argv)
{
    static const uint64_t sizes[] = { 256 * MIB, 3 * GIB, 3 * GIB + 512 * MIB, 8 * GIB };
    g_test_init(&argc, &argv, NULL);
    for (unsigned i = 0; i < G_N_ELEMENTS(sizes); i++) {
        g_autofree char *path = g_strdup_printf("/e820/%" G_GUINT64_FORMAT "M", (guint64)(sizes[i] / MIB));
        g_test_add_data_func(path, &sizes[i], test_size);
    }
    return g_test_run();
}
