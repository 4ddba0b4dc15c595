/* Creating and tearing down the VM's display: VGA, input router, VNC. */
#include "display.h"

#include "vga.h"
#include "framebuffer.h"
#include "input/input.h"
#include "core/vm.h"
#include "vnc.h"

struct display {
    struct vga *vga;
    struct input_router *input;
    struct vnc_server *vnc;
};

struct display *display_create(struct vm *vm, struct pci_bus *bus,
                               const struct display_config *config, GError **error)
{
    struct display *d = g_new0(struct display, 1);
    d->input = input_router_new();
    /* Listen first: a bad address must fail before the VGA is on the bus,
     * which cannot give it back. */
    if (config->vnc_address) {
        d->vnc = vnc_server_new(NULL, d->input, vm_main_context(vm), config->name);
        vnc_server_set_password(d->vnc, config->vnc_password);
        if (!vnc_server_listen(d->vnc, config->vnc_address, error)) {
            display_destroy(d);
            return NULL;
        }
    }
    d->vga = vga_pci_create(vm, bus, config->vga_rom, error);
    if (!d->vga) {
        display_destroy(d);
        return NULL;
    }
    if (d->vnc)
        vnc_server_set_framebuffer(d->vnc, vga_framebuffer(d->vga));
    return d;
}

void display_destroy(struct display *d)
{
    if (!d)
        return;
    vnc_server_free(d->vnc);
    input_router_free(d->input);
    vga_pci_destroy(d->vga);
    g_free(d);
}

struct vga *display_vga(struct display *d) { return d->vga; }
struct framebuffer *display_framebuffer(struct display *d) { return vga_framebuffer(d->vga); }
struct input_router *display_input(struct display *d) { return d->input; }
int display_vnc_port(struct display *d) { return d->vnc ? vnc_server_tcp_port(d->vnc) : -1; }
