#include "vm_core.h"
#include "vcpu.h"
#include "vcpu_state.h"
#include "kvm.h"
#include "kvm_platform_state.h"
#include "vm_state.h"
#include "memslot_layout.h"
#include "smm.h"
#include "config/pc_layout.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <glib-unix.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

/* x86 needs a three-page TSS area and one identity-map page below 4 GiB for
 * real-mode emulation on VT-x; placed in the hole just under the BIOS area,
 * clear of the LAPIC/IOAPIC and anything PCI allocates. */
#define VM_TSS_ADDR          0xfeffd000ULL
#define VM_IDENTITY_MAP_ADDR 0xfeffc000ULL

#define VM_MAX_GSI       1024
#define VM_FIRST_MSI_GSI PC_IOAPIC_PINS

struct msi_route {
    bool used;
    uint64_t address;
    uint32_t data;
};

struct reset_handler {
    void (*fn)(void *opaque);
    void *opaque;
};

struct listener {
    vm_event_fn fn;
    void *opaque;
};

/* A KVM memory slot as set. */
struct applied_slot {
    unsigned as;
    unsigned id;
    struct memslot_piece piece;
};

struct vm {
    int kvm_fd;
    int fd;
    struct guest_memory mem;
    struct iobus *pio;
    struct iobus *mmio;
    GMainContext *ctx;
    GMainLoop *loop;
    int exit_code;

    unsigned ncpus;
    struct vcpu **vcpus;
    struct cpu_config cpu;

    /* Memory slots: what callers mapped (index = the handle
     * vm_map_memory() returned), the SMRAM overlays, and the KVM slots
     * that realise them in each address space in use. */
    GMutex slot_lock;
    unsigned max_slots;         /* per address space */
    unsigned nas;               /* 1, or 2 with SMM */
    GArray *mappings;           /* struct memslot_mapping */
    struct memslot_overlay overlay[VM_SMRAM_OVERLAYS];
    GArray *applied;            /* struct applied_slot */
    GArray *ids_used[MEMSLOT_ADDRESS_SPACES]; /* gboolean per KVM slot id */

    GMutex route_lock;
    struct msi_route msi[VM_MAX_GSI];

    /* Power-on state of the in-kernel devices, restored on reset. */
    struct kvm_irqchip chip_state[3];
    struct kvm_pit_state2 pit_state;

    /* Pause protocol with the vCPU threads. */
    GMutex run_lock;
    GCond run_cond;
    bool pause_req;
    bool quit;
    unsigned paused_vcpus;

    enum vm_status status;
    bool no_reboot;
    gint pending_shutdown;      /* reason + 1, or 0 */
    gint pending_reset;         /* 1: guest, 2: host */
    gint pending_powerdown;
    gint pending_panic;

    GArray *reset_handlers;
    GArray *listeners;
    void (*powerdown_fn)(void *opaque);
    void *powerdown_opaque;
    bool (*boot_fn)(void *opaque, GError **error);
    void *boot_opaque;
    bool skip_boot;             /* the state came from a file */
    bool start_paused;
    guint signal_sources[2];

    struct vm_state_registry *states;
};

struct guest_memory *vm_memory(struct vm *vm) { return &vm->mem; }
struct iobus *vm_pio_bus(struct vm *vm) { return vm->pio; }
struct iobus *vm_mmio_bus(struct vm *vm) { return vm->mmio; }
GMainContext *vm_main_context(struct vm *vm) { return vm->ctx; }
int vm_fd(struct vm *vm) { return vm->fd; }
const struct cpu_config *vm_cpu_config(struct vm *vm) { return &vm->cpu; }

int vm_kvm_fd(struct vm *vm) { return vm->kvm_fd; }
unsigned vm_cpu_count(struct vm *vm) { return vm->ncpus; }
struct vm_state_registry *vm_state_registry_of(struct vm *vm) { return vm->states; }
struct vcpu *vm_vcpu(struct vm *vm, unsigned index)
{
    return index < vm->ncpus ? vm->vcpus[index] : NULL;
}

/* ---------------------------------------------------------------- IRQs */

void vm_set_irq(struct vm *vm, unsigned gsi, bool level)
{
    struct kvm_irq_level l = { .irq = gsi, .level = level };
    if (ioctl(vm->fd, KVM_IRQ_LINE, &l) < 0)
        g_warning("KVM_IRQ_LINE %u: %s", gsi, g_strerror(errno));
}

void vm_pulse_irq(struct vm *vm, unsigned gsi)
{
    vm_set_irq(vm, gsi, true);
    vm_set_irq(vm, gsi, false);
}

bool vm_signal_msi(struct vm *vm, uint64_t address, uint32_t data)
{
    struct kvm_msi msi = {
        .address_lo = (uint32_t)address,
        .address_hi = (uint32_t)(address >> 32),
        .data = data,
    };
    return ioctl(vm->fd, KVM_SIGNAL_MSI, &msi) >= 0;
}

/* Push the whole routing table.  Caller holds route_lock.  The ISA IRQs go
 * to both PICs and the IOAPIC; the PIT's IRQ 0 reaches IOAPIC pin 2, as the
 * MADT's interrupt source override tells the guest. */
static bool commit_routes(struct vm *vm)
{
    unsigned max = 16 * 2 + PC_IOAPIC_PINS + VM_MAX_GSI;
    struct kvm_irq_routing *r = g_malloc0(sizeof(*r) + max * sizeof(r->entries[0]));
    unsigned n = 0;

    for (unsigned gsi = 0; gsi < 16; gsi++) {
        if (gsi == 2)
            continue; /* the PIC cascade */
        r->entries[n++] = (struct kvm_irq_routing_entry){
            .gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
            .u.irqchip = { .irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
                           .pin = gsi % 8 },
        };
    }
    for (unsigned gsi = 0; gsi < PC_IOAPIC_PINS; gsi++) {
        if (gsi == PC_PIT_IOAPIC_PIN)
            continue;
        r->entries[n++] = (struct kvm_irq_routing_entry){
            .gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
            .u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC,
                           .pin = gsi == 0 ? PC_PIT_IOAPIC_PIN : gsi },
        };
    }
    for (unsigned gsi = VM_FIRST_MSI_GSI; gsi < VM_MAX_GSI; gsi++) {
        if (!vm->msi[gsi].used)
            continue;
        r->entries[n++] = (struct kvm_irq_routing_entry){
            .gsi = gsi, .type = KVM_IRQ_ROUTING_MSI,
            .u.msi = { .address_lo = (uint32_t)vm->msi[gsi].address,
                       .address_hi = (uint32_t)(vm->msi[gsi].address >> 32),
                       .data = vm->msi[gsi].data },
        };
    }
    r->nr = n;
    int ret = ioctl(vm->fd, KVM_SET_GSI_ROUTING, r);
    if (ret < 0)
        g_warning("KVM_SET_GSI_ROUTING: %s", g_strerror(errno));
    g_free(r);
    return ret >= 0;
}

int vm_msi_route_add(struct vm *vm, uint64_t address, uint32_t data)
{
    g_mutex_lock(&vm->route_lock);
    int gsi = -1;
    for (unsigned i = VM_FIRST_MSI_GSI; i < VM_MAX_GSI; i++) {
        if (!vm->msi[i].used) {
            vm->msi[i] = (struct msi_route){ true, address, data };
            if (commit_routes(vm))
                gsi = (int)i;
            else
                vm->msi[i].used = false;
            break;
        }
    }
    g_mutex_unlock(&vm->route_lock);
    return gsi;
}

static bool msi_gsi_valid(struct vm *vm, int gsi)
{
    return gsi >= VM_FIRST_MSI_GSI && gsi < VM_MAX_GSI && vm->msi[gsi].used;
}

bool vm_msi_route_update(struct vm *vm, int gsi, uint64_t address, uint32_t data)
{
    bool ok = false;
    g_mutex_lock(&vm->route_lock);
    if (msi_gsi_valid(vm, gsi)) {
        if (vm->msi[gsi].address == address && vm->msi[gsi].data == data) {
            ok = true;
        } else {
            vm->msi[gsi].address = address;
            vm->msi[gsi].data = data;
            ok = commit_routes(vm);
        }
    }
    g_mutex_unlock(&vm->route_lock);
    return ok;
}

void vm_msi_route_remove(struct vm *vm, int gsi)
{
    g_mutex_lock(&vm->route_lock);
    if (msi_gsi_valid(vm, gsi)) {
        vm->msi[gsi].used = false;
        commit_routes(vm);
    }
    g_mutex_unlock(&vm->route_lock);
}

bool vm_irqfd(struct vm *vm, int eventfd, int gsi, bool assign)
{
    if (gsi < 0)
        return false;
    struct kvm_irqfd irqfd = {
        .fd = (uint32_t)eventfd,
        .gsi = (uint32_t)gsi,
        .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
    };
    if (ioctl(vm->fd, KVM_IRQFD, &irqfd) < 0) {
        g_warning("KVM_IRQFD gsi %d: %s", gsi, g_strerror(errno));
        return false;
    }
    return true;
}

bool vm_ioeventfd(struct vm *vm, int eventfd, uint64_t addr, unsigned len,
                  bool pio, bool assign)
{
    struct kvm_ioeventfd io = {
        .addr = addr,
        .len = len,
        .fd = eventfd,
        .flags = (pio ? KVM_IOEVENTFD_FLAG_PIO : 0) | (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
    };
    if (ioctl(vm->fd, KVM_IOEVENTFD, &io) < 0) {
        g_warning("KVM_IOEVENTFD 0x%" G_GINT64_MODIFIER "x: %s", addr, g_strerror(errno));
        return false;
    }
    return true;
}

/* -------------------------------------------------------- memory slots */

static bool set_kvm_slot(struct vm *vm, unsigned as, unsigned id, const struct memslot_piece *p)
{
    struct kvm_userspace_memory_region r = {
        .slot = (as << 16) | id,
        .flags = p ? p->flags : 0,
        .guest_phys_addr = p ? p->gpa : 0,
        .memory_size = p ? p->size : 0,
        .userspace_addr = p ? (uintptr_t)p->hva : 0,
    };
    if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
        if (p)
            g_warning("KVM_SET_USER_MEMORY_REGION (address space %u) 0x%" G_GINT64_MODIFIER
                      "x+0x%" G_GINT64_MODIFIER "x: %s", as, p->gpa, p->size, g_strerror(errno));
        else
            g_warning("removing memory slot %u of address space %u: %s", id, as,
                      g_strerror(errno));
        return false;
    }
    return true;
}

static int alloc_slot_id(struct vm *vm, unsigned as)
{
    for (unsigned i = 0; i < vm->max_slots; i++) {
        if (!g_array_index(vm->ids_used[as], gboolean, i)) {
            g_array_index(vm->ids_used[as], gboolean, i) = TRUE;
            return (int)i;
        }
    }
    return -1;
}

/* Bring KVM's slots in line with the mappings and overlays: drop the
 * slots that changed first (slots of one address space must never
 * overlap), then add the new ones; unchanged slots stay as they are.
 * Caller holds slot_lock. */
static bool commit_slots(struct vm *vm)
{
    GArray *want[MEMSLOT_ADDRESS_SPACES] = { NULL };
    g_autofree gboolean *kept[MEMSLOT_ADDRESS_SPACES] = { NULL };
    for (unsigned as = 0; as < vm->nas; as++) {
        want[as] = g_array_new(FALSE, FALSE, sizeof(struct memslot_piece));
        memslot_layout((const struct memslot_mapping *)(void *)vm->mappings->data,
                       vm->mappings->len, vm->overlay, vm->nas > 1 ? VM_SMRAM_OVERLAYS : 0, as,
                       want[as]);
        kept[as] = g_new0(gboolean, want[as]->len + 1);
    }

    for (guint i = vm->applied->len; i-- > 0;) {
        struct applied_slot *a = &g_array_index(vm->applied, struct applied_slot, i);
        bool keep = false;
        for (guint j = 0; a->as < vm->nas && j < want[a->as]->len; j++) {
            if (!kept[a->as][j] &&
                memslot_piece_equal(&a->piece, &g_array_index(want[a->as], struct memslot_piece, j))) {
                kept[a->as][j] = keep = true;
                break;
            }
        }
        if (keep)
            continue;
        set_kvm_slot(vm, a->as, a->id, NULL);
        g_array_index(vm->ids_used[a->as], gboolean, a->id) = FALSE;
        g_array_remove_index(vm->applied, i);
    }

    bool ok = true;
    for (unsigned as = 0; as < vm->nas; as++) {
        for (guint j = 0; j < want[as]->len; j++) {
            if (kept[as][j])
                continue;
            const struct memslot_piece *p = &g_array_index(want[as], struct memslot_piece, j);
            int id = alloc_slot_id(vm, as);
            if (id < 0) {
                g_warning("no free KVM memory slot for 0x%" G_GINT64_MODIFIER "x", p->gpa);
                ok = false;
                continue;
            }
            if (!set_kvm_slot(vm, as, (unsigned)id, p)) {
                g_array_index(vm->ids_used[as], gboolean, id) = FALSE;
                ok = false;
                continue;
            }
            struct applied_slot a = { as, (unsigned)id, *p };
            g_array_append_val(vm->applied, a);
        }
        g_array_free(want[as], TRUE);
    }
    return ok;
}

int vm_map_memory(struct vm *vm, uint64_t gpa, uint64_t size, void *hva,
                  bool readonly, bool log_dirty)
{
    g_mutex_lock(&vm->slot_lock);
    guint handle = 0;
    while (handle < vm->mappings->len &&
           g_array_index(vm->mappings, struct memslot_mapping, handle).used)
        handle++;
    if (handle == vm->mappings->len)
        g_array_set_size(vm->mappings, handle + 1);
    g_array_index(vm->mappings, struct memslot_mapping, handle) = (struct memslot_mapping){
        .used = true, .gpa = gpa, .size = size, .hva = hva,
        .flags = (readonly ? KVM_MEM_READONLY : 0) | (log_dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0),
    };
    int ret = (int)handle;
    if (!commit_slots(vm)) {
        g_array_index(vm->mappings, struct memslot_mapping, handle).used = false;
        commit_slots(vm);
        ret = -1;
    }
    g_mutex_unlock(&vm->slot_lock);
    return ret;
}

void vm_unmap_memory(struct vm *vm, int slot)
{
    g_mutex_lock(&vm->slot_lock);
    if (slot >= 0 && (guint)slot < vm->mappings->len &&
        g_array_index(vm->mappings, struct memslot_mapping, slot).used) {
        g_array_index(vm->mappings, struct memslot_mapping, slot).used = false;
        commit_slots(vm);
    }
    g_mutex_unlock(&vm->slot_lock);
}

int vm_kvm_slot_of(struct vm *vm, int mapping, unsigned as, uint64_t *size)
{
    int id = -1;
    g_mutex_lock(&vm->slot_lock);
    for (guint i = 0; i < vm->applied->len; i++) {
        const struct applied_slot *a = &g_array_index(vm->applied, struct applied_slot, i);
        if (a->as != as || a->piece.mapping != mapping || mapping < 0)
            continue;
        const struct memslot_mapping *m =
            &g_array_index(vm->mappings, struct memslot_mapping, mapping);
        /* Only a mapping that is one slot, whole. */
        if (a->piece.gpa == m->gpa && a->piece.size == m->size) {
            id = (int)((as << 16) | a->id);
            if (size)
                *size = m->size;
        }
        break;
    }
    g_mutex_unlock(&vm->slot_lock);
    return id;
}

/* An empty section whose presence says the VM has SMM: a vCPU saved in
 * SMM cannot go on in a VM without the SMM address space, nor the other
 * way round.  (SMRAM is RAM; the vCPUs' SMM state is in their sections.) */
static bool smm_save(void *opaque, struct state_out *o, GError **error) { return true; }
static bool smm_load(void *opaque, struct state_in *in, uint32_t version, GError **error)
{
    return true;
}
static const struct vm_state_ops smm_state_ops = {
    .version = 1, .stage = VM_STATE_STAGE_DEVICE, .save = smm_save, .load = smm_load,
};

bool vm_enable_smm_address_space(struct vm *vm, GError **error)
{
    if (!smm_supported(vm->kvm_fd, error))
        return false;
    g_mutex_lock(&vm->slot_lock);
    bool ok = true, first = vm->nas < 2;
    if (first) {
        vm->nas = 2;
        ok = commit_slots(vm);
        for (unsigned i = 0; i < VM_SMRAM_OVERLAYS; i++) {
            const struct memslot_overlay *o = &vm->overlay[i];
            if (o->size && o->view[MEMSLOT_AS_NORMAL] != MEMSLOT_VIEW_RAM)
                guest_memory_hide(&vm->mem, i, o->gpa, o->size);
        }
    }
    g_mutex_unlock(&vm->slot_lock);
    if (ok && first)
        vm_state_register(vm, "smm", &smm_state_ops, vm);
    if (!ok)
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    _("Cannot map guest memory into the SMM address space"));
    return ok;
}

void vm_raise_smi(struct vm *vm, int index)
{
    if (index == SMM_CURRENT_VCPU) {
        struct vcpu *v = vcpu_current();
        vcpu_request_smi(v && vcpu_vm(v) == vm ? v : vm->vcpus[0]);
        return;
    }
    for (unsigned i = 0; i < vm->ncpus; i++)
        if (index == SMM_ALL_VCPUS || (unsigned)index == i)
            vcpu_request_smi(vm->vcpus[i]);
}

bool vm_smm_address_space_enabled(struct vm *vm)
{
    g_mutex_lock(&vm->slot_lock);
    bool on = vm->nas > 1;
    g_mutex_unlock(&vm->slot_lock);
    return on;
}

bool vm_set_smram_overlay(struct vm *vm, unsigned index, uint64_t gpa, uint64_t size,
                          enum memslot_view normal, enum memslot_view smm)
{
    if (index >= VM_SMRAM_OVERLAYS)
        return false;
    g_mutex_lock(&vm->slot_lock);
    bool ok = true;
    struct memslot_overlay o = { 0 };
    if (size) {
        /* SMRAM is the guest's own RAM, hidden or shown. */
        o.hva = guest_memory_ram_ptr(&vm->mem, gpa, size);
        o.gpa = gpa;
        o.size = size;
        o.view[MEMSLOT_AS_NORMAL] = normal;
        o.view[MEMSLOT_AS_SMM] = smm;
        for (unsigned i = 0; i < VM_SMRAM_OVERLAYS; i++)
            if (i != index && vm->overlay[i].size && gpa < vm->overlay[i].gpa + vm->overlay[i].size &&
                vm->overlay[i].gpa < gpa + size)
                o.hva = NULL;
        ok = o.hva != NULL;
    }
    if (ok && memcmp(&o, &vm->overlay[index], sizeof(o)) != 0) {
        vm->overlay[index] = o;
        /* What the normal view does not show as RAM, device DMA does not
         * reach either. */
        bool hide = vm->nas > 1 && o.size && o.view[MEMSLOT_AS_NORMAL] != MEMSLOT_VIEW_RAM;
        guest_memory_hide(&vm->mem, index, hide ? o.gpa : 0, hide ? o.size : 0);
        if (vm->nas > 1)
            ok = commit_slots(vm);
    }
    g_mutex_unlock(&vm->slot_lock);
    return ok;
}

/* ----------------------------------------------------------- lifecycle */

static void emit(struct vm *vm, const struct vm_event *ev)
{
    for (guint i = 0; i < vm->listeners->len; i++) {
        struct listener *l = &g_array_index(vm->listeners, struct listener, i);
        l->fn(l->opaque, ev);
    }
}

static void emit_kind(struct vm *vm, enum vm_event_kind kind, bool guest)
{
    struct vm_event ev = { .kind = kind, .guest = guest };
    emit(vm, &ev);
}

void vm_add_event_listener(struct vm *vm, vm_event_fn fn, void *opaque)
{
    struct listener l = { fn, opaque };
    g_array_append_val(vm->listeners, l);
}

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

bool vm_has_powerdown_handler(struct vm *vm)
{
    return vm->powerdown_fn != NULL;
}

void vm_set_boot_handler(struct vm *vm, bool (*fn)(void *opaque, GError **error), void *opaque)
{
    vm->boot_fn = fn;
    vm->boot_opaque = opaque;
}

void vm_set_start(struct vm *vm, bool boot, bool paused)
{
    vm->skip_boot = !boot;
    vm->start_paused = paused;
}

void vm_set_no_reboot(struct vm *vm, bool no_reboot)
{
    vm->no_reboot = no_reboot;
}

enum vm_status vm_status(struct vm *vm)
{
    return vm->status;
}

/* Stop every vCPU thread outside KVM_RUN and wait until all are parked. */
static void pause_vcpus(struct vm *vm)
{
    g_mutex_lock(&vm->run_lock);
    vm->pause_req = true;
    g_mutex_unlock(&vm->run_lock);
    for (unsigned i = 0; i < vm->ncpus; i++)
        vcpu_kick(vm->vcpus[i]);
    g_mutex_lock(&vm->run_lock);
    while (vm->paused_vcpus < vm->ncpus && !vm->quit) {
        gint64 deadline = g_get_monotonic_time() + 50 * G_TIME_SPAN_MILLISECOND;
        /* A kick can race with a vCPU entering KVM_RUN; kick again. */
        if (!g_cond_wait_until(&vm->run_cond, &vm->run_lock, deadline)) {
            g_mutex_unlock(&vm->run_lock);
            for (unsigned i = 0; i < vm->ncpus; i++)
                vcpu_kick(vm->vcpus[i]);
            g_mutex_lock(&vm->run_lock);
        }
    }
    g_mutex_unlock(&vm->run_lock);
}

static void resume_vcpus(struct vm *vm)
{
    g_mutex_lock(&vm->run_lock);
    vm->pause_req = false;
    g_cond_broadcast(&vm->run_cond);
    g_mutex_unlock(&vm->run_lock);
}

bool vm_vcpu_checkpoint(struct vm *vm)
{
    g_mutex_lock(&vm->run_lock);
    if (vm->pause_req && !vm->quit) {
        vm->paused_vcpus++;
        g_cond_broadcast(&vm->run_cond);
        while (vm->pause_req && !vm->quit)
            g_cond_wait(&vm->run_cond, &vm->run_lock);
        vm->paused_vcpus--;
    }
    bool go_on = !vm->quit;
    g_mutex_unlock(&vm->run_lock);
    return go_on;
}

void vm_pause(struct vm *vm)
{
    if (vm->status != VM_STATUS_RUNNING)
        return;
    pause_vcpus(vm);
    vm->status = VM_STATUS_PAUSED;
    emit_kind(vm, VM_EVENT_STOP, false);
}

void vm_resume(struct vm *vm)
{
    if (vm->status != VM_STATUS_PAUSED)
        return;
    vm->status = VM_STATUS_RUNNING;
    resume_vcpus(vm);
    emit_kind(vm, VM_EVENT_RESUME, false);
}

static void do_shutdown(struct vm *vm, enum vm_shutdown_reason reason)
{
    if (vm->status == VM_STATUS_SHUTDOWN)
        return;
    vm->status = VM_STATUS_SHUTDOWN;
    struct vm_event ev = {
        .kind = VM_EVENT_SHUTDOWN,
        .guest = reason == VM_SHUTDOWN_GUEST_POWEROFF || reason == VM_SHUTDOWN_GUEST_RESET,
        .reason = reason,
    };
    emit(vm, &ev);
    vm->exit_code = reason == VM_SHUTDOWN_ERROR ? 1 : 0;
    g_main_loop_quit(vm->loop);
}

/* Put the whole machine back to its power-on state and boot again. */
static bool do_reset(struct vm *vm, GError **error)
{
    bool was_running = vm->status == VM_STATUS_RUNNING;
    pause_vcpus(vm);
    for (unsigned i = 0; i < 3; i++) {
        if (ioctl(vm->fd, KVM_SET_IRQCHIP, &vm->chip_state[i]) < 0) {
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                        _("Cannot reset the interrupt controllers: %s"), g_strerror(errno));
            return false;
        }
    }
    if (ioctl(vm->fd, KVM_SET_PIT2, &vm->pit_state) < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    _("Cannot reset the PIT: %s"), g_strerror(errno));
        return false;
    }
    for (guint i = 0; i < vm->reset_handlers->len; i++) {
        struct reset_handler *h = &g_array_index(vm->reset_handlers, struct reset_handler, i);
        h->fn(h->opaque);
    }
    for (unsigned i = 0; i < vm->ncpus; i++)
        if (!vcpu_reset(vm->vcpus[i], error))
            return false;
    if (vm->boot_fn && !vm->boot_fn(vm->boot_opaque, error))
        return false;
    if (was_running)
        resume_vcpus(vm);
    return true;
}

static gboolean handle_requests(gpointer data)
{
    struct vm *vm = data;
    if (vm->status == VM_STATUS_SHUTDOWN)
        return G_SOURCE_REMOVE;

    int shutdown = g_atomic_int_exchange(&vm->pending_shutdown, 0);
    if (shutdown) {
        do_shutdown(vm, (enum vm_shutdown_reason)(shutdown - 1));
        return G_SOURCE_REMOVE;
    }
    int reset = g_atomic_int_exchange(&vm->pending_reset, 0);
    if (reset) {
        bool guest = reset == 1;
        if (guest && vm->no_reboot) {
            do_shutdown(vm, VM_SHUTDOWN_GUEST_RESET);
            return G_SOURCE_REMOVE;
        }
        g_autoptr(GError) error = NULL;
        if (!do_reset(vm, &error)) {
            g_printerr(_("oriel-vmm: reset failed: %s\n"), error->message);
            do_shutdown(vm, VM_SHUTDOWN_ERROR);
            return G_SOURCE_REMOVE;
        }
        emit_kind(vm, VM_EVENT_RESET, guest);
    }
    if (g_atomic_int_exchange(&vm->pending_powerdown, 0) && vm->powerdown_fn)
        vm->powerdown_fn(vm->powerdown_opaque);
    if (g_atomic_int_exchange(&vm->pending_panic, 0)) {
        struct vm_event ev = { .kind = VM_EVENT_GUEST_PANICKED, .guest = true };
        emit(vm, &ev);
        vm_pause(vm);
    }
    return G_SOURCE_REMOVE;
}

/* Always deferred to the main loop, even from the main thread, so a caller
 * never sees the VM change under its feet. */
static void post_requests(struct vm *vm)
{
    GSource *s = g_idle_source_new();
    g_source_set_priority(s, G_PRIORITY_HIGH);
    g_source_set_callback(s, handle_requests, vm, NULL);
    g_source_attach(s, vm->ctx);
    g_source_unref(s);
}

void vm_request_shutdown(struct vm *vm, enum vm_shutdown_reason reason)
{
    g_atomic_int_compare_and_exchange(&vm->pending_shutdown, 0, (gint)reason + 1);
    post_requests(vm);
}

void vm_request_reset_from(struct vm *vm, bool guest)
{
    g_atomic_int_set(&vm->pending_reset, guest ? 1 : 2);
    post_requests(vm);
}

void vm_request_reset(struct vm *vm)
{
    vm_request_reset_from(vm, true);
}

void vm_request_powerdown(struct vm *vm)
{
    g_atomic_int_set(&vm->pending_powerdown, 1);
    post_requests(vm);
}

void vm_report_panic(struct vm *vm)
{
    g_atomic_int_set(&vm->pending_panic, 1);
    post_requests(vm);
}

static gboolean on_host_signal(gpointer data)
{
    vm_request_shutdown(data, VM_SHUTDOWN_HOST_SIGNAL);
    return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------ create / destroy */

static bool vm_ioctl(struct vm *vm, unsigned long req, void *arg, const char *what, GError **error)
{
    if (ioctl(vm->fd, req, arg) < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    _("Cannot set up the VM (%s): %s"), what, g_strerror(errno));
        return false;
    }
    return true;
}

struct vm *vm_create(int kvm_fd, uint64_t ram_size, unsigned ncpus, const struct cpu_config *cpu,
                     GError **error)
{
    struct vm *vm = g_new0(struct vm, 1);
    vm->kvm_fd = kvm_fd;
    if (cpu)
        vm->cpu = *cpu;
    vm->fd = -1;
    vm->ncpus = ncpus;
    vm->ctx = g_main_context_ref(g_main_context_default());
    vm->loop = g_main_loop_new(vm->ctx, FALSE);
    vm->pio = iobus_new("pio");
    vm->mmio = iobus_new("mmio");
    vm->reset_handlers = g_array_new(FALSE, FALSE, sizeof(struct reset_handler));
    vm->listeners = g_array_new(FALSE, FALSE, sizeof(struct listener));
    vm->states = vm_state_registry_new();
    g_mutex_init(&vm->slot_lock);
    g_mutex_init(&vm->route_lock);
    g_mutex_init(&vm->run_lock);
    g_cond_init(&vm->run_cond);
    vm->vcpus = g_new0(struct vcpu *, ncpus);

    vm->max_slots = (unsigned)kvm_check_cap(kvm_fd, KVM_CAP_NR_MEMSLOTS);
    if (vm->max_slots == 0)
        vm->max_slots = 32;
    vm->nas = 1;
    vm->mappings = g_array_new(FALSE, TRUE, sizeof(struct memslot_mapping));
    vm->applied = g_array_new(FALSE, FALSE, sizeof(struct applied_slot));
    for (unsigned as = 0; as < MEMSLOT_ADDRESS_SPACES; as++) {
        vm->ids_used[as] = g_array_sized_new(FALSE, TRUE, sizeof(gboolean), vm->max_slots);
        g_array_set_size(vm->ids_used[as], vm->max_slots);
    }

    unsigned max_vcpus = (unsigned)kvm_check_cap(kvm_fd, KVM_CAP_MAX_VCPUS);
    if (max_vcpus && ncpus > max_vcpus) {
        g_set_error(error, KVM_ERROR, KVM_ERROR_UNSUPPORTED,
                    _("This host supports at most %u vCPUs per VM"), max_vcpus);
        goto fail;
    }

    vm->fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
    if (vm->fd < 0) {
        g_set_error(error, KVM_ERROR, KVM_ERROR_UNSUPPORTED,
                    _("Cannot create a KVM virtual machine: %s"), g_strerror(errno));
        goto fail;
    }
    if (!vm_ioctl(vm, KVM_SET_TSS_ADDR, (void *)(uintptr_t)VM_TSS_ADDR, "KVM_SET_TSS_ADDR", error))
        goto fail;
    uint64_t ident = VM_IDENTITY_MAP_ADDR;
    if (kvm_check_cap(kvm_fd, KVM_CAP_SET_IDENTITY_MAP_ADDR) &&
        !vm_ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, &ident, "KVM_SET_IDENTITY_MAP_ADDR", error))
        goto fail;
    if (!vm_ioctl(vm, KVM_CREATE_IRQCHIP, NULL, "KVM_CREATE_IRQCHIP", error))
        goto fail;
    struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
    if (!vm_ioctl(vm, KVM_CREATE_PIT2, &pit, "KVM_CREATE_PIT2", error))
        goto fail;
    g_mutex_lock(&vm->route_lock);
    bool routed = commit_routes(vm);
    g_mutex_unlock(&vm->route_lock);
    if (!routed) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot set up interrupt routing"));
        goto fail;
    }

    if (!guest_memory_alloc(&vm->mem, ram_size, error))
        goto fail;
    for (unsigned i = 0; i < vm->mem.nregions; i++) {
        struct guest_region *r = &vm->mem.region[i];
        if (vm_map_memory(vm, r->gpa, r->size, r->hva, false, false) < 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                        _("Cannot map guest RAM at 0x%" PRIx64), r->gpa);
            goto fail;
        }
    }

    for (unsigned i = 0; i < ncpus; i++) {
        vm->vcpus[i] = vcpu_create(vm, i, error);
        if (!vm->vcpus[i])
            goto fail;
        vcpu_state_register(vm, vm->vcpus[i]);
    }
    /* KVM keeps the Hyper-V MSRs (SynIC, timers, TSC page) per vCPU and
     * per VM; they are not in the state file yet. */
    if (vm->cpu.hyperv)
        vm_state_refuse(vm, "hyperv");
    kvm_platform_state_register(vm);

    /* Power-on state of PIC, IOAPIC and PIT, for platform reset. */
    for (unsigned i = 0; i < 3; i++) {
        vm->chip_state[i].chip_id = i;
        if (!vm_ioctl(vm, KVM_GET_IRQCHIP, &vm->chip_state[i], "KVM_GET_IRQCHIP", error))
            goto fail;
    }
    if (!vm_ioctl(vm, KVM_GET_PIT2, &vm->pit_state, "KVM_GET_PIT2", error))
        goto fail;

    vm->signal_sources[0] = g_unix_signal_add(SIGTERM, on_host_signal, vm);
    vm->signal_sources[1] = g_unix_signal_add(SIGINT, on_host_signal, vm);
    return vm;

fail:
    vm_destroy(vm);
    return NULL;
}

int vm_run(struct vm *vm)
{
    g_autoptr(GError) error = NULL;
    if (!vm->skip_boot && vm->boot_fn && !vm->boot_fn(vm->boot_opaque, &error)) {
        g_printerr(_("oriel-vmm: %s\n"), error->message);
        return 1;
    }
    vm->status = VM_STATUS_RUNNING;
    if (vm->start_paused) {
        /* The threads park at their first checkpoint until cont. */
        vm->pause_req = true;
        vm->status = VM_STATUS_PAUSED;
    }
    for (unsigned i = 0; i < vm->ncpus; i++) {
        if (!vcpu_start(vm->vcpus[i], &error)) {
            g_printerr(_("oriel-vmm: %s\n"), error->message);
            vm->status = VM_STATUS_SHUTDOWN;
            return 1;
        }
    }
    g_main_loop_run(vm->loop);
    return vm->exit_code;
}

void vm_destroy(struct vm *vm)
{
    if (!vm)
        return;
    for (unsigned i = 0; i < G_N_ELEMENTS(vm->signal_sources); i++)
        if (vm->signal_sources[i])
            g_source_remove(vm->signal_sources[i]);
    g_mutex_lock(&vm->run_lock);
    vm->quit = true;
    g_cond_broadcast(&vm->run_cond);
    g_mutex_unlock(&vm->run_lock);
    for (unsigned i = 0; i < vm->ncpus; i++)
        if (vm->vcpus[i])
            vcpu_stop(vm->vcpus[i]);
    for (unsigned i = 0; i < vm->ncpus; i++)
        vcpu_destroy(vm->vcpus[i]);
    g_free(vm->vcpus);
    if (vm->fd >= 0)
        close(vm->fd);
    guest_memory_free(&vm->mem);
    if (vm->kvm_fd >= 0)
        close(vm->kvm_fd);
    iobus_free(vm->pio);
    iobus_free(vm->mmio);
    g_array_free(vm->reset_handlers, TRUE);
    g_array_free(vm->listeners, TRUE);
    vm_state_registry_free(vm->states);
    g_array_free(vm->mappings, TRUE);
    g_array_free(vm->applied, TRUE);
    for (unsigned as = 0; as < MEMSLOT_ADDRESS_SPACES; as++)
        g_array_free(vm->ids_used[as], TRUE);
    g_main_loop_unref(vm->loop);
    g_main_context_unref(vm->ctx);
    g_mutex_clear(&vm->slot_lock);
    g_mutex_clear(&vm->route_lock);
    g_mutex_clear(&vm->run_lock);
    g_cond_clear(&vm->run_cond);
    g_free(vm);
}
