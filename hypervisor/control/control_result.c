#include "control_result.h"

#include <string.h>
#include <glib/gi18n.h>

void control_result_fail(struct control_result *res, const char *error_class, char *desc)
{
    res->error_class = error_class;
    res->error_desc = desc;
}

void control_result_ok(struct control_result *res)
{
    res->value = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(res->value, json_object_new());
}

bool control_result_only_args(JsonObject *args, const char *const *allowed, struct control_result *res)
{
    g_autoptr(GList) names = json_object_get_members(args);
    for (GList *l = names; l; l = l->next) {
        if (!allowed || !g_strv_contains(allowed, l->data)) {
            control_result_fail(res, "InvalidParameter",
                                g_strdup_printf(_("unexpected argument '%s'"), (const char *)l->data));
            return false;
        }
    }
    return true;
}

const char *control_result_string_arg(JsonObject *args, const char *name, struct control_result *res)
{
    JsonNode *n = json_object_get_member(args, name);
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING ||
        !*json_node_get_string(n)) {
        control_result_fail(res, "InvalidParameter",
                            g_strdup_printf(_("'%s' must be a non-empty string"), name));
        return NULL;
    }
    return json_node_get_string(n);
}
