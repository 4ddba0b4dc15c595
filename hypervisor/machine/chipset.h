/* What every chipset fills in, for machine.c to answer main() and the
 * control socket without knowing which chipset it is.
 *
 * A chipset is one file (pc.c for i440FX/PIIX3, q35.c for Q35/ICH9)
 * whose create function builds the VM, creates and wires its devices
 * through a device registry, fills struct machine and returns it, and a
 * call in machine_create() (with the option that chooses it). */
#pragma once

#include "machine.h"

#define MACHINE_MAX_SERIAL 4

struct pc_devices;
struct device_registry;

struct machine {
    const struct vmm_options *opts;
    struct vm *vm;
    struct device_registry *registry;
    GPtrArray *drives;                  /* struct machine_drive */
    struct chardev *serial[MACHINE_MAX_SERIAL];   /* NULL: no backend */
    /* The devices for unmodified guests (VGA, IDE, AHCI, e1000, USB);
     * NULL until made. */
    struct pc_devices *devices;
    struct virtio_balloon *balloon;     /* NULL without --balloon */
    /* Frees the chipset's part; m itself is the chipset's to free. */
    void (*destroy)(struct machine *m);
};

/* Append a drive to m->drives. */
struct machine_drive *machine_drive_add(struct machine *m, char *device, const char *bus,
                                        const char *file, bool readonly, bool removable);
/* Linux-style drive name: prefix then a..z, aa..zz, ... for index. */
char *machine_drive_name(const char *prefix, unsigned index);

/* Start filling m (drives, registry); machine_clear() undoes it. */
void machine_init(struct machine *m, const struct vmm_options *o);
void machine_clear(struct machine *m);

/* The chipsets. */
struct machine *pc_create(const struct vmm_options *o, int kvm_fd, GError **error);
struct machine *q35_create(const struct vmm_options *o, int kvm_fd, GError **error);
