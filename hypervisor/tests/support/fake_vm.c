#include "fake_vm.h"
#include "core/vm_state.h"

#include <glib.h>

struct vm *fake_vm_new(uint64_t ram_size)
{
    struct vm *vm = g_new0(struct vm, 1);
    vm->states = vm_state_registry_new();
    g_autoptr(GError) error = NULL;
    if (!guest_memory_alloc(&vm->mem, ram_size, &error))
        g_error("%s", error->message);
    vm->pio = iobus_new("pio");
    vm->mmio = iobus_new("mmio");
    vm->shutdown_reason = -1;
    return vm;
}

void fake_vm_free(struct vm *vm)
{
    vm_state_registry_free(vm->states);
    iobus_free(vm->pio);
    iobus_free(vm->mmio);
    guest_memory_free(&vm->mem);
    g_free(vm);
}

void fake_vm_reset(struct vm *vm)
{
    for (unsigned i = 0; i < vm->nreset; i++)
        vm->reset[i].fn(vm->reset[i].opaque);
}

uint64_t fake_vm_in(struct vm *vm, uint16_t port, unsigned size)
{
    uint64_t v = 0;
    iobus_read(vm->pio, port, &v, size);
    return v;
}

void fake_vm_out(struct vm *vm, uint16_t port, uint64_t value, unsigned size)
{
    iobus_write(vm->pio, port, &value, size);
}

struct guest_memory *vm_memory(struct vm *vm) { return &vm->mem; }
struct iobus *vm_pio_bus(struct vm *vm) { return vm->pio; }
struct iobus *vm_mmio_bus(struct vm *vm) { return vm->mmio; }
unsigned vm_cpu_count(struct vm *vm) { return 1; }

void vm_set_irq(struct vm *vm, unsigned gsi, bool level)
{
    if (gsi >= G_N_ELEMENTS(vm->irq_level))
        g_error("GSI %u out of range", gsi);
    if (level && !vm->irq_level[gsi])
        vm->irq_raises[gsi]++;
    vm->irq_level[gsi] = level;
}

void vm_pulse_irq(struct vm *vm, unsigned gsi)
{
    vm_set_irq(vm, gsi, true);
    vm_set_irq(vm, gsi, false);
}

void vm_request_shutdown(struct vm *vm, enum vm_shutdown_reason reason)
{
    vm->shutdown_reason = (int)reason;
    vm->shutdown_requests++;
}

void vm_request_reset(struct vm *vm)
{
    fake_vm_reset(vm);
}

void vm_request_powerdown(struct vm *vm)
{
    if (vm->powerdown_fn)
        vm->powerdown_fn(vm->powerdown_opaque);
}

void vm_add_reset_handler(struct vm *vm, void (*fn)(void *opaque), void *opaque)
{
    g_assert_cmpuint(vm->nreset, <, FAKE_VM_MAX_RESET_HANDLERS);
    vm->reset[vm->nreset].fn = fn;
    vm->reset[vm->nreset].opaque = opaque;
    vm->nreset++;
}

void vm_set_powerdown_handler(struct vm *vm, void (*fn)(void *opaque), void *opaque)
{
    vm->powerdown_fn = fn;
    vm->powerdown_opaque = opaque;
}

struct vm_state_registry *vm_state_registry_of(struct vm *vm) { return vm->states; }
