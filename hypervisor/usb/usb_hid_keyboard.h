/* A USB HID keyboard speaking the boot protocol (8-byte reports: modifier
 * bits, a reserved byte, up to six key usages), so that firmware and
 * guests without a PS/2 controller driver type on it.  It registers with
 * the input router as a keyboard that takes keys while the guest has it
 * configured, translating the router's set-1 scancodes to HID usages. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "usb.h"

struct input_router;
struct usb_hid_keyboard;

#define USB_KEYBOARD_REPORT_SIZE 8

/* router may be NULL (no display); the keyboard then only talks USB. */
struct usb_hid_keyboard *usb_hid_keyboard_new(struct input_router *router);
void usb_hid_keyboard_free(struct usb_hid_keyboard *k);

struct usb_device *usb_hid_keyboard_device(struct usb_hid_keyboard *k);

/* What the input router calls (scancode as in input/input.h). */
void usb_hid_keyboard_key(struct usb_hid_keyboard *k, uint16_t scancode, bool down);
/* Whether the guest configured the device (only then it takes keys). */
bool usb_hid_keyboard_active(struct usb_hid_keyboard *k);
/* The LED bits the guest last set (bit 0 Num Lock, 1 Caps Lock, 2 Scroll). */
uint8_t usb_hid_keyboard_leds(struct usb_hid_keyboard *k);

/* The HID usage of a set-1 scancode (input/input.h), 0 if it has none. */
uint8_t usb_hid_usage_of_scancode(uint16_t scancode);
