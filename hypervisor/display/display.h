/* The VM's display in one piece: the standard VGA on the PCI bus, the
 * input router its clients feed, and the VNC server showing it.  This is
 * what the PC platform creates for --vnc; the control socket's screendump
 * uses display_framebuffer() with display_screendump(). */
#pragma once

#include <stdbool.h>
#include <glib.h>

struct vm;
struct pci_bus;
struct vga;
struct framebuffer;
struct input_router;
struct display;

struct display_config {
    const char *vnc_address;   /* "unix:PATH" or "127.0.0.1:PORT"; NULL: no server */
    const char *vnc_password;  /* NULL: security type None */
    const char *vga_rom;       /* NULL: /usr/share/seabios/vgabios-stdvga.bin */
    const char *name;          /* desktop name shown by clients */
};

struct display *display_create(struct vm *vm, struct pci_bus *bus,
                               const struct display_config *config, GError **error);
void display_destroy(struct display *d);

struct vga *display_vga(struct display *d);
struct framebuffer *display_framebuffer(struct display *d);
/* Keyboard and pointer devices register their input sinks here. */
struct input_router *display_input(struct display *d);
/* The VNC server's TCP port (chosen from 5900 up for PORT 0), or -1. */
int display_vnc_port(struct display *d);
