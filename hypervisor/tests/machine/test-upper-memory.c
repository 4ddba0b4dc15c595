/* The i440FX PAM decoding behind the shadow BIOS area: which register
 * nibble governs which segment, and what each attribute setting maps. */
#include "machine/upper_memory.h"
#include "pci/pci_host.h"
#include "pci/pci.h"
#include "tests/support/test_vm.h"

#include <string.h>
#include <glib.h>

static void test_segments(void)
{
    uint32_t start, size, end = UPPER_MEMORY_SHADOW_START;
    /* The 13 segments tile 0xC0000-0xFFFFF in order, without gaps. */
    for (unsigned i = 0; i < UPPER_MEMORY_PAM_SEGMENTS; i++) {
        upper_memory_pam_segment(i, &start, &size);
        g_assert_cmphex(start, ==, end);
        g_assert_cmpuint(size, ==, i < 12 ? 0x4000 : 0x10000);
        g_assert_cmpuint(upper_memory_pam_index(start), ==, i);
        g_assert_cmpuint(upper_memory_pam_index(start + size - 1), ==, i);
        end = start + size;
    }
    g_assert_cmphex(end, ==, UPPER_MEMORY_END);
}

static void test_register_nibbles(void)
{
    /* PAM0 high nibble: F segment; PAM1 low: C0000, PAM1 high: C4000;
     * PAM6 high: EC000. */
    uint8_t pam[UPPER_MEMORY_PAM_REGS] = { 0x10, 0x21, 0, 0, 0, 0, 0x30 };
    g_assert_cmpuint(upper_memory_pam_attr(pam, 12), ==, PAM_READ_ENABLE);
    g_assert_cmpuint(upper_memory_pam_attr(pam, upper_memory_pam_index(0xc0000)), ==, PAM_READ_ENABLE);
    g_assert_cmpuint(upper_memory_pam_attr(pam, upper_memory_pam_index(0xc4000)), ==, PAM_WRITE_ENABLE);
    g_assert_cmpuint(upper_memory_pam_attr(pam, upper_memory_pam_index(0xc8000)), ==, 0);
    g_assert_cmpuint(upper_memory_pam_attr(pam, upper_memory_pam_index(0xe8000)), ==, 0);
    g_assert_cmpuint(upper_memory_pam_attr(pam, upper_memory_pam_index(0xec000)),
                     ==, PAM_READ_ENABLE | PAM_WRITE_ENABLE);
    /* PAM0's low nibble is reserved: it governs nothing. */
    uint8_t low_only[UPPER_MEMORY_PAM_REGS] = { 0x03 };
    for (unsigned i = 0; i < UPPER_MEMORY_PAM_SEGMENTS; i++)
        g_assert_cmpuint(upper_memory_pam_attr(low_only, i), ==, 0);
}

static void test_sources(void)
{
    g_assert_cmpint(upper_memory_pam_source(0, true), ==, SHADOW_ROM);
    g_assert_cmpint(upper_memory_pam_source(0, false), ==, SHADOW_NONE);
    /* Write-only: reads still come from behind, the writes go to RAM. */
    g_assert_cmpint(upper_memory_pam_source(PAM_WRITE_ENABLE, true), ==, SHADOW_ROM);
    g_assert_cmpint(upper_memory_pam_source(PAM_WRITE_ENABLE, false), ==, SHADOW_NONE);
    g_assert_cmpint(upper_memory_pam_source(PAM_READ_ENABLE, true), ==, SHADOW_RAM_READONLY);
    g_assert_cmpint(upper_memory_pam_source(PAM_READ_ENABLE | PAM_WRITE_ENABLE, false), ==, SHADOW_RAM);
}

/* ---- the shadow area on a VM, programmed through the chipset ---------- */

#define ROM_SIZE 0x20000u

struct fixture {
    struct vm *vm;
    struct pci_bus *pci;
    struct upper_memory *um;
    uint8_t rom[ROM_SIZE];
    uint8_t *ram;
};

static void pam_changed(void *opaque, const uint8_t *pam)
{
    upper_memory_set_pam(opaque, pam);
}

static void fixture_setup(struct fixture *f, gconstpointer data)
{
    f->vm = test_vm_new(16 << 20);
    test_vm_record_slots(f->vm);
    f->ram = vm_memory(f->vm)->region[0].hva;
    for (unsigned i = 0; i < ROM_SIZE; i++)
        f->rom[i] = (uint8_t)(i * 7 + 1);
    memset(f->ram + UPPER_MEMORY_SHADOW_START, 0x5a, UPPER_MEMORY_END - UPPER_MEMORY_SHADOW_START);
    f->pci = pci_bus_create(f->vm);
    g_autoptr(GError) err = NULL;
    f->um = upper_memory_create(f->vm, &err);
    g_assert_no_error(err);
    g_assert_true(upper_memory_enable_pam(f->um, f->rom, ROM_SIZE, &err));
    g_assert_no_error(err);
    pci_host_set_pam_listener(pci_bus_host(f->pci), pam_changed, f->um);
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
    pci_bus_free(f->pci);
    upper_memory_free(f->um);
    test_vm_free(f->vm);
}

static void pam_write(struct fixture *f, unsigned reg, uint8_t v)
{
    test_pio_write(f->vm, 0xcf8, 0x80000000u | (reg & 0xfc), 4);
    test_pio_write(f->vm, 0xcfc + (reg & 3), v, 1);
}

/* What the guest would see at gpa: through a slot if one is mapped
 * there, otherwise through the MMIO exit. */
static uint8_t guest_read(struct fixture *f, uint32_t gpa)
{
    const struct test_slot *s = test_vm_slot_at(f->vm, gpa);
    if (s)
        return ((uint8_t *)s->hva)[gpa - s->gpa];
    return (uint8_t)test_mmio_read(f->vm, gpa, 1);
}

static void guest_write(struct fixture *f, uint32_t gpa, uint8_t v)
{
    const struct test_slot *s = test_vm_slot_at(f->vm, gpa);
    if (s && !s->readonly)
        ((uint8_t *)s->hva)[gpa - s->gpa] = v;
    else
        test_mmio_write(f->vm, gpa, v, 1);   /* KVM exits on read-only slots */
}

static void test_power_on_reads_rom(struct fixture *f, gconstpointer data)
{
    /* Low RAM and the VGA range stay RAM. */
    g_assert_nonnull(test_vm_slot_at(f->vm, 0x9ffff));
    g_assert_nonnull(test_vm_slot_at(f->vm, 0xa0000));
    g_assert_nonnull(test_vm_slot_at(f->vm, 0x100000));
    /* The BIOS's last 128 KiB, read-only, so code can run from it. */
    const struct test_slot *s = test_vm_slot_at(f->vm, 0xffff0);
    g_assert_nonnull(s);
    g_assert_true(s->readonly);
    g_assert_cmpuint(guest_read(f, 0xe0000), ==, f->rom[0]);
    g_assert_cmpuint(guest_read(f, 0xffff0), ==, f->rom[ROM_SIZE - 16]);
    guest_write(f, 0xffff0, 0x00);
    g_assert_cmpuint(guest_read(f, 0xffff0), ==, f->rom[ROM_SIZE - 16]);
    g_assert_cmpuint(f->ram[0xffff0], ==, 0x5a);
    /* Nothing behind the option ROM area. */
    g_assert_null(test_vm_slot_at(f->vm, 0xc0000));
    g_assert_cmpuint(guest_read(f, 0xc0000), ==, 0xff);
    g_assert_cmphex(test_mmio_read(f->vm, 0xc8000, 4), ==, 0xffffffff);
}

/* SeaBIOS's sequence: open everything, copy, write-protect. */
static void test_shadow_then_write_protect(struct fixture *f, gconstpointer data)
{
    for (unsigned r = 0x5a; r <= 0x5f; r++)
        pam_write(f, r, 0x33);
    pam_write(f, 0x59, 0x30);
    g_assert_cmpuint(guest_read(f, 0xf0000), ==, 0x5a);     /* RAM now */
    guest_write(f, 0xf0000, 0x11);
    guest_write(f, 0xc0000, 0x22);
    g_assert_cmpuint(f->ram[0xf0000], ==, 0x11);
    g_assert_cmpuint(f->ram[0xc0000], ==, 0x22);
    g_assert_false(test_vm_slot_at(f->vm, 0xf0000)->readonly);

    pam_write(f, 0x59, 0x10);          /* F segment: read-only RAM */
    g_assert_true(test_vm_slot_at(f->vm, 0xf0000)->readonly);
    guest_write(f, 0xf0000, 0x99);
    g_assert_cmpuint(guest_read(f, 0xf0000), ==, 0x11);
    g_assert_cmpuint(f->ram[0xf0000], ==, 0x11);
    /* Straddling C0000-C3FFF (writable) and C4000 (made read-only). */
    pam_write(f, 0x5a, 0x13);
    test_mmio_write(f->vm, 0xc3ffe, 0xddccbbaa, 4);
    g_assert_cmpuint(f->ram[0xc3ffe], ==, 0xaa);
    g_assert_cmpuint(f->ram[0xc3fff], ==, 0xbb);
    g_assert_cmpuint(f->ram[0xc4000], ==, 0x5a);
    g_assert_cmpuint(f->ram[0xc4001], ==, 0x5a);
}

static void test_write_only_and_reset(struct fixture *f, gconstpointer data)
{
    /* Write-only: reads from the ROM, writes into the RAM below it (how
     * a BIOS copies itself without a second alias). */
    pam_write(f, 0x59, 0x20);
    guest_write(f, 0xf0001, 0x77);
    g_assert_cmpuint(guest_read(f, 0xf0001), ==, f->rom[0x10001]);
    g_assert_cmpuint(f->ram[0xf0001], ==, 0x77);
    pam_write(f, 0x59, 0x30);
    g_assert_cmpuint(guest_read(f, 0xf0001), ==, 0x77);

    /* A hard reset returns the chipset, and so the area, to ROM. */
    test_vm_platform_reset(f->vm);
    test_pio_write(f->vm, 0xcf8, 0x80000058u, 4);
    g_assert_cmphex(test_pio_read(f->vm, 0xcfc + 1, 1), ==, 0);
    g_assert_cmpuint(guest_read(f, 0xf0001), ==, f->rom[0x10001]);
    g_assert_true(test_vm_slot_at(f->vm, 0xf0001)->readonly);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/upper-memory/segments", test_segments);
    g_test_add_func("/upper-memory/register-nibbles", test_register_nibbles);
    g_test_add_func("/upper-memory/sources", test_sources);
#define ADD(name, fn) g_test_add("/upper-memory/" name, struct fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("power-on-reads-rom", test_power_on_reads_rom);
    ADD("shadow-then-write-protect", test_shadow_then_write_protect);
    ADD("write-only-and-reset", test_write_only_and_reset);
    return g_test_run();
}
