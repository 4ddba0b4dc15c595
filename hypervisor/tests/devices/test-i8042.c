/* i8042 controller: self-test, command byte, keyboard identify/reset,
 * interrupt gating, the reset line (0xFE pulse, output port bit 0), PS/2
 * mouse packets (overflow, IntelliMouse wheel) and set 2 without
 * translation. */
#include <string.h>
#include <glib.h>

#include "devices/i8042.h"
#include "input/input.h"

struct fixture {
    struct i8042 *k;
    bool irq1, irq12;
    unsigned resets;
};

static void set_irq(void *opaque, unsigned irq, bool level)
{
    struct fixture *f = opaque;
    if (irq == 1)
        f->irq1 = level;
    else
        f->irq12 = level;
}

static void reset(void *opaque)
{
    ((struct fixture *)opaque)->resets++;
}

static const struct i8042_ops ops = { set_irq, reset };

static void setup(struct fixture *f, gconstpointer data)
{
    memset(f, 0, sizeof(*f));
    f->k = i8042_new(&ops, f);
}

static void teardown(struct fixture *f, gconstpointer data)
{
    i8042_free(f->k);
}

static uint8_t status(struct fixture *f) { return (uint8_t)i8042_cmd_io_ops.read(f->k, 0, 1); }
static void cmd(struct fixture *f, uint8_t c) { i8042_cmd_io_ops.write(f->k, 0, c, 1); }
static void data_w(struct fixture *f, uint8_t v) { i8042_data_io_ops.write(f->k, 0, v, 1); }

static uint8_t data_r(struct fixture *f)
{
    g_assert_true(status(f) & I8042_STATUS_OBF);
    return (uint8_t)i8042_data_io_ops.read(f->k, 0, 1);
}

static void test_self_test(struct fixture *f, gconstpointer data)
{
    g_assert_false(status(f) & I8042_STATUS_OBF);
    cmd(f, 0xaa);
    g_assert_cmphex(data_r(f), ==, 0x55);
    g_assert_true(status(f) & I8042_STATUS_SYS);
    g_assert_false(status(f) & I8042_STATUS_OBF);
    cmd(f, 0xab);
    g_assert_cmphex(data_r(f), ==, 0x00);
    cmd(f, 0xa9);
    g_assert_cmphex(data_r(f), ==, 0x00);
}

static void test_command_byte(struct fixture *f, gconstpointer data)
{
    cmd(f, 0x60);
    data_w(f, 0x45);
    cmd(f, 0x20);
    g_assert_cmphex(data_r(f), ==, 0x45);
    /* Keyboard interrupt only with command byte bit 0. */
    data_w(f, 0xf2);                 /* identify */
    g_assert_true(f->irq1);
    g_assert_cmphex(data_r(f), ==, 0xfa);
    g_assert_cmphex(data_r(f), ==, 0xab);
    g_assert_cmphex(data_r(f), ==, 0x83);
    g_assert_false(f->irq1);
    cmd(f, 0x60);
    data_w(f, 0x44);                 /* interrupts off */
    data_w(f, 0xee);                 /* echo */
    g_assert_false(f->irq1);
    g_assert_cmphex(data_r(f), ==, 0xee);
}

static void test_keyboard_reset_and_input(struct fixture *f, gconstpointer data)
{
    data_w(f, 0xff);
    g_assert_cmphex(data_r(f), ==, 0xfa);
    g_assert_cmphex(data_r(f), ==, 0xaa);
    const uint8_t codes[] = { 0x1e, 0x9e };
    i8042_keyboard_input(f->k, codes, 2);
    g_assert_cmphex(data_r(f), ==, 0x1e);
    g_assert_cmphex(data_r(f), ==, 0x9e);
    /* Disabled scanning drops keys. */
    data_w(f, 0xf5);
    g_assert_cmphex(data_r(f), ==, 0xfa);
    i8042_keyboard_input(f->k, codes, 2);
    g_assert_false(status(f) & I8042_STATUS_OBF);
}

static void test_aux(struct fixture *f, gconstpointer data)
{
    cmd(f, 0xd4);
    data_w(f, 0xf2);
    g_assert_true(f->irq12);
    g_assert_true(status(f) & I8042_STATUS_AUX);
    g_assert_cmphex(data_r(f), ==, 0xfa);
    g_assert_cmphex(data_r(f), ==, 0x00);
    g_assert_false(f->irq12);
}

/* 0xD3/0xD2 write the output buffer as if from a port even while that port
 * is disabled (Linux's AUX loopback test runs with AUX off, before it
 * enables the port to test IRQ 12). */
static void test_loopback_with_ports_disabled(struct fixture *f, gconstpointer data)
{
    cmd(f, 0x60);
    data_w(f, 0x30);            /* both ports disabled, no interrupts */
    cmd(f, 0xd3);
    data_w(f, 0x5a);
    g_assert_true(status(f) & I8042_STATUS_AUX);
    g_assert_false(f->irq12);
    g_assert_cmphex(data_r(f), ==, 0x5a);

    cmd(f, 0xd2);
    data_w(f, 0x3c);
    g_assert_false(status(f) & I8042_STATUS_AUX);
    g_assert_cmphex(data_r(f), ==, 0x3c);

    cmd(f, 0x60);
    data_w(f, 0x02);            /* AUX enabled with its interrupt */
    cmd(f, 0xd3);
    data_w(f, 0xa5);
    g_assert_true(f->irq12);
    g_assert_cmphex(data_r(f), ==, 0xa5);
    g_assert_false(f->irq12);
}

static void test_reset_line(struct fixture *f, gconstpointer data)
{
    cmd(f, 0xfe);
    g_assert_cmpuint(f->resets, ==, 1);
    cmd(f, 0xff);                    /* pulse nothing */
    g_assert_cmpuint(f->resets, ==, 1);
    /* Output port: A20 on, reset line high; then bit 0 low resets. */
    cmd(f, 0xd0);
    g_assert_cmphex(data_r(f) & 0x03, ==, 0x03);
    g_assert_true(i8042_a20_enabled(f->k));
    cmd(f, 0xd1);
    data_w(f, 0x01);                 /* A20 off */
    g_assert_false(i8042_a20_enabled(f->k));
    g_assert_cmpuint(f->resets, ==, 1);
    cmd(f, 0xd1);
    data_w(f, 0x00);
    g_assert_cmpuint(f->resets, ==, 2);
}

static void aux_cmd(struct fixture *f, uint8_t c)
{
    cmd(f, 0xd4);
    data_w(f, c);
    g_assert_cmphex(data_r(f), ==, 0xfa);
}

static void test_mouse_packets(struct fixture *f, gconstpointer data)
{
    /* Reporting is off after reset: movement makes no packet. */
    i8042_mouse_input(f->k, 5, 5, 0, 0);
    g_assert_false(status(f) & I8042_STATUS_OBF);
    aux_cmd(f, 0xf4);
    /* Right 10, up 3, left button: sign bits clear, bit 3 always set. */
    i8042_mouse_input(f->k, 10, 3, 0, INPUT_BUTTON_LEFT);
    g_assert_true(f->irq12);
    g_assert_true(status(f) & I8042_STATUS_AUX);
    g_assert_cmphex(data_r(f), ==, 0x09);
    g_assert_cmphex(data_r(f), ==, 10);
    g_assert_cmphex(data_r(f), ==, 3);
    g_assert_false(status(f) & I8042_STATUS_OBF);
    /* Left 1, down 2, right and middle buttons: sign bits, PS/2 order. */
    i8042_mouse_input(f->k, -1, -2, 0, INPUT_BUTTON_RIGHT | INPUT_BUTTON_MIDDLE);
    g_assert_cmphex(data_r(f), ==, 0x08 | 0x10 | 0x20 | 0x02 | 0x04);
    g_assert_cmphex(data_r(f), ==, 0xff);
    g_assert_cmphex(data_r(f), ==, 0xfe);
    /* Beyond 9 bits: clamped, overflow bits set. */
    i8042_mouse_input(f->k, 1000, -1000, 0, 0);
    g_assert_cmphex(data_r(f), ==, 0x08 | 0x40 | 0x80 | 0x20);
    g_assert_cmphex(data_r(f), ==, 0xff);   /* +255 */
    g_assert_cmphex(data_r(f), ==, 0x00);   /* -256 */
    /* Status request reports enabled, stream mode, no buttons. */
    aux_cmd(f, 0xe9);
    g_assert_cmphex(data_r(f), ==, 0x20);
    g_assert_cmphex(data_r(f), ==, 0x02);
    g_assert_cmphex(data_r(f), ==, 100);
    /* Disabled reporting and remote mode both stop packets. */
    aux_cmd(f, 0xf5);
    i8042_mouse_input(f->k, 1, 1, 0, 0);
    g_assert_false(status(f) & I8042_STATUS_OBF);
    aux_cmd(f, 0xf4);
    aux_cmd(f, 0xf0);
    i8042_mouse_input(f->k, 1, 1, 0, 0);
    g_assert_false(status(f) & I8042_STATUS_OBF);
    /* Port disabled by the controller (0xA7): the packet waits. */
    aux_cmd(f, 0xea);
    cmd(f, 0xa7);
    i8042_mouse_input(f->k, 2, 0, 0, 0);
    g_assert_false(status(f) & I8042_STATUS_OBF);
    cmd(f, 0xa8);
    g_assert_cmphex(data_r(f), ==, 0x08);
    g_assert_cmphex(data_r(f), ==, 2);
    g_assert_cmphex(data_r(f), ==, 0);
}

static void set_rate(struct fixture *f, uint8_t rate)
{
    aux_cmd(f, 0xf3);
    cmd(f, 0xd4);
    data_w(f, rate);
    g_assert_cmphex(data_r(f), ==, 0xfa);
}

static void test_mouse_wheel(struct fixture *f, gconstpointer data)
{
    /* Without the knock: id 0, 3-byte packets, the wheel is lost. */
    aux_cmd(f, 0xf2);
    g_assert_cmphex(data_r(f), ==, 0x00);
    set_rate(f, 200);
    set_rate(f, 100);
    set_rate(f, 60);
    aux_cmd(f, 0xf2);
    g_assert_cmphex(data_r(f), ==, 0x00);
    aux_cmd(f, 0xf4);
    i8042_mouse_input(f->k, 0, 0, 1, 0);
    g_assert_cmphex(data_r(f), ==, 0x08);
    data_r(f);
    data_r(f);
    g_assert_false(status(f) & I8042_STATUS_OBF);
    /* 200, 100, 80 makes it an IntelliMouse: id 3, a fourth byte. */
    set_rate(f, 200);
    set_rate(f, 100);
    set_rate(f, 80);
    aux_cmd(f, 0xf2);
    g_assert_cmphex(data_r(f), ==, 0x03);
    i8042_mouse_input(f->k, 1, 0, 1, 0);
    g_assert_cmphex(data_r(f), ==, 0x08);
    g_assert_cmphex(data_r(f), ==, 1);
    g_assert_cmphex(data_r(f), ==, 0);
    g_assert_cmphex(data_r(f), ==, 0x01);
    i8042_mouse_input(f->k, 0, 0, -1, 0);
    data_r(f);
    data_r(f);
    data_r(f);
    g_assert_cmphex(data_r(f), ==, 0xff);
    g_assert_false(status(f) & I8042_STATUS_OBF);
    /* Reset returns to a standard mouse with reporting off. */
    cmd(f, 0xd4);
    data_w(f, 0xff);
    g_assert_cmphex(data_r(f), ==, 0xfa);
    g_assert_cmphex(data_r(f), ==, 0xaa);
    g_assert_cmphex(data_r(f), ==, 0x00);
    aux_cmd(f, 0xf2);
    g_assert_cmphex(data_r(f), ==, 0x00);
    i8042_mouse_input(f->k, 1, 1, 0, 0);
    g_assert_false(status(f) & I8042_STATUS_OBF);
}

static void test_key_sets(struct fixture *f, gconstpointer data)
{
    /* Translating (the reset default): set 1, release with bit 7. */
    i8042_key(f->k, 0x1e, true);            /* A */
    g_assert_cmphex(data_r(f), ==, 0x1e);
    i8042_key(f->k, 0x1e, false);
    g_assert_cmphex(data_r(f), ==, 0x9e);
    /* Translation off: the keyboard's set 2, F0 before a release. */
    cmd(f, 0x60);
    data_w(f, I8042_CB_KBD_INT | I8042_CB_SYS);
    i8042_key(f->k, 0x1e, true);
    g_assert_cmphex(data_r(f), ==, 0x1c);
    i8042_key(f->k, 0x1e, false);
    g_assert_cmphex(data_r(f), ==, 0xf0);
    g_assert_cmphex(data_r(f), ==, 0x1c);
    /* Extended key: right Ctrl is E0 14 in set 2. */
    i8042_key(f->k, 0xe01d, true);
    g_assert_cmphex(data_r(f), ==, 0xe0);
    g_assert_cmphex(data_r(f), ==, 0x14);
    g_assert_false(status(f) & I8042_STATUS_OBF);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define T(name, fn) g_test_add("/i8042/" name, struct fixture, NULL, setup, fn, teardown)
    T("self-test", test_self_test);
    T("command-byte", test_command_byte);
    T("keyboard-reset-input", test_keyboard_reset_and_input);
    T("aux", test_aux);
    T("loopback-ports-disabled", test_loopback_with_ports_disabled);
    T("reset-line", test_reset_line);
    T("mouse-packets", test_mouse_packets);
    T("mouse-wheel", test_mouse_wheel);
    T("key-sets", test_key_sets);
    return g_test_run();
}
