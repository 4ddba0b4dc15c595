/* The Oriel PC: assembles memory, the in-kernel interrupt controllers, the
 * ISA devices, PCI with virtio devices, ACPI and the boot path from the
 * options, and answers the control socket's queries about them. */
#pragma once

#include <stdbool.h>
#include <glib.h>

#include "config/options.h"

struct pc;
struct pc_devices;
struct vm;
struct chardev;
struct display;

/* Takes kvm_fd.  Errors in the OPTIONS_ERROR domain are configuration
 * problems (exit code 2); others are runtime failures. */
struct pc *pc_create(const struct vmm_options *o, int kvm_fd, GError **error);
void pc_destroy(struct pc *pc);

struct vm *pc_vm(struct pc *pc);
const struct vmm_options *pc_options(struct pc *pc);

/* The display (VGA + VNC), or NULL without one. */
struct display *pc_display(struct pc *pc);
/* The devices for unmodified guests (pc_devices.h); pc_create() makes them. */
struct pc_devices *pc_devices_of(struct pc *pc);

/* The drives (struct pc_drive, pc_devices.h) in the order they were
 * attached: virtio-blk, then the IDE CD-ROM and disks, then AHCI. */
GPtrArray *pc_drives(struct pc *pc);

/* Serial ports with a backend, for query-chardev. */
unsigned pc_chardev_count(struct pc *pc);
struct chardev *pc_chardev(struct pc *pc, unsigned i);
