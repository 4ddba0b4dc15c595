/* libFuzzer target: the AHCI HBA driven by a program read from the fuzz
 * input.  Each step either places guest data (command headers, command
 * tables with their H2D FIS and ATAPI packet, PRDT entries pointing inside
 * or outside RAM) or touches a register (PxCI, PxSACT, any ABAR offset,
 * port restart, COMRESET, medium eject).  A disk and a CD-ROM are backed
 * by memory files created per input, so every run starts the same way. */
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <glib.h>

#include "storage/ahci.h"
#include "pci/pci.h"
#include "tests/support/test_vm.h"

#define RAM_SIZE   (16u << 20)
#define NPORTS     3
#define CLB(p)     (0x10000u + (p) * 0x1000u)
#define FB(p)      (0x20000u + (p) * 0x100u)
#define CTBA(p, s) (0x30000u + ((p) * 32u + (s)) * 0x200u)
#define DATA       0x100000u
#define DATA_SIZE  0x100000u

struct cursor {
    const uint8_t *p;
    size_t left;
};

static uint8_t u8(struct cursor *c)
{
    if (!c->left)
        return 0;
    c->left--;
    return *c->p++;
}

static uint32_t u32(struct cursor *c)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < 4; i++)
        v |= (uint32_t)u8(c) << (8 * i);
    return v;
}

static void bytes(struct cursor *c, uint8_t *dst, size_t n)
{
    size_t k = MIN(n, c->left);
    memcpy(dst, c->p, k);
    memset(dst + k, 0, n - k);
    c->p += k;
    c->left -= k;
}

static char *memfile(size_t size, int *fd)
{
    *fd = memfd_create("fuzz-ahci", MFD_CLOEXEC);
    if (*fd < 0 || ftruncate(*fd, (off_t)size) < 0)
        abort();
    return g_strdup_printf("/proc/self/fd/%d", *fd);
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    struct cursor c = { data, size };
    struct vm *vm = test_vm_new(RAM_SIZE);
    struct pci_bus *bus = pci_bus_create(vm);
    struct ahci *a = ahci_create(vm, bus, NPORTS, NULL);
    if (!a)
        abort();
    int dfd, cfd;
    char *dpath = memfile(128 * 512, &dfd);
    char *cpath = memfile(16 * 2048, &cfd);
    struct disk_config dc = { .path = dpath };
    struct disk_config cc = { .path = cpath };
    if (!ahci_attach(a, 0, &dc, false, NULL) || !ahci_attach(a, 1, &cc, true, NULL))
        abort();
    close(dfd);
    close(cfd);
    g_free(dpath);
    g_free(cpath);

    unsigned slot = ahci_pci_slot(a);
    struct guest_memory *mem = vm_memory(vm);
    uint8_t flags = u8(&c);
    if (flags & 1) {
        uint8_t cap = (uint8_t)pci_config_read(bus, slot, 0, PCI_CAPABILITY_LIST, 1);
        pci_config_write(bus, slot, 0, cap + 4, 0xfee00000u, 4);
        pci_config_write(bus, slot, 0, cap + 2, 1, 2);
    }
    pci_config_write(bus, slot, 0, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    uint64_t abar = pci_config_read(bus, slot, 0, PCI_BAR0 + 20, 4) & ~0xfu;
    test_mmio_write(vm, abar + 0x04, (1u << 31) | ((flags & 2) ? 2 : 0), 4);
    for (unsigned p = 0; p < NPORTS; p++) {
        uint64_t pr = abar + 0x100 + p * 0x80;
        test_mmio_write(vm, pr + 0x00, CLB(p), 4);
        test_mmio_write(vm, pr + 0x08, FB(p), 4);
        test_mmio_write(vm, pr + 0x14, 0xffffffffu, 4);
        test_mmio_write(vm, pr + 0x18, 0x11, 4);
    }

    while (c.left) {
        uint8_t op = u8(&c);
        unsigned port = (op >> 4) % NPORTS;
        uint64_t pr = abar + 0x100 + port * 0x80;
        switch (op & 0xf) {
        case 0: {   /* command header; the table normally where we keep it */
            unsigned s = u8(&c) & 31;
            uint8_t h[16];
            bytes(&c, h, sizeof(h));
            if (!(h[15] & 0x80)) {
                /* Mostly well-formed: a 5-dword FIS, the table in RAM. */
                h[0] = (uint8_t)((h[0] & ~0x1f) | 5);
                put32(h + 8, CTBA(port, s));
                put32(h + 12, 0);
            }
            guest_memory_write(mem, CLB(port) + s * 32, h, sizeof(h));
            break;
        }
        case 1: {   /* command FIS and ATAPI command */
            unsigned s = u8(&c) & 31;
            uint8_t t[0x50];
            bytes(&c, t, sizeof(t));
            if (!(t[1] & 0x10)) {
                /* Mostly a register FIS with a command the device knows,
                 * so that inputs reach the data paths. */
                static const uint8_t cmds[] = {
                    0x25, 0x35, 0xc8, 0xca, 0x20, 0x30, 0x24, 0x34, 0xc4, 0xc5, 0xc6,
                    0x60, 0x61, 0xa0, 0xa1, 0xec, 0xe7, 0xea, 0xef, 0x08, 0x40, 0x42,
                    0xf8, 0x27, 0xe5, 0x90,
                };
                t[0] = 0x27;
                t[1] = (uint8_t)(t[1] | 0x80);
                t[2] = cmds[t[2] % sizeof(cmds)];
                if (t[0x40] & 1) {
                    /* A SCSI opcode the CD-ROM knows. */
                    static const uint8_t ops[] = {
                        0x00, 0x03, 0x12, 0x1a, 0x5a, 0x1b, 0x1e, 0x25, 0x28, 0xa8, 0xbe,
                        0x2b, 0x43, 0x46, 0x4a, 0x51, 0xbd, 0xbb, 0x2a,
                    };
                    t[0x40] = ops[(t[0x40] >> 1) % sizeof(ops)];
                }
            }
            guest_memory_write(mem, CTBA(port, s), t, sizeof(t));
            break;
        }
        case 2: {   /* PRDT entries */
            unsigned s = u8(&c) & 31;
            unsigned n = u8(&c) % 17;
            for (unsigned i = 0; i < n && i < 8; i++) {
                uint8_t e[16];
                bytes(&c, e, sizeof(e));
                if (!(e[7] & 0x80)) {
                    uint32_t addr;
                    memcpy(&addr, e, 4);
                    put32(e, DATA + addr % DATA_SIZE);
                    put32(e + 4, 0);
                }
                guest_memory_write(mem, CTBA(port, s) + 0x80 + i * 16, e, sizeof(e));
            }
            break;
        }
        case 3: {   /* any register */
            unsigned off = (u8(&c) | (unsigned)u8(&c) << 8) & 0xffc;
            test_mmio_write(vm, abar + off, u32(&c), 4);
            break;
        }
        case 4:
            test_mmio_write(vm, pr + 0x38, u32(&c), 4);
            break;
        case 5:
            test_mmio_write(vm, pr + 0x34, u32(&c), 4);
            break;
        case 6:
            (void)test_mmio_read(vm, abar + ((u8(&c) | (unsigned)u8(&c) << 8) & 0xfff), 1u << (u8(&c) & 2));
            break;
        case 7:     /* restart the port */
            test_mmio_write(vm, pr + 0x18, 0x10, 4);
            test_mmio_write(vm, pr + 0x18, 0x11, 4);
            break;
        case 8:     /* COMRESET */
            test_mmio_write(vm, pr + 0x2c, 1, 4);
            test_mmio_write(vm, pr + 0x2c, 0, 4);
            break;
        case 9:
            ahci_cdrom_eject(a, 1, u8(&c) & 1, NULL);
            break;
        case 10:    /* clear interrupt status */
            test_mmio_write(vm, pr + 0x10, 0xffffffffu, 4);
            test_mmio_write(vm, abar + 0x08, 0xffffffffu, 4);
            break;
        default:    /* issue a single slot */
            test_mmio_write(vm, pr + 0x38, 1u << (u8(&c) & 31), 4);
            break;
        }
    }

    ahci_free(a);
    pci_bus_free(bus);
    test_vm_free(vm);
    return 0;
}
