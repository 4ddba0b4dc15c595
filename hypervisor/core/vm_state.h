/* VM state save and restore: the registry of everything that has state.
 *
 * Each part of the machine with state registers a named section with a
 * save/load pair when it is created: device models, the PCI functions,
 * the in-kernel interrupt controllers, the vCPUs and the KVM clock (guest
 * RAM is not an entry: vm_save.c writes it, ram_state.c).  A device model that cannot save its state yet registers a
 * refusal instead, so that saving a VM with it fails naming it rather than
 * writing an incomplete image.
 *
 * Both run on the main loop with the vCPUs paused.  load() gets values
 * from a file and must check them as the device checks guest writes. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "state_stream.h"

struct vm;

/* Sections are saved and loaded in stage order, then registration order.
 * Guest RAM (ram_state.c) is saved after the devices, whose pending work
 * may still write to it, and loaded before them, so that they see guest
 * memory as it was.  The in-kernel state comes after the devices have
 * driven their interrupt lines. */
enum vm_state_stage {
    VM_STATE_STAGE_DEVICE,
    VM_STATE_STAGE_IRQCHIP,
    VM_STATE_STAGE_CPU,
    VM_STATE_STAGE_CLOCK,
};

struct vm_state_ops {
    uint32_t version;
    enum vm_state_stage stage;
    bool (*save)(void *opaque, struct state_out *out, GError **error);
    bool (*load)(void *opaque, struct state_in *in, uint32_t version, GError **error);
};

/* name: unique, [a-z0-9._:-], at most STATE_NAME_MAX characters. */
void vm_state_register(struct vm *vm, const char *name, const struct vm_state_ops *ops,
                       void *opaque);
void vm_state_refuse(struct vm *vm, const char *name);

/* The registry a VM owns (vm.c creates and frees it). */
struct vm_state_registry;
struct vm_state_registry *vm_state_registry_new(void);
void vm_state_registry_free(struct vm_state_registry *r);
struct vm_state_registry *vm_state_registry_of(struct vm *vm);

/* For vm_save.c: the entries in stage order (free the array only). */
struct vm_state_entry {
    const char *name;
    const struct vm_state_ops *ops;   /* NULL: refuses to be saved */
    void *opaque;
};
GPtrArray *vm_state_entries(struct vm_state_registry *r);
unsigned vm_state_entry_stage(const struct vm_state_entry *e);

/* vm_save.c.  Write the whole VM to path (the VM must be paused).  Errors are in the
 * STATE_ERROR domain. */
bool vm_state_save(struct vm *vm, const char *path, const char *header, GError **error);

/* Load a file written for a VM configured like this one (before it runs). */
bool vm_state_load(struct vm *vm, const char *path, GError **error);
