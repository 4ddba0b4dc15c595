/* The PIIX3 USB controller (UHCI, PCI 8086:7020 at 01.2) with its two root
 * ports.
 *
 * The schedule (frame list, queue heads, transfer descriptors) lives in
 * guest memory; the controller walks one frame of it per millisecond on a
 * main-loop timer that runs only while the guest has the controller
 * running.  Every guest pointer is checked and each frame's walk has a
 * fixed budget, so looping or dangling schedules cannot hang the VMM. */
#pragma once

#include <stdbool.h>
#include <glib.h>

#include "usb.h"

struct vm;
struct pci_bus;
struct pci_device;
struct input_router;
struct usb_uhci;
struct usb_hid_tablet;

#define UHCI_PORTS 2
#define UHCI_PCI_SLOT 1
#define UHCI_PCI_FUNC 2

struct usb_uhci *uhci_create(struct vm *vm, struct pci_bus *bus, GError **error);
void uhci_free(struct usb_uhci *u);

/* Plug a device into root port 0 or 1 (the caller keeps ownership). */
bool uhci_attach(struct usb_uhci *u, unsigned port, struct usb_device *dev, GError **error);
void uhci_detach(struct usb_uhci *u, unsigned port);

/* Create a HID tablet, plug it into port and register it with the input
 * router (NULL: none).  The controller owns it and frees it. */
struct usb_hid_tablet *uhci_attach_tablet(struct usb_uhci *u, unsigned port,
                                          struct input_router *router, GError **error);

/* Process n frames now, as the timer does (tests and fuzzing). */
void uhci_run_frames(struct usb_uhci *u, unsigned n);

struct pci_device *uhci_pci_device(struct usb_uhci *u);
