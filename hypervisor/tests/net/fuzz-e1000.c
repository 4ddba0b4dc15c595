/* libFuzzer target: the e1000 driven by a program read from the fuzz input.
 * Each step writes a register (through BAR0 or the I/O window), places a
 * descriptor (addresses inside or outside RAM, any length and command),
 * feeds a frame from the backend side or runs the main loop, so that ring
 * walks, TSO, checksum offload and the EEPROM state machine all see
 * arbitrary sequences. */
#include <stdint.h>
#include <string.h>
#include <glib.h>

#include "net/e1000.h"
#include "pci/pci.h"
#include "tests/support/fuzz_cursor.h"
#include "tests/support/test_vm.h"

#define RAM_SIZE (16u << 20)
#define RING     0x100000u
#define BUFS     0x200000u

static void fz_send(struct net_backend *nb, const struct iovec *iov, int iovcnt)
{
    (void)nb;
    /* Touch every byte so the sanitizers check the iovecs. */
    volatile uint8_t x = 0;
    for (int i = 0; i < iovcnt; i++)
        for (size_t k = 0; k < iov[i].iov_len; k++)
            x ^= ((const uint8_t *)iov[i].iov_base)[k];
    (void)x;
}
static void fz_resume(struct net_backend *nb) { (void)nb; }
static void fz_close(struct net_backend *nb) { (void)nb; }
static const struct net_backend_ops fz_ops = {
    .send = fz_send, .rx_resume = fz_resume, .close = fz_close,
};

/* Registers worth aiming at; other offsets come from the input directly. */
static const uint16_t regs[] = {
    0x0000, 0x0010, 0x0014, 0x0020, 0x00c0, 0x00c8, 0x00d0, 0x00d8, 0x0100, 0x0400,
    0x2800, 0x2804, 0x2808, 0x2810, 0x2818, 0x3800, 0x3804, 0x3808, 0x3810, 0x3818,
    0x5200, 0x5400, 0x5404, 0x4074,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vm *vm = test_vm_new(RAM_SIZE);
    struct pci_bus *bus = pci_bus_create(vm);
    struct net_backend nb = { .ops = &fz_ops, .ctx = vm_main_context(vm) };
    static const uint8_t mac[6] = { 0x52, 0x54, 0, 1, 2, 3 };
    struct e1000 *e = e1000_create_on_backend(vm, bus, mac, &nb, NULL);
    struct pci_device *d = e1000_pci_device(e);
    pci_config_write(bus, d->slot, 0, PCI_COMMAND, 7, 2);
    uint64_t mmio = pci_config_read(bus, d->slot, 0, PCI_BAR0, 4) & ~0xfu;
    uint64_t io = pci_config_read(bus, d->slot, 0, PCI_BAR0 + 4, 4) & ~3u;
    /* A sane starting point that the program then bends. */
    test_mmio_write(vm, mmio + 0x3800, RING, 4);
    test_mmio_write(vm, mmio + 0x3808, 256, 4);
    test_mmio_write(vm, mmio + 0x2800, RING + 0x1000, 4);
    test_mmio_write(vm, mmio + 0x2808, 256, 4);
    test_mmio_write(vm, mmio + 0x2818, 15, 4);
    test_mmio_write(vm, mmio + 0x0100, 0x801a, 4);
    test_mmio_write(vm, mmio + 0x0400, 0x2, 4);

    struct cursor c = { data, size };
    unsigned steps = 0;
    while (c.left && steps++ < 256) {
        uint8_t op = cursor_u8(&c);
        switch (op % 7) {
        case 0: {
            uint16_t r = regs[cursor_u8(&c) % G_N_ELEMENTS(regs)];
            test_mmio_write(vm, mmio + r, cursor_u32(&c), 4);
            break;
        }
        case 1: {
            uint32_t off = cursor_u32(&c) % (E1000_MMIO_SIZE + 8);
            unsigned sz = 1u << (cursor_u8(&c) % 3);
            if (cursor_u8(&c) & 1)
                test_mmio_write(vm, mmio + off, cursor_u32(&c), sz);
            else
                (void)test_mmio_read(vm, mmio + off, sz);
            break;
        }
        case 2: {
            /* A descriptor in one of the rings. */
            uint8_t desc[16];
            unsigned ring = cursor_u8(&c) & 1, idx = cursor_u8(&c) % 16;
            uint8_t kind = cursor_u8(&c);
            uint64_t addr = kind & 1 ? (uint64_t)cursor_u32(&c) | (uint64_t)cursor_u32(&c) << 32
                                     : BUFS + (uint64_t)(cursor_u8(&c)) * 0x800;
            memcpy(desc, &addr, 8);
            uint32_t w2 = cursor_u32(&c), w3 = cursor_u32(&c);
            memcpy(desc + 8, &w2, 4);
            memcpy(desc + 12, &w3, 4);
            guest_memory_write(vm_memory(vm), RING + ring * 0x1000 + idx * 16, desc, 16);
            break;
        }
        case 3: {
            /* Frame bytes in a TX buffer. */
            uint32_t at = BUFS + (uint32_t)cursor_u8(&c) * 0x800;
            size_t want = (size_t)cursor_u8(&c) * 8;
            size_t n = MIN(c.left, want);
            guest_memory_write(vm_memory(vm), at, c.p, n);
            c.p += n;
            c.left -= n;
            break;
        }
        case 4: {
            /* A frame from the network. */
            uint8_t frame[2048];
            bool to_us = cursor_u8(&c) & 1;
            size_t want = (size_t)cursor_u8(&c) * 8 + 14;
            size_t n = MIN(c.left, want);
            memcpy(frame, c.p, n);
            c.p += n;
            c.left -= n;
            if (to_us)
                memcpy(frame, mac, MIN(n, (size_t)6));
            if (nb.receive)
                nb.receive(nb.receive_opaque, frame, n);
            break;
        }
        case 5:
            while (g_main_context_iteration(vm_main_context(vm), FALSE))
                ;
            break;
        case 6: {
            uint32_t off = cursor_u8(&c) % 8;
            test_pio_write(vm, io, (uint32_t)regs[cursor_u8(&c) % G_N_ELEMENTS(regs)], 4);
            if (off & 1)
                test_pio_write(vm, io + 4, cursor_u32(&c), 4);
            else
                (void)test_pio_read(vm, io + 4, 4);
            break;
        }
        }
    }
    while (g_main_context_iteration(vm_main_context(vm), FALSE))
        ;
    e1000_free(e);
    pci_bus_free(bus);
    test_vm_free(vm);
    return 0;
}
