/* The one VM fake for unit tests and fuzzers of device models on machines
 * without KVM: real guest memory, real I/O buses and a real GMainContext;
 * interrupts, MSI routes, resets and shutdown requests are recorded
 * instead of reaching a kernel, and the power button goes straight to the
 * handler a device (the ACPI PM block) installed.  irqfd and
 * ioeventfd are refused, so devices take their fallback paths
 * (vm_signal_msi, MMIO-exit notifications). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/vm.h"
#include "core/memslot_layout.h"

struct test_msi {
    uint64_t address;
    uint32_t data;
};

/* A memory slot as vm_map_memory() was asked for it. */
struct test_slot {
    bool used;
    uint64_t gpa, size;
    void *hva;
    bool readonly;
};
#define TEST_VM_MAX_SLOTS 64

struct vm *test_vm_new(uint64_t ram_size);
/* From now on vm_map_memory() succeeds and records the slot (by default
 * it fails, as for a VM without KVM); low RAM becomes slot 0. */
void test_vm_record_slots(struct vm *vm);
/* The mapped slot covering gpa, or NULL. */
const struct test_slot *test_vm_slot_at(struct vm *vm, uint64_t gpa);
void test_vm_free(struct vm *vm);

/* SMM: what address space as (MEMSLOT_AS_NORMAL or _SMM) maps at gpa, as
 * the real VM would cut its slots from the recorded ones and the SMRAM the
 * chipset set (false: nothing, accesses exit); the SMIs raised so far and
 * the vCPU index (or SMM_ALL_VCPUS) of the last; and what
 * vm_smm_access_in_smm() answers (for every thread). */
bool test_vm_view_at(struct vm *vm, unsigned as, uint64_t gpa, struct memslot_piece *out);
unsigned test_vm_smis(struct vm *vm, int *target);
void test_vm_set_in_smm(bool in_smm);

bool test_vm_irq_level(struct vm *vm, unsigned gsi);
/* Low-to-high transitions of the line so far. */
unsigned test_vm_irq_raises(struct vm *vm, unsigned gsi);
/* The reason of the last vm_request_shutdown(), or -1; and how many. */
int test_vm_shutdown_reason(struct vm *vm);
unsigned test_vm_shutdown_requests(struct vm *vm);
unsigned test_vm_msi_count(struct vm *vm);
struct test_msi test_vm_msi(struct vm *vm, unsigned n);
unsigned test_vm_reset_requests(struct vm *vm);
/* Run the VM's reset handlers as a platform reset would. */
void test_vm_platform_reset(struct vm *vm);

/* Iterate the VM's main context until done(opaque) is true or timeout_ms
 * passes; returns whether done() became true. */
bool test_vm_run_until(struct vm *vm, bool (*done)(void *opaque), void *opaque, unsigned timeout_ms);

/* Guest-style MMIO and port accesses. */
uint64_t test_mmio_read(struct vm *vm, uint64_t addr, unsigned size);
void test_mmio_write(struct vm *vm, uint64_t addr, uint64_t value, unsigned size);
uint64_t test_pio_read(struct vm *vm, uint64_t port, unsigned size);
void test_pio_write(struct vm *vm, uint64_t port, uint64_t value, unsigned size);
