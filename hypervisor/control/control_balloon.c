#include "control_balloon.h"
#include "machine/machine.h"
#include "virtio/virtio_devices.h"

#include <inttypes.h>
#include <glib/gi18n.h>

/* The balloon, or NULL after recording the error. */
static struct virtio_balloon *balloon_of(struct machine *machine, struct control_result *res)
{
    struct virtio_balloon *b = machine_balloon(machine);
    if (!b)
        control_result_fail(res, "GenericError", g_strdup(_("this VM has no memory balloon (--balloon)")));
    return b;
}

/* A non-negative integer member, or -1 after recording the error. */
static gint64 int_arg(JsonObject *args, const char *name, gint64 max, struct control_result *res)
{
    JsonNode *n = json_object_get_member(args, name);
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 ||
        json_node_get_int(n) < 0 || json_node_get_int(n) > max) {
        control_result_fail(res, "InvalidParameter",
                            g_strdup_printf(_("'%s' must be a number from 0 to %" PRId64), name, max));
        return -1;
    }
    return json_node_get_int(n);
}

void control_balloon(struct machine *machine, JsonObject *args, struct control_result *res)
{
    static const char *const allowed[] = { "value", NULL };
    struct virtio_balloon *b;
    gint64 value;
    if (!control_result_only_args(args, allowed, res) || !(b = balloon_of(machine, res)) ||
        (value = int_arg(args, "value", G_MAXINT64, res)) < 0)
        return;
    g_autoptr(GError) error = NULL;
    if (!virtio_balloon_set_target(b, (uint64_t)value, &error)) {
        control_result_fail(res, "InvalidParameter", g_strdup(error->message));
        return;
    }
    control_result_ok(res);
}

void control_balloon_stats_period(struct machine *machine, JsonObject *args, struct control_result *res)
{
    static const char *const allowed[] = { "seconds", NULL };
    struct virtio_balloon *b;
    gint64 seconds;
    if (!control_result_only_args(args, allowed, res) || !(b = balloon_of(machine, res)) ||
        (seconds = int_arg(args, "seconds", 86400, res)) < 0)
        return;
    virtio_balloon_set_stats_period(b, (unsigned)seconds);
    control_result_ok(res);
}

/* QEMU's names for the statistics, by virtio tag. */
static const char *const stat_names[VIRTIO_BALLOON_S_NR] = {
    [VIRTIO_BALLOON_S_SWAP_IN] = "stat-swap-in",
    [VIRTIO_BALLOON_S_SWAP_OUT] = "stat-swap-out",
    [VIRTIO_BALLOON_S_MAJFLT] = "stat-major-faults",
    [VIRTIO_BALLOON_S_MINFLT] = "stat-minor-faults",
    [VIRTIO_BALLOON_S_MEMFREE] = "stat-free-memory",
    [VIRTIO_BALLOON_S_MEMTOT] = "stat-total-memory",
    [VIRTIO_BALLOON_S_AVAIL] = "stat-available-memory",
    [VIRTIO_BALLOON_S_CACHES] = "stat-disk-caches",
    [VIRTIO_BALLOON_S_HTLB_PGALLOC] = "stat-htlb-pgalloc",
    [VIRTIO_BALLOON_S_HTLB_PGFAIL] = "stat-htlb-pgfail",
};

static void add_int(JsonBuilder *b, const char *name, uint64_t v)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, (gint64)MIN(v, (uint64_t)G_MAXINT64));
}

void control_query_balloon(struct machine *machine, JsonObject *args, struct control_result *res)
{
    struct virtio_balloon *bal = balloon_of(machine, res);
    if (!bal)
        return;
    struct virtio_balloon_info info;
    virtio_balloon_query(bal, &info);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    add_int(b, "actual", info.actual);
    add_int(b, "target", info.target);
    add_int(b, "stats-period", info.stats_period);
    add_int(b, "last-update", (uint64_t)MAX(info.stats_time, 0));
    json_builder_set_member_name(b, "stats");
    json_builder_begin_object(b);
    for (unsigned i = 0; i < VIRTIO_BALLOON_S_NR; i++)
        if (info.stats.present & (1u << i))
            add_int(b, stat_names[i], info.stats.value[i]);
    json_builder_end_object(b);
    json_builder_end_object(b);
    res->value = json_builder_get_root(b);
}
