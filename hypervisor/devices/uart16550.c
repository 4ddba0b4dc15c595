#include "uart16550.h"

#include <string.h>
#include <glib.h>
#include <glib/gi18n.h>

#include "core/vm_state.h"

struct uart16550 {
    const struct uart16550_ops *ops;
    void *opaque;
    GMutex lock;

    uint8_t ier, lcr, mcr, lsr, msr, scr, dll, dlm, fcr;
    uint8_t rx[UART_FIFO_SIZE];
    unsigned rx_head, rx_count;
    bool thr_ipending;      /* THR-empty interrupt pending */
    bool timeout_ipending;  /* character timeout pending */
    bool rx_throttled;      /* we told the backend we were full */
    bool tx_busy;           /* the backend holds output back: THRE clear */
    bool irq_level;
};

static bool fifo_enabled(const struct uart16550 *u)
{
    return u->fcr & UART_FCR_ENABLE;
}

static unsigned rx_capacity(const struct uart16550 *u)
{
    return fifo_enabled(u) ? UART_FIFO_SIZE : 1;
}

static unsigned trigger_level(const struct uart16550 *u)
{
    static const unsigned levels[4] = { 1, 4, 8, 14 };
    return levels[u->fcr >> 6];
}

static uint8_t compute_iir(const struct uart16550 *u)
{
    uint8_t id = UART_IIR_NO_INT;
    if ((u->ier & UART_IER_RLSI) && (u->lsr & (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)))
        id = UART_IIR_RLSI;
    else if ((u->ier & UART_IER_RDI) && u->rx_count &&
             (!fifo_enabled(u) || u->rx_count >= trigger_level(u)))
        id = UART_IIR_RDI;
    else if ((u->ier & UART_IER_RDI) && u->rx_count && u->timeout_ipending)
        id = UART_IIR_CTI;
    else if ((u->ier & UART_IER_THRI) && u->thr_ipending)
        id = UART_IIR_THRI;
    else if ((u->ier & UART_IER_MSI) && (u->msr & 0x0f))
        id = UART_IIR_MSI;
    return id | (fifo_enabled(u) ? UART_IIR_FIFO : 0);
}

/* On a PC the UART's interrupt output is gated by OUT2. */
static void update_irq(struct uart16550 *u)
{
    bool level = !(compute_iir(u) & UART_IIR_NO_INT) && (u->mcr & UART_MCR_OUT2);
    if (level != u->irq_level) {
        u->irq_level = level;
        u->ops->set_irq(u->opaque, level);
    }
}

static uint8_t lsr_value(const struct uart16550 *u)
{
    uint8_t v = u->lsr | (u->tx_busy ? 0 : UART_LSR_THRE | UART_LSR_TEMT);
    if (u->rx_count)
        v |= UART_LSR_DR;
    return v;
}

static void rx_clear(struct uart16550 *u)
{
    u->rx_head = u->rx_count = 0;
    u->timeout_ipending = false;
}

/* Add one received byte; an overrun keeps the FIFO and flags OE. */
static void rx_push(struct uart16550 *u, uint8_t b)
{
    if (u->rx_count >= rx_capacity(u)) {
        u->lsr |= UART_LSR_OE;
        return;
    }
    u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = b;
    u->rx_count++;
}

/* Data below the trigger level would raise the timeout after four
 * character times without input; the backend hands over everything it has
 * at once, so that time has passed as soon as a batch ends. */
static void rx_batch_done(struct uart16550 *u)
{
    if (fifo_enabled(u) && u->rx_count && u->rx_count < trigger_level(u))
        u->timeout_ipending = true;
}

/* True once when the backend was told we were full and there is room again.
 * Any register write or reset can make room (a FIFO clear, leaving loopback),
 * not only a read of RBR; missing one would stall input for good. */
static bool take_room_notice(struct uart16550 *u)
{
    if (!u->rx_throttled || (u->mcr & UART_MCR_LOOP) || u->rx_count >= rx_capacity(u))
        return false;
    u->rx_throttled = false;
    return true;
}

/* Modem status as seen with the loopback wiring or a connected line. */
static void update_msr(struct uart16550 *u)
{
    uint8_t lines;
    if (u->mcr & UART_MCR_LOOP) {
        lines = 0;
        if (u->mcr & UART_MCR_RTS) lines |= UART_MSR_CTS;
        if (u->mcr & UART_MCR_DTR) lines |= UART_MSR_DSR;
        if (u->mcr & UART_MCR_OUT1) lines |= UART_MSR_RI;
        if (u->mcr & UART_MCR_OUT2) lines |= UART_MSR_DCD;
    } else {
        lines = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
    }
    uint8_t old = u->msr & 0xf0;
    uint8_t delta = u->msr & 0x0f;
    if ((old ^ lines) & UART_MSR_CTS) delta |= UART_MSR_DCTS;
    if ((old ^ lines) & UART_MSR_DSR) delta |= UART_MSR_DDSR;
    if ((old ^ lines) & UART_MSR_DCD) delta |= UART_MSR_DDCD;
    if ((old & UART_MSR_RI) && !(lines & UART_MSR_RI)) delta |= UART_MSR_TERI;
    u->msr = lines | delta;
}

static void do_reset(struct uart16550 *u)
{
    u->ier = u->lcr = u->mcr = u->lsr = u->scr = u->fcr = 0;
    u->dll = 0x0c; /* 9600 baud */
    u->dlm = 0;
    rx_clear(u);
    u->thr_ipending = false;
    u->tx_busy = false;
    u->msr = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
    update_irq(u);
}

struct uart16550 *uart16550_new(const struct uart16550_ops *ops, void *opaque)
{
    struct uart16550 *u = g_new0(struct uart16550, 1);
    u->ops = ops;
    u->opaque = opaque;
    g_mutex_init(&u->lock);
    do_reset(u);
    return u;
}

void uart16550_free(struct uart16550 *u)
{
    if (!u)
        return;
    g_mutex_clear(&u->lock);
    g_free(u);
}

void uart16550_reset(struct uart16550 *u)
{
    g_mutex_lock(&u->lock);
    do_reset(u);
    bool notify_room = take_room_notice(u);
    g_mutex_unlock(&u->lock);
    if (notify_room && u->ops->rx_ready)
        u->ops->rx_ready(u->opaque);
}

uint64_t uart16550_read(void *opaque, uint64_t offset, unsigned size)
{
    struct uart16550 *u = opaque;
    uint8_t v = 0xff;
    bool notify_room = false;
    g_mutex_lock(&u->lock);
    switch (offset) {
    case UART_RBR:
        if (u->lcr & UART_LCR_DLAB) {
            v = u->dll;
            break;
        }
        v = 0;
        if (u->rx_count) {
            v = u->rx[u->rx_head];
            u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
            u->rx_count--;
        }
        u->timeout_ipending = false;
        rx_batch_done(u);
        notify_room = take_room_notice(u);
        break;
    case UART_IER:
        v = (u->lcr & UART_LCR_DLAB) ? u->dlm : u->ier;
        break;
    case UART_IIR:
        v = compute_iir(u);
        /* Reading IIR acknowledges a THR-empty interrupt. */
        if ((v & 0x0f) == UART_IIR_THRI)
            u->thr_ipending = false;
        break;
    case UART_LCR:
        v = u->lcr;
        break;
    case UART_MCR:
        v = u->mcr;
        break;
    case UART_LSR:
        v = lsr_value(u);
        u->lsr &= ~(UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI);
        break;
    case UART_MSR:
        v = u->msr;
        u->msr &= 0xf0;
        break;
    case UART_SCR:
        v = u->scr;
        break;
    }
    update_irq(u);
    g_mutex_unlock(&u->lock);
    if (notify_room && u->ops->rx_ready)
        u->ops->rx_ready(u->opaque);
    return v;
}

void uart16550_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct uart16550 *u = opaque;
    uint8_t v = (uint8_t)value;
    g_mutex_lock(&u->lock);
    switch (offset) {
    case UART_THR:
        if (u->lcr & UART_LCR_DLAB) {
            u->dll = v;
            break;
        }
        if (u->mcr & UART_MCR_LOOP) {
            rx_push(u, v);
            rx_batch_done(u);
            u->thr_ipending = true;
            break;
        }
        u->ops->transmit(u->opaque, v);
        /* Sent at once: THR is empty again, unless the backend's reader
         * fell behind; then THRE stays clear until it catches up
         * (uart16550_tx_ready), which paces a guest that honours it. */
        if (u->ops->tx_busy && u->ops->tx_busy(u->opaque))
            u->tx_busy = true;
        else if (!u->tx_busy)
            u->thr_ipending = true;
        break;
    case UART_IER:
        if (u->lcr & UART_LCR_DLAB) {
            u->dlm = v;
            break;
        }
        /* Enabling the THR-empty interrupt with THR empty raises it. */
        if (!(u->ier & UART_IER_THRI) && (v & UART_IER_THRI) && !u->tx_busy)
            u->thr_ipending = true;
        u->ier = v & 0x0f;
        break;
    case UART_FCR: {
        bool was = fifo_enabled(u);
        bool now = v & UART_FCR_ENABLE;
        if (was != now || (v & UART_FCR_CLEAR_RX))
            rx_clear(u);
        /* The other bits are only written together with the enable bit. */
        u->fcr = now ? (v & 0xc9) : 0;
        break;
    }
    case UART_LCR:
        u->lcr = v;
        break;
    case UART_MCR:
        u->mcr = v & 0x1f;
        update_msr(u);
        break;
    case UART_LSR:
    case UART_MSR:
        break; /* read-only on a 16550A */
    case UART_SCR:
        u->scr = v;
        break;
    }
    bool notify_room = take_room_notice(u);
    update_irq(u);
    g_mutex_unlock(&u->lock);
    if (notify_room && u->ops->rx_ready)
        u->ops->rx_ready(u->opaque);
}

const struct io_ops uart16550_io_ops = {
    .read = uart16550_read,
    .write = uart16550_write,
};

size_t uart16550_can_receive(struct uart16550 *u)
{
    g_mutex_lock(&u->lock);
    size_t room = 0;
    /* In loopback the line input is disconnected: hold it back. */
    if (!(u->mcr & UART_MCR_LOOP))
        room = rx_capacity(u) - u->rx_count;
    if (room == 0)
        u->rx_throttled = true;
    g_mutex_unlock(&u->lock);
    return room;
}

void uart16550_receive(struct uart16550 *u, const uint8_t *buf, size_t len)
{
    g_mutex_lock(&u->lock);
    for (size_t i = 0; i < len; i++)
        rx_push(u, buf[i]);
    rx_batch_done(u);
    update_irq(u);
    g_mutex_unlock(&u->lock);
}

void uart16550_tx_ready(struct uart16550 *u)
{
    g_mutex_lock(&u->lock);
    if (u->tx_busy) {
        u->tx_busy = false;
        u->thr_ipending = true;
        update_irq(u);
    }
    g_mutex_unlock(&u->lock);
}

bool uart16550_save(void *opaque, struct state_out *o, GError **error)
{
    struct uart16550 *u = opaque;
    g_mutex_lock(&u->lock);
    const uint8_t regs[] = { u->ier, u->lcr, u->mcr, u->lsr, u->msr, u->scr, u->dll, u->dlm, u->fcr };
    state_out_bytes(o, regs, sizeof(regs));
    /* The FIFO from its head, so the load need not trust an index. */
    state_out_u8(o, (uint8_t)u->rx_count);
    for (unsigned i = 0; i < u->rx_count; i++)
        state_out_u8(o, u->rx[(u->rx_head + i) % UART_FIFO_SIZE]);
    state_out_bool(o, u->thr_ipending);
    state_out_bool(o, u->timeout_ipending);
    g_mutex_unlock(&u->lock);
    return true;
}

bool uart16550_load(void *opaque, struct state_in *in, uint32_t version, GError **error)
{
    struct uart16550 *u = opaque;
    uint8_t r[9];
    state_in_bytes(in, r, sizeof(r));
    unsigned count = state_in_u8(in);
    if (count > UART_FIFO_SIZE)
        return state_in_invalid(in, error, _("%u bytes in a 16-byte FIFO"), count);
    uint8_t rx[UART_FIFO_SIZE];
    state_in_bytes(in, rx, count);
    bool thr = state_in_bool(in), timeout = state_in_bool(in);
    if (in->short_read)
        return state_in_invalid(in, error, _("truncated"));
    /* Only what register writes can produce. */
    uint8_t fcr = r[8] & UART_FCR_ENABLE ? r[8] & 0xc9 : 0;
    if (count > (fcr & UART_FCR_ENABLE ? UART_FIFO_SIZE : 1u))
        return state_in_invalid(in, error, _("%u bytes received with the FIFO off"), count);

    g_mutex_lock(&u->lock);
    u->ier = r[0] & 0x0f;
    u->lcr = r[1];
    u->mcr = r[2] & 0x1f;
    u->lsr = r[3] & (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI);
    u->msr = r[4];
    u->scr = r[5];
    u->dll = r[6];
    u->dlm = r[7];
    u->fcr = fcr;
    memcpy(u->rx, rx, count);
    u->rx_head = 0;
    u->rx_count = count;
    u->thr_ipending = thr;
    u->timeout_ipending = timeout;
    u->tx_busy = false;
    /* The new backend may have been told we were full; make sure it hears
     * of any room. */
    u->rx_throttled = true;
    bool notify_room = take_room_notice(u);
    update_irq(u);
    g_mutex_unlock(&u->lock);
    if (notify_room && u->ops->rx_ready)
        u->ops->rx_ready(u->opaque);
    return true;
}

const struct vm_state_ops uart16550_state_ops = {
    .version = 1, .stage = VM_STATE_STAGE_DEVICE, .save = uart16550_save, .load = uart16550_load,
};
