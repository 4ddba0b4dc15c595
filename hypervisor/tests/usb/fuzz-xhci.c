/* libFuzzer target: the xHCI controller with a tablet and a keyboard,
 * driven by a program read from the fuzz input: register writes and reads
 * (including doorbells), TRBs anywhere in a small ring area (any type,
 * flags, lengths and pointers, Link TRBs that loop), device and input
 * context words, DCBAA entries, pointer and key events.  Every walk must
 * end within its budget and never touch memory outside guest RAM. */
#include <stdint.h>
#include <string.h>
#include <glib.h>

#include "usb/xhci.h"
#include "input/input.h"
#include "pci/pci.h"
#include "tests/support/fuzz_cursor.h"
#include "tests/support/test_vm.h"

#define RAM_SIZE (16u << 20)
#define DCBAA    0x10000u
#define RINGS    0x11000u       /* 256 TRB slots */
#define ERST     0x12000u
#define EVENTS   0x13000u       /* 16 TRBs */
#define CTX      0x14000u       /* input and device contexts */
#define BUFS     0x20000u

static void put32(struct vm *vm, uint64_t gpa, uint32_t v)
{
    v = GUINT32_TO_LE(v);
    guest_memory_write(vm_memory(vm), gpa, &v, 4);
}

/* A pointer: usually into the ring, context or buffer areas, sometimes
 * anything. */
static uint64_t pointer(struct cursor *c)
{
    uint8_t b = cursor_u8(c);
    switch (b & 3) {
    case 0: return RINGS + (b >> 2) * 16u * 4;
    case 1: return CTX + (b >> 2) * 32u;
    case 2: return BUFS + (b >> 2) * 0x100u;
    default: return cursor_u32(c) | (uint64_t)(cursor_u8(c) & 1 ? cursor_u32(c) : 0) << 32;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vm *vm = test_vm_new(RAM_SIZE);
    struct pci_bus *bus = pci_bus_create(vm);
    struct input_router *router = input_router_new();
    struct xhci *x = xhci_create(vm, bus, NULL);
    xhci_attach_tablet(x, 0, router, NULL);
    xhci_attach_keyboard(x, 1, router, NULL);
    struct pci_device *d = xhci_pci_device(x);
    pci_config_write(bus, d->slot, 0, PCI_COMMAND, 6, 2);
    uint64_t bar = pci_config_read(bus, d->slot, 0, PCI_BAR0, 4) & ~0xfu;

    /* A driver's start, so that programs get to the rings quickly. */
    put32(vm, ERST, EVENTS);
    put32(vm, ERST + 8, 16);
    test_mmio_write(vm, bar + 0x40 + 0x38, 8, 4);
    test_mmio_write(vm, bar + 0x40 + 0x30, DCBAA, 4);
    test_mmio_write(vm, bar + 0x40 + 0x18, RINGS | 1, 4);
    test_mmio_write(vm, bar + 0x1028, 1, 4);
    test_mmio_write(vm, bar + 0x1038, EVENTS, 4);
    test_mmio_write(vm, bar + 0x1030, ERST, 4);
    test_mmio_write(vm, bar + 0x1020, 2, 4);
    test_mmio_write(vm, bar + 0x40, 5, 4);

    struct cursor c = { data, size };
    unsigned steps = 0;
    while (c.left && steps++ < 256) {
        switch (cursor_u8(&c) % 9) {
        case 0: {
            unsigned off = (cursor_u8(&c) | cursor_u8(&c) << 8) % 0x4000 & ~3u;
            test_mmio_write(vm, bar + off, cursor_u32(&c), cursor_u8(&c) & 1 ? 8 : 4);
            break;
        }
        case 1: {
            unsigned off = (cursor_u8(&c) | cursor_u8(&c) << 8) % 0x4000;
            (void)test_mmio_read(vm, bar + off, 1u << (cursor_u8(&c) % 4));
            break;
        }
        case 2: {
            /* A TRB: any control word, mostly plausible types. */
            uint64_t at = RINGS + (cursor_u8(&c) % 256) * 16u;
            uint64_t p = pointer(&c);
            uint32_t status = cursor_u32(&c), control = cursor_u32(&c);
            if (cursor_u8(&c) & 1)
                control = (control & ~(0x3fu << 10)) | (uint32_t)(1 + cursor_u8(&c) % 23) << 10;
            if (((control >> 10) & 0x3f) == 2)     /* Setup: the request is inline */
                p = (uint64_t)cursor_u32(&c) | (uint64_t)cursor_u32(&c) << 32;
            put32(vm, at, (uint32_t)p);
            put32(vm, at + 4, (uint32_t)(p >> 32));
            put32(vm, at + 8, status);
            put32(vm, at + 12, control);
            break;
        }
        case 3: {
            /* Context words: input control, slot and endpoint contexts. */
            uint64_t at = CTX + (cursor_u8(&c) % 128) * 4u;
            uint32_t v = cursor_u32(&c);
            if ((at - CTX) % 32 == 8 && (cursor_u8(&c) & 1))
                v = (uint32_t)pointer(&c) | (v & 1);
            put32(vm, at, v);
            break;
        }
        case 4: {
            unsigned slot = cursor_u8(&c) % 9;
            uint64_t p = pointer(&c);
            put32(vm, DCBAA + slot * 8, (uint32_t)p);
            put32(vm, DCBAA + slot * 8 + 4, (uint32_t)(p >> 32));
            break;
        }
        case 5: {
            /* A doorbell. */
            unsigned n = cursor_u8(&c) % 10;
            test_mmio_write(vm, bar + 0x2000 + n * 4, cursor_u8(&c) % 33, 4);
            break;
        }
        case 6: {
            int px = (int)(cursor_u32(&c) % 2000), py = (int)(cursor_u32(&c) % 2000);
            input_send_pointer(router, px, py, 1024, 768, cursor_u8(&c) & 0x1f);
            break;
        }
        case 7: {
            uint16_t sc = cursor_u8(&c);
            if (sc & 0x80)
                sc = 0xe000 | (sc & 0x7f);
            input_send_key(router, sc, cursor_u8(&c) & 1);
            break;
        }
        case 8: {
            /* A port register write (reset, link state, change bits). */
            unsigned p = cursor_u8(&c) % 8;
            test_mmio_write(vm, bar + 0x440 + p * 16, cursor_u32(&c), 4);
            break;
        }
        }
    }
    xhci_free(x);
    input_router_free(router);
    pci_bus_free(bus);
    test_vm_free(vm);
    return 0;
}
