/* A vCPU's KVM state in a VM state file: registers, FPU/XSAVE, XCRs, the
 * local APIC, every MSR KVM can save, pending events, the multiprocessing
 * state and the debug registers. */
#pragma once

struct vm;
struct vcpu;

/* Register section "cpuN" for the vCPU. */
void vcpu_state_register(struct vm *vm, struct vcpu *vcpu);
