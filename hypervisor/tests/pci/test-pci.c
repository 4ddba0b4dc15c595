/* PCI configuration space semantics through the real 0xCF8/0xCFC ports
 * and I/O buses: chipset IDs, read-only registers, write masks, BAR size
 * probing and relocation, the command register, capability lists, INTx
 * sharing, MSI-X masking and the PIIX3 reset control register. */
#include <glib.h>

#include "pci/pci.h"
#include "pci/pci_host.h"
#include "pci/msix.h"
#include "core/smm.h"
#include "config/pc_layout.h"
#include "tests/support/test_vm.h"

struct fixture {
    struct vm *vm;
    struct pci_bus *bus;
};

static void fixture_setup(struct fixture *f, gconstpointer data)
{
    f->vm = test_vm_new(32 << 20);
    f->bus = pci_bus_create(f->vm);
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
    pci_bus_free(f->bus);
    test_vm_free(f->vm);
}

static uint32_t cfg_addr(unsigned bus, unsigned slot, unsigned func, unsigned reg)
{
    return 0x80000000u | bus << 16 | slot << 11 | func << 8 | (reg & 0xfc);
}

/* Configuration read/write as a guest does it, through the ports. */
static uint32_t cfg_read(struct fixture *f, unsigned slot, unsigned reg, unsigned size)
{
    test_pio_write(f->vm, 0xcf8, cfg_addr(0, slot, 0, reg), 4);
    return (uint32_t)test_pio_read(f->vm, 0xcfc + (reg & 3), size);
}

static void cfg_write(struct fixture *f, unsigned slot, unsigned reg, uint32_t v, unsigned size)
{
    test_pio_write(f->vm, 0xcf8, cfg_addr(0, slot, 0, reg), 4);
    test_pio_write(f->vm, 0xcfc + (reg & 3), v, size);
}

/* A device model that records accesses to its BARs. */
struct recorder {
    struct pci_device pci;
    uint64_t last_offset;
    unsigned reads, writes;
};

static uint64_t rec_read(void *opaque, uint64_t offset, unsigned size)
{
    struct recorder *r = opaque;
    r->reads++;
    r->last_offset = offset;
    return 0x5a5a5a5a;
}

static void rec_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct recorder *r = opaque;
    r->writes++;
    r->last_offset = offset;
}

static const struct io_ops rec_ops = { rec_read, rec_write };

static struct recorder *make_device(struct fixture *f, bool with_bars)
{
    struct recorder *r = g_new0(struct recorder, 1);
    pci_device_init(&r->pci, "recorder", 0x1234, 0x5678, 0x020000, 0x07, 1);
    if (with_bars) {
        pci_device_set_bar(&r->pci, 0, PCI_BAR_IO, false, 32, &rec_ops, r);
        pci_device_set_bar(&r->pci, 1, PCI_BAR_MEM32, false, 4096, &rec_ops, r);
        pci_device_set_bar(&r->pci, 2, PCI_BAR_MEM64, true, 16384, &rec_ops, r);
    }
    g_autoptr(GError) err = NULL;
    g_assert_true(pci_register_device(f->bus, &r->pci, &err));
    g_assert_no_error(err);
    return r;
}

static void free_device(struct recorder *r)
{
    pci_unregister_device(&r->pci);
    g_free(r);
}

static void test_chipset_ids(struct fixture *f, gconstpointer data)
{
    g_assert_cmphex(cfg_read(f, 0, 0, 4), ==, 0x12378086);
    g_assert_cmphex(cfg_read(f, 0, PCI_CLASS_DEVICE, 2), ==, 0x0600);
    g_assert_cmphex(cfg_read(f, 1, 0, 4), ==, 0x70008086);
    g_assert_cmphex(cfg_read(f, 1, PCI_CLASS_DEVICE, 2), ==, 0x0601);
    g_assert_cmphex(cfg_read(f, 1, PCI_HEADER_TYPE, 1), ==, 0x80);
    /* Empty slot, other functions, other buses, and the enable bit clear
     * all read as all ones. */
    g_assert_cmphex(cfg_read(f, 7, 0, 4), ==, 0xffffffff);
    test_pio_write(f->vm, 0xcf8, cfg_addr(0, 1, 3, 0), 4);
    g_assert_cmphex(test_pio_read(f->vm, 0xcfc, 4), ==, 0xffffffff);
    test_pio_write(f->vm, 0xcf8, cfg_addr(1, 0, 0, 0), 4);
    g_assert_cmphex(test_pio_read(f->vm, 0xcfc, 4), ==, 0xffffffff);
    test_pio_write(f->vm, 0xcf8, cfg_addr(0, 0, 0, 0) & 0x7fffffff, 4);
    g_assert_cmphex(test_pio_read(f->vm, 0xcfc, 4), ==, 0xffffffff);
    /* 0xCF8 reads back what was written (reserved low bits clear). */
    test_pio_write(f->vm, 0xcf8, cfg_addr(0, 3, 0, 0x40) | 3, 4);
    g_assert_cmphex(test_pio_read(f->vm, 0xcf8, 4), ==, cfg_addr(0, 3, 0, 0x40));
    /* Byte and word accesses inside the data window. */
    g_assert_cmphex(cfg_read(f, 0, 2, 2), ==, 0x1237);
    g_assert_cmphex(cfg_read(f, 0, 1, 1), ==, 0x80);
}

static void test_read_only_and_masks(struct fixture *f, gconstpointer data)
{
    struct recorder *r = make_device(f, false);
    unsigned s = r->pci.slot;
    g_assert_cmpuint(s, ==, 2); /* first slot after the chipset */

    cfg_write(f, s, 0, 0xdeadbeef, 4);
    g_assert_cmphex(cfg_read(f, s, 0, 4), ==, 0x56781234);
    cfg_write(f, s, PCI_CLASS_PROG, 0xffffff, 4);
    g_assert_cmphex(cfg_read(f, s, PCI_REVISION_ID, 4), ==, 0x02000007);
    /* Interrupt line is writable, pin is not. */
    cfg_write(f, s, PCI_INTERRUPT_LINE, 0x0b0b, 2);
    g_assert_cmphex(cfg_read(f, s, PCI_INTERRUPT_LINE, 1), ==, 0x0b);
    g_assert_cmphex(cfg_read(f, s, PCI_INTERRUPT_PIN, 1), ==, 0x01);
    /* Only defined command bits stick. */
    cfg_write(f, s, PCI_COMMAND, 0xffff, 2);
    g_assert_cmphex(cfg_read(f, s, PCI_COMMAND, 2), ==, 0x0507);
    /* Status error bits are write-one-to-clear; the rest is read-only. */
    r->pci.config[PCI_STATUS + 1] = 0x80; /* device saw a parity error */
    cfg_write(f, s, PCI_STATUS, 0x0010, 2);
    g_assert_cmphex(cfg_read(f, s, PCI_STATUS, 2), ==, 0x8000);
    cfg_write(f, s, PCI_STATUS, 0x8000, 2);
    g_assert_cmphex(cfg_read(f, s, PCI_STATUS, 2), ==, 0x0000);
    /* Header storage outside the masks ignores writes. */
    cfg_write(f, s, 0x80, 0x12345678, 4);
    g_assert_cmphex(cfg_read(f, s, 0x80, 4), ==, 0);
    free_device(r);
}

static void test_bar_probe_and_relocate(struct fixture *f, gconstpointer data)
{
    struct recorder *r = make_device(f, true);
    unsigned s = r->pci.slot;

    uint32_t io = cfg_read(f, s, PCI_BAR0, 4);
    uint32_t m32 = cfg_read(f, s, PCI_BAR0 + 4, 4);
    uint32_t m64lo = cfg_read(f, s, PCI_BAR0 + 8, 4);
    uint32_t m64hi = cfg_read(f, s, PCI_BAR0 + 12, 4);
    /* Placed at creation, naturally aligned, inside the PC windows. */
    g_assert_cmphex(io & 3, ==, 1);
    g_assert_cmphex(io & ~3u, >=, PC_PCI_IO_WINDOW_START);
    g_assert_cmphex((io & ~3u) % 32, ==, 0);
    g_assert_cmphex(m32 & 0xf, ==, 0);
    g_assert_cmphex(m32, >=, PC_PCI_MMIO_WINDOW_START);
    g_assert_cmphex(m32 % 4096, ==, 0);
    g_assert_cmphex(m64lo & 0xf, ==, 0xc); /* 64-bit, prefetchable */
    uint64_t m64 = ((uint64_t)m64hi << 32) | (m64lo & ~0xfu);
    g_assert_cmphex(m64 % 16384, ==, 0);
    g_assert_true(m64 >= PC_PCI_MMIO_WINDOW_START && m64 + 16384 - 1 <= PC_PCI_MMIO_WINDOW_END);

    /* Nothing decodes until the command register says so. */
    g_assert_null(iobus_owner(vm_mmio_bus(f->vm), m32));
    g_assert_null(iobus_owner(vm_pio_bus(f->vm), io & ~3u));
    cfg_write(f, s, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
    g_assert_cmphex(test_mmio_read(f->vm, m32 + 0x10, 4), ==, 0x5a5a5a5a);
    g_assert_cmpuint(r->last_offset, ==, 0x10);
    test_pio_write(f->vm, (io & ~3u) + 4, 1, 1);
    g_assert_cmpuint(r->writes, ==, 1);
    g_assert_cmpuint(r->last_offset, ==, 4);
    g_assert_cmphex(test_mmio_read(f->vm, m64 + 0x100, 4), ==, 0x5a5a5a5a);

    /* Size probing, as firmware and Linux do it (decoding off). */
    cfg_write(f, s, PCI_COMMAND, 0, 2);
    g_assert_null(iobus_owner(vm_mmio_bus(f->vm), m32));
    for (unsigned n = 0; n < 4; n++)
        cfg_write(f, s, PCI_BAR0 + 4 * n, 0xffffffff, 4);
    g_assert_cmphex(cfg_read(f, s, PCI_BAR0, 4), ==, 0xffffffe1);
    g_assert_cmphex(cfg_read(f, s, PCI_BAR0 + 4, 4), ==, 0xfffff000);
    g_assert_cmphex(cfg_read(f, s, PCI_BAR0 + 8, 4), ==, 0xffffc00c);
    g_assert_cmphex(cfg_read(f, s, PCI_BAR0 + 12, 4), ==, 0xffffffff);
    /* Unused BARs and the ROM BAR read as zero whatever is written. */
    cfg_write(f, s, PCI_BAR0 + 16, 0xffffffff, 4);
    cfg_write(f, s, PCI_ROM_ADDRESS, 0xffffffff, 4);
    g_assert_cmphex(cfg_read(f, s, PCI_BAR0 + 16, 4), ==, 0);
    g_assert_cmphex(cfg_read(f, s, PCI_ROM_ADDRESS, 4), ==, 0);

    /* Move the BARs and turn decoding on: the old addresses are free, the
     * new ones reach the device. */
    cfg_write(f, s, PCI_BAR0, 0xd000, 4);
    cfg_write(f, s, PCI_BAR0 + 4, 0xd0000000, 4);
    cfg_write(f, s, PCI_BAR0 + 8, 0x00000000, 4);
    cfg_write(f, s, PCI_BAR0 + 12, 0x00000010, 4);  /* 64 GiB: above 4 GiB */
    cfg_write(f, s, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
    g_assert_null(iobus_owner(vm_mmio_bus(f->vm), m32));
    g_assert_null(iobus_owner(vm_mmio_bus(f->vm), m64));
    g_assert_cmpstr(iobus_owner(vm_mmio_bus(f->vm), 0xd0000000), ==, "recorder");
    g_assert_cmpstr(iobus_owner(vm_mmio_bus(f->vm), 0x1000000000ULL + 16383), ==, "recorder");
    g_assert_cmpstr(iobus_owner(vm_pio_bus(f->vm), 0xd01f), ==, "recorder");
    g_assert_null(iobus_owner(vm_pio_bus(f->vm), 0xd020));
    unsigned before = r->reads;
    g_assert_cmphex(test_mmio_read(f->vm, 0xd0000ffc, 4), ==, 0x5a5a5a5a);
    g_assert_cmpuint(r->reads, ==, before + 1);
    g_assert_cmpuint(r->last_offset, ==, 0xffc);

    /* Memory decoding off leaves I/O decoding on. */
    cfg_write(f, s, PCI_COMMAND, PCI_COMMAND_IO, 2);
    g_assert_null(iobus_owner(vm_mmio_bus(f->vm), 0xd0000000));
    g_assert_cmpstr(iobus_owner(vm_pio_bus(f->vm), 0xd000), ==, "recorder");

    /* Platform reset turns decoding off but keeps the assignment. */
    pci_device_reset(&r->pci);
    g_assert_null(iobus_owner(vm_pio_bus(f->vm), 0xd000));
    g_assert_cmphex(cfg_read(f, s, PCI_BAR0 + 4, 4), ==, 0xd0000000);
    free_device(r);
}

static void test_capability_list(struct fixture *f, gconstpointer data)
{
    struct recorder *r = g_new0(struct recorder, 1);
    pci_device_init(&r->pci, "caps", 0x1234, 0x0001, 0xff0000, 0, 0);
    uint8_t a = pci_device_add_capability(&r->pci, PCI_CAP_ID_VNDR, 16);
    uint8_t b = pci_device_add_capability(&r->pci, PCI_CAP_ID_VNDR, 20);
    struct pci_msix msix;
    g_autoptr(GError) err = NULL;
    g_assert_true(pci_msix_init(&msix, &r->pci, f->vm, 3, 1, &err));
    g_assert_true(pci_register_device(f->bus, &r->pci, &err));
    unsigned s = r->pci.slot;

    g_assert_true(cfg_read(f, s, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
    uint8_t expect_ids[] = { PCI_CAP_ID_VNDR, PCI_CAP_ID_VNDR, PCI_CAP_ID_MSIX };
    uint8_t offsets[3];
    unsigned n = 0;
    for (uint8_t p = (uint8_t)cfg_read(f, s, PCI_CAPABILITY_LIST, 1); p; p = (uint8_t)cfg_read(f, s, p + 1, 1)) {
        g_assert_cmpuint(n, <, 3);
        g_assert_cmphex(p & 3, ==, 0);
        g_assert_cmphex(p, >=, 0x40);
        g_assert_cmphex(cfg_read(f, s, p, 1), ==, expect_ids[n]);
        offsets[n++] = p;
    }
    g_assert_cmpuint(n, ==, 3);
    g_assert_cmpuint(offsets[0], ==, a);
    g_assert_cmpuint(offsets[1], ==, b);
    g_assert_cmpuint(offsets[1], >=, a + 16);
    g_assert_cmpuint(offsets[2], >=, b + 20);
    /* The capability list pointer itself is read-only. */
    cfg_write(f, s, PCI_CAPABILITY_LIST, 0x80, 1);
    g_assert_cmphex(cfg_read(f, s, PCI_CAPABILITY_LIST, 1), ==, a);
    /* MSI-X: table size N-1, table and PBA in BAR 1. */
    g_assert_cmphex(cfg_read(f, s, offsets[2] + 2, 2), ==, 2);
    g_assert_cmphex(cfg_read(f, s, offsets[2] + 4, 4), ==, 0x1);
    g_assert_cmphex(cfg_read(f, s, offsets[2] + 8, 4) & 7, ==, 1);
    pci_unregister_device(&r->pci);
    pci_msix_destroy(&msix);
    g_free(r);
}

static void test_intx_sharing(struct fixture *f, gconstpointer data)
{
    /* Slots 2 and 10 share GSI PC_PCI_INTX_GSI(2, 0) == PC_PCI_INTX_GSI(10, 0). */
    struct recorder *a = make_device(f, false);
    struct recorder *fill[7];
    for (unsigned i = 0; i < 7; i++)
        fill[i] = make_device(f, false);
    struct recorder *b = make_device(f, false);
    g_assert_cmpuint(a->pci.slot, ==, 2);
    g_assert_cmpuint(b->pci.slot, ==, 10);
    unsigned gsi = PC_PCI_INTX_GSI(2, 0);
    g_assert_cmpint(pci_device_intx_gsi(&a->pci), ==, (int)gsi);
    g_assert_cmpint(pci_device_intx_gsi(&b->pci), ==, (int)gsi);
    g_assert_cmpint(pci_device_intx_gsi(&fill[0]->pci), ==, (int)PC_PCI_INTX_GSI(3, 0));

    pci_set_irq(&a->pci, true);
    g_assert_true(test_vm_irq_level(f->vm, gsi));
    g_assert_true(cfg_read(f, 2, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
    pci_set_irq(&b->pci, true);
    pci_set_irq(&a->pci, false);
    g_assert_true(test_vm_irq_level(f->vm, gsi)); /* b still asserts */
    pci_set_irq(&b->pci, false);
    g_assert_false(test_vm_irq_level(f->vm, gsi));

    /* INTx disable masks the pin but the status bit still shows it. */
    cfg_write(f, 2, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
    pci_set_irq(&a->pci, true);
    g_assert_false(test_vm_irq_level(f->vm, gsi));
    g_assert_true(cfg_read(f, 2, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
    cfg_write(f, 2, PCI_COMMAND, 0, 2);
    g_assert_true(test_vm_irq_level(f->vm, gsi));
    pci_set_irq(&a->pci, false);
    g_assert_false(test_vm_irq_level(f->vm, gsi));

    free_device(a);
    free_device(b);
    for (unsigned i = 0; i < 7; i++)
        free_device(fill[i]);
}

static void test_msix_masking(struct fixture *f, gconstpointer data)
{
    struct recorder *r = g_new0(struct recorder, 1);
    pci_device_init(&r->pci, "msix", 0x1234, 0x0002, 0xff0000, 0, 1);
    struct pci_msix m;
    g_autoptr(GError) err = NULL;
    g_assert_true(pci_msix_init(&m, &r->pci, f->vm, 4, 2, &err));
    r->pci.opaque = &m;
    g_assert_true(pci_register_device(f->bus, &r->pci, &err));
    unsigned s = r->pci.slot;
    uint64_t bar = cfg_read(f, s, PCI_BAR0 + 8, 4) & ~0xfu;
    cfg_write(f, s, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);

    /* Every vector starts masked. */
    for (unsigned i = 0; i < 4; i++)
        g_assert_cmphex(test_mmio_read(f->vm, bar + 16 * i + 12, 4), ==, 1);
    /* Program vector 2 (still masked). */
    test_mmio_write(f->vm, bar + 32, 0xfee01000, 4);
    test_mmio_write(f->vm, bar + 36, 0, 4);
    test_mmio_write(f->vm, bar + 40, 0x4041, 4);
    g_assert_cmphex(test_mmio_read(f->vm, bar + 32, 8), ==, 0xfee01000);
    g_assert_cmphex(test_mmio_read(f->vm, bar + 40, 4), ==, 0x4041);

    /* Disabled: nothing happens at all. */
    pci_msix_notify(&m, 2);
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, 0);
    g_assert_cmphex(test_mmio_read(f->vm, bar + m.pba_offset, 8), ==, 0);

    /* Enable MSI-X (capability control bit 15); the write goes through
     * the device's config hook as a real device model's would. */
    r->pci.config_written = NULL;
    cfg_write(f, s, m.cap + 2, PCI_MSIX_FLAGS_ENABLE, 2);
    g_assert_true(pci_msix_enabled(&m));
    g_assert_cmphex(cfg_read(f, s, m.cap + 2, 2), ==, PCI_MSIX_FLAGS_ENABLE | 3);

    /* Masked vector: pending bit, no message. */
    pci_msix_notify(&m, 2);
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, 0);
    g_assert_cmphex(test_mmio_read(f->vm, bar + m.pba_offset, 8), ==, 1u << 2);
    /* The PBA is read-only. */
    test_mmio_write(f->vm, bar + m.pba_offset, 0, 8);
    g_assert_cmphex(test_mmio_read(f->vm, bar + m.pba_offset, 8), ==, 1u << 2);

    /* Unmask: the pending message is delivered and the bit clears. */
    test_mmio_write(f->vm, bar + 44, 0, 4);
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, 1);
    g_assert_cmphex(test_vm_msi(f->vm, 0).address, ==, 0xfee01000);
    g_assert_cmphex(test_vm_msi(f->vm, 0).data, ==, 0x4041);
    g_assert_cmphex(test_mmio_read(f->vm, bar + m.pba_offset, 8), ==, 0);
    pci_msix_notify(&m, 2);
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, 2);

    /* Function mask holds everything back until cleared. */
    cfg_write(f, s, m.cap + 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 2);
    pci_msix_notify(&m, 2);
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, 2);
    g_assert_cmphex(test_mmio_read(f->vm, bar + m.pba_offset, 8), ==, 1u << 2);
    pci_msix_config_written(&m, m.cap + 2, 2); /* no hook installed: call it */
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, 2);
    cfg_write(f, s, m.cap + 2, PCI_MSIX_FLAGS_ENABLE, 2);
    pci_msix_config_written(&m, m.cap + 2, 2);
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, 3);

    /* Out-of-range vectors and table offsets are ignored. */
    pci_msix_notify(&m, 4);
    pci_msix_notify(&m, 1000);
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, 3);
    test_mmio_write(f->vm, bar + 4 * 16 + 12, 0, 4); /* past the table: PBA, read-only */
    g_assert_cmphex(test_mmio_read(f->vm, bar + 0xff0, 4), ==, 0);

    pci_msix_reset(&m);
    g_assert_false(pci_msix_enabled(&m));
    g_assert_cmphex(test_mmio_read(f->vm, bar + 44, 4), ==, 1);
    pci_unregister_device(&r->pci);
    pci_msix_destroy(&m);
    g_free(r);
}

static void test_reset_control(struct fixture *f, gconstpointer data)
{
    g_assert_cmpuint(test_vm_reset_requests(f->vm), ==, 0);
    test_pio_write(f->vm, PC_RESET_PORT, 0x02, 1);
    g_assert_cmpuint(test_vm_reset_requests(f->vm), ==, 0);
    g_assert_cmphex(test_pio_read(f->vm, PC_RESET_PORT, 1), ==, 0x02);
    test_pio_write(f->vm, PC_RESET_PORT, 0x06, 1);
    g_assert_cmpuint(test_vm_reset_requests(f->vm), ==, 1);
    /* A dword at 0xCF8 is still the address register. */
    test_pio_write(f->vm, 0xcf8, 0x80000000, 4);
    g_assert_cmphex(test_pio_read(f->vm, 0xcf8, 4), ==, 0x80000000);
    g_assert_cmpuint(test_vm_reset_requests(f->vm), ==, 1);
}

static void test_chipset_registers(struct fixture *f, gconstpointer data)
{
    /* PAM and SMRAM registers keep what firmware writes. */
    cfg_write(f, 0, 0x59, 0x30, 1);
    cfg_write(f, 0, 0x5a, 0x33, 1);
    g_assert_cmphex(cfg_read(f, 0, 0x59, 1), ==, 0x30);
    g_assert_cmphex(cfg_read(f, 0, 0x5a, 1), ==, 0x33);
    g_assert_cmphex(cfg_read(f, 0, 0x72, 1), ==, 0x02);
    cfg_write(f, 0, 0x72, 0x0a, 1);
    g_assert_cmphex(cfg_read(f, 0, 0x72, 1), ==, 0x0a);
    /* PIIX3 PIRQ routing starts disabled and is writable. */
    g_assert_cmphex(cfg_read(f, 1, 0x60, 4), ==, 0x80808080);
    cfg_write(f, 1, 0x60, 0x0b0a0b0a, 4);
    g_assert_cmphex(cfg_read(f, 1, 0x60, 4), ==, 0x0b0a0b0a);
}

/* What each view shows at gpa: 'R' the SMRAM overlay's RAM, 'r' a slot
 * the platform mapped, '-' nothing. */
static char view(struct fixture *f, unsigned as, uint64_t gpa)
{
    struct memslot_piece p;
    if (!test_vm_view_at(f->vm, as, gpa, &p))
        return '-';
    return p.mapping < 0 ? 'R' : 'r';
}

/* i440FX SMRAM register (0x72) with SMM: D_OPEN, G_SMRAME, D_LCK. */
static void test_smram(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    test_vm_record_slots(f->vm);
    /* As upper_memory does with a VGA: no slot over the legacy window. */
    vm_unmap_memory(f->vm, 0);
    vm_map_memory(f->vm, 0, 0xa0000, vm_memory(f->vm)->region[0].hva, false, false);
    g_assert_true(vm_smm_enable(f->vm, &error));
    pci_host_enable_smm(pci_bus_host(f->bus));

    g_assert_cmphex(cfg_read(f, 0, 0x72, 1), ==, 0x02);
    g_assert_cmpint(view(f, MEMSLOT_AS_NORMAL, 0xa8000), ==, '-');
    g_assert_cmpint(view(f, MEMSLOT_AS_SMM, 0xa8000), ==, '-');
    g_assert_cmpint(view(f, MEMSLOT_AS_SMM, 0x1000), ==, 'r');
    /* D_OPEN: both views see the RAM (firmware copies its handler in). */
    cfg_write(f, 0, 0x72, 0x4a, 1);
    g_assert_cmphex(cfg_read(f, 0, 0x72, 1), ==, 0x4a);
    g_assert_cmpint(view(f, MEMSLOT_AS_NORMAL, 0xa8000), ==, 'R');
    g_assert_cmpint(view(f, MEMSLOT_AS_SMM, 0xbffff), ==, 'R');
    g_assert_nonnull(guest_memory_ptr(vm_memory(f->vm), 0xa8000, 16));
    /* Closed, G_SMRAME: only SMM sees it; device DMA does not reach it. */
    cfg_write(f, 0, 0x72, 0x0a, 1);
    g_assert_null(guest_memory_ptr(vm_memory(f->vm), 0xa8000, 16));
    g_assert_null(guest_memory_ptr(vm_memory(f->vm), 0x9fff0, 0x20));
    g_assert_null(guest_memory_ptr(vm_memory(f->vm), 0xbffff, 0));
    g_assert_nonnull(guest_memory_ptr(vm_memory(f->vm), 0x9fff0, 0x10));
    g_assert_nonnull(guest_memory_ptr(vm_memory(f->vm), 0xc0000, 0x10));
    g_assert_cmpint(view(f, MEMSLOT_AS_NORMAL, 0xa8000), ==, '-');
    g_assert_cmpint(view(f, MEMSLOT_AS_SMM, 0xa0000), ==, 'R');
    g_assert_cmpint(view(f, MEMSLOT_AS_SMM, 0xc0000), ==, '-');
    /* D_LCK: D_OPEN cleared and the register frozen until reset. */
    cfg_write(f, 0, 0x72, 0x5a, 1);
    g_assert_cmphex(cfg_read(f, 0, 0x72, 1), ==, 0x1a);
    cfg_write(f, 0, 0x72, 0x42, 1);
    g_assert_cmphex(cfg_read(f, 0, 0x72, 1), ==, 0x1a);
    g_assert_cmpint(view(f, MEMSLOT_AS_NORMAL, 0xa8000), ==, '-');
    g_assert_cmpint(view(f, MEMSLOT_AS_SMM, 0xa8000), ==, 'R');
    test_vm_platform_reset(f->vm);
    g_assert_cmphex(cfg_read(f, 0, 0x72, 1), ==, 0x02);
    g_assert_nonnull(guest_memory_ptr(vm_memory(f->vm), 0xa8000, 16));
    g_assert_cmpint(view(f, MEMSLOT_AS_SMM, 0xa8000), ==, '-');
    cfg_write(f, 0, 0x72, 0x4a, 1);
    g_assert_cmphex(cfg_read(f, 0, 0x72, 1), ==, 0x4a);
}

/* APM writes raise an SMI only with PIIX3 SMICNTL.CSMIGATE and
 * SMIEN.APMC_EN set, and only on a machine with SMM. */
static void test_apm_smi(struct fixture *f, gconstpointer data)
{
    struct pci_host *host = pci_bus_host(f->bus);
    cfg_write(f, 1, 0xa0, 0x01, 1);
    cfg_write(f, 1, 0xa2, 0x0080, 2);
    pci_host_apm_written(host);
    g_assert_cmpuint(test_vm_smis(f->vm, NULL), ==, 0);

    g_autoptr(GError) error = NULL;
    g_assert_true(vm_smm_enable(f->vm, &error));
    pci_host_enable_smm(host);
    cfg_write(f, 1, 0xa2, 0x0000, 2);
    pci_host_apm_written(host);
    g_assert_cmpuint(test_vm_smis(f->vm, NULL), ==, 0);
    cfg_write(f, 1, 0xa2, 0x0080, 2);
    cfg_write(f, 1, 0xa0, 0x00, 1);
    pci_host_apm_written(host);
    g_assert_cmpuint(test_vm_smis(f->vm, NULL), ==, 0);
    cfg_write(f, 1, 0xa0, 0x01, 1);
    pci_host_apm_written(host);
    int target = 0;
    g_assert_cmpuint(test_vm_smis(f->vm, &target), ==, 1);
    g_assert_cmpint(target, ==, SMM_CURRENT_VCPU);
    /* SMIREQ.APMS tells the handler why. */
    g_assert_cmphex(cfg_read(f, 1, 0xaa, 1) & 0x80, ==, 0x80);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add("/pci/" name, struct fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("chipset-ids", test_chipset_ids);
    ADD("read-only-and-write-masks", test_read_only_and_masks);
    ADD("bar-probe-and-relocate", test_bar_probe_and_relocate);
    ADD("capability-list", test_capability_list);
    ADD("intx-sharing", test_intx_sharing);
    ADD("msix-masking", test_msix_masking);
    ADD("reset-control", test_reset_control);
    ADD("chipset-registers", test_chipset_registers);
    ADD("smram", test_smram);
    ADD("apm-smi", test_apm_smi);
    return g_test_run();
}
