#include "control_state.h"
#include "machine/machine.h"
#include "core/vm_state.h"

#include <string.h>
#include <glib/gi18n.h>

/* save: the whole VM to a file, while it is paused; it stays paused. */
void control_save(struct machine *machine, JsonObject *args, struct control_result *res)
{
    static const char *const allowed[] = { "filename", "header", NULL };
    const char *filename;
    if (!control_result_only_args(args, allowed, res) ||
        !(filename = control_result_string_arg(args, "filename", res)))
        return;
    const char *header = "";
    JsonNode *h = json_object_get_member(args, "header");
    if (h) {
        if (!JSON_NODE_HOLDS_VALUE(h) || json_node_get_value_type(h) != G_TYPE_STRING) {
            control_result_fail(res, "InvalidParameter", g_strdup(_("'header' must be a string")));
            return;
        }
        header = json_node_get_string(h);
    }
    g_autoptr(GError) error = NULL;
    if (vm_state_save(machine_vm(machine), filename, header, &error))
        control_result_ok(res);
    else
        control_result_fail(res, "GenericError", g_strdup(error->message));
}
