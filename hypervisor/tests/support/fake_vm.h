/* A stand-in for the VM object in unit tests of device models: real guest
 * memory and real I/O buses, with interrupts and lifecycle requests
 * recorded instead of going to KVM (which these tests cannot open). */
#pragma once

#include "core/vm.h"

#define FAKE_VM_MAX_RESET_HANDLERS 8

struct vm {
    struct guest_memory mem;
    struct iobus *pio, *mmio;
    bool irq_level[24];
    unsigned irq_raises[24];           /* low-to-high transitions */
    int shutdown_reason;               /* -1 until requested */
    unsigned shutdown_requests;
    void (*powerdown_fn)(void *);
    void *powerdown_opaque;
    struct { void (*fn)(void *); void *opaque; } reset[FAKE_VM_MAX_RESET_HANDLERS];
    unsigned nreset;
    struct vm_state_registry *states;
};

struct vm *fake_vm_new(uint64_t ram_size);
void fake_vm_free(struct vm *vm);
/* Run the reset handlers, as the core does on platform reset. */
void fake_vm_reset(struct vm *vm);

/* Port I/O as a vCPU would do it. */
uint64_t fake_vm_in(struct vm *vm, uint16_t port, unsigned size);
void fake_vm_out(struct vm *vm, uint16_t port, uint64_t value, unsigned size);
