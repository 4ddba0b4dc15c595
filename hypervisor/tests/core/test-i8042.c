/* i8042 controller: self-test, command byte, keyboard identify/reset,
 * interrupt gating, and the reset line (0xFE pulse, output port bit 0). */
#include <string.h>
#include <glib.h>

#include "devices/i8042.h"

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

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define T(name, fn) g_test_add("/i8042/" name, struct fixture, NULL, setup, fn, teardown)
    T("self-test", test_self_test);
    T("command-byte", test_command_byte);
    T("keyboard-reset-input", test_keyboard_reset_and_input);
    T("aux", test_aux);
    T("reset-line", test_reset_line);
    return g_test_run();
}
