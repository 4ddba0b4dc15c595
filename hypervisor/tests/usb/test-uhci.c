/* Unit tests of the UHCI controller and the USB tablet: a schedule built
 * in test guest memory the way a driver builds it, the tablet enumerated
 * through real control transfers, pointer events from the input router. */
#include <string.h>
#include <glib.h>

#include "usb/usb_uhci.h"
#include "usb/usb_hid_tablet.h"
#include "input/input.h"
#include "pci/pci.h"
#include "tests/support/test_vm.h"

#define RAM      (32u << 20)
#define FL       0x10000u
#define QH       0x11000u
#define QH2      0x11100u
#define TDS      0x12000u
#define BUF      0x20000u
#define DATA     0x30000u

#define USBCMD 0x00
#define USBSTS 0x02
#define USBINTR 0x04
#define FRNUM 0x06
#define FLBASE 0x08
#define SOFMOD 0x0c
#define PORTSC1 0x10

struct fixture {
    struct vm *vm;
    struct pci_bus *bus;
    struct usb_uhci *u;
    struct input_router *router;
    struct usb_hid_tablet *tablet;
    uint16_t io;
    int gsi;
};

static void setup(struct fixture *f, gconstpointer data)
{
    (void)data;
    f->vm = test_vm_new(RAM);
    f->bus = pci_bus_create(f->vm);
    f->router = input_router_new();
    g_autoptr(GError) err = NULL;
    f->u = uhci_create(f->vm, f->bus, &err);
    g_assert_no_error(err);
    f->tablet = uhci_attach_tablet(f->u, 0, f->router, &err);
    g_assert_no_error(err);
    g_assert_cmphex(pci_config_read(f->bus, 1, 2, PCI_VENDOR_ID, 4), ==, 0x70208086);
    g_assert_cmphex(pci_config_read(f->bus, 1, 2, PCI_CLASS_PROG, 1), ==, 0x00);
    g_assert_cmphex(pci_config_read(f->bus, 1, 2, PCI_CLASS_DEVICE, 2), ==, 0x0c03);
    pci_config_write(f->bus, 1, 2, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
    f->io = (uint16_t)(pci_config_read(f->bus, 1, 2, PCI_BAR0 + 16, 4) & ~3u);
    g_assert_cmphex(f->io, !=, 0);
    f->gsi = pci_device_intx_gsi(uhci_pci_device(f->u));
    g_assert_cmpint(f->gsi, >=, 16);
}

static void teardown(struct fixture *f, gconstpointer data)
{
    (void)data;
    uhci_free(f->u);
    input_router_free(f->router);
    pci_bus_free(f->bus);
    test_vm_free(f->vm);
}

static uint16_t in16(struct fixture *f, unsigned r) { return (uint16_t)test_pio_read(f->vm, f->io + r, 2); }
static void out16(struct fixture *f, unsigned r, uint16_t v) { test_pio_write(f->vm, f->io + r, v, 2); }
static struct guest_memory *mem(struct fixture *f) { return vm_memory(f->vm); }

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

/* Every frame points at QH, whose element list the tests fill. */
static void schedule_init(struct fixture *f)
{
    for (unsigned i = 0; i < 1024; i++)
        put32(f, FL + i * 4, QH | 2);
    put32(f, QH, 1);
    put32(f, QH + 4, 1);
    test_pio_write(f->vm, f->io + FLBASE, FL, 4);
}

static void start(struct fixture *f)
{
    out16(f, USBCMD, 0x2);                              /* HCRESET */
    schedule_init(f);
    out16(f, USBINTR, 0xf);
    /* Port reset, then enable, as the Linux root hub does. */
    out16(f, PORTSC1, 0x200);
    out16(f, PORTSC1, 0);
    out16(f, PORTSC1, 0x4 | 0x2);
    g_assert_true(in16(f, PORTSC1) & 0x4);
    out16(f, USBCMD, 0x1);
}

static uint32_t td_token(unsigned pid, unsigned addr, unsigned ep, unsigned maxlen)
{
    return pid | addr << 8 | ep << 15 | ((maxlen - 1) & 0x7ff) << 21;
}

static void put_td(struct fixture *f, uint64_t td, uint32_t link, uint32_t ctrl,
                   uint32_t token, uint32_t buf)
{
    put32(f, td, link);
    put32(f, td + 4, ctrl);
    put32(f, td + 8, token);
    put32(f, td + 12, buf);
}

#define ACTIVE (1u << 23)

/* A control transfer on the tablet: SETUP, 8-byte data packets, status.
 * Returns the bytes received for an IN request, or -1 on a stall. */
static int control(struct fixture *f, unsigned addr, uint8_t rt, uint8_t req,
                   uint16_t value, uint16_t index, uint16_t len, uint8_t *data)
{
    uint8_t setup[8] = { rt, req, (uint8_t)value, (uint8_t)(value >> 8),
                         (uint8_t)index, (uint8_t)(index >> 8), (uint8_t)len, (uint8_t)(len >> 8) };
    guest_memory_write(mem(f), BUF, setup, 8);
    bool in = rt & 0x80;
    if (!in && len)
        guest_memory_write(mem(f), DATA, data, len);
    unsigned n = 0;
    uint64_t td = TDS;
    unsigned ntd = 1 + (len + 7) / 8 + 1;
    put_td(f, td, (uint32_t)(td + 16) | 4, ACTIVE | 3u << 27, td_token(0x2d, addr, 0, 8), BUF);
    for (unsigned off = 0; off < len; off += 8, n++) {
        uint64_t t = TDS + 16 * (n + 1);
        put_td(f, t, (uint32_t)(t + 16) | 4, ACTIVE | (in ? 1u << 29 : 0),
               td_token(in ? 0x69 : 0xe1, addr, 0, MIN(8u, len - off)), DATA + off);
    }
    uint64_t st = TDS + 16 * (ntd - 1);
    put_td(f, st, 1, ACTIVE | 1u << 24, td_token(in ? 0xe1 : 0x69, addr, 0, 0), 0);
    put32(f, QH + 4, TDS);
    uhci_run_frames(f->u, 4);
    int got = 0;
    for (unsigned i = 0; i < ntd; i++) {
        uint32_t c = get32(f, TDS + 16 * i + 4);
        if (c & (1u << 22))
            return -1;
        if (c & ACTIVE)
            break;      /* short packet ended the data stage early */
        if (i > 0 && i < ntd - 1)
            got += (int)(((c & 0x7ff) + 1) & 0x7ff);
    }
    if (in) {
        /* A short data stage leaves the rest; run the status stage. */
        uint32_t sc = get32(f, st + 4);
        if (sc & ACTIVE) {
            put32(f, QH + 4, (uint32_t)st);
            uhci_run_frames(f->u, 2);
            sc = get32(f, st + 4);
        }
        g_assert_false(sc & ACTIVE);
        guest_memory_read(mem(f), DATA, data, (size_t)got);
    } else {
        g_assert_false(get32(f, st + 4) & ACTIVE);
    }
    return got;
}

static void test_reset_run(struct fixture *f, gconstpointer data)
{
    (void)data;
    out16(f, USBCMD, 0x2);
    g_assert_cmphex(in16(f, USBCMD), ==, 0);
    g_assert_cmphex(in16(f, USBSTS), ==, 0x20);         /* halted */
    g_assert_cmphex(test_pio_read(f->vm, f->io + SOFMOD, 1), ==, 0x40);
    g_assert_cmphex(in16(f, PORTSC1) & 0x83, ==, 0x83);  /* connected, changed, bit 7 */
    g_assert_cmphex(in16(f, PORTSC1 + 2) & 0x81, ==, 0x80);
    g_assert_cmphex(in16(f, PORTSC1 + 4) & 0x80, ==, 0);  /* only two ports */
    schedule_init(f);
    g_assert_cmphex(test_pio_read(f->vm, f->io + FLBASE, 4), ==, FL);
    out16(f, FRNUM, 0x100);
    out16(f, USBCMD, 0x1);
    g_assert_cmphex(in16(f, USBSTS) & 0x20, ==, 0);
    /* The main-loop timer advances the frame number while running. */
    for (int i = 0; i < 500 && in16(f, FRNUM) < 0x108; i++)
        g_main_context_iteration(vm_main_context(f->vm), TRUE);
    g_assert_cmphex(in16(f, FRNUM), >=, 0x108);
    out16(f, USBCMD, 0x0);
    g_assert_cmphex(in16(f, USBSTS) & 0x20, ==, 0x20);
    uint16_t fr = in16(f, FRNUM);
    while (g_main_context_iteration(vm_main_context(f->vm), FALSE))
        ;
    g_usleep(10000);
    while (g_main_context_iteration(vm_main_context(f->vm), FALSE))
        ;
    g_assert_cmphex(in16(f, FRNUM), ==, fr);
}

static void test_port_reset(struct fixture *f, gconstpointer data)
{
    (void)data;
    out16(f, USBCMD, 0x2);
    out16(f, PORTSC1, 0x2);                              /* clear CSC */
    g_assert_cmphex(in16(f, PORTSC1) & 0x3, ==, 0x1);
    out16(f, PORTSC1, 0x4);
    g_assert_true(in16(f, PORTSC1) & 0x4);
    out16(f, PORTSC1, 0x200);                            /* reset disables */
    g_assert_cmphex(in16(f, PORTSC1) & 0x204, ==, 0x200);
    out16(f, PORTSC1, 0);
    out16(f, PORTSC1, 0x4);
    g_assert_cmphex(in16(f, PORTSC1) & 0x205, ==, 0x5);
    /* An empty port cannot be enabled. */
    out16(f, PORTSC1 + 2, 0x4);
    g_assert_cmphex(in16(f, PORTSC1 + 2) & 0x4, ==, 0);
}

static void test_enumerate(struct fixture *f, gconstpointer data)
{
    (void)data;
    start(f);
    uint8_t d[256];
    g_assert_cmpint(control(f, 0, 0x80, 6, 0x100, 0, 8, d), ==, 8);
    g_assert_cmphex(d[0], ==, 18);
    g_assert_cmphex(d[1], ==, 1);
    g_assert_cmphex(d[7], ==, 8);
    g_assert_cmpint(control(f, 0, 0x00, 5, 7, 0, 0, d), ==, 0);       /* SET_ADDRESS 7 */
    /* Address 0 no longer answers: the TD times out. */
    uint8_t setup[8] = { 0x80, 6, 0, 1, 0, 0, 18, 0 };
    guest_memory_write(mem(f), BUF, setup, 8);
    put_td(f, TDS, 1, ACTIVE, td_token(0x2d, 0, 0, 8), BUF);
    put32(f, QH + 4, TDS);
    uhci_run_frames(f->u, 1);
    g_assert_true(get32(f, TDS + 4) & (1u << 18));
    g_assert_true(in16(f, USBSTS) & 0x2);                /* error interrupt */
    out16(f, USBSTS, 0x3);

    g_assert_cmpint(control(f, 7, 0x80, 6, 0x100, 0, 18, d), ==, 18);
    g_assert_cmphex(d[2] | d[3] << 8, ==, 0x0110);
    g_assert_cmpint(control(f, 7, 0x80, 6, 0x200, 0, 255, d), ==, 34);
    g_assert_cmphex(d[1], ==, 2);
    g_assert_cmphex(d[2], ==, 34);
    g_assert_cmphex(d[9 + 5], ==, 3);                    /* HID interface */
    g_assert_cmphex(d[18 + 1], ==, 0x21);
    unsigned rlen = d[18 + 7] | d[18 + 8] << 8;
    g_assert_cmphex(d[27 + 2], ==, 0x81);                /* interrupt IN endpoint 1 */
    g_assert_cmphex(d[27 + 3], ==, 3);
    /* The HID report descriptor: absolute X/Y up to 0x7FFF. */
    g_assert_cmpint(control(f, 7, 0x81, 6, 0x2200, 0, (uint16_t)rlen, d), ==, (int)rlen);
    g_assert_cmphex(d[0], ==, 0x05);
    static const uint8_t xmax[] = { 0x26, 0xff, 0x7f };
    g_assert_nonnull(memmem(d, rlen, xmax, 3));
    /* Product string. */
    int n = control(f, 7, 0x80, 6, 0x302, 0x409, 255, d);
    g_assert_cmpint(n, ==, 2 + 2 * 16);
    char s[17];
    for (int i = 0; i < 16; i++)
        s[i] = (char)d[2 + 2 * i];
    s[16] = 0;
    g_assert_cmpstr(s, ==, "Oriel USB Tablet");
    /* Unknown descriptor: stall. */
    g_assert_cmpint(control(f, 7, 0x80, 6, 0x700, 0, 8, d), ==, -1);

    g_assert_false(usb_hid_tablet_active(f->tablet));
    g_assert_false(input_router_absolute(f->router));
    g_assert_cmpint(control(f, 7, 0x00, 9, 1, 0, 0, d), ==, 0);       /* SET_CONFIGURATION */
    g_assert_cmpint(control(f, 7, 0x21, 0x0a, 0, 0, 0, d), ==, 0);    /* SET_IDLE */
    g_assert_true(usb_hid_tablet_active(f->tablet));
    g_assert_true(input_router_absolute(f->router));
    g_assert_cmpint(control(f, 7, 0x80, 8, 0, 0, 1, d), ==, 1);
    g_assert_cmphex(d[0], ==, 1);
    g_assert_cmpint(control(f, 7, 0xa1, 0x01, 0x100, 0, 6, d), ==, 6);   /* GET_REPORT */
}

/* Poll endpoint 1 once; returns the report length or -1 for NAK. */
static int poll_report(struct fixture *f, uint8_t *rep)
{
    put_td(f, TDS + 0x400, 1, ACTIVE | 1u << 24 | 1u << 29, td_token(0x69, 7, 1, 8), DATA + 0x100);
    put32(f, QH + 4, TDS + 0x400);
    uhci_run_frames(f->u, 1);
    uint32_t c = get32(f, TDS + 0x404);
    if (c & ACTIVE) {
        g_assert_true(c & (1u << 19));                   /* NAK */
        return -1;
    }
    g_assert_false(c & (1u << 22));
    int n = (int)(((c & 0x7ff) + 1) & 0x7ff);
    guest_memory_read(mem(f), DATA + 0x100, rep, (size_t)n);
    return n;
}

static void test_tablet_report(struct fixture *f, gconstpointer data)
{
    (void)data;
    start(f);
    uint8_t d[64];
    g_assert_cmpint(control(f, 0, 0x00, 5, 7, 0, 0, d), ==, 0);
    g_assert_cmpint(control(f, 7, 0x00, 9, 1, 0, 0, d), ==, 0);
    out16(f, USBSTS, 0x3f);
    g_assert_false(test_vm_irq_level(f->vm, (unsigned)f->gsi));

    uint8_t rep[8];
    g_assert_cmpint(poll_report(f, rep), ==, -1);         /* nothing yet */
    /* A client pointer at (320, 240) of 641x481 with the left button. */
    input_send_pointer(f->router, 320, 240, 641, 481, 1);
    g_assert_cmpint(poll_report(f, rep), ==, 6);
    /* The short report ended the transfer: the queue moved past it. */
    g_assert_cmphex(get32(f, QH + 4), ==, 1);
    g_assert_cmphex(rep[0], ==, 1);
    int x = rep[1] | rep[2] << 8, y = rep[3] | rep[4] << 8;
    g_assert_cmpint(x, ==, 320 * 0x7fff / 640);
    g_assert_cmpint(y, ==, 240 * 0x7fff / 480);
    g_assert_cmphex(rep[5], ==, 0);
    g_assert_true(in16(f, USBSTS) & 1);                   /* IOC */
    g_assert_true(test_vm_irq_level(f->vm, (unsigned)f->gsi));
    out16(f, USBSTS, 1);
    g_assert_false(test_vm_irq_level(f->vm, (unsigned)f->gsi));

    /* Bottom-right corner, button released, a wheel step down. */
    input_send_pointer(f->router, 640, 480, 641, 481, 0);
    input_send_pointer(f->router, 640, 480, 641, 481, 1u << 4);
    g_assert_cmpint(poll_report(f, rep), ==, 6);
    g_assert_cmphex(rep[0], ==, 0);
    g_assert_cmpint(rep[1] | rep[2] << 8, ==, 0x7fff);
    g_assert_cmpint(rep[3] | rep[4] << 8, ==, 0x7fff);
    g_assert_cmpint(rep[5], ==, 0);
    g_assert_cmpint(poll_report(f, rep), ==, 6);
    g_assert_cmpint((int8_t)rep[5], ==, -1);
    g_assert_cmpint(poll_report(f, rep), ==, -1);

    /* Remote wakeup: with the feature enabled and the port suspended, a
     * pointer event shows resume detect on the port, and on the
     * controller once the bus is suspended too. */
    g_assert_cmpint(control(f, 7, 0x00, 3, 1, 0, 0, d), ==, 0);   /* SET_FEATURE */
    g_assert_cmpint(control(f, 7, 0x80, 0, 0, 0, 2, d), ==, 2);   /* GET_STATUS */
    g_assert_cmphex(d[0], ==, 2);
    out16(f, PORTSC1, 0x1000 | 0x4);                        /* suspend */
    out16(f, USBCMD, 0x8);                                  /* global suspend */
    out16(f, USBSTS, 0x3f);
    g_assert_false(test_vm_irq_level(f->vm, (unsigned)f->gsi));
    input_send_pointer(f->router, 10, 10, 641, 481, 0);
    g_assert_true(in16(f, PORTSC1) & 0x40);
    g_assert_true(in16(f, USBSTS) & 0x4);
    g_assert_true(test_vm_irq_level(f->vm, (unsigned)f->gsi));
    /* The host resumes: the report waits for it. */
    out16(f, PORTSC1, 0x4);
    out16(f, USBCMD, 0x1);
    out16(f, USBSTS, 0x3f);
    g_assert_cmpint(poll_report(f, rep), ==, 6);
    g_assert_cmpint(rep[1] | rep[2] << 8, ==, 10 * 0x7fff / 640);
}

static void test_hostile(struct fixture *f, gconstpointer data)
{
    (void)data;
    start(f);
    uint8_t d[64];
    g_assert_cmpint(control(f, 0, 0x00, 5, 7, 0, 0, d), ==, 0);
    g_assert_cmpint(control(f, 7, 0x00, 9, 1, 0, 0, d), ==, 0);

    /* A TD that links to itself, straight from the frame list: the walk
     * ends within its budget (the tablet NAKs, the TD stays active). */
    put_td(f, TDS, TDS, ACTIVE, td_token(0x69, 7, 1, 8), DATA);
    for (unsigned i = 0; i < 1024; i++)
        put32(f, FL + i * 4, TDS);
    gint64 t0 = g_get_monotonic_time();
    uhci_run_frames(f->u, 32);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, G_USEC_PER_SEC);
    g_assert_true(get32(f, TDS + 4) & ACTIVE);
    g_assert_false(in16(f, USBSTS) & 0x20);

    /* Two queue heads linked to each other horizontally, and a queue
     * whose element TDs form a cycle of completed transfers. */
    for (unsigned i = 0; i < 1024; i++)
        put32(f, FL + i * 4, QH | 2);
    put32(f, QH, QH2 | 2);
    put32(f, QH2, QH | 2);
    put32(f, QH2 + 4, 1);
    put_td(f, TDS, TDS + 16, ACTIVE, td_token(0x69, 7, 1, 8), DATA);
    put_td(f, TDS + 16, TDS, ACTIVE, td_token(0x69, 7, 1, 8), DATA);
    put32(f, QH + 4, TDS);
    input_send_pointer(f->router, 1, 1, 100, 100, 0);
    input_send_pointer(f->router, 1, 1, 100, 100, 1);
    uhci_run_frames(f->u, 32);
    g_assert_false(in16(f, USBSTS) & 0x20);
    g_assert_false(get32(f, TDS + 4) & ACTIVE);
    g_assert_false(get32(f, TDS + 20) & ACTIVE);

    /* A buffer outside RAM: data buffer error, the controller goes on. */
    put32(f, QH, 1);
    put_td(f, TDS, 1, ACTIVE, td_token(0x69, 7, 0, 8), 0xf0000000u);
    put32(f, QH + 4, TDS);
    uhci_run_frames(f->u, 1);
    uint32_t c = get32(f, TDS + 4);
    g_assert_false(c & ACTIVE);
    g_assert_true(c & (1u << 21));
    g_assert_false(in16(f, USBSTS) & 0x20);
    /* A buffer that starts in RAM and runs past its end. */
    put_td(f, TDS, 1, ACTIVE, td_token(0xe1, 7, 0, 0x400), RAM - 16);
    put32(f, QH + 4, TDS);
    uhci_run_frames(f->u, 1);
    g_assert_true(get32(f, TDS + 4) & (1u << 21));

    /* A control transfer longer than any descriptor: the data stage is
     * bounded by what the device has. */
    uint8_t setup[8] = { 0x80, 6, 0, 1, 0, 0, 0xff, 0xff };
    guest_memory_write(mem(f), BUF, setup, 8);
    put_td(f, TDS, TDS + 16, ACTIVE, td_token(0x2d, 7, 0, 8), BUF);
    put_td(f, TDS + 16, 1, ACTIVE | 1u << 29, td_token(0x69, 7, 0, 0x40), DATA);
    put32(f, QH + 4, TDS);
    uhci_run_frames(f->u, 1);
    c = get32(f, TDS + 20);
    g_assert_false(c & ACTIVE);
    g_assert_cmpuint((c & 0x7ff) + 1, ==, 18);

    /* MaxLen beyond the USB limit: the controller stops with a process
     * error instead of touching memory. */
    put_td(f, TDS, 1, ACTIVE, 0x69 | 7u << 8 | 0x600u << 21, DATA);
    put32(f, QH + 4, TDS);
    uhci_run_frames(f->u, 1);
    g_assert_true(in16(f, USBSTS) & 0x10);
    g_assert_true(in16(f, USBSTS) & 0x20);
    g_assert_true(test_vm_irq_level(f->vm, (unsigned)f->gsi));

    /* A frame list outside RAM: host system error, halted. */
    out16(f, USBSTS, 0x3f);
    test_pio_write(f->vm, f->io + FLBASE, 0xf0000000u, 4);
    out16(f, USBCMD, 0x1);
    uhci_run_frames(f->u, 1);
    g_assert_true(in16(f, USBSTS) & 0x08);
    g_assert_true(in16(f, USBSTS) & 0x20);
    g_assert_false(in16(f, USBCMD) & 1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add(name, struct fixture, NULL, setup, fn, teardown)
    ADD("/uhci/reset-run", test_reset_run);
    ADD("/uhci/port-reset", test_port_reset);
    ADD("/uhci/enumerate-tablet", test_enumerate);
    ADD("/uhci/tablet-report", test_tablet_report);
    ADD("/uhci/hostile", test_hostile);
    return g_test_run();
}
