#include "control_media.h"
#include "machine/machine.h"

#include <string.h>
#include <glib/gi18n.h>

/* The only removable drive is the CD-ROM of --cdrom, named "cdrom". */
static bool check_device(JsonObject *args, struct control_result *res)
{
    const char *device = control_result_string_arg(args, "device", res);
    if (!device)
        return false;
    if (strcmp(device, "cdrom") != 0) {
        control_result_fail(res, "DeviceNotFound",
                            g_strdup_printf(_("no removable drive named '%s' (there is 'cdrom')"), device));
        return false;
    }
    return true;
}

/* ok or the device's error, as the command's result. */
static void finish(struct control_result *res, bool ok, const GError *error)
{
    if (ok)
        control_result_ok(res);
    else
        control_result_fail(res, "GenericError", g_strdup(error->message));
}

void control_change_medium(struct machine *machine, JsonObject *args, struct control_result *res)
{
    static const char *const allowed[] = { "device", "filename", NULL };
    const char *filename;
    if (!control_result_only_args(args, allowed, res) || !check_device(args, res) ||
        !(filename = control_result_string_arg(args, "filename", res)))
        return;
    g_autoptr(GError) error = NULL;
    bool ok = machine_cdrom_change_medium(machine, filename, &error);
    finish(res, ok, error);
}

void control_eject(struct machine *machine, JsonObject *args, struct control_result *res)
{
    static const char *const allowed[] = { "device", "force", NULL };
    if (!control_result_only_args(args, allowed, res) || !check_device(args, res))
        return;
    bool force = false;
    JsonNode *f = json_object_get_member(args, "force");
    if (f) {
        if (!JSON_NODE_HOLDS_VALUE(f) || json_node_get_value_type(f) != G_TYPE_BOOLEAN) {
            control_result_fail(res, "InvalidParameter", g_strdup(_("'force' must be true or false")));
            return;
        }
        force = json_node_get_boolean(f);
    }
    g_autoptr(GError) error = NULL;
    bool ok = machine_cdrom_eject(machine, force, &error);
    finish(res, ok, error);
}
