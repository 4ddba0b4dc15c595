/* The VM as the platform, main() and the control socket see it: creation,
 * the run loop, lifecycle state and events.  Device models use vm.h only. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <glib.h>

#include "vm.h"
#include "memslot_layout.h"
#include "config/cpu_config.h"

struct vcpu;

enum vm_status {
    VM_STATUS_RUNNING,
    VM_STATUS_PAUSED,
    VM_STATUS_SHUTDOWN,
};

enum vm_event_kind {
    VM_EVENT_STOP,
    VM_EVENT_RESUME,
    VM_EVENT_SHUTDOWN,
    VM_EVENT_RESET,
    VM_EVENT_GUEST_PANICKED,
};

struct vm_event {
    enum vm_event_kind kind;
    bool guest;                         /* SHUTDOWN, RESET: caused by the guest */
    enum vm_shutdown_reason reason;     /* SHUTDOWN */
};

typedef void (*vm_event_fn)(void *opaque, const struct vm_event *event);

/* Create the KVM VM with its in-kernel irqchip and PIT, ram_size bytes of
 * RAM mapped into it, and ncpus vCPUs (not yet running).  Takes kvm_fd. */
struct vm *vm_create(int kvm_fd, uint64_t ram_size, unsigned ncpus, const struct cpu_config *cpu,
                     GError **error);
void vm_destroy(struct vm *vm);

int vm_kvm_fd(struct vm *vm);
/* What the vCPUs show of the hypervisor (Hyper-V leaves, KVM's signature). */
const struct cpu_config *vm_cpu_config(struct vm *vm);
struct vcpu *vm_vcpu(struct vm *vm, unsigned index);

/* Called when the VM starts and after every platform reset, with all
 * vCPUs stopped and in their power-on state: loads the kernel and sets the
 * boot processor's registers. */
void vm_set_boot_handler(struct vm *vm, bool (*fn)(void *opaque, GError **error), void *opaque);

/* How vm_run() starts: boot (run the boot handler) or not, because the
 * state was loaded from a file; and with the vCPUs paused until
 * vm_resume(). */
void vm_set_start(struct vm *vm, bool boot, bool paused);

/* Reboots requested by the guest end the VMM (reason guest-reset). */
void vm_set_no_reboot(struct vm *vm, bool no_reboot);

void vm_add_event_listener(struct vm *vm, vm_event_fn fn, void *opaque);

/* Run the boot handler, start the vCPU threads and the main loop until the
 * VM shuts down.  Returns the process exit code (0 or 1). */
int vm_run(struct vm *vm);

/* Main thread only.  Both emit STOP/RESUME when the state changes. */
void vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);
enum vm_status vm_status(struct vm *vm);

bool vm_has_powerdown_handler(struct vm *vm);

/* Like vm_request_reset(), stating whether the guest asked for it. */
void vm_request_reset_from(struct vm *vm, bool guest);

/* For vcpu.c: block while the VM is paused; false when the vCPU must end. */
bool vm_vcpu_checkpoint(struct vm *vm);

/* --- Memory slots of the SMM address space (for smm.c, dirty_log.c) --- */

/* The SMRAM overlays: the legacy window and TSEG. */
#define VM_SMRAM_OVERLAYS 2
#define VM_SMRAM_LEGACY   0
#define VM_SMRAM_TSEG     1

/* Create address space 1 (the SMM view) as a copy of address space 0 and
 * keep it in step from now on.  Idempotent. */
bool vm_enable_smm_address_space(struct vm *vm, GError **error);
bool vm_smm_address_space_enabled(struct vm *vm);
/* Set or (size 0) clear overlay index over guest RAM [gpa, gpa + size):
 * what the normal and the SMM views show there.  False when the range is
 * not RAM, overlaps another overlay, or KVM refuses a slot. */
bool vm_set_smram_overlay(struct vm *vm, unsigned index, uint64_t gpa, uint64_t size,
                          enum memslot_view normal, enum memslot_view smm);

/* vcpu_request_smi() on vCPU index, or on all (SMM_ALL_VCPUS). */
void vm_raise_smi(struct vm *vm, int index);

/* KVM's slot number (address space in bits 16-31) of what vm_map_memory()
 * returned as mapping, in address space as, when it is one whole slot
 * there; -1 otherwise.  size: the mapping's size. */
int vm_kvm_slot_of(struct vm *vm, int mapping, unsigned as, uint64_t *size);
