/* A National Semiconductor 16550A UART: the PC's COM ports.
 *
 * Transmission is instantaneous (the byte goes straight to the backend), so
 * THR and the shift register are empty again by the next access, unless the
 * backend says its reader fell behind: then THRE/TEMT stay clear until
 * uart16550_tx_ready() (the THR-empty interrupt follows); the
 * receive side has the real 16-byte FIFO with trigger levels, overrun, and
 * the character-timeout interrupt.  The model knows nothing about the VM:
 * the caller supplies the interrupt line and the backend. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "core/iobus.h"

struct uart16550;

struct uart16550_ops {
    void (*set_irq)(void *opaque, bool level);
    void (*transmit)(void *opaque, uint8_t byte);
    /* The receiver has room again after uart16550_can_receive() said 0. */
    void (*rx_ready)(void *opaque);
    /* Optional: is the backend holding output back (reader behind)? */
    bool (*tx_busy)(void *opaque);
};

struct uart16550 *uart16550_new(const struct uart16550_ops *ops, void *opaque);
void uart16550_free(struct uart16550 *u);
void uart16550_reset(struct uart16550 *u);

/* Register access, offset 0-7 from the base port. */
uint64_t uart16550_read(void *u, uint64_t offset, unsigned size);
void uart16550_write(void *u, uint64_t offset, uint64_t value, unsigned size);
extern const struct io_ops uart16550_io_ops;

/* Input from the backend. */
size_t uart16550_can_receive(struct uart16550 *u);
void uart16550_receive(struct uart16550 *u, const uint8_t *buf, size_t len);

/* The backend caught up after tx_busy() said true: THR is empty again. */
void uart16550_tx_ready(struct uart16550 *u);

/* VM state (vm_state.h): the registers and the receive FIFO.  The load
 * checks every field as register writes would, then drives the interrupt
 * line as the loaded registers say and reopens the input if there is room.
 * The backend is new after a restore: output is never held back. */
struct vm_state_ops;
extern const struct vm_state_ops uart16550_state_ops;   /* opaque: struct uart16550 */
struct state_out;
struct state_in;
bool uart16550_save(void *opaque, struct state_out *out, GError **error);
bool uart16550_load(void *opaque, struct state_in *in, uint32_t version, GError **error);

/* Register numbers and bits, shared with tests. */
enum {
    UART_RBR = 0, UART_THR = 0, UART_DLL = 0,
    UART_IER = 1, UART_DLM = 1,
    UART_IIR = 2, UART_FCR = 2,
    UART_LCR = 3, UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
};
#define UART_IER_RDI  0x01
#define UART_IER_THRI 0x02
#define UART_IER_RLSI 0x04
#define UART_IER_MSI  0x08
#define UART_IIR_NO_INT 0x01
#define UART_IIR_MSI  0x00
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI  0x04
#define UART_IIR_RLSI 0x06
#define UART_IIR_CTI  0x0c
#define UART_IIR_FIFO 0xc0
#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_FCR_CLEAR_TX 0x04
#define UART_LCR_DLAB 0x80
#define UART_MCR_DTR  0x01
#define UART_MCR_RTS  0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10
#define UART_LSR_DR   0x01
#define UART_LSR_OE   0x02
#define UART_LSR_PE   0x04
#define UART_LSR_FE   0x08
#define UART_LSR_BI   0x10
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_LSR_FIFOE 0x80
#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04
#define UART_MSR_DDCD 0x08
#define UART_MSR_CTS  0x10
#define UART_MSR_DSR  0x20
#define UART_MSR_RI   0x40
#define UART_MSR_DCD  0x80
#define UART_FIFO_SIZE 16
