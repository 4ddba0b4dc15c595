#include "control/control_parser.h"

#include <string.h>
#include <glib/gi18n.h>

static bool fail(struct control_parse_error *err, const char *cls, char *desc, JsonNode *id)
{
    err->error_class = cls;
    err->desc = desc;
    err->id = id;
    return false;
}

bool control_parse_request(const char *line, size_t len, struct control_request *req,
                           struct control_parse_error *err, bool *fatal)
{
    memset(req, 0, sizeof(*req));
    memset(err, 0, sizeof(*err));
    *fatal = true;

    if (len > CONTROL_MAX_LINE)
        return fail(err, "GenericError", g_strdup(_("message too long")), NULL);
    if (!g_utf8_validate(line, (gssize)len, NULL) || memchr(line, '\0', len))
        return fail(err, "GenericError", g_strdup(_("message is not valid UTF-8")), NULL);

    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    g_autoptr(GError) error = NULL;
    if (!json_parser_load_from_data(parser, line, (gssize)len, &error))
        return fail(err, "GenericError", g_strdup_printf(_("invalid JSON: %s"), error->message), NULL);
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root))
        return fail(err, "GenericError", g_strdup(_("message is not a JSON object")), NULL);

    /* From here on the message is an object: errors get a reply and the
     * connection stays. */
    *fatal = false;
    JsonObject *obj = json_node_get_object(root);
    JsonNode *id = json_object_get_member(obj, "id");
    JsonNode *id_copy = id ? json_node_copy(id) : NULL;

    GList *members = json_object_get_members(obj);
    for (GList *l = members; l; l = l->next) {
        const char *m = l->data;
        if (strcmp(m, "execute") && strcmp(m, "arguments") && strcmp(m, "id")) {
            char *desc = g_strdup_printf(_("unexpected member '%s'"), m);
            g_list_free(members);
            return fail(err, "GenericError", desc, id_copy);
        }
    }
    g_list_free(members);

    JsonNode *exec = json_object_get_member(obj, "execute");
    if (!exec || !JSON_NODE_HOLDS_VALUE(exec) || json_node_get_value_type(exec) != G_TYPE_STRING)
        return fail(err, "GenericError", g_strdup(_("'execute' must be a string")), id_copy);

    JsonNode *args = json_object_get_member(obj, "arguments");
    if (args && !JSON_NODE_HOLDS_OBJECT(args))
        return fail(err, "InvalidParameter", g_strdup(_("'arguments' must be an object")), id_copy);

    req->execute = g_strdup(json_node_get_string(exec));
    req->arguments = args ? json_object_ref(json_node_get_object(args)) : json_object_new();
    req->id = id_copy;
    return true;
}

void control_request_clear(struct control_request *req)
{
    g_free(req->execute);
    if (req->arguments)
        json_object_unref(req->arguments);
    if (req->id)
        json_node_unref(req->id);
    memset(req, 0, sizeof(*req));
}

void control_parse_error_clear(struct control_parse_error *err)
{
    g_free(err->desc);
    if (err->id)
        json_node_unref(err->id);
    memset(err, 0, sizeof(*err));
}
