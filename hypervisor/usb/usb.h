/* The interface between a USB host controller and the USB devices on its
 * ports.
 *
 * The controller owns the bus side: addressing, the control pipe's
 * SETUP/DATA/STATUS stages and packet sizes.  A device answers whole
 * control requests and single interrupt/bulk packets.  Calls come with the
 * controller's lock held, on the VM's main loop. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

/* Results other than a byte count. */
#define USB_RET_NAK   (-1)   /* nothing now, try again */
#define USB_RET_STALL (-2)   /* request not supported / endpoint halted */

#define USB_DIR_IN 0x80

/* Standard requests (USB 1.1 chapter 9) and HID class requests. */
#define USB_REQ_GET_STATUS        0x00
#define USB_REQ_CLEAR_FEATURE     0x01
#define USB_REQ_SET_FEATURE       0x03
#define USB_REQ_SET_ADDRESS       0x05
#define USB_REQ_GET_DESCRIPTOR    0x06
#define USB_REQ_GET_CONFIGURATION 0x08
#define USB_REQ_SET_CONFIGURATION 0x09
#define USB_REQ_GET_INTERFACE     0x0a
#define USB_REQ_SET_INTERFACE     0x0b

#define USB_DT_DEVICE    0x01
#define USB_DT_CONFIG    0x02
#define USB_DT_STRING    0x03
#define USB_DT_INTERFACE 0x04
#define USB_DT_ENDPOINT  0x05
#define USB_DT_HID       0x21
#define USB_DT_REPORT    0x22

struct usb_setup {
    uint8_t request_type;
    uint8_t request;
    uint16_t value;
    uint16_t index;
    uint16_t length;
};

struct usb_device;
struct state_out;
struct state_in;

struct usb_device_ops {
    /* A control request other than SET_ADDRESS.  For IN requests fill at
     * most setup->length bytes of data and return how many; for OUT
     * requests data holds setup->length bytes; return 0.  USB_RET_STALL
     * refuses the request. */
    int (*control)(struct usb_device *dev, const struct usb_setup *setup, uint8_t *data);
    /* One packet on a non-control endpoint (ep 1..15): IN fills at most
     * len bytes; returns the byte count, USB_RET_NAK or USB_RET_STALL. */
    int (*data_in)(struct usb_device *dev, unsigned ep, uint8_t *buf, size_t len);
    int (*data_out)(struct usb_device *dev, unsigned ep, const uint8_t *buf, size_t len);
    /* Bus reset: back to the default state (address 0, unconfigured). */
    void (*reset)(struct usb_device *dev);
    /* VM state of the device model (NULL: it cannot be saved). */
    void (*save)(struct usb_device *dev, struct state_out *out);
    bool (*load)(struct usb_device *dev, struct state_in *in, GError **error);
};

#define USB_CONTROL_MAX 1024   /* longest control data stage handled */

/* A device as the controller sees it.  The device model embeds this and
 * fills ops/opaque; the rest belongs to the controller. */
struct usb_device {
    const struct usb_device_ops *ops;
    void *opaque;
    bool full_speed;

    uint8_t addr;
    /* Control pipe of endpoint 0. */
    struct usb_setup setup;
    bool setup_valid;
    uint8_t data[USB_CONTROL_MAX];
    size_t data_len;           /* IN: bytes the device returned; OUT: gathered */
    size_t data_pos;
    int pending_addr;          /* SET_ADDRESS takes effect after the status stage */

    /* Set by the controller at attach: the device calls it (without its
     * own lock held) to signal remote wakeup when it has data while its
     * port or the bus is suspended. */
    void (*wakeup)(struct usb_device *dev);
    /* Optional, set by controllers that do not poll: the device calls it
     * (without its own lock held) when an IN endpoint has new data. */
    void (*data_ready)(struct usb_device *dev);
    void *controller;
};
