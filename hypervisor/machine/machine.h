/* The machine as main() and the control socket see it, whatever its
 * chipset: creation from the options, the VM, and what the control
 * socket reports or changes (display, drives, serial ports, CD-ROM). */
#pragma once

#include <stdbool.h>
#include <glib.h>

#include "config/options.h"
#include "backends/block_backend.h"

struct machine;
struct vm;
struct chardev;
struct display;

/* Takes kvm_fd.  Errors in the OPTIONS_ERROR domain are configuration
 * problems (exit code 2); others are runtime failures. */
struct machine *machine_create(const struct vmm_options *o, int kvm_fd, GError **error);
/* Stops the vCPUs first, then frees the devices. */
void machine_destroy(struct machine *m);

struct vm *machine_vm(struct machine *m);
const struct vmm_options *machine_options(struct machine *m);

/* The display (VGA + VNC), or NULL without one. */
struct display *machine_display(struct machine *m);

/* The drives (struct machine_drive) in the order they were attached. */
GPtrArray *machine_drives(struct machine *m);

/* Serial ports with a backend, for query-chardev. */
unsigned machine_chardev_count(struct machine *m);
struct chardev *machine_chardev(struct machine *m, unsigned i);

/* The CD-ROM drive (--cdrom): put another image in (the guest sees a media
 * change), or take the medium out (refused while the guest locks the tray,
 * unless force).  G_IO_ERROR_NOT_FOUND without a CD-ROM. */
bool machine_cdrom_change_medium(struct machine *m, const char *path, GError **error);
bool machine_cdrom_eject(struct machine *m, bool force, GError **error);

/* A drive as the control socket's query-block reports it. */
struct machine_drive {
    char *device;       /* "vda", "hda", "sda", ...; "cdrom" for --cdrom */
    const char *bus;    /* "virtio", "ide", "ahci" */
    char *file;         /* NULL: no medium */
    bool readonly;
    bool removable;
    /* The device model behind it, for the hooks below (unit: its channel
     * * 2 + unit on IDE, its port on AHCI). */
    void *model;
    unsigned unit;
    /* Reads the counters of the image in the drive; false without one. */
    bool (*get_stats)(struct machine_drive *d, struct block_stats *out);
    /* Grows the disk and tells the guest; NULL when its bus cannot. */
    bool (*grow)(struct machine_drive *d, uint64_t size, GError **error);
};

/* The memory balloon (--balloon), or NULL. */
struct virtio_balloon *machine_balloon(struct machine *m);

/* The drive named name (as query-block names it), or NULL. */
struct machine_drive *machine_drive_find(struct machine *m, const char *name);

/* Type a key on the guest's keyboard: scancode as input.h has it, press
 * (down) or release.  Goes through the display's input router when there
 * is a display, else straight to the PS/2 keyboard. */
void machine_send_key(struct machine *m, uint16_t scancode, bool down);
