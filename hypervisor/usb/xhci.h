/* An xHCI USB host controller (PCI class 0C0330, the IDs of QEMU's
 * qemu-xhci 1b36:000d so that guests' drivers bind) with USB 2 and USB 3
 * root ports, one interrupter (MSI-X, else MSI, else INTx) and 32-byte contexts.
 *
 * The command ring, the transfer rings, the event ring and the device
 * contexts live in guest memory; they are processed on the doorbell write
 * (or, for IN endpoints waiting on a device, when the device has data).
 * Every guest pointer, ring segment size, slot and endpoint id and TRB
 * length is checked, and every walk of a ring has a budget: a Link TRB
 * cycle without progress ends it with an error instead of a hang. */
#pragma once

#include <stdbool.h>
#include <glib.h>

#include "usb.h"

struct vm;
struct pci_bus;
struct pci_device;
struct input_router;
struct xhci;
struct usb_hid_tablet;
struct usb_hid_keyboard;

#define XHCI_PORTS_USB2 4               /* root ports 1-4 */
#define XHCI_PORTS_USB3 4               /* root ports 5-8 */
#define XHCI_PORTS (XHCI_PORTS_USB2 + XHCI_PORTS_USB3)
#define XHCI_SLOTS 8

struct xhci *xhci_create(struct vm *vm, struct pci_bus *bus, GError **error);
void xhci_free(struct xhci *x);

/* Plug a full-speed device into USB 2 root port `port` (0-based, below
 * XHCI_PORTS_USB2); the caller keeps ownership. */
bool xhci_attach(struct xhci *x, unsigned port, struct usb_device *dev, GError **error);

/* Create a HID tablet or keyboard, plug it into port and register it with
 * the input router (NULL: none).  The controller owns and frees them. */
struct usb_hid_tablet *xhci_attach_tablet(struct xhci *x, unsigned port,
                                          struct input_router *router, GError **error);
struct usb_hid_keyboard *xhci_attach_keyboard(struct xhci *x, unsigned port,
                                              struct input_router *router, GError **error);

struct pci_device *xhci_pci_device(struct xhci *x);
