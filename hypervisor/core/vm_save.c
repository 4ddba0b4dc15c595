#include "vm_state.h"
#include "vm_core.h"
#include "state_file.h"
#include "ram_state.h"

#include <inttypes.h>
#include <string.h>
#include <glib/gi18n.h>

/* What the file says about the machine as a whole, checked first so that
 * a mismatch is reported in terms of the configuration. */
#define MACHINE_SECTION "machine"
#define MACHINE_VERSION 1u
#define MIB ((uint64_t)1024 * 1024)

/* ---- saving ------------------------------------------------------------------ */

static void save_machine(struct vm *vm, struct state_file_writer *w)
{
    struct state_out o;
    state_out_init(&o);
    state_out_u64(&o, vm_memory(vm)->ram_size);
    state_out_u32(&o, vm_cpu_count(vm));
    state_file_writer_begin(w, MACHINE_SECTION, MACHINE_VERSION);
    state_file_writer_add_bytes(w, o.buf);
}

static bool check_savable(GPtrArray *order, GError **error)
{
    for (guint i = 0; i < order->len; i++) {
        const struct vm_state_entry *e = order->pdata[i];
        if (!e->ops) {
            g_set_error(error, STATE_ERROR, STATE_ERROR_UNSUPPORTED,
                        _("device '%s' does not support saving yet"), e->name);
            return false;
        }
    }
    return true;
}

static bool save_entry(const struct vm_state_entry *e, struct state_file_writer *w, GError **error)
{
    struct state_out o;
    state_out_init(&o);
    if (!e->ops->save(e->opaque, &o, error)) {
        g_prefix_error(error, "%s: ", e->name);
        state_out_clear(&o);
        return false;
    }
    state_file_writer_begin(w, e->name, e->ops->version);
    state_file_writer_add_bytes(w, o.buf);
    return true;
}

bool vm_state_save(struct vm *vm, const char *path, const char *header, GError **error)
{
    if (vm_status(vm) != VM_STATUS_PAUSED) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_UNSUPPORTED,
                    _("the VM must be paused before it is saved"));
        return false;
    }
    g_autoptr(GPtrArray) order = vm_state_entries(vm_state_registry_of(vm));
    if (!check_savable(order, error))
        return false;

    struct state_file_writer *w = state_file_writer_new();
    save_machine(vm, w);
    bool ok = true;
    bool ram_done = false;
    for (guint i = 0; ok && i < order->len; i++) {
        const struct vm_state_entry *e = order->pdata[i];
        /* Devices first: finishing their pending work may write to RAM. */
        if (!ram_done && vm_state_entry_stage(e) > VM_STATE_STAGE_DEVICE) {
            ram_state_save(vm_memory(vm), w);
            ram_done = true;
        }
        ok = save_entry(e, w, error);
    }
    if (ok && !ram_done)
        ram_state_save(vm_memory(vm), w);
    ok = ok && state_file_write(w, path, header, error);
    state_file_writer_free(w);
    return ok;
}

/* ---- loading ------------------------------------------------------------------ */

static bool check_machine(struct vm *vm, const struct state_file *f, GError **error)
{
    const struct state_section *s = state_file_find(f, MACHINE_SECTION);
    if (!s)
        return state_mismatch_error(error, _("the state file does not describe a machine"));
    if (s->version != MACHINE_VERSION)
        return state_mismatch_error(error, _("unsupported version %u of the machine description"), s->version);
    struct state_in in;
    state_in_init(&in, s->data, s->len, MACHINE_SECTION);
    uint64_t ram = state_in_u64(&in);
    uint32_t cpus = state_in_u32(&in);
    if (!state_in_finish(&in, error))
        return false;
    uint64_t our_ram = vm_memory(vm)->ram_size;
    if (ram != our_ram)
        return state_mismatch_error(error, _("saved VM has %" PRIu64 " MiB of memory, this one %" PRIu64 " MiB"),
                        ram / MIB, our_ram / MIB);
    if (cpus != vm_cpu_count(vm))
        return state_mismatch_error(error, _("saved VM has %u vCPUs, this one %u"), cpus, vm_cpu_count(vm));
    return true;
}

static const struct vm_state_entry *find_entry(GPtrArray *order, const char *name)
{
    for (guint i = 0; i < order->len; i++) {
        const struct vm_state_entry *e = order->pdata[i];
        if (!strcmp(e->name, name))
            return e;
    }
    return NULL;
}

/* Same devices on both sides, each readable by this build. */
static bool check_device_set(GPtrArray *order, const struct state_file *f, GError **error)
{
    for (unsigned i = 0; i < state_file_section_count(f); i++) {
        const struct state_section *s = state_file_section_at(f, i);
        if (!strcmp(s->name, MACHINE_SECTION) || !strcmp(s->name, RAM_STATE_SECTION))
            continue;
        if (!find_entry(order, s->name))
            return state_mismatch_error(error, _("saved VM has device '%s', this one does not"), s->name);
    }
    for (guint i = 0; i < order->len; i++) {
        const struct vm_state_entry *e = order->pdata[i];
        const struct state_section *s = state_file_find(f, e->name);
        if (!e->ops)
            return state_mismatch_error(error, _("device '%s' does not support restoring yet"), e->name);
        if (!s)
            return state_mismatch_error(error, _("this VM has device '%s', the saved one does not"), e->name);
        if (s->version != e->ops->version)
            return state_mismatch_error(error, _("the state of '%s' has version %u; this oriel-vmm reads %u"),
                            e->name, s->version, e->ops->version);
    }
    return true;
}

static bool load_entry(const struct vm_state_entry *e, const struct state_file *f, GError **error)
{
    const struct state_section *s = state_file_find(f, e->name);
    struct state_in in;
    state_in_init(&in, s->data, s->len, e->name);
    if (!e->ops->load(e->opaque, &in, s->version, error))
        return false;
    return state_in_finish(&in, error);
}

bool vm_state_load(struct vm *vm, const char *path, GError **error)
{
    g_autoptr(state_file) f = state_file_open(path, error);
    if (!f)
        return false;
    g_autoptr(GPtrArray) order = vm_state_entries(vm_state_registry_of(vm));
    if (!check_machine(vm, f, error) || !check_device_set(order, f, error))
        return false;
    if (!ram_state_load(vm_memory(vm), state_file_find(f, RAM_STATE_SECTION), error))
        return false;
    for (guint i = 0; i < order->len; i++)
        if (!load_entry(order->pdata[i], f, error))
            return false;
    return true;
}
