/* The i8042 keyboard controller with a PS/2 keyboard and mouse port.
 *
 * Controller commands (command byte, self-tests, port enables, output
 * port with the CPU reset line and A20), the keyboard's command set, and a
 * PS/2 mouse (stream and remote mode, IntelliMouse wheel after the
 * 200/100/80 sample-rate knock).  Pulsing the
 * reset line (command 0xFE, or the output port's bit 0 going low) resets
 * the machine, which is how Linux reboots with reboot=k. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "core/iobus.h"

struct i8042;

struct i8042_ops {
    void (*set_irq)(void *opaque, unsigned irq, bool level); /* irq: 1 or 12 */
    void (*reset)(void *opaque);
};

struct i8042 *i8042_new(const struct i8042_ops *ops, void *opaque);
void i8042_free(struct i8042 *k);
void i8042_reset(struct i8042 *k);

/* Queue a scancode (set 2 as the keyboard sends it, or set 1 when the
 * controller translates) from the display's input. */
void i8042_keyboard_input(struct i8042 *k, const uint8_t *codes, unsigned n);

/* A key from the display's input (input.h scancode): set 1 bytes while
 * the controller translates (command byte bit 6), else the keyboard's set. */
void i8042_key(struct i8042 *k, uint16_t scancode, bool down);

/* Mouse motion in PS/2 sense: dx > 0 right, dy > 0 up, dz > 0 towards the
 * user; buttons as INPUT_BUTTON_*.  Sent as a packet when reporting is on
 * in stream mode; IRQ 12. */
void i8042_mouse_input(struct i8042 *k, int dx, int dy, int dz, unsigned buttons);

bool i8042_a20_enabled(struct i8042 *k);

/* VM state (vm_state.h): controller, keyboard and mouse state with the
 * bytes queued for the guest; the load re-drives IRQ 1 and 12. */
struct vm_state_ops;
extern const struct vm_state_ops i8042_state_ops;   /* opaque: struct i8042 */
struct state_out;
struct state_in;
bool i8042_save(void *opaque, struct state_out *out, GError **error);
bool i8042_load(void *opaque, struct state_in *in, uint32_t version, GError **error);

/* Registered twice: data port 0x60 and command/status port 0x64. */
extern const struct io_ops i8042_data_io_ops;
extern const struct io_ops i8042_cmd_io_ops;

#define I8042_STATUS_OBF    0x01
#define I8042_STATUS_IBF    0x02
#define I8042_STATUS_SYS    0x04
#define I8042_STATUS_CMD    0x08
#define I8042_STATUS_UNLOCK 0x10
#define I8042_STATUS_AUX    0x20
#define I8042_CB_KBD_INT    0x01
#define I8042_CB_AUX_INT    0x02
#define I8042_CB_SYS        0x04
#define I8042_CB_KBD_OFF    0x10
#define I8042_CB_AUX_OFF    0x20
#define I8042_CB_XLATE      0x40
