#include "chardev_spec.h"

#include <string.h>
#include <sys/un.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

bool chardev_spec_parse(const char *spec, enum chardev_backend *backend, const char **path,
                        GError **error)
{
    *path = NULL;
    if (!strcmp(spec, "stdio"))
        *backend = CHARDEV_BACKEND_STDIO;
    else if (!strcmp(spec, "pty"))
        *backend = CHARDEV_BACKEND_PTY;
    else if (!strcmp(spec, "none"))
        *backend = CHARDEV_BACKEND_NONE;
    else if (g_str_has_prefix(spec, "file:") && spec[5])
        *backend = CHARDEV_BACKEND_FILE, *path = spec + 5;
    else if (g_str_has_prefix(spec, "unix:") && spec[5])
        *backend = CHARDEV_BACKEND_UNIX, *path = spec + 5;
    else {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    _("Unknown serial backend '%s' (expected stdio, pty, file:PATH, unix:PATH or none)"),
                    spec);
        return false;
    }
    if (*backend == CHARDEV_BACKEND_UNIX &&
        strlen(*path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    _("The socket path '%s' is too long"), *path);
        return false;
    }
    return true;
}

const char *chardev_backend_name(enum chardev_backend backend)
{
    static const char *const names[] = { "none", "stdio", "pty", "file", "unix" };
    return names[backend];
}
