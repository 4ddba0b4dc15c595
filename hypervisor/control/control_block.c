#include "control_block.h"
#include "machine/machine.h"

#include <glib/gi18n.h>

static void add_u64(JsonBuilder *b, const char *name, uint64_t v)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, (gint64)MIN(v, (uint64_t)G_MAXINT64));
}

void control_query_blockstats(struct machine *machine, JsonObject *args, struct control_result *res)
{
    GPtrArray *drives = machine_drives(machine);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_array(b);
    for (guint i = 0; i < drives->len; i++) {
        struct machine_drive *d = drives->pdata[i];
        struct block_stats s = { 0 };
        if (d->get_stats)
            d->get_stats(d, &s);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "device");
        json_builder_add_string_value(b, d->device);
        json_builder_set_member_name(b, "stats");
        json_builder_begin_object(b);
        add_u64(b, "rd_operations", s.rd_ops);
        add_u64(b, "rd_bytes", s.rd_bytes);
        add_u64(b, "rd_total_time_ns", s.rd_ns);
        add_u64(b, "failed_rd_operations", s.rd_failed);
        add_u64(b, "wr_operations", s.wr_ops);
        add_u64(b, "wr_bytes", s.wr_bytes);
        add_u64(b, "wr_total_time_ns", s.wr_ns);
        add_u64(b, "failed_wr_operations", s.wr_failed);
        add_u64(b, "flush_operations", s.flush_ops);
        add_u64(b, "flush_total_time_ns", s.flush_ns);
        add_u64(b, "failed_flush_operations", s.flush_failed);
        add_u64(b, "unmap_operations", s.discard_ops);
        add_u64(b, "unmap_bytes", s.discard_bytes);
        add_u64(b, "failed_unmap_operations", s.discard_failed);
        json_builder_end_object(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    res->value = json_builder_get_root(b);
}

void control_block_resize(struct machine *machine, JsonObject *args, struct control_result *res)
{
    static const char *const allowed[] = { "device", "size", NULL };
    const char *device;
    if (!control_result_only_args(args, allowed, res) ||
        !(device = control_result_string_arg(args, "device", res)))
        return;
    JsonNode *n = json_object_get_member(args, "size");
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 ||
        json_node_get_int(n) <= 0 || json_node_get_int(n) % 512) {
        control_result_fail(res, "InvalidParameter",
                            g_strdup(_("'size' must be a positive number of bytes, a multiple of 512")));
        return;
    }
    uint64_t size = (uint64_t)json_node_get_int(n);
    struct machine_drive *d = machine_drive_find(machine, device);
    if (!d) {
        control_result_fail(res, "DeviceNotFound", g_strdup_printf(_("no drive named '%s'"), device));
        return;
    }
    if (!d->grow) {
        control_result_fail(res, "GenericError",
                            g_strdup_printf(_("drive '%s' cannot change its size while the guest runs "
                                              "(only virtio disks can)"), device));
        return;
    }
    if (d->readonly) {
        control_result_fail(res, "GenericError", g_strdup_printf(_("drive '%s' is read-only"), device));
        return;
    }
    g_autoptr(GError) error = NULL;
    if (!d->grow(d, size, &error)) {
        control_result_fail(res, "GenericError", g_strdup(error->message));
        return;
    }
    control_result_ok(res);
}
