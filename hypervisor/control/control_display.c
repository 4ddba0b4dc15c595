#include "control/control_display.h"
#include "platform/pc.h"
#include "display/display.h"
#include "display/screendump.h"

#include <string.h>
#include <glib/gi18n.h>

static void fail(struct control_display_result *res, const char *cls, char *desc)
{
    res->error_class = cls;
    res->error_desc = desc;
}

static bool only_args(JsonObject *args, const char *allowed, struct control_display_result *res)
{
    g_autoptr(GList) names = json_object_get_members(args);
    for (GList *l = names; l; l = l->next) {
        if (!allowed || strcmp(l->data, allowed) != 0) {
            fail(res, "InvalidParameter",
                 g_strdup_printf(_("unexpected argument '%s'"), (const char *)l->data));
            return false;
        }
    }
    return true;
}

static void screendump(struct pc *pc, JsonObject *args, struct control_display_result *res)
{
    if (!only_args(args, "filename", res))
        return;
    JsonNode *fn = json_object_get_member(args, "filename");
    if (!fn || !JSON_NODE_HOLDS_VALUE(fn) || json_node_get_value_type(fn) != G_TYPE_STRING ||
        !*json_node_get_string(fn)) {
        fail(res, "InvalidParameter", g_strdup(_("'filename' must be a non-empty string")));
        return;
    }
    struct display *d = pc_display(pc);
    if (!d) {
        fail(res, "GenericError", g_strdup(_("this machine has no display")));
        return;
    }
    g_autoptr(GError) error = NULL;
    if (!display_screendump(display_framebuffer(d), json_node_get_string(fn), &error)) {
        fail(res, "GenericError", g_strdup(error->message));
        return;
    }
    res->value = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(res->value, json_object_new());
}

static void query_vnc(struct pc *pc, JsonObject *args, struct control_display_result *res)
{
    if (!only_args(args, NULL, res))
        return;
    const char *addr = pc_options(pc)->vnc;
    struct display *d = pc_display(pc);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "enabled");
    json_builder_add_boolean_value(b, addr != NULL && d != NULL);
    if (addr && d) {
        if (g_str_has_prefix(addr, "unix:")) {
            json_builder_set_member_name(b, "family");
            json_builder_add_string_value(b, "unix");
            json_builder_set_member_name(b, "path");
            json_builder_add_string_value(b, addr + 5);
        } else {
            g_autofree char *host = g_strndup(addr, strcspn(addr, ":"));
            g_autofree char *port = g_strdup_printf("%d", display_vnc_port(d));
            json_builder_set_member_name(b, "family");
            json_builder_add_string_value(b, "ipv4");
            json_builder_set_member_name(b, "host");
            json_builder_add_string_value(b, host);
            json_builder_set_member_name(b, "service");
            json_builder_add_string_value(b, port);
        }
    }
    json_builder_end_object(b);
    res->value = json_builder_get_root(b);
}

bool control_display_execute(struct pc *pc, const char *cmd, JsonObject *args,
                             struct control_display_result *res)
{
    *res = (struct control_display_result){ 0 };
    if (!strcmp(cmd, "screendump"))
        screendump(pc, args, res);
    else if (!strcmp(cmd, "query-vnc"))
        query_vnc(pc, args, res);
    else
        return false;
    return true;
}
