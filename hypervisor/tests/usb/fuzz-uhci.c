/* libFuzzer target: the UHCI controller with a tablet, driven by a program
 * read from the fuzz input: register writes, schedule elements (frame list
 * entries, queue heads, TDs with any token, link and buffer pointer), pointer
 * events and frames processed.  Looping and dangling schedules must end
 * within the frame budget and never touch memory outside guest RAM. */
#include <stdint.h>
#include <string.h>
#include <glib.h>

#include "usb/usb_uhci.h"
#include "usb/usb_hid_tablet.h"
#include "input/input.h"
#include "pci/pci.h"
#include "tests/support/fuzz_cursor.h"
#include "tests/support/test_vm.h"

#define RAM_SIZE (16u << 20)
#define FL       0x10000u
#define ELEMS    0x11000u       /* 64 slots of 16 bytes for QHs and TDs */
#define BUFS     0x20000u

static void put32(struct vm *vm, uint64_t gpa, uint32_t v)
{
    guest_memory_write(vm_memory(vm), gpa, &v, 4);
}

/* A link to one of the element slots, usually well-formed. */
static uint32_t link_to(struct cursor *c)
{
    uint8_t b = cursor_u8(c);
    if (b == 0xff)
        return cursor_u32(c);
    return (ELEMS + (b % 64) * 16) | ((b >> 6) & 3) | (cursor_u8(c) & 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vm *vm = test_vm_new(RAM_SIZE);
    struct pci_bus *bus = pci_bus_create(vm);
    struct input_router *router = input_router_new();
    struct usb_uhci *u = uhci_create(vm, bus, NULL);
    uhci_attach_tablet(u, 0, router, NULL);
    pci_config_write(bus, UHCI_PCI_SLOT, UHCI_PCI_FUNC, PCI_COMMAND, 5, 2);
    uint64_t io = pci_config_read(bus, UHCI_PCI_SLOT, UHCI_PCI_FUNC, PCI_BAR0 + 16, 4) & ~3u;
    for (unsigned i = 0; i < 1024; i++)
        put32(vm, FL + i * 4, ELEMS | 2);
    test_pio_write(vm, io + 0x08, FL, 4);
    test_pio_write(vm, io + 0x10, 0x200, 2);
    test_pio_write(vm, io + 0x10, 0x4, 2);
    test_pio_write(vm, io + 0x04, 0xf, 2);
    test_pio_write(vm, io + 0x00, 0x1, 2);

    struct cursor c = { data, size };
    unsigned steps = 0;
    while (c.left && steps++ < 256) {
        switch (cursor_u8(&c) % 7) {
        case 0: {
            unsigned off = cursor_u8(&c) % 0x24;
            unsigned sz = 1u << (cursor_u8(&c) % 3);
            test_pio_write(vm, io + off, cursor_u32(&c), sz);
            break;
        }
        case 1:
            (void)test_pio_read(vm, io + cursor_u8(&c) % 0x24, 1u << (cursor_u8(&c) % 3));
            break;
        case 2: {
            /* A TD: link, control/status, token, buffer. */
            uint64_t at = ELEMS + (cursor_u8(&c) % 64) * 16;
            put32(vm, at, link_to(&c));
            put32(vm, at + 4, cursor_u32(&c) | 1u << 23);
            uint32_t token = cursor_u32(&c);
            if (cursor_u8(&c) & 1)     /* mostly plausible PIDs and sizes */
                token = (token & 0x001fff00u) | (uint32_t)(cursor_u8(&c) % 0x50) << 21 |
                        (const uint8_t[]){ 0x2d, 0x69, 0xe1 }[cursor_u8(&c) % 3];
            put32(vm, at + 8, token);
            uint8_t b = cursor_u8(&c);
            put32(vm, at + 12, b == 0xff ? cursor_u32(&c) : BUFS + b * 0x100u);
            break;
        }
        case 3: {
            /* A QH: horizontal and element links. */
            uint64_t at = ELEMS + (cursor_u8(&c) % 64) * 16;
            put32(vm, at, link_to(&c));
            put32(vm, at + 4, link_to(&c));
            break;
        }
        case 4: {
            /* Frame list entries, or setup packets in buffers. */
            if (cursor_u8(&c) & 1) {
                put32(vm, FL + (cursor_u8(&c) % 16) * 4, link_to(&c));
            } else {
                uint8_t setup[8];
                for (unsigned i = 0; i < 8; i++)
                    setup[i] = cursor_u8(&c);
                guest_memory_write(vm_memory(vm), BUFS + cursor_u8(&c) * 0x100u, setup, 8);
            }
            break;
        }
        case 5: {
            int x = (int)(cursor_u32(&c) % 2000), y = (int)(cursor_u32(&c) % 2000);
            input_send_pointer(router, x, y, 1024, 768, cursor_u8(&c) & 0x1f);
            break;
        }
        case 6:
            uhci_run_frames(u, 1 + cursor_u8(&c) % 8);
            break;
        }
    }
    uhci_free(u);
    input_router_free(router);
    pci_bus_free(bus);
    test_vm_free(vm);
    return 0;
}
