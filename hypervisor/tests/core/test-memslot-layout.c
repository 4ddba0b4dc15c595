/* The slots of the normal and the SMM address spaces, cut from the
 * platform's mappings around the SMRAM overlays. */
#include <glib.h>
#include <linux/kvm.h>

#include "core/memslot_layout.h"

/* Host addresses are only compared, never dereferenced. */
#define HVA(gpa) ((uint8_t *)(uintptr_t)(0x7f0000000000ULL + (gpa)))

static GArray *layout(const struct memslot_mapping *maps, unsigned nmaps,
                      const struct memslot_overlay *ov, unsigned nov, unsigned as)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(struct memslot_piece));
    memslot_layout(maps, nmaps, ov, nov, as, out);
    return out;
}

static void assert_piece(GArray *a, guint i, uint64_t gpa, uint64_t size, int mapping)
{
    g_assert_cmpuint(i, <, a->len);
    const struct memslot_piece *p = &g_array_index(a, struct memslot_piece, i);
    g_assert_cmphex(p->gpa, ==, gpa);
    g_assert_cmphex(p->size, ==, size);
    g_assert_true(p->hva == HVA(gpa));
    g_assert_cmpint(p->mapping, ==, mapping);
}

/* The PC's low RAM as upper_memory.c cuts it, with the VGA window open
 * (no slot at 0xA0000) and the BIOS ROM slot read-only. */
static const struct memslot_mapping pc_maps[] = {
    { true, 0, 0xa0000, HVA(0), 0 },
    { false, 0, 0, NULL, 0 },               /* a freed handle */
    { true, 0x100000, 0x7f00000, HVA(0x100000), 0 },
    { true, 0xf0000, 0x10000, HVA(0xf0000), KVM_MEM_READONLY },
};

static void test_no_overlays(void)
{
    g_autoptr(GArray) a = layout(pc_maps, G_N_ELEMENTS(pc_maps), NULL, 0, MEMSLOT_AS_NORMAL);
    g_assert_cmpuint(a->len, ==, 3);
    assert_piece(a, 0, 0, 0xa0000, 0);
    assert_piece(a, 1, 0x100000, 0x7f00000, 2);
    assert_piece(a, 2, 0xf0000, 0x10000, 3);
    g_assert_cmphex(g_array_index(a, struct memslot_piece, 2).flags, ==, KVM_MEM_READONLY);
    /* The SMM view repeats the normal one. */
    g_autoptr(GArray) b = layout(pc_maps, G_N_ELEMENTS(pc_maps), NULL, 0, MEMSLOT_AS_SMM);
    g_assert_cmpuint(b->len, ==, a->len);
    for (guint i = 0; i < a->len; i++)
        g_assert_true(memslot_piece_equal(&g_array_index(a, struct memslot_piece, i),
                                          &g_array_index(b, struct memslot_piece, i)));
}

static void test_legacy_window(void)
{
    struct memslot_overlay ov = { 0xa0000, 0x20000, HVA(0xa0000),
                                  { MEMSLOT_VIEW_PASS, MEMSLOT_VIEW_RAM } };
    /* Closed: the normal view keeps the VGA's hole, SMM sees RAM. */
    g_autoptr(GArray) n = layout(pc_maps, G_N_ELEMENTS(pc_maps), &ov, 1, MEMSLOT_AS_NORMAL);
    g_assert_cmpuint(n->len, ==, 3);
    g_autoptr(GArray) s = layout(pc_maps, G_N_ELEMENTS(pc_maps), &ov, 1, MEMSLOT_AS_SMM);
    g_assert_cmpuint(s->len, ==, 4);
    assert_piece(s, 3, 0xa0000, 0x20000, -1);
    /* Open: both see RAM. */
    ov.view[MEMSLOT_AS_NORMAL] = MEMSLOT_VIEW_RAM;
    g_autoptr(GArray) o = layout(pc_maps, G_N_ELEMENTS(pc_maps), &ov, 1, MEMSLOT_AS_NORMAL);
    g_assert_cmpuint(o->len, ==, 4);
    assert_piece(o, 3, 0xa0000, 0x20000, -1);
}

/* Where a platform mapped RAM under the window (no VGA), the overlay's
 * RAM replaces that slot instead of overlapping it. */
static void test_legacy_over_ram(void)
{
    const struct memslot_mapping maps[] = { { true, 0, 0x100000, HVA(0), 0 } };
    struct memslot_overlay ov = { 0xa0000, 0x20000, HVA(0xa0000),
                                  { MEMSLOT_VIEW_PASS, MEMSLOT_VIEW_RAM } };
    g_autoptr(GArray) s = layout(maps, 1, &ov, 1, MEMSLOT_AS_SMM);
    g_assert_cmpuint(s->len, ==, 3);
    assert_piece(s, 0, 0, 0xa0000, 0);
    assert_piece(s, 1, 0xc0000, 0x40000, 0);
    assert_piece(s, 2, 0xa0000, 0x20000, -1);
    g_autoptr(GArray) n = layout(maps, 1, &ov, 1, MEMSLOT_AS_NORMAL);
    g_assert_cmpuint(n->len, ==, 1);
    assert_piece(n, 0, 0, 0x100000, 0);
}

static void test_tseg(void)
{
    struct memslot_overlay ov[2] = {
        { 0xa0000, 0x20000, HVA(0xa0000), { MEMSLOT_VIEW_PASS, MEMSLOT_VIEW_RAM } },
        { 0x7800000, 0x800000, HVA(0x7800000), { MEMSLOT_VIEW_HOLE, MEMSLOT_VIEW_RAM } },
    };
    /* Normal view: low RAM ends where TSEG starts, nothing over TSEG. */
    g_autoptr(GArray) n = layout(pc_maps, G_N_ELEMENTS(pc_maps), ov, 2, MEMSLOT_AS_NORMAL);
    g_assert_cmpuint(n->len, ==, 3);
    assert_piece(n, 1, 0x100000, 0x7700000, 2);
    for (guint i = 0; i < n->len; i++) {
        const struct memslot_piece *p = &g_array_index(n, struct memslot_piece, i);
        g_assert_true(p->gpa + p->size <= 0x7800000 || p->gpa >= 0x8000000);
    }
    /* SMM view: the same cut, TSEG's RAM in its own slot. */
    g_autoptr(GArray) s = layout(pc_maps, G_N_ELEMENTS(pc_maps), ov, 2, MEMSLOT_AS_SMM);
    g_assert_cmpuint(s->len, ==, 5);
    assert_piece(s, 1, 0x100000, 0x7700000, 2);
    assert_piece(s, 3, 0xa0000, 0x20000, -1);
    assert_piece(s, 4, 0x7800000, 0x800000, -1);
}

/* An overlay in the middle of a mapping cuts it in two; one covering a
 * whole mapping leaves nothing of it. */
static void test_cuts(void)
{
    const struct memslot_mapping maps[] = {
        { true, 0x100000, 0x300000, HVA(0x100000), KVM_MEM_LOG_DIRTY_PAGES },
        { true, 0x500000, 0x100000, HVA(0x500000), 0 },
    };
    struct memslot_overlay ov[2] = {
        { 0x200000, 0x100000, HVA(0x200000), { MEMSLOT_VIEW_HOLE, MEMSLOT_VIEW_PASS } },
        { 0x4f0000, 0x200000, HVA(0x4f0000), { MEMSLOT_VIEW_HOLE, MEMSLOT_VIEW_PASS } },
    };
    g_autoptr(GArray) n = layout(maps, 2, ov, 2, MEMSLOT_AS_NORMAL);
    g_assert_cmpuint(n->len, ==, 2);
    assert_piece(n, 0, 0x100000, 0x100000, 0);
    assert_piece(n, 1, 0x300000, 0x100000, 0);
    g_assert_cmphex(g_array_index(n, struct memslot_piece, 1).flags, ==, KVM_MEM_LOG_DIRTY_PAGES);
    g_autoptr(GArray) s = layout(maps, 2, ov, 2, MEMSLOT_AS_SMM);
    g_assert_cmpuint(s->len, ==, 2);
    assert_piece(s, 0, 0x100000, 0x300000, 0);
    assert_piece(s, 1, 0x500000, 0x100000, 1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/memslot-layout/no-overlays", test_no_overlays);
    g_test_add_func("/memslot-layout/legacy-window", test_legacy_window);
    g_test_add_func("/memslot-layout/legacy-over-ram", test_legacy_over_ram);
    g_test_add_func("/memslot-layout/tseg", test_tseg);
    g_test_add_func("/memslot-layout/cuts", test_cuts);
    return g_test_run();
}
