/* libFuzzer target: arbitrary bytes as the body of a VM state file (the
 * sections and end marker), framed with a valid header, size and checksum
 * so that the fuzzer reaches the section parser; then every section it
 * finds fed to the device loaders: the UART, i8042 and RTC, and every
 * section a test VM registers (the PCI bus, the chipset, virtio-rng with
 * its transport and MSI-X, UHCI with the tablet, xHCI with the tablet and
 * keyboard, IDE and AHCI). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <glib.h>

#include "core/state_file.h"
#include "core/state_stream.h"
#include "devices/i8042.h"
#include "devices/rtc_cmos.h"
#include "devices/uart16550.h"
#include "storage/ahci.h"
#include "storage/ide.h"
#include "usb/usb_uhci.h"
#include "usb/xhci.h"
#include "core/vm_state.h"
#include "pci/pci.h"
#include "virtio/virtio_devices.h"
#include "tests/support/test_vm.h"

static void put_le(GByteArray *b, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint8_t c = (uint8_t)(v >> (8 * i));
        g_byte_array_append(b, &c, 1);
    }
}

static void uart_irq(void *opaque, bool level) { }
static void uart_tx(void *opaque, uint8_t b) { }
static const struct uart16550_ops uart_ops = { .set_irq = uart_irq, .transmit = uart_tx };
static void kbd_irq(void *opaque, unsigned irq, bool level) { }
static void kbd_reset(void *opaque) { }
static const struct i8042_ops kbd_ops = { .set_irq = kbd_irq, .reset = kbd_reset };
static void rtc_irq(void *opaque, bool level) { }
static const struct rtc_cmos_ops rtc_ops = { .set_irq = rtc_irq };

static void load_all(const struct state_section *s)
{
    struct uart16550 *u = uart16550_new(&uart_ops, NULL);
    struct i8042 *k = i8042_new(&kbd_ops, NULL);
    struct rtc_cmos *r = rtc_cmos_new(&rtc_ops, NULL, NULL);
    struct state_in in;
    GError *error = NULL;
    state_in_init(&in, s->data, s->len, s->name);
    if (uart16550_load(u, &in, 1, &error))
        uart16550_read(u, UART_RBR, 1);
    g_clear_error(&error);
    state_in_init(&in, s->data, s->len, s->name);
    i8042_load(k, &in, 1, &error);
    g_clear_error(&error);
    state_in_init(&in, s->data, s->len, s->name);
    rtc_cmos_load(r, &in, 1, &error);
    g_clear_error(&error);
    uart16550_free(u);
    i8042_free(k);
    rtc_cmos_free(r);
}

/* One test VM for the whole run: loaders must leave a device usable
 * whatever they were given, so state carried between inputs is fair. */
static struct vm *test_machine(void)
{
    static struct vm *vm;
    if (vm)
        return vm;
    vm = test_vm_new(16 << 20);
    struct pci_bus *bus = pci_bus_create(vm);
    GError *error = NULL;
    if (!virtio_rng_create(vm, bus, &error) || !uhci_create(vm, bus, &error) ||
        !piix3_ide_create(vm, bus, &error) || !ahci_create(vm, bus, 2, &error))
        __builtin_trap();
    struct xhci *x = xhci_create(vm, bus, &error);
    if (!x || !xhci_attach_tablet(x, 0, NULL, &error) || !xhci_attach_keyboard(x, 1, NULL, &error))
        __builtin_trap();
    return vm;
}

static void load_into_machine(const struct state_section *s)
{
    struct vm *vm = test_machine();
    GPtrArray *entries = vm_state_entries(vm_state_registry_of(vm));
    for (guint i = 0; i < entries->len; i++) {
        const struct vm_state_entry *e = entries->pdata[i];
        if (!e->ops)
            continue;
        struct state_in in;
        GError *error = NULL;
        state_in_init(&in, s->data, s->len, e->name);
        e->ops->load(e->opaque, &in, e->ops->version, &error);
        g_clear_error(&error);
    }
    g_ptr_array_unref(entries);
    /* Whatever was loaded, the guest may now poke the devices. */
    test_vm_platform_reset(vm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GByteArray *b = g_byte_array_new();
    g_byte_array_append(b, (const guint8 *)STATE_MAGIC, STATE_MAGIC_LEN);
    put_le(b, STATE_FORMAT_VERSION, 4);
    put_le(b, 0, 4);
    /* The "file" section with the total size: head 17 + 8 bytes. */
    uint64_t total = 16 + 17 + 8 + size + 4;
    put_le(b, 4, 1);
    g_byte_array_append(b, (const guint8 *)"file", 4);
    put_le(b, 1, 4);
    put_le(b, 8, 8);
    put_le(b, total, 8);
    g_byte_array_append(b, data, (guint)size);
    put_le(b, state_file_crc(state_file_crc(0, NULL, 0), b->data, b->len), 4);

    GError *error = NULL;
    struct state_file *f = state_file_parse(b->data, b->len, &error);
    if (f) {
        for (unsigned i = 0; i < state_file_section_count(f); i++) {
            const struct state_section *s = state_file_section_at(f, i);
            if (s->data < b->data || s->data + s->len > b->data + b->len)
                __builtin_trap();
            load_all(s);
            load_into_machine(s);
        }
        state_file_free(f);
    } else if (!error) {
        __builtin_trap();
    }
    g_clear_error(&error);
    g_byte_array_unref(b);
    return 0;
}
