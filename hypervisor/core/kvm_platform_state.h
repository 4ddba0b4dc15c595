/* The in-kernel platform devices in a VM state file: both PICs and the
 * IOAPIC, the PIT, and the KVM clock (so that the guest's kvmclock goes on
 * from where it stopped instead of jumping back or forward). */
#pragma once

struct vm;

void kvm_platform_state_register(struct vm *vm);
