/* PCI in a VM state file: the configuration address register of the bus,
 * and one section per function with its configuration space followed by
 * the device model's own state (struct pci_state_ops). */
#pragma once

struct vm;
struct pci_bus;
struct pci_device;

void pci_state_register_bus(struct vm *vm, struct pci_bus *bus);
/* At registration of the function (its slot is known): a section, or a
 * refusal when the device model has no state_ops. */
void pci_state_register_device(struct vm *vm, struct pci_device *dev);
