#include "bootorder.h"

#include <stdbool.h>
#include <string.h>
#include <glib.h>

static void append_all(GString *s, const char *const *paths)
{
    for (; paths && *paths; paths++)
        g_string_append_printf(s, "%s\n", *paths);
}

char *bootorder_build(const char *boot, const char *const *cdroms, const char *const *disks)
{
    if (!boot || !*boot)
        boot = "disk,cdrom";
    g_auto(GStrv) words = g_strsplit(boot, ",", -1);
    GString *s = g_string_new(NULL);
    bool done_cdrom = false, done_disk = false;
    for (char **w = words; *w; w++) {
        if (!strcmp(*w, "cdrom") && !done_cdrom) {
            append_all(s, cdroms);
            done_cdrom = true;
        } else if (!strcmp(*w, "disk") && !done_disk) {
            append_all(s, disks);
            done_disk = true;
        }
    }
    return g_string_free(s, FALSE);
}

bool bootorder_wants_menu(const char *boot)
{
    if (!boot)
        return false;
    g_auto(GStrv) words = g_strsplit(boot, ",", -1);
    return g_strv_contains((const char *const *)words, "menu");
}
