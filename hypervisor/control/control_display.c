#include "control_display.h"
#include "machine/machine.h"
#include "display/display.h"
#include "display/screendump.h"

#include <string.h>
#include <glib/gi18n.h>

void control_screendump(struct machine *machine, JsonObject *args, struct control_result *res)
{
    static const char *const allowed[] = { "filename", NULL };
    const char *filename;
    if (!control_result_only_args(args, allowed, res) ||
        !(filename = control_result_string_arg(args, "filename", res)))
        return;
    struct display *d = machine_display(machine);
    if (!d) {
        control_result_fail(res, "GenericError", g_strdup(_("this machine has no display")));
        return;
    }
    g_autoptr(GError) error = NULL;
    if (!display_screendump(display_framebuffer(d), filename, &error)) {
        control_result_fail(res, "GenericError", g_strdup(error->message));
        return;
    }
    control_result_ok(res);
}

void control_query_vnc(struct machine *machine, JsonObject *args, struct control_result *res)
{
    if (!control_result_only_args(args, NULL, res))
        return;
    const char *addr = machine_options(machine)->vnc;
    struct display *d = machine_display(machine);
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
