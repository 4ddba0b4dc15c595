/* 16550A register semantics: IIR priorities, LSR bits, FIFO and trigger
 * levels, DLAB, scratch, loopback, OUT2 gating of the interrupt line. */
#include <string.h>
#include <glib.h>

#include "devices/uart16550.h"

struct fixture {
    struct uart16550 *u;
    bool irq;
    unsigned irq_edges;
    GByteArray *tx;
    unsigned rx_ready;
    bool backend_busy;
};

static void set_irq(void *opaque, bool level)
{
    struct fixture *f = opaque;
    if (level && !f->irq)
        f->irq_edges++;
    f->irq = level;
}

static void transmit(void *opaque, uint8_t b)
{
    struct fixture *f = opaque;
    g_byte_array_append(f->tx, &b, 1);
}

static void rx_ready(void *opaque)
{
    struct fixture *f = opaque;
    f->rx_ready++;
}

static bool tx_busy(void *opaque)
{
    return ((struct fixture *)opaque)->backend_busy;
}

static const struct uart16550_ops ops = { set_irq, transmit, rx_ready, tx_busy };

static void setup(struct fixture *f, gconstpointer data)
{
    memset(f, 0, sizeof(*f));
    f->tx = g_byte_array_new();
    f->u = uart16550_new(&ops, f);
}

static void teardown(struct fixture *f, gconstpointer data)
{
    uart16550_free(f->u);
    g_byte_array_free(f->tx, TRUE);
}

static uint8_t rd(struct fixture *f, unsigned reg) { return (uint8_t)uart16550_read(f->u, reg, 1); }
static void wr(struct fixture *f, unsigned reg, uint8_t v) { uart16550_write(f->u, reg, v, 1); }

static void test_reset_state(struct fixture *f, gconstpointer data)
{
    g_assert_cmphex(rd(f, UART_IIR), ==, UART_IIR_NO_INT);
    g_assert_cmphex(rd(f, UART_LSR), ==, UART_LSR_THRE | UART_LSR_TEMT);
    g_assert_cmphex(rd(f, UART_IER), ==, 0);
    g_assert_cmphex(rd(f, UART_LCR), ==, 0);
    g_assert_false(f->irq);
}

static void test_dlab_and_scratch(struct fixture *f, gconstpointer data)
{
    wr(f, UART_IER, UART_IER_RDI);
    wr(f, UART_LCR, UART_LCR_DLAB | 0x03);
    wr(f, UART_DLL, 0x01);
    wr(f, UART_DLM, 0x02);
    g_assert_cmphex(rd(f, UART_DLL), ==, 0x01);
    g_assert_cmphex(rd(f, UART_DLM), ==, 0x02);
    /* With DLAB set, THR writes set the divisor, nothing is sent. */
    g_assert_cmpuint(f->tx->len, ==, 0);
    wr(f, UART_LCR, 0x03);
    g_assert_cmphex(rd(f, UART_IER), ==, UART_IER_RDI);
    g_assert_cmphex(rd(f, UART_LCR), ==, 0x03);
    wr(f, UART_SCR, 0x5a);
    g_assert_cmphex(rd(f, UART_SCR), ==, 0x5a);
    /* The divisor survived. */
    wr(f, UART_LCR, UART_LCR_DLAB);
    g_assert_cmphex(rd(f, UART_DLL), ==, 0x01);
}

static void test_transmit_and_thre_interrupt(struct fixture *f, gconstpointer data)
{
    wr(f, UART_MCR, UART_MCR_OUT2);
    wr(f, UART_THR, 'A');
    g_assert_cmpuint(f->tx->len, ==, 1);
    g_assert_cmpint(f->tx->data[0], ==, 'A');
    /* Not enabled: no interrupt. */
    g_assert_false(f->irq);
    /* Enabling THRI with THR empty raises it at once. */
    wr(f, UART_IER, UART_IER_THRI);
    g_assert_true(f->irq);
    g_assert_cmphex(rd(f, UART_IIR) & 0x0f, ==, UART_IIR_THRI);
    /* Reading IIR acknowledged it. */
    g_assert_cmphex(rd(f, UART_IIR) & 0x0f, ==, UART_IIR_NO_INT);
    g_assert_false(f->irq);
    /* Each write raises it again. */
    wr(f, UART_THR, 'B');
    g_assert_true(f->irq);
    g_assert_cmphex(rd(f, UART_IIR) & 0x0f, ==, UART_IIR_THRI);
}

static void test_out2_gates_irq(struct fixture *f, gconstpointer data)
{
    wr(f, UART_IER, UART_IER_THRI);
    g_assert_cmphex(rd(f, UART_IIR) & 0x0f, ==, UART_IIR_THRI); /* pending, acked */
    wr(f, UART_IER, 0);
    wr(f, UART_IER, UART_IER_THRI);
    g_assert_false(f->irq); /* OUT2 low: line stays low */
    wr(f, UART_MCR, UART_MCR_OUT2);
    g_assert_true(f->irq);
}

static void test_receive_no_fifo(struct fixture *f, gconstpointer data)
{
    wr(f, UART_MCR, UART_MCR_OUT2);
    wr(f, UART_IER, UART_IER_RDI | UART_IER_RLSI);
    g_assert_cmpuint(uart16550_can_receive(f->u), ==, 1);
    uart16550_receive(f->u, (const uint8_t *)"x", 1);
    g_assert_true(f->irq);
    g_assert_cmphex(rd(f, UART_IIR), ==, UART_IIR_RDI);
    g_assert_cmphex(rd(f, UART_LSR) & UART_LSR_DR, ==, UART_LSR_DR);
    g_assert_cmpuint(uart16550_can_receive(f->u), ==, 0);
    /* A second byte overruns: OE, and RLS outranks RDA. */
    uart16550_receive(f->u, (const uint8_t *)"y", 1);
    g_assert_cmphex(rd(f, UART_IIR), ==, UART_IIR_RLSI);
    uint8_t lsr = rd(f, UART_LSR);
    g_assert_cmphex(lsr & UART_LSR_OE, ==, UART_LSR_OE);
    /* Reading LSR cleared OE; the original byte is kept. */
    g_assert_cmphex(rd(f, UART_LSR) & UART_LSR_OE, ==, 0);
    g_assert_cmphex(rd(f, UART_IIR), ==, UART_IIR_RDI);
    g_assert_cmpint(rd(f, UART_RBR), ==, 'x');
    g_assert_cmphex(rd(f, UART_LSR) & UART_LSR_DR, ==, 0);
    g_assert_cmphex(rd(f, UART_IIR), ==, UART_IIR_NO_INT);
    g_assert_false(f->irq);
    /* The backend was throttled and is told there is room again. */
    g_assert_cmpuint(f->rx_ready, ==, 1);
}

static void test_fifo_trigger_and_timeout(struct fixture *f, gconstpointer data)
{
    wr(f, UART_MCR, UART_MCR_OUT2);
    wr(f, UART_FCR, UART_FCR_ENABLE | 0x80); /* trigger level 8 */
    g_assert_cmphex(rd(f, UART_IIR) & UART_IIR_FIFO, ==, UART_IIR_FIFO);
    wr(f, UART_IER, UART_IER_RDI);
    g_assert_cmpuint(uart16550_can_receive(f->u), ==, UART_FIFO_SIZE);

    /* Below the trigger: character timeout. */
    uart16550_receive(f->u, (const uint8_t *)"abc", 3);
    g_assert_true(f->irq);
    g_assert_cmphex(rd(f, UART_IIR) & 0x0f, ==, UART_IIR_CTI);
    /* At the trigger level: data available. */
    uart16550_receive(f->u, (const uint8_t *)"defgh", 5);
    g_assert_cmphex(rd(f, UART_IIR) & 0x0f, ==, UART_IIR_RDI);
    g_assert_cmpuint(uart16550_can_receive(f->u), ==, UART_FIFO_SIZE - 8);

    char got[9] = { 0 };
    for (int i = 0; i < 8; i++)
        got[i] = (char)rd(f, UART_RBR);
    g_assert_cmpstr(got, ==, "abcdefgh");
    g_assert_cmphex(rd(f, UART_IIR) & 0x0f, ==, UART_IIR_NO_INT);
    g_assert_false(f->irq);

    /* Overfilling the FIFO: 16 kept, OE set. */
    uint8_t many[20];
    memset(many, 'z', sizeof(many));
    uart16550_receive(f->u, many, sizeof(many));
    g_assert_cmpuint(uart16550_can_receive(f->u), ==, 0);
    g_assert_cmphex(rd(f, UART_LSR) & UART_LSR_OE, ==, UART_LSR_OE);
    unsigned n = 0;
    while (rd(f, UART_LSR) & UART_LSR_DR) {
        rd(f, UART_RBR);
        n++;
    }
    g_assert_cmpuint(n, ==, UART_FIFO_SIZE);

    /* FCR clear-receive empties the FIFO. */
    uart16550_receive(f->u, (const uint8_t *)"q", 1);
    wr(f, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
    g_assert_cmphex(rd(f, UART_LSR) & UART_LSR_DR, ==, 0);
    /* Disabling the FIFO: IIR loses its FIFO bits. */
    wr(f, UART_FCR, 0);
    g_assert_cmphex(rd(f, UART_IIR) & UART_IIR_FIFO, ==, 0);
}

static void test_iir_priority(struct fixture *f, gconstpointer data)
{
    wr(f, UART_MCR, UART_MCR_OUT2);
    wr(f, UART_IER, UART_IER_RDI | UART_IER_THRI | UART_IER_RLSI | UART_IER_MSI);
    /* THRE pending (enabled with empty THR) and data: RDA wins. */
    uart16550_receive(f->u, (const uint8_t *)"a", 1);
    g_assert_cmphex(rd(f, UART_IIR), ==, UART_IIR_RDI);
    rd(f, UART_RBR);
    /* Then THRE. */
    g_assert_cmphex(rd(f, UART_IIR), ==, UART_IIR_THRI);
    g_assert_cmphex(rd(f, UART_IIR), ==, UART_IIR_NO_INT);
    /* Modem status change is lowest. */
    wr(f, UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP);
    g_assert_cmphex(rd(f, UART_IIR), ==, UART_IIR_MSI);
    uint8_t msr = rd(f, UART_MSR);
    /* Loopback: DCD follows OUT2; CTS/DSR dropped (RTS/DTR low). */
    g_assert_cmphex(msr & 0xf0, ==, UART_MSR_DCD);
    g_assert_cmphex(msr & (UART_MSR_DCTS | UART_MSR_DDSR), ==, UART_MSR_DCTS | UART_MSR_DDSR);
    g_assert_cmphex(rd(f, UART_MSR) & 0x0f, ==, 0);
    g_assert_cmphex(rd(f, UART_IIR), ==, UART_IIR_NO_INT);
}

static void test_loopback(struct fixture *f, gconstpointer data)
{
    wr(f, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS | UART_MCR_DTR);
    g_assert_cmphex(rd(f, UART_MSR) & 0xf0, ==, UART_MSR_CTS | UART_MSR_DSR);
    /* Line input is held back while looping. */
    g_assert_cmpuint(uart16550_can_receive(f->u), ==, 0);
    wr(f, UART_THR, 0x42);
    g_assert_cmpuint(f->tx->len, ==, 0);
    g_assert_cmphex(rd(f, UART_LSR) & UART_LSR_DR, ==, UART_LSR_DR);
    g_assert_cmphex(rd(f, UART_RBR), ==, 0x42);
}

/* Input offered while the port is not ready (before a driver runs, or during
 * its loopback self-test) throttles the backend; a FIFO clear, leaving
 * loopback or a reset must release it, or input stops for good. */
static void test_rx_throttle_released(struct fixture *f, gconstpointer data)
{
    uart16550_receive(f->u, (const uint8_t *)"x", 1);
    g_assert_cmpuint(uart16550_can_receive(f->u), ==, 0);
    wr(f, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
    g_assert_cmpuint(f->rx_ready, ==, 1);
    g_assert_cmpuint(uart16550_can_receive(f->u), ==, 16);

    wr(f, UART_MCR, UART_MCR_LOOP);
    g_assert_cmpuint(uart16550_can_receive(f->u), ==, 0);
    wr(f, UART_MCR, UART_MCR_OUT2);
    g_assert_cmpuint(f->rx_ready, ==, 2);

    wr(f, UART_FCR, 0);
    uart16550_receive(f->u, (const uint8_t *)"y", 1);
    g_assert_cmpuint(uart16550_can_receive(f->u), ==, 0);
    uart16550_reset(f->u);
    g_assert_cmpuint(f->rx_ready, ==, 3);
    g_assert_cmpuint(uart16550_can_receive(f->u), ==, 1);
}

static void test_fuzz_registers(struct fixture *f, gconstpointer data)
{
    /* Random register traffic must keep the invariants. */
    GRand *r = g_rand_new_with_seed(1234);
    for (int i = 0; i < 100000; i++) {
        unsigned reg = (unsigned)g_rand_int_range(r, 0, 8);
        if (g_rand_boolean(r))
            wr(f, reg, (uint8_t)g_rand_int(r));
        else
            rd(f, reg);
        if (g_rand_int_range(r, 0, 10) == 0) {
            uint8_t b[32];
            size_t n = uart16550_can_receive(f->u);
            g_assert_cmpuint(n, <=, UART_FIFO_SIZE);
            uart16550_receive(f->u, b, (size_t)g_rand_int_range(r, 0, 32));
        }
        g_assert_cmphex(rd(f, UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT), ==,
                        UART_LSR_THRE | UART_LSR_TEMT);
    }
    g_rand_free(r);
}

/* A backend whose reader fell behind holds THRE and TEMT clear, with no
 * THR-empty interrupt, until it has caught up; nothing is dropped. */
static void test_tx_backpressure(struct fixture *f, gconstpointer data)
{
    wr(f, UART_MCR, UART_MCR_OUT2);
    wr(f, UART_IER, UART_IER_THRI);
    g_assert_cmphex(rd(f, UART_IIR) & 0x0f, ==, UART_IIR_THRI);
    f->backend_busy = true;
    wr(f, UART_THR, 'a');
    g_assert_cmphex(rd(f, UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT), ==, 0);
    g_assert_cmphex(rd(f, UART_IIR), ==, UART_IIR_NO_INT);
    g_assert_false(f->irq);
    /* A guest that writes anyway still has its bytes sent. */
    wr(f, UART_THR, 'b');
    /* Re-enabling the interrupt while busy does not raise it. */
    wr(f, UART_IER, 0);
    wr(f, UART_IER, UART_IER_THRI);
    g_assert_false(f->irq);
    f->backend_busy = false;
    uart16550_tx_ready(f->u);
    g_assert_true(f->irq);
    g_assert_cmphex(rd(f, UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT), ==,
                    UART_LSR_THRE | UART_LSR_TEMT);
    g_assert_cmphex(rd(f, UART_IIR) & 0x0f, ==, UART_IIR_THRI);
    g_assert_false(f->irq);
    g_assert_cmpmem(f->tx->data, f->tx->len, "ab", 2);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define T(name, fn) g_test_add("/uart16550/" name, struct fixture, NULL, setup, fn, teardown)
    T("reset-state", test_reset_state);
    T("dlab-scratch", test_dlab_and_scratch);
    T("transmit-thre", test_transmit_and_thre_interrupt);
    T("out2-gates-irq", test_out2_gates_irq);
    T("receive-no-fifo", test_receive_no_fifo);
    T("fifo-trigger-timeout", test_fifo_trigger_and_timeout);
    T("iir-priority", test_iir_priority);
    T("loopback", test_loopback);
    T("rx-throttle-released", test_rx_throttle_released);
    T("random-traffic", test_fuzz_registers);
    T("tx-backpressure", test_tx_backpressure);
    return g_test_run();
}
