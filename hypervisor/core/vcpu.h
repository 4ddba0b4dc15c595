/* One virtual CPU: its KVM fd, its thread running KVM_RUN, and dispatch of
 * the exits to the VM's I/O buses. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <linux/kvm.h>
#include <glib.h>

struct vm;
struct vcpu;

/* Create vCPU index with filtered CPUID, initial MSRs and LAPIC LINT0/LINT1
 * wired as on a PC; its power-on state is remembered for vcpu_reset(). */
struct vcpu *vcpu_create(struct vm *vm, unsigned index, GError **error);
void vcpu_destroy(struct vcpu *vcpu);

bool vcpu_start(struct vcpu *vcpu, GError **error);
/* Make the thread leave KVM_RUN soon (it then checks for pause/quit). */
void vcpu_kick(struct vcpu *vcpu);
/* End and join the thread (the VM has set its quit flag). */
void vcpu_stop(struct vcpu *vcpu);

/* Restore the power-on state: BSP runnable at the reset vector, APs waiting
 * for INIT/SIPI.  Only with the vCPU stopped or paused. */
bool vcpu_reset(struct vcpu *vcpu, GError **error);

/* Have the vCPU take an SMI before it next runs guest code (any thread). */
void vcpu_request_smi(struct vcpu *vcpu);
/* The vCPU whose thread calls, or NULL. */
struct vcpu *vcpu_current(void);
/* On a vCPU thread: whether its current exit happened in SMM. */
bool vcpu_current_in_smm(void);

int vcpu_fd(struct vcpu *vcpu);
struct vm *vcpu_vm(struct vcpu *vcpu);
unsigned vcpu_index(struct vcpu *vcpu);
pid_t vcpu_thread_id(struct vcpu *vcpu);

/* Register access for boot loaders (vCPU stopped). */
bool vcpu_get_sregs(struct vcpu *vcpu, struct kvm_sregs *sregs, GError **error);
bool vcpu_set_sregs(struct vcpu *vcpu, const struct kvm_sregs *sregs, GError **error);
bool vcpu_set_regs(struct vcpu *vcpu, const struct kvm_regs *regs, GError **error);
