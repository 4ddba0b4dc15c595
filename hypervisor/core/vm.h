/* The VM: the one object every device model is handed.
 *
 * It owns the KVM VM file descriptor, guest RAM, the two I/O buses, the
 * interrupt plumbing and the main-loop context that device backends use for
 * their file descriptors.  Devices reach everything through the functions
 * below, never through the struct's fields, so the core can change freely.
 *
 * Threads: each vCPU runs in its own thread and calls device io_ops
 * directly; everything else (control socket, backends, virtqueue kicks via
 * ioeventfd) runs on the main thread's GMainContext. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "guest_memory.h"
#include "iobus.h"

struct vm;

struct guest_memory *vm_memory(struct vm *vm);
struct iobus *vm_pio_bus(struct vm *vm);
struct iobus *vm_mmio_bus(struct vm *vm);
GMainContext *vm_main_context(struct vm *vm);
int vm_fd(struct vm *vm);
unsigned vm_cpu_count(struct vm *vm);

/* --- Interrupts -------------------------------------------------------
 * GSIs 0-15 are the ISA IRQs (PIC + IOAPIC), 16-23 the remaining IOAPIC pins
 * used for PCI INTx.  ISA devices are edge-triggered: raise then lower. */
void vm_set_irq(struct vm *vm, unsigned gsi, bool level);
void vm_pulse_irq(struct vm *vm, unsigned gsi);

/* Deliver one MSI right now (KVM_SIGNAL_MSI). */
bool vm_signal_msi(struct vm *vm, uint64_t address, uint32_t data);

/* MSI routes for irqfd: allocate a GSI routed to (address, data), change it
 * when the guest reprograms the vector, release it.  The core keeps the whole
 * KVM routing table (irqchip pins + MSI routes) in one place. */
int vm_msi_route_add(struct vm *vm, uint64_t address, uint32_t data);     /* GSI or -1 */
bool vm_msi_route_update(struct vm *vm, int gsi, uint64_t address, uint32_t data);
void vm_msi_route_remove(struct vm *vm, int gsi);

/* Wire an eventfd to a GSI (irqfd) or to a guest write (ioeventfd).
 * ioeventfd matches any value written to [addr, addr + len) when
 * datamatch is NULL. */
bool vm_irqfd(struct vm *vm, int eventfd, int gsi, bool assign);
bool vm_ioeventfd(struct vm *vm, int eventfd, uint64_t addr, unsigned len,
                  bool pio, bool assign);

/* --- Memory slots -----------------------------------------------------
 * Every KVM memory slot is created here (RAM, firmware, VRAM). */
int vm_map_memory(struct vm *vm, uint64_t gpa, uint64_t size, void *hva,
                  bool readonly, bool log_dirty);                          /* slot or -1 */
void vm_unmap_memory(struct vm *vm, int slot);

/* --- Lifecycle --------------------------------------------------------- */
enum vm_shutdown_reason {
    VM_SHUTDOWN_GUEST_POWEROFF, /* ACPI S5 or equivalent */
    VM_SHUTDOWN_GUEST_RESET,    /* guest reboot with --no-reboot */
    VM_SHUTDOWN_HOST_QUIT,      /* control socket quit */
    VM_SHUTDOWN_HOST_SIGNAL,    /* SIGTERM / SIGINT */
    VM_SHUTDOWN_ERROR,          /* the VMM cannot go on */
};

/* Callable from any thread: the main loop performs the action. */
void vm_request_shutdown(struct vm *vm, enum vm_shutdown_reason reason);
void vm_request_reset(struct vm *vm);
void vm_request_powerdown(struct vm *vm); /* press the ACPI power button */
void vm_report_panic(struct vm *vm);

/* Device reset handlers, run in registration order on platform reset. */
void vm_add_reset_handler(struct vm *vm, void (*fn)(void *opaque), void *opaque);

/* Power-button hook: the ACPI PM device registers it, the control socket's
 * system_powerdown ends up here. */
void vm_set_powerdown_handler(struct vm *vm, void (*fn)(void *opaque), void *opaque);
