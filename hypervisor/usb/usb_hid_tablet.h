/* A USB HID tablet: an absolute pointer (X/Y 0..0x7FFF, three buttons and
 * a wheel) that guests with a generic HID driver (Windows, Linux) use
 * without a pointer grab.  It registers as an absolute sink with the input
 * router and answers interrupt-IN polls with 6-byte reports. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "usb.h"

struct input_router;
struct usb_hid_tablet;

#define USB_TABLET_REPORT_SIZE 6

/* router may be NULL (no display); the tablet then only talks USB. */
struct usb_hid_tablet *usb_hid_tablet_new(struct input_router *router);
void usb_hid_tablet_free(struct usb_hid_tablet *t);

struct usb_device *usb_hid_tablet_device(struct usb_hid_tablet *t);

/* What the input router calls: x, y in 0..0x7FFF, dz > 0 towards the user. */
void usb_hid_tablet_pointer(struct usb_hid_tablet *t, int x, int y, int dz, unsigned buttons);
/* Whether the guest configured the device (only then it takes pointer events). */
bool usb_hid_tablet_active(struct usb_hid_tablet *t);

/* VM state: configuration, HID settings and the reports not yet polled. */
struct state_out;
struct state_in;
void usb_hid_tablet_save(struct usb_hid_tablet *t, struct state_out *out);
bool usb_hid_tablet_load(struct usb_hid_tablet *t, struct state_in *in, GError **error);
