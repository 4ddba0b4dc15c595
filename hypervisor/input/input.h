/* Input from display clients (VNC) to the guest's input devices.
 *
 * Devices that take keyboard or pointer input (i8042, USB tablet,
 * virtio-input) register an input sink with the VM's input router; display
 * servers call the input_send_* functions.  The router picks the sink:
 * keys go to every sink with a key() hook (except that while a sink with
 * key_active(), a USB keyboard, says its guest driver drives it, keys go
 * only to such sinks, so a guest does not see each key twice), pointer
 * motion goes to the first absolute sink whose guest driver is active,
 * else as relative deltas to a relative sink.  All calls happen on the
 * main context; sinks lock their own device state.
 *
 * Scancodes are PC XT (set 1) make codes: 0x01-0x7f for ordinary keys,
 * 0xe000 | code for keys sent with the 0xE0 prefix (right Ctrl 0xe01d,
 * cursor keys, ...).  Pause is INPUT_SCANCODE_PAUSE.  A device translating
 * to set 2 does so itself. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define INPUT_SCANCODE_PAUSE 0xe11d  /* E1 1D 45 E1 9D C5, make only */

/* Absolute coordinates span 0..INPUT_ABS_MAX across the screen. */
#define INPUT_ABS_MAX 0x7fff

/* Button bits, as in RFB PointerEvent. */
#define INPUT_BUTTON_LEFT   (1u << 0)
#define INPUT_BUTTON_MIDDLE (1u << 1)
#define INPUT_BUTTON_RIGHT  (1u << 2)

struct input_sink_ops {
    void (*key)(void *opaque, uint16_t scancode, bool down);
    /* x, y in 0..INPUT_ABS_MAX; dz wheel steps, > 0 = towards the user. */
    void (*pointer_abs)(void *opaque, int x, int y, int dz, unsigned buttons);
    /* dx > 0 right, dy > 0 down the screen (a PS/2 mouse reports up as
     * positive, so it negates dy). */
    void (*pointer_rel)(void *opaque, int dx, int dy, int dz, unsigned buttons);
    /* For absolute sinks: whether the guest currently drives the device
     * (e.g. the tablet is configured).  NULL means always. */
    bool (*abs_active)(void *opaque);
    /* For keyboards the guest may leave unused (USB): whether the guest
     * drives it now.  NULL: a keyboard that always takes keys. */
    bool (*key_active)(void *opaque);
};

struct input_router;

struct input_router *input_router_new(void);
void input_router_free(struct input_router *r);

unsigned input_router_add_sink(struct input_router *r,
                               const struct input_sink_ops *ops, void *opaque);
void input_router_remove_sink(struct input_router *r, unsigned id);

void input_send_key(struct input_router *r, uint16_t scancode, bool down);
/* Whether pointer events currently go to an absolute device (so clients
 * can stop grabbing the pointer). */
bool input_router_absolute(struct input_router *r);
/* A client pointer at pixel (x, y) of a width x height screen, with RFB
 * button mask (bits 3/4 are wheel up/down presses). */
void input_send_pointer(struct input_router *r, int x, int y,
                        unsigned width, unsigned height, unsigned rfb_mask);

/* The bytes a PC keyboard in scancode set 1 (or an i8042 translating to
 * it) sends for this key event: E0 prefix for extended keys, bit 7 set on
 * release, the six-byte sequence for Pause (make only).  Returns the
 * number of bytes (0 for an invalid scancode). */
unsigned input_scancode_set1_bytes(uint16_t scancode, bool down, uint8_t out[6]);

/* The same for scancode set 2 (what a PS/2 keyboard sends when the
 * i8042 does not translate): F0 before the code on release, up to 8 bytes. */
unsigned input_scancode_set2_bytes(uint16_t scancode, bool down, uint8_t out[8]);

/* US-layout X11 keysym to scancode; 0 if the keysym has no key. */
uint16_t input_keysym_to_scancode(uint32_t keysym);
/* QEMU extended key event keycode (XT with bit 7 meaning the E0 prefix) to
 * our scancode; 0 if invalid. */
uint16_t input_qnum_to_scancode(uint32_t qnum);
