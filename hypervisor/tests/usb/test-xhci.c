/* Unit tests of the xHCI controller: rings and contexts built in test
 * guest memory the way a driver builds them; the tablet and keyboard
 * enumerated through control transfers; reports through interrupt IN
 * transfers; the event ring wrapping; bad pointers, sizes and ids refused
 * with completion codes; the VM state. */
#include <string.h>
#include <glib.h>

#include "usb/xhci.h"
#include "usb/usb_hid_tablet.h"
#include "usb/usb_hid_keyboard.h"
#include "input/input.h"
#include "pci/pci.h"
#include "core/state_stream.h"
#include "tests/support/test_vm.h"

#define RAM       (32u << 20)
#define DCBAA     0x10000u
#define CMD_RING  0x11000u
#define CMD_TRBS  64u
#define ERST      0x12000u
#define EV_RING   0x13000u
#define EV_TRBS   16u
#define INPUT_CTX 0x14000u
#define OUT_CTX   0x15000u
#define EP0_RING  0x16000u
#define EP1_RING  0x17000u
#define BUF       0x20000u
#define OUTSIDE   0x80000000ull     /* beyond RAM */

/* Register offsets, as the capability registers announce them. */
#define OP        0x40u
#define USBCMD    (OP + 0x00)
#define USBSTS    (OP + 0x04)
#define CRCR      (OP + 0x18)
#define DCBAAP    (OP + 0x30)
#define CONFIG    (OP + 0x38)
#define PORTSC(p) (OP + 0x400 + 0x10 * (p))
#define IR0       (0x1000u + 0x20)
#define IMAN      (IR0 + 0x00)
#define ERSTSZ    (IR0 + 0x08)
#define ERSTBA    (IR0 + 0x10)
#define ERDP      (IR0 + 0x18)
#define DB(n)     (0x2000u + 4 * (n))

enum {
    T_NORMAL = 1, T_SETUP = 2, T_DATA = 3, T_STATUS = 4, T_LINK = 6, T_ENABLE_SLOT = 9,
    T_DISABLE_SLOT = 10, T_ADDRESS = 11, T_CONFIGURE = 12, T_EVALUATE = 13, T_RESET_EP = 14,
    T_STOP_EP = 15, T_SET_DEQ = 16, T_NOOP_CMD = 23, T_TRANSFER_EV = 32, T_CMD_EV = 33,
    T_PORT_EV = 34, T_HC_EV = 37,
};

struct trb {
    uint64_t param;
    uint32_t status, control;
};

struct ring {
    uint64_t base;
    unsigned n, idx;
    bool cycle;
};

struct fixture {
    struct vm *vm;
    struct pci_bus *bus;
    struct input_router *router;
    struct xhci *x;
    struct usb_hid_tablet *tablet;
    struct usb_hid_keyboard *kbd;
    uint64_t bar;
    int gsi;
    struct ring cmd;
    unsigned ev_idx;
    bool ev_cycle;
    struct ring ep0, ep1;
};

static struct guest_memory *mem(struct fixture *f) { return vm_memory(f->vm); }

static uint32_t rd(struct fixture *f, unsigned off) { return (uint32_t)test_mmio_read(f->vm, f->bar + off, 4); }
static void wr(struct fixture *f, unsigned off, uint32_t v) { test_mmio_write(f->vm, f->bar + off, v, 4); }
static void wr64(struct fixture *f, unsigned off, uint64_t v)
{
    wr(f, off, (uint32_t)v);
    wr(f, off + 4, (uint32_t)(v >> 32));
}

static void put32(struct fixture *f, uint64_t gpa, uint32_t v)
{
    v = GUINT32_TO_LE(v);
    g_assert_true(guest_memory_write(mem(f), gpa, &v, 4));
}

static uint32_t get32(struct fixture *f, uint64_t gpa)
{
    uint32_t v = 0;
    g_assert_true(guest_memory_read(mem(f), gpa, &v, 4));
    return GUINT32_FROM_LE(v);
}

static void put64(struct fixture *f, uint64_t gpa, uint64_t v)
{
    put32(f, gpa, (uint32_t)v);
    put32(f, gpa + 4, (uint32_t)(v >> 32));
}

static void put_trb(struct fixture *f, uint64_t gpa, const struct trb *t)
{
    put64(f, gpa, t->param);
    put32(f, gpa + 8, t->status);
    put32(f, gpa + 12, t->control);
}

static struct trb get_trb(struct fixture *f, uint64_t gpa)
{
    struct trb t;
    t.param = get32(f, gpa) | (uint64_t)get32(f, gpa + 4) << 32;
    t.status = get32(f, gpa + 8);
    t.control = get32(f, gpa + 12);
    return t;
}

static void ring_init(struct fixture *f, struct ring *r, uint64_t base, unsigned n)
{
    *r = (struct ring){ base, n, 0, true };
    for (unsigned i = 0; i < n; i++)
        put_trb(f, base + i * 16ull, &(struct trb){ 0 });
    /* The last TRB links back with toggle cycle. */
    put_trb(f, base + (n - 1) * 16ull, &(struct trb){ base, 0, T_LINK << 10 | 2 });
}

/* Queue a TRB (type and flags in control, cycle added); returns its address. */
static uint64_t ring_push(struct fixture *f, struct ring *r, uint64_t param, uint32_t status,
                          uint32_t control)
{
    uint64_t at = r->base + r->idx * 16ull;
    put_trb(f, at, &(struct trb){ param, status, control | r->cycle });
    if (++r->idx == r->n - 1) {
        /* Hand the link over with the current cycle, then toggle. */
        uint64_t link = r->base + r->idx * 16ull;
        put32(f, link + 12, (get32(f, link + 12) & ~1u) | r->cycle);
        r->idx = 0;
        r->cycle = !r->cycle;
    }
    return at;
}

static bool next_event(struct fixture *f, struct trb *ev)
{
    struct trb t = get_trb(f, EV_RING + f->ev_idx * 16ull);
    if ((t.control & 1) != f->ev_cycle)
        return false;
    *ev = t;
    if (++f->ev_idx == EV_TRBS) {
        f->ev_idx = 0;
        f->ev_cycle = !f->ev_cycle;
    }
    /* Tell the controller, clearing Event Handler Busy. */
    wr64(f, ERDP, (EV_RING + f->ev_idx * 16ull) | 8);
    return true;
}

static struct trb expect_event(struct fixture *f, unsigned type)
{
    struct trb ev;
    g_assert_true(next_event(f, &ev));
    g_assert_cmpuint((ev.control >> 10) & 0x3f, ==, type);
    return ev;
}

static void no_event(struct fixture *f)
{
    struct trb ev;
    g_assert_false(next_event(f, &ev));
}

static unsigned cc_of(const struct trb *ev) { return ev->status >> 24; }

/* Run a command; returns its completion event. */
static struct trb command(struct fixture *f, uint64_t param, uint32_t status, uint32_t control)
{
    uint64_t at = ring_push(f, &f->cmd, param, status, control);
    wr(f, DB(0), 0);
    struct trb ev = expect_event(f, T_CMD_EV);
    g_assert_cmphex(ev.param, ==, at);
    return ev;
}

static void setup(struct fixture *f, gconstpointer data)
{
    (void)data;
    memset(f, 0, sizeof(*f));
    f->vm = test_vm_new(RAM);
    f->bus = pci_bus_create(f->vm);
    f->router = input_router_new();
    g_autoptr(GError) err = NULL;
    f->x = xhci_create(f->vm, f->bus, &err);
    g_assert_no_error(err);
    f->tablet = xhci_attach_tablet(f->x, 0, f->router, &err);
    g_assert_no_error(err);
    f->kbd = xhci_attach_keyboard(f->x, 1, f->router, &err);
    g_assert_no_error(err);
    struct pci_device *d = xhci_pci_device(f->x);
    g_assert_cmphex(pci_config_read(f->bus, d->slot, 0, PCI_VENDOR_ID, 4), ==, 0x000d1b36);
    g_assert_cmphex(pci_config_read(f->bus, d->slot, 0, PCI_REVISION_ID, 4) >> 8, ==, 0x0c0330);
    pci_config_write(f->bus, d->slot, 0, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    f->bar = (pci_config_read(f->bus, d->slot, 0, PCI_BAR0, 4) & ~0xfu) |
             (uint64_t)pci_config_read(f->bus, d->slot, 0, PCI_BAR0 + 4, 4) << 32;
    g_assert_cmphex(f->bar, !=, 0);
    f->gsi = pci_device_intx_gsi(d);
}

static void teardown(struct fixture *f, gconstpointer data)
{
    (void)data;
    xhci_free(f->x);
    input_router_free(f->router);
    pci_bus_free(f->bus);
    test_vm_free(f->vm);
}

/* What a driver does before R/S: reset, DCBAA, command ring, event ring. */
static void start(struct fixture *f)
{
    g_assert_cmphex(rd(f, 0) & 0xff, ==, OP);
    g_assert_cmphex(rd(f, 0x14), ==, 0x2000);
    g_assert_cmphex(rd(f, 0x18), ==, 0x1000);
    wr(f, USBCMD, 2);                                   /* HCRST */
    g_assert_cmphex(rd(f, USBSTS) & 1, ==, 1);          /* halted */
    wr(f, CONFIG, 8);
    for (unsigned i = 0; i < 9; i++)
        put64(f, DCBAA + i * 8, 0);
    wr64(f, DCBAAP, DCBAA);
    ring_init(f, &f->cmd, CMD_RING, CMD_TRBS);
    wr64(f, CRCR, CMD_RING | 1);
    for (unsigned i = 0; i < EV_TRBS; i++)
        put_trb(f, EV_RING + i * 16ull, &(struct trb){ 0 });
    put64(f, ERST, EV_RING);
    put32(f, ERST + 8, EV_TRBS);
    put32(f, ERST + 12, 0);
    wr(f, ERSTSZ, 1);
    wr64(f, ERDP, EV_RING);
    wr64(f, ERSTBA, ERST);
    f->ev_idx = 0;
    f->ev_cycle = true;
    wr(f, IMAN, 2);                                     /* IE */
    wr(f, USBCMD, 1 | 4);                               /* R/S, INTE */
    g_assert_cmphex(rd(f, USBSTS) & 1, ==, 0);
}

/* Reset USB 2 port p (0-based) as a driver does; its change event comes. */
static void port_reset(struct fixture *f, unsigned p)
{
    uint32_t sc = rd(f, PORTSC(p));
    g_assert_cmphex(sc & 1, ==, 1);                     /* connected */
    g_assert_cmphex((sc >> 10) & 0xf, ==, 1);           /* full speed */
    wr(f, PORTSC(p), (sc & 0x0e00c3e0) | (1u << 17) | (1u << 4));  /* ack CSC, PR */
    struct trb ev = expect_event(f, T_PORT_EV);
    g_assert_cmpuint(ev.param >> 24, ==, p + 1);
    sc = rd(f, PORTSC(p));
    g_assert_cmphex(sc & 2, ==, 2);                     /* enabled */
    g_assert_cmphex(sc & (1u << 21), !=, 0);            /* PRC */
    g_assert_cmphex((sc >> 5) & 0xf, ==, 0);            /* U0 */
    wr(f, PORTSC(p), (sc & 0x0e00c3e0) | (1u << 21));
    g_assert_cmphex(rd(f, PORTSC(p)) & (1u << 21), ==, 0);
}

static void put_ctx(struct fixture *f, uint64_t gpa, const uint32_t c[8])
{
    for (unsigned i = 0; i < 8; i++)
        put32(f, gpa + i * 4, c[i]);
}

/* Input context for Address Device: slot on root port `port` (1-based),
 * endpoint 0 with ring r. */
static void input_address(struct fixture *f, unsigned port, uint64_t ring)
{
    for (unsigned i = 0; i < 33 * 8; i++)
        put32(f, INPUT_CTX + i * 4, 0);
    put32(f, INPUT_CTX + 4, 3);                                         /* A0, A1 */
    put_ctx(f, INPUT_CTX + 32, (uint32_t[8]){ 1u << 27 | 1u << 20, (uint32_t)port << 16 });
    put_ctx(f, INPUT_CTX + 64, (uint32_t[8]){ 0, 3u << 1 | 4u << 3 | 8u << 16,
                                              (uint32_t)ring | 1, (uint32_t)(ring >> 32) });
}

/* Enable a slot and address the device on port (1-based); returns the slot. */
static unsigned enumerate(struct fixture *f, unsigned port)
{
    port_reset(f, port - 1);
    struct trb ev = command(f, 0, 0, T_ENABLE_SLOT << 10);
    g_assert_cmpuint(cc_of(&ev), ==, 1);
    unsigned slot = ev.control >> 24;
    g_assert_cmpuint(slot, >=, 1);
    put64(f, DCBAA + slot * 8, OUT_CTX + (slot - 1) * 0x400);
    ring_init(f, &f->ep0, EP0_RING + (slot - 1) * 0x400, 16);
    input_address(f, port, f->ep0.base);
    ev = command(f, INPUT_CTX, 0, T_ADDRESS << 10 | slot << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 1);
    g_assert_cmpuint(ev.control >> 24, ==, slot);
    uint64_t out = OUT_CTX + (slot - 1) * 0x400;
    g_assert_cmpuint(get32(f, out + 12) >> 27, ==, 2);                 /* Addressed */
    g_assert_cmpuint(get32(f, out + 12) & 0xff, ==, slot);
    g_assert_cmpuint(get32(f, out + 32) & 7, ==, 1);                    /* ep0 running */
    return slot;
}

/* A control transfer on ep0: setup, optional IN data stage of len bytes
 * into BUF, status.  Returns the completion code of the last event and
 * the bytes received. */
static unsigned control_in(struct fixture *f, unsigned slot, uint8_t rt, uint8_t req,
                           uint16_t value, uint16_t index, uint16_t len, unsigned *got)
{
    uint64_t setup = rt | (uint64_t)req << 8 | (uint64_t)value << 16 |
                     (uint64_t)index << 32 | (uint64_t)len << 48;
    unsigned trt = len ? ((rt & 0x80) ? 3 : 2) : 0;
    ring_push(f, &f->ep0, setup, 8, T_SETUP << 10 | 1u << 6 | trt << 16);
    uint64_t data = 0;
    if (len)
        data = ring_push(f, &f->ep0, BUF, len, T_DATA << 10 | 1u << 2 | ((rt & 0x80) ? 1u << 16 : 0));
    uint64_t status = ring_push(f, &f->ep0, 0, 0, T_STATUS << 10 | 1u << 5 |
                                ((rt & 0x80) && len ? 0 : 1u << 16));
    wr(f, DB(slot), 1);
    *got = len;
    struct trb ev = expect_event(f, T_TRANSFER_EV);
    if (cc_of(&ev) == 13) {                             /* short data stage */
        g_assert_cmphex(ev.param, ==, data);
        *got = len - (ev.status & 0xffffff);
        ev = expect_event(f, T_TRANSFER_EV);
    }
    if (cc_of(&ev) == 1)
        g_assert_cmphex(ev.param, ==, status);
    g_assert_cmpuint((ev.control >> 16) & 0x1f, ==, 1);
    g_assert_cmpuint(ev.control >> 24, ==, slot);
    return cc_of(&ev);
}

/* Configure the interrupt IN endpoint 1 (DCI 3) with ring f->ep1. */
static void configure_ep1(struct fixture *f, unsigned slot)
{
    ring_init(f, &f->ep1, EP1_RING + (slot - 1) * 0x400, 16);
    for (unsigned i = 0; i < 33 * 8; i++)
        put32(f, INPUT_CTX + i * 4, 0);
    put32(f, INPUT_CTX + 4, 1u | 1u << 3);                              /* A0, A3 */
    put_ctx(f, INPUT_CTX + 32, (uint32_t[8]){ 3u << 27, 1u << 16 });
    put_ctx(f, INPUT_CTX + 32 * 4, (uint32_t[8]){ 3u << 16, 3u << 1 | 7u << 3 | 8u << 16,
                                                  (uint32_t)f->ep1.base | 1, 0 });
    struct trb ev = command(f, INPUT_CTX, 0, T_CONFIGURE << 10 | slot << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 1);
    uint64_t out = OUT_CTX + (slot - 1) * 0x400;
    g_assert_cmpuint(get32(f, out + 12) >> 27, ==, 3);                 /* Configured */
    g_assert_cmpuint(get32(f, out + 32 * 3) & 7, ==, 1);
    unsigned got;
    g_assert_cmpuint(control_in(f, slot, 0x00, 0x09, 1, 0, 0, &got), ==, 1);  /* SET_CONFIGURATION */
}

static void test_enumerate_tablet(struct fixture *f, gconstpointer data)
{
    (void)data;
    start(f);
    /* The capability lists two Supported Protocol entries. */
    uint32_t xecp = (rd(f, 0x10) >> 16) * 4;
    g_assert_cmphex(rd(f, xecp) & 0xff, ==, 2);
    g_assert_cmphex(rd(f, xecp) >> 24, ==, 2);
    g_assert_cmphex(rd(f, xecp + 4), ==, 0x20425355);
    g_assert_cmphex(rd(f, xecp + 16) >> 24, ==, 3);

    unsigned slot = enumerate(f, 1);
    unsigned got;
    g_assert_cmpuint(control_in(f, slot, 0x80, 0x06, 0x0100, 0, 18, &got), ==, 1);
    g_assert_cmpuint(got, ==, 18);
    uint8_t desc[18];
    g_assert_true(guest_memory_read(mem(f), BUF, desc, sizeof(desc)));
    g_assert_cmpuint(desc[0], ==, 18);
    g_assert_cmpuint(desc[1], ==, 1);
    g_assert_cmpuint(desc[8] | desc[9] << 8, ==, 0x1209);
    /* A longer request than the descriptor: short data stage, then status. */
    g_assert_cmpuint(control_in(f, slot, 0x80, 0x06, 0x0200, 0, 255, &got), ==, 1);
    g_assert_cmpuint(got, ==, 34);
    /* The interrupt line follows IMAN.IP (MSI-X is off). */
    g_assert_true(test_vm_irq_level(f->vm, f->gsi));
    wr(f, IMAN, 3);                                     /* ack IP */
    g_assert_false(test_vm_irq_level(f->vm, f->gsi));

    configure_ep1(f, slot);
    g_assert_true(usb_hid_tablet_active(f->tablet));
    /* A poll with no data waits; the report completes it. */
    uint64_t trb = ring_push(f, &f->ep1, BUF + 0x100, 8, T_NORMAL << 10 | 1u << 2 | 1u << 5);
    wr(f, DB(slot), 3);
    no_event(f);
    input_send_pointer(f->router, 50, 100, 101, 201, 1);
    struct trb ev = expect_event(f, T_TRANSFER_EV);
    g_assert_cmpuint(cc_of(&ev), ==, 13);               /* short packet: 6 of 8 */
    g_assert_cmphex(ev.param, ==, trb);
    g_assert_cmpuint(ev.status & 0xffffff, ==, 2);
    g_assert_cmpuint((ev.control >> 16) & 0x1f, ==, 3);
    uint8_t r[6];
    g_assert_true(guest_memory_read(mem(f), BUF + 0x100, r, sizeof(r)));
    g_assert_cmpuint(r[0], ==, 1);
    g_assert_cmpuint(r[1] | r[2] << 8, ==, 50 * 0x7fff / 100);
    g_assert_cmpuint(r[3] | r[4] << 8, ==, 100 * 0x7fff / 200);

    /* Stop, move the dequeue pointer, restart. */
    ring_push(f, &f->ep1, BUF + 0x100, 8, T_NORMAL << 10 | 1u << 5);
    wr(f, DB(slot), 3);
    ev = command(f, 0, 0, T_STOP_EP << 10 | 3u << 16 | slot << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 1);
    uint64_t out = OUT_CTX + (slot - 1) * 0x400;
    g_assert_cmpuint(get32(f, out + 32 * 3) & 7, ==, 3);                /* Stopped */
    g_assert_cmphex(get32(f, out + 32 * 3 + 8) & ~0xfu, ==, f->ep1.base + 16);
    ev = command(f, f->ep1.base | 1, 0, T_SET_DEQ << 10 | 3u << 16 | slot << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 1);
    ring_init(f, &f->ep1, f->ep1.base, 16);
    ring_push(f, &f->ep1, BUF + 0x100, 8, T_NORMAL << 10 | 1u << 5);
    input_send_pointer(f->router, 0, 0, 101, 201, 0);
    wr(f, DB(slot), 3);
    ev = expect_event(f, T_TRANSFER_EV);
    g_assert_cmpuint(cc_of(&ev), ==, 13);               /* short, reported on IOC */
    ev = command(f, 0, 0, T_DISABLE_SLOT << 10 | slot << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 1);
    ev = command(f, 0, 0, T_DISABLE_SLOT << 10 | slot << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 11);               /* Slot Not Enabled */
}

/* A PS/2-like keyboard next to the USB one: counts the keys it gets. */
static void count_key(void *opaque, uint16_t scancode, bool down)
{
    (void)scancode;
    (void)down;
    (*(unsigned *)opaque)++;
}

static const struct input_sink_ops counting_keyboard = { .key = count_key };

static void test_keyboard(struct fixture *f, gconstpointer data)
{
    (void)data;
    unsigned ps2_keys = 0;
    input_router_add_sink(f->router, &counting_keyboard, &ps2_keys);
    start(f);
    /* Until the guest configures the USB keyboard, keys go to the other. */
    input_send_key(f->router, 0x1e, true);
    input_send_key(f->router, 0x1e, false);
    g_assert_cmpuint(ps2_keys, ==, 2);
    unsigned slot = enumerate(f, 2);
    unsigned got;
    g_assert_cmpuint(control_in(f, slot, 0x80, 0x06, 0x0200, 0, 34, &got), ==, 1);
    uint8_t cfg[34];
    g_assert_true(guest_memory_read(mem(f), BUF, cfg, sizeof(cfg)));
    g_assert_cmpuint(cfg[9 + 5], ==, 3);                /* HID */
    g_assert_cmpuint(cfg[9 + 6], ==, 1);                /* boot */
    g_assert_cmpuint(cfg[9 + 7], ==, 1);                /* keyboard */
    configure_ep1(f, slot);
    g_assert_true(usb_hid_keyboard_active(f->kbd));

    /* Left Shift + 'a', then release: three reports, and the other
     * keyboard gets none of them. */
    input_send_key(f->router, 0x2a, true);
    input_send_key(f->router, 0x1e, true);
    input_send_key(f->router, 0x1e, false);
    static const uint8_t want[3][8] = {
        { 0x02, 0, 0 }, { 0x02, 0, 0x04 }, { 0x02, 0, 0 },
    };
    for (unsigned i = 0; i < 3; i++) {
        uint64_t buf = BUF + 0x200 + i * 8;
        ring_push(f, &f->ep1, buf, 8, T_NORMAL << 10 | 1u << 2 | 1u << 5);
        wr(f, DB(slot), 3);
        struct trb ev = expect_event(f, T_TRANSFER_EV);
        g_assert_cmpuint(cc_of(&ev), ==, 1);
        uint8_t r[8];
        g_assert_true(guest_memory_read(mem(f), buf, r, 8));
        g_assert_cmpmem(r, 8, want[i], 8);
    }
    g_assert_cmpuint(ps2_keys, ==, 2);
    /* LEDs through SET_REPORT (an OUT data stage). */
    put32(f, BUF, 0x02);
    uint64_t setup = 0x21 | 0x09 << 8 | 0x0200ull << 16 | 1ull << 48;
    ring_push(f, &f->ep0, setup, 8, T_SETUP << 10 | 1u << 6 | 2u << 16);
    ring_push(f, &f->ep0, BUF, 1, T_DATA << 10);
    ring_push(f, &f->ep0, 0, 0, T_STATUS << 10 | 1u << 5 | 1u << 16);
    wr(f, DB(slot), 1);
    struct trb ev = expect_event(f, T_TRANSFER_EV);
    g_assert_cmpuint(cc_of(&ev), ==, 1);
    g_assert_cmpuint(usb_hid_keyboard_leds(f->kbd), ==, 2);
    g_assert_cmpuint(usb_hid_usage_of_scancode(0xe048), ==, 0x52);
    g_assert_cmpuint(usb_hid_usage_of_scancode(0x1d), ==, 0xe0);
    g_assert_cmpuint(usb_hid_usage_of_scancode(0x7f), ==, 0);
}

static void test_event_ring_wrap(struct fixture *f, gconstpointer data)
{
    (void)data;
    start(f);
    /* Three times round the 16-TRB segment, events taken one by one. */
    for (unsigned i = 0; i < 3 * EV_TRBS + 5; i++) {
        struct trb ev = command(f, 0, 0, T_NOOP_CMD << 10);
        g_assert_cmpuint(cc_of(&ev), ==, 1);
    }
    /* Without the driver taking events, the ring fills: 14 events, then
     * Event Ring Full, one slot left free, and nothing is overwritten. */
    for (unsigned i = 0; i < 20; i++) {
        ring_push(f, &f->cmd, 0, 0, T_NOOP_CMD << 10);
        wr(f, DB(0), 0);
    }
    unsigned n = 0;
    struct trb ev = { 0 };
    for (;;) {
        struct trb t = get_trb(f, EV_RING + f->ev_idx * 16ull);
        if ((t.control & 1) != f->ev_cycle)
            break;
        ev = t;
        n++;
        if (++f->ev_idx == EV_TRBS) {
            f->ev_idx = 0;
            f->ev_cycle = !f->ev_cycle;
        }
        if (n == EV_TRBS)
            break;
    }
    struct trb after = get_trb(f, EV_RING + f->ev_idx * 16ull);
    g_assert_cmpuint(after.control & 1, !=, f->ev_cycle);   /* not overwritten */
    g_assert_cmpuint(n, ==, EV_TRBS - 1);
    g_assert_cmpuint((ev.control >> 10) & 0x3f, ==, T_HC_EV);
    g_assert_cmpuint(cc_of(&ev), ==, 21);               /* Event Ring Full */
    /* Taking them makes room; the next command completes again. */
    wr64(f, ERDP, (EV_RING + f->ev_idx * 16ull) | 8);
    ev = command(f, 0, 0, T_NOOP_CMD << 10);
    g_assert_cmpuint(cc_of(&ev), ==, 1);
}

static void test_bad_input(struct fixture *f, gconstpointer data)
{
    (void)data;
    start(f);
    /* Commands on slots that are not there. */
    struct trb ev = command(f, INPUT_CTX, 0, T_ADDRESS << 10 | 0u << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 11);
    ev = command(f, INPUT_CTX, 0, T_ADDRESS << 10 | 200u << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 11);
    ev = command(f, 0, 0, 63u << 10);                   /* reserved type */
    g_assert_cmpuint(cc_of(&ev), ==, 5);

    port_reset(f, 0);
    ev = command(f, 0, 0, T_ENABLE_SLOT << 10);
    unsigned slot = ev.control >> 24;
    /* Input context outside RAM; DCBAA entry missing; port out of range. */
    ev = command(f, OUTSIDE, 0, T_ADDRESS << 10 | slot << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 17);
    ring_init(f, &f->ep0, EP0_RING, 16);
    input_address(f, 1, EP0_RING);
    ev = command(f, INPUT_CTX, 0, T_ADDRESS << 10 | slot << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 17);               /* DCBAA[slot] is 0 */
    put64(f, DCBAA + slot * 8, OUTSIDE);
    ev = command(f, INPUT_CTX, 0, T_ADDRESS << 10 | slot << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 17);
    put64(f, DCBAA + slot * 8, OUT_CTX);
    input_address(f, 77, EP0_RING);
    ev = command(f, INPUT_CTX, 0, T_ADDRESS << 10 | slot << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 4);
    input_address(f, 1, OUTSIDE);                       /* ep0 ring outside RAM */
    ev = command(f, INPUT_CTX, 0, T_ADDRESS << 10 | slot << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 17);
    input_address(f, 1, EP0_RING);
    ev = command(f, INPUT_CTX, 0, T_ADDRESS << 10 | slot << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 1);
    ev = command(f, INPUT_CTX, 0, T_ADDRESS << 10 | slot << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 19);               /* already addressed */

    /* Endpoint commands: bad ids and states. */
    ev = command(f, 0, 0, T_RESET_EP << 10 | 1u << 16 | slot << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 19);               /* not halted */
    ev = command(f, 0, 0, T_STOP_EP << 10 | 0u << 16 | slot << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 5);
    ev = command(f, 0, 0, T_STOP_EP << 10 | 5u << 16 | slot << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 12);
    /* Configure Endpoint with a ring outside RAM changes nothing. */
    for (unsigned i = 0; i < 33 * 8; i++)
        put32(f, INPUT_CTX + i * 4, 0);
    put32(f, INPUT_CTX + 4, 1u << 3);
    put_ctx(f, INPUT_CTX + 32 * 4, (uint32_t[8]){ 0, 7u << 3 | 8u << 16, (uint32_t)OUTSIDE, 0 });
    ev = command(f, INPUT_CTX, 0, T_CONFIGURE << 10 | slot << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 17);
    g_assert_cmpuint(get32(f, OUT_CTX + 12) >> 27, ==, 2);
    /* An OUT type on an IN endpoint. */
    put_ctx(f, INPUT_CTX + 32 * 4, (uint32_t[8]){ 0, 3u << 3 | 8u << 16, EP1_RING | 1, 0 });
    ev = command(f, INPUT_CTX, 0, T_CONFIGURE << 10 | slot << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 17);

    /* A Setup TRB of 7 bytes: TRB Error, endpoint halted. */
    uint64_t bad = ring_push(f, &f->ep0, 0x0012000001000680ull, 7, T_SETUP << 10 | 1u << 6);
    wr(f, DB(slot), 1);
    ev = expect_event(f, T_TRANSFER_EV);
    g_assert_cmpuint(cc_of(&ev), ==, 5);
    g_assert_cmphex(ev.param, ==, bad);
    g_assert_cmpuint(get32(f, OUT_CTX + 32) & 7, ==, 2);
    wr(f, DB(slot), 1);                                 /* halted: nothing */
    no_event(f);
    ev = command(f, 0, 0, T_RESET_EP << 10 | 1u << 16 | slot << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 1);
    ev = command(f, OUTSIDE | 1, 0, T_SET_DEQ << 10 | 1u << 16 | slot << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 17);

    /* A data stage into a buffer outside RAM: Data Buffer Error. */
    ring_init(f, &f->ep0, EP0_RING + 0x800, 16);
    ev = command(f, f->ep0.base | 1, 0, T_SET_DEQ << 10 | 1u << 16 | slot << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 1);
    ring_push(f, &f->ep0, 0x0012000001000680ull, 8, T_SETUP << 10 | 1u << 6 | 3u << 16);
    bad = ring_push(f, &f->ep0, OUTSIDE, 18, T_DATA << 10 | 1u << 16);
    wr(f, DB(slot), 1);
    ev = expect_event(f, T_TRANSFER_EV);
    g_assert_cmpuint(cc_of(&ev), ==, 2);
    g_assert_cmphex(ev.param, ==, bad);
    ev = command(f, 0, 0, T_RESET_EP << 10 | 1u << 16 | slot << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 1);

    /* A Link TRB pointing at itself without toggling: the walk gives up
     * with a TRB Error instead of spinning. */
    uint64_t loop = EP0_RING + 0xc00;
    put_trb(f, loop, &(struct trb){ loop, 0, T_LINK << 10 | 1 });
    ev = command(f, loop | 1, 0, T_SET_DEQ << 10 | 1u << 16 | slot << 24);
    g_assert_cmpuint(cc_of(&ev), ==, 1);
    wr(f, DB(slot), 1);
    ev = expect_event(f, T_TRANSFER_EV);
    g_assert_cmpuint(cc_of(&ev), ==, 5);
    /* A Link TRB pointing outside RAM: the same. */
    ev = command(f, 0, 0, T_RESET_EP << 10 | 1u << 16 | slot << 24);
    put_trb(f, loop, &(struct trb){ OUTSIDE, 0, T_LINK << 10 | 1 });
    ev = command(f, loop | 1, 0, T_SET_DEQ << 10 | 1u << 16 | slot << 24);
    wr(f, DB(slot), 1);
    ev = expect_event(f, T_TRANSFER_EV);
    g_assert_cmpuint(cc_of(&ev), ==, 5);

    /* Doorbells for slots and endpoints that are not there are ignored. */
    wr(f, DB(0), 5);
    wr(f, DB(7), 1);
    wr(f, DB(slot), 0);
    wr(f, DB(slot), 40);
    no_event(f);

    /* A command ring outside RAM: Host System Error, no event. */
    wr(f, USBCMD, 0);
    wr64(f, CRCR, OUTSIDE | 1);
    wr(f, USBCMD, 1);
    wr(f, DB(0), 0);
    no_event(f);
    g_assert_cmphex(rd(f, USBSTS) & (1u << 2), !=, 0);

    /* An event ring segment of 8 TRBs is refused: Host Controller Error
     * when an event is due. */
    put32(f, ERST + 8, 8);
    wr64(f, ERSTBA, ERST);
    wr(f, PORTSC(0), rd(f, PORTSC(0)) | 1u << 4);
    g_assert_cmphex(rd(f, USBSTS) & (1u << 12), !=, 0);
}

/* A configured tablet saved and loaded into a second controller: a poll
 * queued there gets the report queued before the save. */
static void test_state_round_trip(struct fixture *f, gconstpointer data)
{
    (void)data;
    start(f);
    unsigned slot = enumerate(f, 1);
    configure_ep1(f, slot);
    input_send_pointer(f->router, 10, 10, 101, 101, 0);
    struct pci_device *d = xhci_pci_device(f->x);
    struct state_out o;
    state_out_init(&o);
    g_autoptr(GError) err = NULL;
    g_assert_true(d->state->save(d, &o, &err));

    struct fixture g;
    setup(&g, NULL);
    /* The guest's memory comes along with the VM. */
    void *ram = guest_memory_ptr(vm_memory(f->vm), 0, 1u << 20);
    g_assert_true(guest_memory_write(vm_memory(g.vm), 0, ram, 1u << 20));
    struct pci_device *d2 = xhci_pci_device(g.x);
    struct state_in in;
    state_in_init(&in, o.buf->data, o.buf->len, "xhci");
    g_assert_true(d2->state->load(d2, &in, 1, &err));
    g_assert_no_error(err);
    g_assert_true(state_in_finish(&in, &err));
    g.ev_idx = f->ev_idx;
    g.ev_cycle = f->ev_cycle;
    g.ep1 = f->ep1;
    g_assert_cmphex(rd(&g, USBCMD) & 1, ==, 1);
    g_assert_true(usb_hid_tablet_active(g.tablet));
    ring_push(&g, &g.ep1, BUF + 0x100, 8, T_NORMAL << 10 | 1u << 2 | 1u << 5);
    wr(&g, DB(slot), 3);
    struct trb ev = expect_event(&g, T_TRANSFER_EV);
    g_assert_cmpuint(cc_of(&ev), ==, 13);
    uint8_t r[6];
    g_assert_true(guest_memory_read(vm_memory(g.vm), BUF + 0x100, r, sizeof(r)));
    g_assert_cmpuint(r[1] | r[2] << 8, ==, 10 * 0x7fff / 100);

    /* A damaged slot state is refused. */
    state_in_init(&in, o.buf->data, o.buf->len - 3, "xhci");
    g_assert_false(d2->state->load(d2, &in, 1, &err));
    g_clear_error(&err);
    state_out_clear(&o);
    teardown(&g, NULL);
}

/* Find capability id in the function's list; 0 if absent. */
static unsigned find_cap(struct fixture *f, unsigned id)
{
    unsigned slot = xhci_pci_device(f->x)->slot;
    unsigned at = pci_config_read(f->bus, slot, 0, PCI_CAPABILITY_LIST, 1);
    for (unsigned n = 0; at && n < 16; n++) {
        if (pci_config_read(f->bus, slot, 0, at, 1) == id)
            return at;
        at = pci_config_read(f->bus, slot, 0, at + 1, 1);
    }
    return 0;
}

/* With MSI enabled (no MSI-X), each interrupt is one message and INTx
 * stays low; Event Handler Busy holds the next until the driver is done. */
static void test_msi(struct fixture *f, gconstpointer data)
{
    (void)data;
    unsigned slot = xhci_pci_device(f->x)->slot;
    g_assert_cmpuint(find_cap(f, 0x11), !=, 0);             /* MSI-X is there too */
    unsigned msi = find_cap(f, 0x05);
    g_assert_cmpuint(msi, !=, 0);
    pci_config_write(f->bus, slot, 0, msi + 4, 0xfee01000, 4);
    pci_config_write(f->bus, slot, 0, msi + 8, 0, 4);
    pci_config_write(f->bus, slot, 0, msi + 12, 0x4041, 2);
    pci_config_write(f->bus, slot, 0, msi + 2, 0x0081, 2);
    start(f);
    unsigned before = test_vm_msi_count(f->vm);
    ring_push(f, &f->cmd, 0, 0, T_NOOP_CMD << 10);
    wr(f, DB(0), 0);
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, before + 1);
    struct test_msi m = test_vm_msi(f->vm, before);
    g_assert_cmphex(m.address, ==, 0xfee01000);
    g_assert_cmphex(m.data, ==, 0x4041);
    g_assert_false(test_vm_irq_level(f->vm, f->gsi));
    /* A second event while the first is being handled: no message yet. */
    ring_push(f, &f->cmd, 0, 0, T_NOOP_CMD << 10);
    wr(f, DB(0), 0);
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, before + 1);
    /* The driver takes the first and clears EHB: the second is signalled. */
    struct trb ev;
    g_assert_true(next_event(f, &ev));
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, before + 2);
    g_assert_true(next_event(f, &ev));
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, before + 2);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/xhci/enumerate-tablet", struct fixture, NULL, setup, test_enumerate_tablet, teardown);
    g_test_add("/xhci/keyboard", struct fixture, NULL, setup, test_keyboard, teardown);
    g_test_add("/xhci/event-ring-wrap", struct fixture, NULL, setup, test_event_ring_wrap, teardown);
    g_test_add("/xhci/bad-input", struct fixture, NULL, setup, test_bad_input, teardown);
    g_test_add("/xhci/msi", struct fixture, NULL, setup, test_msi, teardown);
    g_test_add("/xhci/state", struct fixture, NULL, setup, test_state_round_trip, teardown);
    return g_test_run();
}
