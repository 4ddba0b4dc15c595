/* The devices a machine creates, and the one place their state is
 * registered.
 *
 * Machine assembly (pc.c, and another chipset next to it) adds every device
 * it creates here under the name of its state section; device models only
 * export their vm_state_ops and never register themselves.  PCI functions
 * come through the PCI bus, which names their sections "pci:SS.F:NAME"
 * from the slot it gave them.  Sections are saved in the order devices
 * are added, so a chipset must keep its order for its state files to load. */
#pragma once

struct vm;
struct vm_state_ops;
struct device_registry;

struct device_registry *device_registry_new(struct vm *vm);
void device_registry_free(struct device_registry *r);

/* Record device under name (unique in the machine) and register its state
 * section; state NULL: the device has nothing to save.  reset, if not
 * NULL, runs with opaque at every platform reset. */
void device_registry_add(struct device_registry *r, const char *name, void *device,
                         const struct vm_state_ops *state,
                         void (*reset)(void *opaque), void *opaque);

