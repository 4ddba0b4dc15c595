#include "control_input.h"
#include "machine/machine.h"
#include "input/input.h"

#include <glib/gi18n.h>

/* As QEMU's send-key: at most 16 keys, held 100 ms unless told. */
#define SEND_KEY_MAX          16
#define SEND_KEY_HOLD_DEFAULT 100
#define SEND_KEY_HOLD_MAX     60000

struct held_keys {
    struct machine *machine;
    unsigned n;
    uint16_t scancodes[SEND_KEY_MAX];
};

/* The keys still held, and the timer that releases them. */
static struct held_keys *held_now;
static guint release_timer;

/* Released in the reverse order of the presses, as fingers leave a
 * combination such as Ctrl+Alt+Delete. */
static gboolean release_keys(gpointer data)
{
    struct held_keys *h = data;
    for (unsigned i = h->n; i-- > 0;)
        machine_send_key(h->machine, h->scancodes[i], false);
    g_free(h);
    held_now = NULL;
    release_timer = 0;
    return G_SOURCE_REMOVE;
}

void control_send_key(struct machine *machine, JsonObject *args, struct control_result *res)
{
    static const char *const allowed[] = { "keys", "hold-time", NULL };
    if (!control_result_only_args(args, allowed, res))
        return;
    JsonNode *keys = json_object_get_member(args, "keys");
    JsonArray *arr = keys && JSON_NODE_HOLDS_ARRAY(keys) ? json_node_get_array(keys) : NULL;
    unsigned n = arr ? json_array_get_length(arr) : 0;
    if (n == 0 || n > SEND_KEY_MAX) {
        control_result_fail(res, "InvalidParameter",
                            g_strdup_printf(_("'keys' must be a list of 1 to %u key numbers"), SEND_KEY_MAX));
        return;
    }
    gint64 hold = SEND_KEY_HOLD_DEFAULT;
    JsonNode *h = json_object_get_member(args, "hold-time");
    if (h) {
        if (!JSON_NODE_HOLDS_VALUE(h) || json_node_get_value_type(h) != G_TYPE_INT64 ||
            json_node_get_int(h) < 0 || json_node_get_int(h) > SEND_KEY_HOLD_MAX) {
            control_result_fail(res, "InvalidParameter",
                                g_strdup_printf(_("'hold-time' must be 0 to %u milliseconds"),
                                                SEND_KEY_HOLD_MAX));
            return;
        }
        hold = json_node_get_int(h);
    }
    struct held_keys *held = g_new0(struct held_keys, 1);
    held->machine = machine;
    held->n = n;
    for (unsigned i = 0; i < n; i++) {
        JsonNode *k = json_array_get_element(arr, i);
        gint64 qnum = JSON_NODE_HOLDS_VALUE(k) && json_node_get_value_type(k) == G_TYPE_INT64
                          ? json_node_get_int(k) : -1;
        uint16_t sc = qnum > 0 && qnum <= 0xff ? input_qnum_to_scancode((uint32_t)qnum) : 0;
        if (!sc) {
            control_result_fail(res, "InvalidParameter",
                                g_strdup_printf(_("key %u is no key number (1 to 255, XT codes "
                                                  "with bit 7 for the E0 prefix)"), i + 1));
            g_free(held);
            return;
        }
        held->scancodes[i] = sc;
    }
    /* Keys still held from the last send-key go up first: the guest sees
     * one combination after the other, never both mixed. */
    if (held_now) {
        g_source_remove(release_timer);
        release_keys(held_now);
    }
    for (unsigned i = 0; i < n; i++)
        machine_send_key(machine, held->scancodes[i], true);
    held_now = held;
    release_timer = g_timeout_add((guint)hold, release_keys, held);
    control_result_ok(res);
}
