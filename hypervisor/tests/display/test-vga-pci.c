/* The VGA on a VM's buses: PCI identity and BARs, the expansion ROM
 * serving the VGA BIOS, VRAM/MMIO BARs, legacy ports and window, the
 * refresh timer and platform reset. */
#include <glib.h>
#include <string.h>

#include <glib/gstdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "display/vga.h"
#include "display/display.h"
#include "display/framebuffer.h"
#include "vnc_test_client.h"
#include "pci/pci.h"
#include "tests/support/test_vm.h"

struct fixture {
    struct vm *vm;
    struct pci_bus *bus;
    struct vga *vga;
    unsigned slot;
};

static void setup(struct fixture *f, gconstpointer data)
{
    f->vm = test_vm_new(64u << 20);
    f->bus = pci_bus_create(f->vm);
    GError *error = NULL;
    f->vga = vga_pci_create(f->vm, f->bus, data, &error);
    g_assert_no_error(error);
    g_assert_nonnull(f->vga);
    f->slot = PCI_MAX_SLOTS;
    for (unsigned s = 0; s < PCI_MAX_SLOTS; s++)
        if (pci_config_read(f->bus, s, 0, PCI_VENDOR_ID, 4) == 0x11111234)
            f->slot = s;
    g_assert_cmpuint(f->slot, <, PCI_MAX_SLOTS);
}

static void teardown(struct fixture *f, gconstpointer data)
{
    /* The bus keeps a pointer to the device: free the bus first. */
    pci_bus_free(f->bus);
    vga_pci_destroy(f->vga);
    test_vm_free(f->vm);
}

static uint32_t cfg(struct fixture *f, unsigned off, unsigned size)
{
    return pci_config_read(f->bus, f->slot, 0, off, size);
}

static void cfg_write(struct fixture *f, unsigned off, uint32_t v, unsigned size)
{
    pci_config_write(f->bus, f->slot, 0, off, v, size);
}

static void test_identity_and_bars(struct fixture *f, gconstpointer data)
{
    g_assert_cmphex(cfg(f, PCI_CLASS_DEVICE, 2), ==, 0x0300);
    uint32_t bar0 = cfg(f, PCI_BAR0, 4), bar2 = cfg(f, PCI_BAR0 + 8, 4);
    g_assert_cmphex(bar0 & 0xf, ==, 0x8); /* memory, 32-bit, prefetchable */
    g_assert_cmphex(bar2 & 0xf, ==, 0x0);
    /* Sizing. */
    cfg_write(f, PCI_BAR0, 0xffffffff, 4);
    g_assert_cmphex(cfg(f, PCI_BAR0, 4), ==, ~(uint32_t)(VGA_VRAM_SIZE_DEFAULT - 1) | 0x8);
    cfg_write(f, PCI_BAR0, bar0, 4);
    cfg_write(f, PCI_BAR0 + 8, 0xffffffff, 4);
    g_assert_cmphex(cfg(f, PCI_BAR0 + 8, 4), ==, ~(uint32_t)(VGA_MMIO_SIZE - 1));
    cfg_write(f, PCI_BAR0 + 8, bar2, 4);
    cfg_write(f, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);

    /* BAR2: DISPI and the VGA ports as MMIO. */
    uint64_t mmio = bar2 & ~0xfu;
    g_assert_cmphex(test_mmio_read(f->vm, mmio + VGA_MMIO_DISPI, 2), ==, 0xb0c5);
    g_assert_cmphex(test_mmio_read(f->vm, mmio + VGA_MMIO_DISPI + 2 * VBE_DISPI_INDEX_VIDEO_MEMORY_64K, 2),
                    ==, VGA_VRAM_SIZE_DEFAULT >> 16);
    /* BAR0: VRAM (here without a KVM slot, through the slow path). */
    uint64_t vram = bar0 & ~0xfu;
    test_mmio_write(f->vm, vram + 0x1234, 0xdeadbeef, 4);
    g_assert_cmphex(test_mmio_read(f->vm, vram + 0x1234, 4), ==, 0xdeadbeef);
    uint32_t v;
    memcpy(&v, vga_vram(f->vga) + 0x1234, 4);
    g_assert_cmphex(v, ==, 0xdeadbeef);
}

static void test_rom(struct fixture *f, gconstpointer data)
{
    gchar *bios;
    gsize len;
    if (!g_file_get_contents(VGA_ROM_PATH_DEFAULT, &bios, &len, NULL)) {
        g_test_skip("no " VGA_ROM_PATH_DEFAULT " (package seabios)");
        return;
    }
    cfg_write(f, PCI_ROM_ADDRESS, 0xfffff800, 4);
    uint32_t mask = cfg(f, PCI_ROM_ADDRESS, 4);
    uint32_t size = ~(mask & ~1u) + 1;
    g_assert_cmpuint(size, >=, len);
    g_assert_cmpuint(size & (size - 1), ==, 0);
    const uint64_t base = 0xfe000000;
    cfg_write(f, PCI_ROM_ADDRESS, (uint32_t)base | 1, 4);
    /* Not decoding until memory space is enabled. */
    g_assert_cmphex(test_mmio_read(f->vm, base, 2), ==, 0xffff);
    cfg_write(f, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    g_assert_cmphex(test_mmio_read(f->vm, base, 2), ==, 0xaa55); /* option ROM signature */
    for (gsize i = 0; i < len; i += 509)
        g_assert_cmphex(test_mmio_read(f->vm, base + i, 1), ==, (uint8_t)bios[i]);
    /* Disabling the ROM unmaps it. */
    cfg_write(f, PCI_ROM_ADDRESS, (uint32_t)base, 4);
    g_assert_cmphex(test_mmio_read(f->vm, base, 2), ==, 0xffff);
    g_free(bios);
}

static void test_legacy_ports(struct fixture *f, gconstpointer data)
{
    /* A word write to an index port sets index and data. */
    test_pio_write(f->vm, 0x3c4, 0x0f02, 2);
    test_pio_write(f->vm, 0x3c4, 0x04, 1); /* memory mode: sequential */
    test_pio_write(f->vm, 0x3c5, 0x06, 1);
    test_pio_write(f->vm, 0x3c4, 0x02, 1);
    g_assert_cmphex(test_pio_read(f->vm, 0x3c5, 1), ==, 0x0f);
    /* DISPI through 0x1CE/0x1CF. */
    test_pio_write(f->vm, 0x1ce, VBE_DISPI_INDEX_XRES, 2);
    test_pio_write(f->vm, 0x1cf, 640, 2);
    g_assert_cmpuint(vga_dispi_read(f->vga, VBE_DISPI_INDEX_XRES), ==, 640);
    g_assert_cmpuint(test_pio_read(f->vm, 0x1cf, 2), ==, 640);
    /* The window at 0xA0000: sequential planar write to all planes
     * (bit mask register all ones, as a BIOS sets it). */
    test_pio_write(f->vm, 0x3ce, 0xff08, 2);
    test_mmio_write(f->vm, 0xa0000 + 5, 0x77, 1);
    test_pio_write(f->vm, 0x3ce, 0x04, 1);
    for (unsigned p = 0; p < 4; p++) {
        test_pio_write(f->vm, 0x3cf, p, 1); /* read map select */
        g_assert_cmphex(test_mmio_read(f->vm, 0xa0000 + 5, 1), ==, 0x77);
    }
    /* Platform reset clears the registers. */
    test_vm_platform_reset(f->vm);
    test_pio_write(f->vm, 0x3c4, 0x02, 1);
    g_assert_cmphex(test_pio_read(f->vm, 0x3c5, 1), ==, 0x00);
}

static void on_damage(void *opaque, unsigned x, unsigned y, unsigned w, unsigned h)
{
    (*(unsigned *)opaque)++;
}

static void on_resize(void *opaque, unsigned w, unsigned h)
{
    (*(unsigned *)opaque)++;
}

static const struct framebuffer_listener listener = { on_damage, on_resize };

static bool changed(void *opaque)
{
    return *(unsigned *)opaque > 0;
}

static void test_refresh_timer(struct fixture *f, gconstpointer data)
{
    struct framebuffer *fb = vga_framebuffer(f->vga);
    unsigned events = 0;
    unsigned id = framebuffer_add_listener(fb, &listener, &events);
    /* A VBE mode set: the timer picks it up and resizes the surface. */
    test_pio_write(f->vm, 0x1ce, VBE_DISPI_INDEX_XRES, 2);
    test_pio_write(f->vm, 0x1cf, 320, 2);
    test_pio_write(f->vm, 0x1ce, VBE_DISPI_INDEX_YRES, 2);
    test_pio_write(f->vm, 0x1cf, 240, 2);
    test_pio_write(f->vm, 0x1ce, VBE_DISPI_INDEX_BPP, 2);
    test_pio_write(f->vm, 0x1cf, 32, 2);
    test_pio_write(f->vm, 0x1ce, VBE_DISPI_INDEX_ENABLE, 2);
    test_pio_write(f->vm, 0x1cf, VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED, 2);
    g_assert_true(test_vm_run_until(f->vm, changed, &events, 5000));
    g_assert_cmpuint(framebuffer_width(fb), ==, 320);
    g_assert_cmpuint(framebuffer_height(fb), ==, 240);
    /* A write through BAR0 shows up on the surface. */
    cfg_write(f, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    uint64_t vram = cfg(f, PCI_BAR0, 4) & ~0xfu;
    events = 0;
    test_mmio_write(f->vm, vram + (10 * 320 + 10) * 4, 0x00abcdef, 4);
    g_assert_true(test_vm_run_until(f->vm, changed, &events, 5000));
    g_assert_cmphex(framebuffer_const_pixels(fb)[10 * framebuffer_stride(fb) + 10], ==, 0xabcdef);
    framebuffer_remove_listener(fb, id);
}

static void test_missing_rom(void)
{
    struct vm *vm = test_vm_new(64u << 20);
    struct pci_bus *bus = pci_bus_create(vm);
    GError *error = NULL;
    struct vga *v = vga_pci_create(vm, bus, "/nonexistent/vgabios.bin", &error);
    g_assert_null(v);
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "/nonexistent/vgabios.bin"));
    g_clear_error(&error);
    pci_bus_free(bus);
    test_vm_free(vm);
}

/* The whole display as the platform creates it, seen by a VNC client. */
static void test_display(void)
{
    struct vm *vm = test_vm_new(64u << 20);
    struct pci_bus *bus = pci_bus_create(vm);
    GError *error = NULL;

    /* A bad VNC address fails before the VGA is put on the bus. */
    struct display_config bad = { .vnc_address = "nonsense" };
    g_assert_null(display_create(vm, bus, &bad, &error));
    g_assert_nonnull(error);
    g_clear_error(&error);
    for (unsigned s = 0; s < PCI_MAX_SLOTS; s++)
        g_assert_cmphex(pci_config_read(bus, s, 0, PCI_VENDOR_ID, 2), !=, 0x1234);

    g_autofree char *dir = g_dir_make_tmp("oriel-display-XXXXXX", &error);
    g_autofree char *path = g_build_filename(dir, "vnc.sock", NULL);
    g_autofree char *spec = g_strconcat("unix:", path, NULL);
    struct display_config config = { .vnc_address = spec, .name = "guest" };
    struct display *d = display_create(vm, bus, &config, &error);
    g_assert_no_error(error);
    g_assert_cmpint(display_vnc_port(d), ==, -1);

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    g_strlcpy(sa.sun_path, path, sizeof sa.sun_path);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
    struct test_client tc;
    tc_init(&tc, fd, vm_main_context(vm));
    tc_handshake_none(&tc, 8);
    g_assert_cmpuint(tc.width, ==, 640);  /* blank until a mode is set */
    g_assert_cmpuint(tc.height, ==, 480);
    int32_t enc[] = { VNC_ENCODING_ZRLE, VNC_ENCODING_DESKTOP_SIZE };
    tc_set_encodings(&tc, enc, 2);
    tc_request(&tc, false, 0, 0, 640, 480);
    tc_read_update(&tc);

    /* The guest sets a VBE mode and draws through BAR0. */
    unsigned slot = PCI_MAX_SLOTS;
    for (unsigned s = 0; s < PCI_MAX_SLOTS; s++)
        if (pci_config_read(bus, s, 0, PCI_VENDOR_ID, 2) == 0x1234)
            slot = s;
    g_assert_cmpuint(slot, <, PCI_MAX_SLOTS);
    pci_config_write(bus, slot, 0, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    uint64_t vram = pci_config_read(bus, slot, 0, PCI_BAR0, 4) & ~0xfu;
    const uint16_t regs[][2] = {
        { VBE_DISPI_INDEX_XRES, 320 }, { VBE_DISPI_INDEX_YRES, 200 },
        { VBE_DISPI_INDEX_BPP, 32 },
        { VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED },
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(regs); i++) {
        test_pio_write(vm, 0x1ce, regs[i][0], 2);
        test_pio_write(vm, 0x1cf, regs[i][1], 2);
    }
    test_mmio_write(vm, vram + (7 * 320 + 9) * 4, 0x00c0ffee, 4);
    tc_request(&tc, true, 0, 0, 640, 480);
    tc_read_update(&tc);
    g_assert_cmpint(tc.encodings[0], ==, VNC_ENCODING_DESKTOP_SIZE);
    g_assert_cmpuint(tc.width, ==, 320);
    g_assert_cmpuint(tc.height, ==, 200);
    g_assert_cmphex(tc.image[7 * 320 + 9], ==, 0xc0ffee);
    g_assert_cmphex(tc.image[7 * 320 + 10], ==, 0);
    tc_cleanup(&tc);

    pci_bus_free(bus);
    display_destroy(d);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_rmdir(dir);
    test_vm_free(vm);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add(name, struct fixture, NULL, setup, fn, teardown)
    ADD("/vga-pci/identity-and-bars", test_identity_and_bars);
    ADD("/vga-pci/rom", test_rom);
    ADD("/vga-pci/legacy-ports", test_legacy_ports);
    ADD("/vga-pci/refresh-timer", test_refresh_timer);
    g_test_add_func("/vga-pci/missing-rom", test_missing_rom);
    g_test_add_func("/display/vga-and-vnc", test_display);
    return g_test_run();
}
