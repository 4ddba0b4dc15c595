#include "test_vm.h"
#include "core/vm_state.h"
#include "core/vm_core.h"
#include "core/vcpu.h"
#include "core/smm.h"

#include <glib.h>

struct reset_handler {
    void (*fn)(void *opaque);
    void *opaque;
};

struct vm {
    struct guest_memory mem;
    struct iobus *pio, *mmio;
    GMainContext *ctx;
    GMutex lock;
    bool irq[64];
    unsigned irq_raises[64];    /* low-to-high transitions */
    GArray *msis;           /* struct test_msi */
    int next_gsi;
    unsigned reset_requests;
    int shutdown_reason;        /* -1 until requested */
    unsigned shutdown_requests;
    void (*powerdown_fn)(void *opaque);
    void *powerdown_opaque;
    GArray *reset_handlers;
    bool record_slots;
    struct test_slot slots[TEST_VM_MAX_SLOTS];
    struct vm_state_registry *states;
    bool smm;
    struct memslot_overlay overlay[VM_SMRAM_OVERLAYS];
    unsigned smis;
    int last_smi_target;
};

static bool fake_in_smm;

struct vm *test_vm_new(uint64_t ram_size)
{
    struct vm *vm = g_new0(struct vm, 1);
    vm->states = vm_state_registry_new();
    g_autoptr(GError) err = NULL;
    if (!guest_memory_alloc(&vm->mem, ram_size, &err))
        g_error("%s", err->message);
    vm->pio = iobus_new("pio");
    vm->mmio = iobus_new("mmio");
    vm->ctx = g_main_context_new();
    g_mutex_init(&vm->lock);
    vm->msis = g_array_new(FALSE, FALSE, sizeof(struct test_msi));
    vm->reset_handlers = g_array_new(FALSE, FALSE, sizeof(struct reset_handler));
    vm->next_gsi = 24;
    vm->shutdown_reason = -1;
    return vm;
}

void test_vm_free(struct vm *vm)
{
    vm_state_registry_free(vm->states);
    guest_memory_free(&vm->mem);
    iobus_free(vm->pio);
    iobus_free(vm->mmio);
    g_main_context_unref(vm->ctx);
    g_array_free(vm->msis, TRUE);
    g_array_free(vm->reset_handlers, TRUE);
    g_mutex_clear(&vm->lock);
    g_free(vm);
}

struct guest_memory *vm_memory(struct vm *vm) { return &vm->mem; }
struct iobus *vm_pio_bus(struct vm *vm) { return vm->pio; }
struct iobus *vm_mmio_bus(struct vm *vm) { return vm->mmio; }
GMainContext *vm_main_context(struct vm *vm) { return vm->ctx; }
int vm_fd(struct vm *vm) { return -1; }
unsigned vm_cpu_count(struct vm *vm) { return 1; }

void vm_set_irq(struct vm *vm, unsigned gsi, bool level)
{
    g_assert_cmpuint(gsi, <, G_N_ELEMENTS(vm->irq));
    g_mutex_lock(&vm->lock);
    if (level && !vm->irq[gsi])
        vm->irq_raises[gsi]++;
    vm->irq[gsi] = level;
    g_mutex_unlock(&vm->lock);
}

void vm_pulse_irq(struct vm *vm, unsigned gsi)
{
    vm_set_irq(vm, gsi, true);
    vm_set_irq(vm, gsi, false);
}

bool vm_signal_msi(struct vm *vm, uint64_t address, uint32_t data)
{
    struct test_msi m = { address, data };
    g_mutex_lock(&vm->lock);
    g_array_append_val(vm->msis, m);
    g_mutex_unlock(&vm->lock);
    return true;
}

int vm_msi_route_add(struct vm *vm, uint64_t address, uint32_t data) { return vm->next_gsi++; }
bool vm_msi_route_update(struct vm *vm, int gsi, uint64_t address, uint32_t data) { return true; }
void vm_msi_route_remove(struct vm *vm, int gsi) { }
bool vm_irqfd(struct vm *vm, int eventfd, int gsi, bool assign) { return false; }
bool vm_ioeventfd(struct vm *vm, int eventfd, uint64_t addr, unsigned len, bool pio, bool assign)
{
    return false;
}

int vm_map_memory(struct vm *vm, uint64_t gpa, uint64_t size, void *hva, bool readonly, bool log_dirty)
{
    if (!vm->record_slots)
        return -1;
    for (int i = 0; i < TEST_VM_MAX_SLOTS; i++) {
        if (!vm->slots[i].used) {
            vm->slots[i] = (struct test_slot){ true, gpa, size, hva, readonly };
            return i;
        }
    }
    return -1;
}

void vm_unmap_memory(struct vm *vm, int slot)
{
    if (slot >= 0 && slot < TEST_VM_MAX_SLOTS)
        vm->slots[slot].used = false;
}

void test_vm_record_slots(struct vm *vm)
{
    vm->record_slots = true;
    /* As vm_create() does: low RAM is the first slot. */
    const struct guest_region *low = &vm->mem.region[0];
    vm_map_memory(vm, low->gpa, low->size, low->hva, false, false);
}

/* ---- SMM: the real layout computation over the recorded slots. */

bool vm_enable_smm_address_space(struct vm *vm, GError **error)
{
    vm->smm = true;
    return true;
}

bool vm_smm_address_space_enabled(struct vm *vm) { return vm->smm; }

bool vm_set_smram_overlay(struct vm *vm, unsigned index, uint64_t gpa, uint64_t size,
                          enum memslot_view normal, enum memslot_view smm)
{
    g_assert_cmpuint(index, <, VM_SMRAM_OVERLAYS);
    struct memslot_overlay o = { 0 };
    if (size) {
        o = (struct memslot_overlay){ gpa, size, guest_memory_ram_ptr(&vm->mem, gpa, size),
                                      { normal, smm } };
        if (!o.hva)
            return false;
    }
    vm->overlay[index] = o;
    bool hide = vm->smm && o.size && normal != MEMSLOT_VIEW_RAM;
    guest_memory_hide(&vm->mem, index, hide ? gpa : 0, hide ? size : 0);
    return true;
}

int vm_kvm_slot_of(struct vm *vm, int mapping, unsigned as, uint64_t *size)
{
    if (as != 0 || mapping < 0 || mapping >= TEST_VM_MAX_SLOTS || !vm->slots[mapping].used)
        return -1;
    if (size)
        *size = vm->slots[mapping].size;
    return mapping;
}

void vm_raise_smi(struct vm *vm, int index)
{
    g_mutex_lock(&vm->lock);
    vm->smis++;
    vm->last_smi_target = index;
    g_mutex_unlock(&vm->lock);
}

bool vcpu_current_in_smm(void) { return fake_in_smm; }

void test_vm_set_in_smm(bool in_smm) { fake_in_smm = in_smm; }

unsigned test_vm_smis(struct vm *vm, int *target)
{
    g_mutex_lock(&vm->lock);
    unsigned n = vm->smis;
    if (target)
        *target = vm->last_smi_target;
    g_mutex_unlock(&vm->lock);
    return n;
}

bool test_vm_view_at(struct vm *vm, unsigned as, uint64_t gpa, struct memslot_piece *out)
{
    struct memslot_mapping maps[TEST_VM_MAX_SLOTS];
    for (int i = 0; i < TEST_VM_MAX_SLOTS; i++) {
        const struct test_slot *s = &vm->slots[i];
        maps[i] = (struct memslot_mapping){ s->used, s->gpa, s->size, s->hva,
                                            s->readonly ? 1u : 0u };
    }
    g_autoptr(GArray) pieces = g_array_new(FALSE, FALSE, sizeof(struct memslot_piece));
    memslot_layout(maps, TEST_VM_MAX_SLOTS, vm->overlay, vm->smm ? VM_SMRAM_OVERLAYS : 0, as,
                   pieces);
    for (guint i = 0; i < pieces->len; i++) {
        const struct memslot_piece *p = &g_array_index(pieces, struct memslot_piece, i);
        if (gpa >= p->gpa && gpa - p->gpa < p->size) {
            if (out)
                *out = *p;
            return true;
        }
    }
    return false;
}

const struct test_slot *test_vm_slot_at(struct vm *vm, uint64_t gpa)
{
    for (int i = 0; i < TEST_VM_MAX_SLOTS; i++) {
        const struct test_slot *s = &vm->slots[i];
        if (s->used && gpa >= s->gpa && gpa - s->gpa < s->size)
            return s;
    }
    return NULL;
}

void vm_request_shutdown(struct vm *vm, enum vm_shutdown_reason reason)
{
    g_mutex_lock(&vm->lock);
    vm->shutdown_reason = (int)reason;
    vm->shutdown_requests++;
    g_mutex_unlock(&vm->lock);
}
void vm_request_reset(struct vm *vm)
{
    g_mutex_lock(&vm->lock);
    vm->reset_requests++;
    g_mutex_unlock(&vm->lock);
}
/* As the power button would: straight to the handler (the ACPI PM block). */
void vm_request_powerdown(struct vm *vm)
{
    if (vm->powerdown_fn)
        vm->powerdown_fn(vm->powerdown_opaque);
}
void vm_report_panic(struct vm *vm) { }

void vm_add_reset_handler(struct vm *vm, void (*fn)(void *opaque), void *opaque)
{
    struct reset_handler h = { fn, opaque };
    g_array_append_val(vm->reset_handlers, h);
}

void vm_set_powerdown_handler(struct vm *vm, void (*fn)(void *opaque), void *opaque)
{
    vm->powerdown_fn = fn;
    vm->powerdown_opaque = opaque;
}

bool test_vm_irq_level(struct vm *vm, unsigned gsi)
{
    g_mutex_lock(&vm->lock);
    bool l = vm->irq[gsi];
    g_mutex_unlock(&vm->lock);
    return l;
}

unsigned test_vm_irq_raises(struct vm *vm, unsigned gsi)
{
    g_mutex_lock(&vm->lock);
    unsigned n = vm->irq_raises[gsi];
    g_mutex_unlock(&vm->lock);
    return n;
}

int test_vm_shutdown_reason(struct vm *vm)
{
    g_mutex_lock(&vm->lock);
    int r = vm->shutdown_reason;
    g_mutex_unlock(&vm->lock);
    return r;
}

unsigned test_vm_shutdown_requests(struct vm *vm)
{
    g_mutex_lock(&vm->lock);
    unsigned n = vm->shutdown_requests;
    g_mutex_unlock(&vm->lock);
    return n;
}

unsigned test_vm_msi_count(struct vm *vm)
{
    g_mutex_lock(&vm->lock);
    unsigned n = vm->msis->len;
    g_mutex_unlock(&vm->lock);
    return n;
}

struct test_msi test_vm_msi(struct vm *vm, unsigned n)
{
    g_mutex_lock(&vm->lock);
    struct test_msi m = g_array_index(vm->msis, struct test_msi, n);
    g_mutex_unlock(&vm->lock);
    return m;
}

unsigned test_vm_reset_requests(struct vm *vm)
{
    return vm->reset_requests;
}

void test_vm_platform_reset(struct vm *vm)
{
    for (guint i = 0; i < vm->reset_handlers->len; i++) {
        struct reset_handler *h = &g_array_index(vm->reset_handlers, struct reset_handler, i);
        h->fn(h->opaque);
    }
}

static gboolean wake(gpointer data)
{
    return G_SOURCE_REMOVE;
}

bool test_vm_run_until(struct vm *vm, bool (*done)(void *opaque), void *opaque, unsigned timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (!done(opaque)) {
        if (g_get_monotonic_time() >= deadline)
            return false;
        /* Block for at most 10 ms at a time so the deadline is honoured. */
        GSource *t = g_timeout_source_new(10);
        g_source_set_callback(t, wake, NULL, NULL);
        g_source_attach(t, vm->ctx);
        g_main_context_iteration(vm->ctx, TRUE);
        g_source_destroy(t);
        g_source_unref(t);
    }
    return true;
}

uint64_t test_mmio_read(struct vm *vm, uint64_t addr, unsigned size)
{
    uint64_t v = 0;
    iobus_read(vm->mmio, addr, &v, size);
    return v;
}

void test_mmio_write(struct vm *vm, uint64_t addr, uint64_t value, unsigned size)
{
    iobus_write(vm->mmio, addr, &value, size);
}

uint64_t test_pio_read(struct vm *vm, uint64_t port, unsigned size)
{
    uint64_t v = 0;
    iobus_read(vm->pio, port, &v, size);
    return v;
}

void test_pio_write(struct vm *vm, uint64_t port, uint64_t value, unsigned size)
{
    iobus_write(vm->pio, port, &value, size);
}

struct vm_state_registry *vm_state_registry_of(struct vm *vm) { return vm->states; }

/* Paused, as saving needs: the test VM never runs a vCPU. */
enum vm_status vm_status(struct vm *vm) { return VM_STATUS_PAUSED; }
