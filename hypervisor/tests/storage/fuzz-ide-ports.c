/* libFuzzer target: PIIX3 IDE driven through its ports by a program read
 * from the fuzz input: task-file and control registers of both channels,
 * PIO data, bus-master registers, and PRD tables placed in guest memory
 * (their buffers inside RAM or anywhere).  A disk on the primary master
 * and a CD-ROM on the secondary master, backed by memory files. */
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <glib.h>

#include "storage/ide.h"
#include "pci/pci.h"
#include "tests/support/test_vm.h"

#define RAM_SIZE (16u << 20)
#define PRD_AREA 0x10000u

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

static char *memfile(size_t size, int *fd)
{
    *fd = memfd_create("fuzz-ide", MFD_CLOEXEC);
    if (*fd < 0 || ftruncate(*fd, (off_t)size) < 0)
        abort();
    return g_strdup_printf("/proc/self/fd/%d", *fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cursor c = { data, size };
    struct vm *vm = test_vm_new(RAM_SIZE);
    struct pci_bus *bus = pci_bus_create(vm);
    struct ide_controller *ide = piix3_ide_create(vm, bus, NULL);
    if (!ide)
        abort();
    int dfd, cfd;
    char *dpath = memfile(128 * 512, &dfd);
    char *cpath = memfile(16 * 2048, &cfd);
    struct disk_config dc = { .path = dpath };
    struct disk_config cc = { .path = cpath };
    if (!ide_attach(ide, 0, 0, &dc, false, NULL) || !ide_attach(ide, 1, 0, &cc, true, NULL))
        abort();
    close(dfd);
    close(cfd);
    g_free(dpath);
    g_free(cpath);
    pci_config_write(bus, 1, 1, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
    uint16_t bm = (uint16_t)(pci_config_read(bus, 1, 1, PCI_BAR0 + 16, 4) & ~3u);
    static const uint16_t bases[] = { 0x1f0, 0x170 };
    static const uint16_t ctrls[] = { 0x3f6, 0x376 };

    while (c.left) {
        uint8_t op = u8(&c);
        unsigned ch = (op >> 7) & 1;
        unsigned size = 1u << ((op >> 5) & 3);
        if (size == 8)
            size = 2;
        switch (op & 0x1f) {
        case 0 ... 7:
            test_pio_write(vm, bases[ch] + (op & 7), u8(&c), 1);
            break;
        case 8 ... 15:
            (void)test_pio_read(vm, bases[ch] + (op & 7), 1);
            break;
        case 16: {  /* a burst of data-port reads, as rep insw does */
            unsigned n = u8(&c) * 4u;
            for (unsigned i = 0; i < n; i++)
                (void)test_pio_read(vm, bases[ch], size);
            break;
        }
        case 17: {
            unsigned n = u8(&c) * 4u;
            uint32_t v = u32(&c);
            for (unsigned i = 0; i < n; i++)
                test_pio_write(vm, bases[ch], v + i, size);
            break;
        }
        case 18:
            test_pio_write(vm, ctrls[ch], u8(&c), 1);
            break;
        case 19:
            (void)test_pio_read(vm, ctrls[ch], 1);
            break;
        case 20:
            test_pio_write(vm, bm + (u8(&c) & 15), u32(&c), size);
            break;
        case 21:
            (void)test_pio_read(vm, bm + (u8(&c) & 15), size);
            break;
        case 22: {  /* a PRD entry, its buffer usually inside RAM */
            unsigned i = u8(&c);
            uint32_t e[2] = { u32(&c), u32(&c) };
            if (!(e[1] & 0x40000000u))
                e[0] = (e[0] % (RAM_SIZE / 2)) & ~1u;
            guest_memory_write(vm_memory(vm), PRD_AREA + i * 8u, e, sizeof(e));
            break;
        }
        case 23:    /* start the engine on our table */
            test_pio_write(vm, bm + ch * 8 + 4, PRD_AREA, 4);
            test_pio_write(vm, bm + ch * 8, u8(&c) & 9, 1);
            break;
        case 24:
            ide_cdrom_eject(ide, 1, 0, u8(&c) & 1, NULL);
            break;
        case 25:
            test_vm_platform_reset(vm);
            pci_config_write(bus, 1, 1, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
            break;
        default: {  /* a whole command with its parameters */
            uint16_t b = bases[ch];
            for (unsigned r = 1; r < 7; r++)
                test_pio_write(vm, b + r, u8(&c), 1);
            test_pio_write(vm, b + 7, u8(&c), 1);
            break;
        }
        }
    }

    ide_free(ide);
    pci_bus_free(bus);
    test_vm_free(vm);
    return 0;
}
