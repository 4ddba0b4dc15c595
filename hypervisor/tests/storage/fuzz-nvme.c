/* libFuzzer target: the NVMe controller driven by a program read from the
 * fuzz input.  Each step either touches a BAR 0 register (any offset and
 * size: CC, AQA/ASQ/ACQ, INTMS/INTMC, doorbells), writes a submission
 * queue entry (mostly well-formed: an admin or NVM opcode, PRPs pointing
 * at data pages, a PRP list or outside RAM) and rings its doorbell, or
 * places PRP list entries.  The disk is a memory file created per input,
 * so every run starts the same way. */
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <glib.h>

#include "storage/nvme.h"
#include "pci/pci.h"
#include "tests/support/test_vm.h"

#define RAM_SIZE   (16u << 20)
#define ASQ        0x10000u
#define ACQ        0x20000u
#define IOQ(i)     (0x30000u + (i) * 0x10000u)    /* four I/O queue pages */
#define PRPL       0x80000u
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

static uint64_t u64(struct cursor *c)
{
    return u32(c) | (uint64_t)u32(c) << 32;
}

/* A PRP: mostly a data page (with an offset sometimes), else anything. */
static uint64_t prp(struct cursor *c)
{
    uint8_t k = u8(c);
    switch (k & 3) {
    case 0: return DATA + (uint64_t)(k >> 2) * 4096;
    case 1: return DATA + (uint64_t)(k >> 2) * 4096 + (u8(c) & 0xfc);
    case 2: return PRPL + (uint64_t)(k >> 2 & 3) * 4096 + (u8(c) & 0xf8);
    default: return u64(c);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    struct cursor c = { data, size };
    struct vm *vm = test_vm_new(RAM_SIZE);
    struct pci_bus *bus = pci_bus_create(vm);
    int fd = memfd_create("fuzz-nvme", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, 256 * 512) < 0)
        abort();
    char *path = g_strdup_printf("/proc/self/fd/%d", fd);
    uint8_t flags = u8(&c);
    struct disk_config dc = { .path = path, .readonly = flags & 4, .discard = flags & 8 };
    struct nvme *n = nvme_create(vm, bus, &dc, NULL);
    if (!n)
        abort();
    close(fd);
    g_free(path);

    unsigned slot = nvme_pci_device(n)->slot;
    struct guest_memory *mem = vm_memory(vm);
    if (flags & 1) {
        /* MSI-X on, vector table left as reset made it (masked). */
        for (unsigned p = pci_config_read(bus, slot, 0, PCI_CAPABILITY_LIST, 1); p;
             p = pci_config_read(bus, slot, 0, p + 1, 1))
            if (pci_config_read(bus, slot, 0, p, 1) == PCI_CAP_ID_MSIX)
                pci_config_write(bus, slot, 0, p + 2, 0x8000, 2);
    }
    pci_config_write(bus, slot, 0, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    uint64_t bar = (pci_config_read(bus, slot, 0, PCI_BAR0, 4) & ~0xfu) |
                   (uint64_t)pci_config_read(bus, slot, 0, PCI_BAR0 + 4, 4) << 32;
    if (flags & 2) {
        /* Usually start enabled with a 16-entry admin queue pair. */
        test_mmio_write(vm, bar + 0x24, 15 | 15u << 16, 4);
        test_mmio_write(vm, bar + 0x28, ASQ, 8);
        test_mmio_write(vm, bar + 0x30, ACQ, 8);
        test_mmio_write(vm, bar + 0x14, 1 | 6u << 16 | 4u << 20, 4);
    }
    uint32_t tail[5] = { 0 };

    for (unsigned steps = 0; c.left && steps < 256; steps++) {
        uint8_t op = u8(&c);
        switch (op & 3) {
        case 0: {   /* a register access */
            uint32_t off = u32(&c) % 0x4000;
            static const unsigned sizes[] = { 1, 2, 4, 8 };
            unsigned sz = sizes[(op >> 2) & 3];
            off &= ~(sz - 1);
            if (op & 0x10)
                (void)test_mmio_read(vm, bar + off, sz);
            else
                test_mmio_write(vm, bar + off, u64(&c), sz);
            break;
        }
        case 1: {   /* a command on queue q, then its doorbell */
            unsigned q = (op >> 2) % 5;
            uint8_t e[64];
            memset(e, 0, sizeof(e));
            e[0] = u8(&c);
            if (!(op & 0x80))
                e[0] &= 0x0f;   /* mostly a real opcode */
            e[1] = (op & 0x40) ? u8(&c) : 0;
            e[2] = (uint8_t)steps;
            uint32_t nsid = (op & 0x20) ? u32(&c) : 1;
            memcpy(e + 4, &nsid, 4);
            uint64_t p1 = prp(&c), p2 = prp(&c);
            memcpy(e + 24, &p1, 8);
            memcpy(e + 32, &p2, 8);
            for (unsigned i = 0; i < 6; i++) {
                uint32_t dw = u32(&c);
                memcpy(e + 40 + 4 * i, &dw, 4);
            }
            /* Queue creation mostly names our queue pages. */
            if (q == 0 && (e[0] == 0x01 || e[0] == 0x05) && !(op & 0x80)) {
                uint64_t base = IOQ(e[40] & 3);
                memcpy(e + 24, &base, 8);
            }
            uint64_t sq = q == 0 ? ASQ : IOQ(q - 1);
            guest_memory_write(mem, sq + (uint64_t)(tail[q] % 64) * 64, e, sizeof(e));
            tail[q] = (tail[q] + 1) % 64;
            test_mmio_write(vm, bar + 0x1000 + 8 * q, (op & 0x80) ? u8(&c) : tail[q], 4);
            break;
        }
        case 2: {   /* PRP list entries */
            uint64_t at = PRPL + (uint64_t)(u8(&c) & 0x3f) * 64;
            for (unsigned i = 0; i < 4; i++) {
                uint64_t e = prp(&c);
                guest_memory_write(mem, at + 8 * i, &e, 8);
            }
            break;
        }
        default: {  /* a completion queue head */
            unsigned q = (op >> 2) % 5;
            test_mmio_write(vm, bar + 0x1004 + 8 * q, u8(&c), 4);
            break;
        }
        }
    }
    nvme_free(n);
    pci_bus_free(bus);
    test_vm_free(vm);
    return 0;
}
