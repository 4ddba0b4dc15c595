/* Control-socket commands about the display (CONTROL.md):
 *   screendump {"filename": PATH}  the screen as PNG
 *   query-vnc                      where the VNC server listens */
#pragma once

#include <stdbool.h>
#include <json-glib/json-glib.h>

struct pc;

struct control_display_result {
    JsonNode *value;          /* on success (owned: the caller sends it) */
    const char *error_class;  /* on failure */
    char *error_desc;         /* on failure, g_free */
};

/* false if cmd is not a display command (nothing done). */
bool control_display_execute(struct pc *pc, const char *cmd, JsonObject *args,
                             struct control_display_result *res);
