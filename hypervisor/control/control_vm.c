#include "control_vm.h"
#include "machine/machine.h"
#include "core/vm_core.h"
#include "core/vcpu.h"
#include "chardev/chardev.h"
#include "backends/net_backend.h"

#include <glib/gi18n.h>

static const char *status_name(enum vm_status s)
{
    switch (s) {
    case VM_STATUS_RUNNING: return "running";
    case VM_STATUS_PAUSED: return "paused";
    default: return "shutdown";
    }
}

void control_query_status(struct machine *machine, JsonObject *args, struct control_result *res)
{
    enum vm_status s = vm_status(machine_vm(machine));
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "status");
    json_builder_add_string_value(b, status_name(s));
    json_builder_set_member_name(b, "running");
    json_builder_add_boolean_value(b, s == VM_STATUS_RUNNING);
    json_builder_end_object(b);
    res->value = json_builder_get_root(b);
}

void control_stop(struct machine *machine, JsonObject *args, struct control_result *res)
{
    vm_pause(machine_vm(machine));
    control_result_ok(res);
}

void control_cont(struct machine *machine, JsonObject *args, struct control_result *res)
{
    struct vm *vm = machine_vm(machine);
    if (vm_status(vm) == VM_STATUS_SHUTDOWN) {
        control_result_fail(res, "GenericError", g_strdup(_("the VM has shut down")));
        return;
    }
    vm_resume(vm);
    control_result_ok(res);
}

void control_system_powerdown(struct machine *machine, JsonObject *args, struct control_result *res)
{
    struct vm *vm = machine_vm(machine);
    if (!vm_has_powerdown_handler(vm)) {
        control_result_fail(res, "GenericError", g_strdup(_("this machine has no ACPI power button")));
        return;
    }
    vm_request_powerdown(vm);
    control_result_ok(res);
}

void control_system_reset(struct machine *machine, JsonObject *args, struct control_result *res)
{
    vm_request_reset_from(machine_vm(machine), false);
    control_result_ok(res);
}

/* The reply still goes out: the shutdown happens on the main loop once
 * this command's handling has returned. */
void control_quit(struct machine *machine, JsonObject *args, struct control_result *res)
{
    control_result_ok(res);
    vm_request_shutdown(machine_vm(machine), VM_SHUTDOWN_HOST_QUIT);
}

void control_query_cpus(struct machine *machine, JsonObject *args, struct control_result *res)
{
    struct vm *vm = machine_vm(machine);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_array(b);
    for (unsigned i = 0; i < vm_cpu_count(vm); i++) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "cpu-index");
        json_builder_add_int_value(b, i);
        json_builder_set_member_name(b, "thread-id");
        json_builder_add_int_value(b, vcpu_thread_id(vm_vcpu(vm, i)));
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    res->value = json_builder_get_root(b);
}

/* Each drive under the bus it is on and the name other commands use for
 * it; "file" is left out while a removable drive holds no medium. */
void control_query_block(struct machine *machine, JsonObject *args, struct control_result *res)
{
    GPtrArray *drives = machine_drives(machine);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_array(b);
    for (guint i = 0; i < drives->len; i++) {
        const struct machine_drive *d = drives->pdata[i];
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "device");
        json_builder_add_string_value(b, d->device);
        json_builder_set_member_name(b, "bus");
        json_builder_add_string_value(b, d->bus);
        if (d->file) {
            json_builder_set_member_name(b, "file");
            json_builder_add_string_value(b, d->file);
        }
        json_builder_set_member_name(b, "format");
        json_builder_add_string_value(b, "raw");
        json_builder_set_member_name(b, "read-only");
        json_builder_add_boolean_value(b, d->readonly);
        if (d->removable) {
            json_builder_set_member_name(b, "removable");
            json_builder_add_boolean_value(b, true);
        }
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    res->value = json_builder_get_root(b);
}

void control_query_chardev(struct machine *machine, JsonObject *args, struct control_result *res)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_array(b);
    for (unsigned i = 0; i < machine_chardev_count(machine); i++) {
        struct chardev *chr = machine_chardev(machine, i);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "label");
        json_builder_add_string_value(b, chardev_label(chr));
        json_builder_set_member_name(b, "backend");
        json_builder_add_string_value(b, chardev_backend(chr));
        if (chardev_filename(chr)) {
            json_builder_set_member_name(b, "filename");
            json_builder_add_string_value(b, chardev_filename(chr));
        }
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    res->value = json_builder_get_root(b);
}

void control_query_net(struct machine *machine, JsonObject *args, struct control_result *res)
{
    const struct vmm_options *o = machine_options(machine);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_array(b);
    for (guint i = 0; i < o->nets->len; i++) {
        const struct net_config *n = &g_array_index(o->nets, struct net_config, i);
        char id[16];
        g_snprintf(id, sizeof(id), "net%u", i);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "id");
        json_builder_add_string_value(b, id);
        json_builder_set_member_name(b, "model");
        json_builder_add_string_value(b, n->model == NET_MODEL_E1000 ? "e1000" :
                                         n->model == NET_MODEL_E1000E ? "e1000e" : "virtio");
        json_builder_set_member_name(b, "backend");
        json_builder_add_string_value(b, n->backend == NET_BACKEND_TAP ? "tap" : "user");
        if (n->mac_set) {
            char mac[18];
            g_snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0], n->mac[1],
                       n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
            json_builder_set_member_name(b, "mac");
            json_builder_add_string_value(b, mac);
        }
        struct net_backend *nb = net_backend_find(n);
        if (nb) {
            const struct net_stats *st = &nb->stats;
            const struct { const char *name; const uint64_t *v; } counters[] = {
                { "rx_bytes", &st->rx_bytes }, { "rx_packets", &st->rx_packets },
                { "rx_dropped", &st->rx_dropped }, { "tx_bytes", &st->tx_bytes },
                { "tx_packets", &st->tx_packets },
            };
            json_builder_set_member_name(b, "stats");
            json_builder_begin_object(b);
            for (unsigned k = 0; k < G_N_ELEMENTS(counters); k++) {
                json_builder_set_member_name(b, counters[k].name);
                json_builder_add_int_value(b, (gint64)MIN(__atomic_load_n(counters[k].v, __ATOMIC_RELAXED),
                                                          (uint64_t)G_MAXINT64));
            }
            json_builder_end_object(b);
        }
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    res->value = json_builder_get_root(b);
}
