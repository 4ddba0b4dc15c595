/* The serial backend a spec names: "stdio", "pty", "file:PATH",
 * "unix:PATH" or "none".  Parsed here, on the lowest floor, so that the
 * options parser can check a spec without depending on chardev/, which
 * opens it. */
#pragma once

#include <stdbool.h>
#include <glib.h>

enum chardev_backend {
    CHARDEV_BACKEND_NONE,
    CHARDEV_BACKEND_STDIO,
    CHARDEV_BACKEND_PTY,
    CHARDEV_BACKEND_FILE,
    CHARDEV_BACKEND_UNIX,
};

/* On success *path points into spec (file and unix) or is NULL. */
bool chardev_spec_parse(const char *spec, enum chardev_backend *backend, const char **path,
                        GError **error);

/* "none", "stdio", ... as query-chardev reports them. */
const char *chardev_backend_name(enum chardev_backend backend);
